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
import json
import os
import signal
from unittest import mock

import fixtures
from keystoneauth1 import exceptions as ks_exceptions
from novaclient import exceptions as nova_exceptions
import testtools

from nova_v2v.cmd import drain as drain_cmd
from nova_v2v.cmd import v2v as v2v_cmd
from nova_v2v.drain import cloud as drain_cloud
from nova_v2v.drain import progress
from nova_v2v.drain import report as drain_report
from nova_v2v.drain import runner
from tests.unit.drain import fakes


def parse(*argv):
    return v2v_cmd._parser(list(argv)).parse_args(list(argv))


class ArgumentsTest(testtools.TestCase):

    def test_defaults(self):
        args = parse('drain', 'h1')
        self.assertEqual(('h1', 2, None, 0, None, 600),
                         (args.host, args.parallel, args.per_destination,
                          args.bandwidth, args.move_timeout, args.timeout))
        self.assertFalse(args.allow_cutover or args.disable)

    def test_timeout_is_the_moves_and_api_timeout_keystoneauths(self):
        args = parse('drain', 'h1', '--timeout', '300', '--api-timeout',
                     '30')
        self.assertEqual((300.0, 30.0), (args.move_timeout, args.timeout))

    def _usage(self, *argv):
        err = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=io.StringIO)).mock
        with mock.patch.object(drain_cmd, 'ApiCloud') as cloud:
            rc = drain_cmd.run(parse('drain', 'h1', *argv))
        cloud.assert_not_called()
        return rc, err.getvalue()

    def test_bad_limits_are_usage_errors_and_ask_nothing(self):
        for argv, why in ((('--parallel', '0'), '--parallel'),
                          (('--per-destination', '0'), '--per-destination'),
                          (('--bandwidth', '-1'), '--bandwidth'),
                          (('--timeout', '0'), '--timeout must be'),
                          (('--force-complete-after', '-3'),
                           '--force-complete-after must be')):
            rc, err = self._usage(*argv)
            self.assertEqual(drain_cmd.EXIT_USAGE, rc, argv)
            self.assertIn(why, err)


class InterruptsTest(testtools.TestCase):

    def test_once_stops_twice_aborts_thrice_raises(self):
        d = mock.Mock()
        handler = drain_cmd._Interrupts(d)
        handler(signal.SIGINT, None)
        d.request_stop.assert_called_once_with()
        d.request_abort.assert_not_called()
        handler(signal.SIGINT, None)
        d.request_abort.assert_called_once_with()
        self.assertRaises(KeyboardInterrupt, handler, signal.SIGINT, None)

    def test_sigterm_stops(self):
        d = mock.Mock()
        handler = drain_cmd._Interrupts(d)
        handler(signal.SIGINT, None)
        handler(signal.SIGTERM, None)
        d.request_abort.assert_not_called()


class RunTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.cloud = fakes.FakeCloud(
            [fakes.FakeServer('s1', 'vm1', 'a'),
             fakes.FakeServer('s2', 'vm2', 'a', status='SHUTOFF')],
            [fakes.compute('a'), fakes.compute('b')])
        self.useFixture(fixtures.MockPatch(
            'nova_v2v.cmd.check.session'))
        self.useFixture(fixtures.MockPatchObject(
            drain_cmd, 'ApiCloud', return_value=self.cloud))
        self.useFixture(fixtures.MockPatch('time.sleep'))
        self.err = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=io.StringIO)).mock

    def _run(self, *argv):
        out = io.StringIO()
        rc = drain_cmd.run(parse('drain', 'a', '--state-file',
                                 os.path.join(self.dir, 's.json'),
                                 '--poll', '0.01', *argv), out=out)
        return rc, out.getvalue()

    def test_text_report_and_exit_0_when_empty(self):
        rc, out = self._run()
        self.assertEqual(drain_cmd.EXIT_EMPTY, rc)
        self.assertIn('2 of 2 servers moved', out)
        self.assertIn('a runs no server any more', out)

    def test_json_events_end_with_the_report(self):
        rc, out = self._run('--json')
        events = [json.loads(line) for line in out.splitlines()]
        self.assertEqual('drain.start', events[0]['event'])
        self.assertEqual('drain.end', events[-1]['event'])
        self.assertEqual(2, events[-1]['report']['totals']['moved'])
        self.assertTrue(all('time' in e for e in events))

    def test_servers_left_exit_1(self):
        self.cloud.servers['s3'] = fakes.FakeServer(
            's3', 'vm3', 'a', image_properties={'hw_vif_model': 'vmxnet3'})
        rc, out = self._run()
        self.assertEqual(drain_cmd.EXIT_NOT_EMPTY, rc)
        self.assertIn('give --allow-cutover', out)

    def test_dry_run_moves_nothing(self):
        rc, out = self._run('--dry-run')
        self.assertEqual(drain_cmd.EXIT_EMPTY, rc)
        self.assertIn('vm1 (s1): live (block-live) to b', out)
        self.assertIn('vm2 (s2): cold (offline) to b', out)
        self.assertEqual([], [c for c in self.cloud.calls
                              if c[0] in ('live', 'cold')])

    def test_a_second_drain_of_the_host_is_refused(self):
        from nova_v2v.drain import state as drain_state
        held = drain_state.DrainState(os.path.join(self.dir, 's.json'), 'a')
        self.addCleanup(held.close)
        rc, _out = self._run()
        self.assertEqual(drain_cmd.EXIT_BUSY, rc)
        self.assertIn('another nova-v2v drain of a runs',
                      self.err.getvalue())

    def test_cloud_lost_midway_keeps_the_state(self):
        self.cloud.server = mock.Mock(
            side_effect=drain_cloud.CloudError('503'))
        with mock.patch.object(runner, 'API_FAILURES', 3):
            rc, _out = self._run()
        self.assertEqual(drain_cmd.EXIT_CANNOT_ASK, rc)
        self.assertIn('the same command goes on', self.err.getvalue())
        self.assertTrue(os.path.exists(os.path.join(self.dir, 's.json')))


class ApiCloudTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.nova = mock.Mock()
        self.useFixture(fixtures.MockPatch(
            'novaclient.client.Client', return_value=self.nova))
        self.cloud = drain_cmd.ApiCloud(mock.Mock())

    def test_errors_are_cloud_errors(self):
        self.nova.servers.live_migrate.side_effect = (
            nova_exceptions.Conflict(409, 'busy'))
        e = self.assertRaises(drain_cloud.CloudError, self.cloud.live_migrate,
                              's1', 'b')
        self.assertIn('live_migrate', str(e))

    def test_calls(self):
        self.cloud.live_migrate('s1', 'b')
        self.nova.servers.live_migrate.assert_called_once_with(
            's1', host='b', block_migration='auto')
        self.cloud.cold_migrate('s1', 'b')
        self.nova.servers.migrate.assert_called_once_with('s1', host='b')
        self.cloud.set_bandwidth('s1', 40)
        self.nova.servers.set_meta_item.assert_called_once_with(
            's1', 'nova-v2v:bandwidth_mib', '40')
        self.nova.servers.delete_meta.side_effect = nova_exceptions.NotFound(
            404)
        self.cloud.clear_bandwidth('s1')

    def test_compute_hosts_with_their_profiles(self):
        svc = mock.Mock(host='b', status='enabled', state='up')
        self.nova.services.list.return_value = [svc]
        hyp = mock.Mock(id='rp-b', service={'host': 'b'})
        self.nova.hypervisors.list.return_value = [hyp]
        traits = fakes.host_profile('b').traits()
        self.cloud.sess.get.return_value.json.return_value = {
            'traits': traits}
        found = self.cloud.compute_hosts()
        self.assertEqual([('b', True, True, 'b')],
                         [(c.host, c.enabled, c.up, c.host_profile.hostname)
                          for c in found])

    def test_a_deleted_image_has_no_properties(self):
        self.cloud.image_properties = mock.Mock(
            side_effect=ks_exceptions.NotFound())
        self.assertEqual({}, self.cloud._image_properties('img'))
        self.assertEqual({}, self.cloud._image_properties('img'))
        self.cloud.image_properties.assert_called_once_with('img')

    def test_server_gone_is_none(self):
        self.nova.servers.get.side_effect = nova_exceptions.NotFound(404)
        self.assertIsNone(self.cloud.server('s1'))

    def test_servers_on_keeps_the_hosts_only(self):
        def server(sid, host):
            s = mock.Mock()
            s.to_dict.return_value = {
                'id': sid, 'name': sid, 'status': 'ACTIVE',
                'OS-EXT-SRV-ATTR:host': host, 'flavor': {'ram': 512,
                                                         'disk': 1},
                'image': {'id': 'img'}}
            return s
        self.nova.servers.list.return_value = [server('s1', 'a'),
                                               server('s2', 'b')]
        self.cloud.image_properties = mock.Mock(return_value={})
        found = self.cloud.servers_on('a')
        self.assertEqual([('s1', 512)], [(f.server.id, f.ram_mib)
                                         for f in found])
        self.nova.servers.list.assert_called_once_with(
            detailed=True, search_opts={'host': 'a', 'all_tenants': True})


