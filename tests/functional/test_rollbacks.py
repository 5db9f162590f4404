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

"""Nova-level rollbacks of both modes: what is left once a move gave up.

Each failure is injected at one point of Nova's live migration flow (the
pre-checks, the destination's ``pre_live_migration``, the sync, the
cutover) or the operator intervenes (abort, force-complete) while the
migration runs. Afterwards the instance runs ACTIVE on the host it should,
the migration record tells what happened, Placement holds the flavor on
that host only (the migration's own consumer is gone) and a retry of the
move is not blocked.

``block-live`` is Nova's own libvirt path (kvm-local-1 -> kvm-local-2:
``migrateToURI3``, stubbed); ``v2v-cutover`` is the engine (kvm-local-1 ->
tcg-local, on the fake boundary of :mod:`tests.functional.test_cutover`).
"""

import os
import threading
import time

import fixtures
from lxml import etree
from nova.tests.fixtures import libvirt as fakelibvirt
from nova import utils as nova_utils

from nova_v2v.planning import planner
from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception as transfer_exception
from nova_v2v.virt.libvirt import driver as v2v_driver
from nova_v2v.virt.libvirt import record as v2v_record
from tests.functional import base
from tests.functional import test_cutover

CONF = base.CONF
SOURCE = 'kvm-local-1'
BLOCK_DEST = 'kvm-local-2'
CUTOVER_DEST = 'tcg-local'
# A PCI device passed through: no plan can carry it to another host.
PCI_HOSTDEV = ("<hostdev mode='subsystem' type='pci' managed='yes'>"
               "<source><address domain='0x0000' bus='0x3b' slot='0x00' "
               "function='0x0'/></source></hostdev>")
MV_ABORT = '2.24'
MV_FORCE_COMPLETE = '2.22'
WAIT = 30


