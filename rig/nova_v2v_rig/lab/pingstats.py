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

"""What a record of :mod:`nova_v2v_rig.lab.pingprobe` shows of a window.

The window is a move's: from its start to the moment it finished, on the
prober's clock (``time.monotonic()``, one clock for the machine; a
``time.time()`` reading converts with :func:`probe_time`).
"""

# Replies to requests sent in the last INFLIGHT_S seconds of a record may
# not have come back when the prober stopped: not counted as lost.
INFLIGHT_S = 1.0
# The guest answers after a move: at least ANSWERS_MIN replies received
# after the move's end.
ANSWERS_MIN = 10


def probe_time(record, wall):
    """``wall`` (a ``time.time()`` reading) on the record's clock."""
    anchor = record['anchor']
    return anchor['monotonic'] + (wall - anchor['wall'])


def reply_times(record):
    return sorted(t for _n, t in record['replies'])


def analyse(record, start, end, inflight=INFLIGHT_S):
    """What the record shows of the window ``[start, end]`` (probe clock).

    The downtime is the longest interval without a reply that overlaps the
    window, measured between the **receive** times of answered requests:
    from the last reply at or before ``start`` (or ``start`` itself if
    none came before) over the replies inside the window to the first
    reply after ``end`` (or the record's end if none came: the guest had
    not answered again when the prober stopped, ``downtime_open``). An
    outage that began just before the move started or ended after the
    move finished is counted whole; if no request was answered within the
    window, the downtime spans the whole window, and the notes say so.

    Receive times, not send times: a request sent during the outage may be
    held (in a paused guest's virtio queue, a tap device's queue, an
    unresolved neighbour's queue) and answered when the path is back; by
    its send time the outage would look shorter than it was for the
    prober, which heard nothing until that reply came. This is the
    interval between answered probes as the prober sees it, what
    ``ping -D`` measurements of Nova and OVN live migration downtime
    report.

    ``packets_lost``: requests sent inside the window never answered,
    except those sent within ``inflight`` seconds of the record's end
    (``inflight_ignored``), whose replies may still have been on their
    way; ``packets_lost_after``: the same for requests sent after ``end``.

    :returns: a dict: ``network_downtime_ms`` (int), ``downtime_from``,
        ``downtime_to`` (probe clock), ``downtime_open``, ``probes_sent``,
        ``probes_answered``, ``packets_lost``, ``packets_lost_after``,
        ``inflight_ignored``, ``answered_in_window``, ``notes`` (a list)
    """
    if end < start:
        raise ValueError('the window ends (%s) before it starts (%s)'
                         % (end, start))
    notes = []
    times = reply_times(record)
    ended = record['ended']
    before = [t for t in times if t <= start]
    inside = [t for t in times if start < t <= end]
    after = [t for t in times if t > end]
    if before:
        left = before[-1]
    else:
        left = start
        notes.append('no reply at or before the window start')
    if record['started'] > start:
        notes.append('the prober started %.3f s after the window start'
                     % (record['started'] - start))
    if after:
        right, open_ = after[0], False
    else:
        right, open_ = max(ended, end), True
        notes.append('no reply after the window end: the gap runs to the '
                     'end of the record')
    if ended < end:
        notes.append('the prober stopped %.3f s before the window end'
                     % (end - ended))
    if not inside:
        notes.append('no request was answered within the window: the '
                     'downtime spans the whole window')
    points = [left] + inside + [right]
    gap, gap_from, gap_to = 0.0, left, left
    for a, b in zip(points, points[1:]):
        if b - a > gap:
            gap, gap_from, gap_to = b - a, a, b
    answered = {n for n, _t in record['replies']}
    cutoff = ended - inflight
    sent = lost = lost_after = ignored = answered_in = 0
    for n, t in enumerate(record['sent']):
        if t < start:
            continue
        if t <= end:
            sent += 1
            if n in answered:
                answered_in += 1
                continue
        elif n in answered:
            continue
        if t > cutoff:
            ignored += 1
        elif t <= end:
            lost += 1
        else:
            lost_after += 1
    return {
        'network_downtime_ms': int(round(gap * 1000.0)),
        'downtime_from': gap_from, 'downtime_to': gap_to,
        'downtime_open': open_ and gap_to == right,
        'probes_sent': sent, 'probes_answered': answered_in,
        'packets_lost': lost, 'packets_lost_after': lost_after,
        'inflight_ignored': ignored, 'answered_in_window': len(inside),
        'notes': notes,
    }


def answers_after(record, end):
    """Replies received after ``end`` (the guest answers once it moved)."""
    return sum(1 for t in reply_times(record) if t > end)
