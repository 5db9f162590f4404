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

"""What an earlier failed migration left on a destination host.

Nova's ``pre_live_migration`` refuses to run when the instance's directory
already exists on the destination (``DestinationDiskExists``), so one
failed block migration whose rollback did not finish blocks every retry
until an operator cleans up by hand. A directory that no guest uses is a
leftover: it is replaced. One whose files are in use is not touched.
"""

import os

from oslo_log import log as logging

from nova_v2v import paths
from nova_v2v.privsep import path as priv_path
from nova_v2v.storage import disks

LOG = logging.getLogger(__name__)


def files_in_use(directory):
    """The regular files under ``directory`` that a QEMU has open."""
    busy = []
    for dirpath, _dirnames, filenames in os.walk(directory):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            if disks.in_use(path):
                busy.append(path)
    return busy


def clear_instance_dir(root, instance_dir):
    """Remove a leftover instance directory confined under ``root``.

    :returns: True if a directory was removed, False if there was none
    :raises: disks.DiskInUse if a file in it is in use (nothing removed)
    :raises: paths.PathEscape if the directory is not under ``root``
    """
    target = paths.confine(root, instance_dir)
    if not os.path.isdir(target):
        return False
    busy = files_in_use(target)
    if busy:
        raise disks.DiskInUse('%s holds files in use: %s'
                              % (target, ', '.join(sorted(busy))))
    LOG.warning('Removing %(dir)s, left by an earlier failed migration',
                {'dir': target})
    # Confined again in the privileged daemon; nothing is followed.
    priv_path.remove_tree(root, instance_dir)
    return True
