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

"""Properties of the translator over generated domain definitions.

The definitions are built with lxml from hypothesis strategies, shaped like
what libvirt's QEMU, ESX, Hyper-V and Xen drivers give (see
fixtures/sources): a guest already in the destination's shape comes out
unchanged; a foreign guest keeps its MACs, its disks in order and its
sizes, ends on virtio, valid for libvirt's schema, with every path under
the instances directory; hostile paths and sizes are refused with a typed
error.
"""

import posixpath
import string

import hypothesis
from hypothesis import strategies as st
from lxml import etree
import testtools

from nova_v2v.hardware import tables
from nova_v2v.hardware import translate
from tests.unit.hardware import schema

INSTANCES = '/var/lib/nova/instances'
XEN_IMAGES = '/var/lib/xen/images'
VMWARE_NS = 'http://libvirt.org/schemas/domain/vmware/1.0'
KIB = 1024
MIB = 1024 ** 2
GIB = 1024 ** 3
TIB = 1024 ** 4


def _settings(examples):
    # No example database: running the tests leaves nothing behind in
    # the tree; a failure prints its falsifying example.
    return hypothesis.settings(
        max_examples=examples, deadline=None, database=None,
        suppress_health_check=[hypothesis.HealthCheck.too_slow,
                               hypothesis.HealthCheck.data_too_large])


# -- helpers ----------------------------------------------------------------

def _sub(parent, tag, text=None, **attrs):
    el = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        el.text = text
    return el


def _xml(root):
    return etree.tostring(root, pretty_print=True).decode('utf-8')


def _root(xml):
    return etree.fromstring(xml.encode() if isinstance(xml, str) else xml)


def canonical(xml):
    """C14N without the layout whitespace between elements."""
    text = xml.encode() if isinstance(xml, str) else xml
    root = etree.fromstring(text, etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, method='c14n')


def inside(path):
    """Whether ``path`` is a normal path below the instances directory."""
    return (isinstance(path, str) and path.startswith(INSTANCES + '/') and
            posixpath.normpath(path) == path)


def _dev(prefix, index):
    return prefix + string.ascii_lowercase[index]


def _devs(root):
    return [d.find('./target').get('dev')
            for d in root.findall('./devices/disk')]


def _macs(root):
    return [m.get('address') for m in root.findall('./devices/interface/mac')]


def _out_paths(root):
    """Every file path of the translated definition's disks and NVRAM."""
    paths = [s.get('file') for s in root.findall('./devices/disk/source')
             if s.get('file') is not None]
    nvram = root.find('./os/nvram')
    if nvram is not None and nvram.text:
        paths.append(nvram.text)
    return paths


# -- strategies -------------------------------------------------------------

def macs(oui, max_size):
    """Distinct unicast MACs of one vendor's OUI."""
    octets = st.lists(st.integers(0, 255), min_size=3, max_size=3)
    mac = octets.map(lambda o: '%s:%02x:%02x:%02x' % (oui, o[0], o[1], o[2]))
    return st.lists(mac, max_size=max_size, unique=True)


bridge_names = st.from_regex(r'\A(br|virbr|ovsbr|br-)[a-z0-9]{0,8}\Z')
memory_kib = st.integers(64, 64 * 1024).map(lambda m: m * 1024)
vcpus = st.integers(1, 16)


def _common_head(root, draw, name, uuid):
    _sub(root, 'name', name)
    _sub(root, 'uuid', uuid)
    memory = draw(memory_kib)
    _sub(root, 'memory', str(memory), unit='KiB')
    _sub(root, 'currentMemory', str(memory), unit='KiB')
    count = draw(vcpus)
    _sub(root, 'vcpu', str(count), placement='static')
    return count


def _lifecycle(root, reboot='restart'):
    _sub(root, 'on_poweroff', 'destroy')
    _sub(root, 'on_reboot', reboot)
    _sub(root, 'on_crash', 'destroy')


# The models, buses and names the operators' overrides may translate; a
# guest in target shape uses only some.
OVERRIDE_KEYS = ('e1000', 'e1000e', 'rtl8139', 'vmxnet3', 'ide', 'sata',
                 'scsi', 'usb', 'lsilogic', 'pvscsi', 'buslogic', 'cirrus',
                 'vga', 'qxl', 'ich6', 'ac97', 'sb16')
OVERRIDE_VALUES = ('virtio', 'virtio-scsi', 'sata', 'vga')
NOVA_DISKS = ('disk', 'disk.local', 'disk.eph0', 'disk.eph1', 'disk.swap',
              'disk.config')


