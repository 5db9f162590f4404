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

"""A drain's progress: bytes moved and left, the rate, the ETA; printed.

The bytes come from Nova's migration records (``GET
/servers/{id}/migrations``: memory and disk, total, processed, remaining,
saved by the source compute every ``[libvirt]
live_migration_monitor_interval``). A server not started yet counts its
plan's estimate (:attr:`nova_v2v.drain.plan.Step.cost`), scaled by what
the finished moves really sent against their estimates (a disk's
unallocated blocks cost next to nothing).

Three printers: :class:`TerminalPrinter` redraws one line per move in
flight and a total; :class:`LogPrinter` writes plain lines (the events,
and the progress every ``every`` seconds) when the output is no terminal;
:class:`JsonPrinter` writes one JSON object per line for tools.
"""

import collections
import json
import statistics
import time

MIB = 1024 * 1024
GIB = 1024 * MIB


def size(n):
    """Bytes as an operator reads them: ``512.0 MiB``, ``1.50 GiB``."""
    if n is None:
        return '?'
    if abs(n) >= GIB:
        return '%.2f GiB' % (n / float(GIB))
    return '%.1f MiB' % (n / float(MIB))


def duration(seconds):
    """``h:mm:ss`` or ``m:ss``; ``?`` when unknown."""
    if seconds is None:
        return '?'
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return '%d:%02d:%02d' % (h, m, s) if h else '%d:%02d' % (m, s)


class MoveProgress(object):
    """One move in flight, from its migration record's samples."""

    def __init__(self, server_id, name, mode, dest, started, cost):
        self.server_id = server_id
        self.name = name
        self.mode = mode
        self.dest = dest
        self.started = started
        self.cost = cost
        self.total = None
        self.processed = 0
        self.remaining = None
        self.rate = None
        self._last = None

    def sample(self, now, record):
        """Take a migration record's bytes (a dict of the API's fields)."""
        def field(name):
            return int(record.get(name) or 0)
        total = field('memory_total_bytes') + field('disk_total_bytes')
        processed = (field('memory_processed_bytes') +
                     field('disk_processed_bytes'))
        remaining = (field('memory_remaining_bytes') +
                     field('disk_remaining_bytes'))
        if not total and not processed:
            return
        if self._last is not None and now > self._last[0] and (
                processed != self._last[1]):
            self.rate = max(0.0, (processed - self._last[1]) /
                            (now - self._last[0]))
        if self._last is None or processed != self._last[1]:
            self._last = (now, processed)
        self.total = total
        self.processed = max(self.processed, processed)
        self.remaining = remaining

    def left(self):
        """Bytes still to send, as last known (the estimate before)."""
        if self.remaining is not None:
            return self.remaining
        return max(0, self.cost - self.processed)

    def moved(self):
        """Bytes sent: at least its total once it has ended."""
        return self.processed

    def percent(self):
        if not self.total:
            return None
        return max(0, min(100, int(100 * (self.total - (self.remaining or 0))
                                   / self.total)))


class Meter(object):
    """The drain's bytes over time: its rate (over ``window`` s), its ETA."""

    def __init__(self, window=30.0):
        self.window = window
        self._samples = collections.deque()
        self._ratios = []

    def finished(self, cost, moved):
        """A move ended having sent ``moved`` of its estimate ``cost``."""
        if cost and moved:
            self._ratios.append(moved / float(cost))

    def scale(self):
        """What moves send of their estimates (1.0 before any is known)."""
        return statistics.median(self._ratios) if self._ratios else 1.0

    def sample(self, now, moved):
        self._samples.append((now, moved))
        while len(self._samples) > 2 and (
                now - self._samples[1][0] >= self.window):
            self._samples.popleft()

    def rate(self):
        """Bytes per second over the window, or None."""
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        if t1 <= t0:
            return None
        return max(0.0, (b1 - b0) / (t1 - t0))

    def eta(self, left):
        rate = self.rate()
        if not rate:
            return None
        return left / rate


def snapshot(now, moves, meter, moved_before, pending_cost, counts,
             started_at):
    """The drain's progress as a dict (what the printers print).

    :param moves: the :class:`MoveProgress` in flight
    :param moved_before: bytes the finished moves sent
    :param pending_cost: the estimates of the servers still to start
    :param counts: ``{status: servers}``
    """
    moved = moved_before + sum(m.moved() for m in moves)
    left = (sum(m.left() for m in moves) +
            int(pending_cost * meter.scale()))
    meter.sample(now, moved)
    return {
        'elapsed_s': round(now - started_at, 1),
        'bytes_moved': moved,
        'bytes_left': left,
        'rate_bps': meter.rate(),
        'eta_s': meter.eta(left),
        'counts': dict(counts),
        'moves': [{'server': m.server_id, 'name': m.name, 'mode': m.mode,
                   'dest': m.dest, 'seconds': round(now - m.started, 1),
                   'bytes_moved': m.moved(), 'bytes_total': m.total,
                   'percent': m.percent(), 'rate_bps': m.rate}
                  for m in moves],
    }


def _rate(bps):
    return '?' if bps is None else '%s/s' % size(bps)


