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

"""The gate: real moves of a real guest through the ``openstack`` client.

``tox -e gate`` (``nova-v2v-aio gate``) builds the lab (two libvirt/QEMU
hosts), the all-in-one control plane and its two nova-v2v computes, puts
the lab guest in Glance, then moves guests the way an operator does, with
the ``openstack`` client only, in three stages:

``local``
    Each compute on its own store, same profile. A guest is created on
    labhost-a; ``server migrate --live-migration --block-migration``
    (scheduled), again with ``--host labhost-a``, then a cold ``server
    migrate`` and ``server resize confirm``.
``profiles``
    labhost-b runs raw disks only (``[v2v] disk_formats = raw``): a live
    migration of a qcow2 guest to it is a V2V cutover; a cold ``server
    migrate`` of another converts its qcow2 disk, an overlay on Nova's
    image cache, to a whole raw disk (the offline V2V move).
``shared``
    Both computes on the lab's common directory: ``server migrate
    --live-migration`` without ``--block-migration`` (``block_migration``
    auto) resolves to a shared-storage live migration.

During each live move ``server migration list`` and ``server migration
show`` are read; after each move the gate checks the server's host and
status, the migration record, the mode the planner chose (the compute's
log), that nothing of the guest is left on the source (its domain, its
instance directory on a host's own store) and the guest's records on the
destination's disk against every write the guest acknowledged on its serial
console (0 lost).

The downtime is the longest gap between two acknowledged writes as the host
saw them appear on the serial console: the guest's own clock stops while
it is paused.
"""

import contextlib
import mmap
import os
import re
import sys
import tempfile
import threading
import time

import libvirt
from oslo_concurrency import processutils
from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging

from nova_v2v import notifications
from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import config
from nova_v2v_rig.aio import images
from nova_v2v_rig.aio import network
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import stack
from nova_v2v_rig.lab import console as lab_console
from nova_v2v_rig.lab import harness as lab_harness
from nova_v2v_rig.lab import hosts as lab_hosts
from nova_v2v_rig.lab import migrate as lab_migrate
from nova_v2v_rig.lab import workload

LOG = logging.getLogger(__name__)

STAGES = ('local', 'profiles', 'shared')
HOST_A = lab_hosts.HOSTS['a']['hostname']
HOST_B = lab_hosts.HOSTS['b']['hostname']
LAB_HOST = {lab_hosts.HOSTS[h]['hostname']: h for h in lab_hosts.HOSTS}
# Migration states of a move in progress (nova.objects.migration).
IN_PROGRESS = ('queued', 'accepted', 'preparing', 'pre-migrating',
               'running', 'migrating', 'post-migrating')
# States a migration record ends in (a cold one: after its confirmation).
FINAL = ('completed', 'confirmed', 'failed', 'error', 'cancelled')
BOOT_TIMEOUT = 120
RESUME_TIMEOUT = 120
_PLAN = re.compile(r'\[instance: (?P<uuid>[0-9a-f-]{36})\] '
                   r'V2V (?:offline )?plan: (?P<mode>[a-z0-9-]+) from ')


class GateError(paths.AioError):
    """The gate could not run a step (not a failed check)."""


# -- the guest's acknowledgements -----------------------------------------

