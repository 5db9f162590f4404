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
import testtools

from nova_v2v_rig.aio import gateimport
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import gatereport
from nova_v2v_rig.aio import ovaexport
from nova_v2v_rig.aio import paths

MIB = 1 << 20
SERVER = '11111111-2222-4333-8444-555555555555'

DOMAIN = '''<domain type="qemu"><name>instance-00000001</name><devices>
<disk type="file" device="disk"><target dev="vda" bus="%(bus)s"/></disk>
<disk type="file" device="cdrom"><target dev="sda" bus="sata"/></disk>
<interface type="ethernet"><mac address="%(mac)s"/>
<model type="%(model)s"/></interface>
</devices></domain>'''


def _domain(bus='virtio', model='virtio', mac=ovaexport.MAC.upper()):
    return DOMAIN % {'bus': bus, 'model': model, 'mac': mac}


class TestPieces(testtools.TestCase):

    def _disk(self, pattern=0x5a, at=gateimport.PATTERN_AT_MIB,
              size=gateimport.CAPACITY_MIB):
        disk = bytearray(size * MIB)
        start = at * MIB
        disk[start:start + gateimport.PATTERN_MIB * MIB] = bytes(
            [pattern]) * (gateimport.PATTERN_MIB * MIB)
        return disk

    def test_the_pattern(self):
        self.assertTrue(gateimport.pattern_intact(self._disk()))
        # Zeroes (an empty disk), another byte, one byte lost, moved by a
        # MiB, a disk cut short: not the export's data.
        self.assertFalse(gateimport.pattern_intact(self._disk(pattern=0)))
        self.assertFalse(gateimport.pattern_intact(self._disk(pattern=1)))
        lost = self._disk()
        lost[(gateimport.PATTERN_AT_MIB + 7) * MIB + 123] = 0
        self.assertFalse(gateimport.pattern_intact(lost))
        self.assertFalse(gateimport.pattern_intact(
            self._disk(at=gateimport.PATTERN_AT_MIB + 1)))
        self.assertFalse(gateimport.pattern_intact(
            self._disk()[:(gateimport.PATTERN_AT_MIB + 8) * MIB]))

    def test_the_domain(self):
        devices = gateimport.domain_devices(_domain())
        # The CD-ROM is no disk; the MAC is compared in lower case.
        self.assertEqual({'disks': [('vda', 'virtio')],
                          'nics': [('virtio', ovaexport.MAC)]}, devices)
        self.assertEqual([], gateimport.device_problems(devices,
                                                        ovaexport.MAC))
        # A flavor's ephemeral disk beside the root disk, on virtio: fine.
        extra = _domain().replace(
            '<disk type="file" device="cdrom">',
            '<disk type="file" device="disk"><target dev="vdb" '
            'bus="virtio"/></disk><disk type="file" device="cdrom">')
        self.assertEqual([], gateimport.device_problems(
            gateimport.domain_devices(extra), ovaexport.MAC))
        for domain, words in (
                (_domain(bus='scsi'), "[('vda', 'scsi')]"),
                (_domain(model='vmxnet3'), 'vmxnet3'),
                (_domain(mac='52:54:00:00:00:01'), '52:54:00:00:00:01')):
            problems = gateimport.device_problems(
                gateimport.domain_devices(domain), ovaexport.MAC)
            self.assertEqual(1, len(problems), problems)
            self.assertIn(words, problems[0])

    def test_the_import_command(self):
        ids = {'lab-kernel': 'k1', 'lab-initrd': 'r1'}
        args = [str(a) for a in gateimport.import_args('/w/x.ova', ids,
                                                       '/w/import')]
        self.assertEqual('/w/x.ova', args[0])
        for pair in (['--network', 'VM Network=lab-net'],
                     ['--target', 'qemu'], ['--work-dir', '/w/import'],
                     ['--property', 'kernel_id=k1'],
                     ['--property', 'ramdisk_id=r1'],
                     ['--property', 'os_command_line=console=ttyS0 quiet '
                      'loglevel=1'], ['--name', 'gate-import']):
            self.assertIn(pair, [args[i:i + 2] for i in range(len(args))])
        # The import picks the flavor.
        self.assertNotIn('--flavor', args)

    def test_the_table_line(self):
        lines = gatereport.import_lines({
            'ok': False, 'seconds': 9.5, 'boot_seconds': 14.0,
            'host': 'labhost-a', 'flavor': 'lab.tiny',
            'disk_buses': ['virtio'], 'nic_models': ['virtio'],
            'mac': ovaexport.MAC, 'nic_driver': 'virtio_net',
            'records_written': 40, 'records_lost': 0,
            'pattern_intact': False, 'problems': ['the export\'s data ...']})
        self.assertEqual(
            'nova-v2v import of the lab\'s OVA: FAILED, 9.5 s (booted after '
            '14.0 s) on labhost-a, flavor lab.tiny, disks virtio, NICs '
            'virtio (00:50:56:1a:2b:3c, virtio_net), records 40, 0 lost, '
            'data NOT intact', lines[0])
        self.assertEqual(['  import: the export\'s data ...'], lines[1:])
        self.assertEqual([], gatereport.import_lines(None))


