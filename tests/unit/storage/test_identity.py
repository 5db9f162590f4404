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

from nova_v2v.storage import identity

MOUNTINFO = """\
22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
30 22 0:40 / /var/lib/nova/shared rw shared:9 - nfs4 srv:/export rw
41 22 253:1 /srv/lab/host-a/instances /var/lib/nova/instances rw - ext4 \
/dev/vda1 rw
45 22 253:1 /srv/my\\040dir /mnt/space rw - ext4 /dev/vda1 rw
"""


class TestStorageIdentity(testtools.TestCase):

    def test_parse(self):
        mounts = list(identity.parse_mountinfo(MOUNTINFO))
        self.assertEqual(4, len(mounts))
        self.assertEqual('/mnt/space', mounts[3]['mount_point'])
        self.assertEqual('/srv/my dir', mounts[3]['root'])

    def test_local(self):
        self.assertEqual(
            'local:m1:253:1:/var/lib/other',
            identity.storage_identity('/var/lib/other', MOUNTINFO, 'm1'))

    def test_bind_mount_root_counts(self):
        self.assertEqual(
            'local:m1:253:1:/srv/lab/host-a/instances/uuid',
            identity.storage_identity('/var/lib/nova/instances/uuid',
                                      MOUNTINFO, 'm1'))

    def test_network_fs_ignores_machine(self):
        a = identity.storage_identity('/var/lib/nova/shared', MOUNTINFO,
                                      'm1')
        b = identity.storage_identity('/var/lib/nova/shared/', MOUNTINFO,
                                      'm2')
        self.assertEqual('nfs4:srv:/export:/', a)
        self.assertEqual(a, b)

    def test_two_hosts_local_differ(self):
        self.assertNotEqual(
            identity.storage_identity('/var/lib/nova/instances', MOUNTINFO,
                                      'm1'),
            identity.storage_identity('/var/lib/nova/instances', MOUNTINFO,
                                      'm2'))

    def test_no_mount(self):
        self.assertEqual('local:m:unknown:relative',
                         identity.storage_identity('relative', '', 'm'))

    def test_this_host(self):
        value = identity.identity_of('/')
        self.assertTrue(value.startswith('local:') or ':' in value)
