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

"""The lab's check of the host programs it needs, before anything starts."""

import os
from unittest import mock

import fixtures
import testtools

from nova_v2v_rig.lab import hosts


class TestMissingPrograms(testtools.TestCase):

    def test_all_there(self):
        with mock.patch('os.access', return_value=True):
            self.assertEqual([], hosts.missing_programs(
                which=lambda p: '/usr/bin/' + p))

    def test_names_the_program_and_its_package(self):
        def which(prog):
            return None if prog in ('swtpm', 'swtpm_setup') else '/bin/x'
        with mock.patch('os.access', return_value=True):
            missing = hosts.missing_programs(which=which)
        self.assertEqual([('swtpm', 'swtpm'), ('swtpm_setup', 'swtpm-tools')],
                         missing)

    def test_tls_needs_openssl(self):
        def which(prog):
            return None if prog == 'openssl' else '/bin/x'
        with mock.patch('os.access', return_value=True):
            self.assertEqual([], hosts.missing_programs(which=which))
            self.assertEqual([('openssl', 'openssl')],
                             hosts.missing_programs(tls=True, which=which))

    def test_every_package_is_in_bindep_test_profile(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        with open(os.path.join(root, 'bindep.txt')) as f:
            test_pkgs = {line.split()[0] for line in f
                         if line.strip() and not line.startswith('#') and
                         'test' in line.split('[', 1)[-1]}
        for _prog, pkg in hosts.HOST_PROGRAMS + hosts.TLS_PROGRAMS:
            self.assertIn(pkg, test_pkgs)

    def test_up_refuses_before_anything_starts(self):
        lab = hosts.Lab(state_dir=self.useFixture(fixtures.TempDir()).path)
        with mock.patch.object(hosts, 'missing_programs',
                               return_value=[('swtpm', 'swtpm')]), \
                mock.patch.object(lab, '_check_subnet_free') as subnet:
            err = self.assertRaises(hosts.LabError, lab.up)
        self.assertIn('swtpm (package swtpm)', str(err))
        subnet.assert_not_called()


class TestProviderNetwork(testtools.TestCase):

    def test_provider_commands(self):
        argv = [' '.join(a) for a in hosts.provider_commands()]
        self.assertIn('ip -n nv2v-lab-net addr add 10.77.1.254/24 dev '
                      'br-lab', argv)
        self.assertIn('ip -n nv2v-lab-net link add nv2v-sa type veth peer '
                      'name nv2v-pa netns nv2v-lab-a', argv)
        self.assertIn('ip -n nv2v-lab-net link set nv2v-sb master br-lab',
                      argv)
        self.assertIn('ip -n nv2v-lab-b link set nv2v-pb up', argv)
        # No address on the hosts' ends (Open vSwitch ports).
        self.assertEqual(1, sum('addr add' in a for a in argv))

    def test_private_openvswitch_dir(self):
        self.assertIn(('openvswitch', '/run/openvswitch'),
                      hosts.PRIVATE_DIRS)
        lab = hosts.Lab(state_dir='/x')
        self.assertEqual('/x/host-a/openvswitch/db.sock',
                         lab.root_path('a', '/run/openvswitch/db.sock'))
        self.assertEqual('nv2v-pa', lab.provider_port('a'))

    def test_routes_before_namespaces(self):
        lab = hosts.Lab(state_dir=self.useFixture(fixtures.TempDir()).path)
        state = {'netns': []}
        with mock.patch('oslo_concurrency.processutils.execute',
                        return_value=('', '')) as execute:
            lab._setup_network(state)
        calls = [' '.join(c[0]) for c in execute.call_args_list]
        self.assertEqual(['ip route add unreachable 10.77.0.0/24',
                          'ip route add unreachable 10.77.1.0/24'],
                         calls[:2])
        self.assertEqual('10.77.1.0/24', state['guest_route'])
        self.assertEqual(['nv2v-lab-a', 'nv2v-lab-b', 'nv2v-lab-net'],
                         state['netns'])
