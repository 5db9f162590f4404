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

"""Real-world VMware guest definitions, translated and checked.

The corpus under fixtures/vmware (see its README.rst) is what libvirt's
ESX/VMX driver gives for guests of production estates and for the edge
cases libvirt tests. Each definition is translated for a QEMU/TCG and a
KVM destination: it must give a definition libvirt's schema accepts, or be
refused with the typed reason :data:`EXPECTED` names; the report must
match the XML, and nothing of the source host may be left in it.
"""

import glob
import os
import re

from lxml import etree
import testtools

from nova_v2v.hardware import translate
from tests.unit.hardware import schema

INSTANCES = '/var/lib/nova/instances'
CORPUS = os.path.join(os.path.dirname(__file__), 'fixtures', 'vmware')
TRANSLATED = 'translated'
# What each definition gives with the refuse policy: translated, or refused
# with the typed error and a word of its reason. With the drop policy every
# one translates. A change here is a change of the product's behaviour.
EXPECTED = {
    'annotation': TRANSLATED,
    'case-insensitive-1': TRANSLATED,
    'cdrom-ide-device': TRANSLATED,
    'cdrom-ide-empty-2': TRANSLATED,
    'cdrom-ide-empty': TRANSLATED,
    'cdrom-ide-raw-auto-detect': TRANSLATED,
    'cdrom-scsi-device': TRANSLATED,
    'cdrom-scsi-passthru': (translate.UnmappableDevices, 'SCSI LUN'),
    'datacenterpath': TRANSLATED,
    'esx-in-the-wild-1': TRANSLATED,
    'esx-in-the-wild-2': TRANSLATED,
    'esx-in-the-wild-3': TRANSLATED,
    'esx-in-the-wild-4': TRANSLATED,
    'esx-in-the-wild-5': TRANSLATED,
    'esx-in-the-wild-6': TRANSLATED,
    'esx-in-the-wild-7': (translate.UnmappableDevices, 'SCSI LUN'),
    'esx-in-the-wild-8': TRANSLATED,
    'esx-in-the-wild-9': TRANSLATED,
    'esx-in-the-wild-10': TRANSLATED,
    'esx-in-the-wild-11': TRANSLATED,
    'esx-in-the-wild-12': TRANSLATED,
    'esx-in-the-wild-13': TRANSLATED,
    'esx-in-the-wild-14': TRANSLATED,
    'esx-in-the-wild-15': TRANSLATED,
    'esx-in-the-wild-16': TRANSLATED,
    'esx-in-the-wild-17': TRANSLATED,
    'ethernet-custom': TRANSLATED,
    'ethernet-dummy': TRANSLATED,
    'ethernet-nat': TRANSLATED,
    'ethernet-null': TRANSLATED,
    'ethernet-other': TRANSLATED,
    'ethernet-vds-no-params': TRANSLATED,
    'ethernet-vds': TRANSLATED,
    'ethernet-vpx': TRANSLATED,
    'firmware-efi': TRANSLATED,
    'floppy-device': TRANSLATED,
    'fusion-in-the-wild-1': TRANSLATED,
    'graphics-vnc': TRANSLATED,
    'gsx-in-the-wild-1': TRANSLATED,
    'gsx-in-the-wild-2': TRANSLATED,
    'gsx-in-the-wild-3': TRANSLATED,
    'gsx-in-the-wild-4': TRANSLATED,
    'harddisk-transient': TRANSLATED,
    'minimal-64bit': TRANSLATED,
    'parallel-device': TRANSLATED,
    'parallel-file': TRANSLATED,
    'scsi-driver-max': TRANSLATED,
    'serial-device': TRANSLATED,
    'serial-file': TRANSLATED,
    'serial-network-client': TRANSLATED,
    'serial-network-server': TRANSLATED,
    'serial-pipe': TRANSLATED,
    'sharedfolder': (translate.UnmappableDevices, 'shared into the guest'),
    'smbios': TRANSLATED,
}
# The firmware each UEFI guest boots (the others boot BIOS).
FIRMWARE = {
    'esx-in-the-wild-12': 'uefi-secure-boot',
    'esx-in-the-wild-16': 'uefi-secure-boot',
    'firmware-efi': 'uefi',
}
DATASTORE_PATH = re.compile(r'^\s*\[[^\]]*\]')
HOSTLESS_CHAR_TYPES = ('pty', 'null')


