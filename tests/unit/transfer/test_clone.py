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

"""The clone's start on the destination, its removal when it fails."""

import threading
import unittest
from unittest import mock

from nova_v2v.transfer import clone as clone_mod
from nova_v2v.transfer import exception

libvirt = clone_mod.libvirt


class StartCloneTest(unittest.TestCase):

    def test_clone_not_running_is_undefined(self):
        conn = mock.Mock()
        clone = conn.defineXML.return_value
        clone.state.return_value = [libvirt.VIR_DOMAIN_SHUTOFF, 0]
        clone.isActive.return_value = False
        self.assertRaises(exception.CloneNotRunning, clone_mod.start_clone,
                          conn, '<domain/>', None, 1)
        clone.undefine.assert_called_once_with()

    def test_unreachable_destination_defines_nothing(self):
        conn = mock.Mock()
        conn.isAlive.return_value = False
        self.assertRaises(exception.CloneNotRunning, clone_mod.start_clone,
                          conn, '<domain/>', None, 1)
        conn.defineXML.assert_not_called()

    def test_clone_that_cannot_be_removed_is_unknown(self):
        # The clone was started, then the destination became unreachable:
        # it may be running.
        conn = mock.Mock()
        conn.isAlive.side_effect = [True, False]
        clone = conn.defineXML.return_value
        clone.name.return_value = 'clone'
        clone.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
        clone.isActive.return_value = True
        clone.destroy.side_effect = libvirt.libvirtError('connection reset')
        verify = mock.Mock(side_effect=exception.CloneNotRunning('silent'))
        with self.assertRaises(exception.CloneStateUnknown) as ctx:
            clone_mod.start_clone(conn, '<domain/>', verify, 1)
        self.assertEqual('clone', ctx.exception.clone)
        clone.undefine.assert_not_called()

    def test_destroy_error_of_a_stopped_clone_still_removes(self):
        # The clone stopped by itself between isActive() and destroy().
        conn = mock.Mock()
        conn.isAlive.return_value = True
        clone = conn.defineXML.return_value
        clone.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
        clone.isActive.side_effect = [True, False]
        clone.destroy.side_effect = libvirt.libvirtError('not running')
        verify = mock.Mock(side_effect=exception.CloneNotRunning('silent'))
        self.assertRaises(exception.CloneNotRunning, clone_mod.start_clone,
                          conn, '<domain/>', verify, 1)
        clone.undefine.assert_called_once_with()

    def test_clone_that_survives_its_destroy_is_unknown(self):
        # QEMU in uninterruptible sleep: libvirt cannot kill it, the
        # connection is fine. The clone runs on: never resume the source.
        conn = mock.Mock()
        conn.isAlive.return_value = True
        clone = conn.defineXML.return_value
        clone.name.return_value = 'clone'
        clone.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
        clone.isActive.return_value = True
        clone.destroy.side_effect = libvirt.libvirtError(
            'Failed to terminate process 42 with SIGKILL: Device or '
            'resource busy')
        verify = mock.Mock(side_effect=exception.CloneNotRunning('silent'))
        with self.assertRaises(exception.CloneStateUnknown) as ctx:
            clone_mod.start_clone(conn, '<domain/>', verify, 1)
        self.assertIn('its removal could not be confirmed',
                      str(ctx.exception))
        # Undefined, it would run on as a transient domain.
        clone.undefine.assert_not_called()


class StartCloneRetryingTest(unittest.TestCase):

    def test_lock_error_is_retried(self):
        conn = mock.Mock()
        clone = conn.defineXML.return_value
        clone.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
        # Inactive after the failed start (asked by its removal), running
        # after the second.
        clone.isActive.side_effect = [False, False, True]
        clone.create.side_effect = [
            libvirt.libvirtError('Failed to get "write" lock'), None]
        with mock.patch.object(clone_mod.time, 'sleep'):
            got, _t = clone_mod.start_clone_retrying(conn, '<d/>', None, 0)
        self.assertIs(clone, got)
        self.assertEqual(2, clone.create.call_count)

    def test_other_error_is_not_retried(self):
        conn = mock.Mock()
        clone = conn.defineXML.return_value
        clone.isActive.return_value = False
        clone.create.side_effect = libvirt.libvirtError('no memory')
        self.assertRaises(libvirt.libvirtError,
                          clone_mod.start_clone_retrying, conn, '<d/>', None,
                          0)
        self.assertEqual(1, clone.create.call_count)


