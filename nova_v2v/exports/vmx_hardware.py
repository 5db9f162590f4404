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

"""A .vmx's entries as the domain libvirt's VMX driver describes.

Pure but for looking at the disks the entries name. :class:`Builder`
writes, from the entries :func:`nova_v2v.exports.vmx.parse` read, the
``<domain type='vmware'>`` of ``virVMXParseConfig``: its disks and their
controllers, NICs, serial and parallel ports, graphics and video, with the
:class:`nova_v2v.exports.base.ExportDisk` and
:class:`nova_v2v.exports.base.ExportNic` of the guest and notes of what it
assumed or left out. Where a file the .vmx names is, in the export, is
for :mod:`nova_v2v.exports.vmx` to say (the ``paths`` given).
"""

import copy
import os
import re

from lxml import etree

from nova_v2v.exports import base
from nova_v2v.hardware import disks as hw_disks

# VMware's limits: 24 TiB of memory, 768 vCPUs.
MAX_MEMORY_MIB = 24 * 1024 * 1024
MAX_VCPUS = 768

_MAC = re.compile(r'^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$')
_DEVICE_KEY = re.compile(r'^(scsi|sata|nvme|ide)(\d+):(\d+)\.present$')
_NIC_KEY = re.compile(r'^ethernet(\d+)\.')

SCSI_MODELS = {'lsilogic': 'lsilogic', 'buslogic': 'buslogic',
               'lsisas1068': 'lsisas1068', 'pvscsi': 'vmpvscsi'}
NIC_MODELS = ('vlance', 'vmxnet', 'vmxnet2', 'vmxnet3', 'e1000', 'e1000e')
TCP_PROTOCOLS = {'': 'raw', 'tcp': 'raw', 'tcp4': 'raw', 'tcp6': 'raw',
                 'telnet': 'telnet', 'telnets': 'telnets', 'ssl': 'tls',
                 'tcp+ssl': 'tls', 'tcp4+ssl': 'tls', 'tcp6+ssl': 'tls'}
# Guest hardware libvirt's VMX driver does not describe: (present key,
# what it is). Each one present is named in the notes.
UNDESCRIBED = (
    ('usb.present', 'USB controller (UHCI)'),
    ('ehci.present', 'USB 2 controller (EHCI)'),
    ('usb_xhci.present', 'USB 3 controller (xHCI)'),
    ('sound.present', 'sound card'),
    ('vtpm.present', 'virtual TPM (its state is not carried)'),
)


def _uuid(vmx, key):
    """A VMware UUID (``56 4d ... 3e``) as libvirt formats it, or None."""
    value = vmx.get(key)
    if not value:
        return None
    digits = re.sub(r'[\s-]', '', value).lower()
    if not re.match(r'^[0-9a-f]{32}$', digits):
        raise base.UnsupportedExport(
            'line %d: %s is not a UUID: %r' % (vmx.line(key), key, value))
    return '-'.join((digits[:8], digits[8:12], digits[12:16], digits[16:20],
                     digits[20:]))


def _sub(parent, tag, text=None, **attrs):
    el = etree.SubElement(parent, tag)
    for key, value in attrs.items():
        if value is not None:
            el.set(key.rstrip('_'), str(value))
    if text is not None:
        el.text = str(text)
    return el


