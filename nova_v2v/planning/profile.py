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

"""Host profiles: what a compute runs, the facts the planner decides from.

The guest's side of those facts, its virtual hardware, is described by
:mod:`nova_v2v.hardware.guest` (the layer below).
"""

import dataclasses
import hashlib
import typing as ty

from nova_v2v.hardware import guest as hw_guest

# The accelerators a host runs guests with, and the libvirt <domain type>
# that runs a guest on each: the guest's hardware names them.
KVM = hw_guest.KVM
TCG = hw_guest.TCG
ACCELERATORS = hw_guest.ACCELERATORS
DOMAIN_TYPE = hw_guest.DOMAIN_TYPE
ACCEL_OF_DOMAIN_TYPE = hw_guest.ACCEL_OF_DOMAIN_TYPE

# Version of the layout of the stats below, so that a scheduler can tell a
# profile it does not understand from a missing one.
PROFILE_VERSION = '1'
STATS_PREFIX = 'v2v_'
TRAIT_PREFIX = 'CUSTOM_V2V_'


def version_to_str(version):
    """6002000 -> '6.2.0' (libvirt's integer encoding)."""
    version = int(version)
    return '%d.%d.%d' % (version // 1000000, version // 1000 % 1000,
                         version % 1000)


@dataclasses.dataclass(frozen=True)
class HostProfile:
    """What one compute host can run, as published in its stats."""

    hostname: str
    accelerator: str
    arch: str
    libvirt_version: int = 0
    qemu_version: int = 0
    machine_types: ty.Tuple[str, ...] = ()
    cpu_model: str = ''
    cpu_vendor: str = ''
    disk_formats: ty.Tuple[str, ...] = ('raw', 'qcow2')
    storage_id: str = ''
    instances_path: str = ''
    # The format of the disks Nova creates here ([libvirt] images_type).
    images_format: str = ''

    def to_stats(self):
        """The profile as ComputeNode stats: a flat dict of strings."""
        p = STATS_PREFIX
        return {
            p + 'profile': PROFILE_VERSION,
            p + 'host': self.hostname,
            p + 'accel': self.accelerator,
            p + 'arch': self.arch,
            p + 'libvirt_version': str(self.libvirt_version),
            p + 'qemu_version': str(self.qemu_version),
            p + 'machine_types': ','.join(self.machine_types),
            p + 'cpu_model': self.cpu_model,
            p + 'cpu_vendor': self.cpu_vendor,
            p + 'disk_formats': ','.join(self.disk_formats),
            p + 'storage_id': self.storage_id,
            p + 'instances_path': self.instances_path,
            p + 'images_format': self.images_format,
        }

    @classmethod
    def from_stats(cls, hostname, stats):
        """Rebuild a profile from ComputeNode stats; None if it has none.

        Stats from a host that does not run nova-v2v, or that runs a layout
        this code does not know, give None: the planner then refuses with a
        reason an operator can act on instead of guessing.
        """
        p = STATS_PREFIX
        if not stats or stats.get(p + 'profile') != PROFILE_VERSION:
            return None

        def _list(key):
            value = stats.get(p + key) or ''
            return tuple(v for v in value.split(',') if v)

        def _int(key):
            try:
                return int(stats.get(p + key) or 0)
            except ValueError:
                return 0

        return cls(hostname=hostname or stats.get(p + 'host', ''),
                   accelerator=stats.get(p + 'accel', ''),
                   arch=stats.get(p + 'arch', ''),
                   libvirt_version=_int('libvirt_version'),
                   qemu_version=_int('qemu_version'),
                   machine_types=_list('machine_types'),
                   cpu_model=stats.get(p + 'cpu_model', ''),
                   cpu_vendor=stats.get(p + 'cpu_vendor', ''),
                   disk_formats=_list('disk_formats'),
                   storage_id=stats.get(p + 'storage_id', ''),
                   instances_path=stats.get(p + 'instances_path', ''),
                   images_format=stats.get(p + 'images_format', ''))

    def traits(self):
        """Custom placement traits that advertise this profile.

        Placement is where an API user can read a host's profile (the
        compute node stats are not in Nova's API): :meth:`from_traits`
        rebuilds it, with the storage identity as a digest and without the
        instances path.
        """
        t = TRAIT_PREFIX
        traits = {t + 'CAPABLE', t + 'PROFILE_' + PROFILE_VERSION,
                  t + 'ACCEL_%s' % _trait_part(self.accelerator)}
        if self.arch:
            traits.add(t + 'ARCH_%s' % _trait_part(self.arch))
        if self.libvirt_version:
            traits.add(t + 'LIBVIRT_%d' % int(self.libvirt_version))
        if self.qemu_version:
            traits.add(t + 'QEMU_%d' % int(self.qemu_version))
        if self.cpu_vendor:
            traits.add(t + 'CPU_VENDOR_%s' % _trait_part(self.cpu_vendor))
        if self.storage_id:
            traits.add(t + 'STORAGE_%s' % storage_digest(self.storage_id))
        if self.images_format:
            traits.add(t + 'IMAGES_%s' % _trait_part(self.images_format))
        for fmt in self.disk_formats:
            traits.add(t + 'DISK_FORMAT_%s' % _trait_part(fmt))
        for machine in self.machine_types:
            encoded = encode_machine(machine)
            if encoded:
                traits.add(t + 'MACHINE_' + encoded)
        return traits

    @classmethod
    def from_traits(cls, hostname, traits):
        """The profile a host published as traits, or None.

        None when it publishes none, or another layout than this code's.
        """
        t = TRAIT_PREFIX
        traits = set(traits or ())
        if t + 'PROFILE_' + PROFILE_VERSION not in traits:
            return None

        def values(kind):
            head = t + kind + '_'
            return sorted(x[len(head):] for x in traits
                          if x.startswith(head))

        def one(kind, convert=str):
            found = values(kind)
            try:
                return convert(found[0]) if found else convert()
            except ValueError:
                return convert()

        return cls(hostname=hostname,
                   accelerator=one('ACCEL').lower(),
                   arch=one('ARCH').lower(),
                   libvirt_version=one('LIBVIRT', int),
                   qemu_version=one('QEMU', int),
                   machine_types=tuple(
                       m for m in (decode_machine(v)
                                   for v in values('MACHINE')) if m),
                   cpu_vendor=_vendor(one('CPU_VENDOR')),
                   disk_formats=tuple(v.lower()
                                      for v in values('DISK_FORMAT')),
                   storage_id=one('STORAGE'),
                   images_format=one('IMAGES').lower())


