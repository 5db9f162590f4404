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

"""The source's cutover in the driver: its phases and its three outcomes.

The engine (:func:`nova_v2v.transfer.cutover.run_source_cutover`) is
replaced by a script that calls the driver's hooks and ``start_clone`` in
the engine's order; the engine's own sequence is tested in
``tests/unit/transfer``.
"""

import threading
import time
from unittest import mock

from nova import objects

from nova_v2v import exception as v2v_exception
from nova_v2v.transfer import exception as transfer_exception
from nova_v2v.virt.libvirt import cutover_source
from nova_v2v.virt.libvirt import cutover_transfer
from nova_v2v.virt.libvirt import downtime
from nova_v2v.virt.libvirt import nova_internals
from nova_v2v.virt.libvirt import record as v2v_record
from tests.unit.virt import test_driver

BEFORE_NO_RETURN = [v2v_record.SYNCING, v2v_record.CUTTING_OVER,
                    v2v_record.SOURCE_STOPPED, v2v_record.CLONE_STARTED,
                    v2v_record.CLONE_RUNNING, v2v_record.CLONE_PROVEN]
GUEST_XML = ('<domain><devices><disk type="file" device="disk">'
             '<source file="/i/u/disk"/><target dev="vda" bus="virtio"/>'
             '</disk></devices></domain>')
CLONE_XML = ('<domain><devices><disk type="file" device="disk">'
             '<source file="/i/u/disk"/><target dev="sda" bus="sata"/>'
             '</disk></devices></domain>')


def _stats(writes):
    # virDomainBlockStats: rd_req, rd_bytes, wr_req, wr_bytes, errs
    return [10, 4096, writes, writes * 512, 0]


class _SourceTestBase(test_driver._DriverTestBase):

    def setUp(self):
        super().setUp()
        self.source = self.drvr.v2v_cutover_source
        self.phases = []
        # The phases and the downtime event's start and end, in order.
        self.timeline = []
        self.unrecordable = set()
        self.event_error = None
        self.record = mock.Mock(
            exports=[{'path': '/i/u/disk', 'name': 'exp',
                      'host': '192.0.2.2', 'port': 10810}],
            plan=None)
        self.record.record_phase.side_effect = self._record_phase
        self.post = mock.Mock()
        self.recover = mock.Mock()
        self.data = objects.LibvirtLiveMigrateData()
        self.clone = mock.Mock()
        self.clone.name.return_value = 'instance-00000001'
        self.conn = mock.Mock()
        # The clone as the destination's libvirt finds it: active until
        # destroyed.
        found = self.conn.lookupByUUIDString.return_value
        found.isActive.side_effect = lambda: not found.destroy.called
        # Its disks' block statistics: no write.
        found.blockStats.return_value = _stats(0)
        # What the script does at the clone's start and the proof.
        self.engine_error = None
        self.clone_error = None
        self.proof_error = None
        self.drvr._host.get_guest = mock.Mock()
        self.drvr._host.get_guest.return_value.get_xml_desc.return_value = (
            GUEST_XML)
        for target, attr, value in (
                (self.source, 'clone_xml', mock.Mock(return_value=CLONE_XML)),
                (self.source.nova, 'get_domain', mock.Mock()),
                (self.source.nova, 'open_destination',
                 mock.Mock(return_value=self.conn)),
                (cutover_transfer.cutover, 'run_source_cutover',
                 mock.Mock(side_effect=self._engine)),
                (cutover_transfer.clone, 'start_clone_retrying',
                 mock.Mock(side_effect=self._start_clone)),
                (cutover_transfer.clone, 'wait_for_activity',
                 mock.Mock(side_effect=self._wait_for_activity)),
                (nova_internals, 'action_event_start',
                 mock.Mock(side_effect=self._event_start)),
                (nova_internals, 'action_event_finish',
                 mock.Mock(side_effect=self._event_finish))):
            patcher = mock.patch.object(target, attr, value)
            patcher.start()
            self.addCleanup(patcher.stop)

    def _record_phase(self, phase):
        if phase in self.unrecordable:
            raise RuntimeError('database unreachable')
        self.phases.append(phase)
        self.timeline.append(phase)

    def _event_start(self, context, instance, name, host):
        self.assertEqual((self.context, self.instance, downtime.EVENT,
                          self.instance.host),
                         (context, instance, name, host))
        if self.event_error:
            raise self.event_error
        self.timeline.append('downtime starts')

    def _event_finish(self, context, instance, name, failure=None):
        self.assertEqual((self.context, self.instance, downtime.EVENT),
                         (context, instance, name))
        self.timeline.append(('downtime ends', failure))

    def _engine(self, dom, disks, clone_xml, start_clone, hooks, options):
        """The engine's order: the hooks, the clone's start."""
        if not hooks.enter_cutover():
            raise transfer_exception.CutoverCancelled('cancelled')
        hooks.source_stopped('suspended')
        hooks.before_clone()
        if self.engine_error:
            raise self.engine_error
        clone, _t = start_clone(clone_xml)
        return {'downtime_seconds': 1.0, 'stop': 'suspended',
                'bytes_copied': 10, 'clone': clone.name()}

    def _start_clone(self, conn, xml, verify, timeout):
        self.assertEqual((None, 0), (verify, timeout))
        if self.clone_error:
            raise self.clone_error
        return self.clone, 1.0

    def _wait_for_activity(self, lookup, devs, timeout, agent=False,
                           settle=0):
        self.assertIs(self.conn.lookupByUUIDString.return_value, lookup())
        if self.proof_error:
            raise self.proof_error
        return 'its disk(s) %s written (1 write requests)' % devs[0]

    def _run(self):
        self.source.run(self.context, self.instance, 'dest', self.post,
                        self.recover, True, self.data, self.record)


