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

"""stop_source, the rollbacks and the sequence on a mocked virDomain."""

import unittest
from unittest import mock

from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception
from nova_v2v.transfer import hooks as cutover_hooks
from nova_v2v.transfer import mirror
from tests.unit.transfer import fakes

libvirt = cutover.libvirt


def _hooks(**methods):
    """CutoverHooks with some hooks replaced (by mocks, lambdas...)."""
    hooks = cutover_hooks.CutoverHooks()
    for name, method in methods.items():
        assert hasattr(cutover_hooks.CutoverHooks, name), name
        setattr(hooks, name, method)
    return hooks


def _sync(dom, started=('vda',)):
    sync = mirror.DiskSync(dom, [fakes.exported()],
                           watcher=fakes.FakeWatcher())
    sync.started = list(started)
    return sync


class StopSourceTest(unittest.TestCase):

    def test_not_ready_refuses_the_cutover(self):
        dom = fakes.dom(ready='no')
        sync = _sync(dom, started=())
        self.assertRaises(exception.CutoverRefused, cutover.stop_source,
                          dom, sync)
        dom.suspend.assert_not_called()

    def test_suspend_cutover_aborts_without_pivot(self):
        dom = fakes.dom()
        sync = _sync(dom)
        self.assertEqual('suspended', cutover.stop_source(dom, sync))
        dom.suspend.assert_called_once_with()
        dom.blockJobAbort.assert_called_once_with('vda', 0)
        self.assertEqual([], sync.started)

    def test_failure_while_ending_is_reported(self):
        dom = fakes.dom()
        sync = _sync(dom)

        def abort(dev, flags):
            sync.watcher._add('block-job', dev,
                              libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED)
        dom.blockJobAbort.side_effect = abort
        self.assertRaises(exception.SyncFailed, cutover.stop_source,
                          dom, sync)


class RollbackSourceTest(unittest.TestCase):

    def test_paused_guest_resumed_and_jobs_aborted(self):
        dom = fakes.dom()
        dom.state.return_value = [libvirt.VIR_DOMAIN_PAUSED, 0]
        cutover.rollback_source(dom, _sync(dom))
        dom.blockJobAbort.assert_called_once_with('vda', 0)
        dom.resume.assert_called_once_with()
        dom.create.assert_not_called()

    def test_stopped_guest_restarted(self):
        dom = fakes.dom()
        dom.isActive.return_value = False
        cutover.rollback_source(dom, _sync(dom))
        dom.create.assert_called_once_with()

    def test_running_guest_left_alone(self):
        dom = fakes.dom()
        cutover.rollback_source(dom, _sync(dom))
        dom.resume.assert_not_called()
        dom.create.assert_not_called()

    def test_restart_error_logged_not_raised(self):
        dom = fakes.dom()
        dom.isActive.return_value = False
        dom.create.side_effect = libvirt.libvirtError('boom')
        cutover.rollback_source(dom, _sync(dom))


class RestartSourceTest(unittest.TestCase):
    """The source's restart without a sync (a recovery after a restart)."""

    def test_paused_guest_resumed(self):
        dom = fakes.dom()
        dom.state.side_effect = [[libvirt.VIR_DOMAIN_PAUSED, 0],
                                 [libvirt.VIR_DOMAIN_RUNNING, 0]]
        self.assertEqual(libvirt.VIR_DOMAIN_RUNNING,
                         cutover.restart_source(dom))
        dom.resume.assert_called_once_with()
        dom.blockJobAbort.assert_not_called()

    def test_powered_off_guest_started(self):
        dom = fakes.dom()
        dom.isActive.return_value = False
        cutover.restart_source(dom)
        dom.create.assert_called_once_with()

    def test_unreadable_state_is_none(self):
        dom = fakes.dom()
        dom.isActive.return_value = False
        dom.create.side_effect = libvirt.libvirtError('boom')
        dom.state.side_effect = libvirt.libvirtError('gone')
        self.assertIsNone(cutover.restart_source(dom))


