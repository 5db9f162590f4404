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

import fixtures
from oslo_utils import importutils
import testtools

from nova_v2v import paths
from nova_v2v.storage import disks


class TestConfine(testtools.TestCase):
    """paths.confine() on a real directory tree (no mocks)."""

    def setUp(self):
        super(TestConfine, self).setUp()
        self.tmp = os.path.realpath(self.useFixture(fixtures.TempDir()).path)
        self.root = os.path.join(self.tmp, 'instances')
        self.outside = os.path.join(self.tmp, 'elsewhere')
        os.makedirs(os.path.join(self.root, 'uuid'))
        os.makedirs(self.outside)

    def test_relative_ok(self):
        self.assertEqual(os.path.join(self.root, 'uuid', 'disk'),
                         paths.confine(self.root, 'uuid/disk'))

    def test_absolute_ok(self):
        path = os.path.join(self.root, 'uuid', 'disk')
        self.assertEqual(path, paths.confine(self.root, path))

    def test_not_yet_existing_dir_ok(self):
        self.assertEqual(os.path.join(self.root, 'new', 'disk'),
                         paths.confine(self.root, 'new/disk'))

    def test_dotdot_relative(self):
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          '../elsewhere/disk')

    def test_dotdot_inside_relative(self):
        # Even a ".." that stays inside root is refused.
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          'uuid/../uuid/disk')

    def test_dotdot_absolute(self):
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          self.root + '/uuid/../../elsewhere/disk')

    def test_absolute_outside_root(self):
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          os.path.join(self.outside, 'disk'))
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          '/etc/passwd')

    def test_sibling_with_common_prefix(self):
        # /x/instances-evil is not below /x/instances.
        evil = self.root + '-evil'
        os.makedirs(evil)
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          os.path.join(evil, 'disk'))

    def test_root_itself_refused(self):
        self.assertRaises(paths.PathEscape, paths.confine, self.root, '.')
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          self.root)

    def test_symlinked_dir_escape(self):
        os.symlink(self.outside, os.path.join(self.root, 'link'))
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          'link/disk')

    def test_symlinked_file_escape(self):
        target = os.path.join(self.outside, 'disk')
        open(target, 'w').close()
        os.symlink(target, os.path.join(self.root, 'uuid', 'disk'))
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          'uuid/disk')

    def test_symlink_inside_root_refused(self):
        # A symlink as the final component is refused even when it points
        # inside root: the disk would be written through it.
        target = os.path.join(self.root, 'uuid', 'real')
        open(target, 'w').close()
        os.symlink(target, os.path.join(self.root, 'uuid', 'disk'))
        self.assertRaises(paths.PathEscape, paths.confine, self.root,
                          'uuid/disk')

    def test_symlinked_root_ok(self):
        # The root itself may be reached through a symlink (a bind mount
        # or /var -> /srv/var): paths are compared after resolving it.
        alias = os.path.join(self.tmp, 'alias')
        os.symlink(self.root, alias)
        self.assertEqual(os.path.join(self.root, 'uuid', 'disk'),
                         paths.confine(alias, 'uuid/disk'))


class TestErrors(testtools.TestCase):

    def test_an_escape_is_a_disk_error(self):
        # Whoever handles a failed disk operation handles a refused path,
        # raised here or again by the privileged daemon.
        self.assertTrue(issubclass(paths.PathEscape, paths.DiskError))
        self.assertIs(paths.DiskError, disks.DiskError)
        self.assertIs(paths.PathEscape, disks.PathEscape)
        self.assertTrue(issubclass(disks.DiskInUse, paths.DiskError))

    def test_the_daemon_raises_it_again_by_its_name(self):
        # oslo.privsep imports the class by its module and name in the
        # caller's process.
        self.assertIs(paths.PathEscape, importutils.import_class(
            '%s.%s' % (paths.PathEscape.__module__,
                       paths.PathEscape.__name__)))
