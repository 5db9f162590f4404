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

"""The gate's network checks on captured output.

The ``ovs-vsctl`` and ``ovn-sbctl --format=json`` outputs below were
captured from Open vSwitch 3.1 and OVN 23.03 (Debian's packages), each
``ovsdb-server`` on a throwaway database of its schema
(``vswitch.ovsschema``, ``ovn-sb.ovsschema`` 20.27.0) on a unix socket;
the ``port show`` output follows python-openstackclient 10.5's column
names (``openstackclient/network/v2/port.py``).
"""

import json
from unittest import mock

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import netcheck

PORT = '1234abcd-1234-4123-8123-123456789abc'
OTHER = '5678abcd-1234-4123-8123-123456789abc'
UUID_A = 'fc4c72f2-8b42-4cb1-912f-f8be02e54aab'
UUID_B = 'bce6ac8c-6f9d-4098-82d3-5ae0fc13cbde'

OVS_ONE = (
    '{"data":[["tap1234abcd-12",["map",[["attached-mac","fa:16:3e:11:22:33"'
    '],["iface-id","1234abcd-1234-4123-8123-123456789abc"],["iface-status",'
    '"active"],["vm-uuid","11111111-2222-4333-8444-555555555555"]]]]],'
    '"headings":["name","external_ids"]}\n')
OVS_TWO = (
    '{"data":[["tap1234abcd-13",["map",[["iface-id","1234abcd-1234-4123-8123'
    '-123456789abc"]]]],["tap1234abcd-12",["map",[["attached-mac","fa:16:3e:'
    '11:22:33"],["iface-id","1234abcd-1234-4123-8123-123456789abc"],["iface'
    '-status","active"],["vm-uuid","11111111-2222-4333-8444-555555555555"]]'
    ']]],"headings":["name","external_ids"]}\n')
OVS_NONE = '{"data":[],"headings":["name","external_ids"]}\n'

CHASSIS = (
    '{"data":[[["uuid","bce6ac8c-6f9d-4098-82d3-5ae0fc13cbde"],"labhost-b"],'
    '[["uuid","fc4c72f2-8b42-4cb1-912f-f8be02e54aab"],"labhost-a"]],'
    '"headings":["_uuid","name"]}\n')
HEADINGS = ('"headings":["logical_port","chassis","additional_chassis",'
            '"requested_chassis","requested_additional_chassis","up",'
            '"options"]}\n')
# Bound to labhost-b alone.
PB_DONE = (
    '{"data":[["1234abcd-1234-4123-8123-123456789abc",["uuid","bce6ac8c-6f9d'
    '-4098-82d3-5ae0fc13cbde"],["set",[]],["uuid","bce6ac8c-6f9d-4098-82d3-'
    '5ae0fc13cbde"],["set",[]],true,["map",[["requested-chassis","labhost-'
    'b"]]]]],' + HEADINGS)
# A live migration in progress: claimed by labhost-a, labhost-b additional,
# both requested (Neutron's multiple port bindings, activation-strategy).
PB_MOVING = (
    '{"data":[["5678abcd-1234-4123-8123-123456789abc",["uuid","fc4c72f2-8b42'
    '-4cb1-912f-f8be02e54aab"],["uuid","bce6ac8c-6f9d-4098-82d3-5ae0fc13cbde'
    '"],["uuid","fc4c72f2-8b42-4cb1-912f-f8be02e54aab"],["uuid","bce6ac8c-6f'
    '9d-4098-82d3-5ae0fc13cbde"],false,["map",[["activation-strategy","rarp'
    '"],["requested-chassis","labhost-a,labhost-b"]]]]],' + HEADINGS)
# Never bound: every optional column empty.
PB_UNBOUND = ('{"data":[["99",["set",[]],["set",[]],["set",[]],["set",[]],'
              '["set",[]],["map",[]]]],' + HEADINGS)
PB_NONE = '{"data":[],' + HEADINGS
# A set of two references is a set; of one, the reference itself.
TWO_ADDITIONAL = (
    '{"data":[["99",["set",[["uuid","bce6ac8c-6f9d-4098-82d3-5ae0fc13cbde"],'
    '["uuid","fc4c72f2-8b42-4cb1-912f-f8be02e54aab"]]]]],"headings":["logic'
    'al_port","additional_chassis"]}\n')

