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

"""devstack/plugin.sh, run against stand-ins for devstack's functions.

``devstack_functions.sh`` next to this file defines devstack's ini helpers
(as in devstack's inc/ini-config) and records the calls of the service and
process functions. The plugin's phases run in bash on nova.conf files in a
temporary directory; the results are read with oslo.config's own parser
and compared with what ``nova_v2v.deploy.novaconf.apply`` (the all-in-one's
code path) writes into the same starting nova.conf.

Also: ``shellcheck`` finds nothing in the plugin (the test fails when
shellcheck is missing: bindep.txt lists it for the runs that include unit
tests).
"""

import os
import shutil
import subprocess
import sys

import fixtures
from oslo_config import cfg
import testtools

from nova_v2v.deploy import novaconf

ROOT = os.path.abspath(os.path.join(
    os.path.dirname(__file__), os.pardir, os.pardir, os.pardir))
FUNCTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         'devstack_functions.sh')
PLUGIN = os.path.join(ROOT, 'devstack', 'plugin.sh')
SETTINGS = os.path.join(ROOT, 'devstack', 'settings')
SHELL_FILES = (PLUGIN, SETTINGS, FUNCTIONS)

# A nova.conf as devstack's lib/nova leaves it before the plugins'
# post-config phase (abridged): its own enabled_filters list.
DEVSTACK_FILTERS = ('ComputeFilter,ComputeCapabilitiesFilter,'
                    'ImagePropertiesFilter,ServerGroupAntiAffinityFilter,'
                    'ServerGroupAffinityFilter,SameHostFilter,'
                    'DifferentHostFilter')
NOVA_CONF = """[DEFAULT]
debug = True
compute_driver = libvirt.LibvirtDriver

[filter_scheduler]
enabled_filters = %s

[libvirt]
virt_type = qemu
""" % DEVSTACK_FILTERS

CONTROLLER = 'key,n-api,n-cond,n-sch,n-cpu,placement-api,nova-v2v'
SUBNODE = 'n-cpu,placement-client,nova-v2v'


def oslo_sections(path):
    sections = {}
    cfg.ConfigParser(path, sections).parse()
    return sections


class DevstackPluginTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.nova_conf = os.path.join(self.dir, 'nova.conf')
        self.cpu_conf = os.path.join(self.dir, 'nova-cpu.conf')
        self.calls_log = os.path.join(self.dir, 'calls')
        # $NOVA_BIN_DIR: the plugin runs nova_v2v.deploy.novaconf with the
        # python3 found there (devstack's venv), here this test's Python.
        self.bin_dir = os.path.join(self.dir, 'bin')
        os.mkdir(self.bin_dir)
        python = os.path.join(self.bin_dir, 'python3')
        with open(python, 'w') as f:
            f.write('#!/bin/sh\nexec %s "$@"\n' % sys.executable)
        os.chmod(python, 0o755)
        self.write(self.nova_conf, NOVA_CONF)

    @staticmethod
    def write(path, text):
        with open(path, 'w') as f:
            f.write(text)

    @staticmethod
    def read(path):
        with open(path) as f:
            return f.read()

    def env(self, services, **extra):
        env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'LC_ALL': 'C.UTF-8',
            'DEST': self.dir,
            'NOVA_V2V_DIR': ROOT,
            'NOVA_CONF': self.nova_conf,
            'NOVA_CPU_CONF': self.cpu_conf,
            'NOVA_BIN_DIR': self.bin_dir,
            'ENABLED_SERVICES': services,
            'VIRT_DRIVER': 'libvirt',
            'LIBVIRT_GROUP': 'libvirt',
            'DEVSTACK_CALLS': self.calls_log,
        }
        env.update(extra)
        return env

    def stack(self, services, *phases, check=True, **extra):
        """Run devstack's plugin phases, as stack.sh does, in order.

        "copy" stands for devstack's start_nova_compute, which copies
        $NOVA_CONF to $NOVA_CPU_CONF (then starts nova-compute).
        """
        script = ['set -o errexit', 'source "$FUNCTIONS"',
                  'source "$SETTINGS"']
        for phase in phases:
            if phase == 'copy':
                script.append('cp "$NOVA_CONF" "$NOVA_CPU_CONF"')
            else:
                script.append('source "$PLUGIN" stack %s' % phase)
        env = self.env(services, FUNCTIONS=FUNCTIONS, SETTINGS=SETTINGS,
                       PLUGIN=PLUGIN, **extra)
        proc = subprocess.run(['bash', '-c', '\n'.join(script)], env=env,
                              cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        if check:
            self.assertEqual(0, proc.returncode, proc.stderr[-3000:])
        return proc

    def calls(self):
        if not os.path.exists(self.calls_log):
            return []
        return [tuple(line.split('\t'))
                for line in self.read(self.calls_log).splitlines()]

    def all_in_one(self, role, options=None, weigher=False):
        """The same starting nova.conf, written by novaconf.apply."""
        path = os.path.join(self.dir, 'all-in-one-%s.conf' % role)
        self.write(path, NOVA_CONF)
        novaconf.apply(path, role, options, weigher)
        return oslo_sections(path)

    # -- post-config and extra against novaconf ---------------------------

    def check_controller(self, options, weigher, **localrc):
        self.stack(CONTROLLER, 'install', 'post-config', 'copy', 'extra',
                   **localrc)
        # $NOVA_CONF (all services but n-cpu): the scheduler's settings;
        # the driver is still libvirt's so that devstack's nova-compute
        # started.
        nova_conf = oslo_sections(self.nova_conf)
        self.assertEqual(self.all_in_one('scheduler', options, weigher),
                         nova_conf)
        self.assertEqual(['libvirt.LibvirtDriver'],
                         nova_conf['DEFAULT']['compute_driver'])
        # $NOVA_CPU_CONF: what an all-in-one host gets.
        self.assertEqual(self.all_in_one('all', options, weigher),
                         oslo_sections(self.cpu_conf))

    def test_controller_defaults(self):
        self.check_controller({}, False)
        cpu = oslo_sections(self.cpu_conf)
        self.assertEqual(['v2v.V2VLibvirtDriver'],
                         cpu['DEFAULT']['compute_driver'])
        self.assertEqual(['nova.scheduler.filters.all_filters',
                          novaconf.FILTER_PATH],
                         cpu['filter_scheduler']['available_filters'])
        self.assertEqual([DEVSTACK_FILTERS + ',V2VMigrationFilter'],
                         cpu['filter_scheduler']['enabled_filters'])
        self.assertNotIn('weight_classes', cpu['filter_scheduler'])
        self.assertNotIn('v2v', cpu)

    def test_controller_with_options(self):
        options = {'allow_cutover': 'False', 'cutover_mode': 'acpi',
                   'storage_id': 'nfs:/srv/nova',
                   'nbd_port_min': '10900', 'nbd_port_max': '10999'}
        self.check_controller(
            options, True,
            NOVA_V2V_ALLOW_CUTOVER='False', NOVA_V2V_CUTOVER_MODE='acpi',
            NOVA_V2V_STORAGE_ID='nfs:/srv/nova',
            NOVA_V2V_OPTIONS='nbd_port_min=10900 v2v.nbd_port_max=10999',
            NOVA_V2V_ENABLE_WEIGHER='True')
        cpu = oslo_sections(self.cpu_conf)
        self.assertEqual({key: [value] for key, value in options.items()},
                         cpu['v2v'])
        self.assertEqual(
            ['nova.scheduler.weights.all_weighers,' + novaconf.WEIGHER_PATH],
            cpu['filter_scheduler']['weight_classes'])

    def test_subnode(self):
        options = {'storage_id': 'local-b'}
        self.stack(SUBNODE, 'install', 'post-config', 'copy', 'extra',
                   NOVA_V2V_STORAGE_ID='local-b')
        # No scheduler here: $NOVA_CONF only gets the [v2v] options.
        expected = oslo_sections(self.nova_conf)
        self.write(self.nova_conf, NOVA_CONF)
        self.assertEqual(
            dict(oslo_sections(self.nova_conf), v2v={'storage_id':
                                                     ['local-b']}),
            expected)
        self.assertEqual(self.all_in_one('compute', options),
                         oslo_sections(self.cpu_conf))

    def test_post_config_is_idempotent(self):
        self.stack(CONTROLLER, 'post-config', NOVA_V2V_STORAGE_ID='s',
                   NOVA_V2V_ENABLE_WEIGHER='True')
        once = oslo_sections(self.nova_conf)
        self.stack(CONTROLLER, 'post-config', NOVA_V2V_STORAGE_ID='s',
                   NOVA_V2V_ENABLE_WEIGHER='True')
        # The same options and values (devstack's iniset_multiline moves
        # the lines it rewrites to the top of their section).
        self.assertEqual(once, oslo_sections(self.nova_conf))

    def test_post_config_without_filter_scheduler_section(self):
        self.write(self.nova_conf, '[DEFAULT]\ndebug = True\n')
        self.stack(CONTROLLER, 'post-config')
        self.assertEqual(
            {'DEFAULT': {'debug': ['True']},
             'filter_scheduler': {
                 'available_filters': [
                     'nova.scheduler.filters.all_filters',
                     novaconf.FILTER_PATH],
                 'enabled_filters': [','.join(
                     novaconf.NOVA_ENABLED_FILTERS + (novaconf.FILTER,))]}},
            oslo_sections(self.nova_conf))

    # -- phases and failures ----------------------------------------------

    def test_install(self):
        self.stack(CONTROLLER, 'install')
        self.assertEqual([('echo_summary', 'Installing nova-v2v'),
                          ('setup_develop', ROOT)], self.calls())
        self.assertEqual(NOVA_CONF, self.read(self.nova_conf))

    def test_extra_restarts_n_cpu_with_nova_v2v_compute(self):
        self.write(self.cpu_conf, NOVA_CONF)
        self.stack(SUBNODE, 'extra')
        self.assertEqual(
            [('echo_summary', 'Restarting n-cpu with nova-v2v-compute'),
             ('stop_process', 'n-cpu'),
             ('run_process', 'n-cpu',
              '%s/nova-v2v-compute --config-file %s'
              % (self.bin_dir, self.cpu_conf), 'libvirt')],
            self.calls())
        self.assertEqual(['v2v.V2VLibvirtDriver'],
                         oslo_sections(self.cpu_conf)['DEFAULT'][
                             'compute_driver'])
        # $NOVA_CONF is left alone at this phase.
        self.assertEqual(NOVA_CONF, self.read(self.nova_conf))

    def test_extra_without_n_cpu(self):
        self.stack('n-api,n-sch,nova-v2v', 'extra')
        self.assertEqual(
            [('echo_summary', 'Restarting n-cpu with nova-v2v-compute')],
            self.calls())
        self.assertFalse(os.path.exists(self.cpu_conf))

    def test_other_phases_do_nothing(self):
        script = ('set -o errexit; source "$FUNCTIONS"; source "$SETTINGS";'
                  ' source "$PLUGIN" stack pre-install;'
                  ' source "$PLUGIN" stack test-config;'
                  ' source "$PLUGIN" unstack; source "$PLUGIN" clean')
        proc = subprocess.run(
            ['bash', '-c', script], cwd=ROOT, capture_output=True,
            text=True, timeout=60,
            env=self.env(CONTROLLER, FUNCTIONS=FUNCTIONS, SETTINGS=SETTINGS,
                         PLUGIN=PLUGIN))
        self.assertEqual(0, proc.returncode, proc.stderr[-3000:])
        self.assertEqual([], self.calls())
        self.assertEqual(NOVA_CONF, self.read(self.nova_conf))

    def test_settings_enable_the_service(self):
        proc = subprocess.run(
            ['bash', '-c', 'source "$FUNCTIONS"; source "$SETTINGS"; '
             'echo "$ENABLED_SERVICES|$NOVA_V2V_DIR|'
             '$NOVA_V2V_ENABLE_WEIGHER"'],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
            env=dict(self.env('n-cpu', FUNCTIONS=FUNCTIONS,
                              SETTINGS=SETTINGS,
                              NOVA_V2V_ENABLE_WEIGHER='yes'),
                     NOVA_V2V_DIR=''))
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual('n-cpu,nova-v2v|%s/nova-v2v|True\n' % self.dir,
                         proc.stdout)

    def test_bad_option_stops_the_stack(self):
        proc = self.stack(CONTROLLER, 'post-config', check=False,
                          NOVA_V2V_OPTIONS='no_such_option=1')
        self.assertNotEqual(0, proc.returncode)
        self.assertIn("[v2v] has no option 'no_such_option'", proc.stderr)
        self.assertIn('nova_v2v.deploy.novaconf failed', proc.stderr)
        self.assertEqual(NOVA_CONF, self.read(self.nova_conf))

    def test_other_virt_driver_stops_the_stack(self):
        proc = self.stack(CONTROLLER, 'post-config', check=False,
                          VIRT_DRIVER='ironic')
        self.assertNotEqual(0, proc.returncode)
        self.assertIn('nova-v2v needs VIRT_DRIVER=libvirt', proc.stderr)
        self.assertEqual(NOVA_CONF, self.read(self.nova_conf))

    def test_plugin_disabled(self):
        proc = subprocess.run(
            ['bash', '-c', 'set -o errexit; source "$FUNCTIONS"; '
             'source "$PLUGIN" stack install; '
             'source "$PLUGIN" stack post-config'],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
            env=self.env('n-sch,n-cpu', FUNCTIONS=FUNCTIONS, PLUGIN=PLUGIN))
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual([], self.calls())
        self.assertEqual(NOVA_CONF, self.read(self.nova_conf))


class DevstackFunctionsTestCase(testtools.TestCase):
    """The stand-ins behave as devstack's inc/ini-config."""

    def run_bash(self, script, conf_text):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'x.conf')
        if conf_text is not None:
            with open(path, 'w') as f:
                f.write(conf_text)
        proc = subprocess.run(
            ['bash', '-c', 'set -o errexit; source "$FUNCTIONS"; ' + script],
            env={'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
                 'FUNCTIONS': FUNCTIONS, 'F': path},
            capture_output=True, text=True, timeout=60)
        self.assertEqual(0, proc.returncode, proc.stderr)
        with open(path) as f:
            return proc.stdout, f.read()

    def test_iniset(self):
        out, text = self.run_bash(
            'iniset "$F" a k v1; iniset "$F" a k2 "x  y"; iniset "$F" a k '
            '"v/&\\\\2"; iniset "$F" b k v3; iniget "$F" a k', None)
        self.assertEqual('v/&\\2\n', out)
        # New keys go right after the section header.
        self.assertEqual('\n[a]\nk2 = x y\nk = v/&\\2\n\n[b]\nk = v3\n',
                         text)

    def test_iniset_replaces_only_in_its_section(self):
        _out, text = self.run_bash('iniset "$F" b k new',
                                   '[a]\nk = 1\n[b]\nk = 2\nk = 3\n')
        self.assertEqual('[a]\nk = 1\n[b]\nk = new\nk = new\n', text)

    def test_iniset_multiline(self):
        _out, text = self.run_bash(
            'iniset_multiline "$F" s m 1 2 3; iniset_multiline "$F" t m x',
            '[s]\nm = old\nother = o\n[t]\n')
        self.assertEqual('[s]\nm = 1\nm = 2\nm = 3\nother = o\n[t]\n'
                         'm = x\n', text)

    def test_inidelete(self):
        _out, text = self.run_bash('inidelete "$F" s m',
                                   '[s]\nm = 1\nm = 2\nn = 3\n[t]\nm = 4\n')
        self.assertEqual('[s]\nn = 3\n[t]\nm = 4\n', text)


class ShellcheckTestCase(testtools.TestCase):

    def test_shellcheck(self):
        shellcheck = shutil.which('shellcheck')
        if shellcheck is None:
            self.fail('shellcheck is not installed: it is in bindep.txt '
                      '(tools/install-deps.sh installs it as root; or '
                      '"apt-get install shellcheck")')
        proc = subprocess.run([shellcheck, '-s', 'bash'] + list(SHELL_FILES),
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)

    def test_bindep_installs_shellcheck_for_unit_tests(self):
        # tools/run-tests.sh always asks bindep for the "default" profile
        # (plus "test" for the lab envs); an entry without a profile is in
        # every profile.
        with open(os.path.join(ROOT, 'bindep.txt')) as f:
            entries = [line.split('#')[0].split() for line in f]
        found = [e for e in entries if e and e[0] == 'shellcheck']
        self.assertEqual(1, len(found), found)
        selectors = ' '.join(found[0][1:]).strip('[]').split()
        profiles = [s for s in selectors if ':' not in s]
        self.assertTrue(not profiles or 'default' in profiles, selectors)
