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

"""Every command runs from an argument list, never through a shell.

The package's source is read with ``ast``:

* no call passes ``shell=True`` (or any non-False ``shell``);
* no ``os.system`` or ``os.popen``, no ``os.exec*``/``os.spawn*`` of a
  shell, no ``commands`` or ``pty`` module;
* a ``subprocess`` call never gets a string command;
* every ``processutils.execute``/``trycmd`` call's first argument is a
  string literal (the program, each argument separate) or the expansion
  of a list (``*args``) that is not a split string, or a variable holding
  the program's path when further arguments follow (a lone variable could
  hold a whole command line); the program is never a shell.
"""

import ast
import os

import testtools

import nova_v2v
import nova_v2v_rig

# The product and its test rig: both run commands, neither through a shell.
_PACKAGES = (os.path.dirname(os.path.abspath(nova_v2v.__file__)),
             os.path.dirname(os.path.abspath(nova_v2v_rig.__file__)))
_ROOT = os.path.dirname(os.path.dirname(_PACKAGES[0]))
_SHELLS = {'sh', 'bash', 'dash', 'zsh', '/bin/sh', '/bin/bash',
           '/usr/bin/sh', '/usr/bin/bash', '/usr/bin/env'}
_SHELL_NAMES = {os.path.basename(s) for s in _SHELLS}
_SUBPROCESS = {'run', 'call', 'check_call', 'check_output', 'Popen',
               'getoutput', 'getstatusoutput'}
_PROCESSUTILS = {'execute', 'trycmd'}


def _sources():
    for package in _PACKAGES:
        for dirpath, _dirnames, filenames in os.walk(package):
            for name in sorted(filenames):
                if name.endswith('.py'):
                    yield os.path.join(dirpath, name)


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return '.'.join(reversed(parts))
    return None


def _is_string(node):
    return (isinstance(node, ast.JoinedStr) or
            (isinstance(node, ast.Constant) and isinstance(node.value, str))
            or (isinstance(node, ast.BinOp) and (_is_string(node.left) or
                                                 _is_string(node.right))) or
            (isinstance(node, ast.Call) and
             isinstance(node.func, ast.Attribute) and
             node.func.attr in ('format', 'join') and
             _is_string(node.func.value)))


def problems_in(source, filename='<source>'):
    """The rule violations in one module's source, as strings."""
    found = []
    tree = ast.parse(source, filename)

    def report(node, what):
        found.append('%s:%d: %s' % (os.path.relpath(filename, _ROOT)
                                    if filename != '<source>' else filename,
                                    node.lineno, what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ('commands', 'pty'):
                    report(node, 'imports %s' % alias.name)
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func) or ''
        last = name.rsplit('.', 1)[-1]
        for kw in node.keywords:
            if kw.arg == 'shell' and not (isinstance(kw.value, ast.Constant)
                                          and kw.value.value is False):
                report(node, '%s(shell=...)' % name)
        if name in ('os.system', 'os.popen'):
            report(node, name)
        elif name.startswith('os.') and last.startswith(
                ('exec', 'spawn', 'posix_spawn')):
            # An exec of an argument list is fine; of a shell it is not.
            if any(isinstance(a, ast.Constant) and isinstance(a.value, str)
                   and os.path.basename(a.value) in _SHELL_NAMES
                   for a in node.args[:2]):
                report(node, '%s runs a shell' % name)
        if name.startswith('subprocess.') and last in _SUBPROCESS:
            if last in ('getoutput', 'getstatusoutput'):
                report(node, '%s runs a shell' % name)
            elif node.args and _is_string(node.args[0]):
                report(node, '%s with a string command' % name)
        if name.endswith(tuple('processutils.' + f for f in _PROCESSUTILS)):
            if not node.args:
                report(node, '%s without a command' % name)
                continue
            first = node.args[0]
            if isinstance(first, ast.Starred):
                value = first.value
                if _is_string(value) or (
                        isinstance(value, ast.Call) and
                        isinstance(value.func, ast.Attribute) and
                        value.func.attr == 'split'):
                    # A command line split up is still a command line.
                    report(node, '%s(*<string>)' % name)
                continue
            if isinstance(first, (ast.Name, ast.Attribute)) and len(
                    node.args) > 1:
                # A program found at run time (a path in a variable)
                # followed by its arguments: still an argument list.
                continue
            if not (isinstance(first, ast.Constant) and
                    isinstance(first.value, str)):
                report(node, '%s: first argument is not a literal program '
                       'or a list expansion' % name)
                continue
            if ' ' in first.value.strip():
                report(node, '%s(%r): a command line in one string'
                       % (name, first.value))
            if os.path.basename(first.value) in _SHELL_NAMES:
                report(node, '%s runs a shell (%s)' % (name, first.value))
    return found


class TestNoShell(testtools.TestCase):

    def test_package(self):
        problems = []
        count = 0
        for path in _sources():
            with open(path) as f:
                source = f.read()
            count += 1
            problems.extend(problems_in(source, path))
        self.assertGreater(count, 30)
        self.assertEqual([], problems)

    def test_execute_calls_are_seen(self):
        # The scan finds the package's processutils calls (not vacuous).
        calls = 0
        for path in _sources():
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            calls += sum(
                1 for n in ast.walk(tree) if isinstance(n, ast.Call) and
                (_dotted(n.func) or '').endswith('processutils.execute'))
        self.assertGreater(calls, 10)

    def test_rules(self):
        bad = {
            "processutils.execute('qemu-img info %s' % path)": 'not a lit',
            "processutils.execute('qemu-img info x')": 'one string',
            "processutils.execute('ls', shell=True)": 'shell=',
            "processutils.execute(cmd)": 'not a literal',
            "processutils.execute('qemu-img ' + x, '-U')": 'not a literal',
            "processutils.execute(*'ls -l'.split())": '*<string>',
            "processutils.execute(*shlex.split(line))": '*<string>',
            "processutils.execute(*line.split(' '))": '*<string>',
            "processutils.execute('sh', '-c', x)": 'runs a shell',
            "processutils.execute('/bin/bash', '-c', x)": 'runs a shell',
            "processutils.trycmd('qemu-img info %s' % p)": 'not a literal',
            "os.system('rm -rf /')": 'os.system',
            "os.popen('ls')": 'os.popen',
            "os.execvp('sh', ['sh', '-c', x])": 'os.execvp runs a shell',
            "os.spawnl(os.P_WAIT, '/bin/sh', 'sh', '-c', x)": 'runs a shell',
            "subprocess.run('ls -l', shell=False)": 'string command',
            "subprocess.Popen(f'ls {x}')": 'string command',
            "subprocess.check_output('ls ' + x)": 'string command',
            "subprocess.getoutput(['ls'])": 'runs a shell',
            "subprocess.run(['ls'], shell=True)": 'shell=',
            "import commands": 'imports commands',
        }
        for source, expected in bad.items():
            found = problems_in(source)
            self.assertTrue(found and expected in found[0],
                            '%s: %s' % (source, found))
        good = ("processutils.execute('qemu-img', 'info', path)\n"
                "processutils.execute(*(args + [path]), run_as_root=False)\n"
                "processutils.execute(*cmd)\n"
                "processutils.execute(binary, '--machine-readable')\n"
                "subprocess.run(['ls', '-l'], check=True)\n"
                "subprocess.run(args, shell=False)\n"
                "os.execv('/usr/sbin/libvirtd', ['/usr/sbin/libvirtd'])\n")
        self.assertEqual([], problems_in(good))
