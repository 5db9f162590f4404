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

"""The lab's V2V moves: both hosts' halves in one process.

Nova runs the source's half of a cutover in its driver
(:func:`nova_v2v.transfer.cutover.run_source_cutover`) and the
destination's half in its own hooks (precreate, export, clean up). The
lab has no Nova: :func:`run_cutover` does the destination's half around
the product's very same :func:`run_source_cutover` and
:class:`nova_v2v.transfer.nbd.ClientBoundExport`, then what Nova's
cleanup does on the source; :func:`run_offline` stops the guest,
converts its disks with the product's
:func:`nova_v2v.transfer.offline.convert_disk` and boots the clone.
"""

import functools
import os
import threading
import time

import libvirt
from oslo_log import log as logging

from nova_v2v.hardware import translate
from nova_v2v.privsep import path as priv_path
from nova_v2v.storage import disks as disk_store
from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception
from nova_v2v.transfer import nbd
from nova_v2v.transfer import offline
from nova_v2v_rig.lab import qsd

LOG = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = cutover.SHUTDOWN_TIMEOUT
SYNC_TIMEOUT = cutover.SYNC_TIMEOUT
CLONE_TIMEOUT = cutover.CLONE_TIMEOUT
RELEASE_TIMEOUT = cutover.RELEASE_TIMEOUT
SUSPEND = cutover.SUSPEND
POLL = cutover.POLL


# The destination's export of the lab's run_cutover.
CLIENT_BOUND = 'client-bound'


QSD = 'qsd'


EXPORT_KINDS = (CLIENT_BOUND, QSD)


_loop_lock = threading.Lock()


_loop_thread = None


def ensure_event_loop():
    """Register libvirt's default event loop and run it in a thread.

    Must be called before the connections whose events are wanted are
    opened.  Idempotent.  Not needed inside Nova, whose libvirt driver
    runs its own loop.
    """
    global _loop_thread
    with _loop_lock:
        if _loop_thread is not None:
            return
        libvirt.virEventRegisterDefaultImpl()

        def _run():
            while True:
                libvirt.virEventRunDefaultImpl()

        _loop_thread = threading.Thread(target=_run, name='libvirt-events',
                                        daemon=True)
        _loop_thread.start()


class Disk(object):
    """One disk to move.

    :param target: the source's target dev (``sda``)
    :param path: its path on the source host
    :param dest_path: its path on the destination host (default: same)
    :param source_format, dest_format: driver types
    :param virtual_size: bytes
    """

    def __init__(self, target, path, source_format, virtual_size,
                 dest_path=None, dest_format=None):
        self.target = target
        self.path = path
        self.dest_path = dest_path or path
        self.source_format = source_format
        self.dest_format = dest_format or source_format
        self.virtual_size = int(virtual_size)

    def __repr__(self):
        return 'Disk(%s %s:%s -> %s:%s)' % (
            self.target, self.path, self.source_format, self.dest_path,
            self.dest_format)


def identity(path):
    return path


def below(root, path):
    """``path`` in a form that ``confine(root, ...)`` accepts.

    :func:`nova_v2v.storage.disks.precreate` returns paths with the root
    resolved (``realpath``); when ``root`` is reached through a symlink,
    such a path is given relative to the resolved root. The change is
    lexical: the privileged operation confines the result itself.
    """
    real = os.path.realpath(root)
    if (path.startswith(real + os.sep) and
            not path.startswith(os.path.normpath(root) + os.sep)):
        return os.path.relpath(path, real)
    return path


