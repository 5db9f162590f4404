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

A disk to move is the planner's own
:class:`nova_v2v.planning.planner.DiskPlan` (with its ``virtual_size``):
as in Nova, each disk is created at the same path on the destination
(``dest_local_path`` and ``source_local_path`` map a host's path to the
one this process reaches it at).  A cutover is steered by the product's
:class:`nova_v2v.transfer.hooks.CutoverHooks`, through :class:`LabHooks`
which adds what only the lab's fault injection needs.
"""

import dataclasses
import os
import threading
import time

import libvirt
from oslo_log import log as logging

from nova_v2v.hardware import translate
from nova_v2v.privsep import path as priv_path
from nova_v2v.storage import disks as disk_store
from nova_v2v.transfer import clone
from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception
from nova_v2v.transfer import hooks as cutover_hooks
from nova_v2v.transfer import mirror
from nova_v2v.transfer import nbd
from nova_v2v.transfer import offline
from nova_v2v_rig.lab import qsd

LOG = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = cutover.SHUTDOWN_TIMEOUT
CLONE_TIMEOUT = clone.CLONE_TIMEOUT
POLL = mirror.POLL


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
    """Precreated destination disks; removed again on rollback.

    :param disks: :class:`nova_v2v.planning.planner.DiskPlan` list, each
        with its ``virtual_size``
    :param dest_root: the destination's instances root (as it sees it)
    :param local_path: maps a destination path to this process's
    """

    def __init__(self, disks, dest_root, local_path=None):
        self.disks = disks
        self.dest_root = dest_root
        self.local_path = local_path or identity
        self.created = []
        self.created_dirs = []

    def precreate(self):
        root = self.local_path(self.dest_root)
        for disk in self.disks:
            local = self.local_path(disk.path)
            parent = os.path.dirname(local)
            if not os.path.isdir(parent):
                self.created_dirs.append(parent)
            rel = os.path.relpath(disk.path, self.dest_root)
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
                  attempts=clone.CLONE_START_ATTEMPTS):
    """A ``start_clone`` of ``run_source_cutover`` on ``dest_conn``."""
    def start(xml):
        return clone.start_clone_retrying(dest_conn, xml, verify_clone,
                                          timeout, attempts)
    return start


class LabHooks(cutover_hooks.CutoverHooks):
    """The hooks of a lab cutover (:func:`run_cutover`).

    The product's :class:`~nova_v2v.transfer.hooks.CutoverHooks`, passed
    on to ``run_source_cutover`` as they are, and two of the lab's own,
    for fault injection: the destination's export (what a fault kills)
    and the check that the clone came up (what a fault wraps).
    """

    def __init__(self):
        self.export = None

    def exported(self, export):
        """The destination's export runs; the mirror starts next.

        :param export: the :class:`nova_v2v.transfer.nbd.ClientBoundExport`
            or :class:`nova_v2v_rig.lab.qsd.NBDExport` (kept as
            ``self.export``)
        """
        self.export = export

    def wrap_verify(self, verify):
        """The clone's check for this cutover: ``verify`` or a wrapper.

        Called once, before the cutover starts.

        :param verify: ``f(clone, timeout)`` that raises when the clone
            does not come up, or None
        :returns: the check the clone's start runs
        """
        return verify


def disk_targets(xml, disks):
    """{path: target dev in ``xml``} of ``disks``.

    :raises: CutoverFailed when the guest has no disk at a path
    """
    targets = {path: dev for dev, _bus, path, _fmt in
               translate.disk_targets(xml)}
    missing = [d.path for d in disks if d.path not in targets]
    if missing:
        raise exception.CutoverFailed('the guest has no disk %s'
                                      % ', '.join(missing))
    return targets


def clone_xml(src_xml, disks, hardware_changes, new_name=None):
    """The clone's definition: its disks at the same paths, converted."""
    return translate.translate_domain_xml(
        src_xml, hardware_changes, new_name=new_name,
        disk_paths={d.path: d.path for d in disks},
        disk_formats={d.path: d.dest_format for d in disks})


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
                source_local_path=None, options=None, hooks=None,
                verify_clone=None, clone_timeout=CLONE_TIMEOUT,
                new_name=None, export_kind=CLIENT_BOUND, release_check=None,
                access=None):
    """Move the running guest ``dom`` to ``dest_conn`` with a V2V cutover.

    Both hosts' halves in one process (the lab): the destination's
    (precreate, export, clean up on failure) around the product's
    ``run_source_cutover``, then what Nova's cleanup does on the source
    (undefine, delete the disks).

    :param disks: :class:`nova_v2v.planning.planner.DiskPlan` list, one
        per disk to move, each with its ``virtual_size``
    :param hardware_changes: the plan's HardwareChange list
    :param dest_address: the destination's migration address (the NBD
        servers bind it; the source's QEMU dials it)
    :param dest_root: the destination's instances root (as it sees it)
    :param port: the first NBD port (one per disk for a client-bound
        export)
    :param run_prefix: wrapper for the export daemons (lab: nsenter)
    :param dest_local_path, source_local_path: map a host's path to the
        path this process reaches it at (lab: ``Lab.root_path``)
    :param options: :class:`nova_v2v.transfer.cutover.CutoverOptions` of
        ``run_source_cutover``; its ``release_check`` and ``poll`` are the
        lab's (see ``release_check``)
    :param hooks: :class:`LabHooks` (default: the base class)
    :param verify_clone: ``f(clone_dom, timeout)`` raising when the clone
        does not come up (e.g. the lab checks it writes)
    :param export_kind: CLIENT_BOUND (one non-persistent qemu-nbd per
        disk, what Nova runs) or QSD (a qemu-storage-daemon released over
        QMP)
    :param release_check: CLIENT_BOUND: ``f(export) -> release_check`` for
        ``run_source_cutover`` (default: wait for every qemu-nbd
        process to exit)
    :param access: CLIENT_BOUND: the exports'
        :class:`nova_v2v.transfer.nbd.ExportAccess` (TLS, admitted
        addresses), as Nova's destination builds it (default: open)
    :returns: stats dict
    :raises: CutoverCancelled / CutoverRefused / CutoverFailed /
        SyncFailed / ExportError, always after a rollback that left the
        source guest running and the destination clean
    """
    if export_kind not in EXPORT_KINDS:
        raise ValueError('export_kind must be one of %s' % (EXPORT_KINDS,))
    hooks = hooks if hooks is not None else LabHooks()
    t0 = time.monotonic()
    name = dom.name()
    if dom.isPersistent():
        src_xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    else:
        src_xml = dom.XMLDesc(0)
    targets = disk_targets(dom.XMLDesc(0), disks)
    clone_def = clone_xml(src_xml, disks, hardware_changes, new_name)
    dest = DestinationDisks(disks, dest_root, dest_local_path)
    local = dest.local_path
    tag = 'v2v-%s' % dom.UUIDString()[:8]
    exported = [nbd.ExportedDisk(local(d.path), d.dest_format,
                                 '%s-%s' % (tag, targets[d.path]),
                                 source_path=d.path) for d in disks]
    if export_kind == QSD:
        export = qsd.NBDExport(exported, dest_address, port=port,
                               run_dir=run_dir, run_prefix=run_prefix,
                               tag=tag)
        release = _QMPRelease(export)
    else:
        export = nbd.ClientBoundExport(
            exported, dest_address,
            ports=[port + i for i in range(len(exported))],
            run_dir=run_dir, run_prefix=run_prefix, tag=tag, access=access)
        release = (release_check(export) if release_check else
                   export.wait_exited)
    options = dataclasses.replace(options or cutover.CutoverOptions(),
                                  release_check=release, poll=POLL)
    start_clone = clone_starter(dest_conn, hooks.wrap_verify(verify_clone),
                                clone_timeout)
    try:
        t_precreate = time.monotonic()
        dest.precreate()
        precreate_seconds = round(time.monotonic() - t_precreate, 3)
        export.start()
        hooks.exported(export)
        stats = cutover.run_source_cutover(
            dom, [dataclasses.replace(e, target=targets[e.source_path])
                  for e in export.exports()],
            clone_def, start_clone, hooks, options)
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
    clone_def = clone_xml(src_xml, disks, hardware_changes, new_name)
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
            target = dest_local(disk.path)
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
        the_clone, t_started = clone.start_clone(
            dest_conn, clone_def, verify_clone, clone_timeout)
        stats['downtime_seconds'] = round(t_started - t_stop, 3)
    except exception.CloneStateUnknown as exc:
        # The clone may run on the copied disks: neither removed nor the
        # source started again (never two copies).
        LOG.error('Offline migration of %(dom)s: the clone\'s state is '
                  'unknown; both hosts left as they are: %(err)s',
                  {'dom': name, 'err': exc})
        raise
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
    stats['clone'] = the_clone.name()
    return stats
