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

"""Migration benchmarks on the lab: downtime, time, bytes, the link's limit.

Every run boots a fresh lab guest on host a under the same load (it writes
a record every 50 ms, ``--fill-mb`` MiB of fresh disk data every second
and rewrites ``--dirty-mb`` MiB of memory every second), moves it to host
b, checks every acknowledged record on b's disk and measures:

* ``downtime_ms``: libvirt's (live modes); for the V2V modes, which
  restart the guest, the gap between its last write on a and its first on
  b (the engine's own figure, stop to clone started, is kept as
  ``engine_downtime_ms``);
* ``guest_gap_ms``: the host-observed gap between the last write on a
  and the first on b;
* ``total_s``: the migration call; ``bytes``: what crossed the link, both
  ways (the offline move copies through the filesystem in the lab: its
  bytes are the disk bytes copied);
* ``limit_s``: the time the link takes to carry the same bytes, probed
  right after the run over TCP between the two hosts (up to
  ``--probe-cap`` bytes, scaled linearly above).

Series (``--series``): ``disk`` (block live migration, disk 1/2/4 GiB,
sparse and filled, baseline and nova-v2v), ``memory`` (shared-storage live
migration, guest memory from 256 MiB up), ``v2v`` (the V2V cutover and
the offline move of a VMware-shaped guest, filled disks of each size).
Runs are interleaved (run 1 of every point, then run 2...) and the
variants alternate which goes first, so drift spreads evenly.
"""

import argparse
import datetime
import functools
import json
import os
import platform
import signal
import sys
import time
import traceback

from nova_v2v_rig.bench import report
from nova_v2v_rig.bench import variants
from nova_v2v_rig.lab import accel
from nova_v2v_rig.lab import guest as lab_guest
from nova_v2v_rig.lab import harness
from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import link
from nova_v2v_rig.lab import migrate

GIB = 1 << 30
DISK_SIZES = (1, 2, 4)
MEMORY_SIZES = (256, 1024, 4096, 8192)
SERIES = ('disk', 'memory', 'v2v')


def points(series, disk_sizes=DISK_SIZES, memory_sizes=MEMORY_SIZES):
    """The series points: mode, variants, disk_gib, fill, mem_mib."""
    found = []
    if 'disk' in series:
        for fill in ('sparse', 'filled'):
            for size in disk_sizes:
                found.append({'mode': 'block-live',
                              'variants': variants.VARIANTS,
                              'disk_gib': size, 'fill': fill,
                              'mem_mib': 256})
    if 'memory' in series:
        for mem in memory_sizes:
            found.append({'mode': 'shared-live',
                          'variants': variants.VARIANTS, 'disk_gib': 1,
                          'fill': 'sparse', 'mem_mib': mem})
    if 'v2v' in series:
        for mode in ('v2v-cutover', 'offline'):
            for size in disk_sizes:
                found.append({'mode': mode,
                              'variants': (variants.NOVA_V2V,),
                              'disk_gib': size, 'fill': 'filled',
                              'mem_mib': 256})
    return found


def schedule(found, runs):
    """(run index, point, variant) in the order they run."""
    order = []
    for i in range(runs):
        for point in found:
            names = list(point['variants'])
            if i % 2:
                names.reverse()
            order += [(i, point, name) for name in names]
    return order


def entry(point, variant, i, result, limit_s):
    """One results.json run from a lab result."""
    live = point['mode'] in migrate.LIVE_MODES
    wire = result.get('wire_bytes') or 0
    moved = wire if (live or wire) else (result.get('bytes_moved') or 0)
    return {
        'mode': point['mode'], 'variant': variant,
        'disk_gib': point['disk_gib'], 'fill': point['fill'],
        'mem_mib': point['mem_mib'], 'run': i + 1,
        # A V2V move restarts the guest: it is down until the clone's
        # first write, which the engine's figure (stop to clone started)
        # does not see.
        'downtime_ms': (result.get('downtime_ms_libvirt') if live
                        else result.get('downtime_ms_guest')),
        'engine_downtime_ms': result.get('downtime_ms_engine'),
        'guest_gap_ms': result.get('downtime_ms_guest'),
        'total_s': result.get('total_seconds'),
        'bytes': moved, 'bytes_on_link': bool(wire),
        'limit_s': limit_s,
        'records_lost': result.get('records_lost'),
        'records_written': result.get('records_written'),
        'boot_s': result.get('boot_seconds'),
        'precreate_s': result.get('precreate_seconds'),
        'libvirt_elapsed_ms': result.get('libvirt_time_elapsed_ms'),
        'ack_period_ms': result.get('ack_period_ms'),
        'clean_shutdown': result.get('clean_shutdown'),
        # Where a V2V move's time went (stop, final sync and release,
        # clone start): the engine's own phases.
        'engine': {k: v for k, v in (result.get('engine') or {}).items()
                   if k.endswith('_seconds')},
        'flags': result.get('migration_flags'),
        'downtime_settings_ms': result.get('downtime_settings_ms'),
        'guest': result.get('name'),
    }