class GuestActivityTest(unittest.TestCase):
    """The pure decision on writes: a guest that writes on runs."""

    def test_writes_going_on_after_the_settle_window_are_proof(self):
        self.assertEqual(
            'its disk(s) vda written on 10 s after its first writes '
            '(3 -> 9 write requests)',
            clone_mod.guest_activity({'vda': 3}, {'vda': 9}, 10, 10))

    def test_writes_within_the_settle_window_are_no_proof_yet(self):
        self.assertIsNone(clone_mod.guest_activity({'vda': 3}, {'vda': 9},
                                                   9.5, 10))

    def test_writes_that_stopped_are_no_proof(self):
        # A boot loader's write (GRUB's grubenv, Windows' bootstat.dat),
        # then a kernel hanging without the driver of its disk bus.
        self.assertIsNone(clone_mod.guest_activity({'vda': 3}, {'vda': 3},
                                                   60, 10))

    def test_another_disk_written_later_is_proof(self):
        proof = clone_mod.guest_activity({'vda': 3, 'vdb': 0},
                                         {'vda': 3, 'vdb': 2}, 10, 10)
        self.assertEqual('its disk(s) vdb written on 10 s after its first '
                         'writes (0 -> 2 write requests)', proof)

    def test_a_disk_missing_from_the_first_sample_is_no_proof(self):
        # Its count since the clone's start says nothing about when.
        self.assertIsNone(clone_mod.guest_activity(
            {'vda': 3}, {'vda': 3, 'vdb': 5}, 10, 10))

    def test_a_counter_gone_back_is_no_proof(self):
        self.assertIsNone(clone_mod.guest_activity({'vda': 9}, {'vda': 2},
                                                   10, 10))


class ActivityWatchTest(unittest.TestCase):
    """The samples of one clone, their proof and what was missing."""

    def test_a_boot_loader_write_then_a_hang_is_no_proof(self):
        watch = clone_mod.ActivityWatch(settle=10)
        for now, writes in ((0, 0), (1, 2), (5, 2), (30, 2)):
            self.assertIsNone(watch.add({'vda': writes}, False, now))
        self.assertEqual('its disks written (vda: 2 write requests) but no '
                         'more over the 29 s that followed',
                         watch.missing())

    def test_writes_of_the_first_sample_start_the_window(self):
        watch = clone_mod.ActivityWatch(settle=10)
        self.assertIsNone(watch.add({'vda': 5}, False, 0))
        self.assertIsNone(watch.add({'vda': 8}, False, 9))
        self.assertEqual('its disk(s) vda written on 10 s after its first '
                         'writes (5 -> 9 write requests)',
                         watch.add({'vda': 9}, False, 10))

    def test_a_counter_gone_back_starts_again(self):
        # Another QEMU process than the one sampled first.
        watch = clone_mod.ActivityWatch(settle=10)
        watch.add({'vda': 9}, False, 0)
        self.assertIsNone(watch.add({'vda': 2}, False, 10))
        self.assertEqual(({'vda': 2}, 10), (watch.first, watch.since))
        self.assertIsNotNone(watch.add({'vda': 3}, False, 20))

    def test_with_an_agent_writes_are_no_proof(self):
        watch = clone_mod.ActivityWatch(agent=True, settle=0)
        self.assertIsNone(watch.add({'vda': 1}, False, 0))
        self.assertIsNone(watch.add({'vda': 100}, False, 50))
        self.assertEqual('its guest agent did not answer guest-ping',
                         watch.missing())
        self.assertEqual('its guest agent answered guest-ping',
                         watch.add({'vda': 100}, True, 51))

    def test_no_write_at_all(self):
        watch = clone_mod.ActivityWatch(settle=10)
        watch.add({'vda': 0}, False, 0)
        watch.add({}, False, 1)
        self.assertEqual('no disk written', watch.missing())

    def test_first_writes_too_late(self):
        watch = clone_mod.ActivityWatch(settle=10)
        watch.add({'vda': 0}, False, 290)
        watch.add({'vda': 4}, False, 295)
        watch.add({'vda': 6}, False, 300)
        self.assertEqual('its disks first written (vda: 4 write requests) '
                         'only 5 s before the end, less than the 10 s they '
                         'must be written on', watch.missing())

    def test_rules(self):
        self.assertEqual('its guest agent answering guest-ping',
                         clone_mod.ActivityWatch(agent=True).rule())
        self.assertEqual('its disks written again past the 10 s that '
                         'follow their first writes',
                         clone_mod.ActivityWatch(settle=10).rule())


