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

"""One libvirt live migration: flags, params, progress and abort.

``migrateToURI3`` blocks until the migration finishes, so it runs in a
worker thread while the calling thread polls ``jobStats()`` and reports
progress.  The migration is always peer-to-peer: the client only talks to
the source daemon, which dials ``dest_uri`` itself.

Polls are samples: a short migration may end before the first one, or
between two of them.  What the job moved in all is read from the source
daemon's job-completed event (``VIR_DOMAIN_EVENT_ID_JOB_COMPLETED``),
whose statistics are the source's final ones, the disks' mirror
included; it needs a libvirt event loop registered before the connection
was opened (``engine.ensure_event_loop``).
"""

import threading
import time

import libvirt
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

BASE_FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
              libvirt.VIR_MIGRATE_PERSIST_DEST |
              libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)


class MigrationFailed(Exception):
    def __init__(self, message, cause=None, progress=None):
        super(MigrationFailed, self).__init__(message)
        self.cause = cause
        self.progress = progress or []


class MigrationTimeout(MigrationFailed):
    pass


# How long to wait, once migrateToURI3 returned, for the job-completed
# event (libvirt emits it before the call returns; the event loop thread
# may deliver it a little later).
COMPLETED_EVENT_WAIT = 5.0


def build_flags(block=False, incremental=False, trust_shared=False,
                tls=False):
    """Flags for a Nova-style p2p live migration.

    block: copy disks (NON_SHARED_DISK, or NON_SHARED_INC with
    incremental, which is what Nova uses with backing files).
    trust_shared: add VIR_MIGRATE_UNSAFE.  libvirt only recognises NFS,
    GFS2, Ceph, etc. as shared; a disk that really is shared but lives on
    a local filesystem (like the lab's bind-mounted directory) is refused
    with "Migration without shared storage is unsafe" otherwise.  Never
    set it for storage that is not actually the same file on both ends.
    tls: add VIR_MIGRATE_TLS, what Nova's ``[libvirt]
    live_migration_with_native_tls = True`` adds: QEMU encrypts the
    migration stream and, with block, the NBD disk stream (certificates
    in qemu.conf's ``migrate_tls_x509_cert_dir`` on both hosts).
    """
    flags = BASE_FLAGS
    if block:
        flags |= (libvirt.VIR_MIGRATE_NON_SHARED_INC if incremental
                  else libvirt.VIR_MIGRATE_NON_SHARED_DISK)
    if trust_shared:
        if block:
            raise ValueError('trust_shared makes no sense with block=True')
        flags |= libvirt.VIR_MIGRATE_UNSAFE
    if tls:
        flags |= libvirt.VIR_MIGRATE_TLS
    return flags


def build_params(dest_ip=None, disks=None, bandwidth_mib=None,
                 dest_xml=None):
    params = {}
    if dest_ip:
        params[libvirt.VIR_MIGRATE_PARAM_URI] = 'tcp://%s' % dest_ip
    if disks:
        params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = list(disks)
    if bandwidth_mib:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = int(bandwidth_mib)
    if dest_xml:
        params[libvirt.VIR_MIGRATE_PARAM_DEST_XML] = dest_xml
    return params


