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

"""Unit tests of the one owner of a migration's record."""

import fixtures
from nova import context as nova_context
from nova import objects
from nova import test
from oslo_utils.fixture import uuidsentinel as uuids

from nova_v2v.planning import planner
from nova_v2v.virt.libvirt import record as v2v_record

PLAN = planner.MigrationPlan(
    mode=planner.V2V_CUTOVER, source_host='src', dest_host='dest',
    source_accel='kvm', dest_accel='tcg', block_migration=True,
    disks=tuple(planner.DiskPlan('/var/lib/nova/instances/%s/disk%d' % (
        uuids.instance, i), 'vmdk', 'qcow2', 10 << 30) for i in range(4)))


class _RecordTestBase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.context = nova_context.get_admin_context()
        self.db = objects.Instance(uuid=uuids.instance,
                                   system_metadata={'other': 'x'})
        self.db_save = self.useFixture(fixtures.MockPatchObject(
            self.db, 'save')).mock
        self.get = self.useFixture(fixtures.MockPatchObject(
            objects.Instance, 'get_by_uuid',
            side_effect=lambda *a, **k: self.db)).mock
        # An object Nova serialised before the record changed.
        self.stale = objects.Instance(uuid=uuids.instance,
                                      system_metadata={'other': 'x'})


class MigrationRecordTestCase(_RecordTestBase):

    def test_carried_reads_the_given_object_only(self):
        v2v_record.sysmeta_put(self.stale.system_metadata,
                               v2v_record.SYSMETA_PLAN, PLAN.to_json())
        record = v2v_record.MigrationRecord.carried(self.context,
                                                    self.stale)
        self.assertEqual(PLAN, record.plan)
        self.assertTrue(record.is_cutover)
        self.get.assert_not_called()

    def test_save_writes_through_a_fresh_copy_and_the_given_object(self):
        record = v2v_record.MigrationRecord.carried(self.context,
                                                    self.stale)
        record.set_plan(PLAN)
        # The given object holds the change before any save: Nova's own
        # save of it writes the same record.
        self.assertEqual(PLAN.to_json(), v2v_record.sysmeta_get(
            self.stale.system_metadata, v2v_record.SYSMETA_PLAN))
        self.db.system_metadata['written_meanwhile'] = 'y'
        record.save()
        self.db_save.assert_called_once_with()
        self.assertEqual(PLAN, v2v_record.MigrationRecord.carried(
            self.context, self.db).plan)
        # Nothing else the stale object holds was written.
        self.assertEqual('y', self.db.system_metadata['written_meanwhile'])
        self.assertEqual(v2v_record.PLANNED,
                         v2v_record.MigrationRecord.carried(
                             self.context, self.db).phase[0])
        # Every stored value fits Nova's VARCHAR(255).
        for value in self.db.system_metadata.values():
            self.assertLessEqual(len(value), v2v_record.SYSMETA_VALUE_MAX)

    def test_save_without_change_touches_nothing(self):
        v2v_record.MigrationRecord.carried(self.context, self.stale).save()
        self.get.assert_not_called()
        self.db_save.assert_not_called()

    def test_current_carries_the_record_onto_a_stale_object(self):
        v2v_record.sysmeta_put(self.db.system_metadata,
                               v2v_record.SYSMETA_PLAN, PLAN.to_json())
        v2v_record.sysmeta_put(self.db.system_metadata,
                               v2v_record.SYSMETA_NBD, '[{"port": 1}]')
        record = v2v_record.MigrationRecord.current(self.context, self.stale)
        self.assertEqual(PLAN, record.plan)
        self.assertEqual([{'port': 1}], record.exports)
        self.assertEqual(PLAN.to_json(), v2v_record.sysmeta_get(
            self.stale.system_metadata, v2v_record.SYSMETA_PLAN))

    def test_exports_are_not_carried_on_the_source(self):
        """The destination forgets its exports; the source cannot undo it.

        The source's object must not hold them: the source's later saves
        would write back exports the destination has removed.
        """
        v2v_record.sysmeta_put(self.db.system_metadata,
                               v2v_record.SYSMETA_NBD, '[{"port": 1}]')
        v2v_record.sysmeta_put(self.stale.system_metadata,
                               v2v_record.SYSMETA_NBD, '[{"port": 0}]')
        record = v2v_record.MigrationRecord.current(
            self.context, self.stale, carry_exports=False)
        self.assertEqual([{'port': 1}], record.exports)
        self.assertNotIn(v2v_record.SYSMETA_NBD, self.stale.system_metadata)

    def test_forgetting(self):
        for sysmeta in (self.db.system_metadata, self.stale.system_metadata):
            v2v_record.sysmeta_put(sysmeta, v2v_record.SYSMETA_PLAN,
                                   PLAN.to_json())
        record = v2v_record.MigrationRecord.carried(self.context,
                                                    self.stale)
        record.set_plan(None)
        record.save()
        for sysmeta in (self.db.system_metadata, self.stale.system_metadata):
            self.assertEqual({'other': 'x'}, sysmeta)

    def test_dest_profile_handed_over_on_the_object_only(self):
        record = v2v_record.MigrationRecord.carried(self.context,
                                                    self.stale)
        record.set_dest_profile_stats({'v2v_host': 'dest'})
        self.assertEqual({'v2v_host': 'dest'},
                         v2v_record.MigrationRecord.carried(
                             self.context, self.stale).dest_profile_stats)
        self.get.assert_not_called()

    def test_offline_plan(self):
        record = v2v_record.MigrationRecord.carried(self.context,
                                                    self.stale)
        self.assertIsNone(record.offline_plan)
        record.set_offline_plan(PLAN)
        self.assertEqual(PLAN, v2v_record.MigrationRecord.carried(
            self.context, self.stale).offline_plan)


