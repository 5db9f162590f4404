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

"""The nova.conf settings that nova-v2v needs, as data, and their writers.

This module is the one source of truth for them: the devstack plugin
(``devstack/plugin.sh``) prints them with ``--format iniset`` and applies
the ``iniset`` lines to ``$NOVA_CONF`` and ``$NOVA_CPU_CONF``; an installer
written in Python calls :func:`apply` on a nova.conf; ``--format ini``
prints them as a nova.conf snippet.

A host's *role* selects the settings:

``compute``
    ``[DEFAULT] compute_driver = v2v.V2VLibvirtDriver`` (run
    ``nova-v2v-compute`` instead of ``nova-compute``) and the ``[v2v]``
    options given.
``scheduler``
    ``[filter_scheduler]``: ``available_filters`` (a MultiStrOpt, one line
    per value) keeps what is there (Nova's ``all_filters`` by default) and
    adds ``V2VMigrationFilter``; ``enabled_filters`` keeps its list (Nova
    34's default when it is not set) and appends ``V2VMigrationFilter``;
    with the weigher, ``weight_classes`` likewise gets
    ``V2VMigrationWeigher``. The ``[v2v]`` options given too.
``all``
    Both, for an all-in-one host.

Settings are an ordered list of ``(section, key, value)``, one tuple per
nova.conf line: a multi-valued key appears once per value.

Command line::

    python -m nova_v2v.deploy.novaconf --role compute|scheduler|all \\
        [--set v2v.KEY=VALUE ...] [--weigher] [--conf NOVA_CONF] \\
        [--section SECTION ...] [--format ini|iniset]

``--conf`` names the nova.conf to merge with (its current filter lists are
kept) and, for ``--format iniset``, the file the printed lines write to.
"""

import argparse
import collections
import shlex
import sys

COMPUTE_DRIVER = 'v2v.V2VLibvirtDriver'
FILTER = 'V2VMigrationFilter'
FILTER_PATH = 'nova_v2v.scheduler.filters.' + FILTER
WEIGHER_PATH = 'nova_v2v.scheduler.weights.V2VMigrationWeigher'

# Nova 34's defaults (nova/conf/scheduler.py), used when nova.conf does not
# set the option; a unit test compares them with the installed Nova.
NOVA_AVAILABLE_FILTERS = ('nova.scheduler.filters.all_filters',)
NOVA_ENABLED_FILTERS = (
    'ComputeFilter',
    'ComputeCapabilitiesFilter',
    'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter',
    'ServerGroupAffinityFilter',
)
NOVA_WEIGHT_CLASSES = ('nova.scheduler.weights.all_weighers',)

ROLES = ('compute', 'scheduler', 'all')
V2V_SECTION = 'v2v'
# MultiStrOpt keys: one line per value.
MULTI_KEYS = frozenset([('filter_scheduler', 'available_filters')])


def _v2v_opts():
    # Imported here: the option modules need only oslo.config, but keep
    # "import novaconf" free of them for tools that only format.
    from nova_v2v.conf import opts as conf_opts
    found = {}
    for group, group_opts in conf_opts.list_opts():
        if getattr(group, 'name', group) == V2V_SECTION:
            for opt in group_opts:
                found[opt.dest] = opt
    return found


def parse_options(items):
    """``[v2v]`` options from ``KEY=VALUE`` or ``v2v.KEY=VALUE`` strings.

    Returns an ordered dict ``{key: value}``. Raises ValueError for an
    option nova-v2v does not have, another section, or a value the option's
    type refuses.
    """
    known = _v2v_opts()
    options = collections.OrderedDict()
    for item in items:
        name, sep, value = item.partition('=')
        name = name.strip()
        value = value.strip()
        if not sep or not name:
            raise ValueError('expected [v2v.]KEY=VALUE, got %r' % item)
        section, dot, key = name.rpartition('.')
        if dot and section != V2V_SECTION:
            raise ValueError('only [v2v] options can be set, got %r' % name)
        options[key] = value
    validate_options(options, known)
    return options


def validate_options(options, known=None):
    """Check ``{key: value}`` against nova-v2v's ``[v2v]`` options."""
    known = _v2v_opts() if known is None else known
    for key, value in options.items():
        value = str(value)
        if key not in known:
            raise ValueError('[v2v] has no option %r (known: %s)'
                             % (key, ', '.join(sorted(known))))
        if '\n' in value or '\r' in value:
            raise ValueError('[v2v] %s: a value must be one line' % key)
        try:
            known[key].type(value)
        except ValueError as exc:
            raise ValueError('[v2v] %s = %r: %s' % (key, value, exc))