class LiveMigration(object):
    """Run dom.migrateToURI3 in a thread; poll, report, abort."""

    def __init__(self, dom, dest_uri, flags, params=None,
                 poll_interval=0.2, timeout=None, progress_cb=None,
                 completed_wait=COMPLETED_EVENT_WAIT):
        self.dom = dom
        self.dest_uri = dest_uri
        self.flags = flags
        self.params = params or {}
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.progress_cb = progress_cb
        self.progress = []
        self._abort = threading.Event()
        self._error = None
        self._thread = None
        self.elapsed = None
        # What each jobStats() poll gave: a sample, no job, or an error.
        self.polls = {'samples': 0, 'no_job': 0, 'errors': 0,
                      'last_error': None}
        # The source's completed-job statistics, from its event.
        self.completed = None
        self.completed_wait = completed_wait
        self._completed_event = threading.Event()
        self._uuid = None

    def abort(self):
        """Request abort; safe from any thread (e.g. progress_cb)."""
        self._abort.set()

    def _run(self):
        try:
            self.dom.migrateToURI3(self.dest_uri, self.params, self.flags)
        except libvirt.libvirtError as exc:
            self._error = exc

    def _poll(self):
        try:
            stats = self.dom.jobStats()
        except libvirt.libvirtError as exc:
            self.polls['errors'] += 1
            self.polls['last_error'] = str(exc)
            LOG.debug('jobStats: %(err)s', {'err': exc})
            return None
        if not stats or stats.get('type') == libvirt.VIR_DOMAIN_JOB_NONE:
            self.polls['no_job'] += 1
            return None
        self.polls['samples'] += 1
        return stats

    def _on_job_completed(self, _conn, dom, params, _opaque):
        if dom.UUIDString() != self._uuid:
            return
        self.completed = dict(params)
        self._completed_event.set()

    def _watch_completion(self):
        """Watch for the job-completed event: (conn, callback id) or None."""
        try:
            self._uuid = self.dom.UUIDString()
            conn = self.dom.connect()
            return conn, conn.domainEventRegisterAny(
                self.dom, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                self._on_job_completed, None)
        except libvirt.libvirtError as exc:
            LOG.warning('Cannot watch the job-completed event of %(dom)s '
                        '(no libvirt event loop?): %(err)s; the totals '
                        'will come from the polls',
                        {'dom': self.dom.name(), 'err': exc})
            return None

    def _unwatch_completion(self, watch, succeeded):
        if watch is None:
            return
        conn, cb_id = watch
        if succeeded and not self._completed_event.wait(
                self.completed_wait):
            LOG.warning('No job-completed event for %(dom)s within '
                        '%(s).1f s', {'dom': self.dom.name(),
                                      's': self.completed_wait})
        try:
            conn.domainEventDeregisterAny(cb_id)
        except libvirt.libvirtError as exc:
            LOG.debug('Event deregistration: %(err)s', {'err': exc})

    def run(self):
        LOG.info('Migrating %(dom)s to %(uri)s flags=%(flags)#x',
                 {'dom': self.dom.name(), 'uri': self.dest_uri,
                  'flags': self.flags})
        watch = self._watch_completion()
        try:
            return self._run_and_poll()
        finally:
            self._unwatch_completion(watch, self._error is None)

    def _run_and_poll(self):
        start = time.monotonic()
        self._thread = threading.Thread(target=self._run,
                                        name='migrate-%s' % self.dom.name())
        self._thread.daemon = True
        self._thread.start()
        aborted = None
        while self._thread.is_alive():
            self._thread.join(self.poll_interval)
            if not self._thread.is_alive():
                break
            stats = self._poll()
            if stats:
                stats['_t'] = time.monotonic() - start
                self.progress.append(stats)
                if self.progress_cb:
                    try:
                        self.progress_cb(stats)
                    except Exception as exc:
                        # The migration runs on in its thread: a failing
                        # observer must not leave it unwatched.
                        LOG.warning('Progress callback failed: %(err)s',
                                    {'err': exc})
            if (self.timeout and not aborted and
                    time.monotonic() - start > self.timeout):
                aborted = 'timeout'
                self._abort.set()
            if self._abort.is_set() and not aborted:
                aborted = 'requested'
            if self._abort.is_set():
                try:
                    self.dom.abortJob()
                except libvirt.libvirtError as exc:
                    LOG.debug('abortJob: %(err)s', {'err': exc})
                self._abort.clear()
        self.elapsed = time.monotonic() - start
        if self._error is not None:
            cls = MigrationTimeout if aborted == 'timeout' else \
                MigrationFailed
            raise cls('migration of %s failed: %s'
                      % (self.dom.name(), self._error), self._error,
                      self.progress)
        LOG.info('Migration of %(dom)s finished in %(sec).2f s',
                 {'dom': self.dom.name(), 'sec': self.elapsed})
        return self.elapsed


def completed_stats(dest_dom):
    """Completed-job stats, read on the destination.

    With UNDEFINE_SOURCE the source object is gone, so the destination is
    the only place left that holds downtime and time_elapsed.
    """
    try:
        return dest_dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except libvirt.libvirtError as exc:
        LOG.warning('No completed job stats: %(err)s', {'err': exc})
        return {}
