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
its ETA from the rate. Nothing here asks the cloud: :mod:`api` does.
"""

import dataclasses
import datetime
import threading
import time
import typing as ty

from nova_v2v.drain import progress

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
        reason=None):
    """The :class:`MoveRow` of one migration record.

    :param migration: a record of ``GET /os-migrations`` (a dict, of
        microversion 2.59 or later: it has a ``uuid``)
    :param names: ``{server id: name}``
    :param detail: the move's server-migration record (a dict), while it
        runs
    :param samples: :class:`Samples` that gives the rate (None: no rate)
    :param mode: the mode the planner chooses for this move
    :param reason: why a failed move failed, as Nova recorded it
    """
    if now is None:
        now = time.monotonic()
    server_id = migration.get('instance_uuid') or ''
    out = MoveRow(
        id=int(migration.get('id') or 0), uuid=migration.get('uuid') or '',
        server_id=server_id,
        server=names.get(server_id) or server_id,
        source=migration.get('source_compute') or '',
        dest=migration.get('dest_compute') or '',
        kind=KINDS.get(migration.get('migration_type'),
                       migration.get('migration_type') or ''),
        status=migration.get('status') or '', mode=mode, reason=reason,
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
         reasons=None, limit=50):
    """The panel's rows: the moves in progress first, then the latest.

    Every map is keyed by the migration's UUID.

    :param details: ``{uuid: server-migration record}``
    :param modes: ``{uuid: the planner's mode}``
    :param reasons: ``{uuid: why it failed}``
    """
    modes = modes or {}
    reasons = reasons or {}
    out = [row(m, names, details.get(m.get('uuid')), samples, now,
               modes.get(m.get('uuid')), reasons.get(m.get('uuid')))
           for m in migrations]
    # Newest first: the API's order (created_at, then id, descending).
    out.sort(key=lambda r: (r.started or '', r.id), reverse=True)
    out.sort(key=lambda r: not r.in_progress)
    return out[:limit]
