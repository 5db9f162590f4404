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

"""V2V modes of the lab: a cutover or an offline move from host a to b.

The guest boots on host a with a hardware profile (``vmware``: pvscsi +
vmxnet3, ``ide``, ``virtio``), writes, and moves to host b where its
translated clone (virtio, the destination's format and accelerator) runs
on.  The planner decides the hardware changes from the real capabilities
of both lab hosts; the transfer engines of ``nova_v2v.transfer`` do the
move.  Nothing here dials a lab address: libvirt is reached over the
daemons' unix sockets, the NBD export runs inside host b's netns and only
host a's QEMU connects to it.
"""

import dataclasses
import json
import os
import threading
import time

import libvirt
from lxml import etree
from oslo_log import log as logging

from nova_v2v.hardware import inspect
from nova_v2v.hardware import translate
from nova_v2v.planning import planner
from nova_v2v.planning import profile as hw_profile
from nova_v2v import privsep
from nova_v2v.storage import disks
from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception
from nova_v2v.transfer import nbd
from nova_v2v.transfer import peer
from nova_v2v_rig.lab import accel
from nova_v2v_rig.lab import domain
from nova_v2v_rig.lab import engine
from nova_v2v_rig.lab import guest
from nova_v2v_rig.lab import harness
from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import link
from nova_v2v_rig.lab import netns
from nova_v2v_rig.lab import qsd
from nova_v2v_rig.lab import tls as lab_tls

LOG = logging.getLogger(__name__)

# The modes of nova_v2v_rig.lab.migrate.run that run here.
MODES = ('v2v-cutover', 'offline')
NBD_PORT = 10809
FAULTS = (None, 'kill-export', 'clone-fails')
EXPORTS = engine.EXPORT_KINDS
# How the lab sees that a client-bound export released its image: 'port'
# runs nbd.wait_closed (what Nova's source runs) inside host a's netns,
# 'pid' watches the qemu-nbd processes exit.
RELEASE_CHECKS = ('port', 'pid')
FAULT_WAIT = 20
# The planner's defaults keep SCSI disks on SCSI (virtio-scsi); the lab
# moves them to virtio-blk too, as a VMware guest imported to KVM would.
TRANSLATIONS = dict(planner.DEFAULT_TRANSLATIONS, scsi='virtio')


def host_profile(conn, hostname, accelerator, instances_path):
    """A planner HostProfile from a lab host's libvirt capabilities."""
    caps = etree.fromstring(conn.getCapabilities().encode())
    arch = caps.findtext('./host/cpu/arch') or 'x86_64'
    machines = set()
    for g in caps.findall('./guest'):
        if g.find('./arch').get('name') != arch:
            continue
        for m in g.findall('./arch/machine'):
            machines.add(m.text)
            if m.get('canonical'):
                machines.add(m.get('canonical'))
    return hw_profile.HostProfile(
        hostname=hostname, accelerator=accelerator, arch=arch,
        libvirt_version=conn.getLibVersion(), qemu_version=conn.getVersion(),
        machine_types=tuple(sorted(machines)),
        cpu_model=caps.findtext('./host/cpu/model') or '',
        cpu_vendor=caps.findtext('./host/cpu/vendor') or '',
        disk_formats=('raw', 'qcow2'), storage_id='lab-%s' % hostname,
        instances_path=instances_path)


def plan(conn_a, conn_b, dom, source_accel, dest_accel):
    """(offline plan, live mode or refusal) for dom from a to b."""
    src = host_profile(conn_a, 'labhost-a', source_accel,
                       hosts.INSTANCES_PATH)
    dst = host_profile(conn_b, 'labhost-b', dest_accel,
                       hosts.INSTANCES_PATH)
    guest_p = inspect.parse_domain_xml(dom.XMLDesc(0))
    storage = hw_profile.StorageFacts(shared_instance_path=False)
    try:
        live_mode = planner.plan_live_migration(
            src, dst, guest_p, storage, translations=TRANSLATIONS).mode
    except planner.PlanRefused as exc:
        live_mode = 'refused: %s' % exc
    return planner.plan_offline_migration(
        src, dst, guest_p, storage, translations=TRANSLATIONS), live_mode


def _disks(dom, the_plan, lab):
    """The plan's disks of ``dom``, in its order, with their sizes."""
    by_path = {d.path: d for d in the_plan.disks}
    result = []
    for _dev, _bus, path, _fmt in translate.disk_targets(dom.XMLDesc(0)):
        if path not in by_path:
            continue
        info = disks.describe(lab.root_path('a', path))
        result.append(dataclasses.replace(by_path[path],
                                          virtual_size=info.virtual_size))
    return result


