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

"""Mapping tables: another hypervisor's virtual hardware -> KVM's.

Pure data.  One :class:`SourceProfile` per family of source definitions
(the libvirt domain ``type`` tells which), each a set of tables: disk buses,
SCSI controller models, NIC models, video models, sound models, what is
removed because it only means something on the source hypervisor, and what
cannot be mapped at all.  :mod:`nova_v2v.hardware.translate` reads these
tables and nothing else decides a mapping; operators' overrides
(``[v2v] translate_device_models``) are applied on top of them.

A value of :data:`TARGET_DISK_BUS` means "the destination's disk bus"
(``virtio`` for virtio-blk or ``scsi`` for virtio-scsi), and
:data:`MACHINE_CDROM_BUS` "the bus a CD-ROM takes on the destination
machine" (``ide`` on i440fx, ``sata`` on q35, which has no IDE).
A key of ``None`` is a device that names no model.
"""

import dataclasses
import typing as ty

TARGET_DISK_BUS = '@target-disk-bus'
MACHINE_CDROM_BUS = '@machine-cdrom-bus'
# The disk buses and models the translated guest ends with.
TARGET_DISK_BUSES = ('virtio', 'scsi')
TARGET_NIC_MODEL = 'virtio'
TARGET_SCSI_MODEL = 'virtio-scsi'
TARGET_DISK_FORMATS = ('qcow2', 'raw')
# What the destination runs a guest as: Nova's [libvirt] virt_type values.
TARGET_DOMAIN_TYPES = ('kvm', 'qemu')

# What each machine family offers a CD-ROM and a floppy.
CDROM_BUS = {'pc-i440fx': 'ide', 'pc-q35': 'sata'}
FLOPPY_OK = {'pc-i440fx': True, 'pc-q35': False}

# Disk image formats by file name extension, for sources whose definition
# names no driver type (the ESX and Hyper-V drivers give none).
FORMAT_BY_EXTENSION = {
    '.vmdk': 'vmdk', '.vhdx': 'vhdx', '.vhd': 'vpc', '.avhdx': 'vhdx',
    '.qcow2': 'qcow2', '.qcow': 'qcow2', '.img': 'raw', '.raw': 'raw',
    '.iso': 'raw', '.vdi': 'vdi', '.flp': 'raw',
}
# Formats the disk conversion reads (nova_v2v.storage.convert).
CONVERTIBLE_FORMATS = ('vmdk', 'vhdx', 'vpc', 'qcow2', 'raw')

# Sanity limits: a definition beyond them is refused as hostile or broken.
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_ELEMENTS = 20000
MAX_MEMORY_KIB = 16 * 1024 ** 3          # 16 TiB
MAX_VCPUS = 1024
MAX_DISKS = 256
MAX_NICS = 64
MAX_DISK_BYTES = 64 * 1024 ** 4          # 64 TiB


@dataclasses.dataclass(frozen=True)
class Removal:
    """Definition elements that mean nothing on the destination."""

    xpath: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Unmappable:
    """Devices with no equivalent on the destination: the policy decides."""

    xpath: str
    reason: str


@dataclasses.dataclass(frozen=True)
class SourceProfile:
    """How one family of source definitions maps to KVM."""

    name: str
    domain_types: ty.Tuple[str, ...]
    # Disk bus of a device="disk" -> destination bus.
    disk_bus: ty.Mapping[str, str]
    # SCSI controller model (None: none named) -> destination model.
    scsi_model: ty.Mapping[ty.Optional[str], str]
    # NIC model (None: none named) -> destination model.
    nic_model: ty.Mapping[ty.Optional[str], str]
    # Video model -> destination model.
    video_model: ty.Mapping[str, str]
    # Sound model -> destination model.
    sound_model: ty.Mapping[str, str]
    # Elements removed with an informational finding.
    removals: ty.Tuple[Removal, ...] = ()
    # Devices that cannot be mapped (in addition to COMMON_UNMAPPABLE).
    unmappable: ty.Tuple[Unmappable, ...] = ()
    # How disk sources are spelled: posix paths, '[datastore] dir/file'
    # or Windows paths.
    path_style: str = 'posix'
    # Whether the source's networks exist on the destination as they are
    # (same cloud) or must be mapped to the destination's.
    map_networks: bool = False
    # Whether a UEFI variable store can be carried over as it is.
    nvram_portable: bool = False
    # Whether the definition is foreign: the domain type, emulator, CPU
    # and platform devices are set anew for the destination.
    foreign: bool = True
    # The machine family a foreign BIOS guest gets (UEFI gets q35).
    bios_machine: str = 'pc'
    # Whether direct kernel boot (<kernel>, <initrd>) is kept.
    keep_kernel_boot: bool = False
    # Whether the source hypervisor runs fully virtualized guests only
    # (a definition without an OS type is an hvm one).
    hvm_only: bool = False


