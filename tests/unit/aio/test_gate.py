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
import time
from unittest import mock

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v import notifications
from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import gate
from nova_v2v_rig.aio import gatedrain
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import gatereport
from nova_v2v_rig.aio import images
from nova_v2v_rig.aio import observe
from nova_v2v_rig.aio import paths
from nova_v2v_rig.lab import hosts as lab_hosts
from nova_v2v_rig.lab import migrate as lab_migrate

U1 = '11111111-2222-4333-8444-555555555555'
U2 = '99999999-2222-4333-8444-555555555555'


class TestEventListener(testtools.TestCase):

    def test_events_of_a_server_in_order(self):
        with mock.patch.object(observe.oslo_messaging,
                               'get_notification_listener'), \
                mock.patch.object(observe.oslo_messaging,
                                  'get_notification_transport'):
            events = observe.EventListener('rabbit://u:p@127.0.0.1:5672/')

        def send(event, uuid=U1, priority='info'):
            getattr(events, priority)(
                {}, 'nova-v2v:labhost-a', event,
                notifications.payload(uuid), {})
        send('instance.live_migration_pre.start')
        for event in (notifications.PLAN, notifications.START,
                      notifications.PROGRESS, notifications.PROGRESS):
            send(event)
        send(notifications.PLAN, uuid=U2)
        send(notifications.ROLLBACK, priority='error')
        self.assertEqual([notifications.PLAN, notifications.START,
                          notifications.PROGRESS, notifications.ROLLBACK],
                         events.of(U1, 0))
        self.assertEqual([], events.of(U1, time.time() + 60))
        self.assertEqual('ERROR', events.events[-1]['priority'])
        self.assertEqual([notifications.PLAN], events.wait_for(
            U2, 0, notifications.PLAN))
        self.assertEqual(U2, events.payload(U2, 0, notifications.PLAN)[
            'instance_uuid'])
        self.assertIsNone(events.payload(U2, 0, notifications.END))

    def test_expected_events_per_mode(self):
        self.assertEqual(
            {'block-live', 'shared-live', 'v2v-cutover', 'offline',
             observe.NOVA_OWN}, set(observe.EXPECTED_EVENTS))
        # A move nova-v2v plans nothing for sends no V2V event.
        self.assertEqual((), observe.EXPECTED_EVENTS[observe.NOVA_OWN])