class RollbackTestBase(test_cutover.CutoverTestBase):
    """kvm-local-1 (the guest), kvm-local-2 (block-live), tcg-local."""

    def before_computes(self):
        self.start_v2v_compute(BLOCK_DEST)
        # Fault injection and observation points.
        self.hostdev_uuids = set()
        self.libvirt_fails = False
        self.libvirt_hold = False
        self.libvirt_raises = False
        self.libvirt_running = threading.Event()
        self.libvirt_release = threading.Event()
        self.pre_live_fails = set()
        self.export_fails = False
        self.converge_on_pause = False
        self.paused = []
        self.dest_rollbacks = []
        self._patch_xml_desc()
        self._patch_pause_and_abort()
        self._patch_pre_live_migration()
        self._spy_dest_rollback()
        # The engine asks whether the destination's libvirt is reachable.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Connection.isAlive',
            lambda connection: 1))

    # -- injection ---------------------------------------------------

    def _patch_xml_desc(self):
        test = self
        real = fakelibvirt.Domain.XMLDesc  # the engine boundary's

        def xml_desc(domain, flags=0):
            xml = real(domain, flags)
            if domain.UUIDString() not in test.hostdev_uuids:
                return xml
            root = etree.fromstring(xml)
            root.find('./devices').append(etree.fromstring(PCI_HOSTDEV))
            return etree.tostring(root).decode()

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.XMLDesc', xml_desc))

    def _patch_pause_and_abort(self):
        test = self
        real_suspend = fakelibvirt.Domain.suspend

        def suspend(domain):
            real_suspend(domain)
            test.paused.append(test._hostname_of_conn(domain._connection))
            if test.converge_on_pause:
                # A paused guest writes nothing: the mirror converges.
                for (uuid, dev), job in list(test.engine.jobs.items()):
                    if uuid == domain.UUIDString() and (
                            job['cur'] != job['end']):
                        job['cur'] = job['end']
                        test.engine._emit(
                            domain, dev,
                            cutover.libvirt.VIR_DOMAIN_BLOCK_JOB_READY)
            test.libvirt_release.set()

        def abort_job(domain):
            # libvirt cancels the migration job; migrateToURI3 then fails.
            if domain._job_type == fakelibvirt.VIR_DOMAIN_JOB_UNBOUNDED:
                domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_CANCELLED
            test.libvirt_release.set()

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.suspend', suspend))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.abortJob', abort_job))

    def _hostname_of_conn(self, connection):
        for host, compute in self.computes.items():
            if compute.driver._host.get_connection() is connection:
                return host
        return None

    def _patch_pre_live_migration(self):
        test = self
        real = v2v_driver.libvirt_driver.LibvirtDriver.pre_live_migration

        def pre_live_migration(driver, context, instance, *args, **kwargs):
            result = real(driver, context, instance, *args, **kwargs)
            host = test._hostname_of(driver)
            if host in test.pre_live_fails:
                # After Nova created the instance directory and the disks.
                raise RuntimeError('injected pre_live_migration failure on '
                                   '%s' % host)
            return result

        def export_start(export):
            if test.export_fails:
                raise transfer_exception.ExportError(
                    'qemu-nbd failed to start: injected')
            return test.engine.export_start(export)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.pre_live_migration',
            pre_live_migration))
        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.transfer.nbd.ClientBoundExport.start', export_start))

    def _spy_dest_rollback(self):
        test = self
        real = v2v_driver.V2VDriverMixin.rollback_live_migration_at_destination

        def rollback(driver, context, instance, *args, **kwargs):
            test.dest_rollbacks.append(test._hostname_of(driver))
            return real(driver, context, instance, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.virt.libvirt.driver.V2VDriverMixin.'
            'rollback_live_migration_at_destination', rollback))

    def _migrate_stub(self, domain, destination, params, flags):
        """libvirt's migration, which may fail or run until released.

        As in Nova's own rollback tests, a failed or cancelled job is
        reported through the job's stats (``jobStats``) and the call
        returns; with ``libvirt_raises`` it also raises, as libvirt's
        ``migrateToURI3`` does.
        """
        if self.libvirt_hold:
            domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_UNBOUNDED
            self.libvirt_running.set()
            # Until an abort or a pause (force-complete).
            self.assertTrue(self.libvirt_release.wait(WAIT),
                            'the held migration was never released')
        if self.libvirt_fails:
            domain.fail_job()
        if domain._job_type in (fakelibvirt.VIR_DOMAIN_JOB_FAILED,
                                fakelibvirt.VIR_DOMAIN_JOB_CANCELLED):
            if self.libvirt_raises:
                raise fakelibvirt.make_libvirtError(
                    fakelibvirt.libvirtError,
                    'operation aborted: migration out job: canceled by '
                    'client', error_code=fakelibvirt.VIR_ERR_INTERNAL_ERROR,
                    error_domain=fakelibvirt.VIR_FROM_QEMU)
            return
        super()._migrate_stub(domain, destination, params, flags)

    # -- API ---------------------------------------------------------

    def abort(self, migration):
        with nova_utils.temporary_mutation(self.api, microversion=MV_ABORT):
            return self.api.api_delete(
                '/servers/%s/migrations/%s' % (self.server['id'],
                                               migration['id']),
                check_response_status=[202, 400, 409])

    def force_complete(self, migration):
        with nova_utils.temporary_mutation(self.api,
                                           microversion=MV_FORCE_COMPLETE):
            return self.api.api_post(
                '/servers/%s/migrations/%s/action' % (self.server['id'],
                                                      migration['id']),
                {'force_complete': None},
                check_response_status=[202, 400, 409])

    # -- waiting -----------------------------------------------------

    def wait_for(self, predicate, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s' % what)
            time.sleep(0.1)

    def wait_running(self, dest):
        """The last migration runs: libvirt's job, or the engine's sync."""
        def running():
            migration = self.last_migration(self.server)
            if migration['status'] != 'running':
                return None
            if dest == CUTOVER_DEST and not self.engine.jobs:
                return None
            if dest == BLOCK_DEST and not self.libvirt_running.is_set():
                return None
            return migration
        return self.wait_for(running, 'a running migration')

    # -- assertions --------------------------------------------------

    def rp(self, host):
        return self._get_provider_uuid_by_host(host)

    def allocation_hosts(self, consumer):
        by_rp = {self.rp(h): h for h in self.computes}
        return sorted(by_rp[rp] for rp in
                      self._get_allocations_by_server_uuid(consumer))

    def assert_allocations(self, host, migration):
        """The flavor on ``host`` only; the migration holds nothing."""
        self.wait_for(
            lambda: (self.allocation_hosts(self.server['id']) == [host] and
                     not self._get_allocations_by_server_uuid(
                         migration['uuid'])),
            'allocations on %s only (server: %s, migration: %s)' % (
                host, self.allocation_hosts(self.server['id']),
                self.allocation_hosts(migration['uuid'])),
            timeout=10)
        self.assertFlavorMatchesAllocation(self.server['flavor'],
                                           self.server['id'], self.rp(host))
        for other in self.computes:
            if other != host:
                usages = self._get_provider_usages(self.rp(other))
                self.assertEqual({0}, set(usages.values()),
                                 'usage left on %s: %s' % (other, usages))

    def assert_outcome(self, status, host):
        """Migration ``status``; ACTIVE on ``host``; Placement agrees."""
        migration = self._wait_for_migration_status(self.server, [status])
        self.assertEqual(migration['id'],
                         self.last_migration(self.server)['id'])
        server = self._wait_for_state_change(self.server, 'ACTIVE')
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        self.assertEqual([host], self.hosts_with_domain(self.server['id']))
        dom = self.conn(host).lookupByUUIDString(self.server['id'])
        self.assertEqual(fakelibvirt.VIR_DOMAIN_RUNNING, dom.info()[0])
        self.assert_allocations(host, migration)
        sysmeta = self.instance(self.server).system_metadata
        self.assertNotIn(v2v_record.SYSMETA_NBD, sysmeta)
        self.assertNotIn(v2v_record.SYSMETA_DEST_PROFILE, sysmeta)
        return migration

    def assert_dest_cleaned(self, dest):
        """The destination's rollback ran: nothing of the guest there."""
        self.assertIn(dest, self.dest_rollbacks)
        self.assertEqual([], self.conn(dest).listAllDomains(base.ALL_DOMAINS))
        self.assertFalse(os.path.exists(os.path.dirname(self.disk_path)))
        self.assertEqual(
            set(), {s for s in self.engine.exports.values()} - {'stopped'})

    def retry(self, dest, mode):
        """Without the fault, the same move completes."""
        self.hostdev_uuids.clear()
        self.libvirt_fails = self.libvirt_hold = False
        self.libvirt_raises = False
        self.pre_live_fails.clear()
        self.export_fails = False
        self.engine.mode = 'ready'
        self.engine.clone_fails = False
        self.plans.pop(self.server['id'], None)
        # libvirt reports a new job's stats, not the last one's.
        dom = self.conn(SOURCE).lookupByUUIDString(self.server['id'])
        dom._job_type = fakelibvirt.VIR_DOMAIN_JOB_NONE
        before = len(self.migrations_of(self.server))

        response = self.live_migrate(self.server, host=dest)

        self.assertEqual(202, response.status, response.body)
        self.wait_for(lambda: len(self.migrations_of(self.server)) > before,
                      'the retry migration record')
        migration = self.assert_outcome('completed', dest)
        self.assertEqual(before + 1, len(self.migrations_of(self.server)))
        self.assert_plan(self.server, mode, SOURCE, dest, True)
        return migration


class PreCheckRollbackTest(RollbackTestBase):
    """1. A pre-check refuses: nothing moved, nothing claimed."""

    def test_block_live_explicit_shared_on_local_storage_refused(self):
        response = self.live_migrate(self.server, host=BLOCK_DEST,
                                     block_migration=False, force=True,
                                     microversion=base.MV_FORCE)

        self.assert_refused(response, 400, 'InvalidSharedStorage',
                            planner.MSG_SHARED_ON_LOCAL)
        self.assert_outcome('error', SOURCE)
        self.assertEqual(('source', SOURCE, 'InvalidSharedStorage'),
                         self.prechecks[-1][:3])
        self.assertEqual([], self.libvirt_migrations)
        self.retry(BLOCK_DEST, planner.BLOCK_LIVE)

    def test_cutover_untranslatable_guest_refused_forced(self):
        """A PCI passthrough device: the source's pre-check refuses."""
        self.hostdev_uuids.add(self.server['id'])

        response = self.live_migrate(self.server, host=CUTOVER_DEST,
                                     force=True, microversion=base.MV_FORCE)

        self.assert_refused(response, 400, 'V2VMigrationRefused', 'hostdev')
        self.assert_outcome('error', SOURCE)
        self.assertEqual([('dest', CUTOVER_DEST, None),
                          ('source', SOURCE, 'V2VMigrationRefused')],
                         [p[:3] for p in self.prechecks])
        self.assertEqual([], self.engine.copies)
        self.assertEqual([], [d for d in self.engine.defined
                              if d[0] == CUTOVER_DEST])
        self.retry(CUTOVER_DEST, planner.V2V_CUTOVER)

    def test_cutover_untranslatable_guest_refused_scheduled(self):
        """Requested (not forced) host: the conductor gives up, 'error'."""
        self.hostdev_uuids.add(self.server['id'])

        response = self.live_migrate(self.server, host=CUTOVER_DEST)

        # Cast-as-call: the conductor's NoValidHost surfaces as a 500.
        self.assert_refused(response, 500, 'NoValidHost')
        self.assert_outcome('error', SOURCE)
        self.assertEqual('V2VMigrationRefused', self.prechecks[-1][2])
        self.assertEqual([], self.engine.copies)
        self.retry(CUTOVER_DEST, planner.V2V_CUTOVER)


class PreLiveMigrationRollbackTest(RollbackTestBase):
    """2. The destination's pre_live_migration fails."""

    def test_block_live_pre_live_migration_fails(self):
        self.pre_live_fails.add(BLOCK_DEST)

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=BLOCK_DEST).status)

        self.assert_outcome('failed', SOURCE)
        self.assert_dest_cleaned(BLOCK_DEST)
        self.assertEqual([], self.libvirt_migrations)
        self.retry(BLOCK_DEST, planner.BLOCK_LIVE)

    def test_cutover_nbd_export_fails(self):
        """The disks were precreated; exporting them fails."""
        self.export_fails = True

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=CUTOVER_DEST).status)

        self.assert_outcome('failed', SOURCE)
        self.assert_dest_cleaned(CUTOVER_DEST)
        self.assertTrue(self.create_image.called)
        self.assertEqual([], self.engine.copies)
        self.retry(CUTOVER_DEST, planner.V2V_CUTOVER)


