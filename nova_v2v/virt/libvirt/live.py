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


"""The V2V driver's live migrations: the destination's and source's hooks.

A ``shared-live`` or ``block-live`` plan runs through Nova's own libvirt
path. A ``v2v-cutover`` plan runs inside Nova's own live migration flow:

* the destination's ``pre_live_migration`` lets Nova precreate the disks
  (in the plan's formats) and exports them over NBD with one non-persistent
  ``qemu-nbd`` per disk, which releases its image by itself when the
  source's QEMU disconnects (:class:`nbd.ClientBoundExport`);
* the source's ``_live_migration`` runs :func:`cutover.run_source_cutover`
  (the sequence the lab runs on real QEMU too): it mirrors every local
  disk into those exports (:class:`cutover.DiskSync`), saving progress
  into the migration record, honouring abort and force-complete; then
  stops the guest, ends the mirror without pivot, waits until each export
  refuses connections (its qemu-nbd exited), starts the translated clone on
  the destination through a libvirt connection to it (as libvirt's own
  peer-to-peer migration creates the domain there), checks it runs, powers
  the paused source off and only then calls ``post_method``: Nova's
  cleanup then undefines the source and deletes its disks. Any failure
  before the clone runs rolls the source back and calls
  ``recover_method``; the destination's rollback stops the exports and
  removes what was created there.
"""

import collections
import dataclasses
import functools
import glob
import os
import threading
import time

from nova import exception
from nova import objects
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration as libvirt_migrate
from nova.virt.libvirt import utils as libvirt_utils
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import units

from nova_v2v import conf
from nova_v2v import exception as v2v_exception
from nova_v2v.hardware import translate
from nova_v2v import notifications
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v.storage import disks
from nova_v2v.storage import leftovers
from nova_v2v.transfer import clone
from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception as transfer_exception
from nova_v2v.transfer import hooks as cutover_hooks
from nova_v2v.transfer import nbd
from nova_v2v.transfer import tuning
from nova_v2v.virt.libvirt import common

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# libvirt's virDomainMigrateFlags value (libvirt-domain.h); Nova's fake
# libvirt module in its tests does not define it.
VIR_MIGRATE_UNSAFE = 1 << 9
# virDomainJobType: a job with no known end (a running migration).
VIR_DOMAIN_JOB_UNBOUNDED = 2