# A SCSI LUN passed through: a foreign guest's is named so first (a VMware
# CD-ROM pass-through), a QEMU/KVM guest's host block device as one.
LUN_PASSTHROUGH = Unmappable(
    './devices/disk[@device="lun"]',
    'a SCSI LUN passed through exists on the source host only')
# Devices that no source profile can carry to another host.
COMMON_UNMAPPABLE = (
    Unmappable('./devices/hostdev',
               'a host device passed through to the guest exists on the '
               'source host only'),
    Unmappable('./devices/disk[@type="block"]',
               'a host block device exists on the source host only'),
    Unmappable('./devices/disk[@type="network"]',
               'a network disk is not copied by nova-v2v (attach it as a '
               'Cinder volume)'),
    Unmappable('./devices/disk[@type="volume"]',
               'a libvirt storage pool volume exists on the source host only'),
    Unmappable('./devices/disk[@type="dir"]',
               'a host directory presented as a disk exists on the source '
               'host only'),
    LUN_PASSTHROUGH,
    Unmappable('./devices/redirdev',
               'USB redirection needs a client on the source host'),
    Unmappable('./devices/smartcard',
               'a smartcard reader exists on the source host only'),
    Unmappable('./devices/filesystem',
               'a host directory shared into the guest exists on the source '
               'host only'),
    Unmappable('./devices/shmem',
               'shared memory with host processes exists on the source host '
               'only'),
    Unmappable('./devices/tpm/backend[@type="passthrough"]',
               'a host TPM passed through exists on the source host only'),
)

KVM = SourceProfile(
    name='kvm',
    domain_types=('kvm', 'qemu'),
    # QEMU runs every bus and model a QEMU guest has: nothing changes
    # unless the operator's overrides ([v2v] translate_device_models) or
    # the destination (machine family, format) ask for it.
    disk_bus={},
    scsi_model={},
    nic_model={},
    video_model={},
    sound_model={},
    path_style='posix',
    map_networks=False,
    nvram_portable=True,
    foreign=False,
    keep_kernel_boot=True,
)

VMWARE = SourceProfile(
    name='vmware',
    domain_types=('vmware', 'vmx'),
    disk_bus={'scsi': TARGET_DISK_BUS, 'sata': TARGET_DISK_BUS,
              'ide': TARGET_DISK_BUS, 'usb': TARGET_DISK_BUS,
              'nvme': TARGET_DISK_BUS},
    scsi_model={'lsilogic': TARGET_SCSI_MODEL,
                'buslogic': TARGET_SCSI_MODEL,
                'lsisas1068': TARGET_SCSI_MODEL,
                'vmpvscsi': TARGET_SCSI_MODEL,
                'auto': TARGET_SCSI_MODEL,
                None: TARGET_SCSI_MODEL},
    nic_model={'vmxnet3': TARGET_NIC_MODEL, 'vmxnet2': TARGET_NIC_MODEL,
               'vmxnet': TARGET_NIC_MODEL, 'e1000': TARGET_NIC_MODEL,
               'e1000e': TARGET_NIC_MODEL, 'vlance': TARGET_NIC_MODEL,
               None: TARGET_NIC_MODEL},
    video_model={'vmvga': 'vga'},
    sound_model={'es1371': 'ich6', 'ensoniq1371': 'ich6', 'sb16': 'ich6',
                 'hdaudio': 'ich6'},
    removals=(
        Removal('./{http://libvirt.org/schemas/domain/vmware/1.0}*',
                'vCenter inventory data (datacenter path, managed object '
                'reference) means nothing on KVM'),
        Removal('./cputune/shares',
                'ESXi CPU shares do not carry over; Nova sets the flavor\'s '
                'quota'),
        Removal('./memtune/min_guarantee',
                'an ESXi memory reservation: QEMU has none (libvirt\'s QEMU '
                'driver refuses it)'),
    ),
    path_style='vmware',
    map_networks=True,
    # VMware's .nvram is not an OVMF variable store.
    nvram_portable=False,
    hvm_only=True,
)

