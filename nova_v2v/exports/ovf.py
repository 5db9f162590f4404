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

"""OVF descriptors (DMTF DSP0243, 1.x and 2.x) read as libvirt domains.

Pure but for reading the descriptor and its manifest. The first
``VirtualSystem`` of the envelope becomes the ``<domain type='vmware'>``
libvirt's VMware driver would give for the same guest: its
``VirtualHardwareSection`` items (CPU, memory, IDE/SCSI/SATA/NVMe
controllers, disks, CD-ROMs, NICs) and VMware's ``vmw:`` extensions
(cores per socket, firmware, secure boot). The disks' files are named
by the descriptor's ``References``, relative to it; the manifest
(``NAME.mf``) gives their digests. :mod:`nova_v2v.exports.ova` reads an
OVA's descriptor with :func:`from_descriptor`.
"""

import hashlib
import os
import posixpath
import re

from lxml import etree

from nova_v2v.exports import base
from nova_v2v.exports import ovf_hardware
from nova_v2v.hardware import inspect

OVF_NAMESPACES = ('http://schemas.dmtf.org/ovf/envelope/1',
                  'http://schemas.dmtf.org/ovf/envelope/2')
OVF09_NAMESPACE = 'http://www.vmware.com/schema/ovf/1/envelope'
# Manifest algorithms, as the manifest names them, and their digest length.
ALGORITHMS = {'SHA1': ('sha1', 40), 'SHA256': ('sha256', 64),
              'SHA512': ('sha512', 128)}
_MANIFEST_LINE = re.compile(
    r'^(SHA1|SHA256|SHA512) ?\(([^()\x00-\x1f]+)\) ?= ?([0-9a-fA-F]+)$')
# Disk formats by the DiskSection's format URL (a fragment of it).
_FORMAT_URLS = (
    ('vmware.com/interfaces/specifications/vmdk.html', 'vmdk'),
    ('qcow-image-format', 'qcow2'),
    ('qemu-project.org', 'qcow2'),
)
# A format named without its URL (hand-written descriptors).
_VMDK_SUBFORMATS = ('streamoptimized', 'monolithicsparse', 'sparse',
                    'compressed')
_FORMAT_EXTENSIONS = {'.vmdk': 'vmdk', '.qcow2': 'qcow2', '.img': 'raw',
                      '.raw': 'raw'}


def read(path):
    """Read an OVF descriptor and its manifest.

    :param path: the ``.ovf`` file; its disks are read relative to its
        directory, its manifest is ``NAME.mf`` next to it
    :returns: :class:`nova_v2v.exports.base.Export` of kind ``ovf``
    :raises: ExportError, UnsupportedExport, HostileExport,
        ChecksumMismatch (the descriptor does not match its manifest)
    """
    path = os.path.abspath(path)
    root_dir = os.path.dirname(path)
    data = _read_limited(path, 'descriptor')
    stem = os.path.splitext(path)[0]
    manifest = None
    if os.path.exists(stem + '.mf'):
        manifest = _read_limited(stem + '.mf', 'manifest')
    notes = []
    if os.path.exists(stem + '.cert'):
        notes.append('the export is signed (%s): its signature and '
                     'certificate are not verified'
                     % os.path.basename(stem + '.cert'))
    return from_descriptor(data, root_dir, path, manifest=manifest,
                           descriptor_name=os.path.basename(path),
                           notes=notes)


def _read_limited(path, what):
    with open(path, 'rb') as f:
        data = f.read(base.MAX_DESCRIPTOR_BYTES + 1)
    if len(data) > base.MAX_DESCRIPTOR_BYTES:
        raise base.HostileExport(
            'the %s %s is more than %d bytes' % (
                what, os.path.basename(path), base.MAX_DESCRIPTOR_BYTES))
    return data


