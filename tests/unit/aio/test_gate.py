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
import io
import json
import os
import time
from unittest import mock

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v import notifications
from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import gate
from nova_v2v_rig.aio import gatereport
from nova_v2v_rig.aio import images
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
        self.assertEqual(3.0, gate.largest_gap(acks, 10.5, 13.2))
        self.assertEqual(0.1, gate.largest_gap(acks, 13.15, 13.2))
        self.assertIsNone(gate.largest_gap([], 0, 1))

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
        text = gate.acks_text(acks)
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
        self.assertEqual(2, gate.wait_ack(tail, 6.0, 1, 'x')[0])
        with mock.patch.object(gate.time, 'sleep'):
            self.assertRaises(gate.GateError, gate.wait_ack, tail, 8.0, 0,
                              'x')


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
            gate, 'wait_ack', return_value=(9, 1.0, 0.0)))
        self.records = {'records_written': 9, 'records_verified': 9,
                        'records_lost': 0, 'lost': [], 'serial_gaps': [],
                        'serial_unacked': []}
        self.useFixture(fixtures.MockPatchObject(
            gate, 'read_records', side_effect=lambda *a: self.records))
        self.useFixture(fixtures.MockPatchObject(gate.time, 'sleep'))
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
            gate, 'source_leftovers', return_value=[])).mock

    def _run(self, cloud, **kwargs):
        kwargs.setdefault('events', self.events)
        return gate.run_move(self.layout, cloud, self.guest, 'move',
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
        with mock.patch.object(gate, '_qemu_version',
                               return_value=7002022) as version:
            exc = self.assertRaises(
                lab_migrate.GuestCrashed, self._run,
                FakeCloud('labhost-a', 'labhost-b'), variant=gate.BASELINE)
        version.assert_called_once_with(self.guest.lab, 'labhost-a')
        self.assertTrue(exc.explained)
        self.assertIn('7.2', exc.known_fault)
        # A QEMU with the fix: no caution, not explained.
        with mock.patch.object(gate, '_qemu_version', return_value=9000000):
            exc = self.assertRaises(
                lab_migrate.GuestCrashed, self._run,
                FakeCloud('labhost-a', 'labhost-b'), variant=gate.BASELINE)
        self.assertFalse(exc.explained)

    def test_crash_without_a_caution_is_not_known(self):
        self.guest.crash.return_value = lab_console.Crash(
            'Kernel panic - not syncing: x', None)
        gate.wait_ack.side_effect = gate.GateError('no write acknowledged')
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
            gate.gatenet, 'MoveNetwork')).mock.return_value.start.return_value
        net.after_record = 3
        net.finish.return_value = dict(fields)
        wait = self.useFixture(fixtures.MockPatchObject(
            gate.gatenet, 'wait_address')).mock
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
        self.assertEqual({'network_voting': True}, gate.OPTIONS)
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
            gate, 'OPTIONS', {'network_voting': False}))
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
            gate, 'OPTIONS', {'network_voting': True}))
        self.mode.return_value = 'v2v-cutover'
        self.events.wait_for.return_value = list(
            observe.EXPECTED_EVENTS['v2v-cutover'])
        self.events.payload.return_value = {'mode': 'v2v-cutover',
                                            'downtime_s': 5.0}
        net, wait = self._with_port({'network_problems': []}, address)
        result = gate.run_move(self.layout, FakeCloud('labhost-a',
                                                      'labhost-b'),
                               self.guest, 'cutover', ('server', 'migrate'),
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
        result, _wait = self._cutover(gate.gatenet.NetworkError('no addr'))
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
        result = gate.run_move(self.layout, cloud, self.guest, 'revert',
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
                         gate.discard_reverted(tail, '/a.log', 10.0))

    def test_a_revert_checks_the_source_disk_only(self):
        cloud = FakeCloud('labhost-b', 'labhost-b', status='reverted',
                          migration_dest='labhost-a')
        self.mode.return_value = None
        self.guest.inside.side_effect = lambda f: '/i/%s/%s' % (U1, f)
        with mock.patch.object(gate, 'discard_reverted',
                               return_value=[(1, 0.0, 0.0)]) as discard:
            gate.run_move(self.layout, cloud, self.guest, 'revert',
                          ('server', 'migrate', '--wait', U1), 'labhost-b',
                          'nova', cold='revert', events=None)
        self.assertEqual([(1, 0.0, 0.0)], gate.read_records.call_args[0][3])
        tail, went, _start = discard.call_args[0]
        self.assertIs(self.guest.tail, tail)
        self.assertEqual(self.guest.lab.root_path.return_value, went)
        self.guest.lab.root_path.assert_called_with(
            'a', '/i/%s/console.log' % U1)

    def test_a_revert_that_did_not_revert(self):
        cloud = FakeCloud('labhost-b', 'labhost-b', status='confirmed',
                          migration_dest='labhost-a')
        self.mode.return_value = None
        result = gate.run_move(self.layout, cloud, self.guest, 'revert',
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
            gate.libvirt, 'open', return_value=self.conn))

    def _dir(self, host, inside):
        path = self.lab.root_path(host, inside)
        os.makedirs(path)
        return path

    def test_clean_source(self):
        self.assertEqual([], gate.source_leftovers(
            self.lab, 'labhost-a', 'instance-1',
            '/var/lib/nova/instances/' + U1, shared=False))
        gate.libvirt.open.assert_called_once_with(self.lab.local_uri('a'))

    def test_domain_directory_and_resize_copy(self):
        dom = mock.Mock()
        dom.name.return_value = 'instance-1'
        self.conn.listAllDomains.return_value = [dom]
        inside = '/var/lib/nova/instances/' + U1
        self._dir('a', inside)
        resize = self._dir('a', inside + '_resize')
        left = gate.source_leftovers(self.lab, 'labhost-a', 'instance-1',
                                     inside, shared=False)
        self.assertIn('domain:instance-1', left)
        self.assertIn(resize, left)
        # On shared storage the destination uses the files.
        self.assertEqual(['domain:instance-1'], gate.source_leftovers(
            self.lab, 'labhost-a', 'instance-1', inside, shared=True))

    def test_wait_migration(self):
        cloud = mock.Mock()
        cloud.migrations.side_effect = [
            [{'Id': 2, 'Status': 'confirming'}, {'Id': 1}],
            [{'Id': 2, 'Status': 'confirmed'}, {'Id': 1}]]
        with mock.patch.object(observe.time, 'sleep'):
            self.assertEqual('confirmed', observe.wait_migration(
                cloud, U1, [1])['Status'])


