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
import testtools

from nova_v2v_rig.aio import cprelay
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.lab import hosts as lab_hosts

# /proc/<pid>/net/tcp of a lab host: its relay for Keystone listens on
# 127.0.0.1:5000 (0x1388); a connection to 9696 (0x25E0) is established,
# not listening.
PROC_NET_TCP = '''\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt
   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000
   1: 0100007F:9C40 0100007F:25E0 01 00000000:00000000 00:00000000 00000000
   2: 0200004D:1628 00000000:0000 0A 00000000:00000000 00:00000000 00000000
'''


class TestControlPlaneRelays(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.layout = paths.Layout(os.path.join(self.dir, 'aio'))
        self.lab = lab_hosts.Lab(os.path.join(self.dir, 'lab'))

    def test_root_end_dials_only_loopback(self):
        argv = cprelay.root_command(self.layout, 'keystone')
        self.assertEqual(
            ['/usr/bin/socat',
             'UNIX-LISTEN:%s/control-plane/keystone.sock,fork,unlink-early,'
             'mode=600' % self.layout.run_dir,
             'TCP:127.0.0.1:5000'], argv)

    def test_host_end_listens_in_the_host(self):
        # In the lab host's network namespace only (the socket is in the
        # run dir), on its own loopback and the service's port.
        argv = cprelay.host_command(self.layout, self.lab, 'b', 'rabbitmq')
        self.assertEqual(
            ['/usr/bin/nsenter', '--net=/run/netns/nv2v-lab-b', '--',
             '/usr/bin/socat', 'TCP-LISTEN:5672,bind=127.0.0.1,fork,reuseaddr',
             'UNIX-CONNECT:%s/control-plane/rabbitmq.sock'
             % self.layout.run_dir], argv)

    def test_no_end_dials_a_lab_address(self):
        # The network rule: the root ends dial only 127.0.0.1; the hosts'
        # ends only listen there and connect to the run dir's socket.
        for service in cprelay.SERVICES:
            port = paths.PORTS[service]
            root = cprelay.root_command(self.layout, service)
            self.assertEqual('TCP:127.0.0.1:%d' % port, root[-1])
            self.assertNotIn('nsenter', ' '.join(root))
            for host in sorted(lab_hosts.HOSTS):
                argv = cprelay.host_command(self.layout, self.lab, host,
                                            service)
                self.assertEqual('--net=/run/netns/%s'
                                 % self.lab.netns(host), argv[1])
                self.assertEqual(
                    'UNIX-CONNECT:%s'
                    % cprelay.socket_path(self.layout, service), argv[-1])
                self.assertTrue(argv[-2].startswith(
                    'TCP-LISTEN:%d,bind=127.0.0.1,' % port))
            self.assertNotIn('10.77.', ' '.join(root + argv))

    def test_every_service_has_a_port(self):
        for service in cprelay.SERVICES:
            self.assertIsInstance(paths.PORTS[service], int, service)
        # Never the OVN databases: the hosts' ovn-controllers use their
        # own sockets (nova_v2v_rig.aio.ovn).
        self.assertNotIn('ovn-sb', cprelay.SERVICES)

    def test_listening(self):
        path = os.path.join(self.dir, 'tcp')
        with open(path, 'w') as f:
            f.write(PROC_NET_TCP)
        real_open = open

        def fake_open(name, *args, **kwargs):
            if name == '/proc/42/net/tcp':
                return real_open(path, *args, **kwargs)
            return real_open(name, *args, **kwargs)

        with mock.patch.object(cprelay, '_netns_pid', return_value=42), \
                mock.patch('builtins.open', fake_open):
            self.assertTrue(cprelay._listening(self.lab, 'a', 5000))
            self.assertFalse(cprelay._listening(self.lab, 'a', 9696))
            self.assertFalse(cprelay._listening(self.lab, 'a', 5672))
            # A listener on another address is not the relay.
            self.assertFalse(cprelay._listening(self.lab, 'a', 0x1628))
        with mock.patch.object(cprelay, '_netns_pid', return_value=0):
            self.assertFalse(cprelay._listening(self.lab, 'a', 5000))

    @mock.patch.object(procs, 'group_pids', return_value=[])
    @mock.patch.object(procs, 'spawn')
    @mock.patch.object(procs, 'alive', return_value=False)
    def test_a_relay_that_exited_after_the_check_fails(
            self, alive, spawn, group_pids):
        # Ready by its check (the socket or the port of another process),
        # but its own group is gone: it exited.
        self.layout.makedirs()
        spawn.side_effect = lambda lo, name, argv, needle: {
            'pid': 8, 'pgid': 8, 'log': self.layout.log(name)}
        with mock.patch.object(cprelay, '_listening', return_value=True), \
                mock.patch('os.path.exists', return_value=True):
            exc = self.assertRaises(paths.AioError, cprelay.start,
                                    self.layout, self.lab,
                                    paths.new_state())
        self.assertIn('cp-relay-rabbitmq exited', str(exc))
        self.assertEqual(1, spawn.call_count)

    @mock.patch.object(procs, 'group_pids', return_value=[8])
    @mock.patch.object(cprelay, '_listening', return_value=True)
    @mock.patch.object(procs, 'wait_ready')
    @mock.patch.object(procs, 'spawn')
    @mock.patch.object(procs, 'alive')
    def test_start(self, alive, spawn, wait_ready, listening, group_pids):
        state = paths.new_state()
        running = {'pid': 7, 'pgid': 7, 'needle': 'x'}
        state['services']['cp-relay-a-keystone'] = running
        self.layout.makedirs()
        stale = cprelay.socket_path(self.layout, 'keystone')
        os.makedirs(os.path.dirname(stale))
        with open(stale, 'w'):
            pass
        alive.side_effect = lambda record: record is running
        spawn.side_effect = lambda lo, name, argv, needle: {
            'pid': 8, 'pgid': 8, 'argv': argv, 'needle': needle}
        cprelay.start(self.layout, self.lab, state)
        services = len(cprelay.SERVICES)
        # One root end per service, one per host and service but the one
        # that runs; the stale socket removed before its root end starts.
        self.assertEqual(services + 2 * services - 1, spawn.call_count)
        self.assertFalse(os.path.lexists(stale))
        saved = self.layout.load()['services']
        self.assertEqual(running, saved['cp-relay-a-keystone'])
        self.assertEqual(
            cprelay.host_command(self.layout, self.lab, 'b', 'keystone'),
            saved['cp-relay-b-keystone']['argv'])
        self.assertEqual(cprelay.root_command(self.layout, 'glance-api'),
                         saved['cp-relay-glance-api']['argv'])
        # Each record's needle is in its process's command line (the
        # socket's path), so that a stop finds exactly that process.
        for name, record in saved.items():
            if name != 'cp-relay-a-keystone':
                self.assertIn(record['needle'], ' '.join(record['argv']))
        self.assertEqual(sorted(saved), cprelay.names(
            {'services': dict(saved, **{'nova-compute-a': {}})}))
        # The root ends are ready with their socket, the hosts' with a
        # listener in their namespace.
        by_name = {c[0][0]: c[0][2] for c in wait_ready.call_args_list}
        self.assertFalse(by_name['cp-relay-keystone']())
        with open(stale, 'w'):
            pass
        self.assertTrue(by_name['cp-relay-keystone']())
        self.assertTrue(by_name['cp-relay-b-placement']())
        listening.assert_called_with(self.lab, 'b', 8778)
