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

import json
import os
import subprocess
import tempfile
import time
from unittest import mock

import fixtures
import testtools

from nova_v2v.virt.libvirt import record as v2v_record
from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import faultgate
from nova_v2v_rig.aio import faults
from nova_v2v_rig.aio import images
from nova_v2v_rig.aio import inject
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import venvs

A = 'labhost-a'
B = 'labhost-b'
UUID = '11111111-2222-4333-8444-555555555555'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _obs(outcome, **kw):
    """Observations of a cell that reached ``outcome`` cleanly."""
    want = faults.OUTCOMES[outcome]
    obs = {'source': A, 'dest': B, 'effect': 'injected',
           'migration': want.migration,
           'host': A if want.host == faults.SOURCE else B,
           'vm_state': want.vm_state, 'task_state': None,
           'writing': True, 'records_lost': 0, 'records_written': 10,
           'records_verified': 10, 'leftovers': [],
           'retry': (faults.RETRY_NA if outcome in (faults.COMPLETED,
                                                    faults.HELD)
                     else faults.RETRY_OK)}
    obs['running_on'] = [obs['host']]
    if outcome == faults.HELD:
        # README's resolution made Nova's record follow the clone.
        obs['resolved'] = {'steps': ['...'], 'host': B,
                           'vm_state': 'active', 'task_state': None}
        obs['running_on'] = [B]
    obs.update(kw)
    return obs


class TestTable(testtools.TestCase):

    def test_at_least_sixteen_cells_numbered_in_order(self):
        self.assertGreaterEqual(len(faults.CELLS), 16)
        self.assertEqual(list(range(1, len(faults.CELLS) + 1)),
                         [c.number for c in faults.CELLS])

    def test_every_cell_has_one_known_outcome_fault_and_phase(self):
        for item in faults.CELLS:
            self.assertIn(item.outcome, faults.OUTCOMES)
            self.assertIn(item.fault, faults.FAULTS)
            self.assertIn(item.phase, faults.PHASES)
            self.assertTrue(item.why)

    def test_cells_are_distinct(self):
        keys = [(c.fault, c.phase) for c in faults.CELLS]
        self.assertEqual(len(keys), len(set(keys)))

    def test_phases_are_the_records(self):
        # The phases the cells wait for are the product's.
        self.assertEqual(v2v_record.SYNCING, faults.SYNCING)
        self.assertEqual(v2v_record.CLONE_RUNNING, faults.CLONE_RUNNING)
        self.assertEqual(v2v_record.CLONE_PROVEN, faults.CLONE_PROVEN)

    def test_the_contract_outcomes(self):
        got = {c.number: c.outcome for c in faults.CELLS}
        self.assertEqual(faults.CANCELLED, got[1])
        for number in (2, 3, 6, 8, 10, 11, 16):
            self.assertEqual(faults.COMPLETED, got[number], number)
        # The link down past the activity timeout: CloneStateUnknown.
        self.assertEqual(faults.HELD, got[13])
        for number in (4, 5, 7, 9, 12, 14, 15):
            self.assertEqual(faults.ROLLED_BACK, got[number], number)

    def test_expected_text(self):
        self.assertEqual('rolled back: migration error, ACTIVE on labhost-a',
                         faults.expected_text(faults.cell(4), A, B))
        self.assertEqual('completed: migration completed, ACTIVE on '
                         'labhost-b',
                         faults.expected_text(faults.cell(2), A, B))
        self.assertEqual('cancelled: migration cancelled, ACTIVE on '
                         'labhost-a',
                         faults.expected_text(faults.cell(1), A, B))

    def test_novas_rollback_fails_the_migration(self):
        # Nova's own rollback of a live migration ends in 'failed'; only
        # the product's own rollbacks (a restarted compute's, a clone
        # without activity) end in 'error'.
        for number in (7, 9, 12, 14):
            self.assertEqual('failed',
                             faults.expected(faults.cell(number)).migration)
        for number in (4, 5, 15):
            self.assertEqual('error',
                             faults.expected(faults.cell(number)).migration)
        self.assertIn('migration error, not failed',
                      faults.problems(faults.cell(7), _obs(
                          faults.ROLLED_BACK, migration='error')))

    def test_unknown_cell(self):
        self.assertRaises(KeyError, faults.cell, 99)


