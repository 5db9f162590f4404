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

"""The migration benchmarks' numbers: medians, ratios, targets, tables.

Pure: takes the runs of ``results.json`` (one dict per measured run) and
returns summaries and text; :func:`plot` alone draws (matplotlib, Agg).
"""

import statistics

METRICS = ('downtime_ms', 'guest_gap_ms', 'total_s', 'bytes', 'limit_s',
           'efficiency', 'precreate_s')
KEY = ('mode', 'variant', 'disk_gib', 'fill', 'mem_mib')
BASELINE = 'baseline'
NOVA_V2V = 'nova-v2v'

# The targets.
DOWNTIME_TARGET_MS = 50.0
TOTAL_RATIO_TARGET = 0.8
EFFICIENCY_TARGET = 0.8
CUTOVER_FLAT_TOLERANCE = 0.10
CUTOVER_OVER_BOOT_S = 0.5

CAVEAT = (
    'The guests run on TCG: two QEMUs and two libvirt daemons share the '
    "machine's 2 cores, so absolute times say little about KVM hosts; only "
    'the ratios between variants measured in this one run, on the same '
    'guest, mean something.')


def efficiency(run):
    """limit_s / total_s: how close the move came to the link's limit.

    None for a move whose bytes did not cross the link (the lab's offline
    move copies through the filesystem).
    """
    if (not run.get('total_s') or run.get('limit_s') is None or
            run.get('bytes_on_link') is False):
        return None
    return run['limit_s'] / run['total_s']


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {'median': statistics.median(values), 'min': min(values),
            'max': max(values), 'n': len(values)}


def summarise(runs):
    """One summary per series point (KEY): median, min, max per metric."""
    groups = {}
    for run in runs:
        run = dict(run, efficiency=efficiency(run))
        key = tuple(run.get(k) for k in KEY)
        groups.setdefault(key, []).append(run)
    points = []
    for key in sorted(groups, key=lambda k: tuple(
            (v is None, v if not isinstance(v, str) else v) for v in k)):
        members = groups[key]
        point = dict(zip(KEY, key))
        point['runs'] = len(members)
        point['records_lost'] = sum(r.get('records_lost') or 0
                                    for r in members)
        for metric in METRICS:
            point[metric] = _stats([r.get(metric) for r in members])
        point['boot_s'] = _stats([r.get('boot_s') for r in members])
        points.append(point)
    return points


def _median(point, metric):
    stats = point.get(metric)
    return stats['median'] if stats else None


def ratios(points):
    """nova-v2v / baseline medians per series point that has both."""
    by_key = {}
    for p in points:
        by_key[(p['mode'], p['disk_gib'], p['fill'], p['mem_mib'],
                p['variant'])] = p
    out = []
    for (mode, disk, fill, mem, variant), p in sorted(
            by_key.items(), key=lambda kv: str(kv[0])):
        if variant != NOVA_V2V:
            continue
        base = by_key.get((mode, disk, fill, mem, BASELINE))
        if base is None:
            continue
        row = {'mode': mode, 'disk_gib': disk, 'fill': fill,
               'mem_mib': mem}
        for metric in ('downtime_ms', 'guest_gap_ms', 'total_s', 'bytes'):
            a, b = _median(p, metric), _median(base, metric)
            row[metric] = (a / b) if a is not None and b else None
        out.append(row)
    return out


def _verdict(ok):
    return 'met' if ok else 'NOT met'


