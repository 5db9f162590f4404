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

"""The cutover's two halves, over the transfer engine.

The only module of the driver that calls :mod:`nova_v2v.transfer`'s
cutover and export API (:func:`cutover.run_source_cutover` with its
:class:`hooks.CutoverHooks` and :class:`cutover.CutoverOptions`,
:func:`cutover.restart_source`, :class:`nbd.ClientBoundExport`,
:class:`nbd.ExportedDisk`, :func:`nbd.stop_pid_file`,
:func:`clone.start_clone_retrying`, :func:`clone.wait_for_activity`,
:func:`clone.remove_clone`):

* :class:`DestinationHalf` exports the precreated disks over NBD and stops
  the exports (a crashed compute's leftovers too);
* :class:`SourceHalf` maps the destination's export records onto the
  guest's disks, runs the source's sequence (sync, stop, switch) with
  the driver's :class:`CutoverHooks`, proves the clone's guest runs, and
  removes a clone or restarts the source where a cutover stopped.

An export is recorded as :meth:`nbd.ExportedDisk.to_dict` gives it, with
its ``source_path`` (the source's disk the export receives): the one disk
record from the destination's export to the source's mirror.

Who an export admits is the source host only (:func:`source_identity`, read
by the source's pre-check and recorded, :meth:`DestinationHalf.access`):
its addresses always, and with Nova's ``[libvirt]
live_migration_with_native_tls`` its QEMU client certificate, over TLS; the
source's mirror then connects with TLS.
"""

import dataclasses
import glob
import os

from oslo_log import log as logging
from oslo_utils import units

from nova_v2v import conf
from nova_v2v import exception as v2v_exception
from nova_v2v.hardware import translate
from nova_v2v.transfer import clone
from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception as transfer_exception
from nova_v2v.transfer import hooks as cutover_hooks
from nova_v2v.transfer import nbd
from nova_v2v.transfer import peer

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# Where the destination keeps the pid files of its NBD exports, in the
# instance's directory: its rollback finds them there whatever the
# instance's system_metadata says.
NBD_PID_GLOB = 'v2v-nbd-*.pid'
# Seconds between two polls of the block copy jobs.
SYNC_POLL = 0.2
# Stop modes of the source guest.
SUSPEND = cutover.SUSPEND

TransferError = transfer_exception.TransferError


# The hooks the source's sequence calls: progress, abort, force-complete,
# the last word before the guest stops and the stopped source
# (transfer.hooks documents each).
CutoverHooks = cutover_hooks.CutoverHooks
CloneNotProven = transfer_exception.CloneNotProven
CloneStateUnknown = transfer_exception.CloneStateUnknown


def native_tls():
    """Whether Nova's live migrations run with QEMU's native TLS."""
    return bool(CONF.libvirt.live_migration_with_native_tls)


def tls_hostname(dest, migrate_data):
    """The name the mirror checks the exports' TLS certificate against.

    What Nova's own live migration with native TLS connects to, and so
    checks the destination's certificate against: the destination's
    ``[libvirt] live_migration_inbound_addr`` (``target_connect_addr``,
    which the destination's exports listen on too) when it has one,
    otherwise the destination's host name ``dest``. A certificate that
    Nova's migrations accept is accepted for the cutover's disk stream.

    :param dest: the destination host, as Nova names it
    :param migrate_data: Nova's ``LibvirtLiveMigrateData`` of the move
    """
    if ('target_connect_addr' in migrate_data and
            migrate_data.target_connect_addr):
        return migrate_data.target_connect_addr
    return dest


def client_cert_path():
    return os.path.join(CONF.v2v.nbd_tls_x509_cert_dir, 'client-cert.pem')


def source_identity():
    """This host as a destination's exports are to admit it (a dict).

    Its addresses (``[DEFAULT] my_ip`` and ``[libvirt]
    live_migration_inbound_addr``, resolved) and, with native TLS, the DN
    of its QEMU client certificate as QEMU's authorisation compares it.

    :raises: V2VMigrationRefused when either cannot be read
    """
    try:
        addresses = peer.resolve_addresses(
            [CONF.my_ip, CONF.libvirt.live_migration_inbound_addr])
        dn = (peer.certificate_dn(client_cert_path()) if native_tls()
              else None)
    except peer.PeerError as exc:
        raise v2v_exception.V2VMigrationRefused(
            reason='the destination\'s disk exports cannot be limited to '
                   'this host: %s' % exc)
    return peer.SourcePeer(addresses=tuple(addresses), tls_dn=dn).to_dict()


def _disk_devs(xml):
    """The target devs of the disks of a domain's definition."""
    return [dev for dev, _bus, _path, _fmt in translate.disk_targets(xml)
            if dev]


