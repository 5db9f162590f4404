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

"""The source's mirror: libvirt block copy jobs into the NBD exports.

The running source guest's disks are copied with libvirt block copy jobs
(``virDomainBlockCopy``) onto the destination's NBD export
(:mod:`nova_v2v.transfer.nbd`) of precreated disks, with synchronous
writes once in sync.  The source's own QEMU dials the export, so this is
peer-to-peer safe: this process only talks to the source's libvirtd.

A failed mirror is silent but for a ``VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2``
event (the guest keeps running, the job vanishes), so every job is
watched through events (:class:`BlockJobWatcher`) and re-checked right
before the guest is stopped.  The connection needs a libvirt event loop:
Nova's libvirt driver runs one; other callers register one before they
open it.

The jobs end without pivot (:meth:`DiskSync.finish`): the source keeps
its own disks, the destination holds a consistent copy.
"""

import threading
import time

import libvirt
from lxml import etree
from oslo_log import log as logging

from nova_v2v.transfer import exception

LOG = logging.getLogger(__name__)

COPY_FLAGS = (libvirt.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT |
              libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB |
              libvirt.VIR_DOMAIN_BLOCK_COPY_SYNCHRONOUS_WRITES)
SYNC_TIMEOUT = 3600
IN_SYNC_TIMEOUT = 60
POLL = 0.05


class BlockJobWatcher(object):
    """Record block job and lifecycle events of one domain, in order."""

    def __init__(self, dom):
        self.dom = dom
        self.conn = dom.connect()
        self.uuid = dom.UUIDString()
        self._lock = threading.Lock()
        self._seq = 0
        self.events = []
        self._ids = []

    def start(self):
        try:
            self._ids.append(self.conn.domainEventRegisterAny(
                self.dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                self._on_block_job, None))
            self._ids.append(self.conn.domainEventRegisterAny(
                self.dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                self._on_lifecycle, None))
        except libvirt.libvirtError as exc:
            self.stop()
            raise exception.SyncFailed(
                'cannot watch block job events of %s (is a libvirt event '
                'loop running?): %s' % (self.dom.name(), exc))
        return self

    def stop(self):
        for cb_id in self._ids:
            try:
                self.conn.domainEventDeregisterAny(cb_id)
            except libvirt.libvirtError as exc:
                LOG.debug('Event deregistration: %(err)s', {'err': exc})
        self._ids = []

    def _add(self, kind, *data):
        with self._lock:
            self._seq += 1
            self.events.append((self._seq, kind) + data)

    def _on_block_job(self, _conn, dom, disk, job_type, status, _opaque):
        if dom.UUIDString() != self.uuid:
            return
        LOG.info('Block job event for %(dom)s disk %(disk)s: type '
                 '%(type)s status %(status)s',
                 {'dom': dom.name(), 'disk': disk, 'type': job_type,
                  'status': status})
        self._add('block-job', disk, status)

    def _on_lifecycle(self, _conn, dom, event, detail, _opaque):
        if dom.UUIDString() != self.uuid:
            return
        self._add('lifecycle', event, detail)

    def mark(self):
        with self._lock:
            return self._seq

    def block_events(self, status, after=0, before=None):
        with self._lock:
            return [e for e in self.events
                    if e[1] == 'block-job' and e[3] == status and
                    e[0] > after and (before is None or e[0] < before)]

    def failures(self, after=0, before=None):
        """[(seq, 'block-job', disk, status)] of FAILED events."""
        return self.block_events(libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED,
                                 after, before)

    def ready_disks(self):
        return {e[2] for e in self.block_events(
            libvirt.VIR_DOMAIN_BLOCK_JOB_READY)}

    def first_stop(self, after=0):
        """Sequence number of the first shutdown/stopped event, or None."""
        stops = (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN,
                 libvirt.VIR_DOMAIN_EVENT_STOPPED)
        with self._lock:
            for e in self.events:
                if e[0] > after and e[1] == 'lifecycle' and e[2] in stops:
                    return e[0]
        return None


def nbd_disk_xml(export_name, host, port, tls=False, tls_hostname=None):
    """The block copy destination: a raw NBD stream.

    :param tls: connect with TLS (``<source tls='yes'>``): libvirt gives
        the source's QEMU the client credentials of qemu.conf's
        ``nbd_tls_x509_cert_dir`` (by default its
        ``default_tls_x509_cert_dir``); without, ``tls='no'`` says so, so
        that qemu.conf's ``nbd_tls`` default does not decide instead
    :param tls_hostname: with ``tls``, the name the server's certificate
        is checked against instead of ``host`` (``tlsHostname``: libvirt
        8.2 and QEMU 7.0 or later)
    """
    disk = etree.Element('disk', type='network', device='disk')
    etree.SubElement(disk, 'driver', name='qemu', type='raw')
    source = etree.SubElement(disk, 'source', protocol='nbd',
                              name=export_name)
    source.set('tls', 'yes' if tls else 'no')
    if tls and tls_hostname:
        source.set('tlsHostname', tls_hostname)
    etree.SubElement(source, 'host', name=host, port=str(port))
    return etree.tostring(disk).decode('utf-8')


def _mirror_ready(dom):
    """{target dev: ready} for disks with a <mirror> in the live XML."""
    root = etree.fromstring(dom.XMLDesc(0).encode('utf-8'))
    result = {}
    for disk in root.findall('./devices/disk'):
        mirror = disk.find('./mirror')
        target = disk.find('./target')
        if mirror is not None and target is not None:
            result[target.get('dev')] = mirror.get('ready') == 'yes'
    return result


