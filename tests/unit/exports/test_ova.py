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

"""The OVA reader: a hardened tar, the manifest checked, disks extracted."""

import gzip
import hashlib
import io
import os
import stat
import tarfile
from unittest import mock

import fixtures
import testtools

from nova_v2v.exports import base
from nova_v2v.exports import ova
from nova_v2v.exports import reader
from nova_v2v.hardware import translate
from tests.unit.exports import test_ovf
from tests.unit.hardware import schema

DISK1 = b'VMDK' + b'\x01' * 5000
DISK2 = b'VMDK' + b'\x02' * (3 * ova.CHUNK + 17)
TWO_DISKS = (test_ovf.CPU_MEM + test_ovf.SCSI + test_ovf.DISK +
             test_ovf.item(17, InstanceID=6, Parent=3, AddressOnParent=1,
                           HostResource='ovf:/disk/vmdisk2') + test_ovf.NIC)
FILES = ('<File ovf:id="file1" ovf:href="guest1-disk1.vmdk"/>'
         '<File ovf:id="file2" ovf:href="guest1-disk2.vmdk"/>')
DISKS = ''.join('<Disk ovf:diskId="vmdisk%d" ovf:fileRef="file%d" '
                'ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^30" '
                'ovf:format="%s"/>' % (i, i, test_ovf.VMDK) for i in (1, 2))
DESCRIPTOR = test_ovf.descriptor(items=TWO_DISKS, files=FILES,
                                 disks=DISKS).encode()


def good_members(descriptor=DESCRIPTOR, disk1=DISK1, disk2=DISK2,
                 algorithm='SHA256'):
    mf = test_ovf.manifest([('guest1.ovf', descriptor),
                            ('guest1-disk1.vmdk', disk1),
                            ('guest1-disk2.vmdk', disk2)],
                           algorithm).encode()
    return [('guest1.ovf', descriptor), ('guest1.mf', mf),
            ('guest1-disk1.vmdk', disk1), ('guest1-disk2.vmdk', disk2)]


def build(path, members, fmt=tarfile.USTAR_FORMAT):
    """An OVA of ``members``: (name, bytes) or a ready TarInfo."""
    with tarfile.open(path, 'w', format=fmt) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
                continue
            name, data = member
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return path


class _OVA(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'guest1.ova')

    def _build(self, members, **kwargs):
        return build(self.path, members, **kwargs)

    def _special(self, name, kind, linkname=''):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        return info


