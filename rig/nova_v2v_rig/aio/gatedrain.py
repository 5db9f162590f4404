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

"""The gate's ``drain`` stage: ``nova-v2v drain`` empties labhost-a.

Both lab hosts run QEMU 9.0 or later (the lab's Debian 13 root where the
machine's QEMU is older: :data:`RELEASE`), whose TCG guests keep their
memory writes through a live migration, and two live migrations at once
per compute. Six servers with Neutron ports are created on labhost-a
(:data:`GUESTS`):
four running guests of two flavors, one stopped, one with a vmxnet3 NIC
(a translation only the V2V cutover makes). Then, as an operator would:

1. ``nova-v2v drain labhost-a --disable --allow-cutover --parallel 2
   --json``, interrupted (SIGINT, as Ctrl-C) once its first move has
   started: it must start no move after it says it is stopping (one
   already asked for when the signal came goes on), let the ones in
   flight end, and exit 130;
2. the same command again: it must say it resumed, move the rest and exit
   0 (the host empty).

Then every server is checked where it ended: on labhost-b, running (or
still stopped), in the mode its plan said (the compute's log), nothing
of it left on labhost-a, and every record its guest acknowledged on its
disk (0 lost); labhost-a's compute is disabled with the drain's reason,
and is enabled again at the end. The stage's ``drain`` object is in the
gate's report (``servers``, ``servers_per_hour``).
"""

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import threading
import time

from oslo_log import log as logging

from nova_v2v.planning import profile as v2v_profile
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import gateupgrade
from nova_v2v_rig.aio import images
from nova_v2v_rig.aio import observe
from nova_v2v_rig.lab import upgrade as lab_upgrade

LOG = logging.getLogger(__name__)

HOST_A = gatemove.HOST_A
HOST_B = gatemove.HOST_B
REASON = 'gate drain'
# (name, image, flavor, stopped, the mode the compute's log must show)
GUESTS = (
    ('gate-drain-tiny-1', images.DISK, images.FLAVOR, False, 'block-live'),
    ('gate-drain-tiny-2', images.DISK, images.FLAVOR, False, 'block-live'),
    ('gate-drain-small-1', images.DISK, images.FLAVOR_SMALL, False,
     'block-live'),
    ('gate-drain-small-2', images.DISK, images.FLAVOR_SMALL, False,
     'block-live'),
    ('gate-drain-stopped', images.DISK, images.FLAVOR, True,
     observe.NOVA_OWN),
    ('gate-drain-vmxnet3', images.VMXNET3_DISK, images.FLAVOR, False,
     'v2v-cutover'),
)
CREATE_WORKERS = 3
DRAIN_TIMEOUT = 900
# The source compute runs two live migrations at once (Nova's default is
# one: a drain's second move would wait there).
HOST_EXTRA = (('DEFAULT', 'max_concurrent_live_migrations', '2'),)
# Both hosts run a QEMU that keeps a TCG guest's memory writes through a
# live migration (9.0 or later; the lab's Debian 13 root where the machine
# has an older one): QEMU 7.2 loses some, the more so when two guests
# migrate at once on two busy cores (README, "TCG guests on QEMU before
# 9.0"). What this stage checks is the drain, not that fault.
RELEASE = gateupgrade.RELEASE
FIXED_QEMU = 9000000


def _computes_on(layout, lab, release):
    """Both lab hosts on ``release`` (None: the machine's), computes again.

    The computes start again whatever happened to the hosts.
    """
    computes.down(layout)
    try:
        for host in ('a', 'b'):
            lab_upgrade.reroot(lab, host, release)
    finally:
        computes.up(layout, lab, host_extra={'a': HOST_EXTRA,
                                             'b': HOST_EXTRA})


def _create(cloud, lab, ids, spec):
    name, image, flavor, stopped, _mode = spec
    guest = gatemove.Guest(cloud, lab, name, False)
    guest.create(HOST_A, ids[image], ids[flavor])
    if stopped:
        cloud('server', 'stop', guest.id)
        cloud.wait_status(guest.id, ('SHUTOFF',))
    return guest


def _create_all(cloud, lab, ids, made):
    """The servers of :data:`GUESTS`, a few at a time, into ``made``."""
    with concurrent.futures.ThreadPoolExecutor(CREATE_WORKERS) as pool:
        futures = {pool.submit(_create, cloud, lab, ids, spec): spec
                   for spec in GUESTS}
        errors = []
        for future in concurrent.futures.as_completed(futures):
            try:
                made[futures[future][0]] = future.result()
            except Exception as exc:
                errors.append('%s: %s' % (futures[future][0], exc))
    if errors:
        raise gatemove.GateError('cannot create the drain\'s servers: %s'
                                 % '; '.join(errors))


def _delete_all(guests):
    """Delete the servers and their ports, a few at a time."""
    def delete(guest):
        try:
            guest.delete()
        except Exception:
            LOG.exception('Cannot delete %s', guest.name)
    with concurrent.futures.ThreadPoolExecutor(CREATE_WORKERS) as pool:
        list(pool.map(delete, guests))


