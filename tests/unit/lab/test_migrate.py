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

import libvirt
import testtools

from nova_v2v_rig.lab import harness
from nova_v2v_rig.lab import migrate

# The first lines of two destination serial logs of the lab (QEMU 7.2 TCG,
# Debian's 6.1 cloud kernel), after a live migration that lost writes.
NULL_CALL = '''W 412 1795691620
BUG: kernel NULL pointer dereference, address: 0000000000000000
#PF: supervisor instruction fetch in kernel mode
Oops: 0010 [#1] PREEMPT SMP NOPTI
Kernel panic - not syncing: Attempted to kill the idle task!
'''
TIMER = '''Oops: 0000 [#1] PREEMPT SMP NOPTI
RIP: 0010:rb_insert_color+0x14/0x140
Kernel panic - not syncing: Fatal exception in interrupt
'''
# A guest booted from a disk it cannot mount: not QEMU's fault.
VFS = '''Kernel panic - not syncing: VFS: Unable to mount root fs on \
unknown-block(0,0)
'''


class GuestCrashTest(testtools.TestCase):

    def test_first_line_of_the_crash(self):
        self.assertEqual('BUG: kernel NULL pointer dereference, address: '
                         '0000000000000000', migrate.guest_crash(NULL_CALL))
        self.assertEqual('Oops: 0000 [#1] PREEMPT SMP NOPTI',
                         migrate.guest_crash(TIMER))

    def test_a_guest_that_writes(self):
        self.assertIsNone(migrate.guest_crash('W 1 17956\nW 2 17957\n'))
        self.assertIsNone(migrate.guest_crash(''))

    def test_crash_is_a_migration_error(self):
        exc = migrate.GuestCrashed('moved, then crashed', 'Oops: 0000',
                                   'QEMU 7.2.22 before 9.0 ...')
        self.assertIsInstance(exc, harness.LabMigrationError)
        self.assertEqual(('Oops: 0000', 'QEMU 7.2.22 before 9.0 ...', None),
                         (exc.crash, exc.known_fault, exc.signature))

    def test_fault_hooks_are_for_the_live_modes(self):
        for kwargs in ({'kernel_args': {'unknown_nmi_panic': 1}},
                       {'after_move': print},
                       {'machine': 'pc-i440fx-10.0'}):
            exc = self.assertRaises(harness.LabMigrationError, migrate.run,
                                    None, 'v2v-cutover', **kwargs)
            self.assertIn('kernel_args, after_move and machine are for the '
                          'live modes', str(exc))


class OnceMoreTest(testtools.TestCase):

    def _calls(self, *outcomes):
        runs = iter(outcomes)
        calls = []

        def migration():
            calls.append(1)
            outcome = next(runs)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        return calls, migration

    def test_silent_on_b_crashed(self):
        exc = migrate.silent_on_b('timed out', 'W 1\n' + TIMER, 1, 'QEMU')
        self.assertIsInstance(exc, migrate.GuestCrashed)
        self.assertEqual(migrate.guest_crash(TIMER), exc.crash)
        self.assertEqual('QEMU', exc.known_fault)
        self.assertEqual('hrtimer-rbtree', exc.signature)
        self.assertTrue(exc.explained)
        exc = migrate.silent_on_b('timed out', 'W 1\n' + VFS, 1, 'QEMU')
        self.assertEqual(('Kernel panic - not syncing: VFS: Unable to mount '
                          'root fs on unknown-block(0,0)', None),
                         (exc.crash, exc.signature))
        self.assertFalse(exc.explained)

    def test_silent_on_b_running_is_a_hang(self):
        exc = migrate.silent_on_b('timed out', '', libvirt.VIR_DOMAIN_RUNNING,
                                  'QEMU')
        self.assertIsInstance(exc, migrate.GuestCrashed)
        self.assertIn('hung', exc.crash)
        self.assertEqual('QEMU', exc.known_fault)
        # A hang has no signature: it fails the move at once, even after
        # a move the fault can hit.
        self.assertIsNone(exc.signature)
        calls, migration = self._calls(exc, 'moved')
        self.assertRaises(migrate.GuestCrashed, migrate.once_more,
                          migration, self.fail)
        self.assertEqual(1, len(calls))

    def test_silent_on_b_not_running(self):
        exc = migrate.silent_on_b('timed out', '', libvirt.VIR_DOMAIN_PAUSED,
                                  'QEMU')
        self.assertIs(type(exc), harness.LabMigrationError)
        self.assertEqual('timed out', str(exc))

    def test_known_crash_runs_once_more(self):
        crash = migrate.GuestCrashed('moved, then crashed', 'Oops: 0', 'QEMU',
                                     'hrtimer-rbtree')
        calls, migration = self._calls(crash, 'moved')
        told = []
        passed = []
        self.assertEqual('moved', migrate.once_more(migration, told.append,
                                                    passed.append))
        self.assertEqual([crash], told)
        self.assertEqual([crash], passed)
        self.assertEqual(2, len(calls))
        # passed is optional.
        calls, migration = self._calls(crash, 'moved')
        self.assertEqual('moved', migrate.once_more(migration, told.append))

    def test_crash_the_fault_does_not_explain_fails_at_once(self):
        # A move the fault cannot hit (KVM, QEMU 9.0 or later), another
        # crash's signature, or neither.
        for known_fault, signature in ((None, 'hrtimer-rbtree'),
                                       ('QEMU', None), (None, None)):
            crash = migrate.GuestCrashed('crashed', 'Oops: 0', known_fault,
                                         signature)
            self.assertFalse(crash.explained)
            calls, migration = self._calls(crash, 'moved')
            exc = self.assertRaises(migrate.GuestCrashed, migrate.once_more,
                                    migration, self.fail, self.fail)
            self.assertIs(crash, exc)
            self.assertEqual(1, len(calls))

    def test_second_crash_propagates(self):
        known = migrate.GuestCrashed('crashed', 'Oops: 0', 'QEMU',
                                     'idle-task-null-call')
        calls, migration = self._calls(known, known)
        told = []
        self.assertRaises(migrate.GuestCrashed, migrate.once_more,
                          migration, told.append, self.fail)
        self.assertEqual((2, 1), (len(calls), len(told)))
        # A second run that fails otherwise propagates too, not passed.
        calls, migration = self._calls(known,
                                       harness.LabMigrationError('no'))
        self.assertRaises(harness.LabMigrationError, migrate.once_more,
                          migration, told.append, self.fail)
        self.assertEqual(2, len(calls))

    def test_other_errors_propagate(self):
        calls, migration = self._calls(harness.LabMigrationError('no'))
        self.assertRaises(harness.LabMigrationError, migrate.once_more,
                          migration, self.fail)
        self.assertEqual(1, len(calls))


class RerunPassedLineTest(testtools.TestCase):

    def test_one_line(self):
        self.assertEqual(
            'RERUN-PASSED: tests.integration.test_x.T.test_y: '
            'hrtimer-rbtree',
            migrate.rerun_passed_line('tests.integration.test_x.T.test_y',
                                      'hrtimer-rbtree'))
        self.assertEqual(
            'RERUN-PASSED: gate local/live, block (scheduled): '
            'idle-task-null-call',
            migrate.rerun_passed_line('gate local/live, block\n(scheduled)',
                                      'idle-task-null-call'))
