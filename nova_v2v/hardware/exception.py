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

"""The errors of a translation (:mod:`nova_v2v.hardware.translate`).

Each names what was refused, so that a caller can tell a hostile
definition from a guest no table can bring to KVM and from devices the
policy refuses.
"""


class TranslationError(ValueError):
    """The domain cannot be translated as asked."""


class UnknownChange(TranslationError):
    """A hardware change of a kind this module does not know."""


class HostileInput(TranslationError):
    """The definition is refused as hostile: DTD, entities, paths, sizes."""


class PathEscape(HostileInput):
    """A disk path would leave the destination's instances directory."""


class LimitExceeded(HostileInput):
    """A size or count beyond what any real guest has."""


class UnsupportedGuest(TranslationError):
    """A guest no table can bring to KVM (Xen PV, another architecture)."""


class UnmappableDevices(TranslationError):
    """The guest has devices that cannot be mapped, and policy refuses."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report
