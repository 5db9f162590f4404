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

import gzip
import lzma
import os
import re
import stat
import subprocess
import tempfile
from unittest import mock

import fixtures
import testtools

from nova_v2v_rig.lab import guest


def _say_texts(script):
    """The first word of what each say call of a script prints."""
    return re.findall(r'\bsay "([^"$ ]*)', script)


def _unpack_newc(data):
    """{name: (mode, bytes)} of a cpio newc archive."""
    files = {}
    pos = 0
    while True:
        hdr = data[pos:pos + 110]
        assert hdr[:6] == b'070701', hdr
        fields = [int(hdr[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        pos += 110
        name = data[pos:pos + namesize - 1].decode()
        pos += namesize
        pos += (4 - pos % 4) % 4
        body = data[pos:pos + size]
        pos += size
        pos += (4 - pos % 4) % 4
        if name == 'TRAILER!!!':
            return files
        files[name] = (mode, body)


class TestInit(testtools.TestCase):

    def test_says_nothing_the_rig_parses(self):
        # The rig parses W, LABSTART, LABSTOP, LABERR (and LABPROBE): the
        # network says LABNET only.
        self.assertEqual(['LABNET', 'LABNET'],
                         _say_texts(guest.UDHCPC_SCRIPT))
        # The init's own lines are the ones it always said.
        self.assertEqual(['LABPROBE', 'LABERR', 'LABSTART', 'LABERR',
                          'LABERR', 'W', 'LABSTOP'],
                         _say_texts(guest.WORKLOAD_INIT))

    def test_network_starts_after_the_first_record_in_background(self):
        init = guest.WORKLOAD_INIT
        start = init.index('net_up </dev/null >/dev/null 2>&1 &')
        self.assertGreater(start, init.index('say "W $n $ts"'))
        self.assertGreater(start, init.index('while [ ! -e /tmp/stop ]'))
        # Once: the flag is cleared before the job starts.
        self.assertLess(init.index('        net=\n', init.index(
            'say "W $n $ts"')), start)
        # Nothing before the function waits for a NIC.
        before = '\n'.join(
            line for line in init[:init.index('net_up()')].splitlines()
            if not line.lstrip().startswith('#'))
        self.assertNotIn('modules.net', before)
        self.assertNotIn('udhcpc', before)
        self.assertNotIn('/sys/class/net', before)

    def test_bring_up_is_bounded_and_keeps_the_lease(self):
        body = guest.WORKLOAD_INIT[
            guest.WORKLOAD_INIT.index('net_up() {'):]
        body = body[:body.index('\n}\n')]
        self.assertIn('for m in $(cat /etc/modules.net)', body)
        self.assertIn('ip link set lo up', body)
        self.assertIn('[ $i -lt 5 ]', body)
        # -f: no fork to the background of its own, no -q/-n: it stays,
        # renews and retries forever.
        self.assertIn('udhcpc -f -i "$nic" -s /etc/udhcpc.script', body)
        self.assertNotIn(' -q', body)
        self.assertNotIn(' -n', body)


class TestUdhcpcScript(testtools.TestCase):
    """The script run by sh with its paths in a temp dir, ip faked."""

    def setUp(self):
        super(TestUdhcpcScript, self).setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        for d in ('bin', 'run', 'net/eth0/device'):
            os.makedirs(os.path.join(self.tmp, d))
        with open(os.path.join(self.tmp, 'net/eth0/address'), 'w') as f:
            f.write('fa:16:3e:00:00:01\n')
        os.symlink('../../../bus/virtio/drivers/virtio_net',
                   os.path.join(self.tmp, 'net/eth0/device/driver'))
        self.kmsg = os.path.join(self.tmp, 'kmsg')
        self.ip_log = os.path.join(self.tmp, 'ip.log')
        ip = os.path.join(self.tmp, 'bin', 'ip')
        with open(ip, 'w') as f:
            f.write('#!/bin/sh\necho "$*" >> %s\n' % self.ip_log)
        os.chmod(ip, 0o755)
        script = guest.UDHCPC_SCRIPT
        for real, fake in (('export PATH=/bin',
                            'export PATH=%s/bin:/bin:/usr/bin' % self.tmp),
                           ('/dev/kmsg', self.kmsg),
                           ('/var/run/', self.tmp + '/run/'),
                           ('/sys/class/net/', self.tmp + '/net/')):
            self.assertIn(real, script)
            script = script.replace(real, fake)
        self.script = os.path.join(self.tmp, 'udhcpc.script')
        with open(self.script, 'w') as f:
            f.write(script)

    def _event(self, event, **env):
        for path in (self.kmsg, self.ip_log):
            if os.path.exists(path):
                os.unlink(path)
        env = dict(env, interface='eth0')
        subprocess.run(['sh', self.script, event], env=env, check=True,
                       timeout=30)
        said = ip = ''
        if os.path.exists(self.kmsg):
            with open(self.kmsg) as f:
                said = f.read()
        if os.path.exists(self.ip_log):
            with open(self.ip_log) as f:
                ip = f.read()
        return said, ip

    def test_lease_lifecycle(self):
        # udhcpc starts with a deconfig: no lease, nothing said.
        said, ip = self._event('deconfig')
        self.assertEqual('', said)
        self.assertEqual('-4 addr flush dev eth0\nlink set eth0 up\n', ip)
        said, ip = self._event('bound', ip='10.78.0.100', mask='24',
                               broadcast='10.78.0.255', router='10.78.0.1')
        self.assertEqual('<5>LABNET eth0 mac=fa:16:3e:00:00:01 '
                         'ip=10.78.0.100/24 driver=virtio_net\n', said)
        self.assertEqual('-4 addr flush dev eth0\n'
                         'addr add 10.78.0.100/24 broadcast 10.78.0.255 '
                         'dev eth0\n'
                         'route replace default via 10.78.0.1 dev eth0\n',
                         ip)
        # A renewal of the same address: quiet, the address untouched.
        said, ip = self._event('renew', ip='10.78.0.100', mask='24')
        self.assertEqual('', said)
        self.assertEqual('', ip)
        # Another address: said again.
        said, ip = self._event('renew', ip='10.78.0.101', mask='24')
        self.assertEqual('<5>LABNET eth0 mac=fa:16:3e:00:00:01 '
                         'ip=10.78.0.101/24 driver=virtio_net\n', said)
        self.assertIn('addr add 10.78.0.101/24 broadcast + dev eth0', ip)
        self.assertEqual(
            [guest.NetEvent('eth0', 'bound', 'fa:16:3e:00:00:01',
                            '10.78.0.101', 24, 'virtio_net')],
            guest.net_events(said.replace('<5>', '')))
        # The lease lost, once.
        said, _ip = self._event('deconfig')
        self.assertEqual('<5>LABNET eth0 lost ip=10.78.0.101/24\n', said)
        self.assertEqual(
            [guest.NetEvent('eth0', 'lost', None, '10.78.0.101', 24, None)],
            guest.net_events(said.replace('<5>', '')))
        said, _ip = self._event('deconfig')
        self.assertEqual('', said)
        # No answer: nothing said.
        said, ip = self._event('leasefail')
        self.assertEqual(('', ''), (said, ip))


class TestNetEvents(testtools.TestCase):

    def test_events_in_a_serial_log(self):
        log = ('LABSTART disk=/dev/vda driver=virtio_blk resume=1\n'
               'W 1 100.000001\n'
               'LABNET eth0 mac=fa:16:3e:00:00:01 ip=10.77.1.23/24 '
               'driver=vmxnet3\n'
               'W 2 100.050001\n'
               '[   12.345678] LABNET eth0 lost ip=10.77.1.23/24\n'
               'LABNET eth1 mac=fa:16:3e:00:00:02 ip=10.77.1.24/25 '
               'driver=virtio_net\r\n'
               'XLABNET eth0 mac=x ip=1.2.3.4/8 driver=y\n'
               'LABNET eth0 mac=fa:16:3e:00:00:01 ip=10.77.1.23/24 dri\n')
        self.assertEqual([
            guest.NetEvent('eth0', 'bound', 'fa:16:3e:00:00:01',
                           '10.77.1.23', 24, 'vmxnet3'),
            guest.NetEvent('eth0', 'lost', None, '10.77.1.23', 24, None),
            guest.NetEvent('eth1', 'bound', 'fa:16:3e:00:00:02',
                           '10.77.1.24', 25, 'virtio_net'),
        ], guest.net_events(log))

    def test_none(self):
        self.assertEqual([], guest.net_events('W 1 1.0\nLABSTOP last=1\n'))


class TestRecipe(testtools.TestCase):

    def test_changes_with_everything_in_the_archive(self):
        base = guest.recipe('0' * 64)
        self.assertEqual(base, guest.recipe('0' * 64))
        self.assertNotEqual(base, guest.recipe('1' * 64))
        for name in ('WORKLOAD_INIT', 'UDHCPC_SCRIPT', 'ACPI_POWER'):
            with mock.patch.object(guest, name,
                                   getattr(guest, name) + '\n'):
                self.assertNotEqual(base, guest.recipe('0' * 64), name)
        for name in ('GUEST_MODULES', 'NET_MODULES'):
            with mock.patch.object(guest, name,
                                   getattr(guest, name) + ('x',)):
                self.assertNotEqual(base, guest.recipe('0' * 64), name)
        # Moving a module from one list to the other is a change.
        with mock.patch.object(guest, 'GUEST_MODULES',
                               guest.GUEST_MODULES + ('virtio_net',)), \
                mock.patch.object(guest, 'NET_MODULES', ('vmxnet3',)):
            self.assertNotEqual(base, guest.recipe('0' * 64))


class TestModules(testtools.TestCase):

    def test_nic_drivers_load_in_the_background_only(self):
        self.assertEqual(('virtio_net', 'vmxnet3'), guest.NET_MODULES)
        self.assertEqual(set(), set(guest.NET_MODULES) &
                         set(guest.GUEST_MODULES))

    @mock.patch.object(guest.processutils, 'execute')
    def test_module_order(self, execute):
        outputs = {
            'virtio_pci': 'insmod /k/virtio.ko\ninsmod /k/virtio_pci.ko\n',
            'button': 'builtin button\n',
            'virtio_net': ('insmod /k/virtio.ko\ninsmod /k/failover.ko\n'
                           'insmod /k/virtio_net.ko\n'),
            'e1000': '',
        }

        def run(*args, **kwargs):
            return outputs[args[-1]], ''
        execute.side_effect = run
        paths, missing = guest._module_order(
            '/k', '6.1', ('virtio_pci', 'button'))
        self.assertEqual((['/k/virtio.ko', '/k/virtio_pci.ko'], []),
                         (paths, missing))
        net, missing = guest._module_order(
            '/k', '6.1', ('virtio_net', 'e1000'), loaded=paths)
        self.assertEqual(['/k/failover.ko', '/k/virtio_net.ko'], net)
        self.assertEqual(['e1000'], missing)


class TestBuildInitramfs(testtools.TestCase):

    def setUp(self):
        super(TestBuildInitramfs, self).setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        busybox = os.path.join(self.tmp, 'busybox')
        with open(busybox, 'wb') as f:
            f.write(b'\x7fELF busybox')
        self.useFixture(fixtures.MockPatchObject(guest, 'BUSYBOX', busybox))
        self.kroot = os.path.join(self.tmp, 'kroot')
        os.makedirs(self.kroot)
        self.modules = {}
        for name in ('virtio_pci', 'virtio_net', 'vmxnet3'):
            path = os.path.join(self.kroot, name + '.ko.xz')
            self.modules[name] = path
            with open(path, 'wb') as f:
                f.write(lzma.compress(name.encode()))

    def _order(self, kroot, version, modules, loaded=()):
        paths = [self.modules[m] for m in modules if m in self.modules]
        return paths, [m for m in modules if m not in self.modules]

    @mock.patch.object(guest.processutils, 'execute')
    def test_archive_and_cache(self, execute):
        with mock.patch.object(guest, '_module_order',
                               side_effect=self._order), \
                mock.patch.object(guest, 'GUEST_MODULES',
                                  ('virtio_pci',)):
            initrd = guest.build_initramfs(self.tmp, self.kroot, '6.1')
            self.assertEqual(
                'initrd-6.1-%s.gz' % guest.recipe(
                    guest.file_digest(guest.BUSYBOX)),
                os.path.basename(initrd))
            with gzip.open(initrd) as f:
                files = _unpack_newc(f.read())
            # A second build is the cached file: nothing run.
            execute.reset_mock()
            self.assertEqual(initrd, guest.build_initramfs(
                self.tmp, self.kroot, '6.1'))
            execute.assert_not_called()
        mode, init = files['init']
        self.assertEqual(guest.WORKLOAD_INIT.encode(), init)
        mode, script = files['etc/udhcpc.script']
        self.assertEqual(guest.UDHCPC_SCRIPT.encode(), script)
        self.assertEqual(0o755, stat.S_IMODE(mode))
        self.assertTrue(stat.S_ISREG(mode))
        self.assertEqual(b'virtio_pci.ko\n', files['etc/modules.order'][1])
        self.assertEqual(b'virtio_net.ko\nvmxnet3.ko\n',
                         files['etc/modules.net'][1])
        self.assertEqual(b'vmxnet3',
                         files['lib/modules/vmxnet3.ko'][1])
        self.assertTrue(stat.S_ISDIR(files['var/run'][0]))

    @mock.patch.object(guest.processutils, 'execute')
    def test_a_missing_driver_is_an_error(self, execute):
        with mock.patch.object(guest, '_module_order',
                               side_effect=self._order), \
                mock.patch.object(guest, 'GUEST_MODULES',
                                  ('virtio_pci',)), \
                mock.patch.object(guest, 'NET_MODULES',
                                  ('virtio_net', 'e1000')):
            exc = self.assertRaises(RuntimeError, guest.build_initramfs,
                                    self.tmp, self.kroot, '6.1')
        self.assertIn('has no module e1000', str(exc))
        self.assertEqual([], [f for f in os.listdir(self.tmp)
                              if f.startswith('initrd-')])


class TestFileDigest(testtools.TestCase):

    def test_digest(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b'abc')
            f.flush()
            self.assertEqual('ba7816bf8f01cfea414140de5dae2223b00361a396177'
                             'a9cb410ff61f20015ad', guest.file_digest(f.name))
