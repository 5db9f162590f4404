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

"""Translation steps of the guest's disks, and disk targets.

Pure. Each disk gets the bus the tables give for its kind (a new target
name when its bus changes), and a path and format on the destination:
kept where it already is under the instances directory, otherwise
relocated to the guest's directory there; the report's disk mappings
tell the conversion (:mod:`nova_v2v.storage.convert`) what to copy where.
"""

import posixpath

from lxml import etree

from nova_v2v.hardware import draft as hw_draft
from nova_v2v.hardware import exception
from nova_v2v.hardware import machines
from nova_v2v.hardware import reading
from nova_v2v.hardware import report as hw_report
from nova_v2v.hardware import tables

# The first target dev of each bus; libvirt names disks <prefix><letter>.
BUS_PREFIX = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd',
              'ide': 'hd', 'xen': 'xvd', 'fdc': 'fd'}


def dev_name(prefix, index):
    """0 -> 'a', 25 -> 'z', 26 -> 'aa' (libvirt's virDiskNameToIndex)."""
    letters = ''
    index += 1
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord('a') + rem) + letters
    return prefix + letters


def _format_of(disk, parts):
    """A source disk's format: its driver's, else its extension's."""
    driver = disk.find('./driver')
    if driver is not None and driver.get('type') and driver.get(
            'name', 'qemu') in ('qemu', 'file', 'tap', 'tap2', 'phy'):
        fmt = driver.get('type')
        # Xen's blktap names its format the same way; 'aio' is raw.
        return {'aio': 'raw', 'vhd': 'vpc'}.get(fmt, fmt)
    if parts:
        ext = posixpath.splitext(parts[-1].lower())[1]
        if ext in tables.FORMAT_BY_EXTENSION:
            return tables.FORMAT_BY_EXTENSION[ext]
    return 'raw'


def translate_disks(draft):
    """Every disk's bus, target name, path and format on the destination.

    Each disk is recorded in the report's disk mappings; a floppy on q35 is
    refused or dropped as the target's policy says.

    :raises: UnmappableDevices, UnsupportedGuest (a format nova-v2v does not
        convert), PathEscape, TranslationError
    """
    if draft.family == machines.Q35:
        for disk in draft.devices.findall("./disk[@device='floppy']"):
            if draft.target.unmappable == 'refuse':
                draft.rep.add(hw_report.UNMAPPABLE, hw_draft.where(disk),
                              reason='q35 has no floppy controller',
                              severity=hw_report.ERROR)
                raise exception.UnmappableDevices(
                    'the guest has a floppy drive and the destination '
                    'machine (q35) has no floppy controller', draft.rep)
            draft.rep.add(hw_report.DROPPED, hw_draft.where(disk),
                          reason='q35 has no floppy controller',
                          severity=hw_report.WARNING)
            hw_draft.drop(disk)
    disks = draft.devices.findall('./disk')
    used = set()
    plans = []
    # File names taken in the guest's directory: the kept disks and
    # NVRAM, then each relocated disk's (two disks never share a file).
    relocated = set()
    if draft.target.instances_path is not None:
        guest_dir = posixpath.join(draft.target.instances_path,
                                   draft.guest_dir())
        kept = [d.find('./source').get('file') for d in disks
                if d.find('./source') is not None]
        kept += [f.path for f in draft.rep.extra_files]
        relocated = {posixpath.basename(p) for p in kept
                     if p and posixpath.dirname(p) == guest_dir}
    for disk in disks:
        target_el = disk.find('./target')
        if target_el is None:
            raise exception.TranslationError('a disk has no <target>')
        dev = target_el.get('dev', '')
        bus = target_el.get('bus') or _bus_of(dev, draft.profile.foreign)
        device = disk.get('device', 'disk')
        source = disk.find('./source')
        src_path = None
        if source is not None:
            src_path = source.get('file') or source.get('dev')
        parts = (reading.source_parts(src_path, draft.profile.path_style)
                 if src_path else [])
        fmt = _format_of(disk, parts)
        new_bus = _new_bus(draft, device, bus)
        plans.append((disk, target_el, dev, bus, new_bus, device,
                      source, src_path, parts, fmt))
        if new_bus == bus:
            used.add(dev)
    imported = {}
    for (disk, target_el, dev, bus, new_bus, device, source, src_path,
         parts, fmt) in plans:
        new_dev = dev
        if new_bus != bus:
            prefix = BUS_PREFIX.get(new_bus)
            if prefix is None:
                raise exception.TranslationError(
                    'unknown disk bus %r' % new_bus)
            index = 0
            while dev_name(prefix, index) in used:
                index += 1
            new_dev = dev_name(prefix, index)
            used.add(new_dev)
            target_el.set('dev', new_dev)
            target_el.set('bus', new_bus)
            for addr in disk.findall('./address'):
                hw_draft.drop(addr)
            draft.rep.add(hw_report.CHANGED, '%s %s' % (device, dev),
                          bus, '%s (%s)' % (new_bus, new_dev))
        new_path, new_fmt = _disk_source(
            draft, disk, device, dev, source, src_path, parts, fmt, relocated)
        size = _lookup(draft.disk_sizes, dev, src_path)
        read_from = src_path
        if new_path is not None and device == 'disk':
            read_from = _imported(draft, dev, src_path, imported)
        draft.rep.disks.append(hw_report.DiskMapping(
            device=device, source_target=dev, source_bus=bus,
            source_path=read_from, source_format=fmt, target=new_dev,
            bus=new_bus, path=new_path, format=new_fmt,
            virtual_size=int(size) if size is not None else None))