class SyncRollbackTest(RollbackTestBase):
    """3. The copy fails while the guest still runs on the source."""

    def test_block_live_libvirt_migration_fails(self):
        self.libvirt_fails = True

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=BLOCK_DEST).status)

        self.assert_outcome('failed', SOURCE)
        self.assert_dest_cleaned(BLOCK_DEST)
        self.retry(BLOCK_DEST, planner.BLOCK_LIVE)

    def test_cutover_sync_fails(self):
        self.engine.mode = 'fail'

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=CUTOVER_DEST).status)

        self.assert_outcome('failed', SOURCE)
        self.assert_dest_cleaned(CUTOVER_DEST)
        self.assertEqual({'stopped'}, set(self.engine.exports.values()))
        self.assertEqual([], [d for d in self.engine.defined
                              if d[0] == CUTOVER_DEST])
        self.retry(CUTOVER_DEST, planner.V2V_CUTOVER)


class CutoverRollbackTest(RollbackTestBase):
    """4. The source stopped, then the clone does not start."""

    def test_cutover_clone_fails_to_start(self):
        self.engine.clone_fails = True

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=CUTOVER_DEST).status)

        self.assert_outcome('failed', SOURCE)
        # The source had been stopped (paused) for the cutover.
        self.assertIn(SOURCE, self.paused)
        self.assertEqual([CUTOVER_DEST], [d[0] for d in self.engine.defined
                                          if d[0] == CUTOVER_DEST])
        self.assert_dest_cleaned(CUTOVER_DEST)
        self.retry(CUTOVER_DEST, planner.V2V_CUTOVER)


