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

"""An OVF VirtualSystem's hardware, as libvirt's VMware driver names it.

Pure. :func:`read_system` reads a ``VirtualSystem`` element (its
``VirtualHardwareSection`` items, CIM ResourceType numbers of DSP1041,
and VMware's ``vmw:`` extensions) into a :class:`Guest`;
:func:`domain_xml` writes the ``<domain type='vmware'>`` libvirt's ESX
driver gives for such a guest (disk target names and addresses as its
VMX reader computes them).
"""

import dataclasses
import re
import typing

from lxml import etree

from nova_v2v.exports import base
from nova_v2v.hardware import disks as hw_disks

VMW_NAMESPACE = 'http://www.vmware.com/schema/ovf'
# CIM ResourceType values (DSP1041) the reader maps.
RT_OTHER = '1'
RT_CPU = '3'
RT_MEMORY = '4'
RT_IDE = '5'
RT_SCSI = '6'
RT_ETHERNET = '10'
RT_FLOPPY = '14'
RT_CDROM = ('15', '16')
RT_DISK = '17'
RT_OTHER_STORAGE = '20'
RT_VIDEO = '24'
_RESOURCE_NAMES = {'1': 'other device', '2': 'computer system',
                   '21': 'serial port', '22': 'parallel port',
                   '23': 'USB controller', '35': 'sound card',
                   '25': 'keyboard', '13': 'pointing device'}
# SCSI ResourceSubType -> libvirt's controller model.
SCSI_MODELS = {'lsilogic': 'lsilogic', 'buslogic': 'buslogic',
               'lsilogicsas': 'lsisas1068', 'virtualscsi': 'vmpvscsi',
               'vmware.scsi.pvscsi': 'vmpvscsi'}
SATA_SUBTYPES = ('vmware.sata.ahci', 'ahci')
NVME_SUBTYPES = ('vmware.nvme.controller',)
# NIC ResourceSubType -> libvirt's model (its VMX driver's names).
NIC_MODELS = {'e1000': 'e1000', 'e1000e': 'e1000e', 'vmxnet3': 'vmxnet3',
              'vmxnet2': 'vmxnet2', 'vmxnet': 'vmxnet', 'pcnet32': 'vlance',
              'vlance': 'vlance', 'flexible': 'vlance'}
_MAC = re.compile(r'^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$')
_UUID = re.compile(r'^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$')
_UNIT = re.compile(r'^byte(?:\*(\d+)\^(\d+))?$')
_NAMED_UNITS = {'byte': 1, 'bytes': 1, 'kilobytes': 2 ** 10, 'kb': 2 ** 10,
                'megabytes': 2 ** 20, 'mb': 2 ** 20,
                'gigabytes': 2 ** 30, 'gb': 2 ** 30}
# CIM operating system ids (CIM_OperatingSystem.OsType) of 64-bit guests.
_CIM_64BIT = {'80', '81', '83', '85', '88', '94', '96', '100', '101',
              '103', '105', '106', '107', '108', '110', '113'}
_MAX_NICS = base.MAX_DISKS
# Items of a hardware section: a real guest has a few dozen.
MAX_ITEMS = 1024
# Controllers VMware has of each bus.
_MAX_CONTROLLERS = {'scsi': 4, 'sata': 4, 'nvme': 4, 'ide': 2}
_FIELD_SPELLINGS = {'InstanceId': 'InstanceID'}
_BUS_ORDER = {'scsi': 0, 'sata': 1, 'ide': 2, 'nvme': 3}


def unit_bytes(units, what):
    """Bytes of one unit of a programmatic unit (``byte * 2^20``).

    :raises: UnsupportedExport for a unit that is not of bytes
    """
    key = re.sub(r'\s+', '', units or '').lower()
    if key in _NAMED_UNITS:
        return _NAMED_UNITS[key]
    match = _UNIT.match(key)
    if match:
        if match.group(1) is None:
            return 1
        base_, exp = int(match.group(1)), int(match.group(2))
        if base_ in (2, 10) and exp <= 60:
            return base_ ** exp
    raise base.UnsupportedExport('%s is in units %r, which the reader does '
                                 'not know' % (what, units))


@dataclasses.dataclass
class Slot:
    """A disk, CD-ROM or floppy drive of the guest."""

    device: str
    bus: str
    controller: int
    unit: int
    target: str
    name: str
    host_resource: typing.Optional[str] = None
    bus_index: int = 0

    def describe(self):
        return '%s (%s %s)' % (self.name, self.bus, self.target)