class TestEventListener(testtools.TestCase):

    def test_events_of_a_server_in_order(self):
        with mock.patch.object(observe.oslo_messaging,
                               'get_notification_listener'), \
                mock.patch.object(observe.oslo_messaging,
                                  'get_notification_transport'):
            events = observe.EventListener('rabbit://u:p@127.0.0.1:5672/')

        def send(event, uuid=U1, priority='info'):
            getattr(events, priority)(
                {}, 'nova-v2v:labhost-a', event,
                notifications.payload(uuid), {})
        send('instance.live_migration_pre.start')
        for event in (notifications.PLAN, notifications.START,
                      notifications.PROGRESS, notifications.PROGRESS):
            send(event)
        send(notifications.PLAN, uuid=U2)
        send(notifications.ROLLBACK, priority='error')
        self.assertEqual([notifications.PLAN, notifications.START,
                          notifications.PROGRESS, notifications.ROLLBACK],
                         events.of(U1, 0))
        self.assertEqual([], events.of(U1, time.time() + 60))
        self.assertEqual('ERROR', events.events[-1]['priority'])
        self.assertEqual([notifications.PLAN], events.wait_for(
            U2, 0, notifications.PLAN))
        self.assertEqual(U2, events.payload(U2, 0, notifications.PLAN)[
            'instance_uuid'])
        self.assertIsNone(events.payload(U2, 0, notifications.END))

    def test_expected_events_per_mode(self):
        self.assertEqual(
            {'block-live', 'shared-live', 'v2v-cutover', 'offline',
             observe.NOVA_OWN}, set(observe.EXPECTED_EVENTS))
        # A move nova-v2v plans nothing for sends no V2V event.
        self.assertEqual((), observe.EXPECTED_EVENTS[observe.NOVA_OWN])


