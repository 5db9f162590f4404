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

"""Run one migration of a fresh workload guest from host a to b.

Boots the workload guest on host a, lets it write, moves it to host b,
lets it write on b, shuts it down over ACPI and verifies the data disk
against the acknowledged writes in both serial logs.

* ``shared-live`` / ``block-live``: a libvirt live migration with
  ``nova_v2v_rig.lab.live`` (p2p, driven over host a's unix socket).
* ``v2v-cutover``: ``nova_v2v.transfer.cutover``: block copy onto an NBD
  export started in host b's netns, stop, boot the translated clone on b.
* ``offline``: ``nova_v2v.transfer.offline``: shutdown, ``qemu-img
  convert`` into b's store, boot the translated clone on b.
"""

import collections
import functools
import mmap
import os
import tempfile
import threading
import time
import uuid as uuidlib

import libvirt
import libvirt_qemu
from lxml import etree
from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v.planning import compat
from nova_v2v.planning import profile as v2v_profile
from nova_v2v import privsep
from nova_v2v.storage import disks
from nova_v2v_rig.lab import accel
from nova_v2v_rig.lab import domain
from nova_v2v_rig.lab import engine
from nova_v2v_rig.lab import guest
from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import link
from nova_v2v_rig.lab import live
from nova_v2v_rig.lab import tls as lab_tls
from nova_v2v_rig.lab import workload

LOG = logging.getLogger(__name__)

LIVE_MODES = ('shared-live', 'block-live')
V2V_MODES = ('v2v-cutover', 'offline')
MODES = LIVE_MODES + V2V_MODES

DISK_SIZE = 1024 ** 3
BOOT_TIMEOUT = 90
SHUTDOWN_TIMEOUT = 30
FILL_CHUNK = 1 << 30


def unacked_allowed(mode):
    """How many records a move may leave written but not acknowledged.

    A V2V move boots the guest again from its moved disk, so the source
    may have stopped between a record's write and its acknowledgement: one
    record (intact on disk, see nova_v2v_rig.lab.workload.verify).  A live
    migration carries the guest on: none.
    """
    return 0 if mode in LIVE_MODES else 1


class LabMigrationError(Exception):
    pass


class GuestCrashed(LabMigrationError):
    """The guest died or hung on its new host after its live state moved.

    ``crash`` is the guest's first line about it, or what the hang was;
    ``known_fault`` is :func:`nova_v2v.planning.compat.live_state_caveat`
    for the source (why QEMU itself may have lost guest memory writes), or
    None. Raised by
    :func:`run` and by the all-in-one gate (nova_v2v_rig.aio.gate).
    """

    def __init__(self, message, crash, known_fault):
        super(GuestCrashed, self).__init__(message)
        self.crash = crash
        self.known_fault = known_fault


def once_more(migration, told):
    """``migration()``, called again once if the guest died of a known fault.

    A :class:`GuestCrashed` with a ``known_fault`` is given to ``told`` (to
    record it) and ``migration()`` runs once more, with a new guest; any
    other error, a crash without a known fault or a second crash propagates.
    """
    try:
        return migration()
    except GuestCrashed as exc:
        if not exc.known_fault:
            raise
        told(exc)
    return migration()


# The first line Linux prints when its kernel dies.
CRASH_MARKERS = ('Kernel panic - not syncing', 'BUG: ', 'Oops: ',
                 'general protection fault')


def guest_crash(text):
    """The first line of a guest kernel crash in a serial log, or None."""
    for line in text.splitlines():
        if any(marker in line for marker in CRASH_MARKERS):
            return line.strip()
    return None


def silent_on_b(message, log_b, state, known_fault):
    """The error for a moved guest that never wrote on host b.

    A kernel crash in its serial log, or a guest that runs but stays
    silent (hung: lost memory writes can leave the kernel spinning with
    interrupts off instead of crashing it), is a :class:`GuestCrashed`,
    run once more when ``known_fault`` explains it; anything else (the
    guest not running) is a :class:`LabMigrationError`.
    """
    crash = guest_crash(log_b)
    if crash:
        return GuestCrashed(message, crash, known_fault)
    if state == libvirt.VIR_DOMAIN_RUNNING:
        return GuestCrashed(
            message, 'hung: running on host b, not one write in %d s'
            % BOOT_TIMEOUT, known_fault)
    return LabMigrationError(message)


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


# libvirt's domain types as nova_v2v.planning.profile names accelerators.
_ACCELERATORS = {'kvm': v2v_profile.KVM, 'qemu': v2v_profile.TCG}


def _domain_type(dom):
    return etree.fromstring(dom.XMLDesc(0).encode()).get('type')