class AbortTest(RollbackTestBase):
    """5. The operator aborts the running migration."""

    def test_block_live_abort(self):
        self.libvirt_hold = True
        self.live_migrate(self.server, host=BLOCK_DEST)
        migration = self.wait_running(BLOCK_DEST)
        # While it runs: the instance holds the destination, the migration
        # the source.
        self.assertEqual([BLOCK_DEST],
                         self.allocation_hosts(self.server['id']))
        self.assertEqual([SOURCE], self.allocation_hosts(migration['uuid']))

        self.assertEqual(202, self.abort(migration).status)

        self.assert_outcome('cancelled', SOURCE)
        self.assert_dest_cleaned(BLOCK_DEST)
        self.assertEqual([], self.libvirt_migrations)
        self.retry(BLOCK_DEST, planner.BLOCK_LIVE)

    def test_block_live_abort_when_libvirt_raises(self):
        """libvirt's ``migrateToURI3`` raises once its job is cancelled.

        Nova 34's ``LibvirtDriver._live_migration`` calls
        ``future.result()`` after its monitor rolled back (migration
        'cancelled', instance ACTIVE on the source); the migration thread's
        libvirtError then reached ``ComputeManager._do_live_migration``,
        which records the migration 'error' and the instance ERROR. The V2V
        driver does exactly what Nova's does (its migration thread's errors
        are Nova's, not swallowed): never worse, and never different, from
        Nova outside a V2V cutover. An earlier release swallowed the error
        and so also hid the errors Nova raises before migrating (an
        unusable graphics or serial console listen address).
        """
        self.libvirt_hold = self.libvirt_raises = True
        self.live_migrate(self.server, host=BLOCK_DEST)
        migration = self.wait_running(BLOCK_DEST)

        self.assertEqual(202, self.abort(migration).status)

        self._wait_for_migration_status(self.server, ['error'])
        # Nova records no instance fault for it (the manager only sets
        # the error state).
        server = self._wait_for_state_change(self.server, 'ERROR',
                                             wait_for_fault_key=False)
        self.assertEqual(('error', 'ERROR', SOURCE),
                         (self.last_migration(self.server)['status'],
                          server['status'], server['OS-EXT-SRV-ATTR:host']))

    def test_cutover_abort(self):
        self.engine.mode = 'hold'
        self.live_migrate(self.server, host=CUTOVER_DEST)
        migration = self.wait_running(CUTOVER_DEST)
        self.assertEqual([CUTOVER_DEST],
                         self.allocation_hosts(self.server['id']))
        self.assertEqual([SOURCE], self.allocation_hosts(migration['uuid']))

        self.assertEqual(202, self.abort(migration).status)

        self.assert_outcome('cancelled', SOURCE)
        self.assert_dest_cleaned(CUTOVER_DEST)
        self.assertEqual({'stopped'}, set(self.engine.exports.values()))
        self.assertEqual([], self.paused)
        self.retry(CUTOVER_DEST, planner.V2V_CUTOVER)


