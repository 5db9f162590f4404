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

"""A qemu-storage-daemon NBD export released over QMP (the lab's second
export kind, beside the product's client-bound ``qemu-nbd``)."""

import dataclasses
import errno
import json
import os
import signal
import socket
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v.transfer import exception
from nova_v2v.transfer import nbd

LOG = logging.getLogger(__name__)


QSD = 'qemu-storage-daemon'


DEFAULT_PORT = 10809


QMP_TIMEOUT = 30


class QMPClient(object):
    """A minimal QMP client over a unix socket.

    Events that arrive while waiting for a reply are kept in ``events``.
    """

    def __init__(self, path, timeout=QMP_TIMEOUT):
        self.path = path
        self.timeout = timeout
        self.events = []
        self._sock = None
        self._file = None

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise exception.QMPError('cannot connect to QMP socket %s: %s'
                                     % (self.path, exc))
        self._sock = sock
        self._file = sock.makefile('rwb')
        greeting = self._read()
        if 'QMP' not in greeting:
            raise exception.QMPError('no QMP greeting on %s: %r'
                                     % (self.path, greeting))
        self.execute('qmp_capabilities')
        return self

    def close(self):
        for obj in (self._file, self._sock):
            if obj is not None:
                try:
                    obj.close()
                except OSError:
                    pass
        self._file = self._sock = None

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.close()

    def _read(self):
        try:
            line = self._file.readline()
        except (OSError, socket.timeout) as exc:
            raise exception.QMPError('QMP read from %s failed: %s'
                                     % (self.path, exc))
        if not line:
            raise exception.QMPError('QMP socket %s closed' % self.path)
        try:
            return json.loads(line.decode('utf-8'))
        except ValueError:
            raise exception.QMPError('bad QMP message: %r' % line)

    def execute(self, command, arguments=None, allow_eof=False):
        msg = {'execute': command}
        if arguments:
            msg['arguments'] = arguments
        try:
            self._file.write(json.dumps(msg).encode('utf-8') + b'\r\n')
            self._file.flush()
        except OSError as exc:
            raise exception.QMPError('QMP write of %s failed: %s'
                                     % (command, exc))
        while True:
            try:
                reply = self._read()
            except exception.QMPError:
                if allow_eof:
                    return None
                raise
            if 'event' in reply:
                self.events.append(reply)
                continue
            if 'error' in reply:
                raise exception.QMPError('%s failed: %s' % (
                    command, reply['error'].get('desc', reply['error'])))
            return reply.get('return')

    def wait_event(self, name, match=None, timeout=None):
        """Return the first event ``name`` whose data includes match."""
        def matches(evt):
            data = evt.get('data', {})
            return evt.get('event') == name and all(
                data.get(k) == v for k, v in (match or {}).items())

        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for evt in self.events:
                if matches(evt):
                    self.events.remove(evt)
                    return evt
            left = deadline - time.monotonic()
            if left <= 0:
                raise exception.QMPError('no %s event within %ss'
                                         % (name, timeout or self.timeout))
            self._sock.settimeout(left)
            try:
                self.events.append(self._read())
            finally:
                if self._sock is not None:
                    self._sock.settimeout(self.timeout)


