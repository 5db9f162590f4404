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

"""The Migrations panel's rows, from Nova's migration records (pure).

A move's bytes come from its server-migration record (``GET
/servers/{id}/migrations``: memory and disk, total, processed, remaining,
saved by the source compute while the move runs), its rate from two such
samples (:class:`nova_v2v.drain.progress.MoveProgress`, the drain's own),
its ETA from the rate. A finished move's instance action (``GET
/servers/{id}/os-instance-actions/{request id}``) tells why it failed and,
for a V2V cutover, its downtime (the event nova-v2v's source compute
records, :data:`nova_v2v.notifications.DOWNTIME_EVENT`). Nothing here asks
the cloud: :mod:`api` does.
"""

import dataclasses
import datetime
import threading
import time
import typing as ty

from nova_v2v.drain import progress
from nova_v2v import notifications
from nova_v2v.planning import planner

# Nova's statuses of a move still going on (the server-migrations API
# answers for these only).
IN_PROGRESS = ('queued', 'preparing', 'running', 'post-migrating',
               'pre-migrating', 'migrating', 'accepted')
# A cold move waiting for its confirmation.
WAITING = ('finished', 'confirming', 'reverting')
FAILED = ('error', 'failed')
KINDS = {'live-migration': 'live', 'migration': 'cold',
         'resize': 'resize', 'evacuation': 'evacuation'}


@dataclasses.dataclass
class MoveRow:
    """One row of the panel."""

    id: int
    uuid: str
    server_id: str
    server: str
    source: str
    dest: str
    kind: str
    status: str
    mode: ty.Optional[str] = None
    percent: ty.Optional[int] = None
    processed: int = 0
    total: ty.Optional[int] = None
    remaining: ty.Optional[int] = None
    rate: ty.Optional[float] = None
    eta_s: ty.Optional[float] = None
    reason: ty.Optional[str] = None
    started: ty.Optional[str] = None
    updated: ty.Optional[str] = None
    downtime: ty.Optional['Downtime'] = None

    @property
    def in_progress(self):
        return self.status in IN_PROGRESS

    @property
    def failed(self):
        return self.status in FAILED

    def processed_text(self):
        return progress.size(self.processed)

    def total_text(self):
        return progress.size(self.total)

    def rate_text(self):
        if self.rate is None:
            return '-'
        return '%s/s' % progress.size(self.rate)

    def eta_text(self):
        if not self.in_progress:
            return '-'
        return progress.duration(self.eta_s)

    def downtime_text(self):
        return '-' if self.downtime is None else self.downtime.text()

    def to_dict(self):
        data = dataclasses.asdict(self)
        data['in_progress'] = self.in_progress
        return data


class Samples(object):
    """The bytes seen of each move, across the panel's refreshes.

    One per Horizon process: a rate needs two samples of the same record,
    and each refresh is a new request.

    :param keep: how many moves to remember (the oldest are forgotten)
    """

    def __init__(self, keep=200):
        self.keep = keep
        self._moves = {}
        # Horizon's web server answers requests on several threads.
        self._lock = threading.Lock()

    def sample(self, now, key, record):
        """Take a record's bytes; the move's :class:`MoveProgress`.

        :param key: the migration's UUID (its id is only unique in a cell)
        """
        with self._lock:
            move = self._moves.pop(key, None)
            if move is None:
                move = progress.MoveProgress(None, None, None, None, now, 0)
            move.sample(now, record)
            self._moves[key] = move
            while len(self._moves) > self.keep:
                self._moves.pop(next(iter(self._moves)))
            return move

    def last(self, key):
        with self._lock:
            return self._moves.get(key)


@dataclasses.dataclass(frozen=True)
class Downtime:
    """A V2V cutover's downtime, as its instance action event tells it."""

    seconds: float
    # Nova's database kept whole seconds (MySQL rounds the times, MariaDB
    # truncates them): the figure is +/- 1 s.
    whole_seconds: bool
    # The cutover rolled back: the guest ran again on the source.
    rolled_back: bool = False

    def text(self):
        if not self.whole_seconds:
            shown = '%.1f s' % self.seconds
        elif self.seconds < 1:
            # Both ends in the same second.
            shown = '< 1 s'
        else:
            shown = '~%d s' % round(self.seconds)
        return shown + (' (rolled back)' if self.rolled_back else '')


@dataclasses.dataclass(frozen=True)
class ActionFacts:
    """What a finished move's instance action tells."""

    reason: ty.Optional[str] = None
    downtime: ty.Optional[Downtime] = None


def parse_time(value):
    """An API time as a naive UTC datetime, or None.

    Nova gives ``YYYY-MM-DDTHH:MM:SS.ffffff``, UTC without an offset; an
    offset or ``Z``, where there is one, is applied.
    """
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace(
            'Z', '+00:00'))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(
            tzinfo=None)
    return parsed


