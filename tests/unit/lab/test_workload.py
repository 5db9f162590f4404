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

import hashlib

import testtools

from nova_v2v_rig.lab import workload

SECTOR = workload.SECTOR


def _time(n):
    return 100.0 + n * 0.05


def _record(n, t=None, checksum=None):
    body = 'SEQ %010d T %.6f' % (n, _time(n) if t is None else t)
    if checksum is None:
        checksum = hashlib.md5(body.encode()).hexdigest()
    return ('%s %s\n' % (body, checksum)).encode().ljust(SECTOR, b'\0')


def _disk(records, header=None, sectors=64):
    """A raw disk image as the guest writes it (sector n = record n)."""
    disk = bytearray(SECTOR * sectors)
    for n in records:
        disk[n * SECTOR:(n + 1) * SECTOR] = _record(n)
    last = max(records) if header is None and records else header
    if last:
        header = ('LABHDR %010d\n' % last).encode()
        disk[:SECTOR] = header.ljust(SECTOR, b'\0')
    return disk


def _log(numbers, noise=True):
    lines = []
    if noise:
        lines.append('LABSTART disk=/dev/vda driver=virtio_blk resume=%d'
                     % (numbers[0] if numbers else 1))
    lines += ['W %d %.6f\r' % (n, _time(n)) for n in numbers]
    return '\n'.join(lines) + '\n'


class TestParse(testtools.TestCase):

    def test_parse_acks(self):
        text = 'noise\nW 1 100.050000\r\nW 2 100.100000\n\x00W 3 1.5\n' \
               'W x 1.0\nWW 4 1.0\n'
        self.assertEqual([(1, 100.05), (2, 100.1), (3, 1.5)],
                         workload.parse_acks(text))

    def test_parse_acks_behind_printk_time(self):
        # The guest prints through /dev/kmsg; with printk time stamps on
        # (a guest kernel built with them forced) lines carry a prefix.
        text = '[   12.345678] W 7 100.350000\r\n[    1.0] LABSTART x\n'
        self.assertEqual([(7, 100.35)], workload.parse_acks(text))

    def test_read_record(self):
        disk = _disk([1, 2])
        self.assertEqual((True, _time(1)), workload.read_record(disk, 1))
        self.assertEqual((False, None), workload.read_record(disk, 3))

    def test_record_in_wrong_sector(self):
        disk = _disk([])
        disk[5 * SECTOR:6 * SECTOR] = _record(4)
        self.assertEqual((False, None), workload.read_record(disk, 5))

    def test_trailing_garbage(self):
        disk = _disk([1])
        disk[SECTOR + 200] = ord('x')
        self.assertEqual((False, None), workload.read_record(disk, 1))

    def test_header(self):
        self.assertEqual(7, workload.read_header(_disk([1], header=7)))
        self.assertIsNone(workload.read_header(_disk([])))


