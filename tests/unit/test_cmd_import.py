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

"""``nova-v2v import``: the steps against a fake cloud, and the cleanup.

The export is built by hand (the readers are tested on their own), its
disk a file of a temporary directory; qemu-img is mocked.  The fake cloud
records every call, so that each test states which calls were made, in
which order, and which of the things created were deleted.
"""

import dataclasses
import hashlib
import io
import json
import os
import tempfile
from unittest import mock

import fixtures
from keystoneauth1 import exceptions as ks_exceptions
from novaclient import exceptions as nova_exceptions
from oslo_config import cfg
import testtools

from nova_v2v.cmd import import_cloud
from nova_v2v.cmd import importer
from nova_v2v.cmd import v2v
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v.exports import base
from nova_v2v.exports import ova
from nova_v2v.exports import plan
from nova_v2v.exports import reader
from nova_v2v.storage import convert as disk_convert
from tests.unit.exports import fakes

GIB = fakes.GIB
NICS = (('VM Network', 'vmxnet3', '00:50:56:00:00:01'),
        ('DMZ', 'e1000', '00:50:56:00:00:02'))
MAPS = ['--network', 'VM Network=private', '--network', 'DMZ=dmz']
WRITES = ('create_image', 'upload_image', 'create_port', 'create_server',
          'delete_image', 'delete_port', 'delete_server')


class Boom(Exception):
    pass


class FakeCloud(object):
    """Records calls; ``fail``: {method: exception (or a call count)}.

    ``lost``: the same, for a create that makes the thing before it
    raises (its answer lost); ``made``: ``{kind: {ID: marker}}`` of what
    exists, for the ``find_*`` calls.
    """

    def __init__(self, fail=None, server_statuses=('BUILD', 'ACTIVE'),
                 image_status='active', stored=None, lost=None):
        # stored: what image() says Glance holds (default: what came).
        self.stored = stored
        self.calls = []
        self.fail = dict(fail or {})
        self.lost = dict(lost or {})
        self.made = {'port': {}, 'image': {}, 'server': {}}
        self.server_statuses = list(server_statuses)
        self._image_status = image_status
        self.ports = 0
        self.gone = set()
        self.uploaded = 0

    def _call(self, name, *args):
        self.calls.append((name,) + args)
        self._raise(name, self.fail)

    def _raise(self, name, fail):
        exc = fail.get(name)
        if isinstance(exc, tuple):
            count, exc = exc
            if len([c for c in self.calls if c[0] == name]) != count:
                return
        if exc is not None:
            raise exc

    def names(self):
        return [c[0] for c in self.calls]

    def flavors(self):
        self._call('flavors')
        return [plan.Flavor('f1', 'm1.small', 1, 2048, 20),
                plan.Flavor('f2', 'm1.medium', 2, 4096, 40)]

    def networks(self):
        self._call('networks')
        return [plan.Network('net-1', 'private'), plan.Network('net-2',
                                                               'dmz')]

    def create_image(self, image):
        self._call('create_image', image.name)
        self.image = image
        self.made['image']['image-1'] = image.properties.get(
            plan.PROP_RUN)
        self._raise('create_image', self.lost)
        return 'image-1'

    def find_images(self, run_id):
        self._call('find_images', run_id)
        return [i for i, run in self.made['image'].items() if run == run_id]

    def upload_image(self, image_id, body):
        self._call('upload_image', image_id)
        self.length = len(body)
        data = b''.join(iter(lambda: body.read(1000), b''))
        self.uploaded = len(data)
        if self.stored is None:
            self.stored = {'size': len(data), 'os_hash_algo': 'sha512',
                           'os_hash_value': hashlib.sha512(data).hexdigest()}

    def image_record(self, image_id):
        return dict(self.stored or {}, id=image_id)

    def image_status(self, image_id):
        self._call('image_status', image_id)
        return self._image_status

    def delete_image(self, image_id):
        self._call('delete_image', image_id)
        self.made['image'].pop(image_id, None)

    def create_port(self, network_id, mac, name, description):
        self.ports += 1
        self._call('create_port', network_id, mac)
        port_id = 'port-%d' % self.ports
        self.made['port'][port_id] = (name, description)
        self._raise('create_port', self.lost)
        return port_id

    def find_ports(self, name, description):
        self._call('find_ports', name, description)
        return [i for i, marker in self.made['port'].items()
                if marker == (name, description)]

    def delete_port(self, port_id):
        self._call('delete_port', port_id)
        self.made['port'].pop(port_id, None)

    def create_server(self, name, image_id, flavor_id, port_ids,
                      metadata=None):
        self._call('create_server', name, image_id, flavor_id,
                   tuple(port_ids))
        self.made['server']['server-1'] = (name, metadata)
        self._raise('create_server', self.lost)
        return 'server-1'

    def find_servers(self, name, run_id):
        self._call('find_servers', name, run_id)
        return [i for i, (n, meta) in self.made['server'].items()
                if n == name and meta.get(plan.PROP_RUN) == run_id]

    def server_status(self, server_id):
        self._call('server_status', server_id)
        if server_id in self.gone:
            return None, None
        status = (self.server_statuses.pop(0) if self.server_statuses
                  else 'ACTIVE')
        return status, 'No valid host was found.' if status == 'ERROR' \
            else None

    def delete_server(self, server_id):
        self._call('delete_server', server_id)
        self.gone.add(server_id)
        self.made['server'].pop(server_id, None)


class ImportTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        os.mkdir(os.path.join(self.root, 'ds'))
        self.export = fakes.export(root=self.root, kind='vmx', disks=1,
                                   nics=NICS)
        for d in self.export.disks:
            with open(d.path, 'wb') as f:
                f.write(b'vmdk')
        self.read = self.useFixture(fixtures.MockPatchObject(
            reader, 'read', return_value=self.export)).mock
        self.info = self.useFixture(fixtures.MockPatchObject(
            disk_convert, 'inspect_source', side_effect=self._info)).mock
        self.convert = self.useFixture(fixtures.MockPatchObject(
            disk_convert, 'convert', side_effect=self._convert)).mock
        # Both modules wait: the import's steps, and the lookups of what a
        # create that lost its answer made.
        self.useFixture(fixtures.MockPatchObject(importer, '_sleep'))
        self.lookup_sleep = self.useFixture(fixtures.MockPatchObject(
            import_cloud, '_sleep')).mock
        self.work = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'work')
        self.mkdtemp = self.useFixture(fixtures.MockPatch(
            'tempfile.mkdtemp', side_effect=self._mkdtemp)).mock
        # {directory: bytes free}; 1 PiB where not given.
        self.free = {}
        self.statvfs = self.useFixture(fixtures.MockPatch(
            'os.statvfs', side_effect=self._statvfs)).mock
        self.conf = cfg.ConfigOpts()
        v2v_conf.register_opts(self.conf)
        self.conf([], project='nova')
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.written = []

    def _statvfs(self, path):
        free = self.free.get(path, 2 ** 50)
        return mock.Mock(f_frsize=2, f_bavail=free // 2)

    def _mkdtemp(self, prefix=''):
        os.mkdir(self.work)
        return self.work

    def _info(self, path, fmt=None):
        return disk_convert.SourceInfo(path=path, format=fmt,
                                       virtual_size=20 * GIB,
                                       actual_size=3000, extents=(path,))

    def _convert(self, source, source_format, dest, dest_format, progress):
        with open(dest, 'wb') as f:
            f.write(b'q' * 3000)
        self.written.append(dest)
        progress(100.0)

    def run_import(self, cloud, *argv):
        args = v2v._parser(['import']).parse_args(
            ['import', '/srv/web01.vmx'] + MAPS + list(argv))
        return importer.run(args, self.conf, cloud_factory=lambda a: cloud,
                            out=self.out, err=self.err)


class HappyPathTest(ImportTestBase):

    def test_order_of_calls_and_result(self):
        cloud = FakeCloud()
        self.assertEqual(0, self.run_import(cloud, '--json'), self.err)
        self.assertEqual([
            ('flavors',), ('networks',),
            ('create_port', 'net-1', '00:50:56:00:00:01'),
            ('create_port', 'net-2', '00:50:56:00:00:02'),
            ('create_image', 'web01-disk'), ('upload_image', 'image-1'),
            ('image_status', 'image-1'),
            ('create_server', 'web01', 'image-1', 'f2',
             ('port-1', 'port-2')),
            ('server_status', 'server-1'), ('server_status', 'server-1')],
            cloud.calls)
        result = json.loads(self.out.getvalue())
        self.assertEqual(
            (True, 'server-1', 'ACTIVE', 'image-1', ['port-1', 'port-2'],
             'm1.medium'),
            (result['ok'], result['server_id'], result['server_status'],
             result['image_id'], result['port_ids'], result['flavor']))
        self.assertEqual({'plan', 'convert', 'image', 'ports', 'server',
                          'total'}, set(result['timings']))
        self.assertIn('reader: the manifest names SHA256 digests',
                      result['notes'])
        # The image: the translated hardware's properties, the whole file.
        self.assertEqual('virtio', cloud.image.properties['hw_disk_bus'])
        self.assertEqual('virtio', cloud.image.properties['hw_vif_model'])
        self.assertEqual((3000, 3000), (cloud.length, cloud.uploaded))
        self.convert.assert_called_once_with(
            self.export.disks[0].path, 'vmdk',
            os.path.join(self.work, 'boot-disk.qcow2'), 'qcow2',
            progress=mock.ANY)
        # The temporary directory is gone: the disk is in Glance.
        self.assertFalse(os.path.exists(self.work))
        self.assertIn('nova-v2v import: server server-1 is ACTIVE',
                      self.err.getvalue())

    def test_no_wait_and_raw(self):
        cloud = FakeCloud()
        self.assertEqual(0, self.run_import(cloud, '--no-wait',
                                            '--disk-format', 'raw'))
        self.assertNotIn('server_status', cloud.names())
        self.assertEqual('raw', cloud.image.disk_format)
        self.assertIn('as server web01 (server-1)', self.out.getvalue())

    def test_work_dir_given_keeps_it_and_its_files(self):
        os.mkdir(self.work)
        other = os.path.join(self.work, 'other')
        open(other, 'w').close()
        self.assertEqual(0, self.run_import(FakeCloud(), '--work-dir',
                                            self.work))
        self.assertEqual(['other'], os.listdir(self.work))
        self.mkdtemp.assert_not_called()

    def test_through_main(self):
        cloud = FakeCloud()
        self.useFixture(fixtures.MockPatchObject(
            importer, '_cloud', return_value=cloud))
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.err))
        self.assertEqual(0, v2v.main(['import', '/srv/web01.vmx', '--name',
                                      'web01-kvm'] + MAPS))
        self.read.assert_called_once_with('/srv/web01.vmx')
        self.assertIn(('create_server', 'web01-kvm', 'image-1', 'f2',
                       ('port-1', 'port-2')), cloud.calls)


