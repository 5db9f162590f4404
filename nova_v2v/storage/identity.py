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

"""The identity of the storage behind a path (``instances_path``).

Two compute hosts that report the same identity see the same files. Network
file systems are named by their export (``nfs4:server:/export/root``), so
every client of the export reports the same identity. Local file systems are
named by the machine, the device and the mount root, so that two hosts never
share a local store by accident, while two bind mounts of the same directory
on one machine (a lab with two hosts on one kernel) do.

The parsing is pure; :func:`identity_of` reads ``/proc/self/mountinfo`` and
``/etc/machine-id``.
"""

import os

NETWORK_FS = frozenset([
    'nfs', 'nfs4', 'cifs', 'smb3', 'ceph', 'glusterfs', 'fuse.glusterfs',
    'gpfs', 'lustre', 'beegfs', 'fuse.cephfs', 'ocfs2', 'gfs2', 'virtiofs',
    'fuse.sshfs', 'quobyte', 'fuse.quobyte',
])


def _unescape(field):
    # mountinfo escapes space, tab, newline and backslash as octal.
    return (field.replace('\\040', ' ').replace('\\011', '\t')
            .replace('\\012', '\n').replace('\\134', '\\'))


def parse_mountinfo(text):
    """Yield dicts (mount_point, root, device, fstype, source)."""
    for line in text.splitlines():
        fields = line.split()
        if '-' not in fields:
            continue
        sep = fields.index('-')
        if sep < 5 or len(fields) < sep + 3:
            continue
        yield {'device': fields[2], 'root': _unescape(fields[3]),
               'mount_point': _unescape(fields[4]),
               'fstype': fields[sep + 1], 'source': _unescape(fields[sep + 2])}


def mount_of(path, mounts):
    """The mount that holds ``path`` (the last, longest match wins)."""
    path = os.path.normpath(path)
    best = None
    for mount in mounts:
        point = mount['mount_point']
        if path == point or path.startswith(point.rstrip('/') + '/'):
            if best is None or len(point) >= len(best['mount_point']):
                best = mount
    return best


def storage_identity(path, mountinfo_text, machine_id):
    """The identity string of the storage that holds ``path``."""
    mount = mount_of(path, list(parse_mountinfo(mountinfo_text)))
    if mount is None:
        return 'local:%s:unknown:%s' % (machine_id, os.path.normpath(path))
    relative = os.path.relpath(os.path.normpath(path), mount['mount_point'])
    root = os.path.normpath(os.path.join(mount['root'], relative))
    if mount['fstype'] in NETWORK_FS:
        return '%s:%s:%s' % (mount['fstype'], mount['source'], root)
    return 'local:%s:%s:%s' % (machine_id, mount['device'], root)


def identity_of(path):
    """The identity of the storage behind ``path`` on this host."""
    with open('/proc/self/mountinfo') as f:
        mountinfo = f.read()
    machine_id = ''
    for candidate in ('/etc/machine-id', '/var/lib/dbus/machine-id'):
        try:
            with open(candidate) as f:
                machine_id = f.read().strip()
            break
        except OSError:
            continue
    if not machine_id:
        machine_id = os.uname().nodename
    return storage_identity(path, mountinfo, machine_id)
