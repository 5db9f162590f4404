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

"""The fault matrix's bookkeeping: which cells pass, the table."""

import os
from unittest import mock

import fixtures
import testtools

from nova_v2v_rig.lab import faults


def _cell(**kw):
    result = {'fault': 'link', 'phase': 'sync', 'records_lost': 0,
              'records_verified': 50, 'source_leftovers': [],
              'dest_running': True,
              'first_attempt': {'outcome': 'rolled back', 'injected': True,
                                'source_running': True,
                                'dest_leftovers': []},
              'retry': {'outcome': 'completed'}, 'cell_seconds': 9.5}
    result.update(kw)
    return result


class TestCells(testtools.TestCase):

    def test_twelve_cells(self):
        self.assertEqual(12, len(faults.CELLS))
        self.assertEqual(len(set(faults.CELLS)), len(faults.CELLS))

    def test_passing_cell(self):
        self.assertEqual([], faults.cell_problems(_cell()))

    def test_each_problem_is_named(self):
        checks = [
            (_cell(records_lost=2), '2 records lost'),
            (_cell(source_leftovers=['/x']), 'left on host a'),
            (_cell(dest_running=False), 'does not run on host b'),
            (_cell(retry={'outcome': 'failed: boom'}), 'retry'),
            (_cell(first_attempt={'outcome': 'rolled back',
                                  'injected': True,
                                  'source_running': False,
                                  'dest_leftovers': ['domain:x']}),
             'left on host b'),
            (_cell(first_attempt={'outcome': 'completed',
                                  'injected': False}), 'not injected'),
            (_cell(first_attempt={'outcome': 'clone state unknown',
                                  'injected': True}), 'first attempt'),
        ]
        for result, needle in checks:
            problems = faults.cell_problems(result)
            self.assertTrue(any(needle in p for p in problems),
                            (needle, problems))

    def test_completed_cell_needs_no_retry(self):
        result = _cell(first_attempt={'outcome': 'completed',
                                      'injected': True}, retry=None)
        self.assertEqual([], faults.cell_problems(result))
        self.assertEqual('not needed', faults.row(result)['retry'])

    def test_table(self):
        rows = [faults.row(_cell()), faults.row(_cell(records_lost=1))]
        text = faults.format_table(rows)
        self.assertIn('records_lost', text.splitlines()[0])
        self.assertEqual(4, len(text.splitlines()))

    def test_hooks_per_phase(self):
        lab = mock.Mock()
        for fault, phase, hook in (
                ('link', 'sync', 'before_cutover'),
                ('dest-qemu', 'sync', 'before_cutover'),
                ('link', 'cutover', 'before_clone'),
                ('source-crash', 'cutover', 'before_clone'),
                ('dest-qemu', 'cutover', 'wrap_verify'),
                ('abort', 'sync', 'should_abort'),
                ('abort', 'cutover', 'enter_cutover')):
            self.assertEqual(hook, faults.Injector(lab, fault, phase,
                                                   'g').hook)

    def test_other_hooks_keep_their_defaults(self):
        lab = mock.Mock()
        inj = faults.Injector(lab, 'link', 'cutover', 'g')
        verify = mock.Mock()
        self.assertFalse(inj.should_abort())
        self.assertTrue(inj.enter_cutover())
        inj.before_cutover(mock.Mock())
        self.assertIs(verify, inj.wrap_verify(verify))
        self.assertFalse(inj.injected)
        lab.netns.assert_not_called()

    def test_sync_fault_kills_the_export_it_was_given(self):
        inj = faults.Injector(mock.Mock(), 'dest-qemu', 'sync', 'g')
        export = mock.Mock(pids=[11, None])
        inj.exported(export)
        sync = mock.Mock()
        sync.watcher.failures.return_value = [(1, 'block-job', 'vda', 2)]
        inj.before_clone()
        export.kill.assert_not_called()
        inj.before_cutover(sync)
        export.kill.assert_called_once_with()
        self.assertTrue(inj.injected)
        self.assertEqual(['killed the NBD export on host b',
                          'the sync saw it'],
                         [e['event'] for e in inj.events])

    def test_clone_fault_wraps_the_check(self):
        lab = mock.Mock()
        lab.host_dir.return_value = '/lab/b'
        inj = faults.Injector(lab, 'dest-qemu', 'cutover', 'g')
        verify = mock.Mock()
        clone = mock.Mock()
        clone.name.return_value = 'clone'
        with mock.patch.object(faults, '_pid_file_pid', return_value=42), \
                mock.patch.object(faults.os, 'kill') as kill:
            inj.wrap_verify(verify)(clone, 5)
        kill.assert_called_once_with(42, faults.signal.SIGKILL)
        verify.assert_called_once_with(clone, 5)
        self.assertTrue(inj.injected)

    def test_abort_hooks(self):
        lab = mock.Mock()
        inj = faults.Injector(lab, 'abort', 'sync', 'g')
        self.assertTrue(inj.should_abort())
        self.assertTrue(inj.enter_cutover())
        self.assertTrue(inj.injected)
        inj = faults.Injector(lab, 'abort', 'cutover', 'g')
        self.assertFalse(inj.should_abort())
        self.assertFalse(inj.enter_cutover())
        self.assertTrue(inj.injected)

    def test_unknown_fault(self):
        self.assertRaises(faults.FaultError, faults.Injector, mock.Mock(),
                          'meteor', 'sync', 'g')


class TestStoreFull(testtools.TestCase):
    """dest-full counts as injected only when the store really filled."""

    def _injector(self, free_after):
        lab = mock.Mock()
        lab.host_dir.return_value = self.useFixture(
            fixtures.TempDir()).path
        os.makedirs(os.path.join(lab.host_dir.return_value, 'instances'))
        inj = faults.Injector(lab, 'dest-full', 'sync', 'g')
        statvfs = mock.Mock(f_bavail=free_after // 4096, f_frsize=4096)
        self.useFixture(fixtures.MockPatchObject(
            faults.os.path, 'ismount', return_value=True))
        self.useFixture(fixtures.MockPatchObject(
            faults.os, 'statvfs', return_value=statvfs))
        self.useFixture(fixtures.MockPatchObject(
            faults.os, 'posix_fallocate'))
        return inj

    def test_full_store_is_injected(self):
        inj = self._injector(free_after=64 * 1024)
        inj.hook = 'before_clone'
        inj.before_clone()
        self.assertTrue(inj.injected)
        self.assertIsNone(inj.fault_error)

    def test_fill_that_did_not_take_is_not_injected(self):
        inj = self._injector(free_after=64 * 1024 * 1024)
        inj.hook = 'before_clone'
        self.assertRaises(faults.FaultError, inj.before_clone)
        self.assertFalse(inj.injected)
        self.assertIn('still has', inj.fault_error)

    def test_cell_with_a_fault_error_fails(self):
        problems = faults.cell_problems(_cell(
            fault_error='host b\'s store still has 9 bytes free'))
        self.assertEqual(1, len(problems))
        self.assertIn('not injected', problems[0])
