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

"""Translate a guest's libvirt domain definition for a KVM destination.

Pure: lxml only, no libvirt or Nova import.  :func:`translate` takes the
source's domain XML (a QEMU/KVM guest, or a VMware, Hyper-V or Xen HVM
guest as libvirt's drivers describe them) and a :class:`Target`, and
returns the destination's domain XML with a
:class:`~nova_v2v.hardware.report.Report` of every change.  The mappings
come from :mod:`nova_v2v.hardware.tables`; what cannot be mapped is refused
or dropped with a warning as the target's policy says, never silently.

Input, conversion and output are apart, as in virt-v2v: reading (a
hardened parser, :mod:`nova_v2v.hardware.inspect`) and the limits come
first, then the tables are applied to a copy, then the result is written.
Disk data is converted elsewhere (:mod:`nova_v2v.storage.convert`), from
the report's disk mappings.
"""

import copy
import dataclasses
import ntpath
import posixpath
import re
import typing as ty

from lxml import etree

from nova_v2v.hardware import inspect
from nova_v2v.hardware import machines
from nova_v2v.hardware import report as hw_report
from nova_v2v.hardware import tables

# The planner's (and Nova's) SCSI controller model names -> libvirt's.
SCSI_MODEL_TO_LIBVIRT = {
    'pvscsi': 'vmpvscsi',
    'lsilogic': 'lsilogic',
    'lsisas1068': 'lsisas1068',
    'buslogic': 'buslogic',
    'virtio-scsi': 'virtio-scsi',
    'vmpvscsi': 'vmpvscsi',
}
LIBVIRT_TO_SCSI_MODEL = {'vmpvscsi': 'pvscsi'}
# The first target dev of each bus; libvirt names disks <prefix><letter>.
BUS_PREFIX = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd',
              'ide': 'hd', 'xen': 'xvd', 'fdc': 'fd'}
KNOWN_KINDS = ('domain-type', 'machine', 'nic-model', 'scsi-model',
               'disk-bus', 'disk-format')
POLICIES = ('refuse', 'drop')
# Controllers a machine family brings by itself: dropped with the
# addresses when the guest changes platform, libvirt adds the right ones.
PLATFORM_CONTROLLERS = ('pci', 'usb', 'ide', 'sata', 'fdc')
UEFI_LOADER = re.compile(r'(OVMF|edk2|AAVMF|QEMU_EFI)', re.IGNORECASE)
_UNITS = {'b': 1, 'bytes': 1, 'kb': 1000, 'k': 1024, 'kib': 1024,
          'mb': 1000 ** 2, 'm': 1024 ** 2, 'mib': 1024 ** 2,
          'gb': 1000 ** 3, 'g': 1024 ** 3, 'gib': 1024 ** 3,
          'tb': 1000 ** 4, 't': 1024 ** 4, 'tib': 1024 ** 4,
          'pb': 1000 ** 5, 'p': 1024 ** 5, 'pib': 1024 ** 5,
          'eb': 1000 ** 6, 'e': 1024 ** 6, 'eib': 1024 ** 6}


class TranslationError(ValueError):
    """The domain cannot be translated as asked."""


class UnknownChange(TranslationError):
    """A hardware change of a kind this module does not know."""


class HostileInput(TranslationError):
    """The definition is refused as hostile: DTD, entities, paths, sizes."""


class PathEscape(HostileInput):
    """A disk path would leave the destination's instances directory."""


class LimitExceeded(HostileInput):
    """A size or count beyond what any real guest has."""


class UnsupportedGuest(TranslationError):
    """A guest no table can bring to KVM (Xen PV, another architecture)."""


