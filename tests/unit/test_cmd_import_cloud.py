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

"""The calls of ``nova-v2v import`` to the cloud, and its upload.

:class:`nova_v2v.cmd.import_cloud.Cloud`'s REST calls against a mocked
keystoneauth1 session (and a mocked or a real, offline novaclient), and
:class:`nova_v2v.cmd.import_cloud.Upload` as requests prepares it. The
import's steps that use them are in ``test_cmd_import``.
"""

import os
from unittest import mock

import fixtures
from novaclient import exceptions as nova_exceptions
import requests
import testtools

from nova_v2v.cmd import import_cloud
from nova_v2v.exports import plan


class CloudTest(testtools.TestCase):
    """The REST calls of :class:`import_cloud.Cloud` (session mocked)."""

    def setUp(self):
        super().setUp()
        self.nova = self.useFixture(fixtures.MockPatch(
            'novaclient.client.Client')).mock.return_value
        self.sess = mock.Mock()
        self.cloud = import_cloud.Cloud(self.sess, 'RegionOne', 'internal')

    def _ep(self, service):
        return {'endpoint_filter': {'region_name': 'RegionOne',
                                    'interface': 'internal',
                                    'service_type': service}}

    def test_image(self):
        self.sess.post.return_value.json.return_value = {'id': 'img'}
        image = plan.ImagePlan('web01-disk', 'qcow2', 'bare',
                               {'hw_disk_bus': 'virtio'}, min_disk=20)
        self.assertEqual('img', self.cloud.create_image(image))
        self.sess.post.assert_called_once_with(
            '/v2/images', json={'name': 'web01-disk', 'disk_format': 'qcow2',
                                'container_format': 'bare', 'min_disk': 20,
                                'hw_disk_bus': 'virtio'},
            **self._ep('image'))
        body = mock.Mock()
        self.cloud.upload_image('img', body)
        self.sess.put.assert_called_once_with(
            '/v2/images/img/file', data=body,
            headers={'Content-Type': 'application/octet-stream'},
            **self._ep('image'))
        self.cloud.delete_image('img')
        self.sess.delete.assert_called_once_with('/v2/images/img',
                                                 **self._ep('image'))

    def test_ports_and_networks(self):
        self.sess.post.return_value.json.return_value = {'port': {
            'id': 'p1'}}
        self.assertEqual('p1', self.cloud.create_port(
            'net-1', '00:50:56:00:00:01', 'web01-nic0', 'from x'))
        self.sess.post.assert_called_once_with(
            '/v2.0/ports', json={'port': {
                'network_id': 'net-1', 'mac_address': '00:50:56:00:00:01',
                'name': 'web01-nic0', 'description': 'from x'}},
            **self._ep('network'))
        self.cloud.create_port('net-1', None, 'n', 'd')
        self.assertNotIn('mac_address',
                         self.sess.post.call_args[1]['json']['port'])
        self.sess.get.return_value.json.return_value = {'networks': [
            {'id': 'n1', 'name': 'private'}]}
        self.assertEqual([plan.Network('n1', 'private')],
                         self.cloud.networks())
        self.sess.get.assert_called_once_with('/v2.0/networks',
                                              **self._ep('network'))

    def test_flavors(self):
        flavor = mock.Mock(id='f1', vcpus=2, ram=4096, disk=40,
                           **{'os-flavor-access:is_public': False})
        flavor.name = 'm1.medium'
        self.nova.flavors.list.return_value = [flavor]
        self.assertEqual([plan.Flavor('f1', 'm1.medium', 2, 4096, 40,
                                      is_public=False)],
                         self.cloud.flavors())
        self.nova.flavors.list.assert_called_once_with(is_public=None)

    def test_finds(self):
        self.sess.get.return_value.json.return_value = {'images': [
            {'id': 'i1', 'nova_v2v_import_run': 'r1'},
            {'id': 'i2', 'nova_v2v_import_run': 'r2'}, {'id': 'i3'}]}
        # Checked again: a Glance that ignores the filter lists others.
        self.assertEqual(['i1'], self.cloud.find_images('r1'))
        self.sess.get.assert_called_with(
            '/v2/images', params={'nova_v2v_import_run': 'r1'},
            **self._ep('image'))
        self.sess.get.return_value.json.return_value = {'ports': [
            {'id': 'p1', 'name': 'web01-nic0', 'description': 'run=r1'},
            {'id': 'p2', 'name': 'web01-nic0', 'description': 'run=r2'}]}
        self.assertEqual(['p1'], self.cloud.find_ports('web01-nic0',
                                                       'run=r1'))
        self.sess.get.assert_called_with(
            '/v2.0/ports', params={'name': 'web01-nic0',
                                   'description': 'run=r1'},
            **self._ep('network'))
        servers = [mock.Mock(id='s1', metadata={'nova_v2v_import_run': 'r1'}),
                   mock.Mock(id='s2', metadata={'nova_v2v_import_run': 'r2'}),
                   mock.Mock(id='s3', metadata={'nova_v2v_import_run': 'r1'})]
        for server, name in zip(servers, ('web01.x', 'web01.x', 'web01.xy')):
            server.name = name
        self.nova.servers.list.return_value = servers
        self.assertEqual(['s1'], self.cloud.find_servers('web01.x', 'r1'))
        self.nova.servers.list.assert_called_once_with(
            search_opts={'name': '^web01\\.x$'})

    def test_server(self):
        self.nova.servers.create.return_value.id = 's1'
        self.assertEqual('s1', self.cloud.create_server(
            'web01', 'img', 'f1', ['p1'],
            metadata={'nova_v2v_import_run': 'r1'}))
        self.nova.servers.create.assert_called_once_with(
            'web01', 'img', 'f1', nics=[{'port-id': 'p1'}],
            meta={'nova_v2v_import_run': 'r1'})
        self.nova.servers.create.reset_mock()
        self.assertEqual('s1', self.cloud.create_server(
            'web01', 'img', 'f1', ['p1', 'p2']))
        self.nova.servers.create.assert_called_once_with(
            'web01', 'img', 'f1',
            nics=[{'port-id': 'p1'}, {'port-id': 'p2'}])
        self.nova.servers.get.return_value = mock.Mock(
            status='ERROR', fault={'message': 'No valid host'})
        self.assertEqual(('ERROR', 'No valid host'),
                         self.cloud.server_status('s1'))
        self.nova.servers.get.side_effect = nova_exceptions.NotFound(404)
        self.assertEqual((None, None), self.cloud.server_status('s1'))


