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
compute. It starts as the source guest is about to stop and ends when the
guest runs again:

* ``Success``: on the destination, the clone started and its ports
  active; the move then completes, or fails on (below);
* ``Error``, the reason in the event's details (which the API shows to
  administrators): the cutover rolled back and the guest runs on the
  source again (the event ends then, even after a ``Success`` end: a clone
  removed for showing no activity), or the clone's state became unknown
  after it had run (the end is when that was found).

Its ``start_time`` and ``finish_time`` bracket the downtime, to the
resolution of Nova's database (MySQL and MariaDB keep whole seconds); the
exact figure is in the ``v2v.migration.cutover.end`` notification and the
compute log. An event whose clone's state became unknown before the clone
ran is never ended: the guest may run nowhere (README.rst, "When a
cutover's clone state is unknown"). The event is recorded as well as it
can be: a failure to record it is logged and the cutover goes on.
"""

import threading

from oslo_log import log as logging

from nova_v2v import notifications
from nova_v2v.virt.libvirt import nova_internals

LOG = logging.getLogger(__name__)

EVENT = notifications.DOWNTIME_EVENT


class DowntimeEvent(object):
    """The downtime event of one cutover: started once, ended as it goes.

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
        # None, or the result it ended with: 'Success' or 'Error'.
        self._result = None

    def start(self):
        """The source guest stops now."""
        with self._lock:
            if self._started:
                return
            # Also when the call fails: Nova may have recorded it (a reply
            # lost), and the end is tried all the same.
            self._started = True
        try:
            nova_internals.action_event_start(self._context, self._instance,
                                              EVENT, self._source_host)
        except Exception as exc:
            LOG.warning('Cannot record the V2V cutover\'s downtime as an '
                        'instance action event: %(err)s', {'err': exc},
                        instance=self._instance)

    def end(self, failure=None):
        """The guest runs again.

        Nothing when not started, or when it ended with an error already.
        A failure after a success ends it again (Nova's finish of an event
        updates it): the guest's downtime lasted until the source ran
        again.

        :param failure: why the cutover did not complete (text), or None
            (the clone runs)
        """
        result = 'Success' if failure is None else 'Error'
        with self._lock:
            if not self._started or self._result in (result, 'Error'):
                return
            self._result = result
        try:
            nova_internals.action_event_finish(
                self._context, self._instance, EVENT, failure=failure)
        except Exception as exc:
            LOG.warning('Cannot end the V2V cutover\'s downtime event: '
                        '%(err)s', {'err': exc}, instance=self._instance)

    def unknown(self, reason):
        """The clone's state became unknown.

        Ended with the reason when the clone had run (ended ``Success``);
        otherwise left open: the guest may run nowhere.
        """
        with self._lock:
            had_run = self._result == 'Success'
        if had_run:
            self.end(failure="the clone's state is unknown: %s" % reason)


def end_after_recovery(context, instance, reason):
    """A compute that started again rolled an interrupted cutover back.

    The source guest runs again: the downtime event, if the cutover had
    started one, ends in error (again, when it had ended as the clone
    ran). ``context`` is the start-up's: Nova finds the event on the
    instance's latest action, the live migration's.

    :param reason: what the recovery found and did
    """
    try:
        nova_internals.action_event_finish(context, instance, EVENT,
                                           failure=reason)
    except Exception as exc:
        # No such event: the cutover had not stopped the guest.
        LOG.info('No V2V cutover downtime event ended: %(err)s',
                 {'err': exc}, instance=instance)
