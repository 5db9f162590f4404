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

import fixtures
import testtools

from nova_v2v.exports import base
from nova_v2v.exports import reader
from nova_v2v.hardware import exception


class TestKindOf(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def test_by_extension(self):
        for name, kind in (('g.vmx', 'vmx'), ('G.OVF', 'ovf'),
                           ('g.ova', 'ova'), ('g.xml', None),
                           ('vmx', None), ('g.vmdk', None)):
            self.assertEqual(kind, reader.kind_of(os.path.join(self.tmp,
                                                               name)), name)

    def test_a_folder_with_one_ovf(self):
        folder = os.path.join(self.tmp, 'export')
        os.mkdir(folder)
        self.assertIsNone(reader.kind_of(folder))
        open(os.path.join(folder, 'guest.ovf'), 'w').close()
        self.assertEqual('ovf', reader.kind_of(folder))
        open(os.path.join(folder, 'other.ovf'), 'w').close()
        self.assertIsNone(reader.kind_of(folder))

    def test_not_an_export(self):
        exc = self.assertRaises(base.UnsupportedExport, reader.read,
                                os.path.join(self.tmp, 'guest.xml'))
        self.assertIn('is not a VMware export', str(exc))

    def test_errors_are_translation_errors(self):
        for cls in (base.UnsupportedExport, base.HostileExport,
                    base.ChecksumMismatch):
            self.assertTrue(issubclass(cls, exception.TranslationError))
        self.assertTrue(issubclass(base.HostileExport,
                                   exception.HostileInput))