@dataclasses.dataclass
class Nic:
    mac: typing.Optional[str]
    network: str
    model: str


@dataclasses.dataclass
class Guest:
    name: str
    uuid: typing.Optional[str] = None
    description: typing.Optional[str] = None
    vcpus: int = 1
    cores: typing.Optional[int] = None
    memory: int = 0
    arch: str = 'i686'
    firmware: str = 'bios'
    secure_boot: bool = False
    disks: typing.List[Slot] = dataclasses.field(default_factory=list)
    controllers: typing.List[typing.Tuple[str, int, typing.Optional[str]]] = (
        dataclasses.field(default_factory=list))
    nics: typing.List[Nic] = dataclasses.field(default_factory=list)
    vram: int = 4096
    notes: typing.List[str] = dataclasses.field(default_factory=list)


def _local(el):
    return etree.QName(el).localname if isinstance(el.tag, str) else None


def _item_fields(item):
    """({rasd field: text}, {vmw:Config key: value}) of an Item."""
    fields, config = {}, {}
    for child in item:
        name = _local(child)
        if name is None:
            continue
        if etree.QName(child).namespace == VMW_NAMESPACE:
            if name == 'Config':
                key, value = _key_value(child)
                if key:
                    config[key] = value
            else:
                fields['vmw:' + name] = (child.text or '').strip()
        else:
            # Old descriptors spell it InstanceId.
            name = _FIELD_SPELLINGS.get(name, name)
            if name not in fields:
                fields[name] = (child.text or '').strip()
    return fields, config


def _key_value(el):
    key = value = None
    for attr, val in el.attrib.items():
        local = etree.QName(attr).localname
        if local == 'key':
            key = val
        elif local == 'value':
            value = val
    return key, value


def _true(value):
    return (value or '').strip().lower() in ('true', '1', 'yes')


def _hardware_section(system, ns, notes):
    sections = system.findall('./{%s}VirtualHardwareSection' % ns)
    if not sections:
        raise base.ExportError('the VirtualSystem has no '
                               'VirtualHardwareSection')
    for section in sections:
        vtype = ' '.join((el.text or '') for el in section.iterfind(
            './{%s}System/*' % ns) if _local(el) == 'VirtualSystemType')
        if vtype and 'vmx-' in vtype:
            if len(sections) > 1:
                notes.append('the hardware section of type %s is read, '
                             'the %d others not' % (vtype.strip(),
                                                    len(sections) - 1))
            return section
    if len(sections) > 1:
        notes.append('the first of %d hardware sections is read'
                     % len(sections))
    return sections[0]


def _configuration(system, ns, notes):
    """The deployment configuration whose items apply (None: all)."""
    root = system.getroottree().getroot()
    configs = root.findall('./{%s}DeploymentOptionSection/'
                           '{%s}Configuration' % (ns, ns))
    if not configs:
        return None
    chosen = configs[0]
    for config in configs:
        if (config.get('{%s}default' % ns) or '').lower() == 'true':
            chosen = config
    name = chosen.get('{%s}id' % ns)
    notes.append('the deployment option %s is read (of %s)' % (
        name, ', '.join(c.get('{%s}id' % ns) or '?' for c in configs)))
    return name


def read_system(system, ns, default_name):
    """The :class:`Guest` of a ``VirtualSystem`` element.

    :param ns: the envelope's OVF namespace
    :param default_name: the guest's name when the descriptor has none
    :raises: ExportError, UnsupportedExport, HostileExport
    """
    notes = []
    name = ' '.join((system.findtext('./{%s}Name' % ns) or '').split())
    if not name:
        name = default_name
        notes.append('the descriptor names no guest: named %s after its '
                     'file' % name)
    if '/' in name:
        # libvirt refuses a name with a slash.
        notes.append('the guest\'s name %r has a slash: named with a dash'
                     % name)
        name = name.replace('/', '-')
    guest = Guest(name=name, notes=notes)
    annotation = system.findtext('./{%s}AnnotationSection/{%s}Annotation'
                                 % (ns, ns))
    if annotation and annotation.strip():
        guest.description = annotation.strip()
    _read_os(system, ns, guest)
    section = _hardware_section(system, ns, notes)
    config_id = _configuration(system, ns, notes)
    items = []
    for item in section:
        if _local(item) not in ('Item', 'StorageItem', 'EthernetPortItem'):
            if _local(item) in ('Config', 'ExtraConfig'):
                key, value = _key_value(item)
                if key:
                    _global_config(guest, key, value)
            continue
        wanted = item.get('{%s}configuration' % ns)
        if config_id and wanted and config_id not in wanted.split():
            continue
        fields, config = _item_fields(item)
        items.append((fields, config))
        if len(items) > MAX_ITEMS:
            raise base.HostileExport('the hardware section has more than %d '
                                     'items' % MAX_ITEMS)
    _read_items(guest, items)
    return guest


