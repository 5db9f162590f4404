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

"""Exports built by hand, as the VMware readers return them."""

from nova_v2v.exports import base

GIB = 1024 ** 3
OSINFO = 'http://libosinfo.org/xmlns/libvirt/domain/1.0'


def domain(root, name='web01', firmware=None, secure=False, disks=2,
           cdrom=False, boot_second=False, nics=(('VM Network', 'vmxnet3',
                                                  '00:50:56:91:48:c7'),),
           osinfo=None, memory_kib=2097152, vcpus=2):
    """A VMware guest's domain XML, its disks below ``root``/ds."""
    os_attr = " firmware='%s'" % firmware if firmware else ''
    fw = ("<firmware><feature enabled='yes' name='secure-boot'/>"
          "</firmware>" if secure else '')
    meta = ("<metadata><libosinfo:libosinfo xmlns:libosinfo='%s'>"
            "<libosinfo:os id='%s'/></libosinfo:libosinfo></metadata>"
            % (OSINFO, osinfo) if osinfo else '')
    devs = []
    for i in range(disks):
        boot = "<boot order='1'/>" if boot_second and i == 1 else ''
        devs.append(
            "<disk type='file' device='disk'><source file='%s/ds/disk%d.vmdk'"
            "/><target dev='sd%s' bus='scsi'/>%s</disk>"
            % (root, i + 1, 'abcdefgh'[i], boot))
    if cdrom:
        devs.append("<disk type='file' device='cdrom'><source "
                    "file='%s/ds/tools.iso'/><target dev='hda' bus='ide'/>"
                    "</disk>" % root)
    devs.append("<controller type='scsi' index='0' model='vmpvscsi'/>")
    for net, model, mac in nics:
        devs.append("<interface type='bridge'>%s<source bridge='%s'/>"
                    "<model type='%s'/></interface>" % (
                        "<mac address='%s'/>" % mac if mac else '',
                        net, model))
    devs.append("<video><model type='vmvga' vram='4096'/></video>")
    return ("<domain type='vmware'><name>%s</name>%s"
            "<memory unit='KiB'>%d</memory><vcpu>%d</vcpu>"
            "<os%s><type arch='x86_64'>hvm</type>%s</os>"
            "<devices>%s</devices></domain>" % (
                name, meta, memory_kib, vcpus, os_attr, fw,
                ''.join(devs)))


def export(root='/srv/export', kind='ova', disks=2, capacities=None,
           cdrom=False, nics=(('VM Network', 'vmxnet3',
                               '00:50:56:91:48:c7'),),
           notes=('the manifest names SHA256 digests',), **kwargs):
    """An :class:`base.Export` as a reader would return it."""
    capacities = capacities or [20 * GIB, 10 * GIB][:disks]
    members = kind == 'ova'
    edisks = [base.ExportDisk(
        target='sd%s' % 'abcdefgh'[i],
        path='%s/ds/disk%d.vmdk' % (root, i + 1),
        member='disk%d.vmdk' % (i + 1) if members else None,
        capacity=capacities[i] if i < len(capacities) else None)
        for i in range(disks)]
    if cdrom:
        edisks.append(base.ExportDisk(target='hda',
                                      path='%s/ds/tools.iso' % root,
                                      format='raw'))
    return base.Export(
        kind=kind, source='%s/web01.%s' % (root, kind), root_dir=root,
        domain_xml=domain(root, disks=disks, cdrom=cdrom, nics=nics,
                          **kwargs),
        disks=tuple(edisks),
        nics=tuple(base.ExportNic(mac=mac, network=net, model=model)
                   for net, model, mac in nics),
        notes=tuple(notes))
