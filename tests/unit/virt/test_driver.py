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

"""Unit tests of the V2V driver glue, on Nova's fake libvirt."""

import os
from unittest import mock

import fixtures
from nova.compute import provider_tree
import nova.conf
from nova import context as nova_context
from nova import exception
from nova import objects
from nova import test
from nova.virt import fake
from nova.virt.libvirt import driver as libvirt_driver
from oslo_serialization import jsonutils
from oslo_utils.fixture import uuidsentinel as uuids

from nova_v2v.conf import v2v as v2v_conf
from nova_v2v import exception as v2v_exception
from nova_v2v.hardware import guest as hw_guest
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v.transfer import nbd
from nova_v2v.virt.libvirt import cold
from nova_v2v.virt.libvirt import common as v2v_common
from nova_v2v.virt.libvirt import cutover_source
from nova_v2v.virt.libvirt import cutover_transfer
from nova_v2v.virt.libvirt import driver
from nova_v2v.virt.libvirt import live_tuning
from nova_v2v.virt.libvirt import prechecks
from nova_v2v.virt.libvirt import record as v2v_record
from tests import v2v_fixtures

CONF = nova.conf.CONF
GUEST_XML = """<domain type='%(type)s'>
  <os><type arch='x86_64' machine='pc-i440fx-2.11'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='%(path)s/%(uuid)s/disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'><model type='%(nic)s'/></interface>
    %(extra)s
  </devices>
</domain>"""


class _DriverTestBase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.instances_path = self.useFixture(
            v2v_fixtures.FakeLibvirtHost()).instances_path
        self.flags(storage_id='store-src', group='v2v')
        self.flags(host='src')
        self.context = nova_context.get_admin_context()
        self.drvr = driver.V2VLibvirtDriver(fake.FakeVirtAPI(), False)
        self.instance = objects.Instance(
            uuid=uuids.instance, host='src', node='src',
            image_ref=uuids.image,
            system_metadata={'image_hw_disk_bus': 'virtio'})
        # The instance as the database holds it (MigrationRecord reads and
        # writes through it).
        self.db_instance = objects.Instance(
            uuid=uuids.instance,
            system_metadata={'image_hw_disk_bus': 'virtio'})
        self.db_save = self.useFixture(fixtures.MockPatchObject(
            self.db_instance, 'save')).mock
        self.get_by_uuid = self.useFixture(fixtures.MockPatchObject(
            objects.Instance, 'get_by_uuid',
            side_effect=lambda *a, **k: self.db_instance)).mock

    def _dest_stats(self, **kw):
        values = dict(hostname='dest', accelerator=profile.KVM,
                      arch='x86_64', qemu_version=self.drvr._host
                      .get_version(),
                      machine_types=('pc-i440fx-2.11',),
                      storage_id='store-dest',
                      instances_path=self.instances_path)
        values.update(kw)
        return profile.HostProfile(**values).to_stats()


