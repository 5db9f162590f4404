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

"""The network downtime and loss of a window of a prober's record."""

import testtools

from nova_v2v_rig.lab import pingstats


def _record(replies, sent=None, ended=10.0, started=0.0):
    """A record: requests every 10 ms from ``started`` to ``ended`` - 1 s.

    :param replies: ``{n: receive time}``, or a callable of (n, send time)
        returning the receive time or None
    """
    if sent is None:
        sent = [round(started + n * 0.01, 3)
                for n in range(int(round((ended - 1 - started) / 0.01)))]
    if callable(replies):
        got = [(n, replies(n, t)) for n, t in enumerate(sent)]
        replies = {n: r for n, r in got if r is not None}
    return {'sent': sent, 'replies': sorted(([n, t] for n, t in
                                             replies.items()),
                                            key=lambda r: r[1]),
            'started': started, 'ended': ended,
            'anchor': {'wall': 1000.0, 'monotonic': started}}


def _outage(a, b, rtt=0.001):
    """Replies to requests sent outside [a, b) after ``rtt``."""
    return lambda n, t: None if a <= t < b else t + rtt


class TestAnalyse(testtools.TestCase):
    # Windows end 5 ms after a request: none lies on an edge.
    START, END = 1.995, 4.995

    def test_gap_inside_the_window(self):
        record = _record(_outage(3.0, 3.3))
        got = pingstats.analyse(record, self.START, self.END)
        self.assertEqual(310, got['network_downtime_ms'])
        self.assertAlmostEqual(2.991, got['downtime_from'])
        self.assertAlmostEqual(3.301, got['downtime_to'])
        self.assertFalse(got['downtime_open'])
        self.assertEqual(300, got['probes_sent'])
        self.assertEqual(30, got['packets_lost'])
        self.assertEqual(270, got['probes_answered'])
        self.assertEqual(0, got['packets_lost_after'])
        self.assertEqual([], got['notes'])

    def test_healthy_network_is_one_interval(self):
        got = pingstats.analyse(_record(_outage(99, 99)),
                                self.START, self.END)
        self.assertEqual(10, got['network_downtime_ms'])
        self.assertEqual(0, got['packets_lost'])

    def test_gap_over_the_start_counts_whole(self):
        got = pingstats.analyse(_record(_outage(1.8, 2.3)),
                                self.START, self.END)
        self.assertEqual(510, got['network_downtime_ms'])
        self.assertAlmostEqual(1.791, got['downtime_from'])
        # Only the requests sent inside the window count as lost.
        self.assertEqual(30, got['packets_lost'])

    def test_gap_over_the_end_counts_whole(self):
        got = pingstats.analyse(_record(_outage(4.8, 6.0)),
                                self.START, self.END)
        self.assertEqual(1210, got['network_downtime_ms'])
        self.assertAlmostEqual(6.001, got['downtime_to'])
        self.assertEqual(20, got['packets_lost'])
        self.assertEqual(100, got['packets_lost_after'])

    def test_nothing_answered_in_the_window(self):
        got = pingstats.analyse(_record(_outage(1.5, 6.0)),
                                self.START, self.END)
        self.assertEqual(4510, got['network_downtime_ms'])
        self.assertEqual(0, got['answered_in_window'])
        self.assertEqual(0, got['probes_answered'])
        self.assertEqual(300, got['packets_lost'])
        self.assertIn('no request was answered within the window: the '
                      'downtime spans the whole window', got['notes'])

    def test_never_answered_again(self):
        record = _record(_outage(3.0, 99))
        got = pingstats.analyse(record, self.START, self.END)
        self.assertTrue(got['downtime_open'])
        self.assertAlmostEqual(2.991, got['downtime_from'])
        self.assertEqual(10.0, got['downtime_to'])
        self.assertEqual(7009, got['network_downtime_ms'])
        self.assertIn('no reply after the window end: the gap runs to the '
                      'end of the record', got['notes'])
        # Sent from 5 s to 9 s (the record's end less the in-flight
        # second): lost after the window.
        self.assertEqual(200, got['packets_lost'])
        self.assertEqual(400, got['packets_lost_after'])

    def test_no_reply_at_all(self):
        got = pingstats.analyse(_record({}), self.START, self.END)
        self.assertEqual(8005, got['network_downtime_ms'])
        self.assertTrue(got['downtime_open'])
        self.assertIn('no reply at or before the window start',
                      got['notes'])

    def test_prober_started_late_and_stopped_early(self):
        record = _record(_outage(99, 99), started=2.5, ended=4.0)
        got = pingstats.analyse(record, 2.0, 5.0)
        self.assertIn('the prober started 0.500 s after the window start',
                      got['notes'])
        self.assertIn('the prober stopped 1.000 s before the window end',
                      got['notes'])
        # From its last reply to the window's end: nothing is known of it.
        self.assertEqual(2009, got['network_downtime_ms'])
        self.assertTrue(got['downtime_open'])
        self.assertEqual(50, got['probes_sent'])

    def test_in_flight_requests_ignored(self):
        sent = [round(0.01 * n, 3) for n in range(1000)]
        record = _record(lambda n, t: None if t > 9.5 else t + 0.001,
                         sent=sent, ended=10.0)
        got = pingstats.analyse(record, 8.0, 9.8)
        # Sent after 9.5 and never answered, but within the last second
        # of the record: maybe still on their way.
        self.assertEqual(0, got['packets_lost'])
        self.assertEqual(0, got['packets_lost_after'])
        self.assertEqual(30 + 19, got['inflight_ignored'])
        got = pingstats.analyse(record, 8.0, 9.8, inflight=0.1)
        self.assertEqual(30, got['packets_lost'])
        self.assertEqual(10, got['packets_lost_after'])
        self.assertEqual(9, got['inflight_ignored'])

    def test_receive_times_not_send_times(self):
        # A paused guest: the requests sent during its pause (3.0 to 3.3)
        # are queued and answered, in order, when it resumes. None is
        # lost, and by send times the longest gap would be one interval;
        # the prober heard nothing from 2.991 to 3.3.
        record = _record(lambda n, t: (3.3 + (t - 3.0) / 100
                                       if 3.0 <= t < 3.3 else t + 0.001))
        got = pingstats.analyse(record, self.START, self.END)
        self.assertEqual(0, got['packets_lost'])
        self.assertEqual(309, got['network_downtime_ms'])

    def test_window_reversed(self):
        self.assertRaises(ValueError, pingstats.analyse, _record({}), 5, 2)

    def test_answers_after(self):
        record = _record(_outage(4.0, 99))
        self.assertEqual(0, pingstats.answers_after(record, 5.0))
        # Only replies after the end count, not those just before it.
        self.assertEqual(0, pingstats.answers_after(record, 3.995))
        record = _record(_outage(3.0, 3.5))
        self.assertEqual(400, pingstats.answers_after(record, 4.995))
        self.assertEqual(550, pingstats.answers_after(record, 2.995))

    def test_probe_time(self):
        record = {'anchor': {'wall': 1700000000.5, 'monotonic': 812.25}}
        self.assertEqual(814.25,
                         pingstats.probe_time(record, 1700000002.5))
