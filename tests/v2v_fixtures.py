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

"""Fixtures shared by the unit and functional tests."""

import os

import fixtures

import nova_v2v.privsep


class PrivsepFixture(fixtures.Fixture):
    """Run nova-v2v's privileged functions in the test process.

    As Nova's ``nova.tests.fixtures.PrivsepFixture`` does for its own
    context: the entrypoints of ``nova_v2v.privsep.sys_admin_pctxt`` run
    in-process (with the test's privileges) instead of in a daemon started
    through sudo/rootwrap. Nova's functional base only does that for
    ``nova.privsep.sys_admin_pctxt`` and makes any other daemon start fail
    (``PrivsepNoHelperFixture``).
    """

    def _setUp(self):
        self.useFixture(fixtures.MockPatchObject(
            nova_v2v.privsep.sys_admin_pctxt, 'client_mode', False))


class FakeLibvirtHost(fixtures.Fixture):
    """A compute host on Nova's fake libvirt, for a driver under test.

    Nova's fake libvirt and cgroups, nova-v2v's privileged functions
    in-process (:class:`PrivsepFixture`) and ``[DEFAULT] instances_path``
    on a new temporary directory (``instances_path``).
    """

    def _setUp(self):
        # Imported here: Nova's test fixtures are for the tests that drive
        # a driver, not for every user of this module.
        from nova.tests import fixtures as nova_fixtures
        from oslo_config import cfg

        self.useFixture(nova_fixtures.LibvirtFixture())
        self.useFixture(nova_fixtures.CGroupsFixture())
        self.useFixture(PrivsepFixture())
        self.instances_path = self.useFixture(fixtures.TempDir()).path
        conf = cfg.CONF
        conf.set_override('instances_path', self.instances_path)
        self.addCleanup(conf.clear_override, 'instances_path')


class InstanceTree(fixtures.Fixture):
    """An instances root with a guest directory, and a victim outside.

    ``root/uuid`` is the guest's directory (``inst``); ``outside/victim``
    is the file a confinement bug would reach. Privileged functions run
    in-process (:class:`PrivsepFixture`).
    """

    def _setUp(self):
        self.useFixture(PrivsepFixture())
        self.tmp = os.path.realpath(self.useFixture(fixtures.TempDir()).path)
        self.root = os.path.join(self.tmp, 'instances')
        self.outside = os.path.join(self.tmp, 'elsewhere')
        self.inst = os.path.join(self.root, 'uuid')
        os.makedirs(self.inst)
        os.makedirs(self.outside)
        self.victim = os.path.join(self.outside, 'victim')
        with open(self.victim, 'w') as f:
            f.write('x')
