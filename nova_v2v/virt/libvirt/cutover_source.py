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

"""The source's half of a live migration with a V2V cutover.

It runs inside Nova's own live migration flow, in place of Nova's
``_live_migration``: it mirrors every local disk into the destination's
exports (saving progress into Nova's migration record, honouring abort and
force-complete), then stops the guest, ends the mirror without pivot,
waits until each export released its image, starts the translated clone
on the destination through a libvirt connection to it (as libvirt's own
peer-to-peer migration creates the domain there) and waits until the
clone's guest shows activity (its guest agent answering where the image
says it has one, otherwise its disks still written ``[v2v]
cutover_activity_settle`` seconds after their first writes): the point of
no return. Only then is the paused source powered
off and ``post_method`` called: Nova's cleanup then undefines the source
and deletes its disks. The instance's port bindings on the destination
are activated as the clone runs, and the source's again if the clone is
removed (:mod:`.port_bindings`).

Each phase is recorded durably (:meth:`record.MigrationRecord.record_phase`)
before it is entered; before the point of no return, a phase that cannot
be recorded is not entered: the cutover rolls back. The outcomes:

* any failure before the point of no return, including a clone whose
  guest showed no activity within ``[v2v] cutover_activity_timeout`` and
  none at a last look before its removal (a clone active at that look is
  kept: the move completes): the clone is destroyed and undefined, the
  source runs again from its untouched disks, ``recover_method`` (phase
  ROLLED_BACK);
* the clone's state unknown (its removal could not be confirmed: the
  destination became unreachable, or the clone did not stop): nothing is
  destroyed on either host, the instance goes to ERROR, locked by an
  administrator, with a fault that says what to check, neither callback
  is called (phase CLONE_UNKNOWN; README.rst, "When a cutover's clone
  state is unknown").
"""

import contextlib
import functools
import sys
import threading

from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v import exception as v2v_exception
from nova_v2v.hardware import translate
from nova_v2v import notifications
from nova_v2v.planning import profile
from nova_v2v.transfer import deadline as call_deadline
from nova_v2v.virt.libvirt import cutover_transfer
from nova_v2v.virt.libvirt import downtime
from nova_v2v.virt.libvirt import live_tuning
from nova_v2v.virt.libvirt import nova_internals
from nova_v2v.virt.libvirt import prechecks
from nova_v2v.virt.libvirt import record as v2v_record

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# The most the removal of a failed clone may take (connecting to the
# destination's libvirt, destroying and undefining the clone): past it the
# removal is not confirmed and nothing is restarted (CloneStateUnknown).
REMOVE_TIMEOUT = 30


class CutoverState(object):
    """What the source's cutover thread and an abort request share."""

    def __init__(self, mode):
        self.mode = mode
        self.forced = False
        self.rolled_back = False
        # Whether the destination's port bindings were (or may have been)
        # activated: a rollback activates the source's again.
        self.bindings_moved = False
        # Why the cutover rolled back, for the rollback event.
        self.failure = None
        # The downtime's instance action event (:mod:`.downtime`).
        self.downtime = None
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


# What an instance fault's message (which the server's owner sees too)
# says when a cutover's clone state is unknown; the fault's details (for
# administrators) name the clone and the hosts.
CLONE_UNKNOWN_FAULT = (
    "V2V cutover interrupted: whether the server's copy on the "
    "destination host runs is unknown. Nothing was destroyed. An "
    "administrator must check it (see this fault's details) before the "
    "server is used again.")
# The reason of the administrator's lock a held cutover puts on the server
# (its owner sees it too): the owner can neither reboot, rebuild, delete
# nor unlock it until an administrator kept one copy.
HELD_LOCK_REASON = (
    "V2V cutover held: an administrator must check which copy of the "
    "server runs before it is used again (see the server's fault).")


def note_phase(record, phase, instance, required=True):
    """Record ``phase`` durably before the cutover enters it.

    :param required: True before the point of no return: a phase that
        cannot be recorded is not entered (the error raised rolls the
        cutover back); False after it, and for the ends, where the
        failure is only logged
    :raises: V2VCutoverFailed when ``required`` and the write failed
    """
    try:
        record.record_phase(phase)
    except Exception as exc:
        LOG.error('Cannot record the V2V phase %(phase)s: %(err)s',
                  {'phase': phase, 'err': exc}, instance=instance)
        if required:
            raise v2v_exception.V2VCutoverFailed(
                reason='the phase %s could not be recorded (%s)'
                       % (phase, exc)) from exc


