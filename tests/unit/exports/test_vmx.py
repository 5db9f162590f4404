# Copyright 2026 The nova-v2v Authors
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""The VMX reader, on real .vmx files and on hostile ones.

Each .vmx of fixtures/vmx (libvirt's own test inputs, see its README.rst)
is read from a directory holding the files it names, compared with the
domain libvirt's VMX driver made of it (the XML corpus of
tests/unit/hardware/fixtures/vmware) on what matters to the guest, and
translated for a QEMU destination with that directory as the import
directory: libvirt's schema must accept the result, or the translator
refuses it for the reason :data:`EXPECTED` names.
"""

import glob
import os
import re
import shutil

import fixtures
from lxml import etree
import testtools

from nova_v2v.exports import base
from nova_v2v.exports import reader
from nova_v2v.exports import vmx
from nova_v2v.hardware import translate
from tests.unit.hardware import schema

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'vmx')
LIBVIRT_XML = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                           'hardware', 'fixtures', 'vmware')
TRANSLATED = 'translated'
READ = 'read'
LUN = (translate.UnmappableDevices, 'SCSI LUN')
# What each .vmx gives once read and translated for QEMU with the refuse
# policy: translated, or refused with the typed error and a word of why.
EXPECTED = {name: TRANSLATED for name in (
    'annotation', 'case-insensitive-1', 'cdrom-ide-device',
    'cdrom-ide-empty', 'cdrom-ide-empty-2', 'cdrom-ide-raw-auto-detect',
    'cdrom-scsi-device', 'datacenterpath', 'esx-in-the-wild-1',
    'esx-in-the-wild-2', 'esx-in-the-wild-3', 'esx-in-the-wild-4',
    'esx-in-the-wild-5', 'esx-in-the-wild-6', 'esx-in-the-wild-8',
    'esx-in-the-wild-9', 'esx-in-the-wild-10', 'esx-in-the-wild-11',
    'esx-in-the-wild-12', 'esx-in-the-wild-13', 'esx-in-the-wild-14',
    'esx-in-the-wild-15', 'esx-in-the-wild-16', 'esx-in-the-wild-17',
    'ethernet-custom', 'ethernet-nat', 'ethernet-null', 'ethernet-other',
    'ethernet-vds', 'ethernet-vds-no-params', 'ethernet-vpx',
    'firmware-efi', 'fusion-in-the-wild-1', 'gsx-in-the-wild-1',
    'gsx-in-the-wild-2', 'gsx-in-the-wild-3', 'gsx-in-the-wild-4',
    'harddisk-transient', 'parallel-file', 'scsi-driver-max',
    'serial-device', 'serial-file', 'serial-network-server', 'serial-pipe',
    'case-insensitive-2', 'cdrom-ide-file', 'cdrom-scsi-file',
    'ethernet-bridged', 'floppy-device', 'graphics-vnc', 'minimal-64bit',
    'parallel-device', 'scsi-driver', 'scsi-writethrough',
    'serial-network-client', 'serial-pipe-server-vm', 'svga', 'smbios',
    'ethernet-vds-no-portid', 'ethernet-vmxnet2', 'floppy-file')}
EXPECTED.update({
    # A CD-ROM drive passed through from the host.
    'cdrom-scsi-passthru': LUN,
    'cdrom-scsi-raw-device': LUN,
    'esx-in-the-wild-7': LUN,
    'sharedfolder': (translate.UnmappableDevices, 'shared into the guest'),
    # Refused by the reader: its last two disks are one file.
    'scsi-driver-superwide-max': (READ, base.UnsupportedExport,
                                  'one file cannot be two disks'),
    # Its disk on a datastore has no copy in the export (MISSING).
    'harddisk-scsi-file-missing-file': (READ, base.UnsupportedExport,
                                        'is not in the export'),
})
# Files a .vmx names that its export lacks.
MISSING = {'harddisk-scsi-file-missing-file': ('missing.vmdk',)}
# Where the reader's domain differs from libvirt's on purpose, or where
# the .vmx read is older than the one libvirt's XML was made of.
DIFFERENCES = {
    # The newer .vmx of the XML has a second pvscsi controller and disk.
    'esx-in-the-wild-11': ('disks', 'controllers'),
    # That XML is older than libvirt's use of vc.uuid as the UUID.
    'esx-in-the-wild-13': ('uuid',),
}
HOST_IMAGE = re.compile(r'^/(?!vmfs/volumes/)')


def _corpus():
    return sorted(os.path.basename(p)[:-4]
                  for p in glob.glob(os.path.join(FIXTURES, '*.vmx')))


CORPUS = _corpus()


def _files_named(text):
    """The disk, ISO and floppy files a .vmx names, as the export has them.

    A relative name is kept as it is; a datastore or ESXi path is the copy
    next to the .vmx; a file of the source host (/usr/lib/vmware/...) is
    not part of an export.
    """
    for match in re.finditer(r'(?im)^\S+\.filename\s*=\s*"([^"]*)"', text):
        value = match.group(1)
        if not value.lower().endswith(('.vmdk', '.iso', '.flp')):
            continue
        store = re.match(r'^\[[^\]]*\]\s*(.*)$|^/vmfs/volumes/[^/]+/(.*)$',
                         value)
        if store:
            yield (store.group(1) or store.group(2)).split('/')[-1]
        elif not value.startswith('/'):
            yield value


def _root(xml):
    return etree.fromstring(xml.encode())


def _source_name(disk, libvirt):
    source = disk.find('./source')
    if source is None:
        return None
    value = source.get('file') or source.get('dev')
    if value is None:
        return None
    if (libvirt and disk.get('type') == 'file' and
            disk.get('device') != 'disk' and HOST_IMAGE.match(value)):
        # An image on the source host, not in the export: an empty drive.
        return None
    return re.split(r'[\]/ ]', value)[-1]


def _facts(xml, libvirt=False):
    """What must agree between libvirt's domain and the reader's."""
    dom = _root(xml)
    os_el = dom.find('./os')
    topology = dom.find('./cpu/topology')
    uuid = dom.findtext('./uuid')
    return {
        'name': dom.findtext('./name'),
        'uuid': None if uuid == '00000000-0000-0000-0000-000000000000'
        else uuid,
        'memory': (dom.findtext('./memory'),
                   dom.findtext('./currentMemory')),
        'vcpus': dom.findtext('./vcpu'),
        'topology': None if topology is None else (
            topology.get('sockets'), topology.get('cores'),
            topology.get('threads')),
        'arch': os_el.find('./type').get('arch'),
        'firmware': (os_el.get('firmware'), sorted(
            f.get('name') for f in os_el.findall(
                "./firmware/feature[@enabled='yes']"))),
        'description': dom.findtext('./description'),
        'disks': [(d.get('type'), d.get('device'),
                   d.find('./target').get('bus'),
                   d.find('./target').get('dev'), _source_name(d, libvirt),
                   d.find('./readonly') is not None,
                   d.find('./transient') is not None)
                  for d in dom.findall('./devices/disk')],
        'controllers': sorted(
            (c.get('type'), c.get('index'), c.get('model'))
            for c in dom.findall('./devices/controller')),
        'nics': [(n.get('type'), n.findtext('./model') or (
            n.find('./model').get('type')
            if n.find('./model') is not None else None),
            n.find('./mac').get('address')
            if n.find('./mac') is not None else None,
            n.find('./source').get('bridge')
            if n.find('./source') is not None else None)
            for n in dom.findall('./devices/interface')],
        'serials': [s.get('type') for s in dom.findall('./devices/serial')],
        'parallels': [p.get('type')
                      for p in dom.findall('./devices/parallel')],
    }


class _ExportDir(fixtures.Fixture):
    """A directory holding a .vmx and the files it names."""

    def __init__(self, name, text=None, files=None):
        super().__init__()
        self.name = name
        self.text = text
        self.files = files

    def _setUp(self):
        self.path = self.useFixture(fixtures.TempDir()).path
        self.vmx = os.path.join(self.path, self.name + '.vmx')
        if self.text is None:
            shutil.copy(os.path.join(FIXTURES, self.name + '.vmx'),
                        self.vmx)
            with open(self.vmx, 'rb') as f:
                text = f.read().decode('utf-8')
        else:
            text = self.text
            with open(self.vmx, 'wb') as f:
                f.write(text.encode('utf-8') if isinstance(text, str)
                        else text)
        files = self.files
        if files is None:
            files = [f for f in _files_named(text)
                     if f not in MISSING.get(self.name, ())]
        for name in files:
            path = os.path.join(self.path, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(b'KDMV')


class TestCorpus(testtools.TestCase):

    def test_corpus_and_table_agree(self):
        self.assertGreaterEqual(len(CORPUS), 25)
        self.assertEqual(sorted(EXPECTED), CORPUS)

    def test_every_file_has_its_provenance(self):
        with open(os.path.join(FIXTURES, 'README.rst')) as f:
            readme = f.read()
        for name in CORPUS:
            self.assertRegex(
                readme, r'\n%s\.vmx +tests/vmx2xmldata/\S+\.vmx +'
                        r'[0-9a-f]{12}\n' % re.escape(name))

    def _read(self, name):
        export_dir = self.useFixture(_ExportDir(name))
        return export_dir, vmx.read(export_dir.vmx)

    def _check(self, name):
        if EXPECTED[name][0] == READ:
            _read, exc_type, reason = EXPECTED[name]
            exc = self.assertRaises(exc_type, self._read, name)
            self.assertIn(reason, str(exc))
            return
        export_dir, export = self._read(name)
        self.assertEqual('vmx', export.kind)
        self.assertEqual(os.path.realpath(export_dir.path), export.root_dir)
        dom = _root(export.domain_xml)
        self.assertEqual('vmware', dom.get('type'))
        # Every disk is a file of the export, where the XML says.
        sources = [d.find('./source').get('file') for d in dom.findall(
            "./devices/disk[@device='disk']")]
        self.assertEqual(sources, [d.path for d in export.disks])
        for disk in export.disks:
            self.assertTrue(disk.path.startswith(export.root_dir + '/'))
            self.assertEqual('vmdk', disk.format)
            self.assertEqual(4, disk.size)
        self.assertEqual(len(dom.findall('./devices/interface')),
                         len(export.nics))
        # What libvirt made of the same file.
        libvirt_xml = os.path.join(LIBVIRT_XML, name + '.xml')
        if os.path.exists(libvirt_xml):
            with open(libvirt_xml) as f:
                expected = _facts(f.read(), libvirt=True)
            got = _facts(export.domain_xml)
            with open(export_dir.vmx, 'rb') as f:
                has_name = re.search(rb'(?im)^displayName\s*=', f.read())
            skip = set(DIFFERENCES.get(name, ()))
            if not has_name:
                skip.add('name')
            for fact in sorted(set(expected) - skip):
                self.assertEqual(expected[fact], got[fact],
                                 '%s: %s' % (name, fact))
        # And what the translator makes of it.
        target = translate.Target(accelerator='qemu',
                                  import_dir=export.root_dir)
        if EXPECTED[name] != TRANSLATED:
            exc_type, reason = EXPECTED[name]
            exc = self.assertRaises(exc_type, translate.translate,
                                    export.domain_xml, target)
            self.assertIn(reason, str(exc))
            return
        result = translate.translate(export.domain_xml, target)
        self.assertIsNone(schema.schema_errors(result.xml), name)
        self.assertEqual(
            [d.path for d in export.disks],
            [m.source_path for m in result.report.disks
             if m.device == 'disk'])


def _make(name):
    def test(self):
        self._check(name)
    return test


for _name in CORPUS:
    setattr(TestCorpus, 'test_%s' % _name.replace('-', '_'), _make(_name))


MINIMAL = '''.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "14"
displayName = "guest1"
guestOS = "rhel8-64"
memSize = "2048"
numvcpus = "2"
uuid.bios = "42 1e b4 58 54 48 fc 12-20 74 83 d5 e4 19 e1 38"
scsi0.present = "TRUE"
scsi0.virtualDev = "pvscsi"
scsi0:0.present = "TRUE"
scsi0:0.deviceType = "scsi-hardDisk"
scsi0:0.fileName = "%s"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "generated"
'''


class TestRead(testtools.TestCase):
    """The .vmx format, as VMware writes it and as nobody should."""

    def _read(self, text, files=('guest1.vmdk',), disk='guest1.vmdk'):
        if isinstance(text, str):
            text = text.replace('%s', disk)
        export_dir = self.useFixture(_ExportDir('guest1', text, files))
        return export_dir, vmx.read(export_dir.vmx)

    def _refused(self, exc_type, text, *args, **kwargs):
        return self.assertRaises(exc_type, self._read, text, *args,
                                 **kwargs)

    def test_a_plain_guest(self):
        export_dir, export = self._read(MINIMAL)
        dom = _root(export.domain_xml)
        self.assertEqual('guest1', dom.findtext('./name'))
        self.assertEqual('421eb458-5448-fc12-2074-83d5e419e138',
                         dom.findtext('./uuid'))
        self.assertEqual('2097152', dom.findtext('./memory'))
        self.assertEqual('2', dom.findtext('./vcpu'))
        self.assertEqual('x86_64', dom.find('./os/type').get('arch'))
        path = os.path.join(export.root_dir, 'guest1.vmdk')
        self.assertEqual([base.ExportDisk(target='sda', path=path,
                                          format='vmdk', size=4)],
                         list(export.disks))
        self.assertEqual([base.ExportNic(mac=None, network='VM Network',
                                         model='vmxnet3')],
                         list(export.nics))
        self.assertEqual(['vmpvscsi'], [c.get('model') for c in dom.findall(
            "./devices/controller[@type='scsi']")])
        # The reader's dispatch gives the same.
        self.assertEqual(export, reader.read(export_dir.vmx))

    def test_keys_case_insensitive_comments_and_the_last_wins(self):
        text = MINIMAL + (
            '# a comment = "not a key"\n'
            '\n'
            'DISPLAYNAME = "guest2"  # the later one\n'
            'MemSize = "4096"\n'
            'ethernet0.ADDRESSTYPE = "static"\n'
            'ethernet0.Address = "00:50:56:3F:00:01"\n')
        export_dir, export = self._read(text)
        dom = _root(export.domain_xml)
        self.assertEqual('guest2', dom.findtext('./name'))
        self.assertEqual('4194304', dom.findtext('./memory'))
        self.assertEqual('00:50:56:3f:00:01', export.nics[0].mac)
        self.assertEqual('static', dom.find(
            './devices/interface/mac').get('type'))

    def test_escapes_decoded_as_libvirt_does(self):
        text = MINIMAL.replace(
            'displayName = "guest1"',
            'displayName = "web%2fdb |7C prod"\n'
            'annotation = "line 1|0Aline |22two|22"')
        export_dir, export = self._read(text)
        dom = _root(export.domain_xml)
        self.assertEqual('web/db | prod', dom.findtext('./name'))
        self.assertEqual('line 1\nline "two"', dom.findtext('./description'))

    def test_encodings(self):
        text = MINIMAL.replace('%s', 'guest1.vmdk').replace(
            'UTF-8', 'windows-1252').replace(
            'guest1"', 'caf\xe9"', 1).encode('cp1252')
        export_dir, export = self._read(text)
        self.assertEqual('caf\xe9', _root(export.domain_xml).findtext(
            './name'))
        for encoding in ('no-such-charset', 'base64', 'utf-16'):
            exc = self._refused(base.UnsupportedExport,
                                MINIMAL.replace('UTF-8', encoding))
            self.assertIn('encoding', str(exc))
        exc = self._refused(base.UnsupportedExport,
                            MINIMAL.replace('%s', 'guest1.vmdk').encode() +
                            b'annotation = "\xff\xfe"\n')
        self.assertIn('not UTF-8 text', str(exc))

    def test_malformed_line_named(self):
        exc = self._refused(base.UnsupportedExport, MINIMAL.replace(
            'numvcpus = "2"', 'numvcpus "2"'))
        self.assertIn('line 7 ', str(exc))
        for value in ('memSize = "lots"', 'numvcpus = "0"',
                      'scsi0.present = "maybe"', 'firmware = "coreboot"',
                      'uuid.bios = "42 1e"', 'scsi0.virtualDev = "ahci"',
                      'ethernet0.virtualDev = "rtl8139"',
                      'ethernet0.addressType = "static"\n'
                      'ethernet0.address = "not a mac"'):
            self._refused(base.UnsupportedExport, MINIMAL + value + '\n')

    def test_binary_garbage_refused(self):
        garbage = bytes(range(256)) * 64
        self._refused(base.UnsupportedExport, garbage)
        self._refused(base.UnsupportedExport, garbage.replace(b'\x00', b''))

    def test_oversize_refused(self):
        text = MINIMAL + 'annotation = "%s"\n' % (
            'x' * base.MAX_DESCRIPTOR_BYTES)
        exc = self._refused(base.HostileExport, text)
        self.assertIn('more than', str(exc))
        self.assertRaises(base.HostileExport, vmx.parse,
                          b'#' * (base.MAX_DESCRIPTOR_BYTES + 1))
        self._refused(base.HostileExport,
                      MINIMAL + '#\n' * (vmx.MAX_LINES + 1))

    def test_control_characters_refused(self):
        exc = self._refused(base.UnsupportedExport, MINIMAL.replace(
            'guest1"', 'guest|01"', 1))
        self.assertIn('control character', str(exc))

    def test_markup_comes_out_as_text(self):
        name = '</name><devices><hostdev/></devices><name>x & y'
        note = ']]><!-- <disk type="block"> &amp; &#x26; <?pi?>'
        text = MINIMAL.replace('guest1"', '%s"' % name, 1).replace(
            'VM Network', '"/><source bridge=\'br0\'/>'.replace('"', '|22'))
        text += 'annotation = "%s"\n' % note.replace('"', '|22')
        export_dir, export = self._read(text)
        dom = _root(export.domain_xml)
        self.assertEqual(name, dom.findtext('./name'))
        self.assertEqual(note, dom.findtext('./description'))
        self.assertEqual([], dom.findall('.//hostdev'))
        self.assertEqual(1, len(dom.findall('./devices/interface/source')))
        self.assertEqual('"/><source bridge=\'br0\'/>',
                         export.nics[0].network)
        self.assertIn('&lt;/name&gt;', export.domain_xml)

    def test_name_from_the_file_without_a_display_name(self):
        export_dir, export = self._read(MINIMAL.replace(
            'displayName = "guest1"\n', ''))
        self.assertEqual('guest1', _root(export.domain_xml).findtext(
            './name'))
        self.assertIn('no displayName', ' '.join(export.notes))

    def test_disks_in_subfolders_and_absolute_paths_inside(self):
        export_dir, export = self._read(
            MINIMAL, files=('sub/guest1.vmdk',), disk='sub/guest1.vmdk')
        self.assertEqual(
            os.path.join(export.root_dir, 'sub', 'guest1.vmdk'),
            export.disks[0].path)
        export_dir, export = self._read(MINIMAL, files=(), disk='guest1.vmdk')
        absolute = os.path.join(export.root_dir, 'guest1.vmdk')
        with open(export_dir.vmx, 'a') as f:
            f.write('scsi0:0.fileName = "%s"\n' % absolute)
        export = vmx.read(export_dir.vmx)
        self.assertEqual(absolute, export.disks[0].path)
        # Not there yet: no size, and a note.
        self.assertIsNone(export.disks[0].size)
        self.assertIn('not in the export yet', ' '.join(export.notes))

    def test_paths_out_of_the_export_refused(self):
        outside = self.useFixture(fixtures.TempDir()).path
        for disk in ('../guest1.vmdk', 'sub/../../guest1.vmdk',
                     'sub\\..\\..\\guest1.vmdk',
                     os.path.join(outside, 'guest1.vmdk'), '/etc/x.vmdk'):
            exc = self._refused(base.HostileExport, MINIMAL, disk=disk)
            self.assertIn('scsi0:0', str(exc))
        # Not a disk image at all.
        self._refused(base.UnsupportedExport, MINIMAL, disk='/etc/shadow')

    def test_symlinks_out_of_the_export_refused(self):
        outside = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(outside, 'guest1.vmdk'), 'wb') as f:
            f.write(b'KDMV')
        export_dir = self.useFixture(_ExportDir('guest1', MINIMAL % (
            'guest1.vmdk'), files=()))
        os.symlink(os.path.join(outside, 'guest1.vmdk'),
                   os.path.join(export_dir.path, 'guest1.vmdk'))
        self.assertRaises(base.HostileExport, vmx.read, export_dir.vmx)
        export_dir = self.useFixture(_ExportDir('guest1', MINIMAL % (
            'sub/guest1.vmdk'), files=()))
        os.symlink(outside, os.path.join(export_dir.path, 'sub'))
        self.assertRaises(base.HostileExport, vmx.read, export_dir.vmx)
        # A link inside the export is followed.
        export_dir = self.useFixture(_ExportDir('guest1', MINIMAL % (
            'link.vmdk'), files=('guest1.vmdk',)))
        os.symlink('guest1.vmdk', os.path.join(export_dir.path, 'link.vmdk'))
        self.assertEqual(4, vmx.read(export_dir.vmx).disks[0].size)

    def test_datastore_paths_are_the_export_copies(self):
        for disk in ('[datastore1] guest1/guest1.vmdk',
                     '/vmfs/volumes/datastore1/guest1/guest1.vmdk',
                     '/vmfs/volumes/5669422e-699d77db/guest1/guest1.vmdk'):
            export_dir, export = self._read(MINIMAL, disk=disk)
            self.assertEqual(os.path.join(export.root_dir, 'guest1.vmdk'),
                             export.disks[0].path)
            self.assertIn("the export's copy", ' '.join(export.notes))
            exc = self._refused(base.UnsupportedExport, MINIMAL, disk=disk,
                                files=())
            self.assertIn('scsi0:0', str(exc))
            self.assertIn('not in the export', str(exc))

    def test_images_of_the_source_host_left_empty(self):
        text = MINIMAL + (
            'ide0:0.present = "TRUE"\n'
            'ide0:0.deviceType = "cdrom-image"\n'
            'ide0:0.fileName = "/usr/lib/vmware/isoimages/linux.iso"\n'
            'ide1:0.present = "TRUE"\n'
            'ide1:0.deviceType = "cdrom-image"\n'
            'ide1:0.fileName = "[iso] os/install.iso"\n')
        export_dir, export = self._read(text)
        drives = _root(export.domain_xml).findall(
            "./devices/disk[@device='cdrom']")
        self.assertEqual([None, None], [d.find('./source') for d in drives])
        self.assertEqual(2, len([n for n in export.notes
                                 if 'left empty' in n]))
        self.assertEqual(1, len(export.disks))
        self._refused(base.HostileExport, text.replace(
            '[iso] os/install.iso', '../install.iso'))

    def test_too_many_disks_refused(self):
        text = MINIMAL.replace('scsi0:0.present = "TRUE"\n', '')
        for controller in range(4):
            text += 'scsi%d.present = "TRUE"\n' % controller
            for unit in range(17 if controller < 3 else 18):
                text += ('scsi%d:%d.present = "TRUE"\n'
                         'scsi%d:%d.fileName = "d%d-%d.vmdk"\n'
                         % ((controller, unit) * 3))
        exc = self._refused(base.HostileExport, text, files=())
        self.assertIn('more than %d' % base.MAX_DISKS, str(exc))

    def test_devices_nowhere_are_named(self):
        export_dir, export = self._read(MINIMAL + (
            'scsi3:0.present = "TRUE"\n'
            'scsi3:0.fileName = "lost.vmdk"\n'
            'usb_xhci.present = "TRUE"\n'
            'nvram = "guest1.nvram"\n'))
        notes = ' '.join(export.notes)
        for word in ('scsi3:0', 'xHCI', 'guest1.nvram'):
            self.assertIn(word, notes)
        export_dir, export = self._read(
            MINIMAL, files=('guest1-rdmp.vmdk',), disk='guest1-rdmp.vmdk')
        notes = ' '.join(export.notes)
        for word in ('raw device mapping',):
            self.assertIn(word, notes)
        self.assertEqual(1, len(export.disks))

    def test_firmware_topology_and_transient_disks(self):
        export_dir, export = self._read(MINIMAL + (
            'firmware = "efi"\n'
            'uefi.secureBoot.enabled = "TRUE"\n'
            'numvcpus = "8"\n'
            'cpuid.coresPerSocket = "4"\n'
            'scsi0:0.mode = "independent-nonpersistent"\n'))
        dom = _root(export.domain_xml)
        self.assertEqual('efi', dom.find('./os').get('firmware'))
        self.assertEqual(['enrolled-keys', 'secure-boot'], [
            f.get('name') for f in dom.findall('./os/firmware/feature')])
        self.assertEqual({'sockets': '2', 'dies': '1', 'cores': '4',
                          'threads': '1'},
                         dict(dom.find('./cpu/topology').attrib))
        self.assertIsNotNone(dom.find('./devices/disk/transient'))
        result = translate.translate(export.domain_xml, translate.Target(
            accelerator='qemu', import_dir=export.root_dir))
        self.assertIsNone(schema.schema_errors(result.xml))
        self.assertEqual('uefi-secure-boot', result.report.firmware)

    def test_nic_connections(self):
        text = MINIMAL + (
            'ethernet0.connectionType = "hostonly"\n'
            'ethernet1.present = "TRUE"\n'
            'ethernet1.connectionType = "nat"\n'
            'ethernet1.addressType = "static"\n'
            'ethernet1.address = "00:50:56:01:02:03"\n'
            'ethernet2.present = "TRUE"\n'
            'ethernet2.virtualDev = "vmxnet"\n'
            'ethernet2.features = "15"\n'
            'ethernet2.networkName = "dmz"\n'
            'ethernet3.present = "FALSE"\n'
            'ethernet3.networkName = "gone"\n')
        export_dir, export = self._read(text)
        dom = _root(export.domain_xml)
        self.assertEqual(['network', 'user', 'bridge'], [
            n.get('type') for n in dom.findall('./devices/interface')])
        self.assertEqual(
            [(None, 'VM Network', 'vmxnet3'),
             ('00:50:56:01:02:03', '', ''), (None, 'dmz', 'vmxnet2')],
            [(n.mac, n.network, n.model) for n in export.nics])
        result = translate.translate(export.domain_xml, translate.Target(
            accelerator='qemu', import_dir=export.root_dir))
        self.assertIsNone(schema.schema_errors(result.xml))

    def test_not_a_file(self):
        self.assertRaises(base.UnsupportedExport, vmx.read,
                          self.useFixture(fixtures.TempDir()).path)
        self.assertRaises(base.UnsupportedExport, vmx.read,
                          '/nonexistent/guest.vmx')
