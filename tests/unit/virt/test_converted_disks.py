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

"""A block live migration into disks of another format: the destination's
disks, the migrate call's flags and definition."""

from unittest import mock

from lxml import etree
from oslo_serialization import jsonutils
from oslo_utils.fixture import uuidsentinel as uuids
import testtools

from nova_v2v.hardware import exception as hw_exception
from nova_v2v.planning import planner
from nova_v2v.virt.libvirt import converted_disks

DISK = '/i/%s/disk' % uuids.instance
CONFIG = '/i/%s/disk.config' % uuids.instance
DOMAIN = '''<domain type='qemu'><name>g</name><devices>
<disk type='file' device='disk'>
  <driver name='qemu' type='qcow2' cache='none'/>
  <source file='%s'/>
  <backingStore type='file'><format type='raw'/>
    <source file='/i/_base/abc'/><backingStore/></backingStore>
  <target dev='vda' bus='virtio'/>
</disk>
<disk type='file' device='cdrom'>
  <driver name='qemu' type='raw'/>
  <source file='%s'/><target dev='hdd' bus='ide'/><readonly/>
</disk>
</devices></domain>''' % (DISK, CONFIG)


def plan(mode=planner.BLOCK_LIVE, dest_format='raw'):
    return planner.MigrationPlan(
        mode=mode, source_host='a', dest_host='b', source_accel='tcg',
        dest_accel='tcg', block_migration=True,
        disks=(planner.DiskPlan(DISK, 'qcow2', dest_format, 1 << 30,
                                '/i/_base/abc'),))


class TestConverting(testtools.TestCase):

    def test_only_block_live_with_a_format_change(self):
        self.assertTrue(converted_disks.converting(plan()))
        self.assertFalse(converted_disks.converting(plan(
            dest_format='qcow2')))
        self.assertFalse(converted_disks.converting(plan(
            mode=planner.V2V_CUTOVER)))
        self.assertFalse(converted_disks.converting(None))

    def test_flags_full_copy_instead_of_top_only(self):
        inc = converted_disks.VIR_MIGRATE_NON_SHARED_INC
        full = converted_disks.VIR_MIGRATE_NON_SHARED_DISK
        self.assertEqual(full | 1 | 2,
                         converted_disks.migrate_flags(inc | 1 | 2))
        self.assertEqual(full | 1, converted_disks.migrate_flags(full | 1))
        # Not a block migration: nothing to copy, nothing changed.
        self.assertEqual(1 | 2, converted_disks.migrate_flags(1 | 2))

    def test_plan_of_this_move_only(self):
        p = plan()
        self.assertIs(p, converted_disks.plan_of_move(p, 'a', 'b'))
        # An earlier move's plan (a source without nova-v2v records none).
        self.assertIsNone(converted_disks.plan_of_move(p, 'b', 'c'))
        self.assertIsNone(converted_disks.plan_of_move(p, 'a', 'c'))
        self.assertIsNone(converted_disks.plan_of_move(None, 'a', 'b'))


class TestDiskInfo(testtools.TestCase):

    INFO = jsonutils.dumps([
        {'path': DISK, 'type': 'qcow2', 'backing_file': 'abc',
         'virt_disk_size': 1 << 30},
        {'path': CONFIG, 'type': 'raw', 'backing_file': ''}])

    def test_whole_images_in_the_plans_formats(self):
        out = jsonutils.loads(converted_disks.whole_disk_info(plan(),
                                                              self.INFO))
        self.assertEqual(('raw', ''), (out[0]['type'],
                                       out[0]['backing_file']))
        # A disk the plan does not know (the config drive) is Nova's.
        self.assertEqual(jsonutils.loads(self.INFO)[1], out[1])

    def test_cutover_formats_without_backing(self):
        p = plan(mode=planner.V2V_CUTOVER, dest_format='qcow2')
        out = jsonutils.loads(converted_disks.whole_disk_info(p, self.INFO))
        self.assertEqual(('qcow2', ''), (out[0]['type'],
                                         out[0]['backing_file']))

    def test_hook_leaves_a_move_without_conversion_alone(self):
        hooks = converted_disks.ConvertedDisks()
        self.assertIs(self.INFO, hooks.disk_info(plan(dest_format='qcow2'),
                                                 self.INFO))
        self.assertIs(self.INFO, hooks.disk_info(None, self.INFO))
        out = jsonutils.loads(hooks.disk_info(plan(), self.INFO))
        self.assertEqual('raw', out[0]['type'])


