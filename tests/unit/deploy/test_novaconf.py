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

"""nova_v2v.deploy.novaconf: the nova.conf settings nova-v2v needs."""

import contextlib
import io
import os
import tempfile

import fixtures
from nova.conf import compute as nova_compute_conf
from nova.conf import scheduler as nova_scheduler_conf
from oslo_config import cfg
import testtools

from nova_v2v.conf import opts as v2v_opts
from nova_v2v.deploy import novaconf

ROOT = os.path.abspath(os.path.join(
    os.path.dirname(__file__), os.pardir, os.pardir, os.pardir))
EXAMPLE = os.path.join(ROOT, 'etc', 'nova', 'nova.conf.d',
                       'nova-v2v.conf.example')

# What devstack's lib/nova writes: Nova's default list plus SameHostFilter
# and DifferentHostFilter.
DEVSTACK_FILTERS = ('ComputeFilter,ComputeCapabilitiesFilter,'
                    'ImagePropertiesFilter,ServerGroupAntiAffinityFilter,'
                    'ServerGroupAffinityFilter,SameHostFilter,'
                    'DifferentHostFilter')


def oslo_sections(path):
    """The file as oslo.config's own parser reads it."""
    sections = {}
    cfg.ConfigParser(path, sections).parse()
    return sections


class SettingsTestCase(testtools.TestCase):

    def test_nova_defaults_match_the_installed_nova(self):
        defaults = {opt.name: opt.default
                    for opt in nova_scheduler_conf.filter_scheduler_opts}
        self.assertEqual(list(novaconf.NOVA_AVAILABLE_FILTERS),
                         defaults['available_filters'])
        self.assertEqual(list(novaconf.NOVA_ENABLED_FILTERS),
                         defaults['enabled_filters'])
        self.assertEqual(list(novaconf.NOVA_WEIGHT_CLASSES),
                         defaults['weight_classes'])

    def test_compute(self):
        self.assertEqual(
            [('DEFAULT', 'compute_driver', 'v2v.V2VLibvirtDriver')],
            novaconf.settings('compute'))

    def test_compute_with_options_in_order(self):
        self.assertEqual(
            [('DEFAULT', 'compute_driver', 'v2v.V2VLibvirtDriver'),
             ('v2v', 'storage_id', 'nfs:/srv/nova'),
             ('v2v', 'allow_cutover', 'False')],
            novaconf.settings('compute', {'storage_id': 'nfs:/srv/nova',
                                          'allow_cutover': False}))

    def test_scheduler_defaults(self):
        self.assertEqual(
            [('filter_scheduler', 'available_filters',
              'nova.scheduler.filters.all_filters'),
             ('filter_scheduler', 'available_filters',
              'nova_v2v.scheduler.filters.V2VMigrationFilter'),
             ('filter_scheduler', 'enabled_filters',
              'ComputeFilter,ComputeCapabilitiesFilter,'
              'ImagePropertiesFilter,ServerGroupAntiAffinityFilter,'
              'ServerGroupAffinityFilter,V2VMigrationFilter')],
            novaconf.settings('scheduler'))

    def test_scheduler_keeps_the_current_lists(self):
        current = {
            ('filter_scheduler', 'enabled_filters'): [DEVSTACK_FILTERS],
            ('filter_scheduler', 'available_filters'): ['a.b', 'c.d'],
            ('filter_scheduler', 'weight_classes'): ['x.Y'],
        }
        lines = novaconf.settings('scheduler', weigher=True,
                                  current=current)
        self.assertEqual(
            [('filter_scheduler', 'available_filters', 'a.b'),
             ('filter_scheduler', 'available_filters', 'c.d'),
             ('filter_scheduler', 'available_filters',
              novaconf.FILTER_PATH),
             ('filter_scheduler', 'enabled_filters',
              DEVSTACK_FILTERS + ',V2VMigrationFilter'),
             ('filter_scheduler', 'weight_classes',
              'x.Y,' + novaconf.WEIGHER_PATH)],
            lines)

    def test_scheduler_adds_nothing_twice(self):
        for enabled in ('ComputeFilter,V2VMigrationFilter',
                        'ComputeFilter,' + novaconf.FILTER_PATH):
            current = {
                ('filter_scheduler', 'enabled_filters'): [enabled],
                ('filter_scheduler', 'available_filters'): [
                    novaconf.FILTER_PATH],
                ('filter_scheduler', 'weight_classes'): [
                    novaconf.WEIGHER_PATH],
            }
            self.assertEqual(
                [('filter_scheduler', 'available_filters',
                  novaconf.FILTER_PATH),
                 ('filter_scheduler', 'enabled_filters', enabled),
                 ('filter_scheduler', 'weight_classes',
                  novaconf.WEIGHER_PATH)],
                novaconf.settings('scheduler', weigher=True,
                                  current=current))

    def test_single_valued_option_last_line_wins(self):
        current = {('filter_scheduler', 'enabled_filters'): [
            'A', ' B , C ,']}
        lines = novaconf.settings('scheduler', current=current)
        self.assertIn(('filter_scheduler', 'enabled_filters',
                       'B,C,V2VMigrationFilter'), lines)

    def test_all_is_compute_and_scheduler(self):
        options = {'storage_id': 'ceph'}
        all_lines = novaconf.settings('all', options, weigher=True)
        compute = novaconf.settings('compute')
        scheduler = novaconf.settings('scheduler', options, weigher=True)
        self.assertEqual(
            sorted(compute + scheduler), sorted(all_lines))
        self.assertEqual(1, all_lines.count(('v2v', 'storage_id', 'ceph')))

    def test_unknown_role(self):
        self.assertRaises(ValueError, novaconf.settings, 'conductor')


