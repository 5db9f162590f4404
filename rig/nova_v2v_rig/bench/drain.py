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

"""``python -m nova_v2v_rig.bench drain``: a host drain against today's ways.

On the gate's all-in-one (reused when it is up, else brought up and taken
down), the same running servers (``--servers``, of two flavors, on
labhost-a) are moved from one compute to the other, in turn, by:

``one-at-a-time``
    ``openstack server migrate --live-migration --wait`` for each server
    in turn (what an operator scripts today);
``host-evacuate-live``
    ``nova host-evacuate-live HOST`` of python-novaclient (every live
    migration asked at once; the source compute runs ``[DEFAULT]
    max_concurrent_live_migrations`` of them at a time), then waiting for
    the host to be empty;
``nova-v2v drain``
    ``nova-v2v drain HOST --parallel 2``;
``nova-v2v drain --bandwidth``
    the same with ``--bandwidth MiB/s`` for the whole drain;
``host-evacuate-live, capped``
    ``nova host-evacuate-live`` with the computes' ``[libvirt]
    live_migration_bandwidth`` at the same bandwidth divided by the
    migrations a compute runs at once (Nova's one way to cap it: a value
    per migration, set per compute, which takes a restart of the computes).

Each variant empties the host the previous one filled (they alternate
direction; ``--runs`` cycles). Per variant: the total time, servers per
hour, the bytes on the lab link and its rate (its mean while servers move
and its highest second), and every server's records checked on its disk
(0 lost). The computes run ``max_concurrent_live_migrations = 2`` and
``[v2v] bandwidth_from_metadata = true`` for all variants. Results:
``drain.json`` and ``drain.md`` in ``--out``.
"""

import argparse
import concurrent.futures
import datetime
import os
import sys
import threading
import time

from oslo_log import log as logging

from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import gatedrain
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import images
from nova_v2v_rig.aio import network
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import stack
from nova_v2v_rig.cmd import common
from nova_v2v_rig.lab import hosts as lab_hosts
from nova_v2v_rig.lab import link

LOG = logging.getLogger(__name__)

HOSTS = (gatemove.HOST_A, gatemove.HOST_B)
VARIANTS = ('one-at-a-time', 'host-evacuate-live', 'nova-v2v drain',
            'nova-v2v drain --bandwidth', 'host-evacuate-live, capped')
# Live migrations a compute runs at once, in every variant.
CONCURRENT = 2
MIB = 1 << 20
CAPPED = ('nova-v2v drain --bandwidth', 'host-evacuate-live, capped')
MOVE_TIMEOUT = 1800


class BenchError(Exception):
    pass


class LinkSampler(object):
    """The lab link's bytes every second, in a thread."""

    def __init__(self, lab, interval=1.0):
        self.lab = lab
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), link.wire_bytes(self.lab)))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.samples.append((time.monotonic(), link.wire_bytes(self.lab)))

    def stats(self):
        """``(bytes, mean B/s while over 1 MiB/s, highest 1 s B/s)``."""
        s = self.samples
        if len(s) < 2:
            return 0, None, None
        rates = [(b1 - b0) / (t1 - t0) for (t0, b0), (t1, b1)
                 in zip(s, s[1:]) if t1 > t0]
        busy = [r for r in rates if r > MIB]
        return (s[-1][1] - s[0][1],
                sum(busy) / len(busy) if busy else None,
                max(rates) if rates else None)


def _servers_on(cloud, host):
    return cloud('server', 'list', '--all-projects', '--host', host,
                 parse=True) or []