class DryRunTest(ImportTestBase):

    def test_dry_run_writes_nothing(self):
        cloud = FakeCloud()
        self.assertEqual(0, self.run_import(cloud, '--dry-run', '--work-dir',
                                            self.work))
        self.assertEqual(['flavors', 'networks'], cloud.names())
        self.convert.assert_not_called()
        self.mkdtemp.assert_not_called()
        self.assertFalse(os.path.exists(self.work))
        text = self.out.getvalue()
        self.assertIn("import vmx %s/web01.vmx as server 'web01'"
                      % self.root, text)
        self.assertIn('flavor: m1.medium (f2)', text)
        self.assertIn('port: 00:50:56:00:00:02 on dmz (net-2) for source '
                      'network \'DMZ\', source NIC model e1000', text)

    def test_dry_run_json(self):
        cloud = FakeCloud()
        self.assertEqual(0, self.run_import(cloud, '--dry-run', '--json'))
        data = json.loads(self.out.getvalue())
        self.assertTrue(data['dry_run'])
        self.assertEqual(['net-1', 'net-2'],
                         [p['network_id'] for p in data['ports']])
        self.assertFalse(set(WRITES) & set(cloud.names()))

    def test_capacity_from_qemu_img_info(self):
        export = fakes.export(root=self.root, kind='vmx', disks=1,
                              nics=NICS, capacities=[None])
        self.read.return_value = export
        self.info.side_effect = lambda path, fmt: disk_convert.SourceInfo(
            path=path, format=fmt, virtual_size=30 * GIB, actual_size=1,
            extents=(path,))
        self.assertEqual(0, self.run_import(FakeCloud(), '--dry-run',
                                            '--json'))
        data = json.loads(self.out.getvalue())
        self.assertEqual(30 * GIB, data['boot_disk']['capacity'])
        self.assertEqual('m1.medium', data['flavor']['name'])
        self.info.assert_called_once_with(export.disks[0].path, 'vmdk')

    def test_a_disk_larger_than_the_export_says_replans(self):
        self.info.side_effect = lambda path, fmt: disk_convert.SourceInfo(
            path=path, format=fmt, virtual_size=30 * GIB, actual_size=1,
            extents=(path,))
        cloud = FakeCloud()
        self.assertEqual(0, self.run_import(cloud, '--json'))
        self.assertEqual(2, cloud.names().count('flavors'))
        self.assertIn('the boot disk is %d bytes as qemu-img reads it, not '
                      '%d as the export says: the larger counts'
                      % (30 * GIB, 20 * GIB),
                      json.loads(self.out.getvalue())['notes'])

    def test_extent_outside_the_export_refused(self):
        export = fakes.export(root=self.root, kind='vmx', disks=1,
                              nics=NICS, capacities=[None])
        self.read.return_value = export
        # (nova_v2v.storage.convert keeps extents in the disk's own
        # directory; the export's root is checked as well.)
        self.info.side_effect = lambda path, fmt: disk_convert.SourceInfo(
            path=path, format=fmt, virtual_size=GIB, actual_size=1,
            extents=(path, '/etc/shadow'))
        cloud = FakeCloud()
        self.assertEqual(1, self.run_import(cloud, '--dry-run'))
        self.assertIn('PathEscape', self.err.getvalue())
        self.assertEqual([], cloud.calls)