class OptionsTestCase(testtools.TestCase):

    def test_parse(self):
        self.assertEqual(
            {'storage_id': 'x=y', 'allow_cutover': 'false',
             'live_state_weight_multiplier': '2.5'},
            novaconf.parse_options(['v2v.storage_id=x=y',
                                    'allow_cutover = false',
                                    'live_state_weight_multiplier=2.5']))

    def test_every_v2v_option_is_known(self):
        names = {opt.dest for group, opts in v2v_opts.list_opts()
                 for opt in opts}
        self.assertEqual(names, set(novaconf._v2v_opts()))

    def test_refused(self):
        for item in ('storage_id', '=x', 'v2v.no_such_option=1',
                     'libvirt.virt_type=kvm', 'DEFAULT.debug=true',
                     'allow_cutover=maybe', 'cutover_mode=hibernate',
                     'nbd_port_min=70000', 'storage_id=a\nb'):
            self.assertRaises(ValueError, novaconf.parse_options, [item])

    def test_settings_validate_too(self):
        self.assertRaises(ValueError, novaconf.settings, 'compute',
                          {'allow_cutover': 'perhaps'})


class IniTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def read(self, path):
        with open(path) as f:
            return f.read()

    def test_read_ini(self):
        text = ('# comment\n[DEFAULT]\ndebug = True\n; other\n'
                'multi = a\n  b\n\n[filter_scheduler]\n'
                'available_filters = x\nfoo: bar\navailable_filters = y\n')
        self.assertEqual(
            [('DEFAULT', 'debug', 'True'), ('DEFAULT', 'multi', 'a\nb'),
             ('filter_scheduler', 'available_filters', 'x'),
             ('filter_scheduler', 'foo', 'bar'),
             ('filter_scheduler', 'available_filters', 'y')],
            novaconf.read_ini(text))

    def test_update_keeps_other_lines(self):
        text = ('# head\n[DEFAULT]\n# about debug\ndebug = True\n'
                'compute_driver = libvirt.LibvirtDriver\nlong = a\n  b\n\n'
                '[filter_scheduler]\navailable_filters = x\nfoo = bar\n'
                'available_filters = y\n\n[libvirt]\nvirt_type = qemu\n')
        new = novaconf.update_ini(text, [
            ('DEFAULT', 'compute_driver', 'v2v.V2VLibvirtDriver'),
            ('DEFAULT', 'long', 'c'),
            ('filter_scheduler', 'available_filters', 'z1'),
            ('filter_scheduler', 'available_filters', 'z2'),
            ('filter_scheduler', 'enabled_filters', 'F'),
            ('v2v', 'storage_id', 's'),
        ])
        self.assertEqual(
            '# head\n[DEFAULT]\n# about debug\ndebug = True\n'
            'compute_driver = v2v.V2VLibvirtDriver\nlong = c\n\n'
            '[filter_scheduler]\navailable_filters = z1\n'
            'available_filters = z2\nfoo = bar\nenabled_filters = F\n\n'
            '[libvirt]\nvirt_type = qemu\n\n[v2v]\nstorage_id = s\n',
            new)

    def test_update_empty(self):
        self.assertEqual('[v2v]\nstorage_id = s\n',
                         novaconf.update_ini('', [('v2v', 'storage_id', 's')]))
        self.assertEqual('', novaconf.update_ini('', []))

    def test_apply_as_oslo_config_reads_it(self):
        path = self.write('nova.conf',
                          '[DEFAULT]\ncompute_driver = libvirt.LibvirtDriver'
                          '\n\n[filter_scheduler]\nenabled_filters = %s\n'
                          % DEVSTACK_FILTERS)
        novaconf.apply(path, 'all', {'storage_id': 'nfs:/x',
                                     'live_state_weight_multiplier': '3'},
                       weigher=True)
        conf = cfg.ConfigOpts()
        conf.register_opts([o for o in nova_compute_conf.ALL_OPTS
                            if o.name == 'compute_driver'])
        nova_scheduler_conf.register_opts(conf)
        for group, opts in v2v_opts.list_opts():
            conf.register_opts(opts, group=group)
        conf([], default_config_files=[path])
        self.assertEqual('v2v.V2VLibvirtDriver', conf.compute_driver)
        self.assertEqual(['nova.scheduler.filters.all_filters',
                          novaconf.FILTER_PATH],
                         conf.filter_scheduler.available_filters)
        self.assertEqual(DEVSTACK_FILTERS.split(',') + [novaconf.FILTER],
                         conf.filter_scheduler.enabled_filters)
        self.assertEqual(['nova.scheduler.weights.all_weighers',
                          novaconf.WEIGHER_PATH],
                         conf.filter_scheduler.weight_classes)
        self.assertEqual('nfs:/x', conf.v2v.storage_id)
        self.assertEqual(3.0, conf.v2v.live_state_weight_multiplier)

    def test_apply_is_idempotent(self):
        path = self.write('nova.conf', '[DEFAULT]\ndebug = True\n')
        novaconf.apply(path, 'all', {'storage_id': 's'}, weigher=True)
        first = self.read(path)
        novaconf.apply(path, 'all', {'storage_id': 's'}, weigher=True)
        self.assertEqual(first, self.read(path))
        self.assertEqual(
            {'DEFAULT': {'debug': ['True'],
                         'compute_driver': ['v2v.V2VLibvirtDriver']},
             'filter_scheduler': {
                 'available_filters': [
                     'nova.scheduler.filters.all_filters',
                     novaconf.FILTER_PATH],
                 'enabled_filters': [','.join(
                     novaconf.NOVA_ENABLED_FILTERS + (novaconf.FILTER,))],
                 'weight_classes': [
                     'nova.scheduler.weights.all_weighers,'
                     + novaconf.WEIGHER_PATH]},
             'v2v': {'storage_id': ['s']}},
            oslo_sections(path))

    def test_apply_creates_the_file(self):
        path = os.path.join(self.dir, 'new.conf')
        entries = novaconf.apply(path, 'compute')
        self.assertEqual(novaconf.format_ini(entries), self.read(path))

    def test_example_file_has_the_settings(self):
        with open(EXAMPLE) as f:
            example = novaconf.values(novaconf.read_ini(f.read()))
        self.assertEqual(novaconf.values(novaconf.settings('all')), example)

    def test_readme_has_the_settings(self):
        with open(os.path.join(ROOT, 'README.rst')) as f:
            readme = f.read()
        for section, key, value in novaconf.settings('all', weigher=True):
            self.assertIn('    %s = %s\n' % (key, value), readme)


