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

"""An ICMP echo prober for the lab's networks, and what its record shows.

The prober runs as its own process inside a lab network namespace::

    ip netns exec NS python -m nova_v2v_rig.lab.pingprobe \\
        --target 10.77.1.10 --allow 10.77.1.0/24 --interval 0.01 \\
        --max-count 6000 --max-seconds 60 --out /path/record.json

It sends one echo request per interval on a fixed schedule (request ``n``
is due at ``start + n * interval``: a late wake-up does not shift the
requests after it), receives the replies in the same loop, and stops at
``--max-count`` requests, after ``--max-seconds``, or on SIGTERM/SIGINT;
it then listens ``--linger`` seconds more for the replies in flight and
writes its record (JSON, see :func:`run`).

Network safety, a hard rule of the lab: the prober refuses to run (exit
status :data:`EXIT_REFUSED`, a message on stderr, before it opens a
socket) in the root network namespace or any namespace that is not one of
``ip netns`` (:func:`netns_refusal`), for a target outside the ``--allow``
networks, for ``--allow`` networks outside the private IPv4 ranges, and
beyond its bounds of rate, count and time (:func:`refusal`).

:class:`Probe` starts it inside a namespace from the rig, stops it and loads
its record; :mod:`nova_v2v_rig.lab.pingstats` reads a record.

Times in the record are ``time.monotonic()`` of the prober: one clock for
the whole machine (``CLOCK_MONOTONIC`` is not per process or per network
namespace), so the rig's own ``time.monotonic()`` readings fall on it. The
record also holds one anchor, ``time.time()`` and ``time.monotonic()``
read together, for readings of the wall clock
(:func:`nova_v2v_rig.lab.pingstats.probe_time`).
"""

import argparse
import errno
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

MODULE = 'nova_v2v_rig.lab.pingprobe'
RECORD_VERSION = 1

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3

# Bounds: at most 200 requests a second, 30 minutes, 360 000 requests.
MIN_INTERVAL = 0.005
MAX_SECONDS = 1800.0
MAX_COUNT = 360000
MAX_LINGER = 10.0
DEFAULT_LINGER = 1.0
# The longest wait in one select(): a signal is seen within it (Python
# retries a select() that a signal interrupted, PEP 475).
WAKE_S = 0.05

# The networks an --allow entry must lie in (RFC 1918).
PRIVATE = tuple(ipaddress.IPv4Network(n) for n in
                ('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'))

ICMP_ECHO_REPLY = 0
ICMP_ECHO_REQUEST = 8
SOL_RAW = 255
ICMP_FILTER = 1
PAYLOAD = 56
ROOT_NETNS = '/proc/1/ns/net'
OWN_NETNS = '/proc/self/ns/net'
NAMED_NETNS = '/run/netns'


class ProbeError(Exception):
    """The prober could not start, run or stop, or left no record."""


# -- the safety checks -----------------------------------------------------

