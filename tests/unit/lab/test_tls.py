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

"""The lab's TLS: Nova's options -> transport, URIs, flags, settings."""

import os
import shutil
import stat
import tempfile
import threading
import time
from unittest import mock

import fixtures
import libvirt
from oslo_config import fixture as config_fixture
import testtools

from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import live
from nova_v2v_rig.lab import tls


class TestTransport(testtools.TestCase):

    def test_default_is_plain_tcp(self):
        transport = tls.Transport.from_options()
        self.assertEqual((False, 'tcp'), transport)
        self.assertFalse(transport.needs_certificates)

    def test_tls_is_both_nova_options(self):
        transport = tls.Transport.from_options(tls=True)
        self.assertEqual((True, 'tls'), transport)
        self.assertEqual({'live_migration_with_native_tls': True,
                          'live_migration_scheme': 'tls'},
                         transport.options())
        self.assertEqual(tls.NOVA_TLS_OPTIONS, transport.options())

    def test_options_one_by_one(self):
        only_qemu = tls.Transport.from_options(
            {'live_migration_with_native_tls': True})
        self.assertEqual((True, 'tcp'), only_qemu)
        self.assertTrue(only_qemu.needs_certificates)
        only_libvirt = tls.Transport.from_options(
            {'live_migration_scheme': 'tls'})
        self.assertEqual((False, 'tls'), only_libvirt)
        self.assertTrue(only_libvirt.needs_certificates)
        # An explicit option wins over the tls shorthand.
        self.assertEqual((True, 'tcp'), tls.Transport.from_options(
            {'live_migration_scheme': None}, tls=True))

    def test_unknown_option_refused(self):
        self.assertRaises(tls.TLSError, tls.Transport.from_options,
                          {'live_migration_with_tls': True})

    def test_from_nova_conf(self):
        # Nova's own option definitions, as the compute service reads them.
        import nova.conf
        fixture = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.assertEqual((False, 'tcp'),
                         tls.Transport.from_conf(nova.conf.CONF))
        fixture.config(group='libvirt', live_migration_with_native_tls=True,
                       live_migration_scheme='tls')
        self.assertEqual((True, 'tls'),
                         tls.Transport.from_conf(nova.conf.CONF))

    def test_from_config_file(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'nova.conf')
        with open(path, 'w') as f:
            f.write('[libvirt]\nlive_migration_with_native_tls = true\n'
                    'live_migration_scheme = tls\n')
        self.assertEqual((True, 'tls'),
                         tls.Transport.from_config_files([path]))
        with open(path, 'w') as f:
            f.write('[libvirt]\n')
        self.assertEqual((False, 'tcp'),
                         tls.Transport.from_config_files([path]))


class TestURIAndFlags(testtools.TestCase):

    def test_tcp_uri_unchanged(self):
        self.assertEqual('qemu+tcp://10.77.0.2/system',
                         tls.uri('10.77.0.2', 'labhost-b'))
        self.assertEqual('qemu+tcp://10.77.0.2/system',
                         hosts.Lab('/nonexistent').lab_uri('b'))

    def test_tls_uri_by_hostname_with_pkipath(self):
        self.assertEqual(
            'qemu+tls://labhost-b/system?pkipath=/etc/libvirt/pki',
            hosts.Lab('/nonexistent').lab_uri('b', 'tls'))
        self.assertEqual('qemu+tls://h/system',
                         tls.uri('10.0.0.1', 'h', 'tls', pkipath=None))

    def test_flags(self):
        plain = live.build_flags(block=True)
        self.assertFalse(plain & libvirt.VIR_MIGRATE_TLS)
        with_tls = live.build_flags(block=True, tls=True)
        self.assertEqual(plain | libvirt.VIR_MIGRATE_TLS, with_tls)
        self.assertTrue(live.build_flags(trust_shared=True, tls=True) &
                        libvirt.VIR_MIGRATE_TLS)

    def test_flags_match_nova(self):
        # The same bit Nova's _handle_native_tls adds.
        import nova.conf
        from nova.virt.libvirt import driver as nova_driver
        fixture = self.useFixture(config_fixture.Config(nova.conf.CONF))
        fixture.config(group='libvirt', live_migration_with_native_tls=True)
        nova_flags = nova_driver.LibvirtDriver._handle_native_tls(
            mock.sentinel.self, 0)
        self.assertEqual(nova_flags, live.build_flags(tls=True) ^
                         live.build_flags())


