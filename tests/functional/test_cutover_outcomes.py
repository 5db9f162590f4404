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

"""The three ends of a cutover's clone, through Nova's own flow.

After the source guest stopped and the clone started on the destination:

* the clone's guest shows activity (its disks written on after their
  first writes): the point of no return, the move completes;
* it shows none within ``[v2v] cutover_activity_timeout``: the clone is
  removed, the source resumes from its untouched disks, the migration is
  in error with the reason;
* the destination's libvirt stops answering before the clone's removal
  is confirmed (``CloneStateUnknown``): nothing is destroyed on either
  host, the instance is in ERROR with a fault that says what to check, the
  migration in error.

The clones' activity comes from :class:`CloneActivity` (the fake
engine's ``blockStats`` reports writes that go on by itself).
"""

import re

import fixtures
from nova import objects
from nova.tests.fixtures import libvirt as fakelibvirt

from nova_v2v import notifications
from nova_v2v.planning import planner
from nova_v2v.transfer import clone
from nova_v2v.virt.libvirt import cutover_source
from nova_v2v.virt.libvirt import record as v2v_record
from tests.functional import test_rollbacks

SOURCE = test_rollbacks.SOURCE
DEST = test_rollbacks.CUTOVER_DEST
PHASE_LOG = re.compile(r'V2V phase ([a-z-]+)')
BEFORE_NO_RETURN = [v2v_record.SYNCING, v2v_record.CUTTING_OVER,
                    v2v_record.SOURCE_STOPPED, v2v_record.CLONE_STARTED,
                    v2v_record.CLONE_RUNNING]


class CloneActivity(fixtures.Fixture):
    """What the destination's libvirt says of the clones it runs.

    :param engine: the test's :class:`test_cutover.FakeEngineBoundary`
        (its ``connections`` are the destinations' connections the
        driver opened)

    ``writes``: the write requests each clone's disks report, the same at
    each sample (None: the fake engine's, which grow). ``unreachable``:
    from the first sample of a clone's activity, the destination's libvirt
    stops answering (for the clone, and to new connections; its connection
    is dead) until the test sets it back to False. ``outage``: from the first
    sample, the destination's next ``outage`` libvirt calls fail, then it
    answers again (its libvirtd restarted; the clone's QEMU ran on).
    ``back_after_wait``: the destination's libvirt answers again (as if
    ``unreachable`` were set back to False) once the source's wait for the
    clone's activity ended, for the last look before its removal.
    """

    def __init__(self, engine):
        super().__init__()
        self.engine = engine
        self.writes = None
        self.unreachable = False
        self.outage = 0
        self.back_after_wait = False
        self.sampled = []
        self._started = set()

    def _setUp(self):
        dom = 'nova.tests.fixtures.libvirt.Domain.'
        real_stats = fakelibvirt.Domain.blockStats
        real_active = fakelibvirt.Domain.isActive
        real_open = fakelibvirt.openAuth
        real_wait = clone.wait_for_activity
        fix = self

        def wait_for_activity(*args, **kwargs):
            try:
                return real_wait(*args, **kwargs)
            finally:
                if fix.back_after_wait:
                    fix.unreachable = False

        def clone_of(domain):
            return domain._connection in fix.engine.connections

        def fail():
            if not fix._started:
                return
            if fix.outage > 0:
                fix.outage -= 1
            elif not fix.unreachable:
                return
            raise fakelibvirt.make_libvirtError(
                fakelibvirt.libvirtError,
                'Cannot recv data: Connection reset by peer',
                error_code=fakelibvirt.VIR_ERR_SYSTEM_ERROR,
                error_domain=fakelibvirt.VIR_FROM_RPC)

        def cut_off(domain):
            if (domain._connection, domain.UUIDString()) in fix._started:
                fail()

        def open_auth(uri, auth, flags=0):
            fail()
            return real_open(uri, auth, flags)

        def block_stats(domain, device):
            if clone_of(domain):
                fix._started.add((domain._connection, domain.UUIDString()))
            cut_off(domain)
            stats = list(real_stats(domain, device))
            if clone_of(domain):
                if fix.writes is not None:
                    stats[2] = fix.writes
                fix.sampled.append((device, stats[2]))
            return stats

        def is_active(domain):
            cut_off(domain)
            return real_active(domain)

        def is_alive(connection):
            return int(not (fix.unreachable and any(
                conn is connection for conn, _uuid in fix._started)))

        for path, value in ((dom + 'blockStats', block_stats),
                            (dom + 'isActive', is_active),
                            ('nova.tests.fixtures.libvirt.openAuth',
                             open_auth),
                            ('nova.tests.fixtures.libvirt.Connection.'
                             'isAlive', is_alive),
                            ('nova_v2v.transfer.clone.wait_for_activity',
                             wait_for_activity)):
            self.useFixture(fixtures.MonkeyPatch(path, value))