class Builder:
    """The domain of one .vmx: its XML, disks, NICs and notes.

    :param vmx: the .vmx's entries (:func:`nova_v2v.exports.vmx.parse`)
    :param paths: finds a file the .vmx names in the export: ``locate(value,
        what)`` its path (raises for one out of the export), ``image(value,
        what)`` a drive image's path or None; it has the export's
        ``root_dir``
    :param fallback_name: the guest's name if the .vmx gives none
    :param notes: the list the notes are appended to
    """

    def __init__(self, vmx, paths, fallback_name, notes):
        self.vmx = vmx
        self.paths = paths
        self.root_dir = paths.root_dir
        self.fallback_name = fallback_name
        self.disks = []
        self.nics = []
        self.notes = notes
        self._used = set()

    def note(self, text):
        self.notes.append(text)

    def build(self):
        vmx = self.vmx
        dom = etree.Element('domain', type='vmware')
        name = vmx.name('displayName')
        if not name:
            name = self.fallback_name
            self.note('the .vmx has no displayName: the guest is named %r '
                      'after its file' % name)
        _sub(dom, 'name', name)
        vc_uuid, bios_uuid = _uuid(vmx, 'vc.uuid'), _uuid(vmx, 'uuid.bios')
        if vc_uuid or bios_uuid:
            _sub(dom, 'uuid', vc_uuid or bios_uuid)
        else:
            self.note('the .vmx has no uuid.bios: the guest has no UUID')
        if bios_uuid:
            _sub(dom, 'hwuuid', bios_uuid)
        self._genid(dom)
        description = vmx.get('annotation')
        if description:
            _sub(dom, 'description', description)
        memsize = vmx.int('memsize', 32, 1, MAX_MEMORY_MIB)
        current = vmx.int('sched.mem.max', memsize, -1, MAX_MEMORY_MIB)
        if current < 0 or current > memsize:
            current = memsize
        _sub(dom, 'memory', memsize * 1024, unit='KiB')
        _sub(dom, 'currentMemory', current * 1024, unit='KiB')
        vcpus = vmx.int('numvcpus', 1, 1, MAX_VCPUS)
        _sub(dom, 'vcpu', vcpus, placement='static')
        self._os(dom)
        cores = vmx.int('cpuid.coresPerSocket', 1, 1, MAX_VCPUS)
        if cores > 1 and vcpus % cores == 0:
            cpu = _sub(dom, 'cpu')
            _sub(cpu, 'topology', sockets=vcpus // cores, dies=1,
                 cores=cores, threads=1)
        elif cores > 1:
            self.note('cpuid.coresPerSocket %d does not divide numvcpus %d: '
                      'no CPU topology' % (cores, vcpus))
        _sub(dom, 'clock', offset='utc')
        _sub(dom, 'on_poweroff', 'destroy')
        _sub(dom, 'on_reboot', 'restart')
        _sub(dom, 'on_crash', 'destroy')
        devices = _sub(dom, 'devices')
        self._disks(devices)
        self._filesystems(devices)
        self._nics(devices)
        self._chardevs(devices)
        self._display(devices)
        for key, what in UNDESCRIBED:
            if vmx.bool(key, False):
                self.note('%s (%s) is not described: the destination has '
                          'its own' % (what, key))
        return etree.tostring(dom, encoding='unicode', pretty_print=True)

    def _genid(self, dom):
        vmx = self.vmx
        low, high = -2 ** 63, 2 ** 63 - 1
        first = vmx.int('vm.genid', 0, low, high)
        second = vmx.int('vm.genidX', 0, low, high)
        if first or second:
            mask = 2 ** 64 - 1
            digits = '%016x%016x' % (first & mask, second & mask)
            _sub(dom, 'genid', '-'.join((
                digits[:8], digits[8:12], digits[12:16], digits[16:20],
                digits[20:])))

    def _os(self, dom):
        vmx = self.vmx
        guest_os = vmx.get('guestOS') or ''
        os_el = _sub(dom, 'os')
        arch = 'x86_64' if guest_os.lower().endswith('-64') else 'i686'
        _sub(os_el, 'type', 'hvm', arch=arch)
        firmware = (vmx.get('firmware') or 'bios').lower()
        secure = vmx.bool('uefi.secureBoot.enabled', False)
        if firmware == 'efi':
            os_el.set('firmware', 'efi')
            if secure:
                features = _sub(os_el, 'firmware')
                _sub(features, 'feature', enabled='yes',
                     name='enrolled-keys')
                _sub(features, 'feature', enabled='yes', name='secure-boot')
        elif firmware != 'bios':
            raise base.UnsupportedExport(
                'line %d: firmware %r is neither efi nor bios'
                % (vmx.line('firmware'), firmware))
        elif secure:
            self.note('uefi.secureBoot.enabled on a BIOS guest: ignored')
        nvram = vmx.get('nvram')
        if nvram:
            self.note('the firmware variables (nvram %s) are not carried: '
                      "VMware's store is not an OVMF one" % nvram)
        if vmx.bool('smbios.reflecthost', False):
            _sub(os_el, 'smbios', mode='host')

    # Disks and their controllers, in libvirt's order: SCSI, SATA, NVMe,
    # IDE, floppies.

    def _disks(self, devices):
        vmx = self.vmx
        wide = vmx.int('virtualHW.version', 4, 0, 1000) >= 13
        used = {'scsi': set(), 'sata': set(), 'nvme': set()}
        models = {}
        for bus, units in (('scsi', 65 if wide else 16), ('sata', 30)):
            for index in range(4):
                if vmx.bool('%s%d.present' % (bus, index), False):
                    models[bus, index] = (self._scsi_model(index)
                                          if bus == 'scsi' else None)
                    for unit in range(units):
                        if bus == 'sata':
                            dev = hw_disks.dev_name('sd', index * 30 + unit)
                        elif unit == 7:
                            continue
                        else:
                            dev = hw_disks.dev_name('sd', index * (
                                64 if wide else 15) + (
                                    unit if unit < 7 else unit - 1))
                        if self._disk(devices, bus, dev, index, 0, unit):
                            used[bus].add(index)
        ide = fdc = False
        for ide_bus in range(2):
            for unit in range(2):
                ide |= self._disk(devices, 'ide', hw_disks.dev_name(
                    'hd', ide_bus * 2 + unit), 0, ide_bus, unit)
        for index in range(4):
            if vmx.bool('nvme%d.present' % index, False):
                models['nvme', index] = None
                for unit in range(64):
                    if self._disk(devices, 'nvme', 'nvme%dn%d' % (
                            index, unit + 1), index, 0, unit):
                        used['nvme'].add(index)
        for unit in range(2):
            fdc |= self._floppy(devices, unit)
        for key in vmx.keys():
            match = _DEVICE_KEY.match(key)
            if match and key not in self._used and vmx.bool(key, False):
                self.note('%s%s:%s: on no controller the guest has, or at '
                          'a unit VMware does not use: left out'
                          % match.group(1, 2, 3))
        # As libvirt: each controller up to the last one a disk is on, and
        # those the .vmx gives a PCI slot.
        for bus in ('scsi', 'sata', 'nvme'):
            last = max(used[bus], default=-1)
            for index in range(4):
                if index <= last or (
                        (bus, index) in models and
                        vmx.has('%s%d.pciSlotNumber' % (bus, index))):
                    _sub(devices, 'controller', type=bus, index=index,
                         model=models.get((bus, index)))
        if fdc:
            _sub(devices, 'controller', type='fdc', index=0)
        if ide:
            _sub(devices, 'controller', type='ide', index=0)

    def _scsi_model(self, index):
        key = 'scsi%d.virtualDev' % index
        value = self.vmx.get(key)
        if value is None:
            return None
        model = SCSI_MODELS.get(value.lower())
        if model is None:
            raise base.UnsupportedExport(
                'line %d: %s %r is not a SCSI controller libvirt knows '
                '(lsilogic, buslogic, lsisas1068, pvscsi)'
                % (self.vmx.line(key), key, value))
        return model

    def _disk(self, devices, bus, dev, controller, ide_bus, unit):
        """The disk or CD-ROM at bus/controller/unit; True if there is one."""
        vmx = self.vmx
        if bus == 'ide':
            prefix = 'ide%d:%d' % (ide_bus, unit)
        else:
            prefix = '%s%d:%d' % (bus, controller, unit)
        self._used.add(prefix + '.present')
        if not vmx.bool(prefix + '.present', False):
            return False
        device_type = (vmx.get(prefix + '.deviceType') or '').lower()
        file_name = vmx.get(prefix + '.fileName')
        what = '%s %s' % (bus, prefix)
        if vmx.bool(prefix + '.clientDevice', False):
            self.note('%s: a drive of the vSphere client\'s machine, left '
                      'out as libvirt does' % what)
            return False
        lower = (file_name or '').lower()
        cdrom = (file_name is None or file_name in ('', 'emptyBackingString')
                 or lower.endswith('.iso') or
                 device_type in ('atapi-cdrom', 'cdrom-raw', 'cdrom-image') or
                 (device_type == 'scsi-passthru' and
                  lower.startswith('/vmfs/devices/cdrom/')))
        address = dict(type='drive', controller=controller, bus=ide_bus,
                       target=0, unit=unit)
        if not cdrom:
            if len(self.disks) >= base.MAX_DISKS:
                raise base.HostileExport(
                    'the .vmx has more than %d disks' % base.MAX_DISKS)
            expected = {'scsi': ('scsi-harddisk', 'disk', ''),
                        'ide': ('ata-harddisk', 'disk', '')}.get(bus)
            if not lower.endswith('.vmdk') or (
                    expected and device_type not in expected):
                raise base.UnsupportedExport(
                    '%s: %s %r is not a VMDK disk nova-v2v can read'
                    % (what, device_type or 'disk', file_name))
            path = self.paths.locate(file_name, what)
            for other in self.disks:
                if os.path.realpath(other.path) == os.path.realpath(path):
                    raise base.UnsupportedExport(
                        '%s: %s is the file of disk %s too: one file cannot '
                        'be two disks' % (what, file_name, other.target))
            disk = _sub(devices, 'disk', type='file', device='disk')
            if vmx.bool(prefix + '.writeThrough', False):
                _sub(disk, 'driver', cache='writethrough')
            _sub(disk, 'source', file=path)
            _sub(disk, 'target', dev=dev, bus=bus)
            mode = (vmx.get(prefix + '.mode') or '').lower()
            if mode == 'independent-nonpersistent':
                _sub(disk, 'transient')
            _sub(disk, 'address', **address)
            size = os.path.getsize(path) if os.path.isfile(path) else None
            if size is None:
                self.note('%s: %s is not in the export yet' % (what, path))
            if re.search(r'-rdmp?\.vmdk$', lower):
                self.note('%s: %s looks like a raw device mapping: its data '
                          'is on a LUN of the source, not in the export'
                          % (what, file_name))
            if re.search(r'-\d{6}\.vmdk$', lower):
                self.note('%s: %s is a snapshot\'s delta disk: its parents '
                          'are read with it' % (what, file_name))
            self.disks.append(base.ExportDisk(
                target=dev, path=path, format='vmdk', size=size))
            return True
        if bus == 'nvme':
            raise base.UnsupportedExport(
                '%s: %r is not a disk: VMware has no NVMe CD-ROM'
                % (what, file_name))
        if lower.endswith('.iso') or (
                file_name in ('', 'emptyBackingString') and
                device_type in ('', 'cdrom-image', 'atapi-cdrom')):
            disk = _sub(devices, 'disk', type='file', device='cdrom')
            path = self.paths.image(file_name, what) if lower.endswith(
                '.iso') else None
            if path:
                _sub(disk, 'source', file=path)
        elif device_type in ('atapi-cdrom', 'cdrom-raw') or (
                device_type == 'scsi-passthru' and
                lower.startswith('/vmfs/devices/cdrom/')):
            device = 'cdrom' if device_type == 'atapi-cdrom' else 'lun'
            disk = _sub(devices, 'disk', type='block', device=device)
            if lower == 'auto detect':
                _sub(disk, 'source', startupPolicy='optional')
            elif file_name:
                _sub(disk, 'source', dev=file_name)
        else:
            raise base.UnsupportedExport(
                '%s: %s %r is not a CD-ROM nova-v2v knows'
                % (what, device_type or 'drive', file_name))
        _sub(disk, 'target', dev=dev, bus=bus)
        _sub(disk, 'readonly')
        _sub(disk, 'address', **address)
        return True

    def _floppy(self, devices, unit):
        vmx = self.vmx
        prefix = 'floppy%d' % unit
        what = 'floppy ' + prefix
        if not vmx.bool(prefix + '.present', False):
            return False
        if vmx.bool(prefix + '.clientDevice', False):
            self.note('%s: a drive of the vSphere client\'s machine, left '
                      'out as libvirt does' % what)
            return False
        file_type = (vmx.get(prefix + '.fileType') or '').lower()
        file_name = vmx.get(prefix + '.fileName')
        if file_type == 'device':
            disk = _sub(devices, 'disk', type='block', device='floppy')
            if file_name:
                _sub(disk, 'source', dev=file_name)
        else:
            if file_type != 'file':
                self.note('%s: fileType %r: an empty drive'
                          % (what, file_type))
            disk = _sub(devices, 'disk', type='file', device='floppy')
            path = self.paths.image(file_name, what) if (
                file_type == 'file' and file_name) else None
            if path:
                _sub(disk, 'source', file=path)
        _sub(disk, 'target', dev=hw_disks.dev_name('fd', unit), bus='fdc')
        _sub(disk, 'address', type='drive', controller=0, bus=0, target=0,
             unit=unit)
        return True

    def _filesystems(self, devices):
        vmx = self.vmx
        if vmx.bool('isolation.tools.hgfs.disable', True):
            return
        for number in range(vmx.int('sharedFolder.maxNum', 0, 0, 64)):
            prefix = 'sharedFolder%d' % number
            if not (vmx.bool(prefix + '.present', False) and
                    vmx.bool(prefix + '.enabled', False)):
                continue
            fs = _sub(devices, 'filesystem', type='mount')
            _sub(fs, 'source', dir=vmx.get(prefix + '.hostPath', ''))
            _sub(fs, 'target', dir=vmx.get(prefix + '.guestName', ''))
            if not vmx.bool(prefix + '.writeAccess', False):
                _sub(fs, 'readonly')

    # NICs.

    def _nics(self, devices):
        vmx = self.vmx
        indexes = sorted({int(m.group(1)) for m in map(
            _NIC_KEY.match, vmx.keys()) if m and len(m.group(1)) < 4})
        for index in indexes:
            if vmx.bool('ethernet%d.present' % index, False):
                self._nic(devices, index)

    def _nic(self, devices, index):
        vmx = self.vmx
        prefix = 'ethernet%d.' % index
        what = 'ethernet%d' % index
        connection = (vmx.get(prefix + 'connectionType') or '').lower()
        address_type = (vmx.get(prefix + 'addressType') or '').lower()
        if address_type in ('', 'generated', 'vpx'):
            mac = vmx.get(prefix + 'generatedAddress')
            mac_type = 'generated' if address_type else None
        elif address_type == 'static':
            mac = vmx.get(prefix + 'address')
            mac_type = 'static'
        else:
            raise base.UnsupportedExport(
                'line %d: %saddressType %r is not generated, static or vpx'
                % (vmx.line(prefix + 'addressType'), prefix, address_type))
        if mac is not None:
            mac = mac.strip().lower()
            if not _MAC.match(mac):
                raise base.UnsupportedExport(
                    '%s: %r is not a MAC address' % (what, mac))
        model = (vmx.get(prefix + 'virtualDev') or '').lower()
        if model and model not in NIC_MODELS:
            raise base.UnsupportedExport(
                'line %d: %svirtualDev %r is not a NIC libvirt knows'
                % (vmx.line(prefix + 'virtualDev'), prefix, model))
        if model == 'vmxnet' and vmx.int(prefix + 'features', 0, 0,
                                         2 ** 31) == 15:
            model = 'vmxnet2'
        network = vmx.get(prefix + 'networkName')
        switch = _uuid(vmx, prefix + 'dvs.switchId')
        if switch:
            nic = _sub(devices, 'interface', type='vds')
        elif not connection and network is None or connection == 'null':
            nic = _sub(devices, 'interface', type='null')
        elif connection in ('', 'bridged', 'custom'):
            nic = _sub(devices, 'interface', type='bridge')
        elif connection == 'hostonly':
            nic = _sub(devices, 'interface', type='network')
            self.note('%s: on a VMware host-only network' % what)
        elif connection == 'nat':
            nic = _sub(devices, 'interface', type='user')
        else:
            raise base.UnsupportedExport(
                'line %d: %sconnectionType %r is not one libvirt knows'
                % (vmx.line(prefix + 'connectionType'), prefix, connection))
        if mac is not None:
            check = vmx.get(prefix + 'checkMACAddress')
            _sub(nic, 'mac', address=mac, type=mac_type, check=None
                 if check is None else (
                     'yes' if check == 'true' else 'no'))
        kind = nic.get('type')
        if kind == 'vds':
            port = vmx.get(prefix + 'dvs.portId')
            connection_id = vmx.get(prefix + 'dvs.connectionId')
            network = vmx.get(prefix + 'dvs.portgroupId')
            _sub(nic, 'source', switchid=switch, portid=port,
                 portgroupid=network, connectionid=connection_id)
        elif kind == 'bridge' and network is not None:
            _sub(nic, 'source', bridge=network)
        elif kind == 'network':
            _sub(nic, 'source', network=network or 'hostonly')
        if connection == 'custom' and vmx.get(prefix + 'vnet'):
            _sub(nic, 'target', dev=vmx.get(prefix + 'vnet'))
        if model:
            _sub(nic, 'model', type=model)
        if vmx.has(prefix + 'opaqueNetwork.id'):
            self.note('%s: on the NSX network %s' % (
                what, vmx.get(prefix + 'opaqueNetwork.id')))
        if kind == 'null':
            self.note('%s: connected to no network' % what)
        if mac == '00:00:00:00:00:00':
            mac = None
        self.nics.append(base.ExportNic(mac=mac, network=network or '',
                                        model=model))

    # Serial and parallel ports, the console, graphics and video.

    def _chardevs(self, devices):
        vmx = self.vmx
        serials = []
        for port in range(4):
            prefix = 'serial%d.' % port
            if vmx.bool(prefix + 'present', False):
                serials.append(self._chardev(devices, 'serial', prefix,
                                             port))
        for port in range(3):
            prefix = 'parallel%d.' % port
            if vmx.bool(prefix + 'present', False):
                self._chardev(devices, 'parallel', prefix, port)
        if serials:
            console = _sub(devices, 'console', type=serials[0].get('type'))
            for child in serials[0]:
                if child.tag != 'target':
                    console.append(copy.deepcopy(child))
            _sub(console, 'target', type='serial', port=0)

    def _chardev(self, devices, tag, prefix, port):
        vmx = self.vmx
        file_type = (vmx.get(prefix + 'fileType') or 'device').lower()
        file_name = vmx.get(prefix + 'fileName') or ''
        if file_type in ('device', 'pipe') or (
                file_type == 'file' and tag == 'parallel'):
            kind = {'device': 'dev'}.get(file_type, file_type)
            dev = _sub(devices, tag, type=kind)
            _sub(dev, 'source', path=file_name)
        elif file_type == 'file':
            dev = _sub(devices, tag, type='file')
            _sub(dev, 'source', path=file_name if file_name.startswith(
                ('/', '[')) else os.path.join(self.root_dir, file_name))
        elif file_type == 'network' and tag == 'serial':
            match = re.match(r'^(?:([A-Za-z0-9+]+)://)?\[?([^\]/]*?)\]?:'
                             r'(\d{1,5})/?$', file_name)
            scheme = (match.group(1) or '').lower() if match else None
            if match and scheme in TCP_PROTOCOLS and int(match.group(3)):
                server = (vmx.get(prefix + 'network.endPoint') or
                          'server').lower() == 'server'
                dev = _sub(devices, tag, type='tcp')
                _sub(dev, 'source', mode='bind' if server else 'connect',
                     host=match.group(2) or None, service=match.group(3))
                _sub(dev, 'protocol', type=TCP_PROTOCOLS[scheme])
            else:
                dev = _sub(devices, tag, type='null')
                self.note('%s%s: a network port that is not a TCP URI: '
                          'connected to nothing' % (tag, port))
        else:
            dev = _sub(devices, tag, type='null')
            self.note('%s%s: fileType %r: connected to nothing'
                      % (tag, port, file_type))
        _sub(dev, 'target', port=port)
        return dev

    def _display(self, devices):
        vmx = self.vmx
        if vmx.bool('RemoteDisplay.vnc.enabled', False):
            port = vmx.int('RemoteDisplay.vnc.port', -1, -1, 65535)
            gfx = _sub(devices, 'graphics', type='vnc',
                       port=port if port >= 0 else None,
                       autoport='no' if port >= 0 else 'yes',
                       keymap=vmx.get('RemoteDisplay.vnc.keymap'),
                       passwd=vmx.get('RemoteDisplay.vnc.password'))
            listen = vmx.get('RemoteDisplay.vnc.ip')
            if listen:
                _sub(gfx, 'listen', type='address', address=listen)
        vram = vmx.int('svga.vramSize', 4 * 1024 * 1024, 0, 2 ** 40)
        video = _sub(devices, 'video')
        _sub(video, 'model', type='vmvga', vram=vram // 1024, primary='yes')
