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

"""Nova's in-process services with compute hosts of different V2V profiles.

Everything Nova runs is real (API, conductor, scheduler with the V2V filter,
placement, compute managers running :class:`V2VLibvirtDriver`); only the
hypervisors are fakelibvirt connections, one per compute host.

All computes of a functional test share one ``instances_path`` directory
and one process, so two facts that differ between real hosts are given per
host by the test: the storage behind ``instances_path`` (``self.storage``,
used both for the published storage identity and for Nova's shared-storage
probe) and ``[libvirt] virt_type`` (set while the compute starts, which the
driver captures at ``init_host``, and while a guest boots on it, which
gives the guest's ``<domain type>``).
"""

import contextlib
import dataclasses
import logging
import os
import sys
import sysconfig
import time
from urllib import parse

import fixtures
from lxml import etree
from nova import context as nova_context
from nova import objects
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.api import client
from nova.tests.functional import integrated_helpers
from nova.tests.functional.libvirt import base as libvirt_base
from nova import utils as nova_utils
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import driver as libvirt_driver
from oslo_utils import units

from nova_v2v import conf
from nova_v2v.scheduler import filters as v2v_filters
from nova_v2v import virt
from nova_v2v.virt.libvirt import driver as v2v_driver
from nova_v2v.virt.libvirt import inventory as v2v_inventory
from nova_v2v.virt.libvirt import record as v2v_record

CONF = conf.CONF

FILTER_PATH = 'nova_v2v.scheduler.filters.V2VMigrationFilter'
# [libvirt] virt_type of a host running each accelerator.
VIRT_TYPE = {'kvm': 'kvm', 'tcg': 'qemu'}
# What the fake local disks of a guest report (qemu-img is not run).
# Seconds a test waits for a migration's status (Nova's helper waits about
# 5): a V2V cutover's clone proves its guest runs over two samples of its
# writes a second apart at least, more after an outage of the
# destination's libvirt, and the machine may be loaded.
MIGRATION_WAIT = 30
FAKE_DISK_VIRTUAL_SIZE = 1 * units.Gi
FAKE_DISK_ALLOCATED = 64 * units.Mi
# An NFS export shared by the hosts started with ``storage=SHARED_NFS``.
SHARED_NFS = 'nfs4:filer.example.org:/export/nova/instances'

ALL_DOMAINS = (fakelibvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE |
               fakelibvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)
MV_FORCE = '2.30'  # the first with "force" (until 2.67), still synchronous


def find_api_paste_config():
    """The api-paste.ini that the installed Nova ships.

    Nova's test configuration looks for it under ``$state_path``; the wheel
    installs it under ``<prefix>/etc/nova/``.
    """
    candidates = []
    for prefix in (sysconfig.get_path('data'), sys.prefix, sys.exec_prefix,
                   sys.base_prefix):
        path = os.path.join(prefix, 'etc', 'nova', 'api-paste.ini')
        if path not in candidates:
            candidates.append(path)
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise RuntimeError(
        "Nova's api-paste.ini was not found (looked at: %s). The nova "
        "package installs it under <prefix>/etc/nova/; is nova installed "
        "in this Python environment (%s)?"
        % (', '.join(candidates), sys.prefix))


