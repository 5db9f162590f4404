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

"""Fakes of the transfer engine's tests: a mocked virDomain, its events."""

import threading
from unittest import mock

from nova_v2v.transfer import mirror
from nova_v2v.transfer import nbd

libvirt = mirror.libvirt
XML = """<domain><devices>
  <disk type='file'><target dev='vda'/>%s</disk>
</devices></domain>"""
MIRROR = "<mirror type='network' job='copy' ready='%s'/>"


class FakeWatcher(mirror.BlockJobWatcher):
    """Events added by the test (``_add``), no libvirt connection."""

    def __init__(self):
        self.events = []
        self._seq = 0
        self._lock = threading.Lock()

    def start(self):
        return self

    def stop(self):
        pass


def dom(ready='yes', info=None):
    """A running guest with one disk, vda, mirrored (ready or not)."""
    fake = mock.Mock()
    fake.name.return_value = 'guest'
    fake.XMLDesc.return_value = XML % (MIRROR % ready if ready else '')
    fake.blockJobInfo.return_value = (info if info is not None else
                                      {'cur': 10, 'end': 10})
    fake.isActive.return_value = True
    fake.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
    return fake


def exported(target='vda', name='exp', host='192.0.2.2', port=10810):
    """The export of vda, as the source mirrors into it."""
    return nbd.ExportedDisk('/inst/u/disk', 'qcow2', name, host=host,
                            port=port, source_path='/inst/u/disk',
                            target=target)