def _ns_id(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino


def netns_refusal(own=OWN_NETNS, root=ROOT_NETNS, named=NAMED_NETNS):
    """Why this process's network namespace is not one to probe from.

    Two rules, each enough to refuse: the namespace is PID 1's (when its
    link can be read: in some containers it cannot), and it is not a
    namespace of ``ip netns`` (bind-mounted under ``named``), which the
    root namespace is not. Anything that cannot be read refuses.

    :returns: the reason, or None
    """
    root_ns = ('this is the root network namespace: run inside a lab '
               'namespace (ip netns exec NS ...)')
    try:
        mine = _ns_id(own)
    except OSError as exc:
        return 'cannot read this process\'s network namespace: %s' % exc
    try:
        if _ns_id(root) == mine:
            return root_ns
    except OSError:
        pass
    try:
        names = sorted(os.listdir(named))
    except OSError:
        names = []
    for name in names:
        try:
            if _ns_id(os.path.join(named, name)) == mine:
                return None
        except OSError:
            continue
    return ('%s, or not a namespace of "ip netns" (%s): run inside a lab '
            'namespace (ip netns exec NS ...)' % (root_ns, named))


def netns_name(own=OWN_NETNS, named=NAMED_NETNS):
    """The ``ip netns`` name of this process's namespace, or None."""
    try:
        mine = _ns_id(own)
        for name in sorted(os.listdir(named)):
            if _ns_id(os.path.join(named, name)) == mine:
                return name
    except OSError:
        pass
    return None


def refusal(target, allow, interval=0.01, max_count=1, max_seconds=1.0,
            linger=DEFAULT_LINGER):
    """Why the prober must not run with these arguments, or None.

    :param target: the address to probe (text)
    :param allow: the networks the target may be in (texts, CIDR)
    """
    try:
        address = ipaddress.IPv4Address(target)
    except ValueError:
        return 'the target %r is not an IPv4 address' % (target,)
    if not allow:
        return 'no --allow network: nothing may be probed'
    networks = []
    for text in allow:
        try:
            net = ipaddress.IPv4Network(text, strict=False)
        except ValueError:
            return '--allow %r is not an IPv4 network' % (text,)
        if not any(net.subnet_of(p) for p in PRIVATE):
            return ('--allow %s is not inside a private IPv4 range (%s)'
                    % (net, ', '.join(str(p) for p in PRIVATE)))
        networks.append(net)
    inside = [n for n in networks if address in n]
    if not inside:
        return ('the target %s is outside the allowed networks %s'
                % (address, ', '.join(str(n) for n in networks)))
    if address.is_multicast or address.is_loopback or (
            address.is_unspecified or address.is_link_local):
        return 'the target %s is not a unicast lab address' % address
    for net in inside:
        if net.prefixlen < 31 and address in (net.network_address,
                                              net.broadcast_address):
            return ('the target %s is the network or broadcast address '
                    'of %s' % (address, net))
    if not MIN_INTERVAL <= interval:
        return ('--interval %s is below %s s' % (interval, MIN_INTERVAL))
    if not 0 < max_seconds <= MAX_SECONDS:
        return '--max-seconds %s is not in (0, %s]' % (max_seconds,
                                                       MAX_SECONDS)
    if not 0 < max_count <= MAX_COUNT:
        return '--max-count %s is not in [1, %s]' % (max_count, MAX_COUNT)
    if not 0 <= linger <= MAX_LINGER:
        return '--linger %s is not in [0, %s]' % (linger, MAX_LINGER)
    return None


# -- packets ---------------------------------------------------------------

def checksum(data):
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def echo_request(identifier, number):
    """An ICMP echo request; its payload starts with the 64-bit number.

    The sequence field holds the low 16 bits of ``number``; the payload
    keeps the request apart from one 65536 requests earlier.
    """
    payload = struct.pack('!Q', number).ljust(PAYLOAD, b'\xa5')
    head = struct.pack('!BBHHH', ICMP_ECHO_REQUEST, 0, 0, identifier,
                       number & 0xffff)
    return struct.pack('!BBHHH', ICMP_ECHO_REQUEST, 0,
                       checksum(head + payload), identifier,
                       number & 0xffff) + payload


def parse_reply(packet, identifier, source):
    """The request number an echo reply answers, or None.

    :param packet: what a raw IPv4 ICMP socket received (with the IP
        header)
    :param source: the packed address the reply must come from
    """
    if len(packet) < 20:
        return None
    ihl = (packet[0] & 0x0f) * 4
    if packet[12:16] != source or len(packet) < ihl + 16:
        return None
    kind, _code, _sum, ident, seq = struct.unpack('!BBHHH',
                                                  packet[ihl:ihl + 8])
    if kind != ICMP_ECHO_REPLY or ident != identifier:
        return None
    (number,) = struct.unpack('!Q', packet[ihl + 8:ihl + 16])
    if number & 0xffff != seq:
        return None
    return number


# -- the prober ------------------------------------------------------------

class _Stop(object):
    """The signals received (SIGTERM, SIGINT)."""

    def __init__(self):
        self.signals = []

    def __call__(self, signum, frame):
        self.signals.append(signal.Signals(signum).name)


def open_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                         socket.IPPROTO_ICMP)
    # Only echo replies reach the socket (a set bit filters its type).
    sock.setsockopt(SOL_RAW, ICMP_FILTER,
                    struct.pack('I', ~(1 << ICMP_ECHO_REPLY) & 0xffffffff))
    sock.setblocking(False)
    return sock