class CloneOutcomeTestBase(test_rollbacks.RollbackTestBase):

    def setUp(self):
        super().setUp()
        self.activity = self.useFixture(CloneActivity(self.engine))

    def phases_logged(self):
        """The phases the driver logged, in order ("V2V phase <phase>")."""
        return PHASE_LOG.findall(self.stdlog.logger.output)

    def phase_recorded(self):
        """The phase the database holds."""
        with self.cell_context(self.server) as cctxt:
            return v2v_record.MigrationRecord.current(
                cctxt, objects.Instance(uuid=self.server['id'],
                                        system_metadata={})).phase[0]

    def domain(self, host):
        return self.conn(host).lookupByUUIDString(self.server['id'])


class CloneProvenTest(CloneOutcomeTestBase):

    def test_clone_writing_completes_the_move(self):
        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('completed', DEST)
        self.assert_cutover_done()
        # Its disk was sampled on the destination: it had been written.
        self.assertTrue(self.activity.sampled)
        self.assertEqual(
            [v2v_record.EXPORTED] + BEFORE_NO_RETURN +
            [v2v_record.CLONE_PROVEN, v2v_record.SOURCE_REMOVED],
            self.phases_logged())
        self.assertEqual(v2v_record.SOURCE_REMOVED, self.phase_recorded())


class DestinationLibvirtRestartTest(CloneOutcomeTestBase):

    def test_proof_survives_the_destination_libvirtd_restarting(self):
        # Its first calls after the clone's start fail (the clone's QEMU
        # runs on); the proof looks the clone up again and completes.
        self.activity.outage = 3

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('completed', DEST)
        self.assertEqual(0, self.activity.outage)
        self.assertTrue(self.activity.sampled)
        self.assertEqual(
            [v2v_record.EXPORTED] + BEFORE_NO_RETURN +
            [v2v_record.CLONE_PROVEN, v2v_record.SOURCE_REMOVED],
            self.phases_logged())


class CloneWithoutActivityTest(CloneOutcomeTestBase):

    def test_silent_clone_rolls_back_to_the_source(self):
        self.flags(cutover_activity_timeout=1, group='v2v')
        self.activity.writes = 0

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('error', SOURCE)
        # The source had been paused for the cutover and was resumed; the
        # clone was defined, then removed, and Nova's rollback cleaned the
        # destination.
        self.assertIn(SOURCE, self.paused)
        self.assertEqual([DEST], [d[0] for d in self.engine.defined
                                  if d[0] == DEST])
        self.assert_dest_cleaned(DEST)
        self.assertTrue(self.activity.sampled)
        self.assertEqual({0}, {w for _d, w in self.activity.sampled})
        self.assertEqual(
            [v2v_record.EXPORTED] + BEFORE_NO_RETURN +
            [v2v_record.ROLLED_BACK], self.phases_logged())
        self.assertEqual(v2v_record.ROLLED_BACK, self.phase_recorded())
        rollback = [n for n in self.notifier.versioned_notifications
                    if n['event_type'] == notifications.ROLLBACK]
        self.assertEqual(
            'the clone showed no guest activity within 1 s (no disk '
            'written)', rollback[0]['payload']['nova_object.data']['reason'])
        # The clone ran, then was removed: the downtime lasted until the
        # source ran again, and the API says why.
        event, = self.downtime_events()
        self.assertEqual('Error', event['result'])
        self.assertIn('showed no guest activity', event['details'])

        self.activity.writes = None
        self.retry(DEST, planner.V2V_CUTOVER)

    def test_boot_loader_writes_alone_roll_back(self):
        # The clone's boot loader wrote (GRUB's grubenv), then its kernel
        # hung: its disks are not written on.
        self.flags(cutover_activity_timeout=3, group='v2v')
        self.activity.writes = 2

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('error', SOURCE)
        self.assert_dest_cleaned(DEST)
        self.assertEqual({2}, {w for _d, w in self.activity.sampled})
        self.assertEqual(
            [v2v_record.EXPORTED] + BEFORE_NO_RETURN +
            [v2v_record.ROLLED_BACK], self.phases_logged())
        rollback = [n for n in self.notifier.versioned_notifications
                    if n['event_type'] == notifications.ROLLBACK]
        reason = rollback[0]['payload']['nova_object.data']['reason']
        self.assertRegex(reason, r'^the clone showed no guest activity '
                                 r'within 3 s \(its disks written \(\w+: 2 '
                                 r'write requests\) but no more over the \d+ '
                                 r's that followed\)$')


