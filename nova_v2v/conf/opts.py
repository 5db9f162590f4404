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

"""Option discovery for oslo-config-generator (``oslo.config.opts``)."""

import copy

from nova_v2v.conf import scheduler
from nova_v2v.conf import v2v

_MODULES = (v2v, scheduler)


def list_opts():
    """Return a list of ``(group, [options])`` for the sample config."""
    grouped = {}
    for module in _MODULES:
        for group, opts in module.list_opts().items():
            grouped.setdefault(group, []).extend(copy.deepcopy(opts))
    return list(grouped.items())
