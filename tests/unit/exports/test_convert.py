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

"""qemu-img info and convert of an export's disks (processutils mocked)."""

import json
import os
import threading
from unittest import mock

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v.exports import convert

GIB = 1024 ** 3


def _info(fmt='vmdk', size=20 * GIB, **extra):
    return json.dumps(dict({'format': fmt, 'virtual-size': size,
                            'filename': 'x'}, **extra)), ''


class InfoTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.execute = self.useFixture(fixtures.MockPatch(
            'oslo_concurrency.processutils.execute')).mock

    def test_arguments_and_limits(self):
        self.execute.return_value = _info()
        found = convert.info('/srv/e/disk1.vmdk', 'vmdk')
        self.execute.assert_called_once_with(
            'qemu-img', 'info', '--output=json', '-f', 'vmdk',
            '/srv/e/disk1.vmdk', prlimit=convert.INFO_LIMITS)
        self.assertEqual({'format': 'vmdk', 'virtual_size': 20 * GIB,
                          'files': ['/srv/e/disk1.vmdk']}, found)
        self.assertEqual(1024 ** 3, convert.INFO_LIMITS.address_space)

    def test_vmdk_extents_are_named(self):
        self.execute.return_value = _info(**{'format-specific': {
            'type': 'vmdk', 'data': {'extents': [
                {'filename': 'disk1-flat.vmdk'},
                {'filename': '../../etc/shadow'}]}}})
        found = convert.info('/srv/e/disk1.vmdk', 'vmdk')
        self.assertEqual(['/srv/e/disk1.vmdk', '/srv/e/disk1-flat.vmdk',
                          '/etc/shadow'], found['files'])

    def test_format_mismatch(self):
        self.execute.return_value = _info(fmt='qcow2')
        exc = self.assertRaises(convert.FormatMismatch, convert.info,
                                '/srv/e/d.vmdk', 'vmdk')
        self.assertEqual('/srv/e/d.vmdk is qcow2, not vmdk as the export '
                         'says', str(exc))

    def test_backing_file_refused(self):
        self.execute.return_value = _info(
            fmt='qcow2', **{'backing-filename': '/var/lib/base'})
        self.assertRaises(convert.ImageInfoError, convert.info,
                          '/srv/e/d.qcow2', 'qcow2')

    def test_failure_is_typed(self):
        self.execute.side_effect = processutils.ProcessExecutionError(
            stderr='qemu-img: Could not open: invalid VMDK image descriptor')
        exc = self.assertRaises(convert.ImageInfoError, convert.info,
                                '/srv/e/d.vmdk', 'vmdk')
        self.assertIn('invalid VMDK image descriptor', str(exc))

    def test_bad_output(self):
        self.execute.return_value = ('{"format": "vmdk"}', '')
        self.assertRaises(convert.ImageInfoError, convert.info,
                          '/srv/e/d.vmdk', 'vmdk')
        self.execute.return_value = ('not json', '')
        self.assertRaises(convert.ImageInfoError, convert.info,
                          '/srv/e/d.vmdk', 'vmdk')

    def test_missing_qemu_img(self):
        self.execute.side_effect = OSError(2, 'No such file or directory')
        self.assertRaises(convert.ImageInfoError, convert.info,
                          '/srv/e/d.vmdk', 'vmdk')


class ConvertTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.execute = self.useFixture(fixtures.MockPatch(
            'oslo_concurrency.processutils.execute')).mock
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.dest = os.path.join(self.dir, 'boot-disk.qcow2')

    def test_to_qcow2(self):
        convert.convert('/srv/e/d.vmdk', 'vmdk', self.dest, 'qcow2')
        self.execute.assert_called_once_with(
            'qemu-img', 'convert', '-f', 'vmdk', '-O', 'qcow2', '-o',
            'compat=1.1', '/srv/e/d.vmdk', self.dest)

    def test_to_raw(self):
        convert.convert('/srv/e/d.img', 'raw', self.dest, 'raw')
        self.execute.assert_called_once_with(
            'qemu-img', 'convert', '-f', 'raw', '-O', 'raw',
            '/srv/e/d.img', self.dest)

    def test_formats_refused_before_running(self):
        self.assertRaises(convert.ConversionFailed, convert.convert,
                          '/srv/e/d.vhd', 'vpc', self.dest, 'qcow2')
        self.assertRaises(convert.ConversionFailed, convert.convert,
                          '/srv/e/d.vmdk', 'vmdk', self.dest, 'vmdk')
        self.execute.assert_not_called()

    def test_failure_is_typed(self):
        self.execute.side_effect = processutils.ProcessExecutionError(
            stderr='qemu-img: error while writing at byte 0: No space left')
        exc = self.assertRaises(convert.ConversionFailed, convert.convert,
                                '/srv/e/d.vmdk', 'vmdk', self.dest, 'qcow2')
        self.assertIn('No space left', str(exc))

    def test_progress_polls_the_output(self):
        seen = []
        polled = threading.Event()

        def _convert(*cmd):
            with open(self.dest, 'wb') as f:
                f.write(b'x' * 8192)
                f.flush()
                os.fsync(f.fileno())
            # Until the caller has polled the file at least once.
            self.assertTrue(polled.wait(10))

        def _progress(done, total):
            seen.append((done, total))
            polled.set()

        self.execute.side_effect = _convert
        convert.convert('/srv/e/d.vmdk', 'vmdk', self.dest, 'qcow2',
                        progress=_progress, virtual_size=GIB, poll=0.01)
        self.assertEqual((GIB, GIB), seen[-1])
        self.assertTrue(any(0 < done < GIB for done, _t in seen[:-1]),
                        seen)

    def test_progress_after_failure_is_not_final(self):
        seen = []
        self.execute.side_effect = processutils.ProcessExecutionError(
            stderr='boom')
        self.assertRaises(convert.ConversionFailed, convert.convert,
                          '/srv/e/d.vmdk', 'vmdk', self.dest, 'qcow2',
                          progress=lambda d, t: seen.append((d, t)),
                          virtual_size=GIB, poll=0.01)
        self.assertNotIn((GIB, GIB), seen)

    def test_interrupt_while_converting_propagates(self):
        release = threading.Event()
        self.execute.side_effect = lambda *cmd: release.wait(10)
        self.addCleanup(release.set)

        def _progress(done, total):
            raise KeyboardInterrupt()

        with mock.patch.object(convert, 'LOG'):
            self.assertRaises(KeyboardInterrupt, convert.convert,
                              '/srv/e/d.vmdk', 'vmdk', self.dest, 'qcow2',
                              progress=_progress, poll=0.01)