def from_descriptor(data, root_dir, source, kind='ovf', members=None,
                    manifest=None, descriptor_name=None, notes=()):
    """An export from an OVF descriptor's bytes.

    :param data: the descriptor (bytes)
    :param root_dir: the absolute directory the disks' files are below
    :param source: the path given to the reader
    :param kind: ``ovf`` or ``ova``
    :param members: for an OVA, ``{member name: size}`` of its regular
        members: each disk must be one, and is recorded as it
    :param manifest: the manifest's bytes, or None
    :param descriptor_name: the descriptor's name in the manifest
    :param notes: what the caller has to say already
    :returns: :class:`nova_v2v.exports.base.Export`
    :raises: ExportError, UnsupportedExport, HostileExport,
        ChecksumMismatch
    """
    notes = list(notes)
    if not os.path.isabs(root_dir):
        raise base.ExportError('the export directory %r is not absolute'
                               % root_dir)
    if len(data) > base.MAX_DESCRIPTOR_BYTES:
        raise base.HostileExport('the descriptor is more than %d bytes'
                                 % base.MAX_DESCRIPTOR_BYTES)
    digests = parse_manifest(manifest) if manifest is not None else {}
    if manifest is None:
        notes.append('the export has no manifest: its files\' digests are '
                     'not checked')
    elif descriptor_name in digests:
        check_digest(data, descriptor_name, digests[descriptor_name])
    else:
        # A manifest that leaves a file out would let that file change:
        # ovftool refuses such an export too.
        raise base.ChecksumMismatch(
            'the manifest has no digest of the descriptor %s'
            % descriptor_name)
    root = parse_envelope(data)
    ns = etree.QName(root).namespace
    files = _references(root, ns)
    disk_defs = _disk_section(root, ns)
    system = _virtual_system(root, ns)
    default_name = os.path.splitext(os.path.basename(source))[0]
    guest = ovf_hardware.read_system(system, ns, default_name)
    notes.extend(guest.notes)

    disks = []
    xml_disks = []
    for slot in guest.disks:
        if slot.device != 'disk':
            xml_disks.append((slot, None))
            continue
        ref = slot.host_resource
        disk_def, file_id = _resolve(ref, disk_defs, files, slot, notes)
        if file_id is None:
            continue
        href, ref_size = files[file_id]
        fmt = _format_of(disk_def, href)
        size = ref_size
        member = None
        if members is not None:
            if href not in members:
                raise base.ExportError(
                    'the disk file %s of %s is not a member of the OVA'
                    % (href, slot.describe()))
            member = href
            if size is not None and size != members[href]:
                notes.append('the OVA member %s is %d bytes, the descriptor '
                             'says %d' % (href, members[href], size))
            size = members[href]
        capacity = disk_def.get('capacity') if disk_def else None
        if disk_def and disk_def.get('capacity_note'):
            notes.append(disk_def['capacity_note'])
        digest = digests.get(href)
        if manifest is not None and digest is None:
            raise base.ChecksumMismatch(
                'the manifest has no digest of the disk file %s' % href)
        path = posixpath.join(root_dir, href)
        if members is None:
            _check_inside(root_dir, path)
        disks.append(base.ExportDisk(
            target=slot.target, path=path, format=fmt, member=member,
            size=size, capacity=capacity, digest=digest))
        xml_disks.append((slot, path))
    if len(disks) > base.MAX_DISKS:
        raise base.HostileExport('the guest has %d disks, more than %d'
                                 % (len(disks), base.MAX_DISKS))
    paths = [d.path for d in disks]
    if len(set(paths)) != len(paths):
        raise base.ExportError('two disks of the guest name the same file')
    domain_xml = ovf_hardware.domain_xml(guest, xml_disks)
    nics = tuple(base.ExportNic(mac=n.mac, network=n.network, model=n.model)
                 for n in guest.nics)
    return base.Export(kind=kind, source=source, root_dir=root_dir,
                       domain_xml=domain_xml, disks=tuple(disks), nics=nics,
                       notes=tuple(notes))


