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

"""The OVF reader: real-world descriptors, and what each field becomes."""

import glob
import hashlib
import os
import re
import shutil

import fixtures
from lxml import etree
import testtools

from nova_v2v.exports import base
from nova_v2v.exports import ovf
from nova_v2v.exports import reader
from nova_v2v.hardware import inspect
from nova_v2v.hardware import translate
from tests.unit.hardware import schema

CORPUS = os.path.join(os.path.dirname(__file__), 'fixtures', 'ovf')
TRANSLATED = 'translated'
# What each real-world descriptor gives: translated (schema-valid for a
# QEMU/TCG destination), or refused with the typed error and a word of its
# reason. A change here is a change of the product's behaviour.
EXPECTED = {
    'capv-builder': TRANSLATED,
    'govmomi-FlexibleNic': TRANSLATED,
    'govmomi-Ubuntu-12.04.2-64-Server-Tools': TRANSLATED,
    'govmomi-VM_OVF09': (base.UnsupportedExport, 'OVF 0.9'),
    'govmomi-gzip_compression': (base.HostileExport, 'leaves the export'),
    'govmomi-http_uri_in_file': (base.UnsupportedExport, 'is a URL'),
    'govmomi-nostalgia-two-disks': TRANSLATED,
    'govmomi-nvdimm': (base.UnsupportedExport, 'NVDIMM'),
    'govmomi-windowsVM40g': TRANSLATED,
    'nova-vmwareapi-ovf': (base.ExportError, 'on no controller'),
    'vcd-descriptor': (base.UnsupportedExport, 'VirtualSystemCollection'),
    'vcd-ubuntu': (base.UnsupportedExport, 'not an OVF 1.x or 2.x'),
    'vcd-yVM': TRANSLATED,
}
# What the translating ones are, as libvirt's VMware driver would say.
GUESTS = {
    'capv-builder': dict(
        name='capv-builder', arch='x86_64', vcpus='2', memory='8388608',
        firmware='efi', disks=[('sda', 'scsi', 'disk')],
        controllers=[('scsi', '0', 'vmpvscsi')],
        nics=[(None, 'Network', 'vmxnet3')]),
    'govmomi-FlexibleNic': dict(
        name='sc-16dd2df0-db9a-4117-836a-115f9bb1a20b', arch='x86_64',
        vcpus='1', memory='524288', firmware=None,
        disks=[('sda', 'scsi', 'disk'), ('hda', 'ide', 'cdrom')],
        controllers=[('scsi', '0', 'lsilogic'), ('ide', '0', None)],
        nics=[('00:50:56:16:01:2c', 'VLAN-440', 'vmxnet3')]),
    'govmomi-Ubuntu-12.04.2-64-Server-Tools': dict(
        name='Ubuntu-12.04.2-64-Server-Tools', arch='x86_64', vcpus='4',
        memory='2097152', firmware=None,
        disks=[('sda', 'scsi', 'disk'), ('hdc', 'ide', 'cdrom')],
        controllers=[('scsi', '0', 'lsilogic'), ('ide', '0', None)],
        nics=[(None, 'Private', 'e1000')]),
    'govmomi-nostalgia-two-disks': dict(
        name='Nostalgia', arch='i686', vcpus='1', memory='65536',
        firmware=None,
        disks=[('sda', 'scsi', 'disk'), ('sdb', 'scsi', 'disk'),
               ('hda', 'ide', 'cdrom')],
        controllers=[('scsi', '0', 'buslogic'), ('ide', '0', None)],
        nics=[(None, 'VM Network', 'vlance')]),
    'govmomi-windowsVM40g': dict(
        name='workload-driver-cloudmark042', arch='x86_64', vcpus='4',
        memory='16777216', firmware=None, disks=[('sda', 'scsi', 'disk')],
        controllers=[('scsi', '0', 'lsilogic'), ('ide', '0', None)],
        nics=[(None, '1GVM Network', 'e1000')]),
    'vcd-yVM': dict(
        name='yVM', arch='i686', vcpus='1', memory='49152', firmware=None,
        disks=[('hda', 'ide', 'disk'), ('hdc', 'ide', 'cdrom')],
        controllers=[('ide', '0', None)],
        nics=[(None, 'Production_DVS - Mgmt', 'e1000')]),
}


def _corpus():
    return {os.path.basename(p)[:-4]: p
            for p in sorted(glob.glob(os.path.join(CORPUS, '*.ovf')))}


CORPUS_FILES = _corpus()


class _Dir(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def _copy(self, name):
        path = os.path.join(self.dir, os.path.basename(CORPUS_FILES[name]))
        shutil.copy(CORPUS_FILES[name], path)
        return path

    def _write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, 'wb') as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path


