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

"""The lab guest's disk as VMware exports a guest: an OVA.

An OVF 1.0 descriptor as VMware's ``ovftool`` writes one (a VMware
paravirtual SCSI controller, a vmxnet3 NIC with its MAC on ``VM Network``,
BIOS firmware, one disk), a streamOptimized VMDK made by ``qemu-img`` from
a raw disk with a known pattern in it, a SHA256 manifest, in a POSIX tar
with the descriptor first (OVF 1.0, section 5.3). The gate imports it with
``nova-v2v import``; the lab's kernel and initramfs boot it (the image
properties the import is given), as they boot every gate guest.
"""

import hashlib
import os
import tarfile

from lxml import etree
from oslo_concurrency import processutils

OVF = 'http://schemas.dmtf.org/ovf/envelope/1'
RASD = ('http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/'
        'CIM_ResourceAllocationSettingData')
VSSD = ('http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/'
        'CIM_VirtualSystemSettingData')
VMW = 'http://www.vmware.com/schema/ovf'
NSMAP = {None: OVF, 'ovf': OVF, 'rasd': RASD, 'vssd': VSSD, 'vmw': VMW}
STREAM_OPTIMIZED = ('http://www.vmware.com/interfaces/specifications/'
                    'vmdk.html#streamOptimized')
NETWORK = 'VM Network'
# VMware's OUI for static MACs (00:50:56:00:00:00-00:50:56:3f:ff:ff).
MAC = '00:50:56:1a:2b:3c'
DISK_FILE = 'disk1.vmdk'


def _el(parent, ns, tag, text=None, **attrs):
    el = etree.SubElement(parent, '{%s}%s' % (ns, tag))
    for key, value in attrs.items():
        prefix, _sep, name = key.partition('_')
        el.set('{%s}%s' % (NSMAP[prefix], name), str(value))
    if text is not None:
        el.text = str(text)
    return el


def _item(section, **fields):
    """A hardware Item of ``rasd`` fields, and ``vmw:Config`` ones.

    The fields in the schema's (alphabetical) order; ``configs`` a list of
    ``(key, value)``.
    """
    item = _el(section, OVF, 'Item')
    configs = fields.pop('configs', ())
    for tag in sorted(fields):
        _el(item, RASD, tag, fields[tag])
    for key, value in configs:
        _el(item, VMW, 'Config', ovf_required='false', vmw_key=key,
            vmw_value=value)
    return item


