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

"""The recovery of interrupted V2V cutovers when nova-compute starts.

A cutover runs in a thread of the source's nova-compute; the destination's
compute holds its NBD exports. When either service stops in the middle
(killed, crashed, restarted), the cutover's durable record (the phase in
:class:`record.MigrationRecord`, written before each phase is entered)
says what to do, and this module does it when the compute starts again,
from Nova's ``process_instances_at_startup`` driver hook: the manager's
``init_host`` calls it with the instances it loaded for this host, before
its own ``_init_instance`` of each. Nova alone would only set the
migration to ``error`` and clear the task state (``_reset_live_migration``);
it would not end the block copy jobs, resume a paused source, remove a
clone or clean the destination, and after the point of no return it would
keep its records on a source whose guest now runs on the destination.

The decision is :func:`recovery_decision.decide`, pure (its module says,
case by case, why one copy of the guest runs); :class:`Recovery` gathers
its inputs and carries it out with Nova's own callbacks of a live migration
(``recover_method``: ``ComputeManager._rollback_live_migration``, which
also has the destination's ``rollback_live_migration_at_destination``
stop the exports and remove the precreated disks; ``post_method``:
``ComputeManager._post_live_migration_update_host``, which moves Nova's
records to the destination and removes the source's disks), with the
migrate_data the source kept when its half started (or one rebuilt, when
the move was interrupted before).

*Leftovers*: the exports of an instance directory under the instances
path whose instance has no live migration in progress (a crashed
compute's) are stopped and their pid files removed: no guest depends on
them.
"""

import dataclasses
import glob
import os
import threading
import typing as ty

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception
from nova import objects
from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v.hardware import translate
from nova_v2v import paths
from nova_v2v.transfer import deadline as call_deadline
from nova_v2v.transfer import exception as transfer_exception
from nova_v2v.virt.libvirt import cutover_source
from nova_v2v.virt.libvirt import cutover_transfer
from nova_v2v.virt.libvirt import downtime
from nova_v2v.virt.libvirt import nova_internals
from nova_v2v.virt.libvirt import record as v2v_record
from nova_v2v.virt.libvirt import recovery_decision as decision

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# Seconds the recovery waits for the destination's libvirt, per
# interrupted cutover, to say whether the clone exists (connection and
# lookup) and again to remove it: Nova's init_host waits meanwhile. A
# destination that does not answer in time leaves the clone's state
# unknown, which destroys nothing (recovery_decision).
PROBE_TIMEOUT = 30

# The message of a held cutover's instance fault (which the server's owner
# sees too) when the clone's state is known but no copy can be trusted;
# the fault's details (for administrators) say what was found.
HELD_FAULT = (
    "V2V cutover interrupted by a restart of its compute service: an "
    "administrator must check which copy of the server runs (see this "
    "fault's details) before the server is used again. Its disks are "
    "kept.")


class CloneUnknown(Exception):
    """The destination's libvirt cannot say whether the clone exists."""


@dataclasses.dataclass(frozen=True)
class Found(object):
    """What the recovery found of one interrupted cutover."""

    phase: str
    source: str
    clone: ty.Optional[str]


class CutoverHeld(Exception):
    """A held cutover: the details of its instance fault."""

    def __init__(self, instance, dest, source, found, why, locked):
        super().__init__(
            'The V2V cutover to %(dest)s was interrupted in phase '
            '%(phase)s and held when nova-compute started on %(source)s: '
            '%(why)s. Found: the source guest (domain %(name)s) on '
            '%(source)s: %(source_state)s; the clone on %(dest)s: '
            '%(clone_state)s. The recovery neither restarted nor destroyed '
            'the source guest; Nova\'s rollback and post-migration did not '
            'run; %(locked)s. Check on %(dest)s whether the domain '
            '%(name)s runs (virsh domstate %(name)s), keep one copy and '
            'unlock the server as README.rst, "When a cutover\'s clone '
            'state is unknown", describes.' % {
                'dest': dest, 'phase': found.phase, 'source': source,
                'why': why, 'name': instance.name,
                'locked': 'the server is locked' if locked else
                          'the server could not be locked (see the log)',
                'source_state': decision.SAID[found.source],
                'clone_state': decision.SAID[found.clone]})


