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

"""What a drain did so far, in a file: the same command goes on from it.

One JSON file per drained host, written whole (a new file renamed over
the old) at every change, and locked (``fcntl.flock``) while a drain
runs: a second ``nova-v2v drain`` of the same host on this machine is
refused rather than starting a second move of a server.

Each server's entry has its ``status``: ``pending`` (to move),
``moving`` (a move was asked for), ``done``, ``failed``, ``skipped``
(the plan leaves it), with the move's ``mode``, ``dest``, ``attempts``,
times, ``bytes`` and ``outcome``.
"""

import errno
import fcntl
import json
import os
import tempfile
import time

PENDING = 'pending'
MOVING = 'moving'
DONE = 'done'
FAILED = 'failed'
SKIPPED = 'skipped'
STATUSES = (PENDING, MOVING, DONE, FAILED, SKIPPED)
VERSION = 1


class StateError(Exception):
    """The drain's state cannot be used."""


class DrainBusy(StateError):
    """Another drain of the host holds the state file."""


def default_path(host):
    """``$XDG_STATE_HOME/nova-v2v/drain-HOST.json`` (~/.local/state)."""
    base = os.environ.get('XDG_STATE_HOME') or os.path.join(
        os.path.expanduser('~'), '.local', 'state')
    safe = ''.join(c if c.isalnum() or c in '-_.' else '_' for c in host)
    return os.path.join(base, 'nova-v2v', 'drain-%s.json' % safe)


class DrainState(object):
    """The state file of one host's drain, locked while it is open.

    :param path: the file (created with its directory)
    :param host: the host drained: a file of another host is refused
    :raises: :class:`DrainBusy`, :class:`StateError`
    """

    def __init__(self, path, host):
        self.path = path
        self.host = host
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._lock = open(path + '.lock', 'a')
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise DrainBusy('another nova-v2v drain of %s runs (%s is '
                                'locked)' % (host, path))
            raise
        try:
            self.data = self._load()
        except Exception:
            self.close()
            raise
        self.resumed = bool(self.data['servers'])

    def _load(self):
        try:
            with open(self.path) as f:
                data = json.load(f)
        except FileNotFoundError:
            return {'version': VERSION, 'host': self.host,
                    'created': time.time(), 'runs': 0, 'servers': {},
                    'disabled': None}
        except ValueError as exc:
            raise StateError('%s is not a drain\'s state: %s'
                             % (self.path, exc))
        if data.get('version') != VERSION or not isinstance(
                data.get('servers'), dict):
            raise StateError('%s is not a drain\'s state of version %d'
                             % (self.path, VERSION))
        if data.get('host') != self.host:
            raise StateError('%s is the drain of %s, not of %s'
                             % (self.path, data.get('host'), self.host))
        return data

    @property
    def servers(self):
        """``{server id: entry}``."""
        return self.data['servers']

    def entry(self, server_id):
        return self.servers.get(server_id)

    def put(self, server_id, **fields):
        """Create or update a server's entry; the file is written."""
        entry = self.servers.setdefault(server_id, {'status': PENDING,
                                                    'attempts': 0})
        entry.update(fields)
        if entry['status'] not in STATUSES:
            raise StateError('unknown status %r' % entry['status'])
        self.save()
        return entry

    def of_status(self, *statuses):
        return {k: v for k, v in self.servers.items()
                if v['status'] in statuses}

    def save(self):
        """Write the file whole: a crash leaves the old one or the new."""
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix='.drain-', dir=directory)
        try:
            with os.fdopen(fd, 'w') as f:
                json.dump(self.data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except Exception:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def close(self):
        if self._lock is not None:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_UN)
            finally:
                self._lock.close()
                self._lock = None