def wait_ack(tail, after, timeout, what):
    """The first ack of ``tail`` the host saw after ``after``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ack in tail.merged():
            if ack[1] > after:
                return ack
        time.sleep(0.1)
    raise GateError('no write acknowledged by the guest %d s after %s'
                    % (timeout, what))


def largest_gap(acks, start, end):
    """Seconds of the longest pause between acks around [start, end].

    The gap that spans ``start`` counts: it is the move's if the guest
    stopped right when the move began.
    """
    times = sorted(t for _n, t, _g in acks)
    before = [t for t in times if t <= start]
    window = ([before[-1]] if before else []) + [
        t for t in times if start < t <= end]
    gaps = [b - a for a, b in zip(window, window[1:])]
    return round(max(gaps), 2) if gaps else None


def acks_text(acks):
    """The acks as the serial log lines :func:`workload.verify` reads."""
    return ''.join('W %d %.6f\n' % (n, g) for n, _t, g in acks)


# -- checks on the destination --------------------------------------------

def read_records(lab, host, disk_inside, acks):
    """:func:`workload.verify` of the guest's disk as ``host`` sees it.

    The disk (a qcow2 over a base image in ``_base``, or raw) is read
    inside the host's mount namespace, where its backing file's path
    resolves, with ``qemu-img convert -U`` while the guest runs: every
    write acknowledged before the copy began must be in it.
    """
    state = lab.load() or {}
    pid = state.get('hosts', {}).get(host, {}).get('pid')
    if not pid:
        raise GateError('lab host %s is not running' % host)
    work = os.path.join(lab.state_dir, 'run')
    os.makedirs(work, exist_ok=True)
    fd, raw = tempfile.mkstemp(prefix='gate-', suffix='.raw', dir=work)
    os.close(fd)
    try:
        processutils.execute(
            'nsenter', '--mount=/proc/%d/ns/mnt' % pid, '--',
            'qemu-img', 'convert', '-U', '-O', 'raw', disk_inside, raw)
        with open(raw, 'rb') as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                return workload.verify(mm, [acks_text(acks)])
            finally:
                mm.close()
    finally:
        os.unlink(raw)


def wait_migration(cloud, server, known, timeout=120, interval=1):
    """The server's new migration record once it reached a final state."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in cloud.migrations(server)
                if r.get('Id') not in known]
        if (rows and rows[0].get('Status') in FINAL or
                time.monotonic() > deadline):
            return rows[0] if rows else {}
        time.sleep(interval)


def source_leftovers(lab, host, instance_name, instance_dir, shared):
    """What of the guest is left on the source host after its move.

    The domain (over the host libvirtd's unix socket) and, on a host's own
    store, the instance directory and a cold migration's ``_resize`` copy.
    """
    lab_host = LAB_HOST.get(host)
    if lab_host is None:
        return ['unknown host %s' % host]
    conn = libvirt.open(lab.local_uri(lab_host))
    try:
        left = lab_harness.host_leftovers(lab, lab_host, conn,
                                          instance_name, instance_dir,
                                          files=not shared)
    finally:
        conn.close()
    resize = lab.root_path(lab_host, instance_dir + '_resize')
    if not shared and os.path.exists(resize):
        left.append(resize)
    return left


def planned_mode(text, server_id):
    """The last mode the compute logs in ``text`` planned for the server."""
    modes = [m.group('mode') for m in _PLAN.finditer(text)
             if m.group('uuid') == server_id]
    return modes[-1] if modes else None


class LogMark(object):
    """New lines of the computes' logs since the mark was made."""

    def __init__(self, layout):
        self.paths = [layout.log(computes.service_name(h))
                      for h in sorted(lab_hosts.HOSTS)]
        self.offsets = {}
        for path in self.paths:
            try:
                self.offsets[path] = os.path.getsize(path)
            except OSError:
                self.offsets[path] = 0

    def text(self):
        out = []
        for path in self.paths:
            try:
                with open(path, errors='replace') as f:
                    f.seek(self.offsets[path])
                    out.append(f.read())
            except OSError:
                continue
        return '\n'.join(out)


# The mode a gate move expects when nova-v2v plans nothing: Nova's own move.
NOVA_OWN = 'nova'

# The V2V events each mode's source sends, in order (see
# nova_v2v.notifications; progress events are counted once).
EXPECTED_EVENTS = {
    'block-live': (notifications.PLAN, notifications.START,
                   notifications.END),
    'shared-live': (notifications.PLAN, notifications.START,
                    notifications.END),
    'v2v-cutover': (notifications.PLAN, notifications.START,
                    notifications.PROGRESS, notifications.CUTOVER_START,
                    notifications.CUTOVER_END, notifications.END),
    'offline': (notifications.PLAN,),
    # A move that needs no V2V (a cold migration between computes that run
    # the guest's disk format): Nova's own, no plan and no V2V event.
    NOVA_OWN: (),
}