class V2VDriverTestCase(_DriverTestBase):

    def test_is_a_libvirt_driver(self):
        self.assertIsInstance(self.drvr, libvirt_driver.LibvirtDriver)
        self.assertIsInstance(self.drvr, driver.V2VDriverMixin)

    def test_host_profile_kvm(self):
        p = self.drvr.v2v_host_profile()
        self.assertEqual(('src', 'kvm', 'x86_64', 'store-src'),
                         (p.hostname, p.accelerator, p.arch, p.storage_id))
        self.assertEqual(self.drvr._host.get_version(), p.qemu_version)
        self.assertGreater(p.libvirt_version, 0)
        self.assertIn('pc-i440fx-2.11', p.machine_types)
        self.assertEqual(('raw', 'qcow2'), p.disk_formats)
        self.assertEqual(self.instances_path, p.instances_path)

    def test_host_profile_tcg_follows_virt_type_at_init(self):
        self.flags(virt_type='qemu', group='libvirt')
        self.drvr.v2v_inventory.virt_type = 'qemu'
        # A later change of the option does not change what this service
        # runs.
        self.flags(virt_type='kvm', group='libvirt')
        self.assertEqual('tcg', self.drvr.v2v_host_profile().accelerator)

    def test_host_profile_storage_identity_derived(self):
        self.flags(storage_id=None, group='v2v')
        self.assertIn(':', self.drvr.v2v_host_profile().storage_id)

    @mock.patch.object(libvirt_driver.LibvirtDriver, 'get_available_resource')
    def test_get_available_resource_publishes_profile(self, mock_super):
        mock_super.return_value = {'stats': {'uptime': 'x'}}
        data = self.drvr.get_available_resource('src')
        self.assertEqual('x', data['stats']['uptime'])
        self.assertEqual('kvm', data['stats']['v2v_accel'])
        self.assertEqual('store-src', data['stats']['v2v_storage_id'])
        self.assertTrue(all(isinstance(v, str)
                            for v in data['stats'].values()))

    @mock.patch('nova_v2v.virt.libvirt.inventory.Inventory.host_profile',
                side_effect=RuntimeError('boom'))
    @mock.patch.object(libvirt_driver.LibvirtDriver, 'get_available_resource')
    def test_get_available_resource_survives_profile_error(self, mock_super,
                                                           mock_profile):
        mock_super.return_value = {'stats': {'uptime': 'x'}}
        data = self.drvr.get_available_resource('src')
        self.assertEqual({'uptime': 'x'}, data['stats'])

    @mock.patch.object(libvirt_driver.LibvirtDriver, 'update_provider_tree')
    def test_update_provider_tree_adds_traits(self, mock_super):
        tree = provider_tree.ProviderTree()
        tree.new_root('src', uuids.rp)
        self.drvr.update_provider_tree(tree, 'src')
        traits = tree.data('src').traits
        self.assertIn('CUSTOM_V2V_ACCEL_KVM', traits)
        self.assertIn('CUSTOM_V2V_CAPABLE', traits)
        self.assertIn('CUSTOM_V2V_DISK_FORMAT_QCOW2', traits)
        mock_super.assert_called_once_with(tree, 'src', allocations=None)
        self.assertEqual(
            'src', profile.HostProfile.from_traits('src', traits).hostname)

    @mock.patch.object(libvirt_driver.LibvirtDriver, 'update_provider_tree')
    def test_update_provider_tree_replaces_a_former_profile(self,
                                                            mock_super):
        tree = provider_tree.ProviderTree()
        tree.new_root('src', uuids.rp)
        tree.add_traits('src', 'CUSTOM_V2V_DISK_FORMAT_VMDK',
                        'HW_CPU_X86_SSE', 'CUSTOM_OTHER')
        self.flags(disk_formats=['raw'], group='v2v')
        self.drvr.update_provider_tree(tree, 'src')
        traits = tree.data('src').traits
        self.assertIn('CUSTOM_V2V_DISK_FORMAT_RAW', traits)
        self.assertNotIn('CUSTOM_V2V_DISK_FORMAT_VMDK', traits)
        self.assertNotIn('CUSTOM_V2V_DISK_FORMAT_QCOW2', traits)
        # Other traits are not nova-v2v's to remove.
        self.assertIn('HW_CPU_X86_SSE', traits)
        self.assertIn('CUSTOM_OTHER', traits)

    # -- destination pre-check -------------------------------------------

    @mock.patch.object(libvirt_driver.LibvirtDriver,
                       'check_can_live_migrate_destination')
    def test_dest_check_passes_and_hands_over_profile(self, mock_super):
        mock_super.return_value = objects.LibvirtLiveMigrateData()
        self.instance.host = 'other'
        src_info = {'stats': self._dest_stats(hostname='other',
                                              storage_id='store-other')}
        data = self.drvr.check_can_live_migrate_destination(
            self.context, self.instance, src_info, {}, None, None)
        self.assertIs(mock_super.return_value, data)
        handed = jsonutils.loads(v2v_record.sysmeta_get(
            self.instance.system_metadata, v2v_record.SYSMETA_DEST_PROFILE))
        self.assertEqual('src', handed['v2v_host'])
        mock_super.assert_called_once_with(
            self.context, self.instance, src_info, {},
            block_migration=None, disk_over_commit=None)

    @mock.patch.object(libvirt_driver.LibvirtDriver,
                       'check_can_live_migrate_destination')
    def test_dest_check_source_without_profile_is_novas(self, mock_super):
        """A source without a V2V profile is a peer: Nova's check decides.

        Before, the planner refused the move (no source profile) where
        Nova would move the guest.
        """
        mock_super.return_value = objects.LibvirtLiveMigrateData()
        data = self.drvr.check_can_live_migrate_destination(
            self.context, self.instance, {'stats': {'uptime': '1'}}, {},
            True, False)
        self.assertIs(mock_super.return_value, data)
        mock_super.assert_called_once_with(
            self.context, self.instance, {'stats': {'uptime': '1'}}, {},
            block_migration=True, disk_over_commit=False)
        self.assertNotIn(v2v_record.SYSMETA_DEST_PROFILE,
                         self.instance.system_metadata)
        self.get_by_uuid.assert_not_called()

    @mock.patch.object(libvirt_driver.LibvirtDriver,
                       'check_can_live_migrate_destination')
    def test_dest_check_refuses_when_cutover_disabled(self, mock_super):
        self.flags(allow_cutover=False, group='v2v')
        self.drvr.v2v_inventory.virt_type = 'qemu'  # this destination runs TCG
        self.instance.host = 'other'
        src_info = {'stats': self._dest_stats(hostname='other')}
        e = self.assertRaises(
            exception.MigrationPreCheckError,
            self.drvr.check_can_live_migrate_destination,
            self.context, self.instance, src_info, {}, None, None)
        # The conductor calls it over RPC: a class oslo.messaging rebuilds
        # there (nova.exception), not nova-v2v's own.
        self.assertIs(exception.MigrationPreCheckError, type(e))
        self.assertIsInstance(e.__cause__, v2v_exception.V2VMigrationRefused)
        self.assertIn('V2V migration refused:', str(e))
        self.assertIn('allow_cutover', str(e))

    # -- source pre-check ------------------------------------------------

    def _source_check(self, shared, requested=None, dest_kw=None,
                      dom_type='kvm', nic='virtio', extra=''):
        data = objects.LibvirtLiveMigrateData(filename='probe',
                                              is_volume_backed=False)
        if requested is not None:
            data.block_migration = requested
        v2v_record.sysmeta_put(
            self.instance.system_metadata, v2v_record.SYSMETA_DEST_PROFILE,
            jsonutils.dumps(self._dest_stats(**(dest_kw or {}))))
        xml = GUEST_XML % {'type': dom_type, 'path': self.instances_path,
                           'uuid': self.instance.uuid, 'nic': nic,
                           'extra': extra}
        guest = mock.Mock(get_xml_desc=mock.Mock(return_value=xml))
        disk_path = '%s/%s/disk' % (self.instances_path, self.instance.uuid)
        disk_info = [{'path': disk_path,
                      'type': 'qcow2', 'virt_disk_size': 10 << 30,
                      'backing_file': ''}]
        self.useFixture(fixtures.MockPatchObject(
            self.drvr, '_check_shared_storage_test_file',
            return_value=shared))
        self.useFixture(fixtures.MockPatchObject(
            self.drvr, '_is_shared_block_storage', return_value=shared))
        self.useFixture(fixtures.MockPatchObject(
            self.drvr._host, 'get_guest', return_value=guest))
        self.useFixture(fixtures.MockPatchObject(
            self.drvr, 'get_instance_disk_info',
            return_value=jsonutils.dumps(disk_info)))
        self.save = self.useFixture(fixtures.MockPatchObject(
            self.instance, 'save')).mock
        self.super_check = self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, 'check_can_live_migrate_source',
            side_effect=lambda ctxt, inst, d, block_device_info=None: d)
        ).mock
        return self.drvr.check_can_live_migrate_source(self.context,
                                                       self.instance, data)

    def _saved_plan(self):
        sysmeta = self.instance.system_metadata
        # Every value fits Nova's VARCHAR(255) column (MySQL refuses more).
        for key, value in sysmeta.items():
            self.assertLessEqual(len(value), v2v_record.SYSMETA_VALUE_MAX,
                                 key)
        return planner.MigrationPlan.from_json(
            v2v_record.sysmeta_get(sysmeta, v2v_record.SYSMETA_PLAN))

    def test_source_auto_local_resolves_block(self):
        data = self._source_check(shared=False)
        self.assertTrue(data.block_migration)
        plan = self._saved_plan()
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        self.assertEqual(10 << 30, plan.disks[0].virtual_size)
        # Saved with the object the pre-check was given, which is current
        # (read by the conductor at the start of the move): no read.
        self.save.assert_called_once_with()
        self.get_by_uuid.assert_not_called()
        self.assertNotIn(v2v_record.SYSMETA_DEST_PROFILE,
                         self.instance.system_metadata)
        self.super_check.assert_called_once()

    def test_source_caution_is_logged_and_saved(self):
        # TCG on both hosts, the fake QEMU is older than 9.0.
        self.drvr.v2v_inventory.virt_type = 'qemu'
        self._source_check(shared=False, dom_type='qemu',
                           dest_kw={'accelerator': profile.TCG})
        plan = self._saved_plan()
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        self.assertEqual(1, len(plan.cautions))
        self.assertIn('before 9.0 can lose a TCG guest', plan.cautions[0])
        self.assertIn('WARNING [nova_v2v.virt.libvirt.prechecks] V2V plan '
                      'block-live to dest: QEMU ',
                      self.stdlog.logger.output)

    def test_source_no_caution_on_kvm(self):
        self._source_check(shared=False)
        self.assertEqual((), self._saved_plan().cautions)
        self.assertNotIn('V2V plan block-live to dest:',
                         self.stdlog.logger.output)

    def test_source_auto_shared_resolves_shared(self):
        data = self._source_check(shared=True)
        self.assertFalse(data.block_migration)
        self.assertEqual(planner.SHARED_LIVE, self._saved_plan().mode)

    def test_source_explicit_block_on_shared(self):
        e = self.assertRaises(exception.InvalidLocalStorage,
                              self._source_check, shared=True,
                              requested=True)
        self.assertIn('Block migration can not be used with shared storage',
                      str(e))
        self.save.assert_not_called()
        self.super_check.assert_not_called()

    def test_source_explicit_shared_on_local(self):
        self.assertRaises(exception.InvalidSharedStorage,
                          self._source_check, shared=False, requested=False)
        self.save.assert_not_called()

    def test_source_cutover_local_is_planned(self):
        data = self._source_check(shared=False,
                                  dest_kw={'accelerator': profile.TCG})
        self.assertTrue(data.block_migration)
        plan = self._saved_plan()
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertIn('kvm -> qemu', str(plan.hardware_changes[0]))
        self.save.assert_called_once_with()

    def _saved_peer(self):
        return jsonutils.loads(v2v_record.sysmeta_get(
            self.instance.system_metadata, v2v_record.SYSMETA_SOURCE_PEER))

    def test_source_cutover_records_who_the_exports_admit(self):
        self.flags(my_ip='192.0.2.1')
        self.flags(live_migration_inbound_addr='198.51.100.1',
                   group='libvirt')
        self._source_check(shared=False,
                           dest_kw={'accelerator': profile.TCG})
        self.assertEqual({'addresses': ['192.0.2.1', '198.51.100.1']},
                         self._saved_peer())

    def test_source_cutover_with_native_tls_records_the_dn(self):
        self.flags(my_ip='192.0.2.1')
        self.flags(live_migration_with_native_tls=True, group='libvirt')
        self.flags(nbd_tls_x509_cert_dir='/pki', group='v2v')
        with mock.patch('nova_v2v.transfer.peer.certificate_dn',
                        return_value='O=Org,CN=src') as dn:
            self._source_check(shared=False,
                               dest_kw={'accelerator': profile.TCG})
        dn.assert_called_once_with('/pki/client-cert.pem')
        self.assertEqual({'addresses': ['192.0.2.1'],
                          'tls_dn': 'O=Org,CN=src'}, self._saved_peer())

    def test_source_cutover_refused_without_a_readable_certificate(self):
        self.flags(my_ip='192.0.2.1')
        self.flags(live_migration_with_native_tls=True, group='libvirt')
        self.flags(nbd_tls_x509_cert_dir='/nonexistent', group='v2v')
        e = self.assertRaises(v2v_exception.V2VMigrationRefused,
                              self._source_check, shared=False,
                              dest_kw={'accelerator': profile.TCG})
        self.assertIn('/nonexistent/client-cert.pem', str(e))
        self.save.assert_not_called()

    def test_source_peer_of_an_earlier_cutover_is_forgotten(self):
        v2v_record.sysmeta_put(self.instance.system_metadata,
                               v2v_record.SYSMETA_SOURCE_PEER,
                               '{"addresses": ["192.0.2.9"]}')
        self._source_check(shared=False)
        self.assertEqual(planner.BLOCK_LIVE, self._saved_plan().mode)
        self.assertNotIn(v2v_record.SYSMETA_SOURCE_PEER,
                         self.instance.system_metadata)

    def test_source_converts_disks_live(self):
        # The guest's disk is qcow2 (GUEST_XML).
        self._source_check(shared=False, dest_kw={'disk_formats': ('raw',)})
        plan = self._saved_plan()
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        self.assertEqual(('qcow2', 'raw'), (plan.disks[0].source_format,
                                            plan.disks[0].dest_format))

    def test_source_conversion_not_run_tunnelled(self):
        self.flags(live_migration_tunnelled=True, group='libvirt')
        e = self.assertRaises(v2v_exception.V2VModeNotAvailable,
                              self._source_check, shared=False,
                              dest_kw={'disk_formats': ('raw',)})
        self.assertIn('live_migration_tunnelled', str(e))
        self.assertIn('converted to raw on the way', str(e))
        self.save.assert_not_called()

    def test_source_cutover_on_shared_storage_not_executable(self):
        e = self.assertRaises(v2v_exception.V2VModeNotAvailable,
                              self._source_check, shared=True,
                              dest_kw={'accelerator': profile.TCG})
        self.assertIn('local instance storage only', str(e))
        self.save.assert_not_called()

    def test_source_cutover_refused_when_its_clone_cannot_prove_itself(self):
        # The settle window does not fit into the activity timeout: no
        # clone could ever prove its guest runs.
        self.flags(cutover_activity_timeout=10, cutover_activity_settle=10,
                   group='v2v')
        e = self.assertRaises(v2v_exception.V2VMigrationRefused,
                              self._source_check, shared=False,
                              dest_kw={'accelerator': profile.TCG})
        self.assertIn('cutover_activity_settle (10 s) is not below [v2v] '
                      'cutover_activity_timeout (10 s)', str(e))
        self.save.assert_not_called()

    def test_source_translation_from_real_xml(self):
        # The image says nothing; the running guest has a vmxnet3 NIC.
        self._source_check(shared=False, nic='vmxnet3')
        plan = self._saved_plan()
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertIn('vmxnet3 -> virtio',
                      [str(c).split(': ')[1] for c in plan.hardware_changes
                       if c.kind == 'nic-model'])

    def test_source_cutover_untranslatable_guest_refused(self):
        # A PCI device passed through cannot follow the guest: refused in
        # the pre-check, before anything is saved or moved.
        hostdev = ("<hostdev mode='subsystem' type='pci' managed='yes'>"
                   "<source><address domain='0x0000' bus='0x3b' "
                   "slot='0x00' function='0x0'/></source></hostdev>")
        e = self.assertRaises(v2v_exception.V2VMigrationRefused,
                              self._source_check, shared=False,
                              dest_kw={'accelerator': profile.TCG},
                              extra=hostdev)
        self.assertIn('cannot be translated', str(e))
        self.assertIn('hostdev pci', str(e))
        self.save.assert_not_called()
        self.super_check.assert_not_called()

    def test_source_cutover_untranslatable_guest_dropped_by_policy(self):
        self.flags(unmappable_devices='drop', group='v2v')
        hostdev = ("<hostdev mode='subsystem' type='usb'><source>"
                   "<vendor id='0x046d'/><product id='0xc52b'/></source>"
                   "</hostdev>")
        self._source_check(shared=False, dest_kw={'accelerator': profile.TCG},
                           extra=hostdev)
        self.assertEqual(planner.V2V_CUTOVER, self._saved_plan().mode)

    def test_source_without_dest_profile_is_novas(self):
        """A destination without a V2V profile is a peer: Nova decides.

        Before, the planner refused the move (no destination profile)
        where Nova would move the guest.
        """
        data = objects.LibvirtLiveMigrateData(filename='probe')
        get_guest = self.useFixture(fixtures.MockPatchObject(
            self.drvr._host, 'get_guest')).mock
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               'check_can_live_migrate_source') as nova:
            result = self.drvr.check_can_live_migrate_source(
                self.context, self.instance, data)
        self.assertIs(nova.return_value, result)
        nova.assert_called_once_with(self.context, self.instance, data,
                                     block_device_info=None)
        # Nova's own check resolves 'auto': nothing was decided before it.
        self.assertNotIn('block_migration', data)
        get_guest.assert_not_called()
        self.get_by_uuid.assert_not_called()
        self.assertNotIn(v2v_record.SYSMETA_PLAN,
                         self.instance.system_metadata)

    def test_source_peer_forgets_an_earlier_plan(self):
        old = planner.MigrationPlan(
            mode=planner.V2V_CUTOVER, source_host='src', dest_host='x',
            source_accel='kvm', dest_accel='tcg', block_migration=True)
        v2v_record.sysmeta_put(self.instance.system_metadata,
                               v2v_record.SYSMETA_PLAN, old.to_json())
        data = objects.LibvirtLiveMigrateData(filename='probe')
        save = self.useFixture(fixtures.MockPatchObject(
            self.instance, 'save')).mock
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               'check_can_live_migrate_source'):
            self.drvr.check_can_live_migrate_source(
                self.context, self.instance, data)
        self.assertIsNone(v2v_record.sysmeta_get(
            self.instance.system_metadata, v2v_record.SYSMETA_PLAN))
        save.assert_called_once_with()

    def test_source_unreadable_definition_is_novas(self):
        """A guest the V2V reader cannot read moves as Nova moves it.

        Before, the parser's error failed a plain block migration.
        """
        data = self._source_check_unreadable()
        self.assertNotIn('block_migration', data)
        self.super_check.assert_called_once()
        self.assertIsNone(v2v_record.sysmeta_get(
            self.instance.system_metadata, v2v_record.SYSMETA_PLAN))

    def _source_check_unreadable(self):
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.hardware.inspect.parse_domain_xml',
            side_effect=ValueError('unknown element')))
        return self._source_check(shared=False)