class TestOutcome(testtools.TestCase):

    def test_outcomes(self):
        for outcome in faults.OUTCOMES:
            self.assertEqual(outcome, faults.outcome(_obs(outcome)))

    def test_unfinished(self):
        self.assertEqual('unfinished (migration running, task migrating)',
                         faults.outcome(_obs(faults.ROLLED_BACK,
                                             migration='running',
                                             task_state='migrating')))

    def test_error_instance(self):
        self.assertTrue(faults.outcome(_obs(
            faults.ROLLED_BACK, vm_state='error')).startswith(
                'instance error'))

    def test_status_on_the_wrong_host(self):
        self.assertEqual('migration failed, on labhost-b', faults.outcome(
            _obs(faults.ROLLED_BACK, host=B)))
        self.assertEqual('migration completed, on labhost-a', faults.outcome(
            _obs(faults.COMPLETED, host=A)))


class TestProblems(testtools.TestCase):

    def test_clean_cells_pass(self):
        for item in faults.CELLS:
            obs = _obs(item.outcome,
                       migration=faults.expected(item).migration)
            if item.fault == faults.CLONE_SILENT:
                obs['reason_seen'] = True
            self.assertEqual([], faults.problems(item, obs), item)

    def _problems(self, number, **kw):
        item = faults.cell(number)
        kw.setdefault('migration', faults.expected(item).migration)
        obs = _obs(item.outcome, **kw)
        return faults.problems(item, obs)

    def test_a_fault_without_effect_fails(self):
        found = self._problems(4, effect=None, missed='pid unchanged')
        self.assertEqual(['the fault did not take effect: pid unchanged'],
                         found)

    def test_held_needs_readmes_resolution(self):
        self.assertEqual([], self._problems(13))
        self.assertIn('README\'s resolution did not run',
                      self._problems(13, resolved=None))
        found = self._problems(13, resolved={
            'error': 'InjectError: the clone does not run', 'host': A,
            'vm_state': 'error', 'task_state': None})
        self.assertIn('README\'s resolution failed: InjectError: the clone '
                      'does not run', found)
        self.assertIn('after README\'s resolution: on labhost-a, error, '
                      'task None; not ACTIVE on labhost-b', found)

    def test_held_copy_where_the_resolved_record_is(self):
        self.assertEqual(['the copy runs on labhost-a, Nova says labhost-b'],
                         self._problems(13, running_on=[A]))
        self.assertEqual(['retry: ok, not n/a'],
                         self._problems(13, retry=faults.RETRY_OK))

    def test_held_is_not_rolled_back(self):
        # The server held in ERROR where the contract says rolled back.
        found = self._problems(15, vm_state='error', migration='error',
                               reason_seen=True)
        self.assertIn('outcome held, not rolled back', found)
        self.assertIn('vm_state error, not active', found)
        self.assertEqual('held', faults.outcome(_obs(faults.HELD)))

    def test_the_other_outcome_fails(self):
        # Rolled back where the contract says completed: not "either".
        found = self._problems(10, migration='error', host=A,
                               running_on=[A], retry=faults.RETRY_OK)
        self.assertIn('outcome rolled back, not completed', found)
        self.assertIn('migration error, not completed', found)
        self.assertIn('Nova\'s record on labhost-a, not labhost-b', found)

    def test_two_copies_fail(self):
        self.assertIn('2 running copies (labhost-a, labhost-b)',
                      self._problems(5, running_on=[A, B]))

    def test_no_copy_fails(self):
        self.assertIn('0 running copies (none)',
                      self._problems(5, running_on=[]))

    def test_the_copy_must_run_where_nova_says(self):
        self.assertIn('the copy runs on labhost-b, Nova says labhost-a',
                      self._problems(4, running_on=[B]))

    def test_lost_and_unread_records_fail(self):
        self.assertIn('3 records lost', self._problems(4, records_lost=3))
        self.assertIn('records not read',
                      self._problems(4, records_lost=None))
        self.assertIn('records verified up to 5 of 10',
                      self._problems(4, records_verified=5))

    def test_a_silent_guest_fails(self):
        self.assertIn('the guest acknowledged no write after the fault',
                      self._problems(4, writing=False))

    def test_leftovers_fail(self):
        self.assertIn('left behind: qemu-nbd pid 12',
                      self._problems(4, leftovers=['qemu-nbd pid 12']))

    def test_states(self):
        self.assertIn('task_state migrating, not None',
                      self._problems(4, task_state='migrating'))
        self.assertIn('vm_state stopped, not active',
                      self._problems(4, vm_state='stopped'))

    def test_retry(self):
        self.assertIn('retry: failed: boom, not ok',
                      self._problems(4, retry='failed: boom'))
        self.assertIn('retry: None, not n/a', self._problems(2, retry=None))

    def test_the_silent_clone_needs_its_reason(self):
        self.assertEqual(['the reason "showed no guest activity" was not '
                          'given'], self._problems(15, reason_seen=False))

    def test_a_cell_that_could_not_run(self):
        self.assertIn('the cell could not run: boom',
                      self._problems(1, error='boom'))


