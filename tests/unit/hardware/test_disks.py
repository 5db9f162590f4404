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

"""nova_v2v.hardware.disks: the disks' names and formats on the
destination."""

from lxml import etree
import testtools

from nova_v2v.hardware import disks
from nova_v2v.hardware import exception


class TestDevNames(testtools.TestCase):

    def test_dev_names(self):
        self.assertEqual('vda', disks.dev_name('vd', 0))
        self.assertEqual('vdz', disks.dev_name('vd', 25))
        self.assertEqual('vdaa', disks.dev_name('vd', 26))
        self.assertEqual('sdab', disks.dev_name('sd', 27))


class TestSetFormats(testtools.TestCase):

    XML = '''<domain type='kvm'><devices>
  <disk type='file' device='disk'>
    <driver name='qemu' type='qcow2' discard='unmap'/>
    <source file='/i/u/disk'/>
    <backingStore type='file'><format type='raw'/>
      <source file='/i/_base/b'/></backingStore>
    <target dev='vda' bus='virtio'/>
  </disk>
  <disk type='file' device='disk'>
    <source file='/i/u/disk.eph0'/><target dev='vdb' bus='virtio'/>
  </disk>
  <disk type='network' device='disk'>
    <driver name='qemu' type='raw'/>
    <source protocol='rbd' name='pool/vol'/><target dev='vdc'/>
  </disk>
</devices></domain>'''

    def _drivers(self, xml):
        root = etree.fromstring(xml)
        return [(d.find('./target').get('dev'),
                 dict(d.find('./driver').attrib),
                 len(d.findall('./backingStore')))
                for d in root.findall('./devices/disk')]

    def test_only_the_named_disks_change(self):
        out = disks.set_formats(self.XML, {'/i/u/disk': 'raw',
                                           '/i/u/disk.eph0': 'qcow2'})
        self.assertEqual(
            [('vda', {'name': 'qemu', 'type': 'raw', 'discard': 'unmap'}, 0),
             ('vdb', {'name': 'qemu', 'type': 'qcow2'}, 0),
             ('vdc', {'name': 'qemu', 'type': 'raw'}, 0)],
            self._drivers(out))

    def test_nothing_to_change(self):
        self.assertIs(self.XML, disks.set_formats(self.XML, {}))

    def test_unknown_disk_refused(self):
        self.assertRaises(exception.TranslationError, disks.set_formats,
                          self.XML, {'pool/vol': 'qcow2'})
