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

"""One gate guest and its moves: the checks every move of the gate makes.

A :class:`Guest` is a server of the all-in-one whose lab workload writes
records to its disk and acknowledges each on the serial console;
:func:`run_move` moves it with the ``openstack`` client and checks the
result (its host, the migration record, the planner's mode, the events,
nothing left on the source, every acknowledged record on the destination's
disk, the network); :func:`run_check` runs ``nova-v2v check`` against what
the move will show. The gate's stages (:mod:`nova_v2v_rig.aio.gate`), its
import stage (:mod:`nova_v2v_rig.aio.gateimport`) and the fault matrix
(:mod:`nova_v2v_rig.aio.faultgate`) use them.
"""

import json
import mmap
import os
import tempfile
import time

import libvirt
from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v import notifications
from nova_v2v.planning import compat
from nova_v2v.planning import profile as v2v_profile
from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import gatenet
from nova_v2v_rig.aio import network
from nova_v2v_rig.aio import observe
from nova_v2v_rig.aio import paths
from nova_v2v_rig.lab import console as lab_console
from nova_v2v_rig.lab import harness as lab_harness
from nova_v2v_rig.lab import hosts as lab_hosts
from nova_v2v_rig.lab import migrate as lab_migrate
from nova_v2v_rig.lab import workload

LOG = logging.getLogger(__name__)

# Who moves the guest: nova-v2v's driver, or stock Nova's (the baseline).
NOVA_V2V = 'nova-v2v'
BASELINE = 'baseline'
HOST_A = lab_hosts.HOSTS['a']['hostname']
HOST_B = lab_hosts.HOSTS['b']['hostname']
LAB_HOST = {lab_hosts.HOSTS[h]['hostname']: h for h in lab_hosts.HOSTS}
BOOT_TIMEOUT = 120
# network_voting: whether a move's network problems fail it (and the gate).
# By default they do. Neutron's activation race (netcheck.status_stale) is
# no problem of the move's: it is named apart (``upstream_defects``) and
# counted, never voted. False (--no-network-voting) measures and reports
# them only, for a data plane that is known to be broken.
OPTIONS = {'network_voting': True}
RESUME_TIMEOUT = 120


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


def discard_reverted(tail, went, start):
    """The acks of ``tail`` without the reverted destination's.

    :param went: the console log of the host the reverted move went to
        (on its own store, the instance directory holds its own log)
    :param start: when the move began: that host's acks since are the
        ones the revert throws away with its disk
    """
    acks = [a for path in tail.paths for a in tail.acks[path]
            if not (path == went and a[1] > start)]
    return sorted(acks, key=lambda a: a[1])


def acks_text(acks):
    """The acks as the serial log lines :func:`workload.verify` reads."""
    return ''.join('W %d %.6f\n' % (n, g) for n, _t, g in acks)


# -- checks on the destination --------------------------------------------

def read_records(lab, host, disk_inside, acks):
    """:func:`workload.verify` of the guest's disk as ``host`` sees it.

    Every write acknowledged before the copy began must be in it (see
    :func:`read_disk`).
    """
    return read_disk(lab, host, disk_inside,
                     lambda disk: workload.verify(disk, [acks_text(acks)]))


def records_problems(check):
    """What :func:`read_records`' ``check`` says is wrong (a list)."""
    problems = []
    if check['records_lost']:
        problems.append('%d records lost: %s' % (check['records_lost'],
                                                 check['lost']))
    if check['records_verified'] < check['records_written']:
        problems.append('records verified up to %d of %d'
                        % (check['records_verified'],
                           check['records_written']))
    return problems


def read_disk(lab, host, disk_inside, reader):
    """``reader(disk)`` of a guest's disk as lab host ``host`` sees it.

    The disk (a qcow2 over a base image in ``_base``, or raw) is read
    inside the host's mount namespace, where its backing file's path
    resolves, with ``qemu-img convert -U`` while the guest runs.

    :param reader: called with the disk's raw bytes (an mmap, valid during
        the call); its result is returned
    """
    pid = _host_pid(lab, host)
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
                return reader(mm)
            finally:
                mm.close()
    finally:
        os.unlink(raw)


def _host_pid(lab, host):
    """The pid whose mount namespace is lab host ``host``'s."""
    state = lab.load() or {}
    pid = state.get('hosts', {}).get(host, {}).get('pid')
    if not pid:
        raise GateError('lab host %s is not running' % host)
    return pid