class UnmappableDevices(TranslationError):
    """The guest has devices that cannot be mapped, and policy refuses."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


@dataclasses.dataclass(frozen=True)
class Target:
    """The destination a definition is translated for."""

    # Nova's [libvirt] virt_type on the destination: kvm or qemu (TCG).
    accelerator: str = 'kvm'
    arch: str = 'x86_64'
    # The machine to use (the planner's choice); else chosen from
    # machine_types (empty: the family's alias, 'pc' or 'q35').
    machine: ty.Optional[str] = None
    machine_types: ty.Tuple[str, ...] = ()
    # Where disks live on the destination; None: disk paths are kept as
    # given and never relocated (the cutover's identical paths).
    instances_path: ty.Optional[str] = '/var/lib/nova/instances'
    # The guest's directory below instances_path (default: its UUID).
    guest_dir: ty.Optional[str] = None
    disk_bus: str = 'virtio'
    disk_format: str = 'qcow2'
    # CPU model for a TCG destination or a custom CPU (None: QEMU's own).
    cpu_model: ty.Optional[str] = None
    # Source network or bridge name -> ('network' | 'bridge', name).
    networks: ty.Mapping[str, ty.Tuple[str, str]] = dataclasses.field(
        default_factory=dict)
    default_network: ty.Tuple[str, str] = ('network', 'default')
    # 'refuse' or 'drop' devices that cannot be mapped.
    unmappable: str = 'refuse'
    # Block, network and pool-volume disks are Nova's Cinder volumes,
    # which Nova connects on the destination itself: keep them as they are
    # (the compute driver's moves), instead of refusing them.
    keep_host_disks: bool = False
    # The source's firmware where its definition does not tell (libvirt's
    # Hyper-V driver does not report a VM's generation): 'bios', 'uefi'.
    firmware: ty.Optional[str] = None
    # Operators' model and bus translations, on top of the tables
    # ([v2v] translate_device_models).
    overrides: ty.Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Translation:
    xml: str
    report: hw_report.Report


def _drop(el):
    el.getparent().remove(el)


def _sub(parent, tag, **attrs):
    return etree.SubElement(parent, tag, **attrs)


def _where(el):
    """A short name of a device for the report: 'interface 00:50:56:..'."""
    tag = el.tag if isinstance(el.tag, str) else 'node'
    if '}' in tag:
        tag = tag.split('}', 1)[1]
    if tag == 'disk':
        target = el.find('./target')
        return 'disk %s' % (target.get('dev') if target is not None
                            else '?')
    if tag == 'interface':
        mac = el.find('./mac')
        return 'interface %s' % (mac.get('address') if mac is not None
                                 else '(no mac)')
    if tag == 'controller':
        return 'controller %s %s' % (el.get('type'), el.get('index', '0'))
    if tag == 'hostdev':
        return 'hostdev %s' % el.get('type', '')
    return tag


# -- input ------------------------------------------------------------------

def _parse(xml):
    data = xml.encode('utf-8') if isinstance(xml, str) else xml
    if len(data) > tables.MAX_DOCUMENT_BYTES:
        raise LimitExceeded('the definition is %d bytes, more than %d'
                            % (len(data), tables.MAX_DOCUMENT_BYTES))
    try:
        root = inspect.domain_root(data)
    except inspect.HostileDomainXML as exc:
        raise HostileInput(str(exc))
    except inspect.InvalidDomainXML as exc:
        raise TranslationError(str(exc))
    count = sum(1 for _ in root.iter())
    if count > tables.MAX_ELEMENTS:
        raise LimitExceeded('the definition has %d elements, more than %d'
                            % (count, tables.MAX_ELEMENTS))
    return root


def _scaled(el, default_unit='KiB'):
    """An element's value in bytes (libvirt's scaled integers)."""
    try:
        value = int((el.text or '').strip())
    except ValueError:
        raise TranslationError('<%s> is not an integer: %r'
                               % (el.tag, el.text))
    unit = (el.get('unit') or default_unit).lower()
    if unit not in _UNITS:
        raise TranslationError('<%s> has an unknown unit %r'
                               % (el.tag, el.get('unit')))
    if value < 0:
        raise TranslationError('<%s> is negative' % el.tag)
    return value * _UNITS[unit]


def _check_limits(root, disk_sizes):
    for tag in ('memory', 'currentMemory', 'maxMemory'):
        el = root.find('./%s' % tag)
        if el is not None and (_scaled(el) >
                               tables.MAX_MEMORY_KIB * 1024):
            raise LimitExceeded('<%s> of %s %s is beyond %d GiB' % (
                tag, el.text, el.get('unit', 'KiB'),
                tables.MAX_MEMORY_KIB // 1024 ** 2))
    vcpu = root.find('./vcpu')
    if vcpu is not None:
        try:
            count = int((vcpu.text or '').strip())
        except ValueError:
            raise TranslationError('<vcpu> is not an integer: %r'
                                   % vcpu.text)
        if not 0 < count <= tables.MAX_VCPUS:
            raise LimitExceeded('<vcpu> %d is not within 1..%d'
                                % (count, tables.MAX_VCPUS))
    disks = root.findall('./devices/disk')
    if len(disks) > tables.MAX_DISKS:
        raise LimitExceeded('%d disks, more than %d'
                            % (len(disks), tables.MAX_DISKS))
    nics = root.findall('./devices/interface')
    if len(nics) > tables.MAX_NICS:
        raise LimitExceeded('%d interfaces, more than %d'
                            % (len(nics), tables.MAX_NICS))
    for key, size in (disk_sizes or {}).items():
        if not 0 <= int(size) <= tables.MAX_DISK_BYTES:
            raise LimitExceeded('disk %s of %s bytes is beyond %d TiB'
                                % (key, size,
                                   tables.MAX_DISK_BYTES // 1024 ** 4))


def _check_target(target):
    if target.accelerator not in tables.TARGET_DOMAIN_TYPES:
        raise TranslationError('target accelerator must be one of %s, not %r'
                               % (', '.join(tables.TARGET_DOMAIN_TYPES),
                                  target.accelerator))
    if target.disk_bus not in tables.TARGET_DISK_BUSES:
        raise TranslationError('target disk bus must be one of %s, not %r'
                               % (', '.join(tables.TARGET_DISK_BUSES),
                                  target.disk_bus))
    if target.disk_format not in tables.TARGET_DISK_FORMATS:
        raise TranslationError('target disk format must be one of %s, not %r'
                               % (', '.join(tables.TARGET_DISK_FORMATS),
                                  target.disk_format))
    if target.firmware not in (None, 'bios', 'uefi'):
        raise TranslationError('the firmware must be bios or uefi, not %r'
                               % target.firmware)
    if target.unmappable not in POLICIES:
        raise TranslationError('the unmappable device policy must be one of '
                               '%s, not %r' % (', '.join(POLICIES),
                                               target.unmappable))
    path = target.instances_path
    if path is not None and (not path.startswith('/') or
                             posixpath.normpath(path) != path.rstrip('/') or
                             '\x00' in path):
        raise TranslationError('the instances path must be absolute and '
                               'normal, not %r' % path)
    if target.guest_dir is not None:
        _check_component(target.guest_dir, 'guest directory')


def _check_component(name, what):
    if (not name or name in ('.', '..') or '/' in name or '\\' in name or
            any(ord(c) < 32 for c in name)):
        raise PathEscape('%s %r is not a plain file name' % (what, name))


# -- paths ------------------------------------------------------------------

_VMWARE_PATH = re.compile(r'^\[([^\]]*)\]\s*(.*)$')


def _source_parts(path, style):
    """A source disk path as its directory components and file name.

    :raises: PathEscape for any '..' component or control character.
    """
    if any(ord(c) < 32 for c in path):
        raise PathEscape('disk path %r has control characters' % path)
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
        raise PathEscape('disk path %r escapes its directory' % path)
    return parts


def _inside(root, path):
    root = root.rstrip('/') or '/'
    return (posixpath.isabs(path) and posixpath.normpath(path) == path and
            not path.startswith('//') and
            posixpath.commonpath([root, path]) == root and path != root)


def _check_dest_path(target, path, what):
    if (not posixpath.isabs(path) or posixpath.normpath(path) != path or
            path.startswith('//') or any(ord(c) < 32 for c in path) or
            '/../' in path + '/'):
        raise PathEscape('%s path %r is not absolute and normal'
                         % (what, path))
    if target.instances_path is not None and not _inside(
            target.instances_path, path):
        raise PathEscape('%s path %r is outside the instances directory %s'
                         % (what, path, target.instances_path))


def _format_of(disk, parts):
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


def _dev_name(prefix, index):
    """0 -> 'a', 25 -> 'z', 26 -> 'aa' (libvirt's virDiskNameToIndex)."""
    letters = ''
    index += 1
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord('a') + rem) + letters
    return prefix + letters


