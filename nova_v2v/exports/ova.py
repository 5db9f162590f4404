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

"""OVA archives: an OVF descriptor, its manifest and disks in a tar.

:func:`read` reads the archive's member list and, in memory, its
descriptor and manifest (the descriptor's digest checked); the disks are
not read then. :func:`extract` writes the disks where the export says,
checking each against its manifest digest as it streams.

The archive is read with :mod:`tarfile`, hardened: an uncompressed POSIX
tar only (a gzip, bzip2 or xz compressed OVA is refused: decompress it
first, so that no decompression runs unbounded and every disk has an
offset in the file), at most :data:`nova_v2v.exports.base.MAX_MEMBERS`
members, regular files only (no link, device or FIFO; directory entries
are skipped), member names plain and relative.
"""

import hashlib
import os
import posixpath
import stat
import tarfile

from oslo_log import log as logging

from nova_v2v.exports import base
from nova_v2v.exports import ovf

LOG = logging.getLogger(__name__)

CHUNK = 1024 * 1024
BLOCK = 512
# A pax extended header or a GNU long name or link is a few hundred bytes
# in a real OVA; Python's tarfile reads one whole, before any check.
MAX_EXTENDED_HEADER = 64 * 1024
_EXTENDED = (b'x', b'g', b'L', b'K')
_MAGIC = ((b'\x1f\x8b', 'gzip'), (b'BZh', 'bzip2'),
          (b'\xfd7zXZ\x00', 'xz'), (b'\x28\xb5\x2f\xfd', 'zstd'))


def _check_name(name):
    """A member's name, plain and relative (``./`` prefix dropped).

    :raises: HostileExport
    """
    if name.startswith('./'):
        # tar -C dir -cf x.ova . names its members so.
        name = name[2:]
    if (not name or name.startswith('/') or '\\' in name or
            any(ord(c) < 32 or ord(c) == 127 for c in name)):
        raise base.HostileExport('the OVA member %r is not a plain '
                                 'relative name' % name)
    parts = name.rstrip('/').split('/')
    if any(p in ('', '.', '..') for p in parts):
        raise base.HostileExport('the OVA member %r leaves the archive or '
                                 'is not normal' % name)
    return name


def _size(field):
    """A tar header's size field: octal, or GNU's base-256."""
    if field[:1] == b'\x80':
        return int.from_bytes(field[1:], 'big')
    text = field.rstrip(b'\x00 ').strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise base.ExportError('a tar header has the size %r' % text)


def check_headers(f):
    """Walk an OVA's 512-byte headers before tarfile reads any.

    Python's tarfile reads a pax extended header or a GNU long name whole
    into memory (and older ones parse pax headers with a regular expression
    that backtracks): bound them, and the number of headers, first.

    :param f: the OVA, open in binary mode (left at its start)
    :raises: HostileExport
    """
    headers = 0
    offset = 0
    end = os.fstat(f.fileno()).st_size
    while offset + BLOCK <= end:
        f.seek(offset)
        header = f.read(BLOCK)
        if header.count(0) == BLOCK:
            break
        headers += 1
        # Each member may have an extended header and a long name too.
        if headers > 3 * base.MAX_MEMBERS:
            raise base.HostileExport('the OVA has more than %d members'
                                     % base.MAX_MEMBERS)
        size = _size(header[124:136])
        kind = header[156:157]
        if kind in _EXTENDED and size > MAX_EXTENDED_HEADER:
            raise base.HostileExport(
                'the OVA has an extended tar header of %d bytes (more than '
                '%d): refused before it is read'
                % (size, MAX_EXTENDED_HEADER))
        offset += BLOCK + (size + BLOCK - 1) // BLOCK * BLOCK
    f.seek(0)


def _open(path):
    with open(path, 'rb') as f:
        head = f.read(8)
        for magic, what in _MAGIC:
            if head.startswith(magic):
                raise base.UnsupportedExport(
                    '%s is a %s-compressed OVA: decompress it first (an OVA '
                    'is an uncompressed tar)' % (path, what))
        check_headers(f)
    try:
        return tarfile.open(path, mode='r:')
    except tarfile.TarError as exc:
        raise base.ExportError('%s is not a tar archive: %s' % (path, exc))


def _members(tar):
    """The archive's regular members, in order, checked.

    :raises: HostileExport
    """
    members = []
    names = set()
    count = 0
    while True:
        try:
            member = tar.next()
        except tarfile.TarError as exc:
            raise base.ExportError('the OVA is not a valid tar: %s' % exc)
        if member is None:
            break
        count += 1
        if count > base.MAX_MEMBERS:
            raise base.HostileExport('the OVA has more than %d members'
                                     % base.MAX_MEMBERS)
        if member.isdir() and member.name in ('.', './'):
            continue
        name = member.name = _check_name(member.name)
        if member.isdir():
            continue
        if not member.isreg() or member.issparse():
            kind = ('a link' if member.issym() or member.islnk() else
                    'a sparse file' if member.issparse() else
                    'a device or FIFO')
            raise base.HostileExport('the OVA member %s is %s: only '
                                     'regular files are read' % (name, kind))
        if name in names:
            raise base.HostileExport('the OVA has two members named %s'
                                     % name)
        names.add(name)
        members.append(member)
    return members


def member_offsets(path):
    """{member name: (offset of its data, size)} of an OVA's files.

    For a reader of disks in place (``qemu-img`` with an offset).

    :raises: ExportError, UnsupportedExport, HostileExport
    """
    with _open(path) as tar:
        return {m.name: (m.offset_data, m.size) for m in _members(tar)}