def disk_format(lab, host, disk_inside):
    """The format of a guest's disk file as lab host ``host`` has it.

    ``qemu-img info -U`` inside the host's mount namespace, while the
    guest runs.

    :raises: GateError when it cannot be read
    """
    try:
        out, _err = processutils.execute(
            'nsenter', '--mount=/proc/%d/ns/mnt' % _host_pid(lab, host),
            '--', 'qemu-img', 'info', '-U', '--output=json', disk_inside)
        return json.loads(out)['format']
    except (processutils.ProcessExecutionError, ValueError, KeyError) as exc:
        raise GateError('cannot read the format of %s on lab host %s: %s'
                        % (disk_inside, host, exc))


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
        self._follow(start, host)
        return info

    def adopt(self, server_id, port, since, host):
        """Follow a server another tool made as if :meth:`create` had.

        :param port: its Neutron port (``port show``'s record), or None;
            :meth:`delete` deletes it with the server
        :param since: when the server was asked for: its first record is
            acknowledged after that
        :returns: the first boot's network event
            (:func:`gatenet.wait_address`), or None without a port
        """
        self.id = server_id
        self.port = port
        return self._follow(since, host)

    def _follow(self, since, host):
        """Tail the console logs until it writes, and has an address."""
        logs = [self.lab.root_path(h, self.inside('console.log'))
                for h in sorted(lab_hosts.HOSTS)]
        self.tail = lab_harness.SerialTail(logs)
        self.tail.start()
        wait_ack(self.tail, since, BOOT_TIMEOUT, 'the boot')
        event = None
        if self.port:
            event = gatenet.wait_address(self)
            LOG.info('Server %(name)s has %(ip)s/%(prefix)s on %(nic)s '
                     '(%(driver)s)', {'name': self.name, 'ip': event.address,
                                      'prefix': event.prefix,
                                      'nic': event.interface,
                                      'driver': event.driver})
        LOG.info('Server %(name)s (%(id)s) writes its records on %(host)s',
                 {'name': self.name, 'id': self.id, 'host': host})
        return event

    def crash(self):
        """A kernel crash in the server's logs, or None.

        A :class:`nova_v2v_rig.lab.console.Crash`: its first line and the
        known QEMU fault's signature it bears, if any.
        """
        return self._first_in_logs(lab_console.crash)

    def crash_report(self):
        """The whole report of :meth:`crash`'s crash, or None."""
        return self._first_in_logs(lab_console.crash_report)

    def console_tails(self, lines=40):
        """The last ``lines`` lines of each of the server's console logs.

        For a guest that stopped writing without a crash the console
        recognises: what it said last.
        """
        return '\n'.join('%s:\n%s' % (path, '\n'.join(
            text.splitlines()[-lines:])) for path, text in self._logs()
            if text)

    def _logs(self):
        """(path, text) of each of the server's console logs, in order."""
        for path in self.tail.paths if self.tail is not None else ():
            yield path, lab_harness.read_log(path)

    def _first_in_logs(self, read):
        """``read(text)`` of the first console log it finds something in."""
        for _path, text in self._logs():
            found = read(text)
            if found:
                return found
        return None

    def delete(self):
        if self.tail is not None:
            self.tail.stop()
        if self.id:
            self.cloud('server', 'delete', '--wait', self.id, check=False)
        if self.port:
            network.delete_port(self.cloud, self.port['id'])


def live_args(guest, *extra):
    """``openstack server migrate --live-migration EXTRA --wait`` of it."""
    return ('server', 'migrate', '--live-migration') + extra + (
        '--wait', guest.id)


def run_move(layout, cloud, guest, label, args, expect_host, expect_mode,
             cold=False, settle=2.0, events=None, variant=NOVA_V2V,
             expect_format=None):
    """One move by the ``openstack`` client, then every check; a result.

    :param args: the client's arguments, or a :class:`Move` (a move that
        another tool asks for, a browser's clicks)

    A guest with a port is probed during the move and its network checked
    after it (:mod:`nova_v2v_rig.aio.gatenet`).

    :param cold: a cold move: ``'confirm'`` (or True) or ``'revert'``, the
        resize action that ends it
    :param variant: the driver that moves it (:data:`NOVA_V2V`,
        :data:`BASELINE`), as the result's ``variant``
    :param expect_format: the format its disk must have where it ends
        (the result's ``disk_format`` either way), or None: any
    """
    net = None
    if guest.port:
        net = gatenet.MoveNetwork(layout, guest.lab, guest, label).start()
    try:
        return _run_move(layout, cloud, guest, label, args, expect_host,
                         expect_mode, cold, settle, events, variant, net,
                         expect_format)
    finally:
        if net is not None:
            net.stop()


