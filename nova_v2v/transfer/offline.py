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

"""Offline (cold) V2V migration: stop, convert the disks, boot the clone.

The guest is shut down over ACPI (destroyed after a timeout), each disk
is converted with ``qemu-img convert`` into the destination's store at
the identical path (and the destination's format), the translated clone
is defined and started on the destination and checked, then the source
is removed.  Any failure before the clone is confirmed running removes
what was created on the destination and starts the source again.

The copy step is :func:`convert_disk`, a small function so that Nova can
replace it with its remote filesystem driver.
"""

import os
import time

import libvirt
from oslo_log import log as logging

from nova_v2v.hardware import translate
from nova_v2v.privsep import path as priv_path
from nova_v2v.storage import convert as disk_convert
from nova_v2v.storage import disks
from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception

LOG = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 60


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


def convert_disk(source, source_format, dest, dest_format):
    """Convert source -> dest (a new file), verified; returns its size.

    :func:`nova_v2v.storage.convert.convert`: the source's real format is
    probed first (a declared format that differs is refused), sparseness
    is kept, and the result's virtual size and content are compared with
    the source's before the clone may boot from it.
    """
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    try:
        result = disk_convert.convert(source, source_format, dest,
                                      dest_format)
    except disks.DiskError as exc:
        raise exception.OfflineMigrationFailed(
            'converting %s (%s) to %s (%s) failed: %s'
            % (source, source_format, dest, dest_format, exc))
    LOG.info('Converted %(src)s (%(sfmt)s) to %(dst)s (%(dfmt)s) in '
             '%(secs).1f s, verified',
             {'src': source, 'sfmt': source_format, 'dst': dest,
              'dfmt': dest_format, 'secs': result.seconds})
    return os.path.getsize(dest)


def run_offline(dom, dest_conn, disks, hardware_changes, dest_root,
                dest_local_path=None, source_local_path=None,
                shutdown_timeout=SHUTDOWN_TIMEOUT, verify_clone=None,
                clone_timeout=cutover.CLONE_TIMEOUT, new_name=None,
                copy=convert_disk):
    """Move guest ``dom`` to ``dest_conn`` while it is stopped.

    Parameters as :func:`nova_v2v.transfer.cutover.run_cutover`; ``copy``
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
    dest_local = dest_local_path or cutover.identity
    src_local = source_local_path or cutover.identity
    dest = cutover.DestinationDisks(disks, dest_root, dest_local)
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
    stats['source_removed'] = cutover.remove_source_disks(disks,
                                                          source_local_path)
    stats['total_seconds'] = round(time.monotonic() - t0, 3)
    stats['clone'] = clone.name()
    return stats