class TestSettings(testtools.TestCase):

    def test_libvirtd_disabled(self):
        self.assertEqual(['listen_tls = 0'], tls.libvirtd_settings(False))

    def test_libvirtd_enabled(self):
        text = '\n'.join(tls.libvirtd_settings(True))
        for line in ('listen_tls = 1', 'tls_port = "16514"',
                     'ca_file = "/etc/libvirt/pki/cacert.pem"',
                     'cert_file = "/etc/libvirt/pki/servercert.pem"',
                     'key_file = "/etc/libvirt/pki/serverkey.pem"',
                     'tls_no_verify_certificate = 0',
                     'tls_allowed_dn_list = ["O=nova-v2v lab,CN=labhost-*"]'):
            self.assertIn(line, text.splitlines())

    def test_qemu(self):
        self.assertEqual([], tls.qemu_settings(False))
        lines = tls.qemu_settings(True)
        self.assertIn('migrate_tls_x509_cert_dir = "/etc/libvirt/pki/qemu"',
                      lines)
        self.assertIn('migrate_tls_x509_verify = 1', lines)

    def test_lab_configs(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        lab = hosts.Lab(tmp)
        lab._write_configs('b', tls=True)
        with open(os.path.join(tmp, 'host-b', 'etc', 'libvirtd.conf')) as f:
            libvirtd = f.read().splitlines()
        with open(os.path.join(tmp, 'host-b', 'etc', 'qemu.conf')) as f:
            qemu = f.read().splitlines()
        self.assertIn('listen_tls = 1', libvirtd)
        self.assertIn('listen_tcp = 1', libvirtd)
        self.assertIn('listen_addr = "10.77.0.2"', libvirtd)
        self.assertIn('migrate_tls_x509_verify = 1', qemu)
        lab._write_configs('b')
        with open(os.path.join(tmp, 'host-b', 'etc', 'libvirtd.conf')) as f:
            self.assertIn('listen_tls = 0', f.read().splitlines())

    def test_extensions(self):
        server = tls._extensions('server', 'labhost-a', '10.77.0.1')
        self.assertIn('subjectAltName = DNS:labhost-a, IP:10.77.0.1', server)
        self.assertIn('extendedKeyUsage = serverAuth', server)
        self.assertIn('CA:FALSE', server)
        self.assertIn('extendedKeyUsage = clientAuth',
                      tls._extensions('client', 'labhost-a', '10.77.0.1'))
        self.assertIn('CA:TRUE', tls._extensions('ca'))
        self.assertRaises(ValueError, tls._extensions, 'peer')


class TestParsers(testtools.TestCase):

    def test_client_list(self):
        text = (' Id    Transport   Connected since\n'
                '-------------------------------------------\n'
                ' 1     unix        2026-11-26 06:31:20+0000\n'
                ' 4     tls         2026-11-26 06:31:28+0000\n')
        self.assertEqual([{'id': 1, 'transport': 'unix'},
                          {'id': 4, 'transport': 'tls'}],
                         tls.parse_client_list(text))

    def test_client_info(self):
        text = ('id             : 4\ntransport      : tls\n'
                'sock_addr      : 10.77.0.1:49564\n'
                'tls_x509_dname : O=nova-v2v lab,CN=labhost-a\n')
        info = tls.parse_client_info(text)
        self.assertEqual('tls', info['transport'])
        self.assertEqual('O=nova-v2v lab,CN=labhost-a',
                         info['tls_x509_dname'])
        self.assertEqual('10.77.0.1:49564', info['sock_addr'])

    def test_ss(self):
        text = ('ESTAB 0 0 10.77.0.2:16514 10.77.0.1:49564\n'
                'ESTAB 0 0 10.77.0.2:16509 10.77.0.1:40000\n'
                'TIME-WAIT 0 0 10.77.0.2:16514 10.77.0.1:40001\n')
        self.assertEqual([('10.77.0.2:16514', '10.77.0.1:49564')],
                         tls.parse_ss(text))

    def test_tls_params(self):
        self.assertIsNone(tls._tls_params({'tls-creds': ''}))
        self.assertEqual({'tls-creds': 'objlibvirt_migrate_tls0',
                          'tls-hostname': '10.77.0.2'},
                         tls._tls_params({'tls-creds':
                                          'objlibvirt_migrate_tls0',
                                          'tls-hostname': '10.77.0.2'}))


class TestEvidence(testtools.TestCase):

    def test_complete_needs_what_the_transport_uses(self):
        ev = tls.Evidence(mock.Mock(), 'b', tls.Transport(True, 'tcp'))
        self.assertFalse(ev.complete())
        ev.found['qemu'] = {'tls-creds': 'x'}
        self.assertTrue(ev.complete())
        ev = tls.Evidence(mock.Mock(), 'b', tls.Transport(True, 'tls'))
        ev.found['qemu'] = {'tls-creds': 'x'}
        self.assertFalse(ev.complete())

    @mock.patch.object(tls, 'tls_clients', return_value=[{'transport':
                                                         'tls'}])
    @mock.patch.object(tls, 'established', side_effect=[
        [], ['10.77.0.2:16514 <- 10.77.0.1:1']])
    @mock.patch.object(tls, 'migrate_parameters',
                       side_effect=RuntimeError('monitor busy'))
    def test_sample_until_complete(self, params, est, clients):
        ev = tls.Evidence(mock.Mock(), 'b', tls.Transport(False, 'tls'))
        ev.sample(mock.Mock())
        self.assertEqual({'clients'}, set(ev.found))
        ev.sample(mock.Mock())
        ev.sample(mock.Mock())  # complete: no more probes
        self.assertEqual(2, est.call_count)
        self.assertEqual(1, clients.call_count)
        params.assert_not_called()
        self.assertEqual(2, ev.as_dict()['samples'])

    def test_watch_samples_in_its_thread_until_complete(self):
        ev = tls.Evidence(mock.Mock(), 'b', tls.Transport(True, 'tcp'))
        answers = [{}, {}, {'tls-creds': 'objlibvirt_migrate_tls0'}]
        with mock.patch.object(tls, 'migrate_parameters',
                               side_effect=answers + [{}] * 100) as params:
            ev.watch(mock.Mock(), interval=0.01)
            ev._thread.join(5)
            self.assertFalse(ev._thread.is_alive())
            ev.stop()
        self.assertEqual({'tls-creds': 'objlibvirt_migrate_tls0',
                          'tls-hostname': None}, ev.found['qemu'])
        self.assertEqual(3, params.call_count)
        self.assertEqual(3, ev.as_dict()['samples'])

    def test_stop_ends_an_incomplete_watch(self):
        ev = tls.Evidence(mock.Mock(), 'b', tls.Transport(True, 'tcp'))
        sampled = threading.Event()

        def params(dom):
            sampled.set()
            return {}
        with mock.patch.object(tls, 'migrate_parameters',
                               side_effect=params):
            ev.watch(mock.Mock(), interval=0.01)
            self.assertTrue(sampled.wait(5))
            thread = ev._thread
            ev.stop()
            self.assertFalse(thread.is_alive())
            samples = ev.samples
            time.sleep(0.05)
        self.assertEqual(samples, ev.samples)
        self.assertNotIn('qemu', ev.found)

    def test_probe_errors_are_kept(self):
        ev = tls.Evidence(mock.Mock(), 'b', tls.Transport(True, 'tcp'))
        with mock.patch.object(tls, 'migrate_parameters',
                               side_effect=RuntimeError('boom')):
            ev.sample(mock.Mock())
        self.assertEqual(['qemu: boom'], ev.as_dict()['errors'])


class TestCertificates(testtools.TestCase):
    """Real openssl, in a temporary directory (no lab needed)."""

    def setUp(self):
        super(TestCertificates, self).setUp()
        if not shutil.which(tls.OPENSSL):
            self.skipTest('openssl is not installed')
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_ca_and_host(self):
        ca = tls.make_ca(os.path.join(self.tmp, 'ca'))
        self.assertEqual(0o700, stat.S_IMODE(os.stat(ca).st_mode))
        pki = os.path.join(self.tmp, 'pki')
        tls.install_host(ca, pki, 'labhost-a', '10.77.0.1')
        self.assertEqual(
            sorted(['cacert.pem', 'servercert.pem', 'serverkey.pem',
                    'clientcert.pem', 'clientkey.pem', 'qemu']),
            sorted(os.listdir(pki)))
        self.assertEqual(sorted(tls.QEMU_NAMES.values()),
                         sorted(os.listdir(os.path.join(pki, 'qemu'))))
        for key in ('serverkey.pem', 'clientkey.pem', 'qemu/server-key.pem',
                    'qemu/client-key.pem'):
            self.assertEqual(0o600, stat.S_IMODE(
                os.stat(os.path.join(pki, key)).st_mode), key)
        from oslo_concurrency import processutils
        out, _ = processutils.execute(
            'openssl', 'x509', '-noout', '-subject', '-ext',
            'subjectAltName,extendedKeyUsage', '-in',
            os.path.join(pki, 'servercert.pem'))
        self.assertIn('CN = labhost-a', out)
        self.assertIn('DNS:labhost-a, IP Address:10.77.0.1', out)
        self.assertIn('TLS Web Server Authentication', out)

    def test_other_ca_not_trusted(self):
        ca = tls.make_ca(os.path.join(self.tmp, 'ca'))
        rogue = tls.make_ca(os.path.join(self.tmp, 'rogue'))
        pki = os.path.join(self.tmp, 'pki')
        tls.install_host(rogue, pki, 'labhost-b', '10.77.0.2')
        from oslo_concurrency import processutils
        self.assertRaises(
            processutils.ProcessExecutionError, processutils.execute,
            'openssl', 'verify', '-CAfile', os.path.join(ca, 'cacert.pem'),
            os.path.join(pki, 'servercert.pem'))