class TestReport(testtools.TestCase):

    def test_summary_medians_per_kind_and_driver(self):
        def move(label, variant, net, disk, lost=0, ok=True):
            return {'move': label, 'variant': variant, 'ok': ok,
                    'network_downtime_ms': net, 'downtime_s': disk,
                    'packets_lost': lost}
        moves = [move('live, block (scheduled)', 'nova-v2v', 40, 0.2),
                 move('live, block (--host)', 'nova-v2v', 60, 0.4, 2),
                 move('live, block (scheduled)', 'nova-v2v', 50, 0.3, 1),
                 # A failed move counts in no median.
                 move('live, block (--host)', 'nova-v2v', 9000, 9, ok=False),
                 move('live, block (scheduled)', 'baseline', 70, 0.5, 3),
                 move('live, shared storage (--host)', 'baseline', None,
                      0.1),
                 move('live, profiles and NIC differ', 'nova-v2v', 3000,
                      2.0, 300),
                 move('cold + resize confirm', 'nova-v2v', None, None)]
        rows = gatereport.summary({'moves': moves})
        self.assertEqual([
            {'kind': 'V2V cutover', 'variant': 'nova-v2v', 'runs': 1,
             'net_runs': 1, 'network_downtime_ms': 3000, 'downtime_s': 2.0,
             'packets_lost': 300},
            {'kind': 'block live', 'variant': 'baseline', 'runs': 1,
             'net_runs': 1, 'network_downtime_ms': 70, 'downtime_s': 0.5,
             'packets_lost': 3},
            {'kind': 'block live', 'variant': 'nova-v2v', 'runs': 3,
             'net_runs': 3, 'network_downtime_ms': 50, 'downtime_s': 0.3,
             'packets_lost': 1},
            {'kind': 'shared live', 'variant': 'baseline', 'runs': 1,
             'net_runs': 0, 'network_downtime_ms': None, 'downtime_s': 0.1,
             'packets_lost': 0}], rows)
        lines = gatereport.summary_lines(rows)
        self.assertIn('block live    nova-v2v  3     3         0.3       '
                      '       50                   1           ', lines)

    def test_table(self):
        move = {'move': 'live', 'from': 'a', 'to': 'b', 'mode': 'block-live',
                'seconds': 8.0, 'downtime_s': 0.3, 'records_written': 10,
                'records_lost': 0, 'migration': {'status': 'completed'},
                'ok': True, 'problems': []}
        bad = dict(move, move='cold', ok=False, records_lost=2,
                   problems=['2 records lost'])
        text = gatereport.table({
            'moves': [move, bad], 'errors': ['x: boom'],
            'seconds': 100.0, 'steps': {'lab': 1.0},
            'checks': [{'check': 'fits live', 'ok': True, 'exit': 0,
                        'problems': [], 'hosts': {'b': 'block-live'}}]})
        self.assertIn('nova-v2v check, fits live: OK, exit 0: b block-live',
                      text)
        self.assertIn('block-live', text)
        self.assertIn('cold: 2 records lost', text)
        self.assertIn('error: x: boom', text)
        self.assertIn('1 of 2 moves OK, 1 of 1 checks OK, 2 records lost, '
                      '100.0 s', text)
        self.assertNotIn('medians', text)
        # local: 2 live + confirm + revert; import: 1 live; profiles: the
        # conversion, cutover + offline; shared and both baselines: 2 live
        # each; upgrade: 3; drain: none of its own (its check counts).
        self.assertEqual(17, gate.expected_moves(gate.STAGES))
        self.assertEqual(35, gate.expected_moves(gate.STAGES, repeat=3))
        self.assertEqual(7, gate.expected_checks(gate.STAGES))

    def _gate_without_services(self):
        """gate.run's services mocked: ``{name: mock}``; a lab that runs."""
        mocks = {}
        for name, owner, attr, kwargs in (
                ('listener', observe, 'EventListener', {}),
                ('url', gate.config, 'transport_url', {}),
                ('stack_down', gate.stack, 'down', {}),
                ('running', gate.stack, 'running',
                 {'return_value': ['mariadb']}),
                ('net_ensure', gate.network, 'ensure', {}),
                ('images', gate.images, 'ensure', {'return_value': {}}),
                ('cloud', gate.cli, 'OpenStack', {}),
                ('computes', gate, '_computes', {}),
                ('down', gate.computes, 'down', {})):
            mocks[name] = self.useFixture(fixtures.MockPatchObject(
                owner, attr, **kwargs)).mock
        lab = mock.Mock()
        lab.load.return_value = {'hosts': {}}
        return mocks, lab

    def test_a_failed_stage_fails_the_gate(self):
        mocks, lab = self._gate_without_services()
        layout = mock.Mock()
        ok = {'ok': True}
        with mock.patch.dict(gate.STAGE_RUN, {
                'local': mock.Mock(return_value=[ok, ok, ok, ok]),
                'import': mock.Mock(return_value=[ok]),
                'drain': mock.Mock(return_value=[]),
                'baseline-local': mock.Mock(return_value=[ok, ok]),
                'profiles': mock.Mock(side_effect=paths.AioError('boom')),
                'shared': mock.Mock(return_value=[ok, ok]),
                'baseline-shared': mock.Mock(return_value=[ok, ok]),
                'upgrade': mock.Mock(return_value=[ok, ok, ok])}):
            report = gate.run(layout, lab)
        self.assertFalse(report['ok'])
        self.assertEqual(['profiles: boom'], report['errors'])
        mocks['net_ensure'].assert_called_once_with(
            mocks['cloud'].return_value, layout)
        # It did not start them: it stops the computes only.
        mocks['down'].assert_called_once_with(layout)
        mocks['stack_down'].assert_not_called()
        mocks['listener'].return_value.start.return_value.stop\
            .assert_called_once()
        lab.down.assert_not_called()

    def test_the_import_object_votes(self):
        _mocks, lab = self._gate_without_services()
        check = {'check': 'imported server', 'ok': True}

        def importing(imported):
            def stage(layout, cloud, lab, ids, events, checks, repeat,
                      found=None):
                checks.append(check)
                found['import'] = imported
                return [{'ok': True}]
            return stage

        for imported, ok in (({'ok': True, 'records_lost': 0}, True),
                             ({'ok': False, 'records_lost': 3}, False)):
            with mock.patch.dict(gate.STAGE_RUN,
                                 {'import': importing(imported)}):
                report = gate.run(mock.Mock(), lab, stages=('import',))
            self.assertIs(imported, report['import'])
            self.assertEqual([check], report['checks'])
            self.assertEqual(ok, report['ok'], report)
        # A stage that never said how its import went fails the gate.
        with mock.patch.dict(gate.STAGE_RUN, {'import': mock.Mock(
                side_effect=paths.AioError('boom'))}):
            report = gate.run(mock.Mock(), lab, stages=('import',))
        self.assertNotIn('import', report)
        self.assertFalse(report['ok'])


