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

"""The V2V cutover and the offline V2V move through Nova's own flow.

Nova runs for real (API, conductor, scheduler, both computes' managers and
the V2V driver, with the engine of :mod:`nova_v2v.transfer.cutover`);
the stubs sit at the engine's boundary only:

* fakelibvirt's domains grow block copy jobs (``blockCopy``,
  ``blockJobInfo``, ``blockJobAbort``, the ``BLOCK_JOB_2`` event and the
  ``<mirror ready='yes'>`` of the live XML) that reach ready at once, or
  fail, or stay behind, as a test asks;
* the NBD exports start no process: pid files are written and their stop
  recorded; the port is seen closed at once;
* ``openAuth`` on the migration URI of a host gives that host's fake
  connection, as libvirt's remote driver would reach its libvirtd;
* each domain's guest keeps writing: its disks' write requests
  (``blockStats``) grow at each read, so a clone proves its guest runs at
  its second sample (``[v2v] cutover_activity_settle`` is 0 here).
"""

import dataclasses
import datetime
import glob
import json
import os
import time
from urllib import parse

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
import fixtures
from lxml import etree
from nova import objects
from nova.tests.fixtures import libvirt as fakelibvirt
from nova import utils as nova_utils

from nova_v2v.hardware import guest as hw_guest
from nova_v2v import notifications
from nova_v2v.planning import planner
from nova_v2v.transfer import cutover
from nova_v2v.transfer import mirror
from nova_v2v.transfer import nbd
from nova_v2v.virt.libvirt import cutover_transfer
from nova_v2v.virt.libvirt import downtime
from nova_v2v.virt.libvirt import inventory as v2v_inventory
from nova_v2v.virt.libvirt import nova_internals
from nova_v2v.virt.libvirt import record as v2v_record
from tests.functional import base

CONF = base.CONF
REAL_LIBVIRT = cutover.libvirt
# What fakelibvirt lacks that the engine uses.
ENGINE_CONSTANTS = (
    'VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2', 'VIR_DOMAIN_BLOCK_JOB_READY',
    'VIR_DOMAIN_BLOCK_JOB_FAILED', 'VIR_DOMAIN_BLOCK_JOB_COMPLETED',
    'VIR_DOMAIN_BLOCK_COPY_BANDWIDTH',
    'VIR_DOMAIN_BLOCK_COPY_SYNCHRONOUS_WRITES',
    'VIR_DOMAIN_BLOCK_JOB_TYPE_COPY')
DISK_SIZE = base.FAKE_DISK_VIRTUAL_SIZE