def limit_seconds(lab, nbytes, cap):
    if not nbytes:
        return None
    probed = min(nbytes, cap)
    return link.probe(lab, probed) * nbytes / probed


# The report's line for the runs that were run again (a guest crash on the
# destination that the source's QEMU is known to cause).
REPEATED = 'runs repeated after a guest crash (known QEMU fault)'


def _repeated(data, label, exc):
    """A run whose guest crashed of a known QEMU fault: it runs once more.

    Recorded and counted in the report's settings: QEMU, not the variant,
    lost the writes.
    """
    data['repeated'].append({'run': label, 'crash': exc.crash,
                             'known_fault': exc.known_fault,
                             'signature': exc.signature,
                             'error': str(exc)})
    data['meta'][REPEATED] = len(data['repeated'])
    sys.stderr.write('  guest crashed on host b (%s, signature %s): %s; '
                     'once more\n'
                     % (exc.crash, exc.signature, exc.known_fault))


def _passed_again(label, exc):
    """The run after a known-fault crash passed: one RERUN-PASSED line."""
    sys.stderr.write('%s\n' % migrate.rerun_passed_line(
        'bench ' + label, exc.signature))


def run_one(lab, point, variant, args):
    common = dict(before=args.before, after=args.after,
                  dirty_mb=args.dirty_mb, fill_mb=args.fill_mb,
                  memory_mib=point['mem_mib'],
                  disk_size=point['disk_gib'] * GIB,
                  prefill=point['fill'] == 'filled')
    if point['mode'] in migrate.LIVE_MODES:
        tuning = variants.make(variant, lab, point['mem_mib'],
                               args.parallel)
        result = migrate.run(lab, point['mode'], tuning=tuning, **common)
        result['flags_added'] = getattr(tuning, 'flags_added', [])
    else:
        result = migrate.run(lab, point['mode'], profile='vmware', **common)
    if result.get('records_lost') is None:
        raise harness.LabMigrationError('no record check for %s'
                                        % result.get('name'))
    return result


def _meta(lab, args):
    image = lab_guest.build(lab.cache_dir)
    virt_type, reason = accel.detect(
        image, cache_file=os.path.join(lab.cache_dir, 'accel'))
    import libvirt
    conn = libvirt.open(lab.local_uri('a'))
    try:
        versions = 'libvirt %d, QEMU %d' % (
            conn.getLibVersion(), conn.getVersion())
    finally:
        conn.close()
    from nova import version as nova_version
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        'machine': '%s, %d CPUs' % (platform.node(), os.cpu_count()),
        'accelerator': '%s (%s)' % (virt_type, reason),
        'versions': '%s, nova %s' % (
            versions, nova_version.version_string()),
        'link': '%s Mbit/s each way (tbf on the lab veth pair; tc: %s '
                'bytes/s)' % (args.link_mbit, link.shaped_rate(lab)),
        'load': 'a record every 50 ms, %d MiB/s fresh disk data, %d MiB '
                'memory rewritten every second' % (args.fill_mb,
                                                   args.dirty_mb),
        'runs per point': args.runs,
        'nova-v2v multifd connections': args.parallel,
        'probe cap': '%d MiB' % (args.probe_cap >> 20),
    }


