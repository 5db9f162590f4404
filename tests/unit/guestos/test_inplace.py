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
import signal
import subprocess
from unittest import mock

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v.guestos import inplace

BIN = '/usr/bin/virt-v2v-in-place'

DOMAIN = '''<domain type='kvm'>
  <name>g</name>
  <devices>
    <controller type='scsi' index='0' model='vmpvscsi'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='%(disk)s'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
    </disk>
    <interface type='bridge'>
      <source bridge='VM Network'/>
      <model type='vmxnet3'/>
    </interface>
  </devices>
</domain>
'''

# What virt-v2v-in-place 2.2.0 prints on stdout with --machine-readable
# (trimmed from a real run).
STDOUT = '''\
{ "message": "Setting up the source: -i libvirtxml g.xml", \
"timestamp": "2026-11-26T06:17:45.850984902+00:00", "type": "message" }
[   0.0] Setting up the source: -i libvirtxml g.xml
{ "message": "Inspecting the source", \
"timestamp": "2026-11-26T06:18:19.528391236+00:00", "type": "message" }
[  33.7] Inspecting the source
{ "message": "could not determine a way to update the configuration of \
Grub2", "timestamp": "2026-11-26T06:19:00.0+00:00", "type": "warning" }
virt-v2v-in-place: warning: could not determine a way to update the \
configuration of Grub2
0/100
100/100
{ "message": "Finishing off", \
"timestamp": "2026-11-26T06:23:00.0+00:00", "type": "message" }
[ 353.9] Finishing off
'''