def _wait_empty(cloud, host, timeout=MOVE_TIMEOUT):
    """Until no server is on ``host`` and none is still moving."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = _servers_on(cloud, host)
        moving = [s for s in cloud('server', 'list', '--all-projects',
                                   '--long', parse=True) or []
                  if s.get('Task State')]
        if not left and not moving:
            return
        time.sleep(2)
    raise BenchError('%s still runs servers after %d s' % (host, timeout))


def one_at_a_time(cloud, guests, source, dest, work, args):
    for guest in guests:
        cloud('server', 'migrate', '--live-migration', '--wait', guest.id)
    return {}


def host_evacuate_live(cloud, guests, source, dest, work, args):
    out = cloud.tool('nova', 'host-evacuate-live', source)
    _wait_empty(cloud, source)
    return {'output': out.strip()[-2000:]}


def _computes_up(args, bandwidth_mib=None):
    """The computes (again), at :data:`CONCURRENT` migrations each."""
    lines = (('DEFAULT', 'max_concurrent_live_migrations', str(CONCURRENT)),)
    if bandwidth_mib:
        lines += (('libvirt', 'live_migration_bandwidth',
                   str(bandwidth_mib)),)
    # The drain's --bandwidth applies where the computes read it.
    v2v = {'bandwidth_from_metadata': 'true'}
    computes.down(args.layout)
    computes.up(args.layout, args.lab, v2v_options={'a': v2v, 'b': v2v},
                host_extra={'a': lines, 'b': lines})


def _per_migration(args):
    return max(1, args.bandwidth // CONCURRENT)


def host_evacuate_live_capped(cloud, guests, source, dest, work, args):
    result = host_evacuate_live(cloud, guests, source, dest, work, args)
    result['live_migration_bandwidth'] = _per_migration(args)
    return result


def _drain(cloud, source, work, extra):
    state = os.path.join(work, 'bench-drain-%s.json' % source)
    for path in (state, state + '.lock'):
        if os.path.exists(path):
            os.unlink(path)
    argv = [os.path.join(os.path.dirname(sys.executable), 'nova-v2v'),
            'drain', source, '--parallel', '2', '--state-file', state,
            '--json'] + list(extra)
    rc, events, _s = gatedrain.run_drain(
        cloud, argv, os.path.join(work, 'bench-drain.stderr'),
        timeout=MOVE_TIMEOUT)
    ended = [e for e in events if e.get('event') == 'drain.end']
    if rc != 0 or not ended:
        raise BenchError('nova-v2v drain %s exited %s' % (source, rc))
    return {'report': ended[-1]['report']['totals'],
            'bandwidth_shares': sorted(
                e.get('bandwidth_mib') for e in events
                if e.get('event') == 'move.start' and
                e.get('bandwidth_mib'))}


def drain(cloud, guests, source, dest, work, args):
    return _drain(cloud, source, work, ())


def drain_capped(cloud, guests, source, dest, work, args):
    return _drain(cloud, source, work, ('--bandwidth', str(args.bandwidth)))


# The computes of a variant, restarted before it and after it (outside its
# time): (before, after).
COMPUTES = {
    'host-evacuate-live, capped': (
        lambda args: _computes_up(args, _per_migration(args)),
        lambda args: _computes_up(args)),
}
RUN = {'one-at-a-time': one_at_a_time,
       'host-evacuate-live': host_evacuate_live,
       'nova-v2v drain': drain,
       'nova-v2v drain --bandwidth': drain_capped,
       'host-evacuate-live, capped': host_evacuate_live_capped}


def _crash_of(guest):
    crash = guest.crash()
    if crash:
        return {'name': guest.name, 'line': crash.line,
                'signature': crash.signature}
    return None


def _check(cloud, lab, guests, dest):
    """Every guest on ``dest``, running, its records all there.

    :returns: ``(records lost, problems, crashed)``; a guest whose kernel
        died after its move (the TCG fault of QEMU before 9.0, see the
        README) is ``crashed``, an outcome of the variant: its records up
        to the crash are checked
    """
    problems = []
    crashed = []
    lost = 0
    for guest in guests:
        info = cloud.server(guest.id)
        host = cli.host_of(info)
        if host != dest or info.get('status') != 'ACTIVE':
            problems.append('%s: %s on %s' % (guest.name,
                                              info.get('status'), host))
            continue
        crash = _crash_of(guest)
        if crash is None:
            try:
                gatemove.wait_ack(guest.tail, time.time(),
                                  gatemove.RESUME_TIMEOUT, 'the move')
            except gatemove.GateError as exc:
                crash = _crash_of(guest)
                if crash is None:
                    problems.append('%s: %s' % (guest.name, exc))
        if crash is not None:
            crashed.append(crash)
        check = gatemove.read_records(lab, gatemove.LAB_HOST[host],
                                      guest.inside('disk'),
                                      guest.tail.merged())
        lost += check['records_lost']
        if check['records_lost']:
            problems.append('%s: %d records lost' % (guest.name,
                                                     check['records_lost']))
    return lost, problems, crashed


def run_variant(cloud, lab, guests, variant, source, dest, work, args):
    """One variant, ``source`` to ``dest``: its result (a dict)."""
    LOG.info('bench drain: %s, %s -> %s', variant, source, dest)
    before, after = COMPUTES.get(variant, (None, None))
    if before:
        before(args)
    try:
        start = time.monotonic()
        with LinkSampler(lab) as sampler:
            extra = RUN[variant](cloud, guests, source, dest, work, args)
            _wait_empty(cloud, source)
        seconds = time.monotonic() - start
    finally:
        if after:
            after(args)
    wire, mean, peak = sampler.stats()
    lost, problems, crashed = _check(cloud, lab, guests, dest)
    result = {
        'variant': variant, 'from': source, 'to': dest,
        'servers': len(guests), 'total_s': round(seconds, 1),
        'servers_per_hour': round(len(guests) * 3600.0 / seconds, 1),
        'wire_bytes': wire,
        'link_mean_mib_s': round(mean / MIB, 1) if mean else None,
        'link_peak_mib_s': round(peak / MIB, 1) if peak else None,
        'bandwidth_mib': (args.bandwidth if variant in CAPPED else None),
        'records_lost': lost, 'crashed': crashed, 'problems': problems,
        'ok': not problems,
    }
    result.update(extra)
    LOG.info('bench drain: %(v)s: %(s).1f s, %(sph)s servers/hour, '
             '%(mean)s MiB/s mean, %(peak)s MiB/s peak, %(lost)d lost %(p)s',
             {'v': variant, 's': seconds, 'sph': result['servers_per_hour'],
              'mean': result['link_mean_mib_s'],
              'peak': result['link_peak_mib_s'], 'lost': lost,
              'p': '; '.join(problems)})
    return result


def _create_one(cloud, lab, ids, i, host):
    flavors = (images.FLAVOR, images.FLAVOR_SMALL)
    guest = gatemove.Guest(cloud, lab, 'bench-drain-%d' % i, False,
                           with_port=False)
    guest.create(host, ids[images.DISK], ids[flavors[i % 2]])
    return guest


def _create(cloud, lab, ids, count):
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        return list(pool.map(
            lambda i: _create_one(cloud, lab, ids, i, gatemove.HOST_A),
            range(1, count + 1)))


def _replace_crashed(cloud, lab, ids, guests, crashed, host):
    """A new guest on ``host`` for each one that crashed."""
    names = {c['name'] for c in crashed}
    for index, guest in enumerate(guests):
        if guest.name in names:
            guest.delete()
            number = int(guest.name.rsplit('-', 1)[1])
            guests[index] = _create_one(cloud, lab, ids, number, host)


def markdown(data):
    lines = ['# Draining a host: nova-v2v drain against today\'s ways', '',
             '%s; %d servers (%s); link %s.' % (
                 data['meta']['date'], data['meta']['servers'],
                 data['meta']['flavors'], data['meta']['link']), '',
             '| variant | from | to | total s | servers/hour | MiB on the '
             'link | mean MiB/s | peak MiB/s | cap MiB/s | lost | crashed |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in data['runs']:
        cap = r['bandwidth_mib'] or '-'
        if r.get('live_migration_bandwidth'):
            cap = '%s (%s per migration)' % (cap,
                                             r['live_migration_bandwidth'])
        lines.append('| %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s '
                     '| %d |'
                     % (r['variant'], r['from'], r['to'], r['total_s'],
                        r['servers_per_hour'], r['wire_bytes'] / MIB,
                        r['link_mean_mib_s'], r['link_peak_mib_s'], cap,
                        r['records_lost'], len(r.get('crashed') or ())))
    for f in data['failed']:
        lines.append('')
        lines.append('FAILED %s: %s' % (f['variant'], f['error']))
    return '\n'.join(lines) + '\n'


def _parser():
    parser = argparse.ArgumentParser(
        prog='python -m nova_v2v_rig.bench drain',
        description='A host drain by nova-v2v drain against one move at a '
                    'time and nova host-evacuate-live, on the all-in-one '
                    '(needs root).')
    parser.add_argument('--out', default='bench-results')
    parser.add_argument('--servers', type=int, default=6)
    parser.add_argument('--runs', type=int, default=1,
                        help='cycles of the four variants')
    parser.add_argument('--bandwidth', type=int, default=32,
                        help='MiB/s of the capped drain (default 32)')
    parser.add_argument('--link-mbit', type=int, default=0,
                        help='the lab link\'s rate (default 0: as it is)')
    parser.add_argument('--keep', action='store_true',
                        help='leave the lab and the all-in-one up')
    parser.add_argument('--state-dir', default=paths.DEFAULT_STATE_DIR)
    parser.add_argument('--lab-state-dir',
                        default=lab_hosts.DEFAULT_STATE_DIR)
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    if os.geteuid() != 0:
        sys.stderr.write('the drain benchmark needs root (the lab)\n')
        return 2
    common.setup_logging('nova-v2v-bench', False)
    os.makedirs(args.out, exist_ok=True)
    layout = paths.Layout(args.state_dir)
    lab = lab_hosts.Lab(args.lab_state_dir)
    started_lab = started_aio = False
    guests = []
    data = {'runs': [], 'failed': []}
    try:
        if not lab.load():
            lab.up(shared=False)
            started_lab = True
        if not stack.running(layout.load()):
            stack.up(layout, os.path.abspath('upper-constraints.txt'))
            started_aio = True
        cloud = cli.OpenStack(layout)
        ids = images.ensure(cloud, lab.cache_dir)
        network.ensure(cloud, layout)
        args.layout, args.lab = layout, lab
        _computes_up(args)
        link.shape(lab, args.link_mbit)
        guests = _create(cloud, lab, ids, args.servers)
        data['meta'] = {
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec='seconds'),
            'machine': '%s, %d CPUs' % (os.uname().nodename,
                                        os.cpu_count()),
            'servers': len(guests),
            'flavors': '%s and %s, alternately' % (images.FLAVOR,
                                                   images.FLAVOR_SMALL),
            'link': ('%d Mbit/s (tbf)' % args.link_mbit if args.link_mbit
                     else 'the lab\'s veth pair, unshaped'),
            'max_concurrent_live_migrations': CONCURRENT,
            'bandwidth_mib': args.bandwidth,
        }
        where = 0
        work = os.path.join(lab.state_dir, 'run')
        os.makedirs(work, exist_ok=True)
        for _cycle in range(args.runs):
            for variant in VARIANTS:
                source, dest = HOSTS[where], HOSTS[1 - where]
                try:
                    result = run_variant(cloud, lab, guests, variant,
                                         source, dest, work, args)
                    data['runs'].append(result)
                    _replace_crashed(cloud, lab, ids, guests,
                                     result['crashed'], dest)
                except Exception as exc:
                    LOG.exception('bench drain: %s failed', variant)
                    data['failed'].append({'variant': variant,
                                           'error': str(exc)})
                    raise
                finally:
                    lab_hosts.save_json(os.path.join(args.out,
                                                     'drain.json'), data)
                where = 1 - where
    finally:
        for guest in guests:
            try:
                guest.delete()
            except Exception:
                LOG.exception('cannot delete %s', guest.name)
        try:
            link.shape(lab, 0)
        except Exception:
            LOG.exception('cannot lift the link\'s limit')
        if not args.keep:
            stack.tear_down(layout, lab, started_aio, started_lab)
        if data.get('meta'):
            lab_hosts.save_json(os.path.join(args.out, 'drain.json'), data)
            with open(os.path.join(args.out, 'drain.md'), 'w') as f:
                f.write(markdown(data))
    sys.stdout.write(markdown(data) if data.get('meta') else '')
    return 1 if data['failed'] or any(
        r['records_lost'] or not r['ok'] for r in data['runs']) else 0
