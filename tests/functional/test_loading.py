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

"""The driver and the filter load the way Nova loads them, by name."""

import os
import subprocess
import sys

from nova import exception
from nova.scheduler import host_manager
from nova import test
from nova.tests import fixtures as nova_fixtures
from nova.virt import driver
from nova.virt import fake
import testtools

from nova_v2v.scheduler import filters as v2v_filters
from nova_v2v import virt
from nova_v2v.virt import libvirt as v2v_libvirt
from nova_v2v.virt.libvirt import driver as v2v_driver
from tests.functional import base


class DriverLoadingTest(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(nova_fixtures.LibvirtFixture())
        virt.unregister()
        self.addCleanup(virt.unregister)

    def test_loads_by_alias_once_registered(self):
        virt.register()

        loaded = driver.load_compute_driver(fake.FakeVirtAPI(), virt.DRIVER)

        self.assertEqual('v2v.V2VLibvirtDriver', virt.DRIVER)
        self.assertIs(v2v_driver.V2VLibvirtDriver, type(loaded))
        self.assertIs(v2v_libvirt, sys.modules['nova.virt.v2v'])

    def test_does_not_load_without_the_alias(self):
        self.assertNotIn('nova.virt.v2v', sys.modules)

        self.assertRaises(SystemExit, driver.load_compute_driver,
                          fake.FakeVirtAPI(), virt.DRIVER)

    def test_unregister_removes_the_alias(self):
        virt.register()
        virt.unregister()

        self.assertNotIn('nova.virt.v2v', sys.modules)
        self.assertRaises(SystemExit, driver.load_compute_driver,
                          fake.FakeVirtAPI(), virt.DRIVER)


# Run in a fresh interpreter: nova.cmd.compute applies Nova's native
# threading patching at import, which this (eventlet-patched) test process
# cannot take.
CONSOLE_SCRIPT_PROBE = """
import sys
from importlib import metadata
from unittest import mock

(script,) = metadata.entry_points(group='console_scripts',
                                  name='nova-v2v-compute')
main = script.load()
import nova.virt
import nova_v2v.virt.libvirt
seen = []

def nova_compute_main():
    seen.append(sys.modules.get('nova.virt.v2v') is nova_v2v.virt.libvirt
                and nova.virt.v2v is nova_v2v.virt.libvirt)
    return 0

assert 'nova.virt.v2v' not in sys.modules
with mock.patch('nova.cmd.compute.main', side_effect=nova_compute_main) as m:
    main()
print(script.value, m.call_count, seen)
"""


class ConsoleScriptTest(testtools.TestCase):

    def test_registers_the_alias_then_runs_nova_compute(self):
        env = dict(os.environ)
        env.pop('OS_NOVA_DISABLE_EVENTLET_PATCHING', None)
        result = subprocess.run(
            [sys.executable, '-c', CONSOLE_SCRIPT_PROBE], env=env,
            capture_output=True, text=True, timeout=120)

        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual('nova_v2v.cmd.compute:main 1 [True]',
                         result.stdout.strip())


class FilterLoadingTest(test.TestCase):

    def _host_manager(self, available, enabled):
        self.flags(available_filters=available, enabled_filters=enabled,
                   group='filter_scheduler')
        return host_manager.HostManager()

    def test_loads_by_class_path_and_name(self):
        manager = self._host_manager(
            ['nova.scheduler.filters.all_filters', base.FILTER_PATH],
            ['ComputeFilter', 'V2VMigrationFilter'])

        self.assertEqual(['ComputeFilter', 'V2VMigrationFilter'],
                         [type(f).__name__ for f in manager.enabled_filters])
        self.assertIsInstance(manager.enabled_filters[1],
                              v2v_filters.V2VMigrationFilter)

    def test_not_available_without_its_class_path(self):
        self.assertRaises(
            exception.SchedulerHostFilterNotFound, self._host_manager,
            ['nova.scheduler.filters.all_filters'],
            ['ComputeFilter', 'V2VMigrationFilter'])
