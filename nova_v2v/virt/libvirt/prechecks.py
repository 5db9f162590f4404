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

"""The V2V driver's host profile and live migration pre-checks.

The host publishes its V2V profile (compute node stats and traits); both
pre-checks ask the planner (:mod:`nova_v2v.planning.planner`) and the
source records the plan on the instance.
"""

import dataclasses

from nova import objects
from nova import utils as nova_utils
from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_v2v import conf
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v import exception as v2v_exception
from nova_v2v.hardware import inspect
from nova_v2v.hardware import translate
from nova_v2v import notifications
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v.storage import identity
from nova_v2v.virt.libvirt import common

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


class PrecheckMixin(object):
    """The host's V2V profile and the live migration pre-checks."""

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
            instances_path=CONF.instances_path,
            images_format=images_format(CONF.libvirt.images_type,
                                        CONF.use_cow_images))

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
        # The profile's traits replace those of the host's former profile
        # (another configuration, a new QEMU): nova-v2v check reads them.
        stale = {t for t in provider_tree.data(nodename).traits
                 if t.startswith(profile.TRAIT_PREFIX)} - traits
        if stale:
            provider_tree.remove_traits(nodename, *sorted(stale))
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
        common.sysmeta_put(instance.system_metadata,
                           common.SYSMETA_DEST_PROFILE,
                           jsonutils.dumps(dest.to_stats()))
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
                disk = dataclasses.replace(
                    disk, virtual_size=found.get('virt_disk_size'),
                    backing_file=found.get('backing_file') or None)
            disks.append(disk)
        return dataclasses.replace(guest, disks=tuple(disks))

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
            common.sysmeta_get(sysmeta, common.SYSMETA_DEST_PROFILE) or '{}')
        common.sysmeta_put(sysmeta, common.SYSMETA_DEST_PROFILE, None)
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
            raise common.refusal_to_exception(refused, source.hostname)
        if plan.mode not in common.EXECUTABLE_MODES:
            raise v2v_exception.V2VModeNotAvailable(
                mode=plan.mode,
                reason='this release runs %s; the plan needs it because %s'
                       % (', '.join(common.EXECUTABLE_MODES),
                          '; '.join(plan.reasons)))
        if plan.mode == planner.V2V_CUTOVER and not plan.block_migration:
            raise v2v_exception.V2VModeNotAvailable(
                mode=plan.mode,
                reason='this release runs the cutover of guests on local '
                       'instance storage only; the plan needs it because '
                       '%s' % '; '.join(plan.reasons))
        if plan.mode == planner.V2V_CUTOVER:
            # The translation the cutover will apply, tried now: a guest
            # that cannot be translated is refused before anything moves.
            try:
                self._v2v_translate(
                    self._host.get_guest(instance).get_xml_desc(), plan)
            except translate.TranslationError as exc:
                LOG.info('V2V pre-check: the guest cannot be translated: '
                         '%(reason)s', {'reason': exc}, instance=instance)
                raise v2v_exception.V2VMigrationRefused(
                    reason='the guest cannot be translated for %s: %s'
                           % (plan.dest_host, exc))
        if requested is None:
            dest_check_data.block_migration = plan.block_migration
        data = super().check_can_live_migrate_source(
            context, instance, dest_check_data,
            block_device_info=block_device_info)
        LOG.info('V2V plan: %(plan)s', {'plan': plan.summary()},
                 instance=instance)
        for caution in plan.cautions:
            LOG.warning('V2V plan %(mode)s to %(dest)s: %(caution)s',
                        {'mode': plan.mode, 'dest': plan.dest_host,
                         'caution': caution}, instance=instance)
        common.sysmeta_put(sysmeta, common.SYSMETA_PLAN, plan.to_json())
        instance.save()
        self._v2v_emit(context, notifications.PLAN, instance,
                       **notifications.plan_fields(plan))
        return data

    # -- helpers ---------------------------------------------------------

    @staticmethod
    def _v2v_set_sysmeta(context, instance, key, value):
        """Set (or, with None, remove) one system_metadata key.

        Written through a fresh copy of the instance: the objects that RPC
        calls carry are stale and Nova saves system_metadata whole. The
        given object gets the same change, so that a later save of it does
        not undo it.
        """
        fresh = objects.Instance.get_by_uuid(
            context, instance.uuid, expected_attrs=['system_metadata'])
        common.sysmeta_put(instance.system_metadata, key, value)
        if value is None and key not in fresh.system_metadata:
            return
        common.sysmeta_put(fresh.system_metadata, key, value)
        fresh.save()

    def _v2v_is_cutover(self, plan):
        return plan is not None and plan.mode == planner.V2V_CUTOVER
