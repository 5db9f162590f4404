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

"""The fault matrix (nova_v2v_rig.lab.faults) on real libvirt and QEMU.

One test per cell: a fault (host b's libvirtd or QEMU killed, the link cut
and restored, host b's store full, the source guest crashing, an abort)
in one phase (sync, cutover) of a V2V cutover of a writing guest.  Each
asserts that no acknowledged record is lost, that the guest ran on the
source after a rollback (or on the destination past the point of no
return), that nothing was left on the destination, and that a second
attempt moved the same guest.
"""

import json

from testtools import content

from nova_v2v_rig.lab import faults
from tests.integration import base


class TestFaultMatrix(base.LabTestCase):

    lab_options = {'small_store_mib': faults.SMALL_STORE_MIB}

    def _cell(self, fault, phase):
        result = faults.run_cell(self.lab, fault, phase)
        self.addDetail('cell', content.text_content(
            json.dumps(faults.row(result), sort_keys=True, default=str)))
        self.addDetail('result', content.text_content(
            json.dumps(result, sort_keys=True, default=str)))
        self.assertEqual([], result['problems'])
        self.assertEqual(0, result['records_lost'])
        self.assertGreater(result['records_verified'], 0)
        return result


def _make(fault, phase):
    def test(self):
        self._cell(fault, phase)
    test.__doc__ = '%s during the %s' % (fault, phase)
    return test


for _fault, _phase in faults.CELLS:
    setattr(TestFaultMatrix,
            'test_%s_%s' % (_fault.replace('-', '_'), _phase),
            _make(_fault, _phase))
