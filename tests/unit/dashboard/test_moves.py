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

import testtools

from nova_v2v import notifications
from nova_v2v_dashboard import moves

MIB = 1024 * 1024
SERVER = '11111111-2222-4333-8444-555555555555'


def migration(mid, status, kind='live-migration', **extra):
    record = {'id': mid, 'uuid': 'uuid-%d' % mid,
              'instance_uuid': SERVER, 'status': status,
              'migration_type': kind, 'source_compute': 'labhost-a',
              'dest_compute': 'labhost-b',
              'created_at': '2026-12-07T18:00:00.000000',
              'updated_at': '2026-12-07T18:00:05.000000'}
    record.update(extra)
    return record


def detail(processed, remaining, memory=256 * MIB, disk=128 * MIB):
    """A server-migration record: the disk copied first, then memory."""
    disk_done = min(processed, disk)
    mem_done = processed - disk_done
    return {'memory_total_bytes': memory,
            'memory_processed_bytes': mem_done,
            'memory_remaining_bytes': max(0, remaining - (disk - disk_done)),
            'disk_total_bytes': disk, 'disk_processed_bytes': disk_done,
            'disk_remaining_bytes': disk - disk_done}


class TestRow(testtools.TestCase):

    def test_a_running_move_has_a_bar_a_rate_and_an_eta(self):
        samples = moves.Samples()
        first = moves.row(migration(7, 'running'), {SERVER: 'web-1'},
                          detail(32 * MIB, 352 * MIB), samples, now=100.0,
                          mode='block-live')
        self.assertEqual('web-1', first.server)
        self.assertEqual('live', first.kind)
        self.assertEqual('block-live', first.mode)
        self.assertTrue(first.in_progress)
        self.assertEqual(8, first.percent)
        self.assertIsNone(first.rate)
        self.assertEqual('?', first.eta_text())
        second = moves.row(migration(7, 'running'), {SERVER: 'web-1'},
                           detail(96 * MIB, 288 * MIB), samples, now=104.0)
        self.assertEqual(16 * MIB, second.rate)
        self.assertEqual(18.0, second.eta_s)
        self.assertEqual('0:18', second.eta_text())
        self.assertEqual('16.0 MiB/s', second.rate_text())
        self.assertEqual(25, second.percent)
        self.assertEqual('96.0 MiB', second.processed_text())

    def test_a_move_ended_since_the_last_refresh_keeps_its_bytes(self):
        samples = moves.Samples()
        moves.row(migration(7, 'running'), {}, detail(300 * MIB, 84 * MIB),
                  samples, now=1.0)
        ended = moves.row(migration(7, 'completed'), {}, None, samples,
                          now=3.0)
        self.assertFalse(ended.in_progress)
        self.assertEqual(100, ended.percent)
        self.assertEqual(300 * MIB, ended.processed)
        self.assertEqual('-', ended.eta_text())
        self.assertEqual(SERVER, ended.server)

    def test_a_completed_move_never_seen_running_is_full(self):
        row = moves.row(migration(3, 'completed'), {}, now=1.0)
        self.assertEqual(100, row.percent)
        self.assertEqual(0, row.processed)

    def test_a_failed_move_carries_its_reason_and_no_bar(self):
        row = moves.row(migration(4, 'error'), {}, now=1.0,
                        facts=moves.ActionFacts(
                            reason='Migration pre-check error: no cutover'))
        self.assertTrue(row.failed)
        self.assertIsNone(row.percent)
        self.assertEqual('Migration pre-check error: no cutover',
                         row.reason)

    def test_a_cold_move_and_times(self):
        row = moves.row(migration(5, 'finished', kind='migration'), {},
                        now=1.0)
        self.assertEqual('cold', row.kind)
        self.assertEqual('2026-12-07 18:00:00', row.started)
        self.assertFalse(row.in_progress)

    def test_no_bytes_yet_no_bar(self):
        row = moves.row(migration(8, 'preparing'), {}, {
            'memory_total_bytes': 0, 'disk_total_bytes': 0}, now=1.0)
        self.assertIsNone(row.percent)
        self.assertTrue(row.in_progress)


class TestRows(testtools.TestCase):

    def test_moves_in_progress_first_then_the_latest(self):
        records = [migration(1, 'completed'), migration(2, 'running'),
                   migration(3, 'error'), migration(4, 'queued')]
        rows = moves.rows(records, {}, {'uuid-2': detail(MIB, MIB)},
                          now=1.0, modes={'uuid-2': 'v2v-cutover'},
                          facts={'uuid-3': moves.ActionFacts('refused')})
        self.assertEqual([4, 2, 3, 1], [r.id for r in rows])
        self.assertEqual('v2v-cutover', rows[1].mode)
        self.assertEqual('refused', rows[2].reason)
        self.assertEqual([4], [r.id for r in moves.rows(
            records, {}, {}, now=1.0, limit=1)])

    def test_samples_forget_the_oldest(self):
        samples = moves.Samples(keep=2)
        for key in ('a', 'b', 'c'):
            samples.sample(1.0, key, detail(MIB, MIB))
        self.assertIsNone(samples.last('a'))
        self.assertIsNotNone(samples.last('c'))

    def test_the_newest_first_among_ended_moves(self):
        records = [migration(9, 'completed',
                             created_at='2026-12-07T17:00:00'),
                   migration(2, 'completed',
                             created_at='2026-12-07T18:00:00')]
        self.assertEqual([2, 9], [r.id for r in moves.rows(
            records, {}, {}, now=1.0)])


