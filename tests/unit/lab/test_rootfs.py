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

"""A lab host's root filesystem of another Debian release."""

import argparse
import json
import os
import shutil
from unittest import mock

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v_rig.cmd import lab as lab_cmd
from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import rootfs

DEB822 = '''Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
'''


class TestMirror(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.etc = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(self.etc, 'sources.list.d'))

    def _write(self, rel, text):
        with open(os.path.join(self.etc, rel), 'w') as f:
            f.write(text)

    def test_the_machines_archive(self):
        self._write('sources.list.d/debian.sources', DEB822)
        self.assertEqual('http://mirror.example/debian',
                         rootfs.machine_mirror(self.etc))

    def test_a_sources_list(self):
        self._write('sources.list', '# comment\ndeb [arch=amd64] '
                    'http://other.example/debian/ trixie main\n')
        self.assertEqual('http://other.example/debian',
                         rootfs.machine_mirror(self.etc))

    def test_none_found(self):
        self._write('sources.list.d/x.list',
                    'deb http://ppa.example/ubuntu jammy main\n')
        self.assertEqual(rootfs.DEFAULT_MIRROR,
                         rootfs.machine_mirror(self.etc))

    def test_mounts_under(self):
        info = os.path.join(self.etc, 'mountinfo')
        with open(info, 'w') as f:
            f.write('22 1 0:21 / /proc rw - proc proc rw\n'
                    '90 1 0:5 / /r/trixie.new/dev rw - devtmpfs udev rw\n'
                    '91 1 0:5 / /r/trixie.newer rw - tmpfs t rw\n'
                    '92 1 0:5 / /r/trixie.new/my\\040dir rw - tmpfs t rw\n')
        self.assertEqual(['/r/trixie.new/dev', '/r/trixie.new/my dir'],
                         rootfs.mounts_under('/r/trixie.new', info))


