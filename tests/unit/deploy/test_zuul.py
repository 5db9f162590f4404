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

""".zuul.yaml: the multinode live migration job with the devstack plugin.

The job names, devstack variables and tempest options below are not
fetched (no network in the unit tests): they are the ones of the OpenStack
projects' own Zuul and devstack configuration of the 2025.x/2026.x series
(Nova 31 to 34), written down here so that a typo or a job that does not
exist fails here and not in the gate:

* ``NOVA_JOBS``: jobs defined in openstack/nova's .zuul.yaml.
  ``nova-live-migration`` (parent ``tempest-multinode-full-py3``) runs
  tempest's ``tempest.api.compute.admin.test_live_migration`` and
  ``test_migration`` tests on two nodes; its parent sets
  ``LIVE_MIGRATION_AVAILABLE`` and ``USE_BLOCK_MIGRATION_FOR_LIVE_MIGRATION``.
* ``DEVSTACK_LOCALRC``: devstack variables; lib/tempest writes them to
  tempest.conf as ``[compute-feature-enabled] live_migration`` and
  ``block_migration_for_live_migration``.
* ``TEMPEST_COMPUTE_FEATURES``: tempest's
  ``[compute-feature-enabled]`` options used here.
"""

import configparser
import os
import re

import testtools
import yaml

ROOT = os.path.abspath(os.path.join(
    os.path.dirname(__file__), os.pardir, os.pardir, os.pardir))
JOB = 'nova-v2v-multinode-live-migration'

NOVA_JOBS = frozenset([
    'nova-live-migration',
    'nova-live-migration-ceph',
    'nova-grenade-multinode',
    'nova-multi-cell',
    'nova-next',
    'nova-lvm',
    'nova-ovs-hybrid-plug',
    'nova-ceph-multistore',
    'nova-emulation',
    'nova-tempest-v2-api',
    'nova-osprofiler-redis',
])
DEVSTACK_LOCALRC = frozenset([
    'LIVE_MIGRATION_AVAILABLE',
    'USE_BLOCK_MIGRATION_FOR_LIVE_MIGRATION',
])
TEMPEST_COMPUTE_FEATURES = frozenset([
    'live_migration',
    'block_migration_for_live_migration',
])


def _load():
    with open(os.path.join(ROOT, '.zuul.yaml')) as f:
        return yaml.safe_load(f)


def _read(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return f.read()


class ZuulTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.config = _load()
        self.jobs = {item['job']['name']: item['job']
                     for item in self.config if 'job' in item}
        self.job = self.jobs[JOB]
        self.vars = self.job['vars']
        self.subnode = self.job['group-vars']['subnode']

    def project_url(self):
        setup = configparser.ConfigParser()
        setup.read_string(_read('setup.cfg'))
        return setup['metadata']['home_page']

    def test_parses_into_jobs_and_one_project(self):
        self.assertIsInstance(self.config, list)
        for item in self.config:
            self.assertEqual(1, len(item), item)
            self.assertIn(next(iter(item)), ('job', 'project'))
        self.assertEqual(1, sum(1 for i in self.config if 'project' in i))

    def test_parents_are_real_jobs(self):
        self.assertEqual('nova-live-migration', self.job['parent'])
        for name, job in self.jobs.items():
            parent = job.get('parent')
            self.assertTrue(parent in NOVA_JOBS or parent in self.jobs,
                            '%s: unknown parent %s' % (name, parent))

    def test_project_runs_the_job_in_check_non_voting(self):
        # Until it has run green in a real Zuul: check, not voting, and
        # not in the gate.
        project = next(i['project'] for i in self.config if 'project' in i)
        entries = project['check']['jobs']
        names = [j if isinstance(j, str) else next(iter(j)) for j in entries]
        self.assertIn(JOB, names)
        for name in names:
            self.assertIn(name, self.jobs)
        entry = entries[names.index(JOB)]
        self.assertIs(False, entry[JOB]['voting'])
        self.assertNotIn('gate', project)

    def test_required_projects(self):
        url = self.project_url()
        self.assertTrue(url.startswith('https://opendev.org/'), url)
        required = self.job['required-projects']
        self.assertIn('openstack/nova', required)
        self.assertIn(url[len('https://opendev.org/'):], required)

    def test_devstack_plugin(self):
        settings = _read('devstack', 'settings')
        plugin = _read('devstack', 'plugin.sh')
        services = re.findall(r'^enable_service (\S+)$', settings, re.M)
        self.assertEqual(['nova-v2v'], services)
        # The plugin's phases run under "if is_service_enabled <it>".
        self.assertIn('\nif is_service_enabled nova-v2v; then\n', plugin)
        url = self.project_url()
        for where in (self.vars, self.subnode):
            self.assertEqual({'nova-v2v': url}, where['devstack_plugins'])
            self.assertIs(True, where['devstack_services']['nova-v2v'])

    def test_block_migration_for_live_migration(self):
        tempest = self.vars['devstack_local_conf']['test-config'][
            '$TEMPEST_CONFIG']['compute-feature-enabled']
        self.assertLessEqual(set(tempest), TEMPEST_COMPUTE_FEATURES)
        self.assertIs(True, tempest['block_migration_for_live_migration'])
        self.assertIs(True, tempest['live_migration'])
        for where in (self.vars, self.subnode):
            localrc = where['devstack_localrc']
            self.assertIs(True,
                          localrc['USE_BLOCK_MIGRATION_FOR_LIVE_MIGRATION'])
            self.assertIs(True, localrc['LIVE_MIGRATION_AVAILABLE'])

    def test_localrc_variables_exist(self):
        settings = _read('devstack', 'settings')
        defined = set(re.findall(r'^(NOVA_V2V_\w+)=', settings, re.M))
        for where in (self.vars, self.subnode):
            for name in where['devstack_localrc']:
                if name.startswith('NOVA_V2V_'):
                    self.assertIn(name, defined)
                else:
                    self.assertIn(name, DEVSTACK_LOCALRC)