def _read_os(system, ns, guest):
    section = system.find('./{%s}OperatingSystemSection' % ns)
    if section is None:
        guest.notes.append('the descriptor names no operating system: '
                           'taken as 32-bit (i686)')
        return
    os_type = section.get('{%s}osType' % VMW_NAMESPACE) or ''
    cim_id = section.get('{%s}id' % ns) or ''
    text = section.findtext('./{%s}Description' % ns) or ''
    if os_type:
        is64 = '64' in os_type
    else:
        is64 = cim_id in _CIM_64BIT or bool(
            re.search(r'64[- ]?bit', text, re.I))
    guest.arch = 'x86_64' if is64 else 'i686'


def _global_config(guest, key, value):
    if key == 'firmware':
        guest.firmware = 'efi' if (value or '').lower() == 'efi' else 'bios'
    elif key in ('bootOptions.efiSecureBootEnabled',
                 'uefi.secureBoot.enabled'):
        guest.secure_boot = guest.secure_boot or _true(value)
    elif key == 'uuid' and _UUID.match(value or ''):
        guest.uuid = value.lower()


def _int(fields, key, what, default=None):
    value = fields.get(key)
    if value in (None, ''):
        return default
    if not value.isdigit():
        raise base.ExportError('%s %s is %r, not a number'
                               % (what, key, value))
    return int(value)


def _read_items(guest, items):
    controllers = {}
    counts = {}
    slots = []
    for fields, config in items:
        rtype = fields.get('ResourceType', '')
        subtype = _subtype(fields)
        label = fields.get('ElementName') or fields.get('Caption') or (
            'item %s' % fields.get('InstanceID', '?'))
        if rtype == RT_CPU:
            guest.vcpus = _int(fields, 'VirtualQuantity', 'CPU', 1) or 1
            guest.cores = _int(fields, 'vmw:CoresPerSocket', 'CPU')
        elif rtype == RT_MEMORY:
            units = fields.get('AllocationUnits')
            if not units:
                guest.notes.append('the memory has no units: taken as MB')
                units = 'byte * 2^20'
            guest.memory = _int(fields, 'VirtualQuantity', 'memory', 0) * (
                unit_bytes(units, 'the memory'))
        elif rtype in (RT_IDE, RT_SCSI) or (
                rtype == RT_OTHER_STORAGE and subtype.lower() in
                SATA_SUBTYPES + NVME_SUBTYPES):
            bus = _controller_bus(rtype, subtype)
            index = counts.get(bus, 0)
            counts[bus] = index + 1
            address = _int(fields, 'Address', label, index)
            if address >= _MAX_CONTROLLERS[bus]:
                raise base.ExportError('%s is %s controller %d: VMware has '
                                       '%d' % (label, bus, address,
                                               _MAX_CONTROLLERS[bus]))
            model = None
            if bus == 'scsi':
                model = SCSI_MODELS.get(subtype.lower())
                if model is None:
                    guest.notes.append('SCSI controller %s of model %r: '
                                       'taken as lsilogic' % (label,
                                                              subtype))
                    model = 'lsilogic'
            controllers[fields.get('InstanceID')] = (bus, address, model)
        elif rtype in (RT_DISK, RT_FLOPPY) + RT_CDROM:
            slots.append((rtype, fields, label))
        elif rtype == RT_ETHERNET:
            guest.nics.append(_nic(fields, label, guest.notes))
        elif rtype == RT_OTHER_STORAGE and subtype.lower().startswith(
                'vmware.nvdimm'):
            raise base.UnsupportedExport(
                '%s is persistent memory (NVDIMM), which the readers do not '
                'carry: its data would be lost' % label)
        elif rtype == RT_VIDEO:
            vram = config.get('videoRamSizeInKB')
            if vram and vram.isdigit() and int(vram) > 0:
                guest.vram = int(vram)
        else:
            what = _RESOURCE_NAMES.get(rtype, 'device of type %s' % rtype)
            guest.notes.append('%s (%s%s) is not carried' % (
                label, what, ', %s' % subtype if subtype else ''))
    if len(guest.nics) > _MAX_NICS:
        raise base.HostileExport('the guest has %d NICs, more than %d'
                                 % (len(guest.nics), _MAX_NICS))
    if guest.cores and guest.vcpus % guest.cores:
        guest.notes.append('%d vCPUs do not divide in sockets of %d cores: '
                           'no topology' % (guest.vcpus, guest.cores))
        guest.cores = None
    if guest.memory <= 0:
        raise base.ExportError('the descriptor gives the guest no memory')
    if guest.secure_boot and guest.firmware != 'efi':
        guest.notes.append('secure boot is set for a BIOS guest: ignored')
        guest.secure_boot = False
    _place_slots(guest, controllers, slots)


