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

"""Real libvirt/QEMU migrations in the two-host lab (nova_v2v_rig.lab).

Needs root, the Debian packages of bindep.txt (profile "test") and the
Debian archive for the guest kernel.  Nothing is skipped: a missing
prerequisite fails every test with one message (tests.integration.base).
"""

import json

from testtools import content

from tests.integration import base

# A guest that panics on an NMI, and the NMI host b's libvirt gives it once
# it wrote there: a guest crash after the move, on demand.
PANIC_ON_NMI = {'unknown_nmi_panic': 1}
NMI_PANIC = 'Kernel panic - not syncing: NMI'


# The known QEMU fault's crash (nova_v2v_rig.lab.console) as the lab's
# guest kernel prints it on its console.
IDLE_TASK_NULL_CALL = '''\
BUG: kernel NULL pointer dereference, address: 0000000000000000
#PF: supervisor instruction fetch in kernel mode
#PF: error_code(0x0010) - not-present page
Oops: 0010 [#1] PREEMPT SMP NOPTI
CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0-28-cloud-amd64 #1
RIP: 0010:0x0
Kernel panic - not syncing: Attempted to kill the idle task!
---[ end Kernel panic - not syncing: Attempted to kill the idle task! ]---
'''


def _nmi(dest_dom):
    dest_dom.injectNMI()


