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

from nova_v2v.drain import plan as drain_plan
from nova_v2v.drain import schedule
from nova_v2v.planning import planner
from nova_v2v import preflight
from tests.unit.drain import fakes

GIB = 1 << 30


def item(sid, name=None, status='ACTIVE', task_state=None, ram=256,
         **server):
    values = dict(id=sid, name=name or sid, host='a', root_gb=1)
    values.update(server)
    return drain_plan.DrainServer(server=preflight.Server(**values),
                                  status=status, task_state=task_state,
                                  ram_mib=ram)


COMPUTES = [fakes.compute('a'), fakes.compute('b'), fakes.compute('c')]
VMXNET3 = {'hw_vif_model': 'vmxnet3'}


class PlanTest(testtools.TestCase):

    def test_running_server_moves_live_to_every_fitting_host(self):
        step = drain_plan.plan_server(item('s1'), COMPUTES)
        self.assertEqual(drain_plan.LIVE, step.action)
        self.assertEqual(planner.BLOCK_LIVE, step.mode)
        self.assertEqual(('b', 'c'), step.destinations)
        # Its memory and its disk's virtual size.
        self.assertEqual(256 * (1 << 20) + GIB, step.cost)

    def test_stopped_server_moves_cold(self):
        step = drain_plan.plan_server(item('s1', status='SHUTOFF'),
                                      COMPUTES)
        self.assertEqual(drain_plan.COLD, step.action)
        self.assertEqual(planner.OFFLINE, step.mode)
        # No memory to send.
        self.assertEqual(GIB, step.cost)

    def test_cold_move_ignores_the_hypervisor_version(self):
        computes = [fakes.compute('a', qemu_version=10000000),
                    fakes.compute('b')]
        live = drain_plan.plan_server(item('s1'), computes)
        cold = drain_plan.plan_server(item('s2', status='SHUTOFF'),
                                      computes)
        self.assertEqual(drain_plan.SKIP, live.action)
        self.assertIn('older hypervisor', live.reason)
        self.assertEqual(drain_plan.COLD, cold.action)

    def test_cutover_only_with_allow_cutover(self):
        s = item('s1', image_properties=VMXNET3)
        step = drain_plan.plan_server(s, COMPUTES)
        self.assertEqual(drain_plan.SKIP, step.action)
        self.assertEqual(planner.V2V_CUTOVER, step.mode)
        self.assertIn('--allow-cutover', step.reason)
        step = drain_plan.plan_server(s, COMPUTES, allow_cutover=True)
        self.assertEqual(drain_plan.CUTOVER, step.action)
        self.assertEqual(('b', 'c'), step.destinations)

    def test_live_hosts_preferred_over_cutover_hosts(self):
        # c runs another accelerator: only a cutover goes there.
        computes = [fakes.compute('a'), fakes.compute('b'),
                    fakes.compute('c', accelerator='kvm')]
        step = drain_plan.plan_server(item('s1'), computes,
                                      allow_cutover=True)
        self.assertEqual(planner.BLOCK_LIVE, step.mode)
        self.assertEqual(('b',), step.destinations)

    def test_targets_limit_the_destinations(self):
        step = drain_plan.plan_server(item('s1'), COMPUTES, targets=('c',))
        self.assertEqual(('c',), step.destinations)

    def test_no_host_says_why(self):
        computes = [fakes.compute('a'), fakes.compute('b', enabled=False)]
        step = drain_plan.plan_server(item('s1'), computes)
        self.assertEqual(drain_plan.SKIP, step.action)
        self.assertIn('b: its nova-compute service is disabled',
                      step.reason)

    def test_other_statuses_and_busy_servers_stay(self):
        for s, why in ((item('s1', status='SUSPENDED'), 'status SUSPENDED'),
                       (item('s2', status='ERROR'), 'status ERROR'),
                       (item('s3', task_state='migrating'),
                        'busy (task_state migrating)')):
            step = drain_plan.plan_server(s, COMPUTES)
            self.assertEqual(drain_plan.SKIP, step.action)
            self.assertIn(why, step.reason)

    def test_paused_server_moves_live(self):
        step = drain_plan.plan_server(item('s1', status='PAUSED'), COMPUTES)
        self.assertEqual(drain_plan.LIVE, step.action)

    def test_cheapest_order(self):
        items = [item('big', ram=4096), item('small', ram=128),
                 item('cut', image_properties=VMXNET3, ram=64),
                 item('off', status='SHUTOFF'),
                 item('err', status='ERROR')]
        steps = drain_plan.plan_drain(items, COMPUTES, allow_cutover=True)
        # Live and cold first by bytes, the cutover last of the moves,
        # the skipped after them.
        self.assertEqual(['off', 'small', 'big', 'cut', 'err'],
                         [s.id for s in steps])

    def test_largest_and_name_orders(self):
        items = [item('b1', ram=128), item('a1', ram=4096),
                 item('c1', ram=1024)]
        self.assertEqual(['a1', 'c1', 'b1'], [s.id for s in
                                              drain_plan.plan_drain(
                                                  items, COMPUTES,
                                                  order='largest')])
        self.assertEqual(['a1', 'b1', 'c1'], [s.id for s in
                                              drain_plan.plan_drain(
                                                  items, COMPUTES,
                                                  order='name')])
        self.assertRaises(ValueError, drain_plan.order_key, 'random')


