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

"""The import plan of a VMware export: pure, over the real translator."""

import dataclasses
import json

import testtools

from nova_v2v.exports import base
from nova_v2v.exports import plan
from nova_v2v.hardware import translate
from tests.unit.exports import fakes

GIB = fakes.GIB
FLAVORS = [
    plan.Flavor('1', 'm1.small', 1, 2048, 20),
    plan.Flavor('2', 'm1.medium', 2, 4096, 40),
    plan.Flavor('3', 'm1.large', 4, 8192, 80),
    plan.Flavor('4', 'm1.medium-wide', 4, 4096, 40),
    plan.Flavor('5', 'private.exact', 2, 2048, 20, is_public=False),
    plan.Flavor('6', 'zero-disk', 8, 16384, 0),
]
NETWORKS = [plan.Network('net-1', 'private'), plan.Network('net-2', 'dmz'),
            plan.Network('net-3', 'twin'), plan.Network('net-4', 'twin')]
VM_NET = {'VM Network': 'private'}


def _plan(export, target=None, flavors=FLAVORS, cloud_networks=NETWORKS,
          capacities=None, maps=VM_NET, **options):
    tr = translate.translate(export.domain_xml, target or translate.Target(
        import_dir=export.root_dir))
    return plan.make_plan(export, tr, plan.Options(networks=maps,
                                                   **options),
                          flavors=flavors, networks=cloud_networks,
                          capacities=capacities)


class PropertiesTest(testtools.TestCase):
    """The image properties make Nova build the translated hardware."""

    def test_uefi_guest_on_virtio(self):
        p = _plan(fakes.export(disks=1, firmware='efi'))
        self.assertEqual({
            'hw_disk_bus': 'virtio', 'hw_vif_model': 'virtio',
            'hw_machine_type': 'q35', 'hw_firmware_type': 'uefi',
            'hw_video_model': 'vga',
            'nova_v2v_import_source': '/srv/export/web01.ova',
            'nova_v2v_import_kind': 'ova'}, dict(p.image.properties))
        self.assertEqual(('qcow2', 'bare'), (p.image.disk_format,
                                             p.image.container_format))
        self.assertEqual('web01-disk', p.image.name)

    def test_bios_guest(self):
        props = _plan(fakes.export(disks=1)).image.properties
        self.assertEqual('bios', props['hw_firmware_type'])
        self.assertEqual('pc', props['hw_machine_type'])
        self.assertNotIn('os_secure_boot', props)

    def test_scsi_bus_gets_virtio_scsi(self):
        export = fakes.export(disks=1)
        props = _plan(export, translate.Target(
            import_dir=export.root_dir, disk_bus='scsi')).image.properties
        self.assertEqual('scsi', props['hw_disk_bus'])
        self.assertEqual('virtio-scsi', props['hw_scsi_model'])

    def test_virtio_bus_has_no_scsi_model(self):
        props = _plan(fakes.export(disks=1)).image.properties
        self.assertNotIn('hw_scsi_model', props)

    def test_secure_boot_kept_is_required(self):
        props = _plan(fakes.export(disks=1, firmware='efi',
                                   secure=True)).image.properties
        self.assertEqual('required', props['os_secure_boot'])
        self.assertEqual('uefi', props['hw_firmware_type'])

    def test_uefi_without_secure_boot(self):
        props = _plan(fakes.export(disks=1, firmware='efi')).image.properties
        self.assertNotIn('os_secure_boot', props)

    def test_os_from_libosinfo_metadata(self):
        props = _plan(fakes.export(
            disks=1, osinfo='http://microsoft.com/win/2k19')).image.properties
        self.assertEqual(('windows', 'windows'),
                         (props['os_type'], props['os_distro']))
        props = _plan(fakes.export(
            disks=1, osinfo='http://ubuntu.com/ubuntu/22.04')
        ).image.properties
        self.assertEqual(('linux', 'ubuntu'),
                         (props['os_type'], props['os_distro']))

    def test_os_only_when_the_export_says(self):
        props = _plan(fakes.export(disks=1)).image.properties
        self.assertNotIn('os_type', props)
        self.assertNotIn('os_distro', props)
        p = _plan(fakes.export(disks=1, osinfo='http://example.org/os/1'))
        self.assertNotIn('os_distro', p.image.properties)
        self.assertIn('the guest\'s OS http://example.org/os/1 has no '
                      'Glance os_distro: os_type and os_distro not set',
                      p.notes)

    def test_raw_disk_format(self):
        p = _plan(fakes.export(disks=1), disk_format='raw')
        self.assertEqual('raw', p.image.disk_format)

    def test_unknown_disk_format_refused(self):
        self.assertRaises(plan.PlanError, _plan, fakes.export(disks=1),
                          disk_format='vmdk')

    def test_different_nic_models_noted(self):
        export = fakes.export(disks=1, nics=(
            ('VM Network', 'vmxnet3', '00:50:56:00:00:01'),
            ('VM Network', 'e1000', '00:50:56:00:00:02')))
        p = _plan(export, translate.Target(
            import_dir=export.root_dir, overrides={'vmxnet3': 'e1000e'}))
        self.assertEqual('e1000e', p.image.properties['hw_vif_model'])
        self.assertTrue(any(n.startswith('NIC models e1000e, ')
                            for n in p.notes), p.notes)


