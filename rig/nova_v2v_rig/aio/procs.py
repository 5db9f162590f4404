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

"""The processes the all-in-one starts: by PID, in their own group.

Each long-running service is started in a new session (so its PID is its
process group's ID) with its output in ``<state dir>/log/<name>.log``.
The record kept in the state file (``pid``, ``pgid``, ``needle``) lets a
later ``down`` stop exactly that group, and only if it still is what we
started: a member's command line must contain ``needle`` (PID reuse).

One-shot commands go through oslo.concurrency's processutils; the
long-running ones are started here with subprocess.Popen, which does not
wait for them.
"""

import os
import signal
import socket
import subprocess
import time

from oslo_log import log as logging

from nova_v2v_rig.aio import paths

LOG = logging.getLogger(__name__)

PROC = '/proc'


def parse_stat(text):
    """``(pid, state, ppid, pgrp)`` of a ``/proc/<pid>/stat`` line.

    The command name (2nd field) is in parentheses and may hold spaces
    and parentheses itself: split after its last ``)``.
    """
    head, _sep, tail = text.rpartition(')')
    pid = int(head.split('(', 1)[0])
    fields = tail.split()
    return pid, fields[0], int(fields[1]), int(fields[2])


def parse_rss_kib(status_text):
    """VmRSS of a ``/proc/<pid>/status`` text in KiB (0 if absent)."""
    for line in status_text.splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return 0


def _read(path, mode='r'):
    try:
        with open(path, mode) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def cmdline(pid):
    raw = _read(os.path.join(PROC, str(pid), 'cmdline'), 'rb')
    return raw.replace(b'\0', b' ').decode(errors='replace') if raw else ''


def group_pids(pgid):
    """Live (non-zombie) processes of process group ``pgid``."""
    found = []
    for name in os.listdir(PROC):
        if not name.isdigit():
            continue
        text = _read(os.path.join(PROC, name, 'stat'))
        if not text:
            continue
        try:
            pid, state, _ppid, pgrp = parse_stat(text)
        except (ValueError, IndexError):
            continue
        if pgrp == pgid and state != 'Z':
            found.append(pid)
    return sorted(found)


def ours(record):
    """The live members of the recorded group, if it is still ours."""
    pgid = record.get('pgid')
    if not pgid:
        return []
    members = group_pids(pgid)
    needle = record.get('needle', '')
    if members and any(needle in cmdline(pid) for pid in members):
        return members
    if members:
        LOG.warning('process group %(pgid)d has no "%(needle)s" any '
                    'more: not ours, left alone',
                    {'pgid': pgid, 'needle': needle})
    return []


def alive(record):
    return bool(ours(record))


def rss_mib(record):
    """Resident memory of the whole group, MiB."""
    total = 0
    for pid in ours(record):
        text = _read(os.path.join(PROC, str(pid), 'status')) or ''
        total += parse_rss_kib(text)
    return round(total / 1024.0, 1)


def spawn(layout, name, argv, needle, env=None, cwd=None):
    """Start ``argv`` in a new session; returns its state record."""
    os.makedirs(layout.log_dir, exist_ok=True)
    log_path = layout.log(name)
    full_env = dict(os.environ)
    full_env.update(env or {})
    with open(log_path, 'ab') as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=full_env,
                                cwd=cwd or layout.state_dir,
                                start_new_session=True, close_fds=True)
    LOG.info('%(name)s started, pid %(pid)d', {'name': name,
                                               'pid': proc.pid})
    return {'pid': proc.pid, 'pgid': proc.pid, 'needle': needle,
            'argv': list(argv), 'log': log_path,
            'port': paths.PORTS.get(name), 'started': time.time()}


def stop(record, timeout=30):
    """Stop the recorded group: TERM, wait, then KILL. True if gone."""
    members = ours(record)
    if not members:
        return True
    pgid = record['pgid']
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
        LOG.debug('signal %(sig)s to group %(pgid)d %(pids)s',
                  {'sig': sig, 'pgid': pgid, 'pids': members})
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not group_pids(pgid):
                return True
            time.sleep(0.1)
        members = group_pids(pgid)
    return not group_pids(pgid)


def port_open(port, host=paths.HOST, timeout=0.5):
    if not port:
        return None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def tail(path, lines=15):
    text = _read(path) or ''
    return '\n'.join(text.splitlines()[-lines:])


def _exited(name, record):
    return paths.AioError('%s exited; last lines of %s:\n%s'
                          % (name, record['log'], tail(record['log'])))


def wait_ready(name, record, check, timeout=60, still_running=False):
    """Wait until ``check()`` is true; fail early if the group died.

    :param still_running: the group must still run once ``check()`` is
        true (a relay that exited on a port or socket another process
        holds leaves the check true)
    :raises nova_v2v_rig.aio.paths.AioError: the group exited, or
        ``check()`` stayed false for ``timeout`` seconds
    """
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            if still_running and not group_pids(record['pgid']):
                raise _exited(name, record)
            return round(time.monotonic() - start, 2)
        # The group, not ours(): uWSGI rewrites its process titles while
        # it starts, and the needle may be missing for a moment.
        if not group_pids(record['pgid']):
            raise _exited(name, record)
        time.sleep(0.2)
    raise paths.AioError('%s not ready after %d s; see %s'
                         % (name, timeout, record['log']))
