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

"""Destination side of the V2V cutover: NBD exports of precreated disks.

:class:`ClientBoundExport` runs one non-persistent ``qemu-nbd`` per
precreated destination disk, bound to the destination's migration
address. It serves one client (the source's QEMU) and releases its image
by itself when that client disconnects: flushed, closed, its lock
dropped, the process gone. In the lab it runs inside the destination's
network namespace (``run_prefix``, e.g. ``['nsenter',
'--net=/run/netns/NS']``); Nova passes no prefix.

Who may connect is the export's :class:`ExportAccess`: QEMU's TLS with an
``authz-simple`` object that admits one client certificate's DN (the
source host's), and an address filter on the listening socket that
admits only the source host's addresses
(:mod:`nova_v2v.transfer.nbd_listen`, which execs qemu-nbd with the
socket, systemd socket activation).
"""

import dataclasses
import errno
import os
import signal
import socket
import time
import typing as ty

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v.transfer import exception
from nova_v2v.transfer import peer

LOG = logging.getLogger(__name__)

DEFAULT_PORT = 10809
EXIT_TIMEOUT = 15


@dataclasses.dataclass(frozen=True)
class ExportedDisk:
    """One disk exported over NBD: the record of a disk in a cutover.

    The one shape a disk has from the destination's export to the
    source's mirror: the destination creates it with where the disk is
    and its export name, :meth:`ClientBoundExport.exports` adds where the
    export listens, the destination stores it (:meth:`to_dict`) for the
    source, which adds the target dev of its guest's disk
    (``dataclasses.replace(disk, target=dev)``) and mirrors into it
    (:class:`nova_v2v.transfer.mirror.DiskSync`).

    :param path: the disk on the destination host (as the export's
        process sees it)
    :param format: its driver type (``qcow2``, ``raw``)
    :param name: the NBD export name
    :param host: the address the export listens on (the destination's
        migration address), once it runs
    :param port: its TCP port, once it runs
    :param pid_file: the pid file of its ``qemu-nbd``, once it runs
    :param source_path: the disk's path on the source host, when known
    :param target: the source guest's target dev of the disk (``vda``),
        which the source's block copy job mirrors; set by the source
    :param tls: True when the export requires TLS (the source's mirror
        then connects with TLS), once it runs
    :param tls_hostname: the name the mirror checks the export's
        certificate against, when not ``host`` (the destination's host
        name, as Nova's native TLS migration checks it); set by the source
    """

    path: str
    format: str
    name: str
    host: ty.Optional[str] = None
    port: ty.Optional[int] = None
    pid_file: ty.Optional[str] = None
    source_path: ty.Optional[str] = None
    target: ty.Optional[str] = None
    tls: ty.Optional[bool] = None
    tls_hostname: ty.Optional[str] = None

    def to_dict(self):
        """Plain data for the instance's system metadata.

        The keys the driver has always stored (``path``, ``format``,
        ``name``, ``host``, ``port``, ``pid_file``, ``source_path``),
        plus ``target``, ``tls`` and ``tls_hostname``; a field that is not
        known is left out.
        """
        return {key: value for key, value in dataclasses.asdict(self).items()
                if value is not None}

    @classmethod
    def from_dict(cls, data):
        """The disk a :meth:`to_dict` record describes.

        Keys this version does not know are ignored, so that a record
        written by a newer version stays readable.
        """
        known = {field.name for field in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values.setdefault('format', None)
        if values.get('port') is not None:
            values['port'] = int(values['port'])
        return cls(**values)


# -- exports that release themselves -----------------------------------

QEMU_NBD = 'qemu-nbd'
# How qemu-nbd (strerror(EADDRINUSE)) says that its port is taken.
ADDRESS_IN_USE = 'Address already in use'


def cmdline_has(pid, program):
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
    if pid and cmdline_has(pid, program):
        stopped = True
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
            try:
                os.kill(pid, sig)
            except OSError as exc:
                if exc.errno != errno.ESRCH:
                    raise
            deadline = time.monotonic() + wait
            while (time.monotonic() < deadline and
                   cmdline_has(pid, program)):
                time.sleep(0.05)
            if not cmdline_has(pid, program):
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


# The ids of the QEMU objects of an export's TLS.
TLS_CREDS_ID = 'v2v-tls'
TLS_AUTHZ_ID = 'v2v-authz'
# The filtered listener (:mod:`nova_v2v.transfer.nbd_listen`), a console
# script of nova-v2v found on PATH.
LISTEN_COMMAND = 'nova-v2v-nbd-listen'


@dataclasses.dataclass(frozen=True)
class ExportAccess:
    """Who may connect to an export: the source host only.

    :param tls_dir: QEMU's x509 directory (``ca-cert.pem``,
        ``server-cert.pem``, ``server-key.pem``); None serves without TLS
    :param tls_identity: the one client certificate DN admitted
        (``authz-simple``), required with ``tls_dir``
    :param addresses: the peer addresses admitted (a socket filter, see
        :mod:`nova_v2v.transfer.nbd_listen`); empty admits any
    :raises: ValueError when TLS has no identity
    """

    tls_dir: ty.Optional[str] = None
    tls_identity: ty.Optional[str] = None
    addresses: ty.Tuple[str, ...] = ()

    def __post_init__(self):
        if self.tls_dir and not self.tls_identity:
            raise ValueError('a TLS export needs the identity it admits')

    @classmethod
    def for_source(cls, source, tls_dir=None, filter_addresses=True):
        """The access that admits the source host ``source`` only.

        :param source: the :class:`peer.SourcePeer` the source recorded
        :param tls_dir: QEMU's x509 directory to serve TLS with, or None
        :param filter_addresses: admit only the source's addresses
        :raises: ExportError when ``source`` lacks what is needed
        """
        if source is None:
            raise exception.ExportError(
                'the source host recorded no identity for the export to '
                'admit (is it running an older nova-v2v?)')
        if tls_dir and not source.tls_dn:
            raise exception.ExportError(
                'the export runs with TLS but the source host recorded no '
                'client certificate DN (is its native TLS off?)')
        if filter_addresses and not source.addresses:
            raise exception.ExportError(
                'the source host recorded no address to admit')
        return cls(tls_dir=tls_dir or None,
                   tls_identity=source.tls_dn if tls_dir else None,
                   addresses=(tuple(source.addresses) if filter_addresses
                              else ()))

    @property
    def tls(self):
        return bool(self.tls_dir)

    def tls_args(self):
        """qemu-nbd's TLS and authorisation options (none without TLS)."""
        if not self.tls:
            return []
        return [
            '--object', 'tls-creds-x509,id=%s,endpoint=server,dir=%s,'
                        'verify-peer=on'
            % (TLS_CREDS_ID, peer.qemu_opt(self.tls_dir)),
            '--object', 'authz-simple,id=%s,identity=%s'
            % (TLS_AUTHZ_ID, peer.qemu_opt(self.tls_identity)),
            '--tls-creds', TLS_CREDS_ID, '--tls-authz', TLS_AUTHZ_ID]

    def listen_args(self, address, port):
        """The command that listens for qemu-nbd, filtered; [] if none.

        ``nova-v2v-nbd-listen`` (:mod:`nova_v2v.transfer.nbd_listen`),
        found on the compute's ``PATH`` as Nova finds ``privsep-helper``,
        listens where it runs and execs the qemu-nbd command that follows
        it: a host whose migration address lives in another network
        namespace puts a wrapper of that name first on ``PATH`` (as the
        all-in-one does).
        """
        if not self.addresses:
            return []
        args = [LISTEN_COMMAND, '--address', address, '--port', str(port)]
        for allowed in self.addresses:
            args += ['--allow', allowed]
        return args + ['--']


OPEN_ACCESS = ExportAccess()


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
    :param access: :class:`ExportAccess`, who may connect (default:
        anyone, in clear text)
    """

    def __init__(self, disks, address, ports=None, run_dir='/tmp',
                 run_prefix=None, tag='v2v', port_range=(DEFAULT_PORT,
                                                         DEFAULT_PORT + 99),
                 access=None):
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
        self.access = access or OPEN_ACCESS

    def command(self, index):
        """The command line of disk ``index``'s daemon.

        With allowed addresses, the listening socket is the wrapper's
        (socket activation), so qemu-nbd gets no ``--bind``/``--port``.
        """
        disk = self.disks[index]
        port = str(self.ports[index])
        listen = self.access.listen_args(self.address, port)
        where = [] if listen else ['--bind', self.address, '--port', port]
        return self.run_prefix + listen + [QEMU_NBD] + (
            self.access.tls_args()) + [
            '--fork', '--pid-file', self.pid_files[index],
            '--format', disk.format, '--cache', 'none', '--aio', 'native',
            '--discard', 'unmap', '--detect-zeroes', 'unmap',
            '--shared', '1', '--export-name', disk.name] + where + [
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

    def alive(self):
        return any(pid and cmdline_has(pid, QEMU_NBD) for pid in self.pids)

    def wait_exited(self, timeout=EXIT_TIMEOUT, poll=0.01):
        """Wait until every daemon exited; the export names still running.

        A release check for the host that runs the daemons: a qemu-nbd
        exits once it flushed and closed its image, after its client left.
        """
        deadline = time.monotonic() + timeout
        while True:
            held = [disk.name for disk, pid in zip(self.disks, self.pids)
                    if pid and cmdline_has(pid, QEMU_NBD)]
            if not held or time.monotonic() > deadline:
                return held
            time.sleep(poll)

    def kill(self, sig=signal.SIGKILL):
        """Send sig to every running daemon (fault injection)."""
        killed = []
        for pid in self.pids:
            if pid and cmdline_has(pid, QEMU_NBD):
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

    def exports(self):
        """The exported disks, with where each listens and its pid file.

        What the source needs to mirror into them (once it set each
        one's ``target``) and what the destination keeps to stop them
        (:meth:`ExportedDisk.to_dict`, :func:`stop_pid_file`).
        """
        return [dataclasses.replace(disk, host=self.address, port=port,
                                    pid_file=pid_file,
                                    tls=self.access.tls or None)
                for disk, port, pid_file in zip(self.disks, self.ports,
                                                self.pid_files)]