class LiveMigrationMixin(object):
    """Both halves of a live migration; the V2V cutover."""

    # -- the move itself -------------------------------------------------

    def _v2v_clear_leftover(self, instance, instance_dir):
        """Replace what an earlier failed attempt left at ``instance_dir``.

        Nova refuses a destination whose instance directory exists. When no
        domain of the instance is defined here and none of its files is in
        use, the directory is a leftover and is removed, so that a retry
        works; otherwise Nova's refusal stands.
        """
        try:
            self._host.get_guest(instance)
        except exception.InstanceNotFound:
            pass
        else:
            LOG.warning('The instance has a domain on this host: keeping '
                        '%(dir)s', {'dir': instance_dir}, instance=instance)
            return
        try:
            leftovers.clear_instance_dir(CONF.instances_path, instance_dir)
        except disks.DiskError as e:
            LOG.warning('Not removing %(dir)s: %(err)s',
                        {'dir': instance_dir, 'err': e}, instance=instance)

    # -- the move itself: destination ------------------------------------

    def pre_live_migration(self, context, instance, block_device_info,
                           network_info, disk_info, migrate_data):
        if not migrate_data.is_shared_instance_path:
            instance_dir = libvirt_utils.get_instance_path_at_destination(
                instance, migrate_data)
            if os.path.exists(instance_dir):
                self._v2v_clear_leftover(instance, instance_dir)
        plan = load_plan(context, instance)
        if not self._v2v_is_cutover(plan):
            return super().pre_live_migration(
                context, instance, block_device_info, network_info,
                disk_info, migrate_data)
        if migrate_data.is_shared_instance_path:
            raise v2v_exception.V2VCutoverFailed(
                reason='the instance path is shared with the source; the '
                       'cutover runs on local instance storage only')
        common.sysmeta_put(instance.system_metadata, common.SYSMETA_PLAN,
                           plan.to_json())
        # Local storage: the disks are copied (by the cutover's mirror).
        migrate_data.block_migration = True
        disk_info = cutover_disk_info(plan, disk_info)
        result = super().pre_live_migration(
            context, instance, block_device_info, network_info, disk_info,
            migrate_data)
        self._v2v_export_disks(context, instance, plan, disk_info,
                               migrate_data)
        return result

    def _v2v_export_disks(self, context, instance, plan, disk_info,
                          migrate_data):
        """Export the precreated disks over NBD; record the exports."""
        planned = {d.path: d for d in plan.disks}
        instance_dir = libvirt_utils.get_instance_path_at_destination(
            instance, migrate_data)
        exported = []
        for info in jsonutils.loads(disk_info or '[]'):
            disk_plan = planned.get(info['path'])
            if disk_plan is None:
                continue
            base = os.path.basename(info['path'])
            exported.append(nbd.ExportedDisk(
                os.path.join(instance_dir, base), disk_plan.dest_format,
                'v2v-%s-%s' % (instance.uuid, base),
                source_path=info['path']))
        if not exported:
            raise v2v_exception.V2VCutoverFailed(
                reason='no local disk of the guest to synchronise')
        address = (CONF.libvirt.live_migration_inbound_addr or
                   CONF.my_ip)
        export = nbd.ClientBoundExport(
            exported, address, run_dir=instance_dir, tag='v2v',
            port_range=(CONF.v2v.nbd_port_min, CONF.v2v.nbd_port_max))
        try:
            export.start()
        except transfer_exception.TransferError as exc:
            raise v2v_exception.V2VCutoverFailed(reason=str(exc))
        records = [disk.to_dict() for disk in export.exports()]
        LOG.info('V2V cutover: %(n)d disk(s) exported on %(addr)s',
                 {'n': len(records), 'addr': address}, instance=instance)
        self._v2v_set_sysmeta(context, instance, common.SYSMETA_NBD,
                              jsonutils.dumps(records))

    def _v2v_stop_exports(self, context, instance, migrate_data):
        """Stop every NBD export of the instance on this host."""
        pid_files = set()
        try:
            fresh = objects.Instance.get_by_uuid(
                context, instance.uuid, expected_attrs=['system_metadata'])
            records = jsonutils.loads(common.sysmeta_get(
                fresh.system_metadata, common.SYSMETA_NBD) or '[]')
        except Exception:
            LOG.exception('Cannot read the NBD exports of the instance',
                          instance=instance)
            records = []
        pid_files.update(r['pid_file'] for r in records if 'pid_file' in r)
        if migrate_data is not None and not (
                'is_shared_instance_path' in migrate_data and
                migrate_data.is_shared_instance_path):
            instance_dir = libvirt_utils.get_instance_path_at_destination(
                instance, migrate_data)
            pid_files.update(glob.glob(os.path.join(instance_dir,
                                                    common.NBD_PID_GLOB)))
        stopped = 0
        for pid_file in sorted(pid_files):
            if nbd.stop_pid_file(pid_file):
                stopped += 1
        if pid_files:
            LOG.info('V2V: %(n)d NBD export(s) were still running and '
                     'stopped', {'n': stopped}, instance=instance)
        if records:
            self._v2v_set_sysmeta(context, instance, common.SYSMETA_NBD, None)
        return stopped

    def rollback_live_migration_at_destination(self, context, instance,
                                               network_info,
                                               block_device_info,
                                               destroy_disks=True,
                                               migrate_data=None):
        try:
            self._v2v_stop_exports(context, instance, migrate_data)
        except Exception:
            LOG.exception('V2V: stopping the NBD exports failed',
                          instance=instance)
        # Nova destroys and undefines the domain defined here, if any (a
        # clone), and removes the instance directory when not shared.
        return super().rollback_live_migration_at_destination(
            context, instance, network_info, block_device_info,
            destroy_disks=destroy_disks, migrate_data=migrate_data)

    def post_live_migration_at_destination(self, context, instance,
                                           network_info,
                                           block_migration=False,
                                           block_device_info=None):
        # A cutover's clone already runs here: Nova reattaches its VIFs.
        super().post_live_migration_at_destination(
            context, instance, network_info,
            block_migration=block_migration,
            block_device_info=block_device_info)
        # Each qemu-nbd exited when the source disconnected; only their
        # pid files and the record remain.
        inst_dir = libvirt_utils.get_instance_path(instance)
        for pid_file in glob.glob(os.path.join(inst_dir,
                                               common.NBD_PID_GLOB)):
            nbd.stop_pid_file(pid_file)
        self._v2v_set_sysmeta(context, instance, common.SYSMETA_NBD, None)

    # -- the move itself: source -----------------------------------------

    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        # The manager's instance object was serialised by the conductor
        # before the source's pre-check recorded the plan, and Nova writes
        # system_metadata back whole when it saves it (the source cleanup
        # after a block migration does): carry the plan on that object so
        # that the record of the move survives it.
        plan = load_plan(context, instance)
        if plan is not None:
            common.sysmeta_put(instance.system_metadata,
                               common.SYSMETA_PLAN, plan.to_json())
            LOG.debug('Running V2V plan %(plan)s', {'plan': plan.summary()},
                      instance=instance)
        self._v2v_emit(context, notifications.START, instance,
                       **_event_hosts(plan, dest))
        return super().live_migration(
            context, instance, dest, post_method, recover_method,
            block_migration=block_migration, migrate_data=migrate_data)

    def _live_migration(self, context, instance, dest, post_method,
                        recover_method, block_migration, migrate_data):
        fresh = objects.Instance.get_by_uuid(
            context, instance.uuid, expected_attrs=['system_metadata'])
        text = common.sysmeta_get(fresh.system_metadata, common.SYSMETA_PLAN)
        plan = planner.MigrationPlan.from_json(text) if text else None
        if not self._v2v_is_cutover(plan):
            return super()._live_migration(
                context, instance, dest, post_method, recover_method,
                block_migration, migrate_data)
        records = jsonutils.loads(
            common.sysmeta_get(fresh.system_metadata, common.SYSMETA_NBD) or
            '[]')
        # The destination forgets the exports itself; this stale object
        # must not write them back when Nova saves it.
        common.sysmeta_put(instance.system_metadata, common.SYSMETA_NBD, None)
        state = CutoverState(CONF.v2v.cutover_mode)
        self._v2v_cutovers[instance.uuid] = state
        self.active_migrations[instance.uuid] = collections.deque()
        try:
            try:
                self._v2v_run_cutover(context, instance, dest, plan,
                                      records, migrate_data, state)
            except v2v_exception.V2VCutoverCancelled as exc:
                LOG.warning('%(err)s', {'err': exc}, instance=instance)
                state.failure = str(exc)
                recover_method(context, instance, dest, migrate_data,
                               migration_status='cancelled')
                return
            except Exception as exc:
                LOG.error('V2V cutover failed, rolled back: %(err)s',
                          {'err': exc}, instance=instance)
                state.failure = str(exc)
                recover_method(context, instance, dest, migrate_data)
                return
            post_method(context, instance, dest, block_migration,
                        migrate_data)
        finally:
            self._v2v_cutovers.pop(instance.uuid, None)
            self._clear_empty_migration(instance)

    def _live_migration_operation(self, context, instance, dest,
                                  block_migration, migrate_data, guest,
                                  device_names):
        """Nova's migration thread, whose failure the monitor reports.

        Nova 34's ``_live_migration`` collects this thread's result after
        its monitor has already handled the job's end: when libvirt's
        ``migrateToURI3`` raises (as it does for a cancelled or failed
        job), the monitor has rolled back (migration 'cancelled' or
        'failed', the instance ACTIVE on the source), and the re-raised
        error then made the compute manager record the migration 'error'
        and the instance ERROR. As Nova's own comment after the migrate
        call says, the job's state is what tells the outcome: the error is
        logged (Nova already logged it as "Live Migration failure") and
        the monitor decides.
        """
        add_flags = 0
        if not block_migration and trusted_shared(
                migrate_data, guest_disk_paths(guest.get_xml_desc()),
                CONF.v2v.shared_filesystems):
            LOG.info('The guest\'s disks are on a shared filesystem of '
                     '[v2v] shared_filesystems: migrating with '
                     'VIR_MIGRATE_UNSAFE', instance=instance)
            add_flags |= VIR_MIGRATE_UNSAFE
        # Nova decides by migrate_data, not by the argument (None when
        # the request left block_migration to the pre-checks).
        flags = self._get_migration_flags(migrate_data.block_migration)
        tuned, added = tuning.live_flags(
            flags, self._host.get_connection().getLibVersion(),
            auto_converge=CONF.v2v.auto_converge,
            synchronous_writes=CONF.v2v.synchronous_disk_writes)
        if added:
            LOG.info('Live migration tuning: %(added)s',
                     {'added': ', '.join(added)}, instance=instance)
        add_flags |= tuned & ~flags
        if add_flags:
            guest = _FlagsMigrateGuest(guest, add_flags)
        if CONF.v2v.downtime_policy == 'fitted':
            _set_first_downtime(guest, instance)
        try:
            return super()._live_migration_operation(
                context, instance, dest, block_migration, migrate_data,
                guest, device_names)
        except Exception as exc:
            LOG.warning('The migration call ended with %(err)s; the job '
                        'monitor reports the outcome', {'err': exc},
                        instance=instance)

    def _live_migration_monitor(self, context, instance, guest, *args,
                                **kwargs):
        if CONF.v2v.downtime_policy == 'fitted':
            guest = FittedDowntimeGuest(guest, tuning.FittedDowntime(
                CONF.libvirt.live_migration_downtime,
                CONF.libvirt.live_migration_downtime_steps,
                passes=CONF.v2v.downtime_step_passes), instance)
        return super()._live_migration_monitor(context, instance, guest,
                                               *args, **kwargs)

    def live_migration_abort(self, instance):
        state = self._v2v_cutovers.get(instance.uuid)
        if state is None:
            return super().live_migration_abort(instance)
        if not state.request_abort():
            LOG.warning('The V2V cutover is past the point where it can be '
                        'cancelled', instance=instance)
            return
        LOG.info('Cancelling the V2V cutover', instance=instance)

    def _v2v_run_cutover(self, context, instance, dest, plan, records,
                         migrate_data, state):
        """Sync, stop, switch; the clone runs on ``dest`` on return.

        Nova's side of :func:`cutover.run_source_cutover`, the sequence the
        lab runs too: the exports the destination recorded, the clone's
        definition, progress into the migration record, abort and
        force-complete. Raises after rolling the source back (running
        guest, no job).
        """
        guest = self._host.get_guest(instance)
        dom = guest._domain
        targets = {path: dev for dev, _bus, path, _fmt in
                   translate.disk_targets(guest.get_xml_desc())}
        disks = []
        for record in records:
            disk = nbd.ExportedDisk.from_dict(record)
            path = disk.source_path or disk.path
            if path not in targets:
                raise v2v_exception.V2VCutoverFailed(
                    reason='the guest has no disk %s' % path)
            disks.append(dataclasses.replace(disk, target=targets[path]))
        if not disks:
            raise v2v_exception.V2VCutoverFailed(
                reason='the destination exported no disk')
        # Built while the guest runs: a translation error stops the move
        # before anything happened.
        clone_xml = self._v2v_clone_xml(instance, guest, plan, migrate_data)
        hooks = _CutoverHooks(self, context, instance, plan, migrate_data,
                              state)
        options = cutover.CutoverOptions(
            mode=state.mode,
            release_check=(None if CONF.v2v.cutover_release_probe
                           else cutover.release_not_probed),
            release_timeout=CONF.v2v.cutover_release_timeout,
            bandwidth=CONF.libvirt.live_migration_bandwidth * units.Mi,
            sync_timeout=CONF.v2v.cutover_sync_timeout,
            shutdown_timeout=CONF.v2v.cutover_shutdown_timeout,
            progress_interval=max(
                CONF.libvirt.live_migration_monitor_interval, 1),
            poll=common.SYNC_POLL)
        try:
            stats = cutover.run_source_cutover(
                dom, disks, clone_xml,
                functools.partial(self._v2v_start_clone, instance, dest),
                hooks, options)
        except Exception as exc:
            state.rolled_back = True
            LOG.warning('V2V cutover rolled back: %(err)s', {'err': exc},
                        instance=instance)
            if state.aborted:
                raise v2v_exception.V2VCutoverCancelled(
                    reason='aborted by request (%s)' % exc)
            raise
        LOG.info('V2V cutover done: downtime %(down)ss, stop %(how)s, '
                 '%(bytes)d bytes copied', {'down': stats['downtime_seconds'],
                                            'how': stats['stop'],
                                            'bytes': stats['bytes_copied']},
                 instance=instance)
        self._v2v_emit(context, notifications.CUTOVER_END, instance,
                       downtime_s=stats['downtime_seconds'],
                       stop=stats['stop'],
                       bytes_copied=stats['bytes_copied'],
                       **_event_hosts(plan, dest))

    def _v2v_on_progress(self, context, instance, plan, migrate_data,
                         progress):
        self._v2v_save_progress(instance, migrate_data, progress)
        self._v2v_emit(context, notifications.PROGRESS, instance,
                       **dict(notifications.progress_fields(progress),
                              **_event_hosts(plan, plan.dest_host)))

    def _v2v_enter_cutover(self, context, instance, plan, state):
        """The guest stops now, unless an abort came first."""
        if not state.enter_cutover():
            return False
        self._v2v_emit(context, notifications.CUTOVER_START, instance,
                       **_event_hosts(plan, plan.dest_host))
        return True

    def post_live_migration_at_source(self, context, instance,
                                      network_info):
        super().post_live_migration_at_source(context, instance,
                                              network_info)
        plan = self._v2v_plan_for_event(context, instance)
        self._v2v_emit(context, notifications.END, instance,
                       **_event_hosts(plan, plan.dest_host if plan
                                      else None))

    def rollback_live_migration_at_source(self, context, instance,
                                          migrate_data):
        super().rollback_live_migration_at_source(context, instance,
                                                  migrate_data)
        state = self._v2v_cutovers.get(instance.uuid)
        plan = self._v2v_plan_for_event(context, instance)
        self._v2v_emit(context, notifications.ROLLBACK, instance,
                       reason=state.failure if state is not None else None,
                       **_event_hosts(plan, plan.dest_host if plan
                                      else None))

    @staticmethod
    def _v2v_plan_for_event(context, instance):
        """The recorded plan, or None: an event never fails the move."""
        try:
            return load_plan(context, instance)
        except Exception as exc:
            LOG.debug('No V2V plan for the event: %(err)s', {'err': exc},
                      instance=instance)
            return None

    @staticmethod
    def _v2v_save_progress(instance, migrate_data, progress):
        if 'migration' not in migrate_data or not migrate_data.migration:
            return
        total = progress['total']
        info = libvirt_guest.JobInfo(
            type=libvirt_driver.libvirt.VIR_DOMAIN_JOB_UNBOUNDED,
            disk_total=total, disk_processed=progress['copied'],
            disk_remaining=progress['remaining'], memory_total=0,
            memory_processed=0, memory_remaining=0)
        remaining = (int(round(progress['remaining'] * 100.0 / total))
                     if total else 100)
        libvirt_migrate.save_stats(instance, migrate_data.migration, info,
                                   remaining)

    def _v2v_clone_xml(self, instance, guest, plan, migrate_data):
        """The clone's definition, from the running source guest.

        Nova's update for the destination (VIFs, volumes, graphics,
        serial...) plus the plan's translation.
        """
        get_vif_config = None
        if 'vifs' in migrate_data and migrate_data.vifs:
            get_vif_config = functools.partial(
                self.vif_driver.get_config, instance=instance,
                image_meta=instance.image_meta, flavor=instance.flavor,
                virt_type=profile.DOMAIN_TYPE.get(plan.dest_accel,
                                                  CONF.libvirt.virt_type))
        new_resources = None
        if isinstance(instance, objects.Instance):
            new_resources = self._sorted_migrating_resources(
                instance, instance.flavor)
        xml = libvirt_migrate.get_updated_guest_xml(
            instance, guest, migrate_data, self._get_volume_config,
            get_vif_config=get_vif_config, new_resources=new_resources)
        try:
            return self._v2v_translate(xml, plan)
        except translate.TranslationError as exc:
            raise v2v_exception.V2VCutoverFailed(reason=str(exc))

    @staticmethod
    def _v2v_translate(xml, plan):
        """The plan's translation of a domain XML.

        Disk and NVRAM paths stay identical: the destination's disks were
        precreated at the source's paths (no instances path is given, so
        nothing is relocated).
        """
        return translate.translate_domain_xml(
            xml, plan.hardware_changes,
            disk_formats={d.path: d.dest_format for d in plan.disks},
            unmappable=CONF.v2v.unmappable_devices)

    def _v2v_dest_connection(self, dest):
        """A libvirt connection to the destination's libvirtd.

        ``[v2v] clone_uri``, by default the URI Nova's own (peer-to-peer)
        live migration uses, through the libvirt module Nova's driver
        imported.
        """
        lv = libvirt_driver.libvirt
        auth = [[lv.VIR_CRED_AUTHNAME, lv.VIR_CRED_ECHOPROMPT,
                 lv.VIR_CRED_REALM, lv.VIR_CRED_PASSPHRASE,
                 lv.VIR_CRED_NOECHOPROMPT, lv.VIR_CRED_EXTERNAL],
                _no_auth, None]
        uri = (CONF.v2v.clone_uri % dest if CONF.v2v.clone_uri
               else self._live_migration_uri(dest))
        return lv.openAuth(uri, auth, 0)

    def _v2v_start_clone(self, instance, dest, clone_xml):
        """Define and start the clone on ``dest``: (clone, start time)."""
        conn = self._v2v_dest_connection(dest)
        try:
            the_clone, started = clone.start_clone_retrying(
                conn, clone_xml, _verify_clone,
                CONF.v2v.cutover_clone_check)
            LOG.info('V2V cutover: the clone %(name)s runs on %(dest)s',
                     {'name': the_clone.name(), 'dest': dest},
                     instance=instance)
            return the_clone, started
        finally:
            try:
                conn.close()
            except Exception:
                pass


