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

"""Real libvirt/QEMU migrations in the two-host lab (nova_v2v.lab).

Needs root, the Debian packages of bindep.txt (profile "test") and the
Debian archive for the guest kernel.  Nothing is skipped: a missing
prerequisite fails every test with one message (tests.integration.base).
"""

import json

from testtools import content

from tests.integration import base


class TestLabMigrations(base.LabTestCase):
    """One lab, a shared-live and a block-live migration from a to b."""

    def _migrate(self, mode):
        result = self.migrate_live(mode)
        print('\n%s: %s' % (mode, json.dumps(result, sort_keys=True)))
        self.addDetail('result', content.text_content(
            json.dumps(result, indent=2, sort_keys=True)))
        self.assertGuestMovedIntact(result)
        first_b, _last_b = result['log_ranges'][1]
        self.assertGreater(first_b, 1, 'guest did not write on host a')
        return result

    def test_shared_live(self):
        result = self._migrate('shared-live')
        self.assertEqual(0, result['disk_bytes'], result)

    def test_block_live(self):
        result = self._migrate('block-live')
        self.assertGreater(result['disk_bytes'], 0, result)
