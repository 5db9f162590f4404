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

"""The loop of a drain: start moves within the limits, follow them, end.

:class:`Drain` reads and moves the servers only through a
:class:`~nova_v2v.drain.cloud.DrainCloud`, the compute API's calls it needs
(:class:`nova_v2v.cmd.drain.ApiCloud` makes them with novaclient), and
keeps what it did in a :class:`~nova_v2v.drain.state.DrainState` at every
change. Run again after an interruption, it first follows the moves its
state says were asked for (never asking for a second one: Nova refuses
it anyway, and the server's ``task_state`` is read before each request),
confirms a cold move left waiting, then plans what is still on the host.

A move that fails is retried once, then reported. ``--timeout`` aborts a
live move that runs longer (the server stays on the source, reported as
``timeout``); ``--force-complete-after`` asks Nova to force it to
complete (Nova pauses the guest, or switches to post-copy where it is
permitted). :meth:`Drain.request_stop` (a first Ctrl-C) starts no new
move and lets those in flight end; :meth:`Drain.request_abort` (a
second) aborts the live moves in flight through the API.
"""

import collections
import dataclasses
import time
import typing as ty

from oslo_log import log as logging

from nova_v2v.drain import cloud as drain_cloud
from nova_v2v.drain import plan as drain_plan
from nova_v2v.drain import progress as drain_progress
from nova_v2v.drain import report as drain_report
from nova_v2v.drain import schedule
from nova_v2v.drain import state as drain_state

LOG = logging.getLogger(__name__)

MOVED = 'moved'
FAILED = 'failed'
TIMEOUT = 'timeout'
ABORTED = 'aborted'
GONE = 'deleted'
UNKNOWN = 'unknown'
# Seconds a cold move's confirm may take before its record is read, and
# before the drain stops following it.
CONFIRM_CHECK = 60
CONFIRM_TIMEOUT = 600
# The migration statuses Nova aborts (2.65: queued and preparing too).
ABORTABLE = ('queued', 'preparing', 'running')
MAX_ATTEMPTS = 2
# Polls in a row whose API calls failed before the drain gives up (its
# state kept: the same command goes on).
API_FAILURES = 30


@dataclasses.dataclass(frozen=True)
class Options:
    """How the drain plans and moves (besides its :class:`Limits`).

    :param planner: the planner's keyword options (``[v2v]``)
    :param timeout: seconds after which a live move is aborted
    :param force_complete_after: seconds after which a live move is
        forced to complete
    :param disable_reason: disable the host's compute first with this
        reason (None: leave the service as it is)
    """

    planner: ty.Optional[dict] = None
    allow_cutover: bool = False
    targets: ty.Tuple[str, ...] = ()
    order: str = 'cheapest'
    hypervisor_version_check: bool = True
    timeout: ty.Optional[float] = None
    force_complete_after: ty.Optional[float] = None
    retry_failed: bool = False
    disable_reason: ty.Optional[str] = None
    poll: float = 2.0


