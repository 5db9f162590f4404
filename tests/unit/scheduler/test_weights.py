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

from unittest import mock

from nova.scheduler import weights as nova_weights
from nova import test
from nova.tests.unit.scheduler import fakes
from oslo_utils.fixture import uuidsentinel as uuids

from nova_v2v.hardware import inspect
from nova_v2v.planning import profile
from nova_v2v.scheduler import move
from nova_v2v.scheduler import weights
from tests.unit.scheduler import test_filters


class V2VMigrationWeigherTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.weigher = weights.V2VMigrationWeigher()
        source = profile.HostProfile.from_stats(
            'src', test_filters.stats('src', profile.KVM))
        guest = inspect.guest_from_image_properties({}, profile.KVM)
        self.live_move = move.LiveMove(uuids.instance, source, guest)
        patcher = mock.patch.object(move, 'live_move',
                                    return_value=self.live_move)
        self.mock_move = patcher.start()
        self.addCleanup(patcher.stop)
        self.hosts = [
            fakes.FakeHostState(name, name, {'stats': test_filters.stats(
                name, accel)})
            for name, accel in (('kvm1', profile.KVM),
                                ('tcg1', profile.TCG))]
        self.hosts.append(fakes.FakeHostState('plain', 'plain',
                                              {'stats': {}}))

    def _weigh(self):
        objs = [nova_weights.WeighedHost(h, 0.0) for h in self.hosts]
        return self.weigher.weigh_objects(objs, mock.sentinel.spec)

    def test_live_state_destinations_weigh_more(self):
        # 'plain' is a peer (no profile): Nova's own live migration, whose
        # live state moves.
        self.assertEqual([1.0, 0.0, 1.0], self._weigh())
        self.mock_move.assert_called_once_with(mock.sentinel.spec)

    def test_not_a_live_migration(self):
        self.mock_move.return_value = None
        self.assertEqual([0.0, 0.0, 0.0], self._weigh())

    def test_multiplier(self):
        self.assertEqual(10.0, self.weigher.weight_multiplier(None))
        self.flags(live_state_weight_multiplier=0.5, group='v2v')
        self.assertEqual(0.5, self.weigher.weight_multiplier(None))

    def test_single_object(self):
        self.assertEqual(1.0, self.weigher._weigh_object(
            self.hosts[0], mock.sentinel.spec))

    def test_ranks_kvm_first_through_nova_handler(self):
        handler = nova_weights.HostWeightHandler()
        ranked = handler.get_weighed_objects([self.weigher], self.hosts,
                                             mock.sentinel.spec)
        self.assertEqual('kvm1', ranked[0].obj.host)
