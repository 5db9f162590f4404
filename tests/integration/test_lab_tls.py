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

"""Block live migration over libvirt native TLS in the lab.

The lab is up with ``tls=True`` (a lab CA, per-host certificates, libvirtd
listening on 16514, QEMU's migration certificates).  The transport is
chosen with Nova's ``[libvirt]`` options (``nova_v2v_rig.lab.tls.Transport``).
The evidence that the connection was TLS is sampled while the migration
runs; the clients that look at it use unix sockets or run inside host b's
network namespace, never a lab address from the root namespace.
"""

import json

from testtools import content

from tests.integration import base

LAB_CLIENT_DN = 'O=nova-v2v lab,CN=labhost-a'


class TestLabTLS(base.LabTestCase):

    lab_options = {'tls': True}

    def _migrate(self, **kwargs):
        result = self.migrate_live('block-live', **kwargs)
        print('\nblock-live %s: %s' % (kwargs, json.dumps(result,
                                                          sort_keys=True)))
        self.addDetail('result', content.text_content(
            json.dumps(result, indent=2, sort_keys=True)))
        return result

    def _wrong_ca_on_a(self):
        """Host a gets all its certificates from another CA."""
        from nova_v2v_rig.lab import hosts
        from nova_v2v_rig.lab import tls
        rogue = tls.make_ca(tls.ca_dir(self.lab, 'rogue'), cn='rogue CA')
        self.addCleanup(tls.reissue, self.lab, 'a', tls.ca_dir(self.lab),
                        hosts.HOSTS)
        tls.reissue(self.lab, 'a', rogue, hosts.HOSTS)

    def assertSourceKept(self, result):
        self.assertIn('refused', result, 'the migration was not refused')
        self.assertTrue(result['source_running'], result)
        self.assertTrue(result['source_writes_after_refusal'], result)
        self.assertEqual([], result['dest_leftovers'], result)
        self.assertEqual(0, result['records_lost'], result)
        self.assertGreater(result['records_written'], 0, result)
        self.assertGreaterEqual(result['records_verified'],
                                result['records_written'], result)

    def test_block_live_over_tls(self):
        import libvirt

        from nova_v2v_rig.lab import tls
        result = self._migrate(tls=True)
        self.assertGuestMovedIntact(result)
        self.assertEqual('source job-completed event',
                         result['job_stats_from'], result)
        self.assertGreater(result['disk_bytes'], 0, result)
        # Decided by Nova's options, as Nova's libvirt driver does.
        self.assertEqual(tls.NOVA_TLS_OPTIONS, result['transport'])
        self.assertTrue(result['migration_flags'] & libvirt.VIR_MIGRATE_TLS)
        self.assertEqual(
            'qemu+tls://labhost-b/system?pkipath=/etc/libvirt/pki',
            result['migration_uri'])
        evidence = result['tls_evidence']
        # (a) The source QEMU migrated with TLS credentials.
        self.assertIn('qemu', evidence, evidence)
        self.assertTrue(evidence['qemu']['tls-creds'], evidence)
        # (b) ss inside host b's netns: host a connected to port 16514.
        self.assertIn('connections', evidence, evidence)
        self.assertTrue(any(
            c.startswith('10.77.0.2:16514 <- 10.77.0.1:')
            for c in evidence['connections']), evidence)
        # (c) host b's libvirtd: a TLS client presenting a's client cert.
        self.assertIn('clients', evidence, evidence)
        peers = [(c.get('transport'), c.get('tls_x509_dname'),
                  c.get('sock_addr', '').rsplit(':', 1)[0])
                 for c in evidence['clients']]
        self.assertIn(('tls', LAB_CLIENT_DN, '10.77.0.1'), peers)

    def test_wrong_ca_refused_by_libvirt(self):
        self._wrong_ca_on_a()
        result = self._migrate(tls=True, expect_refusal=True)
        self.assertSourceKept(result)
        self.assertIn("Failed to verify peer's certificate",
                      result['refused'])

    def test_wrong_ca_refused_by_qemu(self):
        # Only QEMU's streams over TLS (libvirt's connection plain TCP):
        # the NBD disk stream's handshake fails on the source.
        self._wrong_ca_on_a()
        result = self._migrate(
            libvirt_options={'live_migration_with_native_tls': True},
            expect_refusal=True)
        self.assertEqual('qemu+tcp://10.77.0.2/system',
                         result['migration_uri'])
        self.assertSourceKept(result)
        self.assertIn("certificate hasn't got a known issuer",
                      result['refused'])
