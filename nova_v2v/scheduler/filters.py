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
judges live migrations, and only between hosts that both publish a V2V
profile (a host without one is a peer of the same hypervisor: Nova's own
filters and checks decide, as without nova-v2v). Nothing a user can set
decides that it is a live migration: the instance's ``task_state``
(``migrating``), read from its cell, does.
"""

from nova.scheduler import filters
from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v.scheduler import move

CONF = conf.CONF
LOG = logging.getLogger(__name__)


class V2VMigrationFilter(filters.BaseHostFilter):
    """Pass the hosts a V2V migration plan exists for."""

    RUN_ON_REBUILD = False

    def _live_move(self, spec_obj):
        return move.live_move(spec_obj)

    def filter_all(self, filter_obj_list, spec_obj):
        """Look the move up once per request, then judge every host."""
        live_move = self._live_move(spec_obj)
        if live_move is None:
            return filter_obj_list
        options = v2v_conf.planner_options(CONF)
        return [host for host in filter_obj_list
                if self._host_passes(host, live_move, options)]

    def _host_passes(self, host_state, live_move, options):
        if live_move.is_peer(host_state):
            LOG.debug('V2VMigrationFilter: %(host)s passes for instance '
                      '%(uuid)s: no V2V profile on one end, Nova decides',
                      {'host': host_state.host,
                       'uuid': live_move.instance_uuid})
            return True
        if live_move.older_hypervisor(host_state):
            LOG.debug('V2VMigrationFilter: %(host)s fails for instance '
                      '%(uuid)s: its hypervisor is older than the source\'s '
                      'and Nova\'s conductor would refuse it',
                      {'host': host_state.host,
                       'uuid': live_move.instance_uuid})
            return False
        plan = live_move.plan(host_state, options)
        if plan is None:
            return False
        LOG.debug('V2VMigrationFilter: %(host)s passes for instance '
                  '%(uuid)s: %(plan)s',
                  {'host': host_state.host,
                   'uuid': live_move.instance_uuid,
                   'plan': plan})
        return True

    def host_passes(self, host_state, spec_obj):
        """One host at a time (``filter_all`` is the path Nova takes)."""
        live_move = self._live_move(spec_obj)
        if live_move is None:
            return True
        return self._host_passes(host_state, live_move,
                                 v2v_conf.planner_options(CONF))