class Drain(object):
    """The drain of one host.

    :param cloud: a :class:`~nova_v2v.drain.cloud.DrainCloud`
    :param state: the host's :class:`drain_state.DrainState`
    :param printer: a :class:`drain_progress.Printer`
    :param limits: :class:`schedule.Limits`
    :param options: :class:`Options`
    """

    def __init__(self, cloud, host, state, printer, limits, options,
                 clock=time.monotonic, wall=time.time, sleep=time.sleep):
        self.cloud = cloud
        self.host = host
        self.state = state
        self.printer = printer
        self.limits = limits
        self.options = options
        self.clock = clock
        self.wall = wall
        self.sleep = sleep
        self.stopping = False
        self.aborting = False
        self.moving = {}
        self.meter = drain_progress.Meter()
        self._moved_before = 0
        self._api_failures = 0
        self._t0 = clock()
        self.run_number = None
        self._announced = set()

    # -- signals ----------------------------------------------------------

    def request_stop(self):
        """Start no new move; those in flight go on to their end.

        Safe in a signal handler: it only sets a flag (the loop says so).
        """
        self.stopping = True

    def request_abort(self):
        """Also abort the live moves in flight (the next poll)."""
        self.stopping = True
        self.aborting = True

    def _announce(self):
        """Say what the signals asked for, once each, from the loop."""
        for flag, kind in (('stopping', 'drain.stopping'),
                           ('aborting', 'drain.aborting')):
            if getattr(self, flag) and kind not in self._announced:
                self._announced.add(kind)
                self.printer.event(kind, host=self.host)

    # -- the run ------------------------------------------------------------

    def run(self):
        """Drain the host; the report (:func:`drain_report.build`).

        :raises: :class:`~nova_v2v.drain.cloud.CloudError` when the cloud
            cannot be asked at the start,
            :class:`~nova_v2v.drain.cloud.CannotGoOn` later (the state is
            kept)
        """
        t0 = self._t0 = self.clock()
        self.run_number = self.state.data.get('runs', 0) + 1
        self.state.data['runs'] = self.run_number
        self._disable()
        for sid, entry in sorted(self.state.of_status(
                drain_state.MOVING).items()):
            self._follow(sid, entry, resumed=True)
        self._plan()
        self.printer.event('drain.start', host=self.host,
                           resumed=self.state.resumed,
                           servers=len(self.state.servers),
                           counts=self._counts())
        empty = None
        try:
            while True:
                self._step()
                if not self.moving and (self.stopping or
                                        not self._pending()):
                    break
                self.sleep(self.options.poll)
            if not self.stopping:
                try:
                    empty = not self.cloud.servers_on(self.host)
                except drain_cloud.CloudError as exc:
                    LOG.warning('Cannot list the servers of %(host)s at the '
                                'end: %(err)s', {'host': self.host,
                                                 'err': exc})
        finally:
            self.state.save()
        result = drain_report.build(
            self.host, self.state.servers, self.clock() - t0,
            self.limits.bandwidth_mib, empty=empty,
            interrupted=self.stopping, run=self.run_number)
        self.printer.event('drain.end', report=result)
        return result

    def _disable(self):
        reason = self.options.disable_reason
        if reason is None:
            return
        enabled, why = self.cloud.service(self.host)
        if not enabled:
            self.printer.event('service.disabled', host=self.host,
                               reason=why, already=True)
            return
        self.cloud.disable(self.host, reason)
        self.state.data['disabled'] = {'reason': reason, 'at': self.wall()}
        self.state.save()
        self.printer.event('service.disabled', host=self.host, reason=reason,
                           already=False)

    def _plan(self):
        items = self.cloud.servers_on(self.host)
        computes = self.cloud.compute_hosts()
        o = self.options
        steps = drain_plan.plan_drain(
            items, computes, o.planner, o.allow_cutover, o.targets,
            o.hypervisor_version_check, o.order)
        listed = set()
        for index, step in enumerate(steps):
            listed.add(step.id)
            entry = self.state.entry(step.id)
            status = entry['status'] if entry else None
            if status == drain_state.MOVING:
                continue
            if status == drain_state.FAILED and not o.retry_failed:
                continue
            fields = dict(name=step.name, action=step.action,
                          mode=step.mode, destinations=list(step.destinations),
                          cost=step.cost, reason=step.reason, order=index,
                          outcome=None, error=None)
            if step.action == drain_plan.SKIP:
                fields.update(status=drain_state.SKIPPED, outcome='skipped')
            else:
                fields.update(status=drain_state.PENDING)
            if status in (drain_state.DONE, drain_state.FAILED):
                # Back on the host, or failed and retried: a new move.
                fields.update(attempts=0, dest=None, seconds=None,
                              bytes=None, started_at=None, ended_at=None)
            self.state.put(step.id, **fields)
        for sid, entry in list(self.state.servers.items()):
            if entry.get('bandwidth_mib') and entry['status'] != (
                    drain_state.MOVING):
                try:
                    self.cloud.clear_bandwidth(sid)
                    self.state.put(sid, bandwidth_mib=None)
                except drain_cloud.CloudError as exc:
                    LOG.warning('Cannot remove the bandwidth of %(sid)s: '
                                '%(err)s', {'sid': sid, 'err': exc})
        for sid, entry in self.state.of_status(drain_state.PENDING).items():
            if sid not in listed:
                self.state.put(sid, status=drain_state.SKIPPED,
                               outcome='skipped',
                               reason='no longer on %s' % self.host)

    def _pending(self):
        entries = self.state.of_status(drain_state.PENDING)
        return [drain_plan.Step(
            id=sid, name=e['name'], action=e['action'], mode=e['mode'],
            destinations=self._destinations(e), cost=e.get('cost') or 0,
            reason=e.get('reason') or '')
            for sid, e in sorted(entries.items(),
                                 key=lambda kv: kv[1].get('order', 0))]

    @staticmethod
    def _destinations(entry):
        """A retry goes to a host its move did not fail on, if any."""
        failed = set(entry.get('failed_on') or ())
        others = tuple(h for h in entry['destinations'] if h not in failed)
        return others or tuple(entry['destinations'])

    def _counts(self):
        counts = collections.Counter(e['status'] for e in
                                     self.state.servers.values())
        return {s: counts.get(s, 0) for s in drain_state.STATUSES}

    def _guarded(self, errors, fn, *args):
        """``fn(*args)``; a :class:`CloudError` goes into ``errors``.

        One server's error (a confirm refused, a quota) does not stop the
        others' moves.
        """
        try:
            fn(*args)
            return True
        except drain_cloud.CloudError as exc:
            errors.append(exc)
            LOG.warning('The cloud\'s API failed: %(err)s', {'err': exc})
            self.printer.event('api.error', error=str(exc))
            return False

    def _step(self):
        """One poll: follow the moves, start new ones, print.

        :raises: :class:`~nova_v2v.drain.cloud.CannotGoOn` when every
            call failed :data:`API_FAILURES` polls in a row
        """
        self._announce()
        errors = []
        ok = 0
        for sid in sorted(self.moving):
            ok += self._guarded(errors, self._poll, sid)
        if not self.stopping:
            ok += self._guarded(errors, self._start_moves)
        self._announce()
        if errors and not ok:
            self._api_failures += 1
            if self._api_failures >= API_FAILURES:
                raise drain_cloud.CannotGoOn(
                    'the API failed %d times in a row; run the same command '
                    'again to go on: %s' % (self._api_failures, errors[-1]))
        else:
            self._api_failures = 0
        pending = sum(e.get('cost') or 0 for e in self.state.of_status(
            drain_state.PENDING).values())
        self.printer.progress(drain_progress.snapshot(
            self.clock(), list(self.moving.values()), self.meter,
            self._moved_before, pending, self._counts(), self._t0))

    # -- starting moves -------------------------------------------------------

    def _start_moves(self):
        in_flight = {sid: e['dest'] for sid, e in
                     self.state.of_status(drain_state.MOVING).items()}
        assigned = collections.Counter(
            e['dest'] for e in self.state.servers.values()
            if e['status'] in (drain_state.MOVING, drain_state.DONE)
            and e.get('dest'))
        for step, dest in schedule.pick(self._pending(), in_flight,
                                        self.limits, assigned):
            if self.stopping:
                # Ctrl-C between two starts of one poll.
                return
            self._start(step, dest)

    def _start(self, step, dest):
        view = self.cloud.server(step.id)
        if view is None:
            self.state.put(step.id, status=drain_state.SKIPPED, outcome=GONE,
                           reason='deleted before its move')
            return
        wanted = (drain_plan.COLD_STATUSES if step.action == drain_plan.COLD
                  else drain_plan.LIVE_STATUSES)
        why = None
        if view.host != self.host:
            why = 'now on %s' % view.host
        elif view.task_state:
            why = 'busy (task_state %s)' % view.task_state
        elif view.status not in wanted:
            why = ('its status is %s since the plan; run the drain again'
                   % view.status)
        if why:
            self.state.put(step.id, status=drain_state.SKIPPED,
                           outcome='skipped', reason=why)
            return
        if self.stopping:
            # Ctrl-C while this server was read: nothing asked yet.
            return
        unfinished = (len(self.state.of_status(drain_state.PENDING)) +
                      len(self.state.of_status(drain_state.MOVING)))
        share = 0
        if step.action != drain_plan.COLD:
            share = schedule.bandwidth_share(self.limits, unfinished)
        entry = self.state.entry(step.id)
        # MOVING before anything is asked: a crash from here on leaves an
        # entry the next run follows (and whose bandwidth it removes).
        self.state.put(step.id, status=drain_state.MOVING, dest=dest,
                       attempts=entry.get('attempts', 0) + 1,
                       started_at=self.wall(), ended_at=None,
                       bandwidth_mib=share or None, migration_id=None,
                       run=self.run_number, running_at=None,
                       abort_why=None, forced=False, confirming=False,
                       error=None)
        self._follow(step.id, self.state.entry(step.id))
        try:
            if share:
                self.cloud.set_bandwidth(step.id, share)
            if step.action == drain_plan.COLD:
                self.cloud.cold_migrate(step.id, dest)
            else:
                self.cloud.live_migrate(step.id, dest)
        except drain_cloud.CloudError as exc:
            # The request may have reached Nova (a connection lost, a
            # timeout): a server that moves now is followed, not asked
            # for again.
            try:
                after = self.cloud.server(step.id)
            except drain_cloud.CloudError:
                after = None
            if after is None or not (after.task_state or
                                     after.host != self.host):
                self._end(step.id, FAILED, after or view,
                          'the API refused the move: %s' % exc)
                return
            LOG.warning('The request to move %(sid)s failed (%(err)s) but '
                        'it moves: following it',
                        {'sid': step.id, 'err': exc})
        self.printer.event('move.start', server=step.id, name=step.name,
                           action=step.action, mode=step.mode, dest=dest,
                           attempt=self.state.entry(step.id)['attempts'],
                           bandwidth_mib=share or None)

    def _follow(self, sid, entry, resumed=False):
        started = self.clock() - max(0.0, self.wall() -
                                     (entry.get('started_at') or
                                      self.wall()))
        self.moving[sid] = drain_progress.MoveProgress(
            sid, entry.get('name') or sid, entry.get('mode'),
            entry.get('dest'), started, entry.get('cost') or 0)
        if resumed:
            self.printer.event('move.resumed', server=sid,
                               name=entry.get('name'), dest=entry.get('dest'))

    # -- following moves ------------------------------------------------------

    def _poll(self, sid):
        entry = self.state.entry(sid)
        view = self.cloud.server(sid)
        if view is None:
            self._end(sid, GONE, None, 'deleted while it moved')
            return
        if entry['action'] == drain_plan.COLD:
            self._poll_cold(sid, entry, view)
        else:
            self._poll_live(sid, entry, view)

    def _poll_live(self, sid, entry, view):
        records = self.cloud.migrations_in_progress(sid)
        record = records[0] if records else None
        now = self.wall()
        if record is not None:
            if entry.get('migration_id') != record.get('id'):
                self.state.put(sid, migration_id=record.get('id'))
            if record.get('status') == 'running' and not entry.get(
                    'running_at'):
                # The limits count from here: a move queued on its source
                # (max_concurrent_live_migrations) has not begun.
                self.state.put(sid, running_at=now)
            self.moving[sid].sample(self.clock(), record)
            self._limits(sid, entry, record, now)
        elif view.task_state is not None:
            self._no_record(sid, entry, view, now)
        if view.task_state is not None or records:
            return
        if view.host != self.host and view.status in (
                drain_plan.LIVE_STATUSES):
            self._end(sid, MOVED, view)
        else:
            self._end(sid, entry.get('abort_why') or FAILED, view,
                      self._why_failed(sid, view))

    def _limits(self, sid, entry, record, now):
        """Abort or force a live move past its limits (or on Ctrl-C x2)."""
        o = self.options
        status = record.get('status')
        ran = now - entry['running_at'] if entry.get('running_at') else 0
        why = None
        if self.aborting:
            why = ABORTED
        elif o.timeout and ran > o.timeout:
            why = TIMEOUT
        if why and not entry.get('abort_why'):
            if status not in ABORTABLE:
                # Nova aborts a migration queued, preparing or running
                # only (not one past its switch-over).
                return
            self.printer.event('move.abort', server=sid,
                               name=entry.get('name'), why=why,
                               seconds=round(ran, 1))
            self.cloud.abort(sid, record['id'])
            # Recorded once Nova took it: a failed call is tried again.
            self.state.put(sid, abort_why=why)
        elif (o.force_complete_after and not entry.get('forced') and
              not entry.get('abort_why') and
              entry.get('action') == drain_plan.LIVE and
              ran > o.force_complete_after and status == 'running'):
            self.printer.event('move.force_complete', server=sid,
                               name=entry.get('name'), seconds=round(ran, 1))
            self.cloud.force_complete(sid, record['id'])
            self.state.put(sid, forced=True)

    def _no_record(self, sid, entry, view, now):
        """A move Nova lists no migration of: stuck before it began?

        Past ``--timeout`` since it was asked for, the drain stops
        following it (outcome ``unknown``): the server keeps its
        ``task_state`` and is not moved again by a later run unless
        ``--retry-failed``.
        """
        o = self.options
        asked = now - (entry.get('started_at') or now)
        if o.timeout and asked > o.timeout and not entry.get('running_at'):
            self._end(sid, UNKNOWN, view,
                      'no migration in progress %d s after it was asked '
                      'for (task_state %s)' % (asked, view.task_state))

    def _poll_cold(self, sid, entry, view):
        if view.task_state is not None:
            return
        if view.status == 'VERIFY_RESIZE':
            if not entry.get('confirming'):
                self.printer.event('move.confirm', server=sid,
                                   name=entry.get('name'))
                self.cloud.confirm(sid)
                # Once: Nova refuses a second confirm while it confirms.
                self.state.put(sid, confirming=self.wall())
                return
            # Confirming: the source compute removes the old copy; Nova
            # shows VERIFY_RESIZE until it has, or forever if it failed.
            waited = self.wall() - entry['confirming']
            if waited > CONFIRM_CHECK:
                record = self.cloud.last_migration(sid) or {}
                if record.get('status') == 'error' or waited > (
                        CONFIRM_TIMEOUT):
                    self._end(sid, FAILED, view,
                              'its confirm did not end (migration %s %s, '
                              '%d s)' % (record.get('id'),
                                         record.get('status'), waited))
            return
        if view.host != self.host and view.status != 'ERROR':
            # SHUTOFF as it was; or started since by its owner.
            self._end(sid, MOVED, view)
        else:
            self._end(sid, FAILED, view, self._why_failed(sid, view))

    def _why_failed(self, sid, view):
        why = []
        try:
            record = self.cloud.last_migration(sid)
        except drain_cloud.CloudError as exc:
            record = None
            why.append('its migration record cannot be read: %s' % exc)
        if record:
            why.append('migration %s %s' % (record.get('id'),
                                            record.get('status')))
        if view is not None and view.fault:
            why.append(view.fault)
        if view is not None:
            why.append('the server is %s on %s' % (view.status, view.host))
        return '; '.join(why)

    def _end(self, sid, outcome, view, error=None):
        entry = self.state.entry(sid)
        mp = self.moving.pop(sid, None)
        ended = self.wall()
        moved = None
        if mp is not None and (mp.processed or mp.total):
            moved = max(mp.processed, mp.total or 0) if outcome == MOVED \
                else mp.processed
        if outcome == MOVED:
            self._moved_before += moved or 0
            self.meter.finished(entry.get('cost') or 0, moved)
        if entry.get('bandwidth_mib'):
            try:
                self.cloud.clear_bandwidth(sid)
            except drain_cloud.CloudError as exc:
                LOG.warning('Cannot remove the bandwidth of %(sid)s: '
                            '%(err)s', {'sid': sid, 'err': exc})
        retry = (outcome == FAILED and
                 entry.get('attempts', 0) < MAX_ATTEMPTS and
                 view is not None and view.status != 'ERROR' and
                 view.host == self.host)
        fields = dict(ended_at=ended, bytes=moved, error=error,
                      seconds=round(ended - (entry.get('started_at') or
                                             ended), 1),
                      bandwidth_mib=None)
        if outcome == MOVED:
            fields.update(status=drain_state.DONE, outcome=MOVED,
                          dest=view.host)
        elif outcome == GONE:
            fields.update(status=drain_state.SKIPPED, outcome=GONE)
        elif outcome == ABORTED:
            # Stopped by the operator, not failed: the next run moves it.
            fields.update(status=drain_state.PENDING, outcome=ABORTED,
                          attempts=max(0, entry.get('attempts', 1) - 1))
        elif retry:
            fields.update(status=drain_state.PENDING, outcome=None,
                          failed_on=sorted(set(entry.get('failed_on') or
                                               []) | {entry.get('dest')}))
        else:
            fields.update(status=drain_state.FAILED, outcome=outcome)
        self.state.put(sid, **fields)
        self.printer.event(
            'move.retry' if retry else 'move.end', server=sid,
            name=entry.get('name'), outcome=outcome,
            host=view.host if view is not None else None,
            seconds=fields['seconds'], bytes=moved, error=error,
            attempt=entry.get('attempts'))
