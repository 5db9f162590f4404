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

"""``nova.tests.functional.libvirt.test_vtpm`` with the V2V driver.

The moves of vTPM guests between computes that do not share instance
storage (``VTPMServersTestNonShared``: each secret security policy): live
migration, cold migration, resize to and from a vTPM flavor, with revert;
the vTPM state is copied with the disks. Left out for the env's time
budget (about 5 s a test on 2 cores): the same moves on shared instance
storage (``VTPMServersTest``, 36 tests, the same driver hooks minus the
copy), and the boot, reboot, suspend and shelve tests of both classes (26),
which reach no hook the V2V driver changes other than the compute's start
that every test here runs.
"""

from nova.tests.functional.libvirt import test_vtpm as nova_tests

from tests.nova_regression import base

# Only the tests that move a guest (resize, cold or live migration).
globals().update(base.v2v_variants(nova_tests,
                                   names=['VTPMServersTestNonShared'],
                                   tests=r"migrat|resize"))