class RunSourceCutoverTest(unittest.TestCase):
    """The one sequence Nova's driver and the lab run."""

    def setUp(self):
        super().setUp()
        self.dom = fakes.dom()
        self.watcher = fakes.FakeWatcher()
        self.watcher._add('block-job', 'vda',
                          libvirt.VIR_DOMAIN_BLOCK_JOB_READY)
        patcher = mock.patch.object(mirror, 'BlockJobWatcher',
                                    return_value=self.watcher)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.clone = mock.Mock()
        self.clone.name.return_value = 'clone'
        self.start_clone = mock.Mock(return_value=(self.clone, 0.0))
        self.disks = [fakes.exported()]

    def _run(self, hooks=None, **options):
        options.setdefault('release_check', mock.Mock(return_value=[]))
        options.setdefault('poll', 0)
        return cutover.run_source_cutover(
            self.dom, self.disks, '<domain/>', self.start_clone, hooks,
            cutover.CutoverOptions(**options))

    def test_success_starts_the_clone_and_powers_the_source_off(self):
        release = mock.Mock(return_value=[])
        progress = mock.Mock()
        stats = self._run(_hooks(progress=progress), release_check=release)
        self.assertEqual('suspended', stats['stop'])
        self.assertEqual('clone', stats['clone'])
        self.dom.blockJobAbort.assert_called_once_with('vda', 0)
        release.assert_called_once_with(cutover.RELEASE_TIMEOUT)
        self.start_clone.assert_called_once_with('<domain/>')
        self.dom.destroy.assert_called_once_with()
        self.dom.undefine.assert_not_called()
        self.assertEqual(2, progress.call_count)

    def test_defaults_run_to_the_end(self):
        with mock.patch.object(cutover.nbd, 'wait_closed',
                               return_value=True):
            stats = cutover.run_source_cutover(
                self.dom, self.disks, '<domain/>', self.start_clone)
        self.assertEqual(('suspend', 'suspended', 'clone', False),
                         (stats['mode'], stats['stop'], stats['clone'],
                          stats['forced']))
        self.assertTrue(stats['release_confirmed'])

    def test_hooks_run_in_their_order(self):
        calls = []

        class Recorder(cutover_hooks.CutoverHooks):

            def should_abort(self):
                calls.append('should_abort')
                return False

            def progress(self, progress):
                calls.append('progress')

            def force_complete(self):
                calls.append('force_complete')
                return False

            def before_cutover(self, sync):
                calls.append('before_cutover')

            def enter_cutover(self):
                calls.append('enter_cutover')
                return True

            def source_stopped(self, how):
                calls.append('source_stopped:%s' % how)

            def before_clone(self):
                calls.append('before_clone')

        self.dom.suspend.side_effect = lambda: calls.append('suspend')
        self.start_clone.side_effect = lambda xml: (
            calls.append('start_clone') or (self.clone, 0.0))
        self._run(Recorder())
        self.assertEqual(['should_abort', 'progress', 'force_complete',
                          'before_cutover', 'enter_cutover', 'suspend',
                          'progress', 'source_stopped:suspended',
                          'before_clone', 'start_clone'], calls)

    def test_failing_hook_rolls_back_wrapped(self):
        self.dom.state.return_value = [libvirt.VIR_DOMAIN_PAUSED, 0]
        hooks = _hooks(before_clone=mock.Mock(side_effect=OSError('boom')))
        self.assertRaises(exception.CutoverFailed, self._run, hooks)
        self.dom.resume.assert_called_once_with()
        self.start_clone.assert_not_called()
        self.dom.destroy.assert_not_called()

    def test_source_stopped_hook_failing_rolls_back(self):
        # A phase that cannot be recorded is not entered.
        self.dom.state.return_value = [libvirt.VIR_DOMAIN_PAUSED, 0]
        hooks = _hooks(source_stopped=mock.Mock(
            side_effect=RuntimeError('database gone')))
        self.assertRaises(exception.CutoverFailed, self._run, hooks)
        self.dom.resume.assert_called_once_with()
        self.start_clone.assert_not_called()

    def test_unproven_clone_keeps_the_source_and_resumes_it(self):
        # start_clone removed the clone whose guest showed no activity:
        # the paused source was never destroyed, it resumes.
        self.dom.state.return_value = [libvirt.VIR_DOMAIN_PAUSED, 0]
        self.start_clone.side_effect = exception.CloneNotProven(
            'the clone showed no guest activity within 1 s')
        with self.assertRaises(exception.CloneNotProven) as ctx:
            self._run()
        self.assertEqual('the clone showed no guest activity within 1 s',
                         str(ctx.exception))
        self.dom.destroy.assert_not_called()
        self.dom.undefine.assert_not_called()
        self.dom.resume.assert_called_once_with()

    def test_acpi_stopped_source_is_started_again(self):
        self.dom.isActive.return_value = False
        self.watcher._add('lifecycle', None, 0)
        with mock.patch.object(cutover, 'stop_source',
                               return_value='shutdown'):
            self.start_clone.side_effect = exception.CloneNotProven('x')
            self.assertRaises(exception.CloneNotProven, self._run,
                              mode=cutover.ACPI)
        self.dom.create.assert_called_once_with()
        self.dom.destroy.assert_not_called()

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
        self._run(_hooks(before_clone=lambda: order.append('hook')),
                  release_check=release)
        self.assertEqual(['release', 'hook', 'start'], order)

    def test_abort_before_cutover(self):
        self.assertRaises(exception.CutoverCancelled, self._run,
                          _hooks(should_abort=lambda: True))
        self.dom.suspend.assert_not_called()
        self.start_clone.assert_not_called()

    def test_enter_cutover_refused(self):
        self.assertRaises(exception.CutoverCancelled, self._run,
                          _hooks(enter_cutover=lambda: False))
        self.dom.suspend.assert_not_called()

    def test_force_complete_pauses_and_suspends_the_cutover(self):
        stats = self._run(_hooks(force_complete=lambda: True),
                          mode=cutover.ACPI)
        self.assertTrue(stats['forced'])
        self.assertEqual(cutover.SUSPEND, stats['mode'])
        self.dom.shutdown.assert_not_called()
        self.assertEqual('suspended', stats['stop'])
