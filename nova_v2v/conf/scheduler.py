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

"""Scheduler-side options of nova-v2v (``[v2v]`` on the scheduler hosts)."""

from oslo_config import cfg

from nova_v2v.conf import v2v

ALL_OPTS = [
    cfg.FloatOpt('live_state_weight_multiplier',
                 default=10.0,
                 help="""
Weight given by ``V2VMigrationWeigher`` to the destinations where a live
migration keeps the guest's live state (shared-storage or block live
migration), over those that need a V2V cutover (one restart of the guest).

Nova normalises each weigher's weights to [0, 1] and multiplies them by the
weigher's multiplier; with the default, keeping the guest running outweighs
the stock weighers (RAM, CPU, disk, each 1.0 by default). 0 disables the
preference; a negative value prefers cutover destinations.

Related options:

* ``[filter_scheduler] weight_classes``
"""),
]


def register_opts(conf):
    conf.register_group(v2v.v2v_group)
    conf.register_opts(ALL_OPTS, group=v2v.v2v_group)


def list_opts():
    return {v2v.v2v_group: ALL_OPTS}