class Recovery(object):
    """Resolve the interrupted cutovers of this host, at start-up.

    :param nova: the driver's :class:`nova_internals.NovaLibvirt`
    :param compute: the driver's :class:`nova_internals.NovaCompute`
    :param dest_uri: ``f(dest host) -> libvirt URI`` of a destination's
        libvirtd (the cutover's own, ``CutoverSource.dest_uri``)
    :param bindings: the driver's :class:`port_bindings.PortBindings`
    """

    def __init__(self, nova, compute, dest_uri, bindings):
        self._nova = nova
        self._compute = compute
        self._dest_uri = dest_uri
        self._bindings = bindings
        self._half = cutover_transfer.DestinationHalf()
        self.host = None
        # The moves to complete once the resource tracker runs.
        self._pending = []
        self._lock = threading.Lock()

    def at_start(self, context, instances):
        """Resolve every interrupted cutover; the instances Nova keeps.

        :param instances: the InstanceList Nova's ``init_host`` loaded for
            this host
        :returns: the InstanceList for Nova's own ``_init_instance``,
            without the instances whose move is completed (past the point
            of no return: they are the destination's) or held
        """
        try:
            migrations = nova_internals.live_migrations_in_progress(
                context, self.host)
        except Exception:
            LOG.exception('V2V: cannot list the live migrations in '
                          'progress; no interrupted cutover is resolved')
            return instances
        outgoing = {m.instance_uuid: m for m in migrations
                    if m.source_compute == self.host}
        incoming = {m.instance_uuid: m for m in migrations
                    if m.dest_compute == self.host}
        kept = []
        for instance in instances:
            migration = outgoing.get(instance.uuid)
            skipped = False
            if migration is not None:
                try:
                    skipped = self.resolve_source(context, instance,
                                                  migration)
                except Exception:
                    LOG.exception('V2V: the interrupted cutover could not '
                                  'be resolved', instance=instance)
            if not skipped:
                kept.append(instance)
        for migration in incoming.values():
            try:
                self.resolve_destination(context, migration)
            except Exception:
                LOG.exception('V2V: the interrupted cutover of %(uuid)s '
                              'could not be resolved on its destination',
                              {'uuid': migration.instance_uuid})
        try:
            self.sweep(context, set(outgoing) | set(incoming))
        except Exception:
            LOG.exception('V2V: sweeping the leftover NBD exports failed')
        if len(kept) == len(instances):
            return instances
        return objects.InstanceList(context, objects=kept)

    # -- the source ------------------------------------------------------

    def resolve_source(self, context, instance, migration):
        """Resolve the cutover of ``instance`` from this host.

        :returns: True when Nova must not initialise the instance: its
            move to the destination is completed
            (:meth:`resources_reported`), or it is held for the operator
        """
        record = v2v_record.MigrationRecord.carried(context, instance)
        if not record.is_cutover:
            return False
        phase = record.phase[0]
        dest = migration.dest_compute
        source_state = self._source_state(instance)
        clone_state = (self._clone_state(instance, dest)
                       if decision.clone_matters(decision.SOURCE, phase)
                       else None)
        found = Found(phase, source_state, clone_state)
        resolution = decision.decide(decision.SOURCE, phase, source_state,
                                     clone_state)
        if resolution.action == decision.LEAVE:
            return False
        LOG.warning('V2V: the cutover to %(dest)s was interrupted in phase '
                    '%(phase)s (source %(source)s, clone %(clone)s): '
                    '%(action)s, %(reason)s',
                    {'dest': dest, 'phase': phase, 'source': source_state,
                     'clone': clone_state, 'action': resolution.action,
                     'reason': resolution.reason}, instance=instance)
        if resolution.end_jobs:
            self._end_jobs(instance)
        if resolution.action == decision.ROLL_BACK:
            if resolution.remove_clone:
                try:
                    self._remove_clone(instance, dest)
                except CloneUnknown as exc:
                    LOG.error('V2V: %(err)s', {'err': exc},
                              instance=instance)
                    self._hold(context, instance, migration, found,
                               'the removal of the clone could not be '
                               'confirmed (%s)' % exc, message=HELD_FAULT)
                    return True
            self._roll_back(context, instance, migration, resolution)
            return False
        if resolution.action == decision.COMPLETE:
            return self._complete(context, instance, migration, resolution,
                                  found)
        self._hold(context, instance, migration, found, resolution.reason)
        return True

    def _source_state(self, instance):
        try:
            self._nova.get_guest(instance)
        except exception.InstanceNotFound:
            return decision.MISSING
        lv = nova_internals.libvirt()
        state = self._nova.get_domain(instance).info()[0]
        if state == lv.VIR_DOMAIN_PAUSED:
            return decision.PAUSED
        if state in (lv.VIR_DOMAIN_SHUTOFF, lv.VIR_DOMAIN_CRASHED,
                     lv.VIR_DOMAIN_NOSTATE):
            return decision.SHUTOFF
        return decision.RUNNING

    def _clone_state(self, instance, dest):
        """PRESENT, INACTIVE, ABSENT or UNKNOWN, within PROBE_TIMEOUT."""
        try:
            return _within(PROBE_TIMEOUT, self._probe_clone, instance, dest)
        except CloneUnknown as exc:
            LOG.warning('V2V: the clone\'s state on %(dest)s is unknown: '
                        '%(err)s', {'dest': dest, 'err': exc},
                        instance=instance)
            return decision.UNKNOWN

    def _probe_clone(self, instance, dest):
        lv = nova_internals.libvirt()
        conn = self._open(dest)
        try:
            clone = self._lookup(conn, instance)
            if clone is None:
                return decision.ABSENT
            # Running or paused (active), or only defined.
            return (decision.PRESENT if clone.isActive()
                    else decision.INACTIVE)
        except lv.libvirtError as exc:
            raise CloneUnknown(str(exc))
        finally:
            _close(conn)

    def _open(self, dest):
        try:
            return self._nova.open_destination(self._dest_uri(dest))
        except Exception as exc:
            raise CloneUnknown('the destination %s\'s libvirt is '
                               'unreachable: %s' % (dest, exc))

    @staticmethod
    def _lookup(conn, instance):
        """The instance's domain through ``conn``, or None."""
        lv = nova_internals.libvirt()
        try:
            return conn.lookupByUUIDString(instance.uuid)
        except lv.libvirtError as exc:
            if exc.get_error_code() == lv.VIR_ERR_NO_DOMAIN:
                return None
            raise CloneUnknown(str(exc))

    def _remove_clone(self, instance, dest):
        """Destroy and undefine the clone; CloneUnknown if unconfirmed.

        Unconfirmed also when the destination's libvirt did not answer
        within PROBE_TIMEOUT; a removal given up then does not act later.
        """
        abandoned = threading.Event()
        _within(PROBE_TIMEOUT, self._remove_clone_now, instance, dest,
                abandoned, abandoned=abandoned)

    def _remove_clone_now(self, instance, dest, abandoned):
        lv = nova_internals.libvirt()
        conn = self._open(dest)
        try:
            if abandoned.is_set():
                raise CloneUnknown('the removal of the clone on %s was '
                                   'given up before it began' % dest)
            clone = self._lookup(conn, instance)
            if clone is None:
                return
            # Destroyed whatever its state (a paused clone is active too),
            # then undefined; it must be gone. A destroy that failed ends
            # the removal: undefining a clone whose QEMU did not die would
            # leave it running as a transient domain.
            for step in (clone.destroy, clone.undefine):
                try:
                    step()
                except lv.libvirtError as exc:
                    LOG.warning('V2V: removing the clone on %(dest)s: '
                                '%(err)s', {'dest': dest, 'err': exc},
                                instance=instance)
                    if step == clone.destroy and _may_run(clone):
                        break
            if self._lookup(conn, instance) is not None:
                raise CloneUnknown('the clone on %s is still defined after '
                                   'its removal' % dest)
            LOG.info('V2V: the clone was removed from %(dest)s',
                     {'dest': dest}, instance=instance)
        finally:
            _close(conn)

    def _end_jobs(self, instance):
        """End every block job of the source guest, without pivot."""
        lv = nova_internals.libvirt()
        dom = self._nova.get_domain(instance)
        for dev, _bus, _path, _fmt in translate.disk_targets(
                dom.XMLDesc(0)):
            if not dev:
                continue
            try:
                if dom.blockJobInfo(dev, 0):
                    dom.blockJobAbort(dev, 0)
                    LOG.info('V2V: the block copy of %(dev)s was ended '
                             'without pivot', {'dev': dev},
                             instance=instance)
            except lv.libvirtError as exc:
                LOG.warning('V2V: ending the block job of %(dev)s: '
                            '%(err)s', {'dev': dev, 'err': exc},
                            instance=instance)

    def _restart(self, instance, how):
        dom = self._nova.get_domain(instance)
        if how == decision.RESUME:
            dom.resume()
        elif how == decision.START:
            dom.create()
        LOG.info('V2V: the source guest runs again (%(how)s)',
                 {'how': how}, instance=instance)

    @staticmethod
    def _note_phase(context, instance, phase):
        record = v2v_record.MigrationRecord.current(context, instance,
                                                    carry_exports=False)
        record.set_phase(phase)
        record.save()
        LOG.info('V2V phase %(phase)s', {'phase': phase}, instance=instance)
        return record

    def _callback_args(self, context, instance, migration, record):
        migrate_data = nova_internals.migrate_data_from_json(
            record.migrate_data_text, migration)
        bdms = nova_internals.source_bdms(context, instance, migrate_data)
        return migrate_data, bdms

    def _roll_back(self, context, instance, migration, resolution):
        # The source's port bindings active again before its guest runs
        # (the cutover may have activated the destination's), whether or
        # not Nova's rollback runs below.
        self._bindings.restore(context, instance, migration.dest_compute)
        if resolution.restart:
            self._restart(instance, resolution.restart)
            downtime.end_after_recovery(
                context, instance, 'the cutover was interrupted and rolled '
                'back as %s started again: %s' % (self.host,
                                                  resolution.reason))
        record = self._note_phase(context, instance, v2v_record.ROLLED_BACK)
        if instance.task_state != task_states.MIGRATING:
            LOG.warning('V2V: the instance is not migrating (task state '
                        '%(state)s): only the migration is set to error',
                        {'state': instance.task_state}, instance=instance)
            migration.status = 'error'
            migration.save()
            return
        migrate_data, bdms = self._callback_args(context, instance,
                                                 migration, record)
        self._compute.recover_method(bdms)(
            context, instance, migration.dest_compute, migrate_data,
            migration_status='error')
        self._forget_migrate_data(context, instance)

    def _complete(self, context, instance, migration, resolution, found):
        if instance.task_state != task_states.MIGRATING:
            # Nova's records are not those of a move in progress: they
            # cannot be moved by Nova's post-migration flow, and nothing
            # is destroyed (the paused source is all Nova knows).
            self._hold(context, instance, migration, found,
                       'the instance is not migrating (task state %s)'
                       % instance.task_state)
            return True
        if resolution.destroy_source:
            # Paused: never to run again.
            self._nova.get_domain(instance).destroy()
            LOG.info('V2V: the paused source guest was destroyed',
                     instance=instance)
        if found.phase != v2v_record.SOURCE_REMOVED:
            self._note_phase(context, instance, v2v_record.SOURCE_REMOVED)
        # Nova's post-migration flow needs the resource tracker, which the
        # manager sets up after init_host: the move is completed once it
        # reported (resources_reported). Nova does not initialise the
        # instance meanwhile: it is the destination's.
        with self._lock:
            self._pending.append((context, instance, migration))
        LOG.info('V2V: the move to %(dest)s is completed once the resource '
                 'tracker runs', {'dest': migration.dest_compute},
                 instance=instance)
        return True

    def resources_reported(self):
        """The resource tracker reported: complete the pending moves.

        Called with the resource tracker's lock held (from the driver's
        ``update_provider_tree``): the moves run in a thread of their own,
        since Nova's post-migration flow updates the resources too.
        """
        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            threading.Thread(target=self._finish_moves, args=(pending,),
                             name='v2v-recovery', daemon=True).start()

    def _finish_moves(self, pending):
        for context, instance, migration in pending:
            try:
                record = v2v_record.MigrationRecord.carried(context,
                                                            instance)
                migrate_data, bdms = self._callback_args(
                    context, instance, migration, record)
                self._forget_migrate_data(context, instance)
                self._compute.post_method(bdms)(
                    context, instance, migration.dest_compute, True,
                    migrate_data)
                LOG.info('V2V: the interrupted cutover was completed: the '
                         'instance is on %(dest)s',
                         {'dest': migration.dest_compute},
                         instance=instance)
            except Exception:
                LOG.exception('V2V: completing the interrupted cutover to '
                              '%(dest)s failed',
                              {'dest': migration.dest_compute},
                              instance=instance)

    def _hold(self, context, instance, migration, found, why,
              message=None):
        """Nothing destroyed, nothing started: for an administrator.

        The instance goes to ERROR, locked by an administrator (its owner
        can neither reboot, rebuild, delete nor unlock it), with a fault:
        its message, which the owner sees, names no host; its details
        (administrators only) say what was found and what to check. The
        migration goes to ``error``; neither of Nova's callbacks runs.

        :param why: the reason, for the details
        :param message: the fault's message; by default
            ``CLONE_UNKNOWN_FAULT`` when the clone's state is unknown (it
            was not touched), else :data:`HELD_FAULT`
        """
        if found.phase != v2v_record.CLONE_UNKNOWN:
            self._note_phase(context, instance, v2v_record.CLONE_UNKNOWN)
        instance.vm_state = vm_states.ERROR
        instance.task_state = None
        locked = True
        try:
            nova_internals.lock_instance(context, instance,
                                         cutover_source.HELD_LOCK_REASON)
        except Exception:
            LOG.exception('V2V: cannot lock the instance', instance=instance)
            locked = False
            instance.save()
        held = CutoverHeld(instance, migration.dest_compute, self.host,
                           found, why, locked)
        LOG.critical('V2V: %(msg)s', {'msg': held}, instance=instance)
        if message is None:
            message = (cutover_source.CLONE_UNKNOWN_FAULT
                       if found.clone in (None, decision.UNKNOWN)
                       else HELD_FAULT)
        try:
            nova_internals.add_instance_fault(
                context, instance, message, exc=held,
                exc_info=(CutoverHeld, held, None))
        except Exception:
            LOG.exception('V2V: cannot record the instance fault',
                          instance=instance)
        migration.status = 'error'
        migration.save()

    @staticmethod
    def _forget_migrate_data(context, instance):
        record = v2v_record.MigrationRecord.current(context, instance,
                                                    carry_exports=False)
        record.set_migrate_data_text(None)
        record.save()

    # -- the destination -------------------------------------------------

    def resolve_destination(self, context, migration):
        """Stop the exports of a cutover to this host that still serve."""
        record = v2v_record.MigrationRecord.of_instance(
            context, migration.instance_uuid)
        if not record.is_cutover:
            return
        phase = record.phase[0]
        resolution = decision.decide(decision.DEST, phase)
        if resolution.action != decision.STOP_EXPORTS:
            return
        instance = record.instance
        LOG.warning('V2V: the cutover from %(source)s was interrupted here '
                    'in phase %(phase)s: stopping its exports, the source '
                    'rolls back', {'source': migration.source_compute,
                                   'phase': phase}, instance=instance)
        self._half.stop(instance, record.exports,
                        nova_internals.instance_path(instance))
        if record.exports:
            fresh = v2v_record.MigrationRecord.current(context, instance)
            fresh.set_exports(None)
            fresh.save()

    # -- the leftovers ---------------------------------------------------

    def sweep(self, context, busy):
        """Stop the exports no migration in progress uses.

        :param busy: uuids of the instances whose live migration in
            progress involves this host (resolved above)
        :returns: the instance directories swept
        """
        root = CONF.instances_path
        swept = []
        for pid_file in sorted(glob.glob(os.path.join(
                root, '*', cutover_transfer.NBD_PID_GLOB))):
            instance_dir = os.path.dirname(pid_file)
            name = os.path.basename(instance_dir)
            if name in busy or instance_dir in swept:
                continue
            if nova_internals.live_migrating(context, name):
                continue
            try:
                paths.confine(root, instance_dir)
            except paths.PathEscape as exc:
                LOG.warning('V2V: not sweeping %(dir)s: %(err)s',
                            {'dir': instance_dir, 'err': exc})
                continue
            stopped = self._half.stop_leftovers(instance_dir)
            LOG.warning('V2V: swept the NBD exports left in %(dir)s (%(n)d '
                        'still running)', {'dir': instance_dir, 'n': stopped})
            swept.append(instance_dir)
        return swept


def _may_run(dom):
    """Whether domain ``dom`` may still run (True when unreadable)."""
    try:
        return bool(dom.isActive())
    except Exception:
        return True


def _within(timeout, func, *args, **kwargs):
    """``func(*args, **kwargs)`` for at most ``timeout`` s (:mod:`deadline`).

    :raises: CloneUnknown when ``func`` did not return in time; what
        ``func`` raised otherwise
    """
    try:
        return call_deadline.call_within(timeout, func, *args, **kwargs)
    except transfer_exception.NoAnswer as exc:
        raise CloneUnknown(str(exc))


def _close(conn):
    try:
        conn.close()
    except Exception:
        pass
