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

import functools
import os
import time

import libvirt
import libvirt_qemu
from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v.planning import compat
from nova_v2v.planning import profile as v2v_profile
from nova_v2v import privsep
from nova_v2v.storage import disks
from nova_v2v_rig.lab import accel
from nova_v2v_rig.lab import console
from nova_v2v_rig.lab import domain
from nova_v2v_rig.lab import engine
from nova_v2v_rig.lab import guest
from nova_v2v_rig.lab import harness
from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import link
from nova_v2v_rig.lab import live
from nova_v2v_rig.lab import tls as lab_tls
from nova_v2v_rig.lab import v2v
from nova_v2v_rig.lab import workload

LOG = logging.getLogger(__name__)

LIVE_MODES = ('shared-live', 'block-live')
V2V_MODES = v2v.MODES
MODES = LIVE_MODES + V2V_MODES


def unacked_allowed(mode):
    """How many records a move may leave written but not acknowledged.

    A V2V move boots the guest again from its moved disk, so the source
    may have stopped between a record's write and its acknowledgement: one
    record (intact on disk, see nova_v2v_rig.lab.workload.verify).  A live
    migration carries the guest on: none.
    """
    return 0 if mode in LIVE_MODES else 1


class GuestCrashed(harness.LabMigrationError):
    """The guest died or hung on its new host after its live state moved.

    ``crash`` is the guest's first line about it, or what the hang was;
    ``known_fault`` is :func:`nova_v2v.planning.compat.live_state_caveat`
    for the source (why QEMU itself may have lost guest memory writes), or
    None; ``signature`` is the name of the
    :data:`nova_v2v_rig.lab.console.TCG_FAULT_SIGNATURES` entry the
    crash's report on the console bears, or None (another crash, or a
    silent guest); ``report`` the crash's whole report on the console
    (:func:`nova_v2v_rig.lab.console.crash_report`), or None. Raised by
    :func:`run` and by the all-in-one gate (nova_v2v_rig.aio.gate).
    """

    def __init__(self, message, crash, known_fault, signature=None,
                 report=None):
        super(GuestCrashed, self).__init__(message)
        self.crash = crash
        self.known_fault = known_fault
        self.signature = signature
        self.report = report

    @property
    def explained(self):
        """The known fault explains the crash: the move may run again.

        True only when the move was one the fault can hit (a live state
        moved from a TCG host whose QEMU is older than 9.0: a
        ``known_fault``) and the console shows that fault's crash (a
        ``signature``).
        """
        return bool(self.known_fault and self.signature)


def once_more(migration, told, passed=None):
    """``migration()``, called again once if the known fault explains a crash.

    A :class:`GuestCrashed` that the known QEMU fault explains
    (:attr:`GuestCrashed.explained`) is given to ``told`` (to record it)
    and ``migration()`` runs once more, with a new guest; when that run
    returns, the first crash is given to ``passed`` (to say that it passed
    only on a second run, see :func:`rerun_passed_line`). Any other error,
    a crash of another signature, a silent guest, a crash after a move the
    fault cannot hit, or a second crash propagates.
    """
    try:
        return migration()
    except GuestCrashed as exc:
        if not exc.explained:
            raise
        told(exc)
        first = exc
    result = migration()
    if passed is not None:
        passed(first)
    return result


# The machine-readable line of a test that passed only on a second run;
# tools/run-tests.sh counts the lines that start with it.
RERUN_PASSED = 'RERUN-PASSED'


def rerun_passed_line(what, signature):
    """``RERUN-PASSED: <what>: <signature>``, one line without newline.

    :param what: the test, stage or run that passed on its second run
    :param signature: the name of the fault signature that let it run again
    """
    return '%s: %s: %s' % (RERUN_PASSED, ' '.join(str(what).split()),
                           signature)


# Kept here for the callers of nova_v2v_rig.lab.migrate.
CRASH_MARKERS = console.CRASH_MARKERS
guest_crash = console.guest_crash


def silent_on_b(message, log_b, state, known_fault):
    """The error for a moved guest that never wrote on host b.

    A kernel crash in its serial log, or a guest that runs but stays
    silent (hung: lost memory writes can leave the kernel spinning with
    interrupts off instead of crashing it), is a :class:`GuestCrashed`;
    only a crash whose report bears the known fault's signature
    (:func:`nova_v2v_rig.lab.console.tcg_fault_signature`) may run once
    more, a hang has no signature and fails. Anything else (the guest not
    running) is a :class:`~nova_v2v_rig.lab.harness.LabMigrationError`.
    """
    crash = console.crash(log_b)
    if crash:
        return GuestCrashed(message, crash.line, known_fault,
                            crash.signature, console.crash_report(log_b))
    if state == libvirt.VIR_DOMAIN_RUNNING:
        return GuestCrashed(
            message, 'hung: running on host b, not one write in %d s'
            % harness.BOOT_TIMEOUT, known_fault)
    return harness.LabMigrationError(message)