class PhasesTestCase(_SourceTestBase):

    def test_every_phase_recorded_in_order_then_post(self):
        self._run()

        self.assertEqual(BEFORE_NO_RETURN + [v2v_record.SOURCE_REMOVED],
                         self.phases)
        self.post.assert_called_once_with(self.context, self.instance,
                                          'dest', True, self.data)
        self.recover.assert_not_called()
        # The clone's disks, as the clone defines them, are sampled.
        cutover_transfer.clone.wait_for_activity.assert_called_once_with(
            mock.ANY, ['sda'], 300, agent=False, settle=10)
        self.assertIn('waiting up to 300 s for the guest of the clone '
                      'instance-00000001 to show activity: its disks '
                      'written again past the 10 s that follow their first '
                      'writes',
                      self.stdlog.logger.output)
        self.conn.lookupByUUIDString.assert_called_once_with(
            self.instance.uuid)
        # One connection for the start, one for the proof, both closed.
        self.assertEqual(2, self.source.nova.open_destination.call_count)
        self.assertEqual(2, self.conn.close.call_count)
        self.clone.destroy.assert_not_called()

    def test_sync_bandwidth_nova_or_the_servers_share(self):
        self._run()
        options = cutover_transfer.cutover.run_source_cutover.call_args[0][5]
        self.assertEqual(0, options.bandwidth)
        # A drain's share, from the server's metadata, for all its disks
        # (one here).
        self.flags(bandwidth_from_metadata=True, group='v2v')
        self.instance.metadata = {'nova-v2v:bandwidth_mib': '25'}
        self._run()
        options = cutover_transfer.cutover.run_source_cutover.call_args[0][5]
        self.assertEqual(25 << 20, options.bandwidth)

    def test_tls_mirror_checks_the_name_nova_migrates_to(self):
        self.flags(live_migration_with_native_tls=True, group='libvirt')
        self.record.exports[0]['tls'] = True
        self._run()
        disks = cutover_transfer.cutover.run_source_cutover.call_args[0][1]
        self.assertEqual([('192.0.2.2', 'dest')],
                         [(d.host, d.tls_hostname) for d in disks])

    def test_tls_mirror_to_the_inbound_address(self):
        # The destination sets [libvirt] live_migration_inbound_addr: Nova
        # migrates to that address, the export listens on it.
        self.flags(live_migration_with_native_tls=True, group='libvirt')
        self.record.exports[0].update(tls=True, host='198.51.100.2')
        self.data.target_connect_addr = '198.51.100.2'
        self._run()
        disks = cutover_transfer.cutover.run_source_cutover.call_args[0][1]
        self.assertEqual([('198.51.100.2', None)],
                         [(d.host, d.tls_hostname) for d in disks])

    def test_phase_logged(self):
        record = v2v_record.MigrationRecord(self.context, self.instance, {})
        cutover_source.note_phase(record, v2v_record.CLONE_PROVEN,
                                  self.instance)
        self.assertIn('V2V phase clone-proven', self.stdlog.logger.output)
        self.assertEqual(
            v2v_record.CLONE_PROVEN,
            v2v_record.MigrationRecord.carried(
                self.context, self.db_instance).phase[0])

    def test_activity_options(self):
        self.flags(cutover_activity_timeout=7, cutover_activity_settle=3,
                   group='v2v')
        self._run()
        cutover_transfer.clone.wait_for_activity.assert_called_once_with(
            mock.ANY, ['sda'], 7, agent=False, settle=3)

    def test_guest_agent_asked_when_the_image_has_one(self):
        self.instance.system_metadata['image_hw_qemu_guest_agent'] = 'yes'
        self._run()
        cutover_transfer.clone.wait_for_activity.assert_called_once_with(
            mock.ANY, ['sda'], 300, agent=True, settle=10)
        self.assertIn('to show activity: its guest agent answering '
                      'guest-ping', self.stdlog.logger.output)

    def test_unrecorded_phase_before_no_return_is_not_entered(self):
        for phase in BEFORE_NO_RETURN:
            with self.subTest(phase=phase):
                self.phases.clear()
                self.unrecordable = {phase}
                self.post.reset_mock()
                self.recover.reset_mock()

                self._run()

                index = BEFORE_NO_RETURN.index(phase)
                self.assertEqual(BEFORE_NO_RETURN[:index] +
                                 [v2v_record.ROLLED_BACK], self.phases)
                self.post.assert_not_called()
                self.recover.assert_called_once_with(
                    self.context, self.instance, 'dest', self.data)

    def test_unrecorded_phase_after_no_return_is_only_logged(self):
        self.unrecordable = {v2v_record.SOURCE_REMOVED}

        self._run()

        self.assertEqual(BEFORE_NO_RETURN, self.phases)
        self.post.assert_called_once()
        self.recover.assert_not_called()
        self.assertIn('Cannot record the V2V phase source-removed',
                      self.stdlog.logger.output)

    def test_note_phase_raises_only_when_required(self):
        record = mock.Mock()
        record.record_phase.side_effect = RuntimeError('db')
        self.assertRaises(v2v_exception.V2VCutoverFailed,
                          cutover_source.note_phase, record,
                          v2v_record.SYNCING, self.instance)
        cutover_source.note_phase(record, v2v_record.ROLLED_BACK,
                                  self.instance, required=False)


