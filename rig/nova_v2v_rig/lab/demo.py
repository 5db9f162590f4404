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

"""The demo: one migration of each mode through the engine, as a table.

``run()`` brings the lab up, moves one fresh workload guest from host a
to host b per mode (``shared-live`` from the shared directory the lab
offers to both hosts, ``block-live``, ``v2v-cutover`` of a VMware-shaped
guest onto virtio, ``offline`` vmdk -> qcow2), and always takes the lab
down again, also on an error or Ctrl-C.  ``rows()`` and ``table()`` are
pure.
"""

import os
import signal
import time

from oslo_log import log as logging

from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import migrate

LOG = logging.getLogger(__name__)

# (mode, keyword arguments of migrate.run)
STEPS = (
    ('shared-live', {'profile': 'virtio'}),
    ('block-live', {'profile': 'virtio'}),
    ('v2v-cutover', {'profile': 'vmware', 'disk_format': 'vmdk'}),
    ('offline', {'profile': 'vmware', 'disk_format': 'vmdk'}),
)
COLUMNS = (('mode', 'mode'), ('hardware', 'source -> destination'),
           ('bytes', 'moved'), ('total', 'total'),
           ('downtime', 'downtime'), ('written', 'written'),
           ('verified', 'verified'), ('lost', 'lost'), ('status', 'result'))


class DemoInterrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM: not an Exception, so no mode swallows it."""


def problems(result):
    """What is wrong with one migration result ([] when it passed)."""
    if result.get('error'):
        return [result['error']]
    found = []
    if not result.get('dest_running'):
        found.append('guest not running on host b')
    if result.get('records_lost'):
        found.append('%s records lost' % result['records_lost'])
    if not result.get('records_written'):
        found.append('no records written')
    elif result.get('records_verified', 0) < result['records_written']:
        found.append('only %s of %s records verified'
                     % (result.get('records_verified'),
                        result['records_written']))
    if result.get('serial_gaps'):
        found.append('acknowledgement gaps %s' % result['serial_gaps'])
    unacked = result.get('serial_unacked') or []
    if len(unacked) > migrate.unacked_allowed(result.get('mode')):
        found.append('records written but not acknowledged %s' % unacked)
    if result.get('serial_repeats'):
        found.append('repeated acknowledgements %s'
                     % result['serial_repeats'])
    ranges = result.get('log_ranges') or []
    if len(ranges) != 2 or not ranges[0] or not ranges[1]:
        found.append('the guest did not write on both hosts')
    if result.get('source_leftovers'):
        found.append('left on host a: %s' % result['source_leftovers'])
    return found


def _bytes(n):
    if n is None:
        return '-'
    n = float(n)
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if n < 1024 or unit == 'GiB':
            return ('%d %s' % (n, unit) if unit == 'B'
                    else '%.1f %s' % (n, unit))
        n /= 1024.0


def _downtime(result):
    if result.get('mode') in migrate.LIVE_MODES:
        value, source = result.get('downtime_ms_libvirt'), 'libvirt'
    else:
        value, source = result.get('downtime_ms_guest'), 'guest gap'
    if value is None:
        return '-'
    return '%d ms (%s)' % (round(value), source)


def rows(results):
    """One dict of display strings per result, keys from COLUMNS."""
    out = []
    for r in results:
        failed = problems(r)
        hw = '-'
        if r.get('source_hardware') or r.get('dest_hardware'):
            hw = '%s -> %s' % (r.get('source_hardware', '?'),
                               r.get('dest_hardware', '?'))
        total = r.get('total_seconds')
        out.append({
            'mode': r.get('mode', '?'),
            'hardware': hw,
            'bytes': _bytes(r.get('bytes_moved')),
            'total': '-' if total is None else '%.2f s' % total,
            'downtime': _downtime(r),
            'written': str(r.get('records_written', '-')),
            'verified': str(r.get('records_verified', '-')),
            'lost': str(r.get('records_lost', '-')),
            'status': 'FAIL' if failed else 'ok',
        })
    return out


def table(results):
    """The results as a text table, failures listed below it."""
    lines_in = rows(results)
    widths = {key: max([len(title)] + [len(r[key]) for r in lines_in])
              for key, title in COLUMNS}
    right = ('bytes', 'total', 'downtime', 'written', 'verified', 'lost')

    def fmt(values):
        cells = []
        for key, _title in COLUMNS:
            cell = values[key]
            cells.append(cell.rjust(widths[key]) if key in right
                         else cell.ljust(widths[key]))
        return '  '.join(cells).rstrip()

    lines = [fmt(dict(COLUMNS)),
             '  '.join('-' * widths[key] for key, _t in COLUMNS)]
    lines += [fmt(r) for r in lines_in]
    for r in results:
        for problem in problems(r):
            lines.append('%s: %s' % (r.get('mode'), problem))
    return '\n'.join(lines)


def _raise_interrupt(signum, _frame):
    raise DemoInterrupted('interrupted by signal %d' % signum)


def run(lab, before=2.0, after=2.0, dirty_mb=8, modes=None):
    """Bring the lab up, run each mode once, take it down; the results.

    Returns (results, seconds).  A mode that fails is recorded with an
    'error' and the next one still runs; an interruption (SIGINT,
    SIGTERM) stops the demo but the lab still goes down.
    """
    if os.geteuid() != 0:
        raise hosts.LabError('the lab needs root (network namespaces, '
                             'libvirt daemons)')
    if lab.load():
        raise hosts.LabError('a lab is already up at %s; run "nova-v2v-lab '
                             'down" first' % lab.state_dir)
    steps = [s for s in STEPS if modes is None or s[0] in modes]
    # Both stop the demo with an exception, so the finally clauses of the
    # migration (guest cleanup) and of this function (lab down) run.
    # SIGINT is set explicitly: a shell starts background jobs with it
    # ignored, and Python then never raises KeyboardInterrupt.
    old_handlers = {sig: signal.signal(sig, _raise_interrupt)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
    start = time.monotonic()
    results = []
    try:
        lab.up(shared=False)
        for mode, kwargs in steps:
            LOG.info('Demo: %(mode)s', {'mode': mode})
            try:
                result = migrate.run(lab, mode, before=before, after=after,
                                     dirty_mb=dirty_mb, **kwargs)
            except Exception as exc:
                LOG.exception('Demo: %(mode)s failed', {'mode': mode})
                result = {'mode': mode,
                          'error': '%s: %s' % (type(exc).__name__, exc)}
            results.append(result)
    finally:
        # A second signal must not interrupt the teardown.
        for sig in old_handlers:
            signal.signal(sig, signal.SIG_IGN)
        try:
            lab.down()
        except Exception:
            LOG.exception('Demo: taking the lab down failed')
            raise
        finally:
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
    return results, round(time.monotonic() - start, 1)
