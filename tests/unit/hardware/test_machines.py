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

import testtools

from nova_v2v.hardware import machines

QEMU_10 = ('pc', 'q35', 'pc-i440fx-7.2', 'pc-i440fx-10.0', 'pc-q35-7.2',
           'pc-q35-10.0', 'isapc')


class ExpandTest(testtools.TestCase):

    def test_an_alias_runs_the_newest_of_its_family(self):
        self.assertEqual('pc-i440fx-10.0', machines.expand('pc', QEMU_10))
        self.assertEqual('pc-q35-10.0', machines.expand('q35', QEMU_10))
        # No machine: Nova's x86 default, pc.
        self.assertEqual('pc-i440fx-10.0', machines.expand('', QEMU_10))
        self.assertEqual('pc-q35-10.0', machines.expand('', QEMU_10,
                                                        default='q35'))

    def test_a_versioned_machine_is_itself(self):
        self.assertEqual('pc-i440fx-7.2',
                         machines.expand('pc-i440fx-7.2', QEMU_10))

    def test_nothing_versioned_on_the_host(self):
        self.assertEqual('pc', machines.expand('pc', ('pc', 'isapc')))
        self.assertEqual('', machines.expand('', ()))