class EventListener(object):
    """nova-v2v's events as a consumer on the real broker receives them.

    An oslo.messaging notification listener on Nova's versioned topic (in
    Nova's exchange, ``nova``), in its own pool (queue), started before the
    first move.
    """

    def __init__(self, transport_url, topic='versioned_notifications',
                 exchange='nova'):
        self.events = []
        self._lock = threading.Lock()
        transport = oslo_messaging.get_notification_transport(
            cfg.ConfigOpts(), url=transport_url)
        self.listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=topic,
                                              exchange=exchange)], [self],
            executor='threading', pool='nova-v2v-gate')

    def start(self):
        self.listener.start()
        return self

    def stop(self):
        self.listener.stop()
        self.listener.wait()

    def _record(self, priority, publisher_id, event_type, payload):
        if not event_type.startswith('v2v.'):
            return
        data = (payload or {}).get('nova_object.data', {})
        with self._lock:
            self.events.append({'event_type': event_type,
                                'priority': priority,
                                'publisher_id': publisher_id,
                                'instance_uuid': data.get('instance_uuid'),
                                'data': data, 'received': time.time()})

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('INFO', publisher_id, event_type, payload)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('ERROR', publisher_id, event_type, payload)

    def of(self, server_id, since):
        """The server's event types received since ``since``, in order.

        Repeated progress events count once.
        """
        with self._lock:
            types = [e['event_type'] for e in self.events
                     if e['instance_uuid'] == server_id and
                     e['received'] >= since]
        return [t for i, t in enumerate(types)
                if not (i and t == notifications.PROGRESS and
                        types[i - 1] == t)]

    def payload(self, server_id, since, event_type):
        """The payload data of the server's first ``event_type`` event."""
        with self._lock:
            for event in self.events:
                if (event['instance_uuid'] == server_id and
                        event['received'] >= since and
                        event['event_type'] == event_type):
                    return event['data']
        return None

    def wait_for(self, server_id, since, last, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = self.of(server_id, since)
            if (got and got[-1] == last) or time.monotonic() > deadline:
                return got
            time.sleep(0.2)


class MigrationWatch(threading.Thread):
    """Reads ``server migration list`` (and ``show``) while a move runs."""

    def __init__(self, cloud, server, known, interval=0.5):
        super().__init__(name='migration-watch', daemon=True)
        self.cloud = cloud
        self.server = server
        self.known = set(known)
        self.interval = interval
        self.seen = []
        self.shown = None
        self._stop_evt = threading.Event()

    def run(self):
        while not self._stop_evt.is_set():
            try:
                rows = self.cloud.migrations(self.server)
            except paths.AioError as exc:
                LOG.debug('migration list: %s', exc)
                rows = []
            for row in rows:
                if row.get('Id') in self.known:
                    continue
                status = row.get('Status')
                if not self.seen or self.seen[-1] != status:
                    self.seen.append(status)
                if (self.shown is None and status in IN_PROGRESS and
                        row.get('Type') == 'live-migration'):
                    # Nova shows a live migration only while it runs.
                    shown = self.cloud('server', 'migration', 'show',
                                       self.server, row['UUID'],
                                       parse=True, check=False)
                    if shown:
                        self.shown = {
                            'status': shown.get('Status'),
                            'uuid': shown.get('UUID'),
                            'memory_total_bytes':
                                shown.get('Memory Total Bytes'),
                            'disk_total_bytes':
                                shown.get('Disk Total Bytes')}
            self._stop_evt.wait(self.interval)

    def stop(self):
        self._stop_evt.set()
        self.join()


# -- one guest, its moves --------------------------------------------------

class Guest(object):
    """A server of the gate and the tail of its console logs.

    The logs are Nova's ``console.log`` of the instance on each host (one
    file on shared storage, truncated by the destination's QEMU).
    """

    def __init__(self, cloud, lab, name, shared, with_port=True):
        self.cloud = cloud
        self.lab = lab
        self.name = name
        self.shared = shared
        self.with_port = with_port
        self.id = None
        self.tail = None
        # Its Neutron port (the record of "openstack port create").
        self.port = None

    def instance_dir(self):
        """The guest's directory as the compute hosts see it."""
        return os.path.join(computes.instances_path(self.shared), self.id)

    def inside(self, filename):
        return os.path.join(self.instance_dir(), filename)

    def create(self, host, image, flavor):
        start = time.time()
        nic = 'none'
        if self.with_port:
            self.port = network.create_port(self.cloud, self.name)
            nic = 'port-id=%s' % self.port['id']
        info = self.cloud('server', 'create', '--flavor', flavor,
                          '--image', image, '--nic', nic,
                          '--availability-zone', 'nova:%s' % host,
                          '--wait', self.name, parse=True)
        self.id = info['id']
        logs = [self.lab.root_path(h, self.inside('console.log'))
                for h in sorted(lab_hosts.HOSTS)]
        self.tail = lab_harness.SerialTail(logs)
        self.tail.start()
        wait_ack(self.tail, start, BOOT_TIMEOUT, 'the boot')
        LOG.info('Server %(name)s (%(id)s) writes its records on %(host)s',
                 {'name': self.name, 'id': self.id, 'host': host})
        return info

    def crash(self):
        """A kernel crash in the server's logs, or None.

        A :class:`nova_v2v_rig.lab.console.Crash`: its first line and the
        known QEMU fault's signature it bears, if any.
        """
        for path in self.tail.paths if self.tail is not None else ():
            crash = lab_console.crash(lab_harness.read_log(path))
            if crash:
                return crash
        return None

    def delete(self):
        if self.tail is not None:
            self.tail.stop()
        if self.id:
            self.cloud('server', 'delete', '--wait', self.id, check=False)
        if self.port:
            network.delete_port(self.cloud, self.port['id'])


def run_move(layout, cloud, guest, label, args, expect_host, expect_mode,
             cold=False, settle=2.0, events=None):
    """One move by the ``openstack`` client, then every check; a result."""
    before = cloud.server(guest.id)
    source = cli.host_of(before)
    known = [r.get('Id') for r in cloud.migrations(guest.id)]
    mark = LogMark(layout)
    watch = MigrationWatch(cloud, guest.id, known)
    start = time.time()
    watch.start()
    problems = []
    try:
        cloud(*args)
        if cold:
            cloud.wait_status(guest.id, ('VERIFY_RESIZE',))
            cloud('server', 'resize', 'confirm', guest.id)
    finally:
        watch.stop()
    info = cloud.wait_status(guest.id, ('ACTIVE',))
    seconds = round(time.time() - start, 1)
    host = cli.host_of(info)
    try:
        resumed = wait_ack(guest.tail, time.time(), RESUME_TIMEOUT,
                           'the move ' + label)
        time.sleep(settle)
    finally:
        _crashed(guest, label, events, start)
    acks = guest.tail.merged()
    check = read_records(guest.lab, LAB_HOST.get(host, 'a'),
                         guest.inside('disk'), acks)
    mode = planned_mode(mark.text(), guest.id) or NOVA_OWN
    record = wait_migration(cloud, guest.id, known)
    want_status = 'confirmed' if cold else 'completed'
    left = source_leftovers(guest.lab, source,
                            before.get('OS-EXT-SRV-ATTR:instance_name'),
                            guest.instance_dir(),
                            guest.shared)
    if left:
        problems.append('left on %s: %s' % (source, ', '.join(left)))
    got = None
    if events is not None:
        expected = list(EXPECTED_EVENTS[expect_mode])
        if expected:
            got = events.wait_for(guest.id, start, expected[-1])
        else:
            got = events.of(guest.id, start)
        if got != expected:
            problems.append('events %s, not %s' % (got, expected))
        planned = events.payload(guest.id, start, notifications.PLAN) or {}
        if expected and planned.get('mode') != expect_mode:
            problems.append('the plan event says %s, not %s'
                            % (planned.get('mode'), expect_mode))
        if expect_mode == 'v2v-cutover':
            ended = events.payload(guest.id, start,
                                   notifications.CUTOVER_END) or {}
            if ended.get('downtime_s') is None:
                problems.append('the cutover.end event has no downtime')
    if host != expect_host:
        problems.append('on %s, not %s' % (host, expect_host))
    if mode != expect_mode:
        problems.append('mode %s, not %s' % (mode, expect_mode))
    if check['records_lost']:
        problems.append('%d records lost: %s' % (check['records_lost'],
                                                 check['lost']))
    if check['records_verified'] < check['records_written']:
        problems.append('records verified up to %d of %d'
                        % (check['records_verified'],
                           check['records_written']))
    if record.get('Status') != want_status:
        problems.append('migration record %s, not %s'
                        % (record.get('Status'), want_status))
    if (record.get('Source Compute'), record.get('Dest Compute')) != (
            source, host):
        problems.append('migration record %s -> %s, not %s -> %s'
                        % (record.get('Source Compute'),
                           record.get('Dest Compute'), source, host))
    if not cold and not watch.seen:
        problems.append('the migration was not listed while it ran')
    result = {
        'move': label,
        'command': 'openstack ' + ' '.join(str(a) for a in args),
        'server': guest.id,
        'from': source, 'to': host, 'expected_to': expect_host,
        'mode': mode, 'expected_mode': expect_mode,
        'seconds': seconds,
        'downtime_s': largest_gap(acks, start, resumed[1]),
        'records_written': check['records_written'],
        'records_verified': check['records_verified'],
        'records_lost': check['records_lost'],
        'serial_gaps': check['serial_gaps'],
        'serial_unacked': check['serial_unacked'],
        'migration': {'id': record.get('Id'), 'uuid': record.get('UUID'),
                      'type': record.get('Type'),
                      'status': record.get('Status')},
        'source_leftovers': left,
        'events': got,
        'listed_during': watch.seen,
        'shown_during': watch.shown,
        'problems': problems,
        'ok': not problems,
    }
    LOG.info('%(move)s: %(ok)s %(problems)s', {
        'move': label, 'ok': 'OK' if result['ok'] else 'FAILED',
        'problems': '; '.join(problems)})
    return result


def _crashed(guest, label, events, since):
    """Raise :class:`lab_migrate.GuestCrashed` if the server's kernel died.

    Its ``known_fault`` is the caution of the move's plan (the
    ``v2v.migration.plan`` event's ``cautions``: why the source's QEMU may
    lose guest memory writes), or None; its ``signature`` the known fault's
    signature the crash bears on the console, or None.
    """
    crash = guest.crash()
    if not crash:
        return
    planned = (events.payload(guest.id, since, notifications.PLAN)
               if events is not None else None) or {}
    cautions = planned.get('cautions') or []
    raise lab_migrate.GuestCrashed(
        'the server crashed after the move %s: %s' % (label, crash.line),
        crash.line, '; '.join(cautions) or None, crash.signature)


def run_check(cloud, guest, label, expect_exit, expect_modes):
    """``nova-v2v check`` of the guest, against what the move will show.

    :param expect_modes: ``{host: mode or None}``; None: it cannot go there
    """
    rc, report = cloud.v2v_check(guest.id)
    hosts = {h['host']: h for h in report.get('hosts', [])}
    problems = []
    if rc != expect_exit:
        problems.append('exit %s, not %s' % (rc, expect_exit))
    # The text an operator reads says the same.
    text_rc, text = cloud.v2v_check(guest.id, as_json=False)
    if text_rc != rc:
        problems.append('text: exit %s, JSON: exit %s' % (text_rc, rc))
    for host, mode in sorted(expect_modes.items()):
        line = '  %s: %s' % (host, '%s, ' % mode if mode else 'cannot: ')
        if line not in (text or ''):
            problems.append('the text has no line %r' % line.strip())
    for host, mode in sorted(expect_modes.items()):
        got = hosts.get(host, {})
        if (got.get('mode') if got.get('fits') else None) != mode:
            problems.append('%s: %s (%s), not %s' % (
                host, got.get('mode'), '; '.join(got.get('reasons', [])),
                mode or 'refused'))
    result = {'check': label, 'exit': rc, 'problems': problems,
              'ok': not problems,
              'hosts': {h: (v.get('mode') if v.get('fits') else
                            'cannot: ' + '; '.join(v.get('reasons', [])))
                        for h, v in sorted(hosts.items())}}
    LOG.info('check %(label)s: %(ok)s %(hosts)s %(problems)s',
             {'label': label, 'ok': 'OK' if result['ok'] else 'FAILED',
              'hosts': result['hosts'], 'problems': '; '.join(problems)})
    return result


def _live(guest, *extra):
    return ('server', 'migrate', '--live-migration') + extra + (
        '--wait', guest.id)


@contextlib.contextmanager
def _created(cloud, lab, ids, name, shared):
    """A new guest of the lab image on labhost-a, deleted afterwards."""
    guest = Guest(cloud, lab, name, shared)
    try:
        guest.create(HOST_A, ids[images.DISK], ids[images.FLAVOR])
        yield guest
    finally:
        guest.delete()


def stage_local(layout, cloud, lab, ids, events=None, checks=None):
    checks = [] if checks is None else checks
    results = []
    with _created(cloud, lab, ids, 'gate-local', False) as guest:
        checks.append(run_check(cloud, guest, 'fits live', 0,
                                {HOST_A: None, HOST_B: 'block-live'}))
        cloud('compute', 'service', 'set', '--disable', HOST_B,
              'nova-compute')
        try:
            checks.append(run_check(cloud, guest, 'none fits (disabled)', 1,
                                    {HOST_A: None, HOST_B: None}))
        finally:
            cloud('compute', 'service', 'set', '--enable', HOST_B,
                  'nova-compute')
        results.append(run_move(
            layout, cloud, guest, 'live, block (scheduled)',
            _live(guest, '--block-migration'), HOST_B, 'block-live',
            events=events))
        results.append(run_move(
            layout, cloud, guest, 'live, block (--host)',
            _live(guest, '--block-migration', '--host', HOST_A), HOST_A,
            'block-live', events=events))
        # Both computes run the guest's disk format: nothing to convert,
        # Nova's own cold migration.
        results.append(run_move(
            layout, cloud, guest, 'cold + resize confirm',
            ('server', 'migrate', '--wait', guest.id), HOST_B, NOVA_OWN,
            cold=True, events=events))
    return results


def _one_live_move(layout, cloud, lab, ids, events, checks, name, shared,
                   check, move, extra, mode):
    """A guest, ``nova-v2v check`` of it, one live move to labhost-b."""
    checks = [] if checks is None else checks
    with _created(cloud, lab, ids, name, shared) as guest:
        checks.append(run_check(cloud, guest, check, 0, {HOST_B: mode}))
        return [run_move(layout, cloud, guest, move, _live(guest, *extra),
                         HOST_B, mode, events=events)]


def stage_profiles(layout, cloud, lab, ids, events=None, checks=None):
    results = _one_live_move(layout, cloud, lab, ids, events, checks,
                             'gate-profiles', False, 'needs the cutover',
                             'live, profiles differ', ('--block-migration',),
                             'v2v-cutover')
    # labhost-b runs raw disks only: a cold migration converts the qcow2
    # disk (an overlay on Nova's image cache) on the way (the offline V2V
    # mode).
    with _created(cloud, lab, ids, 'gate-offline', False) as guest:
        results.append(run_move(
            layout, cloud, guest, 'cold + confirm, profiles differ',
            ('server', 'migrate', '--wait', guest.id), HOST_B, 'offline',
            cold=True, events=events))
    return results


def stage_shared(layout, cloud, lab, ids, events=None, checks=None):
    return _one_live_move(layout, cloud, lab, ids, events, checks,
                          'gate-shared', True, 'shared storage',
                          'live, shared storage (auto)', (), 'shared-live')


# The computes' configuration of each stage: (v2v_options, shared).
STAGE_COMPUTES = {
    'local': ({}, False),
    'profiles': ({'b': {'disk_formats': 'raw'}}, False),
    'shared': ({}, True),
}
STAGE_RUN = {'local': stage_local, 'profiles': stage_profiles,
             'shared': stage_shared}


def _computes(layout, lab, stage, current):
    """(Re)start the computes for ``stage`` unless they run that way."""
    wanted = STAGE_COMPUTES[stage]
    if current == wanted:
        return current
    start = time.monotonic()
    computes.down(layout)
    computes.up(layout, lab, v2v_options=wanted[0], shared=wanted[1])
    LOG.info('Computes for stage %(stage)s up in %(s).1f s',
             {'stage': stage, 's': time.monotonic() - start})
    return wanted


def _run_stage(report, stage, layout, cloud, lab, ids, events):
    """A stage's moves and checks into ``report``; once more on a known fault.

    A server that crashed after a move whose plan told why QEMU may lose its
    memory writes, with that fault's crash on its console
    (:attr:`lab_migrate.GuestCrashed.explained`), is recorded in
    ``report['repeated']`` and the stage runs again with a new server
    (:func:`lab_migrate.once_more`); any other failure (another crash, a
    crash after a move the fault cannot hit), or a second crash, fails the
    stage. Each move and check of the second run that passed is named in
    the entry's ``passed_again`` and in one ``RERUN-PASSED`` line on
    stderr (:func:`lab_migrate.rerun_passed_line`; tools/run-tests.sh
    counts them).
    """
    checks = []

    def attempt():
        del checks[:]
        return STAGE_RUN[stage](layout, cloud, lab, ids, events, checks)

    def told(exc):
        LOG.warning('Stage %(stage)s: %(exc)s; known QEMU fault: %(fault)s '
                    '(%(sig)s); running the stage once more',
                    {'stage': stage, 'exc': exc, 'fault': exc.known_fault,
                     'sig': exc.signature})
        report['repeated'].append({'stage': stage, 'crash': exc.crash,
                                   'known_fault': exc.known_fault,
                                   'signature': exc.signature,
                                   'passed_again': []})

    moves = []

    def passed(exc):
        names = (['%s/%s' % (stage, m['move']) for m in moves if m['ok']] +
                 ['%s/check %s' % (stage, c['check']) for c in checks
                  if c['ok']])
        report['repeated'][-1]['passed_again'] = names
        for name in names:
            sys.stderr.write(lab_migrate.rerun_passed_line(
                'gate ' + name, exc.signature) + '\n')
        sys.stderr.flush()

    def run_stage():
        moves[:] = attempt()
        return moves

    try:
        report['moves'] += lab_migrate.once_more(run_stage, told, passed)
    except (paths.AioError, lab_migrate.GuestCrashed) as exc:
        LOG.exception('Stage %s failed', stage)
        report['errors'].append('%s: %s' % (stage, exc))
    report['checks'] += checks


def run(layout, lab, stages=STAGES, keep=False, constraints=None):
    """Build, move, check, tear down; the report (a dict)."""
    t0 = time.monotonic()
    report = {'moves': [], 'checks': [], 'steps': {}, 'errors': [],
              'repeated': []}
    started_lab = started_aio = False
    events = None
    try:
        step = time.monotonic()
        if not lab.load():
            lab.up(shared=False)
            started_lab = True
        report['steps']['lab'] = round(time.monotonic() - step, 1)
        step = time.monotonic()
        if not stack.running(layout.load()):
            stack.up(layout, constraints)
            started_aio = True
        report['steps']['control plane'] = round(time.monotonic() - step, 1)
        cloud = cli.OpenStack(layout)
        events = EventListener(
            config.transport_url(layout.passwords())).start()
        step = time.monotonic()
        ids = images.ensure(cloud, lab.cache_dir)
        report['steps']['images'] = round(time.monotonic() - step, 1)
        step = time.monotonic()
        network.ensure(cloud, layout)
        report['steps']['network'] = round(time.monotonic() - step, 1)
        current = None
        for stage in stages:
            step = time.monotonic()
            current = _computes(layout, lab, stage, current)
            report['steps']['computes (%s)' % stage] = round(
                time.monotonic() - step, 1)
            step = time.monotonic()
            _run_stage(report, stage, layout, cloud, lab, ids, events)
            report['steps']['moves (%s)' % stage] = round(
                time.monotonic() - step, 1)
        report['openstack_calls'] = len(cloud.calls)
        report['events_received'] = len(events.events)
    except Exception as exc:
        LOG.exception('The gate could not run')
        report['errors'].append(str(exc))
    finally:
        if events is not None:
            events.stop()
        if not keep:
            step = time.monotonic()
            try:
                if started_aio:
                    stack.down(layout)
                else:
                    computes.down(layout)
                if started_lab:
                    lab.down()
            except Exception as exc:
                LOG.exception('Tear-down failed')
                report['errors'].append('tear-down: %s' % exc)
            report['steps']['down'] = round(time.monotonic() - step, 1)
    report['seconds'] = round(time.monotonic() - t0, 1)
    report['ok'] = (not report['errors'] and
                    len(report['moves']) == expected_moves(stages) and
                    all(m['ok'] for m in report['moves']) and
                    len(report['checks']) == expected_checks(stages) and
                    all(c['ok'] for c in report['checks']))
    return report


def expected_checks(stages):
    return sum({'local': 2, 'profiles': 1, 'shared': 1}[s] for s in stages)


def expected_moves(stages):
    return sum({'local': 3, 'profiles': 2, 'shared': 1}[s] for s in stages)


COLUMNS = (('move', 'move', 29), ('from', 'from', 10), ('to', 'to', 10),
           ('mode', 'mode chosen', 12), ('seconds', 'seconds', 7),
           ('downtime_s', 'downtime s', 10),
           ('records_written', 'records', 7),
           ('records_lost', 'lost', 4), ('status', 'migration', 9),
           ('result', 'result', 6))


def table(report):
    """The report as the table the gate prints."""
    lines = ['  '.join(title.ljust(width) for _k, title, width in COLUMNS)]
    for move in report['moves']:
        row = dict(move, status=move['migration']['status'],
                   result='OK' if move['ok'] else 'FAILED')
        lines.append('  '.join(
            ('-' if row.get(key) is None else str(row.get(key))).ljust(width)
            for key, _title, width in COLUMNS))
    for move in report['moves']:
        for problem in move['problems']:
            lines.append('%s: %s' % (move['move'], problem))
    for item in report.get('checks', []):
        lines.append('nova-v2v check, %s: %s, exit %s: %s' % (
            item['check'], 'OK' if item['ok'] else 'FAILED', item['exit'],
            ', '.join('%s %s' % kv for kv in item['hosts'].items())))
        for problem in item['problems']:
            lines.append('  %s' % problem)
    for error in report['errors']:
        lines.append('error: %s' % error)
    for again in report.get('repeated', ()):
        lines.append('stage %s ran once more: the server crashed (%s, '
                     'signature %s); known QEMU fault: %s'
                     % (again['stage'], again['crash'],
                        again.get('signature'), again['known_fault']))
    checks = report.get('checks', [])
    lines.append('%d of %d moves OK, %d of %d checks OK, %d records lost, '
                 '%s s in all (%s)'
                 % (sum(1 for m in report['moves'] if m['ok']),
                    len(report['moves']),
                    sum(1 for c in checks if c['ok']), len(checks),
                    sum(m['records_lost'] for m in report['moves']),
                    report['seconds'],
                    ', '.join('%s %s s' % kv
                              for kv in report['steps'].items())))
    return '\n'.join(lines)