# libvirt's domain types as nova_v2v.planning.profile names accelerators.
_ACCELERATORS = {'kvm': v2v_profile.KVM, 'qemu': v2v_profile.TCG}


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


def run(lab, mode, before=4.0, after=4.0, dirty_mb=8, profile='virtio',
        keep=False, tls=False, libvirt_options=None, expect_refusal=False,
        memory_mib=256, disk_size=harness.DISK_SIZE, fill_mb=0, prefill=False,
        tuning=None, kernel_args=None, after_move=None,
        machine=domain.DEFAULT_MACHINE, **v2v_args):
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
    :param machine: the guest's machine type (live modes)
    """
    if mode not in MODES:
        raise harness.LabMigrationError('mode must be one of %s' % (MODES,))
    try:
        transport = lab_tls.Transport.from_options(libvirt_options, tls=tls)
    except lab_tls.TLSError as exc:
        raise harness.LabMigrationError(str(exc))
    if mode in V2V_MODES:
        if (transport.needs_certificates or expect_refusal or kernel_args
                or after_move or machine != domain.DEFAULT_MACHINE):
            raise harness.LabMigrationError(
                'TLS, expect_refusal, kernel_args, after_move and machine '
                'are for the live modes')
        return v2v.run(lab, mode, before=before, after=after,
                       dirty_mb=dirty_mb, profile=profile, keep=keep,
                       memory_mib=memory_mib, disk_size=disk_size,
                       fill_mb=fill_mb, prefill=prefill, **v2v_args)
    state = lab.load()
    if not state:
        raise harness.LabMigrationError('lab is not up; run "nova-v2v-lab up"')
    block = mode == 'block-live'
    lab_shared = bool(state.get('shared'))
    if block and lab_shared:
        raise harness.LabMigrationError(
            'block-live needs per-host instance stores; the lab was '
            'started with --shared')
    if transport.needs_certificates and not state.get('tls'):
        raise harness.LabMigrationError(
            '%s needs the lab certificates; run "nova-v2v-lab up --tls"'
            % (transport.options(),))
    store = (hosts.INSTANCES_PATH if block or lab_shared
             else hosts.SHARED_PATH)
    image = guest.build(lab.cache_dir)
    virt_type, reason = accel.detect(
        image, cache_file=os.path.join(lab.cache_dir, 'accel'))
    libvirt.registerErrorHandler(harness.quiet_libvirt, None)
    engine.ensure_event_loop()
    # The lab runs as root on purpose: the privileged file operations
    # run in this process, no privsep daemon.
    privsep.run_in_process()
    LOG.info('Guest accelerator: %(t)s (%(r)s)',
             {'t': virt_type, 'r': reason})
    conn_a = libvirt.open(lab.local_uri('a'))
    conn_b = libvirt.open(lab.local_uri('b'))
    inst_uuid, name, inst_dir, disk_inside, serial_inside, serial = (
        harness.new_guest(lab, mode.split('-')[0], store))
    disk_rel = os.path.relpath(disk_inside, store)
    disk_a = disks.precreate(lab.root_path('a', store), disk_rel, 'qcow2',
                             disk_size)
    if prefill:
        harness.fill_or_clean(lab, (conn_a, conn_b), name, inst_dir,
                              disk_a, 'qcow2', disk_size)
    spec = domain.DomainSpec(
        name, inst_uuid, image.kernel, image.initrd, disk_inside,
        serial_inside, domain_type=virt_type, profile=profile,
        memory_mib=memory_mib, machine=machine,
        cmdline_extra=dict(kernel_args or {}, **{'lab.dirty_mb': dirty_mb,
                                                 'lab.fill_mb': fill_mb}))
    tail = harness.SerialTail([serial['a'], serial['b']])
    tail.start()
    result = {'mode': mode, 'name': name, 'uuid': inst_uuid,
              'accel_reason': reason, 'transport': transport.options()}
    dest_dom = None
    try:
        t0 = time.monotonic()
        dom = conn_a.defineXML(domain.to_xml(spec))
        dom.create()
        harness.wait_for(lambda: tail.first_ack(serial['a']),
                         harness.BOOT_TIMEOUT,
                         'first write of the guest on host a')
        result['boot_seconds'] = round(time.monotonic() - t0, 2)
        result['source_accel'] = harness.domain_type(dom)
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
        result['dest_accel'] = harness.domain_type(dest_dom)
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
        # Whether a crash on b may run once more: the source's QEMU's.
        result['known_fault'] = caveat
        try:
            harness.wait_for(lambda: tail.first_ack(serial['b']),
                             harness.BOOT_TIMEOUT,
                             'first write of the guest on host b')
        except harness.LabMigrationError as exc:
            where = collect_diagnostics(
                lab, dest_dom, 'b', name, serial,
                lab.root_path('b', disk_inside))
            log_b = harness.read_log(serial['b'])
            message = ('%s; guest state on b %s; serial log tail on b: %r; '
                       'diagnostics in %s' % (exc, dest_dom.state(),
                                              log_b[-300:], where))
            raise silent_on_b(message, log_b, dest_dom.state()[0], caveat)
        if after_move is not None:
            after_move(dest_dom)
        time.sleep(after)
        log_b = harness.read_log(serial['b'])
        crash = console.crash(log_b)
        if crash:
            raise GuestCrashed(
                'the guest crashed on host b after the migration: %s; '
                'serial log tail on b: %r' % (crash.line, log_b[-300:]),
                crash.line, caveat, crash.signature,
                console.crash_report(log_b))
        result['clean_shutdown'] = harness.shutdown(dest_dom)
        tail.stop()
        last_a = tail.last_ack(serial['a'])
        first_b = tail.first_ack(serial['b'])
        result['downtime_ms_guest'] = (
            round((first_b[1] - last_a[1]) * 1000.0, 1)
            if last_a and first_b else None)
        result['ack_period_ms'] = harness.median_period(tail.acks[serial['a']])
        if block:
            # What Nova does after a block migration: the source copy is
            # dropped once the destination runs.
            src_dir = lab.root_path('a', inst_dir)
            result['source_files_removed'] = sorted(os.listdir(src_dir))
            for f in result['source_files_removed']:
                os.unlink(os.path.join(src_dir, f))
            os.rmdir(src_dir)
        harness.check_records(result, lab.root_path('b', disk_inside),
                              [harness.read_log(serial['a']),
                               harness.read_log(serial['b'])], lab)
        result['source_leftovers'] = harness.host_leftovers(
            lab, 'a', conn_a, name, inst_dir, files=block)
    finally:
        if tail.is_alive():
            tail.stop()
        if not keep:
            harness.cleanup(lab, (conn_a, conn_b), name, inst_dir)
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
        harness.wait_for(lambda: tail.last_ack(serial['a'])[0] > last[0], 10,
                         'a write on host a after the refusal')
        result['source_writes_after_refusal'] = True
    except harness.LabMigrationError:
        result['source_writes_after_refusal'] = False
    result['dest_leftovers'] = harness.host_leftovers(
        lab, 'b', conn_b, result['name'], inst_dir, files=False)
    result['clean_shutdown'] = harness.shutdown(dom)
    tail.stop()
    harness.check_records(result, disk_a, [harness.read_log(serial['a'])], lab)


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
            text = harness.read_log(path)
            with open(os.path.join(out, '%s-serial.log' % h), 'w') as f:
                f.write(text)
        qemu_log = lab.root_path(host, '/var/log/libvirt/qemu/%s.log'
                                 % name)
        with open(os.path.join(out, '%s-qemu.log' % host), 'w') as f:
            f.write(harness.read_log(qemu_log))
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
                    raw = harness.raw_copy(disk, lab.state_dir)
                    try:
                        with open(raw, 'rb') as r:
                            f.write('disk header: %s\n'
                                    % workload.read_header(r.read(512)))
                    finally:
                        os.unlink(raw)
                except (OSError, processutils.ProcessExecutionError) as exc:
                    f.write('disk header: %s\n' % exc)
                acks = [workload.parse_acks(harness.read_log(p))[-1:]
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


def _log_progress(stats):
    LOG.info('progress t=%(t).2fs memory %(mp)d/%(mt)d disk %(dp)d/%(dt)d '
             'iteration %(it)s',
             {'t': stats.get('_t', 0),
              'mp': stats.get('memory_processed', 0),
              'mt': stats.get('memory_total', 0),
              'dp': stats.get('disk_processed', 0),
              'dt': stats.get('disk_total', 0),
              'it': stats.get('memory_iteration')})
