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

"""Never worse than Nova: the V2V driver against Nova's own, case by case.

Every test runs one move that is not a V2V cutover twice, on Nova's fake
libvirt: once with Nova's ``LibvirtDriver`` and once with the
``V2VLibvirtDriver``, on the same inputs, with the ``[v2v]`` options the
README says run Nova's migrations unchanged (``downtime_policy = nova``,
``auto_converge = false``, ``synchronous_disk_writes = false``), and
compares what each did: what reached libvirt (the domain's migrate, abort
and downtime calls), what was returned or raised, what was read from the
database. Only the hooks Nova's compute manager calls and the driver
methods Nova's own ``_live_migration`` calls are used, so that the tests
hold whatever shape the V2V driver takes inside.
"""

import copy
import inspect
import os
from unittest import mock

import fixtures
from nova.compute import task_states
from nova.compute import vm_states
from nova import context as nova_context
from nova import exception
from nova import objects
from nova import test
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.unit import fake_instance
from nova.tests.unit.scheduler import fakes as scheduler_fakes
from nova.virt import fake
from nova.virt.libvirt import driver as libvirt_driver
from oslo_serialization import jsonutils
from oslo_utils.fixture import uuidsentinel as uuids

from nova_v2v.scheduler import filters
from nova_v2v.virt.libvirt import driver as v2v_driver
from tests import v2v_fixtures

NOVA = 'nova'
V2V = 'v2v'
# Nova's own cold move methods, before any test replaces them.
NOVA_MIGRATE_DISK_AND_POWER_OFF = (
    libvirt_driver.LibvirtDriver.migrate_disk_and_power_off)
NOVA_FINISH_MIGRATION = libvirt_driver.LibvirtDriver.finish_migration

DOMAIN_XML = """<domain type='kvm'>
  <name>instance-00000001</name>
  <uuid>%(uuid)s</uuid>
  <memory>262144</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-2.11'>hvm</type></os>
  %(metadata)s
  <devices>
    %(disk)s
    <interface type='bridge'>
      <mac address='fa:16:3e:00:00:01'/>
      <model type='virtio'/>
      <source bridge='br0'/>
      <target dev='tap0'/>
    </interface>
    <graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    %(extra)s
  </devices>
</domain>"""

FILE_DISK = """<disk type='file' device='disk'>
      <driver name='qemu' type='%(format)s' cache='none'/>
      <source file='%(path)s'/>
      <target dev='vda' bus='virtio'/>
    </disk>"""
RBD_DISK = """<disk type='network' device='disk'>
      <driver name='qemu' type='raw' cache='writeback'/>
      <source protocol='rbd' name='vms/%(uuid)s_disk'>
        <host name='192.0.2.10' port='6789'/>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>"""
LVM_DISK = """<disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source dev='/dev/nova-vg/%(uuid)s_disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>"""
VTPM = """<tpm model='tpm-tis'>
      <backend type='emulator' version='2.0'/>
    </tpm>"""

# Nova's image backends: [libvirt] images_type, the disk of the domain
# Nova defines for it, its format.
BACKENDS = {
    'default': (FILE_DISK, 'qcow2'),
    'qcow2': (FILE_DISK, 'qcow2'),
    'raw': (FILE_DISK, 'raw'),
    'flat': (FILE_DISK, 'raw'),
    'rbd': (RBD_DISK, 'raw'),
    'lvm': (LVM_DISK, 'raw'),
}


def outcome(func, *args, **kwargs):
    """('returned', value) or ('raised', exception type, message)."""
    try:
        return ('returned', func(*args, **kwargs))
    except Exception as exc:
        return ('raised', type(exc), str(exc))


def bound(method, calls):
    """Each call of a mock of ``method`` as {parameter: argument}.

    Arguments given by position or by name, and defaults given or left
    out, compare equal.
    """
    signature = inspect.signature(method)
    result = []
    for call in calls:
        arguments = signature.bind(None, *call.args, **call.kwargs)
        arguments.apply_defaults()
        values = dict(arguments.arguments)
        values.pop('self')
        result.append(values)
    return result


