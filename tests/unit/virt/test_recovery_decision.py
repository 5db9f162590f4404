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


"""The recovery's decision at start-up: every row, its invariants."""

from nova import test

from nova_v2v.virt.libvirt import record as v2v_record
from nova_v2v.virt.libvirt import recovery_decision as rec

R = rec.Resolution
ALL_PHASES = (None, v2v_record.PLANNED) + v2v_record.BEFORE_NO_RETURN + (
    v2v_record.AFTER_NO_RETURN +
    (v2v_record.ROLLED_BACK, v2v_record.CLONE_UNKNOWN))
SOURCE_STATES = (rec.RUNNING, rec.PAUSED, rec.SHUTOFF, rec.MISSING)
CLONE_STATES = (rec.PRESENT, rec.INACTIVE, rec.ABSENT, rec.UNKNOWN)
# The clone's domain is defined: removed before the source runs again.
DEFINED = (rec.PRESENT, rec.INACTIVE)
SYNC = (v2v_record.EXPORTED, v2v_record.SYNCING, v2v_record.CUTTING_OVER,
        v2v_record.SOURCE_STOPPED)
CLONE = (v2v_record.CLONE_STARTED, v2v_record.CLONE_RUNNING)
# The clone's removal was confirmed before this phase was recorded.
REMOVED = (v2v_record.ROLLED_BACK,)
RESTART = {rec.RUNNING: None, rec.PAUSED: rec.RESUME,
           rec.SHUTOFF: rec.START, rec.MISSING: None}
JOBS = {rec.RUNNING: True, rec.PAUSED: True, rec.SHUTOFF: False,
        rec.MISSING: False}


def _without_reason(resolution):
    return R(resolution.action, resolution.end_jobs, resolution.remove_clone,
             resolution.restart, resolution.destroy_source)