class TestRowsAndTable(testtools.TestCase):

    def test_row_keys(self):
        row = faults.row(faults.cell(4), _obs(faults.ROLLED_BACK,
                                              migration='error'), 12.5)
        for key in ('fault', 'phase', 'expected', 'outcome',
                    'copies_running', 'records_lost', 'leftovers', 'retry'):
            self.assertIn(key, row)
        self.assertEqual(('rolled back', 1, 0, 0, 'ok', 12.5, True),
                         (row['outcome'], row['copies_running'],
                          row['records_lost'], row['leftovers'],
                          row['retry'], row['seconds'], row['ok']))
        json.dumps(row)

    def test_completed_row_retry_na(self):
        row = faults.row(faults.cell(2), _obs(faults.COMPLETED), 1)
        self.assertEqual('n/a', row['retry'])

    def test_table_last_line_counts_cells(self):
        rows = [faults.row(faults.cell(1), _obs(faults.CANCELLED), 10.0),
                faults.row(faults.cell(4),
                           _obs(faults.ROLLED_BACK, records_lost=2), 20.0)]
        text = faults.table(rows, 31.0, {'cells': 30.0}, ['x'])
        last = text.splitlines()[-1]
        self.assertEqual('1 of 2 cells OK, 2 records lost, 31.0 s in all '
                         '(cells 30.0 s)', last)
        self.assertIn('error: x', text)
        self.assertIn('  2 records lost', text)

    def test_a_failed_retry_is_short_in_the_table(self):
        row = faults.row(faults.cell(4), _obs(faults.ROLLED_BACK,
                                              retry='failed: a\nlong'), 1)
        text = faults.table([row], 1.0)
        self.assertEqual('4   source nova-compute SIGKILL  syncing        '
                         'rolled back  rolled back  1       0     0     '
                         'failed  1        FAILED', text.splitlines()[1])
        self.assertIn('  retry: failed: a\nlong, not ok', text)

    def test_run_tests_counts_the_cells(self):
        # tools/run-tests.sh reads the last line as one test per cell.
        rows = [faults.row(faults.cell(1), _obs(faults.CANCELLED), 1),
                faults.row(faults.cell(2), _obs(faults.COMPLETED,
                                                leftovers=['x']), 1),
                faults.row(faults.cell(3), _obs(faults.COMPLETED), 1)]
        with tempfile.NamedTemporaryFile('w', suffix='.log') as log:
            log.write(faults.table(rows, 3.0) + '\n')
            log.flush()
            script = ('source <(sed -n "/^cells() {/,/^}/p" %s); cells %s'
                      % (os.path.join(ROOT, 'tools', 'run-tests.sh'),
                         log.name))
            out = subprocess.check_output(['bash', '-c', script], text=True)
        self.assertEqual('2 1 0', out.strip())


class TestProjectOverride(testtools.TestCase):

    def test_default_is_the_tree(self):
        with mock.patch.dict(os.environ, {}, clear=False):
            os.environ.pop(venvs.PROJECT_ENV, None)
            self.assertEqual(ROOT, venvs.project_dir())

    def test_override(self):
        with mock.patch.dict(os.environ, {venvs.PROJECT_ENV: '/work/x/'}):
            self.assertEqual('/work/x', venvs.project_dir())
            self.assertIn('/work/x', venvs.spec(
                'main', os.path.join(ROOT, 'upper-constraints.txt'),
                python='py')['packages'])