def _imported(draft, dev, src_path, imported):
    """Where a foreign disk is read from: below the import directory.

    The source path as it is for a guest of the destination's own kind, or
    a foreign one's datastore, Windows or relative path where no import
    directory was named (it names no file of this host); a foreign disk at
    an absolute path of this host is read only from below an import
    directory, so that a foreign definition cannot have any of this host's
    files copied into the guest.

    :param imported: ``{path read from: (target dev, source path)}`` of
        the disks before this one, updated
    :raises: PathEscape for a source outside the import directory, or at
        an absolute host path with no import directory; TranslationError
        for a disk whose source, spelled otherwise than an earlier disk's,
        is the same file (the report would name two files)
    """
    if not draft.profile.foreign or not src_path:
        return src_path
    if draft.target.import_dir is None:
        if (draft.profile.path_style != 'windows' and
                src_path.startswith('/')):
            raise exception.PathEscape(
                'disk %s of the %s guest is at %s on this host: name the '
                'directory its disks are in (an import directory) to have '
                'it read' % (dev, draft.profile.name, src_path))
        return src_path
    path = reading.imported_path(draft.target.import_dir, src_path,
                                 draft.profile.path_style)
    first = imported.setdefault(path, (dev, src_path))
    if first[1] != src_path:
        raise exception.TranslationError(
            'disks %s (%s) and %s (%s) would both be read from %s'
            % (first[0], first[1], dev, src_path, path))
    if path != src_path:
        draft.rep.add(hw_report.NOTE, 'disk %s source' % dev, src_path,
                      path, 'read from the import directory')
    return path


def _bus_of(dev, foreign):
    """The bus of a target dev name given without one.

    ``nvme*`` is an NVMe namespace for a foreign guest only (libvirt's ESX
    driver names VMware's NVMe disks so); a QEMU/KVM guest's definition is
    read as before NVMe disks were known.
    """
    prefixes = (('vd', 'virtio'), ('sd', 'scsi'), ('hd', 'ide'),
                ('xvd', 'xen'), ('fd', 'fdc'))
    if foreign:
        prefixes += (('nvme', 'nvme'),)
    for prefix, bus in prefixes:
        if dev.startswith(prefix):
            return bus
    return 'ide'


def _new_bus(draft, device, bus):
    """The bus of a disk, cdrom or floppy on the destination."""
    if device == 'disk':
        new = draft.override(bus, draft.profile.disk_bus.get(bus, bus))
    elif device == 'cdrom':
        new = bus
        if draft.profile.foreign or (bus == 'ide' and
                                     draft.family == machines.Q35):
            new = tables.CDROM_BUS.get(draft.family, 'ide')
    else:
        new = bus
    if new == 'ide' and draft.family == machines.Q35:
        # q35 has no IDE: a disk there goes where the others go.
        new = draft.target.disk_bus if device == 'disk' else 'sata'
    if new == 'xen':
        new = draft.target.disk_bus
    return new


