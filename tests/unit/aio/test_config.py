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

"""nova_v2v_rig.aio: configuration generation and the state file."""

import configparser
import json
import os
import stat

import fixtures
import testtools

from nova_v2v.deploy import novaconf
from nova_v2v_rig.aio import config
from nova_v2v_rig.aio import infra
from nova_v2v_rig.aio import paths

PASSWORDS = {name: 'pw-' + name for name in paths.ACCOUNTS}


def _parse(text):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string(text)
    return parser


class TestLayoutAndState(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.layout = paths.Layout(os.path.join(self.dir, 'aio'))

    def test_layout_under_state_dir(self):
        lo = self.layout
        for path in (lo.etc_dir, lo.log_dir, lo.run_dir, lo.data_dir,
                     lo.venv_dir, lo.state_file, lo.openrc,
                     lo.etc('nova', 'nova.conf'), lo.bin('main', 'uwsgi')):
            self.assertTrue(path.startswith(lo.state_dir + os.sep), path)
        self.assertEqual(os.path.join(lo.state_dir, 'etc'), lo.etc_dir)

    def test_state_round_trip_and_forget(self):
        self.assertIsNone(self.layout.load())
        state = paths.new_state()
        state['services']['mariadb'] = {'pid': 12, 'pgid': 12}
        self.layout.save(state)
        self.assertEqual(state, self.layout.load())
        self.assertFalse(os.path.exists(self.layout.state_file + '.tmp'))
        self.layout.forget()
        self.layout.forget()
        self.assertIsNone(self.layout.load())

    def test_passwords_generated_once_private(self):
        first = self.layout.passwords()
        self.assertEqual(set(paths.ACCOUNTS), set(first))
        self.assertEqual(len(set(first.values())), len(first))
        self.assertEqual(first, self.layout.passwords())
        mode = os.stat(self.layout.passwords_file).st_mode
        self.assertEqual(0o600, stat.S_IMODE(mode))

    def test_every_port_is_distinct(self):
        ports = [p for p in paths.PORTS.values() if p]
        self.assertEqual(len(ports), len(set(ports)))
        self.assertEqual(set(paths.SERVICES) | set(paths.ON_DEMAND),
                         set(paths.PORTS))


class TestConfig(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.layout = paths.Layout(os.path.join(self.dir, 'aio'))

    def test_urls_are_loopback(self):
        self.assertEqual(
            'mysql+pymysql://openstack:pw-db@127.0.0.1:3306/nova?'
            'charset=utf8', config.db_url(PASSWORDS, 'nova'))
        self.assertEqual('rabbit://openstack:pw-rabbit@127.0.0.1:5672/',
                         config.transport_url(PASSWORDS))
        self.assertEqual('http://127.0.0.1:8774/v2.1',
                         config.url('nova-api', '/v2.1'))

    def test_nova_conf_base(self):
        conf = _parse(config.render(config.nova_conf(self.layout,
                                                     PASSWORDS)))
        self.assertEqual(config.transport_url(PASSWORDS),
                         conf['DEFAULT']['transport_url'])
        self.assertEqual(config.db_url(PASSWORDS, 'nova_api'),
                         conf['api_database']['connection'])
        self.assertEqual('1', conf['conductor']['workers'])
        self.assertEqual('1', conf['scheduler']['workers'])
        self.assertEqual('http://127.0.0.1:9292',
                         conf['glance']['api_servers'])
        self.assertEqual('true',
                         conf['service_user']['send_service_user_token'])
        for section, user in (('keystone_authtoken', 'nova'),
                              ('placement', 'placement'),
                              ('neutron', 'neutron'),
                              ('service_user', 'nova')):
            self.assertEqual(user, conf[section]['username'])
            self.assertEqual('pw-' + user, conf[section]['password'])
            self.assertEqual('http://127.0.0.1:5000',
                             conf[section]['auth_url'])
        self.assertNotIn('filter_scheduler', conf)

    def test_write_nova_applies_novaconf(self):
        entries = config.write_nova(self.layout, PASSWORDS)
        self.assertEqual(novaconf.settings(config.NOVACONF_ROLE), entries)
        with open(self.layout.etc('nova', 'nova.conf')) as f:
            lines = novaconf.read_ini(f.read())
        self.assertIn(('filter_scheduler', 'available_filters',
                       novaconf.FILTER_PATH), lines)
        self.assertIn(('DEFAULT', 'transport_url',
                       config.transport_url(PASSWORDS)), lines)
        # Written twice: the same file.
        config.write_nova(self.layout, PASSWORDS)
        with open(self.layout.etc('nova', 'nova.conf')) as f:
            self.assertEqual(lines, novaconf.read_ini(f.read()))

    def test_write_all(self):
        for venv, source in config.PASTE_FILES.values():
            path = os.path.join(self.layout.venv(venv), source)
            os.makedirs(os.path.dirname(path))
            with open(path, 'w') as f:
                f.write('[pipeline:x]\n')
        written = config.write_all(self.layout, PASSWORDS)
        for rel in list(config.FILES) + list(config.PASTE_FILES):
            self.assertIn(self.layout.etc(rel), written)
            self.assertTrue(os.path.exists(self.layout.etc(rel)), rel)
        self.assertTrue(os.path.isdir(self.layout.data('glance', 'images')))
        mode = os.stat(self.layout.etc('nova', 'nova.conf')).st_mode
        self.assertEqual(0, stat.S_IMODE(mode) & 0o007)

    def test_write_all_needs_the_paste_files(self):
        self.assertRaises(paths.AioError, config.write_all, self.layout,
                          PASSWORDS)

    def test_my_cnf_binds_loopback_in_state_dir(self):
        conf = _parse(config.render(config.my_cnf(self.layout)))
        self.assertEqual('127.0.0.1', conf['mysqld']['bind-address'])
        self.assertEqual(self.layout.data('mysql'),
                         conf['mysqld']['datadir'])
        self.assertEqual(conf['client']['socket'], conf['mysqld']['socket'])
        self.assertTrue(conf['mysqld']['socket'].startswith(
            self.layout.run_dir))

    def test_rabbitmq(self):
        text = config.render_flat(config.rabbitmq_conf(PASSWORDS))
        self.assertIn('listeners.tcp.1 = 127.0.0.1:5672\n', text)
        self.assertIn('default_pass = pw-rabbit\n', text)
        env = config.rabbitmq_env(self.layout)
        self.assertEqual(self.layout.data('rabbitmq'), env['HOME'])
        self.assertEqual('127.0.0.1', env['ERL_EPMD_ADDRESS'])
        self.assertEqual('127.0.0.1', env['RABBITMQ_NODE_IP_ADDRESS'])
        for key in ('RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS',
                    'RABBITMQ_CTL_ERL_ARGS'):
            self.assertIn('inet_dist_use_interface {127,0,0,1}', env[key])

    def test_neutron_ml2_ovn(self):
        conf = _parse(config.render(config.ml2_conf()))
        self.assertEqual('ovn', conf['ml2']['mechanism_drivers'])
        self.assertEqual('flat,geneve', conf['ml2']['type_drivers'])
        self.assertEqual('physnet1', conf['ml2_type_flat']['flat_networks'])
        self.assertEqual('tcp:127.0.0.1:6641',
                         conf['ovn']['ovn_nb_connection'])
        self.assertEqual('tcp:127.0.0.1:6642',
                         conf['ovn']['ovn_sb_connection'])
        self.assertEqual('false', conf['ovn']['ovn_metadata_enabled'])
        # Neutron's default: os-vif creates the taps (Nova 2026.1).
        self.assertNotIn('ovs_create_tap', conf['ovn'])
        conf = _parse(config.render(config.neutron_conf(self.layout,
                                                        PASSWORDS)))
        self.assertEqual('ml2', conf['DEFAULT']['core_plugin'])
        self.assertEqual('ovn-router', conf['DEFAULT']['service_plugins'])
        for key in ('notify_nova_on_port_status_changes',
                    'notify_nova_on_port_data_changes'):
            self.assertEqual('true', conf['DEFAULT'][key])
        self.assertEqual('nova', conf['nova']['username'])
        self.assertEqual('pw-nova', conf['nova']['password'])
        self.assertEqual(config.AUTH_URL, conf['nova']['auth_url'])

    def test_glance_file_store(self):
        conf = _parse(config.render(config.glance_conf(self.layout,
                                                       PASSWORDS)))
        self.assertEqual('fs:file', conf['DEFAULT']['enabled_backends'])
        self.assertEqual('fs', conf['glance_store']['default_backend'])
        self.assertTrue(conf['fs']['filesystem_store_datadir'].startswith(
            self.layout.data_dir))

    def test_openrc(self):
        text = config.openrc(PASSWORDS)
        self.assertIn('export OS_AUTH_URL=http://127.0.0.1:5000/v3\n', text)
        self.assertIn('export OS_PASSWORD=pw-admin\n', text)

    def test_databases_sql(self):
        sql = infra.databases_sql({'db': "it's"})
        for name in config.DATABASES:
            self.assertIn('CREATE DATABASE IF NOT EXISTS `%s`' % name, sql)
            self.assertIn("ON `%s`.* TO 'openstack'@'127.0.0.1'" % name,
                          sql)
        self.assertIn("IDENTIFIED BY 'it\\'s'", sql)
        self.assertTrue(sql.endswith('FLUSH PRIVILEGES;'))


class TestStatusJson(testtools.TestCase):

    def test_state_file_is_json(self):
        layout = paths.Layout(self.useFixture(fixtures.TempDir()).path)
        layout.save({'services': {'x': {'pid': 1}}, 'steps': {}})
        with open(layout.state_file) as f:
            self.assertEqual({'pid': 1}, json.load(f)['services']['x'])