class DestinationDisks(object):
    """Precreated destination disks; removed again on rollback."""

    def __init__(self, disks, dest_root, local_path=None):
        self.disks = disks
        self.dest_root = dest_root
        self.local_path = local_path or identity
        self.created = []
        self.created_dirs = []

    def precreate(self):
        root = self.local_path(self.dest_root)
        for disk in self.disks:
            local = self.local_path(disk.dest_path)
            parent = os.path.dirname(local)
            if not os.path.isdir(parent):
                self.created_dirs.append(parent)
            rel = os.path.relpath(disk.dest_path, self.dest_root)
            path = disk_store.precreate(root, rel, disk.dest_format,
                                        disk.virtual_size)
            self.created.append(path)
        return list(self.created)

    def remove(self):
        """Remove what was created, confined under the destination root."""
        root = self.local_path(self.dest_root)
        for path in self.created:
            try:
                priv_path.unlink(root, below(root, path))
            except (OSError, disk_store.DiskError) as exc:
                LOG.warning('Cannot remove %(path)s: %(err)s',
                            {'path': path, 'err': exc})
        self.created = []
        for path in reversed(self.created_dirs):
            try:
                priv_path.rmdir(root, below(root, path))
            except (OSError, disk_store.DiskError):
                pass
        self.created_dirs = []


def remove_source_disks(disks, local_path=None):
    """Delete the source's disk files (after the clone runs)."""
    local_path = local_path or identity
    removed = []
    for disk in disks:
        path = local_path(disk.path)
        try:
            os.unlink(path)
            removed.append(path)
        except FileNotFoundError:
            pass
    return removed


def clone_starter(dest_conn, verify_clone=None, timeout=CLONE_TIMEOUT,
                  attempts=cutover.CLONE_START_ATTEMPTS):
    """A ``start_clone_fn`` of ``run_source_cutover`` on ``dest_conn``."""
    def start(xml):
        return cutover.start_clone_retrying(dest_conn, xml, verify_clone,
                                            timeout, attempts)
    return start


class _QMPRelease(object):
    """The release step of a :class:`qsd.NBDExport`: active, over QMP."""

    def __init__(self, export):
        self.export = export

    def __call__(self, timeout):
        if self.export.release(timeout=timeout):
            return []
        return [d.name for d in self.export.disks]