def _verify_clone(tail, serial_b):
    def verify(clone, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if tail.first_ack(serial_b):
                return
            if not clone.isActive():
                break
            time.sleep(0.05)
        raise exception.CloneNotRunning(
            'the clone %s did not write on host b; state %s; serial tail '
            '%r' % (clone.name(), clone.state(),
                    harness.read_log(serial_b)[-300:]))
    return verify


def _failing_clone(verify):
    def check(clone, timeout):
        verify(clone, timeout)
        raise exception.CloneNotRunning('fault injection: the clone %s is '
                                        'declared broken' % clone.name())
    return check


def _export_pids(export):
    if isinstance(export, qsd.NBDExport):
        return [export.pid] if export.pid else []
    return [pid for pid in export.pids if pid]


class _KillExport(engine.LabHooks):
    """Fault ``kill-export``: the export dies once the disks are in sync."""

    def __init__(self, result):
        super().__init__()
        self.result = result

    def before_cutover(self, sync):
        result = self.result
        result['export_pids'] = _export_pids(self.export)
        LOG.warning('Fault injection: killing the NBD export pid(s) '
                    '%(pids)s', {'pids': result['export_pids']})
        self.export.kill()
        deadline = time.monotonic() + FAULT_WAIT
        while time.monotonic() < deadline and not sync.watcher.failures():
            time.sleep(0.05)
        result['fault_event_seen'] = bool(sync.watcher.failures())
        result['fault_seconds_to_event'] = round(
            FAULT_WAIT - (deadline - time.monotonic()), 2)


def source_peer(lab, tls=False):
    """Host a as the source's pre-check describes itself to b.

    Its address, and with ``tls`` its QEMU client certificate's DN read
    by the product (:func:`nova_v2v.transfer.peer.certificate_dn`).
    """
    dn = None
    if tls:
        dn = peer.certificate_dn(lab.root_path(
            'a', os.path.join(lab_tls.QEMU_PKI_DIR, 'client-cert.pem')))
    return peer.SourcePeer(addresses=(lab.ip('a'),), tls_dn=dn)


def export_access(lab, tls=False, filter_addresses=True):
    """The exports' access for a move from a, as Nova's destination has it.

    qemu-nbd runs in b's network namespace only, so b's QEMU certificate
    directory is given as the root file system sees it.
    """
    return nbd.ExportAccess.for_source(
        source_peer(lab, tls),
        tls_dir=(lab.root_path('b', lab_tls.QEMU_PKI_DIR) if tls
                 else None),
        filter_addresses=filter_addresses)


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().decode('utf-8', 'replace').split('\0')[:-1]
    except OSError:
        return None


def _mirror_evidence(dom):
    """The NBD targets of dom's block copy jobs, as libvirt and QEMU say."""
    import libvirt_qemu
    root = etree.fromstring(dom.XMLDesc(0).encode())
    xml = [etree.tostring(m).decode() for m in
           root.findall('./devices/disk/mirror')]
    nodes = json.loads(libvirt_qemu.qemuMonitorCommand(
        dom, '{"execute": "query-named-block-nodes"}', 0))['return']
    nbd_nodes = [n.get('file') for n in nodes if n.get('drv') == 'nbd']
    objects = json.loads(libvirt_qemu.qemuMonitorCommand(
        dom, '{"execute": "qom-list", "arguments": {"path": "/objects"}}',
        0))['return']
    return {'mirror_xml': xml, 'qemu_nbd_nodes': nbd_nodes,
            'qemu_tls_objects': sorted(
                o['name'] for o in objects
                if 'tls-creds' in o.get('type', ''))}


class _AccessEvidence(engine.LabHooks):
    """What shows who the exports admit and how the mirror connects.

    Once the exports run: their command lines, then ``probe(export)``
    (clients that must be refused; its result is kept) and whether every
    export still runs after them.  Once the mirror is in sync: its NBD
    targets as the source's libvirt and QEMU show them.
    """

    def __init__(self, result, dom, probe=None):
        super().__init__()
        self.evidence = result.setdefault('nbd_access', {})
        self.dom = dom
        self.probe = probe

    def exported(self, export):
        super().exported(export)
        self.evidence['qemu_nbd_cmdlines'] = [
            _cmdline(pid) for pid in _export_pids(export)]
        if self.probe is not None:
            self.evidence['probes'] = self.probe(export)
            self.evidence['exports_alive_after_probes'] = all(
                nbd.cmdline_has(pid, nbd.QEMU_NBD)
                for pid in _export_pids(export))

    def before_cutover(self, sync):
        try:
            self.evidence.update(_mirror_evidence(self.dom))
        except Exception as exc:  # evidence must not break the move
            self.evidence['mirror_error'] = str(exc)


def _release_check(lab, kind, result):
    """A release check factory for engine.run_cutover (client-bound).

    Both kinds record when the port refused (as seen from host a) and
    when each qemu-nbd exited, counted from the end of the source's stop
    (the abort of the block jobs without pivot).
    """
    ns_a = '/run/netns/%s' % lab.netns('a')

    def factory(export):
        def check(timeout):
            t0 = time.monotonic()
            pids = _export_pids(export)
            exited = {}
            done = threading.Event()

            def watch():
                while not done.is_set() and len(exited) < len(pids):
                    for pid in pids:
                        if pid not in exited and not nbd.cmdline_has(
                                pid, nbd.QEMU_NBD):
                            exited[pid] = time.monotonic()
                    time.sleep(0.002)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            held = []
            closed_at = None
            try:
                if kind == 'port':
                    for disk in export.exports():
                        left = max(timeout - (time.monotonic() - t0), 0)
                        if not netns.run_in(ns_a, nbd.wait_closed,
                                            disk.host, disk.port, left,
                                            poll=0.01):
                            held.append(disk.name)
                    closed_at = time.monotonic()
                left = max(timeout - (time.monotonic() - t0), 0)
                held += [n for n in export.wait_exited(left)
                         if n not in held]
            finally:
                done.set()
                watcher.join(1)
            result['release'] = {
                'check': kind,
                'port_refused_ms': (round((closed_at - t0) * 1000.0, 1)
                                    if closed_at else None),
                'qemu_nbd_exited_ms': (
                    round((max(exited.values()) - t0) * 1000.0, 1)
                    if len(exited) == len(pids) and pids else None),
                'held': held}
            LOG.info('Export release as the lab saw it: %(rel)s',
                     {'rel': result['release']})
            return held
        return check
    return factory


def run(lab, mode, before=4.0, after=4.0, dirty_mb=8, profile='vmware',
        keep=False, dest_accel=None, source_accel=None, cutover_mode='suspend',
        disk_format=None, fault=None, export=engine.CLIENT_BOUND,
        release_check='port', injector=None, fill_mb=0, memory_mib=256,
        disk_size=None, prefill=False, nbd_tls=False, nbd_filter=False,
        export_probe=None):
    """Run one V2V move (mode 'v2v-cutover' or 'offline') from a to b.

    The cutover runs :func:`nova_v2v.transfer.cutover.run_source_cutover`,
    the sequence Nova's driver runs, with the export ``export``:
    ``client-bound`` (one non-persistent qemu-nbd per disk in host b's
    netns, as Nova's destination starts them; released when the source's
    QEMU lets go, seen by ``release_check``) or ``qsd``
    (qemu-storage-daemon released over QMP, for comparison).

    ``injector`` (a :class:`nova_v2v_rig.lab.faults.Injector`: the hooks
    of the first attempt) injects a fault into a first attempt; what it
    left is checked, then a second attempt
    moves the same guest (see :func:`_fault_attempts`).

    ``nbd_tls`` (a lab up with ``tls=True``) and ``nbd_filter`` give the
    client-bound exports the access Nova's destination gives them
    (:func:`export_access`): QEMU TLS admitting host a's client
    certificate only, host a's address only; ``result['nbd_access']``
    then holds the evidence (:class:`_AccessEvidence`), with what
    ``export_probe(export)`` returned.
    """
    if mode not in MODES:
        raise harness.LabMigrationError('mode must be one of %s'
                                        % (MODES,))
    if fault not in FAULTS or (fault and mode != 'v2v-cutover'):
        raise harness.LabMigrationError('fault must be one of %s (cutover '
                                        'only)' % (FAULTS[1:],))
    if export not in EXPORTS or release_check not in RELEASE_CHECKS:
        raise harness.LabMigrationError('export must be one of %s, release '
                                        'check one of %s'
                                        % (EXPORTS, RELEASE_CHECKS))
    state = lab.load()
    if not state:
        raise harness.LabMigrationError('lab is not up; run "nova-v2v-lab '
                                        'up"')
    if state.get('shared'):
        raise harness.LabMigrationError('%s needs per-host instance stores; '
                                        'the lab was started with --shared'
                                        % mode)
    image = guest.build(lab.cache_dir)
    virt_type, reason = accel.detect(
        image, cache_file=os.path.join(lab.cache_dir, 'accel'))
    usable = {'qemu': hw_profile.TCG, 'kvm': hw_profile.KVM}[virt_type]
    source_accel = source_accel or usable
    dest_accel = dest_accel or usable
    for which, acc in (('source', source_accel), ('destination',
                                                  dest_accel)):
        if acc == hw_profile.KVM and usable != hw_profile.KVM:
            raise harness.LabMigrationError(
                'the %s accelerator kvm cannot boot guests here (%s)'
                % (which, reason))
    disk_format = disk_format or ('vmdk' if profile == 'vmware' else
                                  'qcow2')
    libvirt.registerErrorHandler(harness.quiet_libvirt, None)
    engine.ensure_event_loop()
    # The lab runs as root on purpose: the privileged file operations
    # run in this process, no privsep daemon.
    privsep.run_in_process()
    conn_a = libvirt.open(lab.local_uri('a'))
    conn_b = libvirt.open(lab.local_uri('b'))
    store = hosts.INSTANCES_PATH
    inst_uuid, name, inst_dir, disk_inside, serial_inside, serial = (
        harness.new_guest(lab, mode.split('-')[0], store))
    disk_size = disk_size or harness.DISK_SIZE
    disk_a = disks.precreate(lab.root_path('a', store),
                             os.path.relpath(disk_inside, store),
                             disk_format, disk_size)
    if prefill:
        harness.fill_or_clean(lab, (conn_a, conn_b), name, inst_dir,
                              disk_a, disk_format, disk_size)
    spec = domain.DomainSpec(
        name, inst_uuid, image.kernel, image.initrd, disk_inside,
        serial_inside, domain_type=hw_profile.DOMAIN_TYPE[source_accel],
        profile=profile, disk_format=disk_format, memory_mib=memory_mib,
        cmdline_extra={'lab.dirty_mb': dirty_mb, 'lab.fill_mb': fill_mb})
    tail = harness.SerialTail([serial['a'], serial['b']])
    tail.start()
    result = {'mode': mode, 'name': name, 'uuid': inst_uuid,
              'accel_reason': reason, 'profile': profile,
              'source_format': disk_format}
    if mode == 'v2v-cutover':
        result['export'] = export
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
        the_plan, live_mode = plan(conn_a, conn_b, dom, source_accel,
                                   dest_accel)
        result['planner_live_mode'] = live_mode
        result['hardware_changes'] = [str(c) for c in
                                      the_plan.hardware_changes]
        moves = _disks(dom, the_plan, lab)
        result['dest_format'] = ','.join(d.dest_format for d in moves)
        common = dict(
            dest_local_path=lambda p: lab.root_path('b', p),
            source_local_path=lambda p: lab.root_path('a', p),
            verify_clone=_verify_clone(tail, serial['b']),
            clone_timeout=harness.BOOT_TIMEOUT)
        if fault == 'clone-fails':
            common['verify_clone'] = _failing_clone(common['verify_clone'])
        run_dir = os.path.join(lab.state_dir, 'run')
        os.makedirs(run_dir, exist_ok=True)

        access = None
        if nbd_tls or nbd_filter:
            access = export_access(lab, tls=nbd_tls,
                                   filter_addresses=nbd_filter)
            result['nbd_access'] = {'access': dataclasses.asdict(access)}

        def cutover_once(hooks=None, conn=conn_b):
            if hooks is None and access is not None:
                hooks = _AccessEvidence(result, dom, export_probe)
            return engine.run_cutover(
                dom, conn, moves, the_plan.hardware_changes,
                lab.ip('b'), store, port=NBD_PORT, run_dir=run_dir,
                run_prefix=['nsenter', '--net=/run/netns/%s'
                            % lab.netns('b')],
                options=cutover.CutoverOptions(mode=cutover_mode),
                hooks=hooks, export_kind=export,
                release_check=_release_check(lab, release_check, result),
                access=access, **common)

        wire = link.wire_bytes(lab)
        try:
            if mode == 'offline':
                stats = engine.run_offline(
                    dom, conn_b, moves, the_plan.hardware_changes, store,
                    **common)
            elif injector is not None:
                stats, conn_b = _fault_attempts(
                    lab, injector, result, cutover_once, dom, conn_b,
                    tail, serial, name, inst_dir)
            else:
                stats = cutover_once(
                    _KillExport(result) if fault == 'kill-export' else None)
        except exception.TransferError as exc:
            if not fault:
                raise harness.LabMigrationError('%s failed: %s'
                                                % (mode, exc))
            return _after_fault(lab, result, exc, dom, conn_b, tail,
                                serial, name, inst_dir, after)
        result['engine'] = stats
        result['wire_bytes'] = link.wire_bytes(lab) - wire
        # What Nova's cleanup does with the emptied instance directory.
        src_dir = lab.root_path('a', inst_dir)
        if os.path.isdir(src_dir) and not os.listdir(src_dir):
            os.rmdir(src_dir)
        dest_dom = conn_b.lookupByName(name)
        result['dest_running'] = (dest_dom.state()[0] ==
                                  libvirt.VIR_DOMAIN_RUNNING)
        result['dest_accel'] = harness.domain_type(dest_dom)
        result['dest_hardware'] = domain.hardware_label(
            dest_dom.XMLDesc(0))
        result['dest_disk_bus'] = ','.join(
            '%s:%s' % (t[0], t[1])
            for t in translate.disk_targets(dest_dom.XMLDesc(0)))
        result['bytes_moved'] = stats.get('bytes_copied')
        result['dest_allocated_bytes'] = disks.describe(
            lab.root_path('b', disk_inside)).actual_size
        result['total_seconds'] = stats['total_seconds']
        result['sync_seconds'] = stats.get('sync_seconds')
        result['precreate_seconds'] = stats.get('precreate_seconds')
        result['downtime_ms_engine'] = round(
            stats['downtime_seconds'] * 1000.0, 1)
        time.sleep(after)
        result['clean_shutdown'] = harness.shutdown(dest_dom)
        tail.stop()
        last_a = tail.last_ack(serial['a'])
        first_b = tail.first_ack(serial['b'])
        result['downtime_ms_guest'] = (
            round((first_b[1] - last_a[1]) * 1000.0, 1)
            if last_a and first_b else None)
        result['ack_period_ms'] = harness.median_period(
            tail.acks[serial['a']])
        logs = [harness.read_log(serial['a']), harness.read_log(serial['b'])]
        harness.check_records(result, lab.root_path('b', disk_inside),
                              logs, lab)
        result['source_leftovers'] = harness.host_leftovers(
            lab, 'a', conn_a, name, inst_dir)
    finally:
        if tail.is_alive():
            tail.stop()
        if not keep:
            harness.cleanup(lab, (conn_a, conn_b), name, inst_dir)
        conn_a.close()
        conn_b.close()
    return result


def _export_processes(tag):
    """qemu-nbd processes of the lab guest ``tag`` (its uuid prefix)."""
    found = []
    for pid in os.listdir('/proc'):
        if (pid.isdigit() and nbd.cmdline_has(int(pid), nbd.QEMU_NBD) and
                nbd.cmdline_has(int(pid), 'v2v-%s-' % tag)):
            found.append(int(pid))
    return found


def _fault_attempts(lab, injector, result, cutover_once, dom, conn_b, tail,
                    serial, name, inst_dir):
    """A first attempt with the fault, the checks, a second attempt.

    Returns (stats of the attempt that moved the guest, a live connection
    to host b).  The second attempt runs only when the first one did not
    move the guest; it moves the same, still writing, guest.
    """
    t0 = time.monotonic()
    injector.name = name
    result['fault'] = injector.fault
    result['phase'] = injector.phase
    first = result['first_attempt'] = {}
    stats = None
    try:
        stats = cutover_once(injector)
        first['outcome'] = 'completed'
    except exception.CloneStateUnknown as exc:
        first['outcome'] = 'clone state unknown'
        first['error'] = '%s: %s' % (type(exc).__name__, exc)
    except exception.TransferError as exc:
        first['outcome'] = ('cancelled' if isinstance(
            exc, exception.CutoverCancelled) else 'rolled back')
        first['error'] = '%s: %s' % (type(exc).__name__, exc)
    first['injected'] = injector.injected
    first['restored'] = injector.restore()
    result['fault_events'] = injector.events
    if not conn_b.isAlive():
        conn_b = libvirt.open(lab.local_uri('b'))
    if stats is None:
        first['source_state'] = dom.state()[0] if dom.isActive() else None
        first['source_running'] = (first['source_state'] ==
                                   libvirt.VIR_DOMAIN_RUNNING)
        first['dest_leftovers'] = harness.host_leftovers(
            lab, 'b', conn_b, name, inst_dir) + [
                'qemu-nbd pid %d' % p for p in
                _export_processes(dom.UUIDString()[:8])]
        acks = len(tail.acks[serial['a']])
        harness.wait_for(lambda: len(tail.acks[serial['a']]) > acks + 2,
                         harness.BOOT_TIMEOUT,
                         'writes of the guest on host a after the '
                         'rollback')
        first['source_writes_after'] = len(tail.acks[serial['a']]) - acks
        try:
            stats = cutover_once(conn=conn_b)
        except exception.TransferError as exc:
            result['retry'] = {'outcome': 'failed: %s: %s'
                               % (type(exc).__name__, exc)}
            raise
        result['retry'] = {'outcome': 'completed'}
    result['cell_seconds'] = round(time.monotonic() - t0, 1)
    return stats, conn_b


def _after_fault(lab, result, exc, dom, conn_b, tail, serial, name,
                 inst_dir, after):
    """The cutover was refused: the source must run on, b must be clean."""
    result['refused'] = '%s: %s' % (type(exc).__name__, exc)
    result['source_running'] = (dom.state()[0] ==
                                libvirt.VIR_DOMAIN_RUNNING)
    result['dest_leftovers'] = harness.host_leftovers(
        lab, 'b', conn_b, name, inst_dir)
    result['export_alive'] = any(
        nbd.cmdline_has(pid, 'qemu-') for pid in
        result.get('export_pids', []))
    before_acks = len(tail.acks[serial['a']])
    time.sleep(after)
    result['source_writes_after_rollback'] = (len(tail.acks[serial['a']]) -
                                              before_acks)
    result['dest_writes'] = len(tail.acks[serial['b']])
    result['clean_shutdown'] = harness.shutdown(dom)
    tail.stop()
    harness.check_records(
        result, lab.root_path('a', os.path.join(inst_dir, 'disk')),
        [harness.read_log(serial['a'])], lab)
    return result


def cross_accel_live(lab, dest_type='kvm'):
    """Ask libvirt to live-migrate a TCG guest into a <domain type=kvm>.

    Returns {'refused': bool, 'error': message}.  The guest runs from the
    shared store, so storage plays no part in libvirt's answer.
    """
    from nova_v2v_rig.lab import live
    image = guest.build(lab.cache_dir)
    libvirt.registerErrorHandler(harness.quiet_libvirt, None)
    # LiveMigration watches the source's job-completed event.
    engine.ensure_event_loop()
    conn_a = libvirt.open(lab.local_uri('a'))
    conn_b = libvirt.open(lab.local_uri('b'))
    # The lab runs as root on purpose: the privileged file operations
    # run in this process, no privsep daemon.
    privsep.run_in_process()
    paths = harness.new_guest(lab, 'xaccel', hosts.SHARED_PATH)
    inst_uuid, name, inst_dir, disk_inside = paths[:4]
    disks.precreate(lab.root_path('a', hosts.SHARED_PATH),
                    os.path.relpath(disk_inside, hosts.SHARED_PATH),
                    'qcow2', harness.DISK_SIZE)
    spec = domain.DomainSpec(
        name, inst_uuid, image.kernel, image.initrd, disk_inside,
        paths.serial_inside, domain_type='qemu')
    result = {'source_type': 'qemu', 'dest_type': dest_type}
    try:
        dom = conn_a.defineXML(domain.to_xml(spec))
        dom.create()
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
        root = etree.fromstring(xml.encode())
        root.set('type', dest_type)
        params = live.build_params(
            dest_xml=etree.tostring(root).decode())
        mig = live.LiveMigration(dom, lab.lab_uri('b'),
                                 live.build_flags(trust_shared=True),
                                 params, timeout=60)
        try:
            mig.run()
            result['refused'] = False
            result['error'] = None
        except live.MigrationFailed as exc:
            result['refused'] = True
            result['error'] = str(exc.cause)
        result['source_still_running'] = bool(dom.isActive())
    finally:
        harness.cleanup(lab, (conn_a, conn_b), name, inst_dir)
        shared = lab.root_path('a', inst_dir)
        if os.path.isdir(shared):
            for f in os.listdir(shared):
                os.unlink(os.path.join(shared, f))
            os.rmdir(shared)
        conn_a.close()
        conn_b.close()
    return result
