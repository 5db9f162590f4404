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

"""The prober's checks, packets, loop and launcher, without a network.

The loop runs on a UNIX datagram socket pair standing for the raw socket
(:class:`FakeRaw`): what it "sends" comes back as the echo reply a target
would send, or not. The real prober on a real link is in
tests/integration/test_pingprobe.py.
"""

import errno
import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from unittest import mock

import fixtures
import testtools

from nova_v2v_rig.lab import pingprobe

TARGET = '10.77.1.10'
ALLOW = ['10.77.1.0/24']


def reply_packet(identifier, number, source=TARGET, kind=0, seq=None):
    """An IPv4 packet holding an echo reply, as a raw socket receives it."""
    request = pingprobe.echo_request(identifier, number)
    icmp = struct.pack('!BBHHH', kind, 0, 0, identifier,
                       number & 0xffff if seq is None else seq) + request[8:]
    header = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0, 0,
                         64, 1, 0, socket.inet_aton(source),
                         socket.inet_aton('10.77.1.1'))
    return header + icmp


class FakeRaw(object):
    """A raw ICMP socket whose target answers as ``answer(n)`` says.

    ``answer(n)`` returns how many replies request ``n`` gets (0, 1, 2) or
    raises OSError, as ``sendto`` would.
    """

    def __init__(self, answer=lambda n: 1):
        self.ours, self.theirs = socket.socketpair(socket.AF_UNIX,
                                                   socket.SOCK_DGRAM)
        self.ours.setblocking(False)
        self.answer = answer
        self.requests = []

    def fileno(self):
        return self.ours.fileno()

    def recv(self, size):
        return self.ours.recv(size)

    def sendto(self, data, address):
        self.requests.append((data, address))
        kind, _c, _s, ident, seq = struct.unpack('!BBHHH', data[:8])
        (number,) = struct.unpack('!Q', data[8:16])
        for _i in range(self.answer(number)):
            # Other traffic first: another prober's reply, a stranger's.
            self.theirs.send(reply_packet(ident ^ 1, number))
            self.theirs.send(reply_packet(ident, number, source='10.77.1.9'))
            self.theirs.send(reply_packet(ident, number))
        return len(data)

    def close(self):
        self.ours.close()
        self.theirs.close()


class TestRefusal(testtools.TestCase):

    def test_allowed(self):
        self.assertIsNone(pingprobe.refusal(TARGET, ALLOW, 0.01, 100, 10))
        self.assertIsNone(pingprobe.refusal(
            '10.78.9.2', ['10.77.0.0/24', '10.78.9.0/24'], 0.005,
            pingprobe.MAX_COUNT, pingprobe.MAX_SECONDS, 0))

    def test_refused(self):
        cases = [
            ('10.77.2.10', ALLOW, {}, 'outside the allowed networks'),
            ('127.0.0.1', ALLOW, {}, 'outside the allowed networks'),
            ('8.8.8.8', ALLOW, {}, 'outside the allowed networks'),
            ('8.8.8.8', ['8.8.8.0/24'], {}, 'not inside a private'),
            (TARGET, ['0.0.0.0/0'], {}, 'not inside a private'),
            (TARGET, [], {}, 'no --allow network'),
            (TARGET, ['10.77.1.0/33'], {}, 'is not an IPv4 network'),
            ('labguest', ALLOW, {}, 'not an IPv4 address'),
            ('fe80::1', ALLOW, {}, 'not an IPv4 address'),
            ('10.77.1.255', ALLOW, {}, 'broadcast address'),
            ('10.77.1.0', ALLOW, {}, 'network or broadcast'),
            (TARGET, ALLOW, {'interval': 0.001}, '--interval'),
            (TARGET, ALLOW, {'max_seconds': 0}, '--max-seconds'),
            (TARGET, ALLOW, {'max_seconds': 3600.5}, '--max-seconds'),
            (TARGET, ALLOW, {'max_count': 0}, '--max-count'),
            (TARGET, ALLOW, {'max_count': 10 ** 6}, '--max-count'),
            (TARGET, ALLOW, {'linger': 60}, '--linger'),
        ]
        for target, allow, kwargs, why in cases:
            got = pingprobe.refusal(target, allow, **kwargs)
            self.assertIsNotNone(got, (target, allow, kwargs))
            self.assertIn(why, got, (target, allow, kwargs))