def _split_list(value):
    return [item.strip() for item in value.split(',') if item.strip()]


def _appended(current, default, item, aliases=()):
    items = list(current) if current is not None else list(default)
    if item not in items and not any(a in items for a in aliases):
        items.append(item)
    return items


def settings(role, options=None, weigher=False, current=None):
    """The nova.conf lines nova-v2v needs on a host of ``role``.

    :param role: 'compute', 'scheduler' or 'all'.
    :param options: ``{key: value}`` for ``[v2v]``, in the order given.
    :param weigher: add V2VMigrationWeigher to ``weight_classes``
        (scheduler).
    :param current: ``{(section, key): [values]}`` of the nova.conf these
        settings go into (see :func:`values`): the filter and weigher lists
        in it are kept and extended. Nova's defaults when None or absent.
    :returns: a list of ``(section, key, value)``, one per line.
    """
    if role not in ROLES:
        raise ValueError('role must be one of %s, got %r'
                         % (', '.join(ROLES), role))
    options = collections.OrderedDict(options or {})
    validate_options(options)
    current = current or {}

    def now(section, key, multi=False):
        found = current.get((section, key))
        if not found:
            return None
        if multi:
            return list(found)
        # A single-valued option: the last line wins, as in oslo.config.
        return _split_list(found[-1])

    lines = []
    if role in ('compute', 'all'):
        lines.append(('DEFAULT', 'compute_driver', COMPUTE_DRIVER))
    if role in ('scheduler', 'all'):
        section = 'filter_scheduler'
        for value in _appended(now(section, 'available_filters', True),
                               NOVA_AVAILABLE_FILTERS, FILTER_PATH):
            lines.append((section, 'available_filters', value))
        enabled = _appended(now(section, 'enabled_filters'),
                            NOVA_ENABLED_FILTERS, FILTER, (FILTER_PATH,))
        lines.append((section, 'enabled_filters', ','.join(enabled)))
        if weigher:
            classes = _appended(now(section, 'weight_classes'),
                                NOVA_WEIGHT_CLASSES, WEIGHER_PATH)
            lines.append((section, 'weight_classes', ','.join(classes)))
    for key, value in options.items():
        lines.append((V2V_SECTION, key, str(value)))
    return lines


# -- nova.conf reading and writing (oslo.config's ini dialect) -------------

def _option_line(line):
    """``(key, value)`` of an option line, or None."""
    stripped = line.strip()
    if (not stripped or stripped[0] in '#;' or stripped.startswith('[')
            or line[0].isspace()):
        return None
    positions = [i for i in (line.find('='), line.find(':')) if i > 0]
    if not positions:
        return None
    pos = min(positions)
    return line[:pos].strip(), line[pos + 1:].strip()


def _section_line(line):
    stripped = line.strip()
    if line[:1] == '[' and stripped.endswith(']'):
        return stripped[1:-1].strip()
    return None


def _scan(lines):
    """Yield ``(index, section, key, value)`` of each option, in order.

    Continuation lines (indented, after an option) are folded into the
    value with a newline, as oslo.config does, and do not show up as
    options of their own.
    """
    section = None
    last = None
    for index, line in enumerate(lines):
        if last and line[:1].isspace() and line.strip():
            last = last[:3] + (last[3] + '\n' + line.strip(),)
            continue
        if last:
            yield last
            last = None
        name = _section_line(line)
        if name is not None:
            section = name
            continue
        option = _option_line(line)
        if option and section is not None:
            last = (index, section) + option
    if last:
        yield last


def read_ini(text):
    """The ``(section, key, value)`` lines of nova.conf text, in order."""
    return [(section, key, value)
            for _index, section, key, value in _scan(text.splitlines())]


def values(entries):
    """``{(section, key): [values]}`` of ``(section, key, value)`` lines."""
    grouped = collections.OrderedDict()
    for section, key, value in entries:
        grouped.setdefault((section, key), []).append(value)
    return grouped


def _option_span(lines, index):
    """The indexes of the option line at index and its continuations."""
    end = index + 1
    while (end < len(lines) and lines[end][:1].isspace()
           and lines[end].strip()):
        end += 1
    return range(index, end)