def _subtype(fields):
    """An item's ResourceSubType: the first the reader knows of a list.

    VMware lets a descriptor name alternatives (``"someother, lsilogic"``).
    """
    names = [n for n in re.split(r'[\s,]+', fields.get(
        'ResourceSubType', '')) if n]
    for name in names:
        low = name.lower()
        if (low in SCSI_MODELS or low in NIC_MODELS or low in SATA_SUBTYPES
                or low in NVME_SUBTYPES):
            return name
    return names[0] if names else ''


def _controller_bus(rtype, subtype):
    if rtype == RT_IDE:
        return 'ide'
    if rtype == RT_SCSI:
        return 'scsi'
    return 'sata' if subtype.lower() in SATA_SUBTYPES else 'nvme'


def _nic(fields, label, notes):
    subtype = _subtype(fields)
    model = NIC_MODELS.get(subtype.lower())
    if model is None:
        notes.append('%s of model %r: taken as e1000' % (label, subtype))
        model = 'e1000'
    network = fields.get('Connection', '').strip()
    if not network:
        notes.append('%s is connected to no network' % label)
    mac = fields.get('Address', '').strip()
    if mac and _MAC.match(mac) and mac.replace('-', ':') not in (
            '00:00:00:00:00:00',):
        mac = mac.replace('-', ':').lower()
    else:
        mac = None
    return Nic(mac=mac, network=network, model=model)


def _place_slots(guest, controllers, slots):
    used = set()
    for rtype, fields, label in slots:
        device = ('disk' if rtype == RT_DISK else
                  'floppy' if rtype == RT_FLOPPY else 'cdrom')
        resource = fields.get('HostResource') or None
        if device == 'floppy':
            guest.notes.append('floppy drive %s left out%s' % (
                label, ' with its image %s' % resource if resource
                else ' (no medium)'))
            continue
        parent = fields.get('Parent')
        if parent not in controllers:
            raise base.ExportError('%s is on no controller of the guest '
                                   '(parent %r)' % (label, parent))
        bus, index, _model = controllers[parent]
        unit = _int(fields, 'AddressOnParent', label, None)
        if unit is None:
            unit = sum(1 for s in guest.disks
                       if (s.bus, s.controller) == (bus, index))
        target, address = _target(bus, index, unit, label)
        # libvirt's VMX driver names a SATA and a SCSI drive alike (sda):
        # a name is unique on its bus only.
        if (bus, target) in used:
            raise base.ExportError('two drives of the guest are at %s %s'
                                   % (bus, target))
        used.add((bus, target))
        if device == 'cdrom' and resource:
            guest.notes.append('%s holds %s: the CD-ROM is left empty'
                               % (label, resource))
            resource = None
        guest.disks.append(Slot(device=device, bus=bus,
                                controller=address[0], unit=address[2],
                                bus_index=address[1], target=target,
                                name=label, host_resource=resource))
    # In the order libvirt's VMX driver lists them.
    guest.disks.sort(key=lambda s: (_BUS_ORDER[s.bus], s.controller,
                                    s.bus_index, s.unit))
    # The controllers libvirt shows: every one the drives use, and the
    # SCSI ones (their model is the guest's driver) whether used or not.
    seen = set()
    for bus, index, model in controllers.values():
        key = (bus, 0 if bus == 'ide' else index)
        if key in seen:
            continue
        seen.add(key)
        guest.controllers.append((bus, key[1], model))


