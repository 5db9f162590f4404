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

"""The destination's exports: recorded before they start, and a retry's
leftover exports stopped before their directory is judged."""

import copy
import fnmatch
import os
import subprocess
import sys
import time
from unittest import mock

import fixtures
from nova import exception
from nova import objects
from nova import test
from oslo_concurrency import processutils
from oslo_serialization import jsonutils
from oslo_utils.fixture import uuidsentinel as uuids

from nova_v2v import exception as v2v_exception
from nova_v2v.planning import planner
from nova_v2v.transfer import nbd
from nova_v2v.virt.libvirt import cutover_dest
from nova_v2v.virt.libvirt import cutover_transfer
from nova_v2v.virt.libvirt import record as v2v_record
from tests import v2v_fixtures

SOURCE = {'addresses': ['192.0.2.1']}


class _Base(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(v2v_fixtures.PrivsepFixture())
        self.root = os.path.realpath(
            self.useFixture(fixtures.TempDir()).path)
        self.flags(instances_path=self.root, my_ip='192.0.2.2')
        self.instance = objects.Instance(uuid=uuids.instance,
                                         system_metadata={})
        self.dir = os.path.join(self.root, uuids.instance)
        self.data = objects.LibvirtLiveMigrateData(
            is_shared_instance_path=False,
            instance_relative_path=uuids.instance)
        self.nova = mock.Mock()
        self.nova.get_guest.side_effect = exception.InstanceNotFound(
            instance_id=uuids.instance)
        self.dest = cutover_dest.CutoverDestination(self.nova)


class ExportRecordTestCase(_Base):

    def setUp(self):
        super().setUp()
        os.makedirs(self.dir)
        plan = planner.MigrationPlan(
            mode=planner.V2V_CUTOVER, source_host='src', dest_host='dest',
            source_accel='kvm', dest_accel='tcg', block_migration=True,
            disks=(planner.DiskPlan('/i/u/disk', 'vmdk', 'qcow2', 10),
                   planner.DiskPlan('/i/u/disk.eph0', 'raw', 'raw', 10)))
        # The instance as the database holds it; each save is kept.
        self.db_instance = objects.Instance(
            uuid=uuids.instance,
            system_metadata={v2v_record.SYSMETA_PLAN: plan.to_json()})
        self.saved = []
        self.useFixture(fixtures.MockPatchObject(
            self.db_instance, 'save', side_effect=lambda: self.saved.append(
                copy.deepcopy(dict(self.db_instance.system_metadata)))))
        self.useFixture(fixtures.MockPatchObject(
            objects.Instance, 'get_by_uuid',
            side_effect=lambda *a, **k: self.db_instance))
        self.record = v2v_record.MigrationRecord.current(None, self.instance)
        self.record.set_source_peer(SOURCE)
        self.disk_info = jsonutils.dumps([
            {'path': '/i/u/disk', 'type': 'qcow2'},
            {'path': '/i/u/disk.eph0', 'type': 'raw'},
            {'path': '/i/u/disk.config', 'type': 'raw'}])
        # What the database held when each qemu-nbd was started.
        self.at_start = []
        self.start_fails = False

        def execute(*cmd):
            self.at_start.append(self.database())
            if self.start_fails:
                raise processutils.ProcessExecutionError(
                    stderr='qemu-nbd: Failed to blk_new_open')
            with open(cmd[cmd.index('--pid-file') + 1], 'w') as f:
                f.write('4242\n')
            return '', ''
        self.useFixture(fixtures.MockPatch(
            'oslo_concurrency.processutils.execute', side_effect=execute))

    def database(self):
        """(phase, export records) as last saved."""
        sysmeta = self.saved[-1] if self.saved else {}
        record = v2v_record.MigrationRecord(None, self.instance, {
            key: v2v_record.sysmeta_get(sysmeta, key)
            for key in v2v_record.KEYS})
        return record.phase[0], record.exports

    def _export(self):
        self.dest.export(self.instance, self.record, self.disk_info,
                         self.data)

    def test_exported_recorded_with_pid_files_before_any_start(self):
        self._export()
        pid_files = [os.path.join(self.dir, 'v2v-nbd-0.pid'),
                     os.path.join(self.dir, 'v2v-nbd-1.pid')]
        phase, records = self.at_start[0]
        self.assertEqual(v2v_record.EXPORTED, phase)
        self.assertEqual(pid_files, [r['pid_file'] for r in records])
        self.assertNotIn('port', records[0])
        # Then the records of the running exports, for the source.
        phase, records = self.database()
        self.assertEqual(v2v_record.EXPORTED, phase)
        self.assertEqual(pid_files, [r['pid_file'] for r in records])
        self.assertEqual([10810, 10811], [r['port'] for r in records])
        self.assertEqual(records, self.record.exports)

    def test_failed_start_leaves_the_pid_files_recorded(self):
        self.start_fails = True
        self.assertRaises(v2v_exception.V2VCutoverFailed, self._export)
        phase, records = self.database()
        self.assertEqual(v2v_record.EXPORTED, phase)
        self.assertEqual(os.path.join(self.dir, 'v2v-nbd-0.pid'),
                         records[0]['pid_file'])

    def test_nothing_starts_when_the_phase_cannot_be_recorded(self):
        self.db_instance.save.side_effect = exception.InstanceNotFound(
            instance_id=uuids.instance)
        self.assertRaises(exception.InstanceNotFound, self._export)
        self.assertEqual([], self.at_start)

    def test_planned_records_are_those_the_exports_start_with(self):
        wanted = [('/i/u/disk', 'qcow2'), ('/i/u/disk.eph0', 'raw')]
        planned = cutover_dest.planned_exports(self.instance, wanted,
                                               self.dir)
        started = cutover_transfer.DestinationHalf.export(
            self.instance, wanted, self.dir, source=SOURCE)
        keys = ('path', 'format', 'name', 'pid_file', 'source_path')
        self.assertEqual([{k: r[k] for k in keys} for r in started],
                         planned)
        for record in planned:
            self.assertTrue(fnmatch.fnmatch(
                os.path.basename(record['pid_file']),
                cutover_transfer.NBD_PID_GLOB))


class ClearLeftoverTestCase(_Base):

    def setUp(self):
        super().setUp()
        os.makedirs(self.dir)
        self.disk = os.path.join(self.dir, 'disk')
        with open(self.disk, 'w') as f:
            f.write('partial copy')
        self.pid_file = os.path.join(self.dir, 'v2v-nbd-0.pid')
        self.process = None
        # The disk is in use while the process of its export runs (the
        # image lock qemu-nbd holds).
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.storage.disks.in_use',
            side_effect=lambda path: (path == self.disk and
                                      self.process is not None and
                                      self.process.poll() is None)))

    def _export_running(self, named=True):
        """A process standing for the export an earlier attempt left.

        ``named``: its command line names the pid file, as qemu-nbd's
        ``--pid-file`` does.
        """
        args = [sys.executable, '-c', 'import time; time.sleep(60)']
        if named:
            args += ['--pid-file', self.pid_file]
        self.process = subprocess.Popen(args)
        self.addCleanup(self._reap)
        # Once it runs its program (as qemu-nbd writes its pid file).
        deadline = time.monotonic() + 10
        while not nbd.cmdline_has(self.process.pid, 'time.sleep'):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        with open(self.pid_file, 'w') as f:
            f.write('%d\n' % self.process.pid)

    def _reap(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def test_running_export_stopped_then_leftover_replaced(self):
        self._export_running()
        self.dest.clear_leftover(self.instance, self.data)
        self.process.wait(timeout=10)
        self.assertFalse(os.path.exists(self.dir))

    def test_process_not_of_the_export_left_alone(self):
        # A pid reused since: not stopped, the directory is in use.
        self._export_running(named=False)
        self.dest.clear_leftover(self.instance, self.data)
        self.assertIsNone(self.process.poll())
        self.assertTrue(os.path.exists(self.disk))

    def test_domain_defined_here_keeps_its_exports(self):
        self._export_running()
        self.nova.get_guest.side_effect = None
        self.dest.clear_leftover(self.instance, self.data)
        self.assertIsNone(self.process.poll())
        self.assertTrue(os.path.exists(self.pid_file))

    def test_stopping_fails_directory_judged_as_before(self):
        self._export_running()
        self.useFixture(fixtures.MockPatchObject(
            nbd, 'stop_pid_file', side_effect=OSError('EPERM')))
        self.dest.clear_leftover(self.instance, self.data)
        self.assertIsNone(self.process.poll())
        self.assertTrue(os.path.exists(self.disk))