class _CutoverHooks(cutover_hooks.CutoverHooks):
    """Nova's side of a cutover: progress, abort and force-complete.

    Progress goes to the migration record and the notifications, an
    abort (``live_migration_abort``) and a force-complete
    (``live_migration_force_complete``, through Nova's
    ``active_migrations`` queue) are read from ``state`` and the queue.
    """

    def __init__(self, driver, context, instance, plan, migrate_data,
                 state):
        self.driver = driver
        self.context = context
        self.instance = instance
        self.plan = plan
        self.migrate_data = migrate_data
        self.state = state
        self.tasks = driver.active_migrations.get(instance.uuid)

    def should_abort(self):
        return self.state.aborted

    def progress(self, progress):
        self.driver._v2v_on_progress(self.context, self.instance, self.plan,
                                     self.migrate_data, progress)

    def force_complete(self):
        forced = False
        while self.tasks:
            if self.tasks.popleft() == 'force-complete':
                forced = True
        if forced:
            self.state.forced = True
            self.state.mode = cutover.SUSPEND
        return forced

    def enter_cutover(self):
        return self.driver._v2v_enter_cutover(self.context, self.instance,
                                              self.plan, self.state)


def guest_disk_paths(xml):
    """The paths of the guest's file-backed disks."""
    return [path for _dev, _bus, path, _fmt in translate.disk_targets(xml)
            if path]