# -- the translation -------------------------------------------------------

class _Translator(object):

    def __init__(self, root, target, profile, rep, disk_paths, disk_formats,
                 disk_sizes=None):
        self.src = root
        self.root = copy.deepcopy(root)
        self.target = target
        self.profile = profile
        self.rep = rep
        self.disk_paths = dict(disk_paths or {})
        self.disk_formats = dict(disk_formats or {})
        self.disk_sizes = dict(disk_sizes or {})
        self.devices = self.root.find('./devices')
        if self.devices is None:
            self.devices = _sub(self.root, 'devices')
        self.replatform = False
        self.family = None

    # ---- helpers
    def override(self, key, table_value):
        """The operator's override for ``key``, else the table's value."""
        if key is not None and key in self.target.overrides:
            return self.target.overrides[key]
        if table_value == tables.TARGET_DISK_BUS:
            return self.target.disk_bus
        if table_value == tables.MACHINE_CDROM_BUS:
            return tables.CDROM_BUS.get(self.family, 'ide')
        return table_value

    def guest_dir(self):
        if self.target.guest_dir:
            return self.target.guest_dir
        name = (self.root.findtext('./uuid') or
                self.root.findtext('./name') or '').strip()
        _check_component(name, 'guest directory')
        return name

    # ---- steps
    def strip_source_host_state(self, keep_uuid):
        root = self.root
        if 'id' in root.attrib:
            del root.attrib['id']
        if not keep_uuid:
            for el in root.findall('./uuid'):
                _drop(el)
        for xpath in ('./seclabel', './devices/*/seclabel',
                      './devices/*/source/seclabel', './devices/*/alias',
                      './devices/disk/mirror', './devices/disk/backingStore',
                      './devices/interface/target'):
            for el in root.findall(xpath):
                _drop(el)
        for el in root.iter():
            if el.tag == 'source' and 'index' in el.attrib:
                del el.attrib['index']
        for el in root.findall('./devices/graphics'):
            if el.get('autoport') == 'yes' and 'port' in el.attrib:
                del el.attrib['port']
        os_el = root.find('./os')
        if os_el is not None and os_el.get('firmware'):
            # Firmware autoselection: the loader and the variable store
            # template in a live XML are what the source host resolved.
            for el in os_el.findall('./loader'):
                _drop(el)
            for el in os_el.findall('./nvram'):
                el.attrib.pop('template', None)

    def unmappable(self, extra=()):
        rules = tables.COMMON_UNMAPPABLE + self.profile.unmappable + tuple(
            extra)
        if self.target.keep_host_disks:
            rules = tuple(r for r in rules
                          if not r.xpath.startswith('./devices/disk['))
        found = []
        for rule in rules:
            for el in self.root.findall(rule.xpath):
                dev = el
                while dev.getparent() is not None and (
                        dev.getparent() is not self.devices and
                        dev.getparent() is not self.root):
                    dev = dev.getparent()
                if any(dev is d for d, _r in found):
                    continue
                found.append((dev, rule.reason))
        if not found:
            return
        if self.target.unmappable == 'refuse':
            for dev, reason in found:
                self.rep.add(hw_report.UNMAPPABLE, _where(dev),
                             reason=reason, severity=hw_report.ERROR)
            raise UnmappableDevices(
                'the guest has devices that cannot be mapped to the '
                'destination: %s; remove them, or set the unmappable '
                'device policy to drop' % '; '.join(
                    '%s (%s)' % (_where(d), r) for d, r in found),
                self.rep)
        for dev, reason in found:
            self.rep.add(hw_report.DROPPED, _where(dev), reason=reason,
                         severity=hw_report.WARNING)
            _drop(dev)

    def removals(self):
        for rule in self.profile.removals:
            for el in self.root.findall(rule.xpath):
                self.rep.add(hw_report.REMOVED, _where(el), reason=rule.reason)
                _drop(el)

    def domain_type(self):
        old = self.root.get('type')
        if old != self.target.accelerator:
            self.root.set('type', self.target.accelerator)
            self.rep.add(hw_report.CHANGED, 'domain type', old,
                         self.target.accelerator)
        self.rep.target_type = self.target.accelerator
        if self.profile.foreign:
            for el in self.devices.findall('./emulator'):
                self.rep.add(hw_report.REMOVED, 'emulator', el.text, None,
                             'the destination uses its own QEMU')
                _drop(el)

    def os_checks(self):
        os_el = self.root.find('./os')
        os_type = os_el.find('./type') if os_el is not None else None
        if os_type is None or (os_type.text or '').strip() != 'hvm':
            raise UnsupportedGuest(
                'the guest is not a fully virtualized (hvm) guest: os type '
                '%r; a Xen paravirtual guest needs a guest-side conversion '
                '(virt-v2v) before it can run on KVM'
                % (os_type.text if os_type is not None else None))
        arch = os_type.get('arch') or self.target.arch
        if arch != self.target.arch and not (
                arch == 'i686' and self.target.arch == 'x86_64'):
            raise UnsupportedGuest('the guest is %s, the destination runs %s'
                                   % (arch, self.target.arch))
        for tag in ('bootloader', 'bootloader_args'):
            if self.root.find('./%s' % tag) is not None:
                raise UnsupportedGuest('the guest boots through a host-side '
                                       'bootloader (%s), which KVM has not'
                                       % tag)
        if not self.profile.keep_kernel_boot:
            for tag in ('kernel', 'initrd'):
                if os_el.find('./%s' % tag) is not None:
                    raise UnsupportedGuest(
                        'the guest boots a kernel from the source host\'s '
                        'file system (<%s>)' % tag)
        return os_el, os_type

    def firmware(self, os_el):
        loader = os_el.find('./loader')
        uefi = os_el.get('firmware') == 'efi' or (
            loader is not None and (loader.get('type') == 'pflash' or
                                    UEFI_LOADER.search(loader.text or '')))
        secure = (loader is not None and loader.get('secure') == 'yes') or (
            os_el.find("./firmware/feature[@name='secure-boot']"
                       "[@enabled='yes']") is not None)
        if self.target.firmware and self.target.firmware != (
                'uefi' if uefi else 'bios'):
            if uefi:
                raise TranslationError(
                    'the definition boots UEFI; firmware %s was asked'
                    % self.target.firmware)
            uefi = self.target.firmware == 'uefi'
            self.rep.add(hw_report.NOTE, 'firmware', 'bios', 'uefi',
                         'as asked: the source definition names none')
        elif self.profile.name == 'hyperv' and not uefi:
            self.rep.add(hw_report.NOTE, 'firmware', None, 'bios',
                         'libvirt\'s Hyper-V driver does not report the VM '
                         'generation: a Generation 2 VM boots UEFI, say so '
                         '(firmware uefi) or it will not boot',
                         hw_report.WARNING)
        self.rep.firmware = 'uefi' if uefi else 'bios'
        if secure:
            self.rep.firmware = 'uefi-secure-boot'
        return uefi, secure

    def machine(self, os_type, uefi):
        old = os_type.get('machine') or ''
        self.rep.source_machine = old
        target = self.target
        if target.machine:
            new = target.machine
        elif not self.profile.foreign and old:
            new = machines.pick(old, target.machine_types) if (
                target.machine_types) else old
            if new is None:
                raise UnsupportedGuest(
                    'the destination runs no machine type of the %s family '
                    '(it runs: %s)' % (machines.family(old),
                                       ', '.join(target.machine_types)))
        else:
            fam = machines.Q35 if uefi else machines.family(
                self.profile.bios_machine)
            if old and not self.profile.foreign:
                fam = machines.family(old)
            new = machines.pick_family(fam, target.machine_types)
            if new is None:
                raise UnsupportedGuest(
                    'the destination runs no %s machine type (it runs: %s)'
                    % (fam, ', '.join(target.machine_types)))
        self.family = machines.family(new)
        old_family = machines.family(old) if old else None
        self.replatform = self.profile.foreign or (
            old_family is not None and old_family != self.family)
        if new != old:
            os_type.set('machine', new)
            reason = ''
            if uefi and self.profile.foreign:
                reason = 'UEFI guests get q35'
            self.rep.add(hw_report.CHANGED, 'machine', old or None, new,
                         reason)
        self.rep.machine = new
        if self.replatform:
            removed = []
            for ctrl in self.devices.findall('./controller'):
                if ctrl.get('type') in PLATFORM_CONTROLLERS:
                    removed.append('%s %s' % (ctrl.get('type'),
                                              ctrl.get('index', '0')))
                    _drop(ctrl)
            if removed:
                self.rep.add(hw_report.REMOVED, 'controllers',
                             ', '.join(removed), None,
                             'the %s machine brings its own' % new)
            for addr in self.devices.findall('./*/address'):
                _drop(addr)

    def set_firmware(self, os_el, uefi, secure):
        if not uefi:
            return
        nvram = os_el.find('./nvram')
        if self.profile.foreign:
            for el in os_el.findall('./loader'):
                _drop(el)
            os_el.set('firmware', 'efi')
            if secure:
                self.rep.add(hw_report.NOTE, 'firmware', 'secure boot', None,
                             'the source\'s secure boot keys do not carry '
                             'over: OVMF boots with its own defaults',
                             hw_report.WARNING)
            old = nvram.text if nvram is not None else None
            if nvram is None:
                nvram = _sub(os_el, 'nvram')
            for attr in list(nvram.attrib):
                del nvram.attrib[attr]
            if self.target.instances_path is None:
                _drop(nvram)
                new = None
            else:
                new = posixpath.join(self.target.instances_path,
                                     self.guest_dir(), 'nvram')
                nvram.text = new
            self.rep.add(hw_report.CHANGED, 'nvram', old, new,
                         'a %s variable store is not an OVMF one: a fresh '
                         'store is made from OVMF\'s template; the guest '
                         'boots its EFI\\BOOT\\BOOTX64.EFI fallback or its '
                         'boot entries are made anew' % self.profile.name,
                         hw_report.WARNING)
            return
        if nvram is not None and nvram.text:
            old = nvram.text.strip()
            parts = _source_parts(old, 'posix')
            new = old
            if self.target.instances_path is not None and not _inside(
                    self.target.instances_path, old):
                new = posixpath.join(self.target.instances_path,
                                     self.guest_dir(), parts[-1])
                nvram.text = new
                self.rep.add(hw_report.CHANGED, 'nvram', old, new,
                             'moved under the instances directory')
            _check_dest_path(self.target, new, 'nvram')
            self.rep.extra_files.append(hw_report.ExtraFile('nvram', old,
                                                            new))

    def features(self):
        if not self.profile.foreign:
            return
        features = self.root.find('./features')
        if features is None:
            features = etree.Element('features')
            anchor = self.root.find('./os')
            anchor.addnext(features)
        for name in ('acpi', 'apic'):
            if features.find('./%s' % name) is None:
                _sub(features, name)
                self.rep.add(hw_report.ADDED, 'feature %s' % name,
                             reason='KVM guests power off and route '
                                    'interrupts through it')

    def cpu(self):
        cpu = self.root.find('./cpu')
        mode = cpu.get('mode', 'custom') if cpu is not None else None
        old = mode
        if cpu is not None and mode == 'custom':
            old = 'custom %s' % (cpu.findtext('./model') or '(no model)')
        tcg = self.target.accelerator == 'qemu'
        if not self.profile.foreign and not (
                tcg and mode in ('host-model', 'host-passthrough')):
            return
        if self.profile.foreign and cpu is not None and mode == 'custom' and (
                cpu.find('./model') is None):
            # The ESX and Hyper-V drivers give a topology only: keep it.
            mode = None
        topology = cpu.find('./topology') if cpu is not None else None
        if cpu is None:
            cpu = etree.Element('cpu')
            anchor = self.root.find('./features')
            if anchor is None:
                anchor = self.root.find('./os')
            anchor.addnext(cpu)
        for child in list(cpu):
            _drop(child)
        for attr in list(cpu.attrib):
            del cpu.attrib[attr]
        if not tcg:
            cpu.set('mode', 'host-model')
            new = 'host-model'
        elif self.target.cpu_model:
            cpu.set('mode', 'custom')
            cpu.set('match', 'exact')
            cpu.set('check', 'none')
            model = _sub(cpu, 'model', fallback='allow')
            model.text = self.target.cpu_model
            new = 'custom %s' % self.target.cpu_model
        else:
            new = 'QEMU\'s default model'
        if topology is not None:
            cpu.append(topology)
        elif not len(cpu) and not cpu.attrib:
            _drop(cpu)
        if old != new:
            self.rep.add(hw_report.CHANGED, 'cpu', old, new,
                         'TCG runs no host CPU model' if tcg
                         else 'a CPU model every KVM host runs')

    def disks(self):
        if self.family == machines.Q35:
            for disk in self.devices.findall("./disk[@device='floppy']"):
                if self.target.unmappable == 'refuse':
                    self.rep.add(hw_report.UNMAPPABLE, _where(disk),
                                 reason='q35 has no floppy controller',
                                 severity=hw_report.ERROR)
                    raise UnmappableDevices(
                        'the guest has a floppy drive and the destination '
                        'machine (q35) has no floppy controller', self.rep)
                self.rep.add(hw_report.DROPPED, _where(disk),
                             reason='q35 has no floppy controller',
                             severity=hw_report.WARNING)
                _drop(disk)
        disks = self.devices.findall('./disk')
        used = set()
        plans = []
        # File names taken in the guest's directory: the kept disks and
        # NVRAM, then each relocated disk's (two disks never share a file).
        relocated = set()
        if self.target.instances_path is not None:
            guest_dir = posixpath.join(self.target.instances_path,
                                       self.guest_dir())
            kept = [d.find('./source').get('file') for d in disks
                    if d.find('./source') is not None]
            kept += [f.path for f in self.rep.extra_files]
            relocated = {posixpath.basename(p) for p in kept
                         if p and posixpath.dirname(p) == guest_dir}
        for disk in disks:
            target_el = disk.find('./target')
            if target_el is None:
                raise TranslationError('a disk has no <target>')
            dev = target_el.get('dev', '')
            bus = target_el.get('bus') or self._bus_of(dev)
            device = disk.get('device', 'disk')
            source = disk.find('./source')
            src_path = None
            if source is not None:
                src_path = source.get('file') or source.get('dev')
            parts = (_source_parts(src_path, self.profile.path_style)
                     if src_path else [])
            fmt = _format_of(disk, parts)
            new_bus = self._new_bus(device, bus)
            plans.append((disk, target_el, dev, bus, new_bus, device,
                          source, src_path, parts, fmt))
            if new_bus == bus:
                used.add(dev)
        for (disk, target_el, dev, bus, new_bus, device, source, src_path,
             parts, fmt) in plans:
            new_dev = dev
            if new_bus != bus:
                prefix = BUS_PREFIX.get(new_bus)
                if prefix is None:
                    raise TranslationError('unknown disk bus %r' % new_bus)
                index = 0
                while _dev_name(prefix, index) in used:
                    index += 1
                new_dev = _dev_name(prefix, index)
                used.add(new_dev)
                target_el.set('dev', new_dev)
                target_el.set('bus', new_bus)
                for addr in disk.findall('./address'):
                    _drop(addr)
                self.rep.add(hw_report.CHANGED, '%s %s' % (device, dev),
                             bus, '%s (%s)' % (new_bus, new_dev))
            new_path, new_fmt = self._disk_source(
                disk, device, dev, source, src_path, parts, fmt, relocated)
            size = self._lookup(self.disk_sizes, dev, src_path)
            self.rep.disks.append(hw_report.DiskMapping(
                device=device, source_target=dev, source_bus=bus,
                source_path=src_path, source_format=fmt, target=new_dev,
                bus=new_bus, path=new_path, format=new_fmt,
                virtual_size=int(size) if size is not None else None))

    def _bus_of(self, dev):
        for prefix, bus in (('vd', 'virtio'), ('sd', 'scsi'), ('hd', 'ide'),
                            ('xvd', 'xen'), ('fd', 'fdc')):
            if dev.startswith(prefix):
                return bus
        return 'ide'

    def _new_bus(self, device, bus):
        if device == 'disk':
            new = self.override(bus, self.profile.disk_bus.get(bus, bus))
        elif device == 'cdrom':
            new = bus
            if self.profile.foreign or (bus == 'ide' and
                                        self.family == machines.Q35):
                new = tables.CDROM_BUS.get(self.family, 'ide')
        else:
            new = bus
        if new == 'ide' and self.family == machines.Q35:
            # q35 has no IDE: a disk there goes where the others go.
            new = self.target.disk_bus if device == 'disk' else 'sata'
        if new == 'xen':
            new = self.target.disk_bus
        return new

    def _disk_source(self, disk, device, dev, source, src_path, parts, fmt,
                     relocated):
        """Set the disk's destination path and format: (path, format)."""
        if src_path is None:
            return None, fmt
        if disk.get('type', 'file') != 'file' and (
                self.target.keep_host_disks):
            return src_path, fmt
        if device != 'disk':
            # Install media: kept where they are Nova's (config drive),
            # ejected where they are the source hypervisor's.
            if self.profile.foreign or (
                    self.target.instances_path is not None and
                    not _inside(self.target.instances_path, src_path)):
                _drop(source)
                self.rep.add(hw_report.REMOVED, '%s %s media' % (device, dev),
                             src_path, None,
                             'install media stay on the source: ejected',
                             hw_report.WARNING)
                return None, fmt
            _check_dest_path(self.target, src_path, '%s %s' % (device, dev))
            return src_path, fmt
        new_fmt = self._lookup(self.disk_formats, dev, src_path)
        if new_fmt is None:
            new_fmt = (fmt if fmt in tables.TARGET_DISK_FORMATS
                       else self.target.disk_format)
        if new_fmt not in tables.TARGET_DISK_FORMATS:
            raise TranslationError('disk %s: %s is not a destination format'
                                   % (dev, new_fmt))
        if fmt not in tables.CONVERTIBLE_FORMATS:
            raise UnsupportedGuest('disk %s is in %s, which nova-v2v does '
                                   'not convert (it converts %s)'
                                   % (dev, fmt,
                                      ', '.join(tables.CONVERTIBLE_FORMATS)))
        new_path = self._lookup(self.disk_paths, dev, src_path)
        if new_path is None:
            keep = (not self.profile.foreign and (
                self.target.instances_path is None or
                _inside(self.target.instances_path, src_path)))
            if keep:
                new_path = src_path
            elif self.target.instances_path is None:
                raise TranslationError('disk %s must move, and no instances '
                                       'path was given' % dev)
            else:
                stem = posixpath.splitext(parts[-1])[0] or 'disk'
                _check_component(stem, 'disk file name')
                ext = '.qcow2' if new_fmt == 'qcow2' else '.img'
                name = stem + ext
                n = 1
                while name in relocated:
                    name = '%s-%d%s' % (stem, n, ext)
                    n += 1
                relocated.add(name)
                new_path = posixpath.join(self.target.instances_path,
                                          self.guest_dir(), name)
        _check_dest_path(self.target, new_path, 'disk %s' % dev)
        if disk.get('type', 'file') != 'file':
            disk.set('type', 'file')
        if new_path != src_path:
            source.set('file', new_path)
            self.rep.add(hw_report.CHANGED, 'disk %s path' % dev, src_path,
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
            self.rep.add(hw_report.CHANGED, 'disk %s format' % dev, fmt,
                         new_fmt, 'converted on the way')
        return new_path, new_fmt

    @staticmethod
    def _lookup(mapping, dev, path):
        if not mapping:
            return None
        if dev in mapping:
            return mapping[dev]
        return mapping.get(path)

    def controllers(self):
        buses = {d.find('./target').get('bus')
                 for d in self.devices.findall('./disk')
                 if d.find('./target') is not None}
        for ctrl in self.devices.findall('./controller'):
            kind = ctrl.get('type')
            where = _where(ctrl)
            if kind == 'scsi':
                if 'scsi' not in buses:
                    self.rep.add(hw_report.REMOVED, where,
                                 ctrl.get('model'), None,
                                 'no disk is left on it')
                    _drop(ctrl)
                    continue
                model = ctrl.get('model')
                planner_name = LIBVIRT_TO_SCSI_MODEL.get(model, model)
                table = self.profile.scsi_model.get(model)
                new = self.override(planner_name, table)
                if new is None and model in self.target.overrides:
                    new = self.target.overrides[model]
                if new:
                    new = SCSI_MODEL_TO_LIBVIRT.get(new, new)
                if new and new != model:
                    ctrl.set('model', new)
                    for addr in ctrl.findall('./address'):
                        _drop(addr)
                    self.rep.add(hw_report.CHANGED, where, model, new)
            elif kind in ('ide', 'sata', 'fdc') and kind not in buses and (
                    not self.devices.findall(
                        "./disk/target[@bus='%s']" % kind)):
                if kind == 'ide' and self.family == machines.Q35:
                    self.rep.add(hw_report.REMOVED, where, reason='q35 has '
                                 'no IDE and no disk is left on it')
                    _drop(ctrl)

    def interfaces(self):
        for nic in self.devices.findall('./interface'):
            where = _where(nic)
            mac = nic.find('./mac')
            if mac is None:
                self.rep.add(hw_report.NOTE, where, reason='the source gives '
                             'no MAC address: the destination makes one',
                             severity=hw_report.WARNING)
            else:
                self.rep.macs.append(mac.get('address'))
            model_el = nic.find('./model')
            model = model_el.get('type') if model_el is not None else None
            table = self.profile.nic_model.get(model, model)
            new = self.override(model, table)
            if new and new != model:
                if model_el is None:
                    model_el = etree.Element('model')
                    anchor = nic.find('./source')
                    if anchor is None:
                        anchor = mac
                    if anchor is not None:
                        anchor.addnext(model_el)
                    else:
                        nic.insert(0, model_el)
                model_el.set('type', new)
                for addr in nic.findall('./address'):
                    _drop(addr)
                self.rep.add(hw_report.CHANGED, where, model or '(none)', new)
            if self.profile.map_networks and nic.get('type') in (
                    'bridge', 'network'):
                self._map_network(nic, where)

    def _map_network(self, nic, where):
        source = nic.find('./source')
        if source is None:
            source = etree.Element('source')
            mac = nic.find('./mac')
            if mac is not None:
                mac.addnext(source)
            else:
                nic.insert(0, source)
        old = source.get('bridge') or source.get('network')
        kind, name = self.target.networks.get(old,
                                              self.target.default_network)
        for attr in list(source.attrib):
            del source.attrib[attr]
        nic.set('type', kind)
        source.set(kind, name)
        self.rep.add(hw_report.CHANGED, '%s network' % where, old,
                     '%s %s' % (kind, name),
                     '' if old in self.target.networks else
                     'no mapping given for it: the default',
                     hw_report.INFO if old in self.target.networks
                     else hw_report.WARNING)

    def video_and_sound(self):
        for video in self.devices.findall('./video/model'):
            old = video.get('type')
            new = self.override(old, self.profile.video_model.get(old, old))
            if new != old:
                for attr in ('vram', 'vgamem', 'ram', 'vram64'):
                    video.attrib.pop(attr, None)
                for child in list(video):
                    _drop(child)
                video.set('type', new)
                for addr in video.getparent().findall('./address'):
                    _drop(addr)
                self.rep.add(hw_report.CHANGED, 'video', old, new)
        for sound in self.devices.findall('./sound'):
            old = sound.get('model')
            new = self.override(old, self.profile.sound_model.get(old, old))
            if new != old:
                sound.set('model', new)
                self.rep.add(hw_report.CHANGED, 'sound', old, new)
        for graphics in self.devices.findall('./graphics'):
            if graphics.get('type') in ('rdp', 'desktop'):
                old = graphics.get('type')
                for attr in list(graphics.attrib):
                    del graphics.attrib[attr]
                for child in list(graphics):
                    _drop(child)
                graphics.set('type', 'vnc')
                graphics.set('autoport', 'yes')
                self.rep.add(hw_report.CHANGED, 'graphics', old, 'vnc')
        for tpm in self.devices.findall("./tpm/backend[@type='emulator']"):
            self.rep.add(hw_report.NOTE, 'tpm', reason='the emulated TPM\'s '
                         'state stays on the source host: the guest gets a '
                         'fresh TPM, and secrets sealed to the old one (disk '
                         'encryption keys) must be recovered',
                         severity=hw_report.WARNING)
        for balloon in self.devices.findall('./memballoon'):
            old = balloon.get('model')
            if old not in ('virtio', 'none', 'virtio-transitional',
                           'virtio-non-transitional'):
                balloon.set('model', 'virtio')
                self.rep.add(hw_report.CHANGED, 'memballoon', old, 'virtio')

    def console(self):
        for con in self.devices.findall('./console/target'):
            if con.get('type') not in (None, 'serial', 'virtio'):
                self.rep.add(hw_report.CHANGED, 'console', con.get('type'),
                             'serial')
                con.set('type', 'serial')
        if self.profile.foreign:
            for serial in self.devices.findall('./serial'):
                if serial.get('type') not in ('pty', 'file', 'null'):
                    old = serial.get('type')
                    for child in list(serial):
                        if child.tag != 'target':
                            _drop(child)
                    serial.set('type', 'pty')
                    self.rep.add(hw_report.CHANGED, 'serial', old, 'pty',
                                 'the source\'s %s backend does not exist '
                                 'here' % old)
        if self.devices.find('./serial') is None:
            serial = _sub(self.devices, 'serial', type='pty')
            _sub(serial, 'target', port='0')
            self.rep.add(hw_report.ADDED, 'serial', None, 'pty',
                         'a serial console for the guest\'s log')
        if self.devices.find('./console') is None:
            console = _sub(self.devices, 'console', type='pty')
            _sub(console, 'target', type='serial', port='0')
            self.rep.add(hw_report.ADDED, 'console', None, 'serial')

    def reorder_devices(self):
        # libvirt's schema wants <emulator> first in <devices>; new
        # elements were appended.
        emulator = self.devices.find('./emulator')
        if emulator is not None and self.devices.index(emulator) != 0:
            self.devices.remove(emulator)
            self.devices.insert(0, emulator)


def translate(xml, target, name=None, uuid=None, keep_uuid=True,
              disk_paths=None, disk_formats=None, disk_sizes=None):
    """The destination's domain XML for a guest, and what changed.

    :param xml: the source's domain XML, live or inactive (str or bytes)
    :param target: a :class:`Target`
    :param name: the translated guest's name (default: unchanged)
    :param uuid: its UUID (default: unchanged, or none with ``keep_uuid``
        False so that libvirt makes one)
    :param disk_paths: ``{source target dev or path: destination path}``
    :param disk_formats: ``{source target dev or path: destination format}``
    :param disk_sizes: ``{source target dev or path: virtual size}`` when
        known, checked against the size limit
    :returns: :class:`Translation`
    :raises: :class:`HostileInput` (:class:`PathEscape`,
        :class:`LimitExceeded`), :class:`UnsupportedGuest`,
        :class:`UnmappableDevices`, :class:`TranslationError`
    """
    _check_target(target)
    root = _parse(xml)
    _check_limits(root, disk_sizes)
    source_type = root.get('type', '')
    profile = tables.profile_for(source_type)
    if profile is None:
        raise UnsupportedGuest(
            'no mapping table for domain type %r (tables: %s)'
            % (source_type, ', '.join(sorted(tables.BY_DOMAIN_TYPE))))
    rep = hw_report.Report(source_profile=profile.name,
                           source_type=source_type)
    tr = _Translator(root, target, profile, rep, disk_paths, disk_formats,
                     disk_sizes)
    os_el, os_type = tr.os_checks()
    tr.strip_source_host_state(keep_uuid or uuid)
    if name:
        tr.root.find('./name').text = name
    if uuid:
        uuid_el = tr.root.find('./uuid')
        if uuid_el is None:
            uuid_el = etree.Element('uuid')
            tr.root.find('./name').addnext(uuid_el)
        uuid_el.text = uuid
    uefi, secure = tr.firmware(os_el)
    tr.unmappable()
    tr.removals()
    tr.domain_type()
    tr.machine(os_type, uefi)
    tr.set_firmware(os_el, uefi, secure)
    tr.features()
    tr.cpu()
    tr.disks()
    tr.controllers()
    tr.interfaces()
    tr.video_and_sound()
    tr.console()
    tr.reorder_devices()
    etree.cleanup_namespaces(tr.root)
    # Re-indent: removed and added elements leave the old layout behind.
    text = etree.tostring(tr.root)
    tidy = etree.fromstring(text, etree.XMLParser(remove_blank_text=True,
                                                  resolve_entities=False,
                                                  no_network=True))
    out = etree.tostring(tidy, pretty_print=True).decode('utf-8')
    return Translation(out, rep)


def _field(change, name):
    if isinstance(change, dict):
        return change[name]
    return getattr(change, name)


def target_from_changes(xml, hardware_changes, instances_path=None,
                        unmappable='refuse'):
    """The :class:`Target` a plan's hardware changes describe.

    The planner decides the destination's accelerator, machine and model
    translations (:class:`~nova_v2v.planning.planner.HardwareChange`);
    the translator applies them with its tables.
    """
    root = _parse(xml)
    accel = root.get('type')
    machine = None
    overrides = {}
    for change in hardware_changes or ():
        kind = _field(change, 'kind')
        old, new = _field(change, 'old'), _field(change, 'new')
        if kind not in KNOWN_KINDS:
            raise UnknownChange('unknown hardware change kind %r (known: %s)'
                                % (kind, ', '.join(KNOWN_KINDS)))
        if kind == 'domain-type':
            if accel != old:
                raise TranslationError('domain type is %s, not %s'
                                       % (accel, old))
            accel = new
        elif kind == 'machine':
            machine = new
        elif kind == 'disk-bus':
            dev = _field(change, 'device')
            found = root.find("./devices/disk/target[@dev='%s']" % dev
                              if "'" not in dev else './none')
            if found is None or found.get('bus', old) != old:
                raise TranslationError('no disk %s on bus %s' % (dev, old))
            overrides[old] = new
        elif kind == 'nic-model':
            overrides[old] = new
        elif kind == 'scsi-model':
            overrides[old] = new
            overrides[SCSI_MODEL_TO_LIBVIRT.get(old, old)] = new
    if accel not in tables.TARGET_DOMAIN_TYPES:
        raise TranslationError('no change takes the %s guest to kvm or qemu'
                               % accel)
    return Target(accelerator=accel, machine=machine,
                  instances_path=instances_path, overrides=overrides,
                  unmappable=unmappable, keep_host_disks=True)


def translate_domain_xml(xml, hardware_changes, new_name=None,
                         new_uuid=None, disk_paths=None, disk_formats=None,
                         keep_uuid=True, instances_path=None,
                         unmappable='refuse'):
    """The clone's domain XML (a str) for a plan's hardware changes.

    What the cutover and the offline migration define on the destination:
    :func:`translate` with the :class:`Target` of
    :func:`target_from_changes`; disk paths stay identical unless
    ``disk_paths`` says otherwise.
    """
    formats = dict(disk_formats or {})
    for change in hardware_changes or ():
        if _field(change, 'kind') == 'disk-format':
            formats[_field(change, 'device')] = _field(change, 'new')
    target = target_from_changes(xml, hardware_changes, instances_path,
                                 unmappable)
    return translate(xml, target, name=new_name, uuid=new_uuid,
                     keep_uuid=keep_uuid, disk_paths=disk_paths,
                     disk_formats=formats).xml


def disk_targets(xml):
    """[(target dev, bus, source path, driver type)] of the file disks."""
    result = []
    for disk in _parse(xml).findall('./devices/disk'):
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
