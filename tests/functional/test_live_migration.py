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

"""Live migrations through Nova's API, conductor, scheduler and computes.

``block_migration`` auto, true and false; destination none, requested
(the scheduler and the V2V filter judge it) and forced (they do not; the
pre-checks do). Microversion 2.74 runs asynchronously (with the functional
tests' cast-as-call, a conductor failure surfaces as HTTP 500, a 202 in
production); forced hosts use 2.30, still synchronous, so that a refusal
is a 400 carrying the pre-check's message.
"""

import os
from unittest import mock

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from lxml import etree
from nova import context as nova_context
from nova import objects
from nova.tests.fixtures import libvirt as fakelibvirt
from novaclient import client as nova_client

from nova_v2v.planning import compat
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v.transfer import tuning
from nova_v2v.virt.libvirt import converted_disks
from nova_v2v.virt.libvirt import record as v2v_record
from tests.functional import base
from tests.functional import test_cutover

CONF = base.CONF

# Why the planner picks the cutover for kvm -> tcg.
KVM_TO_TCG_WHY = compat.rule(profile.KVM, profile.TCG).why
NO_VALID_HOST = "<class 'nova.exception.NoValidHost'>"


class LocalStorageTest(base.V2VLiveMigrationTestBase):
    """Three hosts with local storage: two KVM, one QEMU/TCG.

    The TCG host has the most free RAM, so the scheduler ranks it first.
    """

    def setUp(self):
        super().setUp()
        # A cutover runs on the engine's fake boundary (test_cutover).
        self.engine = self.useFixture(test_cutover.FakeEngineBoundary(self))
        self.start_v2v_compute('kvm-local-1')
        self.start_v2v_compute('kvm-local-2')
        self.start_v2v_compute('tcg-local', accel='tcg', memory_gb=32)
        self.server = self.boot('kvm-local-1')
        self.filter_runs.clear()

    def _assert_block_live_to_kvm_local_2(self):
        self._wait_for_migration_status(self.server, ['completed'])
        server = self._wait_for_state_change(self.server, 'ACTIVE')
        self.assertEqual('kvm-local-2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(['kvm-local-2'],
                         self.hosts_with_domain(self.server['id']))
        migration = self.last_migration(self.server)
        self.assertEqual(('kvm-local-1', 'kvm-local-2', 'completed'),
                         (migration['source_compute'],
                          migration['dest_compute'], migration['status']))
        plan = self.assert_plan(self.server, planner.BLOCK_LIVE,
                                'kvm-local-1', 'kvm-local-2', True)
        disk_path = os.path.join(CONF.instances_path, self.server['id'],
                                 'disk')
        self.assertEqual(
            [(disk_path, base.FAKE_DISK_VIRTUAL_SIZE)],
            [(d.path, d.virtual_size) for d in plan.disks])
        # Nova ran a block migration: libvirt copied the disks, which the
        # destination had precreated.
        ((source, dest, flags),) = self.libvirt_migrations
        self.assertEqual(('kvm-local-1', 'kvm-local-2'), (source, dest))
        self.assertTrue(flags & fakelibvirt.VIR_MIGRATE_NON_SHARED_INC)
        # With the V2V driver's tuning.
        self.assertTrue(flags & tuning.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertTrue(
            flags & tuning.VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES)
        self.create_image.assert_called_once_with(
            disk_path, 'raw', base.FAKE_DISK_VIRTUAL_SIZE)

    def test_auto_requested_host_is_block_live(self):
        response = self.live_migrate(self.server, host='kvm-local-2')

        self.assertEqual(202, response.status)
        self._assert_block_live_to_kvm_local_2()
        self.assertEqual(
            [(self.server['id'], ['kvm-local-2'], ['kvm-local-2'])],
            self.filter_runs)
        self.assertEqual([('dest', 'kvm-local-2', None, None),
                          ('source', 'kvm-local-1', None, None)],
                         self.prechecks)

    def _assert_cutover_to_tcg_local(self):
        self._wait_for_migration_status(self.server, ['completed'])
        server = self._wait_for_state_change(self.server, 'ACTIVE')
        self.assertEqual('tcg-local', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(['tcg-local'],
                         self.hosts_with_domain(self.server['id']))
        self.assert_plan(self.server, planner.V2V_CUTOVER, 'kvm-local-1',
                         'tcg-local', True)
        self.assertEqual([], self.libvirt_migrations)

    def test_auto_scheduled_picks_cutover_host_and_runs_it(self):
        """The TCG host, ranked first, gets the guest with a cutover."""
        response = self.live_migrate(self.server)

        self.assertEqual(202, response.status)
        self._assert_cutover_to_tcg_local()
        uuid = self.server['id']
        self.assertEqual(
            [(uuid, ['kvm-local-2', 'tcg-local'],
              ['kvm-local-2', 'tcg-local'])],
            self.filter_runs)
        self.assertIn('V2VMigrationFilter: tcg-local passes for instance '
                      '%s: v2v-cutover from kvm-local-1 (kvm) to tcg-local '
                      '(tcg): %s' % (uuid, KVM_TO_TCG_WHY),
                      self.filter_log.output)
        self.assertEqual([('dest', 'tcg-local', None, None),
                          ('source', 'kvm-local-1', None, None)],
                         self.prechecks)

    def test_novaclient_live_migrate_auto(self):
        """python-novaclient, as an operator runs it, on the API."""
        api = self.api
        session = ks_session.Session(
            auth=noauth.NoAuth(endpoint=api.base_url),
            additional_headers={'X-Auth-User': api.auth_user,
                                'X-User-Id': api.auth_user,
                                'X-Auth-Project-Id': api.project_id,
                                'X-Roles': ','.join(api.roles)})
        nova = nova_client.Client('2.74', session=session,
                                  endpoint_override=api.base_url)

        nova.servers.live_migrate(self.server['id'], host=None,
                                  block_migration='auto')

        self._assert_cutover_to_tcg_local()
        self.assertEqual('tcg-local', getattr(
            nova.servers.get(self.server['id']), 'OS-EXT-SRV-ATTR:host'))
        self.assertEqual(
            ['tcg-local'],
            [p[1] for p in self.prechecks if p[0] == 'dest'])

    def test_explicit_shared_on_local_storage_is_refused(self):
        response = self.live_migrate(self.server, host='kvm-local-2',
                                     block_migration=False, force=True,
                                     microversion=base.MV_FORCE)

        self.assert_refused(response, 400, 'InvalidSharedStorage',
                            planner.MSG_SHARED_ON_LOCAL)
        self.assertEqual('error', self.last_migration(self.server)['status'])
        self.assert_stayed(self.server, 'kvm-local-1')
        # Forced: the scheduler and its filter did not run.
        self.assertEqual([], self.filter_runs)
        self.assertEqual('InvalidSharedStorage', self.prechecks[-1][2])
        self.assertEqual([], self.libvirt_migrations)

    def test_forced_cutover_host_runs_the_cutover(self):
        """kvm -> tcg, forced: both pre-checks plan the cutover."""
        response = self.live_migrate(self.server, host='tcg-local',
                                     force=True, microversion=base.MV_FORCE)

        self.assertEqual(202, response.status, response.body)
        self._assert_cutover_to_tcg_local()
        self.assertEqual([('dest', 'tcg-local', None),
                          ('source', 'kvm-local-1', None)],
                         [p[:3] for p in self.prechecks])
        self.assertEqual([], self.filter_runs)
        # The destination's profile, handed to the source, was not saved.
        self.assertNotIn(v2v_record.SYSMETA_DEST_PROFILE,
                         self.instance(self.server).system_metadata)

    def test_requested_cutover_host_runs_the_cutover(self):
        response = self.live_migrate(self.server, host='tcg-local')

        self.assertEqual(202, response.status)
        self._assert_cutover_to_tcg_local()
        self.assertEqual(
            [(self.server['id'], ['tcg-local'], ['tcg-local'])],
            self.filter_runs)

    def test_requested_cutover_host_is_filtered_out_when_disabled(self):
        self.flags(allow_cutover=False, group='v2v')

        response = self.live_migrate(self.server, host='tcg-local')

        self.assert_refused(response, 500, NO_VALID_HOST)
        self.assertEqual([(self.server['id'], ['tcg-local'], [])],
                         self.filter_runs)
        self.assertIn(
            'V2V: no plan to tcg-local for instance %s: the '
            'live state cannot move (%s) and the V2V cutover is disabled '
            '([v2v] allow_cutover = False)'
            % (self.server['id'], KVM_TO_TCG_WHY),
            self.filter_log.output)
        # No compute was asked.
        self.assertEqual([], self.prechecks)
        self.assertEqual('error', self.last_migration(self.server)['status'])
        self.assert_stayed(self.server, 'kvm-local-1')

    def test_scheduled_with_cutover_disabled_filters_the_tcg_host_out(self):
        self.flags(allow_cutover=False, group='v2v')

        self.assertEqual(202, self.live_migrate(self.server).status)

        self._assert_block_live_to_kvm_local_2()
        self.assertEqual(
            [(self.server['id'], ['kvm-local-2', 'tcg-local'],
              ['kvm-local-2'])],
            self.filter_runs)
        self.assertEqual(['dest', 'source'],
                         [p[0] for p in self.prechecks])

    def test_plan_survives_a_completed_block_migration(self):
        """The recorded plan is still in the database afterwards.

        Fails today: see the report (the source's cleanup saves an
        instance object serialised before the plan was recorded).
        """
        self.live_migrate(self.server, host='kvm-local-2')
        self._wait_for_migration_status(self.server, ['completed'])

        plan = self.recorded_plan(self.server)
        self.assertIsNotNone(plan, 'the recorded V2V plan was erased')
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)


class ConvertingBlockLiveTest(base.V2VLiveMigrationTestBase):
    """A destination that does not run the guest's disk format.

    kvm-local-2 runs qcow2 disks only (``[v2v] disk_formats``); the guest's
    disk is raw. The move stays a live block migration: the destination
    precreates a qcow2 disk, the source sends a definition that runs it
    and copies every block.
    """

    def setUp(self):
        super().setUp()
        self.disk_formats['kvm-local-2'] = ('qcow2',)
        self.start_v2v_compute('kvm-local-1')
        self.start_v2v_compute('kvm-local-2')
        self.server = self.boot('kvm-local-1')

    def test_block_live_into_a_disk_of_another_format(self):
        response = self.live_migrate(self.server, host='kvm-local-2')

        self.assertEqual(202, response.status)
        self._wait_for_migration_status(self.server, ['completed'])
        server = self._wait_for_state_change(self.server, 'ACTIVE')
        self.assertEqual('kvm-local-2', server['OS-EXT-SRV-ATTR:host'])
        plan = self.assert_plan(self.server, planner.BLOCK_LIVE,
                                'kvm-local-1', 'kvm-local-2', True)
        disk_path = os.path.join(CONF.instances_path, self.server['id'],
                                 'disk')
        self.assertEqual([(disk_path, 'raw', 'qcow2')],
                         [(d.path, d.source_format, d.dest_format)
                          for d in plan.disks])
        self.assertIn('converted to qcow2 on the way', plan.reasons[1])
        # The destination precreated the disk in its format, whole.
        self.create_image.assert_called_once_with(
            disk_path, 'qcow2', base.FAKE_DISK_VIRTUAL_SIZE)
        # A full copy, into a definition that runs the new format.
        ((_source, _dest, flags),) = self.libvirt_migrations
        self.assertTrue(flags & converted_disks.VIR_MIGRATE_NON_SHARED_DISK)
        self.assertFalse(flags & fakelibvirt.VIR_MIGRATE_NON_SHARED_INC)
        (xml,) = self.destination_xmls
        disk = etree.fromstring(xml).find(
            "./devices/disk/source[@file='%s']/.." % disk_path)
        self.assertEqual('qcow2', disk.find('./driver').get('type'))

    def test_same_format_is_novas_block_migration(self):
        self.disk_formats['kvm-local-3'] = ('raw',)
        self.start_v2v_compute('kvm-local-3')
        self.live_migrate(self.server, host='kvm-local-3')
        self._wait_for_migration_status(self.server, ['completed'])
        self.create_image.assert_called_once_with(
            os.path.join(CONF.instances_path, self.server['id'], 'disk'),
            'raw', base.FAKE_DISK_VIRTUAL_SIZE)
        ((_source, _dest, flags),) = self.libvirt_migrations
        self.assertTrue(flags & fakelibvirt.VIR_MIGRATE_NON_SHARED_INC)
        self.assertFalse(flags & converted_disks.VIR_MIGRATE_NON_SHARED_DISK)


class SharedStorageTest(base.V2VLiveMigrationTestBase):
    """Two KVM hosts on one NFS export."""

    def setUp(self):
        super().setUp()
        self.start_v2v_compute('kvm-shared-a', storage=base.SHARED_NFS)
        self.start_v2v_compute('kvm-shared-b', storage=base.SHARED_NFS)
        self.server = self.boot('kvm-shared-a')
        self.filter_runs.clear()

    def _assert_shared_live(self):
        self._wait_for_migration_status(self.server, ['completed'])
        server = self._wait_for_state_change(self.server, 'ACTIVE')
        self.assertEqual('kvm-shared-b', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(['kvm-shared-b'],
                         self.hosts_with_domain(self.server['id']))
        self.assert_plan(self.server, planner.SHARED_LIVE, 'kvm-shared-a',
                         'kvm-shared-b', False)
        self.assertEqual((), self.plans[self.server['id']].disks)
        ((source, dest, flags),) = self.libvirt_migrations
        self.assertEqual(('kvm-shared-a', 'kvm-shared-b'), (source, dest))
        self.assertFalse(flags & fakelibvirt.VIR_MIGRATE_NON_SHARED_INC)
        self.assertTrue(flags & tuning.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertFalse(
            flags & tuning.VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES)
        self.create_image.assert_not_called()
        # Nothing saved a stale copy of the instance over the plan, and
        # the destination's profile, passed to the source, was not saved.
        self.assertEqual(planner.SHARED_LIVE,
                         self.recorded_plan(self.server).mode)
        self.assertNotIn(v2v_record.SYSMETA_DEST_PROFILE,
                         self.instance(self.server).system_metadata)

    def test_auto_scheduled_is_shared_live(self):
        self.assertEqual(202, self.live_migrate(self.server).status)

        self._assert_shared_live()
        self.assertEqual(
            [(self.server['id'], ['kvm-shared-b'], ['kvm-shared-b'])],
            self.filter_runs)
        self.assertIn('V2VMigrationFilter: kvm-shared-b passes for instance '
                      '%s: shared-live' % self.server['id'],
                      self.filter_log.output)

    def test_explicit_shared_is_shared_live(self):
        response = self.live_migrate(self.server, host='kvm-shared-b',
                                     block_migration=False)

        self.assertEqual(202, response.status)
        self._assert_shared_live()

    def test_explicit_block_on_shared_storage_is_refused(self):
        response = self.live_migrate(self.server, host='kvm-shared-b',
                                     block_migration=True, force=True,
                                     microversion=base.MV_FORCE)

        self.assert_refused(
            response, 400,
            'Error while check_can_live_migrate_source from kvm-shared-a to '
            'host kvm-shared-b: InvalidLocalStorage',
            planner.MSG_BLOCK_ON_SHARED)
        self.assertEqual([('dest', 'kvm-shared-b', None),
                          ('source', 'kvm-shared-a', 'InvalidLocalStorage')],
                         [p[:3] for p in self.prechecks])
        self.assertEqual('error', self.last_migration(self.server)['status'])
        self.assert_stayed(self.server, 'kvm-shared-a')
        self.assertEqual([], self.libvirt_migrations)

    def test_explicit_block_on_shared_storage_scheduled_no_valid_host(self):
        response = self.live_migrate(self.server, block_migration=True)

        self.assert_refused(response, 500, NO_VALID_HOST)
        # The filter cannot see the request's block_migration; the
        # source's pre-check refuses, as Nova does.
        self.assertEqual(
            [(self.server['id'], ['kvm-shared-b'], ['kvm-shared-b'])],
            self.filter_runs)
        self.assertEqual('InvalidLocalStorage', self.prechecks[-1][2])
        self.assertEqual('error', self.last_migration(self.server)['status'])
        self.assert_stayed(self.server, 'kvm-shared-a')


class HostWithoutProfileTest(base.V2VLiveMigrationTestBase):
    """A V2V host and a host running Nova's stock libvirt driver."""

    def setUp(self):
        super().setUp()
        self.start_v2v_compute('kvm-local-1')
        self.start_plain_libvirt_compute('plain-libvirt')
        self.server = self.boot('kvm-local-1')
        self.filter_runs.clear()

    def _assert_novas_block_migration(self):
        """Nova's own block migration ran, untouched by a V2V plan."""
        self._wait_for_migration_status(self.server, ['completed'])
        server = self._wait_for_state_change(self.server, 'ACTIVE')
        self.assertEqual('plain-libvirt', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(['plain-libvirt'],
                         self.hosts_with_domain(self.server['id']))
        self.assertIsNone(self.plans[self.server['id']])
        ((source, dest, flags),) = self.libvirt_migrations
        self.assertEqual(('kvm-local-1', 'plain-libvirt'), (source, dest))
        self.assertTrue(flags & fakelibvirt.VIR_MIGRATE_NON_SHARED_INC)

    def test_requested_host_without_profile_is_novas_move(self):
        """A host without a V2V profile is a peer: Nova moves the guest.

        Before, the V2V filter refused it (NoValidHost) where Nova, in a
        rolling deployment, would move the guest to a compute not yet
        switched to nova-v2v.
        """
        response = self.live_migrate(self.server, host='plain-libvirt')

        self.assertEqual(202, response.status)
        self._assert_novas_block_migration()
        self.assertEqual(
            [(self.server['id'], ['plain-libvirt'], ['plain-libvirt'])],
            self.filter_runs)
        self.assertIn(
            'V2VMigrationFilter: plain-libvirt passes for instance %s: no '
            'V2V profile on one end, Nova decides' % self.server['id'],
            self.filter_log.output)
        # The destination runs Nova's stock check; the source's V2V
        # pre-check leaves the decision to Nova's.
        self.assertEqual([('source', 'kvm-local-1', None, None)],
                         self.prechecks)

    def test_forced_host_without_profile_is_novas_move(self):
        """Forced: no scheduler, the source's pre-check lets Nova decide.

        Before, the source refused it (V2VMigrationRefused).
        """
        response = self.live_migrate(self.server, host='plain-libvirt',
                                     force=True, microversion=base.MV_FORCE)

        self.assertEqual(202, response.status)
        self._assert_novas_block_migration()
        self.assertEqual([], self.filter_runs)
        self.assertEqual([('source', 'kvm-local-1', None, None)],
                         self.prechecks)


class NotALiveMigrationTest(base.V2VLiveMigrationTestBase):
    """Boots and cold migrations pass every host through the filter."""

    def setUp(self):
        super().setUp()
        self.start_v2v_compute('kvm-local-1')
        self.start_v2v_compute('tcg-local', accel='tcg')

    def test_boot_and_cold_migration_are_not_filtered(self):
        server = self._create_server(networks='none')
        source = server['OS-EXT-SRV-ATTR:host']
        (other,) = {'kvm-local-1', 'tcg-local'} - {source}
        self.assertEqual(
            [(server['id'], ['kvm-local-1', 'tcg-local'],
              ['kvm-local-1', 'tcg-local'])],
            self.filter_runs)

        with mock.patch('nova.virt.libvirt.driver.LibvirtDriver.'
                        'migrate_disk_and_power_off', return_value='{}'):
            server = self._migrate_server(server)
        self.assertEqual(other, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((server['id'], [other], [other]),
                         self.filter_runs[-1])
        self._confirm_resize(server)
        # Not a live migration: no verdict, no pre-check.
        self.assertNotIn('V2VMigrationFilter:', self.filter_log.output)
        self.assertEqual([], self.prechecks)


class HostProfileTest(base.V2VLiveMigrationTestBase):
    """The profile reaches the scheduler (stats) and placement (traits)."""

    def setUp(self):
        super().setUp()
        self.start_v2v_compute('kvm-local-1')
        self.start_v2v_compute('tcg-local', accel='tcg')
        self.start_plain_libvirt_compute('plain-libvirt')

    def test_stats_and_traits(self):
        with nova_context.target_cell(
                self.ctxt, self.cell_mappings['cell1']) as cctxt:
            nodes = {n.host: n for n in
                     objects.ComputeNodeList.get_all(cctxt)}
        for host, accel in (('kvm-local-1', 'kvm'), ('tcg-local', 'tcg')):
            stats = nodes[host].stats
            self.assertEqual(
                ('1', host, accel, 'x86_64', 'raw,qcow2',
                 self.storage[host]),
                (stats['v2v_profile'], stats['v2v_host'], stats['v2v_accel'],
                 stats['v2v_arch'], stats['v2v_disk_formats'],
                 stats['v2v_storage_id']))
            traits = set(self._get_provider_traits(
                self.compute_rp_uuids[host]))
            other = {'kvm': 'tcg', 'tcg': 'kvm'}[accel]
            self.assertLessEqual(
                {'CUSTOM_V2V_CAPABLE', 'CUSTOM_V2V_ACCEL_' + accel.upper(),
                 'CUSTOM_V2V_DISK_FORMAT_RAW',
                 'CUSTOM_V2V_DISK_FORMAT_QCOW2'}, traits)
            self.assertNotIn('CUSTOM_V2V_ACCEL_' + other.upper(), traits)
        self.assertEqual(
            [], [k for k in nodes['plain-libvirt'].stats
                 if k.startswith('v2v_')])
        self.assertEqual(
            [], [t for t in self._get_provider_traits(
                self.compute_rp_uuids['plain-libvirt'])
                if t.startswith('CUSTOM_V2V_')])
