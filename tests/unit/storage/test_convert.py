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

"""nova_v2v.storage.convert with processutils mocked (no qemu-img run).

The files are real (in a temp dir): only the commands are faked.
"""

import io
import json
import os
import struct
from unittest import mock

import fixtures
from oslo_concurrency import processutils
import testtools

from nova_v2v.storage import convert
from nova_v2v.storage import disks

MIB = 1 << 20


def qcow2_info(path, size=64 * MIB, **extra):
    info = {'format': 'qcow2', 'virtual-size': size, 'filename': path,
            'actual-size': 200704,
            'format-specific': {'type': 'qcow2',
                                'data': {'compat': '1.1'}}}
    info.update(extra)
    return info


def vmdk_info(path, extents, create_type='monolithicSparse',
              size=64 * MIB):
    return {'format': 'vmdk', 'virtual-size': size, 'filename': path,
            'actual-size': 65536,
            'format-specific': {'type': 'vmdk', 'data': {
                'create-type': create_type,
                'extents': [{'filename': e, 'virtual-size': size,
                             'format': ''} for e in extents]}}}


class FakeProcess(object):
    """What on_execute receives: a child with an stdout pipe."""

    def __init__(self, output, chunk=7, raw=False):
        self._stream = io.BytesIO(output)
        self._chunk = chunk
        self.stdout = mock.Mock(spec=['read'] if raw else ['read', 'read1'])
        if raw:
            self.stdout.read.side_effect = self._read
        else:
            self.stdout.read1.side_effect = self._read
            self.stdout.read.side_effect = AssertionError('use read1')
        self.kill = mock.Mock()
        self.wait = mock.Mock()

    def _read(self, size):
        return self._stream.read(min(size, self._chunk))


PROGRESS = b''.join(b'    (%.2f/100%%)\r' % p
                    for p in (0, 1, 12.5, 50, 99.99, 100))


class FakeQemuImg(object):
    """A processutils.execute side effect answering like qemu-img."""

    def __init__(self, infos, progress=PROGRESS, convert_error=None,
                 compare_error=None, dest_size=None):
        self.infos = infos
        self.progress = progress
        self.convert_error = convert_error
        self.compare_error = compare_error
        self.dest_size = dest_size
        self.calls = []
        self.process = None

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        sub = args[1]
        if sub == 'info':
            path = args[-1]
            if '-f' in args:
                fmt = args[args.index('-f') + 1]
                info = {'format': fmt, 'virtual-size': self.dest_size}
            else:
                info = self.infos[path]
            return json.dumps(info), ''
        if sub == 'convert':
            dest = args[-1]
            # The destination was reserved (created) before the run.
            assert os.path.exists(dest), dest
            with open(dest, 'wb') as f:
                f.write(b'x' * 4096)
            self.process = FakeProcess(self.progress)
            kwargs['on_execute'](self.process)
            if self.convert_error:
                raise self.convert_error
            return '', ''
        if sub == 'compare':
            if self.compare_error:
                raise self.compare_error
            return 'Images are identical.\n', ''
        raise AssertionError('unexpected command %s' % (args,))

    def commands(self, sub):
        return [args for args, _kw in self.calls if args[1] == sub]