class TestRead(_OVA):

    def test_good(self):
        self._build(good_members())
        export = ova.read(self.path)
        work = self.path + '.d'
        self.assertEqual('ova', export.kind)
        self.assertEqual(self.path, export.source)
        self.assertEqual(work, export.root_dir)
        self.assertEqual(
            [('sda', os.path.join(work, 'guest1-disk1.vmdk'),
              'guest1-disk1.vmdk', len(DISK1), 2 ** 30,
              ('sha256', hashlib.sha256(DISK1).hexdigest())),
             ('sdb', os.path.join(work, 'guest1-disk2.vmdk'),
              'guest1-disk2.vmdk', len(DISK2), 2 ** 30,
              ('sha256', hashlib.sha256(DISK2).hexdigest()))],
            [(d.target, d.path, d.member, d.size, d.capacity, d.digest)
             for d in export.disks])
        self.assertEqual((), export.notes)
        # Nothing is written at read time.
        self.assertFalse(os.path.exists(work))
        self.assertEqual(export, reader.read(self.path))
        result = translate.translate(export.domain_xml, translate.Target(
            accelerator='qemu', import_dir=work))
        self.assertIsNone(schema.schema_errors(result.xml))

    def test_work_dir(self):
        self._build(good_members())
        export = ova.read(self.path, work_dir=os.path.join(self.dir, 'w'))
        self.assertEqual(os.path.join(self.dir, 'w'), export.root_dir)
        self.assertEqual(os.path.join(self.dir, 'w', 'guest1-disk1.vmdk'),
                         export.disks[0].path)

    def test_member_offsets(self):
        self._build(good_members(), fmt=tarfile.PAX_FORMAT)
        offsets = ova.member_offsets(self.path)
        self.assertEqual(['guest1.ovf', 'guest1.mf', 'guest1-disk1.vmdk',
                          'guest1-disk2.vmdk'], list(offsets))
        with open(self.path, 'rb') as f:
            for name, data in good_members():
                offset, size = offsets[name]
                f.seek(offset)
                self.assertEqual(data, f.read(size), name)

    def test_descriptor_not_first_noted(self):
        members = good_members()
        self._build(members[2:] + members[:2])
        export = ova.read(self.path)
        self.assertEqual(('the descriptor guest1.ovf is not the OVA\'s first '
                          'member, as the OVF specification asks',),
                         export.notes)
        self.assertEqual(2, len(export.disks))

    def test_dot_slash_names(self):
        # As tar -C DIR -cf x.ova . writes them.
        info = tarfile.TarInfo('.')
        info.type = tarfile.DIRTYPE
        self._build([info] + [('./' + n, d) for n, d in good_members()])
        export = ova.read(self.path)
        self.assertEqual(['guest1-disk1.vmdk', 'guest1-disk2.vmdk'],
                         [d.member for d in export.disks])

    def test_sha1_and_sha512_manifests(self):
        for algorithm in ('SHA1', 'SHA512'):
            self._build(good_members(algorithm=algorithm))
            export = ova.read(self.path)
            self.assertEqual(algorithm.lower(), export.disks[0].digest[0])
            os.unlink(self.path)

    def test_descriptor_digest_checked(self):
        members = good_members()
        members[0] = ('guest1.ovf', DESCRIPTOR.replace(b'guest1<',
                                                       b'guest2<'))
        self._build(members)
        exc = self.assertRaises(base.ChecksumMismatch, ova.read, self.path)
        self.assertIn('guest1.ovf does not match the manifest', str(exc))

    def test_no_manifest_noted(self):
        self._build(good_members()[:1] + good_members()[2:])
        export = ova.read(self.path)
        self.assertIsNone(export.disks[0].digest)
        self.assertIn('the export has no manifest: its files\' digests are '
                      'not checked', export.notes)

    def test_certificate_noted(self):
        self._build(good_members() + [('guest1.cert', b'-----BEGIN')])
        self.assertIn('the export is signed (guest1.cert): its signature and '
                      'certificate are not verified',
                      ova.read(self.path).notes)

    def test_size_the_descriptor_disagrees_with_noted(self):
        files = FILES.replace('href="guest1-disk1.vmdk"',
                              'href="guest1-disk1.vmdk" ovf:size="12"')
        descriptor = test_ovf.descriptor(items=TWO_DISKS, files=files,
                                         disks=DISKS).encode()
        self._build(good_members(descriptor=descriptor))
        export = ova.read(self.path)
        self.assertEqual(len(DISK1), export.disks[0].size)
        self.assertIn('the OVA member guest1-disk1.vmdk is %d bytes, the '
                      'descriptor says 12' % len(DISK1), export.notes)

    def test_missing_disk_member(self):
        self._build(good_members()[:3])
        exc = self.assertRaises(base.ExportError, ova.read, self.path)
        self.assertIn('the disk file guest1-disk2.vmdk of item 6 (scsi sdb) '
                      'is not a member of the OVA', str(exc))

    def test_symlink_and_hardlink_members(self):
        for kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
            self._build(good_members()[:3] + [self._special(
                'guest1-disk2.vmdk', kind, '/etc/shadow')])
            exc = self.assertRaises(base.HostileExport, ova.read, self.path)
            self.assertIn('guest1-disk2.vmdk is a link', str(exc))
            os.unlink(self.path)

    def test_devices_and_fifos(self):
        for kind in (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE):
            self._build(good_members() + [self._special('dev', kind)])
            self.assertRaises(base.HostileExport, ova.read, self.path)
            os.unlink(self.path)

    def test_names_out_of_the_archive(self):
        for name in ('../guest1-disk2.vmdk', '/etc/guest1-disk2.vmdk',
                     'a/../../b', 'a//b', 'a\\..\\b', 'a\nb'):
            self._build(good_members() + [(name, b'x')])
            exc = self.assertRaises(base.HostileExport, ova.read, self.path)
            self.assertIn('OVA member', str(exc))
            os.unlink(self.path)

    def test_duplicate_names(self):
        self._build(good_members() + [('guest1-disk1.vmdk', b'other')])
        exc = self.assertRaises(base.HostileExport, ova.read, self.path)
        self.assertIn('two members named guest1-disk1.vmdk', str(exc))

    def test_too_many_members(self):
        extra = [('f%d' % i, b'') for i in range(base.MAX_MEMBERS)]
        self._build(good_members() + extra)
        exc = self.assertRaises(base.HostileExport, ova.read, self.path)
        self.assertIn('more than %d members' % base.MAX_MEMBERS, str(exc))
        self.assertRaises(base.HostileExport, ova.member_offsets, self.path)

    def test_oversize_descriptor_and_manifest(self):
        big = DESCRIPTOR + b' ' * base.MAX_DESCRIPTOR_BYTES
        self._build([('guest1.ovf', big)] + good_members()[2:])
        exc = self.assertRaises(base.HostileExport, ova.read, self.path)
        self.assertIn('guest1.ovf is %d bytes' % len(big), str(exc))
        os.unlink(self.path)
        members = good_members()
        members[1] = ('guest1.mf', b'\n' * (base.MAX_DESCRIPTOR_BYTES + 1))
        self._build(members)
        self.assertRaises(base.HostileExport, ova.read, self.path)

    def test_entities_and_dtd(self):
        for head in (b'<!DOCTYPE Envelope [<!ENTITY x "y">]>',
                     b'<!DOCTYPE Envelope SYSTEM "file:///etc/shadow">'):
            hostile = DESCRIPTOR.replace(b'<Envelope', head + b'<Envelope')
            self._build(good_members(descriptor=hostile))
            self.assertRaises(base.HostileExport, ova.read, self.path)
            os.unlink(self.path)

    def test_compressed_ova_refused(self):
        self._build(good_members())
        with open(self.path, 'rb') as f:
            data = f.read()
        with gzip.open(self.path, 'wb') as f:
            f.write(data)
        exc = self.assertRaises(base.UnsupportedExport, ova.read, self.path)
        self.assertIn('gzip-compressed OVA: decompress it first', str(exc))

    def test_not_a_tar(self):
        with open(self.path, 'wb') as f:
            f.write(b'not a tar' * 100)
        self.assertRaises(base.ExportError, ova.read, self.path)

    def test_descriptors(self):
        self._build(good_members()[2:])
        self.assertRaises(base.UnsupportedExport, ova.read, self.path)
        os.unlink(self.path)
        self._build(good_members() + [('other.ovf', DESCRIPTOR)])
        exc = self.assertRaises(base.UnsupportedExport, ova.read, self.path)
        self.assertIn('2 OVF descriptors', str(exc))

    def test_a_real_descriptor(self):
        with open(test_ovf.CORPUS_FILES['govmomi-FlexibleNic'], 'rb') as f:
            data = f.read()
        name = 'vm-a5333e74-9b9a-4ffa-a937-cd044b4fbd56-disk-0.vmdk'
        self._build([('FlexibleNic.ovf', data), (name, DISK1)])
        export = ova.read(self.path)
        self.assertEqual([name], [d.member for d in export.disks])
        result = translate.translate(export.domain_xml, translate.Target(
            accelerator='qemu', import_dir=export.root_dir))
        self.assertIsNone(schema.schema_errors(result.xml))
        self.assertEqual(['00:50:56:16:01:2c'], result.report.macs)