class RefusalTest(ImportTestBase):

    def test_unmapped_network(self):
        cloud = FakeCloud()
        args = v2v._parser(['import']).parse_args(
            ['import', '/srv/web01.vmx', '--network', 'DMZ=dmz', '--json'])
        self.assertEqual(1, importer.run(args, self.conf, lambda a: cloud,
                                         out=self.out, err=self.err))
        self.assertEqual([], cloud.calls)
        data = json.loads(self.out.getvalue())
        self.assertEqual((False, 'UnmappedNetworks'),
                         (data['ok'], data['error_type']))

    def test_bad_network_option(self):
        self.assertEqual(2, self.run_import(FakeCloud(), '--network', 'x'))

    def test_properties(self):
        self.assertRaises(SystemExit, self.run_import, FakeCloud(),
                          '--property', 'novalue')
        cloud = FakeCloud()
        self.assertEqual(0, self.run_import(
            cloud, '--property', 'kernel_id=k1', '--property',
            'os_command_line=console=ttyS0 quiet'))
        self.assertEqual({'kernel_id': 'k1',
                          'os_command_line': 'console=ttyS0 quiet'},
                         {k: v for k, v in cloud.image.properties.items()
                          if k in ('kernel_id', 'os_command_line')})

    def test_unreadable_export(self):
        self.read.side_effect = base.UnsupportedExport('not an export')
        self.assertEqual(1, self.run_import(FakeCloud()))
        self.assertIn('UnsupportedExport: not an export',
                      self.err.getvalue())

    def test_cloud_cannot_be_asked(self):
        cloud = FakeCloud(fail={'flavors': ks_exceptions.Unauthorized()})
        self.assertEqual(3, self.run_import(cloud))
        self.assertFalse(set(WRITES) & set(cloud.names()))

    def test_flavor_too_small(self):
        cloud = FakeCloud()
        self.assertEqual(1, self.run_import(cloud, '--flavor', 'm1.small'))
        self.assertIn('FlavorTooSmall', self.err.getvalue())
        self.assertFalse(set(WRITES) & set(cloud.names()))

    def test_ctrl_c_while_planning(self):
        self.read.side_effect = KeyboardInterrupt()
        cloud = FakeCloud()
        self.assertEqual(130, self.run_import(cloud))
        self.assertEqual([], cloud.calls)
        self.assertEqual('nova-v2v import: KeyboardInterrupt: interrupted '
                         'before anything was created\n',
                         self.err.getvalue())


class WorkSpaceTest(ImportTestBase):
    """The work directory's room, checked before anything is created."""

    # The boot disk converted (20 GiB), 1% and 64 MiB more.
    NEEDED = 20 * GIB + 20 * GIB // 100 + 64 * 1024 ** 2

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.gettempdir()

    def test_enough_room_proceeds(self):
        self.free[self.tmp] = self.NEEDED
        cloud = FakeCloud()
        self.assertEqual(0, self.run_import(cloud))
        self.statvfs.assert_called_once_with(self.tmp)
        self.assertIn('create_server', cloud.names())

    def test_too_little_room_refused_before_any_create(self):
        self.free[self.tmp] = self.NEEDED - 512
        cloud = FakeCloud()
        self.assertEqual(1, self.run_import(cloud, '--json'))
        self.assertEqual(['flavors', 'networks'], cloud.names())
        self.mkdtemp.assert_not_called()
        self.convert.assert_not_called()
        data = json.loads(self.out.getvalue())
        self.assertEqual((False, 'NoWorkSpace', [], []),
                         (data['ok'], data['error_type'], data['cleaned'],
                          data['left']))
        self.assertIn('needs %d bytes (20.3 GiB) in its work directory %s '
                      % (self.NEEDED, self.tmp), data['error'])
        self.assertIn('has %d (20.3 GiB) free' % (self.NEEDED - 512),
                      data['error'])
        self.assertIn('--work-dir', data['error'])

    def test_the_given_work_dir_is_the_one_checked(self):
        # self.work does not exist yet: its parent's filesystem counts.
        parent = os.path.dirname(self.work)
        self.free.update({self.tmp: 0, parent: self.NEEDED})
        cloud = FakeCloud()
        self.assertEqual(0, self.run_import(cloud, '--work-dir', self.work))
        self.statvfs.assert_called_once_with(parent)
        self.free.update({self.tmp: 2 ** 50, parent: GIB})
        cloud = FakeCloud()
        self.assertEqual(1, self.run_import(cloud, '--work-dir', self.work))
        self.assertFalse(set(WRITES) & set(cloud.names()))
        self.assertIn('NoWorkSpace: the import needs %d bytes (20.3 GiB) in '
                      'its work directory %s' % (self.NEEDED, parent),
                      self.err.getvalue())

    def test_dry_run_reports_the_need(self):
        self.assertEqual(0, self.run_import(FakeCloud(), '--dry-run'))
        self.assertIn('work directory: %d bytes (20.3 GiB) free needed'
                      % self.NEEDED, self.out.getvalue())
        self.out.truncate(0)
        self.out.seek(0)
        self.assertEqual(0, self.run_import(FakeCloud(), '--dry-run',
                                            '--json'))
        self.assertEqual(self.NEEDED,
                         json.loads(self.out.getvalue())['work_bytes'])
        # And refuses as the import would.
        self.free[self.tmp] = GIB
        self.assertEqual(1, self.run_import(FakeCloud(), '--dry-run'))
        self.assertIn('NoWorkSpace', self.err.getvalue())


class ProgressTest(testtools.TestCase):

    def test_lines_throttled_but_the_last(self):
        err = io.StringIO()
        clock = iter([0, 1, 6, 7])
        self.useFixture(fixtures.MockPatch(
            'time.monotonic', side_effect=lambda: next(clock)))
        progress = importer.Progress(err, every=5.0)
        progress.bytes('converting', GIB, 4 * GIB)
        progress.bytes('converting', 2 * GIB, 4 * GIB)
        progress.bytes('converting', 3 * GIB, 4 * GIB)
        progress.bytes('converting', 4 * GIB, 4 * GIB)
        self.assertEqual(
            'nova-v2v import: converting: 1.0 of 4.0 GiB (25%)\n'
            'nova-v2v import: converting: 3.0 of 4.0 GiB (75%)\n'
            'nova-v2v import: converting: 4.0 of 4.0 GiB (100%)\n',
            err.getvalue())