class TestEnsure(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MockPatch('shutil.which',
                                           return_value='/usr/bin/x'))
        self.calls = []

        def execute(*argv, **kwargs):
            self.calls.append(argv)
            if argv[0] == 'mmdebstrap':
                os.makedirs(os.path.join(argv[-2], 'etc'))
                return '', ''
            if argv[0] == 'dpkg-query':
                return {'libvirt-daemon': '11.3.0-3',
                        'qemu-system-x86': '1:10.0.13'}[argv[-1]], ''
            if argv[0] == 'du':
                return '321000000\t%s\n' % argv[-1], ''
            if argv[:4] == ('rm', '-rf', '--one-file-system', '--'):
                shutil.rmtree(argv[4])
                return '', ''
            raise AssertionError(argv)

        self.useFixture(fixtures.MockPatchObject(
            processutils, 'execute', side_effect=execute))
        self.useFixture(fixtures.MockPatchObject(
            rootfs, 'mounts_under', return_value=[]))

    def test_built_once_then_reused(self):
        path, stamp = rootfs.ensure(self.state, 'trixie', mirror='http://m')
        self.assertEqual(os.path.join(self.state, 'roots', 'trixie'), path)
        build = self.calls[0]
        self.assertEqual('mmdebstrap', build[0])
        self.assertEqual(('trixie', path + '.new', 'http://m'), build[-3:])
        self.assertIn('--include=' + ','.join(rootfs.PACKAGES), build)
        self.assertEqual({'libvirt': '11.3.0-3', 'qemu': '1:10.0.13'},
                         stamp['versions'])
        self.assertEqual(321000000, stamp['bytes'])
        # The mount points the lab binds into it, an /etc/hosts.
        for sub in rootfs.MOUNT_POINTS:
            self.assertTrue(os.path.isdir(os.path.join(path, sub)), sub)
        self.assertTrue(os.path.isfile(os.path.join(path, 'etc', 'hosts')))
        self.assertFalse(os.path.exists(path + '.new'))
        del self.calls[:]
        again, stamp_again = rootfs.ensure(self.state, 'trixie',
                                           mirror='http://m')
        self.assertEqual((path, stamp), (again, stamp_again))
        self.assertEqual([], self.calls)

    def test_built_again_when_the_packages_change(self):
        path, _stamp = rootfs.ensure(self.state, 'trixie', mirror='http://m')
        with open(os.path.join(path, rootfs.STAMP)) as f:
            stamp = json.load(f)
        stamp['packages'] = ['libvirt-daemon']
        with open(os.path.join(path, rootfs.STAMP), 'w') as f:
            json.dump(stamp, f)
        del self.calls[:]
        rootfs.ensure(self.state, 'trixie', mirror='http://m')
        self.assertEqual('mmdebstrap', self.calls[0][0])
        self.assertEqual(list(rootfs.PACKAGES),
                         rootfs.read_stamp(path)['packages'])

    def test_a_killed_builds_mounts_are_never_walked_through(self):
        work = rootfs.root_path(self.state, 'trixie') + '.new'
        os.makedirs(os.path.join(work, 'dev'))
        rootfs.mounts_under.return_value = [work + '/dev']
        err = self.assertRaises(rootfs.RootError, rootfs.ensure, self.state,
                                'trixie', mirror='http://m')
        self.assertIn('has mounts in it (%s/dev)' % work, str(err))
        self.assertTrue(os.path.isdir(os.path.join(work, 'dev')))
        self.assertEqual([], self.calls)

    def test_a_failed_build_leaves_nothing(self):
        processutils.execute.side_effect = processutils.ProcessExecutionError(
            stderr='E: cannot reach the archive')
        err = self.assertRaises(rootfs.RootError, rootfs.ensure, self.state,
                                'trixie', mirror='http://m')
        self.assertIn('cannot reach the archive', str(err))
        self.assertEqual([], os.listdir(os.path.join(self.state, 'roots')))

    def test_unknown_release_or_no_mmdebstrap(self):
        self.assertRaises(rootfs.RootError, rootfs.ensure, self.state,
                          'sid', mirror='http://m')
        with mock.patch('shutil.which', return_value=None):
            err = self.assertRaises(rootfs.RootError, rootfs.ensure,
                                    self.state, 'trixie', mirror='http://m')
        self.assertIn('mmdebstrap', str(err))
        self.assertEqual([], self.calls)

    def test_mmdebstrap_is_in_bindep_test_profile(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        with open(os.path.join(root, 'bindep.txt')) as f:
            lines = [line for line in f if line.startswith('mmdebstrap ')]
        self.assertEqual(1, len(lines))
        self.assertIn('test', lines[0])


class TestEnter(testtools.TestCase):

    def test_mounts_then_chroot(self):
        root = self.useFixture(fixtures.TempDir()).path
        execute = self.useFixture(fixtures.MockPatchObject(
            processutils, 'execute', return_value=('', ''))).mock
        with mock.patch('os.chroot') as chroot, \
                mock.patch('os.chdir') as chdir:
            rootfs.enter(root, [('/lab/host-b/run', '/run/libvirt')],
                         [('/lab/host-b/hosts', '/etc/hosts')],
                         read_only=[('/lab/cache', '/lab/cache')])
        calls = [' '.join(c[0]) for c in execute.call_args_list]
        self.assertEqual([
            'mount --bind %s %s' % (root, root),
            'mount -t proc proc %s/proc' % root,
            'mount --rbind /sys %s/sys' % root,
            'mount --rbind /dev %s/dev' % root,
            'mount -t tmpfs tmpfs %s/run' % root,
            'mount --bind /lab/host-b/run %s/run/libvirt' % root,
            'mount --bind /lab/host-b/hosts %s/etc/hosts' % root,
            'mount --bind /lab/cache %s/lab/cache' % root,
            'mount -o remount,bind,ro %s/lab/cache' % root], calls)
        self.assertTrue(os.path.isfile(os.path.join(root, 'etc', 'hosts')))
        chroot.assert_called_once_with(root)
        chdir.assert_called_once_with('/')


class TestLabReleases(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lab = hosts.Lab(state_dir=self.useFixture(
            fixtures.TempDir()).path)

    def test_roots_built_before_anything_starts(self):
        with mock.patch.object(rootfs, 'ensure', return_value=(
                '/r/trixie', {'versions': {'qemu': '1:10.0.13'}})) as ensure:
            roots = self.lab._roots({'b': 'trixie'}, tls=False)
        ensure.assert_called_once_with(self.lab.state_dir, 'trixie')
        self.assertEqual({'b': {'release': 'trixie', 'root': '/r/trixie',
                                'versions': {'qemu': '1:10.0.13'}}}, roots)

    def test_refused(self):
        self.assertRaises(hosts.LabError, self.lab._roots, {'c': 'trixie'},
                          False)
        self.assertRaises(hosts.LabError, self.lab._roots, {'b': 'trixie'},
                          True)
        with mock.patch.object(rootfs, 'ensure',
                               side_effect=rootfs.RootError('no archive')):
            err = self.assertRaises(hosts.LabError, self.lab._roots,
                                    {'b': 'trixie'}, False)
        self.assertEqual('host b: no archive', str(err))

    def test_up_refuses_a_bad_release_before_the_network(self):
        with mock.patch.object(hosts, 'missing_programs', return_value=[]), \
                mock.patch.object(self.lab, '_check_subnet_free'), \
                mock.patch.object(self.lab, '_setup_network') as net:
            self.assertRaises(hosts.LabError, self.lab.up,
                              releases={'b': 'sid'})
        net.assert_not_called()
        self.assertIsNone(self.lab.load())

    def test_a_capabilities_cache_per_libvirt(self):
        hosts.save_json(self.lab.state_file, {'releases': {
            'b': {'release': 'trixie', 'root': '/r', 'versions': {}}}})
        self.assertEqual('trixie', self.lab.release('b'))
        self.assertIsNone(self.lab.release('a'))
        caches = {h: [src for src, dst in self.lab.mounts(h, shared=False)
                      if dst == '/var/cache/libvirt'] for h in 'ab'}
        self.assertEqual({'a': [self.lab.host_dir('a') + '/cache'],
                          'b': [self.lab.host_dir('b') + '/cache-trixie']},
                         caches)

    def test_the_command_line(self):
        self.assertEqual(('b', 'trixie'), lab_cmd._host_release('b=trixie'))
        for bad in ('b', 'c=trixie', 'b=sid', '=trixie'):
            self.assertRaises(argparse.ArgumentTypeError,
                              lab_cmd._host_release, bad)
        args = lab_cmd._parser().parse_args(
            ['up', '--host-release', 'b=trixie'])
        self.assertEqual({'b': 'trixie'}, dict(args.host_release))