class LastLookTest(CloneOutcomeTestBase):
    """The destination's libvirt unreachable until the wait's deadline.

    It answers again for the last look at the clone before its removal.
    """

    def setUp(self):
        super().setUp()
        self.flags(cutover_activity_timeout=1, group='v2v')
        self.activity.unreachable = True
        self.activity.back_after_wait = True

    def test_clone_writing_at_the_last_look_completes_the_move(self):
        # Its guest ran while the source could not see it: removing it
        # would lose what it wrote.
        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('completed', DEST)
        self.assert_cutover_done()
        self.assertEqual(
            [v2v_record.EXPORTED] + BEFORE_NO_RETURN +
            [v2v_record.CLONE_PROVEN, v2v_record.SOURCE_REMOVED],
            self.phases_logged())
        self.assertIn('showed activity at the last look: it is kept',
                      self.stdlog.logger.output)

    def test_clone_silent_at_the_last_look_rolls_back(self):
        self.activity.writes = 0

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('error', SOURCE)
        self.assert_dest_cleaned(DEST)
        # Sampled at the last look, through the destination's libvirt.
        self.assertIn(0, {w for _d, w in self.activity.sampled})
        self.assertEqual(
            [v2v_record.EXPORTED] + BEFORE_NO_RETURN +
            [v2v_record.ROLLED_BACK], self.phases_logged())


class CloneStateUnknownTest(CloneOutcomeTestBase):

    def test_unknown_clone_destroys_nothing(self):
        self.flags(cutover_activity_timeout=1, group='v2v')
        self.activity.unreachable = True

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        migration = self._wait_for_migration_status(self.server, ['error'])
        server = self._wait_for_state_change(self.server, 'ERROR')
        self.activity.unreachable = False
        self.assertEqual(SOURCE, server['OS-EXT-SRV-ATTR:host'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        # The fault says what to check; its details (an administrator's)
        # name the clone and both hosts.
        fault = server['fault']
        self.assertEqual(cutover_source.CLONE_UNKNOWN_FAULT,
                         fault['message'])
        name = self.domain(DEST).name()
        for fragment in ('%s on %s is unknown' % (name, DEST),
                         'stopped on %s' % SOURCE,
                         'virsh domstate %s' % name,
                         "When a cutover's clone state is unknown"):
            self.assertIn(fragment, fault['details'])
        # Nothing was destroyed: the paused source and the running clone.
        self.assertEqual(sorted([SOURCE, DEST]),
                         self.hosts_with_domain(self.server['id']))
        self.assertEqual(fakelibvirt.VIR_DOMAIN_PAUSED,
                         self.domain(SOURCE).info()[0])
        self.assertEqual(fakelibvirt.VIR_DOMAIN_RUNNING,
                         self.domain(DEST).info()[0])
        # Neither Nova's rollback (which would destroy the clone with its
        # disks) nor its post-migration ran.
        self.assertEqual([], self.dest_rollbacks)
        self.assertEqual({}, self.engine.jobs)
        self.assertEqual(
            [v2v_record.EXPORTED] + BEFORE_NO_RETURN +
            [v2v_record.CLONE_UNKNOWN], self.phases_logged())
        self.assertEqual(v2v_record.CLONE_UNKNOWN, self.phase_recorded())
        # Both hosts stay claimed: the instance's allocation on the
        # destination, the migration's on the source.
        self.assertEqual([DEST], self.allocation_hosts(self.server['id']))
        self.assertEqual([SOURCE], self.allocation_hosts(migration['uuid']))
        # Locked: the owner can neither reboot, rebuild nor delete it.
        self.assert_locked_for_the_owner(server,
                                         cutover_source.HELD_LOCK_REASON)
