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

"""nova_v2v.hardware.disks: the disks' names on the destination."""

import testtools

from nova_v2v.hardware import disks


class TestDevNames(testtools.TestCase):

    def test_dev_names(self):
        self.assertEqual('vda', disks.dev_name('vd', 0))
        self.assertEqual('vdz', disks.dev_name('vd', 25))
        self.assertEqual('vdaa', disks.dev_name('vd', 26))
        self.assertEqual('sdab', disks.dev_name('sd', 27))