class TestComputesOfAStage(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.layout = paths.Layout(self.useFixture(fixtures.TempDir()).path)
        self.useFixture(fixtures.MockPatchObject(gate.computes, 'down'))
        self.up = self.useFixture(fixtures.MockPatchObject(
            gate.computes, 'up')).mock

    def _loads(self, *drivers):
        def up(layout, lab, **kwargs):
            for host, driver in zip(sorted(lab_hosts.HOSTS), drivers):
                with open(layout.log(gate.computes.service_name(host)),
                          'a') as f:
                    f.write("2026-12-06 INFO nova.virt.driver [-] Loading "
                            "compute driver '%s'\n" % driver)
        self.up.side_effect = up

    def test_the_baseline_runs_stock_nova(self):
        os.makedirs(os.path.dirname(self.layout.log('x')), exist_ok=True)
        self._loads('lab_stock.LibvirtDriver', 'lab_stock.LibvirtDriver')
        self.assertEqual(gate.STAGE_COMPUTES['baseline-local'] + (None,),
                         gate._computes(self.layout, None, 'baseline-local',
                                        None))
        self.assertTrue(self.up.call_args[1]['stock'])

    def test_a_stage_whose_computes_loaded_another_driver(self):
        os.makedirs(os.path.dirname(self.layout.log('x')), exist_ok=True)
        self._loads('v2v.V2VLibvirtDriver', 'lab_stock.LibvirtDriver')
        e = self.assertRaises(gatemove.GateError, gate._computes, self.layout,
                              None, 'baseline-shared', None)
        self.assertIn('not lab_stock.LibvirtDriver each', str(e))
        self._loads('v2v.V2VLibvirtDriver', 'v2v.V2VLibvirtDriver')
        self.assertEqual(gate.STAGE_COMPUTES['local'] + (None,),
                         gate._computes(self.layout, None, 'local', None))
        # A stage of other Nova options per host: started again.
        self.assertEqual(
            gate.STAGE_COMPUTES['drain'] + (gate.STAGE_HOST_EXTRA['drain'],),
            gate._computes(self.layout, None, 'drain',
                           gate.STAGE_COMPUTES['local'] + (None,)))
        self.assertEqual(
            {'a': gatedrain.HOST_EXTRA, 'b': gatedrain.HOST_EXTRA},
            self.up.call_args[1]['host_extra'])


class TestStageOnceMore(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # The gate's log (which Python writes to stderr when no handler is
        # configured, as in a run of this module alone) is not what these
        # tests read on stderr: the RERUN-PASSED lines are.
        self.useFixture(fixtures.FakeLogger())
        self.stderr = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=io.StringIO)).mock

    def _stage(self, *outcomes):
        report = {'moves': [], 'checks': [], 'errors': [], 'repeated': []}
        runs = iter(outcomes)

        def stage(layout, cloud, lab, ids, events, checks, repeat,
                  found=None):
            checks.append({'check': 'c', 'ok': True})
            outcome = next(runs)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        with mock.patch.dict(gate.STAGE_RUN, {'local': stage}):
            gate._run_stage(report, 'local', None, None, None, {}, None)
        return report

    def test_known_crash_runs_the_stage_once_more(self):
        report = self._stage(
            lab_migrate.GuestCrashed('boom', 'Oops: 0', 'QEMU',
                                     'hrtimer-rbtree'),
            [{'move': 'live, block', 'ok': True},
             {'move': 'cold', 'ok': False}])
        self.assertEqual([{'move': 'live, block', 'ok': True},
                          {'move': 'cold', 'ok': False}], report['moves'])
        # The checks of the run that counts, once.
        self.assertEqual(1, len(report['checks']))
        self.assertEqual([], report['errors'])
        self.assertEqual([{'stage': 'local', 'crash': 'Oops: 0',
                           'known_fault': 'QEMU',
                           'signature': 'hrtimer-rbtree',
                           'passed_again': ['local/live, block',
                                            'local/check c']}],
                         report['repeated'])
        # One line for each move and check that passed on the second run.
        self.assertEqual(
            'RERUN-PASSED: gate local/live, block: hrtimer-rbtree\n'
            'RERUN-PASSED: gate local/check c: hrtimer-rbtree\n',
            self.stderr.getvalue())
        text = gatereport.table(dict(report, moves=[], checks=[],
                                     seconds=1.0, steps={}))
        self.assertIn('stage local ran once more: the server crashed '
                      '(Oops: 0, signature hrtimer-rbtree); known QEMU '
                      'fault: QEMU', text)

    def test_second_crash_fails(self):
        crash = lab_migrate.GuestCrashed('boom', 'Oops: 0', 'QEMU',
                                         'idle-task-null-call')
        report = self._stage(crash, crash)
        self.assertEqual([], report['moves'])
        self.assertEqual(['local: boom'], report['errors'])
        self.assertEqual(1, len(report['repeated']))
        self.assertEqual([], report['repeated'][0]['passed_again'])
        self.assertEqual('', self.stderr.getvalue())

    def test_unknown_crash_fails_at_once(self):
        # A move the fault cannot hit, or a crash of another signature.
        for crash in (lab_migrate.GuestCrashed('boom', 'Oops: 0', None,
                                               'hrtimer-rbtree'),
                      lab_migrate.GuestCrashed('boom', 'Oops: 0', 'QEMU',
                                               report='Oops: 0\nRIP: x')):
            report = self._stage(crash, [{'move': 'm', 'ok': True}])
            self.assertEqual(['local: boom'], report['errors'])
            # The whole crash kept, when the console had it.
            self.assertEqual(
                [{'stage': 'local', 'report': crash.report}]
                if crash.report else [], report.get('crash_reports', []))
            self.assertEqual([], report['repeated'])
            self.assertEqual([], report['moves'])
        self.assertEqual('', self.stderr.getvalue())


