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

"""nova_v2v_rig.aio: command lists, processes, status and down."""

import os
import signal
from unittest import mock

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v_rig.aio import identity
from nova_v2v_rig.aio import infra
from nova_v2v_rig.aio import packages
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.aio import services
from nova_v2v_rig.aio import stack
from nova_v2v_rig.aio import venvs

PASSWORDS = {name: 'pw-' + name for name in paths.ACCOUNTS}


class _LayoutTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.layout = paths.Layout(os.path.join(self.dir, 'aio'))
        self.execute = self.useFixture(fixtures.MockPatch(
            'oslo_concurrency.processutils.execute',
            return_value=('', ''))).mock


class TestVenvs(_LayoutTest):

    def setUp(self):
        super().setUp()
        self.uc = os.path.join(self.dir, 'uc.txt')
        with open(self.uc, 'w') as f:
            f.write('nova===34.0.0\n')

    def test_commands(self):
        create, install = venvs.commands(self.layout, 'main', self.uc,
                                         python='/usr/bin/python3',
                                         project='/src')
        self.assertEqual(['/usr/bin/python3', '-m', 'venv', '--clear',
                          self.layout.venv('main')], create)
        self.assertEqual(self.layout.bin('main', 'pip'), install[0])
        self.assertEqual(['-c', self.uc], install[3:5])
        for package in ('nova', 'keystone==30.0.0', venvs.UWSGI,
                        'PyMySQL', 'python-openstackclient==10.5.0',
                        'osc-placement==4.9.1'):
            self.assertIn(package, install)
        self.assertEqual(['-e', '/src'], install[-2:])
        _create, install = venvs.commands(self.layout, 'neutron', self.uc)
        self.assertIn('neutron==29.0.0', install)
        self.assertNotIn('nova', install)
        self.assertNotIn('-e', install)

    def test_create_records_spec_and_reuses(self):
        def fake(*argv, **kwargs):
            if argv[1:3] == ('-m', 'venv'):
                os.makedirs(argv[-1], exist_ok=True)
            return ('', '')
        self.execute.side_effect = fake
        self.layout.makedirs()
        venvs.create(self.layout, 'glance', self.uc, python='py')
        self.assertEqual(2, self.execute.call_count)
        self.assertTrue(venvs.is_current(self.layout, 'glance', self.uc,
                                         python='py'))
        # pip caches its wheels per interpreter.
        env = self.execute.call_args[1]['env_variables']
        self.assertEqual(venvs.pip_cache(self.layout, 'py'),
                         env['PIP_CACHE_DIR'])
        self.assertNotEqual(venvs.pip_cache(self.layout, 'py'),
                            venvs.pip_cache(self.layout, 'other-py'))
        self.assertEqual(0.0, venvs.create(self.layout, 'glance', self.uc,
                                           python='py'))
        self.assertEqual(2, self.execute.call_count)
        # Another interpreter (uWSGI embeds its libpython) rebuilds it.
        self.assertFalse(venvs.is_current(self.layout, 'glance', self.uc,
                                          python='other-py'))
        with open(self.uc, 'a') as f:
            f.write('glance===33.0.0\n')
        self.assertFalse(venvs.is_current(self.layout, 'glance', self.uc,
                                          python='py'))

    def test_create_failure_names_the_log(self):
        self.layout.makedirs()
        self.execute.side_effect = processutils.ProcessExecutionError(
            stdout='', stderr='boom', exit_code=1)
        exc = self.assertRaises(paths.AioError, venvs.create, self.layout,
                                'neutron', self.uc, python='py')
        self.assertIn(self.layout.log('venv-neutron'), str(exc))

    def test_missing_constraints(self):
        self.assertRaises(paths.AioError, venvs.create_all, self.layout,
                          os.path.join(self.dir, 'nope.txt'))