class _Base(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.disk = os.path.join(self.dir, 'disk.qcow2')
        with open(self.disk, 'wb') as f:
            f.write(b'\0' * 512)
        self.xml = self.write_xml(DOMAIN % {'disk': self.disk})

    def write_xml(self, text, name='guest.xml'):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path


class TestAvailability(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.which = self.useFixture(fixtures.MockPatch(
            'shutil.which', side_effect=lambda name: '/usr/bin/' + name)).mock
        self.kernel = self.useFixture(fixtures.MockPatchObject(
            inplace, '_host_kernel_present', return_value=True)).mock

    def test_available(self):
        self.assertTrue(inplace.available())
        self.assertEqual([], inplace.missing_prerequisites())

    def test_binary_missing(self):
        self.which.side_effect = lambda name: (
            None if name == inplace.BINARY else '/usr/bin/' + name)
        with mock.patch('os.access', return_value=False):
            self.assertFalse(inplace.available())
            problems = inplace.missing_prerequisites()
        self.assertEqual(1, len(problems))
        self.assertIn('apt-get install virt-v2v', problems[0])

    def test_libexec_fallback(self):
        self.which.side_effect = lambda name: None
        with mock.patch('os.access',
                        side_effect=lambda p, m: p.startswith('/usr/lib')):
            self.assertEqual('/usr/libexec/virt-v2v-in-place',
                             inplace.find_binary())

    def test_nbdkit_missing(self):
        self.which.side_effect = lambda name: (
            None if name == 'nbdkit' else '/usr/bin/' + name)
        problems = inplace.missing_prerequisites()
        self.assertEqual(1, len(problems))
        self.assertIn('nbdkit', problems[0])

    def test_kernel_missing(self):
        self.kernel.return_value = False
        problems = inplace.missing_prerequisites()
        self.assertEqual(1, len(problems))
        self.assertIn('linux-image-cloud-amd64', problems[0])

    def test_capabilities(self):
        with mock.patch.object(processutils, 'execute', return_value=(
                'virt-v2v-in-place\nin-place\ninput:libvirtxml\n\n', '')
        ) as execute:
            caps = inplace.capabilities()
        execute.assert_called_once_with('/usr/bin/virt-v2v-in-place',
                                        '--machine-readable')
        self.assertIn('input:libvirtxml', caps)
        self.assertNotIn('', caps)


class TestHostKernel(testtools.TestCase):

    def test_supermin_kernel_env(self):
        self.useFixture(fixtures.EnvironmentVariable('SUPERMIN_KERNEL',
                                                     '/k/vmlinuz'))
        with mock.patch('os.listdir') as listdir:
            self.assertTrue(inplace._host_kernel_present())
        listdir.assert_not_called()

    def test_boot(self):
        self.useFixture(fixtures.EnvironmentVariable('SUPERMIN_KERNEL'))
        with mock.patch('os.listdir',
                        return_value=['config-6.1', 'vmlinuz-6.1']):
            self.assertTrue(inplace._host_kernel_present())

    def test_none(self):
        self.useFixture(fixtures.EnvironmentVariable('SUPERMIN_KERNEL'))
        with mock.patch('os.listdir', side_effect=[[], OSError()]):
            self.assertFalse(inplace._host_kernel_present())


class TestDomainDisks(_Base):

    def test_disk_found_cdrom_skipped(self):
        self.assertEqual([self.disk], inplace.domain_disks(self.xml))

    def test_relative_refused(self):
        xml = self.write_xml(DOMAIN % {'disk': 'disk.qcow2'})
        e = self.assertRaises(inplace.InPlaceRefused,
                              inplace.domain_disks, xml)
        self.assertIn('not absolute', str(e))

    def test_missing_refused(self):
        xml = self.write_xml(DOMAIN % {'disk': self.disk + '.gone'})
        self.assertRaises(inplace.InPlaceRefused, inplace.domain_disks, xml)

    def test_block_disk_refused(self):
        xml = self.write_xml(
            "<domain><devices><disk type='block' device='disk'>"
            "<source dev='/dev/sdz'/></disk></devices></domain>")
        self.assertRaises(inplace.InPlaceRefused, inplace.domain_disks, xml)

    def test_no_disk_refused(self):
        xml = self.write_xml('<domain><devices/></domain>')
        self.assertRaises(inplace.InPlaceRefused, inplace.domain_disks, xml)

    def test_bad_xml_refused(self):
        xml = self.write_xml('<domain>')
        self.assertRaises(inplace.InPlaceRefused, inplace.domain_disks, xml)

    def test_entities_not_resolved(self):
        xml = self.write_xml(
            '<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
            "<domain><devices><disk type='file' device='disk'>"
            "<source file='&e;'/></disk></devices></domain>")
        self.assertRaises(inplace.InPlaceRefused, inplace.domain_disks, xml)


class TestParseMessages(testtools.TestCase):

    def test_parse(self):
        msgs = inplace.parse_messages(STDOUT)
        self.assertEqual(['message', 'message', 'warning', 'message'],
                         [m.type for m in msgs])
        self.assertEqual('Inspecting the source', msgs[1].message)
        self.assertEqual('2026-11-26T06:18:19.528391236+00:00',
                         msgs[1].timestamp)

    def test_garbage_ignored(self):
        self.assertEqual([], inplace.parse_messages(
            '{not json\n{"no": "message"}\n[1, 2]\n12/100\n'))


class TestRunInPlace(_Base):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(
            inplace, 'find_binary', return_value=BIN))
        self.in_use = self.useFixture(fixtures.MockPatch(
            'nova_v2v.storage.disks.in_use', return_value=False)).mock
        self.execute = self.useFixture(fixtures.MockPatchObject(
            processutils, 'execute', return_value=(STDOUT, ''))).mock
        self.useFixture(fixtures.EnvironmentVariable('LIBGUESTFS_BACKEND',
                                                     'libvirt'))

    def test_success(self):
        result = inplace.run_in_place(
            self.xml, timeout=600,
            env={'LIBGUESTFS_BACKEND_SETTINGS': 'force_tcg',
                 'LIBGUESTFS_BACKEND': 'libvirt'})
        args, kwargs = self.execute.call_args
        self.assertEqual((BIN, '-i', 'libvirtxml', '--machine-readable',
                          '--root', 'single', self.xml), args)
        self.assertNotIn('shell', kwargs)
        self.assertEqual(600, kwargs['timeout'])
        env = kwargs['env_variables']
        self.assertEqual('direct', env['LIBGUESTFS_BACKEND'])
        self.assertEqual('force_tcg', env['LIBGUESTFS_BACKEND_SETTINGS'])
        self.assertEqual(os.environ['PATH'], env['PATH'])
        self.assertIs(os.setsid, kwargs['preexec_fn'])
        self.assertEqual([self.disk], result.disks)
        self.assertEqual(self.xml, result.domain_xml_path)
        self.assertEqual(4, len(result.messages))
        self.assertEqual(['could not determine a way to update the '
                          'configuration of Grub2'], result.warnings)
        self.assertGreaterEqual(result.elapsed, 0)
        self.in_use.assert_called_once_with(self.disk)

    def test_relative_xml_path_made_absolute(self):
        cwd = os.getcwd()
        os.chdir(self.dir)
        self.addCleanup(os.chdir, cwd)
        inplace.run_in_place('guest.xml')
        self.assertEqual(self.xml, self.execute.call_args[0][-1])

    def test_root_first(self):
        inplace.run_in_place(self.xml, root='first')
        self.assertIn('first', self.execute.call_args[0])

    def test_bad_root(self):
        self.assertRaises(ValueError, inplace.run_in_place, self.xml,
                          root='ask')
        self.execute.assert_not_called()

    def test_unavailable(self):
        inplace.find_binary.return_value = None
        self.assertRaises(inplace.InPlaceUnavailable,
                          inplace.run_in_place, self.xml)
        self.execute.assert_not_called()

    def test_exec_oserror(self):
        self.execute.side_effect = FileNotFoundError(2, 'No such file')
        self.assertRaises(inplace.InPlaceUnavailable,
                          inplace.run_in_place, self.xml)

    def test_disk_in_use(self):
        self.in_use.return_value = True
        e = self.assertRaises(inplace.InPlaceRefused,
                              inplace.run_in_place, self.xml)
        self.assertIn(self.disk, str(e))
        self.execute.assert_not_called()

    def test_failed(self):
        stderr = ''.join('line %d\n' % i for i in range(30))
        stderr += ('virt-v2v-in-place: error: nbdkit is not installed or '
                   'not working\n')
        self.execute.side_effect = processutils.ProcessExecutionError(
            stdout=STDOUT, stderr=stderr, exit_code=1, cmd=BIN)
        e = self.assertRaises(inplace.InPlaceFailed,
                              inplace.run_in_place, self.xml)
        self.assertEqual(1, e.exit_code)
        self.assertIn('nbdkit is not installed', e.stderr_tail)
        self.assertIn('nbdkit is not installed', str(e))
        self.assertNotIn('line 10\n', e.stderr_tail)
        self.assertEqual(inplace.STDERR_TAIL_LINES,
                         len(e.stderr_tail.splitlines()))
        self.assertEqual(4, len(e.messages))
        self.assertNotIsInstance(e, inplace.InPlaceTimeout)

    def test_failed_error_message_without_stderr(self):
        self.execute.side_effect = processutils.ProcessExecutionError(
            stdout='{ "message": "no root device found", "type": "error" }',
            stderr='', exit_code=1, cmd=BIN)
        e = self.assertRaises(inplace.InPlaceFailed,
                              inplace.run_in_place, self.xml)
        self.assertEqual('no root device found', e.stderr_tail)

    @mock.patch('os.killpg')
    def test_timeout_kills_group(self, killpg):
        proc = mock.Mock(pid=4242)

        def execute(*args, **kwargs):
            kwargs['on_execute'](proc)
            raise subprocess.TimeoutExpired(args[0], kwargs['timeout'])

        self.execute.side_effect = execute
        e = self.assertRaises(inplace.InPlaceTimeout,
                              inplace.run_in_place, self.xml, timeout=5)
        self.assertIsInstance(e, inplace.InPlaceFailed)
        killpg.assert_called_once_with(4242, signal.SIGTERM)
        proc.wait.assert_called_once_with(timeout=inplace.KILL_GRACE)

    @mock.patch('os.killpg')
    def test_timeout_sigkill_when_term_ignored(self, killpg):
        proc = mock.Mock(pid=4242)
        proc.wait.side_effect = [subprocess.TimeoutExpired('x', 1), 0]

        def execute(*args, **kwargs):
            kwargs['on_execute'](proc)
            raise subprocess.TimeoutExpired(args[0], kwargs['timeout'])

        self.execute.side_effect = execute
        self.assertRaises(inplace.InPlaceTimeout,
                          inplace.run_in_place, self.xml, timeout=5)
        self.assertEqual([mock.call(4242, signal.SIGTERM),
                          mock.call(4242, signal.SIGKILL)],
                         killpg.call_args_list)
