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

"""What the planner is told: this host's V2V profile, a guest's profile.

The host publishes its profile as compute node stats and traits
(:meth:`Inventory.publish_stats`, :meth:`Inventory.publish_traits`); the
pre-checks and the cold migration read the host's and the guest's
profiles here.
"""

import dataclasses

from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_v2v import conf
from nova_v2v.hardware import inspect
from nova_v2v.planning import profile
from nova_v2v.storage import identity
from nova_v2v.virt.libvirt import nova_internals

CONF = conf.CONF
LOG = logging.getLogger(__name__)


def images_format(images_type, use_cow_images):
    """The format of the disk files Nova's image backend creates, or ''.

    '' for a backend whose disks are not files (lvm, rbd) or unknown.
    """
    if images_type == 'default':
        return 'qcow2' if use_cow_images else 'raw'
    formats = {'qcow2': 'qcow2', 'raw': 'raw', 'flat': 'raw'}
    return formats.get(images_type, '')


class Inventory(object):
    """This host's profile and its guests' profiles.

    :param nova: the driver's :class:`nova_internals.NovaLibvirt`
    """

    def __init__(self, nova):
        self._nova = nova
        # Set by init_host: [libvirt] virt_type is not mutable, the
        # profile keeps the value the service started with; the host is
        # the compute service's name (CONF.host in nova-compute).
        self.virt_type = None
        self.hostname = None

    def host_profile(self):
        """This host's :class:`profile.HostProfile`, read from libvirt."""
        host = self._nova.host
        caps = host.get_capabilities()
        arch = caps.host.cpu.arch
        domain_types = set()
        machines = set()
        for guest in caps.guests:
            if guest.arch != arch:
                continue
            domain_types.update(guest.domains)
            domains = [guest.default_domain] + list(guest.domains.values())
            for domain in domains:
                if domain is None:
                    continue
                machines.update(domain.machines)
                # Aliases ('pc', 'q35') name the canonical machine type.
                machines.update(domain.aliases)
        virt_type = self.virt_type or CONF.libvirt.virt_type
        return profile.HostProfile(
            hostname=self.hostname or CONF.host,
            accelerator=profile.detect_accelerator(virt_type, domain_types),
            arch=arch or '',
            libvirt_version=self._nova.libvirt_version(),
            qemu_version=host.get_version(),
            machine_types=tuple(sorted(machines)),
            cpu_model=caps.host.cpu.model or '',
            cpu_vendor=caps.host.cpu.vendor or '',
            disk_formats=tuple(CONF.v2v.disk_formats),
            storage_id=(CONF.v2v.storage_id or
                        identity.identity_of(CONF.instances_path)),
            instances_path=CONF.instances_path,
            images_format=images_format(CONF.libvirt.images_type,
                                        CONF.use_cow_images))

    def host_profile_or_none(self):
        """The host's profile, or None (logged) when it cannot be read.

        A host without a profile is a peer of the same hypervisor: Nova's
        own checks decide its moves.
        """
        try:
            return self.host_profile()
        except Exception:
            LOG.exception('Could not read the V2V profile of this host')
            return None

    def publish_stats(self, data):
        """Add the profile to ``get_available_resource``'s ``data``."""
        found = self.host_profile_or_none()
        if found is not None:
            data.setdefault('stats', {}).update(found.to_stats())
        return data

    def publish_traits(self, provider_tree, nodename):
        """Set the profile's traits on this host's provider."""
        found = self.host_profile_or_none()
        if found is None:
            return
        traits = found.traits()
        # The profile's traits replace those of the host's former profile
        # (another configuration, a new QEMU): nova-v2v check reads them.
        stale = {t for t in provider_tree.data(nodename).traits
                 if t.startswith(profile.TRAIT_PREFIX)} - traits
        if stale:
            provider_tree.remove_traits(nodename, *sorted(stale))
        provider_tree.add_traits(nodename, *sorted(traits))

    # -- guests ----------------------------------------------------------

    @staticmethod
    def guest_from_image(instance, accelerator):
        """The guest's profile from its image properties."""
        image = nova_internals.image_from_system_metadata(
            instance.system_metadata)
        return inspect.guest_from_image_properties(
            image.get('properties', {}), accelerator)

    def domain_xml(self, instance):
        return self._nova.get_guest(instance).get_xml_desc()

    def guest_from_domain(self, instance, block_device_info, with_sizes):
        """The guest's profile from its domain definition.

        :param with_sizes: also read each local disk's virtual size and
            backing file (Nova's ``get_instance_disk_info``: the disks
            must be readable files)
        """
        guest = inspect.parse_domain_xml(self.domain_xml(instance))
        if not with_sizes:
            return guest
        info = jsonutils.loads(self._nova.instance_disk_info(
            instance, block_device_info))
        sizes = {d['path']: d for d in info}
        disks = []
        for disk in guest.disks:
            found = sizes.get(disk.path)
            if found:
                disk = dataclasses.replace(
                    disk, virtual_size=found.get('virt_disk_size'),
                    backing_file=found.get('backing_file') or None)
            disks.append(disk)
        return dataclasses.replace(guest, disks=tuple(disks))