class TestPlan(testtools.TestCase):

    def test_vmdk_to_qcow2_args(self):
        plan = convert.plan_conversion('vmdk', 'qcow2', 64 * MIB,
                                       source_subformat='streamOptimized')
        self.assertEqual(('qemu-img', 'convert', '-p', '-f', 'vmdk',
                          '-O', 'qcow2', '-S', '4k'), plan.args)
        self.assertTrue(plan.needs_conversion)
        self.assertEqual(64 * MIB, plan.virtual_size)
        self.assertIn('vmdk streamOptimized', plan.notes)

    def test_every_supported_pair(self):
        for src in convert.SOURCE_FORMATS:
            for dst in convert.DEST_FORMATS:
                sub = 'monolithicSparse' if src == 'vmdk' else None
                plan = convert.plan_conversion(src, dst, MIB,
                                               source_subformat=sub)
                self.assertEqual(src, plan.args[plan.args.index('-f') + 1])
                self.assertEqual(dst, plan.args[plan.args.index('-O') + 1])
                self.assertEqual(src != dst, plan.needs_conversion)

    def test_same_format_is_still_a_sparse_convert(self):
        for fmt in ('qcow2', 'raw'):
            plan = convert.plan_conversion(fmt, fmt, MIB)
            self.assertFalse(plan.needs_conversion)
            self.assertEqual('convert', plan.args[1])
            self.assertIn('-S', plan.args)
            self.assertIn('same format: sparse copy with qemu-img convert',
                          plan.notes)

    def test_vhdx_note(self):
        plan = convert.plan_conversion('vhdx', 'raw', MIB)
        self.assertIn('vhdx cannot be run by libvirt 9.0: converted to raw',
                      plan.notes)

    def test_vpc_note(self):
        footer = {'creator_app': 'qemu', 'current_size': 67125248,
                  'chs_size': 67125248}
        plan = convert.plan_conversion('vpc', 'qcow2', 67125248,
                                       vpc_footer=footer)
        self.assertEqual(1, len(plan.notes))
        self.assertIn('CHS geometry', plan.notes[0])
        self.assertIn("creator 'qemu'", plan.notes[0])
        self.assertIn('67125248', plan.notes[0])

    def test_unsupported_formats(self):
        for src, dst in (('vdi', 'qcow2'), ('qed', 'raw'), ('', 'raw'),
                         ('raw', 'vmdk'), ('raw', 'vpc'), ('qcow2', 'vhdx'),
                         ('QCOW2', 'raw'), (None, 'raw')):
            exc = self.assertRaises(disks.UnsupportedFormat,
                                    convert.plan_conversion, src, dst, MIB)
            self.assertIsInstance(exc, disks.DiskError)

    def test_vmdk_subformats(self):
        for sub in (None, 'vmfsRawDeviceMap', 'vmfsPassthroughRawDeviceMap',
                    'fullDevice', 'partitionedDevice', 'custom'):
            self.assertRaises(disks.UnsupportedFormat,
                              convert.plan_conversion, 'vmdk', 'raw', MIB,
                              source_subformat=sub)
        # Flat and split disks: a descriptor and its extents.
        for sub in ('monolithicFlat', 'vmfs', 'twoGbMaxExtentSparse',
                    'twoGbMaxExtentFlat'):
            plan = convert.plan_conversion('vmdk', 'raw', MIB,
                                           source_subformat=sub)
            self.assertIn('vmdk %s' % sub, plan.notes)

    def test_subformat_only_for_vmdk(self):
        self.assertRaises(disks.UnsupportedFormat, convert.plan_conversion,
                          'qcow2', 'raw', MIB,
                          source_subformat='monolithicSparse')

    def test_bad_size(self):
        self.assertRaises(disks.DiskError, convert.plan_conversion,
                          'raw', 'qcow2', 0)

    def test_dest_options(self):
        plan = convert.plan_conversion(
            'raw', 'qcow2', MIB,
            dest_options={'compat': '1.1', 'cluster_size': 65536})
        self.assertEqual(('-o', 'cluster_size=65536,compat=1.1'),
                         plan.args[-2:])

    def test_dest_options_refused(self):
        for fmt, options in (
                ('qcow2', {'backing_file': '/etc/shadow'}),
                ('qcow2', {'data_file': '/x'}),
                ('qcow2', {'preallocation': 'full'}),
                ('qcow2', {'compat': '1.1,backing_file=/etc/shadow'}),
                ('qcow2', {'compat': ''}),
                ('raw', {'compat': '1.1'})):
            self.assertRaises(disks.UnsupportedFormat,
                              convert.plan_conversion, 'raw', fmt, MIB,
                              dest_options=options)

    def test_command_paths_absolute(self):
        plan = convert.plan_conversion('raw', 'qcow2', MIB)
        cmd = plan.command('json:{"x": 1}', '-f')
        self.assertEqual(os.path.join(os.getcwd(), 'json:{"x": 1}'),
                         cmd[-2])
        self.assertEqual(os.path.join(os.getcwd(), '-f'), cmd[-1])
        self.assertEqual(list(plan.args), cmd[:-2])