class FormatTestCase(testtools.TestCase):

    def test_ini(self):
        self.assertEqual(
            '[DEFAULT]\ncompute_driver = v2v.V2VLibvirtDriver\n\n'
            '[v2v]\nstorage_id = s\n',
            novaconf.format_ini(novaconf.settings('compute',
                                                  {'storage_id': 's'})))

    def test_iniset(self):
        lines = novaconf.settings('all', {'storage_id': "it's"})
        self.assertEqual(
            "iniset '/etc/my nova.conf' DEFAULT compute_driver "
            "v2v.V2VLibvirtDriver\n"
            "iniset_multiline '/etc/my nova.conf' filter_scheduler "
            "available_filters nova.scheduler.filters.all_filters "
            "nova_v2v.scheduler.filters.V2VMigrationFilter\n"
            "iniset '/etc/my nova.conf' filter_scheduler enabled_filters "
            "ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,"
            "ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,"
            "V2VMigrationFilter\n"
            "iniset '/etc/my nova.conf' v2v storage_id 'it'\"'\"'s'\n",
            novaconf.format_iniset(lines, '/etc/my nova.conf'))

    def test_iniset_refuses_whitespace(self):
        for value in ('a b', '', 'a\tb'):
            self.assertRaises(ValueError, novaconf.format_iniset,
                              [('v2v', 'storage_id', value)], 'x')