class RefusalMappingTestCase(test.NoDBTestCase):

    def test_mapping(self):
        self.assertIsInstance(
            v2v_common.refusal_to_exception(planner.PlanRefused(
                'x', planner.INVALID_LOCAL_STORAGE), 'h'),
            exception.InvalidLocalStorage)
        self.assertIsInstance(
            v2v_common.refusal_to_exception(planner.PlanRefused(
                'x', planner.INVALID_SHARED_STORAGE), 'h'),
            exception.InvalidSharedStorage)
        e = v2v_common.refusal_to_exception(planner.PlanRefused('why'), 'h')
        self.assertIsInstance(e, v2v_exception.V2VMigrationRefused)
        self.assertEqual('V2V migration refused: why', str(e))

    def test_volumes_attached_typed(self):
        e = v2v_common.refusal_to_exception(planner.PlanRefused(
            'why', planner.VOLUMES_ATTACHED), 'h')
        self.assertIsInstance(e, v2v_exception.V2VCutoverVolumesAttached)
        # A pre-check error: the conductor tries another host.
        self.assertIsInstance(e, exception.MigrationPreCheckError)
        self.assertEqual('V2V migration refused: why', str(e))


class AttachedVolumesTestCase(test.NoDBTestCase):

    def test_device_names_from_nova_mapping(self):
        info = {'root_device_name': '/dev/vda',
                'ephemerals': [{'device_name': '/dev/vdc'}],
                'block_device_mapping': [
                    {'mount_device': '/dev/vda', 'connection_info': {}},
                    {'mount_device': '/dev/vdb', 'connection_info': {}}]}
        self.assertEqual(('vda', 'vdb'), prechecks.attached_volumes(info))

    def test_none(self):
        self.assertEqual((), prechecks.attached_volumes(None))
        self.assertEqual((), prechecks.attached_volumes(
            {'block_device_mapping': []}))


