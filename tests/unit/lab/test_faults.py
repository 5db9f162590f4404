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

from unittest import mock

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
        self.assertEqual({'before_cutover'}, set(
            faults.Injector(lab, 'link', 'sync', 'g').hooks()))
        self.assertEqual({'before_clone'}, set(
            faults.Injector(lab, 'link', 'cutover', 'g').hooks()))
        self.assertEqual({'wrap_verify'}, set(
            faults.Injector(lab, 'dest-qemu', 'cutover', 'g').hooks()))
        self.assertEqual({'should_abort'}, set(
            faults.Injector(lab, 'abort', 'sync', 'g').hooks()))
        inj = faults.Injector(lab, 'abort', 'cutover', 'g')
        self.assertFalse(inj.hooks()['enter_cutover']())
        self.assertTrue(inj.injected)
        self.assertRaises(faults.FaultError, faults.Injector, lab, 'meteor',
                          'sync', 'g')
