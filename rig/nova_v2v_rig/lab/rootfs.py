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

"""A Debian root filesystem that runs one lab host's libvirt and QEMU.

A lab host runs the machine's own ``libvirtd`` and QEMU, unless it is
given a Debian release (``nova-v2v-lab up --host-release b=trixie``): its
``libvirtd`` then runs chrooted in a root filesystem of that release
(:mod:`nova_v2v_rig.lab.hosts`), with that release's QEMU, firmware and
libvirt. This module builds such a root with ``mmdebstrap`` from Debian's
archive (the mirror the machine's apt uses) and keeps it under the lab's
state dir: built once, reused while its release and package list are the
same, built again (into a new directory, then renamed) when they change.

Debian 12 (bookworm) ships libvirt 9.0 and QEMU 7.2, Debian 13 (trixie)
libvirt 11.3 and QEMU 10.0: on either machine, the other release's root
makes a lab of two hypervisor versions. Both run the monolithic
``libvirtd`` (trixie ships no modular daemons either).
"""

import json
import os
import re
import shutil
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# The releases a lab host may run, and the versions they ship.
RELEASES = {
    'bookworm': {'debian': '12', 'libvirt': '9.0', 'qemu': '7.2'},
    'trixie': {'debian': '13', 'libvirt': '11.3', 'qemu': '10.0'},
}
# What a lab host runs (hosts.HOST_PROGRAMS' daemon side): libvirtd and
# its QEMU driver, QEMU and its tools, the firmware of the translated
# shapes (OVMF), the emulated TPM.
PACKAGES = ('libvirt-daemon', 'libvirt-daemon-driver-qemu',
            'libvirt-clients', 'qemu-system-x86', 'qemu-utils', 'ovmf',
            'swtpm', 'swtpm-tools')
# Directories the chroot needs for what hosts binds into it.
MOUNT_POINTS = ('proc', 'sys', 'dev', 'run', 'etc/libvirt',
                'var/lib/libvirt', 'var/log/libvirt', 'var/cache/libvirt',
                'run/openvswitch')
STAMP = '.nova-v2v-root.json'
DEFAULT_MIRROR = 'http://deb.debian.org/debian'
_URIS = re.compile(r'^URIs:\s*(\S+)', re.MULTILINE)
_DEB_LINE = re.compile(r'^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+', re.MULTILINE)


class RootError(Exception):
    """A release root could not be built or used."""


def roots_dir(state_dir):
    """Where a lab keeps its release roots (across ``down`` and ``up``)."""
    return os.path.join(state_dir, 'roots')


def root_path(state_dir, release):
    """The root filesystem of ``release`` for the lab at ``state_dir``."""
    return os.path.join(roots_dir(state_dir), release)


def wanted(release, mirror):
    """The stamp a root of ``release`` built from ``mirror`` carries."""
    return {'release': release, 'packages': list(PACKAGES),
            'mirror': mirror}


def machine_mirror(sources_dir='/etc/apt'):
    """The Debian archive the machine's apt uses (for ``mmdebstrap``).

    The first ``URIs:`` of a deb822 ``.sources`` file or the first ``deb``
    line of a ``.list`` file whose path ends in ``/debian``; else
    :data:`DEFAULT_MIRROR`.
    """
    files = []
    for sub in ('sources.list.d', ''):
        folder = os.path.join(sources_dir, sub)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith(('.sources', '.list')):
                files.append(os.path.join(folder, name))
    for path in files:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        pattern = _URIS if path.endswith('.sources') else _DEB_LINE
        for uri in pattern.findall(text):
            if uri.rstrip('/').endswith('/debian'):
                return uri.rstrip('/')
    return DEFAULT_MIRROR


def mounts_under(path, mountinfo='/proc/self/mountinfo'):
    """The mount points at or below ``path`` (a killed build's leftovers)."""
    path = os.path.abspath(path)
    found = []
    with open(mountinfo) as f:
        for line in f:
            point = line.split()[4].replace('\\040', ' ')
            if point == path or point.startswith(path + os.sep):
                found.append(point)
    return found


def remove(path):
    """Remove a root (or a build of one) that nothing is mounted in.

    ``mmdebstrap --mode=root`` mounts the machine's ``/dev``, ``/proc`` and
    ``/sys`` inside the root while it builds; a build killed then leaves
    them: a recursive removal would go through them, so it is refused,
    and it never leaves the root's own filesystem.

    :raises: :class:`RootError` when something is mounted in it
    """
    if not os.path.lexists(path):
        return
    left = mounts_under(path)
    if left:
        raise RootError('%s has mounts in it (%s): unmount them first'
                        % (path, ', '.join(left)))
    processutils.execute('rm', '-rf', '--one-file-system', '--', path)