class TestCorpus(_Dir):

    def test_corpus_and_table_agree(self):
        self.assertGreaterEqual(len(CORPUS_FILES), 10)
        self.assertEqual(sorted(EXPECTED), sorted(CORPUS_FILES))
        projects = {name.split('-')[0] for name in CORPUS_FILES}
        self.assertGreaterEqual(len(projects), 3)
        self.assertEqual(sorted(GUESTS), sorted(
            n for n, e in EXPECTED.items() if e == TRANSLATED))

    def test_every_file_has_its_provenance(self):
        with open(os.path.join(CORPUS, 'README.rst')) as f:
            readme = f.read()
        for name in CORPUS_FILES:
            self.assertRegex(
                readme, r'\n%s\.ovf +\S+ +\S.*\.(ovf|xml) +[0-9a-f]{12} '
                        % re.escape(name))
        self.assertTrue(os.path.exists(os.path.join(CORPUS,
                                                    'LICENSE-2.0.txt')))

    def _check(self, name):
        path = self._copy(name)
        expected = EXPECTED[name]
        if expected != TRANSLATED:
            exc_type, reason = expected
            exc = self.assertRaises(exc_type, ovf.read, path)
            self.assertIn(reason, str(exc))
            return
        export = ovf.read(path)
        self.assertEqual('ovf', export.kind)
        self.assertEqual(self.dir, export.root_dir)
        self._check_guest(name, export)
        result = translate.translate(export.domain_xml, translate.Target(
            accelerator='qemu', import_dir=self.dir))
        self.assertIsNone(schema.schema_errors(result.xml), name)
        # Every disk is read from where the export says, below its folder.
        self.assertEqual(
            [(d.target, d.path) for d in export.disks],
            [(m.source_target, m.source_path) for m in result.report.disks
             if m.device == 'disk'])
        for disk in export.disks:
            self.assertTrue(disk.path.startswith(self.dir + '/'))
            self.assertEqual('vmdk', disk.format)
            self.assertGreater(disk.capacity, 0)
        self.assertEqual([n.mac for n in export.nics if n.mac],
                         result.report.macs)

    def _check_guest(self, name, export):
        want = GUESTS[name]
        root = inspect.domain_root(export.domain_xml)
        self.assertEqual('vmware', root.get('type'))
        self.assertEqual(want['name'], root.findtext('./name'))
        self.assertEqual(want['arch'], root.find('./os/type').get('arch'))
        self.assertEqual(want['vcpus'], root.findtext('./vcpu'))
        self.assertEqual(want['memory'], root.findtext('./memory'))
        self.assertEqual(want['firmware'], root.find('./os').get('firmware'))
        self.assertEqual(want['disks'], [
            (d.find('./target').get('dev'), d.find('./target').get('bus'),
             d.get('device')) for d in root.findall('./devices/disk')])
        self.assertEqual(want['controllers'], [
            (c.get('type'), c.get('index'), c.get('model'))
            for c in root.findall('./devices/controller')])
        self.assertEqual(want['nics'], [
            (n.mac, n.network, n.model) for n in export.nics])
        self.assertEqual([n.model for n in export.nics], [
            m.get('type') for m in root.findall('./devices/interface/model')])


def _make(name):
    def test(self):
        self._check(name)
    return test


for _name in CORPUS_FILES:
    setattr(TestCorpus, 'test_%s' % re.sub(r'\W', '_', _name), _make(_name))


OVF1 = 'http://schemas.dmtf.org/ovf/envelope/1'
OVF2 = 'http://schemas.dmtf.org/ovf/envelope/2'
RASD = ('http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/'
        'CIM_ResourceAllocationSettingData')
VMDK = ('http://www.vmware.com/interfaces/specifications/vmdk.html'
        '#streamOptimized')


def item(rtype, **fields):
    """An Item's XML: rasd fields, vmw:Config pairs in ``config``."""
    config = fields.pop('config', {})
    cores = fields.pop('cores', None)
    tag = fields.pop('tag', 'Item')
    attrs = fields.pop('attrs', '')
    body = ''.join('<rasd:%s>%s</rasd:%s>' % (k, v, k)
                   for k, v in sorted(fields.items()))
    body += '<rasd:ResourceType>%s</rasd:ResourceType>' % rtype
    if cores:
        body += '<vmw:CoresPerSocket>%s</vmw:CoresPerSocket>' % cores
    body += ''.join('<vmw:Config vmw:key="%s" vmw:value="%s"/>' % kv
                    for kv in config.items())
    return '<%s%s>%s</%s>' % (tag, attrs, body, tag)


CPU_MEM = (item(3, InstanceID=1, VirtualQuantity=2) +
           item(4, InstanceID=2, VirtualQuantity=1024,
                AllocationUnits='byte * 2^20'))
SCSI = item(6, InstanceID=3, Address=0, ResourceSubType='VirtualSCSI')
DISK = item(17, InstanceID=4, Parent=3, AddressOnParent=0,
            HostResource='ovf:/disk/vmdisk1')
