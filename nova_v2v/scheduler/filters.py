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

"""``V2VMigrationFilter``: during a live migration, pass only the hosts the
planner finds a plan for.

Enable it in nova.conf on the scheduler::

    [filter_scheduler]
    available_filters = nova.scheduler.filters.all_filters
    available_filters = nova_v2v.scheduler.filters.V2VMigrationFilter
    enabled_filters = ...,V2VMigrationFilter

Boots, rebuilds, resizes and evacuations pass every host: the filter only
judges live migrations. Nothing a user can set decides that: the instance's
``task_state`` (``migrating``), read from its cell, does.
"""

from nova.compute import task_states
from nova import context as nova_context
from nova import exception
from nova import objects
from nova.scheduler import filters
from nova.scheduler import utils as scheduler_utils
from nova import utils as nova_utils
from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v.hardware import inspect
from nova_v2v.planning import planner
from nova_v2v.planning import profile

CONF = conf.CONF
LOG = logging.getLogger(__name__)


class _LiveMove(object):
    """What the filter knows about the live migration being scheduled."""

    def __init__(self, instance_uuid, source, guest):
        self.instance_uuid = instance_uuid
        self.source = source
        self.guest = guest


class V2VMigrationFilter(filters.BaseHostFilter):
    """Pass the hosts a V2V migration plan exists for."""

    RUN_ON_REBUILD = False

    def _live_move(self, spec_obj):
        """The live migration this request schedules, or None."""
        uuid = spec_obj.instance_uuid
        if not uuid:
            return None
        ctxt = nova_context.get_admin_context()
        try:
            mapping = objects.InstanceMapping.get_by_instance_uuid(ctxt,
                                                                   uuid)
        except exception.InstanceMappingNotFound:
            return None
        if mapping.cell_mapping is None:
            # Still being built: not a move.
            return None
        with nova_context.target_cell(ctxt, mapping.cell_mapping) as cctxt:
            try:
                instance = objects.Instance.get_by_uuid(
                    cctxt, uuid, expected_attrs=['system_metadata'])
            except exception.InstanceNotFound:
                return None
            if instance.task_state != task_states.MIGRATING:
                return None
            nodes = objects.ComputeNodeList.get_all_by_host(cctxt,
                                                            instance.host)
        node = next((n for n in nodes if n.hypervisor_hostname ==
                     instance.node), nodes[0] if nodes else None)
        source = profile.HostProfile.from_stats(
            instance.host, node.stats if node else None)
        image = nova_utils.get_image_from_system_metadata(
            instance.system_metadata)
        guest = inspect.guest_from_image_properties(
            image.get('properties', {}),
            source.accelerator if source else '')
        return _LiveMove(uuid, source, guest)

    def filter_all(self, filter_obj_list, spec_obj):
        """Look the move up once per request, then judge every host."""
        if scheduler_utils.request_is_rebuild(spec_obj):
            return filter_obj_list
        move = self._live_move(spec_obj)
        if move is None:
            return filter_obj_list
        options = v2v_conf.planner_options(CONF)
        return [host for host in filter_obj_list
                if self._host_passes(host, move, options)]

    def _host_passes(self, host_state, move, options):
        dest = profile.HostProfile.from_stats(host_state.host,
                                              host_state.stats)
        try:
            plan = planner.plan_live_migration(move.source, dest, move.guest,
                                               **options)
        except planner.PlanRefused as refused:
            LOG.debug('V2VMigrationFilter: %(host)s refused for instance '
                      '%(uuid)s: %(reason)s',
                      {'host': host_state.host, 'uuid': move.instance_uuid,
                       'reason': refused.reason})
            return False
        LOG.debug('V2VMigrationFilter: %(host)s passes for instance '
                  '%(uuid)s: %(plan)s',
                  {'host': host_state.host, 'uuid': move.instance_uuid,
                   'plan': plan.summary()})
        return True

    def host_passes(self, host_state, spec_obj):
        """One host at a time (``filter_all`` is the path Nova takes)."""
        move = self._live_move(spec_obj)
        if move is None:
            return True
        return self._host_passes(host_state, move,
                                 v2v_conf.planner_options(CONF))
