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

"""The decision of the recovery at start-up, pure: :func:`decide`.

What :class:`recovery.Recovery` does with one interrupted V2V cutover,
from the phase its record says it reached, the side of the migration
this host is, the source guest's state and, where it matters
(:func:`clone_matters`), the clone's on the destination. Nothing here
reaches libvirt or Nova: each row is tested on its own
(``tests/unit/virt/test_recovery_decision.py``).

**Never two running copies, never none**, case by case. The invariants
the cutover keeps are: the source's disks are never written by anything
but the source guest before the point of no return, and never deleted
before it; the clone is defined only in CLONE_STARTED or later; the source
guest is destroyed (never before) in CLONE_PROVEN or later.

*On the source* (the instance is on this host, a live migration of it
from here is in progress, its record is a cutover's):

* PLANNED (no export yet): nothing of the cutover ran; Nova's own restart
  handling applies. One copy: the source's, which never stopped.
* EXPORTED, SYNCING, CUTTING_OVER, SOURCE_STOPPED: no clone can exist (it
  is defined in CLONE_STARTED at the earliest; in CUTTING_OVER and
  SOURCE_STOPPED the destination is asked all the same, and a clone found
  is removed first: an earlier release defined it while its record said
  CUTTING_OVER, so a cutover interrupted by the upgrade itself is covered
  when the destination answers). The block copy jobs are
  ended without pivot (the source keeps its own disks, which only its
  guest wrote), the guest is resumed (paused) or started (shut off over
  ACPI), then Nova's rollback cleans the destination. One copy: the
  source's. A source domain that is missing (which the cutover never
  does before CLONE_PROVEN) is left to Nova's own restart handling,
  which starts it from its untouched disks
  (``resume_guests_state_on_host_boot``) or leaves it for the operator's
  ``server start``: never two, since no clone exists.
* ROLLED_BACK: the cutover recorded it once the clone's removal was
  confirmed and the source ran again (Nova's rollback had not finished).
  The destination is asked all the same and a clone found is removed
  first; the source is resumed or started if it is not running, then
  Nova's rollback runs. An unknown clone state is no stop here: the
  clone's removal was confirmed before. One copy: the source's.
* CLONE_STARTED, CLONE_RUNNING (before the proof): the clone may exist,
  running or not. It is destroyed and undefined on the destination
  first, and only once its removal is confirmed is the source resumed.
  One copy: the source's, from disks the clone never wrote. When the
  destination's libvirt cannot say (unreachable, or no answer within
  :data:`recovery.PROBE_TIMEOUT`), nothing is destroyed and nothing
  started: HOLD. At most one copy runs (the clone, if it does); the
  source's disks and the clone's are both kept, so none is lost.
* CLONE_PROVEN, SOURCE_REMOVED: the clone's guest showed activity; it is
  the guest, provided it is still there. The destination is asked: only
  when the clone's domain is active (running or paused) and the source
  guest does not run is the move completed. The paused source (if still
  there) is destroyed, never resumed, and Nova's post-migration flow
  moves the records to the destination (where the clone runs) and
  removes the source's disks. That flow needs the manager's resource
  tracker, which Nova sets up after ``init_host``: it runs in a thread
  once the tracker has reported (:meth:`Recovery.resources_reported`);
  meanwhile the instance is not given to Nova's ``_init_instance`` (it is
  the destination's). One copy: the clone. Otherwise (the clone absent,
  stopped or unknown, or the source running again) nothing is destroyed
  and nothing started: HOLD. Completing would delete the source's disks
  under Nova's records while no clone may run (none), and destroying a
  running source trusts a clone no one saw (none, or two disks' histories).
* CLONE_UNKNOWN: the cutover (or an earlier recovery) already left both
  sides as they were: HOLD again.

HOLD, in every case: the instance goes to ERROR, locked by an
administrator (its owner can neither reboot, rebuild, delete nor unlock
it), with a fault that says what to check; the migration to ``error``;
the phase CLONE_UNKNOWN (held for the operator: README.rst, "When a
cutover's clone state is unknown").

*On the destination* (a live migration to this host is in progress and
its record is a cutover's):

* EXPORTED, SYNCING, CUTTING_OVER: the exports are stopped. The source's
  mirror then fails (before the guest stopped, or during its stop: the
  stop checks the jobs), and the source's running cutover rolls back
  through its normal path. One copy: the source's; the clone was never
  started.
* SOURCE_STOPPED and later: left alone (the exports released themselves
  when the source ended its jobs; the clone is the source's to start,
  prove or remove).
"""

import dataclasses
import typing as ty

from nova_v2v.virt.libvirt import record as v2v_record

# The side of the migration this host is.
SOURCE = 'source'
DEST = 'destination'

# The source domain's state.
RUNNING = 'running'
PAUSED = 'paused'
SHUTOFF = 'shut-off'
MISSING = 'missing'

# The clone's state on the destination.
PRESENT = 'present'          # defined and active: running or paused
INACTIVE = 'inactive'        # defined, not running
ABSENT = 'absent'
UNKNOWN = 'unknown'

