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

"""What every lab migration shares, live or V2V: the harness of one move.

A lab guest's names and paths on both hosts (:func:`new_guest`), its
disk filled or left sparse, the acknowledgements of its records as the
host sees them in its serial logs (:class:`SerialTail`), waiting for it
(:func:`wait_for`), shutting it down, removing it from both hosts, and
the checks after the move: its records on the moved disk
(:func:`check_records`) and what it left on a host
(:func:`host_leftovers`). :mod:`nova_v2v_rig.lab.migrate` (the live
modes) and :mod:`nova_v2v_rig.lab.v2v` (the V2V modes) both run their
moves with it, as does the all-in-one gate with the serial logs.
"""

import collections
import mmap
import os
import tempfile
import threading
import time
import uuid as uuidlib

import libvirt
from lxml import etree
from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import workload

LOG = logging.getLogger(__name__)

# The virtual size of a lab guest's data disk.
DISK_SIZE = 1024 ** 3
# Seconds a guest has for its first write after a boot or a move.
BOOT_TIMEOUT = 90
SHUTDOWN_TIMEOUT = 30
# The largest write of fill_disk's qemu-io requests.
FILL_CHUNK = 1 << 30


class LabMigrationError(Exception):
    """A lab migration could not run or did not do what it must."""


class SerialTail(threading.Thread):
    """Timestamp every "W n" line as it appears in the serial logs.

    The guest's own clock stops while its vCPUs are paused, so it cannot
    see the migration downtime; the host clock at which acknowledgements
    appear in the logs can. Each ack is ``(n, host time, guest time)``. A
    log that shrinks (a new QEMU truncated it) is read again from its
    start; a path given twice is read once.
    """

    def __init__(self, paths, interval=0.01):
        super(SerialTail, self).__init__(name='serial-tail', daemon=True)
        self.paths = list(dict.fromkeys(paths))
        self.interval = interval
        self.acks = {p: [] for p in self.paths}
        self._offsets = {p: 0 for p in self.paths}
        self._partial = {p: '' for p in self.paths}
        self._lock = threading.Lock()
        self._stop_evt = threading.Event()

    def _scan(self):
        now = time.time()
        for path in self.paths:
            try:
                with open(path, 'rb') as f:
                    if os.fstat(f.fileno()).st_size < self._offsets[path]:
                        self._offsets[path] = 0
                        self._partial[path] = ''
                    f.seek(self._offsets[path])
                    data = f.read()
            except (IOError, OSError):
                continue
            if not data:
                continue
            self._offsets[path] += len(data)
            text = self._partial[path] + data.decode('ascii', 'replace')
            lines = text.split('\n')
            self._partial[path] = lines.pop()
            with self._lock:
                for line in lines:
                    for n, guest_time in workload.parse_acks(line):
                        self.acks[path].append((n, now, guest_time))

    def run(self):
        while not self._stop_evt.is_set():
            self._scan()
            self._stop_evt.wait(self.interval)
        self._scan()

    def stop(self):
        self._stop_evt.set()
        self.join()

    def first_ack(self, path):
        return self.acks[path][0] if self.acks[path] else None

    def last_ack(self, path):
        return self.acks[path][-1] if self.acks[path] else None

    def merged(self):
        """Every path's acks in the order the host saw them."""
        with self._lock:
            acks = [a for path in self.paths for a in self.acks[path]]
        return sorted(acks, key=lambda a: a[1])


