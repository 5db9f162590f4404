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

"""The link between the two lab hosts: its rate, its bytes, its limit.

The lab's veth pair has no limit of its own (a memory copy, gigabytes per
second); :func:`shape` gives it one with a token bucket on both ends
(``tc qdisc ... tbf``), as a migration network of that rate would have.
:func:`wire_bytes` reads what crossed it (host a's veth counters, both
directions); :func:`probe` measures how long it takes to carry a number
of bytes over TCP from host a to host b: the physical limit a migration
of those bytes is compared with. The probe's two ends are threads inside
the lab hosts' network namespaces; nothing in the root namespace dials a
lab address.
"""

import json
import socket
import threading
import time

from oslo_concurrency import processutils

from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import netns

PROBE_PORT = 5301
CHUNK = 1 << 20
PROBE_TIMEOUT = 600


class LinkError(Exception):
    pass


def _veth(host):
    return hosts.VETH_PREFIX + host


def shape(lab, mbit):
    """Limit the link to ``mbit`` Mbit/s each way; None or 0 lifts it."""
    for host in hosts.HOSTS:
        base = ('tc', '-n', lab.netns(host), 'qdisc')
        processutils.execute(*base, 'del', 'dev', _veth(host), 'root',
                             check_exit_code=[0, 2])
        if mbit:
            # A burst of 1 ms at the rate (at least 64 KiB): short bursts
            # above the rate stay invisible at the scale of a migration.
            burst = max(int(mbit) * 1000 // 8, 64 * 1024)
            processutils.execute(*base, 'add', 'dev', _veth(host), 'root',
                                 'tbf', 'rate', '%dmbit' % int(mbit),
                                 'burst', str(burst), 'latency', '50ms')


def shaped_rate(lab):
    """The tbf rate on host a's end in bytes/s as tc reports it, or None."""
    out, _err = processutils.execute('tc', '-n', lab.netns('a'), '-j',
                                     'qdisc', 'show', 'dev', _veth('a'))
    for qdisc in json.loads(out or '[]'):
        if qdisc.get('kind') == 'tbf':
            return qdisc.get('options', {}).get('rate')
    return None


def wire_bytes(lab):
    """Bytes host a's end of the link has sent and received so far."""
    out, _err = processutils.execute('ip', '-n', lab.netns('a'), '-s', '-j',
                                     'link', 'show', 'dev', _veth('a'))
    stats = json.loads(out)[0]['stats64']
    return int(stats['tx']['bytes']) + int(stats['rx']['bytes'])


def _receive(server, total, outcome):
    conn, _addr = server.accept()
    got = 0
    with conn:
        while got < total:
            data = conn.recv(CHUNK)
            if not data:
                break
            got += len(data)
        outcome['received'] = got
        conn.sendall(b'k')


def _listen(lab, total, ready, outcome):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.settimeout(PROBE_TIMEOUT)
    with server:
        server.bind((lab.ip('b'), PROBE_PORT))
        server.listen(1)
        ready.set()
        _receive(server, total, outcome)


def _send(lab, total):
    buf = b'\xa5' * CHUNK
    sock = socket.create_connection((lab.ip('b'), PROBE_PORT),
                                    timeout=PROBE_TIMEOUT)
    with sock:
        t0 = time.monotonic()
        sent = 0
        while sent < total:
            n = min(CHUNK, total - sent)
            sock.sendall(buf[:n])
            sent += n
        # The receiver's one-byte answer: everything arrived.
        sock.recv(1)
        return t0, time.monotonic()


def probe(lab, nbytes):
    """Seconds the link takes to carry ``nbytes`` from host a to host b."""
    nbytes = int(nbytes)
    if nbytes <= 0:
        return 0.0
    ready = threading.Event()
    outcome = {}
    ns_b = '/run/netns/%s' % lab.netns('b')
    ns_a = '/run/netns/%s' % lab.netns('a')
    receiver = threading.Thread(
        target=lambda: _catch(outcome, netns.run_in, ns_b, _listen, lab,
                              nbytes, ready, outcome),
        name='link-probe-receiver', daemon=True)
    receiver.start()
    if not ready.wait(10):
        raise LinkError('the probe receiver did not start: %s'
                        % outcome.get('error'))
    t0, t1 = netns.run_in(ns_a, _send, lab, nbytes)
    receiver.join(PROBE_TIMEOUT)
    if outcome.get('error') or outcome.get('received') != nbytes:
        raise LinkError('the probe carried %s of %d bytes: %s'
                        % (outcome.get('received'), nbytes,
                           outcome.get('error')))
    return t1 - t0


def _catch(outcome, func, *args):
    try:
        func(*args)
    except Exception as exc:
        outcome['error'] = exc