class TestLabMigrations(base.LabTestCase):
    """One lab: shared-live and block-live migrations from a to b.

    And a guest that dies on host b after the move: a typed failure, run
    once more only when the source's QEMU is known to lose guest writes.
    """

    def _migrate(self, mode):
        result = self.migrate_live(mode)
        print('\n%s: %s' % (mode, json.dumps(result, sort_keys=True)))
        self.addDetail('result', content.text_content(
            json.dumps(result, indent=2, sort_keys=True)))
        self.assertGuestMovedIntact(result)
        self.assertEqual('source job-completed event',
                         result['job_stats_from'], result)
        first_b, _last_b = result['log_ranges'][1]
        self.assertGreater(first_b, 1, 'guest did not write on host a')
        return result

    def test_shared_live(self):
        result = self._migrate('shared-live')
        self.assertEqual(0, result['disk_bytes'], result)

    def test_block_live(self):
        result = self._migrate('block-live')
        self.assertGreater(result['disk_bytes'], 0, result)

    def _caveat(self):
        import libvirt

        from nova_v2v.planning import compat
        from nova_v2v.planning import profile
        from nova_v2v_rig.lab import accel
        from nova_v2v_rig.lab import guest
        virt_type, _reason = accel.detect(
            guest.build(self.lab.cache_dir),
            cache_file='%s/accel' % self.lab.cache_dir)
        conn = libvirt.open(self.lab.local_uri('a'))
        try:
            version = conn.getVersion()
        finally:
            conn.close()
        return compat.live_state_caveat(
            profile.TCG if virt_type == 'qemu' else profile.KVM, version)

    def _nmi_crash(self, exc):
        """``exc`` if the guest died of the NMI; else raise it.

        A live move may lose guest memory writes (QEMU's known TCG fault)
        and the guest die of that before or as it takes the NMI: a crash
        the known fault explains makes :meth:`once_more` run the move
        again, any other crash fails the test with its whole report.
        """
        if NMI_PANIC in exc.crash:
            return exc
        self.addDetail('crash-report', content.text_content(
            '%s\n%s' % (exc, exc.report)))
        raise exc

    def test_crash_is_typed_and_cleaned_up(self):
        from nova_v2v_rig.lab import migrate

        def migration():
            return self._nmi_crash(self.assertRaises(
                migrate.GuestCrashed, migrate.run, self.lab, 'shared-live',
                before=2.0, after=2.0, kernel_args=PANIC_ON_NMI,
                after_move=_nmi))

        exc = self.once_more('shared-live', migration)
        self.assertIn(NMI_PANIC, exc.crash)
        self.assertIsNotNone(exc.report)
        self.assertEqual(self._caveat(), exc.known_fault)
        self.assertIn('the guest crashed on host b after the migration',
                      str(exc))
        # Nothing of the guest is left on either host.
        import libvirt
        for host in ('a', 'b'):
            conn = libvirt.open(self.lab.local_uri(host))
            try:
                self.assertEqual([], [d.name() for d in conn.listAllDomains()
                                      if d.name().startswith('lab-')], host)
            finally:
                conn.close()

    def test_other_crash_fails_at_once(self):
        # An NMI panic is not the known QEMU fault's crash: whatever QEMU
        # the move ran on, the test fails at once, no second run after it.
        # (Only the known fault itself, hitting the first move before the
        # NMI could, may run it once more: then the second move's NMI panic
        # must end it, and the rerun is reported.)
        from nova_v2v_rig.lab import migrate
        crashes = []

        def migration():
            try:
                return migrate.run(self.lab, 'block-live', before=2.0,
                                   after=2.0, kernel_args=PANIC_ON_NMI,
                                   after_move=_nmi)
            except migrate.GuestCrashed as exc:
                crashes.append(exc)
                raise

        exc = self.assertRaises(migrate.GuestCrashed, self.once_more,
                                'block-live', migration)
        if NMI_PANIC not in exc.crash:
            self.addDetail('crash-report', content.text_content(
                '%s\n%s' % (exc, exc.report)))
        self.assertIn(NMI_PANIC, exc.crash)
        self.assertIsNone(exc.signature)
        self.assertFalse(exc.explained)
        self.assertIs(exc, crashes[-1])
        if len(crashes) == 2:
            # The first move died of the known fault, not of the NMI, on
            # a QEMU that has it: the one rerun the rule allows.
            first = crashes[0]
            self.assertNotIn(NMI_PANIC, first.crash)
            self.assertTrue(first.explained)
            self.assertIsNotNone(self._caveat())
            self.assertIn('guest-crash', self.getDetails())
            self._passed_again(first)
        else:
            self.assertEqual(1, len(crashes))
            self.assertNotIn('guest-crash', self.getDetails())

    def test_known_crash_runs_once_more(self):
        # The known fault's crash on the console of host b (the idle-task
        # NULL call as the lab's guest kernel printed it, written to the
        # serial log as the guest dies of an NMI): run once more where the
        # fault can hit, a failure where it cannot.
        from nova_v2v_rig.lab import migrate
        runs = []

        def fault_on_b(dest_dom):
            path = self.lab.root_path(
                'b', '/var/log/libvirt/qemu/%s-serial.log' % dest_dom.name())
            with open(path, 'a') as f:
                f.write(IDLE_TASK_NULL_CALL)
            _nmi(dest_dom)

        def migration():
            runs.append(len(runs) + 1)
            if len(runs) == 1:
                return migrate.run(self.lab, 'block-live', before=2.0,
                                   after=2.0, kernel_args=PANIC_ON_NMI,
                                   after_move=fault_on_b)
            return migrate.run(self.lab, 'block-live', before=2.0, after=2.0)

        if self._caveat() is None:
            # KVM, or a QEMU with the fix: the fault cannot explain it.
            exc = self.assertRaises(migrate.GuestCrashed, self.once_more,
                                    'block-live', migration)
            self.assertEqual([1], runs)
            self.assertEqual('idle-task-null-call', exc.signature)
            return
        result = self.once_more('block-live', migration)
        self.assertEqual([1, 2], runs)
        self.assertGuestMovedIntact(result)
        detail = self.getDetails()['guest-crash'].as_text()
        self.assertIn('block-live: the guest crashed on host b (BUG: kernel '
                      'NULL pointer dereference, address: 0000000000000000, '
                      'signature idle-task-null-call)', detail)
        self.assertIn('known QEMU fault: QEMU ', detail)
        # The test's RERUN-PASSED line is due; the crash was provoked, not
        # QEMU's, so the run's summary does not count it.
        self.assertEqual(['idle-task-null-call'], self._reruns)
        del self._reruns[:]