def run(sock, target, interval, max_count, max_seconds, linger=DEFAULT_LINGER,
        identifier=None, stop=None, ready=None, clock=time.monotonic):
    """Probe ``target`` on ``sock``; the record (a dict).

    The record: ``target``, ``identifier``, ``interval``, ``anchor``
    (``wall`` and ``monotonic`` read together), ``started`` (request 0's
    slot), ``stopped_sending``, ``ended`` (when it stopped listening),
    ``stop_reason``, ``sent`` (the send time of request ``n`` at index
    ``n``), ``replies`` (``[n, receive time]`` of the first reply to each
    answered request, in the order received), ``duplicates``,
    ``send_errors`` (``{errno name: count}``; such a request counts as
    sent and never answered) and ``late_slots`` (send slots skipped
    because the prober woke up too late).

    :param stop: a callable whose ``signals`` list grows on SIGTERM/SIGINT
    :param ready: called with the anchor once the first request is due
    """
    identifier = (os.getpid() if identifier is None else identifier) & 0xffff
    stop = stop or _Stop()
    source = socket.inet_aton(target)
    fd = sock.fileno()
    sent, got = [], {}
    order = []
    counters = {'duplicates': 0, 'late_slots': 0}
    send_errors = {}

    def receive(timeout):
        # select(), not poll(): the rig's tests run under eventlet, whose
        # select module has no poll.
        if not select.select([fd], [], [], max(0.0, timeout))[0]:
            return
        while True:
            try:
                packet = sock.recv(2048)
            except (BlockingIOError, InterruptedError):
                return
            at = clock()
            number = parse_reply(packet, identifier, source)
            if number is None or number >= len(sent):
                continue
            if number in got:
                counters['duplicates'] += 1
            else:
                got[number] = at
                order.append([number, at])

    anchor = {'wall': time.time(), 'monotonic': clock()}
    t0 = anchor['monotonic']
    deadline = t0 + max_seconds
    if ready is not None:
        ready(anchor)
    slot = 0
    reason = None
    while reason is None:
        now = clock()
        if stop.signals:
            reason = 'signal %s' % stop.signals[0]
        elif len(sent) >= max_count:
            reason = 'max-count'
        elif now >= deadline:
            reason = 'max-seconds'
        else:
            due = t0 + slot * interval
            if now >= due:
                number = len(sent)
                try:
                    sock.sendto(echo_request(identifier, number),
                                (target, 0))
                except OSError as exc:
                    name = errno.errorcode.get(exc.errno, str(exc.errno))
                    send_errors[name] = send_errors.get(name, 0) + 1
                sent.append(clock())
                missed = int((now - due) / interval)
                counters['late_slots'] += missed
                slot += 1 + missed
            else:
                receive(min(due, deadline, now + WAKE_S) - now)
    stopped = clock()
    seen = len(stop.signals)
    # Replies still in flight; a second signal ends the wait.
    while len(stop.signals) == seen:
        left = stopped + linger - clock()
        if left <= 0:
            break
        receive(min(left, WAKE_S))
    return {
        'version': RECORD_VERSION, 'target': target,
        'identifier': identifier, 'interval': interval,
        'anchor': anchor, 'started': t0, 'stopped_sending': stopped,
        'ended': clock(), 'stop_reason': reason,
        'sent': sent, 'replies': order,
        'duplicates': counters['duplicates'],
        'late_slots': counters['late_slots'],
        'send_errors': send_errors,
    }


def write_record(record, path):
    """Write ``record`` to ``path`` whole or not at all."""
    tmp = '%s.tmp.%d' % (path, os.getpid())
    with open(tmp, 'w') as f:
        json.dump(record, f)
    os.replace(tmp, path)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='python -m %s' % MODULE,
        description='ICMP echo requests to a lab address at a fixed '
                    'interval, bounded in count and time; run inside a lab '
                    'network namespace only.')
    parser.add_argument('--target', required=True,
                        help='the IPv4 address to probe')
    parser.add_argument('--allow', action='append', required=True,
                        help='a network (CIDR, private range) the target '
                             'must be in; repeatable')
    parser.add_argument('--interval', type=float, default=0.01,
                        help='seconds between requests (default 0.01)')
    parser.add_argument('--max-count', type=int, required=True,
                        help='stop after this many requests')
    parser.add_argument('--max-seconds', type=float, required=True,
                        help='stop sending after this many seconds')
    parser.add_argument('--linger', type=float, default=DEFAULT_LINGER,
                        help='seconds to wait for replies in flight after '
                             'the last request (default %s)'
                             % DEFAULT_LINGER)
    parser.add_argument('--out', required=True,
                        help='where to write the record (JSON)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    why = refusal(args.target, args.allow, args.interval, args.max_count,
                  args.max_seconds, args.linger)
    if why is None:
        why = netns_refusal()
    if why:
        sys.stderr.write('pingprobe: refused: %s\n' % why)
        return EXIT_REFUSED
    stop = _Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        sock = open_socket()
    except OSError as exc:
        sys.stderr.write('pingprobe: cannot open a raw ICMP socket (root '
                         'needed): %s\n' % exc)
        return EXIT_ERROR

    def ready(anchor):
        sys.stdout.write(json.dumps({'ready': True, 'pid': os.getpid(),
                                     'netns': netns_name(),
                                     'anchor': anchor}) + '\n')
        sys.stdout.flush()

    try:
        record = run(sock, args.target, args.interval, args.max_count,
                     args.max_seconds, args.linger, stop=stop, ready=ready)
    finally:
        sock.close()
    write_record(record, args.out)
    return EXIT_OK