PORT_SHOW = {
    'admin_state_up': True, 'allowed_address_pairs': [],
    'binding_host_id': 'labhost-b',
    'binding_profile': {},
    'binding_vif_details': {'port_filter': True, 'connectivity': 'l2',
                            'bridge_name': 'br-int', 'datapath_type':
                            'netdev', 'bound_drivers': {'0': 'ovn'}},
    'binding_vif_type': 'ovs', 'binding_vnic_type': 'normal',
    'created_at': '2026-12-06T20:00:00Z', 'data_plane_status': None,
    'description': '', 'device_id': '11111111-2222-4333-8444-555555555555',
    'device_owner': 'compute:nova', 'device_profile': None,
    'dns_assignment': [], 'dns_domain': None, 'dns_name': '',
    'extra_dhcp_opts': [],
    'fixed_ips': [{'subnet_id': '22222222-2222-4333-8444-555555555555',
                   'ip_address': '10.77.1.10'}],
    'id': PORT, 'ip_allocation': 'immediate',
    'mac_address': 'FA:16:3E:11:22:33', 'name': 'gate-local-port',
    'network_id': '33333333-2222-4333-8444-555555555555',
    'port_security_enabled': True, 'project_id': 'p', 'revision_number': 7,
    'security_group_ids': ['44444444-2222-4333-8444-555555555555'],
    'status': 'ACTIVE', 'tags': [], 'trunk_details': None,
    'updated_at': '2026-12-06T20:01:00Z'}

DOMAIN = """<domain type='qemu'>
  <name>instance-00000001</name>
  <devices>
    <disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>
    <interface type='ethernet'>
      <mac address='fa:16:3e:11:22:33'/>
      <target dev='tap1234abcd-12' managed='no'/>
      <model type='virtio'/>
    </interface>
    <interface type='ethernet'>
      <mac address='FA:16:3E:99:88:77'/>
      <model type='e1000'/>
    </interface>
    <serial type='file'><source path='/x/console.log'/></serial>
  </devices>
</domain>
"""


class TestPort(testtools.TestCase):

    def test_port_facts(self):
        self.assertEqual(
            {'id': PORT, 'host': 'labhost-b', 'status': 'ACTIVE',
             'mac': 'fa:16:3e:11:22:33', 'ips': ['10.77.1.10'],
             'vif_type': 'ovs',
             'device_id': '11111111-2222-4333-8444-555555555555'},
            netcheck.port_facts(PORT_SHOW))

    def test_port_facts_neutron_names(self):
        facts = netcheck.port_facts({'binding:host_id': 'labhost-a',
                                     'binding:vif_type': 'unbound',
                                     'id': PORT, 'status': 'DOWN',
                                     'mac_address': 'fa:16:3e:00:00:01'})
        self.assertEqual(('labhost-a', 'unbound', 'DOWN'),
                         (facts['host'], facts['vif_type'],
                          facts['status']))

    def test_port_facts_unbound(self):
        facts = netcheck.port_facts(dict(PORT_SHOW, binding_host_id='',
                                         status='DOWN'))
        self.assertIsNone(facts['host'])
        self.assertEqual(['port %s bound to None, not labhost-b' % PORT,
                          'port %s is DOWN, not ACTIVE' % PORT],
                         netcheck.port_problems(facts, 'labhost-b'))
        self.assertEqual({}, {k: v for k, v in netcheck.port_facts(
            None).items() if v not in (None, [])})

    def test_port_problems(self):
        facts = netcheck.port_facts(PORT_SHOW)
        self.assertEqual([], netcheck.port_problems(facts, 'labhost-b'))
        self.assertEqual(['port %s bound to labhost-b, not labhost-a'
                          % PORT],
                         netcheck.port_problems(facts, 'labhost-a'))

    def test_wait_port_until_active(self):
        self.useFixture(fixtures.MockPatch('time.sleep'))
        cloud = mock.Mock(side_effect=[
            dict(PORT_SHOW, binding_host_id='labhost-a', status='ACTIVE'),
            dict(PORT_SHOW, status='DOWN'),
            cli.CommandFailed('openstack port show: exit 1: 503'),
            PORT_SHOW])
        facts, problems = netcheck.wait_port(cloud, PORT, 'labhost-b')
        self.assertEqual([], problems)
        self.assertEqual('ACTIVE', facts['status'])
        self.assertEqual(4, cloud.call_count)
        cloud.assert_called_with('port', 'show', PORT, parse=True)

    def test_wait_port_gives_up(self):
        self.useFixture(fixtures.MockPatch('time.sleep'))
        clock = iter(range(0, 1000, 10))
        self.useFixture(fixtures.MockPatch('time.monotonic',
                                           side_effect=lambda: next(clock)))
        cloud = mock.Mock(return_value=dict(PORT_SHOW, status='DOWN'))
        facts, problems = netcheck.wait_port(cloud, PORT, 'labhost-b',
                                             timeout=30)
        self.assertEqual(['port %s is DOWN, not ACTIVE' % PORT], problems)
        # Read at 10, 20 and 30 s (the deadline).
        self.assertEqual(3, cloud.call_count)


