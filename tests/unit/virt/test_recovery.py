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

"""The recovery at start-up: its sweep, what it keeps, its holds."""

import os
import threading
import time
from unittest import mock

import fixtures
from nova import context as nova_context
from nova.network import model as network_model
from nova import objects
from nova import test
from oslo_utils.fixture import uuidsentinel as uuids

from nova_v2v.virt.libvirt import cutover_source
from nova_v2v.virt.libvirt import nova_internals
from nova_v2v.virt.libvirt import record as v2v_record
from nova_v2v.virt.libvirt import recovery as rec


class SweepTestCase(test.NoDBTestCase):
    """A crashed compute's exports go; those a migration uses stay."""

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.flags(instances_path=self.root)
        self.context = nova_context.get_admin_context()
        self.recovery = rec.Recovery(mock.Mock(), mock.Mock(), mock.Mock(),
                                     mock.Mock())
        self.live = set()
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.live_migrating',
            side_effect=lambda context, uuid: uuid in self.live))
        self.stop = self.useFixture(fixtures.MockPatch(
            'nova_v2v.transfer.nbd.stop_pid_file',
            side_effect=self._stop)).mock

    def _stop(self, pid_file, timeout=None, program=None):
        os.unlink(pid_file)
        return program == pid_file

    def _dir(self, name, pids=1):
        path = os.path.join(self.root, name)
        os.makedirs(path)
        for index in range(pids):
            with open(os.path.join(path, 'v2v-nbd-%d.pid' % index), 'w') as f:
                f.write('1\n')
        return path

    def test_sweep(self):
        crashed = self._dir(uuids.crashed, pids=2)
        busy = self._dir(uuids.busy)
        elsewhere = self._dir(uuids.elsewhere)
        self._dir(uuids.clean, pids=0)
        self.live.add(uuids.elsewhere)

        swept = self.recovery.sweep(self.context, {uuids.busy})

        self.assertEqual([crashed], swept)
        self.assertEqual([], os.listdir(crashed))
        self.assertEqual(['v2v-nbd-0.pid'], os.listdir(busy))
        self.assertEqual(['v2v-nbd-0.pid'], os.listdir(elsewhere))
        # Only the process that names its pid file is stopped.
        self.assertEqual(
            [mock.call(os.path.join(crashed, 'v2v-nbd-%d.pid' % i),
                       program=os.path.join(crashed, 'v2v-nbd-%d.pid' % i))
             for i in range(2)], self.stop.call_args_list)

    def test_sweep_refuses_a_symlinked_dir(self):
        target = self._dir('elsewhere-target')
        os.symlink(target, os.path.join(self.root, uuids.link))
        self.live.add('elsewhere-target')

        self.assertEqual([], self.recovery.sweep(self.context, set()))
        self.stop.assert_not_called()


class MigrateDataTestCase(test.NoDBTestCase):
    """What the source keeps of its migrate_data, and what comes back."""

    def test_round_trip_without_secrets(self):
        migration = objects.Migration(id=7, status='running')
        data = objects.LibvirtLiveMigrateData(
            is_shared_instance_path=False, is_shared_block_storage=False,
            block_migration=True, instance_relative_path=uuids.instance,
            old_vol_attachment_ids={uuids.volume: uuids.attachment},
            vtpm_secret_uuid=uuids.secret, vtpm_secret_value='s3cret',
            bdms=[objects.LibvirtLiveMigrateBDMInfo(
                serial=uuids.volume, connection_info_json='{"auth": "x"}')],
            migration=migration)

        text = nova_internals.migrate_data_to_json(data)

        self.assertNotIn('s3cret', text)
        self.assertNotIn('auth', text)
        back = nova_internals.migrate_data_from_json(text, migration)
        self.assertIsInstance(back, objects.LibvirtLiveMigrateData)
        self.assertIs(migration, back.migration)
        self.assertTrue(back.has_vtpm)
        self.assertFalse(back.is_shared_instance_path)
        self.assertEqual(uuids.instance, back.instance_relative_path)
        self.assertEqual({uuids.volume: uuids.attachment},
                         back.old_vol_attachment_ids)
        self.assertNotIn('bdms', back)
        # The object given is untouched.
        self.assertEqual('s3cret', data.vtpm_secret_value)

    def test_vifs_kept_with_the_sources(self):
        """Nova's post-migration after a restart unplugs the source's VIF.

        ``_post_live_migration`` unplugs ``migrate_data.vifs``'
        ``source_vif`` (the destination's binding may differ, e.g. a
        hybrid OVS plug there), and the rollback at the source reattaches
        them: the recovery's migrate_data keeps both.
        """
        source_vif = network_model.VIF(
            id=uuids.port, address='fa:16:3e:4c:2c:30', type='ovs',
            details={}, network=network_model.Network(bridge='br-int'))
        vif = objects.VIFMigrateData(
            port_id=uuids.port, vnic_type='normal', vif_type='ovs',
            vif_details={'ovs_hybrid_plug': True}, profile={}, host='dest')
        vif.source_vif = source_vif
        data = objects.LibvirtLiveMigrateData(
            is_shared_instance_path=False, vifs=[vif])

        back = nova_internals.migrate_data_from_json(
            nova_internals.migrate_data_to_json(data), objects.Migration())

        (kept,) = back.vifs
        self.assertEqual(source_vif, kept.source_vif)
        self.assertEqual({'ovs_hybrid_plug': True},
                         kept.get_dest_vif()['details'])

    def test_rebuilt_when_nothing_was_kept(self):
        migration = objects.Migration(id=7)
        back = nova_internals.migrate_data_from_json(None, migration)
        self.assertEqual((False, False, True, False),
                         (back.is_shared_instance_path,
                          back.is_shared_block_storage,
                          back.block_migration, back.has_vtpm))
        self.assertIs(migration, back.migration)