def _replace(lines, section, key, new_values):
    drop = set()
    for index, sect, name, _value in _scan(lines):
        if sect == section and name == key:
            drop.update(_option_span(lines, index))
    new_lines = ['%s = %s' % (key, value) for value in new_values]
    if drop:
        first = min(drop)
        kept = [line for i, line in enumerate(lines) if i not in drop]
        before = sum(1 for i in drop if i < first)
        return kept[:first - before] + new_lines + kept[first - before:]
    # The end of the section's last occurrence: after its last non-blank
    # line.
    end = None
    current = None
    for index, line in enumerate(lines):
        name = _section_line(line)
        if name is not None:
            current = name
            if name == section:
                end = index + 1
        elif current == section and line.strip():
            end = index + 1
    if end is not None:
        return lines[:end] + new_lines + lines[end:]
    head = list(lines)
    if head and head[-1].strip():
        head.append('')
    return head + ['[%s]' % section] + new_lines


def update_ini(text, entries):
    """nova.conf text with the ``(section, key, value)`` lines set.

    Each key of ``entries`` replaces all of its lines in its section (a
    multi-valued key gets one line per value); a missing key is added at the
    end of its section, a missing section at the end of the file. Other
    lines, comments included, stay as they are.
    """
    lines = text.splitlines()
    for (section, key), new_values in values(entries).items():
        lines = _replace(lines, section, key, new_values)
    return '\n'.join(lines) + '\n' if lines else ''


def apply(path, role, options=None, weigher=False):
    """Write the settings of ``role`` into the nova.conf at ``path``.

    The file is created when missing. Returns the settings written.
    """
    try:
        with open(path) as conf:
            text = conf.read()
    except FileNotFoundError:
        text = ''
    entries = settings(role, options, weigher, values(read_ini(text)))
    new_text = update_ini(text, entries)
    if new_text != text:
        with open(path, 'w') as conf:
            conf.write(new_text)
    return entries


# -- Output formats --------------------------------------------------------

def format_ini(entries):
    """The settings as nova.conf text, one block per section."""
    out = []
    for section, pairs in _by_section(entries).items():
        if out:
            out.append('')
        out.append('[%s]' % section)
        out.extend('%s = %s' % (key, value) for key, value in pairs)
    return '\n'.join(out) + '\n' if out else ''


def _by_section(entries):
    sections = collections.OrderedDict()
    for section, key, value in entries:
        sections.setdefault(section, []).append((key, value))
    return sections


def format_iniset(entries, path):
    """The settings as devstack ``iniset``/``iniset_multiline`` lines.

    ``iniset_multiline`` (devstack's writer of MultiStrOpt values) splits
    its values on whitespace, ``iniset`` collapses whitespace: values with
    whitespace are refused.
    """
    out = []
    for (section, key), vals in values(entries).items():
        for value in vals:
            if not value or any(c.isspace() for c in value):
                raise ValueError('[%s] %s = %r: devstack\'s ini helpers '
                                 'cannot write an empty value or one with '
                                 'whitespace' % (section, key, value))
        if (section, key) in MULTI_KEYS or len(vals) > 1:
            command = 'iniset_multiline'
        else:
            command = 'iniset'
        out.append(' '.join(shlex.quote(word) for word in
                            [command, path, section, key] + vals))
    return '\n'.join(out) + '\n' if out else ''


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m nova_v2v.deploy.novaconf',
        description='Print the nova.conf settings nova-v2v needs.')
    parser.add_argument('--role', required=True, choices=ROLES)
    parser.add_argument('--set', dest='options', action='append',
                        default=[], metavar='[v2v.]KEY=VALUE',
                        help='a [v2v] option (repeat as needed)')
    parser.add_argument('--weigher', action='store_true',
                        help='add V2VMigrationWeigher to weight_classes')
    parser.add_argument('--conf', metavar='NOVA_CONF',
                        help='the nova.conf to merge with (and, for '
                             '--format iniset, to write to)')
    parser.add_argument('--section', dest='sections', action='append',
                        metavar='SECTION',
                        help='print only this section (repeat as needed)')
    parser.add_argument('--format', choices=('ini', 'iniset'),
                        default='ini')
    args = parser.parse_args(argv)
    if args.format == 'iniset' and not args.conf:
        parser.error('--format iniset needs --conf')
    try:
        options = parse_options(args.options)
        current = {}
        if args.conf:
            try:
                with open(args.conf) as conf:
                    current = values(read_ini(conf.read()))
            except FileNotFoundError:
                pass
        entries = settings(args.role, options, args.weigher, current)
        if args.sections:
            entries = [e for e in entries if e[0] in args.sections]
        if args.format == 'iniset':
            text = format_iniset(entries, args.conf)
        else:
            text = format_ini(entries)
    except (ValueError, OSError) as exc:
        parser.exit(2, '%s: error: %s\n' % (parser.prog, exc))
    sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