class TestProgress(testtools.TestCase):

    def test_parse(self):
        self.assertEqual([0.0, 12.34, 100.0], convert.parse_progress(
            '    (0.00/100%)\r    (12.34/100%)\r    (100.00/100%)\r'))
        self.assertEqual([], convert.parse_progress('garbage (12/50%)'))

    def test_throttled(self):
        now = [0.0]
        seen = []
        reporter = convert.ProgressReporter(seen.append, min_interval=1.0,
                                            clock=lambda: now[0])
        reporter.update(0)
        reporter.update(5)       # too soon
        now[0] = 1.5
        reporter.update(7)
        reporter.update(3)       # backwards: ignored
        now[0] = 1.6
        reporter.update(100)     # always reported
        reporter.update(100)     # once
        self.assertEqual([0.0, 7.0, 100.0], seen)

    def test_clamped(self):
        seen = []
        reporter = convert.ProgressReporter(seen.append, min_interval=0)
        reporter.update(-3)
        reporter.update(250)
        self.assertEqual([0.0, 100.0], seen)

    def _read_all(self, process):
        seen = []
        reporter = convert.ProgressReporter(seen.append, min_interval=0)
        convert._progress_reader(reporter)(process)
        return seen

    def test_reader_chunks_cut_mid_token(self):
        for chunk in (1, 3, 7, 4096):
            self.assertEqual([0.0, 1.0, 12.5, 50.0, 99.99, 100.0],
                             self._read_all(FakeProcess(PROGRESS, chunk)))

    def test_reader_raw_stream(self):
        # Under eventlet the pipe is a raw GreenFileIO: no read1.
        self.assertEqual([0.0, 1.0, 12.5, 50.0, 99.99, 100.0],
                         self._read_all(FakeProcess(PROGRESS, 5, raw=True)))

    def test_reader_last_line_without_cr(self):
        self.assertEqual([42.0], self._read_all(
            FakeProcess(b'    (42.00/100%)')))

    def test_raising_callback_kills_qemu_img(self):
        def cancel(percent):
            if percent >= 50:
                raise RuntimeError('cancelled')
        process = FakeProcess(PROGRESS)
        reader = convert._progress_reader(
            convert.ProgressReporter(cancel, min_interval=0))
        self.assertRaises(RuntimeError, reader, process)
        process.kill.assert_called_once_with()
        process.wait.assert_called_once_with()


