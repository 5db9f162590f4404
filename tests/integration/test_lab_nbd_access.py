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

"""Who a V2V cutover's NBD exports admit, on real QEMU.

The lab is up with ``tls=True`` (a lab CA, each host's QEMU certificates
in ``/etc/libvirt/pki/qemu``, which qemu.conf names).  A cutover from a
to b runs with the access Nova's destination gives its exports
(``nova_v2v.transfer.nbd.ExportAccess.for_source``): with TLS, qemu-nbd
serves only TLS and its ``authz-simple`` admits host a's client
certificate DN (read by the product from a's ``client-cert.pem``); in
every case a socket filter admits host a's address only.

Before the mirror starts, clients that must be refused dial the export:
``qemu-img info`` inside a lab namespace (``nsenter --net``, bounded by
``timeout``), never from the root namespace.  A refusal by TLS or the
authorisation is an error at once (exit status other than 124); a
connection dropped by the address filter never gets an answer (exit
status 124 of ``timeout``).  The exports must still run after them, and
the cutover must then move the guest intact through them.
"""

import json
import os
import shutil
import subprocess
import tempfile

from testtools import content

from tests.integration import base

# How long a probe may wait for an answer: a dropped SYN gets none.
PROBE_TIMEOUT = 5
TIMED_OUT = 124
LAB_CLIENT_IDENTITY = 'O=nova-v2v lab,CN=labhost-a'


def _no_qemu_nbd_left():
    left = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                if f.read().startswith(b'qemu-nbd\0'):
                    left.append(int(pid))
        except OSError:
            pass
    return left