def has_guest_agent(instance):
    """Whether the instance's image says it runs a QEMU guest agent."""
    return bool(instance.image_meta.properties.get('hw_qemu_guest_agent',
                                                   False))


class _Hooks(cutover_transfer.CutoverHooks):
    """The driver's answers to one running cutover."""

    def __init__(self, source, context, instance, record, migrate_data,
                 state):
        self._source = source
        self._context = context
        self._instance = instance
        self._record = record
        self._plan = record.plan
        self._migrate_data = migrate_data
        self._state = state

    def progress(self, progress):
        self._source.save_progress(self._instance, self._migrate_data,
                                   progress)
        self._source.events.moving(
            self._context, notifications.PROGRESS, self._instance,
            self._plan, **notifications.progress_fields(progress))

    def should_abort(self):
        return self._state.aborted

    def force_complete(self):
        if not self._source.nova.take_force_complete(self._instance):
            return False
        self._state.forced = True
        self._state.mode = cutover_transfer.SUSPEND
        return True

    def enter_cutover(self):
        """The guest stops now, unless an abort came first."""
        note_phase(self._record, v2v_record.CUTTING_OVER, self._instance)
        if not self._state.enter_cutover():
            return False
        self._state.downtime.start()
        self._source.events.moving(self._context,
                                   notifications.CUTOVER_START,
                                   self._instance, self._plan)
        return True

    def source_stopped(self, how):
        LOG.info('V2V cutover: the source guest is stopped (%(how)s)',
                 {'how': how}, instance=self._instance)
        note_phase(self._record, v2v_record.SOURCE_STOPPED, self._instance)


