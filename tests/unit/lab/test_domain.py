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

from nova_v2v_rig.lab import domain

UUID = '6a1f3b7e-0000-4000-8000-000000000001'


def _spec(**kwargs):
    args = dict(name='guest', uuid=UUID, kernel='/k/vmlinuz',
                initrd='/k/initrd.gz',
                disk_path='/var/lib/nova/instances/u/disk',
                serial_log='/var/log/libvirt/qemu/guest-serial.log')
    args.update(kwargs)
    return domain.DomainSpec(**args)


def _render(**kwargs):
    return etree.fromstring(domain.to_xml(_spec(**kwargs)).encode())


class TestDomainXML(testtools.TestCase):

    def test_virtio_profile(self):
        root = _render()
        self.assertEqual('qemu', root.get('type'))
        self.assertEqual('guest', root.findtext('name'))
        self.assertEqual(UUID, root.findtext('uuid'))
        self.assertEqual('256', root.findtext('memory'))
        self.assertEqual('MiB', root.find('memory').get('unit'))
        self.assertEqual('1', root.findtext('vcpu'))
        disk = root.find('./devices/disk')
        self.assertEqual('virtio', disk.find('target').get('bus'))
        self.assertEqual('vda', disk.find('target').get('dev'))
        self.assertEqual('qcow2', disk.find('driver').get('type'))
        self.assertEqual('none', disk.find('driver').get('cache'))
        self.assertEqual('/var/lib/nova/instances/u/disk',
                         disk.find('source').get('file'))
        self.assertIsNone(root.find("./devices/controller[@type='scsi']"))
        self.assertEqual('virtio', root.find(
            './devices/interface/model').get('type'))
        self.assertEqual('user', root.find('./devices/interface').get(
            'type'))

    def test_vmware_profile(self):
        root = _render(profile='vmware', disk_format='vmdk')
        ctrl = root.find("./devices/controller[@type='scsi']")
        self.assertEqual('vmpvscsi', ctrl.get('model'))
        self.assertEqual('0', ctrl.get('index'))
        disk = root.find('./devices/disk')
        self.assertEqual('scsi', disk.find('target').get('bus'))
        self.assertEqual('sda', disk.find('target').get('dev'))
        self.assertEqual('vmdk', disk.find('driver').get('type'))
        self.assertEqual('vmxnet3', root.find(
            './devices/interface/model').get('type'))

    def test_ide_profile(self):
        root = _render(profile='ide', disk_format='raw')
        self.assertIsNone(root.find("./devices/controller[@type='scsi']"))
        target = root.find('./devices/disk/target')
        self.assertEqual('ide', target.get('bus'))
        self.assertEqual('hda', target.get('dev'))
        self.assertEqual('e1000', root.find(
            './devices/interface/model').get('type'))

    def test_scsi_bus_without_vmware_is_virtio_scsi(self):
        root = _render(profile='virtio', disk_bus='scsi')
        ctrl = root.find("./devices/controller[@type='scsi']")
        self.assertEqual('virtio-scsi', ctrl.get('model'))

    def test_nic_override_and_no_nic(self):
        root = _render(profile='vmware', nic_model='e1000')
        self.assertEqual('e1000', root.find(
            './devices/interface/model').get('type'))
        self.assertIsNone(_render(nic=False).find('./devices/interface'))

    def test_kvm_type(self):
        root = _render(domain_type='kvm', memory_mib=512, vcpus=2)
        self.assertEqual('kvm', root.get('type'))
        self.assertEqual('512', root.findtext('memory'))
        self.assertEqual('2', root.findtext('vcpu'))

    def test_cpu_machine_and_boot(self):
        root = _render()
        os_type = root.find('./os/type')
        self.assertEqual('hvm', os_type.text)
        self.assertEqual(domain.DEFAULT_MACHINE, os_type.get('machine'))
        self.assertEqual('x86_64', os_type.get('arch'))
        self.assertEqual('/k/vmlinuz', root.findtext('./os/kernel'))
        self.assertEqual('/k/initrd.gz', root.findtext('./os/initrd'))
        cpu = root.find('cpu')
        self.assertEqual('custom', cpu.get('mode'))
        self.assertEqual(domain.DEFAULT_CPU_MODEL, cpu.findtext('model'))
        self.assertEqual('forbid', cpu.find('model').get('fallback'))
        self.assertEqual(domain.EMULATOR,
                         root.findtext('./devices/emulator'))
        self.assertEqual('none',
                         root.find('./devices/memballoon').get('model'))

    def test_serial_log(self):
        serial = _render().find('./devices/serial')
        self.assertEqual('file', serial.get('type'))
        self.assertEqual('/var/log/libvirt/qemu/guest-serial.log',
                         serial.find('source').get('path'))
        self.assertEqual('on', serial.find('source').get('append'))
        self.assertEqual('0', serial.find('target').get('port'))

    def test_cmdline(self):
        root = _render(cmdline_extra={'lab.interval': 0.1,
                                      'lab.dirty_mb': 8})
        cmdline = root.findtext('./os/cmdline')
        self.assertTrue(cmdline.startswith('console=ttyS0 '), cmdline)
        # Extra arguments are sorted, so the XML is stable.
        self.assertTrue(cmdline.endswith(' lab.dirty_mb=8 lab.interval=0.1'),
                        cmdline)
        self.assertEqual(cmdline, domain.kernel_cmdline(
            {'lab.interval': 0.1, 'lab.dirty_mb': 8}))

    def test_invalid_values(self):
        for kwargs in ({'domain_type': 'xen'}, {'disk_format': 'vhdx'},
                       {'profile': 'hyperv'}, {'disk_bus': 'sata'},
                       {'nic_model': 'rtl8139'}):
            self.assertRaises(ValueError, _spec, **kwargs)


class TestHardwareLabel(testtools.TestCase):

    def test_profiles(self):
        def label(**kwargs):
            return domain.hardware_label(domain.to_xml(_spec(**kwargs)))
        self.assertEqual('virtio qcow2', label())
        self.assertEqual('pvscsi+vmxnet3 vmdk',
                         label(profile='vmware', disk_format='vmdk'))
        self.assertEqual('ide+e1000 raw',
                         label(profile='ide', disk_format='raw'))
        self.assertEqual('virtio-scsi+virtio qcow2', label(disk_bus='scsi'))
        self.assertEqual('virtio qcow2', label(nic=False))

    def test_libvirt_xml(self):
        # As libvirt returns it: a cdrom, no driver type, no NIC model.
        xml = """<domain type='kvm'><devices>
          <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/>
          </disk>
          <disk type='file' device='disk'><driver name='qemu'/>
            <target dev='vda' bus='virtio'/></disk>
          <interface type='user'/>
        </devices></domain>"""
        self.assertEqual('virtio+default raw', domain.hardware_label(xml))