class DestinationHalf(object):
    """The destination's NBD exports of a cutover."""

    @staticmethod
    def access(source):
        """The exports' access: the source host ``source`` only.

        :param source: the source's :func:`source_identity` record
        :raises: V2VCutoverFailed
        """
        try:
            return nbd.ExportAccess.for_source(
                peer.SourcePeer.from_dict(source),
                tls_dir=(CONF.v2v.nbd_tls_x509_cert_dir if native_tls()
                         else None))
        except transfer_exception.ExportError as exc:
            raise v2v_exception.V2VCutoverFailed(reason=str(exc))

    @classmethod
    def export(cls, instance, disks, instance_dir, source=None):
        """Export ``disks`` from ``instance_dir``; their records.

        :param disks: ``[(source path, destination format)]``
        :param source: the source's :func:`source_identity` record: the
            one peer the exports admit
        :raises: V2VCutoverFailed
        """
        exported = []
        for source_path, dest_format in disks:
            base = os.path.basename(source_path)
            exported.append(nbd.ExportedDisk(
                os.path.join(instance_dir, base), dest_format,
                'v2v-%s-%s' % (instance.uuid, base),
                source_path=source_path))
        if not exported:
            raise v2v_exception.V2VCutoverFailed(
                reason='no local disk of the guest to synchronise')
        address = (CONF.libvirt.live_migration_inbound_addr or
                   CONF.my_ip)
        access = cls.access(source)
        export = nbd.ClientBoundExport(
            exported, address, run_dir=instance_dir, tag='v2v',
            port_range=(CONF.v2v.nbd_port_min, CONF.v2v.nbd_port_max),
            access=access)
        try:
            export.start()
        except transfer_exception.TransferError as exc:
            raise v2v_exception.V2VCutoverFailed(reason=str(exc))
        records = [disk.to_dict() for disk in export.exports()]
        LOG.info('V2V cutover: %(n)d disk(s) exported on %(addr)s, '
                 '%(tls)s, admitting %(peer)s',
                 {'n': len(records), 'addr': address,
                  'tls': 'TLS' if access.tls else 'without TLS',
                  'peer': ', '.join(filter(None, [access.tls_identity] +
                                           list(access.addresses)))},
                 instance=instance)
        return records

    @staticmethod
    def stop(instance, records, instance_dir=None):
        """Stop every export of the records or found in ``instance_dir``.

        :returns: how many were still running
        """
        pid_files = {r['pid_file'] for r in records if 'pid_file' in r}
        if instance_dir:
            pid_files.update(glob.glob(os.path.join(instance_dir,
                                                    NBD_PID_GLOB)))
        stopped = 0
        for pid_file in sorted(pid_files):
            if nbd.stop_pid_file(pid_file):
                stopped += 1
        if pid_files:
            LOG.info('V2V: %(n)d NBD export(s) were still running and '
                     'stopped', {'n': stopped}, instance=instance)
        return stopped

    @staticmethod
    def stop_leftovers(instance_dir):
        """Stop the exports a crashed compute left in ``instance_dir``.

        Only a process whose command line names the pid file is stopped
        (the one this compute's qemu-nbd was started with: a pid that was
        reused since is left alone); every pid file is removed.

        :returns: how many were still running
        """
        stopped = 0
        for pid_file in sorted(glob.glob(os.path.join(instance_dir,
                                                      NBD_PID_GLOB))):
            if nbd.stop_pid_file(pid_file, program=pid_file):
                stopped += 1
        return stopped


