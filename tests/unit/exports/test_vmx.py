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
    'serial-device', 'serial-file', 'serial-network-server', 'serial-pipe')}
EXPECTED.update({
    # A CD-ROM drive passed through from the ESXi host.
    'cdrom-scsi-passthru': LUN,
    'esx-in-the-wild-7': LUN,
})
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
            files = list(_files_named(text if isinstance(text, str)
                                      else ''))
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
