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

"""What ``nova-v2v import`` makes of a VMware export: the import plan.

Pure.  From an :class:`~nova_v2v.exports.base.Export`, its translation for
a KVM destination (:func:`nova_v2v.hardware.translate.translate`), the
operator's options and what the cloud offers (flavors, networks, as read by
:mod:`nova_v2v.cmd.importer`), an :class:`ImportPlan`: the server's name,
the boot disk to convert and upload, the Glance image's properties that
make Nova build the translated hardware, the flavor, one Neutron port per
NIC keeping its MAC, and every note of the reader, the translation and the
planning.  Nothing here asks the cloud or touches a file.
"""

import dataclasses
import math
import re
import typing as ty

from lxml import etree

from nova_v2v.hardware import inspect

GIB = 1024 ** 3
MIB = 1024 ** 2
DISK_FORMATS = ('qcow2', 'raw')
DEFAULT_NETWORK = '*'
# Image properties that record where an image came from.
PROP_SOURCE = 'nova_v2v_import_source'
PROP_KIND = 'nova_v2v_import_kind'
# The image property, port description and server metadata key that mark
# what one run of the import created (its run ID), to find it again.
PROP_RUN = 'nova_v2v_import_run'
# Room left free in the work directory besides the files the import
# writes there: 1% of them and 64 MiB (the filesystem's own metadata,
# a qcow2's tables).
WORK_MARGIN_BYTES = 64 * MIB
WORK_MARGIN_PERCENT = 1
# libvirt's libosinfo metadata: how a definition names its guest's OS.
OSINFO_NS = 'http://libosinfo.org/xmlns/libvirt/domain/1.0'
# libosinfo's OS id hosts and paths to Glance's os_distro values (the
# image metadata definitions' "os_distro" enumeration).
_OSINFO_DISTROS = (
    (r'//microsoft\.com/win', 'windows'),
    (r'//ubuntu\.com/', 'ubuntu'),
    (r'//debian\.org/', 'debian'),
    (r'//fedoraproject\.org/', 'fedora'),
    (r'//centos\.org/', 'centos'),
    (r'//redhat\.com/rhel', 'rhel'),
    (r'//opensuse\.org/', 'opensuse'),
    (r'//freebsd\.org/', 'freebsd'),
    (r'//openbsd\.org/', 'openbsd'),
    (r'//netbsd\.org/', 'netbsd'),
    (r'//archlinux\.org/', 'arch'),
    (r'//gentoo\.org/', 'gentoo'),
)
# Nova's hw_scsi_model for the controller models of a translated guest.
_SCSI_MODELS = {'virtio-scsi': 'virtio-scsi', 'lsilogic': 'lsilogic',
                'lsisas1068': 'lsisas1068', 'vmpvscsi': 'vmpvscsi',
                'buslogic': 'buslogic'}


class PlanError(Exception):
    """The export cannot be imported as asked."""


class NoBootDisk(PlanError):
    """The guest has no disk to boot from."""


class MoreDisks(PlanError):
    """Disks besides the boot disk, which would need Cinder volumes."""


class FlavorTooSmall(PlanError):
    """The flavor the operator named does not fit the guest."""


class NoFlavor(PlanError):
    """No flavor fits the guest, or the one named does not exist."""


class UnmappedNetworks(PlanError):
    """NICs on source networks that no ``--network`` maps."""


class UnknownNetwork(PlanError):
    """A ``--network`` names no network of the cloud, or several."""


class NoWorkSpace(PlanError):
    """The work directory's filesystem cannot hold the import's files."""


@dataclasses.dataclass(frozen=True)
class Flavor:
    """A Nova flavor as the plan needs it (RAM in MiB, disk in GiB)."""

    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    is_public: bool = True


@dataclasses.dataclass(frozen=True)
class Network:
    """A Neutron network."""

    id: str
    name: str


