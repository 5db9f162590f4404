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

"""Disk conversion (nova_v2v.storage.convert) with the real qemu-img.

No lab, no libvirt: small images (64 MiB) in a temp dir, with known
patterns at a few offsets and holes elsewhere, from every source format
(vmdk monolithicSparse and streamOptimized, vhdx, vpc with and without
force_size, qcow2, raw) to qcow2 and raw.  qemu-img and qemu-io are
declared in bindep.txt (qemu-utils): when missing, every test fails, none
is skipped.
"""

import os
import shutil
import sys
import tempfile

from oslo_concurrency import processutils
import testtools
from testtools import content

from nova_v2v.storage import convert
from nova_v2v.storage import disks

MIB = 1 << 20
SIZE = 64 * MIB
# (pattern byte, offset, length): data the conversions must carry over.
PATTERNS = (
    (0xab, 1 * MIB, 64 * 1024),
    (0xcd, 40 * MIB, 1 * MIB),
    (0xef, 63 * MIB, 64 * 1024),
)
# Ranges left as holes, which must read back as zeros.
HOLES = ((8 * MIB, 16 * MIB), (48 * MIB, 8 * MIB))
DATA_BYTES = sum(length for _p, _o, length in PATTERNS)

# name -> (qemu-img format, how the source is made)
SOURCES = {
    'raw': ('raw', ()),
    'qcow2': ('qcow2', ()),
    'vmdk_sparse': ('vmdk', ('-o', 'subformat=monolithicSparse')),
    'vmdk_stream': ('vmdk', ('-o', 'subformat=streamOptimized')),
    'vhdx': ('vhdx', ()),
    'vpc': ('vpc', ()),
    'vpc_force_size': ('vpc', ('-o', 'force_size=on')),
}
# qemu writes streamOptimized vmdk only in one sequential pass: that one
# is made with qemu-img convert from the raw source.
CONVERTED_SOURCES = ('vmdk_stream',)

TOOLS = (('qemu-img', 'qemu-utils'), ('qemu-io', 'qemu-utils'))


def run(*args):
    return processutils.execute(*args)


def qemu_io(fmt, path, command, read_only=False):
    args = ['qemu-io', '-f', fmt]
    if read_only:
        args.append('-r')
    return run(*(args + ['-c', command, path]))