class TestLabNBDAccess(base.LabTestCase):

    lab_options = {'tls': True}

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='nbd-access-')
        self.addCleanup(shutil.rmtree, self.work, True)

    # -- clients ----------------------------------------------------------

    def _pki(self, host):
        from nova_v2v_rig.lab import tls
        return self.lab.root_path(host, tls.QEMU_PKI_DIR)

    def _client_dir(self, name, ca_from, cert_from):
        """A QEMU client x509 dir: a CA cert and a client cert and key."""
        path = os.path.join(self.work, name)
        os.makedirs(path)
        shutil.copyfile(os.path.join(ca_from, 'ca-cert.pem'),
                        os.path.join(path, 'ca-cert.pem'))
        for name in ('client-cert.pem', 'client-key.pem'):
            shutil.copyfile(os.path.join(cert_from, name),
                            os.path.join(path, name))
        return path

    def _rogue_client_dir(self):
        """Host a's DN, issued by another CA.

        The client trusts both CAs (its own certificate must validate
        against its ``ca-cert.pem``, b's against the lab CA): only the
        server can refuse it.
        """
        from nova_v2v_rig.lab import hosts
        from nova_v2v_rig.lab import tls
        rogue = tls.make_ca(os.path.join(self.work, 'rogue-ca'),
                            cn='rogue CA')
        path = os.path.join(self.work, 'rogue')
        os.makedirs(path)
        tls.issue(rogue, 'client', hosts.HOSTS['a']['hostname'],
                  hosts.HOSTS['a']['ip'],
                  os.path.join(path, 'client-cert.pem'),
                  os.path.join(path, 'client-key.pem'))
        with open(os.path.join(path, 'ca-cert.pem'), 'w') as out:
            for ca in (os.path.join(self._pki('b'), 'ca-cert.pem'),
                       os.path.join(rogue, tls.CA_CERT)):
                with open(ca) as f:
                    out.write(f.read())
        return path

    def _dial(self, host, disk, tls_dir=None):
        """``qemu-img info`` of the export from inside host's netns."""
        opts = 'driver=nbd,host=%s,port=%d,export=%s' % (
            disk.host, disk.port, disk.name)
        cmd = ['nsenter', '--net=/run/netns/%s' % self.lab.netns(host),
               'timeout', str(PROBE_TIMEOUT), 'qemu-img', 'info']
        if tls_dir:
            cmd += ['--object', 'tls-creds-x509,id=tls0,endpoint=client,'
                    'dir=%s' % tls_dir]
            opts += ',tls-creds=tls0'
        cmd += ['--image-opts', opts]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT + 10)
        return {'from': host, 'rc': proc.returncode,
                'stdout': proc.stdout.strip()[-300:],
                'stderr': proc.stderr.strip()[-300:]}

    def _move(self, probe, **kwargs):
        from nova_v2v_rig.lab import v2v
        result = v2v.run(self.lab, 'v2v-cutover', profile='virtio',
                         export_probe=probe, **kwargs)
        print('\nv2v-cutover %s: %s' % (kwargs, json.dumps(
            result.get('nbd_access'), sort_keys=True)))
        self.addDetail('result', content.text_content(
            json.dumps(result, indent=2, sort_keys=True)))
        self.assertGuestMovedIntact(result)
        self.assertEqual([], _no_qemu_nbd_left(), 'a qemu-nbd is left')
        return result['nbd_access']

    def assertDropped(self, outcome):
        self.assertEqual(TIMED_OUT, outcome['rc'], outcome)

    def assertRefused(self, outcome):
        self.assertNotIn(outcome['rc'], (0, TIMED_OUT), outcome)

    # -- tests ------------------------------------------------------------

    def test_cutover_over_tls_admits_the_source_certificate_only(self):
        a_pki, b_pki = self._pki('a'), self._pki('b')
        clients = {
            'other-host-cert': self._client_dir('b-cert', a_pki, b_pki),
            'rogue-ca-source-dn': self._rogue_client_dir(),
            'source-cert': self._client_dir('a-cert', b_pki, a_pki),
        }

        def probe(export):
            disk = export.exports()[0]
            return {
                # From the source's address: refused by TLS / authz.
                'plain': self._dial('a', disk),
                'other-host-cert': self._dial(
                    'a', disk, clients['other-host-cert']),
                'rogue-ca-source-dn': self._dial(
                    'a', disk, clients['rogue-ca-source-dn']),
                # The source's own certificate from another address:
                # dropped by the address filter.
                'source-cert-from-b': self._dial(
                    'b', disk, clients['source-cert']),
            }

        evidence = self._move(probe, nbd_tls=True, nbd_filter=True)
        # The product read a's DN as QEMU's authz compares it.
        self.assertEqual(LAB_CLIENT_IDENTITY,
                         evidence['access']['tls_identity'])
        probes = evidence['probes']
        self.assertRefused(probes['plain'])
        self.assertRefused(probes['other-host-cert'])
        self.assertRefused(probes['rogue-ca-source-dn'])
        # Refused by the server, not by the client's own checks.
        self.assertNotIn('Our own certificate',
                         probes['rogue-ca-source-dn']['stderr'])
        self.assertDropped(probes['source-cert-from-b'])
        self.assertTrue(evidence['exports_alive_after_probes'], evidence)
        # qemu-nbd serves TLS only, admits a's DN only, on the filtered
        # socket it was handed (no --bind/--port of its own).
        for cmdline in evidence['qemu_nbd_cmdlines']:
            self.assertIsNotNone(cmdline, evidence)
            self.assertIn('--tls-creds', cmdline)
            self.assertIn('--tls-authz', cmdline)
            self.assertIn('authz-simple,id=v2v-authz,identity=O=nova-v2v '
                          'lab,,CN=labhost-a', cmdline)
            self.assertTrue(any(arg.startswith('tls-creds-x509,') and
                                'endpoint=server' in arg and
                                'verify-peer=on' in arg
                                for arg in cmdline), cmdline)
            self.assertNotIn('--bind', cmdline)
            self.assertNotIn('--port', cmdline)
        # The source's mirror connected with TLS: libvirt's block copy
        # target says so and the source's QEMU holds the client TLS
        # credentials libvirt made for it; the export refuses a client
        # without TLS ('plain') and the mirror got in sync through it.
        self.assertNotIn('mirror_error', evidence)
        self.assertTrue(evidence['mirror_xml'], evidence)
        for xml in evidence['mirror_xml']:
            self.assertIn('tls="yes"', xml)
        self.assertTrue(any('storage_tls' in name
                            for name in evidence['qemu_tls_objects']),
                        evidence)
        self.assertIn('not permitted before TLS', probes['plain']['stderr'])

    def test_plain_cutover_admits_the_source_address_only(self):
        def probe(export):
            disk = export.exports()[0]
            # The destination itself dials its export: dropped.
            return {'from-b': self._dial('b', disk)}

        evidence = self._move(probe, nbd_filter=True)
        self.assertIsNone(evidence['access']['tls_dir'])
        self.assertEqual(['10.77.0.1'],
                         list(evidence['access']['addresses']))
        self.assertDropped(evidence['probes']['from-b'])
        self.assertTrue(evidence['exports_alive_after_probes'], evidence)
        for cmdline in evidence['qemu_nbd_cmdlines']:
            self.assertIsNotNone(cmdline, evidence)
            self.assertNotIn('--tls-creds', cmdline)
            self.assertNotIn('--bind', cmdline)
        self.assertTrue(evidence['mirror_xml'], evidence)
        for xml in evidence['mirror_xml']:
            self.assertIn('tls="no"', xml)
        self.assertEqual([], evidence['qemu_tls_objects'])
