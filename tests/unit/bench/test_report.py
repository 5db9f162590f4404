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

import io
import os

import fixtures
import testtools

from nova_v2v_rig.bench import migrations
from nova_v2v_rig.bench import report
from nova_v2v_rig.lab import migrate


def _run(mode='block-live', variant='baseline', disk=1, fill='sparse',
         mem=256, **kw):
    run = {'mode': mode, 'variant': variant, 'disk_gib': disk,
           'fill': fill, 'mem_mib': mem, 'downtime_ms': 60,
           'guest_gap_ms': 300.0, 'total_s': 4.0, 'bytes': 100 << 20,
           'limit_s': 1.0, 'records_lost': 0, 'precreate_s': 0.01,
           'boot_s': 3.0}
    run.update(kw)
    return run


class SummariseTestCase(testtools.TestCase):

    def test_median_min_max_per_point(self):
        runs = [_run(total_s=t) for t in (4.0, 3.0, 5.0)] + [
            _run(variant='nova-v2v', total_s=2.0)]
        points = report.summarise(runs)
        self.assertEqual(2, len(points))
        base = [p for p in points if p['variant'] == 'baseline'][0]
        self.assertEqual({'median': 4.0, 'min': 3.0, 'max': 5.0, 'n': 3},
                         base['total_s'])
        self.assertEqual(3, base['runs'])
        self.assertEqual(0.25, base['efficiency']['median'])

    def test_lost_records_are_summed(self):
        points = report.summarise([_run(records_lost=2),
                                   _run(records_lost=1)])
        self.assertEqual(3, points[0]['records_lost'])

    def test_missing_values_are_left_out(self):
        points = report.summarise([_run(limit_s=None), _run(limit_s=2.0)])
        self.assertEqual(1, points[0]['limit_s']['n'])
        self.assertEqual(1, points[0]['efficiency']['n'])

    def test_no_efficiency_off_the_link(self):
        points = report.summarise([_run(mode='offline', bytes_on_link=False)])
        self.assertIsNone(points[0]['efficiency'])

    def test_ratios(self):
        runs = [_run(total_s=4.0), _run(variant='nova-v2v', total_s=3.0),
                _run(disk=2, total_s=8.0)]
        rows = report.ratios(report.summarise(runs))
        self.assertEqual(1, len(rows))
        self.assertEqual(0.75, rows[0]['total_s'])


class TargetsTestCase(testtools.TestCase):

    def test_block_targets(self):
        runs = [_run(total_s=10.0, limit_s=7.0),
                _run(variant='nova-v2v', total_s=7.5, limit_s=7.0,
                     downtime_ms=40)]
        found = report.targets(report.summarise(runs))
        self.assertEqual([True, True, True], [t['met'] for t in found])

    def test_block_targets_missed(self):
        runs = [_run(total_s=10.0), _run(variant='nova-v2v', total_s=9.0,
                                         limit_s=7.0, downtime_ms=55)]
        found = report.targets(report.summarise(runs))
        # 55 ms, 0.9 of the baseline's time, efficiency 7 / 9 = 0.78
        self.assertEqual([False, False, False], [t['met'] for t in found])

    def test_cutover_flat_and_over_boot(self):
        runs = [_run(mode='v2v-cutover', variant='nova-v2v', disk=1,
                     downtime_ms=3400, boot_s=3.0),
                _run(mode='v2v-cutover', variant='nova-v2v', disk=4,
                     downtime_ms=3600, boot_s=3.0)]
        found = report.targets(report.summarise(runs))
        self.assertEqual(2, len(found))
        self.assertTrue(found[0]['met'])
        self.assertIn('+5.9%', found[0]['figure'])
        self.assertFalse(found[1]['met'])
        self.assertIn('boot + 0.60 s', found[1]['figure'])