class LiveMigrationTestCase(_DriverTestBase):

    @mock.patch.object(libvirt_driver.LibvirtDriver, 'live_migration')
    def test_plan_carried_onto_the_managers_instance(self, mock_super):
        plan = planner.plan_live_migration(
            profile.HostProfile('src', 'kvm', 'x86_64'),
            profile.HostProfile('dest', 'kvm', 'x86_64'),
            hw_guest.GuestProfile('kvm'))
        self.db_instance.system_metadata = {
            v2v_record.SYSMETA_PLAN: plan.to_json()}
        self.drvr.live_migration(self.context, self.instance, 'dest',
                                 mock.sentinel.post, mock.sentinel.recover,
                                 True, mock.sentinel.data)
        self.assertEqual(plan.to_json(), v2v_record.sysmeta_get(
            self.instance.system_metadata, v2v_record.SYSMETA_PLAN))
        mock_super.assert_called_once_with(
            self.context, self.instance, 'dest', mock.sentinel.post,
            mock.sentinel.recover, block_migration=True,
            migrate_data=mock.sentinel.data)

    @mock.patch.object(libvirt_driver.LibvirtDriver, 'live_migration')
    def test_no_plan_recorded(self, mock_super):
        self.db_instance.system_metadata = {}
        self.drvr.live_migration(self.context, self.instance, 'dest',
                                 None, None)
        self.assertNotIn(v2v_record.SYSMETA_PLAN,
                         self.instance.system_metadata)
        mock_super.assert_called_once()


class PreLiveMigrationTestCase(_DriverTestBase):

    def setUp(self):
        super().setUp()
        self.data = objects.LibvirtLiveMigrateData(
            is_shared_instance_path=False,
            instance_relative_path=self.instance.uuid)
        self.instance_dir = os.path.join(self.instances_path,
                                         self.instance.uuid)
        self.super_pre = self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, 'pre_live_migration')).mock
        self.in_use = self.useFixture(fixtures.MockPatch(
            'nova_v2v.storage.disks.in_use', return_value=False)).mock
        self.get_guest = self.useFixture(fixtures.MockPatchObject(
            self.drvr._host, 'get_guest',
            side_effect=exception.InstanceNotFound(
                instance_id=self.instance.uuid))).mock

    def _leftover(self, cutover=True):
        os.makedirs(self.instance_dir)
        with open(os.path.join(self.instance_dir, 'disk'), 'w') as f:
            f.write('partial copy')
        if not cutover:
            return
        # A V2V cutover's destination: its halves are not under test here.
        plan = planner.MigrationPlan(
            mode=planner.V2V_CUTOVER, source_host='src', dest_host='dest',
            source_accel='kvm', dest_accel='tcg', block_migration=True,
            disks=(planner.DiskPlan('/i/u/disk', 'vmdk', 'qcow2', 10),))
        self.db_instance.system_metadata = {
            v2v_record.SYSMETA_PLAN: plan.to_json()}
        dest = self.drvr.v2v_cutover_dest
        self.useFixture(fixtures.MockPatchObject(
            dest, 'prepare', side_effect=lambda r, m, d: d))
        self.useFixture(fixtures.MockPatchObject(dest, 'export'))

    def _pre(self):
        return self.drvr.pre_live_migration(self.context, self.instance,
                                            None, [], [], self.data)

    def test_leftover_before_novas_own_move_is_novas_to_refuse(self):
        # A plain block migration: the directory stays, Nova's own
        # pre_live_migration refuses it (DestinationDiskExists).
        self._leftover(cutover=False)
        self._pre()
        self.assertTrue(os.path.exists(self.instance_dir))
        self.in_use.assert_not_called()
        self.get_guest.assert_not_called()
        self.super_pre.assert_called_once_with(
            self.context, self.instance, None, [], [], self.data)

    def test_leftover_of_failed_attempt_is_replaced(self):
        self._leftover()
        self._pre()
        self.assertFalse(os.path.exists(self.instance_dir))
        self.in_use.assert_called_once_with(
            os.path.join(self.instance_dir, 'disk'))
        self.super_pre.assert_called_once()

    def test_leftover_in_use_is_kept(self):
        self._leftover()
        self.in_use.return_value = True
        self._pre()
        # Nova's own check then refuses with DestinationDiskExists.
        self.assertTrue(os.path.exists(self.instance_dir))
        self.super_pre.assert_called_once()

    def test_dir_of_a_domain_defined_here_is_kept(self):
        self._leftover()
        self.get_guest.side_effect = None
        self._pre()
        self.assertTrue(os.path.exists(self.instance_dir))
        self.in_use.assert_not_called()

    def test_shared_instance_path_untouched(self):
        self._leftover()
        self.data.is_shared_instance_path = True
        self._pre()
        self.assertTrue(os.path.exists(self.instance_dir))
        self.get_guest.assert_not_called()

    def _converting_plan(self, source_host):
        disk = os.path.join(self.instance_dir, 'disk')
        plan = planner.MigrationPlan(
            mode=planner.BLOCK_LIVE, source_host=source_host,
            dest_host='src', source_accel='tcg', dest_accel='tcg',
            block_migration=True,
            disks=(planner.DiskPlan(disk, 'qcow2', 'raw', 10, 'b'),))
        self.db_instance.system_metadata = {
            v2v_record.SYSMETA_PLAN: plan.to_json()}
        return jsonutils.dumps([{'path': disk, 'type': 'qcow2',
                                 'backing_file': 'b',
                                 'virt_disk_size': 10}])

    def test_disks_of_this_moves_plan_precreated_in_its_formats(self):
        # This compute is 'src' (the plan's destination here), the
        # instance comes from 'other'.
        self.instance.host = 'other'
        info = self._converting_plan('other')
        os.makedirs(self.instance_dir)
        self.drvr.pre_live_migration(self.context, self.instance, None, [],
                                     info, self.data)
        # Nova creates them as its disk_info says, and records that
        # format in its disk.info.
        created = jsonutils.loads(self.super_pre.call_args[0][4])
        self.assertEqual(('raw', ''), (created[0]['type'],
                                       created[0]['backing_file']))

    def test_an_earlier_moves_plan_is_not_this_ones(self):
        # A source without nova-v2v records no plan: an earlier move's
        # (from 'elsewhere') is still there and must not steer this one.
        self.instance.host = 'other'
        info = self._converting_plan('elsewhere')
        self.drvr.pre_live_migration(self.context, self.instance, None, [],
                                     info, self.data)
        self.super_pre.assert_called_once_with(
            self.context, self.instance, None, [], info, self.data)

    def test_no_leftover(self):
        self._pre()
        self.get_guest.assert_not_called()
        self.super_pre.assert_called_once_with(
            self.context, self.instance, None, [], [], self.data)


