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

"""How a live migration is tuned: pure policy, no libvirt, no Nova.

Nova 34 sets the guest's maximum downtime in ``steps + 1`` values from
``downtime / steps`` up to ``downtime`` (50, 95, ... 500 ms by default)
and moves one step every ``delay`` seconds per GiB of RAM and disk
(``[libvirt] live_migration_downtime_delay``, 75 s/GiB, each device
counted as 2 GiB at least): a 256 MiB guest with a 1 GiB disk waits
300 s at 50 ms before its first step, whatever the link carries. A guest
that cannot converge at 50 ms is stuck there for minutes, and a small
guest on a slow link and a big guest on a fast one are paced alike.

:class:`FittedDowntime` keeps Nova's ladder of values and fits its pace
to the link: the time between two steps is the time the measured memory
bandwidth needs to send the guest's memory ``passes`` times, and a step
is only taken while the job does not fit in the current limit (what is
left to send, at that bandwidth, takes longer than the limit), from the
second memory pass on (the first one sends memory never sent before, not
what the guest dirties). A guest that converges is never given more
downtime than Nova's first step.

:func:`live_flags` adds the flags of the tuning to Nova's
``migrateToURI3`` flags: auto-converge (QEMU throttles a guest that
dirties memory faster than the link sends it; never together with
post-copy, whose risk is not taken here: a post-copy guest dies with
the link) and synchronous disk writes for block migrations (QEMU's
mirror copies each guest write before completing it, so the disk copy
converges whatever the guest's write rate, at the cost of write latency
while the disks are copied).

Zero and unallocated blocks need no flag: QEMU's mirror already queries
the block status of the source and sends zero ranges as NBD write-zeroes
requests, and zero memory pages as a flag byte; the benchmarks count the
bytes on the link to show it.
"""

import collections

# libvirt's virDomainMigrateFlags values (libvirt-domain.h); this module
# must not import libvirt.
VIR_MIGRATE_NON_SHARED_DISK = 1 << 6
VIR_MIGRATE_NON_SHARED_INC = 1 << 7
VIR_MIGRATE_AUTO_CONVERGE = 1 << 13
VIR_MIGRATE_POSTCOPY = 1 << 15
VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES = 1 << 18

# The first libvirt with VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES.
SYNCHRONOUS_WRITES_LIBVIRT = 8000000

NOVA_DOWNTIME_MS = 500
NOVA_DOWNTIME_STEPS = 10

Step = collections.namedtuple('Step', ['elapsed', 'downtime_ms', 'reason'])


def downtime_ladder(downtime_ms=NOVA_DOWNTIME_MS,
                    steps=NOVA_DOWNTIME_STEPS):
    """Nova's downtime values: ``steps + 1`` of them, linear, in ms."""
    if steps < 1 or downtime_ms <= 0:
        raise ValueError('steps must be >= 1 and downtime_ms > 0')
    base = downtime_ms / steps
    offset = (downtime_ms - base) / steps
    return [int(base + offset * i) for i in range(steps + 1)]


