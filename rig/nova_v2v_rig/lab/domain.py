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

"""Pure libvirt domain XML generator for the lab's test guest.

No libvirt import: this only builds XML text, so it can be unit tested and
reused by the cold V2V path to render a translated domain.
"""

from lxml import etree

DOMAIN_TYPES = ('kvm', 'qemu')
DISK_FORMATS = ('qcow2', 'raw', 'vmdk')
DISK_BUSES = ('virtio', 'scsi', 'ide')
NIC_MODELS = ('virtio', 'vmxnet3', 'e1000', None)
DEFAULT_MACHINE = 'pc-i440fx-7.2'
DEFAULT_CPU_MODEL = 'qemu64'
EMULATOR = '/usr/bin/qemu-system-x86_64'

# Hardware profiles: disk bus, SCSI controller model and NIC model.
PROFILES = {
    'virtio': {'disk_bus': 'virtio', 'scsi_model': None,
               'nic_model': 'virtio'},
    'vmware': {'disk_bus': 'scsi', 'scsi_model': 'vmpvscsi',
               'nic_model': 'vmxnet3'},
    'ide': {'disk_bus': 'ide', 'scsi_model': None, 'nic_model': 'e1000'},
}

_TARGET_DEV = {'virtio': 'vda', 'scsi': 'sda', 'ide': 'hda'}


class DomainSpec(object):
    """Everything that varies between lab domains."""

    def __init__(self, name, uuid, kernel, initrd, disk_path,
                 serial_log, domain_type='qemu', memory_mib=256, vcpus=1,
                 disk_format='qcow2', profile='virtio', disk_bus=None,
                 nic_model=None, machine=DEFAULT_MACHINE,
                 cpu_model=DEFAULT_CPU_MODEL, cmdline_extra=None,
                 nic=True):
        if domain_type not in DOMAIN_TYPES:
            raise ValueError('domain type must be one of %s, not %r'
                             % (DOMAIN_TYPES, domain_type))
        if disk_format not in DISK_FORMATS:
            raise ValueError('disk format must be one of %s, not %r'
                             % (DISK_FORMATS, disk_format))
        if profile not in PROFILES:
            raise ValueError('profile must be one of %s, not %r'
                             % (sorted(PROFILES), profile))
        hw = PROFILES[profile]
        self.disk_bus = disk_bus or hw['disk_bus']
        if self.disk_bus not in DISK_BUSES:
            raise ValueError('disk bus must be one of %s, not %r'
                             % (DISK_BUSES, self.disk_bus))
        self.scsi_model = hw['scsi_model'] if self.disk_bus == 'scsi' \
            else None
        if self.disk_bus == 'scsi' and self.scsi_model is None:
            self.scsi_model = 'virtio-scsi'
        self.nic_model = (nic_model or hw['nic_model']) if nic else None
        if self.nic_model not in NIC_MODELS:
            raise ValueError('NIC model must be one of %s, not %r'
                             % (NIC_MODELS, self.nic_model))
        self.name = name
        self.uuid = uuid
        self.kernel = kernel
        self.initrd = initrd
        self.disk_path = disk_path
        self.serial_log = serial_log
        self.domain_type = domain_type
        self.memory_mib = int(memory_mib)
        self.vcpus = int(vcpus)
        self.disk_format = disk_format
        self.machine = machine
        self.cpu_model = cpu_model
        self.cmdline_extra = cmdline_extra or {}


def _sub(parent, tag, text=None, **attrs):
    el = etree.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()
                                        if v is not None})
    if text is not None:
        el.text = str(text)
    return el


def kernel_cmdline(extra):
    args = ['console=ttyS0', 'quiet', 'loglevel=1']
    args += ['%s=%s' % (k, v) for k, v in sorted(extra.items())]
    return ' '.join(args)


def to_xml(spec):
    """Render a DomainSpec as libvirt domain XML (a str)."""
    dom = etree.Element('domain', type=spec.domain_type)
    _sub(dom, 'name', spec.name)
    _sub(dom, 'uuid', spec.uuid)
    _sub(dom, 'memory', spec.memory_mib, unit='MiB')
    _sub(dom, 'vcpu', spec.vcpus)
    os_el = _sub(dom, 'os')
    _sub(os_el, 'type', 'hvm', arch='x86_64', machine=spec.machine)
    _sub(os_el, 'kernel', spec.kernel)
    _sub(os_el, 'initrd', spec.initrd)
    _sub(os_el, 'cmdline', kernel_cmdline(spec.cmdline_extra))
    features = _sub(dom, 'features')
    _sub(features, 'acpi')
    _sub(features, 'apic')
    cpu = _sub(dom, 'cpu', mode='custom', match='exact', check='none')
    _sub(cpu, 'model', spec.cpu_model, fallback='forbid')
    _sub(dom, 'clock', offset='utc')
    _sub(dom, 'on_poweroff', 'destroy')
    _sub(dom, 'on_reboot', 'restart')
    _sub(dom, 'on_crash', 'destroy')
    devices = _sub(dom, 'devices')
    _sub(devices, 'emulator', EMULATOR)
    if spec.scsi_model:
        _sub(devices, 'controller', type='scsi', index=0,
             model=spec.scsi_model)
    disk = _sub(devices, 'disk', type='file', device='disk')
    _sub(disk, 'driver', name='qemu', type=spec.disk_format, cache='none')
    _sub(disk, 'source', file=spec.disk_path)
    _sub(disk, 'target', dev=_TARGET_DEV[spec.disk_bus], bus=spec.disk_bus)
    if spec.nic_model:
        iface = _sub(devices, 'interface', type='user')
        _sub(iface, 'model', type=spec.nic_model)
    serial = _sub(devices, 'serial', type='file')
    _sub(serial, 'source', path=spec.serial_log, append='on')
    _sub(serial, 'target', port=0)
    _sub(devices, 'memballoon', model='none')
    return etree.tostring(dom, pretty_print=True).decode()


_SCSI_LABEL = {'vmpvscsi': 'pvscsi', 'virtio-scsi': 'virtio-scsi'}


def hardware_label(xml):
    """Short description of a domain's disk/NIC hardware and disk format.

    'pvscsi+vmxnet3 vmdk' for the VMware profile, 'virtio qcow2' when the
    disk and the NIC are both virtio; read from any domain XML (ours or
    libvirt's), so it can describe a guest as it really runs.
    """
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    devices = root.find('devices')
    scsi_models = [c.get('model') for c in devices.findall('controller')
                   if c.get('type') == 'scsi']
    buses, formats = [], []
    for disk in devices.findall('disk'):
        if disk.get('device', 'disk') != 'disk':
            continue
        bus = disk.find('target').get('bus')
        if bus == 'scsi':
            model = scsi_models[0] if scsi_models else None
            bus = _SCSI_LABEL.get(model, model or 'scsi')
        if bus not in buses:
            buses.append(bus)
        driver = disk.find('driver')
        fmt = driver.get('type', 'raw') if driver is not None else 'raw'
        if fmt not in formats:
            formats.append(fmt)
    nics = []
    for iface in devices.findall('interface'):
        model = iface.find('model')
        name = model.get('type') if model is not None else 'default'
        if name not in nics:
            nics.append(name)
    parts = buses + [n for n in nics if n not in buses]
    return '%s %s' % ('+'.join(parts) or 'none', ','.join(formats) or '-')