class TestMac(testtools.TestCase):

    def test_domain_macs(self):
        self.assertEqual(['fa:16:3e:11:22:33', 'fa:16:3e:99:88:77'],
                         netcheck.domain_macs(DOMAIN))

    def test_mac_kept(self):
        self.assertEqual((True, []),
                         netcheck.mac_kept(DOMAIN, 'FA:16:3E:11:22:33'))
        self.assertEqual((True, []),
                         netcheck.mac_kept(DOMAIN, 'fa:16:3e:99:88:77'))

    def test_mac_lost(self):
        kept, problems = netcheck.mac_kept(DOMAIN, 'fa:16:3e:00:00:01')
        self.assertFalse(kept)
        self.assertEqual(["the destination's domain has MACs "
                          "fa:16:3e:11:22:33, fa:16:3e:99:88:77, not the "
                          "port's fa:16:3e:00:00:01"], problems)

    def test_no_interface_no_xml_bad_xml(self):
        self.assertFalse(netcheck.mac_kept(
            '<domain><devices/></domain>', 'fa:16:3e:00:00:01')[0])
        self.assertIn('MACs none', netcheck.mac_kept(None, 'x')[1][0])
        kept, problems = netcheck.mac_kept('<domain>', 'x')
        self.assertFalse(kept)
        self.assertIn("the destination's domain XML:", problems[0])
        self.assertFalse(netcheck.mac_kept(DOMAIN, None)[0])


