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

"""Run a module of Nova's own libvirt functional tests with the V2V driver.

Each test module of this package names one Nova module and calls
:func:`v2v_variants`, which subclasses every libvirt ``TestCase`` class of
it under the same name, with :class:`V2VDriverMixin` first:

* ``nova.virt.v2v`` registered (``nova_v2v.virt.register()``) for the test
  and removed again afterwards, and ``compute_driver =
  v2v.V2VLibvirtDriver`` instead of ``libvirt.LibvirtDriver``, set after
  the upstream class's own ``_setup_compute_service``;
* ``V2VMigrationFilter`` available and enabled in the scheduler, as
  nova-v2v's deployment guide configures it;
* a check, each time a compute service starts or restarts (Nova's classes
  start them in ``setUp`` or lazily in the test), that its driver really is
  a ``V2VLibvirtDriver``, and at the end of the test that every compute
  still running is one, so the substitution cannot silently not happen;
* ``[wsgi] api_paste_config`` pointing at the ``api-paste.ini`` that Nova's
  wheel installs under ``sys.prefix`` (Nova's test config expects it under
  ``$state_path``, i.e. in a source checkout).

Only classes based on Nova's libvirt ``ServersTestBase`` are taken: the
others do not run the libvirt driver, so they say nothing about the V2V
one. Only Nova's module is referenced (not its classes), so the test loader
finds the V2V variants only.

``NOVA_V2V_REGRESSION_BASELINE=1`` in the environment runs the same
selection with Nova's own driver and scheduler filters (only the
``api-paste.ini`` location is set): the baseline each V2V result is
compared with.
"""

import os
import re
import sys
import sysconfig
import unittest

from nova import conf as nova_conf
from nova.tests.functional.libvirt import base as nova_libvirt_base

from nova_v2v import virt as v2v_virt
from nova_v2v.virt.libvirt import driver as v2v_driver

CONF = nova_conf.CONF
FILTER = 'V2VMigrationFilter'
FILTER_PATH = 'nova_v2v.scheduler.filters.' + FILTER
# Set to run the selection with Nova's own driver (the baseline).
BASELINE_ENV = 'NOVA_V2V_REGRESSION_BASELINE'


def baseline():
    """Whether this run is the Nova-driver baseline."""
    return os.environ.get(BASELINE_ENV, '') not in ('', '0')


def api_paste_config():
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


class BaselineMixin(object):
    """Nova's libvirt functional test class as it is upstream.

    One addition, in both runs: a test of Nova's that holds its
    ``lock_live_migration`` (``LiveMigrationWithLockBase``) and fails
    before releasing it would leave the live migration's thread blocked,
    and the executor's shutdown at the end of the test (which waits for
    it) would hang the test worker for good: the lock is released by a
    cleanup that runs before the services stop, so such a test fails
    instead of hanging.
    """

    def setUp(self):
        super().setUp()
        if hasattr(self, 'lock_live_migration'):
            self.addCleanup(self._release_live_migration_lock)

    def _release_live_migration_lock(self):
        lock = self.lock_live_migration
        if lock.locked():
            lock.release()

    def _setup_services(self):
        self.flags(api_paste_config=api_paste_config(), group='wsgi')
        super()._setup_services()


class V2VDriverMixin(BaselineMixin):
    """Run a Nova libvirt functional test class with the V2V driver."""

    def setUp(self):
        v2v_virt.register()
        self.addCleanup(v2v_virt.unregister)
        self.v2v_computes_started = 0
        super().setUp()
        # Runs before the services' own cleanups: the computes still run.
        self.addCleanup(self.assert_v2v_computes)

    def _setup_services(self):
        self.flags(available_filters=[
            'nova.scheduler.filters.all_filters', FILTER_PATH],
            group='filter_scheduler')
        super()._setup_services()

    def _setup_scheduler_service(self):
        # Added to the upstream class's own ADDITIONAL_FILTERS, not in
        # their place.
        self.flags(enabled_filters=(
            list(CONF.filter_scheduler.enabled_filters) + [FILTER]),
            group='filter_scheduler')
        return super()._setup_scheduler_service()

    def _setup_compute_service(self):
        super()._setup_compute_service()
        self.flags(compute_driver=v2v_virt.DRIVER)

    def start_compute(self, hostname='compute1', *args, **kwargs):
        hostname = super().start_compute(hostname, *args, **kwargs)
        self.assert_v2v_driver(hostname)
        self.v2v_computes_started += 1
        return hostname

    def assert_v2v_driver(self, hostname):
        driver = self.computes[hostname].driver
        self.assertIsInstance(driver, v2v_driver.V2VLibvirtDriver,
                              'compute %s runs %r, not the V2V driver'
                              % (hostname, driver))

    def assert_v2v_computes(self):
        # A test that started no compute never ran the driver.
        self.assertGreater(self.v2v_computes_started, 0,
                           'no compute service was started')
        for hostname in self.computes:
            self.assert_v2v_driver(hostname)


def v2v_variants(module, names=None, tests=None):
    """A V2V subclass of every libvirt TestCase class in ``module``.

    :param module: a module of Nova's functional tests.
    :param names: the class names to take (default: every libvirt class
        defined in ``module``).
    :param tests: a regular expression; when given, only the test methods
        whose name it matches (``re.search``) run, the others are left out
        of the variant.
    :returns: {class name: V2V variant}, for the caller's ``globals()``.
    """
    mixin = BaselineMixin if baseline() else V2VDriverMixin
    # The caller's module: the variants are found there by the loader.
    caller = sys._getframe(1).f_globals['__name__']
    variants = {}
    for name, obj in sorted(vars(module).items()):
        if not (isinstance(obj, type) and
                issubclass(obj, unittest.TestCase) and
                obj.__module__ == module.__name__):
            continue
        if names is not None and name not in names:
            continue
        if not issubclass(obj, nova_libvirt_base.ServersTestBase):
            continue
        attrs = {'__module__': caller,
                 '__doc__': '%s.%s with the %s driver.' % (
                     module.__name__, name,
                     'Nova libvirt' if baseline() else 'V2V')}
        if tests is not None:
            pattern = re.compile(tests)
            for attr in dir(obj):
                if attr.startswith('test') and not pattern.search(attr):
                    # Not callable: the loader leaves it out.
                    attrs[attr] = None
        variants[name] = type(name, (mixin, obj), attrs)
    if names is not None and set(names) - set(variants):
        raise LookupError('%s has no libvirt test class %s' % (
            module.__name__, ', '.join(sorted(set(names) - set(variants)))))
    return variants