class MainTestCase(testtools.TestCase):

    def main(self, *argv):
        out = io.StringIO()
        err = io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = novaconf.main(list(argv))
            except SystemExit as exc:
                code = exc.code
        return code, out.getvalue(), err.getvalue()

    def test_ini(self):
        code, out, _err = self.main('--role', 'scheduler', '--weigher',
                                    '--set', 'v2v.storage_id=s')
        self.assertEqual(0, code)
        self.assertEqual(novaconf.format_ini(novaconf.settings(
            'scheduler', {'storage_id': 's'}, weigher=True)), out)

    def test_iniset_merges_with_conf(self):
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as conf:
            conf.write('[filter_scheduler]\nenabled_filters = A,B\n')
            conf.flush()
            code, out, _err = self.main(
                '--role', 'all', '--conf', conf.name, '--format', 'iniset',
                '--section', 'filter_scheduler', '--set', 'storage_id=s')
        self.assertEqual(0, code)
        self.assertEqual(
            'iniset_multiline %(c)s filter_scheduler available_filters '
            'nova.scheduler.filters.all_filters %(f)s\n'
            'iniset %(c)s filter_scheduler enabled_filters '
            'A,B,V2VMigrationFilter\n'
            % {'c': conf.name, 'f': novaconf.FILTER_PATH}, out)

    def test_missing_conf_is_empty(self):
        code, out, _err = self.main('--role', 'compute', '--conf',
                                    '/nonexistent/nova.conf', '--format',
                                    'iniset')
        self.assertEqual(0, code)
        self.assertEqual('iniset /nonexistent/nova.conf DEFAULT '
                         'compute_driver v2v.V2VLibvirtDriver\n', out)

    def test_errors(self):
        for argv in (['--role', 'compute', '--set', 'bogus=1'],
                     ['--role', 'compute', '--format', 'iniset'],
                     ['--role', 'nope'],
                     ['--role', 'compute', '--conf', 'x', '--format',
                      'iniset', '--set', 'storage_id=a b']):
            code, out, err = self.main(*argv)
            self.assertEqual(2, code, argv)
            self.assertEqual('', out)
            self.assertIn('error', err)