class _ResolveTestBase(test.NoDBTestCase):
    """One interrupted cutover on the source, its libvirt mocked."""

    def setUp(self):
        super().setUp()
        self.context = nova_context.get_admin_context()
        self.nova = mock.Mock()
        self.lv = self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.libvirt')).mock.return_value
        self.nova.open_destination.side_effect = OSError('no route')
        self.domain = self.nova.get_domain.return_value
        self.domain.info.return_value = [self.lv.VIR_DOMAIN_PAUSED]
        self.domain.XMLDesc.return_value = '<domain><devices/></domain>'
        self.compute = mock.Mock()
        self.bindings = mock.Mock()
        self.recovery = rec.Recovery(self.nova, self.compute,
                                     lambda dest: 'qemu+tcp://%s/system'
                                     % dest, self.bindings)
        self.recovery.host = 'host-a'
        self.fault = self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.add_instance_fault')).mock
        self.note = self.useFixture(fixtures.MockPatchObject(
            rec.Recovery, '_note_phase')).mock
        self.lock = self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.lock_instance')).mock
        self.instance = objects.Instance(
            id=1, uuid=uuids.instance, vm_state='active',
            task_state='migrating', system_metadata={})
        self.useFixture(fixtures.MockPatchObject(self.instance, 'save'))
        self.migration = objects.Migration(dest_compute='host-b',
                                           status='running')
        self.useFixture(fixtures.MockPatchObject(self.migration, 'save'))

    def _resolve(self, phase):
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.record.MigrationRecord.carried',
            return_value=mock.Mock(is_cutover=True, phase=(phase, None))))
        return self.recovery.resolve_source(self.context, self.instance,
                                            self.migration)

    def _assert_held(self, held, message=cutover_source.CLONE_UNKNOWN_FAULT,
                     noted=True):
        """Held: ERROR, locked, a fault; nothing destroyed or started.

        :returns: the fault's details (its exception's text)
        """
        # Nova does not initialise the instance.
        self.assertTrue(held)
        self.assertEqual(('error', None, 'error'),
                         (self.instance.vm_state, self.instance.task_state,
                          self.migration.status))
        if noted:
            self.note.assert_called_once_with(self.context, self.instance,
                                              v2v_record.CLONE_UNKNOWN)
        else:
            self.note.assert_not_called()
        # Locked by an administrator: the owner can neither reboot,
        # rebuild nor delete the server.
        self.lock.assert_called_once_with(self.context, self.instance,
                                          cutover_source.HELD_LOCK_REASON)
        # The message (the owner sees it) names no host; the details
        # (administrators only) are the exception's, whole.
        self.fault.assert_called_once_with(
            self.context, self.instance, message, exc=mock.ANY,
            exc_info=mock.ANY)
        exc = self.fault.call_args[1]['exc']
        self.assertIs(exc, self.fault.call_args[1]['exc_info'][1])
        self.assertLessEqual(len(message), 255)
        for name in ('host-a', 'host-b', 'instance-00000001'):
            self.assertNotIn(name, message)
        details = str(exc)
        for fragment in ('to host-b', 'on host-a', 'instance-00000001',
                         'virsh domstate instance-00000001',
                         "When a cutover's clone state is unknown"):
            self.assertIn(fragment, details)
        # Nothing resumed, started or destroyed; Nova's callbacks unused.
        self.domain.resume.assert_not_called()
        self.domain.create.assert_not_called()
        self.domain.destroy.assert_not_called()
        self.assertEqual([], self.compute.mock_calls)
        return details

    def _clone(self, active):
        self.nova.open_destination.side_effect = None
        clone = self.nova.open_destination.return_value.lookupByUUIDString
        clone.return_value.isActive.return_value = active
        return clone.return_value