def _corpus():
    result = {}
    for path in sorted(glob.glob(os.path.join(CORPUS, '*.xml'))):
        with open(path) as f:
            result[os.path.basename(path)[:-4]] = f.read()
    return result


CORPUS_XML = _corpus()


def _root(xml):
    return etree.fromstring(xml.encode() if isinstance(xml, str) else xml)


def _target(accel, policy):
    return translate.Target(accelerator=accel, instances_path=INSTANCES,
                            unmappable=policy)


def _inside(path):
    return path.startswith(INSTANCES + '/') and os.path.normpath(
        path) == path


def _enabled(os_el, name):
    return os_el.find("./firmware/feature[@name='%s'][@enabled='yes']"
                      % name) is not None


class TestCorpus(testtools.TestCase):

    def test_corpus_and_table_agree(self):
        self.assertGreaterEqual(len(CORPUS_XML), 50)
        self.assertEqual(sorted(EXPECTED), sorted(CORPUS_XML))
        for xml in CORPUS_XML.values():
            self.assertEqual('vmware', _root(xml).get('type'))

    def test_every_file_has_its_provenance(self):
        with open(os.path.join(CORPUS, 'README.rst')) as f:
            readme = f.read()
        for name in CORPUS_XML:
            self.assertRegex(
                readme, r'\n%s\.xml +tests/vmx2xmldata/\S+\.xml +'
                        r'[0-9a-f]{12} ' % re.escape(name))

    def _check_report_matches_xml(self, name, src, out, rep, accel):
        """What the report says is what the XML has."""
        self.assertEqual(accel, rep.target_type)
        self.assertEqual(rep.machine, out.find('./os/type').get('machine'))
        # The MACs, in order.
        self.assertEqual(
            rep.macs,
            [m.get('address') for m in out.findall('./devices/interface/mac')])
        # The disks, in order, where the report says they are.
        disks = out.findall('./devices/disk')
        self.assertEqual(len(rep.disks), len(disks), name)
        for mapping, disk in zip(rep.disks, disks):
            source = disk.find('./source')
            self.assertEqual(mapping.device, disk.get('device', 'disk'))
            self.assertEqual(mapping.target, disk.find('./target').get('dev'))
            self.assertEqual(mapping.bus, disk.find('./target').get('bus'))
            self.assertEqual(mapping.path, source.get('file')
                             if source is not None else None)
        # What the report says is dropped or removed is not there.
        dropped = [f for f in rep.findings if f.action == 'dropped']
        src_disks = src.findall('./devices/disk')
        dropped_disks = [f.device for f in dropped
                         if f.device.startswith('disk ')]
        self.assertEqual(len(src_disks) - len(dropped_disks), len(disks))
        for f in dropped:
            if f.device.startswith('disk '):
                self.assertNotIn(f.device.split()[1],
                                 [m.source_target for m in rep.disks])
            elif f.device.startswith('interface '):
                self.assertNotIn(f.device.split()[1], rep.macs)
            else:
                self.assertEqual(
                    [], out.findall('./devices/%s' % f.device.split()[0]),
                    f)
        removed = {f.device for f in rep.findings if f.action == 'removed'}
        if 'hardware uuid' in removed:
            self.assertIsNone(out.find('./hwuuid'))
        if 'smbios' in removed:
            self.assertIsNone(out.find('./os/smbios'))
        if 'nvram' in removed:
            self.assertIsNone(out.find('./os/nvram'))
        # The firmware the report names is the one the XML boots, and
        # secure boot is on in both or in neither.
        os_el = out.find('./os')
        self.assertEqual(FIRMWARE.get(name, 'bios'), rep.firmware)
        self.assertEqual(rep.firmware != 'bios',
                         os_el.get('firmware') == 'efi')
        secure = rep.firmware == 'uefi-secure-boot'
        self.assertEqual(secure, _enabled(os_el, 'secure-boot'))
        if rep.firmware == 'uefi':
            # Pinned off, not left to the destination's firmware choice.
            self.assertEqual(
                {'enrolled-keys': 'no', 'secure-boot': 'no'},
                {f.get('name'): f.get('enabled')
                 for f in os_el.findall('./firmware/feature')}, name)
        elif not secure:
            self.assertFalse(_enabled(os_el, 'enrolled-keys'))
        else:
            self.assertEqual('on', out.find('./features/smm').get('state'))
        for f in rep.findings:
            if f.device == 'firmware' and f.old == 'secure boot':
                self.assertEqual(secure, f.new is not None, f)
        # VMware's variable store is not an OVMF one: no file is carried,
        # and a UEFI guest's fresh store is where the report says.
        self.assertEqual([], rep.extra_files, name)
        nvram = out.findtext('./os/nvram')
        if rep.firmware != 'bios':
            self.assertTrue(_inside(nvram), name)
            self.assertEqual(
                [nvram], [f.new for f in rep.findings
                          if f.device == 'nvram' and f.action == 'changed'],
                name)
        else:
            self.assertIsNone(nvram, name)

    def _check_nothing_of_the_source_host(self, name, out):
        """No source host reference is left in the definition."""
        self.assertTrue((out.findtext('./name') or '').strip(), name)
        for tag in ('./hwuuid', "./os/smbios[@mode='host']",
                    './vcpu[@cpuset]', './cpu/topology[@clusters]',
                    './devices/hostdev', './devices/filesystem',
                    "./devices/disk[@type='block']",
                    "./devices/disk[@device='lun']",
                    "./devices/controller[@type='nvme']",
                    './devices/emulator'):
            self.assertEqual([], out.findall(tag), '%s: %s' % (name, tag))
        for el in out.iter():
            if not isinstance(el.tag, str):
                continue
            self.assertFalse(el.tag.startswith('{'), el.tag)
            if el.tag not in ('description', 'title'):
                self.assertFalse(DATASTORE_PATH.match(el.text or ''),
                                 '%s: <%s> %s' % (name, el.tag, el.text))
            for attr, value in el.attrib.items():
                self.assertFalse(DATASTORE_PATH.match(value),
                                 '%s: %s=%s' % (name, attr, value))
        for tag in ('serial', 'parallel', 'console', 'channel'):
            for dev in out.findall('./devices/%s' % tag):
                self.assertIn(dev.get('type'), HOSTLESS_CHAR_TYPES,
                              '%s: %s' % (name, tag))
                self.assertIsNone(dev.find('./source'))
        for disk in out.findall('./devices/disk'):
            self.assertEqual('file', disk.get('type'))
            source = disk.find('./source')
            if source is not None:
                self.assertTrue(_inside(source.get('file')), name)
        for nic in out.findall('./devices/interface'):
            self.assertIn(nic.get('type'), ('network', 'bridge'))
            self.assertIsNone(nic.find('./target'))
            mac = nic.find('./mac')
            if mac is not None:
                self.assertNotEqual('00:00:00:00:00:00', mac.get('address'))
        for gfx in out.findall('./devices/graphics'):
            self.assertEqual('yes', gfx.get('autoport'))
            self.assertIsNone(gfx.get('port'))

    def _check(self, name, accel, policy):
        xml = CORPUS_XML[name]
        expected = EXPECTED[name] if policy == 'refuse' else TRANSLATED
        if expected != TRANSLATED:
            exc_type, reason = expected
            exc = self.assertRaises(exc_type, translate.translate, xml,
                                    _target(accel, policy))
            self.assertIn(reason, str(exc))
            if isinstance(exc, translate.UnmappableDevices):
                self.assertTrue(exc.report.unmappable)
            return
        result = translate.translate(xml, _target(accel, policy))
        self.assertIsNone(schema.schema_errors(result.xml), name)
        src, out = _root(xml), _root(result.xml)
        self.assertEqual(accel, out.get('type'))
        self._check_report_matches_xml(name, src, out, result.report, accel)
        self._check_nothing_of_the_source_host(name, out)
        # Every finding shows in the text report.
        text = result.report.to_text()
        for finding in result.report.findings:
            self.assertIn(str(finding), text)


