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

"""Reading a definition to translate, and refusing a hostile one.

Pure. The definition is parsed by the hardened parser of
:mod:`nova_v2v.hardware.inspect` (no DTD, no entity, no network) within
the size and count limits of :mod:`nova_v2v.hardware.tables`, before any
table is applied; the paths it names are read here too, so that no
translated disk or NVRAM path can leave the destination's instances
directory.
"""

import ntpath
import posixpath
import re

from nova_v2v.hardware import exception
from nova_v2v.hardware import inspect
from nova_v2v.hardware import tables

POLICIES = ('refuse', 'drop')
_UNITS = {'b': 1, 'bytes': 1, 'kb': 1000, 'k': 1024, 'kib': 1024,
          'mb': 1000 ** 2, 'm': 1024 ** 2, 'mib': 1024 ** 2,
          'gb': 1000 ** 3, 'g': 1024 ** 3, 'gib': 1024 ** 3,
          'tb': 1000 ** 4, 't': 1024 ** 4, 'tib': 1024 ** 4,
          'pb': 1000 ** 5, 'p': 1024 ** 5, 'pib': 1024 ** 5,
          'eb': 1000 ** 6, 'e': 1024 ** 6, 'eib': 1024 ** 6}


def parse(xml):
    """The root of a definition to translate, within the limits.

    :param xml: the definition (str or bytes)
    :raises: HostileInput (a DTD or an entity), LimitExceeded (too many
        bytes or elements), TranslationError (not a domain definition)
    """
    data = xml.encode('utf-8') if isinstance(xml, str) else xml
    if len(data) > tables.MAX_DOCUMENT_BYTES:
        raise exception.LimitExceeded(
            'the definition is %d bytes, more than %d'
            % (len(data), tables.MAX_DOCUMENT_BYTES))
    try:
        root = inspect.domain_root(data)
    except inspect.HostileDomainXML as exc:
        raise exception.HostileInput(str(exc))
    except inspect.InvalidDomainXML as exc:
        raise exception.TranslationError(str(exc))
    count = sum(1 for _ in root.iter())
    if count > tables.MAX_ELEMENTS:
        raise exception.LimitExceeded(
            'the definition has %d elements, more than %d'
            % (count, tables.MAX_ELEMENTS))
    return root


def scaled(el, default_unit='KiB'):
    """An element's value in bytes (libvirt's scaled integers)."""
    try:
        value = int((el.text or '').strip())
    except ValueError:
        raise exception.TranslationError(
            '<%s> is not an integer: %r' % (el.tag, el.text))
    unit = (el.get('unit') or default_unit).lower()
    if unit not in _UNITS:
        raise exception.TranslationError(
            '<%s> has an unknown unit %r' % (el.tag, el.get('unit')))
    if value < 0:
        raise exception.TranslationError('<%s> is negative' % el.tag)
    return value * _UNITS[unit]