def move_line(m):
    pct = '%3d%%' % m['percent'] if m['percent'] is not None else '  ?%'
    return '  %-20s %-12s -> %-16s %s %s of %s, %s, %s' % (
        m['name'][:20], m['mode'] or '', m['dest'], pct,
        size(m['bytes_moved']), size(m['bytes_total']), _rate(m['rate_bps']),
        duration(m['seconds']))


def total_line(host, snap):
    c = snap['counts']
    return ('drain %s: %d done, %d moving, %d to go, %d failed, %d '
            'skipped; %s moved, %s left, %s, ETA %s, %s elapsed'
            % (host, c.get('done', 0), c.get('moving', 0),
               c.get('pending', 0), c.get('failed', 0), c.get('skipped', 0),
               size(snap['bytes_moved']), size(snap['bytes_left']),
               _rate(snap['rate_bps']), duration(snap['eta_s']),
               duration(snap['elapsed_s'])))


class Printer(object):
    """Where a drain says what it does."""

    def __init__(self, stream, host):
        self.stream = stream
        self.host = host

    def event(self, kind, **fields):
        """A move started or ended, the drain started or ended..."""

    def progress(self, snap):
        """The drain's :func:`snapshot`, every poll."""

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()


def event_text(kind, fields):
    """An event as a line of text, or None (the end's report is whole)."""
    name = fields.get('name') or fields.get('server') or ''
    if kind == 'drain.end':
        return None
    if kind == 'drain.start':
        c = fields.get('counts') or {}
        return 'drain of %s%s: %d servers, %d to move, %d moving, %d ' \
            'skipped, %d done before' % (
                fields.get('host'), ' (resumed)' if fields.get('resumed')
                else '', fields.get('servers', 0), c.get('pending', 0),
                c.get('moving', 0), c.get('skipped', 0), c.get('done', 0))
    if kind == 'move.start':
        return 'start %s (%s): %s to %s%s' % (
            name, fields.get('server'), fields.get('mode'), fields.get('dest'),
            ', %d MiB/s' % fields['bandwidth_mib']
            if fields.get('bandwidth_mib') else '')
    if kind in ('move.end', 'move.retry'):
        return '%s %s: %s on %s after %s%s' % (
            'end' if kind == 'move.end' else 'retry', name,
            fields.get('outcome'), fields.get('host'),
            duration(fields.get('seconds')),
            ' (%s)' % fields['error'] if fields.get('error') else '')
    if kind == 'service.disabled':
        return ('the nova-compute service of %s was disabled already: %s'
                if fields.get('already') else
                'disabled the nova-compute service of %s: %s') % (
                    fields.get('host'), fields.get('reason'))
    simple = {
        'move.confirm': 'confirm %(name)s: its cold move waits in '
                        'VERIFY_RESIZE',
        'move.resumed': 'follow %(name)s: moving to %(dest)s since an '
                        'earlier run',
        'move.abort': 'abort %(name)s after %(seconds)s s: %(why)s',
        'move.force_complete': 'force %(name)s to complete after '
                               '%(seconds)s s',
        'drain.stopping': 'stopping: no new move starts, those in flight '
                          'go on (Ctrl-C again aborts the live ones)',
        'drain.aborting': 'aborting the live moves in flight',
        'api.error': 'API error: %(error)s',
    }
    if kind in simple:
        return simple[kind] % collections.defaultdict(
            lambda: '?', fields, name=name)
    return '%s %s' % (kind, ' '.join(
        '%s=%s' % (k, v) for k, v in sorted(fields.items())))


class LogPrinter(Printer):
    """Plain lines: every event, and the progress every ``every`` s."""

    def __init__(self, stream, host, every=10.0, clock=time.monotonic):
        super().__init__(stream, host)
        self.every = every
        self.clock = clock
        self._last = None

    def event(self, kind, **fields):
        text = event_text(kind, fields)
        if text is not None:
            self._write('%s %s\n' % (time.strftime('%H:%M:%S'), text))

    def progress(self, snap):
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            return
        self._last = now
        lines = [total_line(self.host, snap)] + [move_line(m) for m in
                                                 snap['moves']]
        self._write(''.join('%s %s\n' % (time.strftime('%H:%M:%S'), line)
                            for line in lines))


class TerminalPrinter(Printer):
    """The moves in flight and the total, redrawn in place."""

    def __init__(self, stream, host):
        super().__init__(stream, host)
        self._drawn = 0

    def _erase(self):
        if self._drawn:
            # Up to the first line drawn, and clear to the end.
            self.stream.write('\x1b[%dF\x1b[J' % self._drawn)
            self._drawn = 0

    def event(self, kind, **fields):
        text = event_text(kind, fields)
        if text is not None:
            self._erase()
            self._write(text + '\n')

    def progress(self, snap):
        lines = [move_line(m) for m in snap['moves']] + [
            total_line(self.host, snap)]
        self._erase()
        self._write(''.join(line + '\n' for line in lines))
        self._drawn = len(lines)


class JsonPrinter(Printer):
    """One JSON object per line: ``{"event": KIND, "time": EPOCH, ...}``."""

    def event(self, kind, **fields):
        self._write(json.dumps(dict(fields, event=kind,
                                    time=round(time.time(), 3)),
                               sort_keys=True) + '\n')

    def progress(self, snap):
        self.event('progress', **snap)