def _net_result(net, cloud, guest, source, host, instance_name, start,
                ended, left_on, expect_mode, rebooted):
    """The network fields of a move, and its network problems.

    :param rebooted: the guest booted again (a cold move, a V2V cutover):
        the probe runs on until it has taken its port's address again
    """
    if net is None:
        return gatenet.empty_fields(), []
    problems = []
    event = None
    if rebooted:
        # While the probe runs: the outage lasts until the guest answers
        # again.
        try:
            event = gatenet.wait_address(guest, net.after_record)
            time.sleep(gatenet.ANSWERS_SPAN)
        except gatenet.NetworkError as exc:
            problems.append(str(exc))
    fields = net.finish(cloud, source, host, instance_name, start, ended,
                        left_on=left_on)
    problems += fields.pop('network_problems')
    if event is not None:
        fields['guest_nic_driver'] = event.driver
        if expect_mode == 'v2v-cutover' and event.driver != 'virtio_net':
            # The clone boots with the translated NIC.
            problems.append('the clone\'s NIC driver is %s, not '
                            'virtio_net' % event.driver)
    return fields, problems


class Move(object):
    """A move asked for by something other than the ``openstack`` client.

    :param start: asks for the move; returns when the cloud took it (the
        server's status is no longer ACTIVE, or the move is refused)
    :param finish: ends a cold move waiting in VERIFY_RESIZE (its argument:
        ``'confirm'`` or ``'revert'``), or None: ``openstack server
        resize confirm|revert``
    :param command: what the result's ``command`` says
    """

    def __init__(self, start, command, finish=None):
        self.start = start
        self.command = command
        self.finish = finish


