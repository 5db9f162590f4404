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

import testtools

from nova_v2v_rig.lab import demo
from nova_v2v_rig.lab import migrate


def _result(mode, **kwargs):
    result = {'mode': mode, 'dest_running': True, 'records_written': 40,
              'records_verified': 40, 'records_lost': 0, 'serial_gaps': [],
              'serial_repeats': [], 'log_ranges': [[1, 20], [21, 40]],
              'source_leftovers': [], 'source_hardware': 'virtio qcow2',
              'dest_hardware': 'virtio qcow2', 'bytes_moved': 3 * 1024 ** 2,
              'total_seconds': 2.5, 'downtime_ms_libvirt': 120,
              'downtime_ms_guest': 800.4}
    result.update(kwargs)
    return result


class TestDemoTable(testtools.TestCase):

    def test_passing(self):
        self.assertEqual([], demo.problems(_result('shared-live')))

    def test_unacked_allowed(self):
        self.assertEqual(0, migrate.unacked_allowed('shared-live'))
        self.assertEqual(0, migrate.unacked_allowed('block-live'))
        self.assertEqual(1, migrate.unacked_allowed('v2v-cutover'))
        self.assertEqual(1, migrate.unacked_allowed('offline'))

    def test_unacknowledged_record(self):
        # The source stopped between a record's write and its
        # acknowledgement: fine when the guest booted again from its disk,
        # not when a live migration carried it on.
        for mode in ('v2v-cutover', 'offline'):
            self.assertEqual([], demo.problems(_result(
                mode, serial_unacked=[21], log_ranges=[[1, 20], [22, 40]])))
        self.assertEqual(
            ['records written but not acknowledged [21, 30]'],
            demo.problems(_result('v2v-cutover', serial_unacked=[21, 30])))
        self.assertEqual(
            ['records written but not acknowledged [21]'],
            demo.problems(_result('block-live', serial_unacked=[21])))

    def test_problems(self):
        self.assertEqual(['2 records lost', 'only 38 of 40 records '
                          'verified'],
                         demo.problems(_result('block-live', records_lost=2,
                                               records_verified=38)))
        self.assertEqual(['LabMigrationError: boom'],
                         demo.problems({'mode': 'offline',
                                        'error': 'LabMigrationError: boom'}))
        self.assertIn('guest not running on host b', demo.problems(
            _result('offline', dest_running=False)))
        self.assertIn('the guest did not write on both hosts', demo.problems(
            _result('offline', log_ranges=[[1, 20], None])))

    def test_rows(self):
        live, cut, err = demo.rows([
            _result('shared-live'),
            _result('v2v-cutover', source_hardware='pvscsi+vmxnet3 vmdk',
                    bytes_moved=1536),
            {'mode': 'offline', 'error': 'boom'}])
        self.assertEqual('virtio qcow2 -> virtio qcow2', live['hardware'])
        self.assertEqual('3.0 MiB', live['bytes'])
        self.assertEqual('2.50 s', live['total'])
        self.assertEqual('120 ms (libvirt)', live['downtime'])
        self.assertEqual('ok', live['status'])
        self.assertEqual('pvscsi+vmxnet3 vmdk -> virtio qcow2',
                         cut['hardware'])
        self.assertEqual('1.5 KiB', cut['bytes'])
        self.assertEqual('800 ms (guest gap)', cut['downtime'])
        self.assertEqual('FAIL', err['status'])
        self.assertEqual('-', err['bytes'])

    def test_table(self):
        text = demo.table([_result('shared-live'),
                           {'mode': 'offline', 'error': 'boom'}])
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith('mode '), text)
        self.assertTrue(lines[1].startswith('----'), text)
        self.assertTrue(lines[2].startswith('shared-live '), text)
        self.assertTrue(lines[3].startswith('offline '), text)
        self.assertEqual('offline: boom', lines[-1])