class FakeEngineBoundary(fixtures.Fixture):
    """Block copy jobs on fakelibvirt domains, NBD exports without qemu.

    ``mode`` decides what a block copy does: ``'ready'`` (in sync at
    once), ``'fail'`` (a FAILED event, the job vanishes, as when the
    export dies) or ``'hold'`` (copying, never ready).
    """

    def __init__(self, test):
        super().__init__()
        self.test = test
        self.mode = 'ready'
        self.jobs = {}
        self.copies = []
        self.exports = {}
        # The qemu-nbd command lines the destination would have run.
        self.commands = []
        self.defined = []
        self.connections = []
        self.clone_fails = False
        self._next_id = 100
        # {(domain uuid, disk dev): write requests read so far}
        self._writes = {}

    def _setUp(self):
        for name in ENGINE_CONSTANTS:
            if not hasattr(fakelibvirt, name):
                self.useFixture(fixtures.MonkeyPatch(
                    'nova.tests.fixtures.libvirt.' + name,
                    getattr(REAL_LIBVIRT, name)))
        for module in ('nova_v2v.transfer.clone',
                       'nova_v2v.transfer.cutover',
                       'nova_v2v.transfer.mirror',
                       'nova_v2v.transfer.offline'):
            self.useFixture(fixtures.MonkeyPatch(module + '.libvirt',
                                                 fakelibvirt))
        dom = 'nova.tests.fixtures.libvirt.Domain.'
        conn = 'nova.tests.fixtures.libvirt.Connection.'
        real_xml = fakelibvirt.Domain.XMLDesc
        real_register = fakelibvirt.Connection.domainEventRegisterAny
        real_define = fakelibvirt.Connection.defineXML
        real_create = fakelibvirt.Domain.createWithFlags
        real_emit = fakelibvirt.Connection._emit_lifecycle
        real_not_running = fakelibvirt.Connection._mark_not_running
        fix = self

        def emit_lifecycle(connection, domain, event, detail):
            real_emit(connection, domain, event, detail)
            callbacks = list(
                connection.__dict__.get('_v2v_cbs', {}).values())
            for uuid, event_id, callback, opaque in callbacks:
                if (uuid == domain.UUIDString() and event_id ==
                        fakelibvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE):
                    callback(connection, domain, event, detail, opaque)

        def xml_desc(domain, flags):
            xml = real_xml(domain, flags)
            mirrored = {d for (u, d) in fix.jobs
                        if u == domain.UUIDString()}
            if not mirrored:
                return xml
            root = etree.fromstring(xml)
            for disk in root.findall('./devices/disk'):
                target = disk.find('./target')
                if target is not None and target.get('dev') in mirrored:
                    job = fix.jobs[(domain.UUIDString(), target.get('dev'))]
                    etree.SubElement(
                        disk, 'mirror', type='network', job='copy',
                        ready='yes' if job['cur'] == job['end'] else 'no')
            return etree.tostring(root).decode()

        def mark_not_running(connection, domain):
            # QEMU exits: its block jobs end with it.
            for key in [k for k in fix.jobs if k[0] == domain.UUIDString()]:
                del fix.jobs[key]
            return real_not_running(connection, domain)

        def register(connection, domain, event_id, callback, opaque):
            if domain is None:
                return real_register(connection, domain, event_id,
                                     callback, opaque)
            fix._next_id += 1
            callbacks = connection.__dict__.setdefault('_v2v_cbs', {})
            callbacks[fix._next_id] = (domain.UUIDString(), event_id,
                                       callback, opaque)
            return fix._next_id

        def deregister(connection, cb_id):
            connection.__dict__.get('_v2v_cbs', {}).pop(cb_id, None)

        def define(connection, xml):
            fix.defined.append((connection.getHostname(), xml))
            return real_define(connection, xml)

        def create(domain, flags):
            if fix.clone_fails and domain._connection in fix.connections:
                raise fakelibvirt.make_libvirtError(
                    fakelibvirt.libvirtError,
                    'internal error: qemu unexpectedly closed the monitor',
                    error_code=fakelibvirt.VIR_ERR_INTERNAL_ERROR,
                    error_domain=fakelibvirt.VIR_FROM_QEMU)
            return real_create(domain, flags)

        patches = {
            dom + 'XMLDesc': xml_desc,
            dom + 'connect': lambda domain: domain._connection,
            dom + 'state': lambda domain, flags=0: [domain._state, 0],
            dom + 'blockCopy': self.block_copy,
            dom + 'blockJobInfo': self.block_job_info,
            dom + 'blockJobAbort': self.block_job_abort,
            dom + 'blockStats': self.block_stats,
            dom + 'createWithFlags': create,
            conn + 'domainEventRegisterAny': register,
            conn + 'domainEventDeregisterAny': deregister,
            conn + 'defineXML': define,
            conn + 'close': lambda connection: 0,
            conn + 'isAlive': lambda connection: 1,
            conn + '_emit_lifecycle': emit_lifecycle,
            conn + '_mark_not_running': mark_not_running,
            'nova.tests.fixtures.libvirt.openAuth': self.open_auth,
            'nova_v2v.transfer.nbd.ClientBoundExport.start':
                self.export_start,
            'nova_v2v.transfer.nbd.stop_pid_file': self.stop_pid_file,
            'nova_v2v.transfer.nbd.wait_closed':
                lambda host, port, timeout=0, poll=0: True,
        }
        for path, value in patches.items():
            self.useFixture(fixtures.MonkeyPatch(path, value))

    # -- libvirt ------------------------------------------------------

    def _emit(self, domain, disk, status):
        callbacks = list(
            domain._connection.__dict__.get('_v2v_cbs', {}).values())
        for uuid, event_id, callback, opaque in callbacks:
            if (uuid == domain.UUIDString() and
                    event_id == REAL_LIBVIRT.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2):
                callback(domain._connection, domain, disk,
                         REAL_LIBVIRT.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY, status,
                         opaque)

    def block_copy(self, domain, disk, destxml, params=None, flags=0):
        self.copies.append((domain.UUIDString(), disk, destxml, flags))
        key = (domain.UUIDString(), disk)
        if self.mode == 'fail':
            self._emit(domain, disk, REAL_LIBVIRT.VIR_DOMAIN_BLOCK_JOB_FAILED)
            return 0
        done = DISK_SIZE if self.mode == 'ready' else DISK_SIZE // 4
        self.jobs[key] = {'type': 2, 'bandwidth': 0, 'cur': done,
                          'end': DISK_SIZE}
        if self.mode == 'ready':
            self._emit(domain, disk, REAL_LIBVIRT.VIR_DOMAIN_BLOCK_JOB_READY)
        return 0

    def block_job_info(self, domain, disk, flags=0):
        return dict(self.jobs.get((domain.UUIDString(), disk), {}))

    def block_job_abort(self, domain, disk, flags=0):
        self.jobs.pop((domain.UUIDString(), disk), None)

    def block_stats(self, domain, disk):
        """A guest writing on: one write request more at each read."""
        key = (domain.UUIDString(), disk)
        self._writes[key] = self._writes.get(key, 0) + 1
        writes = self._writes[key]
        return [2, 4096, writes, writes * 512, 0]

    def open_auth(self, uri, auth, flags=0):
        host = parse.urlparse(uri).hostname
        connection = self.test.computes[host].driver._host.get_connection()
        self.connections.append(connection)
        return connection

    # -- NBD ----------------------------------------------------------

    def export_start(self, export):
        export.ports = [20000 + i for i in range(len(export.disks))]
        self.commands.extend(export.command(i)
                             for i in range(len(export.disks)))
        for pid_file in export.pid_files:
            with open(pid_file, 'w') as f:
                f.write('0\n')
            self.exports[pid_file] = 'running'
        return export

    def stop_pid_file(self, pid_file, timeout=0, program=nbd.QEMU_NBD):
        was = self.exports.get(pid_file) == 'running'
        if pid_file in self.exports:
            self.exports[pid_file] = 'stopped'
        if os.path.exists(pid_file):
            os.unlink(pid_file)
        return was