def _wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise LabMigrationError('timed out after %ss waiting for %s'
                            % (timeout, what))


def _raw_copy(image, work_dir):
    fd, raw = tempfile.mkstemp(prefix='verify-', suffix='.raw',
                               dir=work_dir)
    os.close(fd)
    processutils.execute('qemu-img', 'convert', '-U', '-O', 'raw', image,
                         raw)
    return raw


def verify_disk(image, logs, work_dir):
    """Convert image to a sparse raw file and run the workload verifier."""
    raw = _raw_copy(image, work_dir)
    try:
        with open(raw, 'rb') as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                return workload.verify(mm, logs)
            finally:
                mm.close()
    finally:
        os.unlink(raw)


def _read(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except (IOError, OSError):
        return ''


def _shutdown(dom, timeout=SHUTDOWN_TIMEOUT):
    """ACPI shutdown; destroy if the guest does not power off in time."""
    try:
        dom.shutdown()
        _wait_for(lambda: not dom.isActive(), timeout, 'guest power off')
        return True
    except (LabMigrationError, libvirt.libvirtError) as exc:
        LOG.warning('Clean shutdown failed (%(err)s), destroying',
                    {'err': exc})
        if dom.isActive():
            dom.destroy()
        return False


def _transferred(completed, progress):
    """(memory bytes, disk bytes) from completed stats and the last polls.

    The source's completed stats (its job-completed event) count all;
    the destination's lack the disk counters (the mirror is driven by the
    source), so the polled maximum is used too.
    """
    def best(key):
        return int(max([completed.get(key, 0) or 0] +
                       [s.get(key, 0) or 0 for s in progress]))
    return best('memory_processed'), best('disk_processed')


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


def run(lab, mode, before=4.0, after=4.0, dirty_mb=8, profile='virtio',
        keep=False, tls=False, libvirt_options=None, expect_refusal=False,
        memory_mib=256, disk_size=DISK_SIZE, fill_mb=0, prefill=False,
        tuning=None, kernel_args=None, after_move=None, **v2v_args):
    """Run one migration; returns the result dict printed by the CLI.

    :param tls: the live modes over libvirt native TLS: short for Nova's
        ``[libvirt] live_migration_with_native_tls = True`` and
        ``live_migration_scheme = tls`` (the lab must be up with TLS)
    :param libvirt_options: those two Nova ``[libvirt]`` options as a
        dict, to set them one by one (nova_v2v_rig.lab.tls.Transport)
    :param expect_refusal: a refused live migration is an outcome, not an
        error: the result tells whether the source kept running and
        writing, and its records are checked on host a's disk
    :param memory_mib: the guest's memory
    :param disk_size: the data disk's virtual size in bytes
    :param fill_mb: MiB of fresh data the guest writes past its records
        every second (disk write load, see guest.WORKLOAD_INIT)
    :param prefill: write every cluster of the data disk before the guest
        boots (a filled disk instead of a sparse one)
    :param tuning: how the live migration is driven (flags, params and a
        job monitor, see :class:`Tuning`); the default runs the lab's own
        flags with no monitor
    :param kernel_args: more guest kernel arguments, ``{name: value}``
        (live modes)
    :param after_move: called with host b's domain once the guest wrote
        there (live modes; tests provoke faults with it)
    """
    if mode not in MODES:
        raise LabMigrationError('mode must be one of %s' % (MODES,))
    try:
        transport = lab_tls.Transport.from_options(libvirt_options, tls=tls)
    except lab_tls.TLSError as exc:
        raise LabMigrationError(str(exc))
    if mode in V2V_MODES:
        if (transport.needs_certificates or expect_refusal or kernel_args
                or after_move):
            raise LabMigrationError('TLS, expect_refusal, kernel_args and '
                                    'after_move are for the live modes')
        from nova_v2v_rig.lab import v2v
        return v2v.run(lab, mode, before=before, after=after,
                       dirty_mb=dirty_mb, profile=profile, keep=keep,
                       memory_mib=memory_mib, disk_size=disk_size,
                       fill_mb=fill_mb, prefill=prefill, **v2v_args)
    state = lab.load()
    if not state:
        raise LabMigrationError('lab is not up; run "nova-v2v-lab up"')
    block = mode == 'block-live'
    lab_shared = bool(state.get('shared'))
    if block and lab_shared:
        raise LabMigrationError('block-live needs per-host instance stores;'
                                ' the lab was started with --shared')
    if transport.needs_certificates and not state.get('tls'):
        raise LabMigrationError('%s needs the lab certificates; run '
                                '"nova-v2v-lab up --tls"' % (
                                    transport.options(),))
    store = (hosts.INSTANCES_PATH if block or lab_shared
             else hosts.SHARED_PATH)
    image = guest.build(lab.cache_dir)
    virt_type, reason = accel.detect(
        image, cache_file=os.path.join(lab.cache_dir, 'accel'))
    libvirt.registerErrorHandler(_quiet_libvirt, None)
    engine.ensure_event_loop()
    # The lab runs as root on purpose: the privileged file operations
    # run in this process, no privsep daemon.
    privsep.run_in_process()
    LOG.info('Guest accelerator: %(t)s (%(r)s)',
             {'t': virt_type, 'r': reason})
    conn_a = libvirt.open(lab.local_uri('a'))
    conn_b = libvirt.open(lab.local_uri('b'))
    inst_uuid, name, inst_dir, disk_inside, serial_inside, serial = (
        new_guest(lab, mode.split('-')[0], store))
    disk_rel = os.path.relpath(disk_inside, store)
    disk_a = disks.precreate(lab.root_path('a', store), disk_rel, 'qcow2',
                             disk_size)
    if prefill:
        _fill_or_clean(lab, (conn_a, conn_b), name, inst_dir, disk_a,
                       'qcow2', disk_size)
    spec = domain.DomainSpec(
        name, inst_uuid, image.kernel, image.initrd, disk_inside,
        serial_inside, domain_type=virt_type, profile=profile,
        memory_mib=memory_mib,
        cmdline_extra=dict(kernel_args or {}, **{'lab.dirty_mb': dirty_mb,
                                                 'lab.fill_mb': fill_mb}))
    tail = SerialTail([serial['a'], serial['b']])
    tail.start()
    result = {'mode': mode, 'name': name, 'uuid': inst_uuid,
              'accel_reason': reason, 'transport': transport.options()}
    dest_dom = None
    try:
        t0 = time.monotonic()
        dom = conn_a.defineXML(domain.to_xml(spec))
        dom.create()
        _wait_for(lambda: tail.first_ack(serial['a']), BOOT_TIMEOUT,
                  'first write of the guest on host a')
        result['boot_seconds'] = round(time.monotonic() - t0, 2)
        result['source_accel'] = _domain_type(dom)
        result['source_hardware'] = domain.hardware_label(dom.XMLDesc(0))
        time.sleep(before)
        if block:
            t_precreate = time.monotonic()
            src = disks.describe(disk_a)
            disks.precreate_like(lab.root_path('b', store), disk_rel, src)
            result['precreate_seconds'] = round(
                time.monotonic() - t_precreate, 3)
        flags = live.build_flags(block=block, trust_shared=not block,
                                 tls=transport.native_tls)
        params = {}
        tuning = tuning or Tuning()
        flags, params = tuning.prepare(dom, flags, params, block=block)
        dest_uri = lab.lab_uri('b', transport.scheme)
        result['migration_uri'] = dest_uri
        result['migration_flags'] = flags
        result['migration_params'] = sorted(params)
        evidence = None
        if transport.needs_certificates:
            evidence = lab_tls.Evidence(lab, 'b', transport)
        mig = live.LiveMigration(
            dom, dest_uri, flags, params,
            poll_interval=tuning.poll_interval, timeout=tuning.timeout,
            progress_cb=functools.partial(_progress, dom, tuning))
        wire = link.wire_bytes(lab)
        if evidence is not None:
            evidence.watch(dom)
        try:
            mig.run()
        except live.MigrationFailed as exc:
            if not expect_refusal:
                raise
            _refused(lab, result, exc, dom, conn_b, tail, serial,
                     lab.root_path('a', disk_inside), inst_dir)
            return result
        finally:
            result['job_polls'] = dict(mig.polls)
            if evidence is not None:
                evidence.stop()
                result['tls_evidence'] = evidence.as_dict()
        dest_dom = conn_b.lookupByName(name)
        # The source's own final statistics (the disks' mirror counted);
        # the destination's lack the disk counters.
        completed = mig.completed
        result['job_stats_from'] = 'source job-completed event'
        if completed is None:
            completed = live.completed_stats(dest_dom)
            result['job_stats_from'] = 'destination, and the polls'
        state_b = dest_dom.state()[0]
        result['dest_running'] = state_b == libvirt.VIR_DOMAIN_RUNNING
        result['dest_accel'] = _domain_type(dest_dom)
        result['dest_hardware'] = domain.hardware_label(
            dest_dom.XMLDesc(0))
        result['wire_bytes'] = link.wire_bytes(lab) - wire
        result['downtime_settings_ms'] = tuning.downtime_settings
        mem_bytes, disk_bytes = _transferred(completed, mig.progress)
        result['bytes_moved'] = mem_bytes + disk_bytes
        result['memory_bytes'] = mem_bytes
        result['disk_bytes'] = disk_bytes
        result['total_seconds'] = round(mig.elapsed, 3)
        result['downtime_ms_libvirt'] = completed.get('downtime')
        result['libvirt_time_elapsed_ms'] = completed.get('time_elapsed')
        caveat = compat.live_state_caveat(
            _ACCELERATORS.get(result['source_accel']), conn_a.getVersion())
        try:
            _wait_for(lambda: tail.first_ack(serial['b']), BOOT_TIMEOUT,
                      'first write of the guest on host b')
        except LabMigrationError as exc:
            where = collect_diagnostics(
                lab, dest_dom, 'b', name, serial,
                lab.root_path('b', disk_inside))
            log_b = _read(serial['b'])
            message = ('%s; guest state on b %s; serial log tail on b: %r; '
                       'diagnostics in %s' % (exc, dest_dom.state(),
                                              log_b[-300:], where))
            raise silent_on_b(message, log_b, dest_dom.state()[0], caveat)
        if after_move is not None:
            after_move(dest_dom)
        time.sleep(after)
        log_b = _read(serial['b'])
        crash = guest_crash(log_b)
        if crash:
            raise GuestCrashed(
                'the guest crashed on host b after the migration: %s; '
                'serial log tail on b: %r' % (crash, log_b[-300:]),
                crash, caveat)
        result['clean_shutdown'] = _shutdown(dest_dom)
        tail.stop()
        last_a = tail.last_ack(serial['a'])
        first_b = tail.first_ack(serial['b'])
        result['downtime_ms_guest'] = (
            round((first_b[1] - last_a[1]) * 1000.0, 1)
            if last_a and first_b else None)
        result['ack_period_ms'] = _median_period(tail.acks[serial['a']])
        if block:
            # What Nova does after a block migration: the source copy is
            # dropped once the destination runs.
            src_dir = lab.root_path('a', inst_dir)
            result['source_files_removed'] = sorted(os.listdir(src_dir))
            for f in result['source_files_removed']:
                os.unlink(os.path.join(src_dir, f))
            os.rmdir(src_dir)
        check_records(result, lab.root_path('b', disk_inside),
                      [_read(serial['a']), _read(serial['b'])], lab)
        result['source_leftovers'] = host_leftovers(
            lab, 'a', conn_a, name, inst_dir, files=block)
    finally:
        if tail.is_alive():
            tail.stop()
        if not keep:
            _cleanup(lab, (conn_a, conn_b), name, inst_dir)
        conn_a.close()
        conn_b.close()
    return result


def _refused(lab, result, exc, dom, conn_b, tail, serial, disk_a,
             inst_dir):
    """The migration was refused: is the source still the guest?"""
    result['refused'] = str(exc.cause or exc)
    result['source_running'] = (
        dom.isActive() and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING)
    last = tail.last_ack(serial['a'])
    try:
        _wait_for(lambda: tail.last_ack(serial['a'])[0] > last[0], 10,
                  'a write on host a after the refusal')
        result['source_writes_after_refusal'] = True
    except LabMigrationError:
        result['source_writes_after_refusal'] = False
    result['dest_leftovers'] = host_leftovers(lab, 'b', conn_b,
                                              result['name'], inst_dir,
                                              files=False)
    result['clean_shutdown'] = _shutdown(dom)
    tail.stop()
    check_records(result, disk_a, [_read(serial['a'])], lab)


# HMP commands whose output explains a silent guest: where the vCPU is
# (halted in the idle loop or spinning), the interrupt controllers, and
# the UART registers IER, LCR, MCR, LSR, MSR (reads without side effects;
# IIR is not read, that would acknowledge a pending THRE interrupt).
_HMP_DIAGNOSTICS = ('info status', 'info registers', 'info pic',
                    'info lapic', 'info irq', 'i /b 0x3f9', 'i /b 0x3fb',
                    'i /b 0x3fc', 'i /b 0x3fd', 'i /b 0x3fe')
DIAG_SAMPLES = 3
DIAG_INTERVAL = 2.0


def _hmp(dom, command):
    try:
        return libvirt_qemu.qemuMonitorCommand(
            dom, command, libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
    except libvirt.libvirtError as exc:
        return 'error: %s' % exc


def collect_diagnostics(lab, dom, host, name, serial, disk):
    """Keep the evidence of a guest that stopped writing; returns a dir.

    Writes <state>/failures/<name>/: the serial logs of both hosts,
    QEMU's log on the host, the domain state with its reason, HMP
    register/interrupt/UART dumps and the data disk's header sampled
    DIAG_SAMPLES times (is the guest still writing to disk while its
    serial output is silent?).  Never raises.
    """
    out = os.path.join(lab.state_dir, 'failures', name)
    try:
        os.makedirs(out, exist_ok=True)
        for h, path in serial.items():
            text = _read(path)
            with open(os.path.join(out, '%s-serial.log' % h), 'w') as f:
                f.write(text)
        qemu_log = lab.root_path(host, '/var/log/libvirt/qemu/%s.log'
                                 % name)
        with open(os.path.join(out, '%s-qemu.log' % host), 'w') as f:
            f.write(_read(qemu_log))
        with open(os.path.join(out, 'diagnostics.txt'), 'w') as f:
            for i in range(DIAG_SAMPLES):
                if i:
                    time.sleep(DIAG_INTERVAL)
                f.write('=== sample %d at %s\n' % (i, time.time()))
                try:
                    f.write('state %s active %s\n'
                            % (dom.state(), dom.isActive()))
                except libvirt.libvirtError as exc:
                    f.write('state: %s\n' % exc)
                try:
                    raw = _raw_copy(disk, lab.state_dir)
                    try:
                        with open(raw, 'rb') as r:
                            f.write('disk header: %s\n'
                                    % workload.read_header(r.read(512)))
                    finally:
                        os.unlink(raw)
                except (OSError, processutils.ProcessExecutionError) as exc:
                    f.write('disk header: %s\n' % exc)
                acks = [workload.parse_acks(_read(p))[-1:]
                        for p in serial.values()]
                f.write('last acknowledgements per log: %s\n' % acks)
                for command in _HMP_DIAGNOSTICS:
                    f.write('--- %s\n%s\n' % (command, _hmp(dom, command)))
    except Exception as exc:  # diagnostics must not mask the failure
        LOG.warning('Collecting diagnostics for %(name)s failed: %(err)s',
                    {'name': name, 'err': exc})
    LOG.error('Guest %(name)s stopped writing; diagnostics in %(out)s',
              {'name': name, 'out': out})
    return out


def _median_period(acks):
    """Median host-observed time between acknowledgements, in ms."""
    periods = sorted(b[1] - a[1] for a, b in zip(acks, acks[1:]))
    if not periods:
        return None
    return round(periods[len(periods) // 2] * 1000.0, 1)


def _quiet_libvirt(_ctx, err):
    # Errors are raised as libvirtError; don't also print them on stderr.
    LOG.debug('libvirt: %(err)s', {'err': err})


def _progress(dom, tuning, stats):
    _log_progress(stats)
    tuning.sample(dom, stats)


class Tuning(object):
    """How a lab live migration is driven; this one adds nothing.

    Subclasses (the benchmarks' variants) change the flags and params
    before the migration starts and act on each job sample the way a
    compute driver's migration monitor does, e.g. with
    ``migrateSetMaxDowntime``. ``downtime_settings`` records every
    ``(seconds since the start, ms)`` the monitor set.
    """

    poll_interval = 0.2
    timeout = None

    def __init__(self):
        self.downtime_settings = []

    def prepare(self, dom, flags, params, block):
        """(flags, params) for ``migrateToURI3``."""
        return flags, params

    def sample(self, dom, stats):
        """One ``jobStats()`` sample (``stats['_t']``: seconds in)."""

    def set_max_downtime(self, dom, elapsed, ms):
        """Set the downtime; a job that just ended is not an error."""
        try:
            dom.migrateSetMaxDowntime(int(ms), 0)
        except libvirt.libvirtError as exc:
            LOG.warning('Unable to set the maximum downtime to %(ms)d ms: '
                        '%(err)s', {'ms': ms, 'err': exc})
            return
        self.downtime_settings.append((round(elapsed, 2), int(ms)))


def _fill_or_clean(lab, conns, name, inst_dir, path, fmt, size):
    try:
        fill_disk(path, fmt, size)
    except Exception:
        _cleanup(lab, conns, name, inst_dir)
        for conn in conns:
            conn.close()
        raise


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


def _log_progress(stats):
    LOG.info('progress t=%(t).2fs memory %(mp)d/%(mt)d disk %(dp)d/%(dt)d '
             'iteration %(it)s',
             {'t': stats.get('_t', 0),
              'mp': stats.get('memory_processed', 0),
              'mt': stats.get('memory_total', 0),
              'dp': stats.get('disk_processed', 0),
              'dt': stats.get('disk_total', 0),
              'it': stats.get('memory_iteration')})


def _cleanup(lab, conns, name, inst_dir):
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
