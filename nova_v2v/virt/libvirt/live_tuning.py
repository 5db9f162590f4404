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

"""The tuning of Nova's own live and block migrations.

What the ``[v2v]`` options turn on, and nothing else: flags added to the
ones Nova starts its migration with (``auto_converge``,
``synchronous_disk_writes``, ``VIR_MIGRATE_UNSAFE`` for the
``shared_filesystems``), the ``fitted`` downtime policy, and a server's
own bandwidth (its ``nova-v2v:bandwidth_mib`` metadata, a drain's share:
:func:`migration_bandwidth`). With ``downtime_policy = nova``,
``auto_converge = false``, ``synchronous_disk_writes = false``, no
``shared_filesystems`` and no such metadata, Nova's migration thread and
monitor get Nova's own ``Guest``: the migration is Nova's, unchanged.
"""

import os
import time

from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v.hardware import translate
from nova_v2v.transfer import tuning

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# libvirt's virDomainMigrateFlags value (libvirt-domain.h); Nova's fake
# libvirt module in its tests does not define it.
VIR_MIGRATE_UNSAFE = 1 << 9
# virDomainJobType: a job with no known end (a running migration).
VIR_DOMAIN_JOB_UNBOUNDED = 2


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


class FlagsMigrateGuest(object):
    """A Guest whose ``migrate`` adds ``add_flags`` to its flags."""

    def __init__(self, guest, add_flags):
        self._guest = guest
        self.add_flags = add_flags

    def __getattr__(self, name):
        return getattr(self._guest, name)

    def migrate(self, *args, **kwargs):
        kwargs['flags'] = kwargs.get('flags', 0) | self.add_flags
        return self._guest.migrate(*args, **kwargs)


class BandwidthMigrateGuest(object):
    """A Guest whose ``migrate`` runs at ``bandwidth`` MiB/s.

    libvirt applies the migration's bandwidth to its memory stream and to
    the disk mirrors of a block migration.
    """

    def __init__(self, guest, bandwidth):
        self._guest = guest
        self.bandwidth = bandwidth

    def __getattr__(self, name):
        return getattr(self._guest, name)

    def migrate(self, *args, **kwargs):
        kwargs['bandwidth'] = self.bandwidth
        return self._guest.migrate(*args, **kwargs)


def migration_bandwidth(instance, streams=1):
    """The bandwidth (MiB/s, 0: no limit) of the instance's migration.

    Nova's ``[libvirt] live_migration_bandwidth``, lowered by the
    server's ``nova-v2v:bandwidth_mib`` metadata with ``[v2v]
    bandwidth_from_metadata`` (:func:`tuning.requested_bandwidth`), as
    the instance object carries it.

    :param streams: the copies it runs at once, each at this bandwidth
        (a cutover's disk syncs): the metadata's value is for them all
    """
    nova_mib = CONF.libvirt.live_migration_bandwidth
    if not CONF.v2v.bandwidth_from_metadata:
        return nova_mib
    # The API loads a server's metadata with it (compute API.get), and the
    # conductor hands that object on: never read it from the database here
    # (Nova's live migration reads no instance).
    if not instance.obj_attr_is_set('metadata'):
        LOG.debug('The server\'s metadata is not loaded: Nova\'s migration '
                  'bandwidth', instance=instance)
        return nova_mib
    metadata = dict(instance.metadata or {})
    value, why = tuning.requested_bandwidth(
        metadata, nova_mib, CONF.v2v.min_migration_bandwidth)
    if value != nova_mib and streams > 1:
        value = max(1, value // streams)
        why = '%s, shared by %d copies' % (why, streams)
    if why:
        LOG.info('Migration bandwidth %(mib)s: %(why)s',
                 {'mib': '%d MiB/s' % value if value else 'unlimited',
                  'why': why}, instance=instance)
    return value


def set_first_downtime(guest, instance):
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


class LiveMigrationTuning(object):
    """The ``[v2v]`` tuning of Nova's migration thread and monitor.

    :param nova: the driver's :class:`nova_internals.NovaLibvirt`
    """

    def __init__(self, nova):
        self._nova = nova

    def _unsafe(self, instance, migrate_data, guest):
        if not CONF.v2v.shared_filesystems:
            return False
        if 'block_migration' in migrate_data and (
                migrate_data.block_migration):
            return False
        try:
            paths = guest_disk_paths(guest.get_xml_desc())
        except Exception as exc:
            LOG.warning('Cannot read the guest\'s disks (%(err)s): no '
                        'VIR_MIGRATE_UNSAFE', {'err': exc},
                        instance=instance)
            return False
        return trusted_shared(migrate_data, paths,
                              CONF.v2v.shared_filesystems)

    def added_flags(self, instance, migrate_data, guest):
        """The flags the tuning adds to Nova's, 0 for none."""
        add_flags = 0
        if self._unsafe(instance, migrate_data, guest):
            LOG.info('The guest\'s disks are on a shared filesystem of '
                     '[v2v] shared_filesystems: migrating with '
                     'VIR_MIGRATE_UNSAFE', instance=instance)
            add_flags |= VIR_MIGRATE_UNSAFE
        if not (CONF.v2v.auto_converge or CONF.v2v.synchronous_disk_writes):
            return add_flags
        # Nova decides by migrate_data, not by the argument (None when
        # the request left block_migration to the pre-checks).
        flags = self._nova.migration_flags(migrate_data.block_migration)
        tuned, added = tuning.live_flags(
            flags, self._nova.libvirt_version(),
            auto_converge=CONF.v2v.auto_converge,
            synchronous_writes=CONF.v2v.synchronous_disk_writes)
        if added:
            LOG.info('Live migration tuning: %(added)s',
                     {'added': ', '.join(added)}, instance=instance)
        return add_flags | (tuned & ~flags)

    def operation_guest(self, instance, migrate_data, guest):
        """The Guest Nova's migration thread gets."""
        add_flags = self.added_flags(instance, migrate_data, guest)
        if add_flags:
            guest = FlagsMigrateGuest(guest, add_flags)
        bandwidth = migration_bandwidth(instance)
        if bandwidth != CONF.libvirt.live_migration_bandwidth:
            guest = BandwidthMigrateGuest(guest, bandwidth)
        if CONF.v2v.downtime_policy == 'fitted':
            set_first_downtime(guest, instance)
        return guest

    @staticmethod
    def monitor_guest(instance, guest):
        """The Guest Nova's migration monitor gets."""
        if CONF.v2v.downtime_policy != 'fitted':
            return guest
        return FittedDowntimeGuest(guest, tuning.FittedDowntime(
            CONF.libvirt.live_migration_downtime,
            CONF.libvirt.live_migration_downtime_steps,
            passes=CONF.v2v.downtime_step_passes), instance)