def wait_for(predicate, timeout, what, interval=0.1):
    """Poll ``predicate()`` every ``interval`` seconds until it is true.

    :param what: what is waited for, for the error
    :raises: LabMigrationError after ``timeout`` seconds
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise LabMigrationError('timed out after %ss waiting for %s'
                            % (timeout, what))


def domain_type(dom):
    """The ``<domain type>`` libvirt runs ``dom`` with: kvm or qemu."""
    return etree.fromstring(dom.XMLDesc(0).encode()).get('type')


def read_log(path):
    """The text of a (serial) log, '' if it cannot be read (yet)."""
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except (IOError, OSError):
        return ''


def shutdown(dom, timeout=SHUTDOWN_TIMEOUT):
    """ACPI shutdown; destroy if the guest does not power off in time."""
    try:
        dom.shutdown()
        wait_for(lambda: not dom.isActive(), timeout, 'guest power off')
        return True
    except (LabMigrationError, libvirt.libvirtError) as exc:
        LOG.warning('Clean shutdown failed (%(err)s), destroying',
                    {'err': exc})
        if dom.isActive():
            dom.destroy()
        return False


def quiet_libvirt(_ctx, err):
    """A libvirt error handler that logs at debug level only.

    For ``libvirt.registerErrorHandler``: errors are raised as
    libvirtError; they are not also printed on stderr.
    """
    LOG.debug('libvirt: %(err)s', {'err': err})


GuestPaths = collections.namedtuple(
    'GuestPaths', ['uuid', 'name', 'instance_dir', 'disk', 'serial_inside',
                   'serial'])


def new_guest(lab, tag, store):
    """Name and paths of a new lab guest whose instance dir is in store.

    ``disk`` and ``serial_inside`` are paths inside the hosts' view;
    ``serial`` maps each host to its serial log on the root filesystem.
    """
    inst_uuid = str(uuidlib.uuid4())
    name = 'lab-%s-%s' % (tag, inst_uuid[:8])
    inst_dir = os.path.join(store, inst_uuid)
    serial_inside = '/var/log/libvirt/qemu/%s-serial.log' % name
    return GuestPaths(inst_uuid, name, inst_dir,
                      os.path.join(inst_dir, 'disk'), serial_inside,
                      {h: lab.root_path(h, serial_inside)
                       for h in hosts.HOSTS})


def fill_disk(path, fmt, size, pattern=0x5a):
    """Write every byte of a disk image (a filled, not sparse, disk).

    The pattern is not zero, so neither QEMU's block status nor a zero
    detection can skip it: every cluster has to cross the link.
    """
    args = ['qemu-io', '-f', fmt]
    # qemu-io writes less than 2 GiB per request.
    for offset in range(0, size, FILL_CHUNK):
        args += ['-c', 'write -P %d %d %d' % (
            pattern, offset, min(FILL_CHUNK, size - offset))]
    processutils.execute(*(args + [path]))


def fill_or_clean(lab, conns, name, inst_dir, path, fmt, size):
    """:func:`fill_disk`; if it fails, :func:`cleanup` and close ``conns``.

    For a move that has not started its own clean-up yet: the failure
    propagates, nothing of the guest is left.
    """
    try:
        fill_disk(path, fmt, size)
    except Exception:
        cleanup(lab, conns, name, inst_dir)
        for conn in conns:
            conn.close()
        raise


def cleanup(lab, conns, name, inst_dir):
    """Remove the guest from both hosts: domains, disks."""
    for conn in conns:
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError:
            continue
        try:
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        except libvirt.libvirtError as exc:
            LOG.warning('Cleanup of %(name)s: %(err)s',
                        {'name': name, 'err': exc})
    for host in hosts.HOSTS:
        root = lab.root_path(host, inst_dir)
        if os.path.isdir(root):
            for f in os.listdir(root):
                os.unlink(os.path.join(root, f))
            os.rmdir(root)


def raw_copy(image, work_dir):
    """A raw copy of ``image`` in ``work_dir`` (the caller removes it).

    ``-U``: the image may be open in a running QEMU.
    """
    fd, raw = tempfile.mkstemp(prefix='verify-', suffix='.raw',
                               dir=work_dir)
    os.close(fd)
    processutils.execute('qemu-img', 'convert', '-U', '-O', 'raw', image,
                         raw)
    return raw


def verify_disk(image, logs, work_dir):
    """Convert image to a sparse raw file and run the workload verifier."""
    raw = raw_copy(image, work_dir)
    try:
        with open(raw, 'rb') as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                return workload.verify(mm, logs)
            finally:
                mm.close()
    finally:
        os.unlink(raw)


def check_records(result, image, logs, lab):
    """Verify the records on ``image`` against the serial ``logs``."""
    check = verify_disk(image, logs, lab.state_dir)
    result.update({
        'records_written': check['records_written'],
        'records_verified': check['records_verified'],
        'records_lost': check['records_lost'],
        'serial_gaps': check['serial_gaps'],
        'serial_unacked': check['serial_unacked'],
        'serial_repeats': check['serial_repeats'],
        'log_ranges': check['log_ranges'],
        'guest_clock_max_gap_ms': check['guest_max_gap_ms'],
    })


def median_period(acks):
    """Median host-observed time between acknowledgements, in ms."""
    periods = sorted(b[1] - a[1] for a, b in zip(acks, acks[1:]))
    if not periods:
        return None
    return round(periods[len(periods) // 2] * 1000.0, 1)


def host_leftovers(lab, host, conn, name, instance_dir_inside,
                   files=True):
    """What of guest ``name`` is left on ``host``: files, a domain.

    :param files: also list the files under the instance directory (not
        on a shared store, where the destination uses them)
    """
    left = []
    if files:
        root = lab.root_path(host, instance_dir_inside)
        if os.path.exists(root):
            for dirpath, _dirs, found in os.walk(root):
                left += [os.path.join(dirpath, f) for f in found]
            if not left:
                left.append(root + '/')
    for dom in conn.listAllDomains(0):
        if dom.name() == name:
            left.append('domain:%s' % name)
    return left
