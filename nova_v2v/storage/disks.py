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

"""Create destination disks at the same path as on the source.

Used before a block live migration (``VIR_MIGRATE_NON_SHARED_DISK``):
libvirt needs a disk at the identical path on the destination, with the
same format and virtual size.  Paths are confined under an instances
root; a leftover of an earlier failed attempt is replaced when no process
holds it open, and refused with ``DiskInUse`` when one does.
"""

import json
import os

from oslo_concurrency import processutils
from oslo_log import log as logging

# nova_v2v.privsep.path imports this module too (for confine); each
# uses the other only at call time.
from nova_v2v import paths
from nova_v2v.privsep import path as priv_path

LOG = logging.getLogger(__name__)

SUPPORTED_FORMATS = ('qcow2', 'raw', 'vmdk')


# The base of the storage's errors and the confinement error are defined
# with the confinement, which the privileged daemon imports too.
DiskError = paths.DiskError
PathEscape = paths.PathEscape


class DiskInUse(DiskError):
    """An existing file at the target path is open by a running QEMU."""


class UnsupportedFormat(DiskError):
    pass


class DiskInfo(object):
    def __init__(self, path, fmt, virtual_size, actual_size=None,
                 backing_file=None):
        self.path = path
        self.format = fmt
        self.virtual_size = int(virtual_size)
        self.actual_size = actual_size
        self.backing_file = backing_file

    def __repr__(self):
        return 'DiskInfo(%s, %s, %d)' % (self.path, self.format,
                                         self.virtual_size)


def describe(path, force_share=True):
    """qemu-img info for path (readable while a VM has it open)."""
    args = ['qemu-img', 'info', '--output=json']
    if force_share:
        args.append('-U')
    out, _err = processutils.execute(*(args + [path]))
    info = json.loads(out)
    return DiskInfo(path, info['format'], info['virtual-size'],
                    info.get('actual-size'), info.get('backing-filename'))


def in_use(path):
    """True when another process holds QEMU's image lock on path.

    Opening read-write as raw takes the file-level locks that every QEMU
    user of the file takes, whatever the image format; ``qemu-img info``
    alone misses a raw image in use.
    """
    try:
        processutils.execute('qemu-io', '-f', 'raw', '-c', 'quit', path)
    except processutils.ProcessExecutionError as exc:
        if 'lock' in (exc.stderr or '').lower():
            return True
        LOG.debug('qemu-io %(path)s failed: %(err)s',
                  {'path': path, 'err': exc.stderr})
    return False


def precreate(root, path, fmt, virtual_size):
    """Create an empty sparse disk at path (confined under root).

    Returns the resolved path.  Any existing file is replaced when it is
    not in use; DiskInUse otherwise.
    """
    if fmt not in SUPPORTED_FORMATS:
        raise UnsupportedFormat('format %r is not one of %s'
                                % (fmt, SUPPORTED_FORMATS))
    target = paths.confine(root, path)
    if os.path.lexists(target):
        if os.path.isdir(target):
            raise DiskError('%s is a directory' % target)
        if in_use(target):
            raise DiskInUse('%s exists and is in use' % target)
        LOG.info('Replacing leftover disk %(path)s', {'path': target})
        priv_path.unlink(root, path)
    if os.path.dirname(target) != os.path.realpath(root):
        priv_path.makedirs(root, os.path.dirname(path))
    processutils.execute('qemu-img', 'create', '-q', '-f', fmt, target,
                         str(int(virtual_size)))
    return target


def precreate_like(root, path, source):
    """Precreate path with the format and virtual size of a DiskInfo."""
    return precreate(root, path, source.format, source.virtual_size)