def descriptor(name, disk_bytes, capacity_mib, memory_mib=256, vcpus=1,
               mac=MAC, network=NETWORK):
    """The OVF descriptor (bytes) of a guest with one disk.

    :param disk_bytes: the VMDK file's size
    :param capacity_mib: the disk's size as the guest sees it
    """
    env = etree.Element('{%s}Envelope' % OVF, nsmap=NSMAP)
    env.set('{%s}version' % VMW, '1')
    refs = _el(env, OVF, 'References')
    _el(refs, OVF, 'File', ovf_href=DISK_FILE, ovf_id='file1',
        ovf_size=disk_bytes)
    disks = _el(env, OVF, 'DiskSection')
    _el(disks, OVF, 'Info', 'Virtual disk information')
    _el(disks, OVF, 'Disk', ovf_capacity=capacity_mib,
        ovf_capacityAllocationUnits='byte * 2^20', ovf_diskId='vmdisk1',
        ovf_fileRef='file1', ovf_format=STREAM_OPTIMIZED)
    nets = _el(env, OVF, 'NetworkSection')
    _el(nets, OVF, 'Info', 'The list of logical networks')
    net = _el(nets, OVF, 'Network', ovf_name=network)
    _el(net, OVF, 'Description', 'The %s network' % network)
    system = _el(env, OVF, 'VirtualSystem', ovf_id=name)
    _el(system, OVF, 'Info', 'A virtual machine')
    _el(system, OVF, 'Name', name)
    os_section = _el(system, OVF, 'OperatingSystemSection', ovf_id=101,
                     vmw_osType='otherLinux64Guest')
    _el(os_section, OVF, 'Info', 'The kind of installed guest operating '
        'system')
    hw = _el(system, OVF, 'VirtualHardwareSection')
    _el(hw, OVF, 'Info', 'Virtual hardware requirements')
    vsys = _el(hw, OVF, 'System')
    for tag, value in (('ElementName', 'Virtual Hardware Family'),
                       ('InstanceID', 0),
                       ('VirtualSystemIdentifier', name),
                       ('VirtualSystemType', 'vmx-13')):
        _el(vsys, VSSD, tag, value)
    _item(hw, AllocationUnits='hertz * 10^6',
          Description='Number of Virtual CPUs',
          ElementName='%d virtual CPU(s)' % vcpus, InstanceID=1,
          ResourceType=3, VirtualQuantity=vcpus)
    _item(hw, AllocationUnits='byte * 2^20', Description='Memory Size',
          ElementName='%dMB of memory' % memory_mib, InstanceID=2,
          ResourceType=4, VirtualQuantity=memory_mib)
    _item(hw, Address=0, Description='SCSI Controller',
          ElementName='SCSI controller 0', InstanceID=3,
          ResourceSubType='VirtualSCSI', ResourceType=6)
    _item(hw, AddressOnParent=0, ElementName='Hard disk 1',
          HostResource='ovf:/disk/vmdisk1', InstanceID=4, Parent=3,
          ResourceType=17)
    _item(hw, Address=mac, AddressOnParent=7, AutomaticAllocation='true',
          Connection=network, Description='VmxNet3 ethernet adapter on '
          '"%s"' % network, ElementName='Network adapter 1', InstanceID=5,
          ResourceSubType='VmxNet3', ResourceType=10,
          configs=(('wakeOnLanEnabled', 'false'),))
    _el(hw, VMW, 'Config', ovf_required='false', vmw_key='firmware',
        vmw_value='bios')
    return etree.tostring(env, xml_declaration=True, encoding='UTF-8',
                          pretty_print=True)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def build(work_dir, name, capacity_mib, data=None, mac=MAC,
          network=NETWORK):
    """Write ``work_dir/name.ova``; its path.

    :param capacity_mib: the disk's size
    :param data: ``(offset, length)`` in MiB written with the byte 0x5a
        (what the import must carry over), or None
    """
    os.makedirs(work_dir, exist_ok=True)
    raw = os.path.join(work_dir, name + '.raw')
    vmdk = os.path.join(work_dir, DISK_FILE)
    processutils.execute('qemu-img', 'create', '-q', '-f', 'raw', raw,
                         '%dM' % capacity_mib)
    if data:
        processutils.execute('qemu-io', '-f', 'raw', '-c',
                             'write -q -P 0x5a %dM %dM' % data, raw)
    processutils.execute('qemu-img', 'convert', '-q', '-f', 'raw',
                         '-O', 'vmdk', '-o', 'subformat=streamOptimized',
                         raw, vmdk)
    os.unlink(raw)
    ovf_name = name + '.ovf'
    ovf = os.path.join(work_dir, ovf_name)
    with open(ovf, 'wb') as f:
        f.write(descriptor(name, os.path.getsize(vmdk), capacity_mib,
                           mac=mac, network=network))
    mf = os.path.join(work_dir, name + '.mf')
    with open(mf, 'w') as f:
        for member in (ovf, vmdk):
            f.write('SHA256(%s)= %s\n' % (os.path.basename(member),
                                          _sha256(member)))
    ova = os.path.join(work_dir, name + '.ova')
    with tarfile.open(ova, 'w', format=tarfile.USTAR_FORMAT) as tar:
        for member in (ovf, mf, vmdk):
            tar.add(member, arcname=os.path.basename(member))
    for member in (ovf, mf, vmdk):
        os.unlink(member)
    return ova
