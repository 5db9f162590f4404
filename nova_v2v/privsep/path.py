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

"""Root file operations on instance storage, confined under a root.

Each entrypoint takes ``(root, path)`` and runs
:func:`nova_v2v.paths.confine` in the privileged daemon before it
acts, so that a caller cannot make it act outside ``root`` with ``..``, an
absolute path elsewhere or a symlink. The checked path is then walked from
``root`` one directory at a time with ``O_NOFOLLOW``, and the operation
runs relative to the parent directory's descriptor: a symlink swapped in
after the check is refused (``PathEscape``), never followed, and the final
component is never followed either.

``root`` itself is never acted on, and ``/`` is refused as a root.
"""

import contextlib
import errno
import os
import shutil
import stat
import sys

from nova_v2v import paths
from nova_v2v import privsep

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _confined_parts(root, path):
    """(real root, [components of the confined path below it])."""
    real_root = os.path.realpath(root)
    if real_root == os.sep:
        raise paths.PathEscape('/ cannot be a confinement root (%s)' % root)
    target = paths.confine(root, path)
    return real_root, os.path.relpath(target, real_root).split(os.sep)


def _open_dir(name, dir_fd):
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        # O_NOFOLLOW | O_DIRECTORY on a symlink: ELOOP or ENOTDIR.
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            _refuse_symlink(name, dir_fd)
        raise


@contextlib.contextmanager
def _parent_fd(real_root, parts):
    """A descriptor of the directory holding ``parts[-1]``."""
    fd = os.open(real_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            child = _open_dir(part, fd)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _refuse_symlink(name, dir_fd):
    st = os.lstat(name, dir_fd=dir_fd)
    if stat.S_ISLNK(st.st_mode):
        raise paths.PathEscape('%s is a symlink' % name)
    return st


@privsep.sys_admin_pctxt.entrypoint
def unlink(root, path):
    """Remove the file ``path`` (not a directory), confined under root."""
    real_root, parts = _confined_parts(root, path)
    with _parent_fd(real_root, parts) as fd:
        os.unlink(parts[-1], dir_fd=fd)


@privsep.sys_admin_pctxt.entrypoint
def rmdir(root, path):
    """Remove the empty directory ``path``, confined under root."""
    real_root, parts = _confined_parts(root, path)
    with _parent_fd(real_root, parts) as fd:
        _refuse_symlink(parts[-1], fd)
        os.rmdir(parts[-1], dir_fd=fd)


@privsep.sys_admin_pctxt.entrypoint
def remove_tree(root, path):
    """Remove the directory tree ``path``, confined under root.

    Nothing below it is followed: ``shutil.rmtree`` walks by descriptor
    and unlinks symlinks without following them.
    """
    real_root, parts = _confined_parts(root, path)
    with _parent_fd(real_root, parts) as fd:
        st = _refuse_symlink(parts[-1], fd)
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(
                errno.ENOTDIR), os.path.join(real_root, *parts))
        if sys.version_info >= (3, 11):
            shutil.rmtree(parts[-1], dir_fd=fd)
        else:
            # Python 3.10: no dir_fd; rmtree still refuses a symlinked
            # top directory and walks the tree by descriptor.
            shutil.rmtree(os.path.join(real_root, *parts))


@privsep.sys_admin_pctxt.entrypoint
def makedirs(root, path):
    """``os.makedirs(path, exist_ok=True)`` confined under root.

    A directory it creates gets the owner and group of its parent, so a
    directory made by the daemon belongs to whoever owns the instances
    root (nova-compute's user) as when nova-compute makes it.
    """
    real_root, parts = _confined_parts(root, path)
    fd = os.open(real_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            try:
                child = _open_dir(part, fd)
            except FileNotFoundError:
                try:
                    os.mkdir(part, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
                else:
                    owner = os.fstat(fd)
                    made = os.lstat(part, dir_fd=fd)
                    if (made.st_uid, made.st_gid) != (owner.st_uid,
                                                      owner.st_gid):
                        os.chown(part, owner.st_uid, owner.st_gid,
                                 dir_fd=fd, follow_symlinks=False)
                child = _open_dir(part, fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)