class TestHeaders(_OVA):
    """The tar headers are walked, bounded, before tarfile reads them."""

    def _pax(self, comment_bytes):
        members = good_members()
        with tarfile.open(self.path, 'w', format=tarfile.PAX_FORMAT) as tar:
            for i, (name, data) in enumerate(members):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                if i == 0:
                    info.pax_headers = {'comment': 'x' * comment_bytes}
                tar.addfile(info, io.BytesIO(data))

    def test_a_pax_header_of_a_real_size_is_read(self):
        self._pax(200)
        self.assertEqual('ova', ova.read(self.path).kind)

    def test_a_huge_pax_header_is_refused_unread(self):
        self._pax(ova.MAX_EXTENDED_HEADER + 1)
        with mock.patch.object(tarfile, 'open') as opened:
            exc = self.assertRaises(base.HostileExport, ova.read, self.path)
        opened.assert_not_called()
        self.assertIn('extended tar header', str(exc))

    def test_a_huge_gnu_long_name_is_refused(self):
        members = good_members()
        members[0] = ('d/' * 40000 + 'guest1.ovf', members[0][1])
        self._build(members, fmt=tarfile.GNU_FORMAT)
        exc = self.assertRaises(base.HostileExport, ova.read, self.path)
        self.assertIn('extended tar header', str(exc))

    def test_too_many_headers(self):
        self._build([('f%d' % i, b'') for i in range(3 * base.MAX_MEMBERS
                                                     + 1)])
        with mock.patch.object(tarfile, 'open') as opened:
            exc = self.assertRaises(base.HostileExport, ova.read, self.path)
        opened.assert_not_called()
        self.assertIn('more than %d members' % base.MAX_MEMBERS, str(exc))

    def test_size_fields(self):
        self.assertEqual(8, ova._size(b'0000010\x00'))
        self.assertEqual(0, ova._size(b'\x00' * 12))
        self.assertEqual(2 ** 40, ova._size(b'\x80' + (2 ** 40).to_bytes(
            11, 'big')))
        self.assertRaises(base.ExportError, ova._size, b'zz\x00')