def _no_domain():
    error = libvirt.libvirtError('Domain not found')
    error.get_error_code = mock.Mock(return_value=libvirt.VIR_ERR_NO_DOMAIN)
    return error


def _stats(writes):
    # virDomainBlockStats: rd_req, rd_bytes, wr_req, wr_bytes, errs
    return [10, 4096, writes, writes * 512, 0]


class WaitForActivityTest(unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.clone = mock.Mock()
        self.clone.name.return_value = 'clone'
        self.clone.isActive.return_value = True
        self.lookup = mock.Mock(return_value=self.clone)
        patcher = mock.patch.object(clone_mod.time, 'sleep')
        self.sleep = patcher.start()
        self.addCleanup(patcher.stop)

    def _times(self, *times):
        """The monotonic clock: the wait's start, then each sample's."""
        patcher = mock.patch.object(clone_mod.time, 'monotonic',
                                    side_effect=list(times))
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_proven_once_writes_go_on(self):
        self.clone.blockStats.side_effect = [_stats(0), _stats(0),
                                             _stats(0), _stats(2),
                                             _stats(0), _stats(4)]
        proof = clone_mod.wait_for_activity(self.lookup, ['vda', 'vdb'], 60)
        self.assertIn('vdb written on', proof)
        self.assertEqual([mock.call('vda'), mock.call('vdb')] * 3,
                         self.clone.blockStats.call_args_list)
        self.assertEqual(2, self.sleep.call_count)

    def test_writes_must_go_on_for_the_settle_window(self):
        self._times(0, 1, 5, 11)
        self.clone.blockStats.side_effect = [_stats(1), _stats(5),
                                             _stats(9)]
        proof = clone_mod.wait_for_activity(self.lookup, ['vda'], 60,
                                            settle=10)
        self.assertEqual('its disk(s) vda written on 10 s after its first '
                         'writes (1 -> 9 write requests)', proof)

    def test_a_boot_loader_write_is_no_proof(self):
        self._times(0, 1, 12, 31)
        self.clone.blockStats.return_value = _stats(2)
        with self.assertRaises(exception.CloneNotProven) as ctx:
            clone_mod.wait_for_activity(self.lookup, ['vda'], 30, settle=10)
        self.assertEqual('the clone showed no guest activity within 30 s '
                         '(its disks written (vda: 2 write requests) but '
                         'no more over the 30 s that followed)',
                         str(ctx.exception))
        # The samples, for one more look before the clone's removal.
        self.assertEqual(({'vda': 2}, 1), (ctx.exception.watch.first,
                                           ctx.exception.watch.since))

    def test_writes_that_stop_inside_the_window_are_no_proof(self):
        # A boot loader writing over two samples, then a hung kernel: the
        # counts grew after the first writes, but not past the window.
        self._times(0, 1, 2, 11, 12, 31)
        self.clone.blockStats.side_effect = [_stats(2), _stats(5),
                                             _stats(5), _stats(5),
                                             _stats(5)]
        self.assertRaises(exception.CloneNotProven,
                          clone_mod.wait_for_activity, self.lookup, ['vda'],
                          30, settle=10)

    def test_writes_past_the_window_prove(self):
        self._times(0, 1, 2, 11, 12)
        self.clone.blockStats.side_effect = [_stats(2), _stats(5),
                                             _stats(5), _stats(6)]
        proof = clone_mod.wait_for_activity(self.lookup, ['vda'], 30,
                                            settle=10)
        self.assertEqual('its disk(s) vda written on 11 s after its first '
                         'writes (2 -> 6 write requests)', proof)

    def test_no_activity_within_the_timeout(self):
        self._times(0.0, 0.5, 1.5)
        self.clone.blockStats.return_value = _stats(0)
        with self.assertRaises(exception.CloneNotProven) as ctx:
            clone_mod.wait_for_activity(self.lookup, ['vda'], 1)
        self.assertEqual('the clone showed no guest activity within 1 s '
                         '(no disk written)', str(ctx.exception))
        self.assertIsInstance(ctx.exception, exception.CloneNotRunning)
        self.assertEqual(2, self.clone.blockStats.call_count)

    def test_a_clone_that_stops_is_not_proven(self):
        self.clone.isActive.side_effect = [True, False]
        self.clone.blockStats.return_value = _stats(0)
        with self.assertRaises(exception.CloneNotProven) as ctx:
            clone_mod.wait_for_activity(self.lookup, ['vda'], 60)
        self.assertEqual('the clone clone stopped before its guest showed '
                         'activity', str(ctx.exception))
        self.assertIsNotNone(ctx.exception.watch)

    def test_the_agent_is_asked_only_when_the_guest_has_one(self):
        self.clone.blockStats.return_value = _stats(0)
        with mock.patch.object(clone_mod.libvirt_qemu,
                               'qemuAgentCommand') as agent:
            proof = clone_mod.wait_for_activity(self.lookup, ['vda'], 60,
                                                agent=True)
        agent.assert_called_once_with(self.clone, clone_mod.GUEST_PING,
                                      clone_mod.AGENT_TIMEOUT, 0)
        self.assertEqual('its guest agent answered guest-ping', proof)

    def test_with_an_agent_writes_alone_are_no_proof(self):
        self._times(0, 1, 20, 61)
        self.clone.blockStats.side_effect = [_stats(1), _stats(50),
                                             _stats(99)]
        with mock.patch.object(
                clone_mod.libvirt_qemu, 'qemuAgentCommand',
                side_effect=libvirt.libvirtError('agent not connected')), \
                self.assertRaises(exception.CloneNotProven) as ctx:
            clone_mod.wait_for_activity(self.lookup, ['vda'], 60,
                                        agent=True, settle=10)
        self.assertEqual('the clone showed no guest activity within 60 s '
                         '(its guest agent did not answer guest-ping)',
                         str(ctx.exception))

    def test_an_unreadable_disk_is_left_out(self):
        self.clone.blockStats.side_effect = [
            libvirt.libvirtError('no such disk'), _stats(2),
            libvirt.libvirtError('no such disk'), _stats(3)]
        proof = clone_mod.wait_for_activity(self.lookup, ['sda', 'vda'], 60)
        self.assertEqual('its disk(s) vda written on 0 s after its first '
                         'writes (2 -> 3 write requests)', proof)

    def test_the_clone_looked_up_again_after_a_libvirt_error(self):
        # The destination's libvirtd restarted: its QEMU runs on.
        self.clone.isActive.side_effect = [True,
                                           libvirt.libvirtError('EOF'),
                                           True]
        self.clone.blockStats.side_effect = [_stats(1), _stats(2)]
        self.assertIn('vda', clone_mod.wait_for_activity(self.lookup,
                                                         ['vda'], 60))
        self.assertEqual(2, self.lookup.call_count)

    def test_a_destination_failing_until_the_deadline_is_not_proven(self):
        self._times(0.0, 0.5, 1.5)
        self.lookup.side_effect = libvirt.libvirtError('unreachable')
        with self.assertRaises(exception.CloneNotProven) as ctx:
            clone_mod.wait_for_activity(self.lookup, ['vda'], 1)
        self.assertEqual('the clone showed no guest activity within 1 s '
                         '(no disk written; the destination\'s libvirt '
                         'failed: unreachable)', str(ctx.exception))


class HangingDestinationTest(unittest.TestCase):
    """A destination that never answers does not stretch the bounds."""

    def setUp(self):
        super().setUp()
        self.never = threading.Event()
        self.addCleanup(self.never.set)
        patcher = mock.patch.object(clone_mod, 'SAMPLE_TIMEOUT', 0.1)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _hang(self, *args):
        self.never.wait()

    def test_the_wait_ends_at_its_timeout(self):
        with mock.patch.object(clone_mod.time, 'sleep'):
            with self.assertRaises(exception.CloneNotProven) as ctx:
                clone_mod.wait_for_activity(self._hang, ['vda'], 0.3)
        self.assertIn('did not answer within', str(ctx.exception))

    def test_a_hung_sample_ends_the_same(self):
        clone = mock.Mock()
        clone.isActive.side_effect = self._hang
        with mock.patch.object(clone_mod.time, 'sleep'):
            self.assertRaises(exception.CloneNotProven,
                              clone_mod.wait_for_activity,
                              mock.Mock(return_value=clone), ['vda'], 0.3)

    def test_the_last_look_cannot_tell(self):
        watch = clone_mod.ActivityWatch(settle=10)
        self.assertRaises(exception.CloneStateUnknown, clone_mod.last_look,
                          self._hang, ['vda'], watch)
        clone = mock.Mock()
        clone.blockStats.side_effect = self._hang
        self.assertRaises(exception.CloneStateUnknown, clone_mod.last_look,
                          mock.Mock(return_value=clone), ['vda'], watch)


class LastLookTest(unittest.TestCase):
    """The look at an unproven clone before its removal."""

    def setUp(self):
        super().setUp()
        self.clone = mock.Mock()
        self.clone.isActive.return_value = True
        self.lookup = mock.Mock(return_value=self.clone)
        # The module's clock: its sleeps pass at once.
        clock = mock.Mock()
        clock.monotonic.return_value = 1000.0
        clock.sleep.side_effect = lambda seconds: setattr(
            clock.monotonic, 'return_value',
            clock.monotonic.return_value + seconds)
        patcher = mock.patch.object(clone_mod, 'time', clock)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.sleep = clock.sleep
        self.watch = clone_mod.ActivityWatch(settle=10)

    def _look(self, devs=('vda',)):
        return clone_mod.last_look(self.lookup, list(devs), self.watch)

    def test_writes_grown_since_the_wait_are_proof(self):
        self.watch.add({'vda': 3}, False, 900.0)
        self.clone.blockStats.return_value = _stats(40)
        self.assertEqual('its disk(s) vda written on 100 s after its first '
                         'writes (3 -> 40 write requests)', self._look())
        self.sleep.assert_not_called()

    def test_no_more_writes_since_the_wait_is_no_proof(self):
        self.watch.add({'vda': 3}, False, 900.0)
        self.clone.blockStats.return_value = _stats(3)
        self.assertIsNone(self._look())
        self.sleep.assert_not_called()

    def test_writes_of_the_wait_too_recent_wait_the_window_out(self):
        self.watch.add({'vda': 3}, False, 996.0)
        self.clone.blockStats.side_effect = [_stats(3), _stats(3)]
        self.assertIsNone(self._look())
        self.sleep.assert_called_once_with(6.0)

    def test_first_writes_seen_now_are_sampled_again(self):
        self.clone.blockStats.side_effect = [_stats(5), _stats(9)]
        self.assertIn('5 -> 9 write requests', self._look())
        self.sleep.assert_called_once_with(10)

    def test_a_boot_loader_write_seen_now_is_no_proof(self):
        self.clone.blockStats.return_value = _stats(2)
        self.assertIsNone(self._look())
        self.sleep.assert_called_once_with(10)

    def test_without_settle_window_the_second_sample_one_poll_later(self):
        self.watch = clone_mod.ActivityWatch(settle=0)
        self.clone.blockStats.side_effect = [_stats(5), _stats(6)]
        self.assertIsNotNone(self._look())
        self.sleep.assert_called_once_with(clone_mod.ACTIVITY_POLL)

    def test_another_qemu_since_the_wait_is_sampled_again(self):
        self.watch.add({'vda': 30}, False, 900.0)
        self.clone.blockStats.side_effect = [_stats(4), _stats(4)]
        self.assertIsNone(self._look())
        self.sleep.assert_called_once_with(10)

    def test_no_write_at_all_is_no_proof(self):
        self.clone.blockStats.return_value = _stats(0)
        self.assertIsNone(self._look())
        self.sleep.assert_not_called()

    def test_with_an_agent_one_ping_decides(self):
        self.watch = clone_mod.ActivityWatch(agent=True, settle=10)
        self.clone.blockStats.return_value = _stats(7)
        with mock.patch.object(clone_mod.libvirt_qemu,
                               'qemuAgentCommand') as agent:
            self.assertEqual(clone_mod.AGENT_PROOF, self._look())
            agent.side_effect = libvirt.libvirtError('not connected')
            self.assertIsNone(self._look())
        self.sleep.assert_not_called()

    def test_a_stopped_clone_is_no_proof(self):
        self.clone.isActive.return_value = False
        self.assertIsNone(self._look())
        self.clone.blockStats.assert_not_called()

    def test_a_clone_gone_is_no_proof(self):
        self.lookup.side_effect = _no_domain()
        self.assertIsNone(self._look())

    def test_an_unreachable_destination_is_unknown(self):
        self.lookup.side_effect = libvirt.libvirtError('unreachable')
        self.assertRaises(exception.CloneStateUnknown, self._look)

    def test_a_libvirt_error_while_looking_is_unknown(self):
        self.clone.isActive.side_effect = libvirt.libvirtError('EOF')
        self.assertRaises(exception.CloneStateUnknown, self._look)

    def test_no_disk_readable_is_unknown(self):
        self.clone.blockStats.side_effect = libvirt.libvirtError('EOF')
        with self.assertRaises(exception.CloneStateUnknown) as ctx:
            self._look(devs=('vda', 'vdb'))
        self.assertEqual('no disk of the clone could be read',
                         str(ctx.exception))


class RemoveCloneTest(unittest.TestCase):

    def test_running_clone_destroyed_and_undefined(self):
        conn, clone = mock.Mock(), mock.Mock()
        clone.isActive.side_effect = [True, False]
        self.assertTrue(clone_mod.remove_clone(conn, clone))
        clone.destroy.assert_called_once_with()
        clone.undefine.assert_called_once_with()

    def test_stopped_clone_only_undefined(self):
        conn, clone = mock.Mock(), mock.Mock()
        clone.isActive.return_value = False
        self.assertTrue(clone_mod.remove_clone(conn, clone))
        clone.destroy.assert_not_called()
        clone.undefine.assert_called_once_with()

    def test_destroy_failed_on_a_live_connection_is_not_confirmed(self):
        conn, clone = mock.Mock(), mock.Mock()
        conn.isAlive.return_value = True
        clone.isActive.return_value = True
        clone.destroy.side_effect = libvirt.libvirtError(
            'Failed to terminate process 42 with SIGKILL: Device or '
            'resource busy')
        self.assertFalse(clone_mod.remove_clone(conn, clone))
        clone.undefine.assert_not_called()

    def test_clone_gone_during_its_destroy(self):
        # A transient clone vanishes with its destroy: a fresh lookup
        # says it is gone.
        conn, clone = mock.Mock(), mock.Mock()
        conn.isAlive.return_value = True
        gone = _no_domain()
        clone.isActive.side_effect = [True, gone]
        clone.destroy.side_effect = gone
        conn.lookupByUUIDString.side_effect = gone
        self.assertTrue(clone_mod.remove_clone(conn, clone))
        conn.lookupByUUIDString.assert_called_once_with(
            clone.UUIDString.return_value)

    def test_state_unreadable_after_the_destroy_is_not_confirmed(self):
        # The destroy returned, then the destination stopped answering.
        conn, clone = mock.Mock(), mock.Mock()
        clone.isActive.side_effect = [True, libvirt.libvirtError('EOF')]
        conn.lookupByUUIDString.side_effect = libvirt.libvirtError('EOF')
        self.assertFalse(clone_mod.remove_clone(conn, clone))
        clone.undefine.assert_not_called()

    def test_fresh_lookup_finds_it_stopped(self):
        conn, clone = mock.Mock(), mock.Mock()
        clone.isActive.side_effect = [True, libvirt.libvirtError('stale')]
        conn.lookupByUUIDString.return_value.isActive.return_value = False
        self.assertTrue(clone_mod.remove_clone(conn, clone))

    def test_unreachable_destination_is_not_confirmed(self):
        conn, clone = mock.Mock(), mock.Mock()
        conn.isAlive.return_value = False
        clone.isActive.side_effect = libvirt.libvirtError('EOF')
        self.assertFalse(clone_mod.remove_clone(conn, clone))
        clone.undefine.assert_not_called()