def check_limits(root, disk_sizes):
    """Refuse sizes and counts beyond what any real guest has.

    :param disk_sizes: ``{disk: virtual size}`` when known
    :raises: LimitExceeded, TranslationError (a value that is no number)
    """
    for tag in ('memory', 'currentMemory', 'maxMemory'):
        el = root.find('./%s' % tag)
        if el is not None and (scaled(el) >
                               tables.MAX_MEMORY_KIB * 1024):
            raise exception.LimitExceeded(
                '<%s> of %s %s is beyond %d GiB' % (
                    tag, el.text, el.get('unit', 'KiB'),
                    tables.MAX_MEMORY_KIB // 1024 ** 2))
    vcpu = root.find('./vcpu')
    if vcpu is not None:
        try:
            count = int((vcpu.text or '').strip())
        except ValueError:
            raise exception.TranslationError(
                '<vcpu> is not an integer: %r' % vcpu.text)
        if not 0 < count <= tables.MAX_VCPUS:
            raise exception.LimitExceeded(
                '<vcpu> %d is not within 1..%d' % (count, tables.MAX_VCPUS))
    disks = root.findall('./devices/disk')
    if len(disks) > tables.MAX_DISKS:
        raise exception.LimitExceeded(
            '%d disks, more than %d' % (len(disks), tables.MAX_DISKS))
    nics = root.findall('./devices/interface')
    if len(nics) > tables.MAX_NICS:
        raise exception.LimitExceeded(
            '%d interfaces, more than %d' % (len(nics), tables.MAX_NICS))
    for key, size in (disk_sizes or {}).items():
        if not 0 <= int(size) <= tables.MAX_DISK_BYTES:
            raise exception.LimitExceeded(
                'disk %s of %s bytes is beyond %d TiB'
                % (key, size, tables.MAX_DISK_BYTES // 1024 ** 4))


def check_target(target):
    """Refuse a :class:`~nova_v2v.hardware.translate.Target` not honoured.

    :raises: TranslationError, PathEscape (its guest directory)
    """
    if target.accelerator not in tables.TARGET_DOMAIN_TYPES:
        raise exception.TranslationError(
            'target accelerator must be one of %s, not %r'
            % (', '.join(tables.TARGET_DOMAIN_TYPES),
               target.accelerator))
    if target.disk_bus not in tables.TARGET_DISK_BUSES:
        raise exception.TranslationError(
            'target disk bus must be one of %s, not %r'
            % (', '.join(tables.TARGET_DISK_BUSES),
               target.disk_bus))
    if target.disk_format not in tables.TARGET_DISK_FORMATS:
        raise exception.TranslationError(
            'target disk format must be one of %s, not %r'
            % (', '.join(tables.TARGET_DISK_FORMATS),
               target.disk_format))
    if target.firmware not in (None, 'bios', 'uefi'):
        raise exception.TranslationError(
            'the firmware must be bios or uefi, not %r' % target.firmware)
    if target.unmappable not in POLICIES:
        raise exception.TranslationError(
            'the unmappable device policy must be one of '
            '%s, not %r' % (', '.join(POLICIES),
                            target.unmappable))
    for what, path in (('instances path', target.instances_path),
                       ('import directory', target.import_dir)):
        if path is not None and (
                not path.startswith('/') or
                posixpath.normpath(path) != path.rstrip('/') or
                '\x00' in path):
            raise exception.TranslationError(
                'the %s must be absolute and normal, not %r' % (what, path))
    if target.guest_dir is not None:
        check_component(target.guest_dir, 'guest directory')


def check_component(name, what):
    """Refuse a name that is not a plain file name.

    :param what: what the name is, for the error
    :raises: PathEscape
    """
    if (not name or name in ('.', '..') or '/' in name or '\\' in name or
            any(ord(c) < 32 for c in name)):
        raise exception.PathEscape(
            '%s %r is not a plain file name' % (what, name))


_VMWARE_PATH = re.compile(r'^\[([^\]]*)\]\s*(.*)$')


def source_parts(path, style):
    """A source disk path as its directory components and file name.

    :raises: PathEscape for any '..' component or control character.
    """
    if any(ord(c) < 32 for c in path):
        raise exception.PathEscape(
            'disk path %r has control characters' % path)
    if style == 'vmware':
        match = _VMWARE_PATH.match(path)
        rel = match.group(2) if match else path
        parts = [p for p in rel.split('/') if p]
    elif style == 'windows':
        drive, rest = ntpath.splitdrive(path)
        parts = [p for p in re.split(r'[\\/]', rest) if p]
    else:
        parts = [p for p in path.split('/') if p]
    if not parts or any(p in ('.', '..') for p in parts):
        raise exception.PathEscape('disk path %r escapes its directory' % path)
    return parts


_DRIVE_PATH = re.compile(r'^(?:[A-Za-z]:|[\\/]{2}[^\\/])')


def imported_path(import_dir, path, style):
    """Where a foreign disk's source is below the import directory.

    A datastore path (``[datastore] dir/file``) is found at
    ``IMPORT/datastore/dir/file``, a Windows path at its drive's or share's
    folder (``C:\\dir\\file`` at ``IMPORT/C/dir/file``,
    ``\\\\server\\share\\file`` at ``IMPORT/server/share/file``), a
    relative one at its path below the directory: two disks of the same
    path on different datastores or drives stay two files. An absolute
    POSIX path must already be below the directory.

    :raises: PathEscape for a path that would leave the directory, or a
        datastore, drive or share name that is not a plain file name
    """
    source_parts(path, style)
    if style != 'windows' and path.startswith('/'):
        if not inside(import_dir, path):
            raise exception.PathEscape(
                'disk path %r is outside the import directory %s'
                % (path, import_dir))
        return path
    match = _VMWARE_PATH.match(path) if style == 'vmware' else None
    if match:
        head = [(match.group(1), 'datastore')]
        parts = match.group(2).split('/')
    elif style == 'windows' or _DRIVE_PATH.match(path):
        drive, rest = ntpath.splitdrive(path)
        head = [(name, 'drive' if drive.endswith(':') else 'share')
                for name in re.split(r'[\\/]', drive.rstrip(':')) if name]
        parts = re.split(r'[\\/]', rest)
    else:
        head = []
        parts = path.split('/')
    for name, what in head:
        check_component(name, what)
    parts = [p for p in parts if p]
    if not parts or any(p in ('.', '..') for p in parts):
        raise exception.PathEscape('disk path %r escapes its directory' % path)
    resolved = posixpath.join(import_dir, *[n for n, _w in head], *parts)
    if not inside(import_dir, resolved):
        raise exception.PathEscape(
            'disk path %r is outside the import directory %s'
            % (path, import_dir))
    return resolved


def inside(root, path):
    """Whether ``path`` is absolute, normal and strictly below ``root``."""
    root = root.rstrip('/') or '/'
    return (posixpath.isabs(path) and posixpath.normpath(path) == path and
            not path.startswith('//') and
            posixpath.commonpath([root, path]) == root and path != root)


def check_dest_path(target, path, what):
    """Refuse a destination path out of the instances directory.

    :param what: what the path is, for the error
    :raises: PathEscape for a path that is not absolute and normal, or not
        below the target's instances path (when it has one)
    """
    if (not posixpath.isabs(path) or posixpath.normpath(path) != path or
            path.startswith('//') or any(ord(c) < 32 for c in path) or
            '/../' in path + '/'):
        raise exception.PathEscape(
            '%s path %r is not absolute and normal' % (what, path))
    if target.instances_path is not None and not inside(
            target.instances_path, path):
        raise exception.PathEscape(
            '%s path %r is outside the instances directory %s'
            % (what, path, target.instances_path))
