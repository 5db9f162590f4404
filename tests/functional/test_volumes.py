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

"""A server with a Cinder volume attached, through Nova.

A V2V cutover's clone would write the volume before the point of no return,
while the paused source can still be resumed over it: the source's
pre-check refuses such a cutover (``V2VCutoverVolumesAttached``), and a
guest the cutover would only have translated moves with Nova's own block
live migration, which hands the volume over, untranslated.
"""

import fixtures
from lxml import etree
from nova.tests.fixtures import libvirt as fakelibvirt
from oslo_utils.fixture import uuidsentinel as uuids

from nova_v2v.planning import planner
from tests.functional import base
from tests.functional import test_rollbacks

SOURCE = test_rollbacks.SOURCE
BLOCK_DEST = test_rollbacks.BLOCK_DEST
CUTOVER_DEST = test_rollbacks.CUTOVER_DEST


class VolumeAttachedTest(test_rollbacks.RollbackTestBase):

    def setUp(self):
        super().setUp()
        self.e1000_uuids = set()
        self._patch_nic_model()
        self._attach_volume(self.server, uuids.volume)
        self.assertEqual(
            [uuids.volume],
            [v['volumeId'] for v in
             self.api.get_server_volumes(self.server['id'])])

    def _patch_nic_model(self):
        """Guests of ``e1000_uuids`` have an e1000 NIC (to translate)."""
        test = self
        real = fakelibvirt.Domain.XMLDesc  # the rollback base's

        def xml_desc(domain, flags=0):
            xml = real(domain, flags)
            if domain.UUIDString() not in test.e1000_uuids:
                return xml
            root = etree.fromstring(xml)
            devices = root.find('./devices')
            devices.append(etree.fromstring(
                "<interface type='bridge'><mac address='fa:16:3e:00:00:09'/>"
                "<model type='e1000'/><source bridge='br0'/></interface>"))
            return etree.tostring(root).decode()

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.XMLDesc', xml_desc))

    def test_cutover_refused_forced(self):
        response = self.live_migrate(self.server, host=CUTOVER_DEST,
                                     force=True, microversion=base.MV_FORCE)

        self.assert_refused(response, 400, 'V2VCutoverVolumesAttached',
                            'Cinder volumes attached (vdb)',
                            'kvm -> qemu')
        self.assert_outcome('error', SOURCE)
        self.assertEqual([('dest', CUTOVER_DEST, None),
                          ('source', SOURCE, 'V2VCutoverVolumesAttached')],
                         [p[:3] for p in self.prechecks])
        self.assertIsNone(self.recorded_plan(self.server))
        # Nothing was exported, mirrored or defined on the destination.
        self.assertEqual({}, self.engine.exports)
        self.assertEqual([], self.engine.copies)
        self.assertEqual([], [d for d in self.engine.defined
                              if d[0] == CUTOVER_DEST])
        self.assertEqual([], self.libvirt_migrations)

    def test_cutover_refused_scheduled(self):
        """Requested (not forced) host: the conductor gives up, 'error'."""
        response = self.live_migrate(self.server, host=CUTOVER_DEST)

        self.assert_refused(response, 500, 'NoValidHost')
        self.assert_outcome('error', SOURCE)
        self.assertEqual('V2VCutoverVolumesAttached', self.prechecks[-1][2])
        self.assertEqual([], self.engine.copies)

    def test_translation_only_moves_with_nova_block_live(self):
        """What the cutover would only have translated moves as Nova does.

        kvm-local-1 -> kvm-local-2 with an e1000 NIC is a cutover without
        the volume; with it, Nova's own block live migration moves the
        guest and its volume, the NIC untranslated.
        """
        self.e1000_uuids.add(self.server['id'])

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=BLOCK_DEST).status)

        self.assert_outcome('completed', BLOCK_DEST)
        plan = self.assert_plan(self.server, planner.BLOCK_LIVE, SOURCE,
                                BLOCK_DEST, True)
        self.assertEqual((), plan.hardware_changes)
        self.assertIn('Cinder volumes attached (vdb)', plan.cautions[-1])
        self.assertIn('e1000 -> virtio', plan.cautions[-1])
        # libvirt's migration ran (Nova's path), not the engine.
        self.assertEqual([(SOURCE, BLOCK_DEST)],
                         [m[:2] for m in self.libvirt_migrations])
        self.assertEqual([], self.engine.copies)
        self.assertEqual(
            [uuids.volume],
            [v['volumeId'] for v in
             self.api.get_server_volumes(self.server['id'])])