class CutoverTestBase(base.V2VLiveMigrationTestBase):

    microversion = '2.74'

    def setUp(self):
        super().setUp()
        self.flags(live_migration_monitor_interval=1, group='libvirt')
        self.engine = self.useFixture(FakeEngineBoundary(self))
        self.before_computes()
        self.start_v2v_compute('kvm-local-1')
        self.start_v2v_compute('tcg-local', accel='tcg', memory_gb=32)
        self.server = self.boot('kvm-local-1')
        self.disk_path = os.path.join(CONF.instances_path,
                                      self.server['id'], 'disk')
        self.filter_runs.clear()

    def before_computes(self):
        pass

    def conn(self, host):
        return self.computes[host].driver._host.get_connection()

    def migration_record(self, migration_id):
        with self.cell_context(self.server) as cctxt:
            return objects.Migration.get_by_id(cctxt, migration_id)

    def assert_cutover_done(self, dest='tcg-local'):
        migration = self._wait_for_migration_status(self.server,
                                                    ['completed'])
        server = self._wait_for_state_change(self.server, 'ACTIVE')
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        plan = self.assert_plan(self.server, planner.V2V_CUTOVER,
                                'kvm-local-1', dest, True)
        self.assertEqual([self.disk_path], [d.path for d in plan.disks])
        # The clone runs on the destination, nothing is left on the
        # source: Nova's cleanup undefined it.
        self.assertEqual([dest], self.hosts_with_domain(self.server['id']))
        clone = self.conn(dest).lookupByUUIDString(self.server['id'])
        self.assertEqual(fakelibvirt.VIR_DOMAIN_RUNNING, clone.info()[0])
        # It was defined translated: QEMU/TCG's domain type.
        ((host, xml),) = [d for d in self.engine.defined if d[0] == dest]
        self.assertEqual('qemu', etree.fromstring(xml).get('type'))
        # libvirt's migration never ran; the disk was mirrored to the
        # export of the destination.
        self.assertEqual([], self.libvirt_migrations)
        ((uuid, dev, destxml, flags),) = self.engine.copies
        source = etree.fromstring(destxml).find('./source')
        self.assertEqual(('nbd', 'v2v-%s-disk' % uuid),
                         (source.get('protocol'), source.get('name')))
        self.assertEqual(mirror.COPY_FLAGS, flags)
        self.assertEqual({}, self.engine.jobs)
        # The disk was precreated in the plan's format, without backing.
        self.create_image.assert_called_with(self.disk_path,
                                             plan.disks[0].dest_format,
                                             DISK_SIZE)
        # The progress Nova shows in "server migration show".
        record = self.migration_record(migration['id'])
        self.assertEqual((DISK_SIZE, DISK_SIZE, 0),
                         (record.disk_total, record.disk_processed,
                          record.disk_remaining))
        sysmeta = self.instance(self.server).system_metadata
        self.assertNotIn(v2v_record.SYSMETA_NBD, sysmeta)
        self.assertEqual(planner.V2V_CUTOVER,
                         self.recorded_plan(self.server).mode)
        return migration

    def assert_rolled_back(self, status):
        migration = self._wait_for_migration_status(self.server, [status])
        self.assert_stayed(self.server, 'kvm-local-1')
        # Nothing is left on the destination.
        self.assertEqual([], [d for d in self.conn('tcg-local')
                              .listAllDomains(base.ALL_DOMAINS)])
        self.assertTrue(self.engine.exports)
        self.assertEqual({'stopped'}, set(self.engine.exports.values()))
        self.assertEqual([], glob.glob(os.path.join(
            CONF.instances_path, '*', cutover_transfer.NBD_PID_GLOB)))
        self.assertFalse(os.path.exists(os.path.dirname(self.disk_path)))
        self.assertEqual({}, self.engine.jobs)
        self.assertNotIn(v2v_record.SYSMETA_NBD,
                         self.instance(self.server).system_metadata)
        return migration

    def v2v_events(self):
        """(event type, payload data) of the V2V notifications sent."""
        return [(n['event_type'], n['payload']['nova_object.data'])
                for n in self.notifier.versioned_notifications
                if n['event_type'].startswith('v2v.')]

    def assert_events(self, expected):
        events = self.v2v_events()
        types = [t for t, _d in events]
        # Progress events are throttled: one at least, where expected.
        squeezed = [t for i, t in enumerate(types)
                    if not (t == notifications.PROGRESS and i and
                            types[i - 1] == t)]
        self.assertEqual(expected, squeezed)
        for _t, data in events:
            self.assertEqual(self.server['id'], data['instance_uuid'])
        return events

    def downtime_events(self):
        """The downtime events of the server's live migrations (API)."""
        found = []
        with nova_utils.temporary_mutation(self.api, microversion='2.84'):
            for action in self.api.get_instance_actions(self.server['id']):
                if action['action'] != 'live-migration':
                    continue
                detail = self.api.get_instance_action_details(
                    self.server['id'], action['request_id'])
                found += [e for e in detail['events']
                          if e['event'] == downtime.EVENT]
        return found

    def retry_succeeds(self):
        self.engine.mode = 'ready'
        self.engine.clone_fails = False
        self.engine.copies.clear()
        self.engine.defined.clear()
        self.assertEqual(202, self.live_migrate(self.server,
                                                host='tcg-local').status)
        self.assert_cutover_done()