class FakeCloud(object):
    """The ``openstack`` client and ``nova-v2v`` of the all-in-one."""

    def __init__(self, rc=0, out=None, lists=None):
        self.calls = []
        self.lists = lists or {}
        self.rc = rc
        self.out = out if out is not None else {
            'ok': True, 'server_id': SERVER, 'image_id': 'img-1',
            'port_ids': ['port-1'], 'flavor': 'lab.tiny',
            'timings': {'total': 9.0}}
        self.v2v_calls = []

    def v2v(self, command, *args):
        self.v2v_calls.append((command,) + args)
        return self.rc, self.out

    def __call__(self, *args, parse=False, check=True):
        self.calls.append(args)
        if args[:2] == ('image', 'show'):
            return {'properties': {'hw_disk_bus': 'virtio',
                                   'hw_vif_model': 'virtio',
                                   'kernel_id': 'k1', 'owner': 'x'}}
        if args[:2] == ('port', 'show'):
            return {'id': 'port-1', 'mac_address': ovaexport.MAC}
        if args[1:2] == ('list',):
            return self.lists.get(args[0], [])
        return None

    def server(self, server_id):
        return {'id': server_id, 'OS-EXT-SRV-ATTR:host': 'labhost-a',
                'OS-EXT-SRV-ATTR:instance_name': 'instance-00000001'}


