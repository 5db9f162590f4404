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

import os
from unittest import mock

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v.storage import disks
from nova_v2v.storage import leftovers
from tests import v2v_fixtures


class TestClearInstanceDir(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(v2v_fixtures.PrivsepFixture())
        self.root = self.useFixture(fixtures.TempDir()).path
        self.dir = os.path.join(self.root, 'uuid')
        os.makedirs(os.path.join(self.dir, 'sub'))
        for name in ('disk', 'disk.info', 'sub/disk.eph0'):
            with open(os.path.join(self.dir, name), 'w') as f:
                f.write('x')
        os.symlink('/etc/passwd', os.path.join(self.dir, 'link'))
        self.in_use = self.useFixture(fixtures.MockPatch(
            'nova_v2v.storage.disks.in_use', return_value=False)).mock

    def test_removed(self):
        self.assertTrue(leftovers.clear_instance_dir(self.root, self.dir))
        self.assertFalse(os.path.exists(self.dir))
        checked = sorted(c[0][0] for c in self.in_use.call_args_list)
        self.assertEqual(sorted(os.path.join(self.dir, n) for n in
                                ('disk', 'disk.info', 'sub/disk.eph0')),
                         checked)

    def test_in_use_kept(self):
        self.in_use.side_effect = lambda p: p.endswith('disk.eph0')
        e = self.assertRaises(disks.DiskInUse, leftovers.clear_instance_dir,
                              self.root, self.dir)
        self.assertIn('disk.eph0', str(e))
        self.assertTrue(os.path.exists(os.path.join(self.dir, 'disk')))

    def test_missing(self):
        self.assertFalse(leftovers.clear_instance_dir(
            self.root, os.path.join(self.root, 'other')))

    def test_outside_root_refused(self):
        self.assertRaises(disks.PathEscape, leftovers.clear_instance_dir,
                          self.root, '/etc')
        self.assertRaises(disks.PathEscape, leftovers.clear_instance_dir,
                          self.root, os.path.join(self.root, '..'))
        self.in_use.assert_not_called()


class TestInUse(testtools.TestCase):

    @mock.patch('oslo_concurrency.processutils.execute')
    def test_in_use_reads_qemu_lock_error(self, mock_exec):
        mock_exec.side_effect = processutils.ProcessExecutionError(
            stderr='Failed to get "write" lock')
        self.assertTrue(disks.in_use('/x'))
        mock_exec.side_effect = processutils.ProcessExecutionError(
            stderr='Could not open')
        self.assertFalse(disks.in_use('/x'))
        mock_exec.side_effect = None
        mock_exec.return_value = ('', '')
        self.assertFalse(disks.in_use('/x'))
        mock_exec.assert_called_with('qemu-io', '-f', 'raw', '-c', 'quit',
                                     '/x')