@st.composite
def kvm_guests(draw):
    """An inactive Nova guest already in the destination's shape.

    Returns (xml, overrides): overrides touch only models it lacks.
    """
    uuid = str(draw(st.uuids()))
    guest_dir = posixpath.join(INSTANCES, uuid)
    machine = draw(st.sampled_from(('pc-q35-7.2', 'pc-i440fx-7.2', 'q35',
                                    'pc')))
    q35 = 'q35' in machine
    uefi = draw(st.booleans())
    secure = q35 and uefi and draw(st.booleans())
    root = etree.Element('domain', type='kvm')
    count = _common_head(root, draw, 'instance-%08x'
                         % draw(st.integers(1, 0xffffff)), uuid)
    os_el = _sub(root, 'os')
    _sub(os_el, 'type', 'hvm', arch='x86_64', machine=machine)
    if uefi:
        loader = _sub(os_el, 'loader', '/usr/share/OVMF/OVMF_CODE_4M%s.fd'
                      % ('.secboot' if secure else ''),
                      readonly='yes', type='pflash')
        if secure:
            loader.set('secure', 'yes')
        nvram = _sub(os_el, 'nvram', posixpath.join(guest_dir, 'nvram'))
        if draw(st.booleans()):
            nvram.set('template', '/usr/share/OVMF/OVMF_VARS_4M.fd')
    _sub(os_el, 'boot', dev='hd')
    features = _sub(root, 'features')
    _sub(features, 'acpi')
    _sub(features, 'apic')
    if secure:
        _sub(features, 'smm', state='on')
    if draw(st.booleans()):
        cpu = _sub(root, 'cpu', mode='host-model', check='partial')
        if draw(st.booleans()):
            _sub(cpu, 'topology', sockets=str(count), dies='1', cores='1',
                 threads='1')
    clock = _sub(root, 'clock', offset='utc')
    if draw(st.booleans()):
        _sub(clock, 'timer', name='rtc', tickpolicy='catchup')
    _lifecycle(root)
    devices = _sub(root, 'devices')
    if draw(st.booleans()):
        _sub(devices, 'emulator', '/usr/bin/qemu-system-x86_64')
    names = draw(st.lists(st.sampled_from(NOVA_DISKS), min_size=1,
                          max_size=6, unique=True))
    for i, name in enumerate(names):
        disk = _sub(devices, 'disk', type='file', device='disk')
        driver = _sub(disk, 'driver', name='qemu',
                      type=draw(st.sampled_from(('qcow2', 'raw'))))
        if draw(st.booleans()):
            driver.set('cache', 'none')
        _sub(disk, 'source', file=posixpath.join(guest_dir, name))
        _sub(disk, 'target', dev=_dev('vd', i), bus='virtio')
        if name == 'disk.config':
            _sub(disk, 'readonly')
    if q35:
        _sub(devices, 'controller', type='pci', index='0', model='pcie-root')
        _sub(devices, 'controller', type='usb', index='0', model='qemu-xhci')
        _sub(devices, 'controller', type='sata', index='0')
    else:
        _sub(devices, 'controller', type='pci', index='0', model='pci-root')
        _sub(devices, 'controller', type='usb', index='0',
             model='piix3-uhci')
        _sub(devices, 'controller', type='ide', index='0')
    for mac in draw(macs('fa:16:3e', 4)):
        kind = draw(st.sampled_from(('bridge', 'ethernet')))
        nic = _sub(devices, 'interface', type=kind)
        _sub(nic, 'mac', address=mac)
        if kind == 'bridge':
            _sub(nic, 'source', bridge=draw(bridge_names))
            if draw(st.booleans()):
                port = _sub(nic, 'virtualport', type='openvswitch')
                _sub(port, 'parameters',
                     interfaceid=str(draw(st.uuids())))
        _sub(nic, 'model', type='virtio')
        if draw(st.booleans()):
            _sub(nic, 'mtu', size='1450')
    serial = _sub(devices, 'serial', type='pty')
    log = draw(st.booleans())
    if log:
        _sub(serial, 'log', file=posixpath.join(guest_dir, 'console.log'),
             append='off')
    _sub(serial, 'target', type='isa-serial', port='0')
    console = _sub(devices, 'console', type='pty')
    _sub(console, 'target', type='serial', port='0')
    if draw(st.booleans()):
        _sub(devices, 'input', type='tablet', bus='usb')
        _sub(devices, 'graphics', type='vnc', autoport='yes',
             listen='0.0.0.0')
    video = draw(st.sampled_from((None, 'virtio', 'vga', 'cirrus')))
    if video:
        _sub(_sub(devices, 'video'), 'model', type=video, heads='1',
             primary='yes')
    if draw(st.booleans()):
        _sub(devices, 'memballoon', model='virtio')
    used = {'virtio', video}
    keys = draw(st.lists(st.sampled_from(
        [k for k in OVERRIDE_KEYS if k not in used]), unique=True))
    overrides = {k: draw(st.sampled_from(OVERRIDE_VALUES)) for k in keys}
    return _xml(root), overrides