class SourceHalf(object):
    """The source's sequence of a cutover."""

    @staticmethod
    def disks(records, xml, tls_hostname=None):
        """The recorded exports, each with the guest's target dev.

        :param records: the export records (dicts) the destination stored
        :param xml: the running source guest's definition
        :param tls_hostname: the name a TLS export's certificate is checked
            against (:func:`tls_hostname`); kept where it differs from the
            export's address
        :returns: :class:`nbd.ExportedDisk` list, ``target`` set
        :raises: V2VCutoverFailed, also when native TLS is on here and an
            export does not serve TLS
        """
        targets = {path: dev for dev, _bus, path, _fmt in
                   translate.disk_targets(xml)}
        disks = []
        for record in records:
            disk = nbd.ExportedDisk.from_dict(record)
            path = disk.source_path or disk.path
            if path not in targets:
                raise v2v_exception.V2VCutoverFailed(
                    reason='the guest has no disk %s' % path)
            if native_tls() and not disk.tls:
                raise v2v_exception.V2VCutoverFailed(
                    reason='[libvirt] live_migration_with_native_tls is on '
                           'but the destination exports %s without TLS'
                           % disk.name)
            disks.append(dataclasses.replace(
                disk, target=targets[path],
                tls_hostname=(tls_hostname if disk.tls and
                              tls_hostname != disk.host else None)))
        if not disks:
            raise v2v_exception.V2VCutoverFailed(
                reason='the destination exported no disk')
        return disks

    @staticmethod
    def start_clone(conn, clone_xml):
        """Define and start the clone through ``conn``; its domain runs.

        A clone that does not run is removed again
        (:func:`clone.start_clone_retrying`); whether its guest runs is
        :meth:`prove_clone`'s.

        :returns: ``(clone, monotonic start time)``
        """
        return clone.start_clone_retrying(conn, clone_xml, None, 0)

    @staticmethod
    def activity_rule(agent):
        """What proves the clone's guest runs (text for the log)."""
        return clone.ActivityWatch(
            agent, CONF.v2v.cutover_activity_settle).rule()

    @staticmethod
    def prove_clone(lookup, clone_xml, agent):
        """Wait until the running clone's guest shows activity.

        At most ``[v2v] cutover_activity_timeout`` seconds, with ``[v2v]
        cutover_activity_settle`` (:func:`clone.wait_for_activity`).

        :param lookup: ``f() -> virDomain`` of the clone (reconnecting)
        :param clone_xml: the clone's definition (its disks are sampled)
        :param agent: whether its guest has a QEMU guest agent to ping
        :returns: what proved it (text)
        :raises: CloneNotProven
        """
        return clone.wait_for_activity(
            lookup, _disk_devs(clone_xml),
            CONF.v2v.cutover_activity_timeout, agent=agent,
            settle=CONF.v2v.cutover_activity_settle)

    @staticmethod
    def last_look(lookup, clone_xml, watch, agent):
        """One more look at an unproven clone before its removal.

        (:func:`clone.last_look`.)

        :param lookup: ``f() -> virDomain`` of the clone (reconnecting)
        :param clone_xml: the clone's definition (its disks are sampled)
        :param watch: the :class:`clone.ActivityWatch` of the wait, or
            None (the look then starts from nothing)
        :param agent: whether its guest has a QEMU guest agent to ping
        :returns: what proved the guest runs (text), or None
        :raises: CloneStateUnknown
        """
        if watch is None:
            watch = clone.ActivityWatch(agent,
                                        CONF.v2v.cutover_activity_settle)
        return clone.last_look(lookup, _disk_devs(clone_xml), watch)

    @staticmethod
    def remove_clone(conn, uuid):
        """Destroy and undefine the clone ``uuid`` on ``conn``, if any.

        Its disks stay (Nova's rollback at the destination removes the
        instance's directory).

        :returns: True when no clone runs there any more, False when
            that could not be confirmed (the destination unreachable, or
            a destroy that failed: it may run)
        """
        lv = clone.libvirt
        try:
            clone_dom = conn.lookupByUUIDString(uuid)
        except lv.libvirtError as exc:
            if exc.get_error_code() == lv.VIR_ERR_NO_DOMAIN:
                return True
            raise
        return clone.remove_clone(conn, clone_dom)

    @staticmethod
    def restart_source(domain):
        """Run the stopped source guest again (:func:`cutover.restart_source`).

        :returns: its ``VIR_DOMAIN_*`` state afterwards, or None
        """
        return cutover.restart_source(domain)

    @staticmethod
    def run(domain, disks, clone_xml, start_clone_fn, mode, hooks,
            bandwidth_mib=None):
        """Sync, stop, switch: :func:`cutover.run_source_cutover`.

        :param domain: the source guest's ``virDomain``
        :param bandwidth_mib: MiB/s per disk sync (0: no limit); None:
            Nova's ``[libvirt] live_migration_bandwidth``
        :param start_clone_fn: ``f(clone_xml) -> (clone, start time)``
        :param hooks: :class:`CutoverHooks`
        :returns: the cutover's stats dict
        """
        options = cutover.CutoverOptions(
            mode=mode,
            release_check=(None if CONF.v2v.cutover_release_probe
                           else cutover.release_not_probed),
            release_timeout=CONF.v2v.cutover_release_timeout,
            bandwidth=(CONF.libvirt.live_migration_bandwidth
                       if bandwidth_mib is None else bandwidth_mib) * units.Mi,
            sync_timeout=CONF.v2v.cutover_sync_timeout,
            shutdown_timeout=CONF.v2v.cutover_shutdown_timeout,
            progress_interval=max(
                CONF.libvirt.live_migration_monitor_interval, 1),
            poll=SYNC_POLL)
        return cutover.run_source_cutover(
            domain, disks, clone_xml, start_clone_fn, hooks, options)
