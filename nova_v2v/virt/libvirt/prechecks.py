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

"""The live migration pre-checks: the planner's say before Nova's.

Both pre-checks ask the planner (:mod:`nova_v2v.planning.planner`) and the
source records the plan (:class:`record.MigrationRecord`). A move the
V2V driver has nothing to say about is Nova's own, decided by Nova's own
checks alone: a move to or from a host that publishes no V2V profile (a
peer of the same hypervisor, e.g. one not yet switched to nova-v2v in a
rolling deployment), and a guest whose definition the V2V reader cannot
read.
"""

from nova.virt import driver
from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v import exception as v2v_exception
from nova_v2v.hardware import translate
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v.virt.libvirt import common
from nova_v2v.virt.libvirt import cutover_transfer
from nova_v2v.virt.libvirt import record as v2v_record

CONF = conf.CONF
LOG = logging.getLogger(__name__)


def translate_xml(xml, plan):
    """The plan's translation of a domain XML.

    Disk and NVRAM paths stay identical: the destination's disks were
    precreated at the source's paths (no instances path is given, so
    nothing is relocated).

    :raises: translate.TranslationError
    """
    return translate.translate_domain_xml(
        xml, plan.hardware_changes,
        disk_formats={d.path: d.dest_format for d in plan.disks},
        unmappable=CONF.v2v.unmappable_devices)


def attached_volumes(block_device_info):
    """The device names of the guest's volumes, from Nova's mapping."""
    return tuple(
        str(bdm.get('mount_device') or '').rsplit('/', 1)[-1] or '?'
        for bdm in driver.block_device_info_get_mapping(block_device_info))


