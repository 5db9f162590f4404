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

"""V2V migration events, as versioned notifications on the message bus.

The source compute of a live migration emits, in this order:

``v2v.migration.plan``
    The pre-check chose a plan: mode, reasons, cautions, hosts, disks,
    hardware changes.
``v2v.migration.start``
    The move begins (every mode).
``v2v.migration.progress``
    A V2V cutover's disk synchronisation: bytes copied and remaining, at
    most every ``[v2v] notification_progress_interval`` seconds.
``v2v.migration.cutover.start``
    A V2V cutover stops the source guest.
``v2v.migration.cutover.end``
    The clone runs on the destination: the downtime libvirt saw.
``v2v.migration.end``
    The guest runs on the destination (every mode).
``v2v.migration.rollback``
    The move failed or was cancelled and the guest runs on the source
    (priority ERROR), with the reason when nova-v2v knows it.

A cold migration's source emits ``v2v.migration.plan`` with mode
``offline``. Each payload is a versioned object in Nova's notification
format (``nova_object.name`` ``V2VMigrationPayload``, namespace
``nova_v2v``, version ``1.1``: 1.1 added ``cautions``); the publisher is
``nova-v2v:<host>``.
They go where Nova's versioned notifications go (``[notifications]
versioned_notifications_topics`` through ``[oslo_messaging_notifications]
driver``), unless ``[v2v] notifications = False``.

The payload builders here are pure; :class:`Emitter` sends them.

Nova's API shows one of these moments too, to whoever reads a server's
instance actions: a cutover's downtime is the event
:data:`DOWNTIME_EVENT` of the live migration's action, from the source
guest's stop to the guest running again
(:mod:`nova_v2v.virt.libvirt.downtime`).
"""

import time

PUBLISHER = 'nova-v2v'
PAYLOAD_NAME = 'V2VMigrationPayload'
PAYLOAD_NAMESPACE = 'nova_v2v'
PAYLOAD_VERSION = '1.1'

PLAN = 'v2v.migration.plan'
START = 'v2v.migration.start'
PROGRESS = 'v2v.migration.progress'
CUTOVER_START = 'v2v.migration.cutover.start'
CUTOVER_END = 'v2v.migration.cutover.end'
END = 'v2v.migration.end'
ROLLBACK = 'v2v.migration.rollback'
# The instance action event of a cutover's downtime (Nova's API).
DOWNTIME_EVENT = 'compute_v2v_cutover_downtime'

# The order a successful V2V cutover emits them in (progress may repeat).
EVENTS = (PLAN, START, PROGRESS, CUTOVER_START, CUTOVER_END, END, ROLLBACK)
ERROR_EVENTS = (ROLLBACK,)

# The fields of V2VMigrationPayload 1.1 (1.1: cautions); an event leaves
# out what it does not know.
FIELDS = ('instance_uuid', 'source_host', 'dest_host', 'mode',
          'block_migration', 'reasons', 'disks', 'hardware_changes',
          'bytes_copied', 'bytes_remaining', 'bytes_total', 'downtime_s',
          'stop', 'reason', 'migration_status', 'cautions')


def payload(instance_uuid, **fields):
    """The versioned payload of one event (unknown fields refused)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError('not fields of %s: %s'
                         % (PAYLOAD_NAME, ', '.join(sorted(unknown))))
    data = {'instance_uuid': instance_uuid}
    data.update((k, v) for k, v in fields.items() if v is not None)
    return {'nova_object.name': PAYLOAD_NAME,
            'nova_object.namespace': PAYLOAD_NAMESPACE,
            'nova_object.version': PAYLOAD_VERSION,
            'nova_object.data': data}


def plan_fields(plan):
    """Payload fields of a :class:`planner.MigrationPlan`."""
    data = plan.to_dict()
    return {'source_host': data.get('source_host'),
            'dest_host': data.get('dest_host'),
            'mode': data.get('mode'),
            'block_migration': data.get('block_migration'),
            'reasons': list(data.get('reasons') or ()),
            'cautions': list(data.get('cautions') or ()),
            'disks': [dict(d) for d in data.get('disks') or ()],
            'hardware_changes': [dict(c) if isinstance(c, dict) else c
                                 for c in data.get('hardware_changes')
                                 or ()]}


def progress_fields(progress):
    """Payload fields of a disk synchronisation's progress dict."""
    return {'bytes_copied': progress.get('copied'),
            'bytes_remaining': progress.get('remaining'),
            'bytes_total': progress.get('total')}


class Throttle(object):
    """At most one event per ``interval`` seconds per key."""

    def __init__(self, interval, clock=time.monotonic):
        self.interval = interval
        self.clock = clock
        self._last = {}

    def allow(self, key, final=False):
        now = self.clock()
        last = self._last.get(key)
        if final or last is None or now - last >= self.interval:
            self._last[key] = now
            return True
        return False

    def forget(self, key):
        self._last.pop(key, None)


class Emitter(object):
    """Sends the events through a notifier factory (Nova's, in the driver).

    :param get_notifier: ``f(publisher_id) -> oslo.messaging Notifier``
    :param host: this host, in the publisher id
    :param enabled: ``[v2v] notifications``
    :param progress_interval: seconds between two progress events
    """

    def __init__(self, get_notifier, host, enabled=True,
                 progress_interval=5.0, log=None):
        self.get_notifier = get_notifier
        self.publisher_id = '%s:%s' % (PUBLISHER, host)
        self.enabled = enabled
        self.throttle = Throttle(progress_interval)
        self.log = log

    def emit(self, context, event, instance_uuid, **fields):
        """Send ``event``; never raises (a move does not fail on it)."""
        if not self.enabled:
            return False
        if event == PROGRESS and not self.throttle.allow(instance_uuid):
            return False
        if event in (END, ROLLBACK):
            self.throttle.forget(instance_uuid)
        try:
            body = payload(instance_uuid, **fields)
            notifier = self.get_notifier(self.publisher_id)
            if event in ERROR_EVENTS:
                notifier.error(context, event, body)
            else:
                notifier.info(context, event, body)
        except Exception:
            if self.log is not None:
                self.log.exception('Could not send the %s notification',
                                   event)
            return False
        return True