def targets(points):
    """The issue's targets, each with its figures and whether it is met."""
    found = []
    block = [p for p in points if p['mode'] == 'block-live']
    mine = [p for p in block if p['variant'] == NOVA_V2V]
    if mine:
        downs = [_median(p, 'downtime_ms') for p in mine]
        downs = [d for d in downs if d is not None]
        worst = max(downs) if downs else None
        found.append({
            'target': 'block live: median downtime <= %d ms (libvirt)'
                      % DOWNTIME_TARGET_MS,
            'figure': 'worst point %s ms, points %s' % (
                _fmt(worst), ', '.join(_fmt(d) for d in downs)),
            'met': worst is not None and worst <= DOWNTIME_TARGET_MS})
        rs = [r['total_s'] for r in ratios(block)
              if r['total_s'] is not None]
        found.append({
            'target': 'block live: total time <= %.1f x baseline'
                      % TOTAL_RATIO_TARGET,
            'figure': 'ratios %s' % ', '.join('%.2f' % r for r in rs),
            'met': bool(rs) and max(rs) <= TOTAL_RATIO_TARGET})
        effs = [_median(p, 'efficiency') for p in mine]
        effs = [e for e in effs if e is not None]
        found.append({
            'target': 'block live: efficiency >= %.1f' % EFFICIENCY_TARGET,
            'figure': 'points %s' % ', '.join('%.2f' % e for e in effs),
            'met': bool(effs) and min(effs) >= EFFICIENCY_TARGET})
    cut = {p['disk_gib']: p for p in points
           if p['mode'] == 'v2v-cutover' and p['variant'] == NOVA_V2V}
    if cut:
        sizes = sorted(cut)
        small, big = cut[sizes[0]], cut[sizes[-1]]
        d_small = _median(small, 'downtime_ms')
        d_big = _median(big, 'downtime_ms')
        if len(sizes) > 1 and d_small and d_big is not None:
            change = d_big / d_small - 1.0
            found.append({
                'target': 'V2V cutover: downtime at %s GiB within %d%% of '
                          '%s GiB' % (sizes[-1],
                                      CUTOVER_FLAT_TOLERANCE * 100,
                                      sizes[0]),
                'figure': '%s ms vs %s ms (%+.1f%%)' % (
                    _fmt(d_big), _fmt(d_small), change * 100),
                'met': abs(change) <= CUTOVER_FLAT_TOLERANCE})
        worst = None
        for size in sizes:
            down, boot = (_median(cut[size], 'downtime_ms'),
                          _median(cut[size], 'boot_s'))
            if down is None or boot is None:
                continue
            over = down / 1000.0 - boot
            worst = over if worst is None else max(worst, over)
        if worst is not None:
            found.append({
                'target': 'V2V cutover: downtime <= boot + %.1f s'
                          % CUTOVER_OVER_BOOT_S,
                'figure': 'worst point: boot + %.2f s' % worst,
                'met': worst <= CUTOVER_OVER_BOOT_S})
    return found


def _fmt(value, digits=0):
    if value is None:
        return '-'
    if digits:
        return '%.*f' % (digits, value)
    return '%d' % round(value)


def _cell(point, metric, scale=1.0, digits=0):
    stats = point.get(metric)
    if not stats:
        return '-'
    return '%s (%s-%s)' % tuple(_fmt(stats[k] * scale, digits)
                                for k in ('median', 'min', 'max'))


