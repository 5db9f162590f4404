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

"""A VMware ``.vmx`` file read as a libvirt domain.

The key/value file of VMware Workstation, Fusion and ESXi, described as
libvirt's VMX driver (``virVMXParseConfig``) describes it: the
``<domain type='vmware'>`` the translator already takes. Every disk is
found in the ``.vmx``'s directory (the export's root); nothing of the
input is parsed as XML and the output is built element by element, so no
value can carry markup into it. Pure but for reading the file and looking
at the disks it names.

Where it differs from libvirt's driver, on purpose: every disk's source is
its file in the export (a datastore path ``[ds] dir/f.vmdk`` or
``/vmfs/volumes/ds/dir/f.vmdk`` is the copy ``f.vmdk`` next to the .vmx),
a CD-ROM or floppy image that is not in the export is an empty drive, the
firmware's variable store (``nvram``) is not described, VMware's ``|XX``
escapes are decoded in every value (libvirt: in the name and annotation
only), ``firmware = "bios"`` is accepted, and a connection type of
``hostonly`` is a ``network`` interface (libvirt refuses it). As newer
libvirt, the UUID is ``vc.uuid`` where there is one, ``uuid.bios`` the
hardware UUID.

This module reads the key/value file (:func:`parse`) and finds the files
it names in the export, confined to the .vmx's directory;
:mod:`nova_v2v.exports.vmx_hardware` writes the domain from its entries.
"""

import codecs
import os
import re
import stat

from nova_v2v.exports import base
from nova_v2v.exports import vmx_hardware

# A real .vmx has a few hundred lines; these bound the work on any input.
MAX_LINES = 20000
MAX_KEY_CHARS = 256

_LINE = re.compile(r'^([^\s=#"]+)\s*=\s*(?:"([^"]*)"|([^\s"#]*))\s*(#.*)?$')
_ENCODING = re.compile(rb'^[ \t]*\.encoding[ \t]*=[ \t]*"([^"\r\n]*)"',
                       re.IGNORECASE | re.MULTILINE)
_PIPE_ESCAPE = re.compile(r'((?:\|[0-9A-Fa-f]{2})+)')
_PERCENT_ESCAPE = re.compile(r'((?:%[0-9A-Fa-f]{2})+)')
# Characters XML 1.0 cannot carry.
_NOT_XML = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
_DATASTORE_PATH = re.compile(r'^\[([^\]]*)\]\s*(.*)$')
_VMFS_PATH = re.compile(r'^/vmfs/volumes/[^/]+/(.+)$')
_WINDOWS_PATH = re.compile(r'^(?:[A-Za-z]:[\\/]|\\\\)')


class _NotInExport(base.UnsupportedExport):
    """A file the .vmx names on a datastore has no copy in the export."""


class _Vmx:
    """The entries of a .vmx, keys case-insensitive, the last one wins."""

    def __init__(self, entries, encoding):
        self._entries = entries
        self.encoding = encoding

    def keys(self):
        return self._entries.keys()

    def line(self, key):
        entry = self._entries.get(key.lower())
        return entry[2] if entry else None

    def has(self, key):
        return key.lower() in self._entries

    def get(self, key, default=None):
        """The value of ``key`` with VMware's ``|XX`` escapes decoded."""
        entry = self._entries.get(key.lower())
        if entry is None:
            return default
        name, raw, line = entry
        value = self._unescape(_PIPE_ESCAPE, '|', raw, name, line)
        if _NOT_XML.search(value):
            raise base.UnsupportedExport(
                'line %d: %s holds a control character' % (line, name))
        return value

    def name(self, key):
        """displayName: ``%XX`` then ``|XX`` escapes, as libvirt does."""
        entry = self._entries.get(key.lower())
        if entry is None:
            return None
        name, raw, line = entry
        value = self._unescape(_PERCENT_ESCAPE, '%', raw, name, line)
        value = self._unescape(_PIPE_ESCAPE, '|', value, name, line)
        if _NOT_XML.search(value):
            raise base.UnsupportedExport(
                'line %d: %s holds a control character' % (line, name))
        return value

    def _unescape(self, pattern, char, raw, name, line):
        def bytes_of(match):
            data = bytes(int(h, 16) for h in match.group(1).split(char)[1:])
            try:
                return data.decode(self.encoding)
            except UnicodeDecodeError:
                raise base.UnsupportedExport(
                    'line %d: %s has an escape that is not %s text'
                    % (line, name, self.encoding))
        return pattern.sub(bytes_of, raw)

    def bool(self, key, default=False):
        value = self.get(key)
        if value is None:
            return default
        if value.lower() in ('true', 'false'):
            return value.lower() == 'true'
        raise base.UnsupportedExport(
            'line %d: %s must be true or false, not %r'
            % (self.line(key), key, value))

    def int(self, key, default, low, high):
        value = self.get(key)
        if value is None or value.lower() == 'unlimited':
            return default
        try:
            number = int(value.strip(), 10)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise base.UnsupportedExport(
                'line %d: %s must be an integer in [%d..%d], not %r'
                % (self.line(key), key, low, high, value))
        return number