class CleanupTest(ImportTestBase):
    """Each failure deletes what the run created, newest first, only."""

    def _fails(self, cloud, code=4):
        self.assertEqual(code, self.run_import(cloud, '--json'))
        data = json.loads(self.out.getvalue())
        self.assertFalse(data['ok'])
        self.assertFalse(os.path.exists(self.work))
        return data, [c for c in cloud.calls if c[0].startswith('delete')]

    def test_conversion_fails(self):
        self.convert.side_effect = disk_convert.ConversionFailed('no space')
        cloud = FakeCloud()
        data, deletes = self._fails(cloud)
        self.assertEqual([('delete_port', 'port-2'),
                          ('delete_port', 'port-1')], deletes)
        self.assertEqual([['port', 'port-2'], ['port', 'port-1'],
                          ['dir', self.work]], data['cleaned'])
        self.assertEqual('ConversionFailed', data['error_type'])

    def test_image_create_fails(self):
        cloud = FakeCloud(fail={'create_image': ks_exceptions.Forbidden()})
        data, deletes = self._fails(cloud)
        self.assertEqual([('delete_port', 'port-2'),
                          ('delete_port', 'port-1')], deletes)

    def test_upload_fails(self):
        cloud = FakeCloud(fail={'upload_image': ks_exceptions.BadGateway()})
        data, deletes = self._fails(cloud)
        self.assertEqual([('delete_image', 'image-1'),
                          ('delete_port', 'port-2'),
                          ('delete_port', 'port-1')], deletes)
        self.assertEqual([['image', 'image-1'], ['port', 'port-2'],
                          ['port', 'port-1'], ['dir', self.work]],
                         data['cleaned'])

    def test_the_stored_image_checked(self):
        for stored, error in (
                ({'size': 2999}, 'image image-1 holds 2999 bytes, not the '
                                 '3000 sent'),
                ({'size': 3000, 'os_hash_algo': 'sha512',
                  'os_hash_value': 'ab' * 64},
                 'image image-1 does not hold the data sent: its SHA-512 '
                 'differs')):
            self.out.seek(0)
            self.out.truncate(0)
            data, deletes = self._fails(FakeCloud(stored=stored))
            self.assertEqual(('ImageFailed', error),
                             (data['error_type'], data['error']))
            self.assertEqual(('delete_image', 'image-1'), deletes[0])
        # A Glance that keeps another hash: imported, and said so.
        self.out.seek(0)
        self.out.truncate(0)
        self.assertEqual(0, self.run_import(FakeCloud(stored={
            'size': 3000, 'os_hash_algo': 'md5'}), '--json'))
        self.assertIn("the image's data was not checked against Glance's "
                      "hash (its os_hash_algo is md5)",
                      json.loads(self.out.getvalue())['notes'])

    def test_image_killed(self):
        data, deletes = self._fails(FakeCloud(image_status='killed'))
        self.assertEqual([('delete_image', 'image-1'),
                          ('delete_port', 'port-2'),
                          ('delete_port', 'port-1')], deletes)
        self.assertEqual('ImageFailed', data['error_type'])
        self.assertEqual('image image-1 is killed', data['error'])

    def test_second_port_fails(self):
        cloud = FakeCloud(fail={'create_port': (
            2, ks_exceptions.Conflict('MAC address in use'))})
        data, deletes = self._fails(cloud)
        # Before any disk was copied: the ports come first.
        self.assertEqual([('delete_port', 'port-1')], deletes)
        self.convert.assert_not_called()
        self.assertNotIn('create_image', cloud.names())

    def test_server_create_fails(self):
        cloud = FakeCloud(fail={'create_server': nova_exceptions.Forbidden(
            403, 'quota exceeded')})
        data, deletes = self._fails(cloud)
        self.assertEqual([('delete_image', 'image-1'),
                          ('delete_port', 'port-2'),
                          ('delete_port', 'port-1')], deletes)

    def test_the_server_stays_when_its_files_cannot_be_removed(self):
        cloud = FakeCloud()
        with mock.patch.object(importer, '_remove',
                               side_effect=PermissionError('busy')):
            self.assertEqual(0, self.run_import(cloud, '--json'))
        self.assertEqual([], [c for c in cloud.calls
                              if c[0].startswith('delete')])
        data = json.loads(self.out.getvalue())
        self.assertTrue(data['ok'])
        self.assertEqual('busy', data['left'][0][2])

    def test_an_ovf_folders_disk_checked_against_its_manifest(self):
        good = ('sha256', hashlib.sha256(b'vmdk').hexdigest())
        for digest, code in ((good, 0), (('sha256', 'ab' * 32), 4)):
            self.out.seek(0)
            self.out.truncate(0)
            self.read.return_value = dataclasses.replace(
                self.export, kind='ovf', disks=tuple(
                    dataclasses.replace(d, digest=digest)
                    for d in self.export.disks))
            cloud = FakeCloud()
            self.assertEqual(code, self.run_import(cloud, '--json'))
            if code:
                data = json.loads(self.out.getvalue())
                self.assertEqual('ChecksumMismatch', data['error_type'])
                self.assertNotIn('create_image', cloud.names())
                self.assertEqual(cloud.names().count('create_port'),
                                 cloud.names().count('delete_port'))
            if os.path.exists(self.work):
                os.rmdir(self.work)

    def test_server_error(self):
        cloud = FakeCloud(server_statuses=('BUILD', 'ERROR'))
        data, deletes = self._fails(cloud)
        self.assertEqual('ServerFailed', data['error_type'])
        self.assertEqual('server server-1 is ERROR: No valid host was '
                         'found.', data['error'])
        self.assertEqual([('delete_server', 'server-1'),
                          ('delete_image', 'image-1'),
                          ('delete_port', 'port-2'),
                          ('delete_port', 'port-1')], deletes)
        # The ports only once the server is gone.
        names = cloud.names()
        self.assertLess(names.index('delete_server'),
                        len(names) - 1 - names[::-1].index('server_status'))
        self.assertLess(
            len(names) - 1 - names[::-1].index('server_status'),
            names.index('delete_port'))
        self.assertEqual(
            [['server', 'server-1'], ['image', 'image-1'], ['port', 'port-2'],
             ['port', 'port-1'], ['dir', self.work]], data['cleaned'])

    def test_server_timeout(self):
        cloud = FakeCloud(server_statuses=['BUILD'] * 50)
        clock = iter(range(0, 100000, 100))
        self.useFixture(fixtures.MockPatch(
            'time.monotonic', side_effect=lambda: next(clock)))
        data, deletes = self._fails(cloud)
        self.assertEqual('StepTimeout', data['error_type'])
        self.assertEqual('delete_server', deletes[0][0])

    def test_ctrl_c_cleans_up(self):
        cloud = FakeCloud(fail={'create_port': (2, KeyboardInterrupt())})
        data, deletes = self._fails(cloud, code=130)
        self.assertEqual('KeyboardInterrupt', data['error_type'])
        self.assertEqual([('delete_port', 'port-1')], deletes)
        self.assertIn('deleted: port port-1, dir %s'
                      % self.work, self.err.getvalue())

    def test_what_cannot_be_deleted_is_reported(self):
        cloud = FakeCloud(fail={
            'create_server': Boom('compute down'),
            'delete_port': (1, ks_exceptions.ServiceUnavailable())})
        data, deletes = self._fails(cloud)
        self.assertEqual([('delete_image', 'image-1'),
                          ('delete_port', 'port-2'),
                          ('delete_port', 'port-1')], deletes)
        self.assertEqual([['port', 'port-2', mock.ANY]], data['left'])
        self.assertIn('NOT deleted: port port-2', self.err.getvalue())

    def test_given_work_dir_only_the_converted_file_removed(self):
        os.mkdir(self.work)
        other = os.path.join(self.work, 'other')
        open(other, 'w').close()
        cloud = FakeCloud(fail={'upload_image': Boom()})
        self.assertEqual(4, self.run_import(cloud, '--work-dir', self.work))
        self.assertEqual(['other'], os.listdir(self.work))

    def test_existing_converted_file_never_overwritten(self):
        os.mkdir(self.work)
        mine = os.path.join(self.work, 'boot-disk.qcow2')
        with open(mine, 'w') as f:
            f.write('keep')
        cloud = FakeCloud()
        self.assertEqual(4, self.run_import(cloud, '--work-dir', self.work))
        with open(mine) as f:
            self.assertEqual('keep', f.read())
        self.assertNotIn('create_image', cloud.names())
        self.assertEqual(cloud.names().count('create_port'),
                         cloud.names().count('delete_port'))


