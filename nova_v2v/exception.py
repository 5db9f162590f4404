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


class V2VModeNotAvailable(exception.MigrationPreCheckError):
    msg_fmt = ('V2V migration plan %(mode)s cannot run on this compute '
               'service: %(reason)s')


class V2VCutoverFailed(exception.MigrationError):
    msg_fmt = 'V2V cutover failed: %(reason)s'


class V2VCutoverCancelled(V2VCutoverFailed):
    msg_fmt = 'V2V cutover cancelled: %(reason)s'


class V2VOfflineMigrationFailed(exception.MigrationError):
    msg_fmt = 'Offline V2V migration failed: %(reason)s'