class PrintersTest(testtools.TestCase):

    SNAP = {'elapsed_s': 65, 'bytes_moved': 3 << 30, 'bytes_left': 1 << 30,
            'rate_bps': 50 << 20, 'eta_s': 20.5,
            'counts': {'done': 2, 'moving': 1, 'pending': 3},
            'moves': [{'server': 's1', 'name': 'vm1', 'mode': 'block-live',
                       'dest': 'b', 'seconds': 12, 'bytes_moved': 128 << 20,
                       'bytes_total': 256 << 20, 'percent': 50,
                       'rate_bps': 32 << 20}]}

    def test_log_lines(self):
        out = io.StringIO()
        p = progress.LogPrinter(out, 'a', every=10, clock=lambda: 100.0)
        p.progress(self.SNAP)
        p.progress(self.SNAP)
        text = out.getvalue()
        self.assertEqual(2, len(text.splitlines()))
        self.assertIn('drain a: 2 done, 1 moving, 3 to go, 0 failed, 0 '
                      'skipped; 3.00 GiB moved, 1.00 GiB left, 50.0 MiB/s, '
                      'ETA 0:20, 1:05 elapsed', text)
        self.assertIn('vm1                  block-live   -> b                '
                      ' 50% 128.0 MiB of 256.0 MiB, 32.0 MiB/s, 0:12', text)

    def test_terminal_redraws_in_place(self):
        out = io.StringIO()
        p = progress.TerminalPrinter(out, 'a')
        p.progress(self.SNAP)
        p.event('move.start', server='s2', name='vm2', mode='block-live',
                dest='b', bandwidth_mib=50)
        self.assertIn('\x1b[2F\x1b[J', out.getvalue())
        self.assertIn('start vm2 (s2): block-live to b, 50 MiB/s',
                      out.getvalue())

    def test_event_lines(self):
        text = progress.event_text
        self.assertEqual(
            'disabled the nova-compute service of labhost-a: kernel upgrade',
            text('service.disabled', {'already': False, 'host': 'labhost-a',
                                      'reason': 'kernel upgrade'}))
        self.assertEqual(
            'confirm batch-1: its cold move waits in VERIFY_RESIZE',
            text('move.confirm', {'name': 'batch-1', 'server': 'x'}))
        self.assertEqual(
            'end web-2: moved on labhost-b after 0:07',
            text('move.end', {'name': 'web-2', 'outcome': 'moved',
                              'host': 'labhost-b', 'seconds': 6.6}))
        self.assertEqual(
            'retry web-2: failed on labhost-a after 0:03 (migration 5 '
            'error)', text('move.retry', {
                'name': 'web-2', 'outcome': 'failed', 'host': 'labhost-a',
                'seconds': 3, 'error': 'migration 5 error'}))
        self.assertEqual('abort vm after 12.5 s: timeout',
                         text('move.abort', {'name': 'vm', 'why': 'timeout',
                                             'seconds': 12.5}))
        self.assertEqual('API error: 503', text('api.error',
                                                {'error': '503'}))
        self.assertIsNone(text('drain.end', {'report': {}}))

    def test_meter_eta_and_scale(self):
        m = progress.Meter(window=30)
        m.sample(0, 0)
        m.sample(10, 100 << 20)
        self.assertEqual(10 << 20, m.rate())
        self.assertEqual(5.0, m.eta(50 << 20))
        m.finished(1000, 250)
        self.assertEqual(0.25, m.scale())


class ReportTest(testtools.TestCase):

    def test_totals_and_text(self):
        entries = {
            's1': {'status': 'done', 'outcome': 'moved', 'name': 'vm1',
                   'action': 'live', 'mode': 'block-live', 'dest': 'b',
                   'seconds': 30, 'bytes': 1 << 30, 'started_at': 0,
                   'ended_at': 30, 'run': 1, 'order': 0},
            's2': {'status': 'done', 'outcome': 'moved', 'name': 'vm2',
                   'action': 'live', 'mode': 'block-live', 'dest': 'b',
                   'seconds': 30, 'bytes': 1 << 30, 'started_at': 20,
                   'ended_at': 50, 'run': 1, 'order': 1},
            's3': {'status': 'skipped', 'outcome': 'skipped', 'name': 'vm3',
                   'reason': 'status ERROR', 'order': 2}}
        r = drain_report.build('a', entries, 60, bandwidth_mib=64,
                               empty=False, run=1)
        t = r['totals']
        self.assertEqual((2, 1, 120.0), (t['moved'], t['skipped'],
                                         t['servers_per_hour']))
        # 2 GiB over the 50 s during which moves ran.
        self.assertEqual(41.0, t['rate_mib_s'])
        self.assertEqual(0.64, t['link_share'])
        text = drain_report.to_text(r)
        self.assertIn('2 of 3 servers moved in 1:00 (120.0 servers/hour, '
                      '2.0 GiB/min); 41.0 MiB/s while moving, 64% of the 64 '
                      'MiB/s bandwidth', text)
        self.assertIn('    status ERROR', text)
        self.assertIn('a still runs servers', text)
