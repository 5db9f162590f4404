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

"""What the V2V driver's parts share: the modes it runs, its refusals."""

import contextlib

from nova import exception

from nova_v2v import exception as v2v_exception
from nova_v2v.planning import planner
from nova_v2v.virt.libvirt import nova_internals

# The modes this driver runs today. The planner may choose others; they are
# then refused at the pre-check with a typed error, before anything moves.
EXECUTABLE_MODES = (planner.SHARED_LIVE, planner.BLOCK_LIVE,
                    planner.V2V_CUTOVER)


def refusal_to_exception(refused, host):
    """Map a :class:`planner.PlanRefused` onto the Nova exception to raise.

    Nova's own storage refusals keep their Nova types, so that an explicit
    ``block_migration`` fails exactly as it does without nova-v2v.
    """
    if refused.code == planner.INVALID_LOCAL_STORAGE:
        return exception.InvalidLocalStorage(reason=refused.reason,
                                             path=host)
    if refused.code == planner.INVALID_SHARED_STORAGE:
        return exception.InvalidSharedStorage(reason=refused.reason,
                                              path=host)
    if refused.code == planner.VOLUMES_ATTACHED:
        return v2v_exception.V2VCutoverVolumesAttached(reason=refused.reason)
    return v2v_exception.V2VMigrationRefused(reason=refused.reason)


@contextlib.contextmanager
def nova_exceptions_over_rpc():
    """Raise a V2V error as the Nova exception class it derives from.

    For the driver methods that Nova calls over RPC and whose caller acts
    on the exception's type (the destination's live migration pre-check,
    called by the conductor): a :class:`V2VMigrationRefused` would reach
    the conductor as a ``RemoteError`` (its module is not one Nova lets
    oslo.messaging rebuild), and the conductor would put the instance in
    ERROR; as a ``MigrationPreCheckError`` with the same message, the
    instance stays ACTIVE and the API gives the reason, as for Nova's own
    refusals.
    """
    try:
        yield
    except exception.NovaException as exc:
        allowed = nova_internals.RPC_EXCEPTION_MODULES
        if type(exc).__module__ in allowed:
            raise
        for base in type(exc).__mro__[1:]:
            if base.__module__ in allowed:
                raise base(message=exc.format_message()) from exc
        raise
