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

"""tools/failed_tests.py on what subunit-trace prints."""

import importlib.util
import os
import subprocess
import sys

import fixtures
import testtools

_TOOL = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'tools',
                     'failed_tests.py')

# As stestr run printed it (two failures, one with a hyphenated detail and
# a two-line message; a third FAILED line without any capture), then the
# closing block that repeats each failure.
LOG = '''\
some stderr
{0} tests.test_x.T.test_bad [0.000357s] ... FAILED

Captured guest-crash:
~~~~~~~~~~~~~~~~~~~~~
    Kernel panic - not syncing: NMI
line2

Captured traceback:
~~~~~~~~~~~~~~~~~~~
    Traceback (most recent call last):

      File "/tmp/tests/test_x.py", line 10, in test_bad
    raise RuntimeError('boom: the thing\\nsecond line')

    RuntimeError: boom: the thing
second line

{0} tests.test_x.T.test_ok [0.000034s] ... ok
{1} tests.test_x.T.test_bad2 [0.000848s] ... FAILED

Captured traceback:
~~~~~~~~~~~~~~~~~~~
    Traceback (most recent call last):

      File "/tmp/tests/test_x.py", line 12, in test_bad2
    self.assertEqual(1, 2)

    testtools.matchers._impl.MismatchError: 1 != 2

{1} tests.test_x.T.test_gone [5.0s] ... FAILED


==============================
Failed 3 tests - output below:
==============================

tests.test_x.T.test_bad
-----------------------

Captured traceback:
~~~~~~~~~~~~~~~~~~~
    Traceback (most recent call last):
    RuntimeError: boom: the thing

tests.test_x.T.test_bad2
------------------------

Captured traceback:
~~~~~~~~~~~~~~~~~~~
    testtools.matchers._impl.MismatchError: 1 != 2


======
Totals
======
Ran: 4 tests in 0.0188 sec.
 - Passed: 1
 - Failed: 3
'''


def _load():
    spec = importlib.util.spec_from_file_location('failed_tests', _TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestFailedTests(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tool = _load()
        self.log = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                'env.log')
        with open(self.log, 'w') as f:
            f.write(LOG)

    def _run(self, *args):
        return subprocess.run(
            [sys.executable, _TOOL] + list(args) + [self.log],
            check=True, capture_output=True, text=True).stdout.splitlines()

    def test_each_failure_once_in_order(self):
        failed = self.tool.parse(LOG.splitlines(True))
        self.assertEqual(['tests.test_x.T.test_bad',
                          'tests.test_x.T.test_bad2',
                          'tests.test_x.T.test_gone'],
                         [test_id for test_id, _ in failed])

    def test_sections_split_on_their_headers(self):
        sections = dict(self.tool.parse(LOG.splitlines(True)))
        bad = sections['tests.test_x.T.test_bad']
        self.assertEqual(['guest-crash', 'traceback'], list(bad))
        self.assertIn('    Kernel panic - not syncing: NMI',
                      bad['guest-crash'])
        self.assertNotIn('Captured traceback:', bad['guest-crash'])
        self.assertEqual({}, sections['tests.test_x.T.test_gone'])

    def test_brief(self):
        self.assertEqual(
            ['FAILED tests.test_x.T.test_bad: RuntimeError: boom: the thing',
             'FAILED tests.test_x.T.test_bad2: '
             'testtools.matchers._impl.MismatchError: 1 != 2',
             'FAILED tests.test_x.T.test_gone: (no traceback captured)'],
            self._run('--brief'))

    def test_brief_lines_are_cut(self):
        lines = self._run('--brief', '--width', '30')
        self.assertEqual([30, 30, 30], [len(line) for line in lines])
        self.assertTrue(lines[0].endswith('...'))

    def test_report_keeps_the_end_of_each_section(self):
        out = self._run('--lines', '2')
        self.assertEqual('FAILED tests.test_x.T.test_bad', out[0])
        self.assertIn('  traceback (last 2 lines):', out)
        at = out.index('  traceback (last 2 lines):')
        self.assertEqual(['    RuntimeError: boom: the thing',
                          'second line'], [out[at + 1], out[at + 2].strip()])
        self.assertIn('  guest-crash:', out)
        self.assertEqual('FAILED tests.test_x.T.test_gone', out[-1])

    def test_nothing_failed(self):
        with open(self.log, 'w') as f:
            f.write('{0} tests.test_x.T.test_ok [0.1s] ... ok\n')
        self.assertEqual([], self._run())
        self.assertEqual([], self._run('--brief'))


GATE_LOG = """\
2026-12-07 11:40:01.000 1 ERROR nova_v2v_rig.aio.gate [-] Stage import failed
Traceback (most recent call last):
RuntimeError: boom
2026-12-07 11:40:02.000 1 ERROR nova_v2v_rig.aio.gate [-] Stage \
baseline-shared: the guest's crash:
[    1.0] general protection fault: 0000 [#1] PREEMPT SMP NOPTI
[    1.1] RIP: 0010:schedule+0x10/0x20

#   move   result
1   live   OK
error: import: boom
error: baseline-shared: the server crashed after the move live: general \
protection fault
16 of 16 moves OK, 0 records lost
error: import: boom
"""


class TestGateFailures(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                'gate.log')
        with open(self.log, 'w') as f:
            f.write(GATE_LOG)

    def _run(self, *args):
        return subprocess.run(
            [sys.executable, _TOOL] + list(args) + [self.log],
            check=True, capture_output=True, text=True).stdout.splitlines()

    def test_errors_and_crashes(self):
        self.assertEqual(
            ['error: import: boom',
             'error: baseline-shared: the server crashed after the move '
             'live: general protection fault',
             'crash of stage baseline-shared:',
             '  [    1.0] general protection fault: 0000 [#1] PREEMPT SMP '
             'NOPTI',
             '  [    1.1] RIP: 0010:schedule+0x10/0x20'], self._run())

    def test_brief_names_the_errors_only(self):
        lines = self._run('--brief', '--width', '40')
        self.assertEqual(['error: import: boom',
                          'error: baseline-shared: the server cr...'],
                         lines)