class CutoverDriverTestCase(_DriverTestBase):

    def setUp(self):
        super().setUp()
        self.plan = planner.MigrationPlan(
            mode=planner.V2V_CUTOVER, source_host='src', dest_host='dest',
            source_accel='kvm', dest_accel='tcg', block_migration=True,
            disks=(planner.DiskPlan('/i/u/disk', 'vmdk', 'qcow2', 10),))
        self.db_instance.system_metadata = {
            v2v_record.SYSMETA_PLAN: self.plan.to_json(),
            v2v_record.SYSMETA_NBD: '[]'}
        self.post = mock.Mock()
        self.recover = mock.Mock()
        self.data = objects.LibvirtLiveMigrateData()

    def _run(self):
        self.drvr._live_migration(self.context, self.instance, 'dest',
                                  self.post, self.recover, True, self.data)

    def test_success_calls_post_only(self):
        with mock.patch.object(self.drvr.v2v_cutover_source, '_run') as run:
            self._run()
        run.assert_called_once()
        self.post.assert_called_once_with(self.context, self.instance,
                                          'dest', True, self.data)
        self.recover.assert_not_called()
        self.assertEqual({}, self.drvr.v2v_cutover_source._running)
        self.assertNotIn(self.instance.uuid, self.drvr.active_migrations)

    def test_failure_calls_recover_only(self):
        with mock.patch.object(self.drvr.v2v_cutover_source, '_run',
                               side_effect=RuntimeError('boom')):
            self._run()
        self.recover.assert_called_once_with(self.context, self.instance,
                                             'dest', self.data)
        self.post.assert_not_called()

    def test_cancel_calls_recover_cancelled(self):
        with mock.patch.object(
                self.drvr.v2v_cutover_source, '_run',
                side_effect=v2v_exception.V2VCutoverCancelled(reason='x')):
            self._run()
        self.recover.assert_called_once_with(
            self.context, self.instance, 'dest', self.data,
            migration_status='cancelled')
        self.post.assert_not_called()

    def test_abort_too_late_is_ignored(self):
        state = cutover_source.CutoverState('suspend')
        self.drvr.v2v_cutover_source._running[self.instance.uuid] = state
        self.assertTrue(state.enter_cutover())
        self.drvr.live_migration_abort(self.instance)
        self.assertFalse(state.aborted)

    def test_abort_before_cutover(self):
        state = cutover_source.CutoverState('suspend')
        self.drvr.v2v_cutover_source._running[self.instance.uuid] = state
        self.drvr.live_migration_abort(self.instance)
        self.assertTrue(state.aborted)
        self.assertFalse(state.enter_cutover())

    def test_not_a_cutover_runs_nova(self):
        self.plan = None
        self.db_instance.system_metadata = {}
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               '_live_migration') as nova:
            self._run()
        nova.assert_called_once()


class CloneConnectionTestCase(_DriverTestBase):

    def _uri(self):
        lv = libvirt_driver.libvirt
        with mock.patch.object(lv, 'openAuth', create=True) as open_auth:
            self.drvr.v2v_cutover_source.nova.open_destination(
                self.drvr.v2v_cutover_source.dest_uri('dest-host'))
        return open_auth.call_args[0][0]

    def test_default_is_novas_live_migration_uri(self):
        self.flags(live_migration_scheme='tls', virt_type='kvm',
                   group='libvirt')
        self.assertEqual('qemu+tls://dest-host/system', self._uri())

    def test_clone_uri_template(self):
        self.flags(clone_uri='qemu+ssh://nova@%s/system', group='v2v')
        self.assertEqual('qemu+ssh://nova@dest-host/system', self._uri())

    def test_clone_connection_is_closed(self):
        source = self.drvr.v2v_cutover_source
        conn = mock.Mock()
        with mock.patch.object(source.nova, 'open_destination',
                               return_value=conn), \
                mock.patch.object(cutover_transfer.clone,
                                  'start_clone_retrying',
                                  return_value=(mock.Mock(), 1.0)) as start:
            source.start_clone(self.instance, 'dest-host', '<domain/>')
        # Its domain runs; whether its guest runs is the proof's.
        self.assertEqual((conn, '<domain/>', None, 0),
                         start.call_args[0][:4])
        conn.close.assert_called_once_with()

    def _release_check(self):
        self.drvr._host.get_guest = mock.Mock()
        self.drvr._host.get_guest.return_value.get_xml_desc.return_value = (
            '<domain><devices><disk type="file" device="disk">'
            '<source file="/i/u/disk"/><target dev="vda" bus="virtio"/>'
            '</disk></devices></domain>')
        records = [{'path': '/i/u/disk', 'name': 'exp', 'host': '192.0.2.2',
                    'port': 10810}]
        source = self.drvr.v2v_cutover_source
        record = mock.Mock(exports=records)
        with mock.patch.object(source, 'clone_xml',
                               return_value='<domain/>'), \
                mock.patch.object(source.nova, 'get_domain') as get_domain, \
                mock.patch.object(cutover_transfer.cutover,
                                  'run_source_cutover') as run:
            source._run(
                self.context, self.instance, 'dest', mock.Mock(), record,
                objects.LibvirtLiveMigrateData(),
                cutover_source.CutoverState('suspend'))
        # The domain comes through the Host's connection, not a Guest.
        self.assertIs(get_domain.return_value, run.call_args[0][0])
        self.assertEqual(
            [nbd.ExportedDisk('/i/u/disk', None, 'exp', host='192.0.2.2',
                              port=10810, target='vda')],
            run.call_args[0][1])
        return run.call_args[0][5].release_check

    def test_release_probed_by_default(self):
        self.assertIsNone(self._release_check())

    def test_release_not_probed(self):
        self.flags(cutover_release_probe=False, group='v2v')
        self.assertIs(cutover_transfer.cutover.release_not_probed,
                      self._release_check())


class TrustedSharedTestCase(test.NoDBTestCase):

    def _data(self, shared=True):
        return objects.LibvirtLiveMigrateData(is_shared_instance_path=shared)

    def test_all_disks_below_a_listed_path(self):
        self.assertTrue(live_tuning.trusted_shared(
            self._data(), ['/srv/shared/u/disk', '/srv/shared/u/disk.eph0'],
            ['/other', '/srv/shared/']))

    def test_one_disk_elsewhere(self):
        self.assertFalse(live_tuning.trusted_shared(
            self._data(), ['/srv/shared/u/disk', '/var/lib/u/disk.eph0'],
            ['/srv/shared']))

    def test_prefix_is_not_a_parent(self):
        self.assertFalse(live_tuning.trusted_shared(
            self._data(), ['/srv/shared2/u/disk'], ['/srv/shared']))

    def test_not_confirmed_by_novas_probe(self):
        self.assertFalse(live_tuning.trusted_shared(
            self._data(False), ['/srv/shared/u/disk'], ['/srv/shared']))
        self.assertFalse(live_tuning.trusted_shared(
            objects.LibvirtLiveMigrateData(), ['/srv/shared/u/disk'],
            ['/srv/shared']))

    def test_nothing_listed(self):
        self.assertFalse(live_tuning.trusted_shared(
            self._data(), ['/srv/shared/u/disk'], []))