class TestCli(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.layout = paths.Layout(self.useFixture(fixtures.TempDir()).path)
        os.makedirs(self.layout.etc_dir)
        with open(self.layout.openrc, 'w') as f:
            f.write('export OS_AUTH_URL=http://127.0.0.1:5000/v3\n'
                    'export OS_PASSWORD="s3 cret"\n# comment\n')
        self.execute = self.useFixture(fixtures.MockPatchObject(
            processutils, 'execute')).mock

    def test_read_openrc(self):
        self.assertEqual({'OS_AUTH_URL': 'http://127.0.0.1:5000/v3',
                          'OS_PASSWORD': 's3 cret'},
                         cli.read_openrc(self.layout.openrc))

    def test_call_parses_json_and_keeps_the_call(self):
        self.execute.return_value = (json.dumps({'id': 'x'}), '')
        cloud = cli.OpenStack(self.layout)
        self.assertEqual({'id': 'x'}, cloud('server', 'show', 'vm',
                                            parse=True))
        argv = self.execute.call_args[0]
        self.assertEqual(self.layout.bin('main', 'openstack'), argv[3])
        self.assertEqual(('server', 'show', 'vm', '-f', 'json'), argv[4:])
        env = self.execute.call_args[1]['env_variables']
        self.assertEqual('2.80', env['OS_COMPUTE_API_VERSION'])
        self.assertEqual('s3 cret', env['OS_PASSWORD'])
        self.assertEqual('openstack server show vm',
                         cloud.calls[0]['command'])

    def test_failure(self):
        self.execute.side_effect = processutils.ProcessExecutionError(
            exit_code=1, stderr='No server with a name or ID of vm')
        cloud = cli.OpenStack(self.layout)
        e = self.assertRaises(cli.CommandFailed, cloud, 'server', 'show',
                              'vm')
        self.assertIn('No server with a name', str(e))
        self.assertIsNone(cloud('server', 'show', 'vm', check=False))
        self.assertEqual([1, 1], [c['exit'] for c in cloud.calls])

    def test_a_nova_v2v_command_is_interrupted_then_killed(self):
        self.execute.return_value = (json.dumps({'ok': True}), '')
        cloud = cli.OpenStack(self.layout, timeout=300)
        self.assertEqual((0, {'ok': True}), cloud.v2v('import', 'x.ova',
                                                      '--name', 'vm'))
        argv = self.execute.call_args[0]
        # SIGINT first (the import cleans up), SIGKILL a minute later.
        self.assertEqual(('timeout', '--signal=INT', '--kill-after=60',
                          '300'), argv[:4])
        self.assertEqual(('import', 'x.ova', '--name', 'vm', '--json'),
                         argv[5:])
        self.assertTrue(argv[4].endswith('/nova-v2v'))
        self.execute.side_effect = processutils.ProcessExecutionError(
            exit_code=124, stdout='not json')
        self.assertEqual((124, {'output': 'not json'}),
                         cloud.v2v('import', 'x.ova'))


class FakeImageCloud(object):

    def __init__(self, images_=(), flavors=(), shown=None):
        self.images = list(images_)
        self.flavors = list(flavors)
        self.shown = shown or {}
        self.created = []
        self.deleted = []

    def __call__(self, *args, parse=False, check=True):
        if args[:2] == ('image', 'list'):
            return self.images
        if args[:2] == ('flavor', 'list'):
            return self.flavors
        if args[:2] == ('image', 'show'):
            return self.shown.get(args[2], {})
        if args[:2] == ('image', 'delete'):
            self.deleted.append(args[2])
            self.images = [i for i in self.images if i['ID'] != args[2]]
            return ''
        self.created.append(args)
        return {'id': 'new-%s' % args[-1]}


class TestImages(testtools.TestCase):

    def setUp(self):
        super().setUp()
        build = self.useFixture(fixtures.MockPatchObject(
            images.lab_guest, 'build')).mock
        build.return_value = mock.Mock(kernel='/k', initrd='/i')
        self.useFixture(fixtures.MockPatchObject(processutils, 'execute'))
        self.useFixture(fixtures.MockPatchObject(
            images, '_sha512', side_effect=lambda path: 'sha-' + path))

    def test_creates_what_is_missing(self):
        cloud = FakeImageCloud(
            images_=[{'Name': images.KERNEL, 'ID': 'k1',
                      'Status': 'active'},
                     {'Name': images.RAMDISK, 'ID': 'r0',
                      'Status': 'queued'}],
            shown={'k1': {'properties': {'os_hash_value': 'sha-/k'}}})
        ids = images.ensure(cloud, '/cache')
        self.assertEqual('k1', ids[images.KERNEL])
        self.assertEqual('new-lab-initrd', ids[images.RAMDISK])
        disk = [c for c in cloud.created if c[-1] == images.DISK][0]
        self.assertIn('kernel_id=k1', disk)
        self.assertIn('ramdisk_id=new-lab-initrd', disk)
        self.assertIn('os_command_line=%s' % images.COMMAND_LINE, disk)
        self.assertEqual('new-lab.tiny', ids[images.FLAVOR])
        filled = [c for c in cloud.created if c[-1] == images.FILLED_DISK]
        self.assertEqual(1, len(filled))
        self.assertIn('kernel_id=k1', filled[0])
        pvscsi = [c for c in cloud.created
                  if c[-1] == images.FILLED_PVSCSI_DISK][0]
        self.assertIn('hw_disk_bus=scsi', pvscsi)
        self.assertIn('hw_scsi_model=vmpvscsi', pvscsi)
        # Only the filled disks get data, where the workload never writes.
        writes = [c.args for c in processutils.execute.call_args_list
                  if c.args[0] == 'qemu-io']
        self.assertEqual(2, len(writes))
        for write, name in zip(writes, (images.FILLED_DISK,
                                        images.FILLED_PVSCSI_DISK)):
            self.assertIn('write -q -P 0x5a %dM %dM' % (
                images.FILLED_AT_MIB, images.FILLED_MIB), write)
            self.assertTrue(write[-1].endswith(name + '.qcow2'))

    def _all_there(self, initrd_hash='sha-/i', kernel_of_disks='k'):
        disks = (images.DISK, images.FILLED_DISK, images.VMXNET3_DISK,
                 images.PVSCSI_DISK, images.FILLED_PVSCSI_DISK)
        # The client prints the multihash among the properties.
        shown = {'k': {'properties': {'os_hash_value': 'sha-/k'}},
                 'r': {'properties': {'os_hash_value': initrd_hash}}}
        for name in disks:
            props = {'kernel_id': kernel_of_disks, 'ramdisk_id': 'r',
                     'os_command_line': images.COMMAND_LINE}
            if name == images.VMXNET3_DISK:
                props['hw_vif_model'] = 'vmxnet3'
            if name in (images.PVSCSI_DISK, images.FILLED_PVSCSI_DISK):
                props.update(images.PVSCSI)
            shown[name] = {'properties': props}
        return FakeImageCloud(
            images_=[{'Name': images.KERNEL, 'ID': 'k', 'Status': 'active'},
                     {'Name': images.RAMDISK, 'ID': 'r', 'Status': 'active'}]
            + [{'Name': n, 'ID': n, 'Status': 'active'} for n in disks],
            flavors=[{'Name': images.FLAVOR, 'ID': 'f'},
                     {'Name': images.FLAVOR_SMALL, 'ID': 'fs'}],
            shown=shown)

    def test_reuses_everything(self):
        cloud = self._all_there()
        ids = images.ensure(cloud, '/cache')
        self.assertEqual([], cloud.created)
        self.assertEqual([], cloud.deleted)
        self.assertEqual('f', ids[images.FLAVOR])
        self.assertEqual('fs', ids[images.FLAVOR_SMALL])

    def test_a_new_guest_build_is_uploaded_again(self):
        # The initramfs changed since: it and the disks that name it are
        # made again; the kernel stays.
        cloud = self._all_there(initrd_hash='sha-old')
        ids = images.ensure(cloud, '/cache')
        self.assertEqual(['r', images.DISK, images.FILLED_DISK,
                          images.VMXNET3_DISK, images.PVSCSI_DISK,
                          images.FILLED_PVSCSI_DISK], cloud.deleted)
        self.assertEqual('k', ids[images.KERNEL])
        self.assertEqual('new-lab-initrd', ids[images.RAMDISK])
        for created in cloud.created[1:]:
            if created[0] == 'image':
                self.assertIn('ramdisk_id=new-lab-initrd', created)

    def test_holds(self):
        self.assertTrue(images.holds({'os_hash_value': 'sha-/x'}, '/x'))
        self.assertTrue(images.holds(
            {'properties': {'os_hash_value': 'sha-/x'}}, '/x'))
        self.assertFalse(images.holds(
            {'properties': {'os_hash_value': 'sha-/y'}}, '/x'))
        # No multihash: not known to be the same data.
        self.assertFalse(images.holds({'checksum': 'md5'}, '/x'))

    def test_the_vmxnet3_disk(self):
        cloud = FakeImageCloud()
        images.ensure(cloud, '/cache')
        vmxnet3 = [c for c in cloud.created if c[-1] == images.VMXNET3_DISK][0]
        self.assertIn('hw_vif_model=vmxnet3', vmxnet3)
        self.assertIn('ramdisk_id=new-lab-initrd', vmxnet3)


class TestGateCommandLine(testtools.TestCase):

    def test_network_checks_vote_unless_told_not_to(self):
        from nova_v2v_rig.cmd import aio as aio_cmd
        parse = aio_cmd._parser().parse_args
        self.assertTrue(parse(['gate']).network_voting)
        self.assertFalse(parse(['gate', '--no-network-voting'])
                         .network_voting)
        self.assertRaises(SystemExit, parse, ['gate', '--network-voting'])