class TestMigrate(testtools.TestCase):

    def _migrate(self, p, **kwargs):
        guest = mock.Mock()
        guest.get_xml_desc.return_value = DOMAIN
        wrapped = converted_disks.ConvertedDisks.operation_guest(
            mock.Mock(), p, guest)
        wrapped.migrate('qemu+unix:///system', **kwargs)
        return wrapped, guest

    def test_destination_runs_the_new_format(self):
        inc = converted_disks.VIR_MIGRATE_NON_SHARED_INC
        wrapped, guest = self._migrate(plan(), flags=inc | 1,
                                       destination_xml=DOMAIN,
                                       bandwidth=0)
        self.assertIsInstance(wrapped, converted_disks.ConvertingMigrateGuest)
        kwargs = guest.migrate.call_args[1]
        self.assertEqual(converted_disks.VIR_MIGRATE_NON_SHARED_DISK | 1,
                         kwargs['flags'])
        self.assertEqual(0, kwargs['bandwidth'])
        xml = kwargs['destination_xml']
        self.assertIn("type=\"raw\" cache=\"none\"", xml)
        self.assertNotIn('_base', xml)
        # The config drive is as it was.
        self.assertIn(CONFIG, xml)
        guest.get_xml_desc.assert_not_called()

    def test_every_disk_of_the_plan_loses_its_backing_store(self):
        # The destination precreated every disk of the plan whole: one
        # that keeps its format has no backing file there either.
        eph = '/i/%s/disk.eph0' % uuids.instance
        domain = DOMAIN.replace('<disk type=\'file\' device=\'cdrom\'>', (
            "<disk type='file' device='disk'><driver name='qemu' "
            "type='qcow2'/><source file='%s'/><backingStore type='file'>"
            "<format type='raw'/><source file='/i/_base/eph'/>"
            "</backingStore><target dev='vdb' bus='virtio'/></disk>"
            "<disk type='file' device='cdrom'>" % eph), 1)
        p = planner.MigrationPlan(
            mode=planner.BLOCK_LIVE, source_host='a', dest_host='b',
            source_accel='tcg', dest_accel='tcg', block_migration=True,
            disks=(planner.DiskPlan(DISK, 'qcow2', 'raw', 1 << 30, 'abc'),
                   planner.DiskPlan(eph, 'qcow2', 'qcow2', 1 << 30,
                                    'eph')))
        _wrapped, guest = self._migrate(p, flags=0,
                                        destination_xml=domain)
        xml = guest.migrate.call_args[1]['destination_xml']
        self.assertNotIn('_base', xml)
        root = etree.fromstring(xml)
        self.assertEqual(['raw', 'qcow2', 'raw'], [
            d.get('type') for d in root.findall('./devices/disk/driver')])

    def test_source_definition_when_nova_sends_none(self):
        _wrapped, guest = self._migrate(plan(), flags=0)
        guest.get_xml_desc.assert_called_once_with(dump_migratable=True)
        self.assertNotIn('_base', guest.migrate.call_args[1][
            'destination_xml'])

    def test_no_conversion_is_novas_guest(self):
        guest = mock.Mock()
        self.assertIs(guest, converted_disks.ConvertedDisks.operation_guest(
            mock.Mock(), plan(dest_format='qcow2'), guest))
        self.assertIs(guest, converted_disks.ConvertedDisks.operation_guest(
            mock.Mock(), None, guest))

    def test_a_plan_of_another_domain_fails_before_migrating(self):
        guest = mock.Mock()
        guest.get_xml_desc.return_value = DOMAIN.replace(DISK, '/other')
        wrapped = converted_disks.ConvertedDisks.operation_guest(
            mock.Mock(), plan(), guest)
        self.assertRaises(hw_exception.TranslationError, wrapped.migrate,
                          'uri', flags=0)
        guest.migrate.assert_not_called()
