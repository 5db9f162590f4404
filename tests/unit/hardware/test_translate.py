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

from lxml import etree
import testtools

from nova_v2v.hardware import translate
from nova_v2v.planning import planner

VMWARE_XML = """<domain type='qemu' id='7'>
  <name>guest</name>
  <uuid>6a1f3b7e-0000-4000-8000-000000000001</uuid>
  <memory unit='MiB'>256</memory>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='scsi' index='0' model='vmpvscsi'>
      <alias name='scsi0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03'
               function='0x0'/>
    </controller>
    <disk type='file' device='disk'>
      <driver name='qemu' type='vmdk' cache='none'/>
      <source file='/var/lib/nova/instances/u1/disk' index='1'/>
      <backingStore/>
      <target dev='sda' bus='scsi'/>
      <mirror type='network' job='copy' ready='yes'>
        <source protocol='nbd' name='x'><host name='10.0.0.2'/></source>
      </mirror>
      <alias name='scsi0-0-0-0'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/nova/instances/u1/disk.config'/>
      <target dev='hda' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='user'>
      <mac address='52:54:00:00:00:01'/>
      <model type='vmxnet3'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04'
               function='0x0'/>
    </interface>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'/>
</domain>
"""

VMWARE_CHANGES = (
    planner.HardwareChange('nic-model', 'interface', 'vmxnet3', 'virtio'),
    planner.HardwareChange('scsi-model', 'controller', 'pvscsi',
                           'virtio-scsi'),
    planner.HardwareChange('disk-bus', 'sda', 'scsi', 'virtio'),
)


def _root(xml):
    return etree.fromstring(xml.encode())


