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
    """The pure decision: what proves that the clone's guest runs."""

    def test_no_write_no_agent_is_no_proof(self):
        self.assertIsNone(clone_mod.guest_activity({'vda': 0}, {'vda': 0}))

    def test_a_write_on_any_disk_is_proof(self):
        proof = clone_mod.guest_activity({'vda': 0, 'vdb': 0},
                                         {'vda': 0, 'vdb': 3})
        self.assertEqual('its disk(s) vdb written (3 write requests)', proof)

    def test_writes_in_the_first_sample_are_proof(self):
        # Any write of the clone's QEMU is its guest's: counted from its
        # start.
        self.assertIsNotNone(clone_mod.guest_activity({'vda': 5},
                                                      {'vda': 5}))

    def test_a_counter_gone_back_is_another_process(self):
        # Not the QEMU sampled first (the domain was restarted).
        self.assertIsNone(clone_mod.guest_activity({'vda': 9}, {'vda': 2}))

    def test_a_disk_missing_from_the_first_sample_counts(self):
        self.assertIsNotNone(clone_mod.guest_activity({}, {'vda': 1}))

    def test_the_agent_answering_is_proof(self):
        self.assertEqual('its guest agent answered guest-ping',
                         clone_mod.guest_activity({'vda': 0}, {'vda': 0},
                                                  agent_answered=True))

    def test_no_sample_is_no_proof(self):
        self.assertIsNone(clone_mod.guest_activity({}, {}))


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

    def test_proven_once_a_disk_is_written(self):
        self.clone.blockStats.side_effect = [_stats(0), _stats(0),
                                             _stats(0), _stats(4)]
        proof = clone_mod.wait_for_activity(self.lookup, ['vda', 'vdb'], 60)
        self.assertIn('vdb', proof)
        self.assertEqual([mock.call('vda'), mock.call('vdb')] * 2,
                         self.clone.blockStats.call_args_list)
        self.assertEqual(1, self.sleep.call_count)

    def test_no_activity_within_the_timeout(self):
        self.clone.blockStats.return_value = _stats(0)
        with mock.patch.object(clone_mod.time, 'monotonic',
                               side_effect=[0.0, 0.5, 1.5]), \
                self.assertRaises(exception.CloneNotProven) as ctx:
            clone_mod.wait_for_activity(self.lookup, ['vda'], 1)
        self.assertEqual('the clone showed no guest activity within 1 s',
                         str(ctx.exception))
        self.assertIsInstance(ctx.exception, exception.CloneNotRunning)
        self.assertEqual(2, self.clone.blockStats.call_count)

    def test_a_clone_that_stops_is_not_proven(self):
        self.clone.isActive.side_effect = [True, False]
        self.clone.blockStats.return_value = _stats(0)
        with self.assertRaises(exception.CloneNotProven) as ctx:
            clone_mod.wait_for_activity(self.lookup, ['vda'], 60)
        self.assertEqual('the clone clone stopped before its guest showed '
                         'activity', str(ctx.exception))

    def test_the_agent_is_asked_only_when_the_guest_has_one(self):
        self.clone.blockStats.return_value = _stats(0)
        with mock.patch.object(clone_mod.libvirt_qemu,
                               'qemuAgentCommand') as agent:
            proof = clone_mod.wait_for_activity(self.lookup, ['vda'], 60,
                                                agent=True)
        agent.assert_called_once_with(self.clone, clone_mod.GUEST_PING,
                                      clone_mod.AGENT_TIMEOUT, 0)
        self.assertEqual('its guest agent answered guest-ping', proof)

    def test_an_agent_not_answering_is_no_proof(self):
        self.clone.blockStats.side_effect = [_stats(0), _stats(1)]
        with mock.patch.object(
                clone_mod.libvirt_qemu, 'qemuAgentCommand',
                side_effect=libvirt.libvirtError('agent not connected')):
            proof = clone_mod.wait_for_activity(self.lookup, ['vda'], 60,
                                                agent=True)
        self.assertIn('vda', proof)

    def test_an_unreadable_disk_is_left_out(self):
        self.clone.blockStats.side_effect = [
            libvirt.libvirtError('no such disk'), _stats(2)]
        proof = clone_mod.wait_for_activity(self.lookup, ['sda', 'vda'], 60)
        self.assertEqual('its disk(s) vda written (2 write requests)', proof)

    def test_the_clone_looked_up_again_after_a_libvirt_error(self):
        # The destination's libvirtd restarted: its QEMU runs on.
        self.clone.isActive.side_effect = [libvirt.libvirtError('EOF'),
                                           True]
        self.clone.blockStats.return_value = _stats(1)
        self.assertIn('vda', clone_mod.wait_for_activity(self.lookup,
                                                         ['vda'], 60))
        self.assertEqual(2, self.lookup.call_count)

    def test_a_destination_failing_until_the_deadline_is_not_proven(self):
        self.lookup.side_effect = libvirt.libvirtError('unreachable')
        with mock.patch.object(clone_mod.time, 'monotonic',
                               side_effect=[0.0, 0.5, 1.5]), \
                self.assertRaises(exception.CloneNotProven) as ctx:
            clone_mod.wait_for_activity(self.lookup, ['vda'], 1)
        self.assertEqual('the clone showed no guest activity within 1 s '
                         '(the destination\'s libvirt failed: unreachable)',
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
