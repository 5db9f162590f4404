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

"""Typed errors of nova-v2v.

Errors that cross into Nova subclass Nova's own, so that Nova's conductor
and API treat them as they treat Nova's (a pre-check failure makes the
conductor try the next host, and is recorded on the migration).
"""

from nova import exception


class V2VMigrationRefused(exception.MigrationPreCheckError):
    msg_fmt = 'V2V migration refused: %(reason)s'


class V2VCutoverVolumesAttached(V2VMigrationRefused):
    """The move needs a V2V cutover and the guest has volumes attached.

    The cutover's clone would run on the volumes before the point of no
    return, while the paused source can still be resumed over them.
    """


class V2VModeNotAvailable(exception.MigrationPreCheckError):
    msg_fmt = ('V2V migration plan %(mode)s cannot run on this compute '
               'service: %(reason)s')


class V2VCutoverFailed(exception.MigrationError):
    msg_fmt = 'V2V cutover failed: %(reason)s'


class V2VCutoverCancelled(V2VCutoverFailed):
    msg_fmt = 'V2V cutover cancelled: %(reason)s'


class V2VCloneStateUnknown(V2VCutoverFailed):
    """The cutover stopped with the clone's state unknown.

    Raised out of the driver's ``live_migration``: Nova's compute manager
    then sets the migration to ``error`` and the instance to ERROR (its
    handling of a live migration that is too late to roll back), and
    calls neither its post-migration nor its rollback flow.  Nothing was
    destroyed on either host.
    """

    msg_fmt = ("V2V cutover stopped: the state of the clone %(clone)s on "
               "%(dest)s is unknown (%(reason)s). Nothing was destroyed: "
               "the source guest is stopped on %(source)s with its disks. "
               "Check on %(dest)s whether the domain %(clone)s runs "
               "(virsh domstate %(clone)s). If it runs, the guest lives "
               "there: keep it and make Nova's records follow it. If it "
               "does not, undefine it there and restart the source guest "
               "on %(source)s. README.rst, \"When a cutover's clone state "
               "is unknown\", gives the steps.")


class V2VOfflineMigrationFailed(exception.MigrationError):
    msg_fmt = 'Offline V2V migration failed: %(reason)s'