def _drain_argv(state_file):
    return [os.path.join(os.path.dirname(sys.executable), 'nova-v2v'),
            'drain', HOST_A, '--disable', '--reason', REASON,
            '--allow-cutover', '--parallel', '2', '--state-file',
            state_file, '--json']


def run_drain(cloud, argv, log_path, interrupt_at=None,
              timeout=DRAIN_TIMEOUT):
    """Run ``nova-v2v drain``; ``(exit status, [events], seconds)``.

    :param interrupt_at: the event (a kind) at whose first one the drain
        gets SIGINT, as Ctrl-C; None: it runs to its end
    """
    start = time.monotonic()
    events = []
    with open(log_path, 'a') as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                                env=cloud.env, text=True)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    LOG.warning('nova-v2v drain printed %r', line)
                    continue
                events.append(event)
                if event.get('event') != 'progress':
                    LOG.info('drain: %s', line.strip()[:400])
                if interrupt_at and event.get('event') == interrupt_at:
                    interrupt_at = None
                    LOG.info('drain: SIGINT, as Ctrl-C')
                    proc.send_signal(signal.SIGINT)
            rc = proc.wait()
        finally:
            killer.cancel()
    cloud.calls.append({'command': ' '.join(['nova-v2v'] + argv[1:]),
                        'exit': rc,
                        'seconds': round(time.monotonic() - start, 1)})
    return rc, events, round(time.monotonic() - start, 1)


def interrupted_problems(events):
    """What is wrong with the drain that got SIGINT at its first move.

    It must have started a move, and none after it said it was stopping
    (a request already on its way when the signal came ends as it would).
    """
    kinds = [e.get('event') for e in events]
    problems = []
    if 'move.start' not in kinds:
        problems.append('the interrupted drain started no move')
    if 'drain.stopping' not in kinds:
        problems.append('the interrupted drain did not say it was stopping')
    elif 'move.start' in kinds[kinds.index('drain.stopping'):]:
        problems.append('the interrupted drain started a move after it '
                        'said it was stopping')
    return problems


def _service(cloud):
    rows = cloud('compute', 'service', 'list', '--host', HOST_A,
                 '--service', 'nova-compute', '--long', parse=True) or []
    return rows[0] if rows else {}


def _times(events):
    """``{server: (start, end)}`` epoch times of its last move."""
    times = {}
    for e in events:
        if e.get('event') == 'move.start':
            times[e['server']] = (e['time'], None)
        elif e.get('event') == 'move.end' and e['server'] in times:
            times[e['server']] = (times[e['server']][0], e['time'])
    return times


def _check_server(cloud, lab, guest, spec, row, times, mark, events_bus):
    """One drained server's fields and problems, where it ended."""
    name, _image, flavor, stopped, want_mode = spec
    problems = []
    info = cloud.server(guest.id)
    host = info.get('OS-EXT-SRV-ATTR:host')
    status = info.get('status')
    want_status = 'SHUTOFF' if stopped else 'ACTIVE'
    if host != HOST_B:
        problems.append('on %s, not %s' % (host, HOST_B))
    if status != want_status:
        problems.append('%s, not %s' % (status, want_status))
    start, end = times.get(guest.id, (None, None))
    if not stopped:
        try:
            gatemove.wait_ack(guest.tail, time.time(),
                              gatemove.RESUME_TIMEOUT, 'the drain')
        finally:
            gatemove.raise_if_crashed(guest, 'drain of ' + name,
                                      events_bus, start or time.time())
    acks = guest.tail.merged()
    check = gatemove.read_records(lab, gatemove.LAB_HOST.get(host, 'b'),
                                  guest.inside('disk'), acks)
    problems += gatemove.records_problems(check)
    planned = observe.planned_mode(mark.text(), guest.id) or observe.NOVA_OWN
    if planned != want_mode:
        problems.append('mode %s, not %s' % (planned, want_mode))
    left = gatemove.source_leftovers(
        lab, HOST_A, info.get('OS-EXT-SRV-ATTR:instance_name'),
        guest.instance_dir(), False)
    if left:
        problems.append('left on %s: %s' % (HOST_A, ', '.join(left)))
    row = row or {}
    if row.get('outcome') != 'moved':
        problems.append('the drain says %s' % row.get('outcome'))
    return {
        'name': name, 'server': guest.id, 'flavor': flavor,
        'stopped': stopped, 'action': row.get('action'),
        'mode': row.get('mode'), 'planned_mode': planned,
        'outcome': row.get('outcome'), 'seconds': row.get('seconds'),
        'bytes': row.get('bytes'), 'attempts': row.get('attempts'),
        'downtime_s': (gatemove.largest_gap(acks, start, end)
                       if start and end and not stopped else None),
        'host': host, 'status': status,
        'records_written': check['records_written'],
        'records_verified': check['records_verified'],
        'records_lost': check['records_lost'],
        'source_leftovers': left, 'problems': problems,
        'ok': not problems,
    }


