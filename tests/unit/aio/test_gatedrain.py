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
import sys
from unittest import mock

import fixtures
import testtools

from nova_v2v_rig.aio import gatedrain


class TimesTest(testtools.TestCase):

    def test_last_move_of_each_server(self):
        events = [{'event': 'move.start', 'server': 's1', 'time': 1.0},
                  {'event': 'progress', 'time': 2.0},
                  {'event': 'move.end', 'server': 's1', 'time': 5.0},
                  {'event': 'move.start', 'server': 's2', 'time': 6.0},
                  {'event': 'move.retry', 'server': 's2', 'time': 7.0},
                  {'event': 'move.start', 'server': 's2', 'time': 8.0},
                  {'event': 'move.end', 'server': 's2', 'time': 9.0}]
        self.assertEqual({'s1': (1.0, 5.0), 's2': (8.0, 9.0)},
                         gatedrain._times(events))


class InterruptedTest(testtools.TestCase):

    def test_no_start_after_stopping(self):
        ok = [{'event': 'drain.start'}, {'event': 'move.start'},
              {'event': 'move.start'}, {'event': 'drain.stopping'},
              {'event': 'move.end'}, {'event': 'drain.end'}]
        self.assertEqual([], gatedrain.interrupted_problems(ok))
        late = ok[:4] + [{'event': 'move.start'}] + ok[4:]
        self.assertEqual(['the interrupted drain started a move after it '
                          'said it was stopping'],
                         gatedrain.interrupted_problems(late))
        self.assertEqual(['the interrupted drain started no move',
                          'the interrupted drain did not say it was '
                          'stopping'],
                         gatedrain.interrupted_problems(
                             [{'event': 'drain.end'}]))


class RunDrainTest(testtools.TestCase):
    """run_drain on a real child process that prints JSON events."""

    SCRIPT = r'''
import json, signal, sys, time
stopped = []
signal.signal(signal.SIGINT, lambda s, f: stopped.append(s))
print(json.dumps({"event": "drain.start"}), flush=True)
print(json.dumps({"event": "move.start", "server": "s1"}), flush=True)
deadline = time.time() + 10
while not stopped and time.time() < deadline:
    time.sleep(0.05)
print(json.dumps({"event": "drain.end", "stopped": bool(stopped)}),
      flush=True)
sys.exit(130 if stopped else 0)
'''

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.cloud = mock.Mock(env=dict(os.environ), calls=[])

    def test_interrupted_at_the_first_move(self):
        rc, events, _s = gatedrain.run_drain(
            self.cloud, [sys.executable, '-c', self.SCRIPT],
            os.path.join(self.dir, 'err'), interrupt_at='move.start')
        self.assertEqual(130, rc)
        self.assertEqual(['drain.start', 'move.start', 'drain.end'],
                         [e['event'] for e in events])
        self.assertTrue(events[-1]['stopped'])
        self.assertEqual(130, self.cloud.calls[0]['exit'])

    def test_killed_past_its_timeout(self):
        rc, events, _s = gatedrain.run_drain(
            self.cloud, [sys.executable, '-c', self.SCRIPT],
            os.path.join(self.dir, 'err'), timeout=1)
        self.assertEqual(-9, rc)
        self.assertEqual(['drain.start', 'move.start'],
                         [e['event'] for e in events])