class DowntimeEventTestCase(_SourceTestBase):
    """The downtime, as an event of the live migration's action."""

    def test_from_the_stop_to_the_clone_running(self):
        self._run()
        self.assertEqual(
            [v2v_record.SYNCING, v2v_record.CUTTING_OVER, 'downtime starts',
             v2v_record.SOURCE_STOPPED, v2v_record.CLONE_STARTED,
             v2v_record.CLONE_RUNNING, ('downtime ends', None),
             v2v_record.CLONE_PROVEN, v2v_record.SOURCE_REMOVED],
            self.timeline)

    def test_to_the_source_running_again_with_the_reason(self):
        self.engine_error = transfer_exception.SyncFailed('the mirror broke')
        self._run()
        self.assertEqual(
            [v2v_record.SYNCING, v2v_record.CUTTING_OVER, 'downtime starts',
             v2v_record.SOURCE_STOPPED,
             ('downtime ends', 'the mirror broke'), v2v_record.ROLLED_BACK],
            self.timeline)
        self.recover.assert_called_once_with(
            self.context, self.instance, 'dest', self.data)

    def test_a_clone_that_did_not_start(self):
        self.clone_error = transfer_exception.CloneNotRunning('stopped')
        self._run()
        self.assertEqual(('downtime ends', 'stopped'), self.timeline[-2])

    def test_a_clone_removed_after_it_ran(self):
        # The clone ran (the downtime ended), then showed no activity and
        # was removed: the source runs again, and the event ends again,
        # in error, then.
        self.proof_error = transfer_exception.CloneNotProven('silent')
        self._run()
        ends = [e for e in self.timeline if isinstance(e, tuple)]
        self.assertEqual(2, len(ends))
        self.assertEqual(('downtime ends', None), ends[0])
        self.assertIn('silent', ends[1][1])
        self.assertEqual(v2v_record.ROLLED_BACK, self.timeline[-1])
        self.recover.assert_called_once_with(
            self.context, self.instance, 'dest', self.data,
            migration_status='error')

    def test_ends_after_the_ports_are_active(self):
        order = []
        self.source.bindings.activate = mock.Mock(
            side_effect=lambda *a: order.append('ports'))
        nova_internals.action_event_finish.side_effect = (
            lambda *a, **k: order.append('end'))
        self._run()
        self.assertEqual(['ports', 'end'], order)

    def test_ports_that_fail_end_it_in_error(self):
        self.source.bindings.activate = mock.Mock(
            side_effect=RuntimeError('neutron down'))
        self.source.bindings.restore = mock.Mock()
        self._run()
        ends = [e for e in self.timeline if isinstance(e, tuple)]
        self.assertEqual(1, len(ends))
        self.assertIn('neutron down', ends[0][1])

    def test_none_when_cancelled_before_the_stop(self):
        with mock.patch.object(cutover_source.CutoverState, 'enter_cutover',
                               return_value=False):
            self._run()
        self.assertNotIn('downtime starts', self.timeline)
        self.assertEqual([], [e for e in self.timeline
                              if isinstance(e, tuple)])

    def test_not_recorded_the_cutover_goes_on(self):
        self.event_error = RuntimeError('conductor timed out')
        self._run()
        # Its end is tried all the same (a lost reply: Nova may have it).
        self.assertEqual(BEFORE_NO_RETURN[:5] + [('downtime ends', None)] +
                         BEFORE_NO_RETURN[5:] + [v2v_record.SOURCE_REMOVED],
                         self.timeline)
        self.post.assert_called_once_with(self.context, self.instance,
                                          'dest', True, self.data)
        self.assertIn("Cannot record the V2V cutover's downtime",
                      self.stdlog.logger.output)

    def test_an_end_that_fails_is_logged(self):
        nova_internals.action_event_finish.side_effect = RuntimeError('db')
        self._run()
        self.post.assert_called_once_with(self.context, self.instance,
                                          'dest', True, self.data)
        self.assertIn("Cannot end the V2V cutover's downtime event",
                      self.stdlog.logger.output)


