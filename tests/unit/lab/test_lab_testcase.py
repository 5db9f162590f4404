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

"""tests.integration.base.LabTestCase.once_more, without a lab.

The test cases below are run by hand (``run``), never by setUpClass: no
lab comes up.
"""

import io

import fixtures
import testtools

from nova_v2v_rig.lab import migrate
from tests.integration import base


def _known():
    return migrate.GuestCrashed('crashed', 'Oops: 0', 'QEMU 7.2.22 ...',
                                'idle-task-null-call')


def _case_class():
    """A LabTestCase made here, where test discovery does not find it."""

    class _Case(base.LabTestCase):

        def _migration(self, *outcomes):
            runs = iter(outcomes)

            def migration():
                outcome = next(runs)
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
            return migration

        def test_rerun_passes(self):
            self.assertEqual('moved', self.once_more(
                'block-live', self._migration(_known(), 'moved')))

        def test_rerun_then_fails(self):
            self.once_more('block-live', self._migration(_known(), 'moved'))
            self.fail('a check after the move')

        def test_first_run_passes(self):
            self.once_more('block-live', self._migration('moved'))

        def test_other_crash(self):
            self.once_more('block-live', self._migration(
                migrate.GuestCrashed('crashed', 'Kernel panic - not syncing: '
                                     'VFS: Unable to mount root fs', 'QEMU'),
                'moved'))

    return _Case


class LabTestCaseOnceMoreTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # What the test writes around the capture, and what it captures.
        self.out = self.useFixture(fixtures.MockPatch(
            'sys.__stderr__', new_callable=io.StringIO)).mock
        self.useFixture(fixtures.MockPatch('sys.stderr',
                                           new_callable=io.StringIO))

    def _run(self, name):
        case = _case_class()(name)
        result = testtools.TestResult()
        case.run(result)
        return case, result

    def test_a_test_that_passed_on_its_second_run(self):
        case, result = self._run('test_rerun_passes')
        self.assertTrue(result.wasSuccessful(), result.errors)
        self.assertEqual(
            '\nRERUN-PASSED: %s: idle-task-null-call\n' % case.id(),
            self.out.getvalue())
        self.assertIn('guest-crash', case.getDetails())

    def test_a_test_that_failed_after_its_second_run(self):
        _case, result = self._run('test_rerun_then_fails')
        self.assertEqual(1, len(result.failures))
        self.assertEqual('', self.out.getvalue())

    def test_no_second_run_no_line(self):
        _case, result = self._run('test_first_run_passes')
        self.assertTrue(result.wasSuccessful(), result.errors)
        # A crash of another signature fails the test at once.
        case, result = self._run('test_other_crash')
        self.assertEqual(1, len(result.errors))
        self.assertNotIn('guest-crash', case.getDetails())
        self.assertEqual('', self.out.getvalue())