class TestDiskConversion(testtools.TestCase):
    """One source image per format, made once for the class."""

    tmp = None
    setup_error = None
    sources = {}
    figures = []

    @classmethod
    def setUpClass(cls):
        super(TestDiskConversion, cls).setUpClass()
        missing = [tool for tool, _pkg in TOOLS if not shutil.which(tool)]
        if missing:
            cls.setup_error = ('missing %s; install with: apt-get install '
                               'qemu-utils (bindep.txt)' % ', '.join(missing))
            return
        cls.tmp = os.path.realpath(tempfile.mkdtemp(prefix='v2v-convert-'))
        src_dir = os.path.join(cls.tmp, 'sources')
        os.makedirs(src_dir)
        cls.sources = {}
        cls.figures = []
        try:
            for name, (fmt, options) in SOURCES.items():
                path = os.path.join(src_dir, '%s.%s' % (name, fmt))
                if name in CONVERTED_SOURCES:
                    run('qemu-img', 'convert', '-f', 'raw', '-O', fmt,
                        *(options + (cls.sources['raw'][1], path)))
                else:
                    run('qemu-img', 'create', '-q', '-f', fmt,
                        *(options + (path, str(SIZE))))
                    for byte, offset, length in PATTERNS:
                        qemu_io(fmt, path, 'write -P 0x%x %d %d'
                                % (byte, offset, length))
                cls.sources[name] = (fmt, path)
        except processutils.ProcessExecutionError as exc:
            cls.setup_error = 'cannot make the source images: %s' % exc

    @classmethod
    def tearDownClass(cls):
        if cls.figures:
            lines = ['', '%-16s %-6s %10s %10s %12s %12s %12s' % (
                'source', 'dest', 'convert s', 'verify s', 'virtual',
                'alloc before', 'alloc after')]
            for row in sorted(cls.figures):
                lines.append('%-16s %-6s %10.3f %10.3f %12d %12d %12d'
                             % row)
            sys.stderr.write('\n'.join(lines) + '\n')
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        super(TestDiskConversion, cls).tearDownClass()

    def setUp(self):
        super(TestDiskConversion, self).setUp()
        if self.setup_error:
            self.fail(self.setup_error)
        self.out = tempfile.mkdtemp(dir=self.tmp, prefix='out-')

    def reported_size(self, fmt, path):
        return disks.describe(path).virtual_size

    def assertPatterns(self, fmt, path):
        for byte, offset, length in PATTERNS:
            out, _err = qemu_io(fmt, path, 'read -P 0x%x %d %d'
                                % (byte, offset, length), read_only=True)
            self.assertNotIn('Pattern verification failed', out)
            self.assertIn('read %d/%d bytes' % (length, length), out)
        for offset, length in HOLES:
            out, _err = qemu_io(fmt, path, 'read -P 0 %d %d'
                                % (offset, length), read_only=True)
            self.assertNotIn('Pattern verification failed', out)

    def _convert(self, source, dest_format, record=True):
        fmt, path = self.sources[source]
        dest = os.path.join(self.out, 'disk.%s' % dest_format)
        seen = []
        result = convert.convert(path, fmt, dest, dest_format,
                                 progress=seen.append, progress_interval=0)
        self.addDetail('result', content.json_content(result.to_dict()))
        self.addDetail('progress', content.text_content(repr(seen)))
        # Progress: read from qemu-img -p while it runs (more than the
        # final 100), ends at 100, never goes back.
        self.assertGreater(len(seen), 2)
        self.assertEqual(100.0, seen[-1])
        self.assertEqual(sorted(seen), seen)
        # Virtual size: the source's reported one, on the destination.
        self.assertEqual(self.reported_size(fmt, path), result.virtual_size)
        self.assertEqual(result.virtual_size,
                         self.reported_size(dest_format, dest))
        # Content: qemu-img compare again, independently of convert().
        out, _err = run('qemu-img', 'compare', '-f', fmt, '-F', dest_format,
                        path, dest)
        self.assertIn('Images are identical', out)
        self.assertPatterns(dest_format, dest)
        # Sparseness: allocation is about the data, not the virtual size.
        allocated = os.stat(dest).st_blocks * 512
        self.assertEqual(allocated, result.allocated_after)
        self.assertLess(allocated, 8 * MIB)
        self.assertGreaterEqual(allocated, DATA_BYTES)
        if record:
            self.figures.append((source, dest_format, result.convert_seconds,
                                 result.verify_seconds,
                                 result.virtual_size,
                                 result.allocated_before,
                                 result.allocated_after))
        return result

    # -- The vpc trap -------------------------------------------------------

    def test_vpc_sizes(self):
        self.assertEqual(SIZE, self.reported_size(
            *self.sources['vpc_force_size']))
        rounded = self.reported_size(*self.sources['vpc'])
        self.assertNotEqual(SIZE, rounded)
        self.assertGreater(rounded, SIZE)
        footer = convert.read_vpc_footer(self.sources['vpc'][1])
        self.assertEqual(rounded, footer['chs_size'])
        self.assertEqual('qem2', convert.read_vpc_footer(
            self.sources['vpc_force_size'][1])['creator_app'])
        # The example: 1 GiB.
        for force, expect_exact in (('off', False), ('on', True)):
            path = os.path.join(self.out, '1g-%s.vhd' % force)
            run('qemu-img', 'create', '-q', '-f', 'vpc', '-o',
                'force_size=%s' % force, path, str(1 << 30))
            size = self.reported_size('vpc', path)
            self.addDetail('1GiB force_size=%s' % force,
                           content.text_content(str(size)))
            self.assertEqual(expect_exact, size == 1 << 30)

    def test_vpc_rounded_size_is_kept(self):
        result = self._convert('vpc', 'raw', record=False)
        self.assertEqual(os.path.getsize(os.path.join(self.out, 'disk.raw')),
                         result.virtual_size)
        self.assertGreater(result.virtual_size, SIZE)
        self.assertIn('CHS geometry', result.notes[0])

    # -- Hostile and refused inputs -----------------------------------------

    def _secret(self):
        path = os.path.join(self.out, 'secret')
        with open(path, 'wb') as f:
            f.write(b'root:$6$hash:19000:0:99999:7:::\n' * 64)
        return path

    def _descriptor(self, name, extent, create_type='monolithicFlat'):
        directory = os.path.join(self.out, 'guest')
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, name)
        # ESXi's datastore descriptors name their extent VMFS, no offset.
        line = ('RW 4 VMFS "%s"\n' % extent if create_type == 'vmfs' else
                'RW 4 FLAT "%s" 0\n' % extent)
        with open(path, 'w') as f:
            f.write('# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
                    'parentCID=ffffffff\ncreateType="%s"\n%s'
                    % (create_type, line))
        return path

    def assertRefused(self, exc_class, path, fmt, dest_format='qcow2'):
        dest = os.path.join(self.out, 'refused.%s' % dest_format)
        self.assertRaises(exc_class, convert.convert, path, fmt, dest,
                          dest_format)
        self.assertFalse(os.path.exists(dest))

    def test_vmdk_extent_outside_refused(self):
        secret = self._secret()
        for extent in (secret, '../secret'):
            self.assertRefused(convert.ExtentEscape,
                               self._descriptor('evil.vmdk', extent), 'vmdk')

    def test_vmdk_extent_symlink_outside_refused(self):
        desc = self._descriptor('evil.vmdk', 'evil-flat.vmdk')
        os.symlink(self._secret(), os.path.join(self.out, 'guest',
                                                'evil-flat.vmdk'))
        self.assertRefused(convert.ExtentEscape, desc, 'vmdk')

    def test_vmdk_flat_inside_converted(self):
        # A flat disk (Workstation's monolithicFlat, an ESXi datastore's
        # vmfs descriptor and -flat.vmdk) with its extent beside it.
        data = bytes(range(256)) * 8
        for create_type in ('monolithicFlat', 'vmfs'):
            flat = os.path.join(self.out, 'guest', '%s-flat.vmdk'
                                % create_type)
            desc = self._descriptor('%s.vmdk' % create_type,
                                    os.path.basename(flat), create_type)
            with open(flat, 'wb') as f:
                f.write(data)
            dest = os.path.join(self.out, '%s.qcow2' % create_type)
            result = convert.convert(desc, 'vmdk', dest, 'qcow2')
            self.assertEqual((create_type, len(data)),
                             (result.source_subformat, result.virtual_size))
            raw = dest + '.raw'
            processutils.execute('qemu-img', 'convert', '-f', 'qcow2',
                                 '-O', 'raw', dest, raw)
            with open(raw, 'rb') as f:
                self.assertEqual(data, f.read())

    def test_raw_declared_qcow2_refused(self):
        self.assertRefused(convert.FormatMismatch, self.sources['raw'][1],
                           'qcow2', 'raw')

    def test_qcow2_header_in_raw_refused(self):
        # A guest wrote a qcow2 header, backed by a host file, on its raw
        # disk: declared raw it is refused, declared qcow2 too.
        evil = os.path.join(self.out, 'evil.img')
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', self._secret(),
            '-F', 'raw', evil)
        self.assertRefused(convert.FormatMismatch, evil, 'raw')
        self.assertRefused(convert.BackingFileRefused, evil, 'qcow2')

    def _nova_overlay(self, backing):
        """A qcow2 overlay on ``backing`` as Nova makes one; its path.

        The overlay changes one of the base's patterns and adds data of
        its own: a whole conversion must carry both.
        """
        disk = os.path.join(self.out, 'instance', 'disk')
        os.makedirs(os.path.dirname(disk))
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', backing,
            '-F', 'raw', disk, str(SIZE))
        qemu_io('qcow2', disk, 'write -P 0x5a %d %d' % (2 * MIB, MIB))
        return disk

    def test_overlay_on_the_image_cache_converted_whole(self):
        # Nova's qcow2 instance disk on its _base image: converted to a
        # standalone image of the two together.
        base_dir = os.path.join(self.out, '_base')
        os.makedirs(base_dir)
        base = os.path.join(base_dir, 'abc123')
        shutil.copy(self.sources['raw'][1], base)
        disk = self._nova_overlay(base)
        for dest_format in ('raw', 'qcow2'):
            dest = os.path.join(self.out, 'whole.%s' % dest_format)
            result = convert.convert(disk, 'qcow2', dest, dest_format,
                                     backing_dir=base_dir)
            self.assertEqual(SIZE, result.virtual_size)
            self.assertPatterns(dest_format, dest)
            qemu_io(dest_format, dest, 'read -P 0x5a %d %d'
                    % (2 * MIB, MIB), read_only=True)
            info = disks.describe(dest)
            self.assertIsNone(info.backing_file)

    def test_overlay_outside_the_image_cache_refused(self):
        base_dir = os.path.join(self.out, '_base')
        os.makedirs(base_dir)
        disk = self._nova_overlay(self._secret())
        dest = os.path.join(self.out, 'refused.raw')
        self.assertRaises(convert.BackingFileRefused, convert.convert,
                          disk, 'qcow2', dest, 'raw', backing_dir=base_dir)
        self.assertFalse(os.path.exists(dest))

    def test_dest_exists_untouched(self):
        dest = os.path.join(self.out, 'disk.qcow2')
        with open(dest, 'wb') as f:
            f.write(b'precious')
        fmt, path = self.sources['qcow2']
        self.assertRaises(convert.DestinationExists, convert.convert, path,
                          fmt, dest, 'qcow2')
        with open(dest, 'rb') as f:
            self.assertEqual(b'precious', f.read())

    def test_cancel_kills_qemu_img_and_removes_dest(self):
        def cancel(percent):
            raise RuntimeError('cancelled at %s' % percent)
        fmt, path = self.sources['vhdx']
        dest = os.path.join(self.out, 'disk.raw')
        self.assertRaises(RuntimeError, convert.convert, path, fmt, dest,
                          'raw', progress=cancel)
        self.assertFalse(os.path.exists(dest))


def _add_conversion_tests():
    for source in SOURCES:
        for dest_format in convert.DEST_FORMATS:
            def test(self, source=source, dest_format=dest_format):
                self._convert(source, dest_format)
            test.__name__ = 'test_%s_to_%s' % (source, dest_format)
            setattr(TestDiskConversion, test.__name__, test)


_add_conversion_tests()
