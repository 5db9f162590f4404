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

"""nova_v2v_rig.aio.ovn and network: command lines, settings, records."""

import ipaddress
import os
from unittest import mock

import fixtures
import testtools

from nova_v2v_rig.aio import network
from nova_v2v_rig.aio import ovn
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.aio import stack
from nova_v2v_rig.lab import hosts as lab_hosts


class TestOvn(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.layout = paths.Layout(os.path.join(self.dir, 'aio'))
        self.lab = lab_hosts.Lab(os.path.join(self.dir, 'lab'))

    def test_connections(self):
        run = os.path.join(self.layout.run_dir, 'ovn')
        self.assertEqual('unix:%s/nb.sock' % run, ovn.nb_db(self.layout))
        self.assertEqual('unix:%s/sb.sock' % run, ovn.sb_db(self.layout))
        self.assertEqual('tcp:127.0.0.1:6641', ovn.tcp_db('nb'))
        self.assertEqual('tcp:127.0.0.1:6642', ovn.tcp_db('sb'))
        self.assertEqual(
            'unix:%s/host-b/openvswitch/db.sock' % self.lab.state_dir,
            ovn.host_ovsdb(self.lab, 'b'))
        # The lab host sees the same directory over /run/openvswitch.
        self.assertEqual(ovn.host_dir(self.lab, 'b'), self.lab.root_path(
            'b', '/run/openvswitch'))

    def test_central_command(self):
        argv = ovn.central_command(self.layout, 'ovn-sb', 'sb')
        self.assertEqual([ovn.OVSDB_SERVER, ovn.db_file(self.layout, 'sb')],
                         argv[:2])
        self.assertIn('--remote=punix:%s' % ovn.db_socket(self.layout, 'sb'),
                      argv)
        self.assertIn('--remote=ptcp:6642:127.0.0.1', argv)
        self.assertNotIn('--detach', argv)
        northd = ovn.northd_command(self.layout)
        self.assertIn('--ovnnb-db=%s' % ovn.nb_db(self.layout), northd)
        self.assertIn('--ovnsb-db=%s' % ovn.sb_db(self.layout), northd)

    def test_host_commands_enter_net_and_mount(self):
        hdir = ovn.host_dir(self.lab, 'a')
        for daemon in ovn.HOST_DAEMONS:
            argv = ovn.host_command(self.lab, 'a', daemon, 42)
            self.assertEqual(['/usr/bin/nsenter', '--net=/proc/42/ns/net',
                              '--mount=/proc/42/ns/mnt', '--'], argv[:4])
            self.assertNotIn('--detach', argv)
            # The record's needle: the host's own directory.
            self.assertTrue(any(hdir in arg for arg in argv[4:]), argv)
        self.assertEqual(
            [ovn.OVS_VSWITCHD, ovn.host_ovsdb(self.lab, 'a')],
            ovn.host_command(self.lab, 'a', 'ovs-vswitchd', 42)[4:6])
        self.assertIn('--remote=punix:%s/db.sock' % hdir,
                      ovn.host_command(self.lab, 'a', 'ovsdb-server', 42))
        self.assertRaises(ValueError, ovn.host_command, self.lab, 'a',
                          'ovs-dpdk', 42)
        self.assertEqual(hdir, ovn.host_environment(self.lab, 'a')[
            'OVN_RUNDIR'])

    def test_open_vswitch_settings(self):
        settings = dict(s.split('=', 1) for s in
                        ovn.open_vswitch_settings(self.layout, self.lab,
                                                  'b'))
        self.assertEqual('labhost-b', settings['external_ids:system-id'])
        self.assertEqual('labhost-b', settings['external_ids:hostname'])
        self.assertEqual(ovn.sb_db(self.layout),
                         settings['external_ids:ovn-remote'])
        self.assertEqual('physnet1:br-prov',
                         settings['external_ids:ovn-bridge-mappings'])
        self.assertEqual('netdev',
                         settings['external_ids:ovn-bridge-datapath-type'])
        self.assertEqual('true',
                         settings['other_config:userspace-tso-enable'])

    def test_bridge_args(self):
        args = ovn.bridge_args(self.lab, 'a')
        text = ' '.join(args)
        self.assertIn('add-br br-int -- set Bridge br-int '
                      'datapath_type=netdev fail-mode=secure', text)
        self.assertIn('add-port br-prov nv2v-pa', text)
        # The lab link (libvirt, NBD) stays out of Open vSwitch.
        self.assertNotIn('nv2v-va', text)

    def _state(self, **records):
        state = paths.new_state()
        state['services'].update(records)
        self.layout.save(state)

    @mock.patch.object(ovn, 'start_host')
    @mock.patch.object(procs, 'stop', return_value=True)
    @mock.patch.object(procs, 'alive', return_value=True)
    def test_ensure_hosts(self, alive, stop, start_host):
        records = {}
        for host, pid in (('a', 11), ('b', 99)):
            for daemon in ovn.HOST_DAEMONS:
                records[ovn.record_name(host, daemon)] = {
                    'pid': 1, 'libvirtd_pid': pid}
        self._state(**records)
        start_host.return_value = [('ovs-host-b-ovsdb-server',
                                    {'pid': 7, 'libvirtd_pid': 12})]
        started = ovn.ensure_hosts(self.layout, self.lab, {'a': 11, 'b': 12})
        # Host a runs for its libvirtd; host b's libvirtd changed.
        self.assertEqual(['ovs-host-b-ovsdb-server'], started)
        start_host.assert_called_once_with(self.layout, self.lab, 'b', 12)
        self.assertEqual(3, stop.call_count)
        saved = self.layout.load()['services']
        self.assertEqual({'pid': 7, 'libvirtd_pid': 12},
                         saved['ovs-host-b-ovsdb-server'])
        self.assertNotIn('ovs-host-b-ovn-controller', saved)
        self.assertIn('ovs-host-a-ovn-controller', saved)

    @mock.patch.object(procs, 'stop', return_value=True)
    def test_stack_down_stops_hosts_before_central(self, stop):
        self._state(**{'ovn-sb': {'pid': 2}, 'ovn-nb': {'pid': 1},
                       'ovs-host-a-ovsdb-server': {'pid': 3},
                       'ovs-host-a-ovn-controller': {'pid': 4}})
        out = stack.down(self.layout)
        self.assertEqual(['ovs-host-a-ovn-controller',
                          'ovs-host-a-ovsdb-server', 'ovn-sb', 'ovn-nb'],
                         out['stopped'])

    def test_central_services_and_ports(self):
        self.assertEqual(6641, paths.PORTS['ovn-nb'])
        self.assertEqual(6642, paths.PORTS['ovn-sb'])
        # Before neutron's API, which connects to them.
        self.assertLess(paths.SERVICES.index('ovn-northd'),
                        paths.SERVICES.index('neutron-api'))


class TestNetwork(testtools.TestCase):

    def test_network_args(self):
        args = network.network_args()
        self.assertEqual(['network', 'create'], args[:2])
        self.assertIn('flat', args)
        self.assertEqual('physnet1', args[args.index(
            '--provider-physical-network') + 1])
        self.assertEqual(network.NETWORK, args[-1])

    def test_subnet_args(self):
        args = network.subnet_args()
        self.assertEqual('10.77.1.0/24', args[args.index('--subnet-range')
                                              + 1])
        self.assertEqual('10.77.1.254', args[args.index('--gateway') + 1])
        self.assertIn('--dhcp', args)
        pool = dict(p.split('=') for p in args[args.index(
            '--allocation-pool') + 1].split(','))
        start = ipaddress.ip_address(pool['start'])
        end = ipaddress.ip_address(pool['end'])
        # The switch's own address (gateway, probe) is outside the pool.
        self.assertLess(end, ipaddress.ip_address(lab_hosts.NET_ADDRESS))
        self.assertLess(start, end)
        self.assertIn(start, ipaddress.ip_network(lab_hosts.GUEST_SUBNET))

    @mock.patch.object(network, 'wait_synced')
    def test_ensure_reuses(self, wait_synced):
        calls = []

        def cloud(*args, **kwargs):
            calls.append(args)
            if args[1] == 'list':
                return [{'Name': network.NETWORK, 'ID': 'n1'},
                        {'Name': network.SUBNET, 'ID': 's1'}]
            raise AssertionError('nothing is created')
        self.assertEqual({'network': 'n1', 'subnet': 's1'},
                         network.ensure(cloud, 'layout'))
        self.assertEqual([('network', 'list'), ('subnet', 'list')], calls)
        wait_synced.assert_called_once_with('layout', 'n1')

    @mock.patch.object(network, 'wait_synced')
    def test_ensure_creates(self, wait_synced):
        def cloud(*args, **kwargs):
            if args[1] == 'list':
                return []
            return {'id': args[0] + '-id'}
        self.assertEqual({'network': 'network-id', 'subnet': 'subnet-id'},
                         network.ensure(cloud, 'layout'))

    @mock.patch.object(network.time, 'sleep')
    @mock.patch.object(ovn, 'nbctl', side_effect=['', 'neutron-n1\n'])
    def test_wait_synced(self, nbctl, sleep):
        network.wait_synced('layout', 'n1')
        self.assertEqual(2, nbctl.call_count)
        self.assertIn('name=neutron-n1', nbctl.call_args[0])

    @mock.patch.object(network.time, 'monotonic', side_effect=[0, 1, 200])
    @mock.patch.object(network.time, 'sleep')
    @mock.patch.object(ovn, 'nbctl', return_value='')
    def test_wait_synced_gives_up(self, nbctl, sleep, monotonic):
        self.assertRaises(paths.AioError, network.wait_synced, 'layout',
                          'n1')