def trusted_shared(migrate_data, paths, shared_filesystems):
    """Whether the shared-storage move may tell libvirt to trust it.

    libvirt (before 10.3's ``shared_filesystems`` in qemu.conf) refuses a
    live migration whose disks are on a filesystem it does not know as
    shared ("Migration without shared storage is unsafe"). True only when
    Nova's shared-storage probe found the instance path shared and every
    disk is below one of the operator's ``shared_filesystems``.
    """
    if not shared_filesystems or not paths:
        return False
    if not ('is_shared_instance_path' in migrate_data and
            migrate_data.is_shared_instance_path):
        return False
    roots = [os.path.normpath(r) for r in shared_filesystems]
    return all(any(os.path.normpath(p).startswith(root + os.sep)
                   for root in roots) for p in paths)


class _FlagsMigrateGuest(object):
    """A Guest whose ``migrate`` adds ``add_flags`` to its flags."""

    def __init__(self, guest, add_flags):
        self._guest = guest
        self.add_flags = add_flags

    def __getattr__(self, name):
        return getattr(self._guest, name)

    def migrate(self, *args, **kwargs):
        kwargs['flags'] = kwargs.get('flags', 0) | self.add_flags
        return self._guest.migrate(*args, **kwargs)


def _set_first_downtime(guest, instance):
    """Set the fitted ladder's first value before the migration starts.

    Nova's monitor sets the maximum downtime at its first job sample,
    0.5 s in; a migration that converges before it would run with QEMU's
    default (300 ms). libvirt keeps a value set before the job through
    the job (it only resets the parameters it sets itself). The
    monitor's first sample sets the same value again.
    """
    first = tuning.downtime_ladder(
        CONF.libvirt.live_migration_downtime,
        CONF.libvirt.live_migration_downtime_steps)[0]
    try:
        guest.migrate_configure_max_downtime(first)
    except Exception as exc:
        LOG.warning('Unable to set the maximum downtime to %(ms)d ms before '
                    'the migration: %(err)s', {'ms': first, 'err': exc},
                    instance=instance)
        return
    LOG.info('Maximum downtime %(ms)d ms from the start of the migration',
             {'ms': first}, instance=instance)