class NotesAndNameTest(testtools.TestCase):

    def test_reader_and_translation_notes(self):
        p = _plan(fakes.export(disks=1))
        self.assertEqual('reader: the manifest names SHA256 digests',
                         p.notes[0])
        self.assertIn('translation: changed    video: vmvga -> vga',
                      p.notes)
        self.assertIn('translation: changed    interface 00:50:56:91:48:c7:'
                      ' vmxnet3 -> virtio', p.notes)

    def test_name(self):
        self.assertEqual('web01', _plan(fakes.export(disks=1)).name)
        p = _plan(fakes.export(disks=1), name='web01-kvm')
        self.assertEqual(('web01-kvm', 'web01-kvm-disk'),
                         (p.name, p.image.name))

    def test_text_and_dict(self):
        p = _plan(fakes.export(disks=1))
        text = p.to_text()
        self.assertIn('flavor: m1.medium (2): 2 vCPUs, 4096 MiB RAM, 40 GiB '
                      'disk', text)
        self.assertIn('  hw_disk_bus=virtio', text)
        data = json.loads(json.dumps(p.to_dict()))
        self.assertEqual('m1.medium', data['flavor']['name'])
        self.assertEqual(['00:50:56:91:48:c7'],
                         [port['mac'] for port in data['ports']])