class DecideTestCase(test.NoDBTestCase):
    """Each (side, phase, source, clone) row: its one resolution."""

    def decide(self, side, phase, source=None, clone=None):
        return _without_reason(rec.decide(side, phase, source, clone))

    def test_every_phase_is_covered(self):
        self.assertEqual(
            set(ALL_PHASES) - {None},
            {getattr(v2v_record, name) for name in dir(v2v_record)
             if name.isupper() and isinstance(getattr(v2v_record, name),
                                              str) and
             not name.startswith('SYSMETA')})

    def test_source_nothing_ran_is_novas(self):
        for phase in (None, v2v_record.PLANNED):
            for source in SOURCE_STATES:
                with self.subTest(phase=phase, source=source):
                    self.assertEqual(R(rec.LEAVE),
                                     self.decide(rec.SOURCE, phase, source))

    def test_source_before_the_clone_rolls_back(self):
        for phase in SYNC + REMOVED:
            for source in SOURCE_STATES:
                for clone in (None, rec.ABSENT, rec.UNKNOWN):
                    with self.subTest(phase=phase, source=source,
                                      clone=clone):
                        # No clone can exist: the source runs again
                        # whatever the destination says.
                        self.assertEqual(
                            R(rec.ROLL_BACK, end_jobs=JOBS[source],
                              restart=RESTART[source]),
                            self.decide(rec.SOURCE, phase, source, clone))

    def _assert_rolled_back(self, phases, clone):
        """Rolled back in ``phases``, a defined clone removed first."""
        for phase in phases:
            for source in SOURCE_STATES:
                with self.subTest(phase=phase, source=source, clone=clone):
                    self.assertEqual(
                        R(rec.ROLL_BACK, end_jobs=JOBS[source],
                          remove_clone=clone in DEFINED,
                          restart=RESTART[source]),
                        self.decide(rec.SOURCE, phase, source, clone))

    def test_source_cutting_over_removes_a_clone_found(self):
        """An earlier release defined the clone in CUTTING_OVER."""
        for clone in DEFINED:
            self._assert_rolled_back(
                (v2v_record.CUTTING_OVER, v2v_record.SOURCE_STOPPED),
                clone)

    def test_source_rolled_back_removes_a_clone_found(self):
        """Not a phase where the clone runs: one found goes, all the same.

        The source ran again before ROLLED_BACK was recorded: a running
        source is left running, a stopped one runs again.
        """
        for clone in DEFINED + (rec.ABSENT, rec.UNKNOWN):
            self._assert_rolled_back(REMOVED, clone)

    def test_source_clone_phases_remove_a_defined_clone_first(self):
        for clone in DEFINED:
            self._assert_rolled_back(CLONE, clone)

    def test_source_clone_phases_without_a_clone(self):
        self._assert_rolled_back(CLONE, rec.ABSENT)

    def test_source_clone_unknown_holds_everything(self):
        for phase in CLONE:
            for source in SOURCE_STATES:
                for clone in (rec.UNKNOWN, None):
                    with self.subTest(phase=phase, source=source,
                                      clone=clone):
                        resolution = self.decide(rec.SOURCE, phase, source,
                                                 clone)
                        self.assertEqual(R(rec.HOLD, end_jobs=JOBS[source]),
                                         resolution)
                        # Nothing destroyed, nothing started.
                        self.assertIsNone(resolution.restart)
                        self.assertFalse(resolution.remove_clone)
                        self.assertFalse(resolution.destroy_source)

    def test_source_recorded_clone_unknown_holds(self):
        for source in SOURCE_STATES:
            for clone in (None,) + CLONE_STATES:
                with self.subTest(source=source, clone=clone):
                    self.assertEqual(
                        R(rec.HOLD),
                        self.decide(rec.SOURCE, v2v_record.CLONE_UNKNOWN,
                                    source, clone))

    def test_source_after_no_return_completes_with_the_clone(self):
        """The clone runs (or is paused), the source does not: complete.

        A paused source is destroyed, never resumed; a shut-off or
        missing one is left to Nova's post-migration cleanup.
        """
        destroy = {rec.PAUSED: True, rec.SHUTOFF: False, rec.MISSING: False}
        for phase in v2v_record.AFTER_NO_RETURN:
            for source in destroy:
                with self.subTest(phase=phase, source=source):
                    self.assertEqual(
                        R(rec.COMPLETE, destroy_source=destroy[source]),
                        self.decide(rec.SOURCE, phase, source, rec.PRESENT))

    def test_source_after_no_return_without_the_clone_holds(self):
        """No clone seen active, or the source runs: nothing destroyed."""
        for phase in v2v_record.AFTER_NO_RETURN:
            for source in SOURCE_STATES:
                for clone in (None,) + CLONE_STATES:
                    if clone == rec.PRESENT and source != rec.RUNNING:
                        continue
                    with self.subTest(phase=phase, source=source,
                                      clone=clone):
                        self.assertEqual(
                            R(rec.HOLD),
                            self.decide(rec.SOURCE, phase, source, clone))

    def test_destination_stops_exports_that_still_serve(self):
        for phase in (v2v_record.EXPORTED, v2v_record.SYNCING,
                      v2v_record.CUTTING_OVER):
            with self.subTest(phase=phase):
                self.assertEqual(R(rec.STOP_EXPORTS),
                                 self.decide(rec.DEST, phase))

    def test_destination_leaves_the_rest(self):
        for phase in set(ALL_PHASES) - {v2v_record.EXPORTED,
                                        v2v_record.SYNCING,
                                        v2v_record.CUTTING_OVER}:
            with self.subTest(phase=phase):
                self.assertEqual(R(rec.LEAVE), self.decide(rec.DEST, phase))

    def _rows(self):
        for side in (rec.SOURCE, rec.DEST):
            for phase in ALL_PHASES:
                for source in SOURCE_STATES:
                    for clone in (None,) + CLONE_STATES:
                        yield (side, phase, source, clone,
                               rec.decide(side, phase, source, clone))

    def test_never_two_copies(self):
        """No row both restarts the source and keeps a clone that may run.

        And no row restarts the source after the point of no return.
        """
        for side, phase, source, clone, resolution in self._rows():
            if resolution.restart is None:
                continue
            with self.subTest(side=side, phase=phase, source=source,
                              clone=clone):
                self.assertNotIn(phase, v2v_record.AFTER_NO_RETURN)
                if clone in DEFINED and rec.clone_matters(side, phase):
                    self.assertTrue(resolution.remove_clone)
                if phase in SYNC + REMOVED:
                    # No clone can exist in this phase.
                    continue
                self.assertNotEqual(rec.UNKNOWN, clone)

    def test_never_none(self):
        """No row leaves no copy of the guest.

        No row completes the move (Nova's cleanup then deletes the
        source's disks) without a clone seen active, or while the source
        runs; no row destroys the source guest without such a clone; no
        row removes the clone after the point of no return; a hold
        touches neither copy.
        """
        for side, phase, source, clone, resolution in self._rows():
            with self.subTest(side=side, phase=phase, source=source,
                              clone=clone):
                if resolution.action == rec.COMPLETE:
                    self.assertEqual(rec.PRESENT, clone)
                    self.assertNotEqual(rec.RUNNING, source)
                if resolution.destroy_source:
                    self.assertEqual(rec.COMPLETE, resolution.action)
                    self.assertEqual(rec.PRESENT, clone)
                if resolution.remove_clone:
                    self.assertEqual(rec.ROLL_BACK, resolution.action)
                    self.assertNotIn(phase, v2v_record.AFTER_NO_RETURN)
                if resolution.action == rec.HOLD:
                    self.assertEqual(
                        (False, None, False),
                        (resolution.remove_clone, resolution.restart,
                         resolution.destroy_source))

    def test_every_state_is_said(self):
        self.assertEqual(set(SOURCE_STATES + CLONE_STATES + (None,)),
                         set(rec.SAID))

    def test_clone_matters(self):
        self.assertEqual(
            set(CLONE + REMOVED + v2v_record.AFTER_NO_RETURN) | {
                v2v_record.CUTTING_OVER, v2v_record.SOURCE_STOPPED},
            {phase for phase in ALL_PHASES
             if rec.clone_matters(rec.SOURCE, phase)})
        self.assertFalse(any(rec.clone_matters(rec.DEST, phase)
                             for phase in ALL_PHASES))