def primitive(value):
    """A comparable form of an outcome's value (objects as primitives)."""
    if hasattr(value, 'obj_to_primitive'):
        return value.obj_to_primitive()
    return value


def bound_primitive(method, calls):
    """:func:`bound`, each argument in :func:`primitive` form.

    Nova's objects compare by identity (an Instance's PciDeviceList, an
    ImageMeta): the two drivers' runs get equal objects, not the same.
    """
    return [{name: primitive(value) for name, value in values.items()}
            for values in bound(method, calls)]


class _NeverWorseBase(test.NoDBTestCase):
    """Two drivers on Nova's fake libvirt: Nova's and the V2V one."""

    def setUp(self):
        super().setUp()
        self.instances_path = self.useFixture(
            v2v_fixtures.FakeLibvirtHost()).instances_path
        self.flags(host='src')
        # The README: these run Nova's migrations unchanged.
        self.flags(downtime_policy='nova', auto_converge=False,
                   synchronous_disk_writes=False, group='v2v')
        self.flags(storage_id='store-shared', group='v2v')
        self.context = nova_context.get_admin_context()
        self.instance = self._instance()
        # Nova's pre-checks and moves use the instance they are given; a
        # driver that reads it again gets this same object (counted).
        self.get_by_uuid = self.useFixture(fixtures.MockPatchObject(
            objects.Instance, 'get_by_uuid',
            side_effect=lambda *a, **k: self.instance)).mock
        self.useFixture(fixtures.MockPatchObject(objects.Instance, 'save'))
        # Neutron is not there: no multiple port bindings.
        self.useFixture(fixtures.MockPatch(
            'nova.network.neutron.API.has_port_binding_extension',
            return_value=False))

    def _instance(self, flavor=None, **updates):
        values = dict(uuid=uuids.instance, host='src', node='src',
                      vm_state=vm_states.ACTIVE,
                      task_state=task_states.MIGRATING,
                      system_metadata={'image_hw_disk_bus': 'virtio'})
        values.update(updates)
        instance = fake_instance.fake_instance_obj(
            self.context, flavor=flavor, expected_attrs=['system_metadata'],
            **values)
        # Loaded, as the compute manager's instance has them (no lazy load
        # from the database).
        instance.numa_topology = None
        instance.vcpu_model = None
        instance.pci_devices = objects.PciDeviceList(objects=[])
        instance.pci_requests = objects.InstancePCIRequests(requests=[])
        instance.device_metadata = None
        instance.trusted_certs = None
        instance.obj_reset_changes(recursive=True)
        return instance

    def make_driver(self, kind):
        cls = (libvirt_driver.LibvirtDriver if kind == NOVA
               else v2v_driver.V2VLibvirtDriver)
        drvr = cls(fake.FakeVirtAPI(), False)
        # What init_host does with the [libvirt] migration options.
        drvr._parse_migration_flags()
        return drvr

    def define_guest(self, drvr, disk=None, extra='', metadata='',
                     xml=None):
        """A running domain of the instance on ``drvr``'s libvirt.

        Its migrate, abort and downtime calls are recorded, in order, on
        the returned mock; ``xml`` replaces what the domain describes.
        """
        path = os.path.join(self.instances_path, self.instance.uuid, 'disk')
        disk = disk or FILE_DISK % {'format': 'qcow2', 'path': path}
        text = xml or DOMAIN_XML % {
            'uuid': self.instance.uuid, 'disk': disk % {
                'uuid': self.instance.uuid}, 'extra': extra,
            'metadata': metadata}
        conn = drvr._host.get_connection()
        dom = conn.defineXML(text if xml is None else DOMAIN_XML % {
            'uuid': self.instance.uuid, 'disk': '', 'extra': '',
            'metadata': ''})
        dom.create()
        # Nova's Host wraps libvirt objects in eventlet's tpool.Proxy.
        dom = getattr(dom, '_obj', dom)
        calls = mock.Mock()
        calls.migrateToURI3.return_value = None
        dom.migrateToURI3 = calls.migrateToURI3
        dom.abortJob = calls.abortJob
        dom.migrateSetMaxDowntime = calls.migrateSetMaxDowntime
        dom.migrateSetMaxSpeed = calls.migrateSetMaxSpeed
        if xml is not None:
            dom.XMLDesc = lambda flags=0: xml
        return calls

    def migrate_data(self, block_migration, **kw):
        values = dict(
            block_migration=block_migration,
            is_shared_instance_path=not block_migration,
            is_shared_block_storage=False,
            graphics_listen_addr_vnc='127.0.0.1',
            graphics_listen_addr_spice='127.0.0.1',
            serial_listen_addr=None,
            serial_listen_ports=[],
            target_connect_addr=None,
            bdms=[],
            dst_wants_file_backed_memory=False,
            dst_cpu_shared_set_info=set())
        values.update(kw)
        return objects.LibvirtLiveMigrateData(**values)

    def both(self, scenario):
        """{kind: scenario(driver)} for Nova's driver and the V2V one."""
        results = {}
        for kind in (NOVA, V2V):
            self.instance = self._instance(
                flavor=self.instance.flavor,
                system_metadata=dict(self.instance.system_metadata))
            results[kind] = scenario(self.make_driver(kind))
        return results

    def assertSameAsNova(self, results, what):
        self.assertEqual(results[NOVA], results[V2V],
                         '%s: the V2V driver (second) differs from Nova\'s '
                         'driver (first)' % what)