class SourceRecordsTestCase(_RecordTestBase):
    """What the source's pre-check decided, for the move it starts."""

    def test_known_move_reads_nothing(self):
        records = v2v_record.SourceRecords()
        checked = objects.Instance(uuid=uuids.instance, system_metadata={})
        record = v2v_record.MigrationRecord.carried(self.context, checked)
        record.set_plan(PLAN)
        records.remember(checked, record)
        # The manager's object, serialised before the plan was recorded.
        moved = records.for_move(self.context, self.stale)
        self.assertEqual(PLAN, moved.plan)
        self.assertEqual(PLAN.to_json(), v2v_record.sysmeta_get(
            self.stale.system_metadata, v2v_record.SYSMETA_PLAN))
        self.get.assert_not_called()

    def test_unknown_move_reads_the_database_once(self):
        """A restarted service did not run the pre-check: the DB says."""
        records = v2v_record.SourceRecords()
        v2v_record.sysmeta_put(self.db.system_metadata,
                               v2v_record.SYSMETA_PLAN, PLAN.to_json())
        self.assertEqual(PLAN, records.for_move(self.context,
                                                self.stale).plan)
        self.assertEqual(PLAN, records.for_move(self.context,
                                                self.stale).plan)
        self.assertEqual(1, self.get.call_count)
        records.forget(self.stale)
        records.for_move(self.context, self.stale)
        self.assertEqual(2, self.get.call_count)


class SysmetaPiecesTestCase(test.NoDBTestCase):
    """Values longer than Nova's VARCHAR(255) are stored in pieces."""

    def test_round_trip_and_removal(self):
        sysmeta = {'image_hw_disk_bus': 'virtio'}
        text = 'x' * 600 + 'end'
        v2v_record.sysmeta_put(sysmeta, 'v2v_plan', text)
        self.assertEqual(text, v2v_record.sysmeta_get(sysmeta, 'v2v_plan'))
        self.assertEqual('#3', sysmeta['v2v_plan'])
        for value in sysmeta.values():
            self.assertLessEqual(len(value), v2v_record.SYSMETA_VALUE_MAX)
        v2v_record.sysmeta_put(sysmeta, 'v2v_plan', 'short')
        self.assertEqual({'image_hw_disk_bus', 'v2v_plan', 'v2v_plan#0'},
                         set(sysmeta))
        v2v_record.sysmeta_put(sysmeta, 'v2v_plan', None)
        self.assertEqual({'image_hw_disk_bus': 'virtio'}, sysmeta)
        self.assertIsNone(v2v_record.sysmeta_get(sysmeta, 'v2v_plan'))

    def test_a_plain_value_reads_as_it_is(self):
        # What an earlier release stored (and short test fixtures).
        self.assertEqual('{"mode": "offline"}', v2v_record.sysmeta_get(
            {'v2v_plan': '{"mode": "offline"}'}, 'v2v_plan'))
        self.assertEqual('', v2v_record.sysmeta_get({'k': ''}, 'k'))