class NoActivityTestCase(_SourceTestBase):

    def setUp(self):
        super().setUp()
        self.proof_error = transfer_exception.CloneNotProven(
            'the clone showed no guest activity within 300 s')
        self.lookup = self.conn.lookupByUUIDString.return_value

    def test_clone_without_activity_removed_rolled_back_in_error(self):
        self._run()

        self.assertEqual(BEFORE_NO_RETURN[:5] + [v2v_record.ROLLED_BACK],
                         self.phases)
        # Removed through a connection of its own, by the instance's UUID.
        self.lookup.destroy.assert_called_once_with()
        self.lookup.undefine.assert_called_once_with()
        self.post.assert_not_called()
        self.recover.assert_called_once_with(
            self.context, self.instance, 'dest', self.data,
            migration_status='error')

    def test_reason_of_the_rollback_event(self):
        states = []
        self.recover.side_effect = lambda *a, **k: states.append(
            self.source.state(self.instance))

        self._run()

        self.assertEqual('the clone showed no guest activity within 300 s',
                         states[0].failure)

    def test_unrecorded_proof_removes_the_clone(self):
        self.proof_error = None
        self.unrecordable = {v2v_record.CLONE_PROVEN}

        self._run()

        self.lookup.destroy.assert_called_once_with()
        self.recover.assert_called_once_with(
            self.context, self.instance, 'dest', self.data)

    def test_a_clone_that_did_not_run_keeps_novas_status(self):
        # start_clone removed it already: no proof was asked.
        self.clone_error = transfer_exception.CloneNotRunning('stopped')
        self._run()
        self.assertEqual(BEFORE_NO_RETURN[:4] + [v2v_record.ROLLED_BACK],
                         self.phases)
        cutover_transfer.clone.wait_for_activity.assert_not_called()
        self.recover.assert_called_once_with(
            self.context, self.instance, 'dest', self.data)


