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

import hashlib
import os
from unittest import mock

import fixtures
import testtools

from nova_v2v import notifications
from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import gatereport
from nova_v2v_rig.aio import observe
from nova_v2v_rig.aio import paths
from nova_v2v_rig.lab import console as lab_console
from nova_v2v_rig.lab import harness as lab_harness
from nova_v2v_rig.lab import hosts as lab_hosts
from nova_v2v_rig.lab import migrate as lab_migrate
from nova_v2v_rig.lab import workload

U1 = '11111111-2222-4333-8444-555555555555'
U2 = '99999999-2222-4333-8444-555555555555'


def _record(n):
    body = b'SEQ %010d T %s' % (n, b'100.000000')
    line = body + b' ' + hashlib.md5(body).hexdigest().encode() + b'\n'
    return line.ljust(workload.SECTOR, b'\0')


def _disk(records, header=None):
    top = max(records) if records else 0
    head = b'LABHDR %010d\n' % (header if header is not None else top)
    data = [head.ljust(workload.SECTOR, b'\0')]
    for n in range(1, top + 1):
        data.append(_record(n) if n in records
                    else b'\0' * workload.SECTOR)
    return b''.join(data)


class TestPureHelpers(testtools.TestCase):

    def test_largest_gap_counts_the_gap_over_the_start(self):
        acks = [(1, 10.0, 0), (2, 10.1, 0), (3, 13.1, 0), (4, 13.2, 0)]
        # The move started at 10.5, while the guest was already quiet.
        self.assertEqual(3.0, gatemove.largest_gap(acks, 10.5, 13.2))
        self.assertEqual(0.1, gatemove.largest_gap(acks, 13.15, 13.2))
        self.assertIsNone(gatemove.largest_gap([], 0, 1))

    def test_planned_mode_of_the_server_only(self):
        log = '\n'.join([
            '... [instance: %s] V2V plan: block-live from a (tcg) to b' % U1,
            '... [instance: %s] V2V plan: shared-live from a (tcg) to b' % U2,
            '... [instance: %s] V2V plan: v2v-cutover from a (tcg) to b' % U1,
        ])
        self.assertEqual('v2v-cutover', observe.planned_mode(log, U1))
        self.assertEqual('shared-live', observe.planned_mode(log, U2))
        self.assertIsNone(observe.planned_mode('', U1))
        self.assertEqual('offline', observe.planned_mode(
            '[instance: %s] V2V offline plan: offline from a (tcg) to b'
            % U1, U1))

    def test_acks_are_checked_against_the_disk(self):
        acks = [(n, 0.0, 100.0 + n / 10.0) for n in (1, 2, 3)]
        text = gatemove.acks_text(acks)
        self.assertEqual([(1, 100.1), (2, 100.2), (3, 100.3)],
                         workload.parse_acks(text))
        good = workload.verify(_disk({1, 2, 3}), [text])
        self.assertEqual((3, 3, 0), (good['records_written'],
                                     good['records_verified'],
                                     good['records_lost']))
        bad = workload.verify(_disk({1, 3}), [text])
        self.assertEqual(1, bad['records_lost'])
        self.assertEqual([2], bad['lost'])