class TestStage(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.layout = paths.Layout(self.useFixture(fixtures.TempDir()).path)
        os.makedirs(self.layout.run_dir)
        self.built = []

        def build(work, name, capacity, data):
            self.built.append((work, name, capacity, data))
            path = os.path.join(work, name + '.ova')
            with open(path, 'wb') as f:
                f.write(b'x' * 10)
            return path

        self.useFixture(fixtures.MockPatchObject(
            gateimport.ovaexport, 'build', side_effect=build))
        self.guest = self.useFixture(fixtures.MockPatchObject(
            gatemove, 'Guest')).mock.return_value
        self.guest.id = None
        self.guest.port = None
        self.guest.inside.side_effect = lambda f: '/i/%s/%s' % (SERVER, f)
        self.guest.adopt.return_value = mock.Mock(driver='virtio_net')

        def adopt(server_id, port, since, host):
            self.guest.id, self.guest.port = server_id, port
            return mock.Mock(driver='virtio_net')

        self.guest.adopt.side_effect = adopt
        self.useFixture(fixtures.MockPatchObject(
            gateimport.gatenet, 'domain_xml', return_value=_domain()))
        self.records = {'records_written': 30, 'records_verified': 30,
                        'records_lost': 0}
        self.useFixture(fixtures.MockPatchObject(
            gatemove, 'read_records', side_effect=lambda *a: self.records))
        self.intact = [True, True]
        self.useFixture(fixtures.MockPatchObject(
            gatemove, 'read_disk', side_effect=lambda *a: self.intact.pop(0)))
        self.check = self.useFixture(fixtures.MockPatchObject(
            gatemove, 'run_check', return_value={'check': 'imported server',
                                                 'ok': True})).mock
        self.move = {'move': gateimport.IMPORT_LABEL, 'to': 'labhost-b',
                     'ok': True, 'problems': []}
        self.run_move = self.useFixture(fixtures.MockPatchObject(
            gatemove, 'run_move', side_effect=lambda *a, **k: self.move)
        ).mock

    def _stage(self, cloud):
        self.found, checks = {}, []
        moves = gateimport.stage_import(self.layout, cloud, mock.Mock(),
                                        {'lab-kernel': 'k1',
                                         'lab-initrd': 'r1'},
                                        events='events', checks=checks,
                                        found=self.found)
        return moves, checks, self.found['import']

    def test_imported_checked_moved(self):
        cloud = FakeCloud()
        moves, checks, imported = self._stage(cloud)
        self.assertTrue(imported['ok'], imported)
        self.assertEqual([], imported['problems'])
        self.assertEqual((SERVER, 'img-1', 'lab.tiny', 'labhost-a'),
                         (imported['server'], imported['image'],
                          imported['flavor'], imported['host']))
        self.assertEqual((30, 0, True), (imported['records_written'],
                                         imported['records_lost'],
                                         imported['pattern_intact']))
        self.assertEqual(['virtio'], imported['disk_buses'])
        self.assertEqual({'hw_disk_bus': 'virtio', 'hw_vif_model': 'virtio',
                          'kernel_id': 'k1'}, imported['image_properties'])
        # Checked, then moved to the other compute, block live.
        self.check.assert_called_once_with(
            cloud, self.guest, 'imported server', 0,
            {'labhost-a': None, 'labhost-b': 'block-live'})
        args = self.run_move.call_args[0]
        self.assertEqual(('live, block (imported)', 'labhost-b',
                          'block-live'), (args[3], args[5], args[6]))
        self.assertIn('--block-migration', args[4])
        self.assertEqual([self.move], moves)
        self.assertTrue(moves[0]['ok'])
        # The disk is read where the server runs, then where it went.
        self.assertEqual([('a', '/i/%s/disk' % SERVER),
                          ('b', '/i/%s/disk' % SERVER)],
                         [c[0][1:3] for c in
                          gatemove.read_disk.call_args_list])
        self.assertEqual('a', gatemove.read_records.call_args[0][1])
        self.assertEqual([], imported['cleared'])
        self.assertEqual(1, len(checks))
        # The ova and the import's files live in one work directory, gone.
        work = self.built[0][0]
        self.assertEqual(self.layout.run_dir, os.path.dirname(work))
        self.assertFalse(os.path.exists(work))
        self.assertEqual(os.path.join(work, 'import'),
                         cloud.v2v_calls[0][cloud.v2v_calls[0].index(
                             '--work-dir') + 1])
        # The server (and its port) and the image are deleted.
        self.guest.delete.assert_called_once_with()
        self.assertIn(('image', 'delete', 'img-1'), cloud.calls)

    def test_a_failed_import(self):
        cloud = FakeCloud(rc=3, out={'ok': False, 'error': 'no flavor fits',
                                     'error_type': 'PlanError'})
        cloud.out['left'] = [['port', 'port-9', 'HTTP 500']]
        moves, checks, imported = self._stage(cloud)
        self.assertFalse(imported['ok'])
        self.assertEqual(['nova-v2v import: exit 3: no flavor fits '
                          '(PlanError)',
                          'nova-v2v import left port port-9 HTTP 500'],
                         imported['problems'])
        self.assertEqual(([], []), (moves, checks))
        self.assertIsNone(imported['records_lost'])
        self.guest.adopt.assert_not_called()
        self.run_move.assert_not_called()
        self.assertFalse(any(c[:2] == ('image', 'delete')
                             for c in cloud.calls))

    def test_what_the_import_made_wrong_fails_it(self):
        self.records = {'records_written': 30, 'records_verified': 28,
                        'records_lost': 2}
        self.intact = [False, True]
        cloud = FakeCloud()
        with mock.patch.object(gateimport.gatenet, 'domain_xml',
                               return_value=_domain(bus='scsi')):
            moves, _checks, imported = self._stage(cloud)
        self.assertFalse(imported['ok'])
        self.assertEqual([
            "the domain's disks are [('vda', 'scsi')], not a root disk vda "
            "and any other on virtio",
            'records: 30 written, 28 verified, 2 lost',
            "the export's data is not on the server's disk"],
            imported['problems'])
        # The server still moves: the move's own checks are reported.
        self.assertEqual(1, len(moves))

    def test_the_data_lost_by_the_move_fails_it(self):
        self.intact = [True, False]
        moves, _checks, imported = self._stage(FakeCloud())
        self.assertTrue(imported['ok'])
        self.assertFalse(moves[0]['ok'])
        self.assertIn('the export\'s data is not on the destination\'s '
                      'disk', moves[0]['problems'])

    def test_a_boot_that_fails_deletes_what_the_import_made(self):
        self.guest.adopt.side_effect = gatemove.GateError('no write')
        cloud = FakeCloud()
        self.assertRaises(gatemove.GateError, self._stage, cloud)
        # The server and its port were the gate's before it booted.
        self.assertEqual((SERVER, {'id': 'port-1'}),
                         (self.guest.id, self.guest.port))
        self.guest.delete.assert_called_once_with()
        self.assertIn(('image', 'delete', 'img-1'), cloud.calls)
        self.assertFalse(self.found['import']['ok'])
        self.assertEqual(['GateError: no write'],
                         self.found['import']['problems'])

    def test_what_an_earlier_run_left_is_deleted_first(self):
        cloud = FakeCloud(lists={
            'server': [{'ID': 's0', 'Name': 'gate-import'}],
            'port': [{'ID': 'p0', 'Name': 'gate-import-nic0',
                      'MAC Address': ovaexport.MAC},
                     {'ID': 'p1', 'Name': 'other',
                      'MAC Address': '00:50:56:1A:2B:3C'},
                     {'ID': 'p2', 'Name': 'gate-local',
                      'MAC Address': 'fa:16:3e:00:00:01'}],
            'image': [{'ID': 'i0', 'Name': 'gate-import-disk'},
                      {'ID': 'i1', 'Name': 'lab-disk'}]})
        _moves, _checks, imported = self._stage(cloud)
        self.assertEqual([('server', 's0'), ('port', 'p0'), ('port', 'p1'),
                          ('image', 'i0')], imported['cleared'])
        self.assertIn(('server', 'list', '--name', '^gate-import$'),
                      cloud.calls)
        deletes = [c for c in cloud.calls if c[1:2] == ('delete',)]
        self.assertEqual([('server', 'delete', '--wait', 's0'),
                          ('port', 'delete', 'p0'),
                          ('port', 'delete', 'p1'),
                          ('image', 'delete', 'i0')], deletes[:4])
        # All before the import ran.
        self.assertLess(cloud.calls.index(deletes[3]),
                        cloud.calls.index(('image', 'show', 'img-1')))
