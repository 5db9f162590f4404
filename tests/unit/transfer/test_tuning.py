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

import testtools

from nova_v2v.transfer import tuning

MIB = 1 << 20


def _sample(remaining, bps=100 * MIB, total=256 * MIB, iteration=2,
            processed=0):
    return {'memory_total': total, 'memory_remaining': remaining,
            'memory_bps': bps, 'memory_iteration': iteration,
            'memory_processed': processed}


class LadderTestCase(testtools.TestCase):

    def test_novas_default_values(self):
        self.assertEqual([50, 95, 140, 185, 230, 275, 320, 365, 410, 455,
                          500], tuning.downtime_ladder())

    def test_same_values_as_novas_steps(self):
        # nova.virt.libvirt.migration.downtime_steps docstring: 400 ms in
        # 10 steps starts at 40 and adds 36 per step.
        self.assertEqual([40, 76, 112, 148, 184, 220, 256, 292, 328, 364,
                          400], tuning.downtime_ladder(400, 10))

    def test_bad_input(self):
        self.assertRaises(ValueError, tuning.downtime_ladder, 500, 0)
        self.assertRaises(ValueError, tuning.downtime_ladder, 0, 10)


class FittedDowntimeTestCase(testtools.TestCase):

    def test_first_sample_sets_the_first_value(self):
        policy = tuning.FittedDowntime()
        self.assertEqual(50, policy.update(_sample(0, iteration=0), 0.1))
        self.assertEqual(50, policy.current)

    def test_converging_guest_keeps_the_first_value(self):
        policy = tuning.FittedDowntime()
        policy.update(_sample(200 * MIB), 0.0)
        # 4 MiB left at 100 MiB/s fits in 40 ms: no step, however long.
        for t in range(1, 100):
            self.assertIsNone(policy.update(_sample(4 * MIB), float(t)))
        self.assertEqual(50, policy.current)

    def test_steps_paced_by_the_measured_bandwidth(self):
        policy = tuning.FittedDowntime(passes=2)
        policy.update(_sample(64 * MIB), 0.0)
        # 256 MiB at 100 MiB/s: 2.56 s a pass, a step every 5.12 s while
        # 64 MiB (640 ms at that rate) do not fit.
        self.assertIsNone(policy.update(_sample(64 * MIB), 5.0))
        self.assertEqual(95, policy.update(_sample(64 * MIB), 5.2))
        self.assertIsNone(policy.update(_sample(64 * MIB), 10.0))
        self.assertEqual(140, policy.update(_sample(64 * MIB), 10.4))
        self.assertEqual(['start', 95, 140],
                         [s.reason if s.reason == 'start' else s.downtime_ms
                          for s in policy.history])

    def test_faster_link_steps_sooner(self):
        slow = tuning.FittedDowntime(passes=2)
        fast = tuning.FittedDowntime(passes=2)
        for policy in (slow, fast):
            policy.update(_sample(64 * MIB), 0.0)
        self.assertIsNone(slow.update(_sample(64 * MIB, bps=10 * MIB), 3.0))
        self.assertEqual(95, fast.update(_sample(64 * MIB, bps=1000 * MIB),
                                         3.0))

    def test_disk_copy_and_first_pass_do_not_count(self):
        policy = tuning.FittedDowntime(passes=2)
        policy.update(_sample(0, iteration=0), 0.0)
        # 60 s of disk copy: memory has not started.
        self.assertIsNone(policy.update(_sample(0, iteration=0), 60.0))
        # The first pass: all of memory is "remaining".
        self.assertIsNone(policy.update(_sample(200 * MIB, iteration=1),
                                        61.0))
        # The second pass: the pace counts from here.
        self.assertIsNone(policy.update(_sample(64 * MIB), 61.0))
        self.assertIsNone(policy.update(_sample(64 * MIB), 65.0))
        self.assertEqual(95, policy.update(_sample(64 * MIB), 66.2))

    def test_min_interval(self):
        policy = tuning.FittedDowntime(passes=1, min_interval=3.0)
        policy.update(_sample(64 * MIB, bps=10000 * MIB), 0.0)
        self.assertIsNone(policy.update(_sample(64 * MIB, bps=MIB), 2.0))
        # 64 MiB at 1 MiB/s: 64 s a pass
        self.assertIsNone(policy.update(_sample(64 * MIB, bps=MIB), 3.5))
        self.assertEqual(95, policy.update(
            _sample(2000 * MIB, total=MIB, bps=MIB), 3.5))

    def test_bandwidth_from_samples_when_libvirt_gives_none(self):
        policy = tuning.FittedDowntime(passes=1)
        policy.update(_sample(64 * MIB, bps=0, processed=0), 0.0)
        self.assertEqual(0, policy.bandwidth(_sample(0, bps=0), 0.0))
        policy.update(_sample(64 * MIB, bps=0, processed=100 * MIB), 1.0)
        self.assertEqual(50 * MIB, policy.bandwidth(
            _sample(0, bps=0, processed=150 * MIB), 2.0))

    def test_no_bandwidth_no_step(self):
        policy = tuning.FittedDowntime()
        policy.update(_sample(64 * MIB, bps=0), 0.0)
        self.assertIsNone(policy.update(_sample(64 * MIB, bps=0), 100.0))

    def test_stops_at_the_top(self):
        policy = tuning.FittedDowntime(downtime_ms=300, steps=3, passes=1,
                                       min_interval=0)
        values = [policy.update(_sample(250 * MIB), float(t))
                  for t in range(0, 20)]
        self.assertEqual([100, 166, 233, 300],
                         [v for v in values if v is not None])

    def test_bad_input(self):
        self.assertRaises(ValueError, tuning.FittedDowntime, passes=0)
        self.assertRaises(ValueError, tuning.FittedDowntime,
                          min_interval=-1)