class TestRunCheck(testtools.TestCase):

    def _check(self, rc, hosts, expect_exit, expect):
        cloud = mock.Mock()
        text = '\n'.join(
            '  %s: %s' % (h['host'], '%s, live' % h['mode'] if h['fits']
                          else 'cannot: x') for h in hosts)
        cloud.v2v_check.side_effect = lambda server, as_json=True: (
            (rc, {'hosts': hosts}) if as_json else (rc, text))
        return gate.run_check(cloud, mock.Mock(id=U1), 'case', expect_exit,
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


class TestReport(testtools.TestCase):

    def test_summary_medians_per_kind_and_driver(self):
        def move(label, variant, net, disk, lost=0, ok=True):
            return {'move': label, 'variant': variant, 'ok': ok,
                    'network_downtime_ms': net, 'downtime_s': disk,
                    'packets_lost': lost}
        moves = [move('live, block (scheduled)', 'nova-v2v', 40, 0.2),
                 move('live, block (--host)', 'nova-v2v', 60, 0.4, 2),
                 move('live, block (scheduled)', 'nova-v2v', 50, 0.3, 1),
                 # A failed move counts in no median.
                 move('live, block (--host)', 'nova-v2v', 9000, 9, ok=False),
                 move('live, block (scheduled)', 'baseline', 70, 0.5, 3),
                 move('live, shared storage (--host)', 'baseline', None,
                      0.1),
                 move('live, profiles and NIC differ', 'nova-v2v', 3000,
                      2.0, 300),
                 move('cold + resize confirm', 'nova-v2v', None, None)]
        rows = gatereport.summary({'moves': moves})
        self.assertEqual([
            {'kind': 'V2V cutover', 'variant': 'nova-v2v', 'runs': 1,
             'net_runs': 1, 'network_downtime_ms': 3000, 'downtime_s': 2.0,
             'packets_lost': 300},
            {'kind': 'block live', 'variant': 'baseline', 'runs': 1,
             'net_runs': 1, 'network_downtime_ms': 70, 'downtime_s': 0.5,
             'packets_lost': 3},
            {'kind': 'block live', 'variant': 'nova-v2v', 'runs': 3,
             'net_runs': 3, 'network_downtime_ms': 50, 'downtime_s': 0.3,
             'packets_lost': 1},
            {'kind': 'shared live', 'variant': 'baseline', 'runs': 1,
             'net_runs': 0, 'network_downtime_ms': None, 'downtime_s': 0.1,
             'packets_lost': 0}], rows)
        lines = gatereport.summary_lines(rows)
        self.assertIn('block live    nova-v2v  3     3         0.3       '
                      '       50                   1           ', lines)

    def test_table(self):
        move = {'move': 'live', 'from': 'a', 'to': 'b', 'mode': 'block-live',
                'seconds': 8.0, 'downtime_s': 0.3, 'records_written': 10,
                'records_lost': 0, 'migration': {'status': 'completed'},
                'ok': True, 'problems': []}
        bad = dict(move, move='cold', ok=False, records_lost=2,
                   problems=['2 records lost'])
        text = gatereport.table({
            'moves': [move, bad], 'errors': ['x: boom'],
            'seconds': 100.0, 'steps': {'lab': 1.0},
            'checks': [{'check': 'fits live', 'ok': True, 'exit': 0,
                        'problems': [], 'hosts': {'b': 'block-live'}}]})
        self.assertIn('nova-v2v check, fits live: OK, exit 0: b block-live',
                      text)
        self.assertIn('block-live', text)
        self.assertIn('cold: 2 records lost', text)
        self.assertIn('error: x: boom', text)
        self.assertIn('1 of 2 moves OK, 1 of 1 checks OK, 2 records lost, '
                      '100.0 s', text)
        self.assertNotIn('medians', text)
        # local: 2 live + confirm + revert; profiles: cutover + offline;
        # shared and both baselines: 2 live each.
        self.assertEqual(12, gate.expected_moves(gate.STAGES))
        self.assertEqual(30, gate.expected_moves(gate.STAGES, repeat=3))
        self.assertEqual(4, gate.expected_checks(gate.STAGES))

    @mock.patch.object(observe, 'EventListener')
    @mock.patch.object(gate.config, 'transport_url')
    @mock.patch.object(gate.stack, 'down')
    @mock.patch.object(gate.stack, 'running', return_value=['mariadb'])
    @mock.patch.object(gate.network, 'ensure')
    @mock.patch.object(gate.images, 'ensure', return_value={})
    @mock.patch.object(gate.cli, 'OpenStack')
    @mock.patch.object(gate, '_computes')
    @mock.patch.object(gate.computes, 'down')
    def test_a_failed_stage_fails_the_gate(self, down, comp, cloud, ens,
                                           net_ensure, running, stack_down,
                                           url, listener):
        lab = mock.Mock()
        lab.load.return_value = {'hosts': {}}
        layout = mock.Mock()
        ok = {'ok': True}
        with mock.patch.dict(gate.STAGE_RUN, {
                'local': mock.Mock(return_value=[ok, ok, ok, ok]),
                'baseline-local': mock.Mock(return_value=[ok, ok]),
                'profiles': mock.Mock(side_effect=paths.AioError('boom')),
                'shared': mock.Mock(return_value=[ok, ok]),
                'baseline-shared': mock.Mock(return_value=[ok, ok])}):
            report = gate.run(layout, lab)
        self.assertFalse(report['ok'])
        self.assertEqual(['profiles: boom'], report['errors'])
        net_ensure.assert_called_once_with(cloud.return_value, layout)
        # It did not start them: it stops the computes only.
        down.assert_called_once_with(layout)
        stack_down.assert_not_called()
        listener.return_value.start.return_value.stop.assert_called_once()
        lab.down.assert_not_called()


class TestComputesOfAStage(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.layout = paths.Layout(self.useFixture(fixtures.TempDir()).path)
        self.useFixture(fixtures.MockPatchObject(gate.computes, 'down'))
        self.up = self.useFixture(fixtures.MockPatchObject(
            gate.computes, 'up')).mock

    def _loads(self, *drivers):
        def up(layout, lab, **kwargs):
            for host, driver in zip(sorted(lab_hosts.HOSTS), drivers):
                with open(layout.log(gate.computes.service_name(host)),
                          'a') as f:
                    f.write("2026-12-06 INFO nova.virt.driver [-] Loading "
                            "compute driver '%s'\n" % driver)
        self.up.side_effect = up

    def test_the_baseline_runs_stock_nova(self):
        os.makedirs(os.path.dirname(self.layout.log('x')), exist_ok=True)
        self._loads('lab_stock.LibvirtDriver', 'lab_stock.LibvirtDriver')
        self.assertEqual(gate.STAGE_COMPUTES['baseline-local'],
                         gate._computes(self.layout, None, 'baseline-local',
                                        None))
        self.assertTrue(self.up.call_args[1]['stock'])

    def test_a_stage_whose_computes_loaded_another_driver(self):
        os.makedirs(os.path.dirname(self.layout.log('x')), exist_ok=True)
        self._loads('v2v.V2VLibvirtDriver', 'lab_stock.LibvirtDriver')
        e = self.assertRaises(gate.GateError, gate._computes, self.layout,
                              None, 'baseline-shared', None)
        self.assertIn('not lab_stock.LibvirtDriver each', str(e))
        self._loads('v2v.V2VLibvirtDriver', 'v2v.V2VLibvirtDriver')
        self.assertEqual(gate.STAGE_COMPUTES['local'], gate._computes(
            self.layout, None, 'local', None))


class TestStageOnceMore(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # The gate's log (which Python writes to stderr when no handler is
        # configured, as in a run of this module alone) is not what these
        # tests read on stderr: the RERUN-PASSED lines are.
        self.useFixture(fixtures.FakeLogger())
        self.stderr = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=io.StringIO)).mock

    def _stage(self, *outcomes):
        report = {'moves': [], 'checks': [], 'errors': [], 'repeated': []}
        runs = iter(outcomes)

        def stage(layout, cloud, lab, ids, events, checks, repeat):
            checks.append({'check': 'c', 'ok': True})
            outcome = next(runs)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        with mock.patch.dict(gate.STAGE_RUN, {'local': stage}):
            gate._run_stage(report, 'local', None, None, None, {}, None)
        return report

    def test_known_crash_runs_the_stage_once_more(self):
        report = self._stage(
            lab_migrate.GuestCrashed('boom', 'Oops: 0', 'QEMU',
                                     'hrtimer-rbtree'),
            [{'move': 'live, block', 'ok': True},
             {'move': 'cold', 'ok': False}])
        self.assertEqual([{'move': 'live, block', 'ok': True},
                          {'move': 'cold', 'ok': False}], report['moves'])
        # The checks of the run that counts, once.
        self.assertEqual(1, len(report['checks']))
        self.assertEqual([], report['errors'])
        self.assertEqual([{'stage': 'local', 'crash': 'Oops: 0',
                           'known_fault': 'QEMU',
                           'signature': 'hrtimer-rbtree',
                           'passed_again': ['local/live, block',
                                            'local/check c']}],
                         report['repeated'])
        # One line for each move and check that passed on the second run.
        self.assertEqual(
            'RERUN-PASSED: gate local/live, block: hrtimer-rbtree\n'
            'RERUN-PASSED: gate local/check c: hrtimer-rbtree\n',
            self.stderr.getvalue())
        text = gatereport.table(dict(report, moves=[], checks=[],
                                     seconds=1.0, steps={}))
        self.assertIn('stage local ran once more: the server crashed '
                      '(Oops: 0, signature hrtimer-rbtree); known QEMU '
                      'fault: QEMU', text)

    def test_second_crash_fails(self):
        crash = lab_migrate.GuestCrashed('boom', 'Oops: 0', 'QEMU',
                                         'idle-task-null-call')
        report = self._stage(crash, crash)
        self.assertEqual([], report['moves'])
        self.assertEqual(['local: boom'], report['errors'])
        self.assertEqual(1, len(report['repeated']))
        self.assertEqual([], report['repeated'][0]['passed_again'])
        self.assertEqual('', self.stderr.getvalue())

    def test_unknown_crash_fails_at_once(self):
        # A move the fault cannot hit, or a crash of another signature.
        for crash in (lab_migrate.GuestCrashed('boom', 'Oops: 0', None,
                                               'hrtimer-rbtree'),
                      lab_migrate.GuestCrashed('boom', 'Oops: 0', 'QEMU',
                                               report='Oops: 0\nRIP: x')):
            report = self._stage(crash, [{'move': 'm', 'ok': True}])
            self.assertEqual(['local: boom'], report['errors'])
            # The whole crash kept, when the console had it.
            self.assertEqual(
                [{'stage': 'local', 'report': crash.report}]
                if crash.report else [], report.get('crash_reports', []))
            self.assertEqual([], report['repeated'])
            self.assertEqual([], report['moves'])
        self.assertEqual('', self.stderr.getvalue())


class TestGuestCrash(testtools.TestCase):

    def test_reads_every_log(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        quiet = os.path.join(tmp, 'a.log')
        died = os.path.join(tmp, 'b.log')
        with open(quiet, 'w') as f:
            f.write('W 1 17\n')
        with open(died, 'w') as f:
            f.write('W 2 18\nBUG: kernel NULL pointer dereference\n')
        guest = gate.Guest(None, None, 'g', False)
        self.assertIsNone(guest.crash())
        guest.tail = mock.Mock(paths=[os.path.join(tmp, 'gone.log'), quiet])
        self.assertIsNone(guest.crash())
        self.assertIsNone(guest.crash_report())
        guest.tail.paths.append(died)
        self.assertEqual(lab_console.Crash(
            'BUG: kernel NULL pointer dereference', None), guest.crash())
        self.assertEqual('BUG: kernel NULL pointer dereference',
                         guest.crash_report())


class TestGuestPort(testtools.TestCase):

    @mock.patch.object(gate.gatenet, 'wait_address')
    @mock.patch.object(gate, 'wait_ack')
    @mock.patch.object(gate.lab_harness, 'SerialTail')
    def test_created_with_its_port_deleted_after_it(self, tail, wait_ack,
                                                    address):
        cloud = mock.Mock(side_effect=[{'id': 'p1'}, {'id': 's1'}, '', ''])
        lab = lab_hosts.Lab('/lab')
        guest = gate.Guest(cloud, lab, 'g', False)
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

    @mock.patch.object(gate.gatenet, 'wait_address')
    @mock.patch.object(gate, 'wait_ack')
    @mock.patch.object(gate.lab_harness, 'SerialTail')
    def test_without_port(self, tail, wait_ack, address):
        cloud = mock.Mock(side_effect=[{'id': 's1'}, ''])
        guest = gate.Guest(cloud, lab_hosts.Lab('/lab'), 'g', False,
                           with_port=False)
        guest.create('labhost-a', 'img', 'flv')
        self.assertIn('none', cloud.call_args_list[0][0])
        guest.delete()
        self.assertEqual(2, cloud.call_count)
        address.assert_not_called()


class TestCli(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.layout = paths.Layout(self.useFixture(fixtures.TempDir()).path)
        os.makedirs(self.layout.etc_dir)
        with open(self.layout.openrc, 'w') as f:
            f.write('export OS_AUTH_URL=http://127.0.0.1:5000/v3\n'
                    'export OS_PASSWORD="s3 cret"\n# comment\n')
        self.execute = self.useFixture(fixtures.MockPatchObject(
            processutils, 'execute')).mock

    def test_read_openrc(self):
        self.assertEqual({'OS_AUTH_URL': 'http://127.0.0.1:5000/v3',
                          'OS_PASSWORD': 's3 cret'},
                         cli.read_openrc(self.layout.openrc))

    def test_call_parses_json_and_keeps_the_call(self):
        self.execute.return_value = (json.dumps({'id': 'x'}), '')
        cloud = cli.OpenStack(self.layout)
        self.assertEqual({'id': 'x'}, cloud('server', 'show', 'vm',
                                            parse=True))
        argv = self.execute.call_args[0]
        self.assertEqual(self.layout.bin('main', 'openstack'), argv[3])
        self.assertEqual(('server', 'show', 'vm', '-f', 'json'), argv[4:])
        env = self.execute.call_args[1]['env_variables']
        self.assertEqual('2.80', env['OS_COMPUTE_API_VERSION'])
        self.assertEqual('s3 cret', env['OS_PASSWORD'])
        self.assertEqual('openstack server show vm',
                         cloud.calls[0]['command'])

    def test_failure(self):
        self.execute.side_effect = processutils.ProcessExecutionError(
            exit_code=1, stderr='No server with a name or ID of vm')
        cloud = cli.OpenStack(self.layout)
        e = self.assertRaises(cli.CommandFailed, cloud, 'server', 'show',
                              'vm')
        self.assertIn('No server with a name', str(e))
        self.assertIsNone(cloud('server', 'show', 'vm', check=False))
        self.assertEqual([1, 1], [c['exit'] for c in cloud.calls])


class FakeImageCloud(object):

    def __init__(self, images_=(), flavors=(), shown=None):
        self.images = list(images_)
        self.flavors = list(flavors)
        self.shown = shown or {}
        self.created = []
        self.deleted = []

    def __call__(self, *args, parse=False, check=True):
        if args[:2] == ('image', 'list'):
            return self.images
        if args[:2] == ('flavor', 'list'):
            return self.flavors
        if args[:2] == ('image', 'show'):
            return self.shown.get(args[2], {})
        if args[:2] == ('image', 'delete'):
            self.deleted.append(args[2])
            self.images = [i for i in self.images if i['ID'] != args[2]]
            return ''
        self.created.append(args)
        return {'id': 'new-%s' % args[-1]}


class TestImages(testtools.TestCase):

    def setUp(self):
        super().setUp()
        build = self.useFixture(fixtures.MockPatchObject(
            images.lab_guest, 'build')).mock
        build.return_value = mock.Mock(kernel='/k', initrd='/i')
        self.useFixture(fixtures.MockPatchObject(processutils, 'execute'))
        self.useFixture(fixtures.MockPatchObject(
            images, '_sha512', side_effect=lambda path: 'sha-' + path))

    def test_creates_what_is_missing(self):
        cloud = FakeImageCloud(
            images_=[{'Name': images.KERNEL, 'ID': 'k1',
                      'Status': 'active'},
                     {'Name': images.RAMDISK, 'ID': 'r0',
                      'Status': 'queued'}],
            shown={'k1': {'properties': {'os_hash_value': 'sha-/k'}}})
        ids = images.ensure(cloud, '/cache')
        self.assertEqual('k1', ids[images.KERNEL])
        self.assertEqual('new-lab-initrd', ids[images.RAMDISK])
        disk = [c for c in cloud.created if c[-1] == images.DISK][0]
        self.assertIn('kernel_id=k1', disk)
        self.assertIn('ramdisk_id=new-lab-initrd', disk)
        self.assertIn('os_command_line=%s' % images.COMMAND_LINE, disk)
        self.assertEqual('new-lab.tiny', ids[images.FLAVOR])
        filled = [c for c in cloud.created if c[-1] == images.FILLED_DISK]
        self.assertEqual(1, len(filled))
        self.assertIn('kernel_id=k1', filled[0])
        # Only the filled disk gets data, where the workload never writes.
        writes = [c.args for c in processutils.execute.call_args_list
                  if c.args[0] == 'qemu-io']
        self.assertEqual(1, len(writes))
        self.assertIn('write -q -P 0x5a %dM %dM' % (
            images.FILLED_AT_MIB, images.FILLED_MIB), writes[0])
        self.assertTrue(writes[0][-1].endswith(images.FILLED_DISK +
                                               '.qcow2'))

    def _all_there(self, initrd_hash='sha-/i', kernel_of_disks='k'):
        disks = (images.DISK, images.FILLED_DISK, images.VMXNET3_DISK)
        # The client prints the multihash among the properties.
        shown = {'k': {'properties': {'os_hash_value': 'sha-/k'}},
                 'r': {'properties': {'os_hash_value': initrd_hash}}}
        for name in disks:
            props = {'kernel_id': kernel_of_disks, 'ramdisk_id': 'r',
                     'os_command_line': images.COMMAND_LINE}
            if name == images.VMXNET3_DISK:
                props['hw_vif_model'] = 'vmxnet3'
            shown[name] = {'properties': props}
        return FakeImageCloud(
            images_=[{'Name': images.KERNEL, 'ID': 'k', 'Status': 'active'},
                     {'Name': images.RAMDISK, 'ID': 'r', 'Status': 'active'}]
            + [{'Name': n, 'ID': n, 'Status': 'active'} for n in disks],
            flavors=[{'Name': images.FLAVOR, 'ID': 'f'}], shown=shown)

    def test_reuses_everything(self):
        cloud = self._all_there()
        ids = images.ensure(cloud, '/cache')
        self.assertEqual([], cloud.created)
        self.assertEqual([], cloud.deleted)
        self.assertEqual('f', ids[images.FLAVOR])

    def test_a_new_guest_build_is_uploaded_again(self):
        # The initramfs changed since: it and the disks that name it are
        # made again; the kernel stays.
        cloud = self._all_there(initrd_hash='sha-old')
        ids = images.ensure(cloud, '/cache')
        self.assertEqual(['r', images.DISK, images.FILLED_DISK,
                          images.VMXNET3_DISK], cloud.deleted)
        self.assertEqual('k', ids[images.KERNEL])
        self.assertEqual('new-lab-initrd', ids[images.RAMDISK])
        for created in cloud.created[1:]:
            self.assertIn('ramdisk_id=new-lab-initrd', created)

    def test_holds(self):
        self.assertTrue(images.holds({'os_hash_value': 'sha-/x'}, '/x'))
        self.assertTrue(images.holds(
            {'properties': {'os_hash_value': 'sha-/x'}}, '/x'))
        self.assertFalse(images.holds(
            {'properties': {'os_hash_value': 'sha-/y'}}, '/x'))
        # No multihash: not known to be the same data.
        self.assertFalse(images.holds({'checksum': 'md5'}, '/x'))

    def test_the_vmxnet3_disk(self):
        cloud = FakeImageCloud()
        images.ensure(cloud, '/cache')
        vmxnet3 = [c for c in cloud.created if c[-1] == images.VMXNET3_DISK][0]
        self.assertIn('hw_vif_model=vmxnet3', vmxnet3)
        self.assertIn('ramdisk_id=new-lab-initrd', vmxnet3)


class TestGateCommandLine(testtools.TestCase):

    def test_network_checks_vote_unless_told_not_to(self):
        from nova_v2v_rig.cmd import aio as aio_cmd
        parse = aio_cmd._parser().parse_args
        self.assertTrue(parse(['gate']).network_voting)
        self.assertFalse(parse(['gate', '--no-network-voting'])
                         .network_voting)
        self.assertRaises(SystemExit, parse, ['gate', '--network-voting'])