def parse(data):
    """The entries of the .vmx text ``data`` (bytes).

    :returns: :class:`_Vmx`
    :raises: UnsupportedExport for text that is not a .vmx (the line named),
        HostileExport for sizes past the limits
    """
    if len(data) > base.MAX_DESCRIPTOR_BYTES:
        raise base.HostileExport(
            'the .vmx has more than %d bytes' % base.MAX_DESCRIPTOR_BYTES)
    if b'\x00' in data:
        raise base.UnsupportedExport('not a .vmx file: it holds binary data')
    match = _ENCODING.search(data)
    encoding = match.group(1).decode('ascii', 'replace') if match else 'UTF-8'
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        info = None
    if (info is None or not getattr(info, '_is_text_encoding', True) or
            'a = "b"\n'.encode(info.name, 'replace') != b'a = "b"\n'):
        raise base.UnsupportedExport(
            'the .vmx is in an encoding nova-v2v does not know: %r'
            % encoding)
    try:
        text = data.decode(info.name)
    except UnicodeDecodeError as e:
        raise base.UnsupportedExport(
            'the .vmx is not %s text (byte %d)' % (encoding, e.start))
    lines = text.lstrip('\ufeff').splitlines()
    if len(lines) > MAX_LINES:
        raise base.HostileExport(
            'the .vmx has more than %d lines' % MAX_LINES)
    entries = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        match = _LINE.match(line)
        if not match or len(match.group(1)) > MAX_KEY_CHARS:
            raise base.UnsupportedExport(
                'line %d of the .vmx is not key = "value"' % number)
        key = match.group(1)
        value = match.group(2)
        if value is None:
            value = match.group(3)
        entries[key.lower()] = (key, value, number)
    return _Vmx(entries, info.name)


def read(path):
    """Read the .vmx at ``path`` and find its disks next to it.

    :returns: :class:`nova_v2v.exports.base.Export`
    :raises: UnsupportedExport: not a .vmx, or a device or file the reader
        cannot carry (the line or device named); HostileExport: past a size
        limit, or a path or link out of the .vmx's directory
    """
    try:
        st = os.stat(path)
    except OSError as e:
        raise base.UnsupportedExport('cannot read %s: %s' % (path, e))
    if not stat.S_ISREG(st.st_mode):
        raise base.UnsupportedExport('%s is not a file' % path)
    if st.st_size > base.MAX_DESCRIPTOR_BYTES:
        raise base.HostileExport(
            '%s has more than %d bytes' % (path, base.MAX_DESCRIPTOR_BYTES))
    with open(path, 'rb') as f:
        data = f.read(base.MAX_DESCRIPTOR_BYTES + 1)
    vmx = parse(data)
    root_dir = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    fallback = os.path.splitext(os.path.basename(path))[0] or 'vmware-guest'
    notes = []
    paths = _Paths(root_dir, notes.append)
    builder = vmx_hardware.Builder(vmx, paths, fallback, notes)
    xml = builder.build()
    return base.Export(kind='vmx', source=path, root_dir=root_dir,
                       domain_xml=xml, disks=tuple(builder.disks),
                       nics=tuple(builder.nics), notes=tuple(builder.notes))


class _Paths:
    """The files a .vmx names, found in its export and confined to it.

    :param root_dir: the export's directory (the .vmx's), a real path
    :param note: called with each line of what was assumed
    """

    def __init__(self, root_dir, note):
        self.root_dir = root_dir
        self.note = note

    def locate(self, value, what):
        """Where the file ``value`` of the .vmx is in the export.

        :returns: its absolute path below the root directory
        :raises: HostileExport for a path that leaves the root directory,
            _NotInExport for a datastore or host path whose file has no
            copy in the root directory
        """
        if not value:
            raise base.UnsupportedExport('%s names no file' % what)
        store = (_DATASTORE_PATH.match(value) or _VMFS_PATH.match(value))
        if store or _WINDOWS_PATH.match(value):
            rest = store.group(store.lastindex) if store else value
            name = re.split(r'[\\/]', rest)[-1]
            if name in ('', '.', '..'):
                raise base.HostileExport(
                    '%s: %r names no file' % (what, value))
            candidate = os.path.join(self.root_dir, name)
            self._confine(candidate, what, value)
            if not os.path.isfile(candidate):
                raise _NotInExport(
                    '%s: %s is not in the export (no %s in %s)'
                    % (what, value, name, self.root_dir))
            self.note('%s: %s is read from the export\'s copy %s'
                      % (what, value, candidate))
            return candidate
        parts = re.split(r'[\\/]', value)
        if '..' in parts:
            raise base.HostileExport(
                '%s: %r leaves the export\'s directory' % (what, value))
        if value.startswith('/'):
            candidate = os.path.normpath(value)
        else:
            candidate = os.path.normpath(os.path.join(
                self.root_dir, *[p for p in parts if p]))
        self._confine(candidate, what, value)
        return candidate

    def _confine(self, candidate, what, value):
        real = os.path.realpath(candidate)
        if real == self.root_dir or not real.startswith(
                self.root_dir.rstrip('/') + '/'):
            raise base.HostileExport(
                '%s: %r is not a file below the export\'s directory %s'
                % (what, value, self.root_dir))

    def image(self, file_name, what):
        """A CD-ROM or floppy image's path, or None: not in the export."""
        try:
            return self.locate(file_name, what)
        except _NotInExport as e:
            self.note('%s: the drive is left empty' % e)
        except base.HostileExport:
            if not file_name.startswith('/') or '..' in re.split(
                    r'[\\/]', file_name):
                raise
            self.note('%s: the image %s is a file of the source host, not '
                      'of the export: the drive is left empty'
                      % (what, file_name))
        return None