class TestReads(testtools.TestCase):

    def test_log_phases(self):
        text = ('x [instance: %s] V2V phase syncing\n'
                'x [instance: 99999999-2222-4333-8444-555555555555] V2V '
                'phase clone-running\n'
                'x [instance: %s] V2V phase clone-running\n' % (UUID, UUID))
        self.assertEqual(['syncing', 'clone-running'],
                         inject.log_phases(text, UUID))

    def test_db_phase_reads_the_chunked_record(self):
        sysmeta = {}
        v2v_record.sysmeta_put(sysmeta, 'v2v_phase', json.dumps(
            {'phase': 'syncing', 'at': '2026-12-06T12:00:00' + 'Z' * 300}))
        rows = [[k, v] for k, v in sysmeta.items()]
        with mock.patch.object(inject, 'query', return_value=rows) as q:
            self.assertEqual('syncing', inject.db_phase(
                paths.Layout('/tmp/x'), UUID))
        self.assertIn("instance_uuid='%s'" % UUID, q.call_args[0][1])

    def test_db_phase_none(self):
        with mock.patch.object(inject, 'query', return_value=[]):
            self.assertIsNone(inject.db_phase(paths.Layout('/tmp/x'), UUID))

    def test_query_parses_rows(self):
        with mock.patch.object(inject.processutils, 'execute',
                               return_value=('1\tNULL\terror\n', '')) as ex:
            self.assertEqual([['1', None, 'error']], inject.query(
                paths.Layout('/tmp/x'), 'SELECT 1'))
        argv = ex.call_args[0]
        self.assertEqual(('SELECT 1', 'nova'), argv[-2:])

    def test_sql_quotes(self):
        self.assertEqual("'a\\'b'", inject._sql_text("a'b"))


class TestShell(testtools.TestCase):

    def _cloud(self, script):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'openstack')
        with open(path, 'w') as f:
            f.write('#!/bin/sh\n' + script)
        os.chmod(path, 0o755)
        cloud = mock.Mock(argv0=path, env={'PATH': os.environ['PATH']},
                          calls=[])
        return cloud

    def test_commands_go_in_one_a_line(self):
        # A stand-in client: answers each line, complains on "bad".
        cloud = self._cloud(
            'while read -r line; do\n'
            '  case "$line" in bad*) echo "no such thing" >&2 ;;\n'
            '  *) echo "did $line" ;; esac\n'
            'done\n')
        shell = cli.Shell(cloud, timeout=10)
        self.addCleanup(shell.close)
        self.assertIn('did token issue', shell.out[0][1])
        sent = shell.send('server', 'migration', 'abort', 'x y', 3)
        bad = shell.send('bad', 'command')
        for _ in range(100):
            if shell.errors_since(bad):
                break
            time.sleep(0.05)
        self.assertEqual('no such thing\n', shell.errors_since(sent))
        self.assertIn("did server migration abort 'x y' 3\n",
                      [line for _t, line in shell.out])
        self.assertEqual('openstack server migration abort \'x y\' 3',
                         cloud.calls[1]['command'])

    def test_a_client_that_never_answers(self):
        # It reads the first command before it exits: a write into a pipe
        # whose reader is gone can spin in eventlet's green os.write (the
        # unit tests run monkey-patched, as Nova's do).
        cloud = self._cloud('read -r line; echo broken >&2; exit 1\n')
        exc = self.assertRaises(paths.AioError, cli.Shell, cloud, 10)
        self.assertIn('broken', str(exc))


class TestHeld(testtools.TestCase):

    def test_phases_at_which_a_fault_counts(self):
        self.assertEqual((v2v_record.SYNCING,),
                         faultgate.HELD[faults.SYNCING])
        self.assertNotIn(v2v_record.CLONE_PROVEN,
                         faultgate.HELD[faults.CLONE_RUNNING])
        self.assertEqual(v2v_record.AFTER_NO_RETURN,
                         faultgate.HELD[faults.CLONE_PROVEN])
        self.assertEqual(set(faults.PHASES), set(faultgate.HELD))

    def test_every_fault_has_its_injector(self):
        ctx = mock.Mock()
        ctx.lab.host_dir.return_value = '/nonexistent/host-b'
        for item in faults.CELLS:
            fault = faultgate.make_fault(ctx, item, mock.Mock())
            self.assertIsInstance(fault, faultgate.Fault)


