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

"""tools/run-tests.sh with a stand-in for tox: its counts and time limits."""

import os
import re
import subprocess
import time

import fixtures
import testtools
from testtools import content

_SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'tools',
                       'run-tests.sh')

# A tox that prints what stestr would per env: "ok" passes with one test
# that passed on its second run (and a failure's capture quoting such a
# line, indented: not counted), "bad" has a failed test, "hang" starts a
# worker in its process group (as stestr does) and never ends, "stubborn"
# does the same ignoring SIGTERM.
FAKE_TOX = r'''#!/usr/bin/env python3
import os
import signal
import subprocess
import sys
import time

env = sys.argv[2]


def totals(passed, failed, skipped):
    print('======\nTotals\n======\nRan: %d tests in 1.0 sec.\n'
          ' - Passed: %d\n - Skipped: %d\n - Expected Fail: 0\n'
          ' - Unexpected Success: 0\n - Failed: %d'
          % (passed + failed + skipped, passed, skipped, failed))


if env == 'ok':
    print('{0} tests.x.T.test_a [1.0s] ... ok', flush=True)
    sys.stderr.write('\nRERUN-PASSED: tests.x.T.test_a: hrtimer-rbtree\n')
    sys.stderr.flush()
    print('    RERUN-PASSED: tests.x.T.test_b: quoted by a failure')
    totals(3, 0, 1)
elif env == 'bad':
    totals(2, 1, 0)
    sys.exit(1)
elif env in ('gate', 'horizon', 'gate-faults'):
    print('ARGS %s: %s' % (env, ' '.join(sys.argv[3:])))
    print({'gate': '2 of 2 moves OK', 'horizon': '4 of 5 actions OK, 0 '
           'records lost', 'gate-faults': '16 of 16 cells OK'}[env])
else:
    code = 'import time\ntime.sleep(120)\n'
    if env == 'stubborn':
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        code = ('import signal\n'
                'signal.signal(signal.SIGTERM, signal.SIG_IGN)\n' + code)
    worker = subprocess.Popen([sys.executable, '-c', code])
    with open(os.environ['FAKE_PIDS'], 'a') as f:
        f.write('%d\n' % worker.pid)
    time.sleep(120)
'''


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


class RunTestsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.tox = os.path.join(self.tmp, 'tox')
        with open(self.tox, 'w') as f:
            f.write(FAKE_TOX)
        os.chmod(self.tox, 0o755)
        self.pids = os.path.join(self.tmp, 'pids')

    def _run(self, *envs, **limits):
        env = dict(os.environ, TOX=self.tox, TMPDIR=self.tmp,
                   FAKE_PIDS=self.pids, NOVA_V2V_TEST_KILL_AFTER='1')
        for name in ('NOVA_V2V_TEST_TIMEOUT', 'NOVA_V2V_TEST_TIMEOUT_HANG',
                     'NOVA_V2V_TEST_TIMEOUT_STUBBORN'):
            env.pop(name, None)
        env.update(limits)
        proc = subprocess.run(['bash', _SCRIPT] + list(envs), env=env,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=60)
        self.addDetail('output', content.text_content(proc.stdout))
        # Without each env's time, "(Ns)", which the machine's load sets.
        return proc.returncode, [re.sub(r' \(\d+s\)$', '', line)
                                 for line in proc.stdout.splitlines()]

    def test_counts_and_reruns(self):
        rc, lines = self._run('ok', 'bad')
        self.assertEqual(1, rc)
        self.assertIn('--- ok: 3 passed, 0 failed, 1 skipped, 1 passed only '
                      'on a second run, OK', lines)
        self.assertIn('  bad: 2 passed, 1 failed, 0 skipped, 0 passed only '
                      'on a second run, exit 1, FAILED', lines)
        # The closing line: "N passed, M failed" as before, then K.
        self.assertEqual('5 passed, 1 failed, 1 skipped, 1 passed only on a '
                         'second run', lines[-1])

    def test_the_suites_that_share_the_all_in_one(self):
        rc, lines = self._run('gate', 'horizon', 'gate-faults')
        self.assertIn('ARGS gate: -- --keep', lines)
        self.assertIn('ARGS horizon: -- --json --keep', lines)
        self.assertIn('ARGS gate-faults: -- --json --down', lines)
        self.assertIn('--- horizon: 4 passed, 1 failed, 0 skipped, 0 passed '
                      'only on a second run, exit 1, FAILED', lines)
        self.assertEqual(1, rc)
        _rc, lines = self._run('horizon')
        self.assertIn('ARGS horizon: -- --json', lines)
        _rc, lines = self._run('gate', 'horizon')
        self.assertIn('ARGS gate: -- --keep', lines)
        self.assertIn('ARGS horizon: -- --json --down', lines)
        _rc, lines = self._run('gate')
        self.assertIn('ARGS gate: ', lines)

    def test_all_pass(self):
        rc, lines = self._run('ok')
        self.assertEqual(0, rc)
        self.assertEqual('3 passed, 0 failed, 1 skipped, 1 passed only on a '
                         'second run', lines[-1])

    def _workers(self):
        with open(self.pids) as f:
            return [int(line) for line in f]

    def test_hung_env_times_out_with_its_workers(self):
        start = time.monotonic()
        rc, lines = self._run('hang', 'ok', 'stubborn',
                              NOVA_V2V_TEST_TIMEOUT_HANG='1',
                              NOVA_V2V_TEST_TIMEOUT='1')
        # Each hung env ends at its limit (plus the SIGKILL's second for
        # the one that ignores SIGTERM), and the next env still runs.
        self.assertLess(time.monotonic() - start, 30)
        self.assertEqual(1, rc)
        self.assertIn('hang: timed out after 1s', lines)
        self.assertIn('stubborn: timed out after 1s', lines)
        self.assertIn('  hang: timed out after 1s, exit 124, FAILED', lines)
        self.assertIn('  stubborn: timed out after 1s, exit 137, FAILED',
                      lines)
        self.assertIn('Failed envs: hang stubborn', lines)
        # A hung env is one failure.
        self.assertEqual('3 passed, 2 failed, 1 skipped, 1 passed only on a '
                         'second run', lines[-1])
        # The workers the stand-in for tox started died with it, the one
        # that ignores SIGTERM too.
        workers = self._workers()
        self.assertEqual(2, len(workers))
        for pid in workers:
            for _i in range(50):
                if not _alive(pid):
                    break
                time.sleep(0.1)
            self.assertFalse(_alive(pid), pid)

    def test_limit_per_env(self):
        # The env's own variable wins over the default of other envs.
        rc, lines = self._run('hang', NOVA_V2V_TEST_TIMEOUT='100',
                              NOVA_V2V_TEST_TIMEOUT_HANG='1')
        self.assertIn('hang: timed out after 1s', lines)
