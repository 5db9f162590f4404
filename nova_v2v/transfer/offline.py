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

"""Offline (cold) V2V migration: the disk conversion of a stopped guest.

Nova's cold migration stops the guest and copies its disks; the
destination's driver converts each one the plan changes with
:func:`convert_disk` (``qemu-img convert``, verified) before Nova boots
the guest from them.
"""

import os

from oslo_log import log as logging

from nova_v2v.storage import convert as disk_convert
from nova_v2v.storage import disks
from nova_v2v.transfer import exception

LOG = logging.getLogger(__name__)


def convert_disk(source, source_format, dest, dest_format,
                 backing_dir=None):
    """Convert source -> dest (a new file), verified; returns its size.

    :func:`nova_v2v.storage.convert.convert`: the source's real format is
    probed first (a declared format that differs is refused), sparseness
    is kept, and the result's virtual size and content are compared with
    the source's before the clone may boot from it.

    :param backing_dir: where a backing file of ``source`` may be (Nova's
        image cache); the result is a whole image without one
    """
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    try:
        result = disk_convert.convert(source, source_format, dest,
                                      dest_format, backing_dir=backing_dir)
    except disks.DiskError as exc:
        raise exception.OfflineMigrationFailed(
            'converting %s (%s) to %s (%s) failed: %s'
            % (source, source_format, dest, dest_format, exc))
    LOG.info('Converted %(src)s (%(sfmt)s) to %(dst)s (%(dfmt)s) in '
             '%(secs).1f s, verified',
             {'src': source, 'sfmt': source_format, 'dst': dest,
              'dfmt': dest_format, 'secs': result.seconds})
    return os.path.getsize(dest)
