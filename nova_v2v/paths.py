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

"""Confinement of a path under a root directory (the instances path).

Pure: ``os.path`` only. The storage code (:mod:`nova_v2v.storage`) checks
every path it is given with :func:`confine` before it acts, and the
privileged entrypoints (:mod:`nova_v2v.privsep.path`) check it again in
the daemon: both import it from here, below both of them.

:class:`PathEscape` is a :class:`DiskError`, the base of the storage's
errors, so that a caller that handles a failed disk operation handles an
escaping path too, wherever it was refused (in this process or in the
privileged daemon, which raises it again in the caller by its name).
"""

import os


class DiskError(Exception):
    """Base class of disk preparation errors."""


class PathEscape(DiskError):
    """The path resolves outside the instances root."""


def confine(root, path):
    """Resolve path under root; raise PathEscape for any escape.

    ``path`` may be absolute (it must then start with ``root``) or relative
    to root.  ``..`` components and symlinks that leave root are refused.

    :param root: the directory the path must stay under (never returned)
    :param path: an absolute path below ``root`` or one relative to it
    :returns: the resolved, absolute path
    :raises: PathEscape for ``root`` itself, a ``..`` component, a path
        that resolves outside ``root``, or a final symlink
    """
    real_root = os.path.realpath(root)
    if os.path.isabs(path):
        norm = os.path.normpath(path)
        if norm != path.rstrip(os.sep) or not (
                norm + os.sep).startswith(os.path.normpath(root) + os.sep):
            raise PathEscape('%s is not below %s' % (path, root))
        rel = os.path.relpath(norm, os.path.normpath(root))
    else:
        rel = path
    if any(part == '..' for part in rel.split(os.sep)):
        raise PathEscape('%s contains ".."' % path)
    candidate = os.path.join(real_root, rel)
    resolved = os.path.realpath(candidate)
    if resolved == real_root or not resolved.startswith(real_root + os.sep):
        raise PathEscape('%s resolves to %s, outside %s'
                         % (path, resolved, real_root))
    if os.path.islink(candidate):
        raise PathEscape('%s is a symlink' % candidate)
    return resolved