def step(sid, *dests, cost=0):
    return drain_plan.Step(id=sid, name=sid, action=drain_plan.LIVE,
                           mode=planner.BLOCK_LIVE, destinations=dests,
                           cost=cost)


class ScheduleTest(testtools.TestCase):

    def test_limits_are_checked(self):
        self.assertRaises(schedule.LimitsError, schedule.Limits, parallel=0)
        self.assertRaises(schedule.LimitsError, schedule.Limits,
                          per_destination=0)
        self.assertRaises(schedule.LimitsError, schedule.Limits,
                          bandwidth_mib=-1)

    def test_parallel_limit(self):
        limits = schedule.Limits(parallel=2, per_destination=2)
        pending = [step('s1', 'b'), step('s2', 'b'), step('s3', 'b')]
        self.assertEqual([('s1', 'b'), ('s2', 'b')],
                         [(s.id, h) for s, h in
                          schedule.pick(pending, {}, limits)])
        self.assertEqual([('s2', 'b')], [(s.id, h) for s, h in
                                         schedule.pick(pending[1:],
                                                       {'s1': 'b'},
                                                       limits)])
        self.assertEqual([], schedule.pick(pending[2:],
                                           {'s1': 'b', 's2': 'b'}, limits))

    def test_per_destination_limit_spreads_and_waits(self):
        limits = schedule.Limits(parallel=3, per_destination=1)
        pending = [step('s1', 'b', 'c'), step('s2', 'b', 'c'),
                   step('s3', 'b', 'c')]
        chosen = schedule.pick(pending, {}, limits)
        self.assertEqual([('s1', 'b'), ('s2', 'c')],
                         [(s.id, h) for s, h in chosen])

    def test_a_later_server_passes_one_whose_hosts_are_full(self):
        limits = schedule.Limits(parallel=2, per_destination=1)
        pending = [step('s1', 'b'), step('s2', 'c')]
        chosen = schedule.pick(pending, {'s0': 'b'}, limits)
        self.assertEqual([('s2', 'c')], [(s.id, h) for s, h in chosen])

    def test_fewest_assigned_host_preferred(self):
        limits = schedule.Limits(parallel=1)
        chosen = schedule.pick([step('s1', 'b', 'c')], {}, limits,
                               assigned={'b': 3, 'c': 1})
        self.assertEqual('c', chosen[0][1])

    def test_bandwidth_share(self):
        limits = schedule.Limits(parallel=2, bandwidth_mib=100)
        self.assertEqual(50, schedule.bandwidth_share(limits, 5))
        self.assertEqual(50, schedule.bandwidth_share(limits, 2))
        self.assertEqual(100, schedule.bandwidth_share(limits, 1))
        self.assertEqual(0, schedule.bandwidth_share(
            schedule.Limits(parallel=2), 5))

    def test_shares_in_flight_never_exceed_the_bandwidth(self):
        # Every order of ends: the moves in flight never sum to more.
        import itertools
        for parallel in (1, 2, 3):
            limits = schedule.Limits(parallel=parallel, bandwidth_mib=90)
            for ends in itertools.product(range(parallel), repeat=5):
                unfinished, flight = 6, []
                for end in ends:
                    while len(flight) < parallel and unfinished > len(
                            flight):
                        flight.append(schedule.bandwidth_share(
                            limits, unfinished))
                    self.assertLessEqual(sum(flight), 90)
                    flight.pop(min(end, len(flight) - 1))
                    unfinished -= 1