NIC = item(10, InstanceID=5, ResourceSubType='VmxNet3',
           Connection='VM Network', Address='00:50:56:aa:bb:cc')


def descriptor(items=CPU_MEM + SCSI + DISK + NIC, files=None, disks=None,
               name='guest1', ns=OVF1, config='', os_section=None,
               envelope_extra='', system='VirtualSystem'):
    if files is None:
        files = '<File ovf:id="file1" ovf:href="guest1-disk1.vmdk" ' \
                'ovf:size="4096"/>'
    if disks is None:
        disks = ('<Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" '
                 'ovf:capacity="10" ovf:capacityAllocationUnits='
                 '"byte * 2^30" ovf:format="%s"/>' % VMDK)
    if os_section is None:
        os_section = ('<OperatingSystemSection ovf:id="101" '
                      'vmw:osType="ubuntu64Guest"><Info>os</Info>'
                      '</OperatingSystemSection>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Envelope xmlns="%(ns)s" xmlns:ovf="%(ns)s" '
        'xmlns:rasd="%(rasd)s" '
        'xmlns:sasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/'
        'CIM_StorageAllocationSettingData" '
        'xmlns:epasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/'
        'CIM_EthernetPortAllocationSettingData" '
        'xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/'
        'CIM_VirtualSystemSettingData" '
        'xmlns:vmw="http://www.vmware.com/schema/ovf">\n'
        '<References>%(files)s</References>\n'
        '<DiskSection><Info>disks</Info>%(disks)s</DiskSection>\n'
        '%(extra)s'
        '<%(system)s ovf:id="vm"><Info>vm</Info>%(name)s%(os)s\n'
        '<VirtualHardwareSection><Info>hw</Info><System>'
        '<vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType></System>\n'
        '%(items)s%(config)s</VirtualHardwareSection></%(system)s>\n'
        '</Envelope>\n' % {
            'ns': ns, 'rasd': RASD, 'files': files, 'disks': disks,
            'extra': envelope_extra, 'system': system,
            'name': '<Name>%s</Name>' % name if name else '',
            'os': os_section, 'items': items, 'config': config})


def manifest(entries, algorithm='SHA256'):
    return ''.join('%s(%s)= %s\n' % (algorithm, name, hashlib.new(
        algorithm.lower(), data).hexdigest()) for name, data in entries)


