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

    def test_crash_is_typed_and_cleaned_up(self):
        from nova_v2v_rig.lab import migrate
        exc = self.assertRaises(migrate.GuestCrashed, migrate.run, self.lab,
                                'shared-live', before=2.0, after=2.0,
                                kernel_args=PANIC_ON_NMI, after_move=_nmi)
        self.assertIn('Kernel panic - not syncing: NMI', exc.crash)
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

    def test_known_crash_runs_once_more(self):
        from nova_v2v_rig.lab import migrate
        runs = []

        def migration():
            runs.append(len(runs) + 1)
            if len(runs) == 1:
                return migrate.run(self.lab, 'block-live', before=2.0,
                                   after=2.0, kernel_args=PANIC_ON_NMI,
                                   after_move=_nmi)
            return migrate.run(self.lab, 'block-live', before=2.0, after=2.0)

        if self._caveat() is None:
            # KVM, or a QEMU with the fix: a crash is not known, it fails.
            self.assertRaises(migrate.GuestCrashed, self.once_more,
                              'block-live', migration)
            self.assertEqual([1], runs)
            return
        result = self.once_more('block-live', migration)
        self.assertEqual([1, 2], runs)
        self.assertGuestMovedIntact(result)
        detail = self.getDetails()['guest-crash'].as_text()
        self.assertIn('block-live: the guest crashed on host b (Kernel panic '
                      '- not syncing: NMI', detail)
        self.assertIn('known QEMU fault: QEMU ', detail)
