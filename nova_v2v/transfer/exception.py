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

"""Typed errors of the V2V transfer engines (no Nova import here)."""


class TransferError(Exception):
    """Base class of the transfer engines' errors."""


class ExportError(TransferError):
    """The destination's NBD export could not be started or released."""


class PortInUse(ExportError):
    """The export's TCP port is taken (the next one may be free)."""


class QMPError(ExportError):
    """A QMP command failed or the monitor went away."""


class SyncFailed(TransferError):
    """A disk synchronisation (block copy) job failed or vanished."""


class NoAnswer(TransferError):
    """Another host's libvirt did not answer a call in time."""


class CutoverRefused(TransferError):
    """The cutover was not started: the mirror is not intact.

    The source guest is untouched (still running) when this is raised.
    """


class CutoverCancelled(TransferError):
    """The cutover was cancelled by request before the guest stopped.

    Raised after the rollback: the source guest runs, no job is left.
    """


class CutoverFailed(TransferError):
    """The cutover or the start of the clone failed (rolled back)."""


class CloneNotRunning(CutoverFailed):
    """The translated clone did not start or did not come up."""


class CloneNotProven(CloneNotRunning):
    """The clone's domain ran but its guest showed no activity in time.

    (Or the clone stopped before it did.)

    Raised by :func:`nova_v2v.transfer.clone.wait_for_activity`; the
    clone is removed again and the source guest resumes. ``watch`` is the
    :class:`nova_v2v.transfer.clone.ActivityWatch` of its samples, or
    None.
    """

    def __init__(self, message, watch=None):
        super().__init__(message)
        self.watch = watch


class CloneStateUnknown(CutoverFailed):
    """The clone's start failed and its removal could not be confirmed.

    The destination became unreachable after the clone was sent, or the
    clone did not stop when destroyed: it may run.  The source guest is
    left stopped (never two copies running); ``clone`` names it for the
    operator.
    """

    def __init__(self, message, clone=None):
        super().__init__(message)
        self.clone = clone


class OfflineMigrationFailed(TransferError):
    """An offline (cold) migration failed and was rolled back."""
