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

import hashlib
import os
import tarfile
from unittest import mock

import fixtures
from lxml import etree
import testtools

from nova_v2v_rig.aio import ovaexport

NS = {'ovf': ovaexport.OVF, 'rasd': ovaexport.RASD, 'vmw': ovaexport.VMW}


class TestOvaExport(testtools.TestCase):

    def test_descriptor(self):
        root = etree.fromstring(ovaexport.descriptor('g', 1234, 64))
        self.assertEqual('1234', root.find(
            'ovf:References/ovf:File', NS).get('{%s}size' % ovaexport.OVF))
        types = [i.findtext('rasd:ResourceType', namespaces=NS)
                 for i in root.iterfind('.//ovf:Item', NS)]
        self.assertEqual(['3', '4', '6', '17', '10'], types)
        nic = root.findall('.//ovf:Item', NS)[-1]
        self.assertEqual(('VmxNet3', ovaexport.MAC, 'VM Network'), (
            nic.findtext('rasd:ResourceSubType', namespaces=NS),
            nic.findtext('rasd:Address', namespaces=NS),
            nic.findtext('rasd:Connection', namespaces=NS)))
        scsi = root.findall('.//ovf:Item', NS)[2]
        self.assertEqual('VirtualSCSI', scsi.findtext('rasd:ResourceSubType',
                                                      namespaces=NS))
        # rasd fields in the schema's order.
        for item in root.iterfind('.//ovf:Item', NS):
            tags = [etree.QName(e).localname for e in item
                    if etree.QName(e).namespace == ovaexport.RASD]
            self.assertEqual(sorted(tags), tags)

    @mock.patch('oslo_concurrency.processutils.execute')
    def test_build(self, execute):
        def fake(*argv):
            if argv[:2] == ('qemu-img', 'convert'):
                with open(argv[-1], 'wb') as f:
                    f.write(b'KDMV' + b'\0' * 508)
            elif argv[:2] == ('qemu-img', 'create'):
                open(argv[-2], 'wb').close()
            return '', ''
        execute.side_effect = fake
        tmp = self.useFixture(fixtures.TempDir()).path
        path = ovaexport.build(tmp, 'g', 64, (16, 8))
        self.assertEqual([os.path.basename(path)], os.listdir(tmp))
        self.assertIn(mock.call('qemu-io', '-f', 'raw', '-c',
                                'write -q -P 0x5a 16M 8M',
                                os.path.join(tmp, 'g.raw')),
                      execute.call_args_list)
        with tarfile.open(path) as tar:
            self.assertEqual(['g.ovf', 'g.mf', 'disk1.vmdk'],
                             tar.getnames())
            manifest = tar.extractfile('g.mf').read().decode()
            for name in ('g.ovf', 'disk1.vmdk'):
                digest = hashlib.sha256(
                    tar.extractfile(name).read()).hexdigest()
                self.assertIn('SHA256(%s)= %s\n' % (name, digest), manifest)