@dataclasses.dataclass(frozen=True)
class Options:
    """The operator's choices.

    :ivar name: the server's (and image's) name; default the guest's
    :ivar flavor: a flavor name or ID; default the smallest that fits
    :ivar networks: ``{source network or '*': Neutron network name or ID}``
    :ivar disk_format: the image's format (qcow2, raw)
    :ivar boot_disk_only: leave disks besides the boot disk out, rather
        than refuse the import
    :ivar properties: more image properties (``--property``), over those
        of the translated hardware (a note names each one replaced)
    """

    name: ty.Optional[str] = None
    flavor: ty.Optional[str] = None
    networks: ty.Mapping[str, str] = dataclasses.field(default_factory=dict)
    disk_format: str = 'qcow2'
    boot_disk_only: bool = False
    properties: ty.Mapping[str, str] = dataclasses.field(
        default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Needs:
    """What the guest needs of a flavor."""

    vcpus: int
    ram_mib: int
    disk_gib: ty.Optional[int]

    def __str__(self):
        return '%d vCPUs, %d MiB RAM, %s root disk' % (
            self.vcpus, self.ram_mib,
            '%d GiB' % self.disk_gib if self.disk_gib is not None
            else 'an unknown')


@dataclasses.dataclass(frozen=True)
class ImagePlan:
    """The Glance image of the boot disk."""

    name: str
    disk_format: str
    container_format: str
    properties: ty.Mapping[str, str]
    min_disk: int = 0


@dataclasses.dataclass(frozen=True)
class PortPlan:
    """One Neutron port, for one NIC of the guest.

    :ivar network: the Neutron network as the operator named it
    :ivar network_id: its ID, once resolved against the cloud's networks
    """

    mac: ty.Optional[str]
    source_network: str
    model: str
    network: str
    network_id: ty.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class ImportPlan:
    kind: str
    source: str
    name: str
    boot_disk: ty.Any                 # base.ExportDisk
    capacity: ty.Optional[int]
    left_out: ty.Tuple[ty.Any, ...]   # base.ExportDisk
    image: ImagePlan
    needs: Needs
    flavor: ty.Optional[Flavor]
    ports: ty.Tuple[PortPlan, ...]
    notes: ty.Tuple[str, ...]
    # Bytes the import writes in its work directory (see work_bytes).
    work_bytes: int = 0

    def to_dict(self):
        return {
            'kind': self.kind, 'source': self.source, 'name': self.name,
            'boot_disk': {'target': self.boot_disk.target,
                          'path': self.boot_disk.path,
                          'format': self.boot_disk.format,
                          'member': self.boot_disk.member,
                          'capacity': self.capacity},
            'left_out': [d.target for d in self.left_out],
            'image': dataclasses.asdict(self.image),
            'needs': dataclasses.asdict(self.needs),
            'flavor': (dataclasses.asdict(self.flavor) if self.flavor
                       else None),
            'ports': [dataclasses.asdict(p) for p in self.ports],
            'work_bytes': self.work_bytes,
            'notes': list(self.notes)}

    def to_text(self):
        disk = self.boot_disk
        lines = [
            'import %s %s as server %r' % (self.kind, self.source,
                                           self.name),
            'boot disk: %s %s (%s%s), %s' % (
                disk.target, disk.member or disk.path, disk.format,
                ', OVA member' if disk.member else '',
                '%d bytes' % self.capacity if self.capacity is not None
                else 'capacity unknown until read'),
            'image: %r %s/%s, min_disk %d GiB' % (
                self.image.name, self.image.disk_format,
                self.image.container_format, self.image.min_disk)]
        for key in sorted(self.image.properties):
            lines.append('  %s=%s' % (key, self.image.properties[key]))
        lines.append('needs: %s' % self.needs)
        if self.flavor:
            f = self.flavor
            lines.append('flavor: %s (%s): %d vCPUs, %d MiB RAM, %d GiB '
                         'disk' % (f.name, f.id, f.vcpus, f.ram, f.disk))
        else:
            lines.append('flavor: (the cloud\'s flavors not read)')
        for port in self.ports:
            lines.append('port: %s on %s (%s) for source network %r, '
                         'source NIC model %s' % (
                             port.mac or '(a new MAC)', port.network,
                             port.network_id or 'not resolved',
                             port.source_network, port.model))
        for d in self.left_out:
            lines.append('left out: disk %s %s' % (d.target,
                                                   d.member or d.path))
        lines.append('work directory: %d bytes (%.1f GiB) free needed for '
                     'the extracted and converted disks' % (
                         self.work_bytes, self.work_bytes / GIB))
        if self.notes:
            lines.append('notes:')
            lines.extend('  %s' % n for n in self.notes)
        return '\n'.join(lines)


def _local(el):
    return etree.QName(el).localname if isinstance(el.tag, str) else ''


def guest_needs(translated_xml, capacity):
    """vCPUs, RAM and root disk of a translated guest.

    :param capacity: the boot disk's virtual size in bytes, or None
    """
    root = inspect.domain_root(translated_xml)
    vcpus = int((root.findtext('./vcpu') or '1').strip())
    mem = root.find('./memory')
    ram_mib = 0
    if mem is not None:
        unit = (mem.get('unit') or 'KiB').lower()
        scale = {'b': 1, 'bytes': 1, 'kib': 1024, 'k': 1024, 'kb': 1000,
                 'mib': MIB, 'm': MIB, 'mb': 1000 ** 2, 'gib': GIB,
                 'g': GIB, 'gb': 1000 ** 3}.get(unit, 1024)
        ram_mib = int(math.ceil(int(mem.text.strip()) * scale / MIB))
    disk_gib = (int(math.ceil(capacity / GIB)) if capacity is not None
                else None)
    return Needs(vcpus=vcpus, ram_mib=ram_mib, disk_gib=disk_gib)


def _fits(flavor, needs):
    return (flavor.vcpus >= needs.vcpus and flavor.ram >= needs.ram_mib and
            (needs.disk_gib is None or flavor.disk >= needs.disk_gib))


def choose_flavor(flavors, needs, wanted=None):
    """The flavor of the server.

    :param flavors: the cloud's :class:`Flavor` (for ``wanted``, those
        the operator can see; else the public ones)
    :param wanted: the flavor the operator named (name or ID), or None for
        the smallest public flavor that fits (by disk, RAM, vCPUs, name);
        a flavor of no root disk (0) is never chosen, since Nova's policy
        keeps it to administrators for image-backed servers
    :raises: NoFlavor, FlavorTooSmall
    """
    if wanted:
        flavor = _by_id_or_name(flavors, wanted, 'flavor', NoFlavor)
        if not _fits(flavor, needs):
            raise FlavorTooSmall(
                'flavor %s (%d vCPUs, %d MiB RAM, %d GiB disk) is too small '
                'for the guest, which needs %s' % (
                    flavor.name, flavor.vcpus, flavor.ram, flavor.disk,
                    needs))
        return flavor
    fitting = sorted((f for f in flavors
                      if f.is_public and f.disk > 0 and _fits(f, needs)),
                     key=lambda f: (f.disk, f.ram, f.vcpus, f.name))
    if not fitting:
        raise NoFlavor('no public flavor fits the guest, which needs %s: '
                       'create one or name one with --flavor' % needs)
    return fitting[0]


def parse_network_maps(texts):
    """``['SRC=NET', ...]`` as ``{SRC: NET}`` (``*`` the default).

    :raises: ValueError for a text without ``=`` or an empty side, or a
        source mapped twice
    """
    maps = {}
    for text in texts or ():
        src, sep, net = text.rpartition('=')
        src, net = src.strip(), net.strip()
        if not (sep and src and net):
            raise ValueError('expected "SOURCE NETWORK=NET", not %r' % text)
        if src in maps:
            raise ValueError('source network %r mapped twice' % src)
        maps[src] = net
    return maps


def resolve_network(networks, wanted):
    """The :class:`Network` an operator named (ID, else unique name).

    :raises: UnknownNetwork
    """
    return _by_id_or_name(networks, wanted, 'network', UnknownNetwork)


def _by_id_or_name(items, wanted, kind, error):
    """The one item whose ID, else whose name, is ``wanted``.

    :raises: ``error`` (none, or several of that name)
    """
    found = [i for i in items if i.id == wanted]
    found = found or [i for i in items if i.name == wanted]
    if len(found) != 1:
        raise error('%s %r: %s' % (
            kind, wanted, 'no such %s' % kind if not found else
            'several %ss of this name: name it by ID' % kind))
    return found[0]


def plan_ports(nics, maps, networks=None):
    """One :class:`PortPlan` per NIC, on the network its source maps to.

    :param maps: ``{source network or '*': network name or ID}``
    :param networks: the cloud's :class:`Network`, or None to leave them
        unresolved
    :raises: UnmappedNetworks naming every source network no map covers;
        UnknownNetwork
    """
    unmapped = sorted({n.network for n in nics
                       if n.network not in maps and
                       DEFAULT_NETWORK not in maps})
    if unmapped:
        raise UnmappedNetworks(
            'no --network maps the source network%s %s: add '
            '--network "SOURCE=NET" for each (or "*=NET")' % (
                's' if len(unmapped) > 1 else '',
                ', '.join(repr(u) for u in unmapped)))
    ports = []
    for nic in nics:
        wanted = maps.get(nic.network, maps.get(DEFAULT_NETWORK))
        net_id = None
        if networks is not None:
            net_id = resolve_network(networks, wanted).id
        ports.append(PortPlan(mac=nic.mac, source_network=nic.network,
                              model=nic.model, network=wanted,
                              network_id=net_id))
    return tuple(ports)


def boot_disk_target(translated_xml):
    """The translated target (``vda``) of the disk the guest boots from.

    The first disk of the boot order: the disks with ``<boot order>`` by
    order, else the first disk (not CD-ROM) where the ``<os>`` boot
    devices start with ``hd`` or say nothing; None without a disk.
    """
    root = inspect.domain_root(translated_xml)
    disks = [d for d in root.findall('./devices/disk')
             if d.get('device', 'disk') == 'disk' and
             d.find('./target') is not None]
    ordered = sorted(
        ((int(d.find('./boot').get('order', '0')), d) for d in disks
         if d.find('./boot') is not None), key=lambda pair: pair[0])
    if ordered:
        return ordered[0][1].find('./target').get('dev')
    return disks[0].find('./target').get('dev') if disks else None


def _osinfo(root):
    for el in root.iter('{%s}os' % OSINFO_NS):
        return el.get('id') or None
    return None


def image_properties(translated_xml, boot_target, export):
    """Glance properties that make Nova build the translated hardware.

    :param boot_target: the translated boot disk's target (``vda``)
    :param export: the :class:`~nova_v2v.exports.base.Export`
    :returns: ``(properties, notes)``
    """
    root = inspect.domain_root(translated_xml)
    props = {PROP_SOURCE: export.source, PROP_KIND: export.kind}
    notes = []
    for disk in root.findall('./devices/disk'):
        target = disk.find('./target')
        if target is not None and target.get('dev') == boot_target:
            bus = target.get('bus') or 'virtio'
            props['hw_disk_bus'] = bus
            if bus == 'scsi':
                models = [c.get('model') for c in root.findall(
                    "./devices/controller[@type='scsi']") if c.get('model')]
                props['hw_scsi_model'] = _SCSI_MODELS.get(
                    models[0] if models else 'virtio-scsi', 'virtio-scsi')
    vifs = [m.get('type') for m in root.findall('./devices/interface/model')
            if m.get('type')]
    if vifs:
        props['hw_vif_model'] = vifs[0]
        if len(set(vifs)) > 1:
            notes.append('NIC models %s: Nova gives every port the model '
                         'of hw_vif_model, %s' % (', '.join(vifs), vifs[0]))
    os_el = root.find('./os')
    type_el = os_el.find('./type') if os_el is not None else None
    machine = type_el.get('machine') if type_el is not None else None
    if machine:
        props['hw_machine_type'] = machine
    loader = os_el.find('./loader') if os_el is not None else None
    uefi = os_el is not None and (
        os_el.get('firmware') == 'efi' or (
            loader is not None and loader.get('type') == 'pflash'))
    props['hw_firmware_type'] = 'uefi' if uefi else 'bios'
    if uefi:
        secure = (loader is not None and loader.get('secure') == 'yes') or (
            os_el.find("./firmware/feature[@name='secure-boot']"
                       "[@enabled='yes']") is not None)
        if secure:
            props['os_secure_boot'] = 'required'
    topology = root.find('./cpu/topology')
    if topology is not None:
        # Nova's preferred topology within the flavor's vCPUs (a guest
        # licensed or limited per socket keeps its sockets).
        for attr in ('sockets', 'cores', 'threads'):
            if (topology.get(attr) or '').isdigit():
                props['hw_cpu_%s' % attr] = topology.get(attr)
    videos = [m.get('type') for m in root.findall('./devices/video/model')
              if m.get('type')]
    if videos:
        props['hw_video_model'] = videos[0]
    osinfo = _osinfo(inspect.domain_root(export.domain_xml))
    if osinfo:
        for pattern, distro in _OSINFO_DISTROS:
            if re.search(pattern, osinfo):
                props['os_distro'] = distro
                if distro == 'windows':
                    props['os_type'] = 'windows'
                elif distro not in ('freebsd', 'openbsd', 'netbsd'):
                    props['os_type'] = 'linux'
                break
        else:
            notes.append('the guest\'s OS %s has no Glance os_distro: '
                         'os_type and os_distro not set' % osinfo)
    return props, notes


def work_bytes(extracted, capacity):
    """The room the import needs in its work directory, margin included.

    :param extracted: the :class:`~nova_v2v.exports.base.ExportDisk` it
        extracts there (an OVA's, all of them), each of its size in the
        archive (else its capacity; else not counted)
    :param capacity: the boot disk's virtual size: the converted disk's
        bound (None: not counted). A raw file holds at most its virtual
        size; so do a qcow2's data clusters, its tables (under 0.02% of
        it with 64 KiB clusters) being in the margin
    :returns: bytes
    """
    total = sum(d.size if d.size is not None else (d.capacity or 0)
                for d in extracted) + (capacity or 0)
    return (total + total * WORK_MARGIN_PERCENT // 100 +
            WORK_MARGIN_BYTES)


def check_work_space(directory, needed, free):
    """Refuse an import whose work directory has not the room it needs.

    :param directory: the work directory, or its nearest existing parent
    :param needed: :func:`work_bytes`
    :param free: the bytes its filesystem has free (for an unprivileged
        user)
    :raises: NoWorkSpace
    """
    if free < needed:
        raise NoWorkSpace(
            'the import needs %d bytes (%.1f GiB) in its work directory '
            '%s for the extracted and converted disks, and its filesystem '
            'has %d (%.1f GiB) free: free some, or give --work-dir on a '
            'filesystem with room' % (needed, needed / GIB, directory, free,
                                      free / GIB))


def make_plan(export, translation, options, flavors=None, networks=None,
              capacities=None):
    """The :class:`ImportPlan` of an export.

    :param export: :class:`~nova_v2v.exports.base.Export`
    :param translation: its :class:`~nova_v2v.hardware.translate.
        Translation` (import directory: the export's root)
    :param options: :class:`Options`
    :param flavors: the cloud's :class:`Flavor`, or None to choose none
    :param networks: the cloud's :class:`Network`, or None to resolve none
    :param capacities: ``{source target: bytes}`` of disks as ``qemu-img``
        reads them: the capacity where the export gives none, the larger
        of the two where they differ
    :raises: :class:`PlanError` and its subclasses
    """
    rep = translation.report
    notes = ['reader: %s' % n for n in export.notes]
    notes.extend('translation: %s' % f for f in rep.findings)
    boot_target = boot_disk_target(translation.xml)
    if boot_target is None:
        raise NoBootDisk('the guest has no disk to boot from')
    mapping = {d.target: d for d in rep.disks}
    # By the file it is read from: a SATA and a SCSI disk of a VMware
    # guest may share a target name (libvirt's VMX driver names them so).
    boot_path = mapping[boot_target].source_path
    by_path = {d.path: d for d in export.disks}
    if boot_path not in by_path:
        raise NoBootDisk('the boot disk %s (%s) is not one of the export\'s '
                         'disks' % (mapping[boot_target].source_target,
                                    boot_path))
    boot = by_path[boot_path]
    others = [d for d in export.disks if d is not boot]
    disks_only = {d.source_path for d in rep.disks if d.device == 'disk'}
    extra = tuple(d for d in others if d.path in disks_only)
    media = [d for d in others if d.path not in disks_only]
    if extra and not options.boot_disk_only:
        raise MoreDisks(
            'the guest has disks besides its boot disk %s: %s; they would '
            'need Cinder volumes, which nova-v2v import does not create: '
            'use --boot-disk-only to import the boot disk alone' % (
                boot.target, ', '.join(d.target for d in extra)))
    for d in extra:
        notes.append('left out: disk %s (%s), not imported '
                     '(--boot-disk-only)' % (d.target, d.member or d.path))
    for d in media:
        notes.append('left out: %s (%s), removable media are not imported'
                     % (d.target, d.member or d.path))
    capacity = boot.capacity
    probed = (capacities or {}).get(boot.target)
    if probed is not None and probed != capacity:
        if capacity is not None:
            notes.append('the boot disk is %d bytes as qemu-img reads it, '
                         'not %d as the export says: the larger counts'
                         % (probed, capacity))
        capacity = max(probed, capacity or 0)
    needs = guest_needs(translation.xml, capacity)
    props, prop_notes = image_properties(translation.xml, boot_target,
                                         export)
    notes.extend(prop_notes)
    for key, value in sorted(options.properties.items()):
        if key in props and props[key] != value:
            notes.append('image property %s=%s (--property), not %s as '
                         'translated' % (key, value, props[key]))
        props[key] = value
    if options.disk_format not in DISK_FORMATS:
        raise PlanError('disk format %r: not one of %s'
                        % (options.disk_format, ', '.join(DISK_FORMATS)))
    name = options.name or (
        inspect.domain_root(translation.xml).findtext('./name') or
        '').strip()
    if not name:
        raise PlanError('the guest has no name: name it with --name')
    image = ImagePlan(name='%s-disk' % name, disk_format=options.disk_format,
                      container_format='bare', properties=props,
                      min_disk=needs.disk_gib or 0)
    flavor = None
    if flavors is not None:
        flavor = choose_flavor(flavors, needs, options.flavor)
        if flavor.disk == 0:
            notes.append('flavor %s has no root disk: Nova sizes it to the '
                         'image, and its policy allows that to '
                         'administrators only' % flavor.name)
    if capacity is None:
        notes.append('the boot disk\'s capacity is not known before it is '
                     'read: the flavor\'s disk is checked then')
        notes.append('the room to convert the boot disk in the work '
                     'directory is checked once it is read')
    extracted = [d for d in export.disks if d.member]
    for d in extracted:
        if d.size is None and d.capacity is None:
            notes.append('the size of %s is not known: not counted in the '
                         'work directory\'s room' % d.member)
    ports = plan_ports(export.nics, options.networks, networks)
    for port in ports:
        if not port.mac:
            notes.append('the NIC on %r has no MAC in the export: its port '
                         'gets a new one' % port.source_network)
    return ImportPlan(kind=export.kind, source=export.source, name=name,
                      boot_disk=boot, capacity=capacity, left_out=extra,
                      image=image, needs=needs, flavor=flavor, ports=ports,
                      notes=tuple(notes),
                      work_bytes=work_bytes(extracted, capacity))
