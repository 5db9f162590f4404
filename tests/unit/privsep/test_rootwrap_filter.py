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

"""etc/nova/rootwrap.d/nova-v2v.filters, read by oslo.rootwrap itself."""

import configparser
import os
import sys

import testtools

import nova_v2v.privsep

try:
    from oslo_rootwrap import filters as rw_filters
    from oslo_rootwrap import wrapper
except ImportError:  # pragma: no cover
    wrapper = None

_ROOT = os.path.abspath(os.path.join(
    os.path.dirname(__file__), os.pardir, os.pardir, os.pardir))
_FILTERS_DIR = os.path.join(_ROOT, 'etc', 'nova', 'rootwrap.d')
_FILTERS = os.path.join(_FILTERS_DIR, 'nova-v2v.filters')
# privsep-helper is installed next to this interpreter (oslo.privsep).
_EXEC_DIRS = [os.path.dirname(sys.executable), '/usr/local/bin', '/usr/bin']
SOCK = '/tmp/tmpab12cd/privsep.sock'


class TestRootwrapFilter(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if wrapper is None:
            self.skipTest('oslo.rootwrap is not installed')
        self.filters = wrapper.load_filters([_FILTERS_DIR])

    def _command(self, *config_files, context=None, sock=SOCK):
        """The privsep-helper command oslo.privsep builds for the context.

        Without ``sudo nova-rootwrap /etc/nova/rootwrap.conf`` in front:
        that is what rootwrap matches against its filters.
        """
        ctx = nova_v2v.privsep.sys_admin_pctxt
        cmd = ctx.helper_command(sock)
        cmd = cmd[cmd.index('privsep-helper'):]
        # The test process reads no configuration file: add the ones a
        # compute node's nova-compute is started with.
        extra = []
        for path in config_files:
            extra += ['--config-file', path]
        cmd[1:1] = extra
        if context is not None:
            cmd[cmd.index('--privsep_context') + 1] = context
        return cmd

    def _own(self):
        return [f for f in self.filters if f.name.startswith(
            'privsep-rootwrap-nova_v2v')]

    def _matches(self, cmd):
        """True if one of this file's filters allows cmd."""
        own = self._own()
        if not any(f.match(cmd) for f in own):
            return False
        # Also what rootwrap itself picks: the first matching filter.
        try:
            wrapper.match_filter(own, cmd, exec_dirs=_EXEC_DIRS)
        except wrapper.FilterMatchNotExecutable:
            pass
        return True

    def test_parses(self):
        parser = configparser.RawConfigParser(strict=True)
        with open(_FILTERS) as f:
            parser.read_file(f)
        self.assertEqual(['Filters'], parser.sections())
        own = self._own()
        self.assertEqual(2, len(own))
        for f in own:
            self.assertIsInstance(f, rw_filters.RegExpFilter)
            self.assertIn('nova_v2v.privsep.sys_admin_pctxt', f.args)
            self.assertEqual('privsep-helper', f.exec_path)
            self.assertEqual('root', f.run_as)

    def test_rootwrap_adds_its_own_privsep_helper_filter(self):
        # oslo.rootwrap appends an argument-free privsep-helper
        # CommandFilter to every filter list: with it, these filters are
        # the documented, narrower statement of what nova-compute runs,
        # not the only thing that lets it through (see the release note).
        generic = [f for f in self.filters if f.name == 'privsep-helper']
        self.assertEqual(1, len(generic))
        self.assertIsInstance(generic[0], rw_filters.CommandFilter)

    def test_names_the_context_path(self):
        ctx = nova_v2v.privsep.sys_admin_pctxt
        self.assertEqual('nova_v2v.privsep.sys_admin_pctxt', ctx.pypath)
        # The context path is the one oslo.privsep resolves in the daemon.
        self.assertIn('--privsep_context', self._command())
        self.assertIn(ctx.pypath, self._command())
        with open(_FILTERS) as f:
            self.assertIn(', --privsep_context, %s, ' % ctx.pypath, f.read())

    def test_helper_command_allowed(self):
        self.assertTrue(self._matches(self._command('/etc/nova/nova.conf')))
        self.assertTrue(self._matches(self._command(
            '/etc/nova/nova.conf', '/etc/nova/nova-compute.conf')))

    def test_other_contexts_refused(self):
        for context in ('nova.privsep.sys_admin_pctxt',
                        'os_brick.privileged.default',
                        'nova_v2v.privsep.path.unlink',
                        'nova_v2v.privsep.sys_admin_pctxtX'):
            self.assertFalse(self._matches(self._command(
                '/etc/nova/nova.conf', context=context)), context)

    def test_dotdot_refused(self):
        self.assertFalse(self._matches(self._command(
            '/etc/nova/../../tmp/evil.conf')))
        self.assertFalse(self._matches(self._command('/tmp/evil.conf')))
        self.assertFalse(self._matches(self._command(
            '/etc/nova/nova.conf', sock='/tmp/../run/x.sock')))

    def test_extra_arguments_refused(self):
        cmd = self._command('/etc/nova/nova.conf') + ['--debug']
        self.assertFalse(self._matches(cmd))
        self.assertFalse(self._matches(self._command(
            '/etc/a.conf', '/etc/b.conf', '/etc/c.conf')))

    def test_installed_by_setup_cfg(self):
        parser = configparser.RawConfigParser()
        parser.read(os.path.join(_ROOT, 'setup.cfg'))
        self.assertIn('etc/nova/rootwrap.d = etc/nova/rootwrap.d/*',
                      parser.get('files', 'data_files'))
