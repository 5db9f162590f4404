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

"""The report at the end of a drain: per server, and the totals. Pure."""

from nova_v2v.drain import progress
from nova_v2v.drain import state as drain_state

GIB = 1024 ** 3
MIB = 1024 ** 2
FIELDS = ('id', 'name', 'action', 'mode', 'dest', 'outcome', 'seconds',
          'bytes', 'downtime_s', 'attempts', 'reason', 'error')


def build(host, entries, seconds, bandwidth_mib=0, empty=None,
          interrupted=False, run=None):
    """The report (a dict) of the drain of ``host``.

    :param entries: the state's ``{server id: entry}``
    :param seconds: the run's wall time
    :param bandwidth_mib: the drain's bandwidth (0: none)
    :param empty: whether the host runs no server any more (None: not
        asked)
    :param run: the run's number: the rates count the moves it made (a
        drain run again counts the earlier runs' moves as moved, not in
        its rates); None: every move
    """
    servers = []
    for sid, e in sorted(entries.items(),
                         key=lambda kv: (kv[1].get('order', 1 << 30),
                                         kv[1].get('name', ''), kv[0])):
        row = {k: e.get(k) for k in FIELDS}
        row['id'] = sid
        if row['outcome'] is None:
            row['outcome'] = {drain_state.PENDING: 'not started',
                              drain_state.MOVING: 'still moving',
                              drain_state.SKIPPED: 'skipped'}.get(
                                  e['status'], e['status'])
        servers.append(row)
    moved = [s for s in servers if s['outcome'] == 'moved']
    ours = {sid: e for sid, e in entries.items()
            if e.get('outcome') == 'moved' and (run is None or
                                                e.get('run') == run)}
    total_bytes = sum(e.get('bytes') or 0 for e in ours.values())
    hours = seconds / 3600.0 if seconds else 0
    busy = _busy_seconds(ours)
    rate = total_bytes / busy if busy else None
    totals = {
        'servers': len(servers),
        'moved': len(moved),
        'failed': sum(1 for s in servers if s['outcome'] in
                      ('failed', 'timeout', 'aborted', 'unknown')),
        'skipped': sum(1 for s in servers if s['outcome'] == 'skipped'),
        'not_moved': len(servers) - len(moved),
        'moved_this_run': len(ours),
        'seconds': round(seconds, 1),
        'bytes': total_bytes,
        'servers_per_hour': round(len(ours) / hours, 1) if hours else None,
        'gib_per_minute': (round(total_bytes / GIB / (seconds / 60.0), 3)
                           if seconds else None),
        'rate_mib_s': round(rate / MIB, 1) if rate is not None else None,
        'bandwidth_mib': bandwidth_mib or None,
        'link_share': (round(rate / (bandwidth_mib * MIB), 3)
                       if rate is not None and bandwidth_mib else None),
    }
    return {'host': host, 'servers': servers, 'totals': totals,
            'empty': empty, 'interrupted': interrupted}


def _busy_seconds(entries):
    """Seconds during which at least one move ran (their union)."""
    spans = sorted((e['started_at'], e['ended_at'])
                   for e in entries.values()
                   if e.get('outcome') == 'moved' and
                   e.get('started_at') is not None and
                   e.get('ended_at') is not None)
    busy = 0.0
    end = None
    for a, b in spans:
        if end is None or a > end:
            busy += b - a
            end = b
        elif b > end:
            busy += b - end
            end = b
    return busy


def to_text(report):
    """The report as printed."""
    lines = ['%-20s %-8s %-12s %-16s %-12s %8s %10s %8s' % (
        'server', 'action', 'mode', 'destination', 'outcome', 'seconds',
        'bytes', 'downtime')]
    for s in report['servers']:
        lines.append('%-20s %-8s %-12s %-16s %-12s %8s %10s %8s' % (
            (s['name'] or s['id'])[:20], s['action'] or '', s['mode'] or '',
            s['dest'] or '', s['outcome'],
            '%.1f' % s['seconds'] if s['seconds'] is not None else '',
            progress.size(s['bytes']) if s['bytes'] is not None else '',
            '%.2f s' % s['downtime_s'] if s['downtime_s'] is not None
            else ''))
        if s['outcome'] != 'moved' and (s['error'] or s['reason']):
            lines.append('    %s' % (s['error'] or s['reason']))
    t = report['totals']
    lines.append(
        '%d of %d servers moved in %s (%s servers/hour, %s GiB/min)%s'
        % (t['moved'], t['servers'], progress.duration(t['seconds']),
           t['servers_per_hour'] if t['servers_per_hour'] is not None
           else '?',
           t['gib_per_minute'] if t['gib_per_minute'] is not None else '?',
           '; %s MiB/s while moving, %d%% of the %d MiB/s bandwidth'
           % (t['rate_mib_s'], round(100 * t['link_share']),
              t['bandwidth_mib']) if t['link_share'] is not None else
           ('; %s MiB/s while moving' % t['rate_mib_s']
            if t['rate_mib_s'] is not None else '')))
    if report['empty'] is not None:
        lines.append('%s %s' % (report['host'], 'runs no server any more'
                                if report['empty'] else
                                'still runs servers'))
    if report['interrupted']:
        lines.append('interrupted: run the same command again to go on')
    return '\n'.join(line.rstrip() for line in lines)
