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

"""``nova.tests.functional.libvirt.test_migration_addr`` with the V2V driver.

Cold migration, resize and evacuation with ``[libvirt]
migration_inbound_addr`` an address or a host name.
"""

from nova.tests.functional.libvirt import test_migration_addr as nova_tests

from tests.nova_regression import base

globals().update(base.v2v_variants(nova_tests))
