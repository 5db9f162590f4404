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

"""Translation steps of what a foreign definition holds of its source host.

Pure. libvirt's ESX, Hyper-V and Xen drivers describe a guest with what its
hypervisor keeps of it: the hardware UUID, the host's SMBIOS tables, vCPUs
pinned to the host's CPUs, a CPU topology level the destination's libvirt
does not know, serial, parallel and console ports on the host's files,
devices, pipes and TCP endpoints (often as ``[datastore] dir/file``
paths), the host's CD-ROM and floppy drives, and a VNC port on the host.
None of it exists on the destination: each step takes the
:class:`~nova_v2v.hardware.draft.Draft` of a foreign guest and translates
such an element to what KVM has, or removes it, with a finding in the
report. A QEMU/KVM source is left as it is.
"""

from nova_v2v.hardware import draft as hw_draft
from nova_v2v.hardware import exception
from nova_v2v.hardware import report as hw_report

# Character devices, and the backends that refer to nothing on a host.
CHAR_DEVICES = ('serial', 'parallel', 'console')
HOSTLESS_CHAR_TYPES = ('pty', 'null')
# Removable media: a host drive behind one stays on the source host.
REMOVABLE = ('cdrom', 'floppy')


def platform(draft):
    """The source host's identity and pinning go from a foreign guest.

    The hardware (SMBIOS system) UUID, ``<smbios mode="host"/>``, the
    vCPUs' host CPU set and pinning, NUMA memory placement; a ``clusters``
    level of the CPU topology (ESXi 8's, which QEMU before 9.2 and libvirt
    before 10.1 do not have) is folded into the cores.

    :raises: TranslationError for a topology level that is not a number
    """
    if not draft.profile.foreign:
        return
    root = draft.root
    for el in root.findall('./hwuuid'):
        draft.rep.add(hw_report.REMOVED, 'hardware uuid',
                      (el.text or '').strip() or None, None,
                      'the %s SMBIOS system UUID: the guest sees its domain '
                      'UUID instead, and software bound to the old one may '
                      'notice' % draft.profile.name, hw_report.WARNING)
        hw_draft.drop(el)
    for el in root.findall("./os/smbios[@mode='host']"):
        draft.rep.add(hw_report.REMOVED, 'smbios', 'host', None,
                      'the SMBIOS tables of the host the guest runs on: on '
                      'the destination they would be its host\'s',
                      hw_report.WARNING)
        hw_draft.drop(el)
    vcpu = root.find('./vcpu')
    if vcpu is not None and 'cpuset' in vcpu.attrib:
        draft.rep.add(hw_report.REMOVED, 'vcpu cpuset',
                      vcpu.attrib.pop('cpuset'), None,
                      'pinned to the source host\'s CPUs')
    _pinning(draft)
    for topology in root.findall('./cpu/topology'):
        if 'clusters' not in topology.attrib:
            continue
        value = topology.attrib.pop('clusters')
        try:
            clusters = int(value)
            cores = int(topology.get('cores', '1'))
        except ValueError:
            raise exception.TranslationError(
                'the CPU topology is not numbers: clusters %r, cores %r'
                % (value, topology.get('cores')))
        if clusters == 1:
            draft.rep.add(hw_report.REMOVED, 'cpu topology clusters', value,
                          None, 'one cluster a die is no cluster level')
        else:
            topology.set('cores', str(cores * clusters))
            draft.rep.add(hw_report.CHANGED, 'cpu topology',
                          'clusters=%s cores=%d' % (value, cores),
                          'cores=%d' % (cores * clusters),
                          'the destination has no cluster level: the '
                          'clusters\' cores are the die\'s')


