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

:class:`V2VDriverMixin` holds Nova's hooks, each thin: it calls Nova's own
implementation and delegates the V2V part to one object per concern:

* :class:`inventory.Inventory`: this host's and its guests' profiles;
* :class:`prechecks.Prechecks`: the live migration pre-checks;
* :class:`live_tuning.LiveMigrationTuning`: the ``[v2v]`` tuning of
  Nova's own live and block migrations;
* :class:`converted_disks.ConvertedDisks`: a block migration into disks
  of another format;
* :class:`cutover_dest.CutoverDestination` and
  :class:`cutover_source.CutoverSource`: the two halves of a V2V cutover;
* :class:`port_bindings.PortBindings`: a cutover's Neutron port bindings;
* :class:`cold.ColdMigration`: the cold migration's disk conversion;
* :class:`events.Events`: the V2V migration events;
* :class:`recovery.Recovery`: the interrupted cutovers, resolved when the
  compute starts.

They reach Nova's internals through :mod:`.nova_internals` only, and a
migration's record through :class:`record.MigrationRecord` only. A move
the planner did not make a V2V plan for is Nova's own: the hooks then do
what Nova's driver does, apart from the tuning the ``[v2v]`` options turn
on. The decisions themselves live in the pure planning layer
(:mod:`nova_v2v.planning`), the data path in :mod:`nova_v2v.transfer`.
"""

from nova.virt.libvirt import driver as libvirt_driver
from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v import notifications
from nova_v2v.virt.libvirt import cold
from nova_v2v.virt.libvirt import common
from nova_v2v.virt.libvirt import converted_disks
from nova_v2v.virt.libvirt import cutover_dest
from nova_v2v.virt.libvirt import cutover_source
from nova_v2v.virt.libvirt import events
from nova_v2v.virt.libvirt import inventory
from nova_v2v.virt.libvirt import live_tuning
from nova_v2v.virt.libvirt import nova_internals
from nova_v2v.virt.libvirt import port_bindings
from nova_v2v.virt.libvirt import prechecks
from nova_v2v.virt.libvirt import record as v2v_record
from nova_v2v.virt.libvirt import recovery

CONF = conf.CONF
LOG = logging.getLogger(__name__)


class V2VDriverMixin(object):
    """V2V additions on top of :class:`LibvirtDriver`: Nova's hooks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        nova = nova_internals.NovaLibvirt(self)
        # Before the first connection: a restart of libvirtd must not
        # freeze the service (nova_internals.reentrant_connection_lock).
        nova_internals.reentrant_connection_lock(nova.host)
        compute = nova_internals.NovaCompute(self)
        self.v2v_events = events.Events()
        self.v2v_inventory = inventory.Inventory(nova)
        self.v2v_prechecks = prechecks.Prechecks(
            nova, self.v2v_inventory, self.v2v_events)
        self.v2v_tuning = live_tuning.LiveMigrationTuning(nova)
        self.v2v_converted_disks = converted_disks.ConvertedDisks()
        self.v2v_cutover_dest = cutover_dest.CutoverDestination(nova)
        self.v2v_port_bindings = port_bindings.PortBindings(compute)
        self.v2v_cutover_source = cutover_source.CutoverSource(
            nova, self.v2v_events, self.v2v_port_bindings)
        self.v2v_cold = cold.ColdMigration(self.v2v_inventory,
                                           self.v2v_events, nova)
        self.v2v_recovery = recovery.Recovery(
            nova, compute, self.v2v_cutover_source.dest_uri,
            self.v2v_port_bindings)

    def init_host(self, host):
        super().init_host(host)
        self.v2v_inventory.virt_type = CONF.libvirt.virt_type
        self.v2v_inventory.hostname = host
        self.v2v_events.set_host(host)
        self.v2v_recovery.host = host

    def process_instances_at_startup(self, context, instances):
        # Nova's init_host calls this after the driver's init_host, with
        # the instances it loaded for this host, before its own
        # _init_instance of each: Nova's checks first, then the cutovers
        # interrupted by the restart are resolved (recovery's docstring),
        # so that Nova's own start-up handling of a live migration
        # (_reset_live_migration) finds them resolved. An instance whose
        # move was completed here is on the destination, one held for an
        # administrator is in ERROR and locked: Nova no longer initialises
        # either here.
        instances = super().process_instances_at_startup(context,
                                                         instances)
        return self.v2v_recovery.at_start(context, instances)

    # -- the host's V2V profile ------------------------------------------

    def v2v_host_profile(self):
        """This host's :class:`profile.HostProfile`, read from libvirt."""
        return self.v2v_inventory.host_profile()

    def get_available_resource(self, nodename):
        return self.v2v_inventory.publish_stats(
            super().get_available_resource(nodename))

    def update_provider_tree(self, provider_tree, nodename,
                             allocations=None):
        super().update_provider_tree(provider_tree, nodename,
                                     allocations=allocations)
        self.v2v_inventory.publish_traits(provider_tree, nodename)
        # The resource tracker runs: the moves the recovery at start-up
        # completes can use it.
        self.v2v_recovery.resources_reported()

    # -- live migration pre-checks ---------------------------------------

    def check_can_live_migrate_destination(self, context, instance,
                                           src_compute_info,
                                           dst_compute_info,
                                           block_migration=False,
                                           disk_over_commit=False):
        # The conductor calls this over RPC: Nova's exception classes only.
        with common.nova_exceptions_over_rpc():
            dest = self.v2v_prechecks.on_destination(instance,
                                                     src_compute_info)
            data = super().check_can_live_migrate_destination(
                context, instance, src_compute_info, dst_compute_info,
                block_migration=block_migration,
                disk_over_commit=disk_over_commit)
            self.v2v_prechecks.hand_over(context, instance, dest)
        return data

    def check_can_live_migrate_source(self, context, instance,
                                      dest_check_data,
                                      block_device_info=None):
        # The destination's compute calls this over RPC and turns any error
        # into a MigrationPreCheckError that names its class.
        record, plan = self.v2v_prechecks.on_source(
            context, instance, dest_check_data, block_device_info)
        data = super().check_can_live_migrate_source(
            context, instance, dest_check_data,
            block_device_info=block_device_info)
        self.v2v_prechecks.record_plan(context, instance, record, plan)
        return data

    # -- live migration: destination -------------------------------------

    def pre_live_migration(self, context, instance, block_device_info,
                           network_info, disk_info, migrate_data):
        record = v2v_record.MigrationRecord.current(context, instance)
        if not record.is_cutover:
            # Nova's own move: an instance directory left here stands, and
            # Nova refuses it (DestinationDiskExists) as it always does.
            # Disks whose format changes are precreated in their new one.
            plan = converted_disks.plan_of_move(
                record.plan, instance.host,
                self.v2v_inventory.hostname or CONF.host)
            return super().pre_live_migration(
                context, instance, block_device_info, network_info,
                self.v2v_converted_disks.disk_info(plan, disk_info),
                migrate_data)
        self.v2v_cutover_dest.clear_leftover(instance, migrate_data)
        disk_info = self.v2v_cutover_dest.prepare(record, migrate_data,
                                                  disk_info)
        result = super().pre_live_migration(
            context, instance, block_device_info, network_info, disk_info,
            migrate_data)
        self.v2v_cutover_dest.export(instance, record, disk_info,
                                     migrate_data)
        return result

    def rollback_live_migration_at_destination(self, context, instance,
                                               network_info,
                                               block_device_info,
                                               destroy_disks=True,
                                               migrate_data=None):
        try:
            self.v2v_cutover_dest.rollback(context, instance, migrate_data)
        except Exception:
            LOG.exception('V2V: stopping the NBD exports failed',
                          instance=instance)
        # Nova destroys and undefines the domain defined here, if any (a
        # clone), and removes the instance directory when not shared.
        return super().rollback_live_migration_at_destination(
            context, instance, network_info, block_device_info,
            destroy_disks=destroy_disks, migrate_data=migrate_data)

    def post_live_migration_at_destination(self, context, instance,
                                           network_info,
                                           block_migration=False,
                                           block_device_info=None):
        # A cutover's clone already runs here: Nova reattaches its VIFs.
        super().post_live_migration_at_destination(
            context, instance, network_info,
            block_migration=block_migration,
            block_device_info=block_device_info)
        self.v2v_cutover_dest.finish(context, instance)

    # -- live migration: source ------------------------------------------

    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        # The manager's instance object is older than the plan: the record
        # carries it onto that object (see record.MigrationRecord).
        plan = self.v2v_prechecks.source_records.for_move(
            context, instance).plan
        if plan is not None:
            LOG.debug('Running V2V plan %(plan)s', {'plan': plan.summary()},
                      instance=instance)
        self.v2v_events.moving(context, notifications.START, instance,
                               plan, dest=dest)
        return super().live_migration(
            context, instance, dest, post_method, recover_method,
            block_migration=block_migration, migrate_data=migrate_data)

    def _live_migration(self, context, instance, dest, post_method,
                        recover_method, block_migration, migrate_data):
        if not self.v2v_prechecks.source_records.for_move(
                context, instance).is_cutover:
            return super()._live_migration(
                context, instance, dest, post_method, recover_method,
                block_migration, migrate_data)
        # The destination recorded its exports after this object was made.
        record = v2v_record.MigrationRecord.current(context, instance,
                                                    carry_exports=False)
        self._v2v_keep_migrate_data(instance, record, migrate_data)
        return self.v2v_cutover_source.run(
            context, instance, dest, post_method, recover_method,
            block_migration, migrate_data, record)

    def _live_migration_operation(self, context, instance, dest,
                                  block_migration, migrate_data, guest,
                                  device_names):
        guest = self.v2v_tuning.operation_guest(instance, migrate_data,
                                                guest)
        guest = self.v2v_converted_disks.operation_guest(
            instance, self.v2v_prechecks.source_records.for_move(
                context, instance).plan, guest)
        return super()._live_migration_operation(
            context, instance, dest, block_migration, migrate_data, guest,
            device_names)

    def _live_migration_monitor(self, context, instance, guest, dest,
                                post_method, recover_method,
                                block_migration, migrate_data, future,
                                disk_paths):
        guest = self.v2v_tuning.monitor_guest(instance, guest)
        return super()._live_migration_monitor(
            context, instance, guest, dest, post_method, recover_method,
            block_migration, migrate_data, future, disk_paths)

    @staticmethod
    def _v2v_keep_migrate_data(instance, record, migrate_data):
        """Keep what Nova's callbacks need after a restart of this host.

        The recovery at start-up completes or rolls back an interrupted
        cutover with Nova's own post_method or recover_method, which take
        this migrate_data. Without it (the write failed) the recovery
        rebuilds one.
        """
        try:
            record.set_migrate_data_text(
                nova_internals.migrate_data_to_json(migrate_data))
            record.save()
        except Exception as exc:
            LOG.warning('V2V: cannot keep the migrate_data of the cutover '
                        '(%(err)s); a recovery after a restart rebuilds it',
                        {'err': exc}, instance=instance)

    def live_migration_abort(self, instance):
        if not self.v2v_cutover_source.abort(instance):
            return super().live_migration_abort(instance)

    def post_live_migration_at_source(self, context, instance,
                                      network_info):
        super().post_live_migration_at_source(context, instance,
                                              network_info)
        self.v2v_prechecks.source_records.forget(instance)
        plan = self._v2v_plan_for_event(context, instance)
        self.v2v_events.moving(context, notifications.END, instance, plan)

    def rollback_live_migration_at_source(self, context, instance,
                                          migrate_data):
        if self._v2v_is_cutover(context, instance):
            # Before Nova's teardown of the destination's bindings, which
            # finds the ports by their active binding's host (see
            # port_bindings): a cutover's rollback, whether the cutover or
            # the recovery at start-up rolls it back, leaves the source's
            # active. Idempotent: the cutover did it once the clone was
            # removed.
            self.v2v_port_bindings.restore(
                context, instance, _migration_dest(migrate_data))
        super().rollback_live_migration_at_source(context, instance,
                                                  migrate_data)
        self.v2v_prechecks.source_records.forget(instance)
        state = self.v2v_cutover_source.state(instance)
        plan = self._v2v_plan_for_event(context, instance)
        self.v2v_events.moving(
            context, notifications.ROLLBACK, instance, plan,
            reason=state.failure if state is not None else None)

    @staticmethod
    def _v2v_is_cutover(context, instance):
        """Whether the instance's move is a V2V cutover (False if unread)."""
        try:
            return v2v_record.MigrationRecord.carried(context,
                                                      instance).is_cutover
        except Exception as exc:
            LOG.warning('V2V: cannot read the record of the move: %(err)s',
                        {'err': exc}, instance=instance)
            return False

    @staticmethod
    def _v2v_plan_for_event(context, instance):
        """The plan the instance carries, or None: events never fail."""
        try:
            return v2v_record.MigrationRecord.carried(context,
                                                      instance).plan
        except Exception as exc:
            LOG.debug('No V2V plan for the event: %(err)s', {'err': exc},
                      instance=instance)
            return None

    # -- cold migration --------------------------------------------------

    def migrate_disk_and_power_off(self, context, instance, dest,
                                   flavor, network_info,
                                   block_device_info=None,
                                   timeout=0, retry_interval=0):
        self.v2v_cold.before_copy(context, instance, block_device_info)
        # Nova stops the guest and copies its disks as they are; the
        # destination converts them (finish_migration), so that a revert
        # finds the source's files untouched.
        return super().migrate_disk_and_power_off(
            context, instance, dest, flavor, network_info,
            block_device_info=block_device_info, timeout=timeout,
            retry_interval=retry_interval)

    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None,
                         power_on=True, share_info=None):
        disk_info = self.v2v_cold.convert(context, instance, disk_info,
                                          migration)
        # The domain is generated from this host's own configuration: the
        # guest gets this host's accelerator and native hardware.
        return super().finish_migration(
            context, migration, instance, disk_info, network_info,
            image_meta, resize_instance, allocations,
            block_device_info=block_device_info, power_on=power_on,
            share_info=share_info)


def _migration_dest(migrate_data):
    """The destination host of a live migration's migrate_data, or None."""
    migration = (migrate_data.migration
                 if migrate_data is not None and
                 migrate_data.obj_attr_is_set('migration') else None)
    return migration.dest_compute if migration is not None else None


class V2VLibvirtDriver(V2VDriverMixin, libvirt_driver.LibvirtDriver):
    """Nova's libvirt driver with V2V migration."""