class FlavorTest(testtools.TestCase):

    def test_smallest_public_that_fits(self):
        # 2 vCPUs, 2 GiB RAM, 20 GiB disk: private.exact is not public,
        # m1.medium-wide ties on disk and RAM, loses on vCPUs.
        p = _plan(fakes.export(disks=1))
        self.assertEqual('m1.medium', p.flavor.name)
        self.assertEqual(plan.Needs(2, 2048, 20), p.needs)
        self.assertEqual(20, p.image.min_disk)

    def test_order_is_disk_ram_vcpus_name(self):
        needs = plan.Needs(1, 512, 1)
        flavors = [plan.Flavor('a', 'b', 1, 1024, 10),
                   plan.Flavor('b', 'a', 1, 1024, 10),
                   plan.Flavor('c', 'c', 8, 512, 10),
                   plan.Flavor('d', 'd', 1, 512, 20)]
        self.assertEqual('c', plan.choose_flavor(flavors, needs).name)
        self.assertEqual('a', plan.choose_flavor(flavors[:2], needs).name)

    def test_zero_disk_flavor_never_chosen(self):
        self.assertRaises(plan.NoFlavor, plan.choose_flavor,
                          [plan.Flavor('6', 'zero-disk', 8, 16384, 0)],
                          plan.Needs(1, 512, 1))

    def test_disk_rounded_up(self):
        p = _plan(fakes.export(disks=1, capacities=[20 * GIB + 1]))
        self.assertEqual(21, p.needs.disk_gib)
        self.assertEqual('m1.medium', p.flavor.name)
        self.assertEqual(20, _plan(fakes.export(
            disks=1, capacities=[20 * GIB])).needs.disk_gib)

    def test_capacity_from_qemu_img_when_the_export_has_none(self):
        export = fakes.export(disks=1, capacities=[None])
        p = _plan(export, capacities={'sda': 50 * GIB})
        self.assertEqual((50 * GIB, 50), (p.capacity, p.needs.disk_gib))
        self.assertEqual('m1.large', p.flavor.name)

    def test_capacity_unknown_is_noted(self):
        p = _plan(fakes.export(disks=1, capacities=[None]))
        self.assertIsNone(p.needs.disk_gib)
        self.assertIn('the boot disk\'s capacity is not known before it is '
                      'read: the flavor\'s disk is checked then', p.notes)

    def test_named_flavor_by_name_or_id(self):
        self.assertEqual('m1.large', _plan(fakes.export(disks=1),
                                           flavor='m1.large').flavor.name)
        self.assertEqual('m1.large', _plan(fakes.export(disks=1),
                                           flavor='3').flavor.name)
        # A private flavor may be named.
        self.assertEqual('private.exact', _plan(
            fakes.export(disks=1), flavor='private.exact').flavor.name)

    def test_named_flavor_too_small(self):
        exc = self.assertRaises(plan.FlavorTooSmall, _plan,
                                fakes.export(disks=1), flavor='m1.small')
        self.assertEqual(
            'flavor m1.small (1 vCPUs, 2048 MiB RAM, 20 GiB disk) is too '
            'small for the guest, which needs 2 vCPUs, 2048 MiB RAM, 20 GiB '
            'root disk', str(exc))

    def test_named_flavor_unknown(self):
        exc = self.assertRaises(plan.NoFlavor, _plan, fakes.export(disks=1),
                                flavor='m9.huge')
        self.assertIn('no such flavor', str(exc))

    def test_none_fits(self):
        exc = self.assertRaises(plan.NoFlavor, _plan, fakes.export(
            disks=1, memory_kib=64 * 1024 * 1024))
        self.assertEqual('no public flavor fits the guest, which needs 2 '
                         'vCPUs, 65536 MiB RAM, 20 GiB root disk: create '
                         'one or name one with --flavor', str(exc))

    def test_without_the_cloud_no_flavor(self):
        p = _plan(fakes.export(disks=1), flavors=None, cloud_networks=None)
        self.assertIsNone(p.flavor)
        self.assertIsNone(p.ports[0].network_id)


class NetworkTest(testtools.TestCase):

    def test_port_per_nic_keeps_mac(self):
        p = _plan(fakes.export(disks=1, nics=(
            ('VM Network', 'vmxnet3', '00:50:56:00:00:01'),
            ('DMZ', 'e1000', '00:50:56:00:00:02'))),
            maps={'VM Network': 'private', 'DMZ': 'net-2'})
        self.assertEqual(
            [('00:50:56:00:00:01', 'VM Network', 'private', 'net-1'),
             ('00:50:56:00:00:02', 'DMZ', 'net-2', 'net-2')],
            [(x.mac, x.source_network, x.network, x.network_id)
             for x in p.ports])

    def test_default_map(self):
        p = _plan(fakes.export(disks=1), maps={'*': 'dmz'})
        self.assertEqual('net-2', p.ports[0].network_id)

    def test_unmapped_refused_naming_them(self):
        exc = self.assertRaises(
            plan.UnmappedNetworks, _plan, fakes.export(disks=1, nics=(
                ('VM Network', 'vmxnet3', '00:50:56:00:00:01'),
                ('DMZ', 'e1000', '00:50:56:00:00:02'),
                ('Backup', 'e1000', '00:50:56:00:00:03'))))
        self.assertEqual('no --network maps the source networks \'Backup\','
                         ' \'DMZ\': add --network "SOURCE=NET" for each (or '
                         '"*=NET")', str(exc))

    def test_unknown_and_ambiguous_network(self):
        exc = self.assertRaises(plan.UnknownNetwork, _plan,
                                fakes.export(disks=1),
                                maps={'*': 'nowhere'})
        self.assertIn('no such network', str(exc))
        exc = self.assertRaises(plan.UnknownNetwork, _plan,
                                fakes.export(disks=1),
                                maps={'*': 'twin'})
        self.assertIn('several networks of this name', str(exc))

    def test_nic_without_mac(self):
        p = _plan(fakes.export(disks=1, nics=(('VM Network', 'e1000',
                                               None),)))
        self.assertIsNone(p.ports[0].mac)
        self.assertIn('the NIC on \'VM Network\' has no MAC in the export: '
                      'its port gets a new one', p.notes)

    def test_parse_network_maps(self):
        self.assertEqual({'VM Network': 'private', '*': 'dmz'},
                         plan.parse_network_maps(['VM Network=private',
                                                  '*=dmz']))
        self.assertEqual({'VM Network': 'net'},
                         plan.parse_network_maps([' VM Network = net ']))
        for bad in (['nomap'], ['=x'], ['x='], ['a=1', 'a=2']):
            self.assertRaises(ValueError, plan.parse_network_maps, bad)


