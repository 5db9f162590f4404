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

"""Destination side of the V2V cutover: an NBD export of precreated disks.

One ``qemu-storage-daemon`` per migrating guest exports every precreated
destination disk (file node + format node) on one NBD server bound to the
destination's migration address.  In the lab it runs inside the
destination's network namespace (``run_prefix``, e.g. ``['nsenter',
'--net=/run/netns/NS']``); Nova passes no prefix.  It is controlled over a
QMP monitor on a unix socket, so no client ever dials its TCP address
except the source host's QEMU.

The release is clean: ``block-export-del`` (waiting for
``BLOCK_EXPORT_DELETED``), ``blockdev-del`` of both nodes (flushes and
closes the image, dropping its lock at once), ``quit``, then wait for the
process to exit.  A ``kill -9`` of the server could leave qcow2 metadata
of the destination unflushed.
"""

import errno
import json
import os
import signal
import socket
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v.transfer import exception

LOG = logging.getLogger(__name__)

QSD = 'qemu-storage-daemon'
DEFAULT_PORT = 10809
QMP_TIMEOUT = 30
EXIT_TIMEOUT = 15


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


class ExportedDisk(object):
    """One disk of an export: where it is, its format and export name."""

    def __init__(self, path, fmt, name):
        self.path = path
        self.format = fmt
        self.name = name

    def __repr__(self):
        return 'ExportedDisk(%s, %s, %s)' % (self.path, self.format,
                                             self.name)


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

    def nbd_source(self, disk):
        """(export name, host, port) the source QEMU connects to."""
        return disk.name, self.address, self.port

    def alive(self):
        return bool(self.pid) and pid_alive(self.pid)

    def release(self, hard=False, timeout=EXIT_TIMEOUT):
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


# -- exports that release themselves -----------------------------------

QEMU_NBD = 'qemu-nbd'
# How qemu-nbd (strerror(EADDRINUSE)) says that its port is taken.
ADDRESS_IN_USE = 'Address already in use'


def _cmdline_has(pid, program):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return program.encode() in f.read()
    except (IOError, OSError):
        return False


def read_pid_file(path):
    """The pid in ``path``, or None when it is missing or unreadable."""
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (IOError, OSError, ValueError):
        return None


def stop_pid_file(pid_file, timeout=EXIT_TIMEOUT, program=QEMU_NBD):
    """Stop the ``program`` whose pid ``pid_file`` holds, remove the file.

    SIGTERM first (qemu-nbd then flushes and closes its image), SIGKILL
    after ``timeout``.  Returns True when a live process was stopped.
    """
    pid = read_pid_file(pid_file)
    stopped = False
    if pid and _cmdline_has(pid, program):
        stopped = True
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
            try:
                os.kill(pid, sig)
            except OSError as exc:
                if exc.errno != errno.ESRCH:
                    raise
            deadline = time.monotonic() + wait
            while (time.monotonic() < deadline and
                   _cmdline_has(pid, program)):
                time.sleep(0.05)
            if not _cmdline_has(pid, program):
                break
            LOG.warning('%(prog)s pid %(pid)d did not exit on signal '
                        '%(sig)d', {'prog': program, 'pid': pid, 'sig': sig})
    try:
        os.unlink(pid_file)
    except OSError:
        pass
    return stopped


OPEN = 'open'
REFUSED = 'refused'
UNKNOWN = 'unknown'


def port_state(address, port, timeout=1.0):
    """OPEN, REFUSED (nothing listens) or UNKNOWN (no answer, no route).

    A listener whose accept queue is full (a qemu-nbd that serves its one
    client) drops new SYNs: that is UNKNOWN, never REFUSED.
    """
    try:
        with socket.create_connection((address, int(port)), timeout):
            return OPEN
    except ConnectionRefusedError:
        return REFUSED
    except OSError:
        return UNKNOWN


def port_open(address, port, timeout=1.0):
    """Whether something accepts TCP connections on address:port."""
    return port_state(address, port, timeout) == OPEN


