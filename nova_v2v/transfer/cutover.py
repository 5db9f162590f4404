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

:func:`run_source_cutover` is the source's whole sequence, the one code
path of Nova's driver and of the lab (which adds the destination's half
around it).  The destination has exported its precreated disks over NBD
(:class:`nova_v2v.transfer.nbd.ClientBoundExport`); the running guest's
disks are mirrored into them (:mod:`nova_v2v.transfer.mirror`).  At the
cutover the guest is suspended (or shut down over ACPI), the jobs are
checked to be in sync and aborted *without* pivot: the source keeps its
own disk, the destination holds a consistent copy.  With a client-bound
export (one non-persistent ``qemu-nbd`` per disk) that abort disconnects
the only client, the daemon flushes, closes its image and exits, and
the release check sees its port refuse.  The translated clone then boots
on the destination (:mod:`nova_v2v.transfer.clone`).  Until the caller's
``start_clone`` confirmed the clone (Nova's driver: until its guest
showed activity), the paused or powered-off source keeps its domain and
its disks, and every failure is rolled back to a running source guest
(:func:`rollback_source`).

The caller steers and observes the sequence through one
:class:`nova_v2v.transfer.hooks.CutoverHooks` object and sets it up with
:class:`CutoverOptions`.
"""

import dataclasses
import time
import typing as ty

import libvirt
from oslo_log import log as logging

from nova_v2v.transfer import exception
from nova_v2v.transfer import hooks as cutover_hooks
from nova_v2v.transfer import mirror
from nova_v2v.transfer import nbd

LOG = logging.getLogger(__name__)

SUSPEND = 'suspend'
ACPI = 'acpi'
CUTOVER_MODES = (SUSPEND, ACPI)
SHUTDOWN_TIMEOUT = 60
RELEASE_TIMEOUT = nbd.EXIT_TIMEOUT
PROGRESS_INTERVAL = 5
SYNC_POLL = 0.2


def ports_released(disks, probe=None):
    """A ``release_check``: every export's TCP port stops accepting.

    :param disks: :class:`nova_v2v.transfer.nbd.ExportedDisk` list (their
        ``name``, ``host`` and ``port``)
    :param probe: ``f(host, port, timeout) -> closed`` (default
        :func:`nbd.wait_closed`, which dials host:port from this process:
        the source host dialling the destination's migration address)
    """
    endpoints = [(d.name, d.host, d.port) for d in disks]

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
    :func:`nova_v2v.transfer.clone.start_clone_retrying`, while an export
    still holds an image.
    """
    return None


@dataclasses.dataclass
class CutoverOptions:
    """How one cutover runs (what :func:`run_source_cutover` is set to).

    :param mode: how the guest stops: SUSPEND (paused, the jobs ended
        without pivot) or ACPI (clean power off, suspended when it does
        not power off within ``shutdown_timeout``); a forced completion
        always suspends
    :param bandwidth: bytes per second per block copy job, 0 for no limit
    :param sync_timeout: seconds the mirror may take to converge
    :param shutdown_timeout: seconds an ACPI power off may take
    :param release_check: ``f(timeout) -> [export names still holding
        their image]``, or None when it did not probe
        (:func:`release_not_probed`); None (the default) is
        :func:`ports_released` on the cutover's disks: a non-persistent
        qemu-nbd exits once its client (the source's QEMU) is gone.  The
        lab passes a check run inside its namespaces, or an active QMP
        release
    :param release_timeout: seconds the release check may wait
    :param progress_interval: seconds between two progress reports while
        the mirror converges
    :param poll: seconds between two checks of the converging mirror
    """

    mode: str = SUSPEND
    bandwidth: int = 0
    sync_timeout: float = mirror.SYNC_TIMEOUT
    shutdown_timeout: float = SHUTDOWN_TIMEOUT
    release_check: ty.Optional[ty.Callable] = None
    release_timeout: float = RELEASE_TIMEOUT
    progress_interval: float = PROGRESS_INTERVAL
    poll: float = SYNC_POLL


def wait_inactive(dom, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not dom.isActive():
            return True
        time.sleep(mirror.POLL)
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
                time.sleep(mirror.POLL)
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


def _converge(dom, sync, stats, options, hooks):
    """Wait until every mirror is ready: progress, abort, force-complete."""
    start = time.monotonic()
    reported = None
    while True:
        if hooks.should_abort():
            raise exception.CutoverCancelled('the cutover of %s was '
                                             'cancelled by request'
                                             % dom.name())
        ready = sync.poll_ready()
        now = time.monotonic()
        if (ready or reported is None or
                now - reported >= options.progress_interval):
            hooks.progress(sync.progress())
            reported = now
        if not stats['forced'] and hooks.force_complete():
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
        if now - start > options.sync_timeout:
            raise exception.SyncFailed('disks of %s not in sync after %ss'
                                       % (dom.name(), options.sync_timeout))
        time.sleep(options.poll)


def run_source_cutover(dom, disks, clone_xml, start_clone, hooks=None,
                       options=None):
    """The source's half of a V2V cutover: sync, stop, switch.

    The one sequence both Nova's driver and the lab run.  The destination
    has exported its precreated disks over NBD already; this mirrors the
    running guest ``dom`` into them, stops it with its disks in sync, waits
    until the exports released the images, starts the translated clone and
    powers the source off.  The source keeps its definition and its disks
    (the caller's cleanup removes them); the destination's exports and
    disks are the caller's too.

    :param dom: the running source guest (a ``virDomain`` on a connection
        with a libvirt event loop)
    :param disks: :class:`nova_v2v.transfer.nbd.ExportedDisk` list, one
        per disk to move, each with the ``target`` dev of its disk in
        ``dom`` and the ``name``, ``host`` and ``port`` of its export
    :param clone_xml: the translated clone's definition
    :param start_clone: ``f(clone_xml) -> (clone, monotonic start time)``
        that defines and starts the clone on the destination and checks
        that it runs (e.g. with
        :func:`nova_v2v.transfer.clone.start_clone_retrying` and
        :func:`nova_v2v.transfer.clone.wait_for_activity`); it raises
        when the clone does not run, after removing it, or
        CloneStateUnknown when its removal could not be confirmed. Its
        return is the point of no return: the source is destroyed next
    :param hooks: :class:`nova_v2v.transfer.hooks.CutoverHooks` (default:
        the base class, which lets the cutover run to its end)
    :param options: :class:`CutoverOptions` (default: its defaults)
    :returns: stats dict (``downtime_seconds`` runs from the stop to the
        clone's start, ``release_seconds`` from the end of the stop to the
        release of every export)
    :raises: CutoverCancelled, CutoverRefused, SyncFailed, ExportError,
        CutoverFailed (CloneNotRunning), always after
        :func:`rollback_source` left the source guest running;
        CloneStateUnknown with the source left stopped
    """
    hooks = hooks if hooks is not None else cutover_hooks.CutoverHooks()
    options = options if options is not None else CutoverOptions()
    t0 = time.monotonic()
    name = dom.name()
    sync = mirror.DiskSync(dom, disks)
    check = options.release_check or ports_released(sync.disks)
    mode = options.mode
    stats = {'mode': mode, 'disks': len(sync.disks), 'forced': False}
    try:
        sync.start(options.bandwidth)
        stats['sync_seconds'] = round(
            _converge(dom, sync, stats, options, hooks), 3)
        hooks.before_cutover(sync)
        if not hooks.enter_cutover():
            raise exception.CutoverCancelled('the cutover of %s was '
                                             'cancelled by request' % name)
        if stats['forced']:
            mode = stats['mode'] = SUSPEND
        t_stop = time.monotonic()
        stats['stop'] = stop_source(dom, sync, mode,
                                    options.shutdown_timeout)
        t_stopped = time.monotonic()
        stats['stop_seconds'] = round(t_stopped - t_stop, 3)
        stats['bytes_copied'] = sync.progress()['copied']
        LOG.info('Cutover of %(dom)s: the guest is stopped (%(how)s)',
                 {'dom': name, 'how': stats['stop']})
        hooks.progress(sync.progress())
        held = check(options.release_timeout)
        stats['release_confirmed'] = None if held is None else not held
        if held:
            # Not proof of a failure: a firewall may drop the probe of a
            # closed port. The clone's start decides: QEMU's image locks
            # refuse it while an export still holds a disk, and
            # start_clone retries, then fails into the rollback.
            LOG.warning('Cutover of %(dom)s: the release of the NBD '
                        'export(s) %(held)s was not confirmed within '
                        '%(timeout)ss; starting the clone, which the image '
                        'locks guard', {'dom': name,
                                        'held': ', '.join(held),
                                        'timeout': options.release_timeout})
        t_released = time.monotonic()
        stats['release_seconds'] = round(t_released - t_stopped, 3)
        hooks.source_stopped(stats['stop'])
        hooks.before_clone()
        clone, t_started = start_clone(clone_xml)
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


def restart_source(dom):
    """Run the stopped source guest again, from its untouched disks.

    In each stop mode of :func:`stop_source`: a paused guest
    (``'suspended'``, ``'forced'``) is resumed, a powered-off one
    (``'shutdown'``) is started again from its definition; a running
    guest is left alone.  Only for a source whose clone is known not to
    run (never two copies).

    :param dom: the source guest's ``virDomain``
    :returns: the guest's state afterwards (``VIR_DOMAIN_*``), or None
        when it cannot be read
    """
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


def rollback_source(dom, sync):
    """The source's half of a rollback: jobs aborted, the guest running.

    For callers where the destination cleans up after itself (Nova: the
    destination's own rollback).  Returns the guest's state afterwards.
    """
    sync.abort()
    return restart_source(dom)
