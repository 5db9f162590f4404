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

import io
import json
import os

import fixtures
import testtools

from nova_v2v.drain import progress
from nova_v2v.drain import runner
from nova_v2v.drain import schedule
from nova_v2v.drain import state as drain_state
from tests.unit.drain import fakes


class Clock(object):
    """Time that moves only when the drain sleeps."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Recorder(progress.Printer):

    def __init__(self):
        super().__init__(io.StringIO(), 'a')
        self.events = []
        self.snaps = []

    def event(self, kind, **fields):
        self.events.append((kind, fields))

    def progress(self, snap):
        self.snaps.append(snap)

    def kinds(self, kind):
        return [f for k, f in self.events if k == kind]


class DrainTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'drain-a.json')
        self.clock = Clock()
        self.computes = [fakes.compute('a'), fakes.compute('b'),
                         fakes.compute('c')]

    def servers(self, n=4, **kw):
        return [fakes.FakeServer('s%d' % i, 'vm%d' % i, 'a', **kw)
                for i in range(1, n + 1)]

    def drain(self, cloud, limits=None, hook=None, **options):
        state = drain_state.DrainState(self.path, 'a')
        self.addCleanup(state.close)
        printer = Recorder()
        d = runner.Drain(cloud, 'a', state, printer,
                         limits or schedule.Limits(parallel=2),
                         runner.Options(poll=1.0, **options),
                         clock=self.clock, wall=self.clock,
                         sleep=hook or self.clock.sleep)
        return d, printer, state


class DrainTest(DrainTestBase):

    def test_drains_within_the_parallel_limit(self):
        cloud = fakes.FakeCloud(self.servers(5), self.computes, polls=3)
        d, printer, state = self.drain(cloud, schedule.Limits(parallel=2))
        report = d.run()
        self.assertTrue(report['empty'])
        self.assertEqual(2, cloud.in_flight_max)
        self.assertEqual(5, report['totals']['moved'])
        self.assertNotIn('a', {s.host for s in cloud.servers.values()})
        # Spread over both destinations.
        self.assertEqual({'b', 'c'}, {r['dest'] for r in
                                      report['servers']})
        self.assertEqual(5, len(printer.kinds('move.start')))
        self.assertIsNotNone(report['totals']['servers_per_hour'])
        # Bytes: each move's memory, from its migration record.
        self.assertEqual([256 << 20] * 5,
                         [r['bytes'] for r in report['servers']])

    def test_per_destination_limit(self):
        cloud = fakes.FakeCloud(self.servers(4), self.computes, polls=3)
        d, _p, _s = self.drain(cloud, schedule.Limits(parallel=3,
                                                      per_destination=1),
                               targets=('b',))
        report = d.run()
        self.assertEqual(1, cloud.in_flight_max)
        self.assertEqual(4, report['totals']['moved'])

    def test_disable_first(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        d, printer, state = self.drain(cloud, disable_reason='maintenance')
        d.run()
        self.assertEqual(('disable', 'a', 'maintenance'), cloud.calls[0])
        self.assertEqual('maintenance', state.data['disabled']['reason'])

    def test_already_disabled_service_is_left(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.service_enabled = False
        cloud.service_reason = 'theirs'
        d, printer, _s = self.drain(cloud, disable_reason='maintenance')
        d.run()
        self.assertNotIn('disable', [c[0] for c in cloud.calls])
        self.assertTrue(printer.kinds('service.disabled')[0]['already'])

    def test_stopped_server_moves_cold_and_is_confirmed(self):
        cloud = fakes.FakeCloud(self.servers(1, status='SHUTOFF'),
                                self.computes)
        d, _p, _s = self.drain(cloud)
        report = d.run()
        self.assertIn(('cold', 's1', 'b'), cloud.calls)
        self.assertIn(('confirm', 's1'), cloud.calls)
        self.assertEqual('SHUTOFF', cloud.servers['s1'].status)
        self.assertEqual('moved', report['servers'][0]['outcome'])
        self.assertTrue(report['empty'])

    def test_failed_move_is_retried_once(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.fail['s1'] = 1
        d, printer, _s = self.drain(cloud)
        report = d.run()
        self.assertEqual(1, len(printer.kinds('move.retry')))
        self.assertEqual('moved', report['servers'][0]['outcome'])
        self.assertEqual(2, report['servers'][0]['attempts'])

    def test_failed_twice_is_reported(self):
        cloud = fakes.FakeCloud(self.servers(2), self.computes)
        cloud.fail['s1'] = 2
        d, _p, state = self.drain(cloud)
        report = d.run()
        row = {r['id']: r for r in report['servers']}['s1']
        self.assertEqual('failed', row['outcome'])
        self.assertEqual('migration 102 error; the server is ACTIVE on a',
                         row['error'])
        self.assertEqual(drain_state.FAILED, state.entry('s1')['status'])
        self.assertFalse(report['empty'])
        self.assertEqual(1, report['totals']['failed'])

    def test_api_refusal_is_a_failed_attempt(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.refuse.add('s1')
        d, _p, _s = self.drain(cloud)
        report = d.run()
        self.assertEqual('failed', report['servers'][0]['outcome'])
        self.assertEqual(2, report['servers'][0]['attempts'])

    def test_timeout_aborts_and_is_not_retried(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.stuck.add('s1')
        d, printer, _s = self.drain(cloud, timeout=5)
        report = d.run()
        self.assertEqual('timeout', report['servers'][0]['outcome'])
        self.assertEqual(1, len([c for c in cloud.calls
                                 if c[0] == 'abort']))
        self.assertEqual('a', cloud.servers['s1'].host)
        self.assertEqual(1, report['servers'][0]['attempts'])

    def test_force_complete_after(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.stuck.add('s1')
        d, printer, _s = self.drain(cloud, force_complete_after=5)
        report = d.run()
        self.assertEqual(1, len([c for c in cloud.calls
                                 if c[0] == 'force_complete']))
        self.assertEqual('moved', report['servers'][0]['outcome'])

    def test_bandwidth_shared_and_removed(self):
        cloud = fakes.FakeCloud(self.servers(3), self.computes)
        d, printer, _s = self.drain(
            cloud, schedule.Limits(parallel=2, bandwidth_mib=100))
        d.run()
        # Two slots while three are left, then the last one alone.
        self.assertEqual({'s1': '50', 's2': '50', 's3': '100'},
                         cloud.bandwidth_seen)
        self.assertEqual([{}, {}, {}], [s.metadata for s in
                                        cloud.servers.values()])

    def test_no_bandwidth_no_metadata(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        d, _p, _s = self.drain(cloud)
        d.run()
        self.assertNotIn('set_bandwidth', [c[0] for c in cloud.calls])

    def test_server_moved_by_someone_else_is_skipped(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        d, _p, _s = self.drain(cloud)
        original = cloud.server

        def server(sid):
            view = original(sid)
            if not d.moving:
                cloud.servers['s1'].host = 'c'
                return original(sid)
            return view
        cloud.server = server
        report = d.run()
        self.assertEqual('skipped', report['servers'][0]['outcome'])
        self.assertIn('now on c', report['servers'][0]['reason'])

    def test_progress_has_bytes_rate_and_eta(self):
        cloud = fakes.FakeCloud(self.servers(2), self.computes, polls=4)
        d, printer, _s = self.drain(cloud, schedule.Limits(parallel=1))
        d.run()
        snaps = [s for s in printer.snaps if s['moves']]
        self.assertTrue(snaps)
        self.assertTrue(any(s['rate_bps'] for s in snaps))
        self.assertTrue(any(s['eta_s'] is not None for s in snaps))
        moved = [s['bytes_moved'] for s in printer.snaps]
        self.assertEqual(sorted(moved), moved)
        self.assertEqual(2 * (256 << 20), moved[-1])


class ReviewedFaultsTest(DrainTestBase):
    """What Nova really does that a simple cloud would not."""

    def test_confirm_asked_once_while_nova_confirms(self):
        cloud = fakes.FakeCloud(self.servers(1, status='SHUTOFF'),
                                self.computes)
        d, _p, _s = self.drain(cloud)
        report = d.run()
        self.assertEqual(1, cloud.calls.count(('confirm', 's1')))
        self.assertEqual('moved', report['servers'][0]['outcome'])

    def test_confirm_that_never_ends_is_reported(self):
        cloud = fakes.FakeCloud(self.servers(1, status='SHUTOFF'),
                                self.computes)
        # The source compute never finishes the confirm.
        cloud.confirm = lambda sid: cloud.calls.append(('confirm', sid))
        cloud.last_migration = lambda sid: {'id': 7, 'status': 'error'}
        d, _p, _s = self.drain(cloud)
        report = d.run()
        self.assertEqual('failed', report['servers'][0]['outcome'])
        self.assertIn('its confirm did not end (migration 7 error',
                      report['servers'][0]['error'])
        self.assertEqual(1, cloud.calls.count(('confirm', 's1')))

    def test_cold_moved_server_started_by_its_owner_ends_the_move(self):
        cloud = fakes.FakeCloud(self.servers(1, status='SHUTOFF'),
                                self.computes)
        original = cloud._tick

        def tick(server):
            original(server)
            if server.status == 'SHUTOFF' and server.host != 'a':
                server.status = 'ACTIVE'
        cloud._tick = tick
        d, _p, _s = self.drain(cloud)
        report = d.run()
        self.assertEqual('moved', report['servers'][0]['outcome'])

    def test_lost_answer_of_a_request_nova_took_is_followed(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.lose_answer.add('s1')
        d, printer, _s = self.drain(cloud)
        report = d.run()
        self.assertEqual(1, len([c for c in cloud.calls if c[0] == 'live']))
        self.assertEqual('moved', report['servers'][0]['outcome'])
        self.assertEqual(1, report['servers'][0]['attempts'])

    def test_refused_request_is_a_failed_attempt_then_elsewhere(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.fail['s1'] = 1
        d, _p, _s = self.drain(cloud)
        report = d.run()
        # The retry goes to the other host.
        self.assertEqual([('live', 's1', 'b'), ('live', 's1', 'c')],
                         [c for c in cloud.calls if c[0] == 'live'])
        self.assertEqual('moved', report['servers'][0]['outcome'])

    def test_one_servers_error_does_not_stop_the_others(self):
        cloud = fakes.FakeCloud(self.servers(2), self.computes)
        cloud.metadata_quota.add('s1')
        d, _p, _s = self.drain(cloud, schedule.Limits(parallel=2,
                                                      bandwidth_mib=64))
        report = d.run()
        rows = {r['id']: r for r in report['servers']}
        self.assertEqual('moved', rows['s2']['outcome'])
        self.assertEqual('failed', rows['s1']['outcome'])
        self.assertIn('403: metadata quota', rows['s1']['error'])
        # Never moved without its share.
        self.assertEqual([], [c for c in cloud.calls
                              if c[:2] == ('live', 's1')])

    def test_abort_refused_once_is_asked_again(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.stuck.add('s1')
        cloud.abort_fail = 1
        d, _p, _s = self.drain(cloud, timeout=5)
        report = d.run()
        self.assertEqual(2, len([c for c in cloud.calls
                                 if c[0] == 'abort']))
        self.assertEqual('timeout', report['servers'][0]['outcome'])

    def test_time_queued_on_the_source_does_not_count(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes, polls=2)
        cloud.queued['s1'] = 20
        d, _p, _s = self.drain(cloud, timeout=10, force_complete_after=5)
        report = d.run()
        self.assertEqual([], [c for c in cloud.calls
                              if c[0] in ('abort', 'force_complete')])
        self.assertEqual('moved', report['servers'][0]['outcome'])

    def test_no_migration_record_past_the_timeout_is_unknown(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.stuck.add('s1')
        cloud.no_record.add('s1')
        d, _p, state = self.drain(cloud, timeout=5)
        report = d.run()
        self.assertEqual('unknown', report['servers'][0]['outcome'])
        self.assertIn('no migration in progress',
                      report['servers'][0]['error'])
        self.assertEqual(drain_state.FAILED, state.entry('s1')['status'])

    def test_cutover_is_never_forced(self):
        cloud = fakes.FakeCloud(
            self.servers(1, image_properties={'hw_vif_model': 'vmxnet3'}),
            self.computes, polls=8)
        d, _p, _s = self.drain(cloud, allow_cutover=True,
                               force_complete_after=1)
        d.run()
        self.assertEqual([], [c for c in cloud.calls
                              if c[0] == 'force_complete'])

    def test_signals_only_set_flags_the_loop_says_so(self):
        cloud = fakes.FakeCloud(self.servers(2), self.computes)
        d, printer, _s = self.drain(cloud)
        d.request_abort()
        self.assertEqual([], printer.events)
        d.run()
        self.assertEqual(1, len(printer.kinds('drain.stopping')))
        self.assertEqual(1, len(printer.kinds('drain.aborting')))

    def test_bandwidth_left_by_a_dead_run_is_removed(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.servers['s1'].metadata['nova-v2v:bandwidth_mib'] = '10'
        state = drain_state.DrainState(self.path, 'a')
        state.put('s1', status=drain_state.PENDING, name='vm1',
                  action='live', mode='block-live', destinations=['b'],
                  bandwidth_mib=10)
        state.close()
        d, _p, _s = self.drain(cloud)
        d.run()
        self.assertEqual({}, cloud.servers['s1'].metadata)


class InterruptTest(DrainTestBase):

    def test_stop_lets_moves_in_flight_end_and_starts_none(self):
        cloud = fakes.FakeCloud(self.servers(4), self.computes, polls=3)
        holder = {}

        def sleep(seconds):
            self.clock.sleep(seconds)
            holder['d'].request_stop()

        d, printer, state = self.drain(cloud, hook=sleep)
        holder['d'] = d
        report = d.run()
        self.assertTrue(report['interrupted'])
        self.assertIsNone(report['empty'])
        self.assertEqual(2, len(printer.kinds('move.start')))
        self.assertEqual(['b', 'c', 'a', 'a'],
                         [cloud.servers['s%d' % i].host
                          for i in range(1, 5)])
        self.assertEqual(2, len(state.of_status(drain_state.PENDING)))
        self.assertEqual(0, len(state.of_status(drain_state.MOVING)))

    def test_stop_between_two_starts_of_a_poll(self):
        cloud = fakes.FakeCloud(self.servers(4), self.computes, polls=3)
        d, printer, state = self.drain(cloud)
        original = cloud.live_migrate

        def live_migrate(sid, host):
            original(sid, host)
            d.request_stop()
        cloud.live_migrate = live_migrate
        report = d.run()
        self.assertEqual(1, len(printer.kinds('move.start')))
        self.assertTrue(report['interrupted'])
        self.assertEqual(3, len(state.of_status(drain_state.PENDING)))

    def test_stop_while_a_server_is_read_asks_nothing(self):
        cloud = fakes.FakeCloud(self.servers(2), self.computes, polls=3)
        d, printer, state = self.drain(cloud)
        original = cloud.server

        def server(sid):
            d.request_stop()
            return original(sid)
        cloud.server = server
        report = d.run()
        self.assertEqual([], printer.kinds('move.start'))
        self.assertEqual([], [c for c in cloud.calls if c[0] == 'live'])
        self.assertTrue(report['interrupted'])
        self.assertEqual(2, len(state.of_status(drain_state.PENDING)))

    def test_second_stop_aborts_live_moves(self):
        cloud = fakes.FakeCloud(self.servers(2), self.computes, polls=5)
        holder = {}

        def sleep(seconds):
            self.clock.sleep(seconds)
            holder['d'].request_abort()

        d, printer, state = self.drain(cloud, hook=sleep)
        holder['d'] = d
        report = d.run()
        self.assertEqual(2, len([c for c in cloud.calls
                                 if c[0] == 'abort']))
        self.assertEqual(['aborted', 'aborted'],
                         [r['outcome'] for r in report['servers']])
        # Not failed: the next run moves them.
        self.assertEqual(2, len(state.of_status(drain_state.PENDING)))
        self.assertEqual({'a'}, {s.host for s in cloud.servers.values()})


class ResumeTest(DrainTestBase):

    def test_rerun_follows_the_move_in_flight_and_starts_no_second(self):
        cloud = fakes.FakeCloud(self.servers(3), self.computes, polls=4)
        holder = {}

        def crash(seconds):
            # The drain dies (a lost connection) with moves in flight.
            raise KeyboardInterrupt()

        d, _p, state = self.drain(cloud, hook=crash)
        holder['d'] = d
        self.assertRaises(KeyboardInterrupt, d.run)
        state.close()
        self.assertEqual(2, len(state.of_status(drain_state.MOVING)))
        started = [c for c in cloud.calls if c[0] == 'live']
        self.assertEqual(2, len(started))

        d2, printer, state2 = self.drain(cloud)
        self.assertTrue(state2.resumed)
        report = d2.run()
        self.assertEqual(2, len(printer.kinds('move.resumed')))
        # One more request: the third server's; none for the two in flight.
        started = [c for c in cloud.calls if c[0] == 'live']
        self.assertEqual(['s1', 's2', 's3'], [c[1] for c in started])
        self.assertTrue(report['empty'])
        self.assertEqual(['moved'] * 3,
                         [r['outcome'] for r in report['servers']])

    def test_rerun_confirms_a_cold_move_left_waiting(self):
        cloud = fakes.FakeCloud(self.servers(1, status='SHUTOFF'),
                                self.computes, polls=1)
        d, _p, state = self.drain(cloud, hook=self._raise)
        self.assertRaises(KeyboardInterrupt, d.run)
        state.close()
        d2, _p2, _s2 = self.drain(cloud)
        report = d2.run()
        self.assertEqual(1, len([c for c in cloud.calls if c[0] == 'cold']))
        self.assertIn(('confirm', 's1'), cloud.calls)
        self.assertEqual('moved', report['servers'][0]['outcome'])

    @staticmethod
    def _raise(seconds):
        raise KeyboardInterrupt()

    def test_failed_servers_stay_failed_unless_retry_failed(self):
        cloud = fakes.FakeCloud(self.servers(1), self.computes)
        cloud.fail['s1'] = 2
        d, _p, state = self.drain(cloud)
        d.run()
        state.close()
        d2, _p2, state2 = self.drain(cloud)
        report = d2.run()
        self.assertEqual('failed', report['servers'][0]['outcome'])
        self.assertEqual(2, len([c for c in cloud.calls if c[0] == 'live']))
        state2.close()
        d3, _p3, _s3 = self.drain(cloud, retry_failed=True)
        report = d3.run()
        self.assertEqual('moved', report['servers'][0]['outcome'])

    def test_rates_count_this_runs_moves(self):
        cloud = fakes.FakeCloud(self.servers(2), self.computes)
        d, _p, state = self.drain(cloud, schedule.Limits(parallel=1))
        d.run()
        state.close()
        cloud.servers['s3'] = fakes.FakeServer('s3', 'vm3', 'a')
        d2, _p2, _s2 = self.drain(cloud)
        report = d2.run()
        self.assertEqual(3, report['totals']['moved'])
        self.assertEqual(1, report['totals']['moved_this_run'])


class StateTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'sub', 'drain-a.json')

    def test_second_drain_of_the_host_is_refused(self):
        s = drain_state.DrainState(self.path, 'a')
        self.addCleanup(s.close)
        self.assertRaises(drain_state.DrainBusy, drain_state.DrainState,
                          self.path, 'a')

    def test_written_whole_and_read_back(self):
        s = drain_state.DrainState(self.path, 'a')
        s.put('x', status=drain_state.MOVING, dest='b')
        s.close()
        with open(self.path) as f:
            self.assertEqual('b', json.load(f)['servers']['x']['dest'])
        s2 = drain_state.DrainState(self.path, 'a')
        self.addCleanup(s2.close)
        self.assertTrue(s2.resumed)
        self.assertEqual(drain_state.MOVING, s2.entry('x')['status'])
        self.assertEqual([], [n for n in os.listdir(os.path.dirname(
            self.path)) if n.startswith('.drain-')])

    def test_another_hosts_file_or_garbage_is_refused(self):
        s = drain_state.DrainState(self.path, 'a')
        s.put('x')
        s.close()
        self.assertRaises(drain_state.StateError, drain_state.DrainState,
                          self.path, 'b')
        with open(self.path, 'w') as f:
            f.write('{not json')
        self.assertRaises(drain_state.StateError, drain_state.DrainState,
                          self.path, 'a')
        # The lock is released after a refusal.
        with open(self.path, 'w') as f:
            f.write('')
        os.unlink(self.path)
        drain_state.DrainState(self.path, 'a').close()

    def test_unknown_status_refused(self):
        s = drain_state.DrainState(self.path, 'a')
        self.addCleanup(s.close)
        self.assertRaises(drain_state.StateError, s.put, 'x',
                          status='flying')

    def test_default_path(self):
        self.useFixture(fixtures.EnvironmentVariable('XDG_STATE_HOME',
                                                     '/st'))
        self.assertEqual('/st/nova-v2v/drain-host_1.json',
                         drain_state.default_path('host/1'))