class MigrateCallTestCase(_NeverWorseBase):
    """What ``_live_migration_operation`` asks of libvirt."""

    def _operation(self, block_migration, vm_state=vm_states.ACTIVE,
                   **data):
        def scenario(drvr):
            self.instance.vm_state = vm_state
            calls = self.define_guest(drvr)
            guest = drvr._host.get_guest(self.instance)
            result = outcome(
                drvr._live_migration_operation, self.context,
                self.instance, 'dest', block_migration,
                self.migrate_data(block_migration, **data), guest,
                ['vda'] if block_migration else [])
            return result, calls.mock_calls
        results = self.both(scenario)
        # The scenario ran: libvirt was asked to migrate.
        self.assertEqual(('returned', None), results[NOVA][0])
        self.assertEqual(1, len([c for c in results[NOVA][1]
                                 if c[0] == 'migrateToURI3']))
        return results

    def test_live_migration(self):
        self.assertSameAsNova(self._operation(False), 'live migration')

    def test_block_migration(self):
        self.assertSameAsNova(self._operation(True), 'block migration')

    def test_block_migration_decided_by_the_pre_checks(self):
        # The request left block_migration to the pre-checks: the argument
        # is None and migrate_data carries the decision.
        def scenario(drvr):
            calls = self.define_guest(drvr)
            guest = drvr._host.get_guest(self.instance)
            return (outcome(drvr._live_migration_operation, self.context,
                            self.instance, 'dest', None,
                            self.migrate_data(True), guest, ['vda']),
                    calls.mock_calls)
        self.assertSameAsNova(self.both(scenario),
                              'block migration, auto')

    def test_live_migration_post_copy_permitted(self):
        self.flags(live_migration_permit_post_copy=True, group='libvirt')
        self.assertSameAsNova(self._operation(False),
                              'live migration, post-copy permitted')

    def test_paused_guest_post_copy_permitted(self):
        self.flags(live_migration_permit_post_copy=True, group='libvirt')
        self.assertSameAsNova(
            self._operation(False, vm_state=vm_states.PAUSED),
            'paused guest, post-copy permitted')

    def test_live_migration_novas_auto_converge(self):
        self.flags(live_migration_permit_auto_converge=True,
                   group='libvirt')
        self.assertSameAsNova(self._operation(False),
                              'live migration, Nova\'s auto-converge')

    def test_block_migration_tunnelled_with_target_address(self):
        self.flags(live_migration_tunnelled=True, group='libvirt')
        self.assertSameAsNova(
            self._operation(True, target_connect_addr='192.0.2.20'),
            'tunnelled block migration')

    def test_live_migration_with_target_address_and_bandwidth(self):
        self.flags(live_migration_bandwidth=100, group='libvirt')
        self.assertSameAsNova(
            self._operation(False, target_connect_addr='192.0.2.20'),
            'live migration to an inbound address')


