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

"""Source side of the V2V cutover: mirror the disks, stop, switch.

The running source guest's disks are copied with libvirt block copy jobs
(``virDomainBlockCopy``) onto the destination's NBD export
(:mod:`nova_v2v.transfer.nbd`) of precreated disks, with synchronous
writes once in sync.  The source's own QEMU dials the export, so this is
peer-to-peer safe: this process only talks to the source's libvirtd.

At the cutover the guest is suspended (or shut down over ACPI), the jobs
are checked to be in sync and aborted *without* pivot: the source keeps
its own disk, the destination holds a consistent copy.  The export is
released and the translated clone boots on the destination.  Until the
clone is confirmed running, every failure is rolled back to a running
source guest.

A failed mirror is silent but for a ``VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2``
event (the guest keeps running, the job vanishes), so every job is
watched through events and re-checked right before the guest is stopped.
The connection needs a libvirt event loop: Nova's libvirt driver runs
one; other callers use :func:`ensure_event_loop` before they open it.

:func:`run_source_cutover` is the source's whole sequence, the one code
path of Nova's driver (``V2VDriverMixin._v2v_run_cutover``) and of the
lab (:func:`run_cutover`, which adds the destination's half around it).
With a client-bound export (one non-persistent ``qemu-nbd`` per disk) the
abort without pivot disconnects the only client, the daemon flushes,
closes its image and exits, and the release check sees its port refuse.
"""

import threading
import time

import libvirt
from lxml import etree
from oslo_log import log as logging

from nova_v2v.transfer import exception
from nova_v2v.transfer import nbd

LOG = logging.getLogger(__name__)

SUSPEND = 'suspend'
ACPI = 'acpi'
CUTOVER_MODES = (SUSPEND, ACPI)
COPY_FLAGS = (libvirt.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT |
              libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB |
              libvirt.VIR_DOMAIN_BLOCK_COPY_SYNCHRONOUS_WRITES)
SYNC_TIMEOUT = 3600
IN_SYNC_TIMEOUT = 60
SHUTDOWN_TIMEOUT = 60
CLONE_TIMEOUT = 120
CLONE_START_ATTEMPTS = 3
CLONE_RETRY_DELAY = 1.0
RELEASE_TIMEOUT = nbd.EXIT_TIMEOUT
PROGRESS_INTERVAL = 5
POLL = 0.05
SYNC_POLL = 0.2


class BlockJobWatcher(object):
    """Record block job and lifecycle events of one domain, in order."""

    def __init__(self, dom):
        self.dom = dom
        self.conn = dom.connect()
        self.uuid = dom.UUIDString()
        self._lock = threading.Lock()
        self._seq = 0
        self.events = []
        self._ids = []

    def start(self):
        try:
            self._ids.append(self.conn.domainEventRegisterAny(
                self.dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                self._on_block_job, None))
            self._ids.append(self.conn.domainEventRegisterAny(
                self.dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                self._on_lifecycle, None))
        except libvirt.libvirtError as exc:
            self.stop()
            raise exception.SyncFailed(
                'cannot watch block job events of %s (is a libvirt event '
                'loop running?): %s' % (self.dom.name(), exc))
        return self

    def stop(self):
        for cb_id in self._ids:
            try:
                self.conn.domainEventDeregisterAny(cb_id)
            except libvirt.libvirtError as exc:
                LOG.debug('Event deregistration: %(err)s', {'err': exc})
        self._ids = []

    def _add(self, kind, *data):
        with self._lock:
            self._seq += 1
            self.events.append((self._seq, kind) + data)

    def _on_block_job(self, _conn, dom, disk, job_type, status, _opaque):
        if dom.UUIDString() != self.uuid:
            return
        LOG.info('Block job event for %(dom)s disk %(disk)s: type '
                 '%(type)s status %(status)s',
                 {'dom': dom.name(), 'disk': disk, 'type': job_type,
                  'status': status})
        self._add('block-job', disk, status)

    def _on_lifecycle(self, _conn, dom, event, detail, _opaque):
        if dom.UUIDString() != self.uuid:
            return
        self._add('lifecycle', event, detail)

    def mark(self):
        with self._lock:
            return self._seq

    def block_events(self, status, after=0, before=None):
        with self._lock:
            return [e for e in self.events
                    if e[1] == 'block-job' and e[3] == status and
                    e[0] > after and (before is None or e[0] < before)]

    def failures(self, after=0, before=None):
        """[(seq, 'block-job', disk, status)] of FAILED events."""
        return self.block_events(libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED,
                                 after, before)

    def ready_disks(self):
        return {e[2] for e in self.block_events(
            libvirt.VIR_DOMAIN_BLOCK_JOB_READY)}

    def first_stop(self, after=0):
        """Sequence number of the first shutdown/stopped event, or None."""
        stops = (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN,
                 libvirt.VIR_DOMAIN_EVENT_STOPPED)
        with self._lock:
            for e in self.events:
                if e[0] > after and e[1] == 'lifecycle' and e[2] in stops:
                    return e[0]
        return None