def downtime_of(action):
    """The :class:`Downtime` an instance action records, or None.

    :param action: an instance action with its ``events`` (a dict, as
        ``GET /servers/{id}/os-instance-actions/{request id}`` gives it)
    :returns: None when it has no downtime event, or one not ended (a
        cutover whose clone's state is unknown)
    """
    for event in (action or {}).get('events') or ():
        if event.get('event') != notifications.DOWNTIME_EVENT:
            continue
        start = parse_time(event.get('start_time'))
        finish = parse_time(event.get('finish_time'))
        if start is None or finish is None:
            return None
        return Downtime(
            seconds=max(0.0, (finish - start).total_seconds()),
            whole_seconds=not (start.microsecond or finish.microsecond),
            rolled_back=event.get('result') == 'Error')
    return None


def failure_of(action):
    """Why the move of an instance action failed, as Nova recorded it.

    The details of its first event that ended in error (a pre-check's
    refusal, for one), else the action's message, or None.
    """
    action = action or {}
    for event in action.get('events') or ():
        if event.get('result') == 'Error' and event.get('details'):
            return event['details']
    return action.get('message')


def facts_of(action, failed):
    """The :class:`ActionFacts` of a finished move's instance action.

    :param failed: whether the move failed (its reason is asked then)
    """
    return ActionFacts(reason=failure_of(action) if failed else None,
                       downtime=downtime_of(action))


def _time(value):
    """The API's ISO time as ``YYYY-MM-DD HH:MM:SS`` (None stays None)."""
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace('Z', ''))
    except ValueError:
        return str(value)
    return parsed.strftime('%Y-%m-%d %H:%M:%S')


def row(migration, names, detail=None, samples=None, now=None, mode=None,
        facts=None):
    """The :class:`MoveRow` of one migration record.

    :param migration: a record of ``GET /os-migrations`` (a dict, of
        microversion 2.59 or later: it has a ``uuid``)
    :param names: ``{server id: name}``
    :param detail: the move's server-migration record (a dict), while it
        runs
    :param samples: :class:`Samples` that gives the rate (None: no rate)
    :param mode: the mode the planner chooses for this move
    :param facts: the :class:`ActionFacts` of a finished move: why it
        failed, a V2V cutover's downtime (the move was a cutover: that is
        its mode)
    """
    if now is None:
        now = time.monotonic()
    facts = facts or ActionFacts()
    if facts.downtime is not None:
        mode = planner.V2V_CUTOVER
    server_id = migration.get('instance_uuid') or ''
    out = MoveRow(
        id=int(migration.get('id') or 0), uuid=migration.get('uuid') or '',
        server_id=server_id,
        server=names.get(server_id) or server_id,
        source=migration.get('source_compute') or '',
        dest=migration.get('dest_compute') or '',
        kind=KINDS.get(migration.get('migration_type'),
                       migration.get('migration_type') or ''),
        status=migration.get('status') or '', mode=mode,
        reason=facts.reason, downtime=facts.downtime,
        started=_time(migration.get('created_at')),
        updated=_time(migration.get('updated_at')))
    if detail and out.in_progress:
        if samples is not None:
            move = samples.sample(now, out.uuid, detail)
        else:
            move = progress.MoveProgress(None, None, None, None, now, 0)
            move.sample(now, detail)
        out.processed = move.processed
        out.total = move.total
        out.remaining = move.remaining
        out.percent = move.percent()
        out.rate = move.rate
        if move.rate and move.remaining is not None:
            out.eta_s = move.remaining / move.rate
    elif samples is not None and samples.last(out.uuid) is not None:
        # Ended since the last refresh: what it had moved, and 100 %
        # when it completed.
        move = samples.last(out.uuid)
        out.processed = move.processed
        out.total = move.total
        if out.status == 'completed' and move.total:
            out.percent = 100
    elif out.status == 'completed':
        out.percent = 100
    return out


def rows(migrations, names, details, samples=None, now=None, modes=None,
         facts=None, limit=50):
    """The panel's rows: the moves in progress first, then the latest.

    Every map is keyed by the migration's UUID.

    :param details: ``{uuid: server-migration record}``
    :param modes: ``{uuid: the planner's mode}``
    :param facts: ``{uuid: ActionFacts}`` of finished moves
    """
    modes = modes or {}
    facts = facts or {}
    out = [row(m, names, details.get(m.get('uuid')), samples, now,
               modes.get(m.get('uuid')), facts.get(m.get('uuid')))
           for m in migrations]
    # Newest first: the API's order (created_at, then id, descending).
    out.sort(key=lambda r: (r.started or '', r.id), reverse=True)
    out.sort(key=lambda r: not r.in_progress)
    return out[:limit]