# Foreign guests: (xml, firmware hint) with disks named so that file
# names often collide between datastores and directories.
VMDK_NAMES = ('vm.vmdk', 'vm_1.vmdk', 'VM.vmdk', 'vm-1.vmdk', 'data.vmdk',
              'vm.qcow2.vmdk')


@st.composite
def vmware_guests(draw):
    root = etree.Element('domain', type='vmware', nsmap={'vmware': VMWARE_NS})
    name = draw(st.from_regex(r'\A[a-z][a-z0-9-]{0,15}\Z'))
    count = _common_head(root, draw, name, str(draw(st.uuids())))
    if draw(st.booleans()):
        _sub(_sub(root, 'cputune'), 'shares', str(1000 * count))
    os_el = _sub(root, 'os')
    if draw(st.booleans()):
        os_el.set('firmware', 'efi')
    _sub(os_el, 'type', 'hvm', arch='x86_64')
    if draw(st.booleans()):
        _sub(_sub(root, 'cpu'), 'topology', sockets=str(count), dies='1',
             cores='1', threads='1')
    _sub(root, 'clock', offset='utc')
    _lifecycle(root)
    devices = _sub(root, 'devices')
    buses = draw(st.lists(st.sampled_from(('scsi', 'sata', 'ide')),
                          min_size=1, max_size=6))
    index = {'sd': 0, 'hd': 0}
    ide = [b for b in buses if b == 'ide']
    buses = [b for b in buses if b != 'ide'] + ide[:4]
    scsi_ctrls = set()
    for bus in buses:
        prefix = 'hd' if bus == 'ide' else 'sd'
        n = index[prefix]
        index[prefix] += 1
        disk = _sub(devices, 'disk', type='file', device='disk')
        _sub(disk, 'source', file='[%s] %s/%s' % (
            draw(st.sampled_from(('datastore1', 'ssd-ds2', 'vsan DS'))),
            draw(st.sampled_from((name, 'shared', name + '/sub'))),
            draw(st.sampled_from(VMDK_NAMES))))
        _sub(disk, 'target', dev=_dev(prefix, n), bus=bus)
        if bus == 'scsi':
            ctrl = draw(st.integers(0, 1))
            scsi_ctrls.add(ctrl)
            _sub(disk, 'address', type='drive', controller=str(ctrl),
                 bus='0', target='0', unit=str(n))
        elif bus == 'ide':
            _sub(disk, 'address', type='drive', controller='0',
                 bus=str(n // 2), target='0', unit=str(n % 2))
        else:
            _sub(disk, 'address', type='drive', controller='0', bus='0',
                 target='0', unit=str(n))
    if index['hd'] < 4 and draw(st.booleans()):
        cdrom = _sub(devices, 'disk', type='file', device='cdrom')
        _sub(cdrom, 'source', file='[datastore1] iso/install.iso')
        _sub(cdrom, 'target', dev=_dev('hd', index['hd']), bus='ide')
        buses.append('ide')
    for ctrl in sorted(scsi_ctrls):
        _sub(devices, 'controller', type='scsi', index=str(ctrl),
             model=draw(st.sampled_from(('lsilogic', 'buslogic',
                                         'lsisas1068', 'vmpvscsi'))))
    for kind in ('ide', 'sata'):
        if kind in buses:
            _sub(devices, 'controller', type=kind, index='0')
    for mac in draw(macs('00:50:56', 4)):
        nic = _sub(devices, 'interface', type='bridge')
        mac_el = _sub(nic, 'mac', address=mac)
        if draw(st.booleans()):
            mac_el.set('type', 'generated')
        _sub(nic, 'source', bridge=draw(st.sampled_from(
            ('VM Network', 'dvPG-App-VLAN120'))))
        model = draw(st.sampled_from((None, 'vmxnet3', 'e1000', 'e1000e',
                                      'vlance', 'vmxnet')))
        if model:
            _sub(nic, 'model', type=model)
    if draw(st.booleans()):
        _sub(_sub(devices, 'video'), 'model', type='vmvga', vram='8192',
             primary='yes')
    _sub(root, '{%s}datacenterpath' % VMWARE_NS, 'DC-Prod')
    return _xml(root), None


@st.composite
def hyperv_guests(draw):
    root = etree.Element('domain', type='hyperv')
    name = draw(st.from_regex(r'\A[a-z][a-z0-9-]{0,15}\Z'))
    _sub(root, 'name', name)
    _sub(root, 'uuid', str(draw(st.uuids())))
    memory = draw(memory_kib)
    _sub(root, 'maxMemory', str(memory * 2), slots='0', unit='KiB')
    _sub(root, 'memory', str(memory), unit='KiB')
    _sub(root, 'currentMemory', str(memory), unit='KiB')
    _sub(root, 'vcpu', str(draw(vcpus)), placement='static')
    _sub(_sub(root, 'os'), 'type', 'hvm')
    _sub(root, 'clock', offset='utc')
    _lifecycle(root, reboot='destroy')
    devices = _sub(root, 'devices')
    buses = draw(st.lists(st.sampled_from(('scsi', 'ide')), min_size=1,
                          max_size=6))
    ide = [b for b in buses if b == 'ide']
    buses = ide[:4] + [b for b in buses if b != 'ide']
    index = {'sd': 0, 'hd': 0}
    for bus in buses:
        prefix = 'hd' if bus == 'ide' else 'sd'
        n = index[prefix]
        index[prefix] += 1
        disk = _sub(devices, 'disk', type='file', device='disk')
        _sub(disk, 'source', file='%s:\\%s\\%s.%s' % (
            draw(st.sampled_from('CD')),
            draw(st.sampled_from(('ProgramData\\Microsoft\\Windows\\'
                                  'Virtual Hard Disks', 'Hyper-V',
                                  'VMs\\' + name))),
            draw(st.sampled_from((name, 'disk', 'Disk', name + '_data'))),
            draw(st.sampled_from(('vhdx', 'vhd', 'VHDX')))))
        _sub(disk, 'target', dev=_dev(prefix, n), bus=bus)
        _sub(disk, 'address', type='drive', controller='0',
             bus=str(n // 2) if bus == 'ide' else '0', target='0',
             unit=str(n % 2) if bus == 'ide' else str(n))
    for kind in ('ide', 'scsi'):
        if kind in buses:
            _sub(devices, 'controller', type=kind, index='0')
    for mac in draw(macs('00:15:5d', 4)):
        nic = _sub(devices, 'interface', type='bridge')
        _sub(nic, 'mac', address=mac)
        _sub(nic, 'source', bridge=draw(st.sampled_from(
            ('External Switch', 'Default Switch'))))
    for port in ('1', '2'):
        serial = _sub(devices, 'serial', type='pipe')
        _sub(serial, 'source', path='-1')
        _sub(serial, 'target', port=port)
    console = _sub(devices, 'console', type='pipe')
    _sub(console, 'source', path='-1')
    _sub(console, 'target', type='serial', port='1')
    # libvirt's Hyper-V driver does not say whether it is a Generation 2
    # (UEFI) VM; the operator may.
    return _xml(root), draw(st.sampled_from((None, 'bios', 'uefi')))


@st.composite
def xen_guests(draw):
    root = etree.Element('domain', type='xen')
    name = draw(st.from_regex(r'\A[a-z][a-z0-9-]{0,15}\Z'))
    _common_head(root, draw, name, str(draw(st.uuids())))
    os_el = _sub(root, 'os')
    _sub(os_el, 'type', 'hvm', arch='x86_64', machine='xenfv')
    _sub(os_el, 'loader', '/usr/lib/xen/boot/hvmloader', type='rom')
    _sub(os_el, 'boot', dev='hd')
    features = _sub(root, 'features')
    for tag in ('acpi', 'apic', 'pae'):
        _sub(features, tag)
    _sub(root, 'clock', offset='variable', adjustment='0', basis='utc')
    _lifecycle(root)
    devices = _sub(root, 'devices')
    _sub(devices, 'emulator', '/usr/lib/xen/bin/qemu-system-i386')
    buses = draw(st.lists(st.sampled_from(('xen', 'ide')), min_size=1,
                          max_size=6))
    ide = [b for b in buses if b == 'ide']
    buses = ide[:4] + [b for b in buses if b != 'ide']
    index = {'xvd': 0, 'hd': 0}
    for bus in buses:
        prefix = 'hd' if bus == 'ide' else 'xvd'
        n = index[prefix]
        index[prefix] += 1
        fmt = draw(st.sampled_from((None, 'raw', 'qcow2')))
        disk = _sub(devices, 'disk', type='file', device='disk')
        if fmt:
            _sub(disk, 'driver', name='qemu', type=fmt)
        _sub(disk, 'source', file='%s/%s%s' % (
            XEN_IMAGES,
            draw(st.sampled_from((name, name + '-data', 'disk'))),
            '.qcow2' if fmt == 'qcow2' else '.img'))
        _sub(disk, 'target', dev=_dev(prefix, n), bus=bus)
    _sub(devices, 'controller', type='xenbus', index='0')
    for mac in draw(macs('00:16:3e', 4)):
        nic = _sub(devices, 'interface', type='bridge')
        _sub(nic, 'mac', address=mac)
        _sub(nic, 'source', bridge='xenbr0')
        _sub(nic, 'script', path='vif-bridge')
        model = draw(st.sampled_from((None, 'e1000', 'rtl8139')))
        if model:
            _sub(nic, 'model', type=model)
    _sub(_sub(devices, 'serial', type='pty'), 'target', port='0')
    _sub(_sub(devices, 'console', type='pty'), 'target', type='serial',
         port='0')
    _sub(devices, 'input', type='mouse', bus='ps2')
    if draw(st.booleans()):
        _sub(devices, 'graphics', type='vnc', port='-1', autoport='yes',
             listen='0.0.0.0')
        _sub(_sub(devices, 'video'), 'model', type='cirrus', vram='8192',
             heads='1', primary='yes')
    _sub(devices, 'memballoon', model='xen')
    return _xml(root), None


foreign_guests = st.one_of(vmware_guests(), hyperv_guests(), xen_guests())


@st.composite
def kvm_mixed_guests(draw):
    """A KVM guest with disks inside and outside the instances directory."""
    uuid = str(draw(st.uuids()))
    root = etree.Element('domain', type='kvm')
    _common_head(root, draw, 'guest', uuid)
    _sub(_sub(root, 'os'), 'type', 'hvm', arch='x86_64', machine='q35')
    devices = _sub(root, 'devices')
    places = (posixpath.join(INSTANCES, uuid), '/var/lib/libvirt/images',
              '/srv/vm/data')
    paths = draw(st.lists(st.builds(
        posixpath.join, st.sampled_from(places),
        st.sampled_from(('disk.qcow2', 'disk', 'root.qcow2', 'disk.img',
                         'disk-1.qcow2'))), min_size=1, max_size=6,
        unique=True))
    for i, path in enumerate(paths):
        disk = _sub(devices, 'disk', type='file', device='disk')
        _sub(disk, 'driver', name='qemu',
             type=draw(st.sampled_from(('qcow2', 'raw'))))
        _sub(disk, 'source', file=path)
        _sub(disk, 'target', dev=_dev('vd', i), bus='virtio')
    return _xml(root)


# A small guest in the destination's shape, for explicit examples.
SMALL_GUEST = ("""<domain type='kvm'>
  <name>instance-00000001</name>
  <uuid>7c1f3b2e-4d5a-4e8b-9f60-1a2b3c4d5e01</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='%s/7c1f3b2e-4d5a-4e8b-9f60-1a2b3c4d5e01/disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
""" % INSTANCES, {})


@st.composite
def targets(draw, firmware=None, import_dir=None):
    accel = draw(st.sampled_from(tables.TARGET_DOMAIN_TYPES))
    cpu_model = None
    if accel == 'qemu':
        cpu_model = draw(st.sampled_from((None, 'qemu64', 'Nehalem')))
    return translate.Target(accelerator=accel, instances_path=INSTANCES,
                            cpu_model=cpu_model, firmware=firmware,
                            import_dir=import_dir)


# -- hostile paths ----------------------------------------------------------

# A component that must be refused: a step up or aside, or one with a
# control character that XML can carry (tab, new line, carriage return).
bad_components = st.one_of(
    st.sampled_from(('..', '.')),
    st.tuples(st.text(string.ascii_letters, max_size=4),
              st.sampled_from('\t\n\r'),
              st.text(string.ascii_letters, max_size=4)).map(''.join))
good_components = st.sampled_from(('vm', 'disks', 'a b', 'x.vmdk', 'etc',
                                   'shadow', 'var', 'lib', 'nova',
                                   'instances'))


@st.composite
def hostile_components(draw):
    """Path components with at least one refused component in them."""
    before = draw(st.lists(good_components, max_size=3))
    bad = draw(bad_components)
    after = draw(st.lists(st.one_of(good_components, bad_components),
                          max_size=3))
    name = draw(st.sampled_from(('disk.vmdk', 'disk.vhdx', 'disk.img',
                                 'disk.qcow2', '..', '.')))
    return before + [bad] + after + [name]


@st.composite
def hostile_source_paths(draw, style):
    """A hostile disk path in the source hypervisor's spelling."""
    if draw(st.integers(0, 4)) == 0:
        # Empty names: nothing after the datastore, drive or root.
        return draw(st.sampled_from({
            'vmware': ('[datastore1] ', '[datastore1]', '[ds] /', '[] //'),
            'windows': ('C:\\', 'C:', 'D:\\\\', 'C:/'),
            'posix': ('/', '//', '///'),
        }[style]))
    parts = draw(hostile_components())
    if style == 'vmware':
        return '[%s] %s' % (draw(st.sampled_from(('datastore1', 'ds'))),
                            '/'.join(parts))
    if style == 'windows':
        sep = draw(st.sampled_from(('\\', '/')))
        return draw(st.sampled_from(('C:', 'D:'))) + sep + sep.join(parts)
    return '/' + '/'.join(parts)


# Explicit destination paths: absolute anywhere, relative, with '..',
# doubled or trailing slashes, control characters.
path_components = st.one_of(
    st.sampled_from(('var', 'lib', 'nova', 'instances', 'etc', 'shadow',
                     '..', '.', '', 'disk', 'disk.qcow2', 'u1')),
    st.text(string.ascii_letters + '\t\n\x01\x7f\x00 -', min_size=1,
            max_size=3))


@st.composite
def explicit_paths(draw):
    parts = draw(st.lists(path_components, min_size=1, max_size=5))
    start = draw(st.sampled_from(('', '/', '//', '/etc/', INSTANCES,
                                  INSTANCES + '/', INSTANCES + '/u1/',
                                  '/' + INSTANCES + '/u1/',
                                  INSTANCES + '/../')))
    return start + '/'.join(parts)


# -- the tests --------------------------------------------------------------

class TestInTargetShape(testtools.TestCase):
    """A guest already in the destination's shape comes out unchanged."""

    @_settings(80)
    @hypothesis.given(kvm_guests(), st.booleans())
    def test_unchanged(self, guest, nvme):
        xml, overrides = guest
        # The generator's guests are valid libvirt definitions.
        self.assertIsNone(schema.schema_errors(xml))
        if nvme:
            # An NVMe controller with no disk (libvirt 11.x, not in the
            # 9.0 schema): a foreign guest's goes, a QEMU/KVM guest's stays.
            root = _root(xml)
            _sub(root.find('./devices'), 'controller', type='nvme',
                 index='0')
            xml = _xml(root)
        target = translate.Target(accelerator='kvm',
                                  instances_path=INSTANCES,
                                  overrides=overrides)
        result = translate.translate(xml, target)
        self.assertEqual(canonical(xml), canonical(result.xml))
        self.assertEqual([], result.report.findings)
        src = _root(xml)
        self.assertEqual(_devs(src), [d.source_target
                                      for d in result.report.disks])
        self.assertEqual(_macs(src), result.report.macs)


class TestForeignGuests(testtools.TestCase):
    """VMware, Hyper-V and Xen HVM guests, for KVM and for QEMU/TCG."""

    def _translate(self, guest, target, sizes):
        xml, _hint = guest
        self.assertIsNone(schema.schema_errors(xml))
        return translate.translate(xml, target, disk_sizes=sizes)

    def _check(self, xml, result, sizes):
        src, out, rep = _root(xml), _root(result.xml), result.report
        # (a) every MAC, in order.
        self.assertEqual(_macs(src), _macs(out))
        self.assertEqual(_macs(src), rep.macs)
        # (b) every disk, in order.
        self.assertEqual(_devs(src), [d.source_target for d in rep.disks])
        self.assertEqual(len(src.findall('./devices/disk')),
                         len(out.findall('./devices/disk')))
        # (c) the sizes were accepted; a report that carries them keeps
        # them.
        for mapping in rep.disks:
            for attr in ('size', 'virtual_size'):
                if getattr(mapping, attr, None) is not None:
                    self.assertEqual(sizes[mapping.source_target],
                                     getattr(mapping, attr))
        # (d) no path leaves the instances directory; no two disks share
        # a file.
        paths = _out_paths(out)
        for path in paths:
            self.assertTrue(inside(path), path)
        for mapping in rep.disks:
            if mapping.path is not None:
                self.assertTrue(inside(mapping.path), mapping.path)
        disk_paths = [m.path for m in rep.disks if m.path is not None]
        self.assertEqual(len(disk_paths), len(set(disk_paths)), disk_paths)
        # (e) libvirt's schema accepts it.
        self.assertIsNone(schema.schema_errors(result.xml))
        # (f) virtio disks (vda, vdb, ... in order) and NICs.
        disks = out.findall("./devices/disk[@device='disk']")
        self.assertEqual(['virtio'] * len(disks),
                         [d.find('./target').get('bus') for d in disks])
        self.assertEqual([_dev('vd', i) for i in range(len(disks))],
                         [d.find('./target').get('dev') for d in disks])
        self.assertEqual(
            ['virtio'] * len(out.findall('./devices/interface')),
            [n.find('./model').get('type') if n.find('./model') is not None
             else None for n in out.findall('./devices/interface')])

    @_settings(90)
    @hypothesis.given(foreign_guests, st.data())
    def test_translated(self, guest, data):
        xml, hint = guest
        # A Xen guest's disks are at host paths: read from their folder
        # only; the others' with or without an import directory.
        import_dir = XEN_IMAGES if _root(xml).get('type') == 'xen' else (
            data.draw(st.sampled_from((None, '/srv/import'))))
        target = data.draw(targets(firmware=hint, import_dir=import_dir))
        devs = _devs(_root(xml))
        sizes = {dev: data.draw(st.integers(MIB, 16 * TIB)) for dev in devs}
        result = self._translate(guest, target, sizes)
        self._check(xml, result, sizes)

    @_settings(30)
    @hypothesis.given(foreign_guests, st.data())
    def test_oversized_disk_refused(self, guest, data):
        xml, hint = guest
        devs = _devs(_root(xml))
        sizes = {dev: data.draw(st.integers(MIB, 64 * TIB)) for dev in devs}
        sizes[data.draw(st.sampled_from(devs))] = data.draw(
            st.integers(64 * TIB + 1, 2 ** 80))
        self.assertRaises(translate.LimitExceeded, self._translate, guest,
                          data.draw(targets(firmware=hint)), sizes)


class TestRelocation(testtools.TestCase):
    """Disks moved into the guest's directory never land on one file."""

    @_settings(60)
    @hypothesis.example(xml=SMALL_GUEST[0].replace(
        "/disk'/>", "/disk.qcow2'/>").replace(
        "</devices>", "<disk type='file' device='disk'>"
        "<driver name='qemu' type='qcow2'/>"
        "<source file='/var/lib/libvirt/images/disk.qcow2'/>"
        "<target dev='vdb' bus='virtio'/></disk></devices>"),
        target=translate.Target())
    @hypothesis.given(kvm_mixed_guests(), targets())
    def test_distinct_paths(self, xml, target):
        self.assertIsNone(schema.schema_errors(xml))
        result = translate.translate(xml, target)
        self.assertIsNone(schema.schema_errors(result.xml))
        paths = [m.path for m in result.report.disks]
        self.assertEqual(_out_paths(_root(result.xml)), paths)
        for path in paths:
            self.assertTrue(inside(path), path)
        self.assertEqual(len(paths), len(set(paths)), paths)


class TestHostilePaths(testtools.TestCase):
    """Hostile paths are refused; no output path leaves the instances."""

    @staticmethod
    def _replace_disk_path(xml, path, which):
        root = _root(xml)
        sources = root.findall("./devices/disk[@device='disk']/source")
        sources[which % len(sources)].set('file', path)
        return _xml(root)

    def _check_refused_or_inside(self, xml, target, **kwargs):
        try:
            result = translate.translate(xml, target, **kwargs)
        except translate.HostileInput:
            return None
        for path in _out_paths(_root(result.xml)):
            self.assertTrue(inside(path), path)
        for mapping in result.report.disks:
            if mapping.path is not None:
                self.assertTrue(inside(mapping.path), mapping.path)
        return result

    @_settings(120)
    @hypothesis.given(st.one_of(
        st.tuples(vmware_guests(), st.just('vmware')),
        st.tuples(hyperv_guests(), st.just('windows')),
        st.tuples(xen_guests(), st.just('posix')),
        st.tuples(kvm_guests(), st.just('posix'))), st.data())
    def test_hostile_source_path_refused(self, guest_style, data):
        (xml, _hint), style = guest_style
        path = data.draw(hostile_source_paths(style))
        xml = self._replace_disk_path(xml, path,
                                      data.draw(st.integers(0, 5)))
        self.assertRaises(translate.HostileInput, translate.translate, xml,
                          data.draw(targets()))

    @_settings(40)
    @hypothesis.given(kvm_guests(), st.data())
    def test_hostile_nvram_refused(self, guest, data):
        xml, _overrides = guest
        root = _root(xml)
        os_el = root.find('./os')
        if os_el.find('./loader') is None:
            _sub(os_el, 'loader', '/usr/share/OVMF/OVMF_CODE_4M.fd',
                 readonly='yes', type='pflash')
        nvram = os_el.find('./nvram')
        if nvram is None:
            nvram = _sub(os_el, 'nvram')
        nvram.text = data.draw(hostile_source_paths('posix'))
        self.assertRaises(translate.HostileInput, translate.translate,
                          _xml(root), data.draw(targets()))

    @_settings(40)
    @hypothesis.given(foreign_guests, st.data())
    def test_hostile_guest_directory_refused(self, guest, data):
        # The guest's directory is named after its UUID (else its name).
        xml, hint = guest
        root = _root(xml)
        root.find('./uuid').text = data.draw(st.one_of(
            st.sampled_from(('..', '.', '../../etc', 'a/b', 'a\\b')),
            st.tuples(st.text(string.hexdigits, max_size=8),
                      st.sampled_from('\t\n\r/\\'),
                      st.text(string.hexdigits, max_size=8)).map(''.join)))
        self._check_refused_or_inside(_xml(root),
                                      data.draw(targets(firmware=hint)))

    @_settings(120)
    @hypothesis.example(guest=SMALL_GUEST,
                        paths=['/' + INSTANCES + '/u1/disk'],
                        target=translate.Target())
    @hypothesis.example(guest=SMALL_GUEST,
                        paths=[INSTANCES + '/u1/a\x01b'],
                        target=translate.Target())
    @hypothesis.given(st.one_of(foreign_guests, kvm_guests()),
                      st.lists(explicit_paths(), min_size=1, max_size=3),
                      targets())
    def test_explicit_disk_paths_refused_or_inside(self, guest, paths,
                                                   target):
        xml = guest[0]
        disk_paths = dict(zip(_devs(_root(xml)), paths))
        self._check_refused_or_inside(xml, target, disk_paths=disk_paths)


# Unit names libvirt takes, as the translator spells their factors.
UNITS = {'b': 1, 'bytes': 1, 'KB': 1000, 'k': KIB, 'KiB': KIB,
         'MB': 1000 ** 2, 'M': MIB, 'MiB': MIB, 'GB': 1000 ** 3, 'G': GIB,
         'GiB': GIB, 'TB': 1000 ** 4, 'T': TIB, 'TiB': TIB,
         'PB': 1000 ** 5, 'PiB': 1024 ** 5, 'EiB': 1024 ** 6}
MEMORY_LIMIT = tables.MAX_MEMORY_KIB * KIB


@st.composite
def memory_amounts(draw):
    """(unit, value) below, around and far beyond the memory limit."""
    unit = draw(st.sampled_from(sorted(UNITS)))
    factor = UNITS[unit]
    near = MEMORY_LIMIT // factor
    # The smallest amount of the unit beyond the limit, and its neighbours:
    # a byte or a kilobyte too many is beyond it too.
    first_beyond = -(-(MEMORY_LIMIT + 1) // factor)
    value = draw(st.one_of(
        st.integers(1, max(1, near // 2)),
        st.sampled_from((near, first_beyond, first_beyond + 1)),
        st.integers(near, near * 1024 + 1024)))
    return unit, value


class TestLimits(testtools.TestCase):
    """Memory and vCPUs beyond the tables' limits are refused."""

    @_settings(150)
    @hypothesis.example(guest=SMALL_GUEST, amount=('b', MEMORY_LIMIT + 1),
                        tag='memory')
    @hypothesis.example(guest=SMALL_GUEST,
                        amount=('KB', MEMORY_LIMIT // 1000 + 1),
                        tag='currentMemory')
    @hypothesis.given(kvm_guests(), memory_amounts(),
                      st.sampled_from(('memory', 'currentMemory',
                                       'maxMemory')))
    def test_memory(self, guest, amount, tag):
        unit, value = amount
        root = _root(guest[0])
        el = root.find('./%s' % tag)
        if el is None:
            el = etree.Element(tag, slots='16')
            root.find('./name').addnext(el)
        el.set('unit', unit)
        el.text = str(value)
        target = translate.Target(accelerator='kvm',
                                  instances_path=INSTANCES)
        if value * UNITS[unit] > MEMORY_LIMIT:
            self.assertRaises(translate.LimitExceeded, translate.translate,
                              _xml(root), target)
        else:
            translate.translate(_xml(root), target)

    @_settings(80)
    @hypothesis.given(kvm_guests(), st.one_of(
        st.integers(-3, 3), st.integers(1, tables.MAX_VCPUS),
        st.integers(tables.MAX_VCPUS - 2, tables.MAX_VCPUS + 2),
        st.integers(tables.MAX_VCPUS, 10 ** 6)))
    def test_vcpus(self, guest, count):
        root = _root(guest[0])
        root.find('./vcpu').text = str(count)
        topology = root.find('./cpu/topology')
        if topology is not None:
            topology.getparent().remove(topology)
        target = translate.Target(accelerator='kvm',
                                  instances_path=INSTANCES)
        if 1 <= count <= tables.MAX_VCPUS:
            translate.translate(_xml(root), target)
        else:
            self.assertRaises(translate.LimitExceeded, translate.translate,
                              _xml(root), target)