class LostAnswerTest(ImportTestBase):
    """A create whose answer is lost: what the cloud made is deleted too."""

    def _fails(self, cloud, code=4, maybe=()):
        self.assertEqual(code, self.run_import(cloud, '--json'))
        data = json.loads(self.out.getvalue())
        self.assertFalse(data['ok'])
        # Nothing left behind; what may have been made and was not found
        # is named.
        self.assertEqual({'port': {}, 'image': {}, 'server': {}},
                         cloud.made)
        self.assertEqual(list(maybe), [item[0] for item in data['left']])
        return data

    def test_port(self):
        cloud = FakeCloud(lost={'create_port': (
            2, ks_exceptions.ConnectFailure('connection reset'))})
        data = self._fails(cloud)
        self.assertEqual('ConnectFailure', data['error_type'])
        self.assertEqual([['port', 'port-2'], ['port', 'port-1'],
                          ['dir', self.work]], data['cleaned'])
        name, description = [c[1:] for c in cloud.calls
                             if c[0] == 'find_ports'][0]
        self.assertEqual('web01-nic1', name)
        self.assertRegex(description,
                         '^nova_v2v_import_run=[0-9a-f-]{36}: nova-v2v '
                         'import of .*web01.vmx \\(DMZ\\)$')
        self.assertIn('nova-v2v import: port port-2 was made although its '
                      'create failed (ConnectFailure)', self.err.getvalue())

    def test_image(self):
        cloud = FakeCloud(lost={
            'create_image': ks_exceptions.GatewayTimeout()})
        data = self._fails(cloud)
        self.assertEqual([['image', 'image-1'], ['port', 'port-2'],
                          ['port', 'port-1'], ['dir', self.work]],
                         data['cleaned'])
        run_id = cloud.image.properties[plan.PROP_RUN]
        self.assertIn(('find_images', run_id), cloud.calls)

    def test_server(self):
        cloud = FakeCloud(lost={
            'create_server': nova_exceptions.ClientException(
                500, 'Unexpected API Error')})
        data = self._fails(cloud)
        self.assertEqual([['server', 'server-1'], ['image', 'image-1'],
                          ['port', 'port-2'], ['port', 'port-1'],
                          ['dir', self.work]], data['cleaned'])
        # The server's metadata and the image carry the same run ID.
        run_id = cloud.image.properties[plan.PROP_RUN]
        self.assertIn(('find_servers', 'web01', run_id), cloud.calls)

    def test_ctrl_c_while_waiting_for_the_answer(self):
        cloud = FakeCloud(lost={'create_image': KeyboardInterrupt()})
        data = self._fails(cloud, code=130)
        self.assertEqual(['image', 'image-1'], data['cleaned'][0])

    def test_made_a_little_later(self):
        # The API was still at it: found by the second look.
        cloud = FakeCloud(fail={
            'create_image': ks_exceptions.ConnectTimeout()})
        looks = []

        def find_images(run_id):
            looks.append(run_id)
            return ['image-1'] if len(looks) == 2 else []
        cloud.find_images = find_images
        self.assertEqual(4, self.run_import(cloud, '--json'))
        self.assertEqual(2, len(looks))
        self.assertIn(['image', 'image-1'],
                      json.loads(self.out.getvalue())['cleaned'])

    def test_nothing_made_looked_for_three_times(self):
        cloud = FakeCloud(fail={
            'create_image': ks_exceptions.ConnectTimeout()})
        data = self._fails(cloud, maybe=('maybe-image',))
        # Not found is not gone: the operator is told what to look for.
        maybe = [item for item in data['left'] if item[0] == 'maybe-image']
        self.assertEqual(1, len(maybe), data['left'])
        self.assertIn('nova_v2v_import_run=%s' % maybe[0][1], maybe[0][2])
        self.assertEqual(import_cloud.LOOKUPS,
                         cloud.names().count('find_images'))
        # Waited between the looks, not before the first.
        self.assertEqual(
            [mock.call(import_cloud.POLL_SECONDS)] *
            (import_cloud.LOOKUPS - 1), self.lookup_sleep.call_args_list)

    def test_not_looked_for_when_refused(self):
        # A 4xx: the cloud made nothing.
        cloud = FakeCloud(fail={
            'create_port': (2, ks_exceptions.Conflict('MAC in use')),
            'create_server': nova_exceptions.Forbidden(403)})
        self._fails(cloud)
        self.assertNotIn('find_ports', cloud.names())

    def test_another_runs_port_is_not_taken(self):
        # Same name, another run's marker: not this run's to delete.
        cloud = FakeCloud(lost={'create_port': (
            1, ks_exceptions.ConnectFailure())})
        cloud.made['port']['port-0'] = (
            'web01-nic0', 'nova_v2v_import_run=another: nova-v2v import')
        self.assertEqual(4, self.run_import(cloud, '--json'))
        self.assertEqual({'port-0'}, set(cloud.made['port']))
        self.assertEqual([['port', 'port-1'], ['dir', self.work]],
                         json.loads(self.out.getvalue())['cleaned'])

    def test_the_lookup_failing_keeps_the_error(self):
        cloud = FakeCloud(lost={'create_image': ks_exceptions.BadGateway()},
                          fail={'find_images': ks_exceptions.ConnectFailure(
                              'unreachable')})
        self.assertEqual(4, self.run_import(cloud, '--json'))
        data = json.loads(self.out.getvalue())
        self.assertEqual('BadGateway', data['error_type'])
        self.assertIn('could not look for the image the failed create may '
                      'have made: unreachable', self.err.getvalue())
        # Left behind, as it could not be found; the rest is deleted.
        self.assertEqual({'image-1'}, set(cloud.made['image']))
        self.assertEqual([['port', 'port-2'], ['port', 'port-1'],
                          ['dir', self.work]], data['cleaned'])

    def test_run_id_in_the_result(self):
        cloud = FakeCloud()
        self.assertEqual(0, self.run_import(cloud, '--json'))
        self.assertEqual(cloud.image.properties[plan.PROP_RUN],
                         json.loads(self.out.getvalue())['run_id'])
        self.assertNotIn('find_images', cloud.names())


