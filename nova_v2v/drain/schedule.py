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

"""Which moves a drain starts now, and at what bandwidth. Pure.

The limits are the drain's (:class:`Limits`): how many moves are in flight
at once, how many go to one destination at once, and the bandwidth of
the whole drain. A move's share of that bandwidth is fixed when it
starts (Nova refuses to change a server's metadata while it moves):
:func:`bandwidth_share` divides it so that the moves in flight never sum
to more than it.
"""

import collections
import dataclasses


class LimitsError(ValueError):
    """Limits that cannot be applied."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """The drain's limits.

    :param parallel: moves in flight at once
    :param per_destination: moves in flight to one host at once
    :param bandwidth_mib: MiB/s for the whole drain, 0 for no limit
    """

    parallel: int = 1
    per_destination: int = 1
    bandwidth_mib: int = 0

    def __post_init__(self):
        if self.parallel < 1 or self.per_destination < 1:
            raise LimitsError('--parallel and --per-destination must be '
                              '1 or more')
        if self.bandwidth_mib < 0:
            raise LimitsError('--bandwidth must be 0 (no limit) or more')


def pick(pending, in_flight, limits, assigned=None):
    """The moves to start now: ``[(step, destination)]``.

    The pending steps are taken in their order; one whose destinations
    are all at ``per_destination`` waits, and a later one may start
    before it. A destination with fewer moves in flight is preferred,
    then one given fewer servers by this drain so far.

    :param pending: :class:`nova_v2v.drain.plan.Step` list, in order
    :param in_flight: ``{server id: destination}`` of the moves running
    :param assigned: ``{destination: servers given so far}``
    """
    assigned = collections.Counter(assigned or {})
    busy = collections.Counter(in_flight.values())
    free = limits.parallel - len(in_flight)
    chosen = []
    for step in pending:
        if free <= 0:
            break
        if step.id in in_flight:
            continue
        open_hosts = [h for h in step.destinations
                      if busy[h] < limits.per_destination]
        if not open_hosts:
            continue
        host = min(open_hosts, key=lambda h: (busy[h], assigned[h], h))
        chosen.append((step, host))
        busy[host] += 1
        assigned[host] += 1
        free -= 1
    return chosen


def bandwidth_share(limits, unfinished):
    """MiB/s of a move starting now (0: no limit).

    The drain's bandwidth divided by the moves that can still run at
    once: ``min(parallel, unfinished)``, where ``unfinished`` counts the
    moves in flight (this one among them) and those still to start. That
    number only falls: a move started earlier got at most what one
    starting now gets, and no more than that number are in flight, so the
    moves in flight never sum to more than the drain's bandwidth. A move
    keeps its share to its end: the last ones may use less than the whole.
    """
    if not limits.bandwidth_mib:
        return 0
    slots = max(1, min(limits.parallel, unfinished))
    return max(1, limits.bandwidth_mib // slots)
