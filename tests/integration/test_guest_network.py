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

"""The lab guest on a network (nova_v2v_rig.lab.guest): DHCP and ICMP.

No lab, no libvirt: each test boots the lab guest's kernel and initramfs
(built as the lab builds them, in the lab's cache) with QEMU, its NIC on
a tap device inside a network namespace of the test's own
(``nv2v-gnet-<test>``, 10.78.0.0/24), where busybox udhcpd serves
addresses.  With a vmxnet3 NIC, then (a V2V cutover's NIC change) booted
again from the same disk with a virtio NIC of the same MAC, the guest
must print one ``LABNET`` line with that MAC, the same address of the
pool both times, answer pings sent from inside the namespace, and write
its records all along, resuming after the last.  With an e1000 NIC (no
driver in Debian's cloud kernel) or none, it writes and says no
``LABNET``.

Network safety: the root namespace holds an ``unreachable`` route for
10.78.0.0/24 from before anything is created until everything is gone,
so nothing in it can send there; DHCP and pings run inside the
namespace only, pings bounded in count and time.  Every test removes
its namespace (with its tap), QEMU, udhcpd and the route in every path.
Missing prerequisites fail the tests, never skip them.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from oslo_concurrency import processutils
import testtools
from testtools import content

SUBNET = '10.78.0.0/24'
GATEWAY = '10.78.0.1'
POOL = ('10.78.0.100', '10.78.0.149')
TAP = 'tapg0'
# Bounds: the guest's boot under TCG on a loaded machine plus its DHCP.
LABNET_TIMEOUT = 180
# Without a usable NIC: how long the guest is watched for a LABNET line
# once it writes records (its bring-up gives up after 5 s).
QUIET_WATCH = 8

_RECORD = re.compile(r'^W (\d+) ', re.MULTILINE)

# Executables, with the Debian package of each (bindep.txt, "test").
TOOLS = (
    ('qemu-system-x86_64', 'qemu-system-x86'),
    ('busybox', 'busybox-static'),
    ('ip', 'iproute2'),
    ('depmod', 'kmod'),
    ('modprobe', 'kmod'),
    ('apt-get', 'apt'),
    ('dpkg-deb', 'dpkg'),
    ('timeout', 'coreutils'),
)


def missing_prerequisites():
    problems = []
    if os.geteuid() != 0:
        problems.append('needs root (network namespaces, tap devices)')
    missing = [(tool, pkg) for tool, pkg in TOOLS if not shutil.which(tool)]
    if missing:
        problems.append('missing %s; install with: apt-get install %s' % (
            ', '.join(t for t, _p in missing),
            ' '.join(sorted({p for _t, p in missing}))))
    return problems


def _ip_int(address):
    a, b, c, d = (int(x) for x in address.split('.'))
    return (a << 24) | (b << 16) | (c << 8) | d


class TestGuestNetwork(testtools.TestCase):
    """One guest per NIC model, each on a namespace of its own."""

    image = None
    accel = None
    setup_error = None

    @classmethod
    def setUpClass(cls):
        super(TestGuestNetwork, cls).setUpClass()
        problems = missing_prerequisites()
        if problems:
            cls.setup_error = 'cannot run here: %s' % '; '.join(problems)
            return
        from nova_v2v_rig.lab import accel
        from nova_v2v_rig.lab import guest
        from nova_v2v_rig.lab import hosts
        cache_dir = hosts.Lab(os.environ.get(
            'NOVA_V2V_LAB_STATE', hosts.DEFAULT_STATE_DIR)).cache_dir
        try:
            cls.image = guest.build(cache_dir)
            virt_type, reason = accel.detect(
                cls.image, cache_file=os.path.join(cache_dir, 'accel'))
        except Exception as exc:
            cls.setup_error = 'building the guest failed: %s: %s' % (
                type(exc).__name__, exc)
            return
        cls.accel = 'kvm' if virt_type == 'kvm' else 'tcg'
        cls.accel_reason = reason

    def setUp(self):
        super(TestGuestNetwork, self).setUp()
        if self.setup_error:
            self.fail(self.setup_error)
        self.tmp = tempfile.mkdtemp(prefix='nv2v-gnet-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.serial_logs = []
        self.addDetail('accel', content.text_content(
            '%s (%s)' % (self.accel, self.accel_reason)))
        # Read before the temp dir goes (cleanups run last in, first out).
        self.addCleanup(self._attach_serial)

    def _attach_serial(self):
        for path in self.serial_logs:
            try:
                with open(path, 'rb') as f:
                    data = f.read()
            except OSError:
                data = b'(no serial log)'
            self.addDetail(os.path.basename(path), content.Content(
                content.UTF8_TEXT, lambda data=data: [data]))

    @staticmethod
    def _serial(path):
        try:
            with open(path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    # -- the namespace ----------------------------------------------------
    def _network(self, name):
        """The route, the namespace, its tap and udhcpd; their clean-up."""
        ns = 'nv2v-gnet-%s' % name
        # First the root namespace's guard, last its removal.
        processutils.execute('ip', 'route', 'replace', 'unreachable',
                             SUBNET)
        self.addCleanup(processutils.execute, 'ip', 'route', 'del',
                        'unreachable', SUBNET, check_exit_code=False)
        processutils.execute('ip', 'netns', 'del', ns,
                             check_exit_code=False)
        processutils.execute('ip', 'netns', 'add', ns)
        self.addCleanup(processutils.execute, 'ip', 'netns', 'del', ns,
                        check_exit_code=False)
        for args in (('link', 'set', 'lo', 'up'),
                     ('tuntap', 'add', 'dev', TAP, 'mode', 'tap'),
                     ('addr', 'add', GATEWAY + '/24', 'dev', TAP),
                     ('link', 'set', TAP, 'up')):
            processutils.execute('ip', '-n', ns, *args)
        conf = os.path.join(self.tmp, 'udhcpd.conf')
        with open(conf, 'w') as f:
            f.write('start %s\nend %s\ninterface %s\n'
                    'lease_file %s\npidfile %s\n'
                    'option subnet 255.255.255.0\n'
                    'option router %s\noption lease 600\n'
                    % (POOL[0], POOL[1], TAP,
                       os.path.join(self.tmp, 'udhcpd.leases'),
                       os.path.join(self.tmp, 'udhcpd.pid'), GATEWAY))
        open(os.path.join(self.tmp, 'udhcpd.leases'), 'w').close()
        self._spawn('udhcpd', ['ip', 'netns', 'exec', ns, 'busybox',
                               'udhcpd', '-f', '-a', '200', conf])
        return ns

    def _spawn(self, what, argv):
        """Start argv; killed (and reaped) in every path."""
        log = open(os.path.join(self.tmp, '%s.log' % what), 'wb')
        self.addCleanup(log.close)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.addCleanup(self._stop, what, proc)
        return proc

    def _stop(self, what, proc):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        with open(os.path.join(self.tmp, '%s.log' % what), 'rb') as f:
            self.addDetail('%s-log' % what, content.Content(
                content.UTF8_TEXT, lambda data=f.read(): [data]))

    def _boot(self, ns, name, nic_args):
        """The lab guest in QEMU, inside ns: (QEMU, its serial log).

        Every boot of a test runs on the same data disk, as a V2V
        cutover's clone goes on with its source's disk.
        """
        from nova_v2v_rig.lab import domain
        disk = os.path.join(self.tmp, 'disk.raw')
        if not os.path.exists(disk):
            with open(disk, 'wb') as f:
                f.truncate(64 << 20)
        serial_log = os.path.join(self.tmp, 'serial-%s.log' % name)
        self.serial_logs.append(serial_log)
        argv = ['ip', 'netns', 'exec', ns,
                'qemu-system-x86_64', '-accel', self.accel,
                '-machine', 'pc', '-cpu', 'qemu64', '-m', '256',
                '-kernel', self.image.kernel, '-initrd', self.image.initrd,
                '-append', domain.kernel_cmdline({}),
                '-drive', 'file=%s,format=raw,if=virtio' % disk,
                '-display', 'none', '-monitor', 'none',
                '-serial', 'file:%s' % serial_log,
                '-no-reboot'] + nic_args
        return self._spawn('qemu-%s' % name, argv), serial_log

    def _wait(self, qemu, done, timeout):
        """Poll the serial log until done(text) is true; the text."""
        proc, serial_log = qemu
        deadline = time.monotonic() + timeout
        while True:
            text = self._serial(serial_log)
            if done(text):
                return text
            if proc.poll() is not None:
                self.fail('QEMU exited (%s) before the guest was ready'
                          % proc.returncode)
            if 'LABERR' in text or 'Kernel panic' in text:
                self.fail('the guest failed: %s' % text[-2000:])
            if time.monotonic() > deadline:
                self.fail('nothing within %ss' % timeout)
            time.sleep(0.5)

    def _ping(self, ns, address):
        # Bounded: 3 echo requests, 10 s in all, from inside ns.
        out, _err = processutils.execute(
            'ip', 'netns', 'exec', ns, 'timeout', '--signal=KILL', '20',
            'busybox', 'ping', '-c', '3', '-w', '10', address)
        self.addDetail('ping', content.text_content(out))
        return out

    # -- the tests ---------------------------------------------------------
    def _takes_address_and_answers(self, ns, name, model, driver, mac):
        """Boot with a NIC; its LABNET line checked, pinged: (QEMU, ip)."""
        t0 = time.monotonic()
        qemu = self._boot(ns, name, [
            '-netdev', 'tap,id=n0,ifname=%s,script=no,downscript=no' % TAP,
            '-device', '%s,netdev=n0,mac=%s' % (model, mac)])
        from nova_v2v_rig.lab import guest
        text = self._wait(qemu, guest.net_events, LABNET_TIMEOUT)
        took = time.monotonic() - t0
        events = guest.net_events(text)
        self.assertEqual(1, len(events), text)
        event = events[0]
        self.assertEqual(('eth0', 'bound', mac, 24, driver),
                         (event.interface, event.kind, event.mac,
                          event.prefix, event.driver))
        address = event.address
        self.assertTrue(_ip_int(POOL[0]) <= _ip_int(address) <=
                        _ip_int(POOL[1]), address)
        out = self._ping(ns, address)
        self.assertIn('3 packets received', out)
        # The workload wrote before and after the address was taken.
        first = _RECORD.findall(text)
        self.assertTrue(first, 'no record before the LABNET line')
        later = self._wait(qemu, lambda t: len(_RECORD.findall(t)) >
                           len(first) + 5, 60)
        self.assertEqual(events, guest.net_events(later))
        print('\n%s: LABNET %.1f s after QEMU started (%s): %s; ping: %s'
              % (model, took, self.accel,
                 [line for line in text.splitlines()
                  if line.startswith('LABNET')][0],
                 ' / '.join(out.strip().splitlines()[-2:])))
        return qemu, address

    def test_vmxnet3_then_virtio_net(self):
        # A V2V cutover's NIC model change: the guest on a vmxnet3 NIC,
        # stopped, booted from the same disk on a virtio NIC with the same
        # MAC (as the port's); the same address, the records go on.
        ns = self._network('cutover')
        mac = 'fa:16:3e:78:00:01'
        (proc, serial_log), address = self._takes_address_and_answers(
            ns, 'vmxnet3', 'vmxnet3', 'vmxnet3', mac)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        last = max(int(n) for n in
                   _RECORD.findall(self._serial(serial_log)))
        qemu, again = self._takes_address_and_answers(
            ns, 'virtio', 'virtio-net-pci', 'virtio_net', mac)
        self.assertEqual(address, again)
        resume = re.search(r'^LABSTART .* resume=(\d+)$',
                           self._serial(qemu[1]), re.MULTILINE)
        self.assertIsNotNone(resume)
        # At most one record written after the last acknowledged one.
        self.assertIn(int(resume.group(1)), (last + 1, last + 2))

    def _no_network(self, name, nic_args):
        ns = self._network(name)
        qemu = self._boot(ns, name, nic_args)
        text = self._wait(qemu, _RECORD.search, LABNET_TIMEOUT)
        start = len(_RECORD.findall(text))
        time.sleep(QUIET_WATCH)
        text = self._serial(qemu[1])
        self.assertGreater(len(_RECORD.findall(text)), start + 5, text)
        self.assertNotIn('LABNET', text)
        self.assertIsNone(qemu[0].poll())

    def test_e1000_has_no_driver(self):
        # Debian's cloud kernel has no e1000 driver (guest.NET_MODULES):
        # the guest writes its records and takes no address.
        self._no_network('e1000', [
            '-netdev', 'tap,id=n0,ifname=%s,script=no,downscript=no' % TAP,
            '-device', 'e1000,netdev=n0,mac=fa:16:3e:78:00:03'])

    def test_no_nic(self):
        # The gate's and the lab's guests today (--nic none): records,
        # no LABNET line.
        self._no_network('none', ['-nic', 'none'])