def wait_closed(address, port, timeout=EXIT_TIMEOUT, poll=0.05,
                connect_timeout=0.2):
    """Wait until address:port refuses connections; True when it did.

    Only a refusal counts: a connection attempt that times out or finds
    no route proves nothing, and is tried again until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if port_state(address, port,
                      max(min(connect_timeout, left), 0.01)) == REFUSED:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)


class ClientBoundExport(object):
    """One ``qemu-nbd`` per disk that lives as long as its single client.

    Used across hosts, where the source cannot reach the destination's
    QMP monitor to release a :class:`NBDExport`: each disk is served by a
    non-persistent ``qemu-nbd`` (``--shared=1``, no ``--persistent``),
    which flushes and closes its image and exits as soon as its client
    disconnects.  The source's QEMU is that client: ending its block copy
    job (abort without pivot) or its exit releases the image, with no
    call from the source to the destination.  A daemon that never got its
    client (a failed move) is stopped by :meth:`stop` or
    :func:`stop_pid_file` with SIGTERM, on which qemu-nbd closes its image
    cleanly too.

    :param disks: :class:`ExportedDisk` list
    :param address: the destination's migration address to listen on
    :param ports: one TCP port per disk
    :param run_dir: directory for the pid files
    :param run_prefix: command wrapper, as for :class:`NBDExport`
    """

    def __init__(self, disks, address, ports=None, run_dir='/tmp',
                 run_prefix=None, tag='v2v', port_range=(DEFAULT_PORT,
                                                         DEFAULT_PORT + 99)):
        self.disks = list(disks)
        self.ports = [int(p) for p in ports] if ports is not None else None
        if self.ports is not None and len(self.ports) != len(self.disks):
            raise ValueError('one port per disk is needed')
        self.port_range = port_range
        self.address = address
        self.run_prefix = list(run_prefix or [])
        self.tag = tag
        self.pid_files = [os.path.join(run_dir, '%s-nbd-%d.pid' % (tag, i))
                          for i in range(len(self.disks))]
        self.pids = [None] * len(self.disks)

    def command(self, index):
        disk = self.disks[index]
        return self.run_prefix + [
            QEMU_NBD, '--fork', '--pid-file', self.pid_files[index],
            '--format', disk.format, '--cache', 'none', '--aio', 'native',
            '--discard', 'unmap', '--detect-zeroes', 'unmap',
            '--shared', '1', '--export-name', disk.name,
            '--bind', self.address, '--port', str(self.ports[index]),
            disk.path]

    def start(self):
        """Start every daemon; on a failure stop those already started.

        Without ``ports``, each disk gets the first port of
        ``port_range`` that its ``qemu-nbd`` manages to bind: the daemon
        itself is the test, so there is no window between a check and the
        bind, and the test runs where the daemon runs (its network
        namespace may not be this process's).
        """
        allocate = self.ports is None
        if allocate:
            self.ports = [None] * len(self.disks)
        try:
            for index in range(len(self.disks)):
                if allocate:
                    self._start_on_free_port(index)
                else:
                    self._start_one(index)
        except Exception:
            self.stop()
            raise
        return self

    def _start_on_free_port(self, index):
        low, high = self.port_range
        # After the previous disk's port: those below it were taken.
        taken = [p for p in self.ports[:index] if p is not None]
        first = max(taken) + 1 if taken else int(low)
        for port in range(first, int(high) + 1):
            self.ports[index] = port
            try:
                self._start_one(index)
            except exception.PortInUse:
                continue
            return
        self.ports[index] = None
        raise exception.ExportError(
            'no free port in %d-%d on %s to export %s'
            % (low, high, self.address, self.disks[index].path))

    def _start_one(self, index):
        pid_file = self.pid_files[index]
        if os.path.exists(pid_file):
            stop_pid_file(pid_file)
        try:
            processutils.execute(*self.command(index))
        except processutils.ProcessExecutionError as exc:
            detail = (exc.stderr or str(exc)).strip()
            if ADDRESS_IN_USE in detail:
                raise exception.PortInUse(
                    'port %d on %s is in use' % (self.ports[index],
                                                 self.address))
            raise exception.ExportError(
                'qemu-nbd failed to export %s: %s'
                % (self.disks[index].path, detail))
        self.pids[index] = read_pid_file(pid_file)
        LOG.info('NBD export %(name)s of %(path)s on %(addr)s:%(port)d, '
                 'qemu-nbd pid %(pid)s',
                 {'name': self.disks[index].name,
                  'path': self.disks[index].path, 'addr': self.address,
                  'port': self.ports[index], 'pid': self.pids[index]})

    def nbd_source(self, disk):
        """(export name, host, port) the source QEMU connects to."""
        return disk.name, self.address, self.ports[self.disks.index(disk)]

    def alive(self):
        return any(pid and _cmdline_has(pid, QEMU_NBD) for pid in self.pids)

    def wait_exited(self, timeout=EXIT_TIMEOUT, poll=0.01):
        """Wait until every daemon exited; the export names still running.

        A release check for the host that runs the daemons: a qemu-nbd
        exits once it flushed and closed its image, after its client left.
        """
        deadline = time.monotonic() + timeout
        while True:
            held = [disk.name for disk, pid in zip(self.disks, self.pids)
                    if pid and _cmdline_has(pid, QEMU_NBD)]
            if not held or time.monotonic() > deadline:
                return held
            time.sleep(poll)

    def kill(self, sig=signal.SIGKILL):
        """Send sig to every running daemon (fault injection)."""
        killed = []
        for pid in self.pids:
            if pid and _cmdline_has(pid, QEMU_NBD):
                try:
                    os.kill(pid, sig)
                except OSError as exc:
                    if exc.errno != errno.ESRCH:
                        raise
                killed.append(pid)
        return killed

    def stop(self, timeout=EXIT_TIMEOUT):
        """Stop whatever daemon still runs (rollback)."""
        for index, pid_file in enumerate(self.pid_files):
            stop_pid_file(pid_file, timeout)
            self.pids[index] = None

    def records(self):
        """Plain data describing the exports, for the other host."""
        return [{'path': d.path, 'format': d.format, 'name': d.name,
                 'host': self.address, 'port': port, 'pid_file': pid_file}
                for d, port, pid_file in zip(self.disks, self.ports,
                                             self.pid_files)]
