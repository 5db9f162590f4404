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

"""``nova.tests.functional.libvirt.test_live_migration`` with the V2V driver.

Every ``TestCase`` class of Nova's module is subclassed here under the same
name, with:

* ``nova.virt.v2v`` registered (``nova_v2v.virt.register()``) for the test
  and removed again afterwards, and ``compute_driver =
  v2v.V2VLibvirtDriver`` instead of ``libvirt.LibvirtDriver``;
* ``V2VMigrationFilter`` available and enabled in the scheduler, as
  nova-v2v's deployment guide configures it;
* a check, each time a compute service starts (or restarts), that its
  driver really is a ``V2VLibvirtDriver``, so the substitution cannot
  silently not happen;
* ``[wsgi] api_paste_config`` pointing at the ``api-paste.ini`` that Nova's
  wheel installs under ``sys.prefix`` (Nova's test config expects it under
  ``$state_path``, i.e. in a source checkout).

Only Nova's module is referenced (not its classes), so the test loader finds
the V2V variants only.
"""

import os
import sys
import sysconfig
import unittest

from nova.tests.functional.libvirt import test_live_migration as nova_tests

from nova_v2v import virt as v2v_virt
from nova_v2v.virt.libvirt import driver as v2v_driver

_FILTER = 'V2VMigrationFilter'
_FILTER_PATH = 'nova_v2v.scheduler.filters.' + _FILTER


def _api_paste_config():
    """The api-paste.ini that Nova's package installed."""
    candidates = [
        os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini'),
        os.path.join(sysconfig.get_path('data'), 'etc', 'nova',
                     'api-paste.ini'),
        '/etc/nova/api-paste.ini',
    ]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise RuntimeError('api-paste.ini not found, looked at: %s'
                       % ', '.join(candidates))


class V2VDriverMixin(object):
    """Run a Nova libvirt functional test class with the V2V driver."""

    ADDITIONAL_FILTERS = [_FILTER]

    def setUp(self):
        v2v_virt.register()
        self.addCleanup(v2v_virt.unregister)
        super().setUp()
        # Every upstream class of the module starts its computes in setUp.
        self.assertNotEqual({}, self.computes,
                            'no compute service was started')

    def _setup_services(self):
        self.flags(api_paste_config=_api_paste_config(), group='wsgi')
        self.flags(available_filters=[
            'nova.scheduler.filters.all_filters', _FILTER_PATH],
            group='filter_scheduler')
        super()._setup_services()

    def _setup_compute_service(self):
        self.flags(compute_driver=v2v_virt.DRIVER)

    def start_compute(self, hostname='compute1', *args, **kwargs):
        hostname = super().start_compute(hostname, *args, **kwargs)
        self.assert_v2v_driver(hostname)
        return hostname

    def assert_v2v_driver(self, hostname):
        driver = self.computes[hostname].driver
        self.assertIsInstance(driver, v2v_driver.V2VLibvirtDriver,
                              'compute %s runs %r, not the V2V driver'
                              % (hostname, driver))


def _v2v_variants(module):
    """A V2V subclass of every concrete TestCase class in ``module``."""
    variants = {}
    for name, obj in sorted(vars(module).items()):
        if not (isinstance(obj, type) and
                issubclass(obj, unittest.TestCase) and
                obj.__module__ == module.__name__):
            continue
        doc = '%s.%s with the V2V driver.' % (module.__name__, name)
        variants[name] = type(name, (V2VDriverMixin, obj),
                              {'__module__': __name__, '__doc__': doc})
    return variants


globals().update(_v2v_variants(nova_tests))
