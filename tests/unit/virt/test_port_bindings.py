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

"""A cutover's port bindings: activated as the clone runs, restored.

:class:`port_bindings.PortBindings` on its own, where the cutover calls
it (the phases around it, the clone's removal, a held cutover) and the
driver's ``rollback_live_migration_at_source``.
"""

from unittest import mock

import fixtures
from nova import exception
from nova import objects
from nova.virt.libvirt import driver as libvirt_driver

from nova_v2v import exception as v2v_exception
from nova_v2v.planning import planner
from nova_v2v.transfer import exception as transfer_exception
from nova_v2v.virt.libvirt import port_bindings
from nova_v2v.virt.libvirt import record as v2v_record
from tests.unit.virt import test_cutover_source
from tests.unit.virt import test_driver

BEFORE_NO_RETURN = test_cutover_source.BEFORE_NO_RETURN
ACTIVATE = ('activate', 'dest', 'src')
RESTORE = ('activate', 'src', 'dest')


class PortBindingsTestCase(test_driver._DriverTestBase):

    def setUp(self):
        super().setUp()
        self.compute = mock.Mock()
        self.bindings = port_bindings.PortBindings(self.compute)

    def test_activate_on_the_destination(self):
        self.assertTrue(self.bindings.activate(self.context, self.instance,
                                               'dest'))
        self.compute.activate_port_bindings.assert_called_once_with(
            self.context, self.instance, host='dest', from_host='src')
        self.assertIn('the port bindings on dest are active as the clone '
                      'runs', self.stdlog.logger.output)

    def test_activation_failure_is_logged_only(self):
        self.compute.activate_port_bindings.side_effect = (
            exception.PortBindingActivationFailed(port_id='p1', host='dest'))

        self.assertFalse(self.bindings.activate(self.context, self.instance,
                                                'dest'))
        self.assertIn('the port bindings on dest could not be activated as '
                      'the clone started', self.stdlog.logger.output)
        self.assertIn('Nova activates them when the move completes',
                      self.stdlog.logger.output)

    def test_restore_on_the_instances_host(self):
        self.assertTrue(self.bindings.restore(self.context, self.instance,
                                              'dest'))
        self.compute.activate_port_bindings.assert_called_once_with(
            self.context, self.instance, host='src', from_host='dest')

    def test_restore_failure_says_what_to_do(self):
        self.compute.activate_port_bindings.side_effect = RuntimeError(
            'neutron unreachable')

        self.assertFalse(self.bindings.restore(self.context, self.instance,
                                               'dest'))
        self.assertIn('PUT /v2.0/ports/<port>/bindings/src/activate',
                      self.stdlog.logger.output)


class _CutoverBindingsBase(test_cutover_source._SourceTestBase):
    """The cutover's script, with the order of phases and activations."""

    def setUp(self):
        super().setUp()
        self.order = []
        self.compute = mock.Mock()
        self.compute.activate_port_bindings.side_effect = (
            lambda context, instance, host, from_host: self.order.append(
                ('activate', host, from_host)))
        self.drvr.v2v_port_bindings._compute = self.compute
        self.record.record_phase.side_effect = self._phase_in_order
        self.recover.side_effect = lambda *a, **k: self.order.append(
            'recover')
        self.post.side_effect = lambda *a, **k: self.order.append('post')
        self.lookup = self.conn.lookupByUUIDString.return_value
        self.lookup.destroy.side_effect = lambda: self.order.append(
            'destroy')

    def _phase_in_order(self, phase):
        self._record_phase(phase)
        self.order.append(phase)

    def _wait_for_activity(self, *args, **kwargs):
        self.order.append('proof')
        return super()._wait_for_activity(*args, **kwargs)


class CutoverActivatesTestCase(_CutoverBindingsBase):

    def test_activated_once_the_clone_runs_before_its_proof(self):
        self._run()

        # Once the clone's domain runs and the phase says so, before the
        # proof (which takes the guest's boot and the settle window) and
        # long before Nova's post-migration.
        self.assertEqual(
            BEFORE_NO_RETURN[:5] + [ACTIVATE, 'proof'] +
            BEFORE_NO_RETURN[5:] + [v2v_record.SOURCE_REMOVED, 'post'],
            self.order)

    def test_activation_failure_does_not_fail_the_cutover(self):
        self.compute.activate_port_bindings.side_effect = (
            exception.PortBindingActivationFailed(port_id='p1', host='dest'))

        self._run()

        self.assertEqual(BEFORE_NO_RETURN + [v2v_record.SOURCE_REMOVED,
                                             'post'],
                         [o for o in self.order if o != 'proof'])
        self.recover.assert_not_called()

    def test_clone_not_starting_moves_no_binding(self):
        self.clone_error = transfer_exception.CloneNotRunning('stopped')

        self._run()

        self.assertNotIn(ACTIVATE, self.order)
        self.assertNotIn(RESTORE, self.order)
        self.assertEqual('recover', self.order[-1])

    def test_unrecorded_clone_running_moves_no_binding(self):
        self.unrecordable = {v2v_record.CLONE_RUNNING}

        self._run()

        self.compute.activate_port_bindings.assert_not_called()
        self.assertIn('destroy', self.order)
        self.assertEqual('recover', self.order[-1])