class MigrationFlagsTestCase(_DriverTestBase):

    XML = ('<domain><devices><disk type="file" device="disk">'
           '<source file="/srv/shared/u/disk"/>'
           '<target dev="vda" bus="virtio"/></disk></devices></domain>')
    AUTO_CONVERGE = 1 << 13
    SYNC_WRITES = 1 << 18

    def setUp(self):
        super().setUp()
        # What init_host does: Nova's flags from its [libvirt] options.
        self.drvr._parse_migration_flags()

    def _run(self, block_migration=False, shared=True, guest=None):
        guest = guest or mock.Mock()
        guest.get_xml_desc.return_value = self.XML
        data = objects.LibvirtLiveMigrateData(
            is_shared_instance_path=shared, block_migration=block_migration)
        seen = []

        def operation(ctxt, inst, dest, block, md, g, names):
            g.migrate('uri', flags=1)
            seen.append(g)
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               '_live_migration_operation',
                               side_effect=operation):
            # The argument is None when the request left block_migration
            # to the pre-checks: migrate_data carries the decision.
            self.drvr._live_migration_operation(
                self.context, self.instance, 'dest', None, data, guest, [])
        return guest.migrate.call_args[1]['flags']

    def test_fitted_policy_sets_first_downtime_before_migrating(self):
        guest = mock.Mock()
        self._run(guest=guest)
        names = [c[0] for c in guest.method_calls
                 if c[0] in ('migrate_configure_max_downtime', 'migrate')]
        # Before the migration starts, not at the monitor's first sample.
        self.assertEqual(['migrate_configure_max_downtime', 'migrate'],
                         names)
        guest.migrate_configure_max_downtime.assert_called_once_with(50)

    def test_first_downtime_follows_novas_options(self):
        self.flags(live_migration_downtime=1000,
                   live_migration_downtime_steps=4, group='libvirt')
        guest = mock.Mock()
        self._run(guest=guest)
        guest.migrate_configure_max_downtime.assert_called_once_with(250)

    def test_first_downtime_failure_does_not_stop_the_migration(self):
        guest = mock.Mock()
        guest.migrate_configure_max_downtime.side_effect = RuntimeError(
            'not running')
        self.assertEqual(1 | self.AUTO_CONVERGE, self._run(guest=guest))
        guest.migrate.assert_called_once()

    def test_nova_policy_sets_no_downtime_before_migrating(self):
        self.flags(downtime_policy='nova', group='v2v')
        guest = mock.Mock()
        self._run(guest=guest)
        guest.migrate_configure_max_downtime.assert_not_called()

    def _untuned(self):
        self.flags(auto_converge=False, synchronous_disk_writes=False,
                   group='v2v')

    def test_listed_shared_path_adds_unsafe(self):
        self._untuned()
        self.flags(shared_filesystems=['/srv/shared'], group='v2v')
        self.assertEqual(1 | 512,
                         self._run())

    def test_untuned_keeps_novas_flags(self):
        self._untuned()
        self.assertEqual(1, self._run())

    def test_block_migration_is_never_unsafe(self):
        self._untuned()
        self.flags(shared_filesystems=['/srv/shared'], group='v2v')
        self.assertEqual(1, self._run(block_migration=True, shared=False))

    def test_live_migration_tuned_by_default(self):
        self.assertEqual(1 | self.AUTO_CONVERGE, self._run())

    def test_block_migration_tuned_by_default(self):
        self.assertEqual(1 | self.AUTO_CONVERGE | self.SYNC_WRITES,
                         self._run(block_migration=True, shared=False))

    def test_no_auto_converge_when_post_copy_is_permitted(self):
        self.flags(live_migration_permit_post_copy=True, group='libvirt')
        self.drvr._parse_migration_flags()
        flags = self._run(block_migration=True, shared=False)
        self.assertFalse(flags & self.AUTO_CONVERGE)
        self.assertTrue(flags & self.SYNC_WRITES)


class MigrationBandwidthTestCase(MigrationFlagsTestCase):
    """A server's nova-v2v:bandwidth_mib metadata (a drain's share)."""

    def setUp(self):
        super().setUp()
        self.flags(bandwidth_from_metadata=True, group='v2v')

    def _operation_guest(self, metadata=None):
        if metadata is not None:
            self.instance.metadata = metadata
        guest = mock.Mock()
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               '_live_migration_operation') as op:
            self.drvr._live_migration_operation(
                self.context, self.instance, 'dest', None,
                objects.LibvirtLiveMigrateData(
                    is_shared_instance_path=True, block_migration=False),
                guest, [])
        return op.call_args[0][5]

    def test_without_metadata_novas_migrate_is_not_wrapped(self):
        self.flags(auto_converge=False, synchronous_disk_writes=False,
                   downtime_policy='nova', group='v2v')
        self.flags(live_migration_bandwidth=100, group='libvirt')
        got = self._operation_guest({'other': 'x'})
        self.assertNotIsInstance(got, live_tuning.BandwidthMigrateGuest)
        self.assertIsInstance(got, mock.Mock)

    def _bandwidth(self, metadata=None):
        got = self._operation_guest(metadata)
        # Nova's thread calls migrate with its own bandwidth.
        got.migrate('uri', flags=1,
                    bandwidth=CONF.libvirt.live_migration_bandwidth)
        inner = got
        while not isinstance(inner, mock.Mock):
            inner = inner._guest
        return inner.migrate.call_args[1]['bandwidth']

    def test_metadata_lowers_novas_unlimited_bandwidth(self):
        self.assertEqual(40, self._bandwidth(
            {'nova-v2v:bandwidth_mib': '40'}))

    def test_no_metadata_keeps_novas_bandwidth(self):
        self.assertEqual(0, self._bandwidth({}))
        self.flags(live_migration_bandwidth=100, group='libvirt')
        self.assertEqual(100, self._bandwidth({'other': 'x'}))

    def test_metadata_never_raises_novas_bandwidth(self):
        self.flags(live_migration_bandwidth=30, group='libvirt')
        self.assertEqual(30, self._bandwidth(
            {'nova-v2v:bandwidth_mib': '500'}))

    def test_metadata_floor_and_switch(self):
        self.assertEqual(8, self._bandwidth({'nova-v2v:bandwidth_mib': '1'}))
        self.flags(bandwidth_from_metadata=False, group='v2v')
        self.assertEqual(0, self._bandwidth(
            {'nova-v2v:bandwidth_mib': '40'}))

    def test_off_by_default(self):
        opt = [o for o in v2v_conf.ALL_OPTS
               if o.name == 'bandwidth_from_metadata'][0]
        self.assertFalse(opt.default)

    def test_a_share_for_several_copies(self):
        self.instance.metadata = {'nova-v2v:bandwidth_mib': '40'}
        self.assertEqual(20, live_tuning.migration_bandwidth(self.instance,
                                                             streams=2))
        # Nova's own value is per copy, as Nova applies it.
        self.instance.metadata = {}
        self.flags(live_migration_bandwidth=30, group='libvirt')
        self.assertEqual(30, live_tuning.migration_bandwidth(self.instance,
                                                             streams=2))

    def test_metadata_not_loaded_is_not_read(self):
        self.assertFalse(self.instance.obj_attr_is_set('metadata'))
        self.assertEqual(0, self._bandwidth())
        # (The V2V record of the move is read: no pre-check ran here.)
        for call in self.get_by_uuid.call_args_list:
            self.assertNotIn('metadata', call[1].get('expected_attrs', []))
        self.assertFalse(self.instance.obj_attr_is_set('metadata'))