class MigrateErrorTestCase(_NeverWorseBase):
    """Errors of ``_live_migration_operation`` reach its caller as Nova's."""

    def _failing(self, prepare):
        def scenario(drvr):
            calls = self.define_guest(drvr)
            prepare(calls)
            guest = drvr._host.get_guest(self.instance)
            return outcome(drvr._live_migration_operation, self.context,
                           self.instance, 'dest', False,
                           self.migrate_data(False), guest, [])
        results = self.both(scenario)
        self.assertEqual('raised', results[NOVA][0])
        return results

    def test_serial_console_without_listen_address(self):
        # The destination gave no serial listen address while this host
        # runs serial consoles: Nova refuses with MigrationError.
        self.flags(enabled=True, group='serial_console')
        results = self._failing(lambda calls: None)
        self.assertEqual(exception.MigrationError, results[NOVA][1])
        self.assertSameAsNova(results, 'serial console refusal')

    def test_libvirt_error_from_migrate(self):
        def prepare(calls):
            calls.migrateToURI3.side_effect = fakelibvirt.make_libvirtError(
                fakelibvirt.libvirtError, 'operation failed: migration '
                'out job: unexpectedly failed',
                error_code=fakelibvirt.VIR_ERR_OPERATION_FAILED)
        results = self._failing(prepare)
        self.assertEqual(fakelibvirt.libvirtError, results[NOVA][1])
        self.assertSameAsNova(results, 'libvirtError from migrateToURI3')


class MonitorFailureTestCase(_NeverWorseBase):
    """``_live_migration`` aborts the job when monitoring fails."""

    def _live_migration(self, monitor_error=None, migrate_error=None):
        post = mock.Mock()
        recover = mock.Mock()

        def scenario(drvr):
            calls = self.define_guest(drvr)
            if migrate_error is not None:
                calls.migrateToURI3.side_effect = migrate_error
            with mock.patch.object(
                    libvirt_driver.LibvirtDriver, '_live_migration_monitor',
                    side_effect=monitor_error) as monitor:
                result = outcome(drvr._live_migration, self.context,
                                 self.instance, 'dest', post, recover,
                                 False, self.migrate_data(False))
            self.assertEqual(1, monitor.call_count)
            names = [c[0] for c in calls.mock_calls]
            # The migration thread may or may not have reached libvirt
            # when the monitor failed: only the aborts are compared.
            return result, names.count('abortJob')
        return self.both(scenario)

    def test_live_migration_reads_no_instance_from_the_database(self):
        def scenario(drvr):
            self.get_by_uuid.reset_mock()
            self.define_guest(drvr)
            with mock.patch.object(
                    libvirt_driver.LibvirtDriver, '_live_migration_monitor'):
                result = outcome(drvr.live_migration, self.context,
                                 self.instance, 'dest', mock.Mock(),
                                 mock.Mock(), block_migration=False,
                                 migrate_data=self.migrate_data(False))
            return result, self.get_by_uuid.call_count
        results = self.both(scenario)
        self.assertEqual((('returned', None), 0), results[NOVA])
        # Nova's live_migration reads nothing. The V2V driver needs to
        # know whether the move is a V2V cutover, which the source's
        # pre-check decided after the conductor serialised this instance:
        # when the pre-check ran in this process (always, unless the
        # service restarted in between) it knows without a read
        # (tests.unit.virt.test_driver.NovaParityTestCase.
        # test_live_migration_after_the_pre_check_reads_nothing); here no
        # pre-check ran, and it reads the record once, in live_migration.
        self.assertEqual((('returned', None), 1), results[V2V],
                         'Instance.get_by_uuid calls')

    def test_monitor_failure_aborts_the_job(self):
        results = self._live_migration(
            monitor_error=RuntimeError('monitor failed'))
        self.assertEqual(('raised', RuntimeError, 'monitor failed'),
                         results[NOVA][0])
        self.assertEqual(1, results[NOVA][1])
        self.assertSameAsNova(results, 'monitor failure')

    def test_migrate_failure_aborts_the_job_and_is_raised(self):
        error = fakelibvirt.make_libvirtError(
            fakelibvirt.libvirtError, 'migration failed',
            error_code=fakelibvirt.VIR_ERR_OPERATION_FAILED)
        results = self._live_migration(migrate_error=error)
        self.assertEqual('raised', results[NOVA][0][0])
        self.assertEqual(1, results[NOVA][1])
        self.assertSameAsNova(results, 'migration thread failure')