def _make(name, accel, policy):
    def test(self):
        self._check(name, accel, policy)
    return test


for _name in CORPUS_XML:
    for _accel in ('qemu', 'kvm'):
        for _policy in ('refuse', 'drop'):
            setattr(TestCorpus, 'test_%s_%s_%s' % (
                _name.replace('-', '_'), _accel, _policy),
                _make(_name, _accel, _policy))


class TestClasses(testtools.TestCase):
    """What each class of real-world definitions becomes."""

    def _translate(self, fixture, policy='refuse', **kwargs):
        result = translate.translate(CORPUS_XML[fixture],
                                     _target('qemu', policy), **kwargs)
        return _root(result.xml), result.report

    def _findings(self, rep, action, device):
        return [f for f in rep.findings
                if f.action == action and f.device == device]

    def test_secure_boot_kept_with_enrolled_keys(self):
        for name in ('esx-in-the-wild-12', 'esx-in-the-wild-16'):
            out, rep = self._translate(name)
            os_el = out.find('./os')
            self.assertEqual('efi', os_el.get('firmware'))
            self.assertTrue(_enabled(os_el, 'secure-boot'))
            self.assertTrue(_enabled(os_el, 'enrolled-keys'))
            self.assertEqual('uefi-secure-boot', rep.firmware)
            self.assertEqual('q35', rep.machine)

    def test_uefi_without_secure_boot_pinned_off(self):
        # Off, as on the source, whatever firmware build the destination's
        # auto-selection would prefer.
        out, rep = self._translate('firmware-efi')
        os_el = out.find('./os')
        self.assertEqual('efi', os_el.get('firmware'))
        self.assertEqual(
            [('enrolled-keys', 'no'), ('secure-boot', 'no')],
            [(f.get('name'), f.get('enabled'))
             for f in os_el.findall('./firmware/feature')])
        self.assertEqual('uefi', rep.firmware)
        self.assertEqual(['secure boot off'],
                         [f.new for f in self._findings(rep, 'note',
                                                        'firmware')])

    def test_nvme_disks_on_the_target_bus(self):
        out, rep = self._translate('esx-in-the-wild-15')
        self.assertEqual(['vda', 'vdb'], [
            d.find('./target').get('dev')
            for d in out.findall("./devices/disk[@device='disk']")])
        self.assertEqual(['nvme', 'nvme'], [d.source_bus for d in rep.disks
                                            if d.device == 'disk'])
        self.assertTrue(self._findings(rep, 'removed', 'controller nvme 0'))

    def test_empty_block_cdrom_is_an_empty_drive(self):
        for name in ('cdrom-ide-empty-2', 'cdrom-ide-raw-auto-detect',
                     'cdrom-ide-device', 'cdrom-scsi-device'):
            out, rep = self._translate(name)
            (cdrom,) = out.findall('./devices/disk')
            self.assertEqual(('file', 'cdrom'),
                             (cdrom.get('type'), cdrom.get('device')))
            self.assertIsNone(cdrom.find('./source'))
            self.assertEqual(1, len([f for f in rep.findings
                                     if f.new == 'empty cdrom drive']))

    def test_host_floppy_is_an_empty_drive(self):
        out, rep = self._translate('floppy-device')
        (floppy,) = out.findall('./devices/disk')
        self.assertEqual(('file', 'floppy'),
                         (floppy.get('type'), floppy.get('device')))
        self.assertIsNone(floppy.find('./source'))
        self.assertIn('/dev/fd0', ' '.join(f.old or ''
                                           for f in rep.warnings))

    def test_unconnected_nics_keep_their_link_down(self):
        # A MAC the source gave stays; the all-zero one goes: the
        # destination makes one.
        for name, macs in (('ethernet-dummy', ['00:50:56:87:65:43']),
                           ('ethernet-null', ['00:50:56:87:65:43']),
                           ('esx-in-the-wild-14', [])):
            out, rep = self._translate(name)
            (nic,) = out.findall('./devices/interface')
            self.assertEqual('down', nic.find('./link').get('state'), name)
            self.assertEqual('network', nic.get('type'), name)
            self.assertEqual('default', nic.find('./source').get('network'),
                             name)
            self.assertEqual(macs, rep.macs, name)
            self.assertEqual(macs, [m.get('address')
                                    for m in nic.findall('./mac')], name)
            self.assertEqual(
                1, len([f for f in rep.findings
                        if f.action == 'changed' and
                        f.device.endswith(' type') and
                        f.new.endswith(', link down')]), name)

    def test_distributed_switch_and_nat_nics_on_the_target_network(self):
        for name in ('ethernet-vds', 'ethernet-vds-no-params',
                     'ethernet-nat'):
            out, rep = self._translate(name)
            (nic,) = out.findall('./devices/interface')
            self.assertEqual('network', nic.get('type'))
            self.assertEqual('default', nic.find('./source').get('network'))
            self.assertEqual(['00:50:56:87:65:43' if 'vds' in name
                              else '00:50:56:11:22:33'], rep.macs)
            self.assertIsNone(nic.find('./link'))

    def test_host_character_devices_on_a_pty(self):
        for name, old in (('serial-file', 'file'), ('serial-device', 'dev'),
                          ('serial-pipe', 'pipe'),
                          ('serial-network-client', 'tcp'),
                          ('serial-network-server', 'tcp'),
                          ('parallel-file', 'file'),
                          ('parallel-device', 'dev'),
                          ('esx-in-the-wild-4', 'file')):
            out, rep = self._translate(name)
            changed = [f for f in rep.findings
                       if f.new == 'pty' and (f.old or '').startswith(old)]
            self.assertTrue(changed, name)
            for f in changed:
                self.assertEqual('warning', f.severity)

    def test_null_serials_kept(self):
        out, rep = self._translate('esx-in-the-wild-13')
        self.assertEqual(['null', 'null'], [
            s.get('type') for s in out.findall('./devices/serial')])

    def test_host_smbios_and_hardware_uuid_removed(self):
        out, rep = self._translate('smbios')
        self.assertTrue(self._findings(rep, 'removed', 'smbios'))
        out, rep = self._translate('esx-in-the-wild-1')
        (finding,) = self._findings(rep, 'removed', 'hardware uuid')
        self.assertEqual('50115e16-9bdc-49d7-f171-53c4d7f91710', finding.old)

    def test_bios_nvram_on_a_datastore_removed(self):
        out, rep = self._translate('esx-in-the-wild-1')
        self.assertIsNone(out.find('./os/nvram'))
        (finding,) = self._findings(rep, 'removed', 'nvram')
        self.assertEqual('[datastore] directory/Fedora11.nvram', finding.old)
        self.assertEqual([], rep.extra_files)

    def test_cpu_topology_clusters_folded(self):
        out, rep = self._translate('esx-in-the-wild-9')
        topology = out.find('./cpu/topology')
        self.assertEqual({'sockets': '4', 'dies': '1', 'cores': '4',
                          'threads': '1'}, dict(topology.attrib))
        xml = CORPUS_XML['esx-in-the-wild-9'].replace(
            "clusters='1' cores='4'", "clusters='2' cores='2'")
        result = translate.translate(xml, _target('qemu', 'refuse'))
        self.assertEqual('4', _root(result.xml).find(
            './cpu/topology').get('cores'))
        self.assertIsNone(schema.schema_errors(result.xml))

    def test_host_cpu_pinning_removed(self):
        out, rep = self._translate('esx-in-the-wild-2')
        self.assertIsNone(out.find('./vcpu').get('cpuset'))
        self.assertEqual('0-2,5-7', self._findings(
            rep, 'removed', 'vcpu cpuset')[0].old)

    def test_min_guarantee_removed(self):
        out, rep = self._translate('esx-in-the-wild-5')
        self.assertIsNone(out.find('./memtune'))

    def test_a_guest_without_a_name_gets_one(self):
        out, rep = self._translate('firmware-efi')
        self.assertEqual('vmware-00000000-0000-0000-0000-000000000000',
                         out.findtext('./name'))
        self.assertTrue(self._findings(rep, 'added', 'name'))
        # Or the name asked.
        out, rep = self._translate('graphics-vnc', name='guest1')
        self.assertEqual(['guest1'],
                         [n.text for n in out.findall('./name')])
        self.assertEqual([], self._findings(rep, 'added', 'name'))

    def test_neither_name_nor_uuid_refused(self):
        xml = CORPUS_XML['firmware-efi'].replace(
            '  <uuid>00000000-0000-0000-0000-000000000000</uuid>\n', '')
        exc = self.assertRaises(translate.TranslationError,
                                translate.translate, xml,
                                _target('qemu', 'refuse'))
        self.assertIn('neither a name nor a UUID', str(exc))
        result = translate.translate(xml, _target('qemu', 'refuse'),
                                     name='guest1', uuid=(
                                         '6c0f7d3a-1b2c-4d5e-8f90-'
                                         'a1b2c3d4e5f6'))
        self.assertIsNone(schema.schema_errors(result.xml))

    def test_vnc_port_of_the_source_host_goes(self):
        out, rep = self._translate('graphics-vnc')
        (gfx,) = out.findall('./devices/graphics')
        self.assertEqual('yes', gfx.get('autoport'))
        self.assertIsNone(gfx.get('port'))
        self.assertEqual('password', gfx.get('passwd'))

    def test_target_names_do_not_clash(self):
        # A SATA CD-ROM and a SCSI disk are both "sda" at the source.
        for name in ('esx-in-the-wild-12', 'esx-in-the-wild-8',
                     'esx-in-the-wild-17'):
            out, rep = self._translate(name)
            devs = [d.find('./target').get('dev')
                    for d in out.findall('./devices/disk')]
            self.assertEqual(len(devs), len(set(devs)), name)