class FittedDowntimeGuestTestCase(_DriverTestBase):

    def _info(self, job_type=2, **kw):
        values = dict(memory_total=256 << 20, memory_remaining=64 << 20,
                      memory_processed=0, memory_bps=100 << 20,
                      memory_iteration=1)
        values.update(kw)
        return mock.Mock(type=job_type, **values)

    def _monitored_guest(self, guest):
        """The guest Nova's monitor gets from the V2V driver's."""
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               '_live_migration_monitor') as monitor:
            self.drvr._live_migration_monitor(
                self.context, self.instance, guest, 'dest', None, None,
                False, None, None, [])
        return monitor.call_args[0][2]

    def test_monitor_gets_the_wrapped_guest(self):
        wrapped = self._monitored_guest(mock.Mock())
        self.assertIsInstance(wrapped, live_tuning.FittedDowntimeGuest)
        self.assertEqual(50, wrapped._policy.values[0])

    def test_nova_policy_keeps_novas_monitor(self):
        self.flags(downtime_policy='nova', group='v2v')
        guest = mock.Mock()
        self.assertIs(guest, self._monitored_guest(guest))

    def test_policy_sets_downtime_nova_steps_ignored(self):
        guest = mock.Mock()
        policy = mock.Mock(history=[mock.Mock(elapsed=0.0, reason='start')])
        policy.update.side_effect = [50, None]
        wrapped = live_tuning.FittedDowntimeGuest(guest, policy, self.instance)
        guest.get_job_info.return_value = self._info()
        self.assertIs(guest.get_job_info.return_value,
                      wrapped.get_job_info())
        guest.migrate_configure_max_downtime.assert_called_once_with(50)
        wrapped.migrate_configure_max_downtime(95)
        wrapped.get_job_info()
        guest.migrate_configure_max_downtime.assert_called_once_with(50)
        sample = policy.update.call_args[0][0]
        self.assertEqual(64 << 20, sample['memory_remaining'])

    def test_no_job_no_policy(self):
        guest = mock.Mock()
        policy = mock.Mock()
        wrapped = live_tuning.FittedDowntimeGuest(guest, policy, self.instance)
        guest.get_job_info.return_value = self._info(job_type=0)
        wrapped.get_job_info()
        policy.update.assert_not_called()

    def test_failure_to_set_is_not_fatal(self):
        guest = mock.Mock()
        guest.migrate_configure_max_downtime.side_effect = Exception('gone')
        policy = mock.Mock(history=[mock.Mock(elapsed=0.0, reason='start')])
        policy.update.return_value = 50
        wrapped = live_tuning.FittedDowntimeGuest(guest, policy, self.instance)
        guest.get_job_info.return_value = self._info()
        self.assertIs(guest.get_job_info.return_value,
                      wrapped.get_job_info())

    def test_other_calls_reach_the_guest(self):
        guest = mock.Mock()
        wrapped = live_tuning.FittedDowntimeGuest(guest, mock.Mock(),
                                                  self.instance)
        wrapped.abort_job()
        guest.abort_job.assert_called_once_with()


class EventHooksTestCase(_DriverTestBase):

    @mock.patch.object(libvirt_driver.LibvirtDriver,
                       'post_live_migration_at_source')
    @mock.patch.object(v2v_record.MigrationRecord, 'carried',
                       side_effect=exception.InstanceNotFound(
                           instance_id='x'))
    def test_end_event_survives_an_unreadable_plan(self, load, mock_super):
        with mock.patch.object(self.drvr.v2v_events, 'emit') as emit:
            self.drvr.post_live_migration_at_source(self.context,
                                                    self.instance, [])
        mock_super.assert_called_once()
        emit.assert_called_once_with(self.context, 'v2v.migration.end',
                                     self.instance, dest_host=None)

    @mock.patch.object(libvirt_driver.LibvirtDriver,
                       'rollback_live_migration_at_source')
    def test_rollback_event_has_the_cutovers_reason(self, mock_super):
        state = cutover_source.CutoverState('suspend')
        state.failure = 'the clone did not start'
        self.drvr.v2v_cutover_source._running[self.instance.uuid] = state
        with mock.patch.object(self.drvr.v2v_events, 'emit') as emit:
            self.drvr.rollback_live_migration_at_source(
                self.context, self.instance, None)
        emit.assert_called_once_with(
            self.context, 'v2v.migration.rollback', self.instance,
            reason='the clone did not start', dest_host=None)


class NovaParityTestCase(_DriverTestBase):
    """Moves without a V2V plan: what Nova's driver does, case by case."""

    def setUp(self):
        super().setUp()
        self.drvr._parse_migration_flags()
        # The [v2v] options that run Nova's migrations unchanged.
        self.flags(downtime_policy='nova', auto_converge=False,
                   synchronous_disk_writes=False, group='v2v')

    def test_operation_error_is_novas(self):
        """The migration thread's error reaches Nova's ``_live_migration``.

        Before, the V2V driver logged and swallowed it: Nova's refusal of
        an unusable serial console listen address ended without an error.
        """
        self.flags(enabled=True, group='serial_console')
        data = objects.LibvirtLiveMigrateData(
            block_migration=False, serial_listen_addr=None)
        guest = mock.Mock()
        self.instance.vm_state = 'active'
        self.assertRaises(exception.MigrationError,
                          self.drvr._live_migration_operation,
                          self.context, self.instance, 'dest', False, data,
                          guest, [])
        guest.migrate.assert_not_called()

    def test_libvirt_error_is_novas(self):
        error = libvirt_driver.libvirt.libvirtError('migration failed')
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               '_live_migration_operation',
                               side_effect=error):
            self.assertRaises(
                libvirt_driver.libvirt.libvirtError,
                self.drvr._live_migration_operation, self.context,
                self.instance, 'dest', False,
                objects.LibvirtLiveMigrateData(block_migration=False),
                mock.Mock(), [])

    @mock.patch('nova.thread_pool_factory.spawn')
    @mock.patch.object(libvirt_driver.LibvirtDriver,
                       '_live_migration_monitor',
                       side_effect=RuntimeError('monitor failed'))
    def test_monitor_failure_aborts_the_job(self, monitor, spawn):
        """Nova aborts the job when its monitor fails, and raises."""
        guest = mock.Mock()
        self.useFixture(fixtures.MockPatchObject(
            self.drvr._host, 'get_guest', return_value=guest))
        data = objects.LibvirtLiveMigrateData(block_migration=False)
        self.assertRaises(RuntimeError, self.drvr._live_migration,
                          self.context, self.instance, 'dest', None, None,
                          False, data)
        guest._domain.abortJob.assert_called_once_with()
        self.assertIs(guest, monitor.call_args[0][2])

    def test_untuned_migration_gets_novas_guest(self):
        """No wrapper, no libvirt call, no read of the guest's XML."""
        guest = mock.Mock()
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               '_live_migration_operation') as nova, \
                mock.patch.object(self.drvr._host,
                                  'get_connection') as conn:
            self.drvr._live_migration_operation(
                self.context, self.instance, 'dest', True,
                objects.LibvirtLiveMigrateData(block_migration=True),
                guest, ['vda'])
        nova.assert_called_once_with(
            self.context, self.instance, 'dest', True, mock.ANY, guest,
            ['vda'])
        conn.assert_not_called()
        guest.get_xml_desc.assert_not_called()
        guest.migrate_configure_max_downtime.assert_not_called()

    def test_untuned_monitor_gets_novas_guest(self):
        guest = mock.Mock()
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               '_live_migration_monitor') as nova:
            self.drvr._live_migration_monitor(
                self.context, self.instance, guest, 'dest', None, None,
                False, None, None, [])
        self.assertIs(guest, nova.call_args[0][2])

    @mock.patch.object(libvirt_driver.LibvirtDriver, '_live_migration')
    @mock.patch.object(libvirt_driver.LibvirtDriver,
                       'check_can_live_migrate_source')
    def test_live_migration_after_the_pre_check_reads_nothing(
            self, nova_check, nova_live):
        """Pre-check, then the move, on this host: no instance read.

        The source's pre-check keeps what it decided (here: a peer, Nova's
        own move); the manager's older instance object is not re-read.
        """
        data = objects.LibvirtLiveMigrateData(filename='probe',
                                              block_migration=False)
        self.drvr.check_can_live_migrate_source(self.context, self.instance,
                                                data)
        stale = objects.Instance(uuid=uuids.instance, system_metadata={})
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               '_live_migration_operation'), \
                mock.patch.object(libvirt_driver.LibvirtDriver,
                                  '_live_migration_monitor'):
            self.drvr.live_migration(self.context, stale, 'dest', None,
                                     None, False, data)
        nova_live.assert_called_once()
        self.get_by_uuid.assert_not_called()

    @mock.patch.object(libvirt_driver.LibvirtDriver,
                       'post_live_migration_at_destination')
    def test_post_at_destination_of_novas_move_is_novas(self, nova):
        self.drvr.post_live_migration_at_destination(
            self.context, self.instance, [], block_migration=True)
        nova.assert_called_once_with(
            self.context, self.instance, [], block_migration=True,
            block_device_info=None)
        self.get_by_uuid.assert_not_called()

    def test_dest_check_uses_what_it_is_given(self):
        """The pre-checks read no instance from the database."""
        self.instance.host = 'other'
        src_info = {'stats': self._dest_stats(hostname='other',
                                              storage_id='store-other')}
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               'check_can_live_migrate_destination'):
            self.drvr.check_can_live_migrate_destination(
                self.context, self.instance, src_info, {}, None, None)
        self.get_by_uuid.assert_not_called()


