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

"""Who a cutover's exports admit, as the driver's two halves decide it."""


from nova import objects
from nova import test
from oslo_utils.fixture import uuidsentinel as uuids

from nova_v2v import exception as v2v_exception
from nova_v2v.virt.libvirt import cutover_transfer

DN = 'O=Org,CN=src'
SOURCE = {'addresses': ['192.0.2.1'], 'tls_dn': DN}
GUEST = """<domain type='kvm'><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
    <source file='/i/u/disk'/><target dev='vda' bus='virtio'/></disk>
</devices></domain>"""


class DestinationAccessTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.instance = objects.Instance(uuid=uuids.instance)
        self.commands = []

        def execute(*cmd):
            self.commands.append(cmd)
            with open(cmd[cmd.index('--pid-file') + 1], 'w') as f:
                f.write('4242\n')
            return '', ''
        self.useFixture(test.fixtures.MockPatch(
            'oslo_concurrency.processutils.execute', side_effect=execute))
        self.dir = self.useFixture(test.fixtures.TempDir()).path
        self.flags(my_ip='192.0.2.2')

    def _export(self, source=SOURCE):
        return cutover_transfer.DestinationHalf.export(
            self.instance, [('/i/u/disk', 'qcow2')], self.dir,
            source=source)

    def test_without_tls_the_source_address_only(self):
        records = self._export()
        cmd = self.commands[0]
        self.assertEqual(['nova-v2v-nbd-listen',
                          '--address', '192.0.2.2', '--port', '10810',
                          '--allow', '192.0.2.1', '--', 'qemu-nbd'],
                         list(cmd[:9]))
        self.assertNotIn('--tls-creds', cmd)
        self.assertNotIn('tls', records[0])

    def test_with_native_tls_the_source_certificate_too(self):
        self.flags(live_migration_with_native_tls=True, group='libvirt')
        self.flags(nbd_tls_x509_cert_dir='/etc/pki/qemu', group='v2v')
        records = self._export()
        cmd = self.commands[0]
        self.assertIn('tls-creds-x509,id=v2v-tls,endpoint=server,'
                      'dir=/etc/pki/qemu,verify-peer=on', cmd)
        self.assertIn('authz-simple,id=v2v-authz,identity=O=Org,,CN=src',
                      cmd)
        self.assertIn('--allow', cmd)
        self.assertTrue(records[0]['tls'])

    def test_tls_without_the_sources_dn_is_refused(self):
        self.flags(live_migration_with_native_tls=True, group='libvirt')
        e = self.assertRaises(v2v_exception.V2VCutoverFailed, self._export,
                              {'addresses': ['192.0.2.1']})
        self.assertIn('no client certificate DN', str(e))
        self.assertEqual([], self.commands)

    def test_no_identity_of_the_source_is_refused(self):
        e = self.assertRaises(v2v_exception.V2VCutoverFailed, self._export,
                              None)
        self.assertIn('recorded no identity', str(e))
        self.assertEqual([], self.commands)


class SourceIdentityTestCase(test.NoDBTestCase):

    def test_addresses_resolved_without_duplicates(self):
        self.flags(my_ip='192.0.2.1')
        self.flags(live_migration_inbound_addr='192.0.2.1', group='libvirt')
        self.assertEqual({'addresses': ['192.0.2.1']},
                         cutover_transfer.source_identity())

    def test_unresolvable_address_refuses(self):
        self.flags(my_ip='192.0.2.1')
        self.flags(live_migration_inbound_addr='nowhere.invalid',
                   group='libvirt')
        self.assertRaises(v2v_exception.V2VMigrationRefused,
                          cutover_transfer.source_identity)


class SourceDisksTestCase(test.NoDBTestCase):

    RECORD = {'path': '/i/u/disk', 'format': 'qcow2', 'name': 'v2v-u-disk',
              'host': '192.0.2.2', 'port': 10810}

    def test_tls_export_mirrored_with_tls(self):
        disks = cutover_transfer.SourceHalf.disks(
            [dict(self.RECORD, tls=True)], GUEST)
        self.assertEqual(('vda', True), (disks[0].target, disks[0].tls))

    def test_native_tls_refuses_a_plain_export(self):
        self.flags(live_migration_with_native_tls=True, group='libvirt')
        e = self.assertRaises(v2v_exception.V2VCutoverFailed,
                              cutover_transfer.SourceHalf.disks,
                              [self.RECORD], GUEST)
        self.assertIn('without TLS', str(e))

    def test_plain_export_without_native_tls(self):
        disks = cutover_transfer.SourceHalf.disks([self.RECORD], GUEST)
        self.assertIsNone(disks[0].tls)

    def test_tls_export_checked_against_the_name_nova_migrates_to(self):
        # The export listens on the destination's address; its QEMU
        # certificate may name the host only, as for Nova's own native
        # TLS migration to it.
        disks = cutover_transfer.SourceHalf.disks(
            [dict(self.RECORD, tls=True)], GUEST,
            tls_hostname='dest.example.org')
        self.assertEqual('dest.example.org', disks[0].tls_hostname)

    def test_tls_hostname_of_the_address_itself_is_left_out(self):
        disks = cutover_transfer.SourceHalf.disks(
            [dict(self.RECORD, tls=True)], GUEST, tls_hostname='192.0.2.2')
        self.assertIsNone(disks[0].tls_hostname)

    def test_no_tls_hostname_without_tls(self):
        disks = cutover_transfer.SourceHalf.disks(
            [self.RECORD], GUEST, tls_hostname='dest.example.org')
        self.assertIsNone(disks[0].tls_hostname)

    def test_tls_hostname_as_novas_native_tls(self):
        # Nova's live migration connects to the destination's
        # live_migration_inbound_addr when it has one, else to its name.
        data = objects.LibvirtLiveMigrateData()
        self.assertEqual('dest', cutover_transfer.tls_hostname('dest', data))
        data.target_connect_addr = None
        self.assertEqual('dest', cutover_transfer.tls_hostname('dest', data))
        data.target_connect_addr = '198.51.100.2'
        self.assertEqual('198.51.100.2',
                         cutover_transfer.tls_hostname('dest', data))


class RecordTestCase(test.NoDBTestCase):

    def test_source_peer_round_trip(self):
        from nova_v2v.virt.libvirt import record as v2v_record
        instance = objects.Instance(uuid=uuids.instance, system_metadata={})
        record = v2v_record.MigrationRecord.carried(None, instance)
        self.assertIsNone(record.source_peer)
        record.set_source_peer(SOURCE)
        self.assertEqual(SOURCE, record.source_peer)
        self.assertEqual(SOURCE, v2v_record.MigrationRecord.carried(
            None, instance).source_peer)
        record.set_source_peer(None)
        self.assertEqual({}, instance.system_metadata)
