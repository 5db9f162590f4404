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

import os
import stat
import tempfile

import fixtures
import testtools

from nova_v2v_rig.aio import gatehorizon
from nova_v2v_rig.aio import horizon
from nova_v2v_rig.aio import horizonpages
from nova_v2v_rig.aio import observe
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import venvs


class TestHorizonSetup(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.layout = paths.Layout(self.useFixture(fixtures.TempDir()).path)

    def test_settings_point_at_the_all_in_one(self):
        text = horizon.local_settings(self.layout)
        scope = {}
        exec(compile(text, 'local_settings.py', 'exec'), scope)
        self.assertEqual('http://127.0.0.1:5000/v3',
                         scope['OPENSTACK_KEYSTONE_URL'])
        self.assertFalse(scope['DEBUG'])
        self.assertTrue(scope['COMPRESS_OFFLINE'])
        self.assertEqual(os.path.join(self.layout.data('horizon'), 'static'),
                         scope['STATIC_ROOT'])
        self.assertEqual(['127.0.0.1', 'localhost'], scope['ALLOWED_HOSTS'])

    def test_the_secret_key_is_made_once_and_kept_private(self):
        key = horizon.secret_key(self.layout)
        self.assertGreater(len(key), 40)
        self.assertEqual(key, horizon.secret_key(self.layout))
        mode = os.stat(self.layout.etc('horizon', 'secret_key')).st_mode
        self.assertEqual(0o600, stat.S_IMODE(mode))

    def test_uwsgi_serves_horizon_and_its_static_files(self):
        argv = horizon.command(self.layout)
        self.assertIn('openstack_dashboard.wsgi:application', argv)
        self.assertIn('127.0.0.1:8090', argv)
        self.assertIn('/static=%s' % os.path.join(
            self.layout.data('horizon'), 'static'), argv)

    def test_the_virtualenv_has_the_plugin_and_the_product(self):
        with tempfile.NamedTemporaryFile('w') as f:
            f.write('Django==5.2.20\n')
            f.flush()
            spec = venvs.spec('horizon', f.name, project='/src')
        self.assertEqual(['horizon==27.0.0', 'Django', venvs.UWSGI,
                          '-e', '/src', '-e', '/src/dashboard'],
                         spec['packages'])
        self.assertNotIn('horizon', venvs.VENVS)

    def test_down_without_horizon_stops_nothing(self):
        self.layout.save({'services': {}})
        self.assertFalse(horizon.down(self.layout))


class FakeBrowser(object):
    """The panel's rows as a browser reads them, one frame per read."""

    Error = RuntimeError

    def __init__(self, frames):
        self.frames = list(frames)
        self.taken = []

    def wait(self, css, timeout=None):
        return None

    def shot(self, name):
        self.taken.append(name)
        return name

    def rows_data(self, css, attributes):
        frame = self.frames.pop(0) if len(self.frames) > 1 else \
            self.frames[0]
        return [{'id': 'v2v-move-%s' % uuid, 'data-status': status,
                 'data-percent': '' if percent is None else str(percent),
                 'data-processed': str(processed)}
                for uuid, (status, percent, processed) in frame.items()]


class TestWatchPanel(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(horizonpages.time, 'sleep'))

    def test_bars_that_advance_and_end(self):
        b = FakeBrowser([
            {'m1': ('running', 20, 50)},
            {'m1': ('running', 60, 150), 'm2': ('queued', None, 0)},
            {'m1': ('completed', 100, 250), 'm2': ('running', 40, 90)},
            {'m1': ('completed', 100, 250), 'm2': ('completed', 100, 260)},
        ])
        found = iter([(['m1'], False), (['m1', 'm2'], True)] +
                     [(['m1', 'm2'], True)] * 10)
        seen, shot, problems = horizonpages.watch_panel(
            b, lambda: next(found), 'host')
        self.assertEqual([], problems)
        self.assertEqual('host panel in progress', shot)
        # At 20 %, then once more halfway (60 %).
        self.assertEqual(['host panel in progress', 'host panel in progress',
                          'host panel ended'], b.taken)
        self.assertEqual([('running', 20, 50), ('running', 60, 150),
                          ('completed', 100, 250)], seen['m1'])
        self.assertEqual(('queued', None, 0), seen['m2'][0])

    def test_a_move_never_seen_running_is_a_problem(self):
        problems = horizonpages.panel_problems(
            {'m1': [('completed', 100, 250)]})
        self.assertEqual(["no move seen advancing between 0 and 100 %: "
                          "{'m1': [100]}"], problems)

    def test_one_move_seen_advancing_is_enough(self):
        self.assertEqual([], horizonpages.panel_problems({
            'm1': [('completed', 100, 250)],
            'm2': [('queued', None, 0), ('running', 30, 80),
                   ('completed', 100, 260)]}))

    def test_a_failed_move_a_missing_one_and_bytes_going_back(self):
        problems = horizonpages.panel_problems({
            'm1': [('running', 50, 90), ('running', 60, 10),
                   ('error', None, 10)],
            'm2': []}, complete=False)
        self.assertIn('not every move was found', problems)
        self.assertIn('migration m2 never shown in the panel', problems)
        self.assertIn('migration m1 ends error at None % in the panel',
                      problems)
        self.assertIn('migration m1: its bytes went back ([90, 10, 10])',
                      problems)

    def test_the_watch_ends_at_its_deadline(self):
        clock = iter(range(0, 10000, 100))
        self.useFixture(fixtures.MockPatchObject(
            horizonpages.time, 'monotonic', side_effect=lambda: next(clock)))
        b = FakeBrowser([{'m1': ('running', 50, 10)}])
        seen, _shot, problems = horizonpages.watch_panel(
            b, lambda: (['m1'], True), 'host', timeout=300)
        self.assertIn('migration m1 ends running at 50 % in the panel',
                      problems)


class TestReport(testtools.TestCase):

    def test_rows_are_ok_only_without_problems(self):
        ok = gatehorizon._row('refused', None, outcome='refused',
                              records_lost=0)
        self.assertTrue(ok['ok'])
        bad = gatehorizon._row('refused', None, outcome='refused',
                               records_lost=0, problems=['no reason'])
        self.assertFalse(bad['ok'])
        unknown = gatehorizon._row('x', None)
        self.assertFalse(unknown['ok'])

    def test_table(self):
        report = {'rows': [gatehorizon._row(
            gatehorizon.ACTIONS[3], None, outcome='refused', records_lost=0,
            seconds=12.5, problems=['the error does not give the reason'])],
            'errors': ['TimeoutError: x'], 'screenshots': ['a.png'],
            'seconds': 99.0, 'steps': {'horizon': 40.0}}
        text = gatehorizon.table(report)
        self.assertIn('live migrate, refused forced host', text)
        self.assertIn('    the error does not give the reason', text)
        self.assertIn('error: TimeoutError: x', text)
        self.assertIn('0 of 6 actions OK, 0 records lost, 1 screenshots, '
                      '99.0 s (horizon 40.0 s)', text)


class TestCutoverPanel(testtools.TestCase):

    def _problems(self, logged=1.383, gap=10.21, **cells):
        panel = {'mode': 'v2v-cutover', 'downtime': '~3 s',
                 'downtime_s': '3.000'}
        panel.update(cells)
        return gatehorizon.cutover_panel_problems(panel, logged, gap)

    def test_between_the_engines_figure_and_the_guests_gap(self):
        # As measured: the engine 1.383 s, the event ~3 s (the ports'
        # activation and the truncation), the guest 10.21 s without a
        # write (it boots again).
        self.assertEqual([], self._problems())
        self.assertEqual([], self._problems(logged=0.64, downtime='< 1 s',
                                            downtime_s='0.000'))

    def test_below_the_engine_or_above_the_guest(self):
        self.assertEqual(
            ["the panel shows a downtime of < 1 s (0.0 s), less than the "
             "compute log's 1.383 s"],
            self._problems(downtime='< 1 s', downtime_s='0.000'))
        self.assertEqual(
            ['the panel shows a downtime of ~12 s (12.0 s), more than the '
             '10.21 s the guest did not write'],
            self._problems(downtime='~12 s', downtime_s='12.000'))

    def test_no_downtime_or_the_wrong_mode(self):
        self.assertEqual(
            ["the panel says mode 'block-live', not v2v-cutover",
             "the panel shows no downtime ('-')"],
            self._problems(mode='block-live', downtime='-',
                           downtime_s=None))
        self.assertEqual(['no downtime in the compute log'],
                         self._problems(logged=None))
        self.assertEqual(["no gap in the guest's records to compare with"],
                         self._problems(gap=None))
        self.assertEqual(['the Migrations panel does not list the move'],
                         gatehorizon.cutover_panel_problems(None, 1.0, 9.0))


class TestLoggedDowntime(testtools.TestCase):

    def test_the_servers_last(self):
        text = (
            '2026-12-07 22:03:08.319 27247 INFO nova_v2v.virt.libvirt.'
            'cutover_source [None req-1 - - - - -] [instance: '
            '2c073d13-7c99-4392-bc90-547eb8b4a5e1] V2V cutover done: '
            'downtime 0.733s, stop suspended, 10 bytes copied\n'
            '... [instance: 2c073d13-7c99-4392-bc90-547eb8b4a5e1] V2V '
            'cutover done: downtime 1.5s, stop suspended\n'
            '... [instance: 11111111-7c99-4392-bc90-547eb8b4a5e1] V2V '
            'cutover done: downtime 9s, stop suspended\n')
        self.assertEqual(1.5, observe.logged_downtime(
            text, '2c073d13-7c99-4392-bc90-547eb8b4a5e1'))
        self.assertIsNone(observe.logged_downtime(text, 'other'))


class TestClearScreenshots(testtools.TestCase):

    def test_only_the_browsers_screenshots(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        for name in ('01-login.png', '12-migrate-host-form.png',
                     'notes.txt', 'panel.png', '01-login.png.bak'):
            with open(os.path.join(tmp, name), 'w') as f:
                f.write('x')
        gatehorizon.clear_screenshots(tmp)
        self.assertEqual(['01-login.png.bak', 'notes.txt', 'panel.png'],
                         sorted(os.listdir(tmp)))
        gatehorizon.clear_screenshots(os.path.join(tmp, 'gone'))