class TestDescriptor(_Dir):
    """What each part of a descriptor becomes."""

    def _read(self, text, name='guest1.ovf'):
        return ovf.read(self._write(name, text))

    def _root(self, export):
        return etree.fromstring(export.domain_xml.encode())

    def test_a_plain_guest(self):
        export = self._read(descriptor())
        root = self._root(export)
        self.assertEqual('guest1', root.findtext('./name'))
        self.assertEqual('1048576', root.findtext('./memory'))
        self.assertEqual('x86_64', root.find('./os/type').get('arch'))
        (disk,) = export.disks
        self.assertEqual(base.ExportDisk(
            target='sda', path=os.path.join(self.dir, 'guest1-disk1.vmdk'),
            format='vmdk', member=None, size=4096, capacity=10 * 2 ** 30,
            digest=None), disk)
        self.assertEqual(
            (base.ExportNic(mac='00:50:56:aa:bb:cc', network='VM Network',
                            model='vmxnet3'),), export.nics)
        self.assertEqual('vmpvscsi', root.find(
            './devices/controller').get('model'))
        self.assertEqual(disk.path, root.find(
            './devices/disk/source').get('file'))
        self.assertIn('the export has no manifest: its files\' digests are '
                      'not checked', export.notes)

    def test_the_reader_dispatches_ovf(self):
        path = self._write('guest1.ovf', descriptor())
        self.assertEqual(ovf.read(path), reader.read(path))
        self.assertEqual(ovf.read(path), reader.read(self.dir))

    def test_ovf_2(self):
        items = (CPU_MEM + SCSI +
                 item(17, InstanceID=4, Parent=3, AddressOnParent=1,
                      HostResource='ovf:/disk/vmdisk1', tag='StorageItem')
                 .replace('rasd:', 'sasd:') +
                 item(10, InstanceID=5, ResourceSubType='E1000e',
                      Connection='LAN', tag='EthernetPortItem')
                 .replace('rasd:', 'epasd:'))
        export = self._read(descriptor(items=items, ns=OVF2))
        self.assertEqual(['sdb'], [d.target for d in export.disks])
        self.assertEqual([('LAN', 'e1000e')],
                         [(n.network, n.model) for n in export.nics])

    def test_buses_and_target_names_as_libvirt_names_them(self):
        files = ''.join('<File ovf:id="f%d" ovf:href="d%d.vmdk"/>' % (i, i)
                        for i in range(7))
        disks = ''.join('<Disk ovf:diskId="d%d" ovf:fileRef="f%d" '
                        'ovf:capacity="1073741824" ovf:format="%s"/>'
                        % (i, i, VMDK) for i in range(7))
        items = (CPU_MEM +
                 item(6, InstanceID=10, Address=0,
                      ResourceSubType='lsilogicsas') +
                 item(6, InstanceID=11, Address=1, ResourceSubType='buslogic')
                 + item(5, InstanceID=12, Address=1) +
                 item(20, InstanceID=13, Address=0,
                      ResourceSubType='vmware.sata.ahci') +
                 item(20, InstanceID=14, Address=0,
                      ResourceSubType='vmware.nvme.controller'))
        slots = [(10, 8), (11, 0), (12, 1), (13, 2), (14, 0), (14, 1),
                 (10, 0)]
        for i, (parent, unit) in enumerate(slots):
            items += item(17, InstanceID=20 + i, Parent=parent,
                          AddressOnParent=unit,
                          HostResource='ovf:/disk/d%d' % i)
        export = self._read(descriptor(items=items, files=files,
                                       disks=disks))
        root = self._root(export)
        self.assertEqual(
            [('sda', 'scsi', '0', '0', '0'), ('sdh', 'scsi', '0', '0', '8'),
             ('sdbm', 'scsi', '1', '0', '0'), ('sdc', 'sata', '0', '0', '2'),
             ('hdd', 'ide', '0', '1', '1'),
             ('nvme0n1', 'nvme', '0', '0', '0'),
             ('nvme0n2', 'nvme', '0', '0', '1')],
            [(d.find('./target').get('dev'), d.find('./target').get('bus'),
              d.find('./address').get('controller'),
              d.find('./address').get('bus'),
              d.find('./address').get('unit'))
             for d in root.findall('./devices/disk')])
        self.assertEqual(
            [('scsi', '0', 'lsisas1068'), ('scsi', '1', 'buslogic'),
             ('sata', '0', None), ('ide', '0', None), ('nvme', '0', None)],
            [(c.get('type'), c.get('index'), c.get('model'))
             for c in root.findall('./devices/controller')])
        # The export's disks are in the domain's order.
        self.assertEqual(['sda', 'sdh', 'sdbm', 'sdc', 'hdd', 'nvme0n1',
                          'nvme0n2'], [d.target for d in export.disks])
        result = translate.translate(export.domain_xml, translate.Target(
            accelerator='qemu', import_dir=self.dir))
        self.assertIsNone(schema.schema_errors(result.xml))

    def test_sata_and_scsi_drives_named_alike(self):
        # As libvirt's VMX driver names them: sda on each bus. The
        # translation tells them apart by bus and path.
        files = ('<File ovf:id="file1" ovf:href="a.vmdk"/>'
                 '<File ovf:id="file2" ovf:href="b.vmdk"/>')
        disks = ''.join('<Disk ovf:diskId="vmdisk%d" ovf:fileRef="file%d" '
                        'ovf:capacity="1" ovf:format="%s"/>' % (i, i, VMDK)
                        for i in (1, 2))
        items = (CPU_MEM + SCSI + DISK +
                 item(20, InstanceID=13, Address=0,
                      ResourceSubType='vmware.sata.ahci') +
                 item(17, InstanceID=14, Parent=13, AddressOnParent=0,
                      HostResource='ovf:/disk/vmdisk2'))
        export = self._read(descriptor(items=items, files=files,
                                       disks=disks))
        self.assertEqual(['sda', 'sda'], [d.target for d in export.disks])
        result = translate.translate(export.domain_xml, translate.Target(
            accelerator='qemu', import_dir=self.dir))
        self.assertIsNone(schema.schema_errors(result.xml))
        self.assertEqual(
            [('scsi', os.path.join(self.dir, 'a.vmdk'), 'vda'),
             ('sata', os.path.join(self.dir, 'b.vmdk'), 'vdb')],
            [(m.source_bus, m.source_path, m.target)
             for m in result.report.disks])

    def test_two_drives_in_one_slot_refused(self):
        items = CPU_MEM + SCSI + DISK + item(
            15, InstanceID=9, Parent=3, AddressOnParent=0)
        exc = self.assertRaises(base.ExportError, self._read,
                                descriptor(items=items))
        self.assertIn('two drives', str(exc))

    def test_scsi_unit_7_is_the_controller(self):
        items = CPU_MEM + SCSI + DISK.replace(
            '<rasd:AddressOnParent>0<', '<rasd:AddressOnParent>7<')
        self.assertRaises(base.ExportError, self._read,
                          descriptor(items=items))

    def test_nic_models_and_macs(self):
        items = CPU_MEM + SCSI + DISK
        for i, subtype in enumerate(('E1000', 'E1000e', 'VmxNet3',
                                     'VmxNet2', 'PCNet32', 'Vmxnet')):
            items += item(10, InstanceID=30 + i, ResourceSubType=subtype,
                          Connection='net%d' % i)
        items += item(10, InstanceID=40, ResourceSubType='VmxNet3',
                      Connection='net', Address='00-50-56-AA-BB-CC')
        export = self._read(descriptor(items=items))
        self.assertEqual(
            [(None, 'e1000'), (None, 'e1000e'), (None, 'vmxnet3'),
             (None, 'vmxnet2'), (None, 'vlance'), (None, 'vmxnet'),
             ('00:50:56:aa:bb:cc', 'vmxnet3')],
            [(n.mac, n.model) for n in export.nics])
        root = self._root(export)
        self.assertEqual(['net0', 'net1', 'net2', 'net3', 'net4', 'net5',
                          'net'], [s.get('bridge') for s in root.findall(
                              './devices/interface/source')])
        result = translate.translate(export.domain_xml, translate.Target(
            accelerator='qemu', import_dir=self.dir))
        self.assertIsNone(schema.schema_errors(result.xml))
        self.assertEqual(['00:50:56:aa:bb:cc'], result.report.macs)

    def test_unknown_nic_model_noted(self):
        items = CPU_MEM + item(10, InstanceID=5, ResourceSubType='Token',
                               Connection='x')
        export = self._read(descriptor(items=items, files='', disks=''))
        self.assertEqual(['e1000'], [n.model for n in export.nics])
        self.assertIn("item 5 of model 'Token': taken as e1000",
                      export.notes)

    def test_cpu_topology(self):
        items = (item(3, InstanceID=1, VirtualQuantity=8, cores=4) +
                 item(4, InstanceID=2, VirtualQuantity=2,
                      AllocationUnits='byte * 2^30'))
        root = self._root(self._read(descriptor(items=items, files='',
                                                disks='')))
        self.assertEqual('8', root.findtext('./vcpu'))
        self.assertEqual(
            {'sockets': '2', 'dies': '1', 'cores': '4', 'threads': '1'},
            dict(root.find('./cpu/topology').attrib))
        self.assertEqual('2097152', root.findtext('./memory'))
        # Cores that do not divide the vCPUs: no topology, a note.
        export = self._read(descriptor(items=items.replace(
            '<vmw:CoresPerSocket>4<', '<vmw:CoresPerSocket>3<'), files='',
            disks=''))
        self.assertIsNone(self._root(export).find('./cpu'))
        self.assertIn('8 vCPUs do not divide in sockets of 3 cores: no '
                      'topology', export.notes)

    def test_memory_units(self):
        for units, kib in (('byte * 2^20', 512 * 1024),
                           ('MegaBytes', 512 * 1024),
                           ('byte*2^10', 512), ('byte * 10^6', 500000)):
            items = item(4, InstanceID=2, VirtualQuantity=512,
                         AllocationUnits=units)
            root = self._root(self._read(descriptor(
                items=items, files='', disks='')))
            self.assertEqual(str(kib), root.findtext('./memory'), units)
        items = item(4, InstanceID=2, VirtualQuantity=512,
                     AllocationUnits='hertz * 10^6')
        self.assertRaises(base.UnsupportedExport, self._read,
                          descriptor(items=items, files='', disks=''))
        self.assertRaises(base.ExportError, self._read,
                          descriptor(items=item(3, VirtualQuantity=1),
                                     files='', disks=''))

    def test_firmware_and_secure_boot(self):
        def firmware(config):
            export = self._read(descriptor(config=''.join(
                '<vmw:Config vmw:key="%s" vmw:value="%s"/>' % kv
                for kv in config)))
            os_el = self._root(export).find('./os')
            result = translate.translate(export.domain_xml, translate.Target(
                accelerator='qemu', import_dir=self.dir))
            self.assertIsNone(schema.schema_errors(result.xml))
            return (os_el.get('firmware'), [
                (f.get('name'), f.get('enabled'))
                for f in os_el.findall('./firmware/feature')],
                result.report.firmware)

        self.assertEqual((None, [], 'bios'), firmware([]))
        self.assertEqual(('efi', [], 'uefi'),
                         firmware([('firmware', 'efi')]))
        secure = ('efi', [('enrolled-keys', 'yes'), ('secure-boot', 'yes')],
                  'uefi-secure-boot')
        self.assertEqual(secure, firmware([
            ('firmware', 'efi'),
            ('bootOptions.efiSecureBootEnabled', 'true')]))
        self.assertEqual(secure, firmware([
            ('firmware', 'efi'), ('uefi.secureBoot.enabled', 'TRUE')]))
        self.assertEqual(('efi', [], 'uefi'), firmware([
            ('firmware', 'efi'),
            ('bootOptions.efiSecureBootEnabled', 'false')]))
        # ExtraConfig says the same as Config.
        export = self._read(descriptor(
            config='<vmw:ExtraConfig vmw:key="firmware" vmw:value="efi"/>'))
        self.assertEqual('efi', self._root(export).find('./os').get(
            'firmware'))

    def test_operating_system_arch(self):
        def arch(os_section):
            return self._root(self._read(descriptor(
                os_section=os_section))).find('./os/type').get('arch')

        self.assertEqual('i686', arch(
            '<OperatingSystemSection ovf:id="36" vmw:osType='
            '"otherLinuxGuest"/>'))
        self.assertEqual('x86_64', arch(
            '<OperatingSystemSection ovf:id="1" vmw:osType='
            '"windows9Server64Guest"/>'))
        self.assertEqual('x86_64', arch(
            '<OperatingSystemSection ovf:id="101"/>'))
        self.assertEqual('x86_64', arch(
            '<OperatingSystemSection ovf:id="1"><Description>Other '
            '(64-bit)</Description></OperatingSystemSection>'))
        export = self._read(descriptor(os_section=' '))
        self.assertEqual('i686', self._root(export).find(
            './os/type').get('arch'))
        self.assertIn('the descriptor names no operating system: taken as '
                      '32-bit (i686)', export.notes)

    def test_a_guest_without_a_name_named_after_its_file(self):
        export = self._read(descriptor(name=None), name='web01.ovf')
        self.assertEqual('web01', self._root(export).findtext('./name'))
        self.assertIn('the descriptor names no guest: named web01 after its '
                      'file', export.notes)

    def test_what_is_not_carried_is_noted(self):
        items = (CPU_MEM + SCSI + DISK +
                 item(14, InstanceID=7, ElementName='Floppy 1') +
                 item(23, InstanceID=8, ElementName='USB controller',
                      ResourceSubType='vmware.usb.ehci') +
                 item(21, InstanceID=9, ElementName='serial0') +
                 item(5, InstanceID=10, Address=0) +
                 item(15, InstanceID=11, Parent=10, AddressOnParent=0,
                      ElementName='CD 1', HostResource='ovf:/file/iso1'))
        export = self._read(descriptor(items=items))
        for note in ('floppy drive Floppy 1 left out (no medium)',
                     'USB controller (USB controller, vmware.usb.ehci) is '
                     'not carried',
                     'serial0 (serial port) is not carried',
                     'CD 1 holds ovf:/file/iso1: the CD-ROM is left empty'):
            self.assertIn(note, export.notes)
        root = self._root(export)
        self.assertEqual([], root.findall("./devices/disk[@device='floppy']"))
        (cdrom,) = root.findall("./devices/disk[@device='cdrom']")
        self.assertIsNone(cdrom.find('./source'))

    def test_blank_disks_left_out(self):
        disks = ('<Disk ovf:diskId="vmdisk1" ovf:capacity="1" '
                 'ovf:capacityAllocationUnits="byte * 2^30"/>')
        export = self._read(descriptor(files='', disks=disks))
        self.assertEqual((), export.disks)
        self.assertIn('item 4 (scsi sda) is a blank disk of 1073741824 '
                      'bytes created at deployment: left out (create a '
                      'volume for it)', export.notes)

    def test_deployment_options(self):
        options = ('<DeploymentOptionSection><Info>o</Info>'
                   '<Configuration ovf:id="small"><Label>s</Label>'
                   '</Configuration><Configuration ovf:id="large" '
                   'ovf:default="true"><Label>l</Label></Configuration>'
                   '</DeploymentOptionSection>')
        items = (item(3, InstanceID=1, VirtualQuantity=1,
                      attrs=' ovf:configuration="small"') +
                 item(3, InstanceID=1, VirtualQuantity=4,
                      attrs=' ovf:configuration="large"') +
                 item(4, InstanceID=2, VirtualQuantity=512,
                      AllocationUnits='byte * 2^20'))
        export = self._read(descriptor(items=items, files='', disks='',
                                       envelope_extra=options))
        self.assertEqual('4', self._root(export).findtext('./vcpu'))
        self.assertIn('the deployment option large is read (of small, '
                      'large)', export.notes)

    def test_disk_formats(self):
        for href, url, fmt in (
                ('d.vmdk', 'http://www.vmware.com/interfaces/specifications/'
                 'vmdk.html#monolithicSparse', 'vmdk'),
                ('d.vmdk', 'streamOptimized', 'vmdk'),
                ('d.qcow2', '', 'qcow2'),
                ('d.img', '', 'raw'),
                ('d.qcow2', 'http://www.gnome.org/~markmc/'
                 'qcow-image-format.html', 'qcow2')):
            export = self._read(descriptor(
                files='<File ovf:id="file1" ovf:href="%s"/>' % href,
                disks='<Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" '
                      'ovf:capacity="1" ovf:format="%s"/>' % url))
            self.assertEqual(fmt, export.disks[0].format, (href, url))
            self.assertIsNone(export.disks[0].size)
        exc = self.assertRaises(
            base.UnsupportedExport, self._read, descriptor(
                files='<File ovf:id="file1" ovf:href="d.vhd"/>',
                disks='<Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" '
                      'ovf:capacity="1" ovf:format="http://technet.'
                      'microsoft.com/en-us/library/bb676673.aspx"/>'))
        self.assertIn('the disk file d.vhd is of a format', str(exc))

    def test_file_references_confined(self):
        for href, exc_type in (
                ('/etc/shadow', base.HostileExport),
                ('../guest.vmdk', base.HostileExport),
                ('sub/../../guest.vmdk', base.HostileExport),
                ('sub//guest.vmdk', base.HostileExport),
                ('./guest.vmdk', base.HostileExport),
                ('..\\guest.vmdk', base.HostileExport),
                ('guest&#10;.vmdk', base.HostileExport),
                ('', base.HostileExport),
                ('http://example.com/guest.vmdk', base.UnsupportedExport),
                ('file:///etc/shadow', base.UnsupportedExport),
                ('C:/vm/guest.vmdk', base.UnsupportedExport)):
            text = descriptor(files='<File ovf:id="file1" ovf:href="%s"/>'
                              % href)
            self.assertRaises(exc_type, self._read, text)
        export = self._read(descriptor(
            files='<File ovf:id="file1" ovf:href="disks/guest.vmdk"/>'))
        self.assertEqual(os.path.join(self.dir, 'disks', 'guest.vmdk'),
                         export.disks[0].path)

    def test_disk_files_linked_out_refused(self):
        text = descriptor()
        outside = self.useFixture(fixtures.TempDir()).path
        os.symlink(os.path.join(outside, 'disk.vmdk'),
                   os.path.join(self.dir, 'guest1-disk1.vmdk'))
        exc = self.assertRaises(base.HostileExport, self._read, text)
        self.assertIn('is a link out of the export', str(exc))
        # A link within the export is its own business.
        os.unlink(os.path.join(self.dir, 'guest1-disk1.vmdk'))
        os.symlink('real.vmdk', os.path.join(self.dir, 'guest1-disk1.vmdk'))
        self.assertEqual(1, len(self._read(text).disks))

    def test_controller_and_item_counts(self):
        items = CPU_MEM + item(6, InstanceID=3, Address=4,
                               ResourceSubType='lsilogic')
        exc = self.assertRaises(base.ExportError, self._read, descriptor(
            items=items, files='', disks=''))
        self.assertIn('is scsi controller 4: VMware has 4', str(exc))
        items = CPU_MEM + item(1, InstanceID=9) * 1100
        self.assertRaises(base.HostileExport, self._read, descriptor(
            items=items, files='', disks=''))

    def test_names_libvirt_takes(self):
        export = self._read(descriptor(name='  web/db \n  01 '))
        self.assertEqual('web-db 01', self._root(export).findtext('./name'))
        self.assertIn("the guest's name 'web/db 01' has a slash: named with "
                      "a dash", export.notes)

    def test_chunked_and_compressed_files_refused(self):
        for attr in ('ovf:chunkSize="2147483648"', 'ovf:compression="gzip"'):
            exc = self.assertRaises(base.UnsupportedExport, self._read,
                                    descriptor(files=(
                                        '<File ovf:id="file1" ovf:href='
                                        '"g.vmdk" %s/>' % attr)))
            self.assertIn('g.vmdk', str(exc))

    def test_dangling_references_refused(self):
        self.assertRaises(base.ExportError, self._read, descriptor(
            files=''))
        self.assertRaises(base.ExportError, self._read, descriptor(
            disks=''))
        self.assertRaises(base.UnsupportedExport, self._read, descriptor(
            disks=('<Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" '
                   'ovf:capacity="1" ovf:parentRef="vmdisk0" '
                   'ovf:format="%s"/>' % VMDK)))

    def test_collections_refused(self):
        text = descriptor(system='VirtualSystemCollection')
        exc = self.assertRaises(base.UnsupportedExport, self._read, text)
        self.assertIn('one guest is imported at a time', str(exc))

    def test_dtd_and_entities_refused(self):
        text = descriptor()
        for head in ('<!DOCTYPE Envelope [<!ENTITY x "y">]>\n',
                     '<!DOCTYPE Envelope SYSTEM "http://example.com/d">\n'):
            self.assertRaises(
                base.HostileExport, self._read, text.replace(
                    '<Envelope', head + '<Envelope', 1))
        self.assertRaises(base.HostileExport, ovf.parse_envelope,
                          b'<!ENTITY a "b">')

    def test_not_a_descriptor(self):
        self.assertRaises(base.ExportError, self._read, 'not xml <')
        exc = self.assertRaises(base.UnsupportedExport, self._read,
                                '<domain type="kvm"/>')
        self.assertIn('not an OVF 1.x or 2.x descriptor', str(exc))
        self.assertRaises(base.ExportError, self._read,
                          '<Envelope xmlns="%s"/>' % OVF1)

    def test_oversize_descriptor_refused(self):
        text = descriptor().replace(
            '<Info>vm</Info>',
            '<Info>%s</Info>' % ('x' * base.MAX_DESCRIPTOR_BYTES))
        self.assertRaises(base.HostileExport, self._read, text)

    def test_too_many_disks_refused(self):
        count = base.MAX_DISKS + 1
        files = ''.join('<File ovf:id="f%d" ovf:href="d%d.vmdk"/>' % (i, i)
                        for i in range(count))
        disks = ''.join('<Disk ovf:diskId="d%d" ovf:fileRef="f%d" '
                        'ovf:capacity="1" ovf:format="%s"/>' % (i, i, VMDK)
                        for i in range(count))
        items = CPU_MEM + ''.join(
            item(6, InstanceID=100 + c, Address=c,
                 ResourceSubType='VirtualSCSI') for c in range(4))
        for i in range(count):
            items += item(17, InstanceID=200 + i, Parent=100 + i // 17,
                          AddressOnParent=i % 17 + (i % 17 >= 7),
                          HostResource='ovf:/disk/d%d' % i)
        exc = self.assertRaises(base.HostileExport, self._read, descriptor(
            items=items, files=files, disks=disks))
        self.assertIn('disks, more than', str(exc))