class ForceCompleteTest(RollbackTestBase):
    """6. The operator forces the running migration to complete."""

    def test_block_live_force_complete_pauses_and_completes(self):
        self.libvirt_hold = True
        self.live_migrate(self.server, host=BLOCK_DEST)
        migration = self.wait_running(BLOCK_DEST)

        self.assertEqual(202, self.force_complete(migration).status)

        self.assert_outcome('completed', BLOCK_DEST)
        # Nova paused the source guest (no post-copy) to converge.
        self.assertEqual([SOURCE], self.paused)
        ((source, dest, flags),) = self.libvirt_migrations
        self.assertEqual((SOURCE, BLOCK_DEST), (source, dest))
        self.assert_plan(self.server, planner.BLOCK_LIVE, SOURCE,
                         BLOCK_DEST, True)

    def test_cutover_force_complete_pauses_and_cuts_over(self):
        self.engine.mode = 'hold'
        self.converge_on_pause = True
        self.flags(cutover_mode='acpi', group='v2v')
        self.live_migrate(self.server, host=CUTOVER_DEST)
        migration = self.wait_running(CUTOVER_DEST)

        self.assertEqual(202, self.force_complete(migration).status)

        self.assert_outcome('completed', CUTOVER_DEST)
        # Paused to converge, then stopped suspended (not over ACPI, as
        # configured): a paused guest cannot shut down cleanly.
        self.assertEqual([SOURCE, SOURCE], self.paused)
        self.assert_cutover_done()
        record = self.migration_record(migration['id'])
        self.assertEqual('completed', record.status)
