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

"""The benchmarks' parts on the real lab: the link and the two variants.

The numbers themselves are not asserted (TCG timings); what is asserted
is that the link limit holds, the bytes are counted, and each variant
drives libvirt the way it says: the flags, the downtime settings, a guest
that arrives with every record.
"""

import json

from testtools import content

from tests.integration import base

MIB = 1 << 20


class TestBenchParts(base.LabTestCase):

    def tearDown(self):
        if self.lab is not None:
            from nova_v2v_rig.lab import link
            link.shape(self.lab, 0)
        super(TestBenchParts, self).tearDown()

    def test_link_limit_counted_and_probed(self):
        from nova_v2v_rig.lab import link
        link.shape(self.lab, 200)
        # tc reports the rate in bytes per second.
        self.assertEqual(25000000, link.shaped_rate(self.lab))
        before = link.wire_bytes(self.lab)
        seconds = link.probe(self.lab, 16 * MIB)
        moved = link.wire_bytes(self.lab) - before
        # 16 MiB at 200 Mbit/s: 0.67 s at least; TCP's own bytes on top.
        self.assertGreater(seconds, 0.6)
        self.assertLess(seconds, 5.0)
        self.assertGreaterEqual(moved, 16 * MIB)
        self.assertLess(moved, 18 * MIB)
        link.shape(self.lab, 0)
        self.assertIsNone(link.shaped_rate(self.lab))
        self.assertLess(link.probe(self.lab, 16 * MIB), seconds)

    def _block_live(self, variant):
        from nova_v2v_rig.bench import variants
        from nova_v2v_rig.lab import link
        from nova_v2v_rig.lab import migrate
        link.shape(self.lab, 1000)

        def migration():
            tuning = variants.make(variant, self.lab, 256)
            return tuning, migrate.run(self.lab, 'block-live', before=2.0,
                                       after=2.0, dirty_mb=8, fill_mb=2,
                                       tuning=tuning)

        tuning, result = self.once_more(variant, migration)
        self.addDetail(variant, content.text_content(
            json.dumps(result, indent=2, sort_keys=True)))
        self.assertGuestMovedIntact(result)
        # The totals are the source's own, whatever the polls caught.
        self.assertEqual('source job-completed event',
                         result['job_stats_from'], result)
        self.assertGreater(result['disk_bytes'], 0, result)
        self.assertGreater(result['wire_bytes'], result['disk_bytes'])
        return tuning, result

    def test_baseline_is_novas_migration(self):
        import libvirt
        tuning, result = self._block_live('baseline')
        flags = result['migration_flags']
        self.assertTrue(flags & libvirt.VIR_MIGRATE_NON_SHARED_INC)
        self.assertFalse(flags & libvirt.VIR_MIGRATE_NON_SHARED_DISK)
        self.assertFalse(flags & libvirt.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertFalse(flags & libvirt.VIR_MIGRATE_PARALLEL)
        self.assertEqual(['bandwidth', 'destination_xml', 'migrate_disks',
                          'persistent_xml'], result['migration_params'])
        # Nova's first step for 2 GiB of RAM (its floor) and a 2 GiB disk:
        # 50 ms; the next one would come after 300 s. Nova sets it at its
        # monitor's first sample: a migration over before that one ran
        # with QEMU's default.
        sampled = result['job_polls']['samples'] > 0
        self.assertEqual([50] if sampled else [],
                         [ms for _t, ms in result['downtime_settings_ms']],
                         result)
        self.assertEqual((300, 95), tuning._steps[1])

    def test_nova_v2v_is_tuned(self):
        import libvirt
        tuning, result = self._block_live('nova-v2v')
        flags = result['migration_flags']
        self.assertTrue(flags & libvirt.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertTrue(flags &
                        libvirt.VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES)
        self.assertEqual(['auto-converge', 'synchronous-writes'],
                         tuning.flags_added)
        settings = result['downtime_settings_ms']
        # Set before the migration starts, as the driver does.
        self.assertEqual((0.0, 50), settings[0], result)
        self.assertEqual([s.downtime_ms for s in tuning.policy.history],
                         [ms for _t, ms in settings])
