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

"""What the gate watches while a move runs, beside the guest itself.

The computes' logs (the mode each move's plan chose), nova-v2v's versioned
notifications as a consumer on the real broker receives them, and Nova's
migration records as ``server migration list`` and ``show`` print them.
"""

import os
import re
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging

from nova_v2v import notifications
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import paths
from nova_v2v_rig.lab import hosts as lab_hosts

LOG = logging.getLogger(__name__)

# Migration states of a move in progress (nova.objects.migration).
IN_PROGRESS = ('queued', 'accepted', 'preparing', 'pre-migrating',
               'running', 'migrating', 'post-migrating')
# States a migration record ends in (a cold one: after its confirmation).
FINAL = ('completed', 'confirmed', 'reverted', 'failed', 'error',
         'cancelled')
_PLAN = re.compile(r'\[instance: (?P<uuid>[0-9a-f-]{36})\] '
                   r'V2V (?:offline )?plan: (?P<mode>[a-z0-9-]+) from ')

_DOWNTIME = re.compile(r'\[instance: (?P<uuid>[0-9a-f-]{36})\] '
                       r'V2V cutover done: downtime (?P<s>[0-9.]+)s')


def _last_of(pattern, text, server_id, group):
    """The last match of ``pattern`` in ``text`` for the server.

    :returns: its ``group`` of the last match whose ``uuid`` group is
        ``server_id``, or None
    """
    found = [m.group(group) for m in pattern.finditer(text)
             if m.group('uuid') == server_id]
    return found[-1] if found else None


def logged_downtime(text, server_id):
    """The cutover downtime the compute logs in ``text`` give the server.

    :returns: the last one, in seconds as the engine measured it, or None
    """
    found = _last_of(_DOWNTIME, text, server_id, 's')
    return None if found is None else float(found)


def wait_migration(cloud, server, known, timeout=120, interval=1):
    """The server's new migration record once it reached a final state."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in cloud.migrations(server)
                if r.get('Id') not in known]
        if (rows and rows[0].get('Status') in FINAL or
                time.monotonic() > deadline):
            return rows[0] if rows else {}
        time.sleep(interval)


def planned_mode(text, server_id):
    """The last mode the compute logs in ``text`` planned for the server."""
    return _last_of(_PLAN, text, server_id, 'mode')


class LogMark(object):
    """New lines of the computes' logs since the mark was made."""

    def __init__(self, layout):
        self.paths = [layout.log(computes.service_name(h))
                      for h in sorted(lab_hosts.HOSTS)]
        self.offsets = {}
        for path in self.paths:
            try:
                self.offsets[path] = os.path.getsize(path)
            except OSError:
                self.offsets[path] = 0

    def text(self):
        out = []
        for path in self.paths:
            try:
                with open(path, errors='replace') as f:
                    f.seek(self.offsets[path])
                    out.append(f.read())
            except OSError:
                continue
        return '\n'.join(out)


# The mode a gate move expects when nova-v2v plans nothing: Nova's own move.
NOVA_OWN = 'nova'

# The V2V events each mode's source sends, in order (see
# nova_v2v.notifications; progress events are counted once).
EXPECTED_EVENTS = {
    'block-live': (notifications.PLAN, notifications.START,
                   notifications.END),
    'shared-live': (notifications.PLAN, notifications.START,
                    notifications.END),
    'v2v-cutover': (notifications.PLAN, notifications.START,
                    notifications.PROGRESS, notifications.CUTOVER_START,
                    notifications.CUTOVER_END, notifications.END),
    'offline': (notifications.PLAN,),
    # A move that needs no V2V (a cold migration between computes that run
    # the guest's disk format): Nova's own, no plan and no V2V event.
    NOVA_OWN: (),
}


class EventListener(object):
    """nova-v2v's events as a consumer on the real broker receives them.

    An oslo.messaging notification listener on Nova's versioned topic (in
    Nova's exchange, ``nova``), in its own pool (queue), started before the
    first move.
    """

    def __init__(self, transport_url, topic='versioned_notifications',
                 exchange='nova'):
        self.events = []
        self._lock = threading.Lock()
        transport = oslo_messaging.get_notification_transport(
            cfg.ConfigOpts(), url=transport_url)
        self.listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=topic,
                                              exchange=exchange)], [self],
            executor='threading', pool='nova-v2v-gate')

    def start(self):
        self.listener.start()
        return self

    def stop(self):
        self.listener.stop()
        self.listener.wait()

    def _record(self, priority, publisher_id, event_type, payload):
        if not event_type.startswith('v2v.'):
            return
        data = (payload or {}).get('nova_object.data', {})
        with self._lock:
            self.events.append({'event_type': event_type,
                                'priority': priority,
                                'publisher_id': publisher_id,
                                'instance_uuid': data.get('instance_uuid'),
                                'data': data, 'received': time.time()})

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('INFO', publisher_id, event_type, payload)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('ERROR', publisher_id, event_type, payload)

    def of(self, server_id, since):
        """The server's event types received since ``since``, in order.

        Repeated progress events count once.
        """
        with self._lock:
            types = [e['event_type'] for e in self.events
                     if e['instance_uuid'] == server_id and
                     e['received'] >= since]
        return [t for i, t in enumerate(types)
                if not (i and t == notifications.PROGRESS and
                        types[i - 1] == t)]

    def payload(self, server_id, since, event_type):
        """The payload data of the server's first ``event_type`` event."""
        with self._lock:
            for event in self.events:
                if (event['instance_uuid'] == server_id and
                        event['received'] >= since and
                        event['event_type'] == event_type):
                    return event['data']
        return None

    def wait_for(self, server_id, since, last, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = self.of(server_id, since)
            if (got and got[-1] == last) or time.monotonic() > deadline:
                return got
            time.sleep(0.2)


class MigrationWatch(threading.Thread):
    """Reads ``server migration list`` (and ``show``) while a move runs."""

    def __init__(self, cloud, server, known, interval=0.5):
        super().__init__(name='migration-watch', daemon=True)
        self.cloud = cloud
        self.server = server
        self.known = set(known)
        self.interval = interval
        self.seen = []
        self.shown = None
        self._stop_evt = threading.Event()

    def run(self):
        while not self._stop_evt.is_set():
            try:
                rows = self.cloud.migrations(self.server)
            except paths.AioError as exc:
                LOG.debug('migration list: %s', exc)
                rows = []
            for row in rows:
                if row.get('Id') in self.known:
                    continue
                status = row.get('Status')
                if not self.seen or self.seen[-1] != status:
                    self.seen.append(status)
                if (self.shown is None and status in IN_PROGRESS and
                        row.get('Type') == 'live-migration'):
                    # Nova shows a live migration only while it runs.
                    shown = self.cloud('server', 'migration', 'show',
                                       self.server, row['UUID'],
                                       parse=True, check=False)
                    if shown:
                        self.shown = {
                            'status': shown.get('Status'),
                            'uuid': shown.get('UUID'),
                            'memory_total_bytes':
                                shown.get('Memory Total Bytes'),
                            'disk_total_bytes':
                                shown.get('Disk Total Bytes')}
            self._stop_evt.wait(self.interval)

    def stop(self):
        self._stop_evt.set()
        self.join()