def run_cutover(dom, dest_conn, disks, hardware_changes, dest_address,
                dest_root, port=nbd.DEFAULT_PORT, run_dir='/tmp',
                run_prefix=None, dest_local_path=None,
                source_local_path=None, mode=SUSPEND,
                shutdown_timeout=SHUTDOWN_TIMEOUT, sync_timeout=SYNC_TIMEOUT,
                verify_clone=None, clone_timeout=CLONE_TIMEOUT,
                progress_cb=None, before_cutover=None, new_name=None,
                bandwidth=0, export_kind=CLIENT_BOUND, release_check=None,
                release_timeout=RELEASE_TIMEOUT, should_abort=None,
                enter_cutover=None, before_clone=None):
    """Move the running guest ``dom`` to ``dest_conn`` with a V2V cutover.

    Both hosts' halves in one process (the lab): the destination's
    (precreate, export, clean up on failure) around the product's
    ``run_source_cutover``, then what Nova's cleanup does on the source
    (undefine, delete the disks).

    :param disks: :class:`Disk` list, one per disk to move
    :param hardware_changes: the plan's HardwareChange list
    :param dest_address: the destination's migration address (the NBD
        servers bind it; the source's QEMU dials it)
    :param dest_root: the destination's instances root (as it sees it)
    :param port: the first NBD port (one per disk for a client-bound
        export)
    :param run_prefix: wrapper for the export daemons (lab: nsenter)
    :param dest_local_path, source_local_path: map a host's path to the
        path this process reaches it at (lab: ``Lab.root_path``)
    :param verify_clone: ``f(clone_dom, timeout)`` raising when the clone
        does not come up (e.g. the lab checks it writes)
    :param before_cutover: ``f(sync, export)`` called once the disks are
        in sync (fault injection, extra checks)
    :param should_abort, enter_cutover, before_clone: as for
        ``run_source_cutover``
    :param export_kind: CLIENT_BOUND (one non-persistent qemu-nbd per
        disk, what Nova runs) or QSD (a qemu-storage-daemon released over
        QMP)
    :param release_check: CLIENT_BOUND: ``f(export) -> release_check`` for
        ``run_source_cutover`` (default: wait for every qemu-nbd
        process to exit)
    :returns: stats dict
    :raises: CutoverCancelled / CutoverRefused / CutoverFailed /
        SyncFailed / ExportError, always after a rollback that left the
        source guest running and the destination clean
    """
    if export_kind not in EXPORT_KINDS:
        raise ValueError('export_kind must be one of %s' % (EXPORT_KINDS,))
    t0 = time.monotonic()
    name = dom.name()
    if dom.isPersistent():
        src_xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    else:
        src_xml = dom.XMLDesc(0)
    clone_xml = translate.translate_domain_xml(
        src_xml, hardware_changes, new_name=new_name,
        disk_paths={d.target: d.dest_path for d in disks},
        disk_formats={d.target: d.dest_format for d in disks})
    dest = DestinationDisks(disks, dest_root, dest_local_path)
    local = dest.local_path
    tag = 'v2v-%s' % dom.UUIDString()[:8]
    exported = [nbd.ExportedDisk(local(d.dest_path), d.dest_format,
                                 '%s-%s' % (tag, d.target)) for d in disks]
    if export_kind == QSD:
        export = qsd.NBDExport(exported, dest_address, port=port,
                               run_dir=run_dir, run_prefix=run_prefix,
                               tag=tag)
        release = _QMPRelease(export)
    else:
        export = nbd.ClientBoundExport(
            exported, dest_address,
            ports=[port + i for i in range(len(exported))],
            run_dir=run_dir, run_prefix=run_prefix, tag=tag)
        release = (release_check(export) if release_check else
                   export.wait_exited)
    hook = (functools.partial(_call_with_export, before_cutover, export)
            if before_cutover is not None else None)
    try:
        t_precreate = time.monotonic()
        dest.precreate()
        precreate_seconds = round(time.monotonic() - t_precreate, 3)
        export.start()
        stats = cutover.run_source_cutover(
            dom, [(d.target,) + export.nbd_source(e)
                  for d, e in zip(disks, export.disks)],
            clone_xml, clone_starter(dest_conn, verify_clone,
                                     clone_timeout),
            mode=mode, release_check=release, release_timeout=release_timeout,
            bandwidth=bandwidth, sync_timeout=sync_timeout,
            shutdown_timeout=shutdown_timeout, on_progress=progress_cb,
            before_cutover=hook, should_abort=should_abort,
            enter_cutover=enter_cutover, before_clone=before_clone,
            poll=POLL)
    except Exception as exc:
        LOG.error('V2V cutover of %(dom)s failed, cleaning the destination '
                  'up: %(err)s', {'dom': name, 'err': exc})
        _clean_destination(export, dest)
        if isinstance(exc, exception.TransferError):
            raise
        raise exception.CutoverFailed('V2V cutover of %s failed: %s'
                                      % (name, exc)) from exc
    # What Nova's cleanup does on the source once the clone runs.
    if export_kind == CLIENT_BOUND:
        export.stop()
    try:
        dom.undefine()
    except libvirt.libvirtError as exc:
        LOG.warning('Undefine of the source %(dom)s: %(err)s',
                    {'dom': name, 'err': exc})
    stats['export'] = export_kind
    stats['precreate_seconds'] = precreate_seconds
    stats['source_removed'] = remove_source_disks(disks, source_local_path)
    stats['total_seconds'] = round(time.monotonic() - t0, 3)
    LOG.info('V2V cutover of %(dom)s done: %(stats)s',
             {'dom': name, 'stats': stats})
    return stats


def _call_with_export(before_cutover, export, sync):
    before_cutover(sync, export)


def _clean_destination(export, dest):
    """The destination's rollback: no export left, no disk created."""
    try:
        if isinstance(export, qsd.NBDExport):
            export.release(hard=True)
        else:
            export.stop()
    except exception.TransferError as exc:
        LOG.error('Rollback could not stop the export: %(err)s',
                  {'err': exc})
    dest.remove()