class CloneStateUnknownTestCase(_SourceTestBase):

    def setUp(self):
        super().setUp()
        self.engine_error = transfer_exception.CloneStateUnknown(
            'the clone instance-00000001 failed (EOF) and the destination '
            'became unreachable', clone='instance-00000001')
        self.fault = self.useFixture(test_driver.fixtures.MockPatchObject(
            nova_internals.compute_utils, 'add_instance_fault_from_exc')).mock
        self.lock = self.useFixture(test_driver.fixtures.MockPatchObject(
            nova_internals, 'lock_instance')).mock

    def test_neither_callback_and_novas_error_path(self):
        exc = self.assertRaises(v2v_exception.V2VCloneStateUnknown,
                                self._run)

        self.post.assert_not_called()
        self.recover.assert_not_called()
        self.assertEqual(BEFORE_NO_RETURN[:3] + [v2v_record.CLONE_UNKNOWN],
                         self.phases)
        # Nothing of Nova's bookkeeping of this driver is left.
        self.assertIsNone(self.source.state(self.instance))
        self.assertNotIn(self.instance.uuid, self.drvr.active_migrations)
        message = str(exc)
        for fragment in ('instance-00000001 on dest is unknown',
                         'Nothing was destroyed', 'stopped on src',
                         'virsh domstate instance-00000001',
                         "When a cutover's clone state is unknown"):
            self.assertIn(fragment, message)

    def test_the_downtime_event_is_left_open(self):
        # The guest may run nowhere: its downtime has not ended.
        self.assertRaises(v2v_exception.V2VCloneStateUnknown, self._run)
        self.assertIn('downtime starts', self.timeline)
        self.assertEqual([], [e for e in self.timeline
                              if isinstance(e, tuple)])

    def test_instance_fault_says_what_to_check(self):
        exc = self.assertRaises(v2v_exception.V2VCloneStateUnknown,
                                self._run)

        self.fault.assert_called_once_with(
            self.context, self.instance, exc, exc_info=mock.ANY,
            fault_message=cutover_source.CLONE_UNKNOWN_FAULT)
        # The details (administrators only) are the exception's, with the
        # hosts and the clone; the message (the owner sees it) names none.
        self.assertIs(exc, self.fault.call_args[1]['exc_info'][1])
        self.assertLessEqual(len(cutover_source.CLONE_UNKNOWN_FAULT), 255)
        for name in ('src', 'instance-00000001'):
            self.assertNotIn(name, cutover_source.CLONE_UNKNOWN_FAULT)

    def test_unproven_clone_still_unreachable_at_the_last_look(self):
        # The destination stopped answering during the proof and is still
        # unreachable for the last look before the clone's removal.
        self.engine_error = None
        self.proof_error = transfer_exception.CloneNotProven(
            'the clone showed no guest activity within 300 s (no disk '
            'written; the destination\'s libvirt failed: EOF)')
        self.source.nova.open_destination.side_effect = [
            self.conn, self.conn,
            cutover_transfer.clone.libvirt.libvirtError('unreachable')]

        exc = self.assertRaises(v2v_exception.V2VCloneStateUnknown,
                                self._run)

        self.assertEqual(BEFORE_NO_RETURN[:5] + [v2v_record.CLONE_UNKNOWN],
                         self.phases)
        self.assertIn('the last look at it on dest before its removal '
                      'could not tell whether its guest runs (the clone '
                      'could not be looked up: unreachable)', str(exc))
        self.conn.lookupByUUIDString.return_value.destroy.assert_not_called()
        self.post.assert_not_called()
        self.recover.assert_not_called()
        self.fault.assert_called_once()

    def test_unproven_clone_whose_removal_is_unconfirmed(self):
        # The last look found the clone silent; the destination stopped
        # answering before its removal.
        self.engine_error = None
        self.proof_error = transfer_exception.CloneNotProven(
            'the clone showed no guest activity within 300 s (no disk '
            'written)')
        self.source.nova.open_destination.side_effect = [
            self.conn, self.conn, self.conn,
            cutover_transfer.clone.libvirt.libvirtError('unreachable')]

        exc = self.assertRaises(v2v_exception.V2VCloneStateUnknown,
                                self._run)

        self.assertEqual(BEFORE_NO_RETURN[:5] + [v2v_record.CLONE_UNKNOWN],
                         self.phases)
        self.assertIn('its removal from dest could not be confirmed',
                      str(exc))
        self.post.assert_not_called()
        self.recover.assert_not_called()
        self.fault.assert_called_once()

    def test_unproven_clone_that_survives_its_destroy(self):
        # The destination answers but the clone's QEMU does not die (in
        # uninterruptible sleep): it may run, the source stays stopped.
        self.engine_error = None
        self.proof_error = transfer_exception.CloneNotProven(
            'the clone showed no guest activity within 300 s')
        clone = self.conn.lookupByUUIDString.return_value
        clone.isActive.side_effect = None
        clone.isActive.return_value = True
        lv = cutover_transfer.clone.libvirt
        clone.destroy.side_effect = lv.libvirtError(
            'Failed to terminate process 42 with SIGKILL: Device or '
            'resource busy')

        exc = self.assertRaises(v2v_exception.V2VCloneStateUnknown,
                                self._run)

        self.assertEqual(BEFORE_NO_RETURN[:5] + [v2v_record.CLONE_UNKNOWN],
                         self.phases)
        self.assertIn('its removal from dest could not be confirmed',
                      str(exc))
        clone.undefine.assert_not_called()
        self.post.assert_not_called()
        self.recover.assert_not_called()

    def test_the_instance_is_locked(self):
        """Nova allows a hard reboot, rebuild or delete from ERROR."""
        self.assertRaises(v2v_exception.V2VCloneStateUnknown, self._run)

        self.lock.assert_called_once_with(self.context, self.instance,
                                          cutover_source.HELD_LOCK_REASON)
        self.assertLessEqual(len(cutover_source.HELD_LOCK_REASON), 255)
        for name in ('src', 'dest', 'instance-00000001'):
            self.assertNotIn(name, cutover_source.HELD_LOCK_REASON)

    def test_a_lock_that_fails_still_raises(self):
        self.lock.side_effect = RuntimeError('db')
        self.assertRaises(v2v_exception.V2VCloneStateUnknown, self._run)
        self.fault.assert_called_once()

    def test_a_fault_that_cannot_be_recorded_still_raises(self):
        self.fault.side_effect = RuntimeError('db')
        self.assertRaises(v2v_exception.V2VCloneStateUnknown, self._run)


