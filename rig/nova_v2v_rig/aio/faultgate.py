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

"""``gate-faults``: the fault matrix through Nova on the all-in-one.

``tox -e gate-faults`` (``nova-v2v-aio gate-faults [--json] [--keep]
[--down] [--cell N ...]``) runs the cells of
:mod:`nova_v2v_rig.aio.faults` on the gate's all-in-one: it reuses the lab
and the control plane when they are up (``gate --keep`` left them) and
brings them up otherwise. Each cell's guest has its disk on a VMware
paravirtual SCSI controller (:data:`images.PVSCSI_DISK`): a live move from
labhost-a is a V2V cutover that gives it virtio-scsi (and, labhost-b
running raw disks only, converts its disk). The computes run, for
this stage, ``[libvirt] live_migration_bandwidth`` low enough that the bulk
copy of the guest's 1 GiB disk takes seconds, a short ``[v2v]
cutover_sync_timeout`` and ``[v2v] cutover_activity_timeout``.

Each cell: a new guest on labhost-a, writing its records; ``openstack
server migrate --live-migration --block-migration --host labhost-b``; the
cell's phase awaited (the instance's ``v2v_phase`` record in the cell
database, the computes' ``V2V phase`` log lines, the clone's domain on
labhost-b); the fault injected (:mod:`nova_v2v_rig.aio.inject`) and its
effect checked; the move's end awaited; then the observations
(:func:`observe`) judged by :func:`faults.problems`, and a retry by the
``openstack`` client where the move did not complete.
"""

import re
import time

from oslo_log import log as logging

from nova_v2v.transfer import clone as clone_mod
from nova_v2v.virt.libvirt import cutover_source
from nova_v2v.virt.libvirt import record as v2v_record
from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import faults
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import images
from nova_v2v_rig.aio import inject
from nova_v2v_rig.aio import observe as gate_observe
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import stack
from nova_v2v_rig.lab import harness as lab_harness
from nova_v2v_rig.lab import link as lab_link

LOG = logging.getLogger(__name__)

HOST_A = gatemove.HOST_A
HOST_B = gatemove.HOST_B
# The bulk copy of the guest's 1 GiB disk at this rate (MiB/s) takes
# about 13 s: the syncing phase holds long enough to inject into it.
BANDWIDTH_MIB = 80
SYNC_TIMEOUT = 45
ACTIVITY_TIMEOUT = 30
_V2V = {'cutover_sync_timeout': str(SYNC_TIMEOUT)}
V2V_OPTIONS = {'a': dict(_V2V), 'b': dict(_V2V, disk_formats='raw')}
# cutover_activity_timeout goes in as a plain line: deploy.novaconf
# refuses a [v2v] option the product does not know yet, oslo.config
# ignores it.
EXTRA = (('libvirt', 'live_migration_bandwidth', str(BANDWIDTH_MIB)),
         ('v2v', 'cutover_activity_timeout', str(ACTIVITY_TIMEOUT)))
# A syncing-phase fault goes in once the copy ran for this long.
SYNC_DELAY = 2.0
PHASE_TIMEOUT = 150
SETTLE_TIMEOUT = 150
WRITE_TIMEOUT = 60
# The destination's small store (cell 14): its size, what the filler
# leaves free, the copy's pace while it fills (10 MB/s: the filled disk's
# 128 MiB take about 13 s) and the data that must remain to copy when it
# fills.
STORE_MIB = 512
STORE_SLACK = 256 * 1024
STORE_MBIT = 80
STORE_COPY_LEFT = 16 << 20
# While the small store is mounted, labhost-b's compute may report it to
# Placement (its periodic resource update, every 60 s): no DISK_GB at all
# (Nova reports none for 0 GB), and no move can be scheduled there until
# the next update after the unmount.
INVENTORY_TIMEOUT = 150
INVENTORY_POLL = 5
# README's check of a held clone: its write requests read twice this many
# seconds apart ([v2v] cutover_activity_settle's default).
CHECK_SETTLE = 10
# The slowed copy (cell 16).
SLOW_MBIT = 40
LOG_WAIT = 20
# How long the other host may take to finish Nova's clean-up after the move
# ended (an asynchronous cast).
LEFTOVER_WAIT = 30
FINAL = gate_observe.FINAL
ENDED = v2v_record.AFTER_NO_RETURN + (v2v_record.ROLLED_BACK,
                                      v2v_record.CLONE_UNKNOWN)