class TestNetns(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.named = os.path.join(self.dir, 'netns')
        os.mkdir(self.named)
        self.own = self._file('own')
        self.root = self._file('root')

    def _file(self, name):
        path = os.path.join(self.dir, name)
        open(path, 'w').close()
        return path

    def refusal(self, root=None):
        return pingprobe.netns_refusal(self.own, root or self.root,
                                       self.named)

    def test_named_namespace_allowed(self):
        os.link(self.own, os.path.join(self.named, 'labhost-a'))
        self.assertIsNone(self.refusal())
        self.assertEqual('labhost-a',
                         pingprobe.netns_name(self.own, self.named))

    def test_pid1_namespace_refused_even_if_named(self):
        os.link(self.own, os.path.join(self.named, 'root'))
        self.assertIn('root network namespace', self.refusal(self.own))

    def test_unnamed_namespace_refused(self):
        os.link(self.root, os.path.join(self.named, 'labhost-a'))
        self.assertIn('not a namespace of "ip netns"', self.refusal())
        self.assertIsNone(pingprobe.netns_name(self.own, self.named))

    def test_unreadable_pid1_still_needs_a_name(self):
        # In containers, /proc/1/ns/net cannot be read: the name decides.
        missing = os.path.join(self.dir, 'missing')
        self.assertIn('not a namespace of "ip netns"',
                      self.refusal(missing))
        os.link(self.own, os.path.join(self.named, 'labhost-b'))
        self.assertIsNone(self.refusal(missing))

    def test_unreadable_own_namespace_refused(self):
        got = pingprobe.netns_refusal(os.path.join(self.dir, 'missing'),
                                      self.root, self.named)
        self.assertIn('cannot read', got)

    def test_no_netns_directory_refused(self):
        got = pingprobe.netns_refusal(self.own, self.root,
                                      os.path.join(self.dir, 'none'))
        self.assertIn('root network namespace', got)

    def test_this_process_refused(self):
        # The test runs in whatever namespace it was started in, which is
        # no "ip netns" namespace of its own name unless it is one.
        got = pingprobe.netns_refusal(named=self.named)
        self.assertIsNotNone(got)


class TestMain(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                'record.json')
        self.stderr = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=io.StringIO)).mock
        self.opened = self.useFixture(fixtures.MockPatch(
            'nova_v2v_rig.lab.pingprobe.open_socket')).mock

    def argv(self, target=TARGET, allow=ALLOW):
        argv = ['--target', target, '--max-count', '10', '--max-seconds',
                '1', '--out', self.out]
        for net in allow:
            argv += ['--allow', net]
        return argv

    def test_target_refused_before_any_socket(self):
        rc = pingprobe.main(self.argv(target='10.77.0.1'))
        self.assertEqual(pingprobe.EXIT_REFUSED, rc)
        self.assertIn('pingprobe: refused: the target 10.77.0.1 is outside',
                      self.stderr.getvalue())
        self.opened.assert_not_called()
        self.assertFalse(os.path.exists(self.out))

    def test_root_namespace_refused_before_any_socket(self):
        self.useFixture(fixtures.MockPatch(
            'nova_v2v_rig.lab.pingprobe.netns_refusal',
            return_value='this is the root network namespace: x'))
        rc = pingprobe.main(self.argv())
        self.assertEqual(pingprobe.EXIT_REFUSED, rc)
        self.assertIn('root network namespace', self.stderr.getvalue())
        self.opened.assert_not_called()

    def test_allow_is_required(self):
        exc = self.assertRaises(SystemExit, pingprobe.main,
                                self.argv(allow=[]))
        self.assertEqual(pingprobe.EXIT_USAGE, exc.code)
        self.opened.assert_not_called()

    def test_runs_and_writes_the_record(self):
        self.useFixture(fixtures.MockPatch(
            'nova_v2v_rig.lab.pingprobe.netns_refusal', return_value=None))
        fake = FakeRaw()
        self.addCleanup(fake.close)
        self.opened.return_value = fake
        stdout = self.useFixture(fixtures.MockPatch(
            'sys.stdout', new_callable=io.StringIO)).mock
        self.useFixture(fixtures.MockPatch('signal.signal'))
        argv = self.argv()
        argv[argv.index('--max-count') + 1] = '5'
        self.assertEqual(0, pingprobe.main(argv + ['--interval', '0.005',
                                                   '--linger', '0.05']))
        ready = json.loads(stdout.getvalue().splitlines()[0])
        self.assertTrue(ready['ready'])
        with open(self.out) as f:
            record = json.load(f)
        self.assertEqual(5, len(record['sent']))
        self.assertEqual(list(range(5)), [n for n, _t in record['replies']])
        self.assertEqual(ready['anchor'], record['anchor'])