def markdown(runs, meta):
    """The report: settings, one table per mode, ratios and targets."""
    points = summarise(runs)
    lines = ['# nova-v2v migration benchmarks', '']
    for key in sorted(meta):
        lines.append('- %s: %s' % (key, meta[key]))
    lines += ['', CAVEAT, '',
              'Cells: median (min-max) of the runs of the point. downtime: '
              'libvirt\'s (live modes); for the V2V modes, which restart '
              'the guest, its last write on the source to its first on '
              'the destination; guest gap: that same gap for every mode, '
              'as the host saw the writes (it includes the write period); '
              'bytes: on the link, both ways (offline: the disk bytes '
              'copied, through the filesystem in the lab); limit: the time '
              'the link took to carry those bytes; efficiency: limit / '
              'total.', '']
    header = ('| mode | variant | disk | mem MiB | runs | downtime ms | '
              'guest gap ms | total s | MiB moved | limit s | efficiency '
              '| precreate s | lost |')
    rule = '|' + '---|' * 13
    lines += [header, rule]
    for p in points:
        disk = ('%s GiB %s' % (p['disk_gib'], p['fill'])
                if p['disk_gib'] is not None else '-')
        lines.append('| %s |' % ' | '.join([
            p['mode'], p['variant'], disk, _fmt(p['mem_mib']),
            str(p['runs']), _cell(p, 'downtime_ms'),
            _cell(p, 'guest_gap_ms'), _cell(p, 'total_s', digits=2),
            _cell(p, 'bytes', 1.0 / (1 << 20)),
            _cell(p, 'limit_s', digits=2),
            _cell(p, 'efficiency', digits=2),
            _cell(p, 'precreate_s', digits=3),
            str(p['records_lost'])]))
    rows = ratios(points)
    if rows:
        lines += ['', '## nova-v2v / baseline (ratio of medians)', '',
                  '| mode | disk | mem MiB | downtime | guest gap | total '
                  '| bytes |', '|' + '---|' * 7]
        for r in rows:
            disk = ('%s GiB %s' % (r['disk_gib'], r['fill'])
                    if r['disk_gib'] is not None else '-')
            lines.append('| %s | %s | %s | %s | %s | %s | %s |' % (
                r['mode'], disk, _fmt(r['mem_mib']),
                *[_fmt(r[m], 2) for m in ('downtime_ms', 'guest_gap_ms',
                                          'total_s', 'bytes')]))
    found = targets(points)
    if found:
        lines += ['', '## Targets', '', '| target | figures | verdict |',
                  '|---|---|---|']
        for t in found:
            lines.append('| %s | %s | %s |' % (t['target'], t['figure'],
                                               _verdict(t['met'])))
    return '\n'.join(lines) + '\n'


def plot(runs, path):
    """Four panels into a PNG at ``path``."""
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot

    points = summarise(runs)
    fig, axes = pyplot.subplots(2, 2, figsize=(12, 9))

    def series(mode, variant, x, metric, fill=None, scale=1.0):
        chosen = [p for p in points if p['mode'] == mode and
                  p['variant'] == variant and p.get(metric) and
                  (fill is None or p['fill'] == fill) and
                  p.get(x) is not None]
        chosen.sort(key=lambda p: p[x])
        xs = [p[x] for p in chosen]
        med = [p[metric]['median'] * scale for p in chosen]
        low = [(p[metric]['median'] - p[metric]['min']) * scale
               for p in chosen]
        high = [(p[metric]['max'] - p[metric]['median']) * scale
                for p in chosen]
        return xs, med, [low, high]

    def draw(ax, title, xlabel, ylabel, lines):
        for label, (xs, ys, err) in lines:
            if xs:
                ax.errorbar(xs, ys, yerr=err, marker='o', capsize=3,
                            label=label)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=8)

    block_lines = []
    for variant in (BASELINE, NOVA_V2V):
        for fill in ('sparse', 'filled'):
            block_lines.append(('%s %s' % (variant, fill), series(
                'block-live', variant, 'disk_gib', 'total_s', fill)))
    draw(axes[0][0], 'Block live migration: total time', 'disk GiB',
         'seconds', block_lines)
    draw(axes[0][1], 'Block live migration: downtime (libvirt)',
         'disk GiB', 'ms', [
             ('%s %s' % (v, f), series('block-live', v, 'disk_gib',
                                       'downtime_ms', f))
             for v in (BASELINE, NOVA_V2V) for f in ('sparse', 'filled')])
    draw(axes[1][0], 'Downtime against disk size (V2V modes)', 'disk GiB',
         'seconds', [
             (mode, series(mode, NOVA_V2V, 'disk_gib', 'downtime_ms',
                           scale=0.001))
             for mode in ('v2v-cutover', 'offline')])
    draw(axes[1][1], 'Shared-storage live migration against memory',
         'guest memory MiB', 'seconds / 100 ms', [
             ('%s total s' % v, series('shared-live', v, 'mem_mib',
                                       'total_s'))
             for v in (BASELINE, NOVA_V2V)] + [
             ('%s downtime /100 ms' % v, series('shared-live', v,
                                                'mem_mib', 'downtime_ms',
                                                scale=0.01))
             for v in (BASELINE, NOVA_V2V)])
    fig.suptitle('nova-v2v benchmarks (TCG guests: compare ratios only)')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    pyplot.close(fig)