class NoProfilePeerTestCase(_NeverWorseBase):
    """A peer that publishes no V2V profile (a rolling upgrade)."""

    # A compute node of plain Nova: its stats have no v2v_* key.
    PLAIN_STATS = {'num_instances': '1', 'num_vm_active': '1',
                   'num_task_None': '1', 'io_workload': '0'}

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, '_compare_cpu'))
        self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, '_create_shared_storage_test_file',
            return_value='probe-file'))
        self.compute_info = {
            'cpu_info': '{}', 'disk_available_least': 100,
            'free_disk_gb': 100, 'stats': dict(self.PLAIN_STATS)}

    def _dest_check(self, drvr, block_migration=None):
        self.define_guest(drvr)
        return outcome(drvr.check_can_live_migrate_destination,
                       self.context, self.instance,
                       copy.deepcopy(self.compute_info),
                       copy.deepcopy(self.compute_info),
                       block_migration=block_migration,
                       disk_over_commit=False)

    def _source_check(self, drvr, shared, block_migration=None):
        self.define_guest(drvr)
        data = objects.LibvirtLiveMigrateData(
            filename='probe-file', image_type='default',
            graphics_listen_addr_vnc='127.0.0.1',
            graphics_listen_addr_spice='127.0.0.1',
            serial_listen_addr=None, disk_available_mb=100 * 1024,
            dst_wants_file_backed_memory=False,
            dst_cpu_shared_set_info=set())
        if block_migration is not None:
            data.block_migration = block_migration
        disk = os.path.join(self.instances_path, self.instance.uuid, 'disk')
        with mock.patch.object(
                libvirt_driver.LibvirtDriver,
                '_check_shared_storage_test_file', return_value=shared), \
                mock.patch.object(
                    libvirt_driver.LibvirtDriver, '_is_shared_block_storage',
                    return_value=False), \
                mock.patch.object(
                    libvirt_driver.LibvirtDriver, '_get_instance_disk_info',
                    return_value=[{'path': disk, 'type': 'qcow2',
                                   'virt_disk_size': 1 << 30,
                                   'disk_size': 1 << 20,
                                   'backing_file': '',
                                   'over_committed_disk_size': 0}]):
            return outcome(drvr.check_can_live_migrate_source,
                           self.context, self.instance, data)

    def _compare(self, scenario, what):
        results = self.both(scenario)
        self.assertEqual('returned', results[NOVA][0])
        self.assertSameAsNova(
            {k: (r[0], primitive(r[1])) + r[2:] for k, r in results.items()},
            what)

    def test_destination_check_from_a_source_without_profile(self):
        self._compare(self._dest_check, 'destination pre-check')

    def test_destination_check_block_migration_requested(self):
        self._compare(lambda d: self._dest_check(d, block_migration=True),
                      'destination pre-check, block migration')

    def test_source_check_to_a_destination_without_profile_shared(self):
        self._compare(lambda d: self._source_check(d, shared=True),
                      'source pre-check, shared storage')

    def test_source_check_to_a_destination_without_profile_local(self):
        self._compare(lambda d: self._source_check(d, shared=False),
                      'source pre-check, local storage')

    def test_source_check_explicit_block_migration(self):
        self._compare(
            lambda d: self._source_check(d, shared=False,
                                         block_migration=True),
            'source pre-check, explicit block migration')

    def test_pre_checks_read_no_instance_from_the_database(self):
        def scenario(drvr):
            self.get_by_uuid.reset_mock()
            self._dest_check(drvr)
            self._source_check(drvr, shared=False)
            return self.get_by_uuid.call_count
        results = self.both(scenario)
        self.assertEqual(0, results[NOVA])
        self.assertSameAsNova(results, 'Instance.get_by_uuid calls')

    def _filtered(self, source_stats):
        """The hosts V2VMigrationFilter passes for a live migration."""
        source_node = objects.ComputeNode(
            host='src', hypervisor_hostname='src', hypervisor_version=7002000,
            stats=source_stats)
        mapping = objects.InstanceMapping(
            instance_uuid=self.instance.uuid,
            cell_mapping=objects.CellMapping(
                uuid=uuids.cell, database_connection='x', transport_url='x'))
        self.useFixture(fixtures.MockPatchObject(
            objects.InstanceMapping, 'get_by_instance_uuid',
            return_value=mapping))
        self.useFixture(fixtures.MockPatchObject(
            objects.ComputeNodeList, 'get_all_by_host',
            return_value=[source_node]))
        self.useFixture(fixtures.MockPatch('nova.context.target_cell'))
        spec = objects.RequestSpec(instance_uuid=self.instance.uuid,
                                   scheduler_hints={})
        hosts = [scheduler_fakes.FakeHostState(
            'plain', 'plain', {'stats': dict(self.PLAIN_STATS)})]
        passed = filters.V2VMigrationFilter().filter_all(hosts, spec)
        return [h.host for h in passed]

    def test_scheduler_filter_passes_a_host_without_profile(self):
        # Neither end publishes a profile: Nova's own checks decide.
        self.assertEqual(['plain'], self._filtered(dict(self.PLAIN_STATS)))

    def test_scheduler_filter_passes_a_host_without_profile_from_v2v(self):
        # The source runs nova-v2v (what its driver publishes), the
        # candidate not yet.
        self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver,
            '_get_disk_over_committed_size_total', return_value=0))
        drvr = self.make_driver(V2V)
        self.define_guest(drvr)
        stats = dict(drvr.get_available_resource('src').get('stats', {}))
        self.assertTrue(any(k.startswith('v2v') for k in stats), stats)
        self.assertEqual(['plain'], self._filtered(stats))


