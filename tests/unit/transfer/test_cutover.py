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

"""DiskSync, stop_source and the rollbacks on a mocked virDomain."""

import threading
import unittest
from unittest import mock

from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception

libvirt = cutover.libvirt
XML = """<domain><devices>
  <disk type='file'><target dev='vda'/>%s</disk>
</devices></domain>"""
MIRROR = "<mirror type='network' job='copy' ready='%s'/>"


class FakeWatcher(cutover.BlockJobWatcher):

    def __init__(self):
        self.events = []
        self._seq = 0
        self._lock = threading.Lock()

    def start(self):
        return self

    def stop(self):
        pass


def _dom(ready='yes', info=None):
    dom = mock.Mock()
    dom.name.return_value = 'guest'
    dom.XMLDesc.return_value = XML % (MIRROR % ready if ready else '')
    dom.blockJobInfo.return_value = (info if info is not None else
                                     {'cur': 10, 'end': 10})
    dom.isActive.return_value = True
    dom.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
    return dom


class DiskSyncTest(unittest.TestCase):

    def _sync(self, dom):
        watcher = FakeWatcher()
        sync = cutover.DiskSync(dom, [('vda', 'exp', '192.0.2.2', 10810)],
                                watcher=watcher)
        return sync, watcher

    def test_start_copies_to_the_export(self):
        dom = _dom()
        sync, _w = self._sync(dom)
        sync.start(bandwidth=5)
        dev, xml, params, flags = dom.blockCopy.call_args[0]
        self.assertEqual('vda', dev)
        self.assertIn("protocol=\"nbd\"", xml.replace("'", '"'))
        self.assertEqual(cutover.COPY_FLAGS, flags)
        self.assertEqual({libvirt.VIR_DOMAIN_BLOCK_COPY_BANDWIDTH: 5},
                         params)
        self.assertEqual(['vda'], sync.started)

    def test_poll_ready_by_event_or_xml(self):
        dom = _dom(ready='no', info={'cur': 5, 'end': 10})
        sync, watcher = self._sync(dom)
        self.assertFalse(sync.poll_ready())
        self.assertEqual({'copied': 5, 'total': 10, 'remaining': 5},
                         sync.progress())
        dom.blockJobInfo.return_value = {'cur': 10, 'end': 10}
        self.assertFalse(sync.poll_ready())  # not ready yet
        watcher._add('block-job', 'vda', libvirt.VIR_DOMAIN_BLOCK_JOB_READY)
        self.assertTrue(sync.poll_ready())
        watcher.events = []
        dom.XMLDesc.return_value = XML % (MIRROR % 'yes')
        self.assertTrue(sync.poll_ready())

    def test_failure_event_breaks_the_sync(self):
        dom = _dom()
        sync, watcher = self._sync(dom)
        watcher._add('block-job', 'vda', libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED)
        self.assertRaises(exception.SyncFailed, sync.poll_ready)
        self.assertRaises(exception.SyncFailed, sync.check_intact)

    def test_vanished_job(self):
        dom = _dom(info={})
        sync, _w = self._sync(dom)
        self.assertRaises(exception.SyncFailed, sync.check_intact,
                          require_ready=False)

    def test_not_ready_refuses_the_cutover(self):
        dom = _dom(ready='no')
        sync, _w = self._sync(dom)
        self.assertRaises(exception.CutoverRefused, cutover.stop_source,
                          dom, sync)
        dom.suspend.assert_not_called()

    def test_suspend_cutover_aborts_without_pivot(self):
        dom = _dom()
        sync, _w = self._sync(dom)
        sync.started = ['vda']
        self.assertEqual('suspended', cutover.stop_source(dom, sync))
        dom.suspend.assert_called_once_with()
        dom.blockJobAbort.assert_called_once_with('vda', 0)
        self.assertEqual([], sync.started)

    def test_failure_while_ending_is_reported(self):
        dom = _dom()
        sync, watcher = self._sync(dom)
        sync.started = ['vda']

        def abort(dev, flags):
            watcher._add('block-job', dev,
                         libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED)
        dom.blockJobAbort.side_effect = abort
        self.assertRaises(exception.SyncFailed, cutover.stop_source,
                          dom, sync)