def shutdown(dom, timeout=SHUTDOWN_TIMEOUT):
    """ACPI shutdown, destroy after timeout; returns 'shutdown'/'forced'."""
    if not dom.isActive():
        return 'already-off'
    try:
        dom.shutdown()
    except libvirt.libvirtError as exc:
        LOG.warning('ACPI shutdown of %(dom)s: %(err)s',
                    {'dom': dom.name(), 'err': exc})
    if cutover.wait_inactive(dom, timeout):
        return 'shutdown'
    LOG.warning('%(dom)s did not power off within %(t)ss; destroying it',
                {'dom': dom.name(), 't': timeout})
    if dom.isActive():
        dom.destroy()
    return 'forced'


def run_offline(dom, dest_conn, disks, hardware_changes, dest_root,
                dest_local_path=None, source_local_path=None,
                shutdown_timeout=SHUTDOWN_TIMEOUT, verify_clone=None,
                clone_timeout=CLONE_TIMEOUT, new_name=None,
                copy=offline.convert_disk):
    """Move guest ``dom`` to ``dest_conn`` while it is stopped.

    Parameters as :func:`run_cutover`; ``copy``
    is ``f(source path, source format, dest path, dest format)``.
    :returns: stats dict
    :raises: OfflineMigrationFailed after a rollback that restarted the
        source guest
    """
    t0 = time.monotonic()
    name = dom.name()
    was_active = dom.isActive()
    src_xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    clone_xml = translate.translate_domain_xml(
        src_xml, hardware_changes, new_name=new_name,
        disk_paths={d.target: d.dest_path for d in disks},
        disk_formats={d.target: d.dest_format for d in disks})
    dest_local = dest_local_path or identity
    src_local = source_local_path or identity
    dest = DestinationDisks(disks, dest_root, dest_local)
    stats = {'mode': 'offline', 'disks': len(disks)}
    try:
        t_stop = time.monotonic()
        stats['stop'] = shutdown(dom, shutdown_timeout)
        stats['stop_seconds'] = round(time.monotonic() - t_stop, 3)
        t_copy = time.monotonic()
        copied = 0
        for disk in disks:
            target = dest_local(disk.dest_path)
            if not os.path.isdir(os.path.dirname(target)):
                dest.created_dirs.append(os.path.dirname(target))
                # Made by the privileged daemon, confined under the
                # destination root (copy's own makedirs finds it).
                priv_path.makedirs(dest_local(dest_root),
                                   os.path.dirname(target))
            dest.created.append(target)
            copy(src_local(disk.path), disk.source_format, target,
                 disk.dest_format)
            copied += os.path.getsize(src_local(disk.path))
        stats['bytes_copied'] = copied
        stats['copy_seconds'] = round(time.monotonic() - t_copy, 3)
        clone, t_started = cutover.start_clone(
            dest_conn, clone_xml, verify_clone, clone_timeout)
        stats['downtime_seconds'] = round(t_started - t_stop, 3)
    except Exception as exc:
        LOG.error('Offline migration of %(dom)s failed, rolling back: '
                  '%(err)s', {'dom': name, 'err': exc})
        dest.remove()
        if was_active and not dom.isActive():
            try:
                dom.create()
            except libvirt.libvirtError as exc2:
                LOG.error('Rollback could not start %(dom)s: %(err)s',
                          {'dom': name, 'err': exc2})
        raise exception.OfflineMigrationFailed(
            'offline migration of %s failed: %s' % (name, exc))
    try:
        dom.undefine()
    except libvirt.libvirtError as exc:
        LOG.warning('Undefine of the source %(dom)s: %(err)s',
                    {'dom': name, 'err': exc})
    stats['source_removed'] = remove_source_disks(disks, source_local_path)
    stats['total_seconds'] = round(time.monotonic() - t0, 3)
    stats['clone'] = clone.name()
    return stats
