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

"""Read a guest's virtual hardware from its domain XML or image metadata.

Pure functions: libvirt domain XML (a string) or Nova image properties (a
dict) in, :class:`nova_v2v.hardware.guest.GuestProfile` out.
"""

from lxml import etree

from nova_v2v.hardware import guest

# Nova's hw_scsi_model / hw_vif_model values and libvirt's model names, to
# the names the planner and its translation table use.
_SCSI_MODELS = {'virtio-scsi': 'virtio-scsi', 'vmpvscsi': 'pvscsi',
                'lsilogic': 'lsilogic', 'lsisas1068': 'lsisas1068',
                'buslogic': 'buslogic', 'ibmvscsi': 'ibmvscsi'}
_NIC_MODELS = {'virtio': 'virtio', 'e1000': 'e1000', 'e1000e': 'e1000e',
               'rtl8139': 'rtl8139', 'ne2k_pci': 'ne2k_pci',
               'pcnet': 'pcnet', 'vmxnet3': 'vmxnet3', 'vmxnet': 'vmxnet3'}


class InvalidDomainXML(ValueError):
    """The text given is not a libvirt domain definition."""


class HostileDomainXML(InvalidDomainXML):
    """The definition carries a DTD or entities: refused, never resolved."""


def hardened_parser():
    """The lxml parser of every document from outside: no DTD, no entity.

    Domain definitions come from libvirt, but also from operators' files
    (the translate command) and VMware exports (OVF descriptors): no DTD,
    no entity, no network, no huge tree, no processing instruction.
    """
    return etree.XMLParser(resolve_entities=False, no_network=True,
                           load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_pis=True)


def domain_root(xml):
    """The root element of a libvirt domain definition (text or bytes).

    :raises: InvalidDomainXML for anything but a plain ``<domain>``
        document, including any document with a DTD or an entity.
    """
    data = xml.encode('utf-8') if isinstance(xml, str) else xml
    if b'<!DOCTYPE' in data or b'<!ENTITY' in data:
        # Refused before parsing: libxml2 must not even expand them.
        raise HostileDomainXML('a document type declaration (DTD) or an '
                               'entity is not accepted in a domain '
                               'definition')
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as e:
        raise InvalidDomainXML('not XML: %s' % e)
    if root.getroottree().docinfo.doctype:
        raise HostileDomainXML('a document type declaration (DTD) is not '
                               'accepted in a domain definition')
    if any(isinstance(el, etree._Entity) for el in root.iter()):
        raise HostileDomainXML('entities are not accepted in a domain '
                               'definition')
    if root.tag != 'domain':
        raise InvalidDomainXML('not a libvirt domain: <%s>' % root.tag)
    return root


def parse_domain_xml(xml):
    """The :class:`GuestProfile` of a libvirt domain definition."""
    root = domain_root(xml)

    os_type = root.find('./os/type')
    arch = os_type.get('arch', 'x86_64') if os_type is not None else 'x86_64'
    machine = os_type.get('machine', '') if os_type is not None else ''
    cpu = root.find('./cpu')
    cpu_mode = cpu.get('mode', 'custom') if cpu is not None else ''
    cpu_model = (cpu.findtext('./model') or '') if cpu is not None else ''

    disks = []
    for disk in root.findall('./devices/disk'):
        target = disk.find('./target')
        source = disk.find('./source')
        driver = disk.find('./driver')
        path = None
        if source is not None:
            path = (source.get('file') or source.get('dev') or
                    source.get('name'))
        disks.append(guest.GuestDisk(
            target=target.get('dev', '') if target is not None else '',
            bus=target.get('bus', '') if target is not None else '',
            path=path,
            format=(driver.get('type', 'raw') if driver is not None
                    else 'raw'),
            device=disk.get('device', 'disk'),
            source_type=disk.get('type', 'file'),
            readonly=disk.find('./readonly') is not None,
            shareable=disk.find('./shareable') is not None))

    nics = tuple(m.get('type', '') for m in
                 root.findall('./devices/interface/model'))
    scsi = tuple(c.get('model', '') for c in
                 root.findall("./devices/controller[@type='scsi']"))
    return guest.GuestProfile(
        domain_type=root.get('type', 'qemu'), arch=arch, machine=machine,
        cpu_mode=cpu_mode, cpu_model=cpu_model, disks=tuple(disks),
        nic_models=nics,
        scsi_models=tuple(_SCSI_MODELS.get(m, m) for m in scsi if m))


def guest_from_image_properties(properties, accelerator, arch='x86_64',
                                disk_bus=None):
    """The :class:`GuestProfile` Nova builds from an instance's image.

    Used where the domain XML is not at hand (the scheduler, the
    destination's pre-check): Nova derives a libvirt guest's hardware from
    its image properties (``hw_machine_type``, ``hw_disk_bus``,
    ``hw_vif_model``, ``hw_scsi_model``, ``hw_architecture``) and the host's
    virt type.
    """
    properties = properties or {}
    bus = properties.get('hw_disk_bus') or disk_bus or 'virtio'
    scsi = properties.get('hw_scsi_model')
    nic = properties.get('hw_vif_model')
    disk_bus_name = 'scsi' if bus == 'scsi' else bus
    return guest.GuestProfile(
        domain_type=guest.DOMAIN_TYPE.get(accelerator, accelerator),
        arch=properties.get('hw_architecture') or arch,
        machine=properties.get('hw_machine_type') or '',
        disks=(guest.GuestDisk(target='disk', bus=disk_bus_name),),
        nic_models=(_NIC_MODELS.get(nic, nic),) if nic else (),
        scsi_models=(_SCSI_MODELS.get(scsi, scsi),) if scsi else ())