class FittedDowntimeGuest(object):
    """A Guest whose maximum downtime follows a FittedDowntime policy.

    Nova's ``_live_migration_monitor`` reads the job every 0.5 s with
    ``get_job_info`` and then raises the downtime on its own schedule
    with ``migrate_configure_max_downtime``. Each job sample read here
    goes to the policy, whose value is applied; Nova's own steps are
    left aside.
    """

    def __init__(self, guest, policy, instance):
        self._guest = guest
        self._policy = policy
        self._instance = instance
        self._t0 = time.monotonic()

    def __getattr__(self, name):
        return getattr(self._guest, name)

    def get_job_info(self):
        info = self._guest.get_job_info()
        if info.type == VIR_DOMAIN_JOB_UNBOUNDED:
            sample = {key: getattr(info, key, 0) for key in (
                'memory_total', 'memory_processed', 'memory_remaining',
                'memory_bps', 'memory_iteration')}
            new = self._policy.update(sample, time.monotonic() - self._t0)
            if new is not None:
                step = self._policy.history[-1]
                LOG.info('Setting the maximum downtime to %(ms)d ms after '
                         '%(t).1f s (%(why)s)',
                         {'ms': new, 't': step.elapsed, 'why': step.reason},
                         instance=self._instance)
                try:
                    self._guest.migrate_configure_max_downtime(new)
                except Exception as exc:
                    LOG.warning('Unable to set the maximum downtime to '
                                '%(ms)d ms: %(err)s',
                                {'ms': new, 'err': exc},
                                instance=self._instance)
        return info

    def migrate_configure_max_downtime(self, mstime):
        LOG.debug('Nova\'s downtime step to %(ms)d ms not applied: [v2v] '
                  'downtime_policy is fitted', {'ms': mstime},
                  instance=self._instance)


