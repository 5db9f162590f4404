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

"""nova_v2v.privsep.path on real directory trees, run in-process."""

import os
import stat
import subprocess
import sys
from unittest import mock

import fixtures
from oslo_privsep import capabilities as caps
import testtools

from nova_v2v import paths
import nova_v2v.privsep
from nova_v2v.privsep import path as priv_path
from tests import v2v_fixtures


class _Tree(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tree = self.useFixture(v2v_fixtures.InstanceTree())
        self.tmp, self.root, self.inst = tree.tmp, tree.root, tree.inst
        self.outside, self.victim = tree.outside, tree.victim
        os.makedirs(os.path.join(self.inst, 'sub'))
        self.disk = self._file(self.inst, 'disk')

    @staticmethod
    def _file(directory, name):
        path = os.path.join(directory, name)
        with open(path, 'w') as f:
            f.write('x')
        return path

    def assertOutsideIntact(self):
        self.assertTrue(os.path.isfile(self.victim))


class TestEntrypoints(_Tree):

    def test_all_are_entrypoints(self):
        for func in (priv_path.unlink, priv_path.rmdir, priv_path.remove_tree,
                     priv_path.makedirs):
            self.assertTrue(
                nova_v2v.privsep.sys_admin_pctxt.is_entrypoint(func), func)

    def test_capabilities(self):
        self.assertEqual((caps.CAP_CHOWN, caps.CAP_DAC_OVERRIDE),
                         nova_v2v.privsep.CAPABILITIES)
        self.assertEqual('nova_v2v.privsep.sys_admin_pctxt',
                         nova_v2v.privsep.sys_admin_pctxt.pypath)

    def test_capabilities_are_the_daemons_default(self):
        # In a fresh interpreter: Nova's test base resets cfg.CONF's
        # defaults (set_default included) after each test in this one.
        out = subprocess.check_output(
            [sys.executable, '-c',
             'import nova_v2v.privsep as p; '
             'print(p.sys_admin_pctxt.conf.capabilities)'],
            env=dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1'))
        self.assertEqual(str([caps.CAP_CHOWN, caps.CAP_DAC_OVERRIDE]),
                         out.decode().strip())

    def test_confined_inside_the_privileged_function(self):
        # The check runs in the function the daemon executes, not only in
        # the callers.
        with mock.patch.object(paths, 'confine',
                               side_effect=paths.PathEscape('no')) as c:
            self.assertRaises(paths.PathEscape, priv_path.unlink,
                              self.root, 'uuid/disk')
        c.assert_called_once_with(self.root, 'uuid/disk')
        self.assertTrue(os.path.exists(self.disk))


class TestUnlink(_Tree):

    def test_relative_and_absolute(self):
        priv_path.unlink(self.root, 'uuid/disk')
        self.assertFalse(os.path.lexists(self.disk))
        other = self._file(self.inst, 'disk.eph0')
        priv_path.unlink(self.root, other)
        self.assertFalse(os.path.lexists(other))

    def test_missing_is_file_not_found(self):
        self.assertRaises(FileNotFoundError, priv_path.unlink, self.root,
                          'uuid/none')
        self.assertRaises(FileNotFoundError, priv_path.unlink, self.root,
                          'nodir/disk')

    def test_directory_refused(self):
        self.assertRaises(IsADirectoryError, priv_path.unlink, self.root,
                          'uuid/sub')

    def test_dotdot_refused(self):
        self.assertRaises(paths.PathEscape, priv_path.unlink, self.root,
                          '../elsewhere/victim')
        self.assertRaises(paths.PathEscape, priv_path.unlink, self.root,
                          self.root + '/uuid/../../elsewhere/victim')
        self.assertOutsideIntact()

    def test_absolute_elsewhere_refused(self):
        self.assertRaises(paths.PathEscape, priv_path.unlink, self.root,
                          self.victim)
        self.assertOutsideIntact()

    def test_symlinked_dir_leaving_root_refused(self):
        os.symlink(self.outside, os.path.join(self.inst, 'link'))
        self.assertRaises(paths.PathEscape, priv_path.unlink, self.root,
                          'uuid/link/victim')
        self.assertOutsideIntact()

    def test_symlink_final_component_refused(self):
        link = os.path.join(self.inst, 'disk.link')
        os.symlink(self.victim, link)
        self.assertRaises(paths.PathEscape, priv_path.unlink, self.root,
                          'uuid/disk.link')
        self.assertTrue(os.path.islink(link))
        self.assertOutsideIntact()

    def test_symlink_swapped_in_after_the_check_not_followed(self):
        # The directory is replaced by a symlink between confine() and the
        # walk: O_NOFOLLOW refuses it.
        real_confine = paths.confine

        def confine_then_swap(root, path):
            resolved = real_confine(root, path)
            os.rename(self.inst, self.inst + '.moved')
            os.symlink(self.outside, self.inst)
            return resolved

        with mock.patch.object(paths, 'confine', confine_then_swap):
            self.assertRaises(paths.PathEscape, priv_path.unlink, self.root,
                              'uuid/victim')
        self.assertOutsideIntact()

    def test_root_refused(self):
        self.assertRaises(paths.PathEscape, priv_path.unlink, self.root,
                          self.root)
        self.assertRaises(paths.PathEscape, priv_path.unlink, '/',
                          self.victim)
        self.assertOutsideIntact()


class TestRmdir(_Tree):

    def test_empty_removed(self):
        priv_path.rmdir(self.root, 'uuid/sub')
        self.assertFalse(os.path.exists(os.path.join(self.inst, 'sub')))

    def test_not_empty(self):
        self.assertRaises(OSError, priv_path.rmdir, self.root, 'uuid')

    def test_symlink_refused(self):
        empty = os.path.join(self.outside, 'empty')
        os.mkdir(empty)
        os.symlink(empty, os.path.join(self.inst, 'link'))
        self.assertRaises(paths.PathEscape, priv_path.rmdir, self.root,
                          'uuid/link')
        self.assertTrue(os.path.isdir(empty))


class TestRemoveTree(_Tree):

    def test_removed_inside_root(self):
        self._file(os.path.join(self.inst, 'sub'), 'disk.eph0')
        # A symlink inside the tree is removed, its target kept.
        os.symlink(self.victim, os.path.join(self.inst, 'sub', 'link'))
        os.symlink(self.outside, os.path.join(self.inst, 'dirlink'))
        priv_path.remove_tree(self.root, self.inst)
        self.assertFalse(os.path.lexists(self.inst))
        self.assertTrue(os.path.isdir(self.root))
        self.assertOutsideIntact()

    def test_dotdot_refused(self):
        self.assertRaises(paths.PathEscape, priv_path.remove_tree,
                          self.root, '../elsewhere')
        self.assertRaises(paths.PathEscape, priv_path.remove_tree,
                          self.root, 'uuid/..')
        self.assertOutsideIntact()
        self.assertTrue(os.path.isdir(self.inst))

    def test_absolute_elsewhere_refused(self):
        self.assertRaises(paths.PathEscape, priv_path.remove_tree,
                          self.root, self.outside)
        self.assertOutsideIntact()

    def test_root_itself_refused(self):
        self.assertRaises(paths.PathEscape, priv_path.remove_tree,
                          self.root, self.root)
        self.assertRaises(paths.PathEscape, priv_path.remove_tree,
                          self.root, '.')
        self.assertTrue(os.path.isdir(self.inst))

    def test_symlinked_dir_leaving_root_refused(self):
        os.symlink(self.outside, os.path.join(self.root, 'evil'))
        self.assertRaises(paths.PathEscape, priv_path.remove_tree,
                          self.root, 'evil')
        self.assertRaises(paths.PathEscape, priv_path.remove_tree,
                          self.root, 'evil/sub')
        self.assertOutsideIntact()

    def test_symlink_final_component_inside_root_refused(self):
        os.symlink(self.inst, os.path.join(self.root, 'alias'))
        self.assertRaises(paths.PathEscape, priv_path.remove_tree,
                          self.root, 'alias')
        self.assertTrue(os.path.isdir(self.inst))

    def test_file_refused(self):
        self.assertRaises(NotADirectoryError, priv_path.remove_tree,
                          self.root, 'uuid/disk')
        self.assertTrue(os.path.exists(self.disk))

    def test_symlinked_root_ok(self):
        alias = os.path.join(self.tmp, 'alias')
        os.symlink(self.root, alias)
        priv_path.remove_tree(alias, 'uuid')
        self.assertFalse(os.path.lexists(self.inst))


class TestMakedirs(_Tree):

    def test_created_and_existing(self):
        priv_path.makedirs(self.root, 'new/a/b')
        self.assertTrue(os.path.isdir(os.path.join(self.root, 'new/a/b')))
        priv_path.makedirs(self.root, os.path.join(self.root, 'new/a/b'))
        priv_path.makedirs(self.root, 'uuid')

    def test_owner_of_parent(self):
        chown = self.useFixture(fixtures.MockPatch(
            'os.chown', side_effect=os.chown)).mock
        priv_path.makedirs(self.root, 'new/a')
        root_st = os.stat(self.root)
        for sub in ('new', 'new/a'):
            st = os.stat(os.path.join(self.root, sub))
            self.assertEqual((root_st.st_uid, root_st.st_gid),
                             (st.st_uid, st.st_gid))
        # Same owner already: nothing to change.
        chown.assert_not_called()

    def test_owner_of_parent_given_when_it_differs(self):
        if os.geteuid() != 0:
            self.skipTest('needs root to own a directory as another uid')
        os.chown(self.root, 4242, 4343)
        priv_path.makedirs(self.root, 'new/a')
        for sub in ('new', 'new/a'):
            st = os.stat(os.path.join(self.root, sub))
            self.assertEqual((4242, 4343), (st.st_uid, st.st_gid))

    def test_file_in_the_way(self):
        self.assertRaises(OSError, priv_path.makedirs, self.root,
                          'uuid/disk/x')

    def test_dotdot_refused(self):
        self.assertRaises(paths.PathEscape, priv_path.makedirs, self.root,
                          '../elsewhere/new')
        self.assertFalse(os.path.exists(os.path.join(self.outside, 'new')))

    def test_absolute_elsewhere_refused(self):
        self.assertRaises(paths.PathEscape, priv_path.makedirs, self.root,
                          os.path.join(self.outside, 'new'))
        self.assertFalse(os.path.exists(os.path.join(self.outside, 'new')))

    def test_symlinked_dir_leaving_root_refused(self):
        os.symlink(self.outside, os.path.join(self.root, 'evil'))
        self.assertRaises(paths.PathEscape, priv_path.makedirs, self.root,
                          'evil/new')
        self.assertFalse(os.path.exists(os.path.join(self.outside, 'new')))

    def test_symlink_final_component_refused(self):
        os.symlink(self.outside, os.path.join(self.root, 'evil'))
        self.assertRaises(paths.PathEscape, priv_path.makedirs, self.root,
                          'evil')

    def test_mode_like_os_makedirs(self):
        old = os.umask(0o022)
        self.addCleanup(os.umask, old)
        priv_path.makedirs(self.root, 'new')
        self.assertEqual(0o755, stat.S_IMODE(
            os.stat(os.path.join(self.root, 'new')).st_mode))