class Prechecks(object):
    """The V2V side of both live migration pre-checks.

    :param nova: the driver's :class:`nova_internals.NovaLibvirt`
    :param inventory: the driver's :class:`inventory.Inventory`
    :param events: the driver's :class:`events.Events`
    """

    def __init__(self, nova, inventory, events):
        self._nova = nova
        self._inventory = inventory
        self._events = events
        # The records of the moves this source's pre-check planned.
        self.source_records = v2v_record.SourceRecords()

    # -- destination -----------------------------------------------------

    def on_destination(self, instance, src_compute_info):
        """Refuse early, on the destination, a move no plan exists for.

        A forced destination skips the scheduler and its V2V filter, so the
        destination runs the planner itself. The storage is not probed yet
        here: the explicit ``block_migration`` is checked on the source,
        with Nova's probe.

        :returns: this host's profile to hand over to the source, or None
            (a move between peers: Nova's checks decide)
        :raises: V2VMigrationRefused
        """
        source = profile.HostProfile.from_stats(
            instance.host, (src_compute_info or {}).get('stats'))
        if source is None:
            LOG.info('The source %(host)s publishes no V2V profile: Nova '
                     'checks the move as between peers',
                     {'host': instance.host}, instance=instance)
            return None
        dest = self._inventory.host_profile_or_none()
        if dest is None:
            return None
        guest = self._inventory.guest_from_image(instance,
                                                 source.accelerator)
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
        return dest

    @staticmethod
    def hand_over(context, instance, dest):
        """Put this host's profile on the instance the source receives.

        The instance travels with the RPC call to the source; it is not
        saved here.
        """
        if dest is None:
            return
        v2v_record.MigrationRecord.carried(
            context, instance).set_dest_profile_stats(dest.to_stats())

    # -- source ----------------------------------------------------------

    def _storage_facts(self, instance, dest_check_data, block_device_info):
        """What Nova's own probes say about the guest's storage."""
        dest_check_data.is_shared_instance_path = (
            self._nova.shared_instance_path(dest_check_data.filename,
                                            instance))
        dest_check_data.is_shared_block_storage = (
            self._nova.shared_block_storage(instance, dest_check_data,
                                            block_device_info))
        return profile.StorageFacts(
            shared_instance_path=dest_check_data.is_shared_instance_path,
            shared_block_storage=dest_check_data.is_shared_block_storage,
            volume_backed=bool(dest_check_data.obj_attr_is_set(
                'is_volume_backed') and dest_check_data.is_volume_backed),
            volumes=attached_volumes(block_device_info))

    def _read_guest(self, instance, block_device_info, with_sizes):
        """The guest's profile, or None when it cannot be read."""
        try:
            return self._inventory.guest_from_domain(
                instance, block_device_info, with_sizes)
        except Exception as exc:
            LOG.warning('The V2V driver cannot read the guest (%(err)s): '
                        'Nova migrates it as it is', {'err': exc},
                        instance=instance)
            return None

    def on_source(self, context, instance, dest_check_data,
                  block_device_info):
        """Plan the move with the guest's real definition.

        Sets ``dest_check_data.block_migration`` when the API asked for
        ``auto``. An explicit value keeps Nova's semantics: ``True`` on
        shared storage raises InvalidLocalStorage, ``False`` on local
        storage InvalidSharedStorage.

        :returns: ``(record, plan)``; ``plan`` is None for Nova's own move
        :raises: InvalidLocalStorage, InvalidSharedStorage,
            V2VMigrationRefused, V2VModeNotAvailable
        """
        record = v2v_record.MigrationRecord.carried(context, instance)
        dest = profile.HostProfile.from_stats(None,
                                              record.dest_profile_stats)
        record.set_dest_profile_stats(None)
        # A plan of an earlier move must not steer this one.
        record.set_plan(None)
        record.set_source_peer(None)
        requested = (dest_check_data.block_migration
                     if 'block_migration' in dest_check_data else None)
        source = self._inventory.host_profile_or_none()
        if source is None or dest is None:
            LOG.info('%(which)s publishes no V2V profile: Nova checks the '
                     'move as between peers',
                     {'which': 'This host' if source is None
                      else 'The destination'}, instance=instance)
            return record, None
        storage = self._storage_facts(instance, dest_check_data,
                                      block_device_info)
        shared = planner.storage_shared(source, dest, storage)
        guest = self._read_guest(instance, block_device_info,
                                 with_sizes=not shared)
        if guest is None:
            return record, None
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
        self._check_executable(instance, plan)
        if plan.mode == planner.V2V_CUTOVER:
            # Who the destination's disk exports will admit: this host.
            record.set_source_peer(cutover_transfer.source_identity())
        if requested is None:
            dest_check_data.block_migration = plan.block_migration
        return record, plan

    def _check_executable(self, instance, plan):
        if plan.mode not in common.EXECUTABLE_MODES:
            raise v2v_exception.V2VModeNotAvailable(
                mode=plan.mode,
                reason='this release runs %s; the plan needs it because %s'
                       % (', '.join(common.EXECUTABLE_MODES),
                          '; '.join(plan.reasons)))
        if (plan.mode == planner.BLOCK_LIVE and
                planner.conversions(plan) and
                CONF.libvirt.live_migration_tunnelled):
            # Nova's tunnelled migration names no disk to copy, and the
            # copy of a disk into another format is not tried tunnelled.
            raise v2v_exception.V2VModeNotAvailable(
                mode=plan.mode,
                reason='the move converts disks (%s) and this host '
                       'tunnels its live migrations ([libvirt] '
                       'live_migration_tunnelled); it converts them only '
                       'in a direct one' % '; '.join(plan.reasons[1:]))
        if plan.mode != planner.V2V_CUTOVER:
            return
        if not plan.block_migration:
            raise v2v_exception.V2VModeNotAvailable(
                mode=plan.mode,
                reason='this release runs the cutover of guests on local '
                       'instance storage only; the plan needs it because '
                       '%s' % '; '.join(plan.reasons))
        if (CONF.v2v.cutover_activity_settle >=
                CONF.v2v.cutover_activity_timeout):
            raise v2v_exception.V2VMigrationRefused(
                reason='[v2v] cutover_activity_settle (%d s) is not below '
                       '[v2v] cutover_activity_timeout (%d s): a clone '
                       'could never prove that its guest runs'
                       % (CONF.v2v.cutover_activity_settle,
                          CONF.v2v.cutover_activity_timeout))
        # The translation the cutover will apply, tried now: a guest that
        # cannot be translated is refused before anything moves.
        try:
            translate_xml(self._inventory.domain_xml(instance), plan)
        except translate.TranslationError as exc:
            LOG.info('V2V pre-check: the guest cannot be translated: '
                     '%(reason)s', {'reason': exc}, instance=instance)
            raise v2v_exception.V2VMigrationRefused(
                reason='the guest cannot be translated for %s: %s'
                       % (plan.dest_host, exc))

    def record_plan(self, context, instance, record, plan):
        """After Nova's own check passed: log and record the plan."""
        if plan is not None:
            LOG.info('V2V plan: %(plan)s', {'plan': plan.summary()},
                     instance=instance)
            for caution in plan.cautions:
                LOG.warning('V2V plan %(mode)s to %(dest)s: %(caution)s',
                            {'mode': plan.mode, 'dest': plan.dest_host,
                             'caution': caution}, instance=instance)
            record.set_plan(plan)
        # This object is current: Nova's save of it, no database read.
        record.save_given()
        self.source_records.remember(instance, record)
        if plan is not None:
            self._events.plan(context, instance, plan)