class LiveFlagsTestCase(testtools.TestCase):

    NOVA_LIVE = 1 | 2 | 8 | 16
    NOVA_BLOCK = NOVA_LIVE | tuning.VIR_MIGRATE_NON_SHARED_INC

    def test_block_gets_both(self):
        flags, added = tuning.live_flags(self.NOVA_BLOCK, 9000000)
        self.assertEqual(self.NOVA_BLOCK | tuning.VIR_MIGRATE_AUTO_CONVERGE |
                         tuning.VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES,
                         flags)
        self.assertEqual(['auto-converge', 'synchronous-writes'], added)

    def test_shared_storage_gets_auto_converge_only(self):
        flags, added = tuning.live_flags(self.NOVA_LIVE, 9000000)
        self.assertEqual(self.NOVA_LIVE | tuning.VIR_MIGRATE_AUTO_CONVERGE,
                         flags)
        self.assertEqual(['auto-converge'], added)

    def test_never_with_post_copy(self):
        flags, added = tuning.live_flags(
            self.NOVA_LIVE | tuning.VIR_MIGRATE_POSTCOPY, 9000000)
        self.assertFalse(flags & tuning.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertEqual([], added)

    def test_old_libvirt_has_no_synchronous_writes(self):
        flags, added = tuning.live_flags(self.NOVA_BLOCK, 7010000)
        self.assertFalse(
            flags & tuning.VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES)
        self.assertEqual(['auto-converge'], added)

    def test_switched_off(self):
        self.assertEqual((self.NOVA_BLOCK, []), tuning.live_flags(
            self.NOVA_BLOCK, 9000000, auto_converge=False,
            synchronous_writes=False))

    def test_already_set_is_not_reported(self):
        flags, added = tuning.live_flags(
            self.NOVA_LIVE | tuning.VIR_MIGRATE_AUTO_CONVERGE, 9000000)
        self.assertEqual([], added)


class RequestedBandwidthTestCase(testtools.TestCase):

    KEY = tuning.BANDWIDTH_KEY

    def test_absent_keeps_nova(self):
        self.assertEqual((0, None), tuning.requested_bandwidth({}, 0, 8))
        self.assertEqual((50, None), tuning.requested_bandwidth(None, 50, 8))

    def test_lowers(self):
        value, why = tuning.requested_bandwidth({self.KEY: '20'}, 0, 8)
        self.assertEqual(20, value)
        self.assertIn('20 MiB/s', why)
        self.assertEqual(20, tuning.requested_bandwidth(
            {self.KEY: ' 20 '}, 100, 8)[0])

    def test_never_raises(self):
        value, why = tuning.requested_bandwidth({self.KEY: '200'}, 100, 8)
        self.assertEqual(100, value)
        self.assertIn('live_migration_bandwidth (100 MiB/s) is lower', why)

    def test_floor(self):
        value, why = tuning.requested_bandwidth({self.KEY: '2'}, 0, 8)
        self.assertEqual(8, value)
        self.assertIn('min_migration_bandwidth', why)

    def test_garbage_ignored(self):
        for raw in ('fast', '-5', '0', '1.5'):
            value, why = tuning.requested_bandwidth({self.KEY: raw}, 60, 8)
            self.assertEqual(60, value, raw)
            self.assertIn('ignored', why)
