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

from nova_v2v_rig.aio import gatenet
from nova_v2v_rig.aio import paths
from nova_v2v_rig.lab import hosts as lab_hosts

PORT = {'id': 'p1', 'mac_address': 'FA:16:3E:00:00:01',
        'fixed_ips': [{'subnet_id': 's', 'ip_address': '10.77.1.23'}]}


class TestGatenet(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.lab = lab_hosts.Lab(self.tmp)
        self.layout = paths.Layout(os.path.join(self.tmp, 'aio'))
        self.log = os.path.join(self.tmp, 'console.log')
        with open(self.log, 'w') as f:
            f.write('W 1 1.0\n')
        self.guest = mock.Mock(id='u1', port=PORT)
        self.guest.name = 'gate-x'
        self.guest.tail.paths = [self.log]
        self.guest.tail.merged.return_value = []
        self.useFixture(fixtures.MockPatchObject(gatenet.time, 'sleep'))

    def _say(self, line):
        with open(self.log, 'a') as f:
            f.write(line + '\n')

    def test_guest_address(self):
        self.assertEqual('10.77.1.23', gatenet.guest_address(PORT))
        self.assertRaises(gatenet.NetworkError, gatenet.guest_address,
                          {'id': 'p2', 'fixed_ips': []})

    def test_wait_address_for_the_port_mac_only(self):
        self._say('LABSTART disk=/dev/vda driver=virtio_blk resume=1')
        self._say('LABNET eth0 mac=fa:16:3e:99:99:99 ip=10.77.1.9/24 '
                  'driver=virtio_net')
        self._say('LABNET eth0 mac=fa:16:3e:00:00:01 ip=10.77.1.23/24 '
                  'driver=vmxnet3')
        event = gatenet.wait_address(self.guest)
        self.assertEqual(('10.77.1.23', 'vmxnet3'),
                         (event.address, event.driver))

    def test_wait_address_of_a_new_boot(self):
        # The source's log: the first boot, its address, records to 40.
        self._say('LABSTART disk=/dev/vda driver=virtio_blk resume=1')
        self._say('LABNET eth0 mac=fa:16:3e:00:00:01 ip=10.77.1.23/24 '
                  'driver=vmxnet3')
        self.guest.tail.merged.return_value = [(40, 1.0, 1.0)]
        self.assertEqual(40, gatenet.last_record(self.guest))
        self.assertRaises(gatenet.NetworkError, gatenet.wait_address,
                          self.guest, 40, timeout=0)
        # The destination's log (the source's is gone): a boot that
        # resumed past record 40, then its address.
        dest = os.path.join(self.tmp, 'dest.log')
        self.guest.tail.paths = [dest, self.log]
        os.unlink(self.log)
        with open(dest, 'w') as f:
            f.write('LABSTART disk=/dev/vda driver=virtio_blk resume=43\n'
                    'W 43 2.0\n')
        self.assertRaises(gatenet.NetworkError, gatenet.wait_address,
                          self.guest, 40, timeout=0)
        with open(dest, 'a') as f:
            f.write('LABNET eth0 mac=fa:16:3e:00:00:01 ip=10.77.1.23/24 '
                    'driver=virtio_net\n')
        self.assertEqual('virtio_net',
                         gatenet.wait_address(self.guest, 40).driver)

    def test_a_log_truncated_by_a_new_qemu(self):
        # A revert: the same log, the old boot gone, a new one (resumed at
        # 41, past the 40 records acknowledged before the move).
        with open(self.log, 'w') as f:
            f.write('LABSTART disk=/dev/vda driver=virtio_blk resume=41\n'
                    'LABNET eth0 mac=fa:16:3e:00:00:01 ip=10.77.1.23/24 '
                    'driver=virtio_net\n')
        self.assertEqual('10.77.1.23',
                         gatenet.wait_address(self.guest, 40).address)

    def test_no_address_in_time(self):
        e = self.assertRaises(gatenet.NetworkError, gatenet.wait_address,
                              self.guest, timeout=0)
        self.assertIn('fa:16:3e:00:00:01', str(e))

    @mock.patch.object(gatenet.pingprobe, 'Probe')
    @mock.patch.object(gatenet.netcheck, 'check_move')
    @mock.patch.object(gatenet, 'domain_xml', return_value='<domain/>')
    def test_move_network(self, xml, check, probe):
        probe.return_value.stop.return_value = {
            'anchor': {'wall': 100.0, 'monotonic': 10.0}}
        check.return_value = {'port_host': 'labhost-b', 'problems': ['x']}
        net = gatenet.MoveNetwork(self.layout, self.lab, self.guest,
                                  'live, block (--host)').start()
        args = probe.call_args[0]
        # The probe runs in the lab's switch namespace, to the guest's
        # address, inside the guests' subnet only.
        self.assertEqual((lab_hosts.NET_NETNS, '10.77.1.23',
                          [lab_hosts.GUEST_SUBNET]), args[:3])
        self.assertTrue(args[3].startswith(self.lab.state_dir))
        fields = net.finish('cloud', 'labhost-a', 'labhost-b', 'inst-1',
                            101.0, 105.0)
        self.assertEqual(['x'], fields['network_problems'])
        self.assertEqual('labhost-b', fields['port_host'])
        self.assertEqual('10.77.1.23', fields['guest_address'])
        cargs = check.call_args[0]
        self.assertEqual(('cloud', 'p1', 'labhost-b', 'labhost-a'),
                         cargs[:4])
        # The source's OVS database (a unix socket), the SB database.
        self.assertTrue(cargs[4].startswith('unix:' + self.lab.state_dir))
        self.assertTrue(cargs[5].startswith('unix:'))
        self.assertEqual('<domain/>', cargs[6])
        # The move's window on the probe's clock.
        self.assertEqual((11.0, 15.0), cargs[8:10])
        self.assertEqual('labhost-b', check.call_args[1]['dest_chassis'])
        xml.assert_called_once_with(self.lab, 'labhost-b', 'inst-1')

    @mock.patch.object(gatenet.pingprobe, 'Probe')
    @mock.patch.object(gatenet.netcheck, 'check_move')
    @mock.patch.object(gatenet, 'domain_xml', return_value='')
    def test_a_probe_without_record(self, xml, check, probe):
        probe.return_value.stop.side_effect = gatenet.pingprobe.ProbeError(
            'killed')
        check.return_value = {'problems': []}
        net = gatenet.MoveNetwork(self.layout, self.lab, self.guest, 'm')
        fields = net.finish('cloud', 'labhost-a', 'labhost-b', 'i', 1.0,
                            2.0, left_on='labhost-b')
        self.assertEqual(['the probe left no record'],
                         fields['network_problems'])
        self.assertEqual((None, None, None), check.call_args[0][7:10])
        self.assertEqual('labhost-b', check.call_args[0][3])