def _disk_source(draft, disk, device, dev, source, src_path, parts, fmt,
                 relocated):
    """Set the disk's destination path and format: (path, format)."""
    if src_path is None:
        return None, fmt
    if disk.get('type', 'file') != 'file' and (
            draft.target.keep_host_disks):
        return src_path, fmt
    if device != 'disk':
        # Install media: kept where they are Nova's (config drive),
        # ejected where they are the source hypervisor's.
        if draft.profile.foreign or (
                draft.target.instances_path is not None and
                not reading.inside(draft.target.instances_path, src_path)):
            hw_draft.drop(source)
            draft.rep.add(hw_report.REMOVED, '%s %s media' % (device, dev),
                          src_path, None,
                          'install media stay on the source: ejected',
                          hw_report.WARNING)
            return None, fmt
        reading.check_dest_path(draft.target, src_path,
                                '%s %s' % (device, dev))
        return src_path, fmt
    new_fmt = _lookup(draft.disk_formats, dev, src_path)
    if new_fmt is None:
        new_fmt = (fmt if fmt in tables.TARGET_DISK_FORMATS
                   else draft.target.disk_format)
    if new_fmt not in tables.TARGET_DISK_FORMATS:
        raise exception.TranslationError(
            'disk %s: %s is not a destination format' % (dev, new_fmt))
    if fmt not in tables.CONVERTIBLE_FORMATS:
        raise exception.UnsupportedGuest(
            'disk %s is in %s, which nova-v2v does not convert (it '
            'converts %s)' % (dev, fmt, ', '.join(tables.CONVERTIBLE_FORMATS)))
    new_path = _lookup(draft.disk_paths, dev, src_path)
    if new_path is None:
        keep = (not draft.profile.foreign and (
            draft.target.instances_path is None or
            reading.inside(draft.target.instances_path, src_path)))
        if keep:
            new_path = src_path
        elif draft.target.instances_path is None:
            raise exception.TranslationError(
                'disk %s must move, and no instances path was given' % dev)
        else:
            stem = posixpath.splitext(parts[-1])[0] or 'disk'
            reading.check_component(stem, 'disk file name')
            ext = '.qcow2' if new_fmt == 'qcow2' else '.img'
            name = stem + ext
            n = 1
            while name in relocated:
                name = '%s-%d%s' % (stem, n, ext)
                n += 1
            relocated.add(name)
            new_path = posixpath.join(draft.target.instances_path,
                                      draft.guest_dir(), name)
    reading.check_dest_path(draft.target, new_path, 'disk %s' % dev)
    if disk.get('type', 'file') != 'file':
        disk.set('type', 'file')
    if new_path != src_path:
        source.set('file', new_path)
        draft.rep.add(hw_report.CHANGED, 'disk %s path' % dev, src_path,
                      new_path)
    driver = disk.find('./driver')
    if driver is None:
        driver = etree.Element('driver')
        disk.insert(0, driver)
    if driver.get('name') != 'qemu':
        for attr in list(driver.attrib):
            del driver.attrib[attr]
        driver.set('name', 'qemu')
    if driver.get('type') != new_fmt:
        driver.set('type', new_fmt)
    if new_fmt != fmt:
        draft.rep.add(hw_report.CHANGED, 'disk %s format' % dev, fmt,
                      new_fmt, 'converted on the way')
    return new_path, new_fmt


def _lookup(mapping, dev, path):
    """``mapping``'s value for a disk: by target dev, else by path."""
    if not mapping:
        return None
    if dev in mapping:
        return mapping[dev]
    return mapping.get(path)


def disk_targets(xml):
    """[(target dev, bus, source path, driver type)] of the file disks."""
    result = []
    for disk in reading.parse(xml).findall('./devices/disk'):
        if disk.get('device', 'disk') != 'disk':
            continue
        target = disk.find('./target')
        driver = disk.find('./driver')
        source = disk.find('./source')
        path = None
        if source is not None:
            path = source.get('file') or source.get('dev') or source.get(
                'name')
        result.append((target.get('dev') if target is not None else None,
                       target.get('bus') if target is not None else None,
                       path,
                       driver.get('type', 'raw') if driver is not None
                       else 'raw'))
    return result


def set_formats(xml, formats):
    """A domain XML whose file disks run in other formats.

    For a live migration into disks precreated in those formats: each
    file disk whose source path is in ``formats`` gets that driver type
    and loses its ``backingStore`` (the destination's disk is a whole
    image); nothing else changes.

    :param xml: a domain XML (text)
    :param formats: ``{source path: format}``
    :returns: the XML (text); ``xml`` itself when no disk changes
    :raises: TranslationError when a disk of ``formats`` is not in the
        domain (the plan is not this domain's)
    """
    root = reading.parse(xml)
    found = set()
    for disk in root.findall('./devices/disk'):
        source = disk.find('./source')
        path = source.get('file') if source is not None else None
        if disk.get('type', 'file') != 'file' or path not in formats:
            continue
        found.add(path)
        driver = disk.find('./driver')
        if driver is None:
            driver = etree.Element('driver', name='qemu')
            disk.insert(0, driver)
        driver.set('type', formats[path])
        for backing in disk.findall('./backingStore'):
            disk.remove(backing)
    missing = sorted(set(formats) - found)
    if missing:
        raise exception.TranslationError(
            'the domain has no file disk at %s' % ', '.join(missing))
    if not formats:
        return xml
    return etree.tostring(root, encoding='unicode')
