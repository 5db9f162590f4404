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

"""The gate's rolling upgrade stage: its order, and labhost-b back on the
machine's libvirt whatever happens."""

from unittest import mock

import fixtures
import testtools

from nova_v2v_rig.aio import gateupgrade
from nova_v2v_rig.aio import images


class TestStageUpgrade(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.calls = []
        for name in ('down', 'up'):
            self.useFixture(fixtures.MockPatchObject(
                gateupgrade.computes, name,
                side_effect=lambda *a, _n=name, **k: self.calls.append(
                    ('computes', _n))))
        self.useFixture(fixtures.MockPatchObject(
            gateupgrade.lab_upgrade, 'reroot',
            side_effect=lambda lab, host, release: self.calls.append(
                ('reroot', host, release))))
        self.guests = []
        test = self

        class Guest(object):
            def __init__(self, cloud, lab, name, shared):
                self.name = name
                self.id = name
                test.guests.append(self)

            def create(self, host, image, flavor):
                test.calls.append(('create', self.name, host, image))

            def delete(self):
                test.calls.append(('delete', self.name))

        self.useFixture(fixtures.MockPatchObject(gateupgrade.gatemove,
                                                 'Guest', Guest))
        self.run_move = self.useFixture(fixtures.MockPatchObject(
            gateupgrade.gatemove, 'run_move',
            side_effect=lambda layout, cloud, guest, label, args, host,
            mode, **kw: self.calls.append(('move', guest.name, host, mode))
            or {'move': label})).mock
        self.ids = {images.DISK: 'img', images.FLAVOR: 'f'}

    def test_old_to_new_and_back_where_the_planner_says(self):
        found = {}
        moves = gateupgrade.stage_upgrade(mock.Mock(), mock.Mock(),
                                          mock.Mock(), self.ids,
                                          found=found)
        self.assertEqual(gateupgrade.MOVES, len(moves))
        self.assertEqual('trixie', found['upgrade']['release'])
        self.assertEqual([
            ('computes', 'down'), ('reroot', 'b', 'trixie'),
            ('computes', 'up'),
            ('create', 'gate-upgrade-old', 'labhost-a', 'img'),
            ('create', 'gate-upgrade-new', 'labhost-b', 'img'),
            ('move', 'gate-upgrade-old', 'labhost-b', 'block-live'),
            ('move', 'gate-upgrade-old', 'labhost-a', 'block-live'),
            ('move', 'gate-upgrade-new', 'labhost-a', 'v2v-cutover'),
            ('delete', 'gate-upgrade-old'), ('delete', 'gate-upgrade-new'),
            ('computes', 'down'), ('reroot', 'b', None),
            ('computes', 'up')], self.calls)
        # Back to the old host by name (the scheduler would pick it anyway:
        # it is the only other one).
        for call in self.run_move.call_args_list[1:]:
            self.assertIn('--host', call.args[4])

    def test_back_on_the_machines_libvirt_after_a_failure(self):
        self.run_move.side_effect = RuntimeError('boom')
        self.assertRaises(RuntimeError, gateupgrade.stage_upgrade,
                          mock.Mock(), mock.Mock(), mock.Mock(), self.ids)
        self.assertEqual([('computes', 'down'), ('reroot', 'b', None),
                          ('computes', 'up')], self.calls[-3:])
        self.assertIn(('delete', 'gate-upgrade-new'), self.calls)

    def test_a_failed_restore_fails_a_good_stage_only(self):
        reroot = gateupgrade.lab_upgrade.reroot

        def fail_back(lab, host, release):
            self.calls.append(('reroot', host, release))
            if release is None:
                raise gateupgrade.lab_upgrade.hosts.LabError('runs x')

        reroot.side_effect = fail_back
        self.assertRaises(gateupgrade.lab_upgrade.hosts.LabError,
                          gateupgrade.stage_upgrade, mock.Mock(),
                          mock.Mock(), mock.Mock(), self.ids)
        # The computes start again either way.
        self.assertEqual(('computes', 'up'), self.calls[-1])
        self.run_move.side_effect = RuntimeError('boom')
        self.assertRaises(RuntimeError, gateupgrade.stage_upgrade,
                          mock.Mock(), mock.Mock(), mock.Mock(), self.ids)