HYPERV_NO_OS_TYPE = """<domain type='hyperv'>
  <name>w2k19</name>
  <uuid>6c0f7d3a-1b2c-4d5e-8f90-a1b2c3d4e5f6</uuid>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os/>
  <clock offset='utc'/>
  <devices>
    <disk type='file' device='disk'>
      <source file='C:\\VMs\\w2k19\\disk.vhdx'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <interface type='bridge'>
      <mac address='00:15:5d:01:02:03'/>
      <source bridge='External Switch'/>
    </interface>
  </devices>
</domain>
"""


class TestOSType(testtools.TestCase):

    def test_hyperv_without_os_type_is_hvm(self):
        for xml in (HYPERV_NO_OS_TYPE,
                    HYPERV_NO_OS_TYPE.replace('  <os/>\n', '')):
            result = translate.translate(xml, _target('qemu', 'refuse'))
            self.assertIsNone(schema.schema_errors(result.xml))
            self.assertEqual('hvm', _root(result.xml).findtext('./os/type'))
            self.assertIn(('added', 'os type'), [
                (f.action, f.device) for f in result.report.findings])

    def test_xen_paravirtual_named_as_such(self):
        xml = HYPERV_NO_OS_TYPE.replace(
            "type='hyperv'", "type='xen'").replace(
            '<os/>', '<os><type>linux</type></os>')
        exc = self.assertRaises(translate.UnsupportedGuest,
                                translate.translate, xml,
                                _target('qemu', 'refuse'))
        self.assertIn('Xen paravirtual', str(exc))

    def test_other_os_types_not_named_xen(self):
        for domain_type, os_type in (('hyperv', 'exe'), ('xen', None),
                                     ('kvm', None)):
            xml = HYPERV_NO_OS_TYPE.replace(
                "type='hyperv'", "type='%s'" % domain_type)
            if os_type:
                xml = xml.replace('<os/>', '<os><type>%s</type></os>'
                                  % os_type)
            exc = self.assertRaises(translate.UnsupportedGuest,
                                    translate.translate, xml,
                                    _target('qemu', 'refuse'))
            self.assertNotIn('Xen', str(exc))
            self.assertIn('not a fully virtualized', str(exc))