class TestStoreFull(testtools.TestCase):
    """The store fault counts only while the bulk copy still runs."""

    def setUp(self):
        super().setUp()
        ctx = mock.Mock()
        ctx.lab.host_dir.return_value = '/nonexistent/host-b'
        item = [c for c in faults.CELLS if c.fault == faults.STORE_FULL][0]
        self.fault = faultgate.make_fault(ctx, item, mock.Mock())
        self.fault.name = 'instance-1'
        self.fault.store = mock.Mock()
        self.useFixture(fixtures.MockPatchObject(
            inject, 'db_phase', return_value=v2v_record.SYNCING))
        self.left = self.useFixture(fixtures.MockPatchObject(
            inject, 'copy_done')).mock
        self.mark = self.useFixture(fixtures.MockPatchObject(
            faultgate.gate_observe, 'LogMark')).mock.return_value
        self.useFixture(fixtures.MockPatchObject(
            faultgate.lab_harness, 'read_log', return_value=''))
        self.shape = self.useFixture(fixtures.MockPatchObject(
            faultgate.lab_link, 'shape')).mock

    def test_boots_the_filled_disk(self):
        self.assertEqual(images.FILLED_PVSCSI_DISK, self.fault.image)

    def test_full_with_the_copy_running(self):
        self.fault.store.fill.return_value = 4096
        self.left.side_effect = [70 << 20, 71 << 20]
        done = self.fault.inject(faults.SYNCING)
        self.assertIn('4096 bytes free', done)
        self.assertIn('the copy at 71.0 MiB, its data runs to 192 MiB', done)
        self.fault.store.fill.assert_called_once_with(
            leave=faultgate.STORE_SLACK)

    def test_copy_nearly_done_is_not_the_fault(self):
        self.fault.store.fill.return_value = 4096
        self.left.side_effect = [180 << 20, 190 << 20]
        self.assertRaises(inject.InjectError, self.fault.inject,
                          faults.SYNCING)

    def test_copy_gone_is_not_the_fault(self):
        self.fault.store.fill.return_value = 4096
        self.left.side_effect = [None, None]
        self.assertRaises(inject.InjectError, self.fault.inject,
                          faults.SYNCING)

    def test_store_not_full_is_not_the_fault(self):
        self.fault.store.fill.return_value = 64 << 20
        self.left.side_effect = [70 << 20, 71 << 20]
        self.assertRaises(inject.InjectError, self.fault.inject,
                          faults.SYNCING)

    def _observe(self, after_fill):
        self.fault.store.fill.return_value = 4096
        self.left.side_effect = [70 << 20, 71 << 20]
        obs = {'effect': 'phase syncing; %s' % self.fault.inject(
            faults.SYNCING)}
        self.mark.text.return_value = after_fill
        self.fault.observe(obs, 'the whole log')
        return obs

    def test_copy_failed_after_the_fill(self):
        obs = self._observe(
            'W [instance: x] V2V cutover rolled back: block copy of '
            'instance-1 failed (event for vda)')
        self.assertNotIn('missed', obs)
        self.assertIn('then: block copy of instance-1 failed', obs['effect'])

    def test_enospc_named(self):
        obs = self._observe('qemu-nbd: No space left on device')
        self.assertTrue(obs['effect'].endswith('; ENOSPC seen'))

    def test_copy_went_on_after_the_fill(self):
        obs = self._observe('V2V phase cutting-over')
        self.assertIsNone(obs['effect'])
        self.assertIn('did not fail', obs['missed'])

    def test_cleanup_waits_for_the_disk_inventory(self):
        # labhost-b reported the small store (0 GB) while it was mounted:
        # the retry waits for the next report of the whole store.
        sleep = self.useFixture(fixtures.MockPatchObject(
            faultgate.time, 'sleep')).mock
        cloud = self.fault.ctx.cloud
        totals = iter([251, 0, 0, 251])

        def openstack(*args, parse=False):
            if args[:3] == ('resource', 'provider', 'list'):
                self.assertEqual(('--name', 'labhost-b'), args[3:])
                return [{'uuid': 'rp-b', 'name': 'labhost-b'}]
            self.assertEqual(('resource', 'provider', 'inventory', 'list',
                              'rp-b'), args)
            total = next(totals)
            # Nova reports no DISK_GB class for a disk of 0 GB.
            return [{'resource_class': 'VCPU', 'total': 2}] + (
                [{'resource_class': 'DISK_GB', 'total': total}]
                if total else [])

        cloud.side_effect = openstack
        self.fault.prepare()
        self.assertEqual(251, self.fault.disk_gb)
        self.fault.cleanup()
        self.fault.store.remove.assert_called_once_with()
        self.assertEqual(2, sleep.call_count)

    def test_cleanup_fails_when_the_inventory_stays_small(self):
        self.useFixture(fixtures.MockPatchObject(faultgate.time, 'sleep'))
        clock = iter(range(0, 1000, 10))
        self.useFixture(fixtures.MockPatchObject(
            faultgate.time, 'monotonic', side_effect=lambda: next(clock)))
        self.fault.disk_gb = 251
        self.fault.ctx.cloud.side_effect = lambda *args, parse=False: (
            [{'uuid': 'rp-b'}] if args[2] == 'list' else
            [{'resource_class': 'DISK_GB', 'total': 0}])
        exc = self.assertRaises(inject.InjectError, self.fault.cleanup)
        self.assertIn('labhost-b reports 0 GB of disk to Placement, not 251',
                      str(exc))

    def test_cleanup_before_prepare_waits_for_nothing(self):
        self.fault.cleanup()
        self.fault.ctx.cloud.assert_not_called()