class CutoverRestoresTestCase(_CutoverBindingsBase):

    def setUp(self):
        super().setUp()
        self.proof_error = transfer_exception.CloneNotProven(
            'the clone showed no guest activity within 300 s')

    def test_source_bindings_active_again_once_the_clone_is_removed(self):
        self._run()

        # Activated as the clone ran; the clone removed, then the
        # source's bindings active again, before the source runs again
        # (the engine's rollback, then Nova's recover_method).
        self.assertEqual(
            BEFORE_NO_RETURN[:5] + [ACTIVATE, 'proof', 'destroy', RESTORE,
                                    v2v_record.ROLLED_BACK, 'recover'],
            self.order)

    def test_unproven_clone_that_is_kept_keeps_the_bindings(self):
        # Its guest showed activity at the last look (its disks written
        # on since the first writes the wait saw): the move completes.
        clock = mock.Mock()
        clock.monotonic.return_value = 1000.0
        clock.sleep.side_effect = lambda seconds: setattr(
            clock.monotonic, 'return_value',
            clock.monotonic.return_value + seconds)
        self.useFixture(fixtures.MockPatchObject(
            test_cutover_source.cutover_transfer.clone, 'time', clock))
        watch = test_cutover_source.cutover_transfer.clone.ActivityWatch(
            settle=10)
        watch.add({'sda': 3}, False, 940.0)
        self.proof_error = transfer_exception.CloneNotProven(
            'the clone showed no guest activity within 300 s', watch=watch)
        self.lookup.blockStats.return_value = test_cutover_source._stats(250)

        self._run()

        self.assertNotIn(RESTORE, self.order)
        self.assertEqual('post', self.order[-1])

    def test_held_cutover_moves_no_binding_back(self):
        # The clone's removal cannot be confirmed: it may run, with the
        # bindings it has; the administrator decides.
        self.source.nova.open_destination.side_effect = [
            self.conn, self.conn, self.conn,
            test_cutover_source.cutover_transfer.clone.libvirt.libvirtError(
                'unreachable')]
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.lock_instance'))
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.virt.libvirt.nova_internals.add_instance_fault'))

        self.assertRaises(v2v_exception.V2VCloneStateUnknown, self._run)

        self.assertIn(ACTIVATE, self.order)
        self.assertNotIn(RESTORE, self.order)
        self.assertNotIn('recover', self.order)


class DriverRollbackTestCase(test_driver._DriverTestBase):
    """Nova's recover_method reaches the driver's rollback at source."""

    def setUp(self):
        super().setUp()
        self.compute = mock.Mock()
        self.drvr.v2v_port_bindings._compute = self.compute
        self.super_rollback = self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver,
            'rollback_live_migration_at_source')).mock
        self.data = objects.LibvirtLiveMigrateData(
            migration=objects.Migration(source_compute='src',
                                        dest_compute='dest'))

    def _carry(self, mode):
        plan = planner.MigrationPlan(
            mode=mode, source_host='src', dest_host='dest',
            source_accel='kvm', dest_accel='tcg', block_migration=True,
            disks=(planner.DiskPlan('/i/u/disk', 'qcow2', 'raw', 10),))
        self.instance.system_metadata[v2v_record.SYSMETA_PLAN] = (
            plan.to_json())

    def test_cutover_rollback_restores_the_source_bindings(self):
        self._carry(planner.V2V_CUTOVER)
        self.super_rollback.side_effect = lambda *a: self.assertEqual(
            1, self.compute.activate_port_bindings.call_count)

        self.drvr.rollback_live_migration_at_source(
            self.context, self.instance, self.data)

        # Before Nova's own (and before Nova's teardown of the
        # destination's bindings, which follows the driver's call).
        self.compute.activate_port_bindings.assert_called_once_with(
            self.context, self.instance, host='src', from_host='dest')
        self.super_rollback.assert_called_once_with(
            self.context, self.instance, self.data)

    def test_restore_failure_does_not_stop_novas_rollback(self):
        self._carry(planner.V2V_CUTOVER)
        self.compute.activate_port_bindings.side_effect = RuntimeError('x')

        self.drvr.rollback_live_migration_at_source(
            self.context, self.instance, self.data)

        self.super_rollback.assert_called_once()

    def test_novas_own_moves_rollback_untouched(self):
        for mode in (None, planner.BLOCK_LIVE):
            if mode is not None:
                self._carry(mode)
            self.drvr.rollback_live_migration_at_source(
                self.context, self.instance, self.data)

        self.compute.activate_port_bindings.assert_not_called()
        self.assertEqual(2, self.super_rollback.call_count)