class CutoverSource(object):
    """The source's hooks of a cutover.

    :param nova: the driver's :class:`nova_internals.NovaLibvirt`
    :param events: the driver's :class:`events.Events`
    :param bindings: the driver's :class:`port_bindings.PortBindings`
    """

    def __init__(self, nova, events, bindings):
        self.nova = nova
        self.events = events
        self.bindings = bindings
        self._half = cutover_transfer.SourceHalf()
        # {instance uuid: CutoverState} of the cutovers this source runs.
        self._running = {}

    def state(self, instance):
        """The running cutover's :class:`CutoverState`, or None."""
        return self._running.get(instance.uuid)

    def run(self, context, instance, dest, post_method, recover_method,
            block_migration, migrate_data, record):
        """Nova's ``_live_migration`` for a cutover.

        Calls ``post_method`` (the clone proved it runs) or
        ``recover_method`` (rolled back: the source runs), or neither when
        the clone's state is unknown.

        :raises: V2VCloneStateUnknown, after recording an instance fault:
            Nova's compute manager then sets the migration to ``error``
            and the instance to ERROR, its task state to None
        """
        plan = record.plan
        state = CutoverState(CONF.v2v.cutover_mode)
        self._running[instance.uuid] = state
        self.nova.start_tracking(instance)
        try:
            try:
                self._run(context, instance, dest, plan, record,
                          migrate_data, state)
            except v2v_exception.V2VCloneStateUnknown as exc:
                state.failure = str(exc)
                LOG.critical('%(err)s', {'err': exc}, instance=instance)
                self._fault(context, instance, exc)
                # Nova allows a hard reboot, a rebuild or a delete of a
                # server in ERROR: two copies, or none, unless locked.
                try:
                    nova_internals.lock_instance(context, instance,
                                                 HELD_LOCK_REASON)
                except Exception:
                    LOG.exception('Cannot lock the instance',
                                  instance=instance)
                raise
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
                if isinstance(exc, cutover_transfer.CloneNotProven):
                    # The clone ran without showing its guest's activity
                    # (or stopped): the migration is in error, with the
                    # reason.
                    recover_method(context, instance, dest, migrate_data,
                                   migration_status='error')
                else:
                    recover_method(context, instance, dest, migrate_data)
                return
            post_method(context, instance, dest, block_migration,
                        migrate_data)
        finally:
            self._running.pop(instance.uuid, None)
            self.nova.stop_tracking(instance)

    def _fault(self, context, instance, exc):
        """The instance fault of a cutover whose clone state is unknown."""
        try:
            nova_internals.add_instance_fault(
                context, instance, CLONE_UNKNOWN_FAULT, exc=exc,
                exc_info=sys.exc_info())
        except Exception:
            LOG.exception('Cannot record the instance fault',
                          instance=instance)

    def abort(self, instance):
        """Nova's ``live_migration_abort`` for a cutover.

        :returns: False when no cutover of the instance runs here
        """
        state = self.state(instance)
        if state is None:
            return False
        if not state.request_abort():
            LOG.warning('The V2V cutover is past the point where it can be '
                        'cancelled', instance=instance)
        else:
            LOG.info('Cancelling the V2V cutover', instance=instance)
        return True

    def _run(self, context, instance, dest, plan, record, migrate_data,
             state):
        """Sync, stop, switch; the clone runs on ``dest`` on return.

        Raises after rolling the source back (running guest, no job).
        """
        guest = self.nova.get_guest(instance)
        disks = self._half.disks(
            record.exports, guest.get_xml_desc(),
            tls_hostname=cutover_transfer.tls_hostname(dest, migrate_data))
        # Built while the guest runs: a translation error stops the move
        # before anything happened.
        clone_xml = self.clone_xml(instance, guest, plan, migrate_data)
        agent = has_guest_agent(instance)
        hooks = _Hooks(self, context, instance, record, migrate_data, state)
        state.downtime = downtime.DowntimeEvent(context, instance,
                                                instance.host)
        try:
            note_phase(record, v2v_record.SYNCING, instance)
            stats = self._half.run(
                self.nova.get_domain(instance), disks, clone_xml,
                functools.partial(self._start_proven_clone, context,
                                  instance, dest, record, agent, state),
                state.mode, hooks,
                bandwidth_mib=live_tuning.migration_bandwidth(
                    instance, streams=len(disks)))
        except cutover_transfer.CloneStateUnknown as exc:
            # The clone may run: nothing is destroyed, the source stays
            # stopped (never two copies), the operator decides.
            note_phase(record, v2v_record.CLONE_UNKNOWN, instance,
                       required=False)
            state.downtime.unknown(exc)
            raise v2v_exception.V2VCloneStateUnknown(
                clone=exc.clone or instance.name, dest=dest,
                source=instance.host, reason=exc) from exc
        except Exception as exc:
            state.rolled_back = True
            # The source guest runs again.
            state.downtime.end(failure=str(exc) or type(exc).__name__)
            note_phase(record, v2v_record.ROLLED_BACK, instance,
                       required=False)
            LOG.warning('V2V cutover rolled back: %(err)s', {'err': exc},
                        instance=instance)
            if state.aborted:
                raise v2v_exception.V2VCutoverCancelled(
                    reason='aborted by request (%s)' % exc)
            raise
        # Past the point of no return: the source's domain is gone.
        note_phase(record, v2v_record.SOURCE_REMOVED, instance,
                   required=False)
        LOG.info('V2V cutover done: downtime %(down)ss, stop %(how)s, '
                 '%(bytes)d bytes copied', {'down': stats['downtime_seconds'],
                                            'how': stats['stop'],
                                            'bytes': stats['bytes_copied']},
                 instance=instance)
        self.events.moving(context, notifications.CUTOVER_END, instance,
                           plan, dest=dest,
                           downtime_s=stats['downtime_seconds'],
                           stop=stats['stop'],
                           bytes_copied=stats['bytes_copied'])

    def save_progress(self, instance, migrate_data, progress):
        """The sync's progress into Nova's migration record."""
        if 'migration' not in migrate_data or not migrate_data.migration:
            return
        total = progress['total']
        info = nova_internals.job_info(
            type=nova_internals.libvirt().VIR_DOMAIN_JOB_UNBOUNDED,
            disk_total=total, disk_processed=progress['copied'],
            disk_remaining=progress['remaining'], memory_total=0,
            memory_processed=0, memory_remaining=0)
        remaining = (int(round(progress['remaining'] * 100.0 / total))
                     if total else 100)
        self.nova.save_stats(instance, migrate_data.migration, info,
                             remaining)

    def clone_xml(self, instance, guest, plan, migrate_data):
        """The clone's definition, from the running source guest.

        Nova's update for the destination (VIFs, volumes, graphics,
        serial...) plus the plan's translation.
        """
        xml = self.nova.updated_guest_xml(
            instance, guest, migrate_data,
            profile.DOMAIN_TYPE.get(plan.dest_accel,
                                    CONF.libvirt.virt_type))
        try:
            return prechecks.translate_xml(xml, plan)
        except translate.TranslationError as exc:
            raise v2v_exception.V2VCutoverFailed(reason=str(exc))

    def dest_uri(self, dest):
        """``[v2v] clone_uri``, by default Nova's live migration URI."""
        return (CONF.v2v.clone_uri % dest if CONF.v2v.clone_uri
                else self.nova.live_migration_uri(dest))

    def _start_proven_clone(self, context, instance, dest, record, agent,
                            state, clone_xml):
        """The cutover's ``start_clone``: returns once the clone is proven.

        CLONE_STARTED is recorded before the clone is defined,
        CLONE_RUNNING once its domain runs, CLONE_PROVEN once its guest
        showed activity (:meth:`prove_clone`, or :meth:`last_look`). A
        phase that cannot be recorded, or a guest that shows no activity
        in time and still none at the last look, removes the clone again
        (the engine then rolls the source back).

        Once CLONE_RUNNING is recorded the instance's port bindings on
        ``dest`` are activated (the clone is the copy that runs; its guest
        boots and asks for its address); once a clone is removed the
        source's are activated again, before the source runs again.

        :param agent: whether the guest has a QEMU guest agent to ping
        :param state: the cutover's :class:`CutoverState`
        :raises: CloneStateUnknown when the last look at an unproven clone
            could not tell, or the clone's removal could not be confirmed
            (the source is then left stopped)
        """
        note_phase(record, v2v_record.CLONE_STARTED, instance)
        clone, started = self.start_clone(instance, dest, clone_xml)
        name = clone.name()
        try:
            note_phase(record, v2v_record.CLONE_RUNNING, instance)
            state.bindings_moved = True
            self.bindings.activate(context, instance, dest)
            # The guest runs again, on the destination, reachable.
            state.downtime.end()
            LOG.info('V2V cutover: waiting up to %(timeout)d s for the '
                     'guest of the clone %(name)s to show activity: '
                     '%(rule)s', {'timeout': CONF.v2v.cutover_activity_timeout,
                                  'name': name,
                                  'rule': self._half.activity_rule(agent)},
                     instance=instance)
            proof = self._proof(instance, dest, clone_xml, agent, name)
            LOG.info('V2V cutover: the clone %(name)s proved its guest '
                     'runs: %(proof)s', {'name': name, 'proof': proof},
                     instance=instance)
            note_phase(record, v2v_record.CLONE_PROVEN, instance)
        except cutover_transfer.CloneStateUnknown:
            # The last look could not tell: nothing is removed.
            raise
        except Exception as exc:
            LOG.error('V2V cutover: the clone %(name)s is removed: %(err)s',
                      {'name': name, 'err': exc}, instance=instance)
            try:
                removed = self.remove_clone(instance, dest)
            except Exception as remove_exc:
                LOG.error('V2V cutover: the removal of the clone %(name)s '
                          'failed: %(err)s',
                          {'name': name, 'err': remove_exc},
                          instance=instance)
                removed = False
            if not removed:
                raise cutover_transfer.CloneStateUnknown(
                    'the clone %s failed (%s) and its removal from %s '
                    'could not be confirmed' % (name, exc, dest),
                    clone=name) from exc
            if state.bindings_moved:
                self.bindings.restore(context, instance, dest)
            raise
        return clone, started

    def _proof(self, instance, dest, clone_xml, agent, name):
        """:meth:`prove_clone`, then :meth:`last_look` if not proven.

        :raises: CloneNotProven (the clone showed no activity at the last
            look either: it may be removed), CloneStateUnknown
        """
        try:
            return self.prove_clone(instance, dest, clone_xml, agent)
        except cutover_transfer.CloneNotProven as exc:
            LOG.warning('V2V cutover: %(err)s; one last look at the clone '
                        '%(name)s before its removal',
                        {'err': exc, 'name': name}, instance=instance)
            try:
                proof = self.last_look(instance, dest, clone_xml, agent,
                                       exc.watch)
            except Exception as look_exc:
                raise cutover_transfer.CloneStateUnknown(
                    'the clone %s was not proven (%s) and the last look '
                    'at it on %s before its removal could not tell '
                    'whether its guest runs (%s)'
                    % (name, exc, dest, look_exc), clone=name) from look_exc
            if proof is None:
                raise
            LOG.warning('V2V cutover: the clone %(name)s showed activity at '
                        'the last look: it is kept', {'name': name},
                        instance=instance)
            return proof

    def _lookup(self, conns, instance, dest):
        """The instance's clone on ``dest``, through a new connection.

        The connection goes into ``conns`` (the one before is closed).
        """
        _close(conns)
        conns.append(self.nova.open_destination(self.dest_uri(dest)))
        return conns[-1].lookupByUUIDString(instance.uuid)

    def prove_clone(self, instance, dest, clone_xml, agent):
        """Wait until the guest of the instance's clone on ``dest`` runs.

        Its guest agent answering (``agent``), otherwise its disks still
        written ``[v2v] cutover_activity_settle`` seconds after their
        first writes, within ``[v2v] cutover_activity_timeout`` seconds;
        through a connection to ``dest`` as the clone's start, opened
        again after a libvirt error (the destination's libvirtd
        restarting does not stop the clone).

        :param clone_xml: the clone's definition (its disks are sampled)
        :param agent: whether the guest has a QEMU guest agent to ping
        :returns: what proved it (text)
        :raises: CloneNotProven
        """
        conns = []
        try:
            return self._half.prove_clone(
                functools.partial(self._lookup, conns, instance, dest),
                clone_xml, agent)
        finally:
            _close(conns)

    def last_look(self, instance, dest, clone_xml, agent, watch):
        """One more look at the instance's unproven clone on ``dest``.

        Before its removal, through a new connection: the destination's
        libvirt may answer again. A clone whose guest shows activity now
        is kept (:meth:`SourceHalf.last_look`).

        :param watch: the samples of :meth:`prove_clone`, or None
        :returns: what proved its guest runs (text), or None when it shows
            no activity (it may be removed)
        :raises: CloneStateUnknown, or what opening the connection raises
        """
        conns = []
        try:
            return self._half.last_look(
                functools.partial(self._lookup, conns, instance, dest),
                clone_xml, watch, agent)
        finally:
            _close(conns)

    @contextlib.contextmanager
    def _destination(self, dest):
        """A libvirt connection to ``dest``'s libvirtd, closed after use."""
        conns = [self.nova.open_destination(self.dest_uri(dest))]
        try:
            yield conns[0]
        finally:
            _close(conns)

    def start_clone(self, instance, dest, clone_xml):
        """Define and start the clone on ``dest``: (clone, start time).

        A clone whose domain does not run is removed again.
        """
        with self._destination(dest) as conn:
            clone, started = self._half.start_clone(conn, clone_xml)
            LOG.info('V2V cutover: the clone %(name)s runs on %(dest)s',
                     {'name': clone.name(), 'dest': dest},
                     instance=instance)
            return clone, started

    def remove_clone(self, instance, dest):
        """Destroy and undefine the instance's clone on ``dest``, if any.

        Through the same connection as the clone's start. For a cutover
        stopped before its point of no return (e.g. by a restart of this
        compute): the clone's disks stay, Nova's rollback at the
        destination removes the instance's directory.

        :returns: True when no clone of the instance runs on ``dest``,
            False when that cannot be confirmed (it may run: leave the
            source stopped)
        :raises: what opening the connection raises; NoAnswer when the
            destination's libvirt did not answer within REMOVE_TIMEOUT
        """
        abandoned = threading.Event()

        def remove():
            with self._destination(dest) as conn:
                if abandoned.is_set():
                    # Given up meanwhile: the cutover is held, nothing may
                    # change under the operator's check.
                    return False
                removed = self._half.remove_clone(conn, instance.uuid)
            if abandoned.is_set():
                LOG.critical('V2V cutover: the removal of the clone on '
                             '%(dest)s ended after it was given up (%(res)s);'
                             ' the server is held: check the clone before '
                             'resolving it', {'dest': dest, 'res':
                                              'removed' if removed else
                                              'not confirmed'},
                             instance=instance)
            return removed

        removed = call_deadline.call_within(REMOVE_TIMEOUT, remove,
                                            abandoned=abandoned)
        LOG.info('V2V cutover: the clone on %(dest)s %(what)s',
                 {'dest': dest, 'what': 'is removed' if removed else
                  'may still run'}, instance=instance)
        return removed

    def restart_source(self, instance):
        """Run the instance's stopped source guest again on this host.

        Resumes a paused guest, starts a powered-off one, from its
        untouched disks; only once no clone runs (:meth:`remove_clone`).

        :returns: the guest's ``VIR_DOMAIN_*`` state afterwards, or None
        """
        return self._half.restart_source(self.nova.get_domain(instance))


def _close(conns):
    """Close the libvirt connections of ``conns`` (emptied)."""
    while conns:
        try:
            conns.pop().close()
        except Exception:
            pass