class TestCommand(testtools.TestCase):
    """``nova-v2v-aio gate-faults --json``: JSON on stdout, table on stderr."""

    def _run(self, *argv):
        from nova_v2v_rig.cmd import aio as aio_cmd
        report = {'rows': [], 'steps': {}, 'errors': [], 'seconds': 1.0,
                  'ok': True}
        run = self.useFixture(fixtures.MockPatchObject(
            faultgate, 'run', return_value=report)).mock
        self.useFixture(fixtures.MockPatchObject(
            faultgate, 'table', return_value='0 of 0 cells OK')).mock
        out = self.useFixture(fixtures.StringStream('stdout')).stream
        err = self.useFixture(fixtures.StringStream('stderr')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        args = aio_cmd._parser().parse_args(['gate-faults'] + list(argv))
        rc = aio_cmd._gate_faults(args, mock.Mock())
        out.seek(0)
        err.seek(0)
        return rc, out.read(), err.read(), run

    def test_json_on_stdout_table_on_stderr(self):
        rc, out, err, _run = self._run('--json', '--down')
        self.assertEqual(0, rc)
        self.assertTrue(json.loads(out)['ok'])
        self.assertEqual('0 of 0 cells OK\n', err)

    def test_table_alone(self):
        rc, out, err, run = self._run('--cell', '14')
        self.assertEqual('0 of 0 cells OK\n', out)
        self.assertEqual('', err)
        self.assertEqual([14], [c.number for c in run.call_args[1]['cells']])


class TestRebind(testtools.TestCase):
    """A lab file the machine replaced is bound again before libvirtd."""

    def test_only_what_was_replaced(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        hdir = os.path.join(tmp, 'host-a')
        root = os.path.join(tmp, 'proc', '7', 'root', 'etc')
        os.makedirs(hdir)
        os.makedirs(root)
        for name, own, seen in (('passwd', 'lab\n', 'machine\n'),
                                ('group', 'same\n', 'same\n')):
            with open(os.path.join(hdir, name), 'w') as f:
                f.write(own)
            with open(os.path.join(root, name), 'w') as f:
                f.write(seen)
        lab = mock.Mock()
        lab.host_dir.return_value = hdir
        execute = self.useFixture(fixtures.MockPatchObject(
            inject.processutils, 'execute')).mock
        inject._rebind_private_files(lab, 'a', 7,
                                     proc=os.path.join(tmp, 'proc'))
        execute.assert_called_once_with(
            'nsenter', '--mount=/proc/7/ns/mnt', '--', 'mount', '--bind',
            os.path.join(hdir, 'passwd'), '/etc/passwd')


class TestResolveHeld(testtools.TestCase):
    """README's resolution of a held cutover, as the cell performs it."""

    def setUp(self):
        super().setUp()
        self.ctx = mock.Mock()
        self.fault = mock.Mock()
        self.fault.name = 'instance-1'
        self.fault.migration_id = 7
        self.fault.guest.id = UUID
        self.fault.guest.instance_dir.return_value = '/var/lib/x/' + UUID
        self.inject = self.useFixture(fixtures.MockPatchObject(
            faultgate, 'inject')).mock
        self.inject.libvirt = inject.libvirt
        self.inject.InjectError = inject.InjectError
        self.inject.db_migration_uuid.return_value = 'mig-uuid'
        self.inject.write_requests.side_effect = [12, 40]
        self.inject.db_instance.side_effect = [{'locked': True},
                                               {'locked': False}]
        self.inject.destroy.return_value = True
        self.sleep = self.useFixture(fixtures.MockPatchObject(
            faultgate.time, 'sleep')).mock

    def test_the_clone_runs(self):
        self.inject.domain_state.return_value = (
            inject.libvirt.VIR_DOMAIN_RUNNING)
        done = faultgate.resolve_held(self.ctx, self.fault)
        self.assertNotIn('error', done)
        self.sleep.assert_called_once_with(faultgate.CHECK_SETTLE)
        self.assertEqual(
            [mock.call.domain_state(self.ctx.lab, 'b', 'instance-1'),
             mock.call.write_requests(self.ctx.lab, 'b', 'instance-1'),
             mock.call.write_requests(self.ctx.lab, 'b', 'instance-1'),
             mock.call.destroy(self.ctx.lab, 'a', 'instance-1'),
             mock.call.db_follow_clone(self.ctx.layout, UUID, 'labhost-b'),
             mock.call.db_migration_uuid(self.ctx.layout, 7),
             mock.call.db_instance(self.ctx.layout, UUID),
             mock.call.db_instance(self.ctx.layout, UUID),
             mock.call.destroy(self.ctx.lab, 'a', 'instance-1',
                               undefine=True),
             mock.call.remove_instance_dir(self.ctx.layout, 'a',
                                           '/var/lib/x/' + UUID)],
            self.inject.mock_calls)
        self.assertEqual([
            mock.call('resource', 'provider', 'allocation', 'delete',
                      'mig-uuid'),
            mock.call('server', 'set', '--state', 'active', '--auto-approve',
                      UUID),
            mock.call('server', 'unlock', UUID)],
            self.ctx.cloud.call_args_list)

    def test_a_clone_that_wrote_once_does_not_run(self):
        # README's check is the product's rule: writes that go on.
        self.inject.domain_state.return_value = (
            inject.libvirt.VIR_DOMAIN_RUNNING)
        self.inject.write_requests.side_effect = [12, 12]
        done = faultgate.resolve_held(self.ctx, self.fault)
        self.assertIn('the clone does not run', done['error'])
        self.inject.destroy.assert_not_called()

    def test_a_lock_that_stays_fails(self):
        self.inject.domain_state.return_value = (
            inject.libvirt.VIR_DOMAIN_RUNNING)
        self.inject.db_instance.side_effect = [{'locked': True},
                                               {'locked': True}]
        done = faultgate.resolve_held(self.ctx, self.fault)
        self.assertIn('still locked', done['error'])

    def test_the_clone_does_not_run(self):
        # Not this resolution's case: nothing is touched.
        self.inject.domain_state.return_value = (
            inject.libvirt.VIR_DOMAIN_SHUTOFF)
        done = faultgate.resolve_held(self.ctx, self.fault)
        self.assertIn('the clone does not run', done['error'])
        self.inject.destroy.assert_not_called()
        self.inject.db_follow_clone.assert_not_called()
        self.ctx.cloud.assert_not_called()

    def test_follow_clone_sql(self):
        sql = inject.follow_clone_sql(UUID, 'labhost-b')
        self.assertEqual(
            "UPDATE instances SET host='labhost-b', node='labhost-b', "
            "compute_id=(SELECT id FROM compute_nodes WHERE "
            "hypervisor_hostname='labhost-b' AND deleted=0) WHERE "
            "uuid='%s' AND deleted=0" % UUID, sql)