class DisksTest(testtools.TestCase):

    def test_more_disks_refused(self):
        exc = self.assertRaises(plan.MoreDisks, _plan, fakes.export())
        self.assertEqual(
            'the guest has disks besides its boot disk sda: sdb; they would '
            'need Cinder volumes, which nova-v2v import does not create: '
            'use --boot-disk-only to import the boot disk alone', str(exc))

    def test_boot_disk_only(self):
        p = _plan(fakes.export(), boot_disk_only=True)
        self.assertEqual('sda', p.boot_disk.target)
        self.assertEqual(['sdb'], [d.target for d in p.left_out])
        self.assertIn('left out: disk sdb (disk2.vmdk), not imported '
                      '(--boot-disk-only)', p.notes)

    def test_boot_order_names_the_boot_disk(self):
        p = _plan(fakes.export(boot_second=True, capacities=[20 * GIB,
                                                             30 * GIB]),
                  boot_disk_only=True)
        self.assertEqual('sdb', p.boot_disk.target)
        self.assertEqual(30, p.needs.disk_gib)

    def test_cdrom_is_not_a_disk_to_refuse(self):
        p = _plan(fakes.export(disks=1, cdrom=True, kind='vmx'))
        self.assertEqual((), p.left_out)
        self.assertIn('left out: hda (/srv/export/ds/tools.iso), removable '
                      'media are not imported', p.notes)

    def test_no_disk(self):
        self.assertRaises(plan.NoBootDisk, _plan, fakes.export(disks=0))


class SharedTargetNameTest(testtools.TestCase):
    """A SATA and a SCSI disk both named sda.

    libvirt's VMX driver names them so: the boot disk is found by its file,
    not by its name.
    """

    XML = """<domain type='vmware'>
  <name>twins</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='%(root)s/scsi.vmdk'/>
      <target dev='sda' bus='scsi'/>
      <boot order='1'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='%(root)s/sata.vmdk'/>
      <target dev='sda' bus='sata'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <controller type='scsi' index='0' model='lsilogic'/>
    <controller type='sata' index='0'/>
  </devices>
</domain>
"""

    def test_boot_disk_by_file(self):
        root = '/srv/twins'
        disks = (base.ExportDisk('sda', root + '/scsi.vmdk', capacity=GIB),
                 base.ExportDisk('sda', root + '/sata.vmdk',
                                 capacity=2 * GIB))
        export = base.Export('vmx', root + '/twins.vmx', root,
                             self.XML % {'root': root}, disks=disks)
        planned = _plan(export, maps={}, boot_disk_only=True)
        self.assertEqual(root + '/scsi.vmdk', planned.boot_disk.path)
        self.assertEqual(GIB, planned.capacity)
        self.assertEqual((disks[1],), planned.left_out)


class ExtraPropertiesTest(testtools.TestCase):

    def test_given_properties_over_the_translated(self):
        export = fakes.export(disks=1)
        planned = _plan(export, properties={'kernel_id': 'k1',
                                            'hw_vif_model': 'e1000'})
        props = planned.image.properties
        self.assertEqual(('k1', 'e1000', 'virtio'), (
            props['kernel_id'], props['hw_vif_model'], props['hw_disk_bus']))
        self.assertIn('image property hw_vif_model=e1000 (--property), not '
                      'virtio as translated', planned.notes)