def _parser():
    parser = argparse.ArgumentParser(
        prog='python -m nova_v2v_rig.bench',
        description='Migration benchmarks on the lab (needs root).')
    parser.add_argument('--out', default='bench-results',
                        help='output folder: results.json, results.md, '
                             'results.png')
    parser.add_argument('--runs', type=int, default=3,
                        help='runs per series point and variant')
    parser.add_argument('--series', action='append', choices=SERIES,
                        help='series to run (default: all)')
    parser.add_argument('--disk-gib', type=int, action='append',
                        help='disk sizes (default: 1 2 4)')
    parser.add_argument('--mem-mib', type=int, action='append',
                        help='guest memory sizes of the memory series '
                             '(default: 256 1024 4096 8192)')
    parser.add_argument('--link-mbit', type=int, default=1000,
                        help='the lab link\'s rate (0: no limit)')
    parser.add_argument('--probe-cap', type=int, default=1 << 30,
                        help='bytes the link probe sends at most')
    parser.add_argument('--parallel', type=int, default=1,
                        help='multifd connections of the nova-v2v variant '
                             '(Nova\'s [libvirt] '
                             'live_migration_parallel_connections; the '
                             'baseline keeps Nova\'s default, 1)')
    parser.add_argument('--dirty-mb', type=int, default=32)
    parser.add_argument('--fill-mb', type=int, default=4)
    parser.add_argument('--before', type=float, default=3.0,
                        help='seconds the guest runs before the move')
    parser.add_argument('--after', type=float, default=2.0,
                        help='seconds it runs after, on host b')
    parser.add_argument('--quick', action='store_true',
                        help='one run, 1 GiB disks, 256 MiB guests')
    parser.add_argument('--report-only', action='store_true',
                        help='rewrite results.md and results.png from the '
                             'results.json in --out')
    parser.add_argument('--state-dir', default=hosts.DEFAULT_STATE_DIR)
    return parser


def write_report(out, data):
    with open(os.path.join(out, 'results.md'), 'w') as f:
        f.write(report.markdown(data['runs'], data['meta']))
    report.plot(data['runs'], os.path.join(out, 'results.png'))


def main(argv=None):
    args = _parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    results = os.path.join(args.out, 'results.json')
    if args.report_only:
        with open(results) as f:
            data = json.load(f)
        write_report(args.out, data)
        sys.stdout.write(report.markdown(data['runs'], data['meta']))
        return 0
    if os.geteuid() != 0:
        sys.stderr.write('the migration benchmarks need root (the lab)\n')
        return 2
    if args.quick:
        args.runs = 1
        args.disk_gib = args.disk_gib or [1]
        args.mem_mib = args.mem_mib or [256]
    found = points(args.series or SERIES,
                   tuple(args.disk_gib or DISK_SIZES),
                   tuple(args.mem_mib or MEMORY_SIZES))
    # A stopped benchmark still cleans its guest and the link up (the
    # finally clauses run on SystemExit).
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    lab = hosts.Lab(args.state_dir)
    state = lab.load()
    started = False
    if state and state.get('shared'):
        sys.stderr.write('the lab is up with --shared; the benchmarks need '
                         'per-host stores: "nova-v2v-lab down" first\n')
        return 2
    if not state:
        lab.up()
        started = True
    failures = 0
    try:
        link.shape(lab, args.link_mbit)
        data = {'meta': _meta(lab, args), 'runs': [], 'failed': [],
                'repeated': []}
        order = schedule(found, args.runs)
        for n, (i, point, variant) in enumerate(order, 1):
            label = '%s %s disk %s GiB %s mem %s MiB run %d' % (
                point['mode'], variant, point['disk_gib'], point['fill'],
                point['mem_mib'], i + 1)
            sys.stderr.write('[%d/%d] %s\n' % (n, len(order), label))
            t0 = time.monotonic()
            try:
                result = migrate.once_more(
                    lambda: run_one(lab, point, variant, args),
                    functools.partial(_repeated, data, label),
                    functools.partial(_passed_again, label))
                limit_s = limit_seconds(
                    lab, result.get('wire_bytes') or
                    result.get('bytes_moved'), args.probe_cap)
            except Exception as exc:
                failures += 1
                data['failed'].append({'run': label, 'error': '%s: %s' % (
                    type(exc).__name__, exc),
                    'traceback': traceback.format_exc()})
                sys.stderr.write('  FAILED: %s\n' % exc)
                hosts.save_json(results, data)
                continue
            run = entry(point, variant, i, result, limit_s)
            data['runs'].append(run)
            hosts.save_json(results, data)
            sys.stderr.write(
                '  downtime %s ms, guest gap %s ms, total %s s, %.0f MiB, '
                'limit %.2f s, lost %s (%.0f s)\n' % (
                    run['downtime_ms'], run['guest_gap_ms'],
                    run['total_s'], (run['bytes'] or 0) / (1 << 20),
                    run['limit_s'] or 0, run['records_lost'],
                    time.monotonic() - t0))
        write_report(args.out, data)
        sys.stdout.write(report.markdown(data['runs'], data['meta']))
    finally:
        link.shape(lab, 0)
        if started:
            lab.down()
    lost = sum(r['records_lost'] or 0 for r in data['runs'])
    return 1 if failures or lost else 0