class HoldTestCase(_ResolveTestBase):
    """The clone's state unknown: nothing destroyed, ERROR, a fault."""

    def _rollback_through_nova(self):
        """What a rollback through Nova's recover_method reads, stubbed."""
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.source_bdms'))
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.migrate_data_from_json'))
        self.useFixture(fixtures.MockPatchObject(
            rec.Recovery, '_forget_migrate_data'))

    def test_unreachable_destination_in_a_clone_phase(self):
        details = self._assert_held(self._resolve(v2v_record.CLONE_RUNNING))

        for fragment in ('in phase clone-running',
                         'the destination cannot say whether the clone runs',
                         'on host-a: paused', 'on host-b: unknown',
                         'neither restarted nor destroyed'):
            self.assertIn(fragment, details)

    def test_recorded_clone_unknown(self):
        details = self._assert_held(self._resolve(v2v_record.CLONE_UNKNOWN),
                                    noted=False)

        self.nova.open_destination.assert_not_called()
        self.assertIn('on host-b: not looked up', details)

    def test_a_lock_that_fails_still_holds(self):
        """ERROR saved all the same; Nova's _init_instance skips it."""
        self.lock.side_effect = RuntimeError('db')

        self.assertTrue(self._resolve(v2v_record.CLONE_RUNNING))

        self.assertEqual(('error', None, 'error'),
                         (self.instance.vm_state, self.instance.task_state,
                          self.migration.status))
        self.instance.save.assert_called_once_with()
        details = str(self.fault.call_args[1]['exc'])
        self.assertIn('the server could not be locked', details)
        self.assertNotIn('the server is locked', details)

    def test_unreachable_destination_before_the_clone_rolls_back(self):
        """No clone can exist yet: an unreachable destination is no stop."""
        self._rollback_through_nova()
        order = mock.Mock()
        order.attach_mock(self.bindings.restore, 'restore')
        order.attach_mock(self.domain.resume, 'resume')

        self.assertFalse(self._resolve(v2v_record.SOURCE_STOPPED))

        # The source's bindings are the active ones before its guest runs.
        self.assertEqual([mock.call.restore(self.context, self.instance,
                                            'host-b'),
                          mock.call.resume()], order.mock_calls)

        self.nova.open_destination.assert_called_once_with(
            'qemu+tcp://host-b/system')
        self.domain.resume.assert_called_once_with()
        self.compute.recover_method.return_value.assert_called_once_with(
            self.context, self.instance, 'host-b', mock.ANY,
            migration_status='error')
        self.fault.assert_not_called()

    def test_the_downtime_event_ends_when_the_source_runs_again(self):
        self._rollback_through_nova()
        finish = self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.action_event_finish')).mock
        order = mock.Mock()
        order.attach_mock(self.domain.resume, 'resume')
        order.attach_mock(finish, 'finish')

        self.assertFalse(self._resolve(v2v_record.SOURCE_STOPPED))

        self.assertEqual(['resume', 'finish'],
                         [c[0] for c in order.mock_calls])
        args, kwargs = finish.call_args
        self.assertEqual((self.context, self.instance,
                          'compute_v2v_cutover_downtime'), args)
        self.assertIn('rolled back as host-a started again: ',
                      kwargs['failure'])

    def test_no_downtime_event_is_only_logged(self):
        self._rollback_through_nova()
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.action_event_finish',
            side_effect=RuntimeError('no such event')))
        self.assertFalse(self._resolve(v2v_record.SOURCE_STOPPED))
        self.domain.resume.assert_called_once_with()
        self.assertIn('No V2V cutover downtime event ended: no such event',
                      self.stdlog.logger.output)

    def test_rolled_back_not_migrating_restores_the_bindings(self):
        """Nova's rollback cannot run: the bindings are restored anyway."""
        self.instance.task_state = None

        self.assertFalse(self._resolve(v2v_record.SOURCE_STOPPED))

        self.bindings.restore.assert_called_once_with(
            self.context, self.instance, 'host-b')
        self.compute.recover_method.assert_not_called()
        self.assertEqual('error', self.migration.status)
        self.domain.resume.assert_called_once_with()

    def test_unreachable_destination_after_the_point_of_no_return(self):
        """No clone seen: the paused source is not destroyed."""
        self._assert_held(self._resolve(v2v_record.CLONE_PROVEN))
        self.nova.open_destination.assert_called_once_with(
            'qemu+tcp://host-b/system')

    def test_unreachable_destination_once_the_source_was_removed(self):
        self._assert_held(self._resolve(v2v_record.SOURCE_REMOVED))

    def test_inactive_clone_after_the_point_of_no_return(self):
        clone = self._clone(active=False)

        details = self._assert_held(self._resolve(v2v_record.CLONE_PROVEN),
                                    rec.HELD_FAULT)

        clone.destroy.assert_not_called()
        clone.undefine.assert_not_called()
        self.assertIn('on host-b: defined but not running', details)

    def test_running_source_after_the_point_of_no_return(self):
        self._clone(active=True)
        self.domain.info.return_value = [self.lv.VIR_DOMAIN_RUNNING]

        details = self._assert_held(
            self._resolve(v2v_record.SOURCE_REMOVED), rec.HELD_FAULT)

        self.assertIn('on host-a: running', details)
        self.assertIn('on host-b: active (running or paused)', details)

    def test_not_migrating_after_the_point_of_no_return(self):
        """Checked before anything is destroyed; Nova skips the instance.

        Nova's post-migration flow cannot run; the paused source left to
        Nova's _init_instance could run again next to the clone.
        """
        self._clone(active=True)
        self.instance.task_state = None

        details = self._assert_held(self._resolve(v2v_record.CLONE_PROVEN),
                                    rec.HELD_FAULT)

        self.assertIn('the instance is not migrating (task state None)',
                      details)
        self.assertEqual([], self.recovery._pending)

    def test_a_clone_whose_removal_is_unconfirmed(self):
        clone = self._clone(active=True)
        self.lv.libvirtError = type('libvirtError', (Exception,), {})
        clone.destroy.side_effect = self.lv.libvirtError('busy')

        details = self._assert_held(
            self._resolve(v2v_record.CLONE_RUNNING), rec.HELD_FAULT)

        self.assertIn('the removal of the clone could not be confirmed',
                      details)

    def test_rolled_back_with_the_destination_unreachable(self):
        """The clone's removal was confirmed: no hold, no false fault."""
        self._rollback_through_nova()

        self.assertFalse(self._resolve(v2v_record.ROLLED_BACK))

        self.domain.resume.assert_called_once_with()
        self.compute.recover_method.return_value.assert_called_once_with(
            self.context, self.instance, 'host-b', mock.ANY,
            migration_status='error')
        self.fault.assert_not_called()
        self.assertEqual('migrating', self.instance.task_state)

    def test_a_clone_that_survives_its_destroy_is_not_undefined(self):
        clone = self._clone(active=True)
        self.lv.libvirtError = type('libvirtError', (Exception,), {})
        clone.destroy.side_effect = self.lv.libvirtError('busy')
        clone.isActive.side_effect = None
        clone.isActive.return_value = True

        self._resolve(v2v_record.CLONE_RUNNING)

        clone.undefine.assert_not_called()
        self.domain.resume.assert_not_called()

    def test_rolled_back_removes_a_clone_found(self):
        self._rollback_through_nova()
        conn = self.nova.open_destination.return_value
        clone = self._clone(active=False)
        self.lv.libvirtError = type('libvirtError', (Exception,), {})
        gone = self.lv.libvirtError('gone')
        gone.get_error_code = lambda: self.lv.VIR_ERR_NO_DOMAIN
        conn.lookupByUUIDString.side_effect = [clone, clone, gone]

        self._resolve(v2v_record.ROLLED_BACK)

        clone.destroy.assert_called_once_with()
        clone.undefine.assert_called_once_with()
        self.domain.resume.assert_called_once_with()
        self.fault.assert_not_called()


class BoundedProbeTestCase(_ResolveTestBase):
    """A destination that does not answer holds init_host for a bound."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(rec, 'PROBE_TIMEOUT', 0.2))
        self.release = threading.Event()
        self.addCleanup(self.release.set)

    def _hang(self, *args, **kwargs):
        self.release.wait(60)
        raise OSError('no route to host')

    def test_a_silent_destination_is_an_unknown_clone(self):
        self.nova.open_destination.side_effect = self._hang
        start = time.monotonic()

        held = self._resolve(v2v_record.CLONE_RUNNING)

        self.assertLess(time.monotonic() - start, 5)
        self._assert_held(held)

    def test_a_removal_without_answer_is_unconfirmed(self):
        clone = self._clone(active=True)
        clone.destroy.side_effect = self._hang
        start = time.monotonic()

        held = self._resolve(v2v_record.CLONE_RUNNING)

        self.assertLess(time.monotonic() - start, 5)
        clone.destroy.assert_called_once_with()
        # The clone may still run: the source stays paused.
        self._assert_held(held, rec.HELD_FAULT)
