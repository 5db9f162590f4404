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

"""The driver's V2V migration events (:mod:`nova_v2v.notifications`)."""

from nova import rpc
from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v import notifications

CONF = conf.CONF
LOG = logging.getLogger(__name__)


def event_hosts(plan, dest):
    """Payload fields that name the move."""
    fields = {'dest_host': dest}
    if plan is not None:
        fields.update(source_host=plan.source_host, mode=plan.mode,
                      block_migration=plan.block_migration)
    return fields


class Events(object):
    """One compute host's V2V events; an event never fails a move."""

    def __init__(self):
        self._emitter = notifications.Emitter(
            rpc.get_versioned_notifier, CONF.host,
            enabled=CONF.v2v.notifications,
            progress_interval=CONF.v2v.notification_progress_interval,
            log=LOG)

    def set_host(self, host):
        self._emitter.publisher_id = '%s:%s' % (notifications.PUBLISHER,
                                                host)

    def emit(self, context, event, instance, **fields):
        """Send one V2V event about ``instance``."""
        self._emitter.emit(context, event, instance.uuid, **fields)

    def plan(self, context, instance, plan):
        self.emit(context, notifications.PLAN, instance,
                  **notifications.plan_fields(plan))

    def moving(self, context, event, instance, plan, dest=None, **fields):
        """An event of a move, named by its plan (None: not V2V's)."""
        if dest is None and plan is not None:
            dest = plan.dest_host
        self.emit(context, event, instance,
                  **dict(fields, **event_hosts(plan, dest)))