class FittedDowntime(object):
    """Nova's downtime ladder, paced by the measured memory bandwidth.

    Feed it the migration job's samples with :meth:`update` (a mapping
    with libvirt's job stats keys ``memory_total``, ``memory_remaining``,
    ``memory_processed``, ``memory_bps``, ``memory_iteration``); it
    returns the maximum downtime to set now in ms, or None to leave it.
    The first sample always sets the first value.

    :param downtime_ms: the top of the ladder (Nova's
        ``[libvirt] live_migration_downtime``)
    :param steps: Nova's ``[libvirt] live_migration_downtime_steps``
    :param passes: memory passes, at the measured bandwidth, between two
        steps
    :param min_interval: seconds between two steps at least, whatever
        the bandwidth (a tiny guest on a fast link)
    """

    def __init__(self, downtime_ms=NOVA_DOWNTIME_MS,
                 steps=NOVA_DOWNTIME_STEPS, passes=2, min_interval=1.0):
        if passes <= 0 or min_interval < 0:
            raise ValueError('passes must be > 0 and min_interval >= 0')
        self.values = downtime_ladder(downtime_ms, steps)
        self.passes = passes
        self.min_interval = min_interval
        self.index = None
        self.history = []
        self._last_step_at = None
        self._last = None

    @property
    def current(self):
        return None if self.index is None else self.values[self.index]

    def bandwidth(self, sample, elapsed):
        """Memory bytes/s: libvirt's rate, else from the last sample."""
        bps = int(sample.get('memory_bps') or 0)
        if bps > 0:
            return bps
        processed = int(sample.get('memory_processed') or 0)
        if self._last is not None:
            t0, p0 = self._last
            if elapsed > t0 and processed > p0:
                return (processed - p0) / (elapsed - t0)
        return 0

    def interval(self, sample, bps):
        """Seconds between two steps for this guest at ``bps``."""
        total = int(sample.get('memory_total') or 0)
        if bps <= 0 or total <= 0:
            return None
        return max(self.min_interval, self.passes * total / bps)

    def _step(self, elapsed, reason):
        self.index = 0 if self.index is None else self.index + 1
        self._last_step_at = elapsed
        self.history.append(Step(round(elapsed, 2), self.current, reason))
        return self.current

    def update(self, sample, elapsed):
        """The downtime to set after ``sample`` at ``elapsed``, or None."""
        try:
            if self.index is None:
                return self._step(elapsed, 'start')
            if self.index >= len(self.values) - 1:
                return None
            if int(sample.get('memory_iteration') or 0) < 2:
                # The disks are being copied, or memory is in its first
                # pass, whose "remaining" is memory never sent (mostly
                # zero pages, cheap), not what the guest dirties again:
                # the pace counts from the second pass.
                self._last_step_at = elapsed
                return None
            bps = self.bandwidth(sample, elapsed)
            interval = self.interval(sample, bps)
            if interval is None:
                return None
            remaining = int(sample.get('memory_remaining') or 0)
            fits_ms = remaining * 1000.0 / bps
            if fits_ms <= self.current:
                return None
            if elapsed - self._last_step_at < interval:
                return None
            return self._step(
                elapsed, '%d MiB left at %d MiB/s need %d ms'
                % (remaining >> 20, bps / (1 << 20), fits_ms))
        finally:
            self._last = (elapsed, int(sample.get('memory_processed') or 0))


def live_flags(flags, libvirt_version, auto_converge=True,
               synchronous_writes=True):
    """Nova's live migration ``flags`` with the tuning's flags added.

    Returns ``(flags, added)``, ``added`` naming each flag added.
    """
    added = []
    if (auto_converge and not flags & VIR_MIGRATE_POSTCOPY and
            not flags & VIR_MIGRATE_AUTO_CONVERGE):
        flags |= VIR_MIGRATE_AUTO_CONVERGE
        added.append('auto-converge')
    block = flags & (VIR_MIGRATE_NON_SHARED_DISK | VIR_MIGRATE_NON_SHARED_INC)
    if (synchronous_writes and block and
            libvirt_version >= SYNCHRONOUS_WRITES_LIBVIRT and
            not flags & VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES):
        flags |= VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES
        added.append('synchronous-writes')
    return flags, added


# The server metadata key through which a drain (``nova-v2v drain
# --bandwidth``) gives each move its share of the drain's bandwidth, in
# MiB/s: Nova's own ``[libvirt] live_migration_bandwidth`` is one value
# per compute, and its live migration API takes none.
BANDWIDTH_KEY = 'nova-v2v:bandwidth_mib'


def requested_bandwidth(metadata, nova_mib, floor_mib):
    """The bandwidth (MiB/s, 0: no limit) a server's migration runs at.

    The server's :data:`BANDWIDTH_KEY` can only lower Nova's ``[libvirt]
    live_migration_bandwidth`` (0 there: no limit), and never below
    ``floor_mib``: the server's owner can set its metadata too.

    :param metadata: the server's metadata (a dict), or None
    :param nova_mib: Nova's ``[libvirt] live_migration_bandwidth``
    :param floor_mib: ``[v2v] min_migration_bandwidth``
    :returns: ``(MiB/s, why)``; ``why`` is None when Nova's value stands
    """
    raw = (metadata or {}).get(BANDWIDTH_KEY)
    if raw is None:
        return nova_mib, None
    try:
        asked = int(str(raw).strip())
    except ValueError:
        return nova_mib, ('%s=%r is not a whole number of MiB/s: ignored'
                          % (BANDWIDTH_KEY, raw))
    if asked <= 0:
        return nova_mib, ('%s=%r is not positive: ignored'
                          % (BANDWIDTH_KEY, raw))
    value = max(asked, floor_mib)
    if nova_mib and value >= nova_mib:
        return nova_mib, ('%s=%d MiB/s: [libvirt] live_migration_bandwidth '
                          '(%d MiB/s) is lower' % (BANDWIDTH_KEY, asked,
                                                   nova_mib))
    if value != asked:
        return value, ('%s=%d MiB/s raised to [v2v] '
                       'min_migration_bandwidth (%d MiB/s)'
                       % (BANDWIDTH_KEY, asked, floor_mib))
    return value, '%s=%d MiB/s' % (BANDWIDTH_KEY, asked)