class RollbackSourceTest(unittest.TestCase):

    def _sync(self, dom):
        sync = cutover.DiskSync(dom, [('vda', 'e', 'h', 1)],
                                watcher=FakeWatcher())
        sync.started = ['vda']
        return sync

    def test_paused_guest_resumed_and_jobs_aborted(self):
        dom = _dom()
        dom.state.return_value = [libvirt.VIR_DOMAIN_PAUSED, 0]
        cutover.rollback_source(dom, self._sync(dom))
        dom.blockJobAbort.assert_called_once_with('vda', 0)
        dom.resume.assert_called_once_with()
        dom.create.assert_not_called()

    def test_stopped_guest_restarted(self):
        dom = _dom()
        dom.isActive.return_value = False
        cutover.rollback_source(dom, self._sync(dom))
        dom.create.assert_called_once_with()

    def test_running_guest_left_alone(self):
        dom = _dom()
        cutover.rollback_source(dom, self._sync(dom))
        dom.resume.assert_not_called()
        dom.create.assert_not_called()

    def test_restart_error_logged_not_raised(self):
        dom = _dom()
        dom.isActive.return_value = False
        dom.create.side_effect = libvirt.libvirtError('boom')
        cutover.rollback_source(dom, self._sync(dom))


class StartCloneTest(unittest.TestCase):

    def test_clone_not_running_is_undefined(self):
        conn = mock.Mock()
        clone = conn.defineXML.return_value
        clone.state.return_value = [libvirt.VIR_DOMAIN_SHUTOFF, 0]
        clone.isActive.return_value = False
        self.assertRaises(exception.CloneNotRunning, cutover.start_clone,
                          conn, '<domain/>', None, 1)
        clone.undefine.assert_called_once_with()

    def test_unreachable_destination_defines_nothing(self):
        conn = mock.Mock()
        conn.isAlive.return_value = False
        self.assertRaises(exception.CloneNotRunning, cutover.start_clone,
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
            cutover.start_clone(conn, '<domain/>', verify, 1)
        self.assertEqual('clone', ctx.exception.clone)
        clone.undefine.assert_not_called()

    def test_destroy_error_on_a_live_connection_still_removes(self):
        conn = mock.Mock()
        conn.isAlive.return_value = True
        clone = conn.defineXML.return_value
        clone.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
        clone.isActive.return_value = True
        clone.destroy.side_effect = libvirt.libvirtError('not running')
        verify = mock.Mock(side_effect=exception.CloneNotRunning('silent'))
        self.assertRaises(exception.CloneNotRunning, cutover.start_clone,
                          conn, '<domain/>', verify, 1)
        clone.undefine.assert_called_once_with()


class RunSourceCutoverTest(unittest.TestCase):
    """The one sequence Nova's driver and the lab run."""

    def setUp(self):
        super().setUp()
        self.dom = _dom()
        self.watcher = FakeWatcher()
        self.watcher._add('block-job', 'vda',
                          libvirt.VIR_DOMAIN_BLOCK_JOB_READY)
        patcher = mock.patch.object(cutover, 'BlockJobWatcher',
                                    return_value=self.watcher)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.clone = mock.Mock()
        self.clone.name.return_value = 'clone'
        self.start_clone = mock.Mock(return_value=(self.clone, 0.0))
        self.disks = [('vda', 'exp', '192.0.2.2', 10810)]

    def _run(self, **kwargs):
        kwargs.setdefault('release_check', mock.Mock(return_value=[]))
        kwargs.setdefault('poll', 0)
        return cutover.run_source_cutover(
            self.dom, self.disks, '<domain/>', self.start_clone, **kwargs)

    def test_success_starts_the_clone_and_powers_the_source_off(self):
        release = mock.Mock(return_value=[])
        progress = mock.Mock()
        stats = self._run(release_check=release, on_progress=progress)
        self.assertEqual('suspended', stats['stop'])
        self.assertEqual('clone', stats['clone'])
        self.dom.blockJobAbort.assert_called_once_with('vda', 0)
        release.assert_called_once_with(cutover.RELEASE_TIMEOUT)
        self.start_clone.assert_called_once_with('<domain/>')
        self.dom.destroy.assert_called_once_with()
        self.dom.undefine.assert_not_called()
        self.assertEqual(2, progress.call_count)

    def test_default_release_check_waits_for_the_ports(self):
        with mock.patch.object(cutover.nbd, 'wait_closed',
                               return_value=True) as wait:
            self._run(release_check=None, release_timeout=7)
        wait.assert_called_once_with('192.0.2.2', 10810, mock.ANY)

    def test_unconfirmed_release_lets_the_clone_start_decide(self):
        stats = self._run(release_check=mock.Mock(return_value=['exp']))
        self.assertFalse(stats['release_confirmed'])
        self.start_clone.assert_called_once_with('<domain/>')
        self.dom.destroy.assert_called_once_with()

    def test_release_not_probed_dials_nothing(self):
        with mock.patch.object(cutover.nbd, 'wait_closed') as wait:
            stats = self._run(release_check=cutover.release_not_probed)
        wait.assert_not_called()
        self.assertIsNone(stats['release_confirmed'])
        self.start_clone.assert_called_once_with('<domain/>')

    def test_held_export_and_locked_clone_roll_back(self):
        self.dom.state.return_value = [libvirt.VIR_DOMAIN_PAUSED, 0]
        self.start_clone.side_effect = RuntimeError('Failed to get "write" '
                                                    'lock')
        self.assertRaises(exception.CutoverFailed, self._run,
                          release_check=mock.Mock(return_value=['exp']))
        self.dom.resume.assert_called_once_with()
        self.dom.destroy.assert_not_called()

    def test_clone_failure_rolls_back_wrapped(self):
        self.start_clone.side_effect = RuntimeError('boom')
        self.assertRaises(exception.CutoverFailed, self._run)
        self.dom.destroy.assert_not_called()

    def test_clone_state_unknown_leaves_the_source_stopped(self):
        # Never two copies: the source is not resumed or restarted.
        self.dom.state.return_value = [libvirt.VIR_DOMAIN_PAUSED, 0]
        self.start_clone.side_effect = exception.CloneStateUnknown(
            'unreachable', clone='clone')
        self.assertRaises(exception.CloneStateUnknown, self._run)
        self.dom.resume.assert_not_called()
        self.dom.create.assert_not_called()
        self.dom.blockJobAbort.assert_called()

    def test_before_clone_hook_runs_after_the_release(self):
        order = []
        release = mock.Mock(side_effect=lambda t: order.append('release')
                            or [])
        self.start_clone.side_effect = lambda xml: (
            order.append('start') or (self.clone, 0.0))
        self._run(release_check=release,
                  before_clone=lambda: order.append('hook'))
        self.assertEqual(['release', 'hook', 'start'], order)

    def test_abort_before_cutover(self):
        self.assertRaises(exception.CutoverCancelled, self._run,
                          should_abort=lambda: True)
        self.dom.suspend.assert_not_called()
        self.start_clone.assert_not_called()

    def test_enter_cutover_refused(self):
        self.assertRaises(exception.CutoverCancelled, self._run,
                          enter_cutover=lambda: False)
        self.dom.suspend.assert_not_called()

    def test_force_complete_pauses_and_suspends_the_cutover(self):
        stats = self._run(mode=cutover.ACPI, force_complete=lambda: True)
        self.assertTrue(stats['forced'])
        self.assertEqual(cutover.SUSPEND, stats['mode'])
        self.dom.shutdown.assert_not_called()
        self.assertEqual('suspended', stats['stop'])


class StartCloneRetryingTest(unittest.TestCase):

    def test_lock_error_is_retried(self):
        conn = mock.Mock()
        clone = conn.defineXML.return_value
        clone.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
        clone.create.side_effect = [
            libvirt.libvirtError('Failed to get "write" lock'), None]
        with mock.patch.object(cutover.time, 'sleep'):
            got, _t = cutover.start_clone_retrying(conn, '<d/>', None, 0)
        self.assertIs(clone, got)
        self.assertEqual(2, clone.create.call_count)

    def test_other_error_is_not_retried(self):
        conn = mock.Mock()
        clone = conn.defineXML.return_value
        clone.create.side_effect = libvirt.libvirtError('no memory')
        self.assertRaises(libvirt.libvirtError,
                          cutover.start_clone_retrying, conn, '<d/>', None,
                          0)
        self.assertEqual(1, clone.create.call_count)
