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

"""The V2V compute driver: Nova's libvirt driver plus V2V planning.

:class:`V2VDriverMixin` is thin glue. It publishes the host's V2V profile,
asks the planner (:mod:`nova_v2v.planning.planner`) during both live
migration pre-checks, and records the plan on the instance. The decisions
themselves live in the pure planning layer.
"""

import os

from nova import exception
from nova import objects
from nova import utils as nova_utils
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import utils as libvirt_utils
from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_v2v import conf
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v import exception as v2v_exception
from nova_v2v.hardware import inspect
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v.storage import disks
from nova_v2v.storage import identity
from nova_v2v.storage import leftovers

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# instance.system_metadata keys.
SYSMETA_PLAN = 'v2v_plan'
SYSMETA_DEST_PROFILE = 'v2v_dest_profile'

# The modes this driver runs today. The planner may choose others; they are
# then refused at the pre-check with a typed error, before anything moves.
EXECUTABLE_MODES = (planner.SHARED_LIVE, planner.BLOCK_LIVE)


def refusal_to_exception(refused, host):
    """Map a :class:`planner.PlanRefused` onto the Nova exception to raise.

    Nova's own storage refusals keep their Nova types, so that an explicit
    ``block_migration`` fails exactly as it does without nova-v2v.
    """
    if refused.code == planner.INVALID_LOCAL_STORAGE:
        return exception.InvalidLocalStorage(reason=refused.reason,
                                             path=host)
    if refused.code == planner.INVALID_SHARED_STORAGE:
        return exception.InvalidSharedStorage(reason=refused.reason,
                                              path=host)
    return v2v_exception.V2VMigrationRefused(reason=refused.reason)