class TestPinning(testtools.TestCase):
    """A foreign guest's pinning names the source host's CPUs and nodes."""

    def test_xen_pinning_removed(self):
        with open(os.path.join(schema.FIXTURES,
                               '21-xen-hvm-xenfv-xvda-e1000.xml')) as f:
            xml = f.read().replace(
                "  <vcpu placement='static'>2</vcpu>\n",
                "  <vcpu placement='static' cpuset='0-7'>2</vcpu>\n"
                "  <cputune>\n"
                "    <vcpupin vcpu='0' cpuset='2'/>\n"
                "    <vcpupin vcpu='1' cpuset='3'/>\n"
                "    <emulatorpin cpuset='0-1'/>\n"
                "  </cputune>\n"
                "  <numatune>\n"
                "    <memory mode='strict' nodeset='1'/>\n"
                "  </numatune>\n")
        self.assertIsNone(schema.schema_errors(xml))
        result = translate.translate(xml, translate.Target(
            accelerator='kvm', instances_path=INSTANCES,
            import_dir='/var/lib/xen/images'))
        self.assertIsNone(schema.schema_errors(result.xml))
        out = _root(result.xml)
        for xpath in ('./cputune', './numatune'):
            self.assertIsNone(out.find(xpath), xpath)
        self.assertNotIn('cpuset', out.find('./vcpu').attrib)
        self.assertEqual(
            [('vcpu cpuset', '0-7'), ('cputune vcpupin 0', '2'),
             ('cputune vcpupin 1', '3'), ('cputune emulatorpin', '0-1'),
             ('numatune', '1')],
            [(f.device, f.old) for f in result.report.findings
             if f.action == 'removed' and f.device.split()[0] in (
                 'vcpu', 'cputune', 'numatune')])


