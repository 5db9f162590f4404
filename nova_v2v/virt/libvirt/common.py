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

"""What the V2V driver's parts share: metadata keys, modes, refusals."""

from nova import exception

from nova_v2v import exception as v2v_exception
from nova_v2v.planning import planner

# instance.system_metadata keys.
SYSMETA_PLAN = 'v2v_plan'
SYSMETA_DEST_PROFILE = 'v2v_dest_profile'
SYSMETA_NBD = 'v2v_nbd'
SYSMETA_OFFLINE_PLAN = 'v2v_offline_plan'

# The modes this driver runs today. The planner may choose others; they are
# then refused at the pre-check with a typed error, before anything moves.
EXECUTABLE_MODES = (planner.SHARED_LIVE, planner.BLOCK_LIVE,
                    planner.V2V_CUTOVER)
# Where the destination keeps the pid files of its NBD exports, in the
# instance's directory: its rollback finds them there whatever the
# instance's system_metadata says.
NBD_PID_GLOB = 'v2v-nbd-*.pid'
# Seconds between two polls of the block copy jobs.
SYNC_POLL = 0.2
# Nova's instance_system_metadata.value is a VARCHAR(255): MySQL refuses a
# longer value ("Data too long for column 'value'"). A plan's JSON is
# longer, so values are stored in pieces: KEY holds '#N', KEY#0..KEY#N-1
# the text.
SYSMETA_VALUE_MAX = 255
SYSMETA_CHUNK = 240


def sysmeta_put(sysmeta, key, text):
    """Store ``text`` under ``key`` in pieces that fit; None removes it."""
    for name in [k for k in sysmeta if k == key or
                 k.startswith(key + '#')]:
        del sysmeta[name]
    if text is None:
        return
    chunks = [text[i:i + SYSMETA_CHUNK]
              for i in range(0, len(text), SYSMETA_CHUNK)] or ['']
    sysmeta[key] = '#%d' % len(chunks)
    for index, chunk in enumerate(chunks):
        sysmeta['%s#%d' % (key, index)] = chunk


def sysmeta_get(sysmeta, key):
    """The text :func:`sysmeta_put` stored under ``key``, or None."""
    head = sysmeta.get(key)
    if head is None:
        return None
    if not head.startswith('#') or not head[1:].isdigit():
        return head
    return ''.join(sysmeta.get('%s#%d' % (key, index), '')
                   for index in range(int(head[1:])))


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
    return v2v_exception.V2VMigrationRefused(reason=refused.reason)
