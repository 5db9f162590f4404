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

"""The gate's report as it prints it: one row per move, then a summary.

The summary holds, for each kind of live move and each driver that made it
(nova-v2v, stock Nova's baseline), the medians of the network downtime
(the longest gap between answered probes), the packets lost and the disk
downtime (the longest gap between acknowledged writes) over its runs.
"""

import statistics


COLUMNS = (('move', 'move', 30), ('variant', 'driver', 8),
           ('from', 'from', 9), ('to', 'to', 9),
           ('mode', 'mode chosen', 11), ('seconds', 'seconds', 7),
           ('downtime_s', 'disk down s', 11),
           ('network_downtime_ms', 'net down ms', 11),
           ('packets_lost', 'pkts lost', 9),
           ('records_written', 'records', 7),
           ('records_lost', 'lost', 4), ('status', 'migration', 9),
           ('result', 'result', 6), ('network', 'network', 7))
# The live moves the summary compares, by the mode they are (nova-v2v's
# plan; Nova's own for the baseline) and the label they carry.
SUMMARY_KEYS = (('downtime_s', 'disk downtime s'),
                ('network_downtime_ms', 'network downtime ms'),
                ('packets_lost', 'packets lost'))


def _kind(move):
    """The kind of live move for the summary, or None (a cold move)."""
    label = move.get('move', '')
    if not label.startswith('live, '):
        return None
    if 'shared storage' in label:
        return 'shared live'
    if 'profiles' in label:
        return 'V2V cutover'
    return 'block live'


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def summary(report):
    """Medians per kind of live move and driver: a list of rows (dicts).

    Every row has ``kind``, ``variant``, ``runs`` (moves that passed),
    ``net_runs`` (those of them whose network checks passed) and the median
    of each of :data:`SUMMARY_KEYS` (the network's over the ``net_runs``).
    """
    groups = {}
    for move in report['moves']:
        kind = _kind(move)
        if kind is None or not move.get('ok'):
            continue
        groups.setdefault((kind, move.get('variant', 'nova-v2v')),
                          []).append(move)
    rows = []
    for (kind, variant), moves in sorted(groups.items()):
        row = {'kind': kind, 'variant': variant, 'runs': len(moves)}
        for key, _title in SUMMARY_KEYS:
            # A network figure counts where the move's network checks
            # passed (not, say, an outage the probe saw no end of).
            counted = [m for m in moves if key == 'downtime_s' or
                       m.get('network_ok') is not False]
            row[key] = _median(m.get(key) for m in counted)
        row['net_runs'] = sum(1 for m in moves
                              if m.get('network_ok') is not False and
                              m.get('network_downtime_ms') is not None)
        rows.append(row)
    return rows


def summary_lines(rows):
    """:func:`summary` as the table's last lines."""
    if not rows:
        return []
    lines = ['', 'medians of the moves that passed, per kind and driver:',
             '  '.join(['kind'.ljust(12), 'driver'.ljust(8),
                        'runs'.ljust(4), 'net runs'] +
                       [title.ljust(len(title))
                        for _k, title in SUMMARY_KEYS])]
    for row in rows:
        lines.append('  '.join(
            [row['kind'].ljust(12), row['variant'].ljust(8),
             str(row['runs']).ljust(4), str(row['net_runs']).ljust(8)] +
            [('-' if row[key] is None else str(row[key])).ljust(len(title))
             for key, title in SUMMARY_KEYS]))
    return lines


def _network_cell(move):
    """The table's network column of a move.

    OK, OK* (OK but for Neutron's activation race), FAILED, or - (no port).
    """
    ok = move.get('network_ok')
    if ok and move.get('upstream_defects'):
        return 'OK*'
    return {True: 'OK', False: 'FAILED'}.get(ok, '-')


def import_lines(imported):
    """The import stage's lines (``nova-v2v import`` of the lab's OVA)."""
    if not imported:
        return []
    lines = ['nova-v2v import of the lab\'s OVA: %s, %s s (booted after %s '
             's) on %s, flavor %s, disks %s, NICs %s (%s, %s), records '
             '%s, %s lost, data %s' % (
                 'OK' if imported.get('ok') else 'FAILED',
                 imported.get('seconds', '-'),
                 imported.get('boot_seconds', '-'),
                 imported.get('host', '-'), imported.get('flavor', '-'),
                 '/'.join(imported.get('disk_buses') or ['-']),
                 '/'.join(str(m) for m in imported.get('nic_models') or
                          ['-']),
                 imported.get('mac', '-'), imported.get('nic_driver', '-'),
                 imported.get('records_written', '-'),
                 '-' if imported.get('records_lost') is None
                 else imported['records_lost'],
                 {True: 'intact', False: 'NOT intact'}.get(
                     imported.get('pattern_intact'), '-'))]
    for problem in imported.get('problems') or ():
        lines.append('  import: %s' % problem)
    return lines


def table(report):
    """The report as the table the gate prints."""
    lines = ['  '.join(title.ljust(width) for _k, title, width in COLUMNS)]
    for move in report['moves']:
        row = dict(move, status=move['migration']['status'],
                   result='OK' if move['ok'] else 'FAILED',
                   network=_network_cell(move))
        lines.append('  '.join(
            ('-' if row.get(key) is None else str(row.get(key))).ljust(width)
            for key, _title, width in COLUMNS))
    voting = report.get('network_voting')
    for move in report['moves']:
        for problem in move['problems']:
            lines.append('%s: %s' % (move['move'], problem))
        if not voting:
            for problem in move.get('network_problems') or ():
                lines.append('%s: network (not voting): %s'
                             % (move['move'], problem))
        for defect in move.get('upstream_defects') or ():
            lines.append('%s: network, upstream defect (not counted): %s'
                         % (move['move'], defect))
    for item in report.get('checks', []):
        lines.append('nova-v2v check, %s: %s, exit %s: %s' % (
            item['check'], 'OK' if item['ok'] else 'FAILED', item['exit'],
            ', '.join('%s %s' % kv for kv in item['hosts'].items())))
        for problem in item['problems']:
            lines.append('  %s' % problem)
    lines += import_lines(report.get('import'))
    for error in report['errors']:
        lines.append('error: %s' % error)
    for again in report.get('repeated', ()):
        lines.append('stage %s ran once more: the server crashed (%s, '
                     'signature %s); known QEMU fault: %s'
                     % (again['stage'], again['crash'],
                        again.get('signature'), again['known_fault']))
    checks = report.get('checks', [])
    lines.append('%d of %d moves OK, %d of %d checks OK, %d records lost, '
                 '%s s in all (%s)'
                 % (sum(1 for m in report['moves'] if m['ok']),
                    len(report['moves']),
                    sum(1 for c in checks if c['ok']), len(checks),
                    sum(m['records_lost'] for m in report['moves']),
                    report['seconds'],
                    ', '.join('%s %s s' % kv
                              for kv in report['steps'].items())))
    netted = [m for m in report['moves'] if m.get('network_ok') is not None]
    if netted:
        lines.append('%d of %d moves\' network checks OK (%s)' % (
            sum(1 for m in netted if m['network_ok']), len(netted),
            'voting' if voting else 'not voting: measured and reported, '
            'the moves\' results do not count them'))
        stale = [m for m in netted if m.get('port_status_stale')]
        if stale:
            lines.append(
                '%d of them (OK*) with the port DOWN in Neutron while OVN '
                'had it up on the destination and the guest answered there: '
                'Neutron\'s activation race, not counted against the move '
                '(doc/upstream/neutron-activation-race.rst)' % len(stale))
    lines += summary_lines(summary(report))
    return '\n'.join(lines)