class TopologyTest(testtools.TestCase):

    def test_sockets_and_cores_kept(self):
        export = fakes.export(disks=1, vcpus=8)
        xml = export.domain_xml.replace(
            '</vcpu>', '</vcpu><cpu><topology sockets="1" dies="1" '
            'cores="8" threads="1"/></cpu>')
        planned = _plan(dataclasses.replace(export, domain_xml=xml),
                        flavors=FLAVORS + [plan.Flavor('9', 'x8', 8, 4096,
                                                       40)])
        props = planned.image.properties
        self.assertEqual(('1', '8', '1'), (props['hw_cpu_sockets'],
                                           props['hw_cpu_cores'],
                                           props['hw_cpu_threads']))

    def test_none_without_a_topology(self):
        planned = _plan(fakes.export(disks=1))
        self.assertFalse([k for k in planned.image.properties
                          if k.startswith('hw_cpu_')])


class ProbedCapacityTest(testtools.TestCase):

    def test_the_larger_of_export_and_disk_counts(self):
        export = fakes.export(disks=1, capacities=[10 * GIB])
        planned = _plan(export, capacities={'sda': 30 * GIB})
        self.assertEqual(30 * GIB, planned.capacity)
        self.assertEqual('m1.medium', planned.flavor.name)
        self.assertIn('the boot disk is %d bytes as qemu-img reads it, not '
                      '%d as the export says: the larger counts'
                      % (30 * GIB, 10 * GIB), planned.notes)
        # The same size: nothing to say.
        planned = _plan(export, capacities={'sda': 10 * GIB})
        self.assertFalse([n for n in planned.notes if 'qemu-img' in n])


class WorkSpaceTest(testtools.TestCase):
    """The room the import needs in its work directory."""

    @staticmethod
    def _margin(total):
        return total + total // 100 + 64 * 1024 ** 2

    def test_ova_extracted_disks_and_the_converted_one(self):
        # Every disk of an OVA is extracted, the one left out too; the
        # boot disk is converted to at most its capacity.
        export = fakes.export(disks=2)
        export = dataclasses.replace(export, disks=tuple(
            dataclasses.replace(d, size=size)
            for d, size in zip(export.disks, (3 * GIB, GIB))))
        p = _plan(export, boot_disk_only=True)
        self.assertEqual(self._margin(4 * GIB + 20 * GIB), p.work_bytes)
        self.assertEqual(p.work_bytes, p.to_dict()['work_bytes'])
        self.assertIn('work directory: %d bytes (24.3 GiB) free needed for '
                      'the extracted and converted disks' % p.work_bytes,
                      p.to_text())

    def test_vmx_the_converted_disk_only(self):
        p = _plan(fakes.export(kind='vmx', disks=1))
        self.assertEqual(self._margin(20 * GIB), p.work_bytes)

    def test_an_unknown_size_is_noted(self):
        # A member of no size: its capacity counts; the boot disk of no
        # capacity is counted once read.
        export = fakes.export(disks=1, capacities=[None])
        p = _plan(export)
        self.assertEqual(self._margin(0), p.work_bytes)
        self.assertIn('the size of disk1.vmdk is not known: not counted in '
                      'the work directory\'s room', p.notes)
        self.assertEqual(self._margin(5),
                         plan.work_bytes([export.disks[0]], 5))

    def test_check(self):
        plan.check_work_space('/srv/w', 100, 100)
        exc = self.assertRaises(plan.NoWorkSpace, plan.check_work_space,
                                '/srv/w', 2 * GIB, GIB)
        self.assertIsInstance(exc, plan.PlanError)
        self.assertEqual(
            'the import needs %d bytes (2.0 GiB) in its work directory '
            '/srv/w for the extracted and converted disks, and its '
            'filesystem has %d (1.0 GiB) free: free some, or give '
            '--work-dir on a filesystem with room' % (2 * GIB, GIB),
            str(exc))