# -- the rig's side --------------------------------------------------------

class Probe(object):
    """The prober as a process inside a network namespace.

    ``start()`` runs ``ip netns exec NETNS python -m ...pingprobe`` and
    returns once its first request is due (or raises :class:`ProbeError`
    with the prober's own message, e.g. a refusal); ``stop()`` sends
    SIGTERM, waits a bounded time and returns the record.
    """

    def __init__(self, netns, target, allow, out, interval=0.01,
                 max_seconds=600.0, max_count=None, linger=DEFAULT_LINGER):
        self.netns = netns
        self.target = target
        self.allow = list(allow)
        self.out = out
        self.interval = interval
        self.max_seconds = max_seconds
        self.max_count = max_count or min(
            MAX_COUNT, int(round(max_seconds / interval)) + 1)
        self.linger = linger
        self.proc = None
        self.ready = None

    def argv(self):
        argv = ['ip', 'netns', 'exec', self.netns, sys.executable, '-m',
                MODULE, '--target', self.target,
                '--interval', repr(self.interval),
                '--max-count', str(self.max_count),
                '--max-seconds', repr(self.max_seconds),
                '--linger', repr(self.linger), '--out', self.out]
        for net in self.allow:
            argv += ['--allow', net]
        return argv

    def start(self, timeout=20.0):
        """Start the prober; the ``ready`` line it printed (a dict)."""
        if not self.netns:
            raise ProbeError('no network namespace to probe from')
        if os.path.exists(self.out):
            os.unlink(self.out)
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = self._first_line(timeout)
        if not line:
            self._reap()
            raise ProbeError('the probe of %s from %s did not start (exit '
                             '%s): %s' % (self.target, self.netns,
                                          self.proc.returncode,
                                          self._stderr()))
        self.ready = json.loads(line)
        return self.ready

    def _first_line(self, timeout):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        data = b''
        while b'\n' not in data:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            data += chunk
        return data.split(b'\n', 1)[0].decode()

    def _wait(self, timeout):
        """Whether the prober exited within ``timeout`` seconds.

        Polled, not ``communicate(timeout)``: its ``TimeoutExpired`` is
        another class when eventlet patched ``subprocess`` (the rig's unit
        tests). The prober writes one line to each pipe at most.
        """
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def _reap(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self._wait(10.0)

    def _stderr(self):
        try:
            return self.proc.stderr.read().decode(errors='replace').strip()
        except (OSError, ValueError):
            return ''

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=None):
        """SIGTERM, a bounded wait; the record (see :func:`run`).

        :raises ProbeError: it had to be killed, failed, or left no record
        """
        if self.proc is None:
            raise ProbeError('the probe was not started')
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        wait = self.linger + 10.0 if timeout is None else timeout
        if not self._wait(wait):
            self._reap()
            raise ProbeError('the probe of %s did not stop within %s s '
                             'after SIGTERM; killed' % (self.target, wait))
        if self.proc.returncode != EXIT_OK:
            raise ProbeError('the probe of %s exited %s: %s'
                             % (self.target, self.proc.returncode,
                                self._stderr()))
        return self.result()

    def result(self):
        try:
            with open(self.out) as f:
                return json.load(f)
        except (OSError, ValueError) as exc:
            raise ProbeError('no record of the probe of %s in %s: %s'
                             % (self.target, self.out, exc))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            if not self._wait(self.linger + 10.0):
                self._reap()


if __name__ == '__main__':
    sys.exit(main())