class NovaClientTest(testtools.TestCase):
    """The server's ``nics`` as novaclient itself validates them."""

    def test_ports_or_none(self):
        from novaclient import client as real_client
        nova = real_client.Client(import_cloud.COMPUTE_API_VERSION,
                                  session=mock.Mock())
        created = []
        self.useFixture(fixtures.MockPatchObject(
            nova.servers, '_boot',
            side_effect=lambda *a, **kw: created.append(kw) or mock.Mock(
                id='s1')))
        cloud = import_cloud.Cloud(mock.Mock(), None, 'public')
        cloud.nova = nova
        self.assertEqual('s1', cloud.create_server('g', 'img', 'f', []))
        self.assertEqual('none', created[-1]['nics'])
        cloud.create_server('g', 'img', 'f', ['p1'])
        self.assertEqual([{'port-id': 'p1'}], created[-1]['nics'])
        # What an empty list would have met.
        self.assertRaises(ValueError, nova.servers.create, 'g', 'img', 'f',
                          nics=[])


class UploadTest(testtools.TestCase):

    def test_sent_with_its_length_not_chunked(self):

        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'd')
        with open(path, 'wb') as f:
            f.write(b'q' * 3000)
        progress = mock.Mock()
        body = import_cloud.Upload(path, progress)
        self.addCleanup(body.close)
        prepared = requests.Request('PUT', 'http://image.invalid/f',
                                    data=body).prepare()
        self.assertEqual('3000', prepared.headers['Content-Length'])
        self.assertNotIn('Transfer-Encoding', prepared.headers)
        self.assertEqual(b'q' * 3000, body.read(8192))
        progress.bytes.assert_called_with('uploading', 3000, 3000)
