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

"""The V2V driver's cold migration: disks converted to the plan's format.

An ``offline`` plan (cold migration) converts the disks the destination
does not run into the plan's format in ``finish_migration``.
"""

import os

from nova import exception
from nova import objects
from nova.virt.libvirt import utils as libvirt_utils
from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_v2v import conf
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v import exception as v2v_exception
from nova_v2v import notifications
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v.privsep import path as priv_path
from nova_v2v.transfer import offline
from nova_v2v.virt.libvirt import common

CONF = conf.CONF
LOG = logging.getLogger(__name__)


class ColdMigrationMixin(object):
    """The cold migration (resize) hooks of an offline V2V plan."""

    # -- offline (cold migration) ----------------------------------------

    def _v2v_offline_plan(self, context, instance, block_device_info):
        """Plan a cold move of ``instance`` (None: Nova's own move)."""
        try:
            migration = objects.Migration.get_by_instance_and_status(
                context, instance.uuid, 'migrating')
            node = objects.ComputeNode.get_by_host_and_nodename(
                context, migration.dest_compute, migration.dest_node)
        except exception.NotFound:
            LOG.debug('No migration record to plan an offline V2V move',
                      instance=instance)
            return None
        dest = profile.HostProfile.from_stats(migration.dest_compute,
                                              node.stats)
        if dest is None:
            LOG.info('The destination %(host)s publishes no V2V profile: '
                     'Nova moves the guest as it is',
                     {'host': migration.dest_compute}, instance=instance)
            return None
        guest = self._v2v_guest_from_domain(instance, block_device_info,
                                            with_sizes=True)
        try:
            return planner.plan_offline_migration(
                self.v2v_host_profile(), dest, guest,
                translations=v2v_conf.planner_options(CONF)['translations'])
        except planner.PlanRefused as refused:
            raise exception.InstanceFaultRollback(
                inner_exception=v2v_exception.V2VOfflineMigrationFailed(
                    reason=refused.reason))

    def migrate_disk_and_power_off(self, context, instance, dest,
                                   flavor, network_info,
                                   block_device_info=None,
                                   timeout=0, retry_interval=0):
        plan = self._v2v_offline_plan(context, instance, block_device_info)
        self._v2v_set_sysmeta(context, instance, common.SYSMETA_OFFLINE_PLAN,
                              plan.to_json() if plan else None)
        if plan is not None:
            LOG.info('V2V offline plan: %(plan)s', {'plan': plan.summary()},
                     instance=instance)
            self._v2v_emit(context, notifications.PLAN, instance,
                           **notifications.plan_fields(plan))
        # Nova stops the guest and copies its disks as they are; the
        # destination converts them (finish_migration), so that a revert
        # finds the source's files untouched.
        return super().migrate_disk_and_power_off(
            context, instance, dest, flavor, network_info,
            block_device_info=block_device_info, timeout=timeout,
            retry_interval=retry_interval)

    def _v2v_convert_disks(self, instance, plan, disk_info):
        """Convert the copied disks the plan changes; new disk_info."""
        changes = {d.path: d for d in plan.disks
                   if d.dest_format != d.source_format}
        if not changes or not disk_info:
            return disk_info
        instance_dir = libvirt_utils.get_instance_path(instance)
        infos = jsonutils.loads(disk_info)
        formats = {}
        for info in infos:
            disk_plan = changes.get(info['path'])
            if disk_plan is None:
                continue
            path = os.path.join(instance_dir, os.path.basename(info['path']))
            converted = path + '.v2v'
            LOG.info('Converting %(path)s from %(src)s to %(dst)s',
                     {'path': path, 'src': disk_plan.source_format,
                      'dst': disk_plan.dest_format}, instance=instance)
            try:
                offline.convert_disk(path, disk_plan.source_format,
                                     converted, disk_plan.dest_format)
                os.rename(converted, path)
            except Exception as exc:
                if os.path.exists(converted):
                    priv_path.unlink(CONF.instances_path, converted)
                raise v2v_exception.V2VOfflineMigrationFailed(
                    reason='converting %s to %s failed: %s'
                           % (path, disk_plan.dest_format, exc))
            info['type'] = disk_plan.dest_format
            info['backing_file'] = ''
            formats[path] = disk_plan.dest_format
        # Nova's image backend reads each disk's format from disk.info.
        disk_info_file = os.path.join(instance_dir, 'disk.info')
        known = {}
        if os.path.exists(disk_info_file):
            with open(disk_info_file) as f:
                known = jsonutils.loads(f.read() or '{}')
        known.update(formats)
        with open(disk_info_file, 'w') as f:
            f.write(jsonutils.dumps(known))
        return jsonutils.dumps(infos)

    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None,
                         power_on=True, share_info=None):
        fresh = objects.Instance.get_by_uuid(
            context, instance.uuid, expected_attrs=['system_metadata'])
        text = common.sysmeta_get(fresh.system_metadata,
                                  common.SYSMETA_OFFLINE_PLAN)
        if text:
            plan = planner.MigrationPlan.from_json(text)
            common.sysmeta_put(instance.system_metadata,
                               common.SYSMETA_OFFLINE_PLAN, text)
            disk_info = self._v2v_convert_disks(instance, plan, disk_info)
        # The domain is generated from this host's own configuration: the
        # guest gets this host's accelerator and native hardware.
        return super().finish_migration(
            context, migration, instance, disk_info, network_info,
            image_meta, resize_instance, allocations,
            block_device_info=block_device_info, power_on=power_on,
            share_info=share_info)