class OvaTest(ImportTestBase):
    """An OVA's disks are extracted first; removed again on failure."""

    def setUp(self):
        super().setUp()
        self.export = fakes.export(root=self.root, kind='ova', disks=1,
                                   nics=NICS)
        self.read.return_value = self.export
        os.unlink(os.path.join(self.root, 'ds', 'disk1.vmdk'))
        # Read again with its root in the work directory.
        self.ova_read = self.useFixture(fixtures.MockPatchObject(
            ova, 'read', side_effect=self._read_again)).mock
        self.extract = self.useFixture(fixtures.MockPatchObject(
            ova, 'extract', side_effect=self._extract)).mock
        self.again = None

    def _read_again(self, path, work_dir=None):
        self.again = fakes.export(root=work_dir, kind='ova', disks=1,
                                  nics=NICS)
        return self.again

    def _extract(self, export, progress=None):
        for d in export.disks:
            os.makedirs(os.path.dirname(d.path), exist_ok=True)
            with open(d.path, 'wb') as f:
                f.write(b'vmdk')

    def test_extracted_then_converted(self):
        self.assertEqual(0, self.run_import(FakeCloud()))
        self.ova_read.assert_called_once_with(
            self.export.source, work_dir=os.path.join(self.work, 'ova'))
        self.extract.assert_called_once_with(self.again, progress=mock.ANY)
        self.info.assert_called_once_with(self.again.disks[0].path, 'vmdk')
        self.assertTrue(self.again.disks[0].path.startswith(self.work))
        # Extracted for this run, removed once in Glance.
        self.assertFalse(os.path.exists(self.work))

    def test_disk_there_before_is_kept(self):
        work = os.path.join(self.root, 'w')
        self.ova_read.side_effect = None
        self.ova_read.return_value = self.export
        self._extract(self.export)
        self.assertEqual(4, self.run_import(FakeCloud(fail={
            'create_image': Boom()}), '--work-dir', work))
        self.assertTrue(os.path.exists(self.export.disks[0].path))

    def test_dry_run_does_not_extract(self):
        self.assertEqual(0, self.run_import(FakeCloud(), '--dry-run'))
        self.extract.assert_not_called()
        self.ova_read.assert_not_called()
        self.info.assert_not_called()

    def test_failure_removes_the_extracted_disks(self):
        self.assertEqual(4, self.run_import(FakeCloud(fail={
            'create_image': Boom()})))
        # Written below the work directory, and removed with it.
        self.assertTrue(self.again.disks[0].path.startswith(self.work))
        self.assertFalse(os.path.exists(self.again.disks[0].path))
        self.assertFalse(os.path.exists(self.work))
        self.assertEqual([], os.listdir(os.path.join(self.root, 'ds')))

    def test_ova_disks_counted_and_the_unknown_capacity_checked_later(self):
        # A member of 3 GiB extracted; the boot disk's capacity unknown
        # until it is: its conversion's room is checked then.
        sized = dataclasses.replace(self.export, disks=tuple(
            dataclasses.replace(d, size=3 * GIB, capacity=None)
            for d in self.export.disks))
        self.read.return_value = sized
        extracted = 3 * GIB + 3 * GIB // 100 + 64 * 1024 ** 2
        converted = 20 * GIB + 20 * GIB // 100 + 64 * 1024 ** 2
        tmp = tempfile.gettempdir()
        self.assertEqual(0, self.run_import(FakeCloud(), '--dry-run',
                                            '--json'))
        self.assertEqual(extracted,
                         json.loads(self.out.getvalue())['work_bytes'])
        self.statvfs.reset_mock()
        # Room for the extraction, not for the conversion after it.
        self.free.update({tmp: extracted, self.work: converted - 1})
        cloud = self._refused_before_converting(tmp)
        self.assertEqual(cloud.names().count('create_port'),
                         cloud.names().count('delete_port'))
        self.assertFalse(os.path.exists(self.work))

    def _refused_before_converting(self, tmp):
        """An import refused for room once its disk is read; the cloud."""
        cloud = FakeCloud()
        self.assertEqual(4, self.run_import(cloud))
        self.assertIn('NoWorkSpace', self.err.getvalue())
        self.assertEqual([mock.call(tmp), mock.call(self.work)],
                         self.statvfs.call_args_list)
        self.convert.assert_not_called()
        self.assertNotIn('create_image', cloud.names())
        return cloud

    def test_an_understated_capacity_is_checked_again(self):
        # The export says 5 GiB; the disk, read, is 20 GiB: the room to
        # convert it is counted again, before the conversion.
        small = dataclasses.replace(self.export, disks=tuple(
            dataclasses.replace(d, size=3 * GIB, capacity=5 * GIB)
            for d in self.export.disks))
        self.read.return_value = small
        tmp = tempfile.gettempdir()
        self.assertEqual(0, self.run_import(FakeCloud(), '--dry-run',
                                            '--json'))
        planned = json.loads(self.out.getvalue())['work_bytes']
        self.assertLess(planned, 20 * GIB)
        self.statvfs.reset_mock()
        # (the fake statvfs counts 2-byte blocks)
        self.free.update({tmp: planned + 2, self.work: 20 * GIB})
        self._refused_before_converting(tmp)

    def test_checksum_mismatch_fails_cleanly(self):
        self.extract.side_effect = base.ChecksumMismatch('disk1.vmdk')
        cloud = FakeCloud()
        self.assertEqual(4, self.run_import(cloud))
        self.assertIn('ChecksumMismatch', self.err.getvalue())
        self.assertNotIn('create_image', cloud.names())
        self.assertEqual(cloud.names().count('create_port'),
                         cloud.names().count('delete_port'))