def _event_hosts(plan, dest):
    """Payload fields that name the move."""
    fields = {'dest_host': dest}
    if plan is not None:
        fields.update(source_host=plan.source_host, mode=plan.mode,
                      block_migration=plan.block_migration)
    return fields


def load_plan(context, instance):
    """The plan the source's pre-check recorded for ``instance``, or None.

    Read from the database: the instance objects that later RPC calls carry
    were serialised by the conductor before the plan was recorded.
    """
    fresh = objects.Instance.get_by_uuid(context, instance.uuid,
                                         expected_attrs=['system_metadata'])
    text = common.sysmeta_get(fresh.system_metadata, common.SYSMETA_PLAN)
    return planner.MigrationPlan.from_json(text) if text else None


def cutover_disk_info(plan, disk_info):
    """Nova's disk_info JSON with the plan's formats and no backing file.

    The destination precreates each disk in the format it will run, as a
    full image: the block copy writes every block, no ``_base`` is needed.
    """
    if not disk_info:
        return disk_info
    formats = {d.path: d.dest_format for d in plan.disks}
    infos = jsonutils.loads(disk_info)
    for info in infos:
        if info.get('path') in formats:
            info['type'] = formats[info['path']]
            info['backing_file'] = ''
    return jsonutils.dumps(infos)


def _no_auth(creds, opaque):
    return 0


def _verify_clone(clone, timeout):
    """The clone must keep running for ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if not clone.isActive():
            raise transfer_exception.CloneNotRunning(
                'the clone %s stopped' % clone.name())
        if time.monotonic() >= deadline:
            return
        time.sleep(0.1)


class CutoverState(object):
    """What the source's cutover thread and an abort request share."""

    def __init__(self, mode):
        self.mode = mode
        self.forced = False
        self.rolled_back = False
        # Why the cutover rolled back, for the rollback event.
        self.failure = None
        self._lock = threading.Lock()
        self._aborted = False
        self._cutting_over = False

    @property
    def aborted(self):
        with self._lock:
            return self._aborted

    def request_abort(self):
        """False once the cutover started: too late to cancel."""
        with self._lock:
            if self._cutting_over:
                return False
            self._aborted = True
            return True

    def enter_cutover(self):
        """False when an abort came first."""
        with self._lock:
            if self._aborted:
                return False
            self._cutting_over = True
            return True