class CutoverAccessTest(CutoverTestBase):
    """Who the destination's exports admit, decided through Nova."""

    def before_computes(self):
        self.flags(my_ip='192.0.2.11')

    def _move(self):
        self.assertEqual(202, self.live_migrate(self.server,
                                                host='tcg-local').status)
        self.assert_cutover_done()
        ((uuid, dev, destxml, flags),) = self.engine.copies
        (command,) = self.engine.commands
        return etree.fromstring(destxml).find('./source'), command

    def test_exports_admit_the_source_address_only(self):
        source, command = self._move()
        wrapper = command[:command.index('--') + 1]
        self.assertEqual(nbd.LISTEN_COMMAND, wrapper[0])
        self.assertEqual(['--allow', '192.0.2.11'],
                         wrapper[wrapper.index('--allow'):][:2])
        self.assertNotIn('--tls-creds', command)
        self.assertEqual('no', source.get('tls'))
        self.assertIsNone(source.get('tlsHostname'))

    def test_native_tls_admits_the_source_certificate_only(self):
        cert_dir = self.useFixture(fixtures.TempDir()).path
        name = x509.Name([
            x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, 'Example'),
            x509.NameAttribute(x509.NameOID.COMMON_NAME, 'kvm-local-1')])
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name)
                .issuer_name(name).public_key(key.public_key())
                .serial_number(1).not_valid_before(now)
                .not_valid_after(now + datetime.timedelta(days=1))
                .sign(key, hashes.SHA256()))
        with open(os.path.join(cert_dir, 'client-cert.pem'), 'wb') as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        self.flags(live_migration_with_native_tls=True, group='libvirt')
        self.flags(nbd_tls_x509_cert_dir=cert_dir, group='v2v')

        source, command = self._move()
        # The source's DN, the one identity admitted.
        self.assertIn('authz-simple,id=v2v-authz,'
                      'identity=O=Example,,CN=kvm-local-1', command)
        self.assertIn('tls-creds-x509,id=v2v-tls,endpoint=server,'
                      'dir=%s,verify-peer=on' % cert_dir, command)
        self.assertIn('--allow', command)
        # The source's block copy connects with TLS, to the export's
        # address, and checks its certificate against the destination's
        # name, as Nova's own native TLS migration to it does.
        self.assertEqual('yes', source.get('tls'))
        self.assertEqual('tcg-local', source.get('tlsHostname'))
        self.assertEqual('192.0.2.11', source.find('./host').get('name'))


