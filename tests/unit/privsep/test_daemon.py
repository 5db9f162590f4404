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

"""The entrypoints through a real privsep daemon (fork), as root.

The daemon keeps only the context's capabilities: these tests show that
CAP_DAC_OVERRIDE and CAP_CHOWN are enough for files and directories that
belong to another user with no access for others, and that the refusals
cross the channel as the callers expect them.
"""

import os

import fixtures
from oslo_config import fixture as config_fixture
from oslo_privsep import priv_context
import testtools

from nova_v2v import paths
import nova_v2v.privsep
from nova_v2v.privsep import path as priv_path

OWNER = (4242, 4343)


class TestForkedDaemon(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('the forked privsep daemon needs root')
        ctx = nova_v2v.privsep.sys_admin_pctxt
        self.useFixture(fixtures.MockPatchObject(ctx, 'client_mode', True))
        # Nova's test base resets cfg.CONF's defaults after its tests
        # (set_default included): restore the context's own, what the
        # daemon of a fresh nova-compute reads.
        self.useFixture(config_fixture.Config()).set_default(
            'capabilities', list(nova_v2v.privsep.CAPABILITIES),
            group=ctx.cfg_section)
        self.assertEqual(list(nova_v2v.privsep.CAPABILITIES),
                         ctx.conf.capabilities)
        self.assertIsNone(ctx.channel)
        ctx.start(priv_context.Method.FORK)
        self.addCleanup(ctx.stop)
        tmp = os.path.realpath(self.useFixture(fixtures.TempDir()).path)
        self.outside = os.path.join(tmp, 'elsewhere')
        os.mkdir(self.outside)
        self.victim = os.path.join(self.outside, 'victim')
        open(self.victim, 'w').close()
        # An instances root and a leftover that only uid 4242 may enter.
        self.root = os.path.join(tmp, 'instances')
        self.inst = os.path.join(self.root, 'uuid')
        os.makedirs(os.path.join(self.inst, 'sub'))
        for name in ('disk', 'sub/disk.eph0'):
            with open(os.path.join(self.inst, name), 'w') as f:
                f.write('x')
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), *OWNER)
                os.chmod(os.path.join(dirpath, name), 0o700)
        os.chown(self.root, *OWNER)
        os.chmod(self.root, 0o700)

    def test_runs_in_the_daemon(self):
        self.assertIsNotNone(nova_v2v.privsep.sys_admin_pctxt.channel)
        self.assertTrue(nova_v2v.privsep.sys_admin_pctxt.client_mode)

    def test_remove_tree_of_another_user(self):
        priv_path.remove_tree(self.root, 'uuid')
        self.assertFalse(os.path.lexists(self.inst))

    def test_unlink_of_another_user(self):
        priv_path.unlink(self.root, 'uuid/disk')
        self.assertFalse(os.path.lexists(os.path.join(self.inst, 'disk')))

    def test_makedirs_owner_of_parent(self):
        priv_path.makedirs(self.root, 'uuid/new/a')
        for sub in ('uuid/new', 'uuid/new/a'):
            st = os.stat(os.path.join(self.root, sub))
            self.assertEqual(OWNER, (st.st_uid, st.st_gid))

    def test_refusals_cross_the_channel(self):
        os.symlink(self.outside, os.path.join(self.inst, 'link'))
        for path in ('../elsewhere/victim', self.victim,
                     'uuid/link/victim'):
            self.assertRaises(paths.PathEscape, priv_path.unlink,
                              self.root, path)
        self.assertRaises(paths.PathEscape, priv_path.remove_tree,
                          self.root, 'uuid/link')
        self.assertTrue(os.path.exists(self.victim))
        self.assertRaises(FileNotFoundError, priv_path.unlink, self.root,
                          'uuid/none')
