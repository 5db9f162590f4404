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

"""The ``openstack`` command line client, as an operator runs it.

The gate drives the cloud through this class only: one ``openstack``
process per call, with the admin credentials of ``admin-openrc`` in its
environment. Every call is kept (command, seconds, exit status) so that a
run can show what it did.
"""

import json
import os
import shlex
import subprocess
import sys
import threading
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.aio import paths

LOG = logging.getLogger(__name__)

# Enough for every command the gate uses: --host on a live migration needs
# 2.30, migration UUIDs in "server migration list/show" need 2.59.
COMPUTE_API_VERSION = '2.80'


class CommandFailed(paths.AioError):
    """An ``openstack`` command exited with an error."""


def read_openrc(path):
    """``{name: value}`` of the ``export NAME=VALUE`` lines of an openrc."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith('export '):
                continue
            name, _sep, value = line[len('export '):].partition('=')
            words = shlex.split(value) if value else ['']
            env[name.strip()] = words[0] if words else ''
    return env


class OpenStack(object):
    """Runs ``openstack`` commands with the all-in-one's admin account."""

    def __init__(self, layout, timeout=900):
        self.layout = layout
        self.argv0 = layout.bin('main', 'openstack')
        self.env = read_openrc(layout.openrc)
        self.env['OS_COMPUTE_API_VERSION'] = COMPUTE_API_VERSION
        # The client must not pick up a proxy for 127.0.0.1.
        self.env['no_proxy'] = self.env['NO_PROXY'] = '127.0.0.1,localhost'
        for name, default in (('PATH', '/usr/bin:/bin'), ('HOME', '/root'),
                              ('LANG', 'C.UTF-8')):
            self.env[name] = os.environ.get(name, default)
        self.timeout = timeout
        self.calls = []

    def __call__(self, *args, parse=False, check=True):
        """Run ``openstack ARGS``; the parsed JSON output if ``parse``."""
        argv = [self.argv0] + [str(a) for a in args]
        if parse:
            argv += ['-f', 'json']
        shown = 'openstack ' + ' '.join(shlex.quote(str(a)) for a in args)
        out, rc, err = self._run(shown, argv, ('--signal=KILL',))
        if rc:
            if check:
                raise CommandFailed('%s: exit %s: %s'
                                    % (shown, rc, err.strip()[-2000:]))
            return None
        if parse:
            return json.loads(out or 'null')
        return out

    def _run(self, shown, argv, signal):
        """``argv`` under this client's timeout: ``(stdout, exit, stderr)``.

        :param signal: ``timeout``'s options for what ends it past the
            timeout
        """
        LOG.info('$ %(cmd)s', {'cmd': shown})
        start = time.monotonic()
        try:
            out, err = processutils.execute(
                'timeout', *signal, str(self.timeout), *argv,
                env_variables=self.env)
            rc = 0
        except processutils.ProcessExecutionError as exc:
            out, err, rc = exc.stdout, exc.stderr or '', exc.exit_code
        self.calls.append({'command': shown, 'exit': rc,
                           'seconds': round(time.monotonic() - start, 1)})
        return out, rc, err

    def tool(self, name, *args):
        """Another client of the all-in-one's (``nova``): its output.

        With the same credentials and timeout as ``openstack``.

        :raises: CommandFailed when it exits non-zero
        """
        argv = [self.layout.bin('main', name)] + [str(a) for a in args]
        shown = ' '.join([name] + [shlex.quote(a) for a in argv[1:]])
        out, rc, err = self._run(shown, argv, ('--signal=KILL',))
        if rc:
            raise CommandFailed('%s: exit %s: %s'
                                % (shown, rc, err.strip()[-2000:]))
        return out

    def v2v_check(self, server, *extra, as_json=True):
        """``nova-v2v check SERVER [--json]``: (exit status, report).

        The report is the parsed JSON, or the text with ``as_json=False``
        (see :meth:`v2v`).
        """
        return self.v2v('check', server, *extra, as_json=as_json)

    def v2v(self, command, *args, as_json=True):
        """``nova-v2v COMMAND ARGS [--json]``: (exit status, output).

        The command of this environment (the gate's), with the same
        credentials as the ``openstack`` client, under this client's
        timeout. The output is the parsed JSON (``{'output': text}`` if it
        is none), or the text with ``as_json=False``.
        """
        argv = [os.path.join(os.path.dirname(sys.executable), 'nova-v2v'),
                command] + [str(a) for a in args] + (
                    ['--json'] if as_json else [])
        shown = ' '.join(['nova-v2v'] + [shlex.quote(a) for a in argv[1:]])
        # Past the timeout, SIGINT: the command cleans up what it made
        # (nova-v2v import deletes its server, image and ports), then
        # SIGKILL if it has not ended a minute later.
        out, rc, err = self._run(shown, argv,
                                 ('--signal=INT', '--kill-after=60'))
        if rc and err:
            LOG.info('%(cmd)s: exit %(rc)s: %(err)s',
                     {'cmd': shown, 'rc': rc, 'err': err.strip()[-2000:]})
        if not as_json:
            return rc, out
        try:
            return rc, json.loads(out)
        except ValueError:
            return rc, {'output': out}

    def shell(self):
        """An interactive ``openstack`` shell (see :class:`Shell`)."""
        return Shell(self)

    # -- the few reads the gate repeats ----------------------------------
    def server(self, server):
        return self('server', 'show', server, parse=True)

    def migrations(self, server):
        """The server's migrations, newest first."""
        rows = self('server', 'migration', 'list', '--server', server,
                    parse=True) or []
        return sorted(rows, key=lambda r: r.get('Id', 0), reverse=True)

    def wait_status(self, server, wanted, timeout=300, interval=2,
                    failed=('ERROR',)):
        """Poll ``server show`` until its status is one of ``wanted``."""
        deadline = time.monotonic() + timeout
        while True:
            info = self.server(server)
            status = info.get('status')
            if status in wanted:
                return info
            if status in failed:
                raise paths.AioError('server %s is %s: %s'
                                     % (server, status, info.get('fault')))
            if time.monotonic() > deadline:
                raise paths.AioError('server %s still %s after %d s '
                                     '(waiting for %s)'
                                     % (server, status, timeout,
                                        '/'.join(wanted)))
            time.sleep(interval)