class TestPackages(testtools.TestCase):

    OUT = ('gcc installed\nmariadb-server installed\n'
           'rabbitmq-server not-installed\nlibvirt-dev:amd64 installed\n')

    def test_parse(self):
        self.assertEqual({'gcc', 'mariadb-server', 'libvirt-dev'},
                         packages.parse_installed(self.OUT))

    def test_query_command(self):
        self.assertEqual(['dpkg-query', '-W', '-f',
                          '${Package} ${db:Status-Status}\n', 'a', 'b'],
                         packages.query_command(['b', 'a']))

    @mock.patch.object(processutils, 'execute')
    def test_check_names_missing(self, execute):
        execute.return_value = (self.OUT, '')
        exc = self.assertRaises(paths.AioError, packages.check,
                                ['gcc', 'rabbitmq-server', 'mariadb-client'])
        self.assertIn('missing Debian packages: mariadb-client, '
                      'rabbitmq-server', str(exc))
        self.assertIn('bindep -b gate', str(exc))
        self.assertEqual([0, 1], execute.call_args[1]['check_exit_code'])

    @mock.patch.object(processutils, 'execute')
    def test_check_passes(self, execute):
        execute.return_value = (self.OUT, '')
        packages.check(['gcc', 'mariadb-server'])

    def test_gate_profile_in_bindep(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        with open(os.path.join(root, 'bindep.txt')) as f:
            lines = [line.split('#')[0].strip() for line in f]
        for name in packages.GATE:
            self.assertIn('%s [platform:dpkg gate]' % name, lines)
        for name in packages.BUILD:
            self.assertIn('%s [platform:dpkg]' % name, lines)


class TestCommands(_LayoutTest):

    def test_infra_commands(self):
        cnf = '--defaults-file=' + self.layout.etc('mysql', 'my.cnf')
        self.assertEqual(cnf, infra.install_db_command(self.layout)[1])
        self.assertEqual([infra.MARIADBD, cnf],
                         infra.mariadbd_command(self.layout))
        self.assertEqual([infra.MARIADB, cnf, '--protocol=socket', '-e',
                          'SELECT 1'],
                         infra.mysql_command(self.layout, 'SELECT 1'))
        self.assertEqual([infra.EPMD, '-address', '127.0.0.1', '-port',
                          '4369'], infra.epmd_command())

    def test_uwsgi_command(self):
        apps = services.wsgi_apps(self.layout)
        argv = services.uwsgi_command(self.layout, apps['nova-api'])
        self.assertEqual(self.layout.bin('main', 'uwsgi'), argv[0])
        self.assertEqual('127.0.0.1:8774',
                         argv[argv.index('--http-socket') + 1])
        self.assertEqual('Connection: close',
                         argv[argv.index('--add-header') + 1])
        # The needle of its processes once uWSGI renamed them.
        self.assertEqual('nova-v2v-aio-nova-api',
                         argv[argv.index('--procname-prefix-spaced') + 1])
        self.assertEqual('nova.wsgi.osapi_compute:application',
                         argv[argv.index('--module') + 1])
        self.assertEqual('api-paste.ini;nova.conf',
                         apps['nova-api'].env['OS_NOVA_CONFIG_FILES'])
        argv = services.uwsgi_command(self.layout, apps['neutron-api'])
        self.assertEqual(services.NEUTRON_WSGI,
                         argv[argv.index('--wsgi-file') + 1])
        self.assertTrue(os.path.exists(services.NEUTRON_WSGI))
        self.assertEqual(self.layout.venv('neutron'),
                         argv[argv.index('--virtualenv') + 1])
        for name, app in apps.items():
            argv = services.uwsgi_command(self.layout, app)
            self.assertEqual('127.0.0.1:%d' % paths.PORTS[name],
                             argv[argv.index('--http-socket') + 1])

    def test_db_commands(self):
        nova = services.db_commands(self.layout, 'nova', PASSWORDS)
        self.assertEqual([['api_db', 'sync'], ['db', 'sync']],
                         [nova[0][-2:], nova[-1][-2:]])
        self.assertEqual(['cell_v2', 'map_cell0'], nova[1][3:5])
        keystone = services.db_commands(self.layout, 'keystone', PASSWORDS)
        self.assertEqual('db_sync', keystone[0][-1])
        self.assertIn('pw-admin', keystone[-1])
        neutron = services.db_commands(self.layout, 'neutron', PASSWORDS)
        self.assertEqual(['upgrade', 'heads'], neutron[0][-2:])
        self.assertRaises(ValueError, services.db_commands, self.layout,
                          'rabbitmq', PASSWORDS)

    def test_sync_accepts_existing_cell_and_masks(self):
        self.layout.makedirs()
        services.sync(self.layout, 'nova', PASSWORDS)
        codes = [c[1]['check_exit_code'] for c in
                 self.execute.call_args_list]
        self.assertEqual([[0], [0], [0, 2], [0]], codes)
        services.sync(self.layout, 'keystone', PASSWORDS)
        with open(self.layout.log('keystone-manage')) as f:
            self.assertNotIn('pw-admin', f.read())

    def test_sync_failure(self):
        self.layout.makedirs()
        self.execute.side_effect = processutils.ProcessExecutionError(
            stdout='', stderr='line1\nno such table', exit_code=1)
        exc = self.assertRaises(paths.AioError, services.sync,
                                self.layout, 'glance', PASSWORDS)
        self.assertIn('no such table', str(exc))

    def test_endpoint_plan(self):
        plan = identity.endpoint_plan()
        self.assertEqual(8, len(plan))
        self.assertIn(('nova', 'compute', 'internal',
                       'http://127.0.0.1:8774/v2.1'), plan)
        self.assertTrue(all(url.startswith('http://127.0.0.1:')
                            for _n, _k, _i, url in plan))
        self.assertEqual(
            {'nova-conductor': 'up', 'nova-scheduler': 'down'},
            identity.parse_services({'services': [
                {'binary': 'nova-conductor', 'state': 'up'},
                {'binary': 'nova-scheduler', 'state': 'down'}]}))


class TestProcs(testtools.TestCase):

    def test_parse_stat(self):
        self.assertEqual(
            (4242, 'S', 1, 4242),
            procs.parse_stat('4242 (uwsgi (x) y) S 1 4242 4242 0 -1 4'))
        self.assertEqual('Z', procs.parse_stat('7 (a) Z 1 7 7')[1])

    def test_parse_rss(self):
        self.assertEqual(183000, procs.parse_rss_kib(
            'Name:\tuwsgi\nVmRSS:\t  183000 kB\nThreads: 5\n'))
        self.assertEqual(0, procs.parse_rss_kib('Name:\tkthreadd\n'))

    @mock.patch.object(procs, 'cmdline')
    @mock.patch.object(procs, 'group_pids')
    def test_ours_checks_needle(self, group_pids, cmdline):
        group_pids.return_value = [10, 11]
        cmdline.side_effect = lambda pid: {10: 'sh x', 11: 'mariadbd'}[pid]
        self.assertEqual([10, 11], procs.ours({'pgid': 10,
                                               'needle': 'mariadbd'}))
        self.assertEqual([], procs.ours({'pgid': 10, 'needle': 'epmd'}))
        self.assertEqual([], procs.ours({'pgid': None}))

    @mock.patch.object(os, 'killpg')
    @mock.patch.object(procs, 'ours', return_value=[10])
    @mock.patch.object(procs, 'group_pids', return_value=[])
    def test_stop_terms_the_group(self, group_pids, ours, killpg):
        self.assertTrue(procs.stop({'pgid': 10, 'needle': 'x'}))
        killpg.assert_called_once_with(10, signal.SIGTERM)

    @mock.patch.object(os, 'killpg')
    @mock.patch.object(procs, 'ours', return_value=[])
    def test_stop_leaves_others_alone(self, ours, killpg):
        self.assertTrue(procs.stop({'pgid': 10, 'needle': 'x'}))
        killpg.assert_not_called()

    def test_spawn_and_stop_real_process(self):
        layout = paths.Layout(self.useFixture(fixtures.TempDir()).path)
        record = procs.spawn(layout, 'mariadb', ['sleep', '60'],
                             needle='sleep')
        self.addCleanup(procs.stop, record, 5)
        self.assertEqual(record['pid'], record['pgid'])
        self.assertEqual(3306, record['port'])
        # Alive once the child has exec'd "sleep" (until then its command
        # line is this interpreter's, without the needle).
        procs.wait_ready('mariadb', record, lambda: procs.alive(record), 10)
        self.assertTrue(procs.alive(record))
        self.assertTrue(procs.stop(record, timeout=5))
        self.assertFalse(procs.alive(record))
        self.assertTrue(procs.stop(record, timeout=5))

    def test_port_open_none(self):
        self.assertIsNone(procs.port_open(None))

    @mock.patch.object(procs, 'cmdline', return_value='')
    @mock.patch.object(procs, 'group_pids', return_value=[10])
    def test_wait_ready_ignores_title_rewrite(self, group_pids, cmdline):
        # uWSGI rewrites its title while starting: no needle for a moment
        # is not "exited" as long as the group lives.
        checks = iter([False, True])
        self.assertIsNotNone(procs.wait_ready(
            'keystone', {'pgid': 10, 'needle': 'x', 'log': '/nowhere'},
            lambda: next(checks), timeout=5))

    @mock.patch.object(procs, 'group_pids', return_value=[])
    def test_wait_ready_group_gone(self, group_pids):
        self.assertRaises(paths.AioError, procs.wait_ready, 'keystone',
                          {'pgid': 10, 'needle': 'x', 'log': '/nowhere'},
                          lambda: False, 5)

    @mock.patch.object(procs, 'group_pids', return_value=[])
    def test_wait_ready_still_running(self, group_pids):
        # Ready by its check (a socket or port another process holds), but
        # its own group is gone: it exited; unless that is not asked.
        record = {'pgid': 10, 'needle': 'x', 'log': '/nowhere'}
        exc = self.assertRaises(paths.AioError, procs.wait_ready, 'relay',
                                record, lambda: True, 5, still_running=True)
        self.assertIn('relay exited', str(exc))
        self.assertIsNotNone(procs.wait_ready('relay', record,
                                              lambda: True, 5))


class TestStack(_LayoutTest):

    STATE = {'services': {
        'mariadb': {'pid': 5, 'pgid': 5, 'port': 3306, 'needle': 'm'},
        'nova-scheduler': {'pid': 9, 'pgid': 9, 'port': None,
                           'needle': 'n'}}, 'steps': {}}

    def test_status_down(self):
        self.assertEqual({'up': False, 'services': {}},
                         stack.status(self.layout))

    @mock.patch.object(procs, 'rss_mib', return_value=10.0)
    @mock.patch.object(procs, 'port_open')
    @mock.patch.object(procs, 'alive', return_value=True)
    def test_status(self, alive, port_open, rss):
        port_open.side_effect = lambda port: None if port is None else True
        self.layout.save(self.STATE)
        out = stack.status(self.layout)
        self.assertFalse(out['up'])  # not every service started
        self.assertEqual({'pid': 5, 'alive': True, 'port': 3306,
                          'port_answers': True, 'rss_mib': 10.0,
                          'log': None}, out['services']['mariadb'])
        self.assertEqual({'started': False}, out['services']['keystone'])
        self.assertEqual(20.0, out['rss_total_mib'])
        self.assertTrue(stack.summarize({
            k: v for k, v in out['services'].items() if 'pid' in v}))
        self.assertFalse(stack.summarize({'x': {'alive': True,
                                                'port_answers': False}}))

    @mock.patch.object(procs, 'stop', return_value=True)
    def test_down_reverse_order_and_twice(self, stop):
        self.layout.save(self.STATE)
        self.assertEqual({'stopped': ['nova-scheduler', 'mariadb'],
                          'purged': False}, stack.down(self.layout))
        self.assertIsNone(self.layout.load())
        self.assertEqual({'stopped': [], 'purged': False},
                         stack.down(self.layout))

    @mock.patch.object(procs, 'stop', return_value=False)
    def test_down_keeps_state_on_failure(self, stop):
        self.layout.save(self.STATE)
        self.assertRaises(paths.AioError, stack.down, self.layout)
        self.assertIsNotNone(self.layout.load())

    @mock.patch.object(procs, 'stop', return_value=True)
    def test_down_purge(self, stop):
        self.layout.makedirs()
        self.layout.save(self.STATE)
        stack.down(self.layout, purge=True)
        self.assertFalse(os.path.exists(self.layout.state_dir))

    @mock.patch.object(packages, 'check')
    @mock.patch.object(procs, 'alive', return_value=True)
    def test_up_refuses_when_up(self, alive, check):
        self.layout.save(self.STATE)
        exc = self.assertRaises(paths.AioError, stack.up, self.layout)
        self.assertIn('mariadb, nova-scheduler running', str(exc))
        check.assert_not_called()


class TestSharedSuite(testtools.TestCase):
    """The lab and the all-in-one of a suite that shares them."""

    def setUp(self):
        super().setUp()
        self.layout = mock.Mock()
        self.lab = mock.Mock()
        self.up = self.useFixture(fixtures.MockPatchObject(stack, 'up')).mock
        self.down = self.useFixture(fixtures.MockPatchObject(
            stack, 'down')).mock
        self.computes_down = self.useFixture(fixtures.MockPatchObject(
            stack.computes, 'down')).mock
        self.running = self.useFixture(fixtures.MockPatchObject(
            stack, 'running')).mock

    def test_both_reused(self):
        self.lab.load.return_value = {'hosts': {}}
        self.running.return_value = ['keystone']
        started = {}
        stack.bring_up(self.layout, self.lab, started, 'uc.txt')
        self.assertEqual({}, started)
        self.lab.up.assert_not_called()
        self.up.assert_not_called()

    def test_both_started(self):
        self.lab.load.return_value = None
        self.running.return_value = []
        started = {}
        stack.bring_up(self.layout, self.lab, started, 'uc.txt')
        self.assertEqual({'lab': True, 'aio': True}, started)
        self.lab.up.assert_called_once_with(shared=False)
        self.up.assert_called_once_with(self.layout, 'uc.txt')

    def test_a_lab_started_before_the_all_in_one_failed_is_known(self):
        self.lab.load.return_value = None
        self.running.return_value = []
        self.up.side_effect = RuntimeError('no keystone')
        started = {}
        self.assertRaises(RuntimeError, stack.bring_up, self.layout,
                          self.lab, started)
        self.assertEqual({'lab': True}, started)

    def test_tear_down_what_was_started(self):
        stack.tear_down(self.layout, self.lab, True, True)
        self.down.assert_called_once_with(self.layout)
        self.computes_down.assert_not_called()
        self.lab.down.assert_called_once_with()

    def test_tear_down_only_the_computes_of_a_reused_all_in_one(self):
        stack.tear_down(self.layout, self.lab, False, False)
        self.down.assert_not_called()
        self.computes_down.assert_called_once_with(self.layout)
        self.lab.down.assert_not_called()

    def test_end_suite(self):
        report = {'steps': {}, 'errors': []}
        first = mock.Mock()
        stack.end_suite(self.layout, self.lab, {'aio': True}, report,
                        first=(first,))
        first.assert_called_once_with(self.layout)
        self.down.assert_called_once_with(self.layout)
        self.lab.down.assert_not_called()
        self.assertIn('down', report['steps'])
        self.assertEqual([], report['errors'])

    def test_end_suite_keeps_or_tears_all_down(self):
        report = {'steps': {}, 'errors': []}
        stack.end_suite(self.layout, self.lab, {}, report, keep=True)
        self.assertEqual({}, report['steps'])
        self.computes_down.assert_not_called()
        stack.end_suite(self.layout, self.lab, {}, report, down=True)
        self.down.assert_called_once_with(self.layout)
        self.lab.down.assert_called_once_with()

    def test_end_suite_reports_a_failed_tear_down(self):
        report = {'steps': {}, 'errors': []}
        self.computes_down.side_effect = RuntimeError('stuck')
        stack.end_suite(self.layout, self.lab, {}, report)
        self.assertEqual(['tear-down: stuck'], report['errors'])
