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

"""What a drain does with each server of the host, and in which order.

Pure: each server is planned by :func:`nova_v2v.preflight.evaluate`, the
planner that ``nova-v2v check`` and the scheduler filter use. A running
(or paused) server moves live to the hosts of its least disruptive mode
(a live mode before the V2V cutover, which restarts the guest once, and
that only with ``allow_cutover``); a stopped server moves cold; anything
else stays, with the reason.
"""

import dataclasses
import typing as ty

from nova_v2v.planning import planner
from nova_v2v import preflight

LIVE = 'live'
CUTOVER = 'cutover'
COLD = 'cold'
SKIP = 'skip'

# Nova's server statuses each action starts from.
LIVE_STATUSES = ('ACTIVE', 'PAUSED')
COLD_STATUSES = ('SHUTOFF',)

# The least disruptive first: a live mode keeps the guest running.
MODE_RANK = {planner.SHARED_LIVE: 0, planner.BLOCK_LIVE: 1,
             planner.OFFLINE: 1, planner.V2V_CUTOVER: 2}
ORDERS = ('cheapest', 'largest', 'name')
MIB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class DrainServer:
    """A server on the host to drain, as the compute API tells it."""

    server: preflight.Server
    status: str
    task_state: ty.Optional[str] = None
    ram_mib: int = 0


@dataclasses.dataclass(frozen=True)
class Step:
    """What the drain does with one server.

    :param destinations: the hosts the planner gives its ``mode``, each as
        good as the others
    :param cost: the bytes the move is expected to send: its memory for a
        live move, and the virtual size of the disks it copies (an upper
        bound: a disk's unallocated blocks cost next to nothing)
    :param reason: why this action (the planner's reasons), or why the
        server stays
    """

    id: str
    name: str
    action: str
    mode: ty.Optional[str] = None
    destinations: ty.Tuple[str, ...] = ()
    cost: int = 0
    reason: str = ''

    def to_dict(self):
        return dataclasses.asdict(self)


def _cost(item, verdict):
    disks = sum(int(d.get('virtual_size') or 0) for d in verdict.disks)
    memory = item.ram_mib * MIB if verdict.mode != planner.OFFLINE else 0
    return memory + disks


def _refusals(verdicts):
    return '; '.join('%s: %s' % (v.host, '; '.join(v.reasons))
                     for v in verdicts) or 'no other compute host'


def plan_server(item, computes, options=None, allow_cutover=False,
                targets=(), hypervisor_version_check=True):
    """The :class:`Step` of one :class:`DrainServer`.

    :param computes: every compute (:class:`preflight.Compute`), the
        source among them
    :param targets: only these hosts may take it (empty: any)
    """
    server = item.server
    skip = dict(id=server.id, name=server.name, action=SKIP)
    if item.task_state:
        return Step(reason='busy (task_state %s): Nova refuses to move it'
                    % item.task_state, **skip)
    if item.status in LIVE_STATUSES:
        offline = False
    elif item.status in COLD_STATUSES:
        offline = True
    else:
        return Step(reason='status %s: Nova moves ACTIVE and PAUSED servers '
                    'live and SHUTOFF ones cold' % item.status, **skip)
    verdicts = [v for v in preflight.evaluate(
        server, computes, options, offline=offline,
        hypervisor_version_check=hypervisor_version_check)
        if v.host != server.host and (not targets or v.host in targets)]
    fits = [v for v in verdicts if v.fits]
    if not fits:
        return Step(reason='no host can take it: ' + _refusals(verdicts),
                    **skip)
    best = min(MODE_RANK.get(v.mode, 9) for v in fits)
    chosen = [v for v in fits if MODE_RANK.get(v.mode, 9) == best]
    mode = chosen[0].mode
    if mode == planner.V2V_CUTOVER and not allow_cutover:
        return Step(mode=mode, reason='only a V2V cutover can move it (the '
                    'guest restarts once: %s); give --allow-cutover'
                    % '; '.join(chosen[0].reasons), **skip)
    action = (COLD if offline else
              CUTOVER if mode == planner.V2V_CUTOVER else LIVE)
    return Step(id=server.id, name=server.name, action=action, mode=mode,
                destinations=tuple(sorted(v.host for v in chosen)),
                cost=max(_cost(item, v) for v in chosen),
                reason='; '.join(chosen[0].reasons))


def order_key(order):
    """The sort key of :data:`ORDERS`' ``order`` for :class:`Step`."""
    if order == 'name':
        return lambda s: (s.name, s.id)
    if order == 'largest':
        return lambda s: (-s.cost, s.name, s.id)
    if order == 'cheapest':
        return lambda s: (MODE_RANK.get(s.mode, 9), s.cost, s.name, s.id)
    raise ValueError('unknown order %r (one of %s)'
                     % (order, ', '.join(ORDERS)))


def plan_drain(items, computes, options=None, allow_cutover=False,
               targets=(), hypervisor_version_check=True, order='cheapest'):
    """Every server's :class:`Step`: the moves in order, then the skipped.

    ``cheapest``: the least disruptive mode first (live, then cold, then
    the V2V cutover), the fewest bytes first within a mode; ``largest``:
    the most bytes first; ``name``: by name.
    """
    key = order_key(order)
    steps = [plan_server(i, computes, options, allow_cutover, targets,
                         hypervisor_version_check) for i in items]
    moves = sorted((s for s in steps if s.action != SKIP), key=key)
    skipped = sorted((s for s in steps if s.action == SKIP),
                     key=lambda s: (s.name, s.id))
    return moves + skipped
