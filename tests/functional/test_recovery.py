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

"""A compute restarted in the middle of a cutover resolves it at start-up.

The compute's death is its cutover thread stopping where it is (it is
frozen at the point of the fault and never acts again, as after a
SIGKILL) and Nova's functional restart of the service (a new manager and
driver on the same hypervisor, :meth:`restart_compute_service`); the new
service's ``init_host`` resolves the cutover from its recorded phase
(:mod:`nova_v2v.virt.libvirt.recovery`).
"""

import os
import threading

import fixtures
from nova.tests.fixtures import libvirt as fakelibvirt

from nova_v2v.planning import planner
from nova_v2v.virt.libvirt import cutover_source
from nova_v2v.virt.libvirt import record as v2v_record
from nova_v2v.virt.libvirt import recovery
from tests.functional import base
from tests.functional import test_rollbacks

CONF = base.CONF
SOURCE = test_rollbacks.SOURCE
DEST = test_rollbacks.CUTOVER_DEST
WAIT = test_rollbacks.WAIT


class Killed(BaseException):
    """The end of a frozen thread of a killed compute (no handler runs)."""


class RecoveryTestBase(test_rollbacks.RollbackTestBase):

    def before_computes(self):
        super().before_computes()
        # A stopped service does not wait for the frozen migration.
        self.flags(manager_shutdown_timeout=1)
        # The threads of the source's cutover; where the next one dies.
        self.cutover_threads = set()
        self.kill_at = None
        self.frozen_at = threading.Event()
        self.thaw = threading.Event()
        self.addCleanup(self.thaw.set)
        self.phases_seen = []
        self._patch_freezing_points()

    def _freeze_here(self, point):
        """Where a killed compute's cutover thread stops for good."""
        if (point != self.kill_at or
                threading.get_ident() not in self.cutover_threads):
            return
        self.kill_at = None
        self.phases_seen.append((point, self.phase()))
        self.frozen_at.set()
        self.thaw.wait()
        raise Killed()

    def _patch_freezing_points(self):
        test = self
        copy = fakelibvirt.Domain.blockCopy
        job_info = fakelibvirt.Domain.blockJobInfo
        create = fakelibvirt.Domain.createWithFlags

        def block_copy(domain, *args, **kwargs):
            test.cutover_threads.add(threading.get_ident())
            return copy(domain, *args, **kwargs)

        def block_job_info(domain, *args, **kwargs):
            test._freeze_here('sync')
            return job_info(domain, *args, **kwargs)

        def create_domain(domain, *args, **kwargs):
            result = create(domain, *args, **kwargs)
            if test._hostname_of_conn(domain._connection) == DEST:
                test._freeze_here('clone-running')
            return result

        dom = 'nova.tests.fixtures.libvirt.Domain.'
        for name, value in (('blockCopy', block_copy),
                            ('blockJobInfo', block_job_info),
                            ('createWithFlags', create_domain)):
            self.useFixture(fixtures.MonkeyPatch(dom + name, value))

    def migrate_and_kill_at(self, point):
        """Start the cutover; the source's compute dies at ``point``.

        ``'sync'``: while the mirror converges; ``'clone-running'``: the
        clone was started, the source is paused.
        """
        self.kill_at = point
        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)
        self.assertTrue(self.frozen_at.wait(WAIT),
                        'the cutover thread never reached %s' % point)

    def restart(self, host):
        """Nova's restart of the compute service, on its hypervisor."""
        with self._virt_type(self.accel[host]):
            return self.restart_compute_service(host)

    def reap(self):
        """The killed compute's frozen thread goes (it held a worker)."""
        self.thaw.set()

    def record(self):
        return v2v_record.MigrationRecord.carried(None,
                                                  self.instance(self.server))

    def phase(self):
        return self.record().phase[0]

    def set_phase(self, phase):
        with self.cell_context(self.server) as cctxt:
            instance = self.instance(self.server)
            record = v2v_record.MigrationRecord.current(cctxt, instance)
            record.set_phase(phase)
            record.save()

    def source_domain(self):
        return self.conn(SOURCE).lookupByUUIDString(self.server['id'])

    def assert_held(self, message=recovery.HELD_FAULT):
        """Nothing destroyed or started: ERROR on the source, for an admin.

        :returns: the server
        """
        migration = self._wait_for_migration_status(self.server, ['error'])
        self.assertEqual(migration['id'],
                         self.last_migration(self.server)['id'])
        server = self._wait_for_state_change(self.server, 'ERROR')
        self.assertEqual(SOURCE, server['OS-EXT-SRV-ATTR:host'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        # Neither Nova's rollback nor its post-migration ran.
        self.assertEqual([], self.dest_rollbacks)
        self.assertEqual(v2v_record.CLONE_UNKNOWN, self.phase())
        self.assertEqual(message, server['fault']['message'])
        for fragment in ('to %s' % DEST, 'on %s' % SOURCE,
                         "When a cutover's clone state is unknown"):
            self.assertIn(fragment, server['fault']['details'])
        return self.assert_locked_for_the_owner(
            server, cutover_source.HELD_LOCK_REASON)


class SourceRestartTest(RecoveryTestBase):
    """The source's nova-compute dies and starts again."""

    def test_source_restarted_during_sync_rolls_back(self):
        """Row 4: mirrors ended, the source runs, the destination clean."""
        self.engine.mode = 'hold'
        self.migrate_and_kill_at('sync')
        self.assertEqual([('sync', v2v_record.SYNCING)], self.phases_seen)
        # The mirror still runs: nothing of the dead thread ends it.
        self.assertTrue(self.engine.jobs)
        self.assertEqual({'running'}, set(self.engine.exports.values()))
        # What Nova's rollback will need, kept by the source.
        self.assertIn('"is_shared_instance_path": false',
                      self.record().migrate_data_text)

        self.restart(SOURCE)

        self.assertEqual({}, self.engine.jobs)
        migration = self.assert_outcome('error', SOURCE)
        self.assertIsNone(self.record().migrate_data_text)
        self.wait_for(lambda: DEST in self.dest_rollbacks,
                      'the destination\'s rollback')
        self.assert_dest_cleaned(DEST)
        self.assertEqual(v2v_record.ROLLED_BACK, self.phase())
        self.assertEqual([], self.paused)
        self.assertEqual('error',
                         self.migration_record(migration['id']).status)
        self.reap()
        self.retry(DEST, planner.V2V_CUTOVER)

    def test_source_restarted_when_paused_for_cutover_resumes_it(self):
        """Row 4 at the stop: the paused source runs again, same outcome."""
        self.engine.mode = 'hold'
        self.migrate_and_kill_at('sync')
        # The guest was being stopped for the cutover when the compute
        # died: paused, the jobs not ended.
        self.source_domain().suspend()
        self.set_phase(v2v_record.CUTTING_OVER)
        self.assertTrue(self.engine.jobs)
        self.assertEqual(fakelibvirt.VIR_DOMAIN_PAUSED,
                         self.source_domain().info()[0])

        self.restart(SOURCE)

        self.assertEqual({}, self.engine.jobs)
        self.assert_outcome('error', SOURCE)
        self.wait_for(lambda: DEST in self.dest_rollbacks,
                      'the destination\'s rollback')
        self.assert_dest_cleaned(DEST)
        self.reap()
        self.retry(DEST, planner.V2V_CUTOVER)

    def test_source_restarted_with_the_clone_unproven_removes_it(self):
        """Row 5: the clone is removed first, then the source resumes."""
        self.migrate_and_kill_at('clone-running')
        self.assertEqual([DEST], [d[0] for d in self.engine.defined
                                  if d[0] == DEST])
        # Dead before the proof of the guest's activity: the phase the
        # cutover records once the clone runs.
        self.set_phase(v2v_record.CLONE_RUNNING)
        self.assertEqual(fakelibvirt.VIR_DOMAIN_PAUSED,
                         self.source_domain().info()[0])
        self.assertEqual(sorted([SOURCE, DEST]),
                         self.hosts_with_domain(self.server['id']))

        self.restart(SOURCE)

        self.assert_outcome('error', SOURCE)
        self.wait_for(lambda: DEST in self.dest_rollbacks,
                      'the destination\'s rollback')
        self.assert_dest_cleaned(DEST)
        self.assertEqual(v2v_record.ROLLED_BACK, self.phase())
        # The downtime lasted until the restarted source ran its guest
        # again: the API says so.
        event, = self.downtime_events()
        self.assertEqual('Error', event['result'])
        self.assertIn('rolled back as %s started again' % SOURCE,
                      event['details'])
        self.reap()
        self.retry(DEST, planner.V2V_CUTOVER)

    def test_source_restarted_after_the_point_of_no_return_completes(self):
        """Row 6: the paused source is destroyed, Nova's records move."""
        self.migrate_and_kill_at('clone-running')
        # Dead once the clone's guest showed activity (the point of no
        # return, recorded), before the paused source was destroyed.
        self.set_phase(v2v_record.CLONE_PROVEN)
        # Two domains: the clone runs, the source is paused.
        self.assertEqual(fakelibvirt.VIR_DOMAIN_PAUSED,
                         self.source_domain().info()[0])
        self.assertEqual(
            fakelibvirt.VIR_DOMAIN_RUNNING,
            self.conn(DEST).lookupByUUIDString(self.server['id']).info()[0])

        self.restart(SOURCE)

        migration = self.assert_cutover_done()
        self.assertEqual('completed',
                         self.migration_record(migration['id']).status)
        self.assert_allocations(DEST, migration)
        # The source's disks and directory went with Nova's cleanup.
        self.assertEqual([DEST], self.hosts_with_domain(self.server['id']))
        self.assertEqual(v2v_record.SOURCE_REMOVED, self.phase())
        self.assertFalse(os.path.exists(
            os.path.join(CONF.instances_path, self.server['id'],
                         'v2v-nbd-0.pid')))

    def test_source_restarted_after_the_point_of_no_return_holds(self):
        """Row 6 without the clone: the paused source is not destroyed."""
        self.migrate_and_kill_at('clone-running')
        self.set_phase(v2v_record.CLONE_PROVEN)
        # The clone is gone since (removed on the destination): completing
        # would leave no copy of the guest.
        clone = self.conn(DEST).lookupByUUIDString(self.server['id'])
        clone.destroy()
        clone.undefine()

        self.restart(SOURCE)

        server = self.assert_held()
        self.assertIn('on %s: not defined' % DEST,
                      server['fault']['details'])
        self.assertEqual([SOURCE], self.hosts_with_domain(self.server['id']))
        self.assertEqual(fakelibvirt.VIR_DOMAIN_PAUSED,
                         self.source_domain().info()[0])
        self.reap()

    def test_source_restarted_after_the_point_of_no_return_not_migrating(
            self):
        """Row 6, Nova's records not a move's: nothing destroyed, held.

        Checked before the paused source is destroyed: Nova's
        post-migration flow cannot run, and Nova's _init_instance does not
        get the instance (it would start the source next to the clone).
        """
        self.migrate_and_kill_at('clone-running')
        self.set_phase(v2v_record.CLONE_PROVEN)
        with self.cell_context(self.server):
            instance = self.instance(self.server)
            instance.task_state = None
            instance.save()
        self.flags(resume_guests_state_on_host_boot=True)

        self.restart(SOURCE)

        server = self.assert_held()
        self.assertIn('the instance is not migrating',
                      server['fault']['details'])
        # Both copies as they were: the clone runs, the source is paused.
        self.assertEqual(sorted([SOURCE, DEST]),
                         self.hosts_with_domain(self.server['id']))
        self.assertEqual(fakelibvirt.VIR_DOMAIN_PAUSED,
                         self.source_domain().info()[0])
        self.assertEqual(
            fakelibvirt.VIR_DOMAIN_RUNNING,
            self.conn(DEST).lookupByUUIDString(self.server['id']).info()[0])
        self.reap()


class DestinationRestartTest(RecoveryTestBase):
    """The destination's nova-compute dies and starts again."""

    def before_computes(self):
        super().before_computes()
        test = self
        stop = self.engine.stop_pid_file

        def stop_pid_file(pid_file, timeout=0, program=None):
            # qemu-nbd stopped: the source's mirror into it fails (the job
            # vanishes, libvirt sends BLOCK_JOB_2 FAILED).
            was = stop(pid_file)
            if was:
                uuid = os.path.basename(os.path.dirname(pid_file))
                for key in [k for k in test.engine.jobs if k[0] == uuid]:
                    del test.engine.jobs[key]
            return was

        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.transfer.nbd.stop_pid_file', stop_pid_file))

    def test_destination_restarted_during_sync_stops_the_exports(self):
        """Row 7: the exports stop, the source rolls back by itself."""
        self.engine.mode = 'hold'
        self.live_migrate(self.server, host=DEST)
        self.wait_running(DEST)

        self.restart(DEST)

        self.assertEqual({'stopped'}, set(self.engine.exports.values()))
        # The source's own rollback (Nova's recover_method).
        self.assert_outcome('failed', SOURCE)
        self.wait_for(lambda: DEST in self.dest_rollbacks,
                      'the destination\'s rollback')
        self.assert_dest_cleaned(DEST)
        self.reap()
        self.retry(DEST, planner.V2V_CUTOVER)

    def test_leftover_exports_of_a_crashed_compute_are_swept(self):
        leftover = os.path.join(CONF.instances_path, 'crashed-instance')
        os.makedirs(leftover)
        pid_file = os.path.join(leftover, 'v2v-nbd-0.pid')
        with open(pid_file, 'w') as f:
            f.write('0\n')
        self.engine.exports[pid_file] = 'running'

        self.restart(DEST)

        self.assertEqual('stopped', self.engine.exports[pid_file])
        self.assertFalse(os.path.exists(pid_file))
