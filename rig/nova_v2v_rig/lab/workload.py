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

"""Pure verifier for the lab workload (see guest.WORKLOAD_INIT).

Input: the data disk as raw bytes (any bytes-like object, e.g. an mmap of
``qemu-img convert -U -O raw`` output) and the serial logs in the order
the guest ran (source host first).  No I/O happens here.
"""

import hashlib
import re

SECTOR = 512
_RECORD = re.compile(rb'^SEQ (\d{10}) T (\d+\.\d+) ([0-9a-f]{32})\n')
_HEADER = re.compile(rb'^LABHDR (\d{10})\n')
# "W <n> <guest time>", possibly behind a printk time stamp "[  1.23] ".
_ACK = re.compile(r'^(?:\[\s*\d+\.\d+\] )?W (\d+) (\d+\.\d+)\s*$')


def parse_acks(log_text):
    """[(n, guest_time)] for every acknowledged write in a serial log."""
    acks = []
    for line in log_text.splitlines():
        m = _ACK.match(line.strip('\r\x00'))
        if m:
            acks.append((int(m.group(1)), float(m.group(2))))
    return acks


def read_record(disk, n):
    """(ok, guest_time) for record n; ok is False if missing or corrupt."""
    block = bytes(disk[n * SECTOR:(n + 1) * SECTOR])
    m = _RECORD.match(block)
    if not m or int(m.group(1)) != n:
        return False, None
    body = b'SEQ %s T %s' % (m.group(1), m.group(2))
    if hashlib.md5(body).hexdigest().encode() != m.group(3):
        return False, None
    if block[m.end():].strip(b'\x00'):
        return False, None
    return True, float(m.group(2))


def read_header(disk):
    m = _HEADER.match(bytes(disk[:SECTOR]))
    return int(m.group(1)) if m else None


def _joined(logs):
    """The logs, each one's unfinished last line moved to the next one."""
    carry = ''
    last = len(logs) - 1
    for i, text in enumerate(logs):
        text = carry + text
        carry = ''
        if i < last and text and not text.endswith('\n'):
            cut = text.rfind('\n') + 1
            text, carry = text[:cut], text[cut:]
        yield text


def verify(disk, logs):
    """Check disk contents against the acknowledged writes in logs.

    Returns a dict: records_written (highest acknowledged record),
    records_verified (records 1..k all present and intact), records_lost
    (acknowledged but missing or corrupt on disk), header, serial_gaps,
    serial_unacked, serial_repeats, guest_max_gap_ms and per-log ranges.

    serial_unacked: the records that one log's guest wrote but never
    acknowledged before the next log's guest went on past them: a step of
    exactly one record from one log to the next, that record intact on
    disk.  The guest prints "W n" only after record n and the header are
    on disk, so a guest stopped between the two (a V2V cutover suspends
    the source at any instruction) leaves record n durable and
    unacknowledged, and a clone booted from that disk resumes at n + 1.
    That is no loss; whether it is expected depends on the move (a live
    migration carries the guest on, so it would print "W n" on the
    destination): the caller decides.  Every other step is a serial gap.

    The logs are one serial stream cut where the guest moved: a line the
    guest was printing when a live migration stopped it ends on the
    destination, so a log's unfinished last line is read with the next
    log's first one (and counted in the next log's range).
    """
    acks = []
    ranges = []
    starts = set()
    for text in _joined(logs):
        log_acks = parse_acks(text)
        ranges.append([log_acks[0][0], log_acks[-1][0]] if log_acks
                      else None)
        if log_acks and acks:
            starts.add(len(acks))
        acks.extend(log_acks)
    seen = set()
    repeats = []
    gaps = []
    unacked = []
    max_gap = None
    prev = None
    for i, (n, t) in enumerate(acks):
        if n in seen:
            repeats.append(n)
        seen.add(n)
        if prev is not None:
            if (i in starts and n == prev[0] + 2 and
                    read_record(disk, prev[0] + 1)[0]):
                unacked.append(prev[0] + 1)
            elif n != prev[0] + 1:
                gaps.append([prev[0], n])
            gap = (t - prev[1]) * 1000.0
            if max_gap is None or gap > max_gap:
                max_gap = gap
        elif n != 1:
            gaps.append([0, n])
        prev = (n, t)
    written = max(seen) if seen else 0
    header = read_header(disk)
    limit = max(written, header or 0)
    verified = 0
    for n in range(1, limit + 1):
        ok, _t = read_record(disk, n)
        if not ok:
            break
        verified = n
    lost = sorted(n for n in seen if not read_record(disk, n)[0])
    return {
        'records_written': written,
        'records_verified': verified,
        'records_lost': len(lost),
        'lost': lost[:20],
        'header': header,
        'serial_gaps': gaps,
        'serial_unacked': unacked,
        'serial_repeats': repeats[:20],
        'log_ranges': ranges,
        'guest_max_gap_ms': (round(max_gap, 1) if max_gap is not None
                             else None),
    }
