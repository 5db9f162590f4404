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

import os
from unittest import mock

import fixtures
import libvirt
import testtools

from nova_v2v_rig.bench import variants

XML = ("<domain><devices><disk type='file' device='disk'>"
       "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
       "</devices></domain>")
BASE = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
        libvirt.VIR_MIGRATE_PERSIST_DEST |
        libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)


class VariantsTestCase(testtools.TestCase):

    def setUp(self):
        super(VariantsTestCase, self).setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.disk = os.path.join(self.dir, 'disk')
        with open(self.disk, 'wb') as f:
            f.truncate(3 << 30)
        self.lab = mock.Mock()
        self.lab.root_path.side_effect = lambda host, path: path
        self.dom = mock.Mock()
        self.dom.XMLDesc.return_value = XML % self.disk
        self.dom.connect.return_value.getLibVersion.return_value = 9000000

    def test_data_gb_is_novas(self):
        # 256 MiB counts as 2 GiB, a 3 GiB file as 3.
        self.assertEqual(5, variants.data_gb(256, [self.disk]))

    def test_baseline_flags_params_and_steps(self):
        tuning = variants.make('baseline', self.lab, 256)
        flags, params = tuning.prepare(
            self.dom, BASE | libvirt.VIR_MIGRATE_NON_SHARED_DISK, {},
            block=True)
        self.assertEqual(BASE | libvirt.VIR_MIGRATE_NON_SHARED_INC, flags)
        self.assertEqual(['vda'], params['migrate_disks'])
        self.assertEqual(0, params['bandwidth'])
        self.assertEqual(params['destination_xml'], params['persistent_xml'])
        # Nova's steps: 75 s/GiB of 5 GiB between two of them.
        self.assertEqual([(0, 50), (375, 95)], tuning._steps[:2])

    def test_baseline_runs_novas_update_downtime(self):
        tuning = variants.make('baseline', self.lab, 256)
        tuning.prepare(self.dom, BASE, {}, block=False)
        tuning.sample(self.dom, {'_t': 0.5})
        tuning.sample(self.dom, {'_t': 1.0})
        # Through nova.virt.libvirt.guest.Guest.migrate_configure_max_downtime
        self.dom.migrateSetMaxDowntime.assert_called_once_with(50)
        self.assertEqual([(0.5, 50)], tuning.downtime_settings)

    def test_nova_v2v_flags_and_policy(self):
        tuning = variants.make('nova-v2v', self.lab, 256, parallel=2)
        flags, params = tuning.prepare(
            self.dom, BASE | libvirt.VIR_MIGRATE_NON_SHARED_DISK, {},
            block=True)
        self.assertTrue(flags & libvirt.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertTrue(
            flags & libvirt.VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES)
        self.assertTrue(flags & libvirt.VIR_MIGRATE_PARALLEL)
        self.assertEqual(2, params['parallel.connections'])
        self.assertEqual(['auto-converge', 'synchronous-writes',
                          'parallel-2'], tuning.flags_added)
        # The first value is set before the migration starts, as the
        # driver does; the first sample does not set it again.
        self.dom.migrateSetMaxDowntime.assert_called_once_with(50, 0)
        self.assertEqual([(0.0, 50)], tuning.downtime_settings)
        tuning.sample(self.dom, {'_t': 0.5, 'memory_iteration': 0})
        self.dom.migrateSetMaxDowntime.assert_called_once_with(50, 0)
        self.assertEqual([(0.0, 50)], tuning.downtime_settings)
        self.assertEqual([0.0], [s.elapsed for s in tuning.policy.history])

    def test_unknown_variant(self):
        self.assertRaises(ValueError, variants.make, 'other', self.lab, 256)
