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

"""A V2V cutover's downtime, published through Nova's API.

The live migration's instance action (``openstack server event show
SERVER REQUEST_ID``; ``GET /servers/{id}/os-instance-actions/{request
id}``) gets one more event, :data:`EVENT`, recorded on the source
compute: it starts as the source guest is about to stop and ends when the
guest runs again, on the destination (the clone started: ``Success``) or
on the source after a rollback (``Error``, the reason in the event's
details, which the API shows to administrators). Its ``start_time`` and
``finish_time`` bracket the downtime, to the resolution of Nova's
database (MySQL and MariaDB keep whole seconds); the exact figure is in
the ``v2v.migration.cutover.end`` notification and the compute log.

An event whose clone's state became unknown is never ended: the guest may
not run anywhere (README.rst, "When a cutover's clone state is
unknown"). The event is recorded as well as it can be: a failure to
record it is logged and the cutover goes on.
"""

import threading

from oslo_log import log as logging

from nova_v2v import notifications
from nova_v2v.virt.libvirt import nova_internals

LOG = logging.getLogger(__name__)

EVENT = notifications.DOWNTIME_EVENT


class DowntimeEvent(object):
    """The downtime event of one cutover (start once, end once).

    :param context: the live migration's request context
    :param instance: the instance that moves
    :param host: the source host (this one), where the event happens
    """

    def __init__(self, context, instance, host):
        self._context = context
        self._instance = instance
        self._source_host = host
        self._lock = threading.Lock()
        self._started = False
        self._ended = False

    def start(self):
        """The source guest stops now."""
        with self._lock:
            if self._started:
                return
            self._started = True
        try:
            nova_internals.action_event_start(self._context, self._instance,
                                              EVENT, self._source_host)
        except Exception as exc:
            with self._lock:
                self._started = False
            LOG.warning('Cannot record the V2V cutover\'s downtime as an '
                        'instance action event: %(err)s', {'err': exc},
                        instance=self._instance)

    def end(self, failure=None):
        """The guest runs again; nothing when not started or ended.

        :param failure: why the cutover rolled back (the guest runs again
            on the source), or None (the clone runs)
        """
        with self._lock:
            if not self._started or self._ended:
                return
            self._ended = True
        try:
            nova_internals.action_event_finish(
                self._context, self._instance, EVENT, failure=failure)
        except Exception as exc:
            LOG.warning('Cannot end the V2V cutover\'s downtime event: '
                        '%(err)s', {'err': exc}, instance=self._instance)