class SameProfilePeersTestCase(_NeverWorseBase):
    """Pre-checks and migration between computes of the same profile."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, '_compare_cpu'))
        self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, '_create_shared_storage_test_file',
            return_value='probe-file'))
        self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver,
            '_get_disk_over_committed_size_total', return_value=0))
        # The unreadable definition: metadata an operator's tooling
        # attached to the guest, more elements than the V2V translator
        # accepts (it limits documents to 20,000), which libvirt and Nova
        # take as any other definition.
        tags = ''.join('<t:i n="%d"/>' % i for i in range(20001))
        path = os.path.join(self.instances_path, uuids.instance, 'disk')
        self.plain_xml = DOMAIN_XML % {
            'uuid': uuids.instance,
            'disk': FILE_DISK % {'format': 'qcow2', 'path': path},
            'extra': '', 'metadata': ''}
        self.unreadable_xml = DOMAIN_XML % {
            'uuid': uuids.instance,
            'disk': FILE_DISK % {'format': 'qcow2', 'path': path},
            'extra': '', 'metadata': (
                '<metadata><t:inventory xmlns:t="http://example.com/t">'
                '%s</t:inventory></metadata>' % tags)}

    def _as_host(self, name, block_migration):
        """Run what follows as compute ``name`` (same profile, own name)."""
        self.flags(host=name)
        # Local instance storage (block migration) or one shared store.
        self.flags(storage_id=('store-' + name if block_migration
                               else 'store-shared'), group='v2v')

    def _move(self, block_migration, xml):
        def scenario(drvr):
            self.get_by_uuid.reset_mock()
            calls = self.define_guest(drvr, xml=xml)
            self._as_host('src', block_migration)
            node = drvr.get_available_resource('src')
            info = {'cpu_info': '{}', 'disk_available_least': 100,
                    'free_disk_gb': 100,
                    'stats': jsonutils.loads(jsonutils.dumps(
                        node.get('stats', {})))}
            steps = []
            # A destination of the same profile as the source (the same
            # libvirt, QEMU and options under another name).
            self._as_host('dest', block_migration)
            dest = outcome(drvr.check_can_live_migrate_destination,
                           self.context, self.instance, info, info,
                           block_migration=block_migration,
                           disk_over_commit=False)
            self._as_host('src', block_migration)
            steps.append(dest[:1] + dest[2:])
            if dest[0] != 'returned':
                return steps, calls.mock_calls
            disk = os.path.join(self.instances_path, self.instance.uuid,
                                'disk')
            with mock.patch.object(
                    libvirt_driver.LibvirtDriver,
                    '_check_shared_storage_test_file',
                    return_value=not block_migration), \
                    mock.patch.object(
                        libvirt_driver.LibvirtDriver,
                        '_is_shared_block_storage', return_value=False), \
                    mock.patch.object(
                        libvirt_driver.LibvirtDriver,
                        '_get_instance_disk_info',
                        return_value=[{'path': disk, 'type': 'qcow2',
                                       'virt_disk_size': 1 << 30,
                                       'disk_size': 1 << 20,
                                       'backing_file': '',
                                       'over_committed_disk_size': 0}]):
                source = outcome(drvr.check_can_live_migrate_source,
                                 self.context, self.instance, dest[1])
            steps.append(source[:1] + source[2:])
            # Nova's pre-checks use the instance they are given.
            steps.append(('pre-check instance reads',
                          self.get_by_uuid.call_count))
            if source[0] != 'returned':
                return steps, calls.mock_calls
            # What the destination's pre_live_migration adds.
            data = source[1]
            data.target_connect_addr = None
            data.serial_listen_ports = []
            data.bdms = []
            guest = drvr._host.get_guest(self.instance)
            op = outcome(drvr._live_migration_operation, self.context,
                         self.instance, 'dest', block_migration, data,
                         guest, ['vda'] if block_migration else [])
            steps.append(op)
            return steps, calls.mock_calls
        results = self.both(scenario)
        self.assertEqual([('returned',), ('returned',),
                          ('pre-check instance reads', 0),
                          ('returned', None)], results[NOVA][0])
        return results

    def test_live_migration(self):
        self.assertSameAsNova(self._move(False, self.plain_xml),
                              'live migration')

    def test_block_migration(self):
        self.assertSameAsNova(self._move(True, self.plain_xml),
                              'block migration')

    def test_live_migration_unreadable_definition(self):
        self.assertSameAsNova(self._move(False, self.unreadable_xml),
                              'live migration of an unreadable definition')

    def test_block_migration_unreadable_definition(self):
        self.assertSameAsNova(self._move(True, self.unreadable_xml),
                              'block migration of an unreadable definition')


class ColdMoveTestCase(_NeverWorseBase):
    """A resize or cold migration that needs no conversion is Nova's own.

    Nova's ``migrate_disk_and_power_off`` and ``finish_migration`` are
    replaced by recorders: the V2V driver must call them with what it was
    given and return what they return, read no disk of the guest itself
    (Nova's reads them, as it needs, inside), and refuse nothing.
    """

    DISK_INFO = '[{"path": "disk", "type": "qcow2"}]'

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver,
            '_get_disk_over_committed_size_total', return_value=0))
        # The guest's disks as Nova reads them (local files, LVM volumes);
        # the reads are counted, and done for real.
        self.disk_reads = []
        real = libvirt_driver.LibvirtDriver._get_instance_disk_info

        def counted(drvr, instance, block_device_info):
            self.disk_reads.append(instance.uuid)
            return real(drvr, instance, block_device_info)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver._get_instance_disk_info',
            counted))
        # What the host publishes, whatever the backend (no rados, no LVM
        # tools here).
        self.useFixture(fixtures.MockPatchObject(
            libvirt_driver.LibvirtDriver, '_get_local_gb_info',
            return_value={'total': 100, 'used': 10, 'free': 90}))
        self.migration = objects.Migration(
            id=1, instance_uuid=uuids.instance, source_compute='src',
            source_node='src', dest_compute='dest', dest_node='dest',
            dest_host='192.0.2.20', migration_type='resize',
            status='migrating')
        self.useFixture(fixtures.MockPatchObject(
            objects.Migration, 'get_by_instance_and_status',
            return_value=self.migration))

    def _flags(self, images_type):
        self.flags(images_type=images_type, images_rbd_pool='vms',
                   images_volume_group='nova-vg', group='libvirt')

    def _move(self, images_type, flavor=None, extra=''):
        self._flags(images_type)
        disk_xml, fmt = BACKENDS[images_type]
        path = os.path.join(self.instances_path, uuids.instance, 'disk')
        disk = disk_xml % {'format': fmt, 'path': path,
                           'uuid': uuids.instance}
        if flavor is not None:
            self.instance = self._instance(flavor=flavor)
        new_flavor = objects.Flavor(**{
            k: getattr(self.instance.flavor, k) for k in (
                'id', 'name', 'memory_mb', 'vcpus', 'root_gb',
                'ephemeral_gb', 'flavorid', 'swap', 'extra_specs')})
        new_flavor.memory_mb *= 2

        def scenario(drvr):
            del self.disk_reads[:]
            self.define_guest(drvr, disk=disk, extra=extra)
            # The destination is a compute of the same profile: what this
            # one publishes.
            stats = drvr.get_available_resource('src').get('stats', {})
            node = objects.ComputeNode(host='dest', hypervisor_hostname='dest',
                                       stats=dict(stats))
            steps = []
            with mock.patch.object(
                    objects.ComputeNode, 'get_by_host_and_nodename',
                    return_value=node), \
                    mock.patch.object(
                        libvirt_driver.LibvirtDriver,
                        'migrate_disk_and_power_off',
                        return_value=self.DISK_INFO) as nova_mdpo, \
                    mock.patch.object(
                        libvirt_driver.LibvirtDriver,
                        'finish_migration', return_value=None) as nova_finish:
                steps.append(outcome(
                    drvr.migrate_disk_and_power_off, self.context,
                    self.instance, '192.0.2.20', new_flavor, [],
                    block_device_info=None, timeout=0, retry_interval=0))
                steps.append(bound_primitive(
                    NOVA_MIGRATE_DISK_AND_POWER_OFF,
                    nova_mdpo.call_args_list))
                steps.append(outcome(
                    drvr.finish_migration, self.context, self.migration,
                    self.instance, self.DISK_INFO, [],
                    objects.ImageMeta.from_dict({}), True, {},
                    block_device_info=None, power_on=True))
                steps.append(bound_primitive(NOVA_FINISH_MIGRATION,
                                             nova_finish.call_args_list))
            steps.append(('disk reads', len(self.disk_reads)))
            return steps
        results = self.both(scenario)
        self.assertEqual(('returned', self.DISK_INFO), results[NOVA][0])
        self.assertEqual(1, len(results[NOVA][1]))
        self.assertEqual(1, len(results[NOVA][3]))
        self.assertEqual(('disk reads', 0), results[NOVA][4])
        return results

    def test_resize_default_backend(self):
        self.assertSameAsNova(self._move('default'), 'resize, default')

    def test_resize_qcow2(self):
        self.assertSameAsNova(self._move('qcow2'), 'resize, qcow2')

    def test_resize_raw(self):
        self.assertSameAsNova(self._move('raw'), 'resize, raw')

    def test_resize_flat(self):
        self.assertSameAsNova(self._move('flat'), 'resize, flat')

    def test_resize_rbd(self):
        self.assertSameAsNova(self._move('rbd'), 'resize, rbd')

    def test_resize_lvm(self):
        self.assertSameAsNova(self._move('lvm'), 'resize, lvm')

    def test_resize_vtpm_guest(self):
        flavor = objects.Flavor(
            id=2, name='vtpm', memory_mb=256, vcpus=1, root_gb=1,
            ephemeral_gb=0, flavorid='2', swap=0, rxtx_factor=1.0,
            vcpu_weight=1, disabled=False, is_public=True, projects=[],
            extra_specs={'hw:tpm_version': '2.0',
                         'hw:tpm_model': 'tpm-tis'})
        self.assertSameAsNova(self._move('default', flavor=flavor,
                                         extra=VTPM),
                              'resize, vTPM guest')
