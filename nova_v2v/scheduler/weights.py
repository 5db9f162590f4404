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

"""``V2VMigrationWeigher``: prefer destinations that keep the guest live.

During a live migration, a destination where the guest's live state moves
(shared-storage or block live migration) weighs 1, one that needs a V2V
cutover (the guest restarts once) weighs 0; ``[v2v]
live_state_weight_multiplier`` scales it. Other requests weigh 0
everywhere. Enable it on the scheduler by adding
``nova_v2v.scheduler.weights.V2VMigrationWeigher`` to ``[filter_scheduler]
weight_classes``, next to ``nova.scheduler.weights.all_weighers``.
"""

from nova.scheduler import weights
from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v.scheduler import move

CONF = conf.CONF
LOG = logging.getLogger(__name__)


class V2VMigrationWeigher(weights.BaseHostWeigher):

    def weight_multiplier(self, host_state):
        return CONF.v2v.live_state_weight_multiplier

    def weigh_objects(self, weighed_obj_list, spec_obj):
        live_move = move.live_move(spec_obj)
        if live_move is None:
            return [0.0] * len(weighed_obj_list)
        options = v2v_conf.planner_options(CONF)
        result = []
        for weighed in weighed_obj_list:
            if live_move.is_peer(weighed.obj):
                # Nova's own live migration: the live state moves.
                result.append(1.0)
                continue
            plan = live_move.plan(weighed.obj, options)
            result.append(1.0 if plan and plan.live_state_moves else 0.0)
        return result

    def _weigh_object(self, host_state, spec_obj):
        return self.weigh_objects([weights.WeighedHost(host_state, 0.0)],
                                  spec_obj)[0]