def _target(bus, index, unit, label):
    """(target dev, (controller, bus, unit)) as libvirt's VMX driver has."""
    if bus == 'scsi':
        if index > 3 or unit > 64 or unit == 7:
            raise base.ExportError('%s is at SCSI %d:%d, which VMware does '
                                   'not have' % (label, index, unit))
        number = index * 64 + (unit if unit < 7 else unit - 1)
        return hw_disks.dev_name('sd', number), (index, 0, unit)
    if bus == 'ide':
        if index > 1 or unit > 1:
            raise base.ExportError('%s is at IDE %d:%d, which VMware does '
                                   'not have' % (label, index, unit))
        return hw_disks.dev_name('hd', index * 2 + unit), (0, index, unit)
    if bus == 'sata':
        if index > 3 or unit > 29:
            raise base.ExportError('%s is at SATA %d:%d, which VMware does '
                                   'not have' % (label, index, unit))
        return hw_disks.dev_name('sd', index * 30 + unit), (index, 0, unit)
    if index > 3 or unit > 63:
        raise base.ExportError('%s is at NVMe %d:%d, which VMware does '
                               'not have' % (label, index, unit))
    return 'nvme%dn%d' % (index, unit + 1), (index, 0, unit)


def domain_xml(guest, disks):
    """The ``<domain type='vmware'>`` text of a guest.

    :param disks: ``[(Slot, source path or None)]``, in the order of
        ``guest.disks``
    """
    dom = etree.Element('domain', type='vmware')
    etree.SubElement(dom, 'name').text = guest.name
    if guest.uuid:
        etree.SubElement(dom, 'uuid').text = guest.uuid
    if guest.description:
        etree.SubElement(dom, 'description').text = guest.description
    kib = str(guest.memory // 1024)
    etree.SubElement(dom, 'memory', unit='KiB').text = kib
    etree.SubElement(dom, 'currentMemory', unit='KiB').text = kib
    etree.SubElement(dom, 'vcpu', placement='static').text = str(
        guest.vcpus)
    os_el = etree.SubElement(dom, 'os')
    etree.SubElement(os_el, 'type', arch=guest.arch).text = 'hvm'
    if guest.firmware == 'efi':
        os_el.set('firmware', 'efi')
        if guest.secure_boot:
            fw = etree.SubElement(os_el, 'firmware')
            etree.SubElement(fw, 'feature', enabled='yes',
                             name='enrolled-keys')
            etree.SubElement(fw, 'feature', enabled='yes',
                             name='secure-boot')
    if guest.cores:
        cpu = etree.SubElement(dom, 'cpu')
        etree.SubElement(cpu, 'topology', sockets=str(
            guest.vcpus // guest.cores), dies='1', cores=str(guest.cores),
            threads='1')
    etree.SubElement(dom, 'clock', offset='utc')
    for event, action in (('on_poweroff', 'destroy'),
                          ('on_reboot', 'restart'),
                          ('on_crash', 'destroy')):
        etree.SubElement(dom, event).text = action
    devices = etree.SubElement(dom, 'devices')
    for slot, path in disks:
        disk = etree.SubElement(devices, 'disk', type='file',
                                device=slot.device)
        if path:
            etree.SubElement(disk, 'source', file=path)
        etree.SubElement(disk, 'target', dev=slot.target, bus=slot.bus)
        if slot.device == 'cdrom':
            etree.SubElement(disk, 'readonly')
        etree.SubElement(disk, 'address', type='drive',
                         controller=str(slot.controller),
                         bus=str(slot.bus_index), target='0',
                         unit=str(slot.unit))
    for bus, index, model in sorted(guest.controllers,
                                    key=lambda c: (_BUS_ORDER[c[0]], c[1])):
        ctrl = etree.SubElement(devices, 'controller', type=bus,
                                index=str(index))
        if model:
            ctrl.set('model', model)
    for nic in guest.nics:
        iface = etree.SubElement(devices, 'interface', type='bridge')
        if nic.mac:
            etree.SubElement(iface, 'mac', address=nic.mac)
        if nic.network:
            etree.SubElement(iface, 'source', bridge=nic.network)
        etree.SubElement(iface, 'model', type=nic.model)
    video = etree.SubElement(devices, 'video')
    etree.SubElement(video, 'model', type='vmvga', vram=str(guest.vram),
                     primary='yes')
    return etree.tostring(dom, pretty_print=True, encoding='unicode')