HYPERV = SourceProfile(
    name='hyperv',
    domain_types=('hyperv',),
    disk_bus={'scsi': TARGET_DISK_BUS, 'ide': TARGET_DISK_BUS},
    scsi_model={'hv-scsi': TARGET_SCSI_MODEL, None: TARGET_SCSI_MODEL},
    # A synthetic adapter names no model; a legacy one is a DEC 21140.
    nic_model={None: TARGET_NIC_MODEL, 'tulip': TARGET_NIC_MODEL,
               'netvsc': TARGET_NIC_MODEL},
    video_model={'hyperv': 'vga', 'default': 'vga'},
    sound_model={},
    removals=(
        Removal("./maxMemory[@slots='0']",
                'Hyper-V\'s dynamic memory maximum: on KVM <maxMemory> is '
                'memory hotplug, which needs slots; the guest keeps its '
                'startup memory'),
    ),
    path_style='windows',
    map_networks=True,
    nvram_portable=False,
    hvm_only=True,
)

XEN = SourceProfile(
    name='xen',
    domain_types=('xen',),
    disk_bus={'xen': TARGET_DISK_BUS, 'ide': TARGET_DISK_BUS,
              'scsi': TARGET_DISK_BUS, 'sata': TARGET_DISK_BUS},
    scsi_model={None: TARGET_SCSI_MODEL},
    nic_model={None: TARGET_NIC_MODEL, 'netfront': TARGET_NIC_MODEL,
               'ioemu': TARGET_NIC_MODEL, 'e1000': TARGET_NIC_MODEL,
               'rtl8139': TARGET_NIC_MODEL},
    video_model={'xen': 'vga'},
    sound_model={'sb16': 'ich6', 'es1370': 'ich6', 'ac97': 'ich6'},
    removals=(
        Removal('./os/loader',
                'hvmloader is Xen\'s firmware; KVM boots SeaBIOS or OVMF'),
        Removal('./devices/interface/script',
                'Xen\'s vif hotplug script does not exist on KVM'),
        Removal('./devices/interface/backenddomain',
                'Xen driver domains do not exist on KVM'),
        Removal('./devices/input[@bus="xen"]',
                'Xen\'s paravirtual input devices do not exist on KVM'),
        Removal('./devices/controller[@type="xenbus"]',
                'the XenBus controller does not exist on KVM'),
    ),
    path_style='posix',
    map_networks=True,
    nvram_portable=False,
)

PROFILES = (KVM, VMWARE, HYPERV, XEN)
BY_DOMAIN_TYPE = {t: p for p in PROFILES for t in p.domain_types}


def profile_for(domain_type):
    """The :class:`SourceProfile` of a libvirt domain type, or None."""
    return BY_DOMAIN_TYPE.get(domain_type)


def as_rows():
    """The tables as (profile, table, source, target) rows, for reports."""
    rows = []
    for p in PROFILES:
        for table in ('disk_bus', 'scsi_model', 'nic_model', 'video_model',
                      'sound_model'):
            for src, dst in sorted(getattr(p, table).items(),
                                   key=lambda kv: str(kv[0])):
                rows.append((p.name, table, src or '(none)', dst))
    return rows
