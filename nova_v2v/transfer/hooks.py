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

"""What the caller of a cutover decides and observes: its hooks.

:func:`nova_v2v.transfer.cutover.run_source_cutover` calls one
:class:`CutoverHooks` object at fixed points of its sequence.  Nova's
driver overrides the hooks that report progress and carry an operator's
abort or force-complete; the lab's fault matrix overrides those that
inject a fault at a phase; every hook has a default that lets the
cutover run to its end, so a caller overrides only what it needs.

The sequence, and where each hook runs::

    start the block copy jobs
    until the mirror converged:  should_abort, progress, force_complete
    in sync:                     before_cutover, enter_cutover
    stop the source guest:       progress
    the exports released:        source_stopped, before_clone
    start the clone              (the cutover's ``start_clone``: its
                                 return is the point of no return; Nova's
                                 driver returns once the clone's guest
                                 showed activity)
    destroy the stopped source

A hook that raises fails the cutover like any other error: the source
guest is rolled back to running (no job left) and the error re-raised
(a :class:`~nova_v2v.transfer.exception.TransferError` as it is, any
other wrapped in :class:`~nova_v2v.transfer.exception.CutoverFailed`).
Hooks run in the cutover's thread; a hook that blocks holds it (and,
once the guest is stopped, the guest's downtime).
"""


class CutoverHooks(object):
    """The hooks of one cutover; subclass and override what you need.

    The base class is a valid hooks object: no progress is reported,
    nothing aborts or forces the cutover, nothing is injected.
    """

    def should_abort(self):
        """Whether the cutover is to be cancelled now.

        Polled while the mirror converges, before each check of the jobs
        (about every ``CutoverOptions.poll`` seconds), never once the
        mirror is in sync: :meth:`enter_cutover` decides from there.

        :returns: True to cancel: the jobs are aborted and
            :class:`~nova_v2v.transfer.exception.CutoverCancelled` is
            raised with the source guest running
        """
        return False

    def progress(self, progress):
        """The mirror's progress.

        Called while the mirror converges, at most every
        ``CutoverOptions.progress_interval`` seconds and once more when
        it is ready, then once after the source guest stopped.

        :param progress: ``{'copied': bytes, 'total': bytes,
            'remaining': bytes}`` over every disk
        """

    def force_complete(self):
        """Whether to force the mirror to converge now.

        Polled with :meth:`should_abort` while the mirror converges,
        until it returns True once.

        :returns: True to pause the guest (as Nova pauses a guest to
            force a live migration to complete): its disks stop changing,
            the mirror converges, the cutover follows at once and stops
            the guest by suspending it whatever the options' ``mode``
        """
        return False

    def before_cutover(self, sync):
        """The mirror is in sync; the guest is about to be stopped.

        Called once, before :meth:`enter_cutover`.  For checks and fault
        injection; the guest still runs and the jobs are re-checked after
        it returns.

        :param sync: the :class:`~nova_v2v.transfer.mirror.DiskSync` of
            the guest (its ``watcher`` holds the block job events)
        """

    def enter_cutover(self):
        """The guest stops now, past the point where an abort can win.

        Called once, right after :meth:`before_cutover`; the caller marks
        the cutover as started (an abort that comes later is refused).

        :returns: False to cancel instead (an abort came first): the jobs
            are aborted and
            :class:`~nova_v2v.transfer.exception.CutoverCancelled` is
            raised with the source guest running
        """
        return True

    def source_stopped(self, how):
        """The source guest is stopped with its disks in sync.

        Called once, after the mirror ended and the exports released
        their images (or their release was not confirmed), before
        :meth:`before_clone`.  From here the source's disks no longer
        change; the guest runs again from them if the clone fails.  Nova's
        driver records the phase durably here, and raises (rolling the
        source back) when it cannot.

        :param how: how the guest stopped: ``'suspended'`` (paused),
            ``'shutdown'`` (powered off over ACPI) or ``'forced'`` (the
            ACPI power off timed out: paused)
        """

    def before_clone(self):
        """The source guest is stopped and the exports were released.

        Called once, right before the clone is started on the
        destination (fault injection: the downtime runs).
        """