class V2VLiveMigrationTestBase(libvirt_base.LibvirtMigrationMixin,
                               libvirt_base.ServersTestBase,
                               integrated_helpers.InstanceHelperMixin):
    """Start V2V computes, boot guests on them and live migrate them.

    Records, for the assertions of the tests:

    * ``filter_runs``: one ``(instance uuid, hosts in, hosts out)`` per run
      of :class:`V2VMigrationFilter` (host names sorted);
    * ``filter_log``: the filter's log, with the reason of each verdict;
    * ``prechecks``: one ``(side, host, error type name or None, message)``
      per driver pre-check, in order (``side`` is ``'dest'`` or
      ``'source'``);
    * ``plans``: the plan each instance's last successful source
      pre-check recorded, read back from the database at once;
    * ``libvirt_migrations``: one ``(source, dest, flags)`` per call of
      ``migrateToURI3``, and ``destination_xmls`` the definition each
      sent.

    ``disk_formats`` gives a host other ``[v2v] disk_formats`` than the
    default (set before it starts).
    """

    microversion = '2.74'
    ADMIN_API = True
    ADDITIONAL_FILTERS = ['V2VMigrationFilter']

    def setUp(self):
        self.flags(api_paste_config=find_api_paste_config(), group='wsgi')
        self.flags(available_filters=['nova.scheduler.filters.all_filters',
                                      FILTER_PATH],
                   group='filter_scheduler')
        virt.register()
        self.addCleanup(virt.unregister)

        self.storage = {}
        self.accel = {}
        self.filter_runs = []
        self.prechecks = []
        self.libvirt_migrations = []
        self.destination_xmls = []
        self.disk_formats = {}
        self.plans = {}
        self._probe_files = {}

        super().setUp()
        # A fake guest that writes proves it at its second sample; the
        # settle window of real guests would only make the tests slower.
        self.flags(cutover_activity_settle=0, group='v2v')

        self.ctxt = nova_context.get_admin_context()
        # The filter's and its move lookup's (nova_v2v.scheduler.move).
        self.filter_log = self.useFixture(fixtures.FakeLogger(
            name='nova_v2v.scheduler', level=logging.DEBUG,
            format='%(levelname)s %(message)s'))
        self._stub_per_host_storage()
        self._stub_local_disks()
        self._spy_filter()
        self._spy_prechecks()

    def _wait_for_migration_status(self, server, expected_statuses):
        """Nova's helper, for up to :data:`MIGRATION_WAIT` seconds."""
        deadline = time.monotonic() + MIGRATION_WAIT
        while True:
            try:
                return super()._wait_for_migration_status(server,
                                                          expected_statuses)
            except self.failureException:
                if time.monotonic() > deadline:
                    raise

    # -- the per-host facts that one process cannot tell apart ----------

    @staticmethod
    def _hostname_of(driver):
        """The compute of a driver, or of one of its V2V parts.

        The fakelibvirt connection of each compute carries its hostname.
        """
        host = getattr(driver, '_host', None)
        if host is None:
            host = driver._nova.host
        return host.get_hostname()

    def _stub_per_host_storage(self):
        test = self
        real_profile = v2v_inventory.Inventory.host_profile
        real_create = (
            libvirt_driver.LibvirtDriver._create_shared_storage_test_file)

        def v2v_host_profile(driver):
            found = real_profile(driver)
            host = test._hostname_of(driver)
            return dataclasses.replace(
                found, storage_id=test.storage[host],
                disk_formats=test.disk_formats.get(host,
                                                   found.disk_formats))

        def create_probe_file(driver, instance):
            filename = real_create(driver, instance)
            test._probe_files[filename] = test._hostname_of(driver)
            return filename

        def check_probe_file(driver, filename, instance):
            # Nova's probe: the destination created the file, the source
            # looks for it. The file does exist (one directory for all
            # hosts); whether the source "sees" it depends on the storage.
            creator = test._probe_files[filename]
            return (test.storage[creator] ==
                    test.storage[test._hostname_of(driver)])

        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.virt.libvirt.inventory.Inventory.host_profile',
            v2v_host_profile))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            '_create_shared_storage_test_file', create_probe_file))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            '_check_shared_storage_test_file', check_probe_file))

    def _stub_local_disks(self):
        """Local disks as qemu-img would report them, without files."""

        def disk_info_from_config(driver, guest_config, block_device_info):
            found = []
            for device in guest_config.devices:
                if not isinstance(device, vconfig.LibvirtConfigGuestDisk):
                    continue
                if device.source_type != 'file' or not device.source_path:
                    continue
                found.append({
                    'type': device.driver_format or 'raw',
                    'path': device.source_path,
                    'virt_disk_size': FAKE_DISK_VIRTUAL_SIZE,
                    'backing_file': '',
                    'disk_size': FAKE_DISK_ALLOCATED,
                    'over_committed_disk_size': (FAKE_DISK_VIRTUAL_SIZE -
                                                 FAKE_DISK_ALLOCATED)})
            return found

        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            '_get_instance_disk_info_from_config', disk_info_from_config))
        # The destination of a block migration precreates the disks.
        self.create_image = self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.utils.create_image')).mock

    # -- spies -----------------------------------------------------------

    def _spy_filter(self):
        test = self
        real = v2v_filters.V2VMigrationFilter.filter_all

        def filter_all(flt, filter_obj_list, spec_obj):
            hosts_in = list(filter_obj_list)
            passed = real(flt, hosts_in, spec_obj)
            test.filter_runs.append((
                spec_obj.instance_uuid,
                sorted(h.host for h in hosts_in),
                sorted(h.host for h in passed)))
            return passed

        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.scheduler.filters.V2VMigrationFilter.filter_all',
            filter_all))

    def _spy_prechecks(self):
        test = self
        mixin = v2v_driver.V2VDriverMixin

        def spy(side, real):
            def wrapper(driver, *args, **kwargs):
                host = test._hostname_of(driver)
                try:
                    result = real(driver, *args, **kwargs)
                except Exception as e:
                    test.prechecks.append((side, host, type(e).__name__,
                                           str(e)))
                    raise
                test.prechecks.append((side, host, None, None))
                if side == 'source':
                    # What the source's pre-check recorded, read back from
                    # the database right then.
                    context, instance = args[:2]
                    test.plans[instance.uuid] = test._db_plan(
                        context, instance.uuid)
                return result
            return wrapper

        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.virt.libvirt.driver.V2VDriverMixin.'
            'check_can_live_migrate_destination',
            spy('dest', mixin.check_can_live_migrate_destination)))
        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.virt.libvirt.driver.V2VDriverMixin.'
            'check_can_live_migrate_source',
            spy('source', mixin.check_can_live_migrate_source)))

    def _migrate_stub(self, domain, destination, params, flags):
        """libvirt's migration: the domain moves to the destination."""
        dest_host = parse.urlparse(destination).hostname
        uuid = etree.fromstring(params['destination_xml']).findtext('./uuid')
        (source_host,) = self.hosts_with_domain(uuid)
        self.computes[dest_host].driver._host.get_connection().createXML(
            params['destination_xml'],
            'fake-createXML-doesnt-care-about-flags')
        self.libvirt_migrations.append((source_host, dest_host, flags))
        self.destination_xmls.append(params['destination_xml'])
        source_conn = self.computes[source_host].driver._host.get_connection()
        source_dom = source_conn.lookupByUUIDString(uuid)
        source_dom.complete_job()
        if flags & fakelibvirt.VIR_MIGRATE_UNDEFINE_SOURCE:
            # As libvirt does (Nova asks for it): the source no longer has
            # the domain, shared instance path or not.
            source_dom.undefine()

    def hosts_with_domain(self, uuid):
        """The computes whose hypervisor defines the domain ``uuid``."""
        return sorted(
            host for host, compute in self.computes.items()
            if uuid in (dom.UUIDString() for dom in
                        compute.driver._host.get_connection()
                        .listAllDomains(ALL_DOMAINS)))

    # -- hosts -----------------------------------------------------------

    def _setup_compute_service(self):
        self.flags(compute_driver=virt.DRIVER)

    @contextlib.contextmanager
    def _virt_type(self, accel):
        before = CONF.libvirt.virt_type
        self.flags(virt_type=VIRT_TYPE[accel], group='libvirt')
        try:
            yield
        finally:
            self.flags(virt_type=before, group='libvirt')

    def start_v2v_compute(self, hostname, accel='kvm', storage=None,
                          memory_gb=16):
        """Start a V2V compute host.

        :param accel: 'kvm' or 'tcg' (``[libvirt] virt_type = qemu``)
        :param storage: the storage behind its instances_path; hosts given
            the same value share it (default: its own local disk)
        :param memory_gb: its RAM; the scheduler prefers the host with the
            most free RAM
        """
        self.storage[hostname] = storage or 'local:%s:/dev/vda1:/' % hostname
        self.accel[hostname] = accel
        host_info = fakelibvirt.HostInfo(cpu_nodes=1, cpu_sockets=1,
                                         cpu_cores=2, cpu_threads=2,
                                         kB_mem=memory_gb * units.Mi)
        with self._virt_type(accel):
            self.start_compute(hostname, host_info=host_info)
        return self.computes[hostname]

    def start_plain_libvirt_compute(self, hostname):
        """Start a compute running Nova's stock libvirt driver."""
        self.storage[hostname] = 'local:%s:/dev/vda1:/' % hostname
        self.accel[hostname] = 'kvm'
        before = CONF.compute_driver
        self.flags(compute_driver='libvirt.LibvirtDriver')
        try:
            self.start_compute(hostname)
        finally:
            self.flags(compute_driver=before)
        return self.computes[hostname]

    # -- servers ---------------------------------------------------------

    def boot(self, host):
        """An ACTIVE server on ``host``, defined for its accelerator."""
        with self._virt_type(self.accel[host]):
            server = self._create_server(host=host, networks='none')
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server

    def live_migrate(self, server, host=None, block_migration='auto',
                     force=None, microversion=None):
        """POST os-migrateLive; returns the response (any status)."""
        body = {'host': host, 'block_migration': block_migration}
        if force is not None:
            body['force'] = force
        with nova_utils.temporary_mutation(
                self.api, microversion=microversion or self.microversion):
            return self.api.api_post(
                '/servers/%s/action' % server['id'],
                {'os-migrateLive': body},
                check_response_status=[202, 400, 409, 500])

    def assert_refused(self, response, status, *fragments):
        """Assert the API refused with ``status`` and every fragment."""
        self.assertEqual(status, response.status, response.body)
        message = error_message(response.body)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return message

    def migrations_of(self, server):
        """The server's migration records, oldest first."""
        with nova_utils.temporary_mutation(self.api, microversion='2.59'):
            migrations = self.api.api_get(
                '/os-migrations?instance_uuid=%s' % server['id']
            ).body['migrations']
        return sorted(migrations, key=lambda m: m['id'])

    def last_migration(self, server):
        migrations = self.migrations_of(server)
        self.assertTrue(migrations, 'no migration of %s' % server['id'])
        return migrations[-1]

    @contextlib.contextmanager
    def cell_context(self, server):
        """An admin context targeted at the server's cell."""
        mapping = objects.InstanceMapping.get_by_instance_uuid(
            self.ctxt, server['id'])
        with nova_context.target_cell(self.ctxt,
                                      mapping.cell_mapping) as cctxt:
            yield cctxt

    def instance(self, server):
        """The instance object, read from its cell."""
        with self.cell_context(server) as cctxt:
            return objects.Instance.get_by_uuid(
                cctxt, server['id'], expected_attrs=['system_metadata'])

    def recorded_plan(self, server):
        """The plan the source's pre-check saved, or None."""
        with self.cell_context(server) as cctxt:
            return self._db_plan(cctxt, server['id'])

    @staticmethod
    def _db_plan(context, uuid):
        """The live migration plan the database holds, or None."""
        return v2v_record.MigrationRecord.current(
            context, objects.Instance(uuid=uuid, system_metadata={})).plan

    def action_events(self, server, action='live-migration'):
        """The events of the server's last ``action``, by name."""
        with nova_utils.temporary_mutation(self.api, microversion='2.84'):
            actions = self.api.api_get(
                '/servers/%s/os-instance-actions' % server['id']
            ).body['instanceActions']
            found = [a for a in actions if a['action'] == action]
            self.assertTrue(found, 'no %s action on %s'
                            % (action, server['id']))
            detail = self.api.api_get(
                '/servers/%s/os-instance-actions/%s'
                % (server['id'], found[0]['request_id'])
            ).body['instanceAction']
        return {e['event']: e for e in detail['events']}

    def assert_stayed(self, server, host):
        """The server runs on, ACTIVE, on ``host``, no task pending."""
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        # Only the source's hypervisor has the guest, and it runs.
        self.assertEqual([host], self.hosts_with_domain(server['id']))
        conn = self.computes[host].driver._host.get_connection()
        self.assertEqual(fakelibvirt.VIR_DOMAIN_RUNNING,
                         conn.lookupByUUIDString(server['id']).info()[0])
        return server

    def assert_locked_for_the_owner(self, server, reason):
        """Locked by an administrator: the owner can do nothing with it.

        Nova allows a hard reboot, a rebuild or a delete of a server in
        ERROR; the lock refuses them to the owner, and its unlock.
        """
        server = self.api.get_server(server['id'])
        self.assertEqual((True, reason),
                         (server['locked'], server['locked_reason']))
        owner = self.api_fixture.api
        for action in ({'reboot': {'type': 'HARD'}}, {'unlock': None}):
            with nova_utils.temporary_mutation(owner,
                                               microversion='2.73'):
                exc = self.assertRaises(
                    client.OpenStackApiException, owner.post_server_action,
                    server['id'], action)
            self.assertIn(exc.response.status_code, (403, 409), action)
        exc = self.assertRaises(client.OpenStackApiException,
                                owner.delete_server, server['id'])
        self.assertEqual(409, exc.response.status_code)
        # Nova's own records of the lock: its action, its notification.
        self.assertIn('lock', [a['action'] for a in self.api.api_get(
            '/servers/%s/os-instance-actions' % server['id']
        ).body['instanceActions']])
        self.assertIn('instance.lock',
                      [n['event_type']
                       for n in self.notifier.versioned_notifications])
        return server

    def assert_filter_ran(self, server, hosts_in, hosts_out):
        """The V2V filter judged these hosts for this live migration."""
        self.assertIn((server['id'], sorted(hosts_in), sorted(hosts_out)),
                      self.filter_runs)

    def assert_plan(self, server, mode, source, dest, block_migration):
        """The source's pre-check recorded this plan for ``server``."""
        plan = self.plans.get(server['id'])
        self.assertIsNotNone(plan, 'no V2V plan recorded')
        self.assertEqual(
            (mode, source, dest, block_migration),
            (plan.mode, plan.source_host, plan.dest_host,
             plan.block_migration))
        return plan


def error_message(body):
    """The message of a Nova API error body (``{"badRequest": {...}}``)."""
    if isinstance(body, dict) and len(body) == 1:
        (value,) = body.values()
        if isinstance(value, dict) and 'message' in value:
            return value['message']
    return str(body)