class TestImportDir(testtools.TestCase):
    """A foreign guest's disks are read from the import directory only."""

    def _translate(self, xml, import_dir='/srv/import'):
        target = translate.Target(accelerator='qemu',
                                  instances_path=INSTANCES,
                                  import_dir=import_dir)
        return translate.translate(xml, target)

    def test_datastore_paths_below_the_import_directory(self):
        result = self._translate(CORPUS_XML['esx-in-the-wild-17'])
        self.assertEqual(
            ['/srv/import/datastore/directory/esx8.0-win11-with-second-'
             'disk-in-subfolder.vmdk',
             '/srv/import/datastore/directory/subfolder/esx8.0-win11-with-'
             'second-disk-in-subfolder_1.vmdk'],
            [d.source_path for d in result.report.disks
             if d.device == 'disk'])
        # The XML is the same as without one.
        self.assertEqual(self._translate(CORPUS_XML['esx-in-the-wild-17'],
                                         None).xml, result.xml)

    def test_windows_paths_below_the_import_directory(self):
        result = self._translate(HYPERV_NO_OS_TYPE)
        self.assertEqual(['/srv/import/C/VMs/w2k19/disk.vhdx'],
                         [d.source_path for d in result.report.disks])
        for path, expected in (
                ('D:\\VMs\\w2k19\\disk.vhdx',
                 '/srv/import/D/VMs/w2k19/disk.vhdx'),
                ('d:/VMs/disk.vhdx', '/srv/import/d/VMs/disk.vhdx'),
                ('\\\\hv-store\\vms\\w2k19\\disk.vhdx',
                 '/srv/import/hv-store/vms/w2k19/disk.vhdx'),
                ('w2k19\\disk.vhdx', '/srv/import/w2k19/disk.vhdx')):
            result = self._translate(HYPERV_NO_OS_TYPE.replace(
                'C:\\VMs\\w2k19\\disk.vhdx', path))
            self.assertEqual([expected],
                             [d.source_path for d in result.report.disks])

    def _two_disks(self, first, second):
        xml = CORPUS_XML['esx-in-the-wild-17'].replace(
            '[datastore] directory/esx8.0-win11-with-second-disk-in-'
            'subfolder.vmdk', first).replace(
            '[datastore] directory/subfolder/esx8.0-win11-with-second-'
            'disk-in-subfolder_1.vmdk', second)
        return [d.source_path for d in self._translate(xml).report.disks
                if d.device == 'disk']

    def test_datastores_stay_apart(self):
        # The same path on two datastores is two files.
        self.assertEqual(
            ['/srv/import/ds1/vm/vm.vmdk', '/srv/import/ds2/vm/vm.vmdk'],
            self._two_disks('[ds1] vm/vm.vmdk', '[ds2] vm/vm.vmdk'))
        self.assertEqual(
            ['/srv/import/vsan DS/vm/vm.vmdk', '/srv/import/vm/vm.vmdk'],
            self._two_disks('[vsan DS] vm/vm.vmdk', 'vm/vm.vmdk'))

    def test_drives_stay_apart(self):
        xml = HYPERV_NO_OS_TYPE.replace('    <interface', (
            "    <disk type='file' device='disk'>\n"
            "      <source file='D:\\VMs\\w2k19\\disk.vhdx'/>\n"
            "      <target dev='hdb' bus='ide'/>\n"
            "    </disk>\n"
            "    <interface"), 1)
        self.assertEqual(
            ['/srv/import/C/VMs/w2k19/disk.vhdx',
             '/srv/import/D/VMs/w2k19/disk.vhdx'],
            [d.source_path for d in self._translate(xml).report.disks])

    def test_one_file_for_two_disks_refused(self):
        # Two spellings of one file: the guest's two disks would be one.
        exc = self.assertRaises(
            translate.TranslationError, self._two_disks,
            '[ds1] vm/vm.vmdk', '[ds1]vm//vm.vmdk')
        self.assertIn('both be read from /srv/import/ds1/vm/vm.vmdk',
                      str(exc))

    def test_datastore_drive_and_share_names_are_plain(self):
        for path in ('[..] etc/shadow', '[ds/../..] etc/shadow',
                     '[] vm/vm.vmdk', '[.] vm/vm.vmdk'):
            self.assertRaises(
                translate.PathEscape, self._translate,
                CORPUS_XML['esx-in-the-wild-1'].replace(
                    '[datastore] directory/Fedora11.vmdk', path))
        for path in ('C:\\..\\etc\\shadow', '\\\\..\\x\\disk.vhdx',
                     'C:\\VMs\\..\\..\\disk.vhdx'):
            self.assertRaises(
                translate.PathEscape, self._translate,
                HYPERV_NO_OS_TYPE.replace('C:\\VMs\\w2k19\\disk.vhdx',
                                          path))

    def test_host_paths_outside_refused(self):
        xml = CORPUS_XML['esx-in-the-wild-1']
        for path in ('/etc/shadow', '/srv/import-other/disk.vmdk',
                     '/srv/import', '[datastore] ../../etc/shadow'):
            self.assertRaises(
                translate.PathEscape, self._translate,
                xml.replace('[datastore] directory/Fedora11.vmdk', path))
        result = self._translate(xml.replace(
            '[datastore] directory/Fedora11.vmdk',
            '/srv/import/Fedora11/Fedora11.vmdk'))
        self.assertEqual(['/srv/import/Fedora11/Fedora11.vmdk'],
                         [d.source_path for d in result.report.disks])

    def test_host_paths_need_an_import_directory(self):
        # Without one, a foreign disk at a path of this host is not read
        # (a definition naming /etc/shadow has it copied nowhere); a
        # datastore path names no file of this host and is kept.
        xml = CORPUS_XML['esx-in-the-wild-1']
        for path in ('/etc/shadow', '/srv/import/Fedora11/Fedora11.vmdk'):
            exc = self.assertRaises(
                translate.PathEscape, self._translate,
                xml.replace('[datastore] directory/Fedora11.vmdk', path),
                None)
            self.assertIn('import directory', str(exc))
        self.assertEqual(
            ['[datastore] directory/Fedora11.vmdk'],
            [d.source_path for d in self._translate(xml, None).report.disks
             if d.device == 'disk'])
        with open(os.path.join(schema.FIXTURES,
                               '21-xen-hvm-xenfv-xvda-e1000.xml')) as f:
            xen = f.read()
        self.assertRaises(translate.PathEscape, self._translate, xen, None)
        self.assertEqual(
            ['/var/lib/xen/images/xenhvm-web.img'],
            [d.source_path for d in self._translate(
                xen, '/var/lib/xen/images').report.disks
             if d.device == 'disk'])

    def test_import_directory_must_be_absolute(self):
        for path in ('import', '/srv/../import', '/srv//import'):
            self.assertRaises(translate.TranslationError, self._translate,
                              CORPUS_XML['esx-in-the-wild-1'], path)

    def test_kvm_guests_not_confined(self):
        with open(os.path.join(schema.FIXTURES,
                               '02-qemu-tcg-i440fx-ide-e1000.xml')) as f:
            xml = f.read()
        plain = self._translate(xml, None)
        self.assertEqual([d.source_path for d in plain.report.disks],
                         [d.source_path
                          for d in self._translate(xml).report.disks])
