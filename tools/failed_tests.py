#!/usr/bin/env python3
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

"""What failed in a stestr run, from the text subunit-trace printed.

tools/run-tests.sh keeps each env's output and calls this on a failed
env's log: ``--lines N`` prints each failed test with the last N lines of
its traceback and of its other captured sections (a test's details, e.g. a
lab test's ``guest-crash``), then the summary prints one line per failed
test (``--brief``): its id and the exception it raised, so that the closing
lines of a long run, which may be all a CI page keeps, say what failed.
A gate's own failures (its table's ``error:`` lines and the crashes it
logged) are printed after them.

The log is parsed, not the shared ./.stestr repository, which another run
in the same tree may write to.  subunit-trace prints every failure twice,
inline and again under "Failed N tests - output below:"; each test is
reported once, from the inline copy, and the tests whose result line says
FAILED but which have no captured traceback are still named.

Standard library only: it runs outside the tox envs.
"""

import argparse
import re
import sys

RESULT = re.compile(r'^(?:\{\d+\} )?(?P<id>\S+) \[[^]]*\] \.\.\. FAILED$')
HEADER = re.compile(r'^Captured (?P<name>.+):$')
RULE = re.compile(r'^~+$')
# A line that starts something other than the current test's output: the
# next test's result, or one of subunit-trace's closing blocks.
BOUNDARY = re.compile(r'^(?:\{\d+\} \S+ \[|=+$)')
EXCEPTION = re.compile(r'^    (?! )(?P<line>.*\S)')


def parse(lines):
    """[(test id, {section name: [lines]})] of the failed tests, in order."""
    failed = []
    seen = set()
    current = None
    section = None
    previous = None
    for line in lines:
        line = line.rstrip('\n')
        match = RESULT.match(line)
        if match:
            current = section = None
            if match.group('id') not in seen:
                seen.add(match.group('id'))
                current = (match.group('id'), {})
                failed.append(current)
        elif current is not None and RULE.match(line) and previous:
            header = HEADER.match(previous)
            if header:
                if section and section[-1] == previous:
                    section.pop()
                section = current[1].setdefault(header.group('name'), [])
        elif current is not None and BOUNDARY.match(line):
            current = section = None
        elif section is not None:
            section.append(line)
        previous = line
    return failed


# The gate's own failures (nova_v2v_rig.aio.gatereport): its table's error
# lines, and a stage's crash as the gate logged it.
GATE_ERROR = re.compile(r'^error: (?P<error>.*\S)')
GATE_CRASH = re.compile(r"Stage (?P<stage>\S+): the guest's crash:$")
CRASH_LINES = 40


def gate_failures(lines):
    """The gate's error lines, then each logged crash (its last lines).

    A gate stage that fails before its moves (a crash the gate knows no
    fault of, an error) is no test of stestr's: these lines say what it
    was.
    """
    errors = []
    crashes = []
    crash = None
    for line in lines:
        line = line.rstrip('\n')
        match = GATE_ERROR.match(line)
        if match and line not in errors:
            errors.append(line)
        found = GATE_CRASH.search(line)
        if found:
            crash = ['crash of stage %s:' % found.group('stage')]
            crashes.append(crash)
        elif crash is not None:
            if not line.strip() or re.match(r'^\d{4}-\d\d-\d\d ', line):
                crash = None
            else:
                crash.append('  ' + line.strip())
    out = list(errors)
    for crash in crashes:
        out.append(crash[0])
        out.extend(crash[1:][-CRASH_LINES:])
    return out


def exception(sections):
    """The traceback's exception line ("Type: message"), or ''."""
    last = ''
    for line in sections.get('traceback', []):
        match = EXCEPTION.match(line)
        if match:
            last = match.group('line')
    return last


def report(failed, lines):
    out = []
    for test_id, sections in failed:
        out.append('FAILED %s' % test_id)
        for name, body in sections.items():
            body = [line[4:] if line.startswith('    ') else line
                    for line in body if line.strip()]
            if not body:
                continue
            shown = body[-lines:]
            more = len(body) - len(shown)
            note = ' (last %d lines)' % len(shown) if more else ''
            out.append('  %s%s:' % (name, note))
            out.extend('    ' + line for line in shown)
    return out


def brief(failed, width):
    out = []
    for test_id, sections in failed:
        reason = exception(sections) or '(no traceback captured)'
        line = 'FAILED %s: %s' % (test_id, reason)
        if len(line) > width:
            line = line[:width - 3] + '...'
        out.append(line)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('log', help='what stestr run printed')
    parser.add_argument('--brief', action='store_true',
                        help='one line per failed test: id and exception')
    parser.add_argument('--lines', type=int, default=25,
                        help='lines kept from the end of each section')
    parser.add_argument('--width', type=int, default=400,
                        help='longest --brief line')
    args = parser.parse_args(argv)
    with open(args.log, errors='replace') as log:
        text = log.readlines()
    failed = parse(text)
    gate = gate_failures(text)
    if args.brief:
        out = brief(failed, args.width) + [
            line if len(line) <= args.width else
            line[:args.width - 3] + '...'
            for line in gate if GATE_ERROR.match(line)]
    else:
        out = report(failed, args.lines) + gate
    for line in out:
        print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
