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

"""Live migrations between two hypervisor versions, and the planner's word.

One lab host runs the machine's own libvirt and QEMU, the other those of
the other Debian release (12: libvirt 9.0, QEMU 7.2; 13: libvirt 11.3,
QEMU 10.0), chrooted in a root filesystem the lab builds once
(nova_v2v_rig.lab.rootfs). :class:`TestToTheOtherRelease` moves guests
from the machine's host (a) to the other release's (b),
:class:`TestFromTheOtherRelease` the other way round (host a runs the
other release): the newer QEMU is the
destination in one class, the source in the other, whichever release the
machine runs.

Each move is first planned by nova-v2v's planner from the profiles the two
daemons give (what a nova-v2v compute publishes), then run on the
daemons: a plan of a live move must be one the daemons carry out with
every record, a refusal one they refuse. A guest on a machine type only
the newer QEMU has cannot go to the older one; both say so.
"""

import json

import libvirt
from testtools import content

from tests.integration import base

# The machine type both releases' QEMU run, and one that only the newer
# runs (Debian 13's QEMU 10.0; Debian 12's 7.2 lacks it).
COMMON_MACHINE = 'pc-i440fx-7.2'
NEWER_MACHINE = 'pc-i440fx-10.0'


def _machine_release():
    """The Debian release of this machine (VERSION_CODENAME)."""
    with open('/etc/os-release') as f:
        for line in f:
            key, _sep, value = line.strip().partition('=')
            if key == 'VERSION_CODENAME':
                return value.strip('"')
    return None


def other_release():
    """The release the lab runs beside the machine's own."""
    return 'trixie' if _machine_release() != 'trixie' else 'bookworm'


class _TwoVersions(object):
    """The tests of a lab of two versions (a mixin: no lab of its own)."""

    other_host = None

    def _conns(self):
        conns = {h: libvirt.open(self.lab.local_uri(h)) for h in 'ab'}
        for conn in conns.values():
            self.addCleanup(conn.close)
        return conns

    def _profiles(self, conns):
        from nova_v2v.planning import profile as hw_profile
        from nova_v2v_rig.lab import v2v
        return [v2v.host_profile(conns[h], 'labhost-%s' % h,
                                 hw_profile.TCG, '/var/lib/nova/instances')
                for h in 'ab']

    def _plan(self, conns, machine, mode):
        """The planner's verdict for a lab guest on ``machine``, a to b."""
        from nova_v2v.hardware import guest as hw_guest
        from nova_v2v.planning import planner
        from nova_v2v.planning import profile as hw_profile
        source, dest = self._profiles(conns)
        guest = hw_guest.GuestProfile(domain_type='qemu', machine=machine)
        shared = mode == 'shared-live'
        try:
            return planner.plan_live_migration(
                source, dest, guest, hw_profile.StorageFacts(
                    shared_instance_path=shared)).mode
        except planner.PlanRefused as exc:
            return 'refused: %s' % exc

    def test_the_hosts_run_two_versions(self):
        conns = self._conns()
        versions = {h: (c.getLibVersion(), c.getVersion())
                    for h, c in conns.items()}
        self.addDetail('versions', content.text_content(
            json.dumps(versions)))
        self.assertNotEqual(versions['a'], versions['b'])
        release = self.lab.release(self.other_host)
        self.assertEqual(other_release(), release)
        from nova_v2v_rig.lab import rootfs
        want = rootfs.RELEASES[release]
        got = versions[self.other_host]
        self.assertEqual(want['libvirt'], '%d.%d' % (got[0] // 1000000,
                                                     got[0] // 1000 % 1000))
        self.assertEqual(want['qemu'], '%d.%d' % (got[1] // 1000000,
                                                  got[1] // 1000 % 1000))

    def _move(self, mode):
        conns = self._conns()
        verdict = self._plan(conns, COMMON_MACHINE, mode)
        result = self.migrate_live(mode, machine=COMMON_MACHINE)
        result['planned'] = verdict
        result['versions'] = {h: (c.getLibVersion(), c.getVersion())
                              for h, c in conns.items()}
        print('\n%s %s: %s' % (type(self).__name__, mode,
                               json.dumps(result, sort_keys=True)))
        self.addDetail('result', content.text_content(
            json.dumps(result, indent=2, sort_keys=True)))
        # The planner said live, and the daemons moved it live, intact.
        self.assertEqual(mode, verdict)
        self.assertGuestMovedIntact(result)
        # QEMU's TCG dirty-bitmap fault is the source's (fixed in 9.0): a
        # crash after a move from a QEMU with the fix never runs again.
        if result['versions']['a'][1] >= 9000000:
            self.assertIsNone(result['known_fault'], result)
        else:
            self.assertIn('before 9.0', result['known_fault'])
        return result

    def test_shared_live(self):
        self._move('shared-live')

    def test_block_live(self):
        result = self._move('block-live')
        self.assertGreater(result['disk_bytes'], 0, result)

    def test_a_machine_type_the_destination_lacks(self):
        # Only a guest on the newer QEMU can be on a machine type the other
        # lacks: the class whose source (a) runs the newer one.
        conns = self._conns()
        if conns['a'].getVersion() < conns['b'].getVersion():
            # From the older QEMU no machine type is missing on the newer:
            # nothing to refuse; the planner plans it live.
            self.assertEqual('block-live', self._plan(
                conns, COMMON_MACHINE, 'block-live'))
            return
        verdict = self._plan(conns, NEWER_MACHINE, 'block-live')
        from nova_v2v_rig.lab import migrate
        result = migrate.run(self.lab, 'block-live', before=2.0, after=0.0,
                             machine=NEWER_MACHINE, expect_refusal=True)
        result['planned'] = verdict
        print('\n%s machine %s: %s' % (type(self).__name__, NEWER_MACHINE,
                                       json.dumps(result, sort_keys=True)))
        self.addDetail('result', content.text_content(
            json.dumps(result, indent=2, sort_keys=True)))
        # The planner does not move the live state there: it restarts the
        # guest on a machine type the destination runs (the V2V cutover).
        self.assertEqual('v2v-cutover', verdict)
        # The daemons refuse it, and the guest runs on, writing, intact.
        self.assertIn(NEWER_MACHINE, result['refused'])
        self.assertTrue(result['source_running'], result)
        self.assertTrue(result['source_writes_after_refusal'], result)
        self.assertEqual([], result['dest_leftovers'], result)
        self.assertEqual(0, result['records_lost'], result)


class TestToTheOtherRelease(_TwoVersions, base.LabTestCase):
    """From the machine's libvirt/QEMU (a) to the other release's (b)."""

    other_host = 'b'
    lab_options = {'releases': {'b': other_release()}}


class TestFromTheOtherRelease(_TwoVersions, base.LabTestCase):
    """From the other release's libvirt/QEMU (a) to the machine's (b)."""

    other_host = 'a'
    lab_options = {'releases': {'a': other_release()}}
