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

"""The shape of the two distributions: the product apart from its rig.

The product (``nova_v2v``) is what compute and scheduler hosts install:
it never imports the test rig (``nova_v2v_rig``), ships none of its
console scripts, and its subpackages import each other without a cycle.
The rig's own modules import each other without a cycle too.
"""

import ast
import configparser
import os

import testtools

import nova_v2v
import nova_v2v_rig

PRODUCT = os.path.dirname(os.path.abspath(nova_v2v.__file__))
RIG = os.path.dirname(os.path.abspath(nova_v2v_rig.__file__))
ROOT = os.path.dirname(PRODUCT)
DASHBOARD = os.path.join(ROOT, 'dashboard', 'nova_v2v_dashboard')


def modules(package_dir):
    """{dotted module name: path} of one package's sources."""
    top = os.path.basename(package_dir)
    found = {}
    for dirpath, _dirs, files in os.walk(package_dir):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, os.path.dirname(package_dir))
            dotted = rel[:-3].replace(os.sep, '.')
            if dotted.endswith('.__init__'):
                dotted = dotted[:-len('.__init__')]
            found[dotted] = path
    assert top in found
    return found


def imports(path, dotted, known=()):
    """The absolute module names ``path`` imports (any depth).

    ``from package import module`` counts as an import of the module
    alone when ``module`` is one of ``known``.
    """
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    is_pkg = path.endswith('__init__.py')
    package = dotted if is_pkg else dotted.rpartition('.')[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module
                                          else []))
            else:
                module = node.module or ''
            for alias in node.names:
                full = '%s.%s' % (module, alias.name)
                names.add(full if full in known else module)
    return names


def graph(package_dir, depth):
    """Edges between the package's modules cut at ``depth`` components."""
    mods = modules(package_dir)
    top = os.path.basename(package_dir)
    edges = {}
    for dotted, path in mods.items():
        src = '.'.join(dotted.split('.')[:depth])
        for name in imports(path, dotted, mods):
            if name != top and not name.startswith(top + '.'):
                continue
            dst = '.'.join(name.split('.')[:depth])
            if dst != src:
                edges.setdefault(src, set()).add(dst)
    return edges


def cycles(edges):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def importers(package_dirs, top):
    """``'<module> imports <name>'`` for each import of package ``top``.

    :param package_dirs: the packages whose modules are read
    """
    found = []
    for package in package_dirs:
        for dotted, path in modules(package).items():
            for name in imports(path, dotted):
                if name.split('.')[0] == top:
                    found.append('%s imports %s' % (dotted, name))
    return found


class TestProductApartFromRig(testtools.TestCase):

    def test_no_product_module_imports_the_rig(self):
        self.assertEqual([], importers((PRODUCT,), 'nova_v2v_rig'))

    def test_product_distribution_has_no_rig_package_or_script(self):
        setup = configparser.ConfigParser()
        setup.read(os.path.join(ROOT, 'setup.cfg'))
        self.assertEqual(['nova_v2v'],
                         setup['files']['packages'].split())
        scripts = [line.split('=')[1].strip() for line in
                   setup['entry_points']['console_scripts'].splitlines()
                   if line.strip()]
        self.assertTrue(scripts)
        for target in scripts:
            self.assertTrue(target.startswith('nova_v2v.'), target)
        for name in ('lab', 'aio'):
            self.assertFalse(os.path.exists(os.path.join(PRODUCT, name)))

    def test_rig_distribution_depends_on_the_product(self):
        setup = configparser.ConfigParser()
        setup.read(os.path.join(RIG, '..', 'setup.cfg'))
        self.assertEqual(['nova_v2v_rig'],
                         setup['files']['packages'].split())
        with open(os.path.join(RIG, '..', 'requirements.txt')) as f:
            wanted = [line.split('#')[0].strip() for line in f]
        self.assertIn('nova-v2v', wanted)


class TestDashboardApart(testtools.TestCase):
    """The Horizon plugin: a third distribution, on the product only."""

    def test_product_and_rig_never_import_the_dashboard(self):
        self.assertEqual([], importers((PRODUCT, RIG), 'nova_v2v_dashboard'))

    def test_dashboard_never_imports_the_rig(self):
        self.assertEqual([], importers((DASHBOARD,), 'nova_v2v_rig'))

    def test_dashboard_distribution(self):
        setup = configparser.ConfigParser()
        setup.read(os.path.join(DASHBOARD, '..', 'setup.cfg'))
        self.assertEqual(['nova_v2v_dashboard'],
                         setup['files']['packages'].split())
        with open(os.path.join(DASHBOARD, '..', 'requirements.txt')) as f:
            wanted = [line.split('#')[0].split('>')[0].strip() for line in f]
        self.assertIn('nova-v2v', wanted)
        self.assertIn('horizon', wanted)
        enabled = os.listdir(os.path.join(DASHBOARD, 'enabled'))
        self.assertIn('_2125_admin_v2v_migrations_panel.py', enabled)


class TestNoImportCycle(testtools.TestCase):

    def test_detector_finds_a_cycle(self):
        self.assertEqual([['a', 'b']], cycles({'a': {'b'}, 'b': {'a'}}))
        self.assertEqual([], cycles({'a': {'b'}, 'b': {'c'}}))

    def test_graph_is_not_empty(self):
        edges = graph(PRODUCT, 2)
        self.assertIn('nova_v2v.planning', edges['nova_v2v.virt'])

    def test_product_subpackages(self):
        self.assertEqual([], cycles(graph(PRODUCT, 2)))

    def test_product_modules(self):
        self.assertEqual([], cycles(graph(PRODUCT, 99)))

    def test_rig_modules(self):
        self.assertEqual([], cycles(graph(RIG, 99)))
