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

"""A lab host's libvirtd started again from another release's root."""

from unittest import mock

import fixtures
import testtools

from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import upgrade

TRIXIE = {'release': 'trixie', 'root': '/r/trixie',
          'versions': {'qemu': '10.0'}}


class TestReroot(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lab = hosts.Lab(self.useFixture(fixtures.TempDir()).path)
        self.lab._save({'hosts': {'a': {'pid': 10}, 'b': {'pid': 11}},
                        'releases': {}, 'tls': False})
        self.domains = self.useFixture(fixtures.MockPatchObject(
            upgrade, 'running_domains', return_value=[])).mock
        self.roots = self.useFixture(fixtures.MockPatchObject(
            self.lab, '_roots', return_value={'b': TRIXIE})).mock
        self.alive = {10, 11}
        self.useFixture(fixtures.MockPatchObject(
            hosts, '_pid_alive',
            side_effect=lambda pid, needle: pid in self.alive))
        self.kill = self.useFixture(fixtures.MockPatchObject(
            hosts, 'kill_pid',
            side_effect=lambda pid, needle: self.alive.discard(pid))).mock

        def start(host):
            pid = self.start.return_value
            self.alive.add(pid)
            return pid

        self.start = self.useFixture(fixtures.MockPatchObject(
            self.lab, '_start_daemon', side_effect=start)).mock
        self.start.return_value = 21

    def test_upgrade_and_back(self):
        self.assertEqual(21, upgrade.reroot(self.lab, 'b', 'trixie'))
        self.roots.assert_called_once_with({'b': 'trixie'}, False)
        self.kill.assert_called_once_with(11, 'libvirtd')
        self.start.assert_called_once_with('b')
        state = self.lab.load()
        self.assertEqual({'b': TRIXIE}, state['releases'])
        self.assertEqual(21, state['hosts']['b']['pid'])
        self.assertEqual('trixie', self.lab.release('b'))
        # The same release again: nothing to do.
        self.assertEqual(21, upgrade.reroot(self.lab, 'b', 'trixie'))
        self.start.assert_called_once_with('b')
        # Back to the machine's.
        self.start.return_value = 31
        self.assertEqual(31, upgrade.reroot(self.lab, 'b', None))
        self.assertEqual({}, self.lab.load()['releases'])
        self.assertIsNone(self.lab.release('b'))
        self.kill.assert_called_with(21, 'libvirtd')

    def test_host_with_guests_refused(self):
        self.domains.return_value = ['instance-1']
        e = self.assertRaises(hosts.LabError, upgrade.reroot, self.lab, 'b',
                              'trixie')
        self.assertIn('runs instance-1', str(e))
        self.kill.assert_not_called()
        self.start.assert_not_called()

    def test_daemon_that_does_not_stop(self):
        self.kill.side_effect = None
        e = self.assertRaises(hosts.LabError, upgrade.reroot, self.lab, 'b',
                              'trixie')
        self.assertIn('does not stop', str(e))
        self.start.assert_not_called()
        self.assertEqual({}, self.lab.load()['releases'])

    def test_failed_start_restores_the_state(self):
        self.start.side_effect = hosts.LabError('did not come up')
        self.assertRaises(hosts.LabError, upgrade.reroot, self.lab, 'b',
                          'trixie')
        state = self.lab.load()
        self.assertEqual({}, state['releases'])
        # Back to the machine's: no daemon to stop, none to ask.
        self.start.side_effect = None
        self.start.return_value = 31
        self.domains.side_effect = AssertionError('not asked')
        self.assertEqual(31, upgrade.reroot(self.lab, 'b', None))

    def test_lab_down_refused(self):
        lab = hosts.Lab(self.useFixture(fixtures.TempDir()).path)
        self.assertRaises(hosts.LabError, upgrade.reroot, lab, 'b', 'trixie')

    def test_root_that_cannot_be_built_stops_nothing(self):
        self.roots.side_effect = hosts.LabError('no mirror')
        self.assertRaises(hosts.LabError, upgrade.reroot, self.lab, 'b',
                          'trixie')
        self.kill.assert_not_called()
        self.assertEqual({}, self.lab.load()['releases'])


class TestRunningDomains(testtools.TestCase):

    @mock.patch.object(upgrade.libvirt, 'open')
    def test_active_domains_over_the_hosts_socket(self, open_):
        lab = hosts.Lab(self.useFixture(fixtures.TempDir()).path)
        dom = mock.Mock()
        dom.name.return_value = 'instance-2'
        conn = open_.return_value
        conn.listAllDomains.return_value = [dom]
        self.assertEqual(['instance-2'], upgrade.running_domains(lab, 'b'))
        open_.assert_called_once_with(lab.local_uri('b'))
        conn.listAllDomains.assert_called_once_with(
            upgrade.libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        conn.close.assert_called_once_with()
