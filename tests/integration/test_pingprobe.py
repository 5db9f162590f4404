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

"""The ICMP prober on a real link, without the lab.

Each test builds two network namespaces of its own
(``nv2v-probe-<pid>-a``/``-b``) joined by a veth pair created inside them
(never in the root namespace), with 10.78.9.1 and 10.78.9.2; an
``unreachable`` route for 10.78.9.0/24 is added in the root namespace
first and removed last, so nothing there can reach the test's addresses.
The prober runs inside ``-a`` and probes ``-b``; a test takes the link
down for a known time and checks what the record shows.

Here, not in the unit tests: it needs root and creates namespaces, which
the unit tests never do (they run everywhere, in parallel); like every
integration test it fails, never skips, when it cannot run.
"""

import json
import os
import subprocess
import sys
import time

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v_rig.lab import pingprobe
from nova_v2v_rig.lab import pingstats

SUBNET = '10.78.9.0/24'
PROBER = '10.78.9.1'
TARGET = '10.78.9.2'


class TestProbeOnAVeth(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail('the prober test needs root (network namespaces, a '
                      'raw ICMP socket)')
        prefix = 'nv2v-probe-%d' % os.getpid()
        self.ns_a, self.ns_b = prefix + '-a', prefix + '-b'
        try:
            processutils.execute('ip', 'route', 'add', 'unreachable', SUBNET)
        except processutils.ProcessExecutionError as exc:
            self.fail('cannot add the unreachable route for %s in the root '
                      'namespace (left by an earlier run? "ip route del '
                      'unreachable %s"): %s' % (SUBNET, SUBNET, exc.stderr))
        # Cleanups run last first: the route goes after the namespaces.
        self.addCleanup(processutils.execute, 'ip', 'route', 'del',
                        'unreachable', SUBNET)
        for ns in (self.ns_a, self.ns_b):
            processutils.execute('ip', 'netns', 'add', ns)
            self.addCleanup(processutils.execute, 'ip', 'netns', 'del', ns)
        processutils.execute('ip', '-n', self.ns_a, 'link', 'add', 'veth-a',
                             'type', 'veth', 'peer', 'name', 'veth-b',
                             'netns', self.ns_b)
        for ns, dev, ip in ((self.ns_a, 'veth-a', PROBER),
                            (self.ns_b, 'veth-b', TARGET)):
            processutils.execute('ip', '-n', ns, 'addr', 'add', ip + '/24',
                                 'dev', dev)
            processutils.execute('ip', '-n', ns, 'link', 'set', 'lo', 'up')
            processutils.execute('ip', '-n', ns, 'link', 'set', dev, 'up')
        # The prober's side knows the target's MAC for good: a carrier
        # loss flushes learnt neighbours, and resolving again would add up
        # to a second of ARP retries (retrans_time) to the outage.
        mac = self._mac(self.ns_b, 'veth-b')
        processutils.execute('ip', '-n', self.ns_a, 'neigh', 'replace',
                             TARGET, 'lladdr', mac, 'dev', 'veth-a', 'nud',
                             'permanent')
        self.work = self.useFixture(fixtures.TempDir()).path

    @staticmethod
    def _mac(ns, dev):
        out, _err = processutils.execute('ip', '-n', ns, '-j', 'link',
                                         'show', dev)
        return json.loads(out)[0]['address']

    def probe(self, allow=(SUBNET,), target=TARGET, **kwargs):
        probe = pingprobe.Probe(self.ns_a, target, list(allow),
                                os.path.join(self.work, 'record.json'),
                                **kwargs)
        self.addCleanup(probe.__exit__, None, None, None)
        return probe

    def link(self, state):
        processutils.execute('ip', '-n', self.ns_b, 'link', 'set', 'veth-b',
                             state)

    def test_link_down_300ms_measured(self):
        probe = self.probe(max_seconds=20.0)
        probe.start()
        time.sleep(1.0)
        start = time.monotonic()
        time.sleep(0.3)
        down_called = time.monotonic()
        self.link('down')
        down_done = time.monotonic()
        time.sleep(0.3)
        up_called = time.monotonic()
        self.link('up')
        up_done = time.monotonic()
        time.sleep(0.5)
        end = time.monotonic()
        time.sleep(0.5)
        record = probe.stop()
        got = pingstats.analyse(record, start, end)
        self.assertEqual('signal SIGTERM', record['stop_reason'])
        self.assertEqual({}, record['send_errors'])
        # The gap lies between the link's last moment up and first moment
        # up again, give or take one interval and the scheduler (2 cores
        # shared).
        self.assertGreaterEqual(got['network_downtime_ms'],
                                int((up_called - down_done) * 1000) - 10,
                                got)
        self.assertLessEqual(got['network_downtime_ms'],
                             int((up_done - down_called) * 1000) + 100, got)
        self.assertFalse(got['downtime_open'])
        self.assertLessEqual(got['downtime_from'], down_done + 0.02)
        self.assertGreaterEqual(got['downtime_to'], up_called)
        # About 30 requests in 300 ms went unanswered, the rest came back.
        self.assertGreaterEqual(got['packets_lost'],
                                int((up_called - down_done) / 0.01) - 5, got)
        self.assertLessEqual(got['packets_lost'],
                             int((up_done - down_called) / 0.01) + 10, got)
        self.assertEqual(got['probes_sent'] - got['packets_lost'],
                         got['probes_answered'])
        self.assertGreater(got['probes_answered'], 50, got)
        self.assertEqual(0, got['packets_lost_after'], got)
        self.assertGreaterEqual(pingstats.answers_after(record, end),
                                pingstats.ANSWERS_MIN)

    def test_schedule_kept_and_count_bound(self):
        probe = self.probe(max_seconds=20.0, max_count=150, linger=0.3)
        probe.start()
        deadline = time.monotonic() + 10
        while probe.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        record = probe.stop()
        self.assertEqual('max-count', record['stop_reason'])
        self.assertEqual(150, len(record['sent']))
        self.assertEqual(150, len(record['replies']))
        self.assertEqual(0, record['duplicates'])
        # Request n leaves at its slot, start + slot * interval, not at
        # the end of the last request plus the interval: no drift.
        last_slot = len(record['sent']) - 1 + record['late_slots']
        lateness = record['sent'][-1] - (record['started'] +
                                         last_slot * record['interval'])
        self.assertGreaterEqual(lateness, 0)
        self.assertLess(lateness, 0.05)
        self.assertAlmostEqual(
            record['anchor']['wall'] - record['anchor']['monotonic'],
            time.time() - time.monotonic(), delta=0.05)
        rtts = [t - record['sent'][n] for n, t in record['replies']]
        self.assertLess(max(rtts), 0.5)

    def test_target_outside_allow_refused(self):
        probe = self.probe(allow=('10.78.8.0/24',), max_seconds=2.0)
        exc = self.assertRaises(pingprobe.ProbeError, probe.start)
        self.assertIn('exit %d' % pingprobe.EXIT_REFUSED, str(exc))
        self.assertIn('outside the allowed networks', str(exc))
        self.assertFalse(os.path.exists(probe.out))

    def test_root_namespace_refused(self):
        out = os.path.join(self.work, 'root.json')
        proc = subprocess.run(
            [sys.executable, '-m', pingprobe.MODULE, '--target', TARGET,
             '--allow', SUBNET, '--max-count', '10', '--max-seconds', '1',
             '--out', out], capture_output=True, text=True, timeout=60)
        self.assertEqual(pingprobe.EXIT_REFUSED, proc.returncode,
                         proc.stderr)
        self.assertIn('root network namespace', proc.stderr)
        self.assertEqual('', proc.stdout)
        self.assertFalse(os.path.exists(out))