class _TempDirTest(testtools.TestCase):

    def setUp(self):
        super(_TempDirTest, self).setUp()
        self.tmp = os.path.realpath(self.useFixture(fixtures.TempDir()).path)
        self.src_dir = os.path.join(self.tmp, 'src')
        os.makedirs(self.src_dir)
        self.exec = self.useFixture(fixtures.MockPatch(
            'oslo_concurrency.processutils.execute')).mock

    def touch(self, name, data=b'\0' * 512):
        path = os.path.join(self.tmp, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path


class TestInspect(_TempDirTest):

    def test_qcow2_ok(self):
        path = self.touch('src/disk.qcow2')
        self.exec.side_effect = FakeQemuImg({path: qcow2_info(path)})
        info = convert.inspect_source(path, 'qcow2')
        self.assertEqual(('qcow2', 64 * MIB, None),
                         (info.format, info.virtual_size, info.subformat))
        # Probed without -f, under resource limits.
        args, kwargs = self.exec.call_args
        self.assertEqual(('qemu-img', 'info', '--output=json', path), args)
        self.assertIs(convert.QEMU_IMG_LIMITS, kwargs['prlimit'])

    def test_raw_declared_qcow2_refused(self):
        path = self.touch('src/disk')
        self.exec.side_effect = FakeQemuImg(
            {path: {'format': 'raw', 'virtual-size': 512}})
        exc = self.assertRaises(convert.FormatMismatch,
                                convert.inspect_source, path, 'qcow2')
        self.assertIsInstance(exc, convert.UnsafeImage)
        self.assertIsInstance(exc, disks.DiskError)
        self.assertIn('declared qcow2 but qemu-img probes raw', str(exc))

    def test_qcow2_declared_raw_refused(self):
        path = self.touch('src/disk')
        self.exec.side_effect = FakeQemuImg({path: qcow2_info(path)})
        self.assertRaises(convert.FormatMismatch, convert.inspect_source,
                          path, 'raw')

    def test_unsupported_declared_format(self):
        path = self.touch('src/disk')
        self.assertRaises(disks.UnsupportedFormat, convert.inspect_source,
                          path, 'vdi')
        self.exec.assert_not_called()

    def test_missing_source(self):
        self.assertRaises(disks.DiskError, convert.inspect_source,
                          os.path.join(self.tmp, 'nope'), 'raw')
        self.exec.assert_not_called()

    def test_info_fails(self):
        path = self.touch('src/disk')
        self.exec.side_effect = processutils.ProcessExecutionError(
            stderr='Could not open')
        exc = self.assertRaises(disks.DiskError, convert.inspect_source,
                                path, 'qcow2')
        self.assertIn('Could not open', str(exc))

    def test_backing_file_refused(self):
        path = self.touch('src/disk.qcow2')
        self.exec.side_effect = FakeQemuImg({path: qcow2_info(
            path, **{'backing-filename': '/etc/shadow',
                     'backing-filename-format': 'raw'})})
        self.assertRaises(convert.BackingFileRefused, convert.inspect_source,
                          path, 'qcow2')

    def _backed(self, backing, fmt='raw', backing_info=None):
        """A qcow2 overlay in src/ backed by ``backing``; its path."""
        path = self.touch('src/disk.qcow2')
        extra = {'backing-filename': backing,
                 'full-backing-filename': backing}
        if fmt:
            extra['backing-filename-format'] = fmt
        infos = {path: qcow2_info(path, **extra)}
        real = os.path.realpath(os.path.join(self.src_dir, backing))
        infos[real] = backing_info or {
            'format': fmt or 'raw', 'virtual-size': 64 * MIB,
            'filename': real, 'actual-size': 4096}
        self.exec.side_effect = FakeQemuImg(infos)
        return path

    def test_backing_file_in_the_trusted_dir(self):
        base_dir = os.path.join(self.tmp, '_base')
        os.makedirs(base_dir)
        base = self.touch('_base/abc123')
        path = self._backed(base)
        info = convert.inspect_source(path, 'qcow2', backing_dir=base_dir)
        self.assertEqual(base, info.backing)
        # The backing file was probed too, as what its overlay records.
        probed = [args[-1] for args in self.exec.side_effect.commands('info')]
        self.assertEqual([path, base], probed)

    def test_relative_backing_file_in_the_trusted_dir(self):
        base_dir = os.path.join(self.tmp, '_base')
        os.makedirs(base_dir)
        base = self.touch('_base/abc123')
        path = self._backed('../_base/abc123')
        self.exec.side_effect.infos[path]['full-backing-filename'] = (
            '../_base/abc123')
        info = convert.inspect_source(path, 'qcow2', backing_dir=base_dir)
        self.assertEqual(base, info.backing)

    def test_backing_file_outside_the_trusted_dir_refused(self):
        base_dir = os.path.join(self.tmp, '_base')
        os.makedirs(base_dir)
        other = self.touch('elsewhere')
        path = self._backed(other)
        exc = self.assertRaises(convert.BackingFileRefused,
                                convert.inspect_source, path, 'qcow2',
                                backing_dir=base_dir)
        self.assertIn('outside', str(exc))

    def test_backing_symlink_escaping_the_trusted_dir_refused(self):
        base_dir = os.path.join(self.tmp, '_base')
        os.makedirs(base_dir)
        secret = self.touch('secret')
        link = os.path.join(base_dir, 'abc123')
        os.symlink(secret, link)
        path = self._backed(link)
        self.assertRaises(convert.BackingFileRefused,
                          convert.inspect_source, path, 'qcow2',
                          backing_dir=base_dir)

    def test_backing_format_not_recorded_refused(self):
        base_dir = os.path.join(self.tmp, '_base')
        os.makedirs(base_dir)
        base = self.touch('_base/abc123')
        path = self._backed(base, fmt=None)
        exc = self.assertRaises(convert.BackingFileRefused,
                                convert.inspect_source, path, 'qcow2',
                                backing_dir=base_dir)
        self.assertIn('not recorded', str(exc))

    def test_backing_file_with_its_own_backing_refused(self):
        base_dir = os.path.join(self.tmp, '_base')
        os.makedirs(base_dir)
        base = self.touch('_base/abc123')
        path = self._backed(base, fmt='qcow2', backing_info=qcow2_info(
            base, **{'backing-filename': '/etc/shadow',
                     'backing-filename-format': 'raw'}))
        exc = self.assertRaises(convert.BackingFileRefused,
                                convert.inspect_source, path, 'qcow2',
                                backing_dir=base_dir)
        self.assertIn(base, str(exc))

    def test_backing_file_missing(self):
        base_dir = os.path.join(self.tmp, '_base')
        os.makedirs(base_dir)
        path = self._backed(os.path.join(base_dir, 'gone'))
        exc = self.assertRaises(disks.DiskError, convert.inspect_source,
                                path, 'qcow2', backing_dir=base_dir)
        self.assertNotIsInstance(exc, convert.BackingFileRefused)
        self.assertIn('does not exist', str(exc))

    def test_data_file_refused(self):
        path = self.touch('src/disk.qcow2')
        info = qcow2_info(path)
        info['format-specific']['data']['data-file'] = '/etc/shadow'
        self.exec.side_effect = FakeQemuImg({path: info})
        self.assertRaises(convert.BackingFileRefused, convert.inspect_source,
                          path, 'qcow2')

    def test_encrypted_refused(self):
        path = self.touch('src/disk.qcow2')
        self.exec.side_effect = FakeQemuImg(
            {path: qcow2_info(path, encrypted=True)})
        self.assertRaises(disks.UnsupportedFormat, convert.inspect_source,
                          path, 'qcow2')

    def test_vmdk_ok(self):
        path = self.touch('src/disk.vmdk')
        self.exec.side_effect = FakeQemuImg({path: vmdk_info(
            path, [path], 'streamOptimized')})
        info = convert.inspect_source(path, 'vmdk')
        self.assertEqual('streamOptimized', info.subformat)
        self.assertEqual((path,), info.extents)

    def test_vmdk_extent_outside(self):
        path = self.touch('src/disk.vmdk')
        secret = self.touch('secret')
        for extent in ('/etc/shadow', secret,
                       os.path.join(self.src_dir, '..', 'secret'),
                       'secret'):
            self.exec.side_effect = FakeQemuImg({path: vmdk_info(
                path, [path, extent], 'monolithicSparse')})
            exc = self.assertRaises(convert.ExtentEscape,
                                    convert.inspect_source, path, 'vmdk')
            self.assertIsInstance(exc, convert.UnsafeImage)

    def test_vmdk_extent_symlink_outside(self):
        path = self.touch('src/disk.vmdk')
        link = os.path.join(self.src_dir, 'disk-flat.vmdk')
        os.symlink(self.touch('secret'), link)
        self.exec.side_effect = FakeQemuImg({path: vmdk_info(
            path, [link], 'monolithicFlat')})
        self.assertRaises(convert.ExtentEscape, convert.inspect_source,
                          path, 'vmdk')

    def test_vmdk_no_extents(self):
        path = self.touch('src/disk.vmdk')
        self.exec.side_effect = FakeQemuImg({path: vmdk_info(path, [])})
        self.assertRaises(convert.UnsafeImage, convert.inspect_source,
                          path, 'vmdk')

    def test_vmdk_flat_inside_is_read(self):
        path = self.touch('src/disk.vmdk')
        flat = self.touch('src/disk-flat.vmdk')
        for create_type in ('monolithicFlat', 'vmfs'):
            self.exec.side_effect = FakeQemuImg({path: vmdk_info(
                path, [flat], create_type)})
            info = convert.inspect_source(path, 'vmdk')
            self.assertEqual((create_type, (os.path.realpath(flat),)),
                             (info.subformat, info.extents))

    def test_vmdk_raw_device_extent_refused(self):
        path = self.touch('src/disk.vmdk')
        rdm = self.touch('src/disk-rdm.vmdk')
        info = vmdk_info(path, [rdm], 'vmfs')
        info['format-specific']['data']['extents'][0]['format'] = 'VMFSRDM'
        self.exec.side_effect = FakeQemuImg({path: info})
        exc = self.assertRaises(convert.ExtentEscape, convert.inspect_source,
                                path, 'vmdk')
        self.assertIn('raw device mapping', str(exc))

    def test_vpc_footer(self):
        footer = bytearray(512)
        footer[:8] = b'conectix'
        footer[28:32] = b'qem2'
        footer[48:56] = struct.pack('>Q', 64 * MIB)
        footer[56:60] = struct.pack('>HBB', 1040, 8, 16)
        path = self.touch('src/disk.vhd', bytes(footer) + b'\0' * 4096)
        self.exec.side_effect = FakeQemuImg(
            {path: {'format': 'vpc', 'virtual-size': 64 * MIB}})
        info = convert.inspect_source(path, 'vpc')
        self.assertEqual({'creator_app': 'qem2', 'current_size': 64 * MIB,
                          'chs_size': 1040 * 8 * 16 * 512}, info.vpc_footer)

    def test_vpc_footer_absent(self):
        self.assertIsNone(convert.read_vpc_footer(self.touch('x')))
        self.assertIsNone(convert.read_vpc_footer(self.touch('y', b'')))
        self.assertIsNone(convert.read_vpc_footer(
            os.path.join(self.tmp, 'missing')))


class TestConvert(_TempDirTest):

    def setUp(self):
        super(TestConvert, self).setUp()
        self.src = self.touch('src/disk.qcow2')
        self.dst = os.path.join(self.tmp, 'disk.raw')
        self.fake = FakeQemuImg({self.src: qcow2_info(self.src)},
                                dest_size=64 * MIB)
        self.exec.side_effect = self.fake

    def test_success(self):
        seen = []
        result = convert.convert(self.src, 'qcow2', self.dst, 'raw',
                                 progress=seen.append, progress_interval=0)
        self.assertEqual([0.0, 1.0, 12.5, 50.0, 99.99, 100.0], seen)
        self.assertEqual(
            [('qemu-img', 'convert', '-p', '-f', 'qcow2', '-O', 'raw',
              '-S', '4k', self.src, self.dst)],
            self.fake.commands('convert'))
        self.assertEqual(
            [('qemu-img', 'info', '--output=json', self.src),
             ('qemu-img', 'info', '--output=json', '-f', 'raw', self.dst)],
            self.fake.commands('info'))
        self.assertEqual(
            [('qemu-img', 'compare', '-f', 'qcow2', '-F', 'raw', self.src,
              self.dst)], self.fake.commands('compare'))
        self.assertTrue(os.path.exists(self.dst))
        self.assertEqual(64 * MIB, result.virtual_size)
        self.assertEqual(('qcow2', 'raw', None),
                         (result.source_format, result.dest_format,
                          result.source_subformat))
        self.assertEqual(os.stat(self.dst).st_blocks * 512,
                         result.allocated_after)
        self.assertTrue(result.needs_conversion)
        data = json.loads(json.dumps(result.to_dict()))
        self.assertEqual(self.dst, data['dest_path'])
        self.assertGreaterEqual(data['seconds'], data['convert_seconds'])

    def test_progress_reported_when_qemu_img_prints_nothing(self):
        self.fake.progress = b''
        seen = []
        convert.convert(self.src, 'qcow2', self.dst, 'raw',
                        progress=seen.append)
        self.assertEqual([100.0], seen)

    def test_relative_paths_made_absolute(self):
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.tmp)
        convert.convert('src/disk.qcow2', 'qcow2', 'disk.raw', 'raw')
        self.assertEqual(self.src, self.fake.commands('convert')[0][-2])
        self.assertEqual(self.dst, self.fake.commands('convert')[0][-1])

    def test_dest_exists(self):
        self.touch('disk.raw', b'precious')
        self.assertRaises(convert.DestinationExists, convert.convert,
                          self.src, 'qcow2', self.dst, 'raw')
        with open(self.dst, 'rb') as f:
            self.assertEqual(b'precious', f.read())
        self.assertEqual([], self.fake.commands('convert'))

    def test_dest_dangling_symlink(self):
        os.symlink(os.path.join(self.tmp, 'elsewhere'), self.dst)
        self.assertRaises(convert.DestinationExists, convert.convert,
                          self.src, 'qcow2', self.dst, 'raw')
        self.assertFalse(os.path.exists(os.path.join(self.tmp, 'elsewhere')))
        self.assertTrue(os.path.islink(self.dst))

    def test_dest_dir_missing(self):
        self.assertRaises(convert.ConversionFailed, convert.convert,
                          self.src, 'qcow2',
                          os.path.join(self.tmp, 'no', 'disk'), 'raw')

    def test_bad_formats_before_anything_runs(self):
        self.assertRaises(disks.UnsupportedFormat, convert.convert,
                          self.src, 'qcow2', self.dst, 'vmdk')
        self.assertRaises(disks.UnsupportedFormat, convert.convert,
                          self.src, 'vdi', self.dst, 'raw')
        self.exec.assert_not_called()
        self.assertFalse(os.path.exists(self.dst))

    def test_format_mismatch_creates_nothing(self):
        self.assertRaises(convert.FormatMismatch, convert.convert,
                          self.src, 'raw', self.dst, 'qcow2')
        self.assertFalse(os.path.exists(self.dst))
        self.assertEqual([], self.fake.commands('convert'))

    def test_convert_fails_removes_dest(self):
        self.fake.convert_error = processutils.ProcessExecutionError(
            exit_code=1, stderr='No space left on device')
        exc = self.assertRaises(convert.ConversionFailed, convert.convert,
                                self.src, 'qcow2', self.dst, 'raw')
        self.assertIn('No space left on device', str(exc))
        self.assertFalse(os.path.exists(self.dst))

    def test_size_mismatch_removes_dest(self):
        self.fake.dest_size = 64 * MIB + 512
        self.assertRaises(convert.VerificationFailed, convert.convert,
                          self.src, 'qcow2', self.dst, 'raw')
        self.assertFalse(os.path.exists(self.dst))
        self.assertEqual([], self.fake.commands('compare'))

    def test_content_mismatch_removes_dest(self):
        self.fake.compare_error = processutils.ProcessExecutionError(
            exit_code=1, stdout='Content mismatch at offset 1048576!')
        exc = self.assertRaises(convert.VerificationFailed, convert.convert,
                                self.src, 'qcow2', self.dst, 'raw')
        self.assertIn('offset 1048576', str(exc))
        self.assertFalse(os.path.exists(self.dst))

    def test_compare_error_removes_dest(self):
        self.fake.compare_error = processutils.ProcessExecutionError(
            exit_code=2, stderr='Could not open')
        self.assertRaises(convert.VerificationFailed, convert.convert,
                          self.src, 'qcow2', self.dst, 'raw')
        self.assertFalse(os.path.exists(self.dst))

    def test_no_check(self):
        self.fake.dest_size = 1
        convert.convert(self.src, 'qcow2', self.dst, 'raw', check=False)
        self.assertEqual([], self.fake.commands('compare'))
        self.assertTrue(os.path.exists(self.dst))

    def test_cancel_from_callback(self):
        def cancel(percent):
            if percent > 10:
                raise KeyboardInterrupt()
        self.assertRaises(KeyboardInterrupt, convert.convert, self.src,
                          'qcow2', self.dst, 'raw', progress=cancel,
                          progress_interval=0)
        self.fake.process.kill.assert_called_once_with()
        self.assertFalse(os.path.exists(self.dst))
        self.assertEqual([], self.fake.commands('compare'))

    def test_vmdk_escape_creates_nothing(self):
        src = self.touch('src/evil.vmdk', b'# Disk DescriptorFile\n')
        self.fake.infos[src] = vmdk_info(src, ['/etc/shadow'],
                                         'monolithicFlat')
        self.assertRaises(convert.ExtentEscape, convert.convert, src,
                          'vmdk', self.dst, 'qcow2')
        self.assertFalse(os.path.exists(self.dst))

    def test_vhdx_notes_in_result(self):
        src = self.touch('src/disk.vhdx')
        self.fake.infos[src] = {'format': 'vhdx', 'virtual-size': 64 * MIB}
        result = convert.convert(src, 'vhdx', self.dst, 'raw')
        self.assertIn('vhdx cannot be run by libvirt 9.0: converted to raw',
                      result.notes)