class LastLookTestCase(_SourceTestBase):
    """An unproven clone is looked at once more before its removal."""

    def setUp(self):
        super().setUp()
        self.found = self.conn.lookupByUUIDString.return_value
        # The clone module's clock: its sleeps pass at once.
        clock = mock.Mock()
        clock.monotonic.return_value = 1000.0
        clock.sleep.side_effect = lambda seconds: setattr(
            clock.monotonic, 'return_value',
            clock.monotonic.return_value + seconds)
        patcher = mock.patch.object(cutover_transfer.clone, 'time', clock)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.sleep = clock.sleep
        # The wait saw the clone's first writes a minute ago, then lost
        # the destination's libvirt until its deadline.
        self.watch = cutover_transfer.clone.ActivityWatch(settle=10)
        self.watch.add({'sda': 3}, False, 940.0)
        self.proof_error = transfer_exception.CloneNotProven(
            'the clone showed no guest activity within 300 s (the '
            'destination\'s libvirt failed: EOF)', watch=self.watch)

    def test_clone_written_on_at_the_last_look_is_proven(self):
        # Its guest ran meanwhile: removing it would lose what it wrote.
        self.found.blockStats.return_value = _stats(250)

        self._run()

        self.assertEqual(BEFORE_NO_RETURN + [v2v_record.SOURCE_REMOVED],
                         self.phases)
        self.found.destroy.assert_not_called()
        self.post.assert_called_once()
        self.recover.assert_not_called()
        # A connection for the start, the wait and the look, all closed.
        self.assertEqual(3, self.source.nova.open_destination.call_count)
        self.assertEqual(3, self.conn.close.call_count)
        self.assertIn('one last look at the clone instance-00000001 before '
                      'its removal', self.stdlog.logger.output)
        self.assertIn('the clone instance-00000001 proved its guest runs: '
                      'its disk(s) sda written on',
                      self.stdlog.logger.output)

    def test_clone_still_silent_at_the_last_look_is_removed(self):
        self.found.blockStats.return_value = _stats(3)

        self._run()

        self.assertEqual(BEFORE_NO_RETURN[:5] + [v2v_record.ROLLED_BACK],
                         self.phases)
        self.found.destroy.assert_called_once_with()
        self.recover.assert_called_once_with(
            self.context, self.instance, 'dest', self.data,
            migration_status='error')
        self.sleep.assert_not_called()

    def test_first_writes_seen_at_the_last_look_are_sampled_again(self):
        # The wait saw none: the look waits out the settle window.
        self.proof_error.watch = None
        self.found.blockStats.side_effect = [_stats(5), _stats(9)]

        self._run()

        self.sleep.assert_called_once_with(10)
        self.found.destroy.assert_not_called()
        self.post.assert_called_once()

    def test_a_boot_loader_write_seen_at_the_last_look_is_removed(self):
        self.proof_error.watch = None
        self.found.blockStats.return_value = _stats(2)

        self._run()

        self.sleep.assert_called_once_with(10)
        self.found.destroy.assert_called_once_with()
        self.recover.assert_called_once()

    def test_a_clone_gone_is_not_looked_at(self):
        self.found.isActive.side_effect = None
        self.found.isActive.return_value = False

        self._run()

        self.found.blockStats.assert_not_called()
        self.recover.assert_called_once()

    def test_a_look_that_cannot_read_the_clone_leaves_it(self):
        lv = cutover_transfer.clone.libvirt
        self.found.blockStats.side_effect = lv.libvirtError('EOF')

        exc = self.assertRaises(v2v_exception.V2VCloneStateUnknown,
                                self._run)

        self.assertIn('no disk of the clone could be read', str(exc))
        self.found.destroy.assert_not_called()
        self.post.assert_not_called()
        self.recover.assert_not_called()

    def test_the_downtime_event_ends_in_error_when_the_clone_ran(self):
        lv = cutover_transfer.clone.libvirt
        self.found.blockStats.side_effect = lv.libvirtError('EOF')
        self.assertRaises(v2v_exception.V2VCloneStateUnknown, self._run)
        ends = [e for e in self.timeline if isinstance(e, tuple)]
        self.assertEqual(('downtime ends', None), ends[0])
        self.assertIn("the clone's state is unknown: ", ends[1][1])
        self.assertEqual(2, len(ends))

    def test_a_clone_stopped_during_the_wait_is_looked_at(self):
        # A stopped clone shows no activity: removed (undefined).
        self.proof_error = transfer_exception.CloneNotProven(
            'the clone instance-00000001 stopped before its guest showed '
            'activity', watch=self.watch)
        self.found.isActive.side_effect = None
        self.found.isActive.return_value = False

        self._run()

        self.found.undefine.assert_called_once_with()
        self.recover.assert_called_once()