class TestExtract(_OVA):

    def test_good(self):
        self._build(good_members())
        export = ova.read(self.path)
        calls = []
        written = ova.extract(export, progress=lambda *a: calls.append(a))
        self.assertEqual([d.path for d in export.disks], written)
        for path, data in zip(written, (DISK1, DISK2)):
            with open(path, 'rb') as f:
                self.assertEqual(data, f.read())
            self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        self.assertEqual(0o700, stat.S_IMODE(os.stat(export.root_dir)
                                             .st_mode))
        total = len(DISK1) + len(DISK2)
        self.assertEqual((total, total), calls[-1])
        self.assertEqual([total] * len(calls), [t for _d, t in calls])
        self.assertEqual(sorted(d for d, _t in calls), [d for d, _t in calls])
        # Streamed: the big disk comes in more than one chunk.
        self.assertGreater(len(calls), 4)

    def test_never_overwrites(self):
        self._build(good_members())
        export = ova.read(self.path)
        os.mkdir(export.root_dir)
        with open(export.disks[1].path, 'wb') as f:
            f.write(b'mine')
        exc = self.assertRaises(base.ExportError, ova.extract, export)
        self.assertIn('already exists: not overwritten', str(exc))
        with open(export.disks[1].path, 'rb') as f:
            self.assertEqual(b'mine', f.read())
        # The disk this call wrote before it is removed.
        self.assertFalse(os.path.exists(export.disks[0].path))
        # A link planted where a disk goes is not followed either.
        os.unlink(export.disks[1].path)
        target = os.path.join(self.dir, 'target')
        os.symlink(target, export.disks[0].path)
        self.assertRaises(base.ExportError, ova.extract, export)
        self.assertFalse(os.path.exists(target))

    def test_members_in_folders(self):
        files = FILES.replace('href="guest1-disk2.vmdk"',
                              'href="disks/guest1-disk2.vmdk"')
        descriptor = test_ovf.descriptor(items=TWO_DISKS, files=files,
                                         disks=DISKS).encode()
        members = good_members(descriptor=descriptor)
        members[3] = ('disks/guest1-disk2.vmdk', DISK2)
        members[1] = ('guest1.mf', test_ovf.manifest(
            [('guest1.ovf', descriptor), ('guest1-disk1.vmdk', DISK1),
             ('disks/guest1-disk2.vmdk', DISK2)]).encode())
        self._build(members)
        export = ova.read(self.path)
        written = ova.extract(export)
        self.assertEqual(os.path.join(export.root_dir, 'disks',
                                      'guest1-disk2.vmdk'), written[1])
        self.assertEqual(0o700, stat.S_IMODE(os.stat(os.path.dirname(
            written[1])).st_mode))
        with open(written[1], 'rb') as f:
            self.assertEqual(DISK2, f.read())

    def test_work_dir_must_be_a_directory(self):
        self._build(good_members())
        export = ova.read(self.path)
        with open(export.root_dir, 'w'):
            pass
        self.assertRaises(base.ExportError, ova.extract, export)
        self.assertRaises(base.ExportError, ova.extract, export,
                          work_dir=os.path.join(self.dir, 'no', 'such'))

    def test_wrong_digest_removes_the_partial_file(self):
        members = good_members()
        mf = test_ovf.manifest([('guest1.ovf', DESCRIPTOR),
                                ('guest1-disk1.vmdk', DISK1),
                                ('guest1-disk2.vmdk', b'other')]).encode()
        members[1] = ('guest1.mf', mf)
        self._build(members)
        export = ova.read(self.path)
        exc = self.assertRaises(base.ChecksumMismatch, ova.extract, export)
        self.assertIn('guest1-disk2.vmdk does not match the manifest',
                      str(exc))
        # Nothing is left: not the partial file, not the disk before it,
        # not the directory extract made.
        self.assertFalse(os.path.exists(export.root_dir))
        # A directory that was there stays, empty.
        os.mkdir(export.root_dir)
        self.assertRaises(base.ChecksumMismatch, ova.extract, export)
        self.assertEqual([], os.listdir(export.root_dir))

    def test_changed_archive(self):
        self._build(good_members())
        export = ova.read(self.path)
        os.unlink(self.path)
        self._build(good_members(disk2=DISK2 + b'more'))
        exc = self.assertRaises(base.ExportError, ova.extract, export)
        self.assertIn('changed since it was read', str(exc))

    def test_only_an_ova(self):
        export = base.Export(kind='ovf', source='/x.ovf', root_dir='/',
                             domain_xml='<domain/>')
        self.assertRaises(base.ExportError, ova.extract, export)

    def test_elsewhere(self):
        self._build(good_members())
        export = ova.read(self.path)
        other = os.path.join(self.dir, 'other')
        written = ova.extract(export, work_dir=other)
        self.assertEqual([os.path.join(other, d.member)
                          for d in export.disks], written)
        self.assertFalse(os.path.exists(export.root_dir))