# The phase records at which a fault still is a fault at the cell's phase
# (the product writes each phase before it enters it).
HELD = {
    faults.SYNCING: (v2v_record.SYNCING,),
    faults.CLONE_RUNNING: (v2v_record.CUTTING_OVER,
                           v2v_record.SOURCE_STOPPED,
                           v2v_record.CLONE_STARTED,
                           v2v_record.CLONE_RUNNING),
    faults.CLONE_PROVEN: v2v_record.AFTER_NO_RETURN,
}
_ENOSPC = re.compile(r'No space left on device|ENOSPC')


class Context(object):
    """What every cell uses."""

    def __init__(self, layout, lab, cloud, ids):
        self.layout = layout
        self.lab = lab
        self.cloud = cloud
        self.ids = ids
        self.shell = None

    def client(self):
        """The run's interactive ``openstack`` client, new if it exited."""
        if self.shell is None or self.shell.proc.poll() is not None:
            self.shell = self.cloud.shell()
        return self.shell

    def close(self):
        if self.shell is not None:
            self.shell.close()


# -- the faults --------------------------------------------------------------

class Fault(object):
    """One fault of a cell: prepared, injected, released, cleaned up."""

    # The guest's image (a name of :mod:`images`): one the planner sends
    # to the V2V cutover.
    image = images.PVSCSI_DISK

    def __init__(self, ctx, item, guest):
        self.ctx = ctx
        self.item = item
        self.guest = guest
        self.name = None
        self.mark = None
        self.migration_id = None

    def prepare(self):
        pass

    def inject(self, phase):
        """Inject; a text saying what showed it took effect, or raise."""
        raise NotImplementedError()

    def tick(self, final, elapsed):
        """Called while the move ends (``final``: its record is final)."""

    def release(self):
        """Undo what must be undone before the checks and the retry."""

    def observe(self, obs, text):
        """Add to the observations; ``text``: the computes' new log."""

    def cleanup(self):
        """Before the retry and after the guest's deletion (idempotent)."""

    def _held(self, phase):
        """The phase record at the moment the fault goes in.

        Read right before the fault's action (after it, the record is the
        product's reaction to the fault).

        :raises: InjectError when the cutover had left ``phase`` already
            (the fault would come too late to be a fault at that phase)
        """
        now = inject.db_phase(self.ctx.layout, self.guest.id)
        if now not in HELD[phase]:
            raise inject.InjectError('the fault went in at phase record %s,'
                                     ' past %s' % (now, phase))
        return now

    def _wait_log(self, pattern, timeout=LOG_WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.mark.text().splitlines():
                if self.guest.id in line and re.search(pattern, line):
                    return line.split('] ')[-1][:120]
            time.sleep(0.5)
        return None


class _ByClient(Fault):
    """A command of the ``openstack`` client, sent at the phase.

    It goes through the run's interactive client (:class:`cli.Shell`),
    started and authenticated before the move: the command leaves the
    moment the phase is seen, not seconds later.
    """

    command = None
    pattern = None

    def inject(self, phase):
        sent = self.ctx.client().send('server', 'migration', *(
            self.command + (self.guest.id, self.migration_id)))
        seen = self._wait_log(self.pattern)
        refused = [line for line in self.ctx.shell.errors_since(
            sent).splitlines() if line.strip() and 'Warning' not in line]
        if refused:
            raise inject.InjectError('the API refused %s: %s'
                                     % (' '.join(self.command),
                                        self.ctx.shell.errors_since(sent)
                                        .strip()[-300:]))
        if not seen:
            raise inject.InjectError('%s was accepted but the source never '
                                     'acted on it' % ' '.join(self.command))
        return '%s accepted at %s; source: %s' % (' '.join(self.command),
                                                  phase, seen)


class Abort(_ByClient):
    command = ('abort',)
    # "Cancelling the V2V cutover", or "past the point where it can be
    # cancelled": the source received the abort.
    pattern = r'(?i)cancel'


class ForceComplete(_ByClient):
    command = ('force', 'complete')
    pattern = r'(?i)forced to complete'

    def _wait_log(self, pattern, timeout=LOG_WAIT):
        forced = re.compile(r'Cutover of %s forced to complete'
                            % re.escape(self.name))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = forced.search(self.mark.text())
            if found:
                return found.group(0)
            time.sleep(0.5)
        return None


class ForceCompleteSlow(ForceComplete):

    def prepare(self):
        lab_link.shape(self.ctx.lab, SLOW_MBIT)

    def inject(self, phase):
        rate = lab_link.shaped_rate(self.ctx.lab)
        if not rate:
            raise inject.InjectError('the link is not shaped')
        done = super().inject(phase)
        return '%s; copy over a link shaped to %d Mbit/s' % (done, SLOW_MBIT)

    def release(self):
        lab_link.shape(self.ctx.lab, None)

    cleanup = release


class ComputeKill(Fault):

    def __init__(self, ctx, item, guest, lab_host):
        super().__init__(ctx, item, guest)
        self.lab_host = lab_host

    def inject(self, phase):
        phase_then = self._held(phase)
        old = inject.kill_compute(self.ctx.layout, self.lab_host)
        computes.up(self.ctx.layout, self.ctx.lab, v2v_options=V2V_OPTIONS,
                    extra=EXTRA)
        new = inject.compute_record(self.ctx.layout, self.lab_host)['pid']
        if new == old:
            raise inject.InjectError('the compute pid did not change')
        return ('%s compute pid %d killed (phase record: %s), restarted as '
                'pid %d' % (computes.hostname(self.lab_host), old,
                            phase_then, new))


class LibvirtdKill(Fault):

    def __init__(self, ctx, item, guest, lab_host):
        super().__init__(ctx, item, guest)
        self.lab_host = lab_host

    def inject(self, phase):
        phase_then = self._held(phase)
        old = inject.kill_libvirtd(self.ctx.lab, self.lab_host)
        new = inject.restart_libvirtd(self.ctx.layout, self.ctx.lab,
                                      self.lab_host, old)
        return ('%s libvirtd pid %d killed (phase record: %s), restarted as '
                'pid %d' % (computes.hostname(self.lab_host), old,
                            phase_then, new))


class LinkDown(Fault):
    """Down until the move ends (at most ``hold`` seconds)."""

    def __init__(self, ctx, item, guest):
        super().__init__(ctx, item, guest)
        # Past the product's bounds: the wait, one more look at the
        # clone, its removal (the move ends first: the link comes up then).
        self.hold = (SYNC_TIMEOUT + 60 if item.phase == faults.SYNCING
                     else ACTIVITY_TIMEOUT + clone_mod.SAMPLE_TIMEOUT +
                     cutover_source.REMOVE_TIMEOUT + 30)
        self.down_at = None
        self.down_for = None

    def inject(self, phase):
        then = self._held(phase)
        inject.link_set(self.ctx.lab, up=False)
        self.down_at = time.monotonic()
        if not inject.link_is_down(self.ctx.lab):
            raise inject.InjectError('the link still answers')
        return ('link down (phase record: %s; labhost-a cannot ping '
                'labhost-b)' % then)

    def tick(self, final, elapsed):
        if self.down_at is not None and (
                final or time.monotonic() - self.down_at > self.hold):
            self.release()

    def release(self):
        if self.down_at is not None:
            inject.link_set(self.ctx.lab, up=True)
            self.down_for = round(time.monotonic() - self.down_at, 1)
            self.down_at = None

    def observe(self, obs, text):
        if obs.get('effect') and self.down_for is not None:
            obs['effect'] += '; up again after %s s' % self.down_for

    def cleanup(self):
        self.release()


class StoreFull(Fault):
    """The destination's store fills up while the bulk copy runs.

    The guest boots from the filled image (:data:`images.FILLED_PVSCSI_DISK`,
    128 MiB of data), its copy runs over a link shaped to
    :data:`STORE_MBIT`, and the store (a small ext4 over the destination's
    instance store) is filled once the copy has run for
    :data:`SYNC_DELAY` seconds, with tens of MiB still to copy.
    """

    image = images.FILLED_PVSCSI_DISK

    def __init__(self, ctx, item, guest):
        super().__init__(ctx, item, guest)
        self.store = inject.SmallStore(ctx.layout, ctx.lab, 'b', STORE_MIB)
        self.after_fill = None
        self.disk_gb = None

    def prepare(self):
        self.disk_gb = disk_gb(self.ctx.cloud, HOST_B)
        self.store.mount()
        lab_link.shape(self.ctx.lab, STORE_MBIT)

    def inject(self, phase):
        then = self._held(phase)
        before = inject.copy_done(self.ctx.lab, 'a', self.name)
        left = self.store.fill(leave=STORE_SLACK)
        self.after_fill = gate_observe.LogMark(self.ctx.layout)
        after = inject.copy_done(self.ctx.lab, 'a', self.name)
        if left > STORE_SLACK:
            raise inject.InjectError('the store has %d bytes free' % left)
        # The copy runs through the disk in order: short of the end of the
        # image's data, data remains to copy.
        data_end = (images.FILLED_AT_MIB + images.FILLED_MIB) << 20
        if before is None or after is None or (
                after > data_end - STORE_COPY_LEFT):
            raise inject.InjectError(
                'the copy was not running short of the disk\'s data '
                '(%d MiB) when the store filled (copied before %s, after '
                '%s)' % (data_end >> 20, before, after))
        return ('labhost-b store full during the %s (phase record: %s; '
                '%d bytes free; the copy at %.1f MiB, its data runs to '
                '%d MiB)' % (phase, then, left, after / 2.0 ** 20,
                             data_end >> 20))

    def release(self):
        self.store.free()
        lab_link.shape(self.ctx.lab, None)

    def observe(self, obs, text):
        """Took effect: the block copy failed once the store was full.

        libvirt does not pass QEMU's reason for a failed block copy on
        (its event carries no error), and ``qemu-nbd`` logs none: ENOSPC
        is named when a log has it, and otherwise the proof is the copy,
        running with data still to copy when the store filled, failing
        after that moment.
        """
        if not obs.get('effect'):
            return
        logs = [self.after_fill.text()]
        for host in ('a', 'b'):
            logs.append(lab_harness.read_log(
                self.ctx.lab.root_path(host, '/var/log/libvirt/qemu/%s.log'
                                       % self.name)) or '')
        failed = re.search(r'block copy of %s failed[^\n]*'
                           % re.escape(self.name), logs[0])
        if any(_ENOSPC.search(log) for log in logs):
            obs['effect'] += '; ENOSPC seen'
        elif failed:
            obs['effect'] += '; then: %s' % failed.group(0)[:80]
        else:
            obs['missed'] = ('the store was full but the block copy did '
                             'not fail after it')
            obs['effect'] = None

    def cleanup(self):
        self.release()
        self.store.remove()
        wait_disk_gb(self.ctx.cloud, HOST_B, self.disk_gb)


def disk_gb(cloud, host):
    """The DISK_GB total of ``host``'s resource provider in Placement.

    0 when the provider has no DISK_GB inventory: Nova's libvirt driver
    reports none for a disk of 0 GB (the small store), and Placement then
    deletes the class.
    """
    providers = cloud('resource', 'provider', 'list', '--name', host,
                      parse=True) or []
    if not providers:
        raise inject.InjectError('no resource provider named %s' % host)
    rows = cloud('resource', 'provider', 'inventory', 'list',
                 providers[0]['uuid'], parse=True) or []
    for row in rows:
        if row.get('resource_class') == 'DISK_GB':
            return int(row.get('total') or 0)
    return 0


def wait_disk_gb(cloud, host, want, timeout=INVENTORY_TIMEOUT,
                 interval=INVENTORY_POLL):
    """Wait until ``host`` reports ``want`` GB of disk to Placement again.

    The retry and the next cells need the destination's disk inventory as
    it was before the small store: its compute reports it at its next
    periodic update after the unmount.

    :param want: the total before the fault (None: nothing to wait for)
    :raises: InjectError at the deadline
    """
    if want is None:
        return
    deadline = time.monotonic() + timeout
    while True:
        got = disk_gb(cloud, host)
        if got >= want:
            return
        if time.monotonic() >= deadline:
            raise inject.InjectError(
                '%s reports %d GB of disk to Placement, not %d as before '
                'the small store, %d s after its unmount'
                % (host, got, want, timeout))
        time.sleep(interval)


class CloneSilent(Fault):

    def inject(self, phase):
        phase = self._held(phase)
        if not inject.pause(self.ctx.lab, 'b', self.name):
            raise inject.InjectError('the clone is not paused')
        return 'clone paused on labhost-b at %s' % phase

    def observe(self, obs, text):
        obs['reason_seen'] = faults.NO_ACTIVITY_REASON in text


def make_fault(ctx, item, guest):
    kinds = {
        faults.ABORT: lambda: Abort(ctx, item, guest),
        faults.FORCE_COMPLETE: lambda: ForceComplete(ctx, item, guest),
        faults.FORCE_COMPLETE_SLOW: lambda: ForceCompleteSlow(ctx, item,
                                                              guest),
        faults.SOURCE_COMPUTE: lambda: ComputeKill(ctx, item, guest, 'a'),
        faults.DEST_COMPUTE: lambda: ComputeKill(ctx, item, guest, 'b'),
        faults.SOURCE_LIBVIRTD: lambda: LibvirtdKill(ctx, item, guest, 'a'),
        faults.DEST_LIBVIRTD: lambda: LibvirtdKill(ctx, item, guest, 'b'),
        faults.LINK_DOWN: lambda: LinkDown(ctx, item, guest),
        faults.STORE_FULL: lambda: StoreFull(ctx, item, guest),
        faults.CLONE_SILENT: lambda: CloneSilent(ctx, item, guest),
    }
    return kinds[item.fault]()


# -- one cell ----------------------------------------------------------------

def _migration_final(ctx, uuid, migration_id):
    row = inject.db_migration(ctx.layout, uuid, migration_id - 1)
    return row.get('status') in FINAL


def wait_phase(ctx, fault, phase, timeout=PHASE_TIMEOUT):
    """Wait until the cutover is in ``phase``; what showed it, or None."""
    uuid = fault.guest.id
    deadline = time.monotonic() + timeout
    seen_since = None
    while time.monotonic() < deadline:
        recorded = inject.db_phase(ctx.layout, uuid)
        logged = inject.log_phases(fault.mark.text(), uuid)
        current = recorded or (logged[-1] if logged else None)
        if _migration_final(ctx, uuid, fault.migration_id):
            return None
        if phase == faults.SYNCING and current == v2v_record.SYNCING:
            seen_since = seen_since or time.monotonic()
            if time.monotonic() - seen_since >= SYNC_DELAY:
                return 'phase %s for %.1f s' % (current, SYNC_DELAY)
        elif phase == faults.CLONE_RUNNING and current not in ENDED:
            state = inject.domain_state(ctx.lab, 'b', fault.name)
            if state == inject.libvirt.VIR_DOMAIN_RUNNING:
                return 'phase %s, the clone runs on labhost-b' % current
        elif phase == faults.CLONE_PROVEN and current in (
                v2v_record.AFTER_NO_RETURN):
            return 'phase %s' % current
        time.sleep(0.1)
    return None


def wait_end(ctx, uuid, migration_id, tick=None, timeout=SETTLE_TIMEOUT):
    """Wait until the migration is final and the instance has no task."""
    start = time.monotonic()
    while True:
        final = _migration_final(ctx, uuid, migration_id)
        inst = inject.db_instance(ctx.layout, uuid)
        elapsed = time.monotonic() - start
        if tick is not None:
            tick(final, elapsed)
        if final and inst.get('task_state') is None:
            return True
        if elapsed > timeout:
            return False
        time.sleep(1)


def settle(ctx, fault):
    return wait_end(ctx, fault.guest.id, fault.migration_id, fault.tick)


def observe(ctx, fault, obs, since):
    """The state of everything after the move ended, into ``obs``.

    Nova's records are read from the cell database (the rows ``server
    show`` and ``server migration list`` show).
    """
    guest = fault.guest
    inst = inject.db_instance(ctx.layout, guest.id)
    obs['host'] = inst.get('host')
    obs['vm_state'] = inst.get('vm_state')
    obs['task_state'] = inst.get('task_state')
    obs['migration'] = inject.db_migration(
        ctx.layout, guest.id, fault.migration_id - 1).get('status')
    obs['running_on'] = inject.running_on(ctx.lab, fault.name)
    obs['writing'] = False
    if obs['running_on']:
        try:
            gatemove.wait_ack(guest.tail, since, WRITE_TIMEOUT, 'the fault')
            obs['writing'] = True
        except paths.AioError as exc:
            LOG.warning('%s', exc)
    lab_host = gatemove.LAB_HOST.get(obs['host'])
    if lab_host and obs['writing']:
        try:
            check = gatemove.read_records(ctx.lab, lab_host,
                                          guest.inside('disk'),
                                          guest.tail.merged())
            for key in ('records_lost', 'records_written',
                        'records_verified'):
                obs[key] = check[key]
        except Exception as exc:
            LOG.warning('Reading the records on %s: %s', obs['host'], exc)
    others = [h for h in sorted(gatemove.LAB_HOST) if h != obs['host']]
    # Nova's rollback casts the destination's clean-up
    # (rollback_live_migration_at_destination) before it marks the
    # migration: the other host may still be cleaning up, for a while after
    # a restart.
    deadline = time.monotonic() + LEFTOVER_WAIT
    while True:
        obs['leftovers'] = []
        for host in others:
            obs['leftovers'] += inject.leftovers(
                ctx.layout, ctx.lab, gatemove.LAB_HOST[host], fault.name,
                guest.instance_dir(), guest.id)
        if not obs['leftovers'] or time.monotonic() > deadline:
            break
        time.sleep(1)
    fault.observe(obs, fault.mark.text())


def resolve_held(ctx, fault):
    """README's resolution of a held cutover whose clone runs.

    "When a cutover's clone state is unknown", the clone runs: the source
    destroyed, Nova's record moved to the destination in the cell
    database, the migration's allocation on the source deleted, the server
    set ACTIVE and unlocked (the product locked it), the source's domain
    undefined and its directory removed.
    The guest has no port and no volume (steps 3 of the README).

    :returns: ``{'steps': [...], 'error': why it stopped, or absent}``
    """
    guest = fault.guest
    steps = []
    done = {'steps': steps}
    try:
        # README's check, the product's own rule: the clone's disks
        # written again past [v2v] cutover_activity_settle (the lab guest
        # has no agent).
        state = inject.domain_state(ctx.lab, 'b', fault.name)
        writes = inject.write_requests(ctx.lab, 'b', fault.name)
        time.sleep(CHECK_SETTLE)
        later = inject.write_requests(ctx.lab, 'b', fault.name)
        steps.append('clone on %s: state %s, %s then %s write requests %d s'
                     ' later' % (HOST_B, state, writes, later, CHECK_SETTLE))
        if not (state == inject.libvirt.VIR_DOMAIN_RUNNING and
                writes is not None and later is not None and
                later > writes):
            raise inject.InjectError('the clone does not run (state %s, '
                                     '%s then %s writes)' % (state, writes,
                                                             later))
        if not inject.destroy(ctx.lab, 'a', fault.name):
            raise inject.InjectError('no source domain on %s' % HOST_A)
        steps.append('source destroyed')
        inject.db_follow_clone(ctx.layout, guest.id, HOST_B)
        steps.append('instance record on %s' % HOST_B)
        migration = inject.db_migration_uuid(ctx.layout, fault.migration_id)
        ctx.cloud('resource', 'provider', 'allocation', 'delete', migration)
        steps.append('allocation of migration %s deleted' % migration)
        ctx.cloud('server', 'set', '--state', 'active', '--auto-approve',
                  guest.id)
        steps.append('server set active')
        if not inject.db_instance(ctx.layout, guest.id).get('locked'):
            raise inject.InjectError('the held server was not locked')
        ctx.cloud('server', 'unlock', guest.id)
        if inject.db_instance(ctx.layout, guest.id).get('locked'):
            raise inject.InjectError('the server is still locked after '
                                     '"server unlock"')
        steps.append('server unlocked')
        inject.destroy(ctx.lab, 'a', fault.name, undefine=True)
        inject.remove_instance_dir(ctx.layout, 'a', guest.instance_dir())
        steps.append('source undefined, its directory removed')
    except Exception as exc:
        LOG.exception('README\'s resolution of %s', guest.id)
        done['error'] = '%s: %s' % (type(exc).__name__, exc)
    LOG.info('Resolution of held %(id)s: %(steps)s%(err)s',
             {'id': guest.id, 'steps': '; '.join(steps),
              'err': ' (%s)' % done['error'] if 'error' in done else ''})
    return done


_AFTER_RESOLUTION = ('running_on', 'writing', 'records_lost',
                     'records_written', 'records_verified', 'leftovers')


def resolve_and_observe(ctx, fault, obs):
    """For a held outcome: README's resolution, then observe again.

    ``obs`` keeps the held state's record (the cell's outcome) and gets
    the copies, records and leftovers of the resolved server, and
    ``obs['resolved']`` (its record after the resolution).
    """
    done = resolve_held(ctx, fault)
    after = dict(obs)
    for key in _AFTER_RESOLUTION:
        after.pop(key, None)
    observe(ctx, fault, after, time.time())
    for key in _AFTER_RESOLUTION:
        obs[key] = after.get(key)
    done.update(host=after.get('host'), vm_state=after.get('vm_state'),
                task_state=after.get('task_state'))
    obs[faults.RESOLVED] = done


def _new_migration(ctx, uuid, before, sent, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = inject.db_migration(ctx.layout, uuid, before).get('id')
        if found:
            return found
        time.sleep(0.5)
    raise inject.InjectError('no migration record appeared: %s'
                             % ctx.shell.errors_since(sent).strip()[-300:])


def retry(ctx, fault, obs):
    """``ok``, ``n/a`` after a completed move, or why the retry failed.

    The same move by the ``openstack`` client, then its checks: completed
    to labhost-b by a V2V cutover, one running copy there, the guest
    writing, 0 records lost, nothing left on labhost-a.
    """
    guest = fault.guest
    if faults.outcome(obs) == faults.COMPLETED or obs.get(faults.RESOLVED):
        return faults.RETRY_NA
    if (obs.get('vm_state'), obs.get('task_state'), obs.get('host')) != (
            'active', None, HOST_A):
        return 'not possible (%s, task %s, on %s)' % (
            obs.get('vm_state'), obs.get('task_state'), obs.get('host'))
    mark = gate_observe.LogMark(ctx.layout)
    sent = ctx.client().send('server', 'migrate', '--live-migration',
                             '--block-migration', '--host', HOST_B,
                             guest.id)
    try:
        migration_id = _new_migration(ctx, guest.id, fault.migration_id,
                                      sent)
    except inject.InjectError as exc:
        return 'failed: %s' % exc
    ended = wait_end(ctx, guest.id, migration_id)
    inst = inject.db_instance(ctx.layout, guest.id)
    status = inject.db_migration(ctx.layout, guest.id,
                                 migration_id - 1).get('status')
    problems = []
    if not ended:
        problems.append('not ended in %d s' % SETTLE_TIMEOUT)
    if (status, inst.get('host'), inst.get('vm_state'),
            inst.get('task_state')) != ('completed', HOST_B, 'active', None):
        problems.append('migration %s, on %s, %s, task %s' % (
            status, inst.get('host'), inst.get('vm_state'),
            inst.get('task_state')))
    mode = gate_observe.planned_mode(mark.text(), guest.id)
    if mode != 'v2v-cutover':
        problems.append('mode %s' % mode)
    running = inject.running_on(ctx.lab, fault.name)
    if running != [HOST_B]:
        problems.append('running on %s' % (running or 'no host'))
    try:
        gatemove.wait_ack(guest.tail, time.time(), WRITE_TIMEOUT, 'the retry')
        check = gatemove.read_records(ctx.lab, 'b', guest.inside('disk'),
                                      guest.tail.merged())
        if check['records_lost']:
            problems.append('%d records lost' % check['records_lost'])
    except Exception as exc:
        problems.append('records: %s' % exc)
    left = inject.leftovers(ctx.layout, ctx.lab, 'a', fault.name,
                            guest.instance_dir(), guest.id)
    if left:
        problems.append('left on labhost-a: %s' % ', '.join(left))
    return 'failed: %s' % '; '.join(problems) if problems else \
        faults.RETRY_OK


def create_guest(ctx, guest, fault, timeout=240):
    """A new server on labhost-a, writing its records."""
    start = time.time()
    sent = ctx.client().send(
        'server', 'create', '--flavor', ctx.ids[images.FLAVOR], '--image',
        ctx.ids[fault.image], '--nic', 'none', '--availability-zone',
        'nova:%s' % HOST_A, guest.name)
    deadline = time.monotonic() + timeout
    while True:
        inst = inject.db_instance_named(ctx.layout, guest.name)
        if inst.get('vm_state') == 'active':
            break
        if inst.get('vm_state') == 'error' or time.monotonic() > deadline:
            raise inject.InjectError('server %s: %s %s' % (
                guest.name, inst.get('vm_state'),
                ctx.shell.errors_since(sent).strip()[-300:]))
        time.sleep(1)
    guest.id = inst['uuid']
    fault.name = inst['name']
    guest.tail = lab_harness.SerialTail(
        [ctx.lab.root_path(h, guest.inside('console.log'))
         for h in sorted(gatemove.LAB_HOST.values())])
    guest.tail.start()
    gatemove.wait_ack(guest.tail, start, gatemove.BOOT_TIMEOUT, 'the boot')
    LOG.info('Server %(name)s (%(id)s, %(dom)s) writes its records',
             {'name': guest.name, 'id': guest.id, 'dom': fault.name})


def remove_guest(ctx, guest, fault, timeout=120):
    """Delete the server whatever its state; scrub both hosts."""
    if guest.tail is not None:
        guest.tail.stop()
    if not guest.id:
        return
    inst = inject.db_instance(ctx.layout, guest.id)
    if not inst.get('deleted'):
        if inst.get('task_state') or inst.get('vm_state') == 'error':
            ctx.client().send('server', 'set', '--state', 'error',
                              '--auto-approve', guest.id)
        ctx.client().send('server', 'delete', guest.id)
        deadline = time.monotonic() + timeout
        while not inject.db_instance(ctx.layout, guest.id).get('deleted'):
            if time.monotonic() > deadline:
                LOG.warning('Server %s not deleted in %d s', guest.id,
                            timeout)
                break
            time.sleep(1)
    if fault.name:
        inject.scrub(ctx.layout, ctx.lab, fault.name, guest.instance_dir(),
                     guest.id, keep_host=None)


def run_cell(ctx, item):
    """One cell; its row (never raises)."""
    start = time.monotonic()
    obs = {'source': HOST_A, 'dest': HOST_B, 'effect': None}
    # No Neutron port (yet): the fault matrix's cells are about the disks.
    guest = gatemove.Guest(ctx.cloud, ctx.lab, 'faults-%02d-%d' % (
        item.number, int(time.time())), False, with_port=False)
    fault = make_fault(ctx, item, guest)
    LOG.info('Cell %(n)d: %(fault)s at %(phase)s, expected %(out)s',
             {'n': item.number, 'fault': item.fault, 'phase': item.phase,
              'out': item.outcome})
    try:
        create_guest(ctx, guest, fault)
        fault.prepare()
        before = inject.db_migration(ctx.layout, guest.id).get('id', 0)
        fault.mark = gate_observe.LogMark(ctx.layout)
        sent = ctx.client().send('server', 'migrate', '--live-migration',
                                 '--block-migration', '--host', HOST_B,
                                 guest.id)
        fault.migration_id = _new_migration(ctx, guest.id, before, sent)
        reached = wait_phase(ctx, fault, item.phase)
        if reached is None:
            obs['missed'] = 'phase %s not seen before the move ended ' \
                '(record: %s)' % (item.phase, inject.db_phase(ctx.layout,
                                                              guest.id))
        else:
            try:
                obs['effect'] = '%s; %s' % (reached, fault.inject(
                    item.phase))
            except (paths.AioError, OSError) as exc:
                obs['missed'] = str(exc)
        if not settle(ctx, fault):
            LOG.warning('Cell %d: the move did not end in %d s',
                        item.number, SETTLE_TIMEOUT)
        fault.release()
        observe(ctx, fault, obs, time.time())
        if item.outcome == faults.HELD and (
                faults.outcome(obs) == faults.HELD):
            resolve_and_observe(ctx, fault, obs)
        # The retry runs where a move runs without the fault (the small
        # store unmounted: the serial log is read from the host's own).
        fault.cleanup()
        obs['retry'] = retry(ctx, fault, obs)
    except Exception as exc:
        LOG.exception('Cell %d could not run', item.number)
        obs['error'] = '%s: %s' % (type(exc).__name__, exc)
    finally:
        for step in (fault.release, lambda: remove_guest(ctx, guest, fault),
                     fault.cleanup):
            try:
                step()
            except Exception as exc:
                LOG.exception('Cell %d clean-up', item.number)
                obs.setdefault('error', 'clean-up: %s' % exc)
    row = faults.row(item, obs, round(time.monotonic() - start, 1))
    LOG.info('Cell %(n)d: %(res)s in %(s)s s: %(outcome)s %(problems)s', {
        'n': item.number, 'res': 'OK' if row['ok'] else 'FAILED',
        's': row['seconds'], 'outcome': row['outcome'],
        'problems': '; '.join(row['problems'])})
    return row


# -- the run -----------------------------------------------------------------

def run(layout, lab, cells=faults.CELLS, keep=False, down=False,
        constraints=None):
    """Bring up (or reuse), run the cells, tear down; the report.

    :param keep: leave the lab and the all-in-one up
    :param down: tear them down even if this run did not start them (the
        last suite that shares them)
    """
    t0 = time.monotonic()
    report = {'rows': [], 'steps': {}, 'errors': []}
    started = {}
    ctx = None
    try:
        step = time.monotonic()
        stack.bring_up(layout, lab, started, constraints)
        report['steps']['all-in-one'] = round(time.monotonic() - step, 1)
        cloud = cli.OpenStack(layout)
        ids = images.ensure(cloud, lab.cache_dir)
        step = time.monotonic()
        computes.down(layout)
        computes.up(layout, lab, v2v_options=V2V_OPTIONS, extra=EXTRA)
        report['steps']['computes'] = round(time.monotonic() - step, 1)
        ctx = Context(layout, lab, cloud, ids)
        step = time.monotonic()
        for item in cells:
            report['rows'].append(run_cell(ctx, item))
        report['steps']['cells'] = round(time.monotonic() - step, 1)
    except Exception as exc:
        LOG.exception('gate-faults could not run')
        report['errors'].append(str(exc))
    finally:
        if ctx is not None:
            ctx.close()
        stack.end_suite(layout, lab, started, report, keep, down)
    report['seconds'] = round(time.monotonic() - t0, 1)
    report['ok'] = (not report['errors'] and
                    len(report['rows']) == len(cells) and
                    all(r['ok'] for r in report['rows']))
    return report


def table(report):
    return faults.table(report['rows'], report['seconds'],
                        report.get('steps'), report.get('errors', ()))