def pid_alive(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return QSD.encode() in f.read()
    except (IOError, OSError):
        return False


class NBDExport(object):
    """A qemu-storage-daemon exporting destination disks over NBD.

    :param disks: :class:`ExportedDisk` list (paths as this process sees
        them)
    :param address: the destination's migration address to listen on
    :param port: the TCP port
    :param run_dir: directory for the QMP socket and the pid file
    :param run_prefix: command wrapper for the daemon, e.g. ``['nsenter',
        '--net=/run/netns/NS']`` (None in production)
    """

    def __init__(self, disks, address, port=DEFAULT_PORT, run_dir='/tmp',
                 run_prefix=None, tag='v2v'):
        self.disks = list(disks)
        self.address = address
        self.port = int(port)
        self.run_prefix = list(run_prefix or [])
        self.tag = tag
        self.qmp_path = os.path.join(run_dir, '%s-qsd.qmp' % tag)
        self.pid_file = os.path.join(run_dir, '%s-qsd.pid' % tag)
        self.pid = None

    def _ids(self, index):
        return ('f%d' % index, 'd%d' % index, 'e%d' % index)

    def command(self):
        cmd = self.run_prefix + [QSD]
        for i, disk in enumerate(self.disks):
            fnode, dnode, export = self._ids(i)
            cmd += ['--blockdev',
                    'driver=file,filename=%s,node-name=%s,cache.direct=on,'
                    'aio=native,discard=unmap' % (disk.path, fnode),
                    '--blockdev',
                    'driver=%s,file=%s,node-name=%s,discard=unmap'
                    % (disk.format, fnode, dnode)]
        cmd += ['--nbd-server', 'addr.type=inet,addr.host=%s,addr.port=%d'
                % (self.address, self.port)]
        for i, disk in enumerate(self.disks):
            _fnode, dnode, export = self._ids(i)
            cmd += ['--export', 'type=nbd,id=%s,node-name=%s,name=%s,'
                    'writable=on' % (export, dnode, disk.name)]
        cmd += ['--chardev', 'socket,path=%s,server=on,wait=off,id=qmp0'
                % self.qmp_path,
                '--monitor', 'chardev=qmp0',
                '--pidfile', self.pid_file, '--daemonize']
        return cmd

    def start(self):
        for path in (self.qmp_path, self.pid_file):
            if os.path.exists(path):
                os.unlink(path)
        for disk in self.disks:
            if ',' in disk.path:
                raise exception.ExportError('unsupported "," in path %s'
                                            % disk.path)
        start = time.monotonic()
        try:
            processutils.execute(*self.command())
        except processutils.ProcessExecutionError as exc:
            raise exception.ExportError(
                'qemu-storage-daemon failed to start: %s'
                % (exc.stderr or exc).strip())
        with open(self.pid_file) as f:
            self.pid = int(f.read().strip())
        LOG.info('NBD export of %(n)d disk(s) on %(addr)s:%(port)d, '
                 'qemu-storage-daemon pid %(pid)d (%(sec).2f s)',
                 {'n': len(self.disks), 'addr': self.address,
                  'port': self.port, 'pid': self.pid,
                  'sec': time.monotonic() - start})
        return self

    def exports(self):
        """The exported disks, with where the daemon listens."""
        return [dataclasses.replace(disk, host=self.address, port=self.port)
                for disk in self.disks]

    def alive(self):
        return bool(self.pid) and pid_alive(self.pid)

    def release(self, hard=False, timeout=nbd.EXIT_TIMEOUT):
        """Remove the exports, close the images and stop the daemon.

        Safe to call more than once and after the daemon died.  Returns
        True when the images were closed over QMP, False when the daemon
        was already gone or had to be killed.
        """
        if not self.pid:
            return False
        clean = False
        if self.alive():
            try:
                self._release_qmp(hard)
                clean = True
            except exception.QMPError as exc:
                LOG.warning('Clean release of the NBD export failed '
                            '(%(err)s); stopping pid %(pid)d',
                            {'err': exc, 'pid': self.pid})
        self._wait_exit(timeout)
        self.pid = None
        for path in (self.qmp_path, self.pid_file):
            try:
                os.unlink(path)
            except OSError:
                pass
        return clean

    def _release_qmp(self, hard):
        start = time.monotonic()
        with QMPClient(self.qmp_path) as qmp:
            for i, _disk in enumerate(self.disks):
                fnode, dnode, export = self._ids(i)
                mode = 'hard' if hard else 'safe'
                try:
                    qmp.execute('block-export-del', {'id': export,
                                                     'mode': mode})
                except exception.QMPError:
                    if hard:
                        raise
                    qmp.execute('block-export-del', {'id': export,
                                                     'mode': 'hard'})
                qmp.wait_event('BLOCK_EXPORT_DELETED', {'id': export})
                qmp.execute('blockdev-del', {'node-name': dnode})
                qmp.execute('blockdev-del', {'node-name': fnode})
            released = time.monotonic()
            qmp.execute('quit', allow_eof=True)
        LOG.info('NBD export released in %(sec).3f s',
                 {'sec': released - start})

    def _wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return
            time.sleep(0.05)
        LOG.warning('qemu-storage-daemon pid %(pid)d did not exit; killing',
                    {'pid': self.pid})
        self.kill(signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def kill(self, sig=signal.SIGKILL):
        """Send sig to the daemon (fault injection, last resort)."""
        if not self.alive():
            return False
        try:
            os.kill(self.pid, sig)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise
        return True