class ColdMigrationTestCase(_DriverTestBase):
    """A resize or cold migration is Nova's unless a disk must convert."""

    XML = """<domain type='kvm'>
  <os><type arch='x86_64' machine='pc-i440fx-2.11'>hvm</type></os>
  <devices>%s</devices>
</domain>"""
    FILE_DISK = ("<disk type='file' device='disk'>"
                 "<driver name='qemu' type='%(fmt)s'/>"
                 "<source file='%(path)s/%(uuid)s/disk'/>"
                 "<target dev='vda' bus='virtio'/></disk>")
    RBD_DISK = ("<disk type='network' device='disk'>"
                "<driver name='qemu' type='raw'/>"
                "<source protocol='rbd' name='vms/%(uuid)s_disk'/>"
                "<target dev='vda' bus='virtio'/></disk>")
    TPM = "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"

    def setUp(self):
        super().setUp()
        migration = objects.Migration(dest_compute='dest', dest_node='dest')
        self.useFixture(fixtures.MockPatchObject(
            objects.Migration, 'get_by_instance_and_status',
            return_value=migration))
        self.dest_node = objects.ComputeNode(stats=self._dest_stats())
        self.useFixture(fixtures.MockPatchObject(
            objects.ComputeNode, 'get_by_host_and_nodename',
            side_effect=lambda *a: self.dest_node))
        self.disk_info = self.useFixture(fixtures.MockPatchObject(
            self.drvr, 'get_instance_disk_info',
            side_effect=FileNotFoundError('disk'))).mock
        self.nova = self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, 'migrate_disk_and_power_off',
            return_value='[]')).mock

    def _guest(self, devices):
        xml = self.XML % (devices % {'fmt': 'qcow2',
                                     'path': self.instances_path,
                                     'uuid': self.instance.uuid})
        self.useFixture(fixtures.MockPatchObject(
            self.drvr._host, 'get_guest', return_value=mock.Mock(
                get_xml_desc=mock.Mock(return_value=xml))))

    def _migrate(self):
        return self.drvr.migrate_disk_and_power_off(
            self.context, self.instance, 'dest', mock.sentinel.flavor, [])

    def _offline_plan(self):
        return v2v_record.MigrationRecord.carried(
            self.context, self.instance).offline_plan

    def test_no_conversion_is_novas_move(self):
        """Nothing to convert: Nova's move, no disk file read.

        Before, every cold move to a host with a profile read each disk as
        a local file (FileNotFoundError in Nova's own functional tests).
        """
        self._guest(self.FILE_DISK + self.TPM)
        self.assertEqual('[]', self._migrate())
        self.nova.assert_called_once()
        self.disk_info.assert_not_called()
        self.assertIsNone(self._offline_plan())
        self.get_by_uuid.assert_not_called()

    def test_rbd_guest_is_novas_move(self):
        self.flags(images_type='rbd', group='libvirt')
        self._guest(self.RBD_DISK)
        self._migrate()
        self.nova.assert_called_once()
        self.assertIsNone(self._offline_plan())

    def test_resize_to_same_host_is_novas_move(self):
        """The planner refuses a move to the source itself: Nova's move."""
        self.dest_node.stats = self._dest_stats(hostname='src')
        self._guest(self.FILE_DISK)
        self._migrate()
        self.nova.assert_called_once()
        self.assertIsNone(self._offline_plan())

    def test_unreadable_definition_is_novas_move(self):
        self.useFixture(fixtures.MockPatchObject(
            self.drvr._host, 'get_guest',
            side_effect=exception.InstanceNotFound(instance_id='x')))
        self._migrate()
        self.nova.assert_called_once()

    def test_conversion_is_planned(self):
        self.dest_node.stats = self._dest_stats(
            accelerator=profile.TCG, disk_formats=('raw',))
        self._guest(self.FILE_DISK)
        self._migrate()
        plan = self._offline_plan()
        self.assertEqual(planner.OFFLINE, plan.mode)
        self.assertEqual([('qcow2', 'raw')],
                         [(d.source_format, d.dest_format)
                          for d in plan.disks])
        self.disk_info.assert_not_called()
        self.nova.assert_called_once()

    def test_earlier_plan_forgotten(self):
        v2v_record.sysmeta_put(self.instance.system_metadata,
                               v2v_record.SYSMETA_OFFLINE_PLAN, '{"x": 1}')
        self._guest(self.FILE_DISK)
        self._migrate()
        self.assertNotIn(v2v_record.SYSMETA_OFFLINE_PLAN,
                         self.instance.system_metadata)

    def _convert_plan(self, *paths):
        return mock.Mock(disks=[mock.Mock(path=path, source_format='qcow2',
                                          dest_format='raw')
                                for path in paths])

    def test_backing_files_fetched_before_conversion(self):
        """A converted disk's backing file is fetched by Nova's code first.

        Only for the disks that convert and have one; each conversion may
        read a backing file from Nova's image cache only.
        """
        inst_dir = os.path.join(self.instances_path, self.instance.uuid)
        os.makedirs(inst_dir)
        disk, local, config = (os.path.join(inst_dir, name) for name in
                               ('disk', 'disk.local', 'disk.config'))
        infos = [{'path': disk, 'type': 'qcow2', 'virt_disk_size': 1,
                  'backing_file': 'abc123'},
                 {'path': local, 'type': 'qcow2', 'virt_disk_size': 1,
                  'backing_file': ''},
                 {'path': config, 'type': 'raw', 'virt_disk_size': 1,
                  'backing_file': 'other'}]
        order = []
        fetch = self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, '_create_images_and_backing',
            side_effect=lambda *a, **k: order.append('fetch'))).mock

        def converted(src, sfmt, dest, dfmt, backing_dir=None):
            order.append(('convert', src, backing_dir))
            open(dest, 'w').close()

        with mock.patch.object(cold.offline, 'convert_disk', converted):
            out = self.drvr.v2v_cold.convert_disks(
                self.context, self.instance,
                self._convert_plan(disk, local), jsonutils.dumps(infos),
                'src')
        fetch.assert_called_once_with(
            self.context, self.instance, inst_dir, [infos[0]],
            fallback_from_host='src')
        cache = os.path.join(self.instances_path, '_base')
        self.assertEqual(['fetch', ('convert', disk, cache),
                          ('convert', local, cache)], order)
        self.assertEqual(['', '', 'other'],
                         [i['backing_file'] for i in jsonutils.loads(out)])

    def test_no_backing_file_nothing_fetched(self):
        inst_dir = os.path.join(self.instances_path, self.instance.uuid)
        os.makedirs(inst_dir)
        disk = os.path.join(inst_dir, 'disk')
        fetch = self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, '_create_images_and_backing')).mock
        with mock.patch.object(cold.offline, 'convert_disk',
                               lambda s, sf, d, df, backing_dir=None:
                               open(d, 'w').close()):
            self.drvr.v2v_cold.convert_disks(
                self.context, self.instance, self._convert_plan(disk),
                jsonutils.dumps([{'path': disk, 'type': 'qcow2',
                                  'backing_file': ''}]))
        fetch.assert_not_called()

    def test_finish_without_plan_is_novas(self):
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               'finish_migration') as nova:
            self.drvr.finish_migration(
                self.context, mock.sentinel.migration, self.instance,
                mock.sentinel.disk_info, [], mock.sentinel.image_meta,
                True, {})
        nova.assert_called_once_with(
            self.context, mock.sentinel.migration, self.instance,
            mock.sentinel.disk_info, [], mock.sentinel.image_meta, True, {},
            block_device_info=None, power_on=True, share_info=None)
        self.get_by_uuid.assert_not_called()