class TestPackets(testtools.TestCase):

    def test_echo_request(self):
        data = pingprobe.echo_request(0x1234, 0x10002)
        self.assertEqual(8 + pingprobe.PAYLOAD, len(data))
        kind, code, _sum, ident, seq = struct.unpack('!BBHHH', data[:8])
        self.assertEqual((8, 0, 0x1234, 2), (kind, code, ident, seq))
        self.assertEqual(0x10002, struct.unpack('!Q', data[8:16])[0])
        # A valid checksum sums to 0 over the whole message.
        self.assertEqual(0, pingprobe.checksum(data))

    def test_checksum_odd_length(self):
        self.assertEqual(0xfffe ^ 0xffff, pingprobe.checksum(b'\xff\xfe'))
        self.assertEqual(pingprobe.checksum(b'\x01\x02\x03\x00'),
                         pingprobe.checksum(b'\x01\x02\x03'))

    def test_parse_reply(self):
        source = socket.inet_aton(TARGET)
        self.assertEqual(70000, pingprobe.parse_reply(
            reply_packet(7, 70000), 7, source))
        for packet, why in (
                (reply_packet(8, 1), 'another identifier'),
                (reply_packet(7, 1, source='10.77.1.11'), 'another source'),
                (reply_packet(7, 1, kind=8), 'a request'),
                (reply_packet(7, 1, seq=2), 'seq and payload differ'),
                (reply_packet(7, 1)[:30], 'truncated'),
                (b'\x45', 'too short')):
            self.assertIsNone(pingprobe.parse_reply(packet, 7, source), why)

    def test_parse_reply_with_ip_options(self):
        packet = reply_packet(7, 3)
        longer = bytes([0x46]) + packet[1:20] + b'\x01\x01\x01\x01' + \
            packet[20:]
        self.assertEqual(3, pingprobe.parse_reply(
            longer, 7, socket.inet_aton(TARGET)))