class V2VDriverMixin(object):
    """V2V additions on top of :class:`LibvirtDriver`."""

    def init_host(self, host):
        super().init_host(host)
        # [libvirt] virt_type is not mutable: the profile keeps the value
        # this service started with.
        self._v2v_virt_type = CONF.libvirt.virt_type
        # The compute service's host, the name the scheduler and the
        # conductor use for it (CONF.host in a nova-compute process).
        self._v2v_hostname = host

    # -- the host's V2V profile ------------------------------------------

    def v2v_host_profile(self):
        """This host's :class:`profile.HostProfile`, read from libvirt."""
        caps = self._host.get_capabilities()
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
        virt_type = getattr(self, '_v2v_virt_type', CONF.libvirt.virt_type)
        conn = self._host.get_connection()
        return profile.HostProfile(
            hostname=getattr(self, '_v2v_hostname', None) or CONF.host,
            accelerator=profile.detect_accelerator(virt_type, domain_types),
            arch=arch or '',
            libvirt_version=conn.getLibVersion(),
            qemu_version=self._host.get_version(),
            machine_types=tuple(sorted(machines)),
            cpu_model=caps.host.cpu.model or '',
            cpu_vendor=caps.host.cpu.vendor or '',
            disk_formats=tuple(CONF.v2v.disk_formats),
            storage_id=(CONF.v2v.storage_id or
                        identity.identity_of(CONF.instances_path)),
            instances_path=CONF.instances_path)

    def get_available_resource(self, nodename):
        data = super().get_available_resource(nodename)
        try:
            v2v_profile = self.v2v_host_profile()
        except Exception:
            # Without a profile the planner refuses moves to and from this
            # host with a reason; the host still runs its guests.
            LOG.exception('Could not read the V2V profile of this host')
        else:
            data.setdefault('stats', {}).update(v2v_profile.to_stats())
        return data

    def update_provider_tree(self, provider_tree, nodename,
                             allocations=None):
        super().update_provider_tree(provider_tree, nodename,
                                     allocations=allocations)
        try:
            traits = self.v2v_host_profile().traits()
        except Exception:
            LOG.exception('Could not read the V2V profile of this host')
            return
        provider_tree.add_traits(nodename, *sorted(traits))

    # -- live migration pre-checks ---------------------------------------

    def _v2v_guest_from_image(self, instance, accelerator):
        image = nova_utils.get_image_from_system_metadata(
            instance.system_metadata)
        return inspect.guest_from_image_properties(
            image.get('properties', {}), accelerator)

    def check_can_live_migrate_destination(self, context, instance,
                                           src_compute_info,
                                           dst_compute_info,
                                           block_migration=False,
                                           disk_over_commit=False):
        """Refuse early, on the destination, a move no plan exists for.

        A forced destination skips the scheduler and its V2V filter, so the
        destination runs the planner itself. The storage is not probed yet
        here: the explicit ``block_migration`` is checked on the source,
        with Nova's probe.
        """
        source = profile.HostProfile.from_stats(
            instance.host, (src_compute_info or {}).get('stats'))
        dest = self.v2v_host_profile()
        guest = self._v2v_guest_from_image(
            instance, source.accelerator if source else '')
        try:
            plan = planner.plan_live_migration(
                source, dest, guest, block_migration=None,
                **v2v_conf.planner_options(CONF))
        except planner.PlanRefused as refused:
            LOG.info('V2V pre-check on the destination refused the move: '
                     '%(reason)s', {'reason': refused.reason},
                     instance=instance)
            raise v2v_exception.V2VMigrationRefused(reason=refused.reason)
        LOG.debug('V2V pre-check on the destination: %(plan)s',
                  {'plan': plan.summary()}, instance=instance)
        data = super().check_can_live_migrate_destination(
            context, instance, src_compute_info, dst_compute_info,
            block_migration=block_migration,
            disk_over_commit=disk_over_commit)
        # The source's pre-check needs this host's profile. The instance
        # travels with the RPC call to the source; it is not saved here.
        instance.system_metadata[SYSMETA_DEST_PROFILE] = jsonutils.dumps(
            dest.to_stats())
        return data

    def _v2v_storage_facts(self, instance, dest_check_data,
                           block_device_info):
        """What Nova's own probes say about the guest's storage."""
        dest_check_data.is_shared_instance_path = (
            self._check_shared_storage_test_file(dest_check_data.filename,
                                                 instance))
        dest_check_data.is_shared_block_storage = (
            self._is_shared_block_storage(instance, dest_check_data,
                                          block_device_info))
        return profile.StorageFacts(
            shared_instance_path=dest_check_data.is_shared_instance_path,
            shared_block_storage=dest_check_data.is_shared_block_storage,
            volume_backed=bool(dest_check_data.obj_attr_is_set(
                'is_volume_backed') and dest_check_data.is_volume_backed))

    def _v2v_guest_from_domain(self, instance, block_device_info,
                               with_sizes):
        guest = inspect.parse_domain_xml(
            self._host.get_guest(instance).get_xml_desc())
        if not with_sizes:
            return guest
        info = jsonutils.loads(self.get_instance_disk_info(
            instance, block_device_info=block_device_info))
        sizes = {d['path']: d for d in info}
        disks = []
        for disk in guest.disks:
            found = sizes.get(disk.path)
            if found:
                disk = profile.GuestDisk(
                    **dict(disk.__dict__,
                           virtual_size=found.get('virt_disk_size'),
                           backing_file=found.get('backing_file') or None))
            disks.append(disk)
        return profile.GuestProfile(**dict(guest.__dict__,
                                           disks=tuple(disks)))

    def check_can_live_migrate_source(self, context, instance,
                                      dest_check_data,
                                      block_device_info=None):
        """Plan the move with the guest's real definition.

        The plan decides ``block_migration`` when the API asked for
        ``auto``. An explicit value keeps Nova's semantics: ``True`` on
        shared storage raises InvalidLocalStorage, ``False`` on local storage
        InvalidSharedStorage.
        """
        requested = (dest_check_data.block_migration
                     if 'block_migration' in dest_check_data else None)
        sysmeta = instance.system_metadata
        dest_stats = jsonutils.loads(
            sysmeta.pop(SYSMETA_DEST_PROFILE, None) or '{}')
        dest = profile.HostProfile.from_stats(None, dest_stats)
        source = self.v2v_host_profile()
        storage = self._v2v_storage_facts(instance, dest_check_data,
                                          block_device_info)
        shared = planner.storage_shared(source, dest, storage) if (
            dest is not None) else True
        guest = self._v2v_guest_from_domain(instance, block_device_info,
                                            with_sizes=not shared)
        try:
            plan = planner.plan_live_migration(
                source, dest, guest, storage=storage,
                block_migration=requested,
                **v2v_conf.planner_options(CONF))
        except planner.PlanRefused as refused:
            LOG.info('V2V pre-check on the source refused the move: '
                     '%(reason)s', {'reason': refused.reason},
                     instance=instance)
            raise refusal_to_exception(refused, source.hostname)
        if plan.mode not in EXECUTABLE_MODES:
            raise v2v_exception.V2VModeNotAvailable(
                mode=plan.mode,
                reason='this release runs %s; the plan needs it because %s'
                       % (', '.join(EXECUTABLE_MODES),
                          '; '.join(plan.reasons)))
        if requested is None:
            dest_check_data.block_migration = plan.block_migration
        data = super().check_can_live_migrate_source(
            context, instance, dest_check_data,
            block_device_info=block_device_info)
        LOG.info('V2V plan: %(plan)s', {'plan': plan.summary()},
                 instance=instance)
        sysmeta[SYSMETA_PLAN] = plan.to_json()
        instance.save()
        return data

    # -- the move itself -------------------------------------------------

    def _v2v_clear_leftover(self, instance, instance_dir):
        """Replace what an earlier failed attempt left at ``instance_dir``.

        Nova refuses a destination whose instance directory exists. When no
        domain of the instance is defined here and none of its files is in
        use, the directory is a leftover and is removed, so that a retry
        works; otherwise Nova's refusal stands.
        """
        try:
            self._host.get_guest(instance)
        except exception.InstanceNotFound:
            pass
        else:
            LOG.warning('The instance has a domain on this host: keeping '
                        '%(dir)s', {'dir': instance_dir}, instance=instance)
            return
        try:
            leftovers.clear_instance_dir(CONF.instances_path, instance_dir)
        except disks.DiskError as e:
            LOG.warning('Not removing %(dir)s: %(err)s',
                        {'dir': instance_dir, 'err': e}, instance=instance)

    def pre_live_migration(self, context, instance, block_device_info,
                           network_info, disk_info, migrate_data):
        if not migrate_data.is_shared_instance_path:
            instance_dir = libvirt_utils.get_instance_path_at_destination(
                instance, migrate_data)
            if os.path.exists(instance_dir):
                self._v2v_clear_leftover(instance, instance_dir)
        return super().pre_live_migration(
            context, instance, block_device_info, network_info, disk_info,
            migrate_data)

    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        # The manager's instance object was serialised by the conductor
        # before the source's pre-check recorded the plan, and Nova writes
        # system_metadata back whole when it saves it (the source cleanup
        # after a block migration does): carry the plan on that object so
        # that the record of the move survives it.
        plan = load_plan(context, instance)
        if plan is not None:
            instance.system_metadata[SYSMETA_PLAN] = plan.to_json()
            LOG.debug('Running V2V plan %(plan)s', {'plan': plan.summary()},
                      instance=instance)
        return super().live_migration(
            context, instance, dest, post_method, recover_method,
            block_migration=block_migration, migrate_data=migrate_data)


class V2VLibvirtDriver(V2VDriverMixin, libvirt_driver.LibvirtDriver):
    """Nova's libvirt driver with V2V migration."""


def load_plan(context, instance):
    """The plan the source's pre-check recorded for ``instance``, or None.

    Read from the database: the instance objects that later RPC calls carry
    were serialised by the conductor before the plan was recorded.
    """
    fresh = objects.Instance.get_by_uuid(context, instance.uuid,
                                         expected_attrs=['system_metadata'])
    text = fresh.system_metadata.get(SYSMETA_PLAN)
    return planner.MigrationPlan.from_json(text) if text else None