def _run_move(layout, cloud, guest, label, args, expect_host, expect_mode,
              cold, settle, events, variant, net, expect_format):
    finish = 'confirm' if cold is True else cold
    before = cloud.server(guest.id)
    source = cli.host_of(before)
    known = [r.get('Id') for r in cloud.migrations(guest.id)]
    mark = observe.LogMark(layout)
    watch = observe.MigrationWatch(cloud, guest.id, known)
    start = time.time()
    watch.start()
    problems = []
    move = args if isinstance(args, Move) else None
    try:
        if move is not None:
            move.start()
        else:
            cloud(*args)
        if cold:
            cloud.wait_status(guest.id, ('VERIFY_RESIZE',))
            if move is not None and move.finish is not None:
                move.finish(finish)
            else:
                cloud('server', 'resize', finish, guest.id)
        elif move is not None:
            # As the client's --wait: the move ends (and is watched) here.
            cloud.wait_status(guest.id, ('ACTIVE',))
    finally:
        watch.stop()
    info = cloud.wait_status(guest.id, ('ACTIVE',))
    ended = time.time()
    seconds = round(ended - start, 1)
    host = cli.host_of(info)
    try:
        resumed = wait_ack(guest.tail, time.time(), RESUME_TIMEOUT,
                           'the move ' + label)
        time.sleep(settle)
    except GateError:
        LOG.error('The server stopped writing after the move %(label)s; '
                  'its console logs end:\n%(tails)s',
                  {'label': label, 'tails': guest.console_tails()})
        raise
    finally:
        raise_if_crashed(guest, label, events, start,
                         source if variant == BASELINE and not cold
                         else None)
    record = observe.wait_migration(cloud, guest.id, known)
    acks = guest.tail.merged()
    if finish == 'revert':
        # A revert goes back to the source's disk as it was when the guest
        # stopped there: what the guest wrote on the destination meanwhile
        # is discarded by design (Nova's revert_resize).
        went = LAB_HOST.get(record.get('Dest Compute'))
        if went is None:
            problems.append('the reverted migration names no destination')
        else:
            acks = discard_reverted(
                guest.tail, guest.lab.root_path(went,
                                                guest.inside('console.log')),
                start)
    check = read_records(guest.lab, LAB_HOST.get(host, 'a'),
                         guest.inside('disk'), acks)
    fmt = disk_format(guest.lab, LAB_HOST.get(host, 'a'),
                      guest.inside('disk'))
    if expect_format and fmt != expect_format:
        problems.append('its disk is %s on %s, not %s'
                        % (fmt, host, expect_format))
    mode = observe.planned_mode(mark.text(), guest.id) or observe.NOVA_OWN
    want_status = {'confirm': 'confirmed',
                   'revert': 'reverted'}.get(finish, 'completed')
    # A reverted move leaves nothing where it went; any other nothing where
    # it came from.
    left_on = (record.get('Dest Compute') or '?') if finish == 'revert' \
        else source
    left = source_leftovers(guest.lab, left_on,
                            before.get('OS-EXT-SRV-ATTR:instance_name'),
                            guest.instance_dir(),
                            guest.shared)
    if left:
        problems.append('left on %s: %s' % (left_on, ', '.join(left)))
    net_fields, net_problems = _net_result(
        net, cloud, guest, source, host,
        before.get('OS-EXT-SRV-ATTR:instance_name'), start, ended,
        left_on, expect_mode, bool(cold) or expect_mode == 'v2v-cutover')
    if OPTIONS['network_voting']:
        problems += net_problems
    got = None
    if events is not None:
        expected = list(observe.EXPECTED_EVENTS[expect_mode])
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
    problems += records_problems(check)
    if record.get('Status') != want_status:
        problems.append('migration record %s, not %s'
                        % (record.get('Status'), want_status))
    if finish != 'revert' and (record.get('Source Compute'),
                               record.get('Dest Compute')) != (source, host):
        problems.append('migration record %s -> %s, not %s -> %s'
                        % (record.get('Source Compute'),
                           record.get('Dest Compute'), source, host))
    if finish == 'revert' and record.get('Source Compute') != source:
        problems.append('migration record from %s, not %s'
                        % (record.get('Source Compute'), source))
    if not cold and not watch.seen:
        problems.append('the migration was not listed while it ran')
    result = {
        'move': label,
        'variant': variant,
        'command': (move.command if move is not None else
                    'openstack ' + ' '.join(str(a) for a in args)),
        'server': guest.id,
        'from': source, 'to': host, 'expected_to': expect_host,
        'mode': mode, 'expected_mode': expect_mode,
        'seconds': seconds,
        'downtime_s': largest_gap(acks, start, resumed[1]),
        'disk_format': fmt,
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
    result.update(version_fields(guest.lab, source, host))
    result.update(net_fields)
    result['network_problems'] = net_problems
    result['network_ok'] = None if net is None else not net_problems
    LOG.info('%(move)s: %(ok)s %(problems)s', {
        'move': label, 'ok': 'OK' if result['ok'] else 'FAILED',
        'problems': '; '.join(problems)})
    return result


def raise_if_crashed(guest, label, events, since, stock_live_from=None):
    """Raise :class:`lab_migrate.GuestCrashed` if the server's kernel died.

    Its ``known_fault`` is the caution of the move's plan (the
    ``v2v.migration.plan`` event's ``cautions``: why the source's QEMU may
    lose guest memory writes), or None; its ``signature`` the known fault's
    signature the crash bears on the console, or None.

    :param stock_live_from: the source host of a live move by stock Nova
        (no plan, no event): the same caution, from that host's QEMU, as
        nova-v2v's planner would give (the computes run TCG guests)
    """
    crash = guest.crash()
    if not crash:
        return
    planned = (events.payload(guest.id, since, notifications.PLAN)
               if events is not None else None) or {}
    cautions = list(planned.get('cautions') or [])
    if stock_live_from and not cautions:
        caveat = compat.live_state_caveat(
            v2v_profile.TCG, qemu_version(guest.lab, stock_live_from))
        cautions += [caveat] if caveat else []
    raise lab_migrate.GuestCrashed(
        'the server crashed after the move %s: %s' % (label, crash.line),
        crash.line, '; '.join(cautions) or None, crash.signature,
        guest.crash_report())


def _versions(lab, host):
    """``(QEMU, libvirt)`` versions of a compute's lab host.

    As libvirt gives them: major * 1000000 + minor * 1000 + micro.
    """
    conn = libvirt.open(lab.local_uri(LAB_HOST[host]))
    try:
        return conn.getVersion(), conn.getLibVersion()
    finally:
        conn.close()


def qemu_version(lab, host):
    """The QEMU version of lab host ``host`` (a compute's host name)."""
    return _versions(lab, host)[0]


def version_fields(lab, source, dest):
    """The versions of a move's hypervisors, for its result.

    ``source_qemu``, ``dest_qemu``, ``source_libvirt`` and
    ``dest_libvirt``: dotted, None where a daemon could not tell.
    """
    fields = {}
    for side, host in (('source', source), ('dest', dest)):
        try:
            qemu, lib = _versions(lab, host)
        except (libvirt.libvirtError, KeyError) as exc:
            LOG.warning('Cannot read the versions of %(host)s: %(err)s',
                        {'host': host, 'err': exc})
            qemu = lib = None
        fields[side + '_qemu'] = (v2v_profile.version_to_str(qemu)
                                  if qemu is not None else None)
        fields[side + '_libvirt'] = (v2v_profile.version_to_str(lib)
                                     if lib is not None else None)
    return fields


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