def default_work_dir(path):
    """Where an OVA's disks go by default: ``NAME.ova.d`` next to it."""
    return os.path.abspath(path) + '.d'


def read(path, work_dir=None):
    """Read an OVA's descriptor and manifest.

    :param path: the ``.ova``
    :param work_dir: where :func:`extract` puts the disks (default:
        :func:`default_work_dir`); the export's root directory
    :returns: :class:`nova_v2v.exports.base.Export` of kind ``ova``
    :raises: ExportError, UnsupportedExport, HostileExport,
        ChecksumMismatch (the descriptor does not match its manifest)
    """
    work_dir = os.path.abspath(work_dir or default_work_dir(path))
    notes = []
    with _open(path) as tar:
        members = _members(tar)
        descriptors = [m for m in members if m.name.lower().endswith('.ovf')]
        if len(descriptors) != 1:
            raise base.UnsupportedExport(
                'the OVA has %d OVF descriptors, not one'
                % len(descriptors))
        descriptor = descriptors[0]
        if members[0] is not descriptor:
            notes.append('the descriptor %s is not the OVA\'s first member, '
                         'as the OVF specification asks' % descriptor.name)
        stem = posixpath.splitext(descriptor.name)[0]
        by_name = {m.name: m for m in members}
        manifest = by_name.get(stem + '.mf')
        if stem + '.cert' in by_name:
            notes.append('the export is signed (%s.cert): its signature '
                         'and certificate are not verified' % stem)
        data = _read_member(tar, descriptor)
        manifest_data = (_read_member(tar, manifest)
                         if manifest is not None else None)
    sizes = {m.name: m.size for m in members
             if m not in (descriptor, manifest)}
    return ovf.from_descriptor(
        data, work_dir, os.path.abspath(path), kind='ova', members=sizes,
        manifest=manifest_data, descriptor_name=descriptor.name,
        notes=notes)


def _read_member(tar, member):
    if member.size > base.MAX_DESCRIPTOR_BYTES:
        raise base.HostileExport('the OVA member %s is %d bytes, more than '
                                 '%d' % (member.name, member.size,
                                         base.MAX_DESCRIPTOR_BYTES))
    f = tar.extractfile(member)
    data = f.read(base.MAX_DESCRIPTOR_BYTES + 1)
    if len(data) != member.size:
        raise base.ExportError('the OVA member %s is cut short'
                               % member.name)
    return data


def _make_dir(path):
    """Make a directory only its owner reads; True if it was made."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise base.ExportError('%s exists and is not a directory'
                                   % path)
        return False
    except FileNotFoundError:
        raise base.ExportError('%s cannot be made: its parent directory '
                               'does not exist' % path)
    os.chmod(path, 0o700)
    return True


def extract(export, work_dir=None, progress=None):
    """Write an OVA's disks where the export says, checking their digests.

    :param export: what :func:`read` returned
    :param work_dir: where to write them instead of ``export.root_dir``
    :param progress: called with ``(done bytes, total bytes)`` as the
        disks are written
    :returns: the paths written, in the export's disk order
    :raises: ExportError (a file already there, a member not as read),
        ChecksumMismatch (a disk does not match its manifest digest); on
        any error the files this call wrote are removed, and the work
        directory if it made it
    """
    if export.kind != 'ova':
        raise base.ExportError('%s is not an OVA' % export.source)
    work_dir = os.path.abspath(work_dir or export.root_dir)
    offsets = member_offsets(export.source)
    total = sum(offsets[d.member][1] for d in export.disks
                if d.member in offsets)
    made = _make_dir(work_dir)
    written = []
    try:
        _extract(export, work_dir, offsets, total, progress, written)
    except BaseException:
        for path in written:
            os.unlink(path)
        if made:
            try:
                os.rmdir(work_dir)
            except OSError:
                pass
        raise
    return written


def _extract(export, work_dir, offsets, total, progress, written):
    done = 0
    with open(export.source, 'rb') as archive:
        for disk in export.disks:
            if disk.member not in offsets:
                raise base.ExportError('the OVA has no member %s any more'
                                       % disk.member)
            offset, size = offsets[disk.member]
            if disk.size is not None and size != disk.size:
                raise base.ExportError('the OVA member %s changed since it '
                                       'was read' % disk.member)
            parts = disk.member.split('/')
            for depth in range(1, len(parts)):
                _make_dir(os.path.join(work_dir, *parts[:depth]))
            dest = os.path.join(work_dir, *parts)
            archive.seek(offset)
            done = _copy(archive, size, dest, disk, done, total, progress)
            written.append(dest)


def _copy(archive, size, dest, disk, done, total, progress):
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                     os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise base.ExportError('%s already exists: not overwritten' % dest)
    digest = hashlib.new(disk.digest[0]) if disk.digest else None
    if digest is None:
        LOG.warning('The OVA member %s has no manifest digest: written '
                    'unchecked', disk.member)
    try:
        with os.fdopen(fd, 'wb') as out:
            left = size
            while left:
                chunk = archive.read(min(CHUNK, left))
                if not chunk:
                    raise base.ExportError('the OVA member %s is cut short'
                                           % disk.member)
                out.write(chunk)
                if digest is not None:
                    digest.update(chunk)
                left -= len(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if digest is not None and digest.hexdigest() != disk.digest[1]:
            raise base.ChecksumMismatch(
                '%s does not match the manifest: its %s is %s, the '
                'manifest says %s' % (disk.member, disk.digest[0].upper(),
                                      digest.hexdigest(), disk.digest[1]))
    except BaseException:
        os.unlink(dest)
        raise
    return done