def stage_drain(layout, cloud, lab, ids, events=None, checks=None,
                repeat=1, found=None):
    """The drain of labhost-a; no moves of its own (the drain's are).

    Its check goes into ``checks`` and its ``drain`` object into
    ``found``.
    """
    checks = [] if checks is None else checks
    found = {} if found is None else found
    made = {}
    work = os.path.join(lab.state_dir, 'run')
    os.makedirs(work, exist_ok=True)
    state_file = os.path.join(work, 'drain-%s.json' % HOST_A)
    for path in (state_file, state_file + '.lock'):
        if os.path.exists(path):
            os.unlink(path)
    log_path = os.path.join(work, 'drain.stderr')
    problems = []
    drain = {'servers': [], 'runs': [], 'problems': problems}
    found['drain'] = drain
    rerooted = False
    try:
        if gatemove.qemu_version(lab, HOST_A) < FIXED_QEMU:
            rerooted = True
            _computes_on(layout, lab, RELEASE)
        drain['qemu'] = v2v_profile.version_to_str(
            gatemove.qemu_version(lab, HOST_A))
        _create_all(cloud, lab, ids, made)
        mark = observe.LogMark(layout)
        argv = _drain_argv(state_file)
        rc1, ev1, s1 = run_drain(cloud, argv, log_path,
                                 interrupt_at='move.start')
        rc2, ev2, s2 = run_drain(cloud, argv, log_path)
        drain['runs'] = [
            {'exit': rc1, 'seconds': s1, 'interrupted': True,
             'moves_started': sum(1 for e in ev1
                                  if e.get('event') == 'move.start')},
            {'exit': rc2, 'seconds': s2, 'interrupted': False,
             'moves_started': sum(1 for e in ev2
                                  if e.get('event') == 'move.start')}]
        if rc1 != 130:
            problems.append('the interrupted drain exited %s, not 130' % rc1)
        problems += interrupted_problems(ev1)
        if rc2 != 0:
            problems.append('the drain run again exited %s, not 0' % rc2)
        started = [e for e in ev2 if e.get('event') == 'drain.start']
        if not (started and started[0].get('resumed')):
            problems.append('the drain run again did not resume')
        ended = [e for e in ev2 if e.get('event') == 'drain.end']
        report = ended[-1]['report'] if ended else {}
        if not ended:
            problems.append('the drain printed no report')
        rows = {r['id']: r for r in report.get('servers', [])}
        times = _times(ev1 + ev2)
        for spec in GUESTS:
            guest = made[spec[0]]
            result = _check_server(cloud, lab, guest, spec,
                                   rows.get(guest.id), times, mark, events)
            drain['servers'].append(result)
            problems += ['%s: %s' % (spec[0], p) for p in result['problems']]
        left = cloud('server', 'list', '--all-projects', '--host', HOST_A,
                     parse=True) or []
        drain['source_empty'] = not left and report.get('empty') is True
        if not drain['source_empty']:
            problems.append('%s still runs %s (the drain says empty=%s)'
                            % (HOST_A, [s.get('Name') for s in left],
                               report.get('empty')))
        service = _service(cloud)
        drain['service_disabled'] = (
            service.get('Status') == 'disabled' and
            service.get('Disabled Reason') == REASON)
        if not drain['service_disabled']:
            problems.append('the compute of %s is %s (%s), not disabled by '
                            'the drain' % (HOST_A, service.get('Status'),
                                           service.get('Disabled Reason')))
        # The whole drain: both runs (the report's rate is its run's).
        moved = sum(1 for r in drain['servers'] if r['outcome'] == 'moved')
        drain.update(totals=report.get('totals', {}),
                     seconds=round(s1 + s2, 1),
                     servers_per_hour=round(moved * 3600.0 / (s1 + s2), 1))
    finally:
        try:
            cloud('compute', 'service', 'set', '--enable', HOST_A,
                  'nova-compute')
            drain['service_reenabled'] = _service(cloud).get(
                'Status') == 'enabled'
        except Exception as exc:
            LOG.exception('Cannot enable the compute of %s', HOST_A)
            drain['service_reenabled'] = False
            problems.append('cannot enable %s again: %s' % (HOST_A, exc))
        _delete_all(made.values())
        if rerooted:
            try:
                _computes_on(layout, lab, None)
            except Exception as exc:
                LOG.exception('The lab hosts could not go back to the '
                              'machine\'s libvirt')
                problems.append('the lab hosts could not go back to the '
                                'machine\'s libvirt: %s' % exc)
    if not drain.get('service_reenabled'):
        problems.append('the compute of %s is not enabled again' % HOST_A)
    drain['ok'] = not problems and len(drain['servers']) == len(GUESTS)
    checks.append({'check': 'drain', 'exit': drain['runs'][-1]['exit']
                   if drain['runs'] else None,
                   'problems': problems, 'ok': drain['ok'],
                   'hosts': {HOST_A: 'drained' if drain.get('source_empty')
                             else 'not empty'}})
    LOG.info('drain: %(ok)s %(n)d servers, %(sph)s servers/hour %(p)s',
             {'ok': 'OK' if drain['ok'] else 'FAILED',
              'n': len(drain['servers']),
              'sph': drain.get('servers_per_hour'),
              'p': '; '.join(problems)})
    return []