def host_of(server_info):
    return server_info.get('OS-EXT-SRV-ATTR:host')


class Shell(object):
    """``openstack`` in its interactive mode, one command a line.

    The client reads its commands from a pipe and runs them one after the
    other; it is started and authenticated once, so that a command costs
    its API calls only, not the client's seconds of start-up (a fault cell
    must act the moment the cutover reaches a phase). :meth:`send` does
    not wait; what the client printed is kept with the time it came
    (:meth:`errors_since`). Every command sent is in the cloud's calls.
    """

    def __init__(self, cloud, timeout=180):
        self.cloud = cloud
        env = dict(cloud.env, PYTHONUNBUFFERED='1')
        self.proc = subprocess.Popen(
            [cloud.argv0], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, text=True)
        self.out = []
        self.err = []
        self._lock = threading.Lock()
        for stream, lines in ((self.proc.stdout, self.out),
                              (self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, lines),
                             daemon=True, name='openstack-shell').start()
        deadline = time.monotonic() + timeout
        try:
            self.send('token', 'issue', '-f', 'value', '-c', 'expires')
            while not self.out and time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        except paths.AioError:
            pass
        if not self.out:
            self.close()
            # What it printed before it exited.
            time.sleep(0.2)
            raise paths.AioError('the interactive openstack client did not '
                                 'answer: %s'
                                 % ''.join(l for _t, l in self.err)[-500:])

    def _read(self, stream, lines):
        for line in stream:
            with self._lock:
                lines.append((time.time(), line))

    def send(self, *args):
        """Send one command; the time it was sent."""
        shown = 'openstack ' + ' '.join(shlex.quote(str(a)) for a in args)
        if self.proc.poll() is not None:
            raise paths.AioError('the interactive openstack client exited '
                                 'before %s' % shown)
        LOG.info('$ %(cmd)s (interactive)', {'cmd': shown})
        sent = time.time()
        try:
            self.proc.stdin.write(' '.join(shlex.quote(str(a))
                                           for a in args) + '\n')
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise paths.AioError('the interactive openstack client is gone '
                                 '(%s) before %s' % (exc, shown))
        self.cloud.calls.append({'command': shown, 'exit': None,
                                 'seconds': None})
        return sent

    def errors_since(self, since):
        """What the client wrote to stderr since ``since``."""
        with self._lock:
            return ''.join(line for t, line in self.err if t >= since)

    def close(self, timeout=60):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
