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

"""What the scheduler knows of the live migration it is placing.

Shared by :mod:`nova_v2v.scheduler.filters` and
:mod:`nova_v2v.scheduler.weights`: one cell database lookup per request,
then the pure planner per host.
"""

from nova.compute import task_states
from nova import context as nova_context
from nova import exception
from nova import objects
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


class LiveMove(object):
    """A live migration being scheduled: its instance, source and guest."""

    def __init__(self, instance_uuid, source, guest,
                 source_hypervisor_version=None):
        self.instance_uuid = instance_uuid
        self.source = source
        self.guest = guest
        # The source ComputeNode's, as Nova's conductor compares it.
        self.source_hypervisor_version = source_hypervisor_version

    def older_hypervisor(self, host_state):
        """Whether Nova's conductor will refuse ``host_state`` as too old.

        Its LiveMigrationTask refuses a destination whose hypervisor
        version is below the source's (DestinationHypervisorTooOld)
        unless ``[workarounds] skip_hypervisor_version_check_on_lm``; the
        scheduler leaves such a host out first, so that a retry goes to
        one it accepts.
        """
        if CONF.workarounds.skip_hypervisor_version_check_on_lm:
            return False
        mine = self.source_hypervisor_version
        theirs = host_state.hypervisor_version
        return bool(mine and theirs is not None and theirs < mine)

    def is_peer(self, host_state):
        """Whether the move is between peers of the same hypervisor.

        A host that publishes no V2V profile (one not yet switched to
        nova-v2v in a rolling deployment) on either end: the V2V planner
        has nothing to say, Nova's own filters and checks decide, as they
        would without nova-v2v.
        """
        return self.source is None or profile.HostProfile.from_stats(
            host_state.host, host_state.stats) is None

    def plan(self, host_state, options=None):
        """The plan for ``host_state``, or None with the reason logged."""
        dest = profile.HostProfile.from_stats(host_state.host,
                                              host_state.stats)
        try:
            return planner.plan_live_migration(
                self.source, dest, self.guest,
                **(options or v2v_conf.planner_options(CONF)))
        except planner.PlanRefused as refused:
            LOG.debug('V2V: no plan to %(host)s for instance %(uuid)s: '
                      '%(reason)s',
                      {'host': host_state.host, 'uuid': self.instance_uuid,
                       'reason': refused.reason})
            return None


def live_move(spec_obj):
    """The live migration this request schedules, or None.

    Nothing a user can set decides it: the instance's ``task_state``
    (``migrating``), read from its cell, does. Rebuilds, boots (no cell
    yet), resizes and evacuations give None.
    """
    if scheduler_utils.request_is_rebuild(spec_obj):
        return None
    uuid = spec_obj.instance_uuid
    if not uuid:
        return None
    ctxt = nova_context.get_admin_context()
    try:
        mapping = objects.InstanceMapping.get_by_instance_uuid(ctxt, uuid)
    except exception.InstanceMappingNotFound:
        return None
    if mapping.cell_mapping is None:
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
        image.get('properties', {}), source.accelerator if source else '')
    return LiveMove(uuid, source, guest,
                    node.hypervisor_version if node else None)