class TestRun(testtools.TestCase):

    def run_on(self, fake, **kwargs):
        self.addCleanup(fake.close)
        args = dict(interval=0.005, max_count=40, max_seconds=5.0,
                    linger=0.05, identifier=0x4242)
        args.update(kwargs)
        return pingprobe.run(fake, TARGET, **args)

    def test_every_request_answered(self):
        fake = FakeRaw()
        ready = []
        record = self.run_on(fake, ready=ready.append)
        self.assertEqual('max-count', record['stop_reason'])
        self.assertEqual(40, len(record['sent']))
        self.assertEqual(list(range(40)), [n for n, _ in record['replies']])
        self.assertEqual(0, record['duplicates'])
        self.assertEqual([record['anchor']], ready)
        self.assertEqual(record['anchor']['monotonic'], record['started'])
        self.assertEqual((TARGET, 0), fake.requests[0][1])
        self.assertEqual(0x4242, record['identifier'])
        # Sent in order, on the schedule, never before a slot.
        sent = record['sent']
        self.assertEqual(sorted(sent), sent)
        for n, t in enumerate(sent):
            self.assertGreaterEqual(t, record['started'] + n * 0.005 - 1e-6)
        for n, t in record['replies']:
            self.assertGreaterEqual(t, sent[n])
        self.assertGreaterEqual(record['ended'] - record['stopped_sending'],
                                0.05)

    def test_losses_duplicates_and_send_errors(self):
        def answer(n):
            if n == 2:
                raise OSError(errno.ENETUNREACH, 'unreachable')
            if 10 <= n < 15:
                return 0
            return 2 if n == 20 else 1

        record = self.run_on(FakeRaw(answer))
        answered = {n for n, _ in record['replies']}
        self.assertEqual(set(range(40)) - {2, 10, 11, 12, 13, 14}, answered)
        self.assertEqual(40, len(record['sent']))
        self.assertEqual({'ENETUNREACH': 1}, record['send_errors'])
        self.assertEqual(1, record['duplicates'])

    def test_max_seconds(self):
        record = self.run_on(FakeRaw(), max_count=10 ** 5, max_seconds=0.1)
        self.assertEqual('max-seconds', record['stop_reason'])
        self.assertLess(record['stopped_sending'] - record['started'], 0.5)
        self.assertGreater(len(record['sent']), 0)
        self.assertLessEqual(len(record['sent']) + record['late_slots'], 21)

    def test_signal_stops(self):
        stop = pingprobe._Stop()
        stop(15, None)
        record = self.run_on(FakeRaw(), stop=stop)
        self.assertEqual('signal SIGTERM', record['stop_reason'])
        self.assertEqual([], record['sent'])

    def test_second_signal_ends_the_linger(self):
        stop = pingprobe._Stop()
        fake = FakeRaw(lambda n: 0)
        original = fake.sendto

        def sendto(data, address):
            if len(fake.requests) == 3:
                stop(2, None)
                threading.Timer(0.2, stop, (15, None)).start()
            return original(data, address)

        fake.sendto = sendto
        record = self.run_on(fake, stop=stop, linger=5.0)
        self.assertEqual('signal SIGINT', record['stop_reason'])
        self.assertEqual(['SIGINT', 'SIGTERM'], stop.signals)
        self.assertLess(record['ended'] - record['stopped_sending'], 1.0)

    def test_late_wake_up_skips_slots_not_the_schedule(self):
        fake = FakeRaw()
        original = fake.sendto

        def sendto(data, address):
            if len(fake.requests) == 5:
                time.sleep(0.05)
            return original(data, address)

        fake.sendto = sendto
        record = self.run_on(fake, max_count=20)
        self.assertGreaterEqual(record['late_slots'], 8)
        last_slot = len(record['sent']) - 1 + record['late_slots']
        self.assertGreaterEqual(record['sent'][-1], record['started'] +
                                last_slot * 0.005 - 1e-6)