def nbd_disk_xml(export_name, host, port):
    """The block copy destination: a raw NBD stream."""
    disk = etree.Element('disk', type='network', device='disk')
    etree.SubElement(disk, 'driver', name='qemu', type='raw')
    source = etree.SubElement(disk, 'source', protocol='nbd',
                              name=export_name)
    etree.SubElement(source, 'host', name=host, port=str(port))
    return etree.tostring(disk).decode('utf-8')


def _mirror_ready(dom):
    """{target dev: ready} for disks with a <mirror> in the live XML."""
    root = etree.fromstring(dom.XMLDesc(0).encode('utf-8'))
    result = {}
    for disk in root.findall('./devices/disk'):
        mirror = disk.find('./mirror')
        target = disk.find('./target')
        if mirror is not None and target is not None:
            result[target.get('dev')] = mirror.get('ready') == 'yes'
    return result


class DiskSync(object):
    """The block copy jobs of one guest onto an NBD export."""

    def __init__(self, dom, disks, watcher=None):
        """disks: [(target dev, export name, host, port)]."""
        self.dom = dom
        self.disks = list(disks)
        self.watcher = watcher or BlockJobWatcher(dom)
        self.started = []
        self.last = {}
        self.sync_seconds = None

    @property
    def targets(self):
        return [d[0] for d in self.disks]

    def start(self, bandwidth=0):
        self.watcher.start()
        for dev, name, host, port in self.disks:
            xml = nbd_disk_xml(name, host, port)
            LOG.info('Starting block copy of %(dom)s %(dev)s to '
                     'nbd://%(host)s:%(port)s/%(name)s',
                     {'dom': self.dom.name(), 'dev': dev, 'host': host,
                      'port': port, 'name': name})
            params = {}
            if bandwidth:
                params[libvirt.VIR_DOMAIN_BLOCK_COPY_BANDWIDTH] = int(
                    bandwidth)
            try:
                self.dom.blockCopy(dev, xml, params, COPY_FLAGS)
            except libvirt.libvirtError as exc:
                raise exception.SyncFailed('block copy of %s %s failed to '
                                           'start: %s' % (self.dom.name(),
                                                          dev, exc))
            self.started.append(dev)

    def job_info(self, dev):
        try:
            info = self.dom.blockJobInfo(dev, 0)
        except libvirt.libvirtError as exc:
            raise exception.SyncFailed('block job of %s %s: %s'
                                       % (self.dom.name(), dev, exc))
        if info:
            self.last[dev] = info
        return info

    def progress(self):
        copied = total = 0
        for dev in self.targets:
            info = self.last.get(dev) or {}
            copied += info.get('cur', 0)
            total += info.get('end', 0)
        return {'copied': copied, 'total': total,
                'remaining': max(total - copied, 0)}

    def check_intact(self, require_ready=True):
        """Raise SyncFailed unless every job exists (and is ready)."""
        failed = self.watcher.failures()
        if failed:
            raise exception.SyncFailed(
                'block copy of %s failed (event for %s)'
                % (self.dom.name(), ', '.join(sorted({e[2] for e in
                                                      failed}))))
        ready = _mirror_ready(self.dom) if require_ready else {}
        for dev in self.targets:
            info = self.job_info(dev)
            if not info:
                raise exception.SyncFailed('the block copy job of %s %s is '
                                           'gone' % (self.dom.name(), dev))
            if require_ready and not ready.get(dev):
                raise exception.SyncFailed('the block copy job of %s %s is '
                                           'not ready' % (self.dom.name(),
                                                          dev))

    def wait_ready(self, timeout=SYNC_TIMEOUT, progress_cb=None):
        start = time.monotonic()
        while True:
            self.check_intact(require_ready=False)
            ready_events = self.watcher.ready_disks()
            xml_ready = _mirror_ready(self.dom)
            done = all(
                (dev in ready_events or xml_ready.get(dev)) and
                self.last[dev]['cur'] == self.last[dev]['end']
                for dev in self.targets)
            if progress_cb:
                progress_cb(self.progress())
            if done:
                self.sync_seconds = time.monotonic() - start
                LOG.info('Disks of %(dom)s in sync after %(sec).2f s '
                         '(%(copied)d bytes)',
                         dict(dom=self.dom.name(), sec=self.sync_seconds,
                              **self.progress()))
                return self.sync_seconds
            if time.monotonic() - start > timeout:
                raise exception.SyncFailed('disks of %s not in sync after '
                                           '%ss' % (self.dom.name(),
                                                    timeout))
            time.sleep(POLL)

    def poll_ready(self):
        """One step of :meth:`wait_ready`: True once every job is ready.

        Raises SyncFailed when a job failed or vanished.  For callers that
        run their own loop (progress, abort, force-complete).
        """
        self.check_intact(require_ready=False)
        ready_events = self.watcher.ready_disks()
        xml_ready = _mirror_ready(self.dom)
        return all(
            (dev in ready_events or xml_ready.get(dev)) and
            self.last[dev]['cur'] == self.last[dev]['end']
            for dev in self.targets)

    def wait_in_sync(self, timeout=IN_SYNC_TIMEOUT):
        """With the guest stopped: wait until cur == end for every job."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_intact(require_ready=False)
            if all(self.last[d]['cur'] == self.last[d]['end']
                   for d in self.targets):
                return
            if time.monotonic() > deadline:
                raise exception.SyncFailed('block jobs of %s not in sync '
                                           'within %ss' % (self.dom.name(),
                                                           timeout))
            time.sleep(0.01)

    def finish(self):
        """Abort every job without pivot: the source keeps its disks."""
        mark = self.watcher.mark()
        for dev in self.targets:
            try:
                self.dom.blockJobAbort(dev, 0)
            except libvirt.libvirtError as exc:
                raise exception.SyncFailed('ending the block copy of %s %s '
                                           'failed: %s' % (self.dom.name(),
                                                           dev, exc))
            self.started.remove(dev)
        failed = self.watcher.failures(after=mark)
        if failed:
            raise exception.SyncFailed('block copy of %s failed while it '
                                       'ended' % self.dom.name())

    def abort(self):
        """Best effort: cancel whatever job is still running."""
        for dev in list(self.started):
            try:
                if self.dom.isActive() and self.dom.blockJobInfo(dev, 0):
                    self.dom.blockJobAbort(dev, 0)
            except libvirt.libvirtError as exc:
                LOG.debug('Abort of block job %(dev)s: %(err)s',
                          {'dev': dev, 'err': exc})
            self.started.remove(dev)

    def close(self):
        self.watcher.stop()


def wait_inactive(dom, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not dom.isActive():
            return True
        time.sleep(POLL)
    return False


def stop_source(dom, sync, mode=SUSPEND, shutdown_timeout=SHUTDOWN_TIMEOUT):
    """Stop the source guest with its disks in sync; returns what it did.

    Returns 'suspended' (the guest is paused, the jobs ended without
    pivot), 'shutdown' (clean ACPI power off, QEMU gone with the jobs) or
    'forced' (the ACPI shutdown timed out: suspended instead).  Raises
    CutoverRefused when the mirror is not intact before the stop, and
    SyncFailed when it broke during the stop (the caller rolls back).
    """
    if mode not in CUTOVER_MODES:
        raise ValueError('cutover mode must be one of %s' % (CUTOVER_MODES,))
    try:
        sync.check_intact()
    except exception.SyncFailed as exc:
        raise exception.CutoverRefused('cutover of %s refused: %s'
                                       % (dom.name(), exc))
    if mode == ACPI:
        mark = sync.watcher.mark()
        LOG.info('Shutting %(dom)s down over ACPI', {'dom': dom.name()})
        dom.shutdown()
        if wait_inactive(dom, shutdown_timeout):
            stop_seq = sync.watcher.first_stop(after=mark)
            # Events are delivered in order: a failure that came before the
            # guest's shutdown means the copy is stale.
            deadline = time.monotonic() + 5
            while stop_seq is None and time.monotonic() < deadline:
                time.sleep(POLL)
                stop_seq = sync.watcher.first_stop(after=mark)
            if stop_seq is None:
                raise exception.SyncFailed('no shutdown event for %s'
                                           % dom.name())
            failed = sync.watcher.failures(before=stop_seq)
            if failed:
                raise exception.SyncFailed('block copy of %s failed before '
                                           'its shutdown' % dom.name())
            sync.started = []
            return 'shutdown'
        LOG.warning('%(dom)s did not power off within %(t)ss; suspending '
                    'it instead', {'dom': dom.name(), 't': shutdown_timeout})
    dom.suspend()
    sync.wait_in_sync()
    sync.finish()
    return 'forced' if mode == ACPI else 'suspended'


def _destroy(dom):
    try:
        if dom.isActive():
            dom.destroy()
    except libvirt.libvirtError as exc:
        LOG.warning('Destroy of %(dom)s: %(err)s',
                    {'dom': dom.name(), 'err': exc})


def _conn_alive(conn):
    try:
        return bool(conn.isAlive())
    except libvirt.libvirtError:
        return False


def _remove_clone(dest_conn, clone):
    """Destroy and undefine a clone; False if it may still be running."""
    try:
        if clone.isActive():
            clone.destroy()
    except libvirt.libvirtError as exc:
        if not _conn_alive(dest_conn):
            LOG.error('The clone %(name)s could not be destroyed: the '
                      'destination is unreachable (%(err)s)',
                      {'name': clone.name(), 'err': exc})
            return False
        LOG.warning('Destroy of the clone: %(err)s', {'err': exc})
    try:
        clone.undefine()
    except libvirt.libvirtError as exc:
        LOG.warning('Undefine of the clone: %(err)s', {'err': exc})
    return True


def start_clone(dest_conn, xml, verify_clone, timeout):
    if not _conn_alive(dest_conn):
        # Nothing was sent: the clone cannot run, the source may resume.
        raise exception.CloneNotRunning('the destination\'s libvirt is '
                                        'unreachable; the clone was not '
                                        'defined')
    clone = dest_conn.defineXML(xml)
    try:
        clone.create()
        started = time.monotonic()
        state = clone.state()[0]
        if state != libvirt.VIR_DOMAIN_RUNNING:
            raise exception.CloneNotRunning('the clone %s is not running '
                                            '(state %s)' % (clone.name(),
                                                            state))
        if verify_clone:
            verify_clone(clone, timeout)
        if not clone.isActive():
            raise exception.CloneNotRunning('the clone %s stopped'
                                            % clone.name())
    except Exception as exc:
        if not _remove_clone(dest_conn, clone):
            raise exception.CloneStateUnknown(
                'the clone %s failed (%s) and the destination became '
                'unreachable before its removal was confirmed'
                % (clone.name(), exc), clone=clone.name()) from exc
        raise
    return clone, started


def start_clone_retrying(dest_conn, xml, verify_clone, timeout,
                         attempts=CLONE_START_ATTEMPTS,
                         delay=CLONE_RETRY_DELAY):
    """:func:`start_clone`, again while an image lock is still held.

    The export that held the destination's images may still be closing
    them when its port or process is gone; QEMU then refuses to start
    with a lock error.  Returns (clone, monotonic start time).
    """
    for attempt in range(1, attempts + 1):
        try:
            return start_clone(dest_conn, xml, verify_clone, timeout)
        except libvirt.libvirtError as exc:
            if attempt == attempts or 'lock' not in str(exc).lower():
                raise
            LOG.info('The clone could not start yet (attempt %(n)d: '
                     '%(err)s); retrying', {'n': attempt, 'err': exc})
            time.sleep(delay)


def ports_released(endpoints, probe=None):
    """A ``release_check``: every export's TCP port stops accepting.

    :param endpoints: [(export name, host, port)]
    :param probe: ``f(host, port, timeout) -> closed`` (default
        :func:`nbd.wait_closed`, which dials host:port from this process:
        the source host dialling the destination's migration address)
    """
    def check(timeout):
        wait = probe or nbd.wait_closed
        deadline = time.monotonic() + timeout
        held = []
        for name, host, port in endpoints:
            if not wait(host, port, max(deadline - time.monotonic(), 0)):
                held.append(name)
        return held
    return check


def release_not_probed(timeout):
    """A ``release_check`` that does not probe: the image locks decide.

    Returns None (not probed): the clone's start waits, with
    :func:`start_clone_retrying`, while an export still holds an image.
    """
    return None


def _wait_ready(dom, sync, stats, sync_timeout, on_progress,
                progress_interval, should_abort, force_complete, poll):
    """Wait until every mirror is ready: progress, abort, force-complete."""
    start = time.monotonic()
    reported = None
    while True:
        if should_abort is not None and should_abort():
            raise exception.CutoverCancelled('the cutover of %s was '
                                             'cancelled by request'
                                             % dom.name())
        ready = sync.poll_ready()
        now = time.monotonic()
        if on_progress is not None and (
                ready or reported is None or
                now - reported >= progress_interval):
            on_progress(sync.progress())
            reported = now
        if (force_complete is not None and not stats['forced'] and
                force_complete()):
            # As Nova pauses a guest to force a migration to complete: the
            # mirror converges, the cutover follows at once (no clean
            # shutdown of a paused guest).
            LOG.info('Cutover of %(dom)s forced to complete: pausing the '
                     'guest', {'dom': dom.name()})
            stats['forced'] = True
            dom.suspend()
        if ready:
            sync.sync_seconds = now - start
            LOG.info('Disks of %(dom)s in sync after %(sec).2f s '
                     '(%(copied)d bytes)',
                     dict(dom=dom.name(), sec=sync.sync_seconds,
                          **sync.progress()))
            return sync.sync_seconds
        if now - start > sync_timeout:
            raise exception.SyncFailed('disks of %s not in sync after %ss'
                                       % (dom.name(), sync_timeout))
        time.sleep(poll)


def run_source_cutover(dom, disks, clone_xml, start_clone_fn, mode=SUSPEND,
                       release_check=None, release_timeout=RELEASE_TIMEOUT,
                       bandwidth=0, sync_timeout=SYNC_TIMEOUT,
                       shutdown_timeout=SHUTDOWN_TIMEOUT, on_progress=None,
                       progress_interval=PROGRESS_INTERVAL,
                       should_abort=None, force_complete=None,
                       enter_cutover=None, before_cutover=None,
                       before_clone=None, poll=SYNC_POLL):
    """The source's half of a V2V cutover: sync, stop, switch.

    The one sequence both Nova's driver and the lab run.  The destination
    has exported its precreated disks over NBD already; this mirrors the
    running guest ``dom`` into them, stops it with its disks in sync, waits
    until the exports released the images, starts the translated clone and
    powers the source off.  The source keeps its definition and its disks
    (the caller's cleanup removes them); the destination's exports and
    disks are the caller's too.

    :param disks: [(target dev, export name, host, port)] of the exports
    :param clone_xml: the translated clone's definition
    :param start_clone_fn: ``f(clone_xml) -> (clone, monotonic start
        time)``, e.g. :func:`clone_starter` (it defines and starts the
        clone on the destination and checks that it runs)
    :param mode: SUSPEND or ACPI (force-complete switches to SUSPEND)
    :param release_check: ``f(timeout) -> [export names still holding
        their image]``, or None when it did not probe
        (:func:`release_not_probed`); default :func:`ports_released` on
        ``disks``: a non-persistent qemu-nbd exits once its client (the
        source's QEMU) is gone.  The lab passes a check run inside its
        namespaces, or an active QMP release
    :param on_progress: ``f(sync.progress())`` at most every
        ``progress_interval`` seconds while syncing, and once stopped
    :param should_abort: ``f() -> bool``, polled until the cutover starts
    :param force_complete: ``f() -> bool``, polled while syncing: True
        pauses the guest so that the mirror converges
    :param enter_cutover: ``f() -> bool`` called once, right before the
        guest is stopped; False cancels (an abort won the race)
    :param before_cutover: ``f(sync)`` once in sync (fault injection)
    :param before_clone: ``f()`` once the source is stopped and the
        exports released, right before the clone starts (fault injection)
    :returns: stats dict (``downtime_seconds`` runs from the stop to the
        clone's start, ``release_seconds`` from the end of the stop to the
        release of every export)
    :raises: CutoverCancelled, CutoverRefused, SyncFailed, ExportError,
        CutoverFailed (CloneNotRunning), always after
        :func:`rollback_source` left the source guest running
    """
    t0 = time.monotonic()
    name = dom.name()
    sync = DiskSync(dom, disks)
    check = release_check or ports_released(
        [(export, host, port) for _dev, export, host, port in sync.disks])
    stats = {'mode': mode, 'disks': len(sync.disks), 'forced': False}
    try:
        sync.start(bandwidth)
        stats['sync_seconds'] = round(_wait_ready(
            dom, sync, stats, sync_timeout, on_progress, progress_interval,
            should_abort, force_complete, poll), 3)
        if before_cutover is not None:
            before_cutover(sync)
        if enter_cutover is not None and not enter_cutover():
            raise exception.CutoverCancelled('the cutover of %s was '
                                             'cancelled by request' % name)
        if stats['forced']:
            mode = stats['mode'] = SUSPEND
        t_stop = time.monotonic()
        stats['stop'] = stop_source(dom, sync, mode, shutdown_timeout)
        t_stopped = time.monotonic()
        stats['stop_seconds'] = round(t_stopped - t_stop, 3)
        stats['bytes_copied'] = sync.progress()['copied']
        LOG.info('Cutover of %(dom)s: the guest is stopped (%(how)s)',
                 {'dom': name, 'how': stats['stop']})
        if on_progress is not None:
            on_progress(sync.progress())
        held = check(release_timeout)
        stats['release_confirmed'] = None if held is None else not held
        if held:
            # Not proof of a failure: a firewall may drop the probe of a
            # closed port. The clone's start decides: QEMU's image locks
            # refuse it while an export still holds a disk, and
            # start_clone_fn retries, then fails into the rollback.
            LOG.warning('Cutover of %(dom)s: the release of the NBD '
                        'export(s) %(held)s was not confirmed within '
                        '%(timeout)ss; starting the clone, which the image '
                        'locks guard', {'dom': name,
                                        'held': ', '.join(held),
                                        'timeout': release_timeout})
        t_released = time.monotonic()
        stats['release_seconds'] = round(t_released - t_stopped, 3)
        if before_clone is not None:
            before_clone()
        clone, t_started = start_clone_fn(clone_xml)
        stats['clone_start_seconds'] = round(t_started - t_released, 3)
        stats['downtime_seconds'] = round(t_started - t_stop, 3)
        stats['clone'] = clone.name()
    except exception.CloneStateUnknown as exc:
        # The clone may run on the destination: starting the source again
        # could run two copies of the guest on two disks. The jobs go, the
        # source stays stopped for the operator (or Nova) to decide.
        LOG.critical('Cutover of %(dom)s: %(err)s; the source is left '
                     'stopped', {'dom': name, 'err': exc})
        sync.abort()
        raise
    except Exception as exc:
        LOG.error('Cutover of %(dom)s failed, rolling the source back: '
                  '%(err)s', {'dom': name, 'err': exc})
        try:
            rollback_source(dom, sync)
        except Exception:
            LOG.exception('The rollback of the source %(dom)s failed',
                          {'dom': name})
        if isinstance(exc, exception.TransferError):
            raise
        raise exception.CutoverFailed('cutover of %s failed: %s'
                                      % (name, exc)) from exc
    finally:
        sync.close()
    # The clone runs: the source guest is history.
    _destroy(dom)
    stats['total_seconds'] = round(time.monotonic() - t0, 3)
    LOG.info('Cutover of %(dom)s done: %(stats)s',
             {'dom': name, 'stats': stats})
    return stats


def rollback_source(dom, sync):
    """The source's half of a rollback: jobs aborted, the guest running.

    For callers where the destination cleans up after itself (Nova: the
    destination's own rollback).  Returns the guest's state afterwards.
    """
    sync.abort()
    try:
        state = dom.state()[0] if dom.isActive() else None
        if state == libvirt.VIR_DOMAIN_PAUSED:
            dom.resume()
        elif state is None:
            dom.create()
    except libvirt.libvirtError as exc:
        LOG.error('Rollback could not restart %(dom)s: %(err)s',
                  {'dom': dom.name(), 'err': exc})
    try:
        return dom.state()[0]
    except libvirt.libvirtError:
        return None
