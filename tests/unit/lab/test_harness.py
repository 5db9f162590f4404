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

"""nova_v2v_rig.lab.harness: what the lab's live and V2V moves share."""

import os
from unittest import mock

import fixtures
import libvirt
import testtools

from nova_v2v_rig.lab import harness
from nova_v2v_rig.lab import hosts


class TestWaiting(testtools.TestCase):

    def test_wait_for_returns_once_true(self):
        answers = iter([False, False, True])
        harness.wait_for(lambda: next(answers), 5, 'x', interval=0)

    def test_wait_for_times_out_with_what(self):
        exc = self.assertRaises(harness.LabMigrationError, harness.wait_for,
                                lambda: False, 0.05, 'the guest',
                                interval=0.01)
        self.assertIn('waiting for the guest', str(exc))

    def test_median_period_in_ms(self):
        acks = [(1, 10.0, 0), (2, 10.2, 0), (3, 10.5, 0), (4, 10.6, 0)]
        self.assertEqual(200.0, harness.median_period(acks))
        self.assertIsNone(harness.median_period(acks[:1]))


class TestLogs(testtools.TestCase):

    def test_read_log_of_a_missing_file_is_empty(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        self.assertEqual('', harness.read_log(os.path.join(tmp, 'none')))
        path = os.path.join(tmp, 'serial.log')
        with open(path, 'wb') as f:
            f.write(b'W 1 2\n\xff')
        self.assertEqual('W 1 2\n\ufffd', harness.read_log(path))


class TestGuest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lab = hosts.Lab(
            state_dir=self.useFixture(fixtures.TempDir()).path)

    def test_new_guest_paths(self):
        paths = harness.new_guest(self.lab, 'block', hosts.INSTANCES_PATH)
        self.assertTrue(paths.name.startswith('lab-block-'))
        self.assertEqual(os.path.join(hosts.INSTANCES_PATH, paths.uuid),
                         paths.instance_dir)
        self.assertEqual(os.path.join(paths.instance_dir, 'disk'),
                         paths.disk)
        self.assertEqual(set(hosts.HOSTS), set(paths.serial))
        for host, path in paths.serial.items():
            self.assertEqual(self.lab.root_path(host, paths.serial_inside),
                             path)

    def test_cleanup_and_leftovers(self):
        inst_dir = os.path.join(hosts.INSTANCES_PATH, 'uuid')
        root = self.lab.root_path('a', inst_dir)
        os.makedirs(root)
        open(os.path.join(root, 'disk'), 'w').close()
        dom = mock.Mock()
        dom.name.return_value = 'lab-x'
        conn = mock.Mock()
        conn.listAllDomains.return_value = [dom]
        conn.lookupByName.return_value = dom
        self.assertEqual([os.path.join(root, 'disk'), 'domain:lab-x'],
                         harness.host_leftovers(self.lab, 'a', conn, 'lab-x',
                                                inst_dir))
        self.assertEqual(['domain:lab-x'], harness.host_leftovers(
            self.lab, 'a', conn, 'lab-x', inst_dir, files=False))
        harness.cleanup(self.lab, (conn,), 'lab-x', inst_dir)
        dom.destroy.assert_called_once_with()
        dom.undefine.assert_called_once_with()
        self.assertFalse(os.path.exists(root))

    @mock.patch.object(harness, 'fill_disk',
                       side_effect=RuntimeError('no qemu-io'))
    def test_a_failed_fill_leaves_nothing(self, fill):
        conn = mock.Mock()
        conn.lookupByName.side_effect = libvirt.libvirtError('none')
        with mock.patch.object(harness, 'cleanup') as cleanup:
            self.assertRaises(RuntimeError, harness.fill_or_clean, self.lab,
                              (conn,), 'lab-x', '/inst', '/d', 'qcow2', 1)
        cleanup.assert_called_once_with(self.lab, (conn,), 'lab-x', '/inst')
        conn.close.assert_called_once_with()

    def test_shutdown_destroys_a_guest_that_stays_on(self):
        dom = mock.Mock()
        dom.isActive.return_value = True
        with mock.patch.object(harness.time, 'sleep'):
            self.assertFalse(harness.shutdown(dom, timeout=0.01))
        dom.shutdown.assert_called_once_with()
        dom.destroy.assert_called_once_with()

    def test_shutdown_clean(self):
        dom = mock.Mock()
        dom.isActive.return_value = False
        self.assertTrue(harness.shutdown(dom))
        dom.destroy.assert_not_called()

    def test_domain_type(self):
        dom = mock.Mock()
        dom.XMLDesc.return_value = "<domain type='qemu'><name/></domain>"
        self.assertEqual('qemu', harness.domain_type(dom))