# How each state reads in a held cutover's fault.
SAID = {
    RUNNING: 'running', PAUSED: 'paused', SHUTOFF: 'shut off',
    MISSING: 'not defined', PRESENT: 'active (running or paused)',
    INACTIVE: 'defined but not running', ABSENT: 'not defined',
    UNKNOWN: 'unknown', None: 'not looked up'}

# What to do.
LEAVE = 'leave'
ROLL_BACK = 'roll-back'
COMPLETE = 'complete'
HOLD = 'hold'
STOP_EXPORTS = 'stop-exports'

# How the source guest runs again.
RESUME = 'resume'
START = 'start'

_SYNC_PHASES = (v2v_record.EXPORTED, v2v_record.SYNCING,
                v2v_record.CUTTING_OVER, v2v_record.SOURCE_STOPPED)
# No clone can exist in these phases (CLONE_STARTED is recorded before it
# is defined, ROLLED_BACK once its removal was confirmed), but a release
# that recorded no CLONE_STARTED defined it in CUTTING_OVER: one found
# there is removed too.
_GUARDED_PHASES = (v2v_record.CUTTING_OVER, v2v_record.SOURCE_STOPPED,
                   v2v_record.ROLLED_BACK)
# The clone may exist, and the source's restart waits for its removal.
_CLONE_PHASES = (v2v_record.CLONE_STARTED, v2v_record.CLONE_RUNNING)
# The destination's exports serve the source until its jobs end.
_EXPORTING_PHASES = (v2v_record.EXPORTED, v2v_record.SYNCING,
                     v2v_record.CUTTING_OVER)
_RESTART = {PAUSED: RESUME, SHUTOFF: START}


@dataclasses.dataclass(frozen=True)
class Resolution:
    """What to do with one interrupted cutover, in this order.

    :param action: LEAVE, ROLL_BACK, COMPLETE, HOLD (the clone's state is
        unknown) or STOP_EXPORTS
    :param end_jobs: end the source guest's block copy jobs (no pivot)
    :param remove_clone: destroy and undefine the clone on the destination
    :param restart: RESUME or START the source guest, or None
    :param destroy_source: destroy the (paused) source guest
    :param reason: why, for the log
    """

    action: str
    end_jobs: bool = False
    remove_clone: bool = False
    restart: ty.Optional[str] = None
    destroy_source: bool = False
    reason: str = ''


def clone_matters(side, phase):
    """Whether :func:`decide` needs the clone's state for this phase."""
    return side == SOURCE and phase in (
        _CLONE_PHASES + _GUARDED_PHASES + v2v_record.AFTER_NO_RETURN)


def decide(side, phase, source_state=None, clone_state=None):
    """The resolution of an interrupted cutover (see the module's doc).

    :param side: SOURCE or DEST
    :param phase: the recorded phase (``record.PLANNED``...), or None
    :param source_state: on the source: RUNNING, PAUSED, SHUTOFF, MISSING
    :param clone_state: on the source, in the phases where
        :func:`clone_matters`: PRESENT, INACTIVE, ABSENT or UNKNOWN
    :returns: :class:`Resolution`
    """
    if side == DEST:
        if phase in _EXPORTING_PHASES:
            return Resolution(STOP_EXPORTS, reason='the source still mirrors '
                              'into the exports: ending them rolls the '
                              'source back')
        return Resolution(LEAVE, reason='no export of the cutover serves '
                          'in phase %s' % phase)
    end_jobs = source_state in (RUNNING, PAUSED)
    remove_clone = clone_state in (PRESENT, INACTIVE)
    if phase in v2v_record.AFTER_NO_RETURN:
        if clone_state != PRESENT:
            return Resolution(HOLD, reason='past the point of no return, '
                              'but the clone is %s' % clone_state)
        if source_state == RUNNING:
            return Resolution(HOLD, reason='past the point of no return, '
                              'but the source guest runs again')
        return Resolution(
            COMPLETE, destroy_source=source_state == PAUSED,
            reason='past the point of no return: the clone is the guest')
    if phase == v2v_record.CLONE_UNKNOWN:
        return Resolution(HOLD, reason='the clone\'s state was unknown')
    if phase in _CLONE_PHASES:
        if clone_state not in (PRESENT, INACTIVE, ABSENT):
            return Resolution(HOLD, end_jobs=end_jobs,
                              reason='the destination cannot say whether '
                                     'the clone runs')
        return Resolution(
            ROLL_BACK, end_jobs=end_jobs, remove_clone=remove_clone,
            restart=_RESTART.get(source_state),
            reason='before the point of no return: the source owns the '
                   'guest')
    if phase in _SYNC_PHASES + _GUARDED_PHASES:
        return Resolution(
            ROLL_BACK, end_jobs=end_jobs, remove_clone=remove_clone,
            restart=_RESTART.get(source_state),
            reason='before the point of no return, no clone yet'
            if phase != v2v_record.ROLLED_BACK else
            'rolled back: the clone\'s removal was confirmed')
    return Resolution(LEAVE, reason='no cutover ran (phase %s)' % phase)
