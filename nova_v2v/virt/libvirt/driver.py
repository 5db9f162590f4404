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

"""The V2V compute driver: Nova's libvirt driver plus V2V planning.

:class:`V2VDriverMixin` is thin glue. It publishes the host's V2V profile,
asks the planner (:mod:`nova_v2v.planning.planner`) during both live
migration pre-checks, and records the plan on the instance. The decisions
themselves live in the pure planning layer.

A ``v2v-cutover`` plan runs inside Nova's own live migration flow:

* the destination's ``pre_live_migration`` lets Nova precreate the disks
  (in the plan's formats) and exports them over NBD with one non-persistent
  ``qemu-nbd`` per disk, which releases its image by itself when the
  source's QEMU disconnects (:class:`nbd.ClientBoundExport`);
* the source's ``_live_migration`` runs :func:`cutover.run_source_cutover`
  (the sequence the lab runs on real QEMU too): it mirrors every local
  disk into those exports (:class:`cutover.DiskSync`), saving progress
  into the migration record, honouring abort and force-complete; then
  stops the guest, ends the mirror without pivot, waits until each export
  refuses connections (its qemu-nbd exited), starts the translated clone on the
  destination through a libvirt connection to it (as libvirt's own
  peer-to-peer migration creates the domain there), checks it runs, powers
  the paused source off and only then calls ``post_method``: Nova's
  cleanup then undefines the source and deletes its disks. Any failure
  before the clone runs rolls the source back and calls
  ``recover_method``; the destination's rollback stops the exports and
  removes what was created there.

An ``offline`` plan (cold migration) converts the disks the destination
does not run into the plan's format in ``finish_migration``.
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
from nova import utils as nova_utils
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration as libvirt_migrate
from nova.virt.libvirt import utils as libvirt_utils
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import units

from nova_v2v import conf
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v import exception as v2v_exception
from nova_v2v.hardware import inspect
from nova_v2v.hardware import translate
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v.privsep import path as priv_path
from nova_v2v.storage import disks
from nova_v2v.storage import identity
from nova_v2v.storage import leftovers
from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception as transfer_exception
from nova_v2v.transfer import nbd
from nova_v2v.transfer import offline

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# instance.system_metadata keys.
SYSMETA_PLAN = 'v2v_plan'
SYSMETA_DEST_PROFILE = 'v2v_dest_profile'
SYSMETA_NBD = 'v2v_nbd'
SYSMETA_OFFLINE_PLAN = 'v2v_offline_plan'

# The modes this driver runs today. The planner may choose others; they are
# then refused at the pre-check with a typed error, before anything moves.
EXECUTABLE_MODES = (planner.SHARED_LIVE, planner.BLOCK_LIVE,
                    planner.V2V_CUTOVER)
# Where the destination keeps the pid files of its NBD exports, in the
# instance's directory: its rollback finds them there whatever the
# instance's system_metadata says.
NBD_PID_GLOB = 'v2v-nbd-*.pid'
# Seconds between two polls of the block copy jobs.
SYNC_POLL = 0.2


def refusal_to_exception(refused, host):
    """Map a :class:`planner.PlanRefused` onto the Nova exception to raise.

    Nova's own storage refusals keep their Nova types, so that an explicit
    ``block_migration`` fails exactly as it does without nova-v2v.
    """
    if refused.code == planner.INVALID_LOCAL_STORAGE:
        return exception.InvalidLocalStorage(reason=refused.reason,
                                             path=host)
    if refused.code == planner.INVALID_SHARED_STORAGE:
        return exception.InvalidSharedStorage(reason=refused.reason,
                                              path=host)
    return v2v_exception.V2VMigrationRefused(reason=refused.reason)


class V2VDriverMixin(object):
    """V2V additions on top of :class:`LibvirtDriver`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # {instance uuid: CutoverState} of the cutovers this source runs.
        self._v2v_cutovers = {}

    def init_host(self, host):
        super().init_host(host)
        # [libvirt] virt_type is not mutable: the profile keeps the value
        # this service started with.
        self._v2v_virt_type = CONF.libvirt.virt_type
        # The compute service's host, the name the scheduler and the
        # conductor use for it (CONF.host in a nova-compute process).
        self._v2v_hostname = host

    # -- the host's V2V profile ------------------------------------------

    def v2v_host_profile(self):
        """This host's :class:`profile.HostProfile`, read from libvirt."""
        caps = self._host.get_capabilities()
        arch = caps.host.cpu.arch
        domain_types = set()
        machines = set()
        for guest in caps.guests:
            if guest.arch != arch:
                continue
            domain_types.update(guest.domains)
            domains = [guest.default_domain] + list(guest.domains.values())
            for domain in domains:
                if domain is None:
                    continue
                machines.update(domain.machines)
                # Aliases ('pc', 'q35') name the canonical machine type.
                machines.update(domain.aliases)
        virt_type = getattr(self, '_v2v_virt_type', CONF.libvirt.virt_type)
        conn = self._host.get_connection()
        return profile.HostProfile(
            hostname=getattr(self, '_v2v_hostname', None) or CONF.host,
            accelerator=profile.detect_accelerator(virt_type, domain_types),
            arch=arch or '',
            libvirt_version=conn.getLibVersion(),
            qemu_version=self._host.get_version(),
            machine_types=tuple(sorted(machines)),
            cpu_model=caps.host.cpu.model or '',
            cpu_vendor=caps.host.cpu.vendor or '',
            disk_formats=tuple(CONF.v2v.disk_formats),
            storage_id=(CONF.v2v.storage_id or
                        identity.identity_of(CONF.instances_path)),
            instances_path=CONF.instances_path)

    def get_available_resource(self, nodename):
        data = super().get_available_resource(nodename)
        try:
            v2v_profile = self.v2v_host_profile()
        except Exception:
            # Without a profile the planner refuses moves to and from this
            # host with a reason; the host still runs its guests.
            LOG.exception('Could not read the V2V profile of this host')
        else:
            data.setdefault('stats', {}).update(v2v_profile.to_stats())
        return data

    def update_provider_tree(self, provider_tree, nodename,
                             allocations=None):
        super().update_provider_tree(provider_tree, nodename,
                                     allocations=allocations)
        try:
            traits = self.v2v_host_profile().traits()
        except Exception:
            LOG.exception('Could not read the V2V profile of this host')
            return
        provider_tree.add_traits(nodename, *sorted(traits))

    # -- live migration pre-checks ---------------------------------------

    def _v2v_guest_from_image(self, instance, accelerator):
        image = nova_utils.get_image_from_system_metadata(
            instance.system_metadata)
        return inspect.guest_from_image_properties(
            image.get('properties', {}), accelerator)

    def check_can_live_migrate_destination(self, context, instance,
                                           src_compute_info,
                                           dst_compute_info,
                                           block_migration=False,
                                           disk_over_commit=False):
        """Refuse early, on the destination, a move no plan exists for.

        A forced destination skips the scheduler and its V2V filter, so the
        destination runs the planner itself. The storage is not probed yet
        here: the explicit ``block_migration`` is checked on the source,
        with Nova's probe.
        """
        source = profile.HostProfile.from_stats(
            instance.host, (src_compute_info or {}).get('stats'))
        dest = self.v2v_host_profile()
        guest = self._v2v_guest_from_image(
            instance, source.accelerator if source else '')
        try:
            plan = planner.plan_live_migration(
                source, dest, guest, block_migration=None,
                **v2v_conf.planner_options(CONF))
        except planner.PlanRefused as refused:
            LOG.info('V2V pre-check on the destination refused the move: '
                     '%(reason)s', {'reason': refused.reason},
                     instance=instance)
            raise v2v_exception.V2VMigrationRefused(reason=refused.reason)
        LOG.debug('V2V pre-check on the destination: %(plan)s',
                  {'plan': plan.summary()}, instance=instance)
        data = super().check_can_live_migrate_destination(
            context, instance, src_compute_info, dst_compute_info,
            block_migration=block_migration,
            disk_over_commit=disk_over_commit)
        # The source's pre-check needs this host's profile. The instance
        # travels with the RPC call to the source; it is not saved here.
        instance.system_metadata[SYSMETA_DEST_PROFILE] = jsonutils.dumps(
            dest.to_stats())
        return data

    def _v2v_storage_facts(self, instance, dest_check_data,
                           block_device_info):
        """What Nova's own probes say about the guest's storage."""
        dest_check_data.is_shared_instance_path = (
            self._check_shared_storage_test_file(dest_check_data.filename,
                                                 instance))
        dest_check_data.is_shared_block_storage = (
            self._is_shared_block_storage(instance, dest_check_data,
                                          block_device_info))
        return profile.StorageFacts(
            shared_instance_path=dest_check_data.is_shared_instance_path,
            shared_block_storage=dest_check_data.is_shared_block_storage,
            volume_backed=bool(dest_check_data.obj_attr_is_set(
                'is_volume_backed') and dest_check_data.is_volume_backed))

    def _v2v_guest_from_domain(self, instance, block_device_info,
                               with_sizes):
        guest = inspect.parse_domain_xml(
            self._host.get_guest(instance).get_xml_desc())
        if not with_sizes:
            return guest
        info = jsonutils.loads(self.get_instance_disk_info(
            instance, block_device_info=block_device_info))
        sizes = {d['path']: d for d in info}
        disks = []
        for disk in guest.disks:
            found = sizes.get(disk.path)
            if found:
                disk = dataclasses.replace(
                    disk, virtual_size=found.get('virt_disk_size'),
                    backing_file=found.get('backing_file') or None)
            disks.append(disk)
        return dataclasses.replace(guest, disks=tuple(disks))

    def check_can_live_migrate_source(self, context, instance,
                                      dest_check_data,
                                      block_device_info=None):
        """Plan the move with the guest's real definition.

        The plan decides ``block_migration`` when the API asked for
        ``auto``. An explicit value keeps Nova's semantics: ``True`` on
        shared storage raises InvalidLocalStorage, ``False`` on local storage
        InvalidSharedStorage.
        """
        requested = (dest_check_data.block_migration
                     if 'block_migration' in dest_check_data else None)
        sysmeta = instance.system_metadata
        dest_stats = jsonutils.loads(
            sysmeta.pop(SYSMETA_DEST_PROFILE, None) or '{}')
        dest = profile.HostProfile.from_stats(None, dest_stats)
        source = self.v2v_host_profile()
        storage = self._v2v_storage_facts(instance, dest_check_data,
                                          block_device_info)
        shared = planner.storage_shared(source, dest, storage) if (
            dest is not None) else True
        guest = self._v2v_guest_from_domain(instance, block_device_info,
                                            with_sizes=not shared)
        try:
            plan = planner.plan_live_migration(
                source, dest, guest, storage=storage,
                block_migration=requested,
                **v2v_conf.planner_options(CONF))
        except planner.PlanRefused as refused:
            LOG.info('V2V pre-check on the source refused the move: '
                     '%(reason)s', {'reason': refused.reason},
                     instance=instance)
            raise refusal_to_exception(refused, source.hostname)
        if plan.mode not in EXECUTABLE_MODES:
            raise v2v_exception.V2VModeNotAvailable(
                mode=plan.mode,
                reason='this release runs %s; the plan needs it because %s'
                       % (', '.join(EXECUTABLE_MODES),
                          '; '.join(plan.reasons)))
        if plan.mode == planner.V2V_CUTOVER and not plan.block_migration:
            raise v2v_exception.V2VModeNotAvailable(
                mode=plan.mode,
                reason='this release runs the cutover of guests on local '
                       'instance storage only; the plan needs it because '
                       '%s' % '; '.join(plan.reasons))
        if plan.mode == planner.V2V_CUTOVER:
            # The translation the cutover will apply, tried now: a guest
            # that cannot be translated is refused before anything moves.
            try:
                self._v2v_translate(
                    self._host.get_guest(instance).get_xml_desc(), plan)
            except translate.TranslationError as exc:
                LOG.info('V2V pre-check: the guest cannot be translated: '
                         '%(reason)s', {'reason': exc}, instance=instance)
                raise v2v_exception.V2VMigrationRefused(
                    reason='the guest cannot be translated for %s: %s'
                           % (plan.dest_host, exc))
        if requested is None:
            dest_check_data.block_migration = plan.block_migration
        data = super().check_can_live_migrate_source(
            context, instance, dest_check_data,
            block_device_info=block_device_info)
        LOG.info('V2V plan: %(plan)s', {'plan': plan.summary()},
                 instance=instance)
        sysmeta[SYSMETA_PLAN] = plan.to_json()
        instance.save()
        return data

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

    # -- helpers ---------------------------------------------------------

    @staticmethod
    def _v2v_set_sysmeta(context, instance, key, value):
        """Set (or, with None, remove) one system_metadata key.

        Written through a fresh copy of the instance: the objects that RPC
        calls carry are stale and Nova saves system_metadata whole. The
        given object gets the same change, so that a later save of it does
        not undo it.
        """
        fresh = objects.Instance.get_by_uuid(
            context, instance.uuid, expected_attrs=['system_metadata'])
        if value is None:
            if key not in fresh.system_metadata:
                instance.system_metadata.pop(key, None)
                return
            del fresh.system_metadata[key]
            instance.system_metadata.pop(key, None)
        else:
            fresh.system_metadata[key] = value
            instance.system_metadata[key] = value
        fresh.save()

    def _v2v_is_cutover(self, plan):
        return plan is not None and plan.mode == planner.V2V_CUTOVER

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
        instance.system_metadata[SYSMETA_PLAN] = plan.to_json()
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
        sources = []
        for info in jsonutils.loads(disk_info or '[]'):
            disk_plan = planned.get(info['path'])
            if disk_plan is None:
                continue
            base = os.path.basename(info['path'])
            exported.append(nbd.ExportedDisk(
                os.path.join(instance_dir, base), disk_plan.dest_format,
                'v2v-%s-%s' % (instance.uuid, base)))
            sources.append(info['path'])
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
        records = export.records()
        for record, source_path in zip(records, sources):
            record['source_path'] = source_path
        LOG.info('V2V cutover: %(n)d disk(s) exported on %(addr)s',
                 {'n': len(records), 'addr': address}, instance=instance)
        self._v2v_set_sysmeta(context, instance, SYSMETA_NBD,
                              jsonutils.dumps(records))

    def _v2v_stop_exports(self, context, instance, migrate_data):
        """Stop every NBD export of the instance on this host."""
        pid_files = set()
        try:
            fresh = objects.Instance.get_by_uuid(
                context, instance.uuid, expected_attrs=['system_metadata'])
            records = jsonutils.loads(
                fresh.system_metadata.get(SYSMETA_NBD) or '[]')
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
                                                    NBD_PID_GLOB)))
        stopped = 0
        for pid_file in sorted(pid_files):
            if nbd.stop_pid_file(pid_file):
                stopped += 1
        if pid_files:
            LOG.info('V2V: %(n)d NBD export(s) were still running and '
                     'stopped', {'n': stopped}, instance=instance)
        if records:
            self._v2v_set_sysmeta(context, instance, SYSMETA_NBD, None)
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
        for pid_file in glob.glob(os.path.join(
                libvirt_utils.get_instance_path(instance), NBD_PID_GLOB)):
            nbd.stop_pid_file(pid_file)
        self._v2v_set_sysmeta(context, instance, SYSMETA_NBD, None)

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
            instance.system_metadata[SYSMETA_PLAN] = plan.to_json()
            LOG.debug('Running V2V plan %(plan)s', {'plan': plan.summary()},
                      instance=instance)
        return super().live_migration(
            context, instance, dest, post_method, recover_method,
            block_migration=block_migration, migrate_data=migrate_data)

    def _live_migration(self, context, instance, dest, post_method,
                        recover_method, block_migration, migrate_data):
        fresh = objects.Instance.get_by_uuid(
            context, instance.uuid, expected_attrs=['system_metadata'])
        text = fresh.system_metadata.get(SYSMETA_PLAN)
        plan = planner.MigrationPlan.from_json(text) if text else None
        if not self._v2v_is_cutover(plan):
            return super()._live_migration(
                context, instance, dest, post_method, recover_method,
                block_migration, migrate_data)
        records = jsonutils.loads(
            fresh.system_metadata.get(SYSMETA_NBD) or '[]')
        # The destination forgets the exports itself; this stale object
        # must not write them back when Nova saves it.
        instance.system_metadata.pop(SYSMETA_NBD, None)
        state = CutoverState(CONF.v2v.cutover_mode)
        self._v2v_cutovers[instance.uuid] = state
        self.active_migrations[instance.uuid] = collections.deque()
        try:
            try:
                self._v2v_run_cutover(context, instance, dest, plan,
                                      records, migrate_data, state)
            except v2v_exception.V2VCutoverCancelled as exc:
                LOG.warning('%(err)s', {'err': exc}, instance=instance)
                recover_method(context, instance, dest, migrate_data,
                               migration_status='cancelled')
                return
            except Exception as exc:
                LOG.error('V2V cutover failed, rolled back: %(err)s',
                          {'err': exc}, instance=instance)
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
        try:
            return super()._live_migration_operation(
                context, instance, dest, block_migration, migrate_data,
                guest, device_names)
        except Exception as exc:
            LOG.warning('The migration call ended with %(err)s; the job '
                        'monitor reports the outcome', {'err': exc},
                        instance=instance)

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
            path = record.get('source_path') or record['path']
            if path not in targets:
                raise v2v_exception.V2VCutoverFailed(
                    reason='the guest has no disk %s' % path)
            disks.append((targets[path], record['name'], record['host'],
                          record['port']))
        if not disks:
            raise v2v_exception.V2VCutoverFailed(
                reason='the destination exported no disk')
        # Built while the guest runs: a translation error stops the move
        # before anything happened.
        clone_xml = self._v2v_clone_xml(instance, guest, plan, migrate_data)
        tasks = self.active_migrations.get(instance.uuid)

        def force_complete():
            forced = False
            while tasks:
                if tasks.popleft() == 'force-complete':
                    forced = True
            if forced:
                state.forced = True
                state.mode = cutover.SUSPEND
            return forced

        try:
            stats = cutover.run_source_cutover(
                dom, disks, clone_xml,
                functools.partial(self._v2v_start_clone, instance, dest),
                mode=state.mode,
                release_timeout=CONF.v2v.cutover_release_timeout,
                bandwidth=CONF.libvirt.live_migration_bandwidth * units.Mi,
                sync_timeout=CONF.v2v.cutover_sync_timeout,
                shutdown_timeout=CONF.v2v.cutover_shutdown_timeout,
                on_progress=functools.partial(
                    self._v2v_save_progress, instance, migrate_data),
                progress_interval=max(
                    CONF.libvirt.live_migration_monitor_interval, 1),
                should_abort=lambda: state.aborted,
                force_complete=force_complete,
                enter_cutover=state.enter_cutover, poll=SYNC_POLL)
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

        The URI Nova's own (peer-to-peer) live migration uses, through the
        libvirt module Nova's driver imported.
        """
        lv = libvirt_driver.libvirt
        auth = [[lv.VIR_CRED_AUTHNAME, lv.VIR_CRED_ECHOPROMPT,
                 lv.VIR_CRED_REALM, lv.VIR_CRED_PASSPHRASE,
                 lv.VIR_CRED_NOECHOPROMPT, lv.VIR_CRED_EXTERNAL],
                _no_auth, None]
        return lv.openAuth(self._live_migration_uri(dest), auth, 0)

    def _v2v_start_clone(self, instance, dest, clone_xml):
        """Define and start the clone on ``dest``: (clone, start time)."""
        conn = self._v2v_dest_connection(dest)
        try:
            clone, started = cutover.start_clone_retrying(
                conn, clone_xml, _verify_clone,
                CONF.v2v.cutover_clone_check)
            LOG.info('V2V cutover: the clone %(name)s runs on %(dest)s',
                     {'name': clone.name(), 'dest': dest},
                     instance=instance)
            return clone, started
        finally:
            try:
                conn.close()
            except Exception:
                pass

    # -- offline (cold migration) ----------------------------------------

    def _v2v_offline_plan(self, context, instance, block_device_info):
        """Plan a cold move of ``instance`` (None: Nova's own move)."""
        try:
            migration = objects.Migration.get_by_instance_and_status(
                context, instance.uuid, 'migrating')
            node = objects.ComputeNode.get_by_host_and_nodename(
                context, migration.dest_compute, migration.dest_node)
        except exception.NotFound:
            LOG.debug('No migration record to plan an offline V2V move',
                      instance=instance)
            return None
        dest = profile.HostProfile.from_stats(migration.dest_compute,
                                              node.stats)
        if dest is None:
            LOG.info('The destination %(host)s publishes no V2V profile: '
                     'Nova moves the guest as it is',
                     {'host': migration.dest_compute}, instance=instance)
            return None
        guest = self._v2v_guest_from_domain(instance, block_device_info,
                                            with_sizes=True)
        try:
            return planner.plan_offline_migration(
                self.v2v_host_profile(), dest, guest,
                translations=v2v_conf.planner_options(CONF)['translations'])
        except planner.PlanRefused as refused:
            raise exception.InstanceFaultRollback(
                inner_exception=v2v_exception.V2VOfflineMigrationFailed(
                    reason=refused.reason))

    def migrate_disk_and_power_off(self, context, instance, dest,
                                   flavor, network_info,
                                   block_device_info=None,
                                   timeout=0, retry_interval=0):
        plan = self._v2v_offline_plan(context, instance, block_device_info)
        self._v2v_set_sysmeta(context, instance, SYSMETA_OFFLINE_PLAN,
                              plan.to_json() if plan else None)
        if plan is not None:
            LOG.info('V2V offline plan: %(plan)s', {'plan': plan.summary()},
                     instance=instance)
        # Nova stops the guest and copies its disks as they are; the
        # destination converts them (finish_migration), so that a revert
        # finds the source's files untouched.
        return super().migrate_disk_and_power_off(
            context, instance, dest, flavor, network_info,
            block_device_info=block_device_info, timeout=timeout,
            retry_interval=retry_interval)

    def _v2v_convert_disks(self, instance, plan, disk_info):
        """Convert the copied disks the plan changes; new disk_info."""
        changes = {d.path: d for d in plan.disks
                   if d.dest_format != d.source_format}
        if not changes or not disk_info:
            return disk_info
        instance_dir = libvirt_utils.get_instance_path(instance)
        infos = jsonutils.loads(disk_info)
        formats = {}
        for info in infos:
            disk_plan = changes.get(info['path'])
            if disk_plan is None:
                continue
            path = os.path.join(instance_dir, os.path.basename(info['path']))
            converted = path + '.v2v'
            LOG.info('Converting %(path)s from %(src)s to %(dst)s',
                     {'path': path, 'src': disk_plan.source_format,
                      'dst': disk_plan.dest_format}, instance=instance)
            try:
                offline.convert_disk(path, disk_plan.source_format,
                                     converted, disk_plan.dest_format)
                os.rename(converted, path)
            except Exception as exc:
                if os.path.exists(converted):
                    priv_path.unlink(CONF.instances_path, converted)
                raise v2v_exception.V2VOfflineMigrationFailed(
                    reason='converting %s to %s failed: %s'
                           % (path, disk_plan.dest_format, exc))
            info['type'] = disk_plan.dest_format
            info['backing_file'] = ''
            formats[path] = disk_plan.dest_format
        # Nova's image backend reads each disk's format from disk.info.
        disk_info_file = os.path.join(instance_dir, 'disk.info')
        known = {}
        if os.path.exists(disk_info_file):
            with open(disk_info_file) as f:
                known = jsonutils.loads(f.read() or '{}')
        known.update(formats)
        with open(disk_info_file, 'w') as f:
            f.write(jsonutils.dumps(known))
        return jsonutils.dumps(infos)

    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None,
                         power_on=True, share_info=None):
        fresh = objects.Instance.get_by_uuid(
            context, instance.uuid, expected_attrs=['system_metadata'])
        text = fresh.system_metadata.get(SYSMETA_OFFLINE_PLAN)
        if text:
            plan = planner.MigrationPlan.from_json(text)
            instance.system_metadata[SYSMETA_OFFLINE_PLAN] = text
            disk_info = self._v2v_convert_disks(instance, plan, disk_info)
        # The domain is generated from this host's own configuration: the
        # guest gets this host's accelerator and native hardware.
        return super().finish_migration(
            context, migration, instance, disk_info, network_info,
            image_meta, resize_instance, allocations,
            block_device_info=block_device_info, power_on=power_on,
            share_info=share_info)


class V2VLibvirtDriver(V2VDriverMixin, libvirt_driver.LibvirtDriver):
    """Nova's libvirt driver with V2V migration."""


def load_plan(context, instance):
    """The plan the source's pre-check recorded for ``instance``, or None.

    Read from the database: the instance objects that later RPC calls carry
    were serialised by the conductor before the plan was recorded.
    """
    fresh = objects.Instance.get_by_uuid(context, instance.uuid,
                                         expected_attrs=['system_metadata'])
    text = fresh.system_metadata.get(SYSMETA_PLAN)
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