class CutoverTest(CutoverTestBase):
    """kvm -> tcg with local storage: the planner picks the cutover."""

    def test_auto_scheduled_cutover(self):
        self.assertEqual(202, self.live_migrate(self.server).status)

        self.assert_cutover_done()
        events = dict(self.assert_events([
            notifications.PLAN, notifications.START, notifications.PROGRESS,
            notifications.CUTOVER_START, notifications.CUTOVER_END,
            notifications.END]))
        plan = events[notifications.PLAN]
        self.assertEqual(('v2v-cutover', 'kvm-local-1', 'tcg-local'),
                         (plan['mode'], plan['source_host'],
                          plan['dest_host']))
        self.assertEqual([self.disk_path],
                         [d['path'] for d in plan['disks']])
        self.assertIn('downtime_s', events[notifications.CUTOVER_END])
        # The downtime, as the API shows it to administrators: an event of
        # the live migration's action, on the source host.
        event, = self.downtime_events()
        self.assertEqual(('Success', 'kvm-local-1', None),
                         (event['result'], event['host'], event['details']))
        self.assertLessEqual(event['start_time'], event['finish_time'])
        self.assertEqual(DISK_SIZE,
                         events[notifications.PROGRESS]['bytes_total'])
        publishers = {n['publisher_id']
                      for n in self.notifier.versioned_notifications
                      if n['event_type'].startswith('v2v.')}
        self.assertEqual({'nova-v2v:kvm-local-1'}, publishers)
        self.assertEqual([('dest', 'tcg-local', None, None),
                          ('source', 'kvm-local-1', None, None)],
                         self.prechecks)

    def test_forced_cutover(self):
        response = self.live_migrate(self.server, host='tcg-local',
                                     force=True, microversion=base.MV_FORCE)

        self.assertEqual(202, response.status, response.body)
        self.assert_cutover_done()
        self.assertEqual([], self.filter_runs)

    def test_acpi_cutover(self):
        self.flags(cutover_mode='acpi', group='v2v')

        self.live_migrate(self.server, host='tcg-local')

        self.assert_cutover_done()

    def test_sync_failure_rolls_back_then_retry_succeeds(self):
        self.engine.mode = 'fail'

        self.live_migrate(self.server, host='tcg-local')

        self.assert_rolled_back('failed')
        events = self.assert_events([
            notifications.PLAN, notifications.START, notifications.ROLLBACK])
        self.assertIn('reason', events[-1][1])
        rollback = [n for n in self.notifier.versioned_notifications
                    if n['event_type'] == notifications.ROLLBACK]
        self.assertEqual('ERROR', rollback[0]['priority'])
        self.retry_succeeds()

    def test_clone_not_starting_rolls_back_then_retry_succeeds(self):
        self.engine.clone_fails = True

        self.live_migrate(self.server, host='tcg-local')

        self.assert_rolled_back('failed')
        # The clone had been defined, and was undefined again.
        self.assertEqual(['tcg-local'],
                         [d[0] for d in self.engine.defined
                          if d[0] == 'tcg-local'])
        # The downtime ended with the source running again, and why.
        event, = self.downtime_events()
        self.assertEqual('Error', event['result'])
        self.assertIn('failed', event['details'])
        self.retry_succeeds()

    def _wait_running(self):
        for _attempt in range(100):
            migration = self.last_migration(self.server)
            if migration['status'] == 'running' and self.engine.jobs:
                return migration
            time.sleep(0.1)
        self.fail('the migration did not start syncing: %s' % migration)

    def test_abort_during_sync(self):
        self.engine.mode = 'hold'
        self.live_migrate(self.server, host='tcg-local')
        migration = self._wait_running()
        # The progress so far is in the migration record.
        record = self.migration_record(migration['id'])
        self.assertEqual((DISK_SIZE, DISK_SIZE // 4),
                         (record.disk_total, record.disk_processed))

        with nova_utils.temporary_mutation(self.api, microversion='2.74'):
            self.api.api_delete('/servers/%s/migrations/%s'
                                % (self.server['id'], migration['id']),
                                check_response_status=[202])

        self.assert_rolled_back('cancelled')


class OfflineTest(CutoverTestBase):
    """A cold migration from a KVM to a TCG host converts the disks."""

    def before_computes(self):
        self.disk_formats = {'kvm-local-1': ('raw', 'qcow2'),
                             'tcg-local': ('qcow2',)}
        real_profile = v2v_inventory.Inventory.host_profile
        test = self

        def host_profile(driver):
            found = real_profile(driver)
            return dataclasses.replace(
                found,
                disk_formats=test.disk_formats[test._hostname_of(driver)])

        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.virt.libvirt.inventory.Inventory.host_profile',
            host_profile))
        # Nova's copy of the disks (ssh/rsync between hosts) is not run.
        self.copied = self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            'migrate_disk_and_power_off',
            side_effect=self._copy_disks)).mock
        self.converted = []
        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.transfer.offline.convert_disk', self._convert))
        # The source's real domain XML (qcow2 root disk); the guest
        # publishes its format through the fake disk info.
        self.useFixture(fixtures.MonkeyPatch(
            'nova_v2v.virt.libvirt.inventory.Inventory.guest_from_domain',
            self._guest))

    def _guest(self, driver, instance, block_device_info, with_sizes):
        return hw_guest.GuestProfile(
            domain_type='kvm', disks=(hw_guest.GuestDisk(
                target='vda', path=self.disk_path, format='raw',
                virtual_size=DISK_SIZE),))

    def _copy_disks(self, context, instance, dest, flavor, network_info,
                    block_device_info=None, timeout=0, retry_interval=0):
        os.makedirs(os.path.dirname(self.disk_path), exist_ok=True)
        with open(self.disk_path, 'w') as f:
            f.write('raw data')
        return json.dumps([{'type': 'raw', 'path': self.disk_path,
                            'virt_disk_size': DISK_SIZE,
                            'backing_file': '', 'disk_size': 8,
                            'over_committed_disk_size': 0}])

    def _convert(self, source, source_format, dest, dest_format,
                 backing_dir=None):
        self.converted.append((source, source_format, dest, dest_format))
        # Only Nova's image cache may back a converted disk.
        self.assertEqual(nova_internals.image_cache_dir(), backing_dir)
        with open(dest, 'w') as f:
            f.write('%s data' % dest_format)
        return 1

    def _cold_migrate(self):
        server = self._migrate_server(self.server, host='tcg-local')
        self.assertEqual('tcg-local', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([(self.disk_path, 'raw', self.disk_path + '.v2v',
                           'qcow2')], self.converted)
        with open(self.disk_path) as f:
            self.assertEqual('qcow2 data', f.read())
        sysmeta = self.instance(self.server).system_metadata
        plan = planner.MigrationPlan.from_json(v2v_record.sysmeta_get(
            sysmeta, v2v_record.SYSMETA_OFFLINE_PLAN))
        self.assertEqual((planner.OFFLINE, 'kvm-local-1', 'tcg-local'),
                         (plan.mode, plan.source_host, plan.dest_host))
        return server

    def test_cold_migrate_converts_and_confirms(self):
        server = self._cold_migrate()

        server = self._confirm_resize(server)

        self.assertEqual('tcg-local', server['OS-EXT-SRV-ATTR:host'])
        # Generated from the destination's own configuration.
        self.assertIn('tcg-local', self.hosts_with_domain(self.server['id']))

    def test_cold_migrate_revert_restores_the_source(self):
        server = self._migrate_server(self.server, host='tcg-local')
        self.assertEqual('tcg-local', server['OS-EXT-SRV-ATTR:host'])

        self.api.post_server_action(server['id'], {'revertResize': None})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self._wait_for_migration_status(server, ['reverted'])

        self.assertEqual('kvm-local-1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(['kvm-local-1'],
                         self.hosts_with_domain(self.server['id']))
        domain = self.conn('kvm-local-1').lookupByUUIDString(
            self.server['id'])
        self.assertEqual(fakelibvirt.VIR_DOMAIN_RUNNING, domain.info()[0])