def parse_envelope(data):
    """The root ``Envelope`` of an OVF descriptor, parsed hardened.

    The parser is the translator's (:mod:`nova_v2v.hardware.inspect`): no
    DTD, no entity, no network, no huge tree.

    :raises: HostileExport (a DTD or an entity), UnsupportedExport (not
        an OVF 1.x or 2.x envelope), ExportError (not XML)
    """
    if b'<!DOCTYPE' in data or b'<!ENTITY' in data:
        raise base.HostileExport('a document type declaration (DTD) or an '
                                 'entity is not accepted in a descriptor')
    try:
        root = etree.fromstring(data, inspect.hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise base.ExportError('the descriptor is not XML: %s' % exc)
    if root.getroottree().docinfo.doctype:
        raise base.HostileExport('a document type declaration (DTD) is '
                                 'not accepted in a descriptor')
    if any(isinstance(el, etree._Entity) for el in root.iter()):
        raise base.HostileExport('entities are not accepted in a '
                                 'descriptor')
    qname = etree.QName(root)
    if qname.namespace == OVF09_NAMESPACE:
        raise base.UnsupportedExport(
            'an OVF 0.9 descriptor (VMware\'s pre-standard format) is not '
            'read: export the guest again as OVF 1.0 or later')
    if qname.localname != 'Envelope' or qname.namespace not in (
            OVF_NAMESPACES):
        raise base.UnsupportedExport('not an OVF 1.x or 2.x descriptor: '
                                     'root <%s>' % root.tag)
    return root


def _attr(el, ns, name):
    value = el.get('{%s}%s' % (ns, name))
    return value if value is not None else el.get(name)


def _references(root, ns):
    """{file id: (href, size)} of the envelope's References."""
    files = {}
    refs = root.findall('./{%s}References/{%s}File' % (ns, ns))
    if len(refs) > base.MAX_MEMBERS:
        raise base.HostileExport('the descriptor names %d files, more '
                                 'than %d' % (len(refs), base.MAX_MEMBERS))
    for ref in refs:
        file_id = _attr(ref, ns, 'id')
        href = _attr(ref, ns, 'href') or ''
        if file_id is None:
            raise base.ExportError('a file of the References has no id')
        href = check_href(href)
        if _attr(ref, ns, 'chunkSize'):
            raise base.UnsupportedExport(
                'the file %s is split in chunks (ovf:chunkSize): join them '
                'first' % href)
        compression = _attr(ref, ns, 'compression')
        if compression not in (None, '', 'identity'):
            raise base.UnsupportedExport(
                'the file %s is compressed (ovf:compression=%s): '
                'decompress it first' % (href, compression))
        size = _attr(ref, ns, 'size')
        files[file_id] = (href,
                          int(size) if size and size.isdigit() else None)
    return files


def _check_inside(root_dir, path):
    """Refuse a disk file that is a link to a file out of the export."""
    if not os.path.lexists(path):
        return
    root = os.path.realpath(root_dir)
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root or real == root:
        raise base.HostileExport('the disk file %s is a link out of the '
                                 'export (to %s)' % (path, real))


def check_href(href):
    """A file reference of the descriptor, if a plain relative name.

    :raises: UnsupportedExport (a URL), HostileExport (absolute, ``..``,
        control characters, backslashes)
    """
    if re.match(r'^[A-Za-z][A-Za-z0-9+.-]*:', href):
        raise base.UnsupportedExport(
            'the file %r is a URL: only files of the export are read'
            % href)
    if (not href or href.startswith('/') or '\\' in href or
            any(ord(c) < 32 or ord(c) == 127 for c in href)):
        raise base.HostileExport('the file reference %r is not a plain '
                                 'relative name' % href)
    parts = href.split('/')
    if any(p in ('', '.', '..') for p in parts):
        raise base.HostileExport('the file reference %r leaves the '
                                 'export or is not normal' % href)
    return href


def _disk_section(root, ns):
    """{disk id: {'file': id, 'format': url, 'capacity': bytes}}."""
    disks = {}
    for disk in root.findall('./{%s}DiskSection/{%s}Disk' % (ns, ns)):
        disk_id = _attr(disk, ns, 'diskId')
        capacity = _attr(disk, ns, 'capacity') or ''
        units = _attr(disk, ns, 'capacityAllocationUnits') or 'byte'
        entry = {'file': _attr(disk, ns, 'fileRef'),
                 'format': _attr(disk, ns, 'format') or '',
                 'capacity': None}
        if capacity.isdigit():
            entry['capacity'] = int(capacity) * ovf_hardware.unit_bytes(
                units, 'disk %s capacity' % disk_id)
        else:
            entry['capacity_note'] = (
                'the capacity of disk %s is %r, not a number: taken from '
                'its file' % (disk_id, capacity))
        if _attr(disk, ns, 'parentRef'):
            raise base.UnsupportedExport(
                'disk %s is a delta of disk %s (ovf:parentRef): a chain of '
                'disks is not read' % (disk_id, _attr(disk, ns,
                                                      'parentRef')))
        disks[disk_id] = entry
    return disks


def _virtual_system(root, ns):
    systems = root.findall('./{%s}VirtualSystem' % ns)
    collections = root.findall('./{%s}VirtualSystemCollection' % ns)
    if collections:
        count = len(collections[0].findall('.//{%s}VirtualSystem' % ns))
        raise base.UnsupportedExport(
            'the export is a VirtualSystemCollection (a vApp) holding %d '
            'virtual system(s): one guest is imported at a time; export '
            'its guests one by one' % count)
    if not systems:
        raise base.ExportError('the descriptor has no VirtualSystem')
    return systems[0]


def _resolve(ref, disk_defs, files, slot, notes):
    """(disk definition or None, file id or None) of a disk's resource."""
    match = re.match(r'^(?:ovf:)?/(disk|file)/(.+)$', (ref or '').strip())
    if not match:
        notes.append('%s names no disk of the export (%r): left out'
                     % (slot.describe(), ref))
        return None, None
    kind, ident = match.groups()
    if kind == 'file':
        if ident not in files:
            raise base.ExportError('%s names the file %s, which the '
                                   'References do not have'
                                   % (slot.describe(), ident))
        return None, ident
    disk_def = disk_defs.get(ident)
    if disk_def is None:
        raise base.ExportError('%s names the disk %s, which the DiskSection '
                               'does not have' % (slot.describe(), ident))
    if not disk_def['file']:
        notes.append('%s is a blank disk of %s bytes created at deployment: '
                     'left out (create a volume for it)'
                     % (slot.describe(), disk_def['capacity']))
        return disk_def, None
    if disk_def['file'] not in files:
        raise base.ExportError('disk %s names the file %s, which the '
                               'References do not have'
                               % (ident, disk_def['file']))
    return disk_def, disk_def['file']


def _format_of(disk_def, href):
    url = (disk_def or {}).get('format', '')
    for fragment, fmt in _FORMAT_URLS:
        if fragment in url:
            return fmt
    if url.lower() in _VMDK_SUBFORMATS:
        return 'vmdk'
    ext = posixpath.splitext(href.lower())[1]
    if ext in _FORMAT_EXTENSIONS and not url:
        return _FORMAT_EXTENSIONS[ext]
    raise base.UnsupportedExport(
        'the disk file %s is of a format the readers do not know '
        '(%s)' % (href, url or ext or 'no format'))


def parse_manifest(data):
    """{file name: (algorithm, hex digest)} of a manifest (``.mf``).

    Lines ``SHA256(name)= hex`` (SHA1, SHA256, SHA512); blank lines are
    skipped, anything else is refused.

    :raises: ExportError
    """
    if len(data) > base.MAX_DESCRIPTOR_BYTES:
        raise base.HostileExport('the manifest is more than %d bytes'
                                 % base.MAX_DESCRIPTOR_BYTES)
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise base.ExportError('the manifest is not UTF-8 text')
    digests = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        match = _MANIFEST_LINE.match(line)
        if not match:
            # Its text is not echoed: the file may be anything.
            raise base.ExportError('line %d of the manifest is not '
                                   '"ALGORITHM(file)= digest"' % number)
        algorithm, name, digest = match.groups()
        hash_name, length = ALGORITHMS[algorithm]
        if len(digest) != length:
            raise base.ExportError('line %d of the manifest: a %s digest '
                                   'has %d hex digits, not %d'
                                   % (number, algorithm, length,
                                      len(digest)))
        if name in digests:
            raise base.ExportError('the manifest names %s twice' % name)
        digests[name] = (hash_name, digest.lower())
    if len(digests) > base.MAX_MEMBERS:
        raise base.HostileExport('the manifest names %d files, more than %d'
                                 % (len(digests), base.MAX_MEMBERS))
    return digests


def check_digest(data, name, digest):
    """Check bytes against their manifest digest.

    :raises: ChecksumMismatch
    """
    algorithm, expected = digest
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != expected:
        raise base.ChecksumMismatch(
            '%s does not match the manifest: its %s is %s, the manifest '
            'says %s' % (name, algorithm.upper(), actual, expected))


def check_file(path, digest, progress=None, chunk=1024 * 1024):
    """Check a disk file of an OVF folder against its manifest digest.

    :param digest: ``(algorithm, hex digest)``
    :param progress: called with ``(done bytes, total bytes)``
    :raises: ChecksumMismatch, OSError
    """
    algorithm, expected = digest
    hashed = hashlib.new(algorithm)
    total = os.path.getsize(path)
    done = 0
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            hashed.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
    if hashed.hexdigest() != expected:
        raise base.ChecksumMismatch(
            '%s does not match the manifest: its %s is %s, the manifest '
            'says %s' % (os.path.basename(path), algorithm.upper(),
                         hashed.hexdigest(), expected))
