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

"""The cold migration (resize): disks converted to the plan's format.

A cold migration or resize is Nova's own unless the destination does not
run the format of one of the guest's local disks: then an ``offline`` plan
is recorded and the destination converts those disks in
``finish_migration``, after Nova copied them as they are (so that a revert
finds the source's files untouched). A disk with a backing file in Nova's
image cache (a qcow2 overlay on ``_base``) is converted whole, once Nova's
own code fetched its backing file on this host (as Nova does before a
block migration's copy). The decision reads the guest's
definition only (the disks' formats as libvirt runs them), never the disk
files: a guest on any image backend (qcow2, raw, flat, RBD, LVM), with
any device (vTPM, NUMA, PCI), moves as Nova moves it when nothing needs
converting; when the V2V driver cannot tell, Nova's move it is too.
"""

import os

from nova import exception
from nova import objects
from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_v2v import conf
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v import exception as v2v_exception
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v.privsep import path as priv_path
from nova_v2v.transfer import offline
from nova_v2v.virt.libvirt import nova_internals
from nova_v2v.virt.libvirt import record as v2v_record

CONF = conf.CONF
LOG = logging.getLogger(__name__)


class ColdMigration(object):
    """The cold migration hooks of an offline V2V plan.

    :param inventory: the driver's :class:`inventory.Inventory`
    :param events: the driver's :class:`events.Events`
    :param nova: the driver's :class:`nova_internals.NovaLibvirt`
    """

    def __init__(self, inventory, events, nova):
        self._inventory = inventory
        self._events = events
        self._nova = nova

    def plan(self, context, instance, block_device_info):
        """Plan a cold move of ``instance``; None: Nova's own move.

        Only a plan that converts a disk is returned.
        """
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
        source = self._inventory.host_profile_or_none()
        if source is None:
            return None
        try:
            guest = self._inventory.guest_from_domain(
                instance, block_device_info, with_sizes=False)
        except Exception as exc:
            LOG.info('The V2V driver cannot read the guest (%(err)s): Nova '
                     'moves it as it is', {'err': exc}, instance=instance)
            return None
        try:
            plan = planner.plan_offline_migration(
                source, dest, guest,
                translations=v2v_conf.planner_options(CONF)['translations'])
        except planner.PlanRefused as refused:
            LOG.info('No offline V2V plan (%(reason)s): Nova moves the '
                     'guest as it is', {'reason': refused.reason},
                     instance=instance)
            return None
        if not planner.conversions(plan):
            LOG.debug('No disk to convert: Nova moves the guest as it is',
                      instance=instance)
            return None
        return plan

    def before_copy(self, context, instance, block_device_info):
        """On the source, before Nova stops the guest and copies its disks.

        The plan goes on the instance Nova saves next and hands to the
        destination's ``finish_migration``.
        """
        record = v2v_record.MigrationRecord.carried(context, instance)
        plan = self.plan(context, instance, block_device_info)
        record.set_offline_plan(plan)
        if plan is not None:
            LOG.info('V2V offline plan: %(plan)s', {'plan': plan.summary()},
                     instance=instance)
            self._events.plan(context, instance, plan)

    def convert(self, context, instance, disk_info, migration):
        """On the destination: convert the copied disks; new disk_info.

        The plan comes with the instance: the source's manager saved it
        and handed that object to ``finish_resize``.

        :param migration: Nova's migration record (its source compute is
            where Nova's image cache fetch falls back to)
        """
        plan = v2v_record.MigrationRecord.carried(
            context, instance).offline_plan
        if plan is None:
            return disk_info
        return self.convert_disks(context, instance, plan, disk_info,
                                  migration.source_compute)

    def convert_disks(self, context, instance, plan, disk_info,
                      source_compute=None):
        """Convert the copied disks the plan changes; new disk_info.

        The backing files of the disks to convert are fetched first, by
        Nova's own code (:meth:`NovaLibvirt.fetch_backing_files`).
        """
        changes = planner.conversions(plan)
        if not changes or not disk_info:
            return disk_info
        instance_dir = nova_internals.instance_path(instance)
        infos = jsonutils.loads(disk_info)
        backed = [dict(info) for info in infos
                  if info['path'] in changes and info.get('backing_file')]
        if backed:
            self._nova.fetch_backing_files(context, instance, instance_dir,
                                           backed, source_compute)
        image_cache = nova_internals.image_cache_dir()
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
                                     converted, disk_plan.dest_format,
                                     backing_dir=image_cache)
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
        nova_internals.record_disk_formats(instance_dir, formats)
        return jsonutils.dumps(infos)