def _pinning(draft):
    """vCPU, emulator and I/O thread pinning, and NUMA memory placement.

    They name the source host's CPUs and NUMA nodes (a Xen guest's
    ``vcpupin``, for one); a ``<cputune>`` left empty goes with them.
    """
    root = draft.root
    for xpath, key in (('./cputune/vcpupin', 'vcpu'),
                       ('./cputune/emulatorpin', None),
                       ('./cputune/iothreadpin', 'iothread')):
        for el in root.findall(xpath):
            where = ' '.join(v for v in (
                'cputune', el.tag, el.get(key) if key else None) if v)
            draft.rep.add(hw_report.REMOVED, where, el.get('cpuset'), None,
                          'pinned to the source host\'s CPUs')
            parent = el.getparent()
            hw_draft.drop(el)
            if not len(parent) and not parent.attrib:
                hw_draft.drop(parent)
    for el in root.findall('./numatune'):
        memory = el.find('./memory')
        draft.rep.add(hw_report.REMOVED, 'numatune',
                      memory.get('nodeset') if memory is not None else None,
                      None, 'placed on the source host\'s NUMA nodes')
        hw_draft.drop(el)


def removable_media(draft):
    """CD-ROM and floppy drives on a host drive become empty drives.

    A drive without a medium on a host block device (an empty CD-ROM, or
    one that would take whatever disc the host's drive holds), and a drive
    passed through from the source host's CD-ROM or floppy drive: the host's
    drive stays there, the guest keeps an empty drive. A SCSI LUN passed
    through with a device is left to the unmappable device policy.
    """
    if not draft.profile.foreign:
        return
    for disk in draft.devices.findall('./disk'):
        device = disk.get('device', 'disk')
        source = disk.find('./source')
        host_dev = source.get('dev') if source is not None else None
        if disk.get('type') != 'block' or not (
                device in REMOVABLE or (device == 'lun' and not host_dev)):
            continue
        target = disk.find('./target')
        where = '%s %s' % (device, target.get('dev') if target is not None
                           else '?')
        kind = device if device in REMOVABLE else 'cdrom'
        disk.set('type', 'file')
        disk.set('device', kind)
        if source is not None:
            hw_draft.drop(source)
        if host_dev:
            draft.rep.add(hw_report.CHANGED, where,
                          'host drive %s' % host_dev, 'empty %s drive' % kind,
                          'the source host\'s drive stays there',
                          hw_report.WARNING)
        else:
            draft.rep.add(hw_report.CHANGED, where,
                          'host drive (no medium)', 'empty %s drive' % kind,
                          'the drive had no medium of its own')


def char_devices(draft):
    """Serial, parallel and console ports of a foreign guest on a pty.

    A port on the source host's file, device, pipe or TCP endpoint refers
    to what exists there only; a pty (or nothing) refers to nothing of a
    host.
    """
    if not draft.profile.foreign:
        return
    for tag in CHAR_DEVICES:
        for dev in draft.devices.findall('./%s' % tag):
            old = dev.get('type')
            if old in HOSTLESS_CHAR_TYPES:
                continue
            source = dev.find('./source')
            detail = None
            if source is not None:
                detail = source.get('path') or ':'.join(
                    v for v in (source.get('host'), source.get('service'))
                    if v) or None
            for child in list(dev):
                if child.tag != 'target':
                    hw_draft.drop(child)
            dev.set('type', 'pty')
            target = dev.find('./target')
            port = target.get('port') if target is not None else None
            draft.rep.add(hw_report.CHANGED,
                          '%s %s' % (tag, port) if port else tag,
                          '%s %s' % (old, detail) if detail else old, 'pty',
                          'the source host\'s %s backend does not exist '
                          'here' % old, hw_report.WARNING)


def graphics(draft):
    """A foreign guest's graphics on a port the destination chooses.

    A fixed port (and listen address) was the source host's.
    """
    if not draft.profile.foreign:
        return
    for gfx in draft.devices.findall('./graphics'):
        old = []
        fixed = gfx.get('autoport') != 'yes'
        for attr in ('port', 'tlsPort', 'websocket', 'listen'):
            if attr in gfx.attrib and (fixed or attr == 'listen'):
                old.append('%s %s' % (attr, gfx.attrib.pop(attr)))
        for listen in gfx.findall('./listen'):
            if listen.get('address'):
                old.append('listen %s' % listen.get('address'))
            hw_draft.drop(listen)
        if old or gfx.get('autoport') == 'no':
            gfx.set('autoport', 'yes')
            draft.rep.add(hw_report.CHANGED, 'graphics %s' % gfx.get('type'),
                          ', '.join(old) or 'autoport no', 'autoport',
                          'the source host\'s port and address')