def action(*events, message=None):
    """An instance action with its events, as the compute API gives it."""
    return {'action': 'live-migration', 'request_id': 'req-1',
            'message': message, 'events': list(events)}


def event(name, start, finish, result='Success', details=None):
    return {'event': name, 'start_time': start, 'finish_time': finish,
            'result': result, 'details': details, 'host': 'labhost-a'}


DOWNTIME = 'compute_v2v_cutover_downtime'


class TestActionFacts(testtools.TestCase):

    def test_the_downtime_event_name_is_the_drivers(self):
        self.assertEqual(DOWNTIME, notifications.DOWNTIME_EVENT)

    def test_downtime_in_whole_seconds(self):
        # MariaDB keeps whole seconds: each end up to 1 s early.
        down = moves.downtime_of(action(
            event('compute_live_migration', '2026-12-07T18:00:00.000000',
                  '2026-12-07T18:00:30.000000'),
            event(DOWNTIME, '2026-12-07T18:00:20.000000',
                  '2026-12-07T18:00:23.000000')))
        self.assertEqual(moves.Downtime(3.0, True), down)
        self.assertEqual('~3 s', down.text())

    def test_both_ends_in_one_second(self):
        down = moves.downtime_of(action(event(
            DOWNTIME, '2026-12-07T18:00:20', '2026-12-07T18:00:20Z')))
        self.assertEqual('< 1 s', down.text())

    def test_a_database_that_keeps_fractions(self):
        down = moves.downtime_of(action(event(
            DOWNTIME, '2026-12-07T18:00:20.250000',
            '2026-12-07T18:00:21.700000+00:00')))
        self.assertFalse(down.whole_seconds)
        self.assertEqual('1.4 s', down.text())

    def test_a_rollback(self):
        down = moves.downtime_of(action(event(
            DOWNTIME, '2026-12-07T18:00:20', '2026-12-07T18:00:25',
            result='Error', details='the clone did not start')))
        self.assertEqual('~5 s (rolled back)', down.text())

    def test_none_without_the_event_or_its_end(self):
        self.assertIsNone(moves.downtime_of(action(event(
            'compute_live_migration', '2026-12-07T18:00:00',
            '2026-12-07T18:00:09'))))
        # Not ended: the clone's state is unknown.
        self.assertIsNone(moves.downtime_of(action(event(
            DOWNTIME, '2026-12-07T18:00:20', None, result=None))))
        self.assertIsNone(moves.downtime_of(None))

    def test_failure_from_the_first_event_in_error(self):
        failed = action(
            event('conductor_live_migrate_instance', '2026-12-07T18:00:00',
                  '2026-12-07T18:00:01', result='Error',
                  details='Migration pre-check error: refused'),
            message='Error')
        self.assertEqual('Migration pre-check error: refused',
                         moves.failure_of(failed))
        self.assertEqual('Error', moves.failure_of(action(message='Error')))
        self.assertIsNone(moves.failure_of(None))

    def test_facts_of_a_completed_cutover(self):
        facts = moves.facts_of(action(event(
            DOWNTIME, '2026-12-07T18:00:20', '2026-12-07T18:00:22')),
            failed=False)
        self.assertIsNone(facts.reason)
        self.assertEqual(2.0, facts.downtime.seconds)

    def test_a_cutover_row_shows_its_downtime_and_mode(self):
        facts = moves.ActionFacts(downtime=moves.Downtime(4.0, True))
        row = moves.row(migration(6, 'completed'), {}, now=1.0,
                        mode='block-live', facts=facts)
        self.assertEqual('v2v-cutover', row.mode)
        self.assertEqual('~4 s', row.downtime_text())
        other = moves.row(migration(7, 'completed'), {}, now=1.0,
                          mode='block-live')
        self.assertEqual(('block-live', '-'),
                         (other.mode, other.downtime_text()))


class TestParseTime(testtools.TestCase):

    def test_novas_and_with_an_offset(self):
        self.assertEqual(
            moves.parse_time('2026-12-07T18:00:20.250000'),
            moves.parse_time('2026-12-07T20:00:20.250000+02:00'))
        self.assertEqual(
            moves.parse_time('2026-12-07T18:00:20'),
            moves.parse_time('2026-12-07T18:00:20Z'))
        self.assertIsNone(moves.parse_time('yesterday'))
        self.assertIsNone(moves.parse_time(None))