class TestTranslate(testtools.TestCase):

    def test_vmware_to_virtio(self):
        root = _root(translate.translate_domain_xml(VMWARE_XML,
                                                    VMWARE_CHANGES))
        self.assertEqual('virtio', root.find(
            './devices/interface/model').get('type'))
        # No disk is left on the SCSI controller: it goes.
        self.assertIsNone(root.find("./devices/controller[@type='scsi']"))
        disk = root.findall('./devices/disk')[0]
        self.assertEqual({'dev': 'vda', 'bus': 'virtio'},
                         dict(disk.find('./target').attrib))
        self.assertIsNone(disk.find('./address'))
        self.assertIsNone(root.find('./devices/interface/address'))
        # The cdrom is untouched.
        cdrom = root.findall('./devices/disk')[1]
        self.assertEqual('hda', cdrom.find('./target').get('dev'))
        # The MAC address stays: the guest's network config may use it.
        self.assertEqual('52:54:00:00:00:01', root.find(
            './devices/interface/mac').get('address'))

    def test_source_host_state_stripped(self):
        root = _root(translate.translate_domain_xml(VMWARE_XML, ()))
        self.assertNotIn('id', root.attrib)
        self.assertEqual([], root.findall('.//alias'))
        self.assertEqual([], root.findall('.//mirror'))
        self.assertEqual([], root.findall('.//seclabel'))
        self.assertEqual([], root.findall('.//backingStore'))
        self.assertNotIn('index', root.find(
            './devices/disk/source').attrib)
        self.assertEqual('6a1f3b7e-0000-4000-8000-000000000001',
                         root.findtext('./uuid'))

    def test_interface_device_names(self):
        # Nova's tap name stays (the destination's OVS port waits for a
        # device of that name, managed by libvirt or not); a name libvirt
        # generated on the source goes.
        xml = VMWARE_XML.replace(
            "<model type='vmxnet3'/>",
            "<model type='vmxnet3'/><target dev='vnet7'/>").replace(
            "</devices>",
            "<interface type='ethernet'><mac address='fa:16:3e:00:00:02'/>"
            "<target dev='tapd5ee6a8e-65' managed='no'/>"
            "<model type='e1000'/></interface></devices>")
        root = _root(translate.translate_domain_xml(xml, (
            planner.HardwareChange('nic-model', 'interface', 'vmxnet3',
                                   'virtio'),
            planner.HardwareChange('nic-model', 'interface', 'e1000',
                                   'virtio'))))
        targets = [(t.get('dev'), t.get('managed'))
                   for t in root.findall('./devices/interface/target')]
        self.assertEqual([('tapd5ee6a8e-65', 'no')], targets)
        self.assertEqual(['virtio', 'virtio'], [
            m.get('type')
            for m in root.findall('./devices/interface/model')])
        # An import (nova-v2v translate) lets the destination's libvirt
        # name every interface: another cloud's names may be taken there.
        result = translate.translate(xml, translate.target_from_changes(
            xml, ()))
        self.assertEqual([], _root(result.xml).findall(
            './devices/interface/target'))

    def test_uuid_and_name(self):
        root = _root(translate.translate_domain_xml(
            VMWARE_XML, (), new_name='clone',
            new_uuid='6a1f3b7e-0000-4000-8000-000000000002'))
        self.assertEqual('clone', root.findtext('./name'))
        self.assertEqual('6a1f3b7e-0000-4000-8000-000000000002',
                         root.findtext('./uuid'))
        root = _root(translate.translate_domain_xml(VMWARE_XML, (),
                                                    keep_uuid=False))
        self.assertIsNone(root.find('./uuid'))

    def test_qemu_to_kvm(self):
        change = planner.HardwareChange('domain-type', 'domain', 'qemu',
                                        'kvm')
        root = _root(translate.translate_domain_xml(VMWARE_XML, [change]))
        self.assertEqual('kvm', root.get('type'))

    def test_domain_type_mismatch(self):
        change = planner.HardwareChange('domain-type', 'domain', 'kvm',
                                        'qemu')
        self.assertRaises(translate.TranslationError,
                          translate.translate_domain_xml, VMWARE_XML,
                          [change])

    def test_machine_change(self):
        change = planner.HardwareChange('machine', 'domain',
                                        'pc-i440fx-7.2', 'pc-i440fx-8.0')
        root = _root(translate.translate_domain_xml(VMWARE_XML, [change]))
        self.assertEqual('pc-i440fx-8.0',
                         root.find('./os/type').get('machine'))

    def test_format_and_path_change(self):
        root = _root(translate.translate_domain_xml(
            VMWARE_XML, VMWARE_CHANGES,
            disk_paths={'sda': '/var/lib/nova/instances/u1/disk.qcow2'},
            disk_formats={'/var/lib/nova/instances/u1/disk': 'qcow2'}))
        disk = root.findall('./devices/disk')[0]
        self.assertEqual('qcow2', disk.find('./driver').get('type'))
        self.assertEqual('none', disk.find('./driver').get('cache'))
        self.assertEqual('/var/lib/nova/instances/u1/disk.qcow2',
                         disk.find('./source').get('file'))
        self.assertEqual('vda', disk.find('./target').get('dev'))

    def test_format_change_kind(self):
        change = {'kind': 'disk-format', 'device': 'sda', 'old': 'vmdk',
                  'new': 'raw'}
        root = _root(translate.translate_domain_xml(VMWARE_XML, [change]))
        self.assertEqual('raw', root.find('./devices/disk/driver').get(
            'type'))

    def test_ide_disks_renamed_in_order(self):
        xml = """<domain type='qemu'><name>g</name>
          <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
          <disk type='file' device='disk'><source file='/a'/>
            <target dev='hda' bus='ide'/></disk>
          <disk type='file' device='disk'><source file='/b'/>
            <target dev='hdb' bus='ide'/></disk>
          <disk type='file' device='disk'><source file='/c'/>
            <target dev='vda' bus='virtio'/></disk>
        </devices></domain>"""
        changes = [
            planner.HardwareChange('disk-bus', 'hda', 'ide', 'virtio'),
            planner.HardwareChange('disk-bus', 'hdb', 'ide', 'virtio')]
        root = _root(translate.translate_domain_xml(xml, changes))
        self.assertEqual(['vdb', 'vdc', 'vda'],
                         [t.get('dev') for t in root.findall(
                             './devices/disk/target')])

    def test_unknown_disk_in_change(self):
        change = planner.HardwareChange('disk-bus', 'sdz', 'scsi', 'virtio')
        self.assertRaises(translate.TranslationError,
                          translate.translate_domain_xml, VMWARE_XML,
                          [change])

    def test_unknown_kind(self):
        change = planner.HardwareChange('gpu', 'video', 'vmvga', 'virtio')
        exc = self.assertRaises(translate.UnknownChange,
                                translate.translate_domain_xml, VMWARE_XML,
                                [change])
        self.assertIn('gpu', str(exc))
        self.assertIsInstance(exc, translate.TranslationError)

    def test_not_a_domain(self):
        self.assertRaises(translate.TranslationError,
                          translate.translate_domain_xml, '<network/>', ())
        self.assertRaises(translate.TranslationError,
                          translate.translate_domain_xml, 'not xml', ())

    def test_disk_targets(self):
        self.assertEqual(
            [('sda', 'scsi', '/var/lib/nova/instances/u1/disk', 'vmdk')],
            translate.disk_targets(VMWARE_XML))