def _trait_part(value):
    return ''.join(c if c.isalnum() else '_' for c in value.upper())


def storage_digest(storage_id):
    """What the traits carry of a storage identity: equal if it is."""
    return hashlib.sha256(storage_id.encode()).hexdigest()[:24].upper()


def encode_machine(machine):
    """A machine type as a trait part: 'pc-i440fx-7.2' -> 'PC_I440FX_7__2'.

    None for a name with other characters than [a-z0-9.-].
    """
    if not machine or not all(c.isalnum() and c.isascii() or c in '.-'
                              for c in machine) or machine != machine.lower():
        return None
    return machine.upper().replace('.', '__').replace('-', '_')


def decode_machine(part):
    """The inverse of :func:`encode_machine`."""
    return part.lower().replace('__', '.').replace('_', '-')


_VENDORS = {'INTEL': 'Intel', 'AMD': 'AMD'}


def _vendor(part):
    return _VENDORS.get(part, part)


@dataclasses.dataclass(frozen=True)
class StorageFacts:
    """How the guest's storage relates to the destination.

    ``None`` means not probed yet: the planner then compares the storage
    identities of the two host profiles (what the scheduler can do). The
    compute pre-checks fill in what Nova's shared-storage probe found.
    """

    shared_instance_path: ty.Optional[bool] = None
    shared_block_storage: ty.Optional[bool] = None
    volume_backed: bool = False
    # The guest's attached Cinder volumes (their device names), from Nova's
    # block device mapping: a V2V cutover cannot move a guest with any.
    volumes: ty.Tuple[str, ...] = ()


def detect_accelerator(virt_type, domain_types):
    """The accelerator a host runs guests with, or '' if it has none.

    :param virt_type: Nova's ``[libvirt] virt_type`` (``kvm`` or ``qemu``)
    :param domain_types: the ``<domain type>`` values that libvirt's
        capabilities list for the host architecture
    """
    domain_types = set(domain_types)
    if virt_type == 'kvm':
        return KVM if 'kvm' in domain_types else ''
    if virt_type == 'qemu':
        return TCG if 'qemu' in domain_types else ''
    return ''