class TestVerify(testtools.TestCase):

    def test_contiguous_over_two_logs(self):
        disk = _disk(range(1, 21))
        result = workload.verify(disk, [_log(range(1, 11)),
                                        _log(range(11, 21))])
        self.assertEqual(20, result['records_written'])
        self.assertEqual(20, result['records_verified'])
        self.assertEqual(0, result['records_lost'])
        self.assertEqual([], result['lost'])
        self.assertEqual(20, result['header'])
        self.assertEqual([], result['serial_gaps'])
        self.assertEqual([], result['serial_unacked'])
        self.assertEqual([], result['serial_repeats'])
        self.assertEqual([[1, 10], [11, 20]], result['log_ranges'])
        self.assertEqual(50.0, result['guest_max_gap_ms'])

    def test_record_written_but_not_acknowledged(self):
        # The guest died between the fsync and the acknowledgement: the
        # extra record on disk is verified, nothing is lost.
        disk = _disk(range(1, 12))
        result = workload.verify(disk, [_log(range(1, 11))])
        self.assertEqual(10, result['records_written'])
        self.assertEqual(11, result['records_verified'])
        self.assertEqual(0, result['records_lost'])

    def test_gap_in_acknowledgements(self):
        disk = _disk(range(1, 21))
        result = workload.verify(disk, [_log(range(1, 11)),
                                        _log(range(13, 21))])
        self.assertEqual([[10, 13]], result['serial_gaps'])
        self.assertEqual([], result['serial_unacked'])
        self.assertEqual(0, result['records_lost'])
        self.assertEqual(20, result['records_verified'])

    def test_written_not_acknowledged_before_the_switch(self):
        # The source stopped after record 11 and the header were on disk,
        # before "W 11"; the clone resumed at 12.
        disk = _disk(range(1, 21))
        result = workload.verify(disk, [_log(range(1, 11)),
                                        _log(range(12, 21))])
        self.assertEqual([11], result['serial_unacked'])
        self.assertEqual([], result['serial_gaps'])
        self.assertEqual(0, result['records_lost'])
        self.assertEqual(20, result['records_verified'])

    def test_unacknowledged_record_missing_is_a_gap(self):
        # The clone went on past a record that is not on disk.
        disk = _disk([n for n in range(1, 21) if n != 11])
        result = workload.verify(disk, [_log(range(1, 11)),
                                        _log(range(12, 21))])
        self.assertEqual([], result['serial_unacked'])
        self.assertEqual([[10, 12]], result['serial_gaps'])
        self.assertEqual(10, result['records_verified'])

    def test_step_inside_one_log_is_a_gap(self):
        # Within one guest's log, record 11 is on disk but its
        # acknowledgement is missing: the serial log lost a line.
        disk = _disk(range(1, 21))
        result = workload.verify(disk, [_log([n for n in range(1, 21)
                                              if n != 11])])
        self.assertEqual([], result['serial_unacked'])
        self.assertEqual([[10, 12]], result['serial_gaps'])

    def test_unacknowledged_after_an_empty_log(self):
        disk = _disk(range(1, 21))
        result = workload.verify(disk, [_log(range(1, 11)), '',
                                        _log(range(12, 21))])
        self.assertEqual([11], result['serial_unacked'])
        self.assertEqual([[1, 10], None, [12, 20]], result['log_ranges'])

    def test_line_cut_by_a_live_migration(self):
        # The source was stopped in the middle of printing "W 11 ...":
        # the rest of the line came out on the destination.
        disk = _disk(range(1, 21))
        a = _log(range(1, 12))
        b = _log(range(11, 21))
        cut = a.index('W 11')
        result = workload.verify(disk, [a[:cut + 6], a[cut + 6:] + b[
            b.index('W 12'):]])
        self.assertEqual([], result['serial_gaps'])
        self.assertEqual([], result['serial_unacked'])
        self.assertEqual([], result['serial_repeats'])
        self.assertEqual([[1, 10], [11, 20]], result['log_ranges'])
        self.assertEqual(20, result['records_written'])

    def test_cut_line_across_an_empty_log(self):
        disk = _disk(range(1, 5))
        a = _log(range(1, 5))
        cut = a.index('W 3') + 2
        result = workload.verify(disk, [a[:cut], '', a[cut:]])
        self.assertEqual([[1, 2], None, [3, 4]], result['log_ranges'])
        self.assertEqual([], result['serial_gaps'])

    def test_unfinished_last_line_of_the_last_log(self):
        # Nothing follows: the last log keeps it (and a complete record
        # number and time still count).
        disk = _disk(range(1, 4))
        text = _log(range(1, 4)).rstrip('\n')
        result = workload.verify(disk, [text])
        self.assertEqual([[1, 3]], result['log_ranges'])

    def test_first_log_not_starting_at_one(self):
        result = workload.verify(_disk(range(1, 6)), [_log(range(3, 6))])
        self.assertEqual([[0, 3]], result['serial_gaps'])

    def test_repeats(self):
        # The clone replayed records 9 and 10 (it resumed too early).
        disk = _disk(range(1, 16))
        result = workload.verify(disk, [_log(range(1, 11)),
                                        _log(range(9, 16))])
        self.assertEqual([9, 10], result['serial_repeats'])
        # The step back is reported as a discontinuity too.
        self.assertEqual([[10, 9]], result['serial_gaps'])
        self.assertEqual(15, result['records_written'])

    def test_lost_records(self):
        # Acknowledged records 8..10 never reached the destination disk.
        disk = _disk(range(1, 8), header=10)
        result = workload.verify(disk, [_log(range(1, 11))])
        self.assertEqual(10, result['records_written'])
        self.assertEqual(7, result['records_verified'])
        self.assertEqual(3, result['records_lost'])
        self.assertEqual([8, 9, 10], result['lost'])

    def test_bad_checksum(self):
        disk = _disk(range(1, 11))
        disk[5 * SECTOR:6 * SECTOR] = _record(5, checksum='0' * 32)
        result = workload.verify(disk, [_log(range(1, 11))])
        self.assertEqual(4, result['records_verified'])
        self.assertEqual(1, result['records_lost'])
        self.assertEqual([5], result['lost'])

    def test_tampered_body(self):
        # The checksum is that of another time stamp.
        disk = _disk(range(1, 4))
        good = _record(2)
        disk[2 * SECTOR:3 * SECTOR] = good.replace(b'T 100.1', b'T 900.1')
        result = workload.verify(disk, [_log(range(1, 4))])
        self.assertEqual([2], result['lost'])

    def test_header_beyond_acknowledgements(self):
        # Records on disk past the last acknowledgement count as verified
        # up to the header.
        disk = _disk(range(1, 13), header=12)
        result = workload.verify(disk, [_log(range(1, 11))])
        self.assertEqual(12, result['header'])
        self.assertEqual(12, result['records_verified'])

    def test_empty(self):
        result = workload.verify(_disk([]), ['', ''])
        self.assertEqual(0, result['records_written'])
        self.assertEqual(0, result['records_verified'])
        self.assertEqual([None, None], result['log_ranges'])
        self.assertIsNone(result['guest_max_gap_ms'])

    def test_accepts_bytes_and_memoryview(self):
        disk = bytes(_disk(range(1, 4)))
        logs = [_log(range(1, 4))]
        self.assertEqual(workload.verify(disk, logs),
                         workload.verify(memoryview(disk), logs))