class TestManifest(_Dir):
    """The manifest next to the descriptor: parsed strictly, checked."""

    def _export(self, entries=None, algorithm='SHA256', text=None):
        data = descriptor().encode()
        path = self._write('guest1.ovf', data)
        if text is None:
            text = manifest(entries or [
                ('guest1.ovf', data), ('guest1-disk1.vmdk', b'disk')],
                algorithm)
        self._write('guest1.mf', text)
        return ovf.read(path)

    def test_descriptor_checked_disks_carried(self):
        for algorithm in ('SHA1', 'SHA256', 'SHA512'):
            export = self._export(algorithm=algorithm)
            self.assertEqual(
                (algorithm.lower(),
                 hashlib.new(algorithm.lower(), b'disk').hexdigest()),
                export.disks[0].digest)
            self.assertFalse([n for n in export.notes if 'manifest' in n])

    def test_descriptor_mismatch(self):
        exc = self.assertRaises(
            base.ChecksumMismatch, self._export,
            [('guest1.ovf', b'another'), ('guest1-disk1.vmdk', b'disk')])
        self.assertIn('guest1.ovf does not match the manifest', str(exc))

    def test_missing_entries_refused(self):
        # A file left out of the manifest could be changed unseen.
        exc = self.assertRaises(base.ChecksumMismatch, self._export,
                                [('guest1-disk1.vmdk', b'disk')])
        self.assertIn('the manifest has no digest of the descriptor '
                      'guest1.ovf', str(exc))
        exc = self.assertRaises(base.ChecksumMismatch, self._export,
                                [('guest1.ovf', descriptor().encode())])
        self.assertIn('the manifest has no digest of the disk file '
                      'guest1-disk1.vmdk', str(exc))

    def test_parsed_strictly(self):
        digest = 'a' * 64
        for text in ('SHA256(guest1.ovf) %s\n' % digest,
                     'MD5(guest1.ovf)= %s\n' % ('a' * 32),
                     'SHA256(guest1.ovf)= %s\n' % ('a' * 40),
                     'SHA256(guest1.ovf)= %s\n' % ('z' * 64),
                     'SHA256(a)= %s\nSHA1(a)= %s\n' % (digest, 'a' * 40),
                     '# comment\n'):
            self.assertRaises(base.ExportError, self._export, text=text)
        self.assertEqual(
            {'a b.vmdk': ('sha256', digest)},
            ovf.parse_manifest(b'\nSHA256 (a b.vmdk) = %s\n\n'
                               % digest.upper().encode()))
        self.assertRaises(base.ExportError, ovf.parse_manifest,
                          b'\xff\xfe')

    def test_certificate_noted_not_verified(self):
        self._write('guest1.cert', '-----BEGIN CERTIFICATE-----\n')
        export = self._export()
        self.assertIn('the export is signed (guest1.cert): its signature '
                      'and certificate are not verified', export.notes)


class TestCheckFile(testtools.TestCase):

    def test_check_file(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'd')
        with open(path, 'wb') as f:
            f.write(b'x' * 3000)
        seen = []
        ovf.check_file(path, ('sha1', hashlib.sha1(b'x' * 3000).hexdigest()),
                       progress=lambda d, t: seen.append((d, t)), chunk=1024)
        self.assertEqual([(1024, 3000), (2048, 3000), (3000, 3000)], seen)
        exc = self.assertRaises(base.ChecksumMismatch, ovf.check_file, path,
                                ('sha1', '0' * 40))
        self.assertIn('d does not match the manifest', str(exc))