class DiskSync(object):
    """The block copy jobs of one guest onto an NBD export.

    :param dom: the running source guest (a ``virDomain``)
    :param disks: :class:`nova_v2v.transfer.nbd.ExportedDisk` list, one
        per disk to mirror, each with its ``target`` dev in ``dom`` and
        the ``host`` and ``port`` of its export
    :param watcher: the :class:`BlockJobWatcher` of ``dom`` (default: a
        new one)
    :raises: ValueError when a disk lacks its target dev or its export's
        address
    """

    def __init__(self, dom, disks, watcher=None):
        self.dom = dom
        self.disks = list(disks)
        for disk in self.disks:
            if not disk.target or not disk.host or disk.port is None:
                raise ValueError('%r needs its target dev, host and port to '
                                 'be mirrored into' % (disk,))
        self.watcher = watcher or BlockJobWatcher(dom)
        self.started = []
        self.last = {}
        self.sync_seconds = None

    @property
    def targets(self):
        return [d.target for d in self.disks]

    def start(self, bandwidth=0):
        """Start one block copy job per disk.

        :param bandwidth: bytes per second per job, 0 for no limit
        :raises: SyncFailed when a job does not start (those started are
            the caller's to :meth:`abort`)
        """
        self.watcher.start()
        for disk in self.disks:
            xml = nbd_disk_xml(disk.name, disk.host, disk.port,
                               tls=bool(disk.tls),
                               tls_hostname=disk.tls_hostname)
            LOG.info('Starting block copy of %(dom)s %(dev)s to '
                     'nbd%(tls)s://%(host)s:%(port)s/%(name)s%(name_check)s',
                     {'dom': self.dom.name(), 'dev': disk.target,
                      'tls': '+tls' if disk.tls else '',
                      'host': disk.host, 'port': disk.port,
                      'name': disk.name,
                      'name_check': (' (its certificate checked against '
                                     '%s)' % disk.tls_hostname
                                     if disk.tls and disk.tls_hostname
                                     else '')})
            params = {}
            if bandwidth:
                params[libvirt.VIR_DOMAIN_BLOCK_COPY_BANDWIDTH] = int(
                    bandwidth)
            try:
                self.dom.blockCopy(disk.target, xml, params, COPY_FLAGS)
            except libvirt.libvirtError as exc:
                raise exception.SyncFailed('block copy of %s %s failed to '
                                           'start: %s' % (self.dom.name(),
                                                          disk.target, exc))
            self.started.append(disk.target)

    def job_info(self, dev):
        try:
            info = self.dom.blockJobInfo(dev, 0)
        except libvirt.libvirtError as exc:
            raise exception.SyncFailed('block job of %s %s: %s'
                                       % (self.dom.name(), dev, exc))
        if info:
            self.last[dev] = info
        return info

    def progress(self):
        """{'copied', 'total', 'remaining'} bytes, as last polled."""
        copied = total = 0
        for dev in self.targets:
            info = self.last.get(dev) or {}
            copied += info.get('cur', 0)
            total += info.get('end', 0)
        return {'copied': copied, 'total': total,
                'remaining': max(total - copied, 0)}

    def check_intact(self, require_ready=True):
        """Raise SyncFailed unless every job exists (and is ready)."""
        failed = self.watcher.failures()
        if failed:
            raise exception.SyncFailed(
                'block copy of %s failed (event for %s)'
                % (self.dom.name(), ', '.join(sorted({e[2] for e in
                                                      failed}))))
        ready = _mirror_ready(self.dom) if require_ready else {}
        for dev in self.targets:
            info = self.job_info(dev)
            if not info:
                raise exception.SyncFailed('the block copy job of %s %s is '
                                           'gone' % (self.dom.name(), dev))
            if require_ready and not ready.get(dev):
                raise exception.SyncFailed('the block copy job of %s %s is '
                                           'not ready' % (self.dom.name(),
                                                          dev))

    def poll_ready(self):
        """True once every job is ready and has copied all it knows of.

        One step of the wait for the mirror to converge, for callers that
        run their own loop (progress, abort, force-complete).  Raises
        SyncFailed when a job failed or vanished.
        """
        self.check_intact(require_ready=False)
        ready_events = self.watcher.ready_disks()
        xml_ready = _mirror_ready(self.dom)
        return all(
            (dev in ready_events or xml_ready.get(dev)) and
            self.last[dev]['cur'] == self.last[dev]['end']
            for dev in self.targets)

    def wait_in_sync(self, timeout=IN_SYNC_TIMEOUT):
        """With the guest stopped: wait until cur == end for every job."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_intact(require_ready=False)
            if all(self.last[d]['cur'] == self.last[d]['end']
                   for d in self.targets):
                return
            if time.monotonic() > deadline:
                raise exception.SyncFailed('block jobs of %s not in sync '
                                           'within %ss' % (self.dom.name(),
                                                           timeout))
            time.sleep(0.01)

    def finish(self):
        """Abort every job without pivot: the source keeps its disks."""
        mark = self.watcher.mark()
        for dev in self.targets:
            try:
                self.dom.blockJobAbort(dev, 0)
            except libvirt.libvirtError as exc:
                raise exception.SyncFailed('ending the block copy of %s %s '
                                           'failed: %s' % (self.dom.name(),
                                                           dev, exc))
            self.started.remove(dev)
        failed = self.watcher.failures(after=mark)
        if failed:
            raise exception.SyncFailed('block copy of %s failed while it '
                                       'ended' % self.dom.name())

    def abort(self):
        """Best effort: cancel whatever job is still running."""
        for dev in list(self.started):
            try:
                if self.dom.isActive() and self.dom.blockJobInfo(dev, 0):
                    self.dom.blockJobAbort(dev, 0)
            except libvirt.libvirtError as exc:
                LOG.debug('Abort of block job %(dev)s: %(err)s',
                          {'dev': dev, 'err': exc})
            self.started.remove(dev)

    def close(self):
        self.watcher.stop()