class TestProbe(testtools.TestCase):
    """The rig's side, on a stand-in prober (a Python script, no network)."""

    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                'record.json')

    def probe(self, script, **kwargs):
        probe = pingprobe.Probe('nv2v-lab-x', TARGET, ALLOW, self.out,
                                **kwargs)
        real = subprocess.Popen

        def popen(argv, **kw):
            self.argv = argv
            return real([sys.executable, '-c', script, self.out], **kw)

        self.useFixture(fixtures.MockPatch('subprocess.Popen',
                                           side_effect=popen))
        self.addCleanup(probe.__exit__, None, None, None)
        return probe

    def test_argv(self):
        probe = pingprobe.Probe('nv2v-lab-b', TARGET,
                                ['10.77.1.0/24', '10.77.2.0/24'], '/x.json',
                                interval=0.01, max_seconds=60.0)
        self.assertEqual(
            ['ip', 'netns', 'exec', 'nv2v-lab-b', sys.executable, '-m',
             'nova_v2v_rig.lab.pingprobe', '--target', TARGET,
             '--interval', '0.01', '--max-count', '6001',
             '--max-seconds', '60.0', '--linger', '1.0', '--out', '/x.json',
             '--allow', '10.77.1.0/24', '--allow', '10.77.2.0/24'],
            probe.argv())
        self.assertEqual(pingprobe.MAX_COUNT, pingprobe.Probe(
            'ns', TARGET, ALLOW, '/x', interval=0.005,
            max_seconds=1800).max_count)

    def test_start_stop_result(self):
        script = '\n'.join([
            'import json, signal, sys, time',
            'def term(*a):',
            '    json.dump({"stop_reason": "signal SIGTERM"},'
            ' open(sys.argv[1], "w"))',
            '    sys.exit(0)',
            'signal.signal(signal.SIGTERM, term)',
            'print(json.dumps({"ready": True, "anchor": {"wall": 1}}),'
            ' flush=True)',
            'time.sleep(60)'])
        probe = self.probe(script)
        ready = probe.start()
        self.assertEqual({'ready': True, 'anchor': {'wall': 1}}, ready)
        self.assertEqual(['ip', 'netns', 'exec', 'nv2v-lab-x'],
                         self.argv[:4])
        self.assertTrue(probe.running())
        self.assertEqual({'stop_reason': 'signal SIGTERM'}, probe.stop())
        self.assertFalse(probe.running())

    def test_refusal_raised_with_its_message(self):
        probe = self.probe('import sys\nsys.stderr.write("pingprobe: '
                           'refused: outside\\n")\nsys.exit(3)')
        exc = self.assertRaises(pingprobe.ProbeError, probe.start)
        self.assertIn('did not start (exit 3): pingprobe: refused: outside',
                      str(exc))

    def test_silent_prober_killed(self):
        probe = self.probe('import time\ntime.sleep(60)')
        start = time.monotonic()
        exc = self.assertRaises(pingprobe.ProbeError, probe.start,
                                timeout=0.5)
        self.assertLess(time.monotonic() - start, 10)
        self.assertIn('did not start', str(exc))
        self.assertFalse(probe.running())

    def test_stop_bounded(self):
        script = '\n'.join([
            'import signal, time',
            'signal.signal(signal.SIGTERM, signal.SIG_IGN)',
            'print("{}", flush=True)',
            'time.sleep(60)'])
        probe = self.probe(script)
        probe.start()
        exc = self.assertRaises(pingprobe.ProbeError, probe.stop,
                                timeout=0.5)
        self.assertIn('did not stop within 0.5 s', str(exc))
        self.assertFalse(probe.running())

    def test_failed_prober(self):
        probe = self.probe('print("{}", flush=True)\nimport sys\n'
                           'sys.stderr.write("boom")\nsys.exit(1)')
        probe.start()
        probe.proc.wait(30)
        self.assertRaisesRegex(pingprobe.ProbeError, 'exited 1: boom',
                               probe.stop)

    def test_missing_record(self):
        probe = self.probe('print("{}", flush=True)')
        probe.start()
        probe.proc.wait(30)
        self.assertRaisesRegex(pingprobe.ProbeError, 'no record',
                               probe.stop)

    def test_stale_record_removed_at_start(self):
        with open(self.out, 'w') as f:
            f.write('{"old": 1}')
        probe = self.probe('print("{}", flush=True)')
        probe.start()
        probe.proc.wait(30)
        self.assertRaisesRegex(pingprobe.ProbeError, 'no record',
                               probe.stop)

    def test_not_started(self):
        probe = pingprobe.Probe('ns', TARGET, ALLOW, self.out)
        self.assertRaises(pingprobe.ProbeError, probe.stop)
        self.assertFalse(probe.running())
        probe.netns = None
        self.assertRaises(pingprobe.ProbeError, probe.start)


class TestPopenIsAList(testtools.TestCase):

    def test_no_shell(self):
        with mock.patch('subprocess.Popen') as popen:
            popen.return_value.stdout.fileno.side_effect = ValueError
            probe = pingprobe.Probe('ns', TARGET, ALLOW, '/nonexistent/x')
            self.assertRaises(ValueError, probe.start)
        args, kwargs = popen.call_args
        self.assertIsInstance(args[0], list)
        self.assertNotIn('shell', kwargs)
