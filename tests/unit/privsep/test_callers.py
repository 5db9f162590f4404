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

"""The callers of nova_v2v.privsep.path: same behaviour, now confined."""

import os
from unittest import mock

import fixtures
from nova import objects
from nova import test
from nova.virt import fake
from oslo_serialization import jsonutils
from oslo_utils.fixture import uuidsentinel as uuids
import testtools

from nova_v2v import exception as v2v_exception
from nova_v2v.planning import planner
from nova_v2v.storage import disks
from nova_v2v.storage import leftovers
from nova_v2v.transfer import offline
from nova_v2v.virt.libvirt import driver
from nova_v2v_rig.lab import engine
from tests import v2v_fixtures


class _Tree(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tree = self.useFixture(v2v_fixtures.InstanceTree())
        self.tmp, self.root = tree.tmp, tree.root
        self.outside, self.victim = tree.outside, tree.victim
        self.execute = self.useFixture(fixtures.MockPatch(
            'oslo_concurrency.processutils.execute',
            return_value=('', ''))).mock

    def _spy(self, name):
        from nova_v2v.privsep import path as priv_path
        real = getattr(priv_path, name)
        return self.useFixture(fixtures.MockPatchObject(
            priv_path, name, side_effect=real)).mock


class TestPrecreate(_Tree):

    def test_leftover_replaced_dirs_made_through_privsep(self):
        unlink = self._spy('unlink')
        makedirs = self._spy('makedirs')
        leftover = os.path.join(self.root, 'uuid', 'disk')
        open(leftover, 'w').close()
        with mock.patch.object(disks, 'in_use', return_value=False):
            path = disks.precreate(self.root, 'uuid/disk', 'qcow2', 1024)
        self.assertEqual(leftover, path)
        self.assertFalse(os.path.exists(leftover))
        unlink.assert_called_once_with(self.root, 'uuid/disk')
        makedirs.assert_called_once_with(self.root, 'uuid')
        self.execute.assert_called_once_with(
            'qemu-img', 'create', '-q', '-f', 'qcow2', leftover, '1024')

    def test_new_directory(self):
        path = disks.precreate(self.root, os.path.join(
            self.root, 'new', 'disk'), 'raw', 1)
        self.assertTrue(os.path.isdir(os.path.join(self.root, 'new')))
        self.assertEqual(os.path.join(self.root, 'new', 'disk'), path)

    def test_directly_under_root(self):
        makedirs = self._spy('makedirs')
        disks.precreate(self.root, 'disk', 'raw', 1)
        makedirs.assert_not_called()

    def test_in_use_kept(self):
        leftover = os.path.join(self.root, 'uuid', 'disk')
        open(leftover, 'w').close()
        with mock.patch.object(disks, 'in_use', return_value=True):
            self.assertRaises(disks.DiskInUse, disks.precreate, self.root,
                              'uuid/disk', 'raw', 1)
        self.assertTrue(os.path.exists(leftover))

    def test_escape_refused(self):
        self.assertRaises(disks.PathEscape, disks.precreate, self.root,
                          '../elsewhere/victim', 'raw', 1)
        self.assertTrue(os.path.exists(self.victim))
        self.execute.assert_not_called()


class TestClearInstanceDir(_Tree):

    def test_through_privsep(self):
        remove_tree = self._spy('remove_tree')
        inst = os.path.join(self.root, 'uuid')
        with mock.patch.object(disks, 'in_use', return_value=False):
            self.assertTrue(leftovers.clear_instance_dir(self.root, inst))
        remove_tree.assert_called_once_with(self.root, inst)
        self.assertFalse(os.path.exists(inst))

    def test_symlink_to_outside_refused(self):
        link = os.path.join(self.root, 'other')
        os.symlink(self.outside, link)
        with mock.patch.object(disks, 'in_use', return_value=False):
            self.assertRaises(disks.PathEscape, leftovers.clear_instance_dir,
                              self.root, link)
        self.assertTrue(os.path.exists(self.victim))


class TestDestinationDisks(_Tree):

    def _dest(self, root):
        disk = planner.DiskPlan('/inst/uuid/new/disk', 'raw', 'raw', 1)
        return engine.DestinationDisks(
            [disk], '/inst',
            lambda p: root + p[len('/inst'):])

    def test_precreate_and_remove(self):
        dest = self._dest(self.root)
        created = dest.precreate()
        self.assertEqual([os.path.join(self.root, 'uuid/new/disk')], created)
        open(created[0], 'w').close()
        dest.remove()
        self.assertFalse(os.path.exists(created[0]))
        self.assertFalse(os.path.exists(os.path.join(self.root, 'uuid/new')))
        self.assertEqual(([], []), (dest.created, dest.created_dirs))

    def test_symlinked_root(self):
        alias = os.path.join(self.tmp, 'alias')
        os.symlink(self.root, alias)
        dest = self._dest(alias)
        created = dest.precreate()
        open(created[0], 'w').close()
        dest.remove()
        self.assertFalse(os.path.exists(created[0]))

    def test_escapes_logged_not_removed(self):
        dest = self._dest(self.root)
        dest.created = [self.victim]
        dest.created_dirs = [self.outside]
        dest.remove()
        self.assertTrue(os.path.exists(self.victim))
        self.assertEqual(([], []), (dest.created, dest.created_dirs))

    def test_below(self):
        alias = os.path.join(self.tmp, 'alias')
        os.symlink(self.root, alias)
        real = os.path.join(self.root, 'uuid', 'disk')
        self.assertEqual('uuid/disk', engine.below(alias, real))
        self.assertEqual(real, engine.below(self.root, real))
        self.assertEqual(os.path.join(alias, 'x'),
                         engine.below(alias, os.path.join(alias, 'x')))
        self.assertEqual(self.victim, engine.below(alias, self.victim))


class TestRunOfflineDirs(_Tree):

    def test_destination_dir_made_through_privsep(self):
        makedirs = self._spy('makedirs')
        dom = mock.Mock()
        dom.name.return_value = 'guest'
        dom.isActive.return_value = False
        dom.XMLDesc.return_value = '<domain/>'
        src = os.path.join(self.tmp, 'src-disk')
        with open(src, 'w') as f:
            f.write('data')
        # The disk keeps its path on the destination; this process reads
        # the source's copy at src.
        disk = planner.DiskPlan(os.path.join(self.root, 'b', 'disk'),
                                'raw', 'raw', 4)
        copied = []

        def copy(source, sfmt, dest, dfmt):
            copied.append(dest)
            open(dest, 'w').close()

        clone = mock.Mock()
        with mock.patch.object(engine.translate, 'translate_domain_xml',
                               return_value='<domain/>'), \
                mock.patch.object(engine.clone, 'start_clone',
                                  return_value=(clone, 0.0)):
            engine.run_offline(dom, mock.Mock(), [disk], [], self.root,
                               source_local_path=lambda path: src,
                               copy=copy)
        makedirs.assert_called_once_with(self.root,
                                         os.path.join(self.root, 'b'))
        self.assertEqual([os.path.join(self.root, 'b', 'disk')], copied)


class TestDriverConvertFailure(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.instances_path = self.useFixture(
            v2v_fixtures.FakeLibvirtHost()).instances_path
        self.drvr = driver.V2VLibvirtDriver(fake.FakeVirtAPI(), False)
        self.instance = objects.Instance(uuid=uuids.instance)
        self.inst_dir = os.path.join(self.instances_path, uuids.instance)
        os.makedirs(self.inst_dir)
        self.disk = os.path.join(self.inst_dir, 'disk')
        open(self.disk, 'w').close()

    def test_partial_result_removed_through_privsep(self):
        from nova_v2v.privsep import path as priv_path
        unlink = self.useFixture(fixtures.MockPatchObject(
            priv_path, 'unlink', side_effect=priv_path.unlink)).mock

        def failing_convert(source, sfmt, dest, dfmt, backing_dir=None):
            open(dest, 'w').close()
            raise RuntimeError('boom')

        plan = mock.Mock(disks=[mock.Mock(path=self.disk, source_format='raw',
                                          dest_format='qcow2')])
        info = jsonutils.dumps([{'path': self.disk, 'type': 'raw'}])
        with mock.patch.object(offline, 'convert_disk', failing_convert):
            self.assertRaises(v2v_exception.V2VOfflineMigrationFailed,
                              self.drvr.v2v_cold.convert_disks,
                              None, self.instance, plan, info)
        unlink.assert_called_once_with(self.instances_path,
                                       self.disk + '.v2v')
        self.assertFalse(os.path.exists(self.disk + '.v2v'))
        self.assertTrue(os.path.exists(self.disk))