def read_stamp(root):
    """The stamp of a built root, or None."""
    try:
        with open(os.path.join(root, STAMP)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _du_bytes(path):
    out, _err = processutils.execute('du', '-sxb', path)
    return int(out.split()[0])


def versions(root):
    """``{'libvirt': ..., 'qemu': ...}`` of the packages in ``root``."""
    found = {}
    for key, package in (('libvirt', 'libvirt-daemon'),
                         ('qemu', 'qemu-system-x86')):
        out, _err = processutils.execute(
            'dpkg-query', '--admindir', os.path.join(root, 'var/lib/dpkg'),
            '-W', '-f', '${Version}', package)
        found[key] = out.strip()
    return found


def ensure(state_dir, release, mirror=None):
    """The root of ``release`` under ``state_dir``, built if needed.

    :param mirror: the Debian archive to build from (default: the
        machine's, :func:`machine_mirror`)
    :returns: ``(path, stamp)``; the stamp holds the release, packages,
        mirror, versions, size and build time
    :raises: :class:`RootError` for an unknown release or a failed build
    """
    if release not in RELEASES:
        raise RootError('unknown release %r: the lab knows %s'
                        % (release, ', '.join(sorted(RELEASES))))
    mirror = mirror or machine_mirror()
    path = root_path(state_dir, release)
    stamp = read_stamp(path)
    want = wanted(release, mirror)
    if stamp and all(stamp.get(k) == v for k, v in want.items()):
        LOG.info('Root of %(r)s at %(p)s (built %(when)s, %(size)d MB)',
                 {'r': release, 'p': path, 'when': stamp.get('built'),
                  'size': stamp.get('bytes', 0) // 1000000})
        return path, stamp
    if shutil.which('mmdebstrap') is None:
        raise RootError('building a %s root needs mmdebstrap (Debian '
                        'package mmdebstrap, bindep.txt profile "test")'
                        % release)
    os.makedirs(roots_dir(state_dir), exist_ok=True)
    work = path + '.new'
    remove(work)
    start = time.monotonic()
    LOG.info('Building the %(r)s root at %(p)s from %(m)s',
             {'r': release, 'p': path, 'm': mirror})
    try:
        processutils.execute(
            'mmdebstrap', '--quiet', '--variant=minbase', '--mode=root',
            '--components=main', '--include=' + ','.join(PACKAGES),
            # No documentation, no apt lists: a smaller root.
            '--dpkgopt=path-exclude=/usr/share/doc/*',
            '--dpkgopt=path-exclude=/usr/share/man/*',
            '--dpkgopt=path-exclude=/usr/share/locale/*',
            '--customize-hook=rm -rf "$1"/var/lib/apt/lists/*',
            release, work, mirror)
        for sub in MOUNT_POINTS:
            os.makedirs(os.path.join(work, sub), exist_ok=True)
        hosts_file = os.path.join(work, 'etc', 'hosts')
        if not os.path.exists(hosts_file):
            open(hosts_file, 'w').close()
    except (processutils.ProcessExecutionError, OSError) as exc:
        try:
            remove(work)
        except (RootError, processutils.ProcessExecutionError) as left:
            LOG.error('Could not remove the failed build: %s', left)
        raise RootError('building the %s root failed: %s' % (
            release, getattr(exc, 'stderr', None) or exc))
    stamp = dict(want, seconds=round(time.monotonic() - start, 1),
                 built=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                 versions=versions(work), bytes=_du_bytes(work))
    with open(os.path.join(work, STAMP), 'w') as f:
        json.dump(stamp, f, indent=2, sort_keys=True)
    old = path + '.old'
    remove(old)
    if os.path.exists(path):
        os.rename(path, old)
    os.rename(work, path)
    remove(old)
    LOG.info('Built the %(r)s root in %(s).1f s: %(size)d MB, libvirt '
             '%(lv)s, QEMU %(qv)s',
             {'r': release, 's': stamp['seconds'],
              'size': stamp['bytes'] // 1000000,
              'lv': stamp['versions']['libvirt'],
              'qv': stamp['versions']['qemu']})
    return path, stamp


def enter(root, binds, files, read_only=()):
    """Make ``root`` this process's root, as a lab host's daemon sees it.

    Runs in the host's private mount namespace (nova_v2v_rig.lab.hosts'
    inner process), after the host's own bind mounts: the root made a
    mount point of its own (libvirt disables mount propagation out of
    it), the kernel's file systems, a fresh ``/run``, every ``(source,
    path)`` of ``binds`` (directories) and of ``files`` at the same path
    inside the root, and of ``read_only`` (directories) read-only, then
    ``chroot``.
    """
    def inside(path):
        return os.path.join(root, path.lstrip('/'))

    processutils.execute('mount', '--bind', root, root)
    processutils.execute('mount', '-t', 'proc', 'proc', inside('/proc'))
    processutils.execute('mount', '--rbind', '/sys', inside('/sys'))
    processutils.execute('mount', '--rbind', '/dev', inside('/dev'))
    processutils.execute('mount', '-t', 'tmpfs', 'tmpfs', inside('/run'))
    for src, dst in binds:
        os.makedirs(inside(dst), exist_ok=True)
        processutils.execute('mount', '--bind', src, inside(dst))
    for src, dst in files:
        if not os.path.exists(inside(dst)):
            os.makedirs(os.path.dirname(inside(dst)), exist_ok=True)
            open(inside(dst), 'w').close()
        processutils.execute('mount', '--bind', src, inside(dst))
    for src, dst in read_only:
        os.makedirs(inside(dst), exist_ok=True)
        processutils.execute('mount', '--bind', src, inside(dst))
        processutils.execute('mount', '-o', 'remount,bind,ro', inside(dst))
    os.chroot(root)
    os.chdir('/')
