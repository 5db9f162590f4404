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

import testtools

from nova_v2v.hardware import inspect

NOVA_XML = """<domain type='kvm'>
  <name>instance-00000001</name>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <cpu mode='host-model'/>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/var/lib/nova/instances/u1/disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/nova/instances/u1/disk.config'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='rbd' name='volumes/volume-1'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <interface type='bridge'><model type='virtio'/></interface>
  </devices>
</domain>"""

VMWARE_XML = """<domain type='qemu'>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
  <cpu mode='custom'><model>qemu64</model></cpu>
  <devices>
    <controller type='scsi' index='0' model='vmpvscsi'/>
    <controller type='usb' index='0'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='vmdk'/>
      <source file='/var/lib/nova/instances/u2/disk'/>
      <target dev='sda' bus='scsi'/>
      <shareable/>
    </disk>
    <interface type='user'><model type='vmxnet3'/></interface>
  </devices>
</domain>"""


class TestParseDomainXML(testtools.TestCase):

    def test_nova_guest(self):
        g = inspect.parse_domain_xml(NOVA_XML)
        self.assertEqual(('kvm', 'kvm', 'x86_64', 'pc-q35-7.2',
                          'host-model'),
                         (g.domain_type, g.accelerator, g.arch, g.machine,
                          g.cpu_mode))
        self.assertEqual(3, len(g.disks))
        root, config, volume = g.disks
        self.assertEqual(('vda', 'virtio', 'qcow2', 'file', False),
                         (root.target, root.bus, root.format,
                          root.source_type, root.readonly))
        self.assertEqual('/var/lib/nova/instances/u1/disk', root.path)
        self.assertEqual(('cdrom', True), (config.device, config.readonly))
        self.assertEqual(('network', 'volumes/volume-1'),
                         (volume.source_type, volume.path))
        self.assertEqual(('virtio',), g.nic_models)
        self.assertEqual((), g.scsi_models)

    def test_vmware_shaped_guest(self):
        g = inspect.parse_domain_xml(VMWARE_XML.encode())
        self.assertEqual('tcg', g.accelerator)
        self.assertEqual(('pvscsi',), g.scsi_models)
        self.assertEqual(('vmxnet3',), g.nic_models)
        self.assertEqual(('scsi', 'vmdk', True),
                         (g.disks[0].bus, g.disks[0].format,
                          g.disks[0].shareable))
        self.assertEqual('qemu64', g.cpu_model)

    def test_not_xml(self):
        self.assertRaises(inspect.InvalidDomainXML,
                          inspect.parse_domain_xml, '<domain')

    def test_xxe_refused(self):
        xml = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM '
               '"file:///etc/passwd">]><domain type="kvm"><name>&x;</name>'
               '</domain>')
        e = self.assertRaises(inspect.InvalidDomainXML,
                              inspect.parse_domain_xml, xml)
        self.assertIn('DTD', str(e))

    def test_entity_expansion_refused(self):
        xml = ('<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;'
               '&a;&a;&a;">]><domain type="kvm"><name>&b;</name></domain>')
        self.assertRaises(inspect.InvalidDomainXML,
                          inspect.parse_domain_xml, xml)

    def test_processing_instructions_dropped(self):
        g = inspect.parse_domain_xml(
            '<?pi x?><domain type="qemu"><?evil?></domain>')
        self.assertEqual('qemu', g.domain_type)

    def test_not_a_domain(self):
        e = self.assertRaises(inspect.InvalidDomainXML,
                              inspect.parse_domain_xml, '<network/>')
        self.assertIn('<network>', str(e))


class TestImageProperties(testtools.TestCase):

    def test_defaults(self):
        g = inspect.guest_from_image_properties({}, 'kvm')
        self.assertEqual(('kvm', 'x86_64', ''), (g.domain_type, g.arch,
                                                 g.machine))
        self.assertEqual('virtio', g.disks[0].bus)
        self.assertEqual((), g.nic_models)

    def test_vmware_image(self):
        g = inspect.guest_from_image_properties(
            {'hw_disk_bus': 'scsi', 'hw_scsi_model': 'vmpvscsi',
             'hw_vif_model': 'vmxnet3', 'hw_machine_type': 'pc-i440fx-7.2'},
            'tcg')
        self.assertEqual('qemu', g.domain_type)
        self.assertEqual(('pvscsi',), g.scsi_models)
        self.assertEqual(('vmxnet3',), g.nic_models)
        self.assertEqual('scsi', g.disks[0].bus)
        self.assertEqual('pc-i440fx-7.2', g.machine)

    def test_none_properties(self):
        g = inspect.guest_from_image_properties(None, 'tcg')
        self.assertEqual('qemu', g.domain_type)