class RecoveryHelpersTestCase(_SourceTestBase):
    """The public helpers a recovery after a restart calls."""

    def test_remove_clone(self):
        clone = self.conn.lookupByUUIDString.return_value
        clone.isActive.side_effect = [True, False]
        self.assertTrue(self.source.remove_clone(self.instance, 'dest'))
        self.conn.lookupByUUIDString.assert_called_once_with(
            self.instance.uuid)
        clone.destroy.assert_called_once_with()
        clone.undefine.assert_called_once_with()
        self.conn.close.assert_called_once_with()

    def test_remove_clone_not_there(self):
        lv = cutover_transfer.clone.libvirt
        error = lv.libvirtError('no domain')
        with mock.patch.object(error, 'get_error_code',
                               return_value=lv.VIR_ERR_NO_DOMAIN):
            self.conn.lookupByUUIDString.side_effect = error
            self.assertTrue(self.source.remove_clone(self.instance, 'dest'))

    def test_remove_clone_unconfirmed(self):
        lv = cutover_transfer.clone.libvirt
        clone = self.conn.lookupByUUIDString.return_value
        clone.isActive.side_effect = lv.libvirtError('EOF')
        self.conn.isAlive.return_value = False
        self.assertFalse(self.source.remove_clone(self.instance, 'dest'))
        clone.undefine.assert_not_called()

    def test_remove_clone_that_hangs_is_given_up(self):
        never = threading.Event()
        self.addCleanup(never.set)
        clone = self.conn.lookupByUUIDString.return_value
        clone.destroy.side_effect = lambda: never.wait()
        with mock.patch.object(cutover_source, 'REMOVE_TIMEOUT', 0.2):
            self.assertRaises(transfer_exception.NoAnswer,
                              self.source.remove_clone, self.instance,
                              'dest')

    def test_remove_clone_given_up_does_not_act_later(self):
        opened = threading.Event()
        release = threading.Event()
        self.addCleanup(release.set)
        real_open = self.source.nova.open_destination

        def slow_open(uri):
            opened.set()
            release.wait()
            return real_open(uri)

        self.source.nova.open_destination = slow_open
        clone = self.conn.lookupByUUIDString.return_value
        with mock.patch.object(cutover_source, 'REMOVE_TIMEOUT', 0.2):
            self.assertRaises(transfer_exception.NoAnswer,
                              self.source.remove_clone, self.instance,
                              'dest')
        self.assertTrue(opened.is_set())
        release.set()
        time.sleep(0.3)
        clone.destroy.assert_not_called()
        clone.undefine.assert_not_called()

    def test_restart_source(self):
        with mock.patch.object(cutover_transfer.cutover, 'restart_source',
                               return_value=1) as restart:
            self.assertEqual(1, self.source.restart_source(self.instance))
        restart.assert_called_once_with(
            self.source.nova.get_domain.return_value)
        self.source.nova.get_domain.assert_called_once_with(self.instance)