class MarkdownTestCase(testtools.TestCase):

    def test_tables_and_caveat(self):
        runs = [_run(), _run(variant='nova-v2v', total_s=3.0),
                _run(mode='v2v-cutover', variant='nova-v2v',
                     downtime_ms=3500)]
        text = report.markdown(runs, {'link': '1000 Mbit/s'})
        self.assertIn('- link: 1000 Mbit/s', text)
        self.assertIn('TCG', text)
        self.assertIn('| block-live | baseline | 1 GiB sparse | 256 | 1 | '
                      '60 (60-60) |', text)
        self.assertIn('| block-live | 1 GiB sparse | 256 | 1.00 | 1.00 | '
                      '0.75 | 1.00 |', text)
        self.assertIn('## Targets', text)

    def test_plot_writes_a_png(self):
        out = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(out, 'results.png')
        report.plot([_run(), _run(variant='nova-v2v'),
                     _run(mode='offline', variant='nova-v2v')], path)
        with open(path, 'rb') as f:
            self.assertEqual(b'\x89PNG', f.read(4))


class ScheduleTestCase(testtools.TestCase):

    def test_points(self):
        found = migrations.points(('disk', 'memory', 'v2v'), (1, 4),
                                  (256, 1024))
        modes = [(p['mode'], p['disk_gib'], p['fill'], p['mem_mib'])
                 for p in found]
        self.assertEqual([
            ('block-live', 1, 'sparse', 256), ('block-live', 4, 'sparse', 256),
            ('block-live', 1, 'filled', 256), ('block-live', 4, 'filled', 256),
            ('shared-live', 1, 'sparse', 256),
            ('shared-live', 1, 'sparse', 1024),
            ('v2v-cutover', 1, 'filled', 256),
            ('v2v-cutover', 4, 'filled', 256),
            ('offline', 1, 'filled', 256), ('offline', 4, 'filled', 256)],
            modes)
        self.assertEqual(('nova-v2v',), found[-1]['variants'])

    def test_runs_interleaved_variants_alternate(self):
        found = migrations.points(('disk',), (1,))
        order = [(i, p['fill'], v)
                 for i, p, v in migrations.schedule(found, 2)]
        self.assertEqual([
            (0, 'sparse', 'baseline'), (0, 'sparse', 'nova-v2v'),
            (0, 'filled', 'baseline'), (0, 'filled', 'nova-v2v'),
            (1, 'sparse', 'nova-v2v'), (1, 'sparse', 'baseline'),
            (1, 'filled', 'nova-v2v'), (1, 'filled', 'baseline')], order)

    def test_entry_live_and_offline(self):
        point = {'mode': 'block-live', 'disk_gib': 1, 'fill': 'sparse',
                 'mem_mib': 256}
        live = migrations.entry(point, 'baseline', 0, {
            'downtime_ms_libvirt': 55, 'downtime_ms_engine': 1,
            'downtime_ms_guest': 300.0, 'total_seconds': 3.5,
            'wire_bytes': 1000, 'records_lost': 0}, 0.5)
        self.assertEqual((55, 300.0, 3.5, 1000, 0.5, 1),
                         (live['downtime_ms'], live['guest_gap_ms'],
                          live['total_s'], live['bytes'], live['limit_s'],
                          live['run']))
        offline = migrations.entry(dict(point, mode='offline'), 'nova-v2v',
                                   2, {'downtime_ms_engine': 4000.0,
                                       'wire_bytes': 0,
                                       'bytes_moved': 5000}, None)
        self.assertEqual((4000.0, 5000, False, 3),
                         (offline['engine_downtime_ms'], offline['bytes'],
                          offline['bytes_on_link'], offline['run']))
        self.assertIsNone(offline['downtime_ms'])


class RepeatedTestCase(testtools.TestCase):

    def test_a_run_again_after_the_known_fault(self):
        stderr = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=io.StringIO)).mock
        data = {'meta': {}, 'repeated': []}
        exc = migrate.GuestCrashed('crashed', 'Oops: 0', 'QEMU 7.2.22 ...',
                                   'hrtimer-rbtree')
        migrations._repeated(data, 'block-live baseline run 1', exc)
        migrations._passed_again('block-live baseline run 1', exc)
        self.assertEqual([{'run': 'block-live baseline run 1',
                           'crash': 'Oops: 0',
                           'known_fault': 'QEMU 7.2.22 ...',
                           'signature': 'hrtimer-rbtree',
                           'error': 'crashed'}], data['repeated'])
        self.assertEqual(1, data['meta'][migrations.REPEATED])
        self.assertEqual(
            'RERUN-PASSED: bench block-live baseline run 1: hrtimer-rbtree',
            stderr.getvalue().splitlines()[-1])