class TestOvsdb(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.execute = self.useFixture(fixtures.MockPatchObject(
            processutils, 'execute')).mock

    def test_rows(self):
        self.assertEqual(
            [{'name': 'tap1234abcd-12',
              'external_ids': {'attached-mac': 'fa:16:3e:11:22:33',
                               'iface-id': PORT, 'iface-status': 'active',
                               'vm-uuid': '11111111-2222-4333-8444-'
                                          '555555555555'}}],
            netcheck.ovsdb_rows(OVS_ONE))
        self.assertEqual([], netcheck.ovsdb_rows(OVS_NONE))
        self.assertEqual([{'logical_port': '99',
                           'additional_chassis': [UUID_B, UUID_A]}],
                         netcheck.ovsdb_rows(TWO_ADDITIONAL))

    def test_ovs_interfaces(self):
        self.execute.return_value = (OVS_TWO, '')
        self.assertEqual(['tap1234abcd-12', 'tap1234abcd-13'],
                         netcheck.ovs_interfaces('unix:/run/a/db.sock',
                                                 PORT))
        self.execute.assert_called_once_with(
            'ovs-vsctl', '--db=unix:/run/a/db.sock', '--timeout=10',
            '--format=json', '--columns=name,external_ids', 'find',
            'Interface', 'external_ids:iface-id=%s' % PORT)
        self.execute.return_value = (OVS_NONE, '')
        self.assertEqual([], netcheck.ovs_interfaces('unix:/x', PORT))

    def test_unreadable_database(self):
        self.execute.side_effect = processutils.ProcessExecutionError(
            stderr='ovs-vsctl: unix:/x: database connection failed')
        self.assertRaisesRegex(netcheck.NetCheckError,
                               'database connection failed',
                               netcheck.ovs_interfaces, 'unix:/x', PORT)

    def test_port_binding(self):
        self.execute.side_effect = [(PB_DONE, ''), (CHASSIS, '')]
        self.assertEqual(
            {'chassis': 'labhost-b', 'additional_chassis': [],
             'requested_chassis': 'labhost-b',
             'requested_additional_chassis': [],
             'requested_option': ['labhost-b'], 'up': True},
            netcheck.port_binding('tcp:127.0.0.1:6642', PORT))
        self.assertEqual(
            [mock.call('ovn-sbctl', '--db=tcp:127.0.0.1:6642',
                       '--timeout=10', '--format=json',
                       '--columns=logical_port,chassis,additional_chassis,'
                       'requested_chassis,requested_additional_chassis,up,'
                       'options', 'find', 'Port_Binding',
                       'logical_port=%s' % PORT),
             mock.call('ovn-sbctl', '--db=tcp:127.0.0.1:6642',
                       '--timeout=10', '--format=json',
                       '--columns=_uuid,name', 'list', 'Chassis')],
            self.execute.call_args_list)

    def test_port_binding_moving(self):
        self.execute.side_effect = [(PB_MOVING, ''), (CHASSIS, '')]
        binding = netcheck.port_binding('unix:/sb.sock', OTHER)
        self.assertEqual(
            {'chassis': 'labhost-a', 'additional_chassis': ['labhost-b'],
             'requested_chassis': 'labhost-a',
             'requested_additional_chassis': ['labhost-b'],
             'requested_option': ['labhost-a', 'labhost-b'], 'up': False},
            binding)
        self.assertEqual(
            ['port %s: Port_Binding chassis labhost-a, not labhost-b'
             % OTHER,
             'port %s: Port_Binding still has additional_chassis labhost-b'
             % OTHER,
             'port %s: Port_Binding requested_chassis labhost-a, not '
             'labhost-b' % OTHER,
             'port %s: Port_Binding requested_additional_chassis labhost-b'
             % OTHER,
             'port %s: options:requested-chassis labhost-a,labhost-b, not '
             'labhost-b' % OTHER,
             'port %s: Port_Binding up is False' % OTHER],
            netcheck.binding_problems(OTHER, binding, 'labhost-b'))

    def test_port_binding_unbound_and_missing(self):
        self.execute.side_effect = [(PB_UNBOUND, ''), (CHASSIS, '')]
        binding = netcheck.port_binding('unix:/sb.sock', '99')
        self.assertEqual(
            {'chassis': None, 'additional_chassis': [],
             'requested_chassis': None, 'requested_additional_chassis': [],
             'requested_option': [], 'up': None}, binding)
        self.assertEqual(
            ['port 99: Port_Binding chassis None, not labhost-b',
             'port 99: Port_Binding up is None'],
            netcheck.binding_problems('99', binding, 'labhost-b'))
        self.execute.side_effect = [(PB_NONE, '')]
        self.assertIsNone(netcheck.port_binding('unix:/sb.sock', PORT))
        self.assertEqual(["no Port_Binding for port %s in OVN's southbound "
                          "database" % PORT],
                         netcheck.binding_problems(PORT, None, 'labhost-b'))

    def test_binding_clean(self):
        self.execute.side_effect = [(PB_DONE, ''), (CHASSIS, '')]
        binding = netcheck.port_binding('unix:/sb.sock', PORT)
        self.assertEqual([], netcheck.binding_problems(PORT, binding,
                                                       'labhost-b'))
        self.assertIn('port %s: Port_Binding chassis labhost-b, not '
                      'labhost-a' % PORT,
                      netcheck.binding_problems(PORT, binding, 'labhost-a'))

    def test_unknown_chassis_reference_shown_as_uuid(self):
        row = netcheck.ovsdb_rows(PB_MOVING)[0]
        facts = netcheck.binding_facts(row, {UUID_B: 'labhost-b'})
        self.assertEqual(UUID_A, facts['chassis'])


class TestSourceClean(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatch('time.sleep'))
        self.execute = self.useFixture(fixtures.MockPatchObject(
            processutils, 'execute')).mock

    def test_settles(self):
        # Mid-move, then the source's VIF unplugged and OVN caught up.
        self.execute.side_effect = [
            (OVS_ONE, ''), (PB_MOVING.replace(OTHER, PORT), ''),
            (CHASSIS, ''),
            (OVS_NONE, ''), (PB_DONE, ''), (CHASSIS, '')]
        interfaces, binding, problems = netcheck.wait_source_clean(
            PORT, 'labhost-a', 'unix:/a/db.sock', 'unix:/sb.sock',
            'labhost-b')
        self.assertEqual(([], 'labhost-b', []),
                         (interfaces, binding['chassis'], problems))

    def test_left_on_the_source(self):
        clock = iter(range(0, 1000, 20))
        self.useFixture(fixtures.MockPatch('time.monotonic',
                                           side_effect=lambda: next(clock)))
        self.execute.side_effect = lambda *argv: {
            'ovs-vsctl': (OVS_ONE, ''),
            'find': (PB_DONE, ''), 'list': (CHASSIS, '')}[
                argv[0] if argv[0] == 'ovs-vsctl' else argv[5]]
        interfaces, binding, problems = netcheck.wait_source_clean(
            PORT, 'labhost-a', 'unix:/a/db.sock', 'unix:/sb.sock',
            'labhost-b', timeout=30)
        self.assertEqual(['tap1234abcd-12'], interfaces)
        self.assertEqual(["port %s still plugged on labhost-a's Open "
                          "vSwitch: tap1234abcd-12" % PORT], problems)


def _record(outage=(None, None)):
    """Requests every 10 ms over 0..20 s, lost in [outage)."""
    sent = [round(n * 0.01, 3) for n in range(1900)]
    a, b = outage
    replies = [[n, t + 0.001] for n, t in enumerate(sent)
               if a is None or not a <= t < b]
    return {'sent': sent, 'replies': replies, 'started': 0.0, 'ended': 20.0,
            'anchor': {'wall': 5000.0, 'monotonic': 0.0}}


class TestCheckMove(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatch('time.sleep'))
        self.execute = self.useFixture(fixtures.MockPatchObject(
            processutils, 'execute')).mock
        self.cloud = mock.Mock(return_value=PORT_SHOW)

    def check(self, record, **kwargs):
        args = dict(cloud=self.cloud, port=PORT, dest_host='labhost-b',
                    source_host='labhost-a', source_ovsdb='unix:/a/db.sock',
                    sbdb='unix:/sb.sock', dest_xml=DOMAIN, record=record,
                    start=5.005, end=15.005)
        args.update(kwargs)
        return netcheck.check_move(**args)

    def test_all_good(self):
        self.execute.side_effect = [(OVS_NONE, ''), (PB_DONE, ''),
                                    (CHASSIS, '')]
        result = self.check(_record((8.0, 8.4)))
        self.assertEqual([], result['problems'])
        for key, value in (('port', PORT), ('port_host', 'labhost-b'),
                           ('port_status', 'ACTIVE'), ('mac_kept', True),
                           ('port_mac', 'fa:16:3e:11:22:33'),
                           ('network_downtime_ms', 410),
                           ('network_downtime_open', False),
                           ('packets_lost', 40), ('packets_lost_after', 0),
                           ('probes_sent', 1000), ('probes_answered', 960),
                           ('source_vifs', [])):
            self.assertEqual(value, result[key], key)
        self.assertGreaterEqual(result['answers_after_end'], 100)
        self.assertEqual('labhost-b', result['port_binding']['chassis'])
        json.dumps(result)

    def test_everything_wrong(self):
        self.execute.side_effect = lambda *argv: {
            'ovs-vsctl': (OVS_ONE, ''),
            'find': (PB_MOVING.replace(OTHER, PORT), ''),
            'list': (CHASSIS, '')}[
                argv[0] if argv[0] == 'ovs-vsctl' else argv[5]]
        self.cloud.return_value = dict(PORT_SHOW,
                                       binding_host_id='labhost-a',
                                       status='DOWN',
                                       mac_address='fa:16:3e:00:00:01')
        result = self.check(_record((14.0, 99)), port_timeout=0,
                            binding_timeout=0)
        self.assertEqual(('labhost-a', 'DOWN', False),
                         (result['port_host'], result['port_status'],
                          result['mac_kept']))
        self.assertTrue(result['network_downtime_open'])
        problems = '\n'.join(result['problems'])
        for text in ('bound to labhost-a, not labhost-b',
                     'is DOWN, not ACTIVE',
                     "not the port's fa:16:3e:00:00:01",
                     "the guest answered 0 probes after the move's end",
                     'did not answer again before the probe stopped',
                     "still plugged on labhost-a's Open vSwitch",
                     'Port_Binding chassis labhost-a, not labhost-b',
                     'Port_Binding up is False'):
            self.assertIn(text, problems)

    def test_down_by_neutrons_activation_race(self):
        # OVN has the port up on the destination, alone; the guest answers
        # there; Neutron says DOWN: the race is named apart, not a problem.
        self.execute.side_effect = [(OVS_NONE, ''), (PB_DONE, ''),
                                    (CHASSIS, '')]
        self.cloud.return_value = dict(PORT_SHOW, status='DOWN')
        result = self.check(_record((8.0, 8.4)), port_timeout=0)
        self.assertTrue(result['port_status_stale'])
        self.assertEqual([], result['problems'])
        self.assertEqual(1, len(result['upstream_defects']))
        self.assertIn("is DOWN in Neutron while OVN has it up on labhost-b "
                      "and the guest answers there (Neutron's activation "
                      "race", result['upstream_defects'][0])

    def test_the_race_hides_no_other_problem(self):
        # The same race on a guest whose MAC changed: the MAC is a problem.
        self.execute.side_effect = [(OVS_NONE, ''), (PB_DONE, ''),
                                    (CHASSIS, '')]
        self.cloud.return_value = dict(PORT_SHOW, status='DOWN',
                                       mac_address='fa:16:3e:00:00:01')
        result = self.check(_record((8.0, 8.4)), port_timeout=0)
        self.assertTrue(result['port_status_stale'])
        self.assertEqual(1, len(result['problems']), result['problems'])
        self.assertIn("not the port's fa:16:3e:00:00:01",
                      result['problems'][0])

    def test_down_and_silent_is_not_the_race(self):
        self.execute.side_effect = [(OVS_NONE, ''), (PB_DONE, ''),
                                    (CHASSIS, '')]
        self.cloud.return_value = dict(PORT_SHOW, status='DOWN')
        result = self.check(_record((14.0, 99)), port_timeout=0)
        self.assertFalse(result['port_status_stale'])
        self.assertIn('port %s is DOWN, not ACTIVE' % PORT,
                      result['problems'])

    def test_status_stale_needs_ovn_up_on_the_destination(self):
        facts = {'id': PORT, 'status': 'DOWN'}
        probed = {'answers_after_end': 150, 'network_downtime_open': False}
        up = {'chassis': 'labhost-b', 'additional_chassis': [],
              'requested_chassis': 'labhost-b',
              'requested_additional_chassis': [],
              'requested_option': ['labhost-b'], 'up': True}
        self.assertTrue(netcheck.status_stale(facts, up, 'labhost-b',
                                              probed))
        for binding in (None, dict(up, up=False),
                        dict(up, chassis='labhost-a'),
                        dict(up, additional_chassis=['labhost-a'])):
            self.assertIsNone(netcheck.status_stale(facts, binding,
                                                    'labhost-b', probed))
        self.assertIsNone(netcheck.status_stale(
            dict(facts, status='ACTIVE'), up, 'labhost-b', probed))
        self.assertIsNone(netcheck.status_stale(
            facts, up, 'labhost-b', dict(probed, answers_after_end=0)))
        self.assertIsNone(netcheck.status_stale(
            facts, up, 'labhost-b', dict(probed, network_downtime_open=True)))

    def test_no_record_and_unreadable_databases(self):
        self.execute.side_effect = processutils.ProcessExecutionError(
            stderr='database connection failed')
        result = self.check(None)
        self.assertIsNone(result['network_downtime_ms'])
        self.assertIsNone(result['packets_lost'])
        self.assertIsNone(result['source_vifs'])
        self.assertEqual(2, len(result['problems']))
        self.assertIn('no probe record', result['problems'][0])
        self.assertIn('database connection failed', result['problems'][1])

    def test_chassis_name_given(self):
        self.execute.side_effect = [(OVS_NONE, ''), (PB_DONE, ''),
                                    (CHASSIS, '')]
        result = self.check(_record(), dest_host='labhost-b.example',
                            dest_chassis='labhost-b', port_timeout=0)
        self.assertEqual(['port %s bound to labhost-b, not labhost-b.example'
                          % PORT], result['problems'][:1])
        self.assertEqual(1, len(result['problems']))