class TestConsoleTail(testtools.TestCase):

    def test_reads_lines_and_a_truncated_log_again(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        log = os.path.join(tmp, 'console.log')
        other = os.path.join(tmp, 'other.log')
        with open(log, 'w') as f:
            f.write('boot\nW 1 10.5\nW 2 10.6\nW 3')
        tail = lab_harness.SerialTail([log, other, log])
        self.assertEqual([log, other], tail.paths)
        tail._scan()
        self.assertEqual([1, 2], [a[0] for a in tail.merged()])
        # A new QEMU truncates the log: it is read from its start.
        with open(log, 'w') as f:
            f.write('W 4 11.0\n')
        with open(other, 'w') as f:
            f.write('W 5 11.1\n')
        tail._scan()
        self.assertEqual([1, 2, 4, 5], [a[0] for a in tail.merged()])
        self.assertEqual(11.1, tail.merged()[-1][2])
        self.assertEqual((4, 11.0), (tail.last_ack(log)[0],
                                     tail.last_ack(log)[2]))

    def test_wait_ack(self):
        tail = mock.Mock()
        tail.merged.return_value = [(1, 5.0, 0.0), (2, 7.0, 0.0)]
        self.assertEqual(2, gatemove.wait_ack(tail, 6.0, 1, 'x')[0])
        with mock.patch.object(gatemove.time, 'sleep'):
            self.assertRaises(gatemove.GateError, gatemove.wait_ack, tail,
                              8.0, 0, 'x')


class FakeCloud(object):
    """The answers of the openstack client during one live move."""

    def __init__(self, before_host, after_host, status='completed',
                 migration_dest=None):
        self.before_host = before_host
        self.after_host = after_host
        self.moved = False
        self.status = status
        self.migration_dest = migration_dest or after_host
        self.commands = []

    def __call__(self, *args, parse=False, check=True):
        self.commands.append(args)
        if args[:2] == ('server', 'migrate'):
            self.moved = True
        return {} if parse else ''

    def server(self, server):
        return {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host':
                self.after_host if self.moved else self.before_host}

    def wait_status(self, server, wanted, **kwargs):
        return self.server(server)

    def migrations(self, server):
        rows = [{'Id': 1, 'Status': 'completed', 'Type': 'live-migration'}]
        if self.moved:
            rows.insert(0, {'Id': 2, 'UUID': 'm2', 'Status': self.status,
                            'Type': 'live-migration',
                            'Source Compute': self.before_host,
                            'Dest Compute': self.migration_dest})
        return rows


class TestRunMove(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.layout = paths.Layout(self.useFixture(fixtures.TempDir()).path)
        self.guest = mock.Mock(id=U1, port=None)
        self.guest.instance_dir.return_value = '/i/' + U1
        self.guest.tail.merged.return_value = [(1, 0.0, 0.0)]
        self.guest.tail.paths = ['/log']
        self.guest.tail.acks = {'/log': [(1, 0.0, 0.0)]}
        self.guest.crash.return_value = None
        self.useFixture(fixtures.MockPatchObject(
            gatemove, 'wait_ack', return_value=(9, 1.0, 0.0)))
        self.records = {'records_written': 9, 'records_verified': 9,
                        'records_lost': 0, 'lost': [], 'serial_gaps': [],
                        'serial_unacked': []}
        self.useFixture(fixtures.MockPatchObject(
            gatemove, 'read_records', side_effect=lambda *a: self.records))
        self.useFixture(fixtures.MockPatchObject(gatemove.time, 'sleep'))
        self.mode = self.useFixture(fixtures.MockPatchObject(
            observe, 'planned_mode', return_value='block-live')).mock
        self.watch = self.useFixture(fixtures.MockPatchObject(
            observe, 'MigrationWatch')).mock
        self.watch.return_value.seen = ['running', 'completed']
        self.watch.return_value.shown = {'status': 'running'}
        self.events = mock.Mock()
        self.events.wait_for.return_value = list(
            observe.EXPECTED_EVENTS['block-live'])
        self.events.payload.return_value = {'mode': 'block-live'}
        self.left = self.useFixture(fixtures.MockPatchObject(
            gatemove, 'source_leftovers', return_value=[])).mock
        self.fmt = self.useFixture(fixtures.MockPatchObject(
            gatemove, 'disk_format', return_value='qcow2')).mock
        versions = {'labhost-a': (7002000, 9000000),
                    'labhost-b': (10000002, 11003000)}
        self.useFixture(fixtures.MockPatchObject(
            gatemove, '_versions', side_effect=lambda lab, h: versions[h]))

    def _run(self, cloud, **kwargs):
        kwargs.setdefault('events', self.events)
        return gatemove.run_move(self.layout, cloud, self.guest, 'move',
                                 ('server', 'migrate', '--live-migration'),
                                 'labhost-b', 'block-live', **kwargs)

    def test_all_checks_pass(self):
        result = self._run(FakeCloud('labhost-a', 'labhost-b'))
        self.assertEqual([], result['problems'])
        self.assertTrue(result['ok'])
        self.assertEqual(('labhost-a', 'labhost-b', 'block-live'),
                         (result['from'], result['to'], result['mode']))
        self.assertEqual('completed', result['migration']['status'])
        self.assertEqual(['running', 'completed'], result['listed_during'])

    def test_versions_and_disk_format(self):
        result = self._run(FakeCloud('labhost-a', 'labhost-b'))
        self.assertEqual(
            ('7.2.0', '9.0.0', '10.0.2', '11.3.0', 'qcow2'),
            (result['source_qemu'], result['source_libvirt'],
             result['dest_qemu'], result['dest_libvirt'],
             result['disk_format']))
        self.fmt.assert_called_once_with(self.guest.lab, 'b',
                                         self.guest.inside.return_value)

    def test_disk_in_another_format_than_expected(self):
        result = self._run(FakeCloud('labhost-a', 'labhost-b'),
                           expect_format='raw')
        self.assertEqual(['its disk is qcow2 on labhost-b, not raw'],
                         result['problems'])
        self.fmt.return_value = 'raw'
        self.assertTrue(self._run(FakeCloud('labhost-a', 'labhost-b'),
                                  expect_format='raw')['ok'])

    def test_unreadable_versions_are_none(self):
        gatemove._versions.side_effect = gatemove.libvirt.libvirtError('x')
        result = self._run(FakeCloud('labhost-a', 'labhost-b'))
        self.assertTrue(result['ok'])
        self.assertIsNone(result['dest_qemu'])

    def test_each_check_can_fail(self):
        self.mode.return_value = 'v2v-cutover'
        self.records.update(records_lost=2, lost=[4, 5],
                            records_verified=3)
        self.left.return_value = ['domain:instance-1']
        self.events.wait_for.return_value = [notifications.PLAN]
        self.events.payload.return_value = {'mode': 'v2v-cutover'}
        self.watch.return_value.seen = []
        result = self._run(FakeCloud('labhost-a', 'labhost-a',
                                     status='failed',
                                     migration_dest='labhost-b'))
        self.assertFalse(result['ok'])
        problems = '\n'.join(result['problems'])
        for text in ('on labhost-a, not labhost-b',
                     'mode v2v-cutover, not block-live',
                     '2 records lost', 'verified up to 3 of 9',
                     'migration record failed, not completed',
                     'labhost-a -> labhost-b, not labhost-a -> labhost-a',
                     'not listed while it ran',
                     'left on labhost-a: domain:instance-1',
                     "events ['v2v.migration.plan'], not",
                     'the plan event says v2v-cutover, not block-live'):
            self.assertIn(text, problems)

    def test_crash_after_the_move(self):
        self.guest.crash.return_value = lab_console.Crash(
            'Oops: 0000 [#1] PREEMPT SMP NOPTI', 'hrtimer-rbtree')
        self.events.payload.return_value = {'mode': 'block-live',
                                            'cautions': ['QEMU 7.2.22 ...']}
        exc = self.assertRaises(lab_migrate.GuestCrashed, self._run,
                                FakeCloud('labhost-a', 'labhost-b'))
        self.assertEqual(('Oops: 0000 [#1] PREEMPT SMP NOPTI',
                          'QEMU 7.2.22 ...', 'hrtimer-rbtree'),
                         (exc.crash, exc.known_fault, exc.signature))
        self.assertTrue(exc.explained)
        self.assertIn('crashed after the move move', str(exc))

    def test_crash_after_a_stock_live_move(self):
        # Stock Nova plans nothing: the caution is the source's QEMU's, as
        # nova-v2v's planner gives it (TCG before 9.0).
        self.guest.crash.return_value = lab_console.Crash(
            'general protection fault, probably for non-canonical address',
            'gpf')
        self.events.payload.return_value = None
        with mock.patch.object(gatemove, 'qemu_version',
                               return_value=7002022) as version:
            exc = self.assertRaises(
                lab_migrate.GuestCrashed, self._run,
                FakeCloud('labhost-a', 'labhost-b'), variant=gatemove.BASELINE)
        version.assert_called_once_with(self.guest.lab, 'labhost-a')
        self.assertTrue(exc.explained)
        self.assertIn('7.2', exc.known_fault)
        # A QEMU with the fix: no caution, not explained.
        with mock.patch.object(gatemove, 'qemu_version',
                               return_value=9000000):
            exc = self.assertRaises(
                lab_migrate.GuestCrashed, self._run,
                FakeCloud('labhost-a', 'labhost-b'), variant=gatemove.BASELINE)
        self.assertFalse(exc.explained)

    def test_crash_without_a_caution_is_not_known(self):
        self.guest.crash.return_value = lab_console.Crash(
            'Kernel panic - not syncing: x', None)
        gatemove.wait_ack.side_effect = gatemove.GateError(
            'no write acknowledged')
        exc = self.assertRaises(lab_migrate.GuestCrashed, self._run,
                                FakeCloud('labhost-a', 'labhost-b'))
        self.assertIsNone(exc.known_fault)
        self.assertFalse(exc.explained)

    def test_crash_of_another_signature_is_not_explained(self):
        self.guest.crash.return_value = lab_console.Crash(
            'Kernel panic - not syncing: VFS: Unable to mount root fs on '
            'unknown-block(0,0)', None)
        self.events.payload.return_value = {'mode': 'block-live',
                                            'cautions': ['QEMU 7.2.22 ...']}
        exc = self.assertRaises(lab_migrate.GuestCrashed, self._run,
                                FakeCloud('labhost-a', 'labhost-b'))
        self.assertEqual('QEMU 7.2.22 ...', exc.known_fault)
        self.assertIsNone(exc.signature)
        self.assertFalse(exc.explained)

    def test_no_port_no_network_fields(self):
        result = self._run(FakeCloud('labhost-a', 'labhost-b'))
        for key in ('port_host', 'port_status', 'mac_kept',
                    'network_downtime_ms', 'packets_lost'):
            self.assertIsNone(result[key])

    def _with_port(self, fields, address=None):
        self.guest.port = {'id': 'p1'}
        net = self.useFixture(fixtures.MockPatchObject(
            gatemove.gatenet, 'MoveNetwork')).mock.return_value.start\
            .return_value
        net.after_record = 3
        net.finish.return_value = dict(fields)
        wait = self.useFixture(fixtures.MockPatchObject(
            gatemove.gatenet, 'wait_address')).mock
        if isinstance(address, Exception):
            wait.side_effect = address
        else:
            wait.return_value = address
        return net, wait

    def test_network_fields_and_problems(self):
        net, wait = self._with_port({
            'port_host': 'labhost-b', 'port_status': 'ACTIVE',
            'mac_kept': True, 'network_downtime_ms': 120,
            'packets_lost': 4, 'network_problems': []})
        result = self._run(FakeCloud('labhost-a', 'labhost-b'))
        self.assertTrue(result['ok'], result['problems'])
        self.assertEqual(('labhost-b', 'ACTIVE', True, 120, 4), (
            result['port_host'], result['port_status'], result['mac_kept'],
            result['network_downtime_ms'], result['packets_lost']))
        self.assertEqual('labhost-a', net.finish.call_args[0][1])
        self.assertEqual('labhost-b', net.finish.call_args[0][2])
        net.stop.assert_called_once_with()
        # A live move keeps the lease: no new address is awaited.
        wait.assert_not_called()

    def test_network_problems_fail_the_move_by_default(self):
        self.assertEqual({'network_voting': True}, gatemove.OPTIONS)
        net, _wait = self._with_port({
            'port_host': 'labhost-a', 'network_problems': [
                'the port is bound to labhost-a, not labhost-b']})
        result = self._run(FakeCloud('labhost-a', 'labhost-b'))
        self.assertFalse(result['ok'])
        self.assertFalse(result['network_ok'])
        self.assertIn('the port is bound to labhost-a, not labhost-b',
                      result['problems'])

    def test_network_problems_reported_when_not_voting(self):
        self.useFixture(fixtures.MockPatchObject(
            gatemove, 'OPTIONS', {'network_voting': False}))
        net, _wait = self._with_port({
            'port_host': 'labhost-a', 'network_problems': [
                'the port is bound to labhost-a, not labhost-b']})
        result = self._run(FakeCloud('labhost-a', 'labhost-b'))
        self.assertTrue(result['ok'], result['problems'])
        self.assertFalse(result['network_ok'])
        self.assertEqual(['the port is bound to labhost-a, not labhost-b'],
                         result['network_problems'])
        text = gatereport.table({'moves': [result], 'errors': [],
                                 'seconds': 1.0, 'steps': {}})
        self.assertIn('move: network (not voting): the port is bound to '
                      'labhost-a, not labhost-b', text)
        self.assertIn("0 of 1 moves' network checks OK (not voting", text)

    def test_the_activation_race_is_named_and_counted_not_voted(self):
        race = ("port p is DOWN in Neutron while OVN has it up on "
                "labhost-b (Neutron's activation race)")
        net, _wait = self._with_port({
            'port_status': 'DOWN', 'port_status_stale': True,
            'upstream_defects': [race], 'network_problems': []})
        result = self._run(FakeCloud('labhost-a', 'labhost-b'))
        self.assertTrue(result['ok'], result['problems'])
        self.assertTrue(result['network_ok'])
        self.assertTrue(result['port_status_stale'])
        self.assertEqual([race], result['upstream_defects'])
        other = dict(result, move='m2', port_status_stale=False,
                     upstream_defects=[])
        text = gatereport.table({'moves': [result, other], 'errors': [],
                                 'seconds': 1.0, 'steps': {},
                                 'network_voting': True})
        self.assertIn('move: network, upstream defect (not counted): '
                      + race, text)
        self.assertIn("2 of 2 moves' network checks OK (voting)", text)
        self.assertIn('1 of them (OK*) with the port DOWN in Neutron while '
                      'OVN had it up on the destination', text)
        rows = [line.split() for line in text.splitlines()[1:3]]
        self.assertEqual(['OK*', 'OK'], [row[-1] for row in rows])

    def test_the_probe_stops_when_the_move_fails(self):
        net, _wait = self._with_port({'network_problems': []})
        cloud = FakeCloud('labhost-a', 'labhost-b')
        with mock.patch.object(cloud, 'wait_status',
                               side_effect=cli.CommandFailed('x', 1, '')):
            self.assertRaises(cli.CommandFailed, self._run, cloud)
        net.stop.assert_called_once_with()
        net.finish.assert_not_called()

    def _cutover(self, address):
        self.useFixture(fixtures.MockPatchObject(
            gatemove, 'OPTIONS', {'network_voting': True}))
        self.mode.return_value = 'v2v-cutover'
        self.events.wait_for.return_value = list(
            observe.EXPECTED_EVENTS['v2v-cutover'])
        self.events.payload.return_value = {'mode': 'v2v-cutover',
                                            'downtime_s': 5.0}
        net, wait = self._with_port({'network_problems': []}, address)
        result = gatemove.run_move(self.layout, FakeCloud('labhost-a',
                                                          'labhost-b'),
                                   self.guest, 'cutover', ('server',
                                                           'migrate'),
                                   'labhost-b', 'v2v-cutover',
                                   events=self.events)
        return result, wait

    def test_the_cutover_clone_takes_the_address_on_virtio(self):
        result, wait = self._cutover(mock.Mock(driver='virtio_net'))
        self.assertTrue(result['ok'], result['problems'])
        self.assertEqual('virtio_net', result['guest_nic_driver'])
        self.assertEqual(3, wait.call_args[0][1])

    def test_the_cutover_clone_on_another_nic(self):
        result, _wait = self._cutover(mock.Mock(driver='vmxnet3'))
        self.assertIn('the clone\'s NIC driver is vmxnet3, not virtio_net',
                      result['problems'])
        result, _wait = self._cutover(gatemove.gatenet.NetworkError('no addr'))
        self.assertIn('no addr', result['problems'])

    def test_cold_move_is_confirmed(self):
        cloud = FakeCloud('labhost-a', 'labhost-b', status='confirmed')
        result = self._run(cloud, cold=True, events=None)
        self.assertTrue(result['ok'], result['problems'])
        self.assertIn(('server', 'resize', 'confirm', U1), cloud.commands)

    def test_cold_move_is_reverted(self):
        # It went to labhost-a and came back: nothing may be left where it
        # went, the record is reverted, and the server is on labhost-b.
        cloud = FakeCloud('labhost-b', 'labhost-b', status='reverted',
                          migration_dest='labhost-a')
        self.mode.return_value = None
        result = gatemove.run_move(self.layout, cloud, self.guest, 'revert',
                                   ('server', 'migrate', '--wait', U1),
                                   'labhost-b', 'nova', cold='revert',
                                   events=None)
        self.assertTrue(result['ok'], result['problems'])
        self.assertIn(('server', 'resize', 'revert', U1), cloud.commands)
        self.assertEqual('labhost-a', self.left.call_args[0][1])

    def test_discard_reverted(self):
        tail = mock.Mock(paths=['/a.log', '/b.log'], acks={
            '/b.log': [(1, 9.0, 0), (2, 10.5, 0), (3, 20.0, 0)],
            '/a.log': [(1, 8.0, 0), (3, 12.0, 0), (4, 13.0, 0)]})
        # The move went to a: a's acks since the start go; b's (the
        # source's, before and after) stay, in the order seen.
        self.assertEqual([(1, 8.0, 0), (1, 9.0, 0), (2, 10.5, 0),
                          (3, 20.0, 0)],
                         gatemove.discard_reverted(tail, '/a.log', 10.0))

    def test_a_revert_checks_the_source_disk_only(self):
        cloud = FakeCloud('labhost-b', 'labhost-b', status='reverted',
                          migration_dest='labhost-a')
        self.mode.return_value = None
        self.guest.inside.side_effect = lambda f: '/i/%s/%s' % (U1, f)
        with mock.patch.object(gatemove, 'discard_reverted',
                               return_value=[(1, 0.0, 0.0)]) as discard:
            gatemove.run_move(self.layout, cloud, self.guest, 'revert',
                              ('server', 'migrate', '--wait', U1), 'labhost-b',
                              'nova', cold='revert', events=None)
        self.assertEqual(
            [(1, 0.0, 0.0)], gatemove.read_records.call_args[0][3])
        tail, went, _start = discard.call_args[0]
        self.assertIs(self.guest.tail, tail)
        self.assertEqual(self.guest.lab.root_path.return_value, went)
        self.guest.lab.root_path.assert_called_with(
            'a', '/i/%s/console.log' % U1)

    def test_a_revert_that_did_not_revert(self):
        cloud = FakeCloud('labhost-b', 'labhost-b', status='confirmed',
                          migration_dest='labhost-a')
        self.mode.return_value = None
        result = gatemove.run_move(self.layout, cloud, self.guest, 'revert',
                                   ('server', 'migrate', '--wait', U1),
                                   'labhost-b', 'nova', cold='revert',
                                   events=None)
        self.assertIn('migration record confirmed, not reverted',
                      result['problems'])


class TestLeftovers(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lab = lab_hosts.Lab(self.useFixture(fixtures.TempDir()).path)
        self.conn = mock.Mock()
        self.conn.listAllDomains.return_value = []
        self.useFixture(fixtures.MockPatchObject(
            gatemove.libvirt, 'open', return_value=self.conn))

    def _dir(self, host, inside):
        path = self.lab.root_path(host, inside)
        os.makedirs(path)
        return path

    def test_clean_source(self):
        self.assertEqual([], gatemove.source_leftovers(
            self.lab, 'labhost-a', 'instance-1',
            '/var/lib/nova/instances/' + U1, shared=False))
        gatemove.libvirt.open.assert_called_once_with(self.lab.local_uri('a'))

    def test_domain_directory_and_resize_copy(self):
        dom = mock.Mock()
        dom.name.return_value = 'instance-1'
        self.conn.listAllDomains.return_value = [dom]
        inside = '/var/lib/nova/instances/' + U1
        self._dir('a', inside)
        resize = self._dir('a', inside + '_resize')
        left = gatemove.source_leftovers(self.lab, 'labhost-a', 'instance-1',
                                         inside, shared=False)
        self.assertIn('domain:instance-1', left)
        self.assertIn(resize, left)
        # On shared storage the destination uses the files.
        self.assertEqual(['domain:instance-1'], gatemove.source_leftovers(
            self.lab, 'labhost-a', 'instance-1', inside, shared=True))

    def test_wait_migration(self):
        cloud = mock.Mock()
        cloud.migrations.side_effect = [
            [{'Id': 2, 'Status': 'confirming'}, {'Id': 1}],
            [{'Id': 2, 'Status': 'confirmed'}, {'Id': 1}]]
        with mock.patch.object(observe.time, 'sleep'):
            self.assertEqual('confirmed', observe.wait_migration(
                cloud, U1, [1])['Status'])


class TestRunCheck(testtools.TestCase):

    def _check(self, rc, hosts, expect_exit, expect):
        cloud = mock.Mock()
        text = '\n'.join(
            '  %s: %s' % (h['host'], '%s, live' % h['mode'] if h['fits']
                          else 'cannot: x') for h in hosts)
        cloud.v2v_check.side_effect = lambda server, as_json=True: (
            (rc, {'hosts': hosts}) if as_json else (rc, text))
        return gatemove.run_check(cloud, mock.Mock(id=U1), 'case', expect_exit,
                                  expect)

    def test_matches(self):
        result = self._check(0, [
            {'host': 'labhost-a', 'fits': False, 'reasons': ['runs here']},
            {'host': 'labhost-b', 'fits': True, 'mode': 'block-live'}],
            0, {'labhost-a': None, 'labhost-b': 'block-live'})
        self.assertTrue(result['ok'], result['problems'])
        self.assertEqual({'labhost-a': 'cannot: runs here',
                          'labhost-b': 'block-live'}, result['hosts'])

    def test_each_difference_is_a_problem(self):
        result = self._check(3, [
            {'host': 'labhost-b', 'fits': True, 'mode': 'block-live'}],
            0, {'labhost-a': None, 'labhost-b': 'v2v-cutover'})
        self.assertFalse(result['ok'])
        self.assertEqual(['exit 3, not 0',
                          "the text has no line 'labhost-a: cannot:'",
                          "the text has no line 'labhost-b: v2v-cutover,'",
                          'labhost-b: block-live (), not v2v-cutover'],
                         result['problems'])


class TestGuestCrash(testtools.TestCase):

    def test_reads_every_log(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        quiet = os.path.join(tmp, 'a.log')
        died = os.path.join(tmp, 'b.log')
        with open(quiet, 'w') as f:
            f.write('W 1 17\n')
        with open(died, 'w') as f:
            f.write('W 2 18\nBUG: kernel NULL pointer dereference\n')
        guest = gatemove.Guest(None, None, 'g', False)
        self.assertIsNone(guest.crash())
        guest.tail = mock.Mock(paths=[os.path.join(tmp, 'gone.log'), quiet])
        self.assertIsNone(guest.crash())
        self.assertIsNone(guest.crash_report())
        guest.tail.paths.append(died)
        self.assertEqual(lab_console.Crash(
            'BUG: kernel NULL pointer dereference', None), guest.crash())
        self.assertEqual('BUG: kernel NULL pointer dereference',
                         guest.crash_report())

    def test_console_tails_of_a_guest_that_went_quiet(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        log = os.path.join(tmp, 'a.log')
        with open(log, 'w') as f:
            f.write(''.join('W %d 17\n' % i for i in range(100)))
        guest = gatemove.Guest(None, None, 'g', False)
        self.assertEqual('', guest.console_tails())
        guest.tail = mock.Mock(paths=[os.path.join(tmp, 'gone.log'), log])
        self.assertEqual('%s:\nW 98 17\nW 99 17' % log,
                         guest.console_tails(lines=2))


class TestGuestPort(testtools.TestCase):

    @mock.patch.object(gatemove.gatenet, 'wait_address')
    @mock.patch.object(gatemove, 'wait_ack')
    @mock.patch.object(gatemove.lab_harness, 'SerialTail')
    def test_created_with_its_port_deleted_after_it(self, tail, wait_ack,
                                                    address):
        cloud = mock.Mock(side_effect=[{'id': 'p1'}, {'id': 's1'}, '', ''])
        lab = lab_hosts.Lab('/lab')
        guest = gatemove.Guest(cloud, lab, 'g', False)
        guest.create('labhost-a', 'img', 'flv')
        # It has taken its port's address before it is moved.
        address.assert_called_once_with(guest)
        calls = [c[0] for c in cloud.call_args_list]
        self.assertEqual(('port', 'create', '--network', 'lab-net', 'g'),
                         calls[0])
        self.assertIn('port-id=p1', calls[1])
        self.assertNotIn('none', calls[1])
        guest.delete()
        calls = [c[0] for c in cloud.call_args_list]
        self.assertEqual(('server', 'delete', '--wait', 's1'), calls[2])
        self.assertEqual(('port', 'delete', 'p1'), calls[3])

    @mock.patch.object(gatemove.gatenet, 'wait_address')
    @mock.patch.object(gatemove, 'wait_ack')
    @mock.patch.object(gatemove.lab_harness, 'SerialTail')
    def test_without_port(self, tail, wait_ack, address):
        cloud = mock.Mock(side_effect=[{'id': 's1'}, ''])
        guest = gatemove.Guest(cloud, lab_hosts.Lab('/lab'), 'g', False,
                               with_port=False)
        guest.create('labhost-a', 'img', 'flv')
        self.assertIn('none', cloud.call_args_list[0][0])
        guest.delete()
        self.assertEqual(2, cloud.call_count)
        address.assert_not_called()


class TestDiskFormat(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lab = mock.Mock()
        self.lab.load.return_value = {'hosts': {'b': {'pid': 42}}}
        self.execute = self.useFixture(fixtures.MockPatchObject(
            gatemove.processutils, 'execute')).mock

    def test_read_inside_the_hosts_mount_namespace(self):
        self.execute.return_value = ('{"format": "raw", "virtual-size": 1}',
                                     '')
        self.assertEqual('raw', gatemove.disk_format(self.lab, 'b', '/d'))
        self.execute.assert_called_once_with(
            'nsenter', '--mount=/proc/42/ns/mnt', '--', 'qemu-img', 'info',
            '-U', '--output=json', '/d')

    def test_unreadable(self):
        self.execute.side_effect = gatemove.processutils.\
            ProcessExecutionError('no such file')
        self.assertRaises(gatemove.GateError, gatemove.disk_format,
                          self.lab, 'b', '/d')
        self.assertRaises(gatemove.GateError, gatemove.disk_format,
                          self.lab, 'a', '/d')
