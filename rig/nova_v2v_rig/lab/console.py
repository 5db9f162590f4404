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

"""What a guest's console (its serial log) says about a kernel crash.

The lab (nova_v2v_rig.lab.migrate) and the all-in-one gate
(nova_v2v_rig.aio.gate) read the serial log of a moved guest: the first
line of a kernel crash makes the move a
:class:`~nova_v2v_rig.lab.migrate.GuestCrashed`, and the crash's report
tells whether it bears the signature of QEMU's TCG dirty-bitmap fault
(:data:`TCG_FAULT_SIGNATURES`), the only crash a test may run once more.

Pure text, no libvirt: the unit tests feed it console excerpts.
"""

import collections
import re

# The first line Linux prints when its kernel dies: a BUG or an oops (of
# whichever trap: a BUG_ON's "kernel BUG at" and "invalid opcode", a stack
# segment or double fault, a bad paging request), or a panic of its own.
CRASH_MARKERS = ('Kernel panic - not syncing', 'BUG: ', 'Oops: ',
                 'general protection fault', 'kernel BUG at ',
                 'invalid opcode: ', 'stack segment: ', 'double fault: ',
                 'Unable to handle kernel ')

# Lines that say "BUG: " of a kernel that lives on: the soft lockup and
# workqueue watchdogs warn and the guest continues (a TCG guest starved of
# CPU, or whose vCPUs a migration paused, prints them). Only a panic they
# cause (softlockup_panic) is a crash, and its own line says so.
WARNING_MARKERS = ('BUG: soft lockup', 'BUG: workqueue lockup')

# The line that ends a panic's report; what follows is not the crash.
_END_OF_PANIC = '---[ end Kernel panic'

# A console line as the kernel prints it, with or without printk's time.
_LINE = r'^(?:\[ *\d+\.\d+\] )?'

# The signatures of QEMU's TCG dirty-bitmap fault, as README.rst ("TCG
# guests on QEMU before 9.0") describes it: about one live migration in
# seventy of a TCG guest from a QEMU before 9.0 "ends with its kernel
# dying on the destination (a NULL function pointer in the idle loop, a
# corrupted hrtimer tree): guest memory writes missing from the stream"
# (fixed in QEMU 9.0 by "physmem: Fix migration dirty bitmap coherency
# with TCG memory access"; see nova_v2v.planning.compat.live_state_caveat).
#
# {name: patterns}: a crash bears the signature when every pattern
# matches a line of its report (the first crash in the log, up to the end
# of its panic).  Each pattern is the line Debian 12's cloud kernel (the
# lab guest's) prints for that crash:
#
# * ``idle-task-null-call``: the idle loop called a function pointer that
#   reads NULL (a lost write to a callback): an instruction fetch at
#   address 0 by the idle task, which the kernel cannot kill;
# * ``hrtimer-rbtree``: the timer interrupt walked a corrupted hrtimer
#   tree (a lost write to an rbtree node): the oops (or a BUG_ON's
#   ``kernel BUG at``) is in the rbtree or timerqueue code of the hrtimer,
#   in interrupt context;
# * ``non-canonical-gpf``: the kernel followed a pointer that holds no
#   address at all (a lost write left other data where a pointer now is):
#   a general protection fault on a non-canonical address, its first oops,
#   fatal or not. Seen after stock Nova's shared-storage live migration of
#   the gate's baseline (2026-12-07, in interrupt: the kernel panicked),
#   where nothing of nova-v2v ran, and after a block live migration under
#   load (2026-12-07, a slab freelist pointer in a block kworker: the
#   worker died, the kernel lived on without its disk);
# * ``list-corruption``: a list's links do not point back at each other
#   (a lost write to a list node): the kernel's list checks
#   (CONFIG_DEBUG_LIST with CONFIG_BUG_ON_DATA_CORRUPTION, both on in
#   Debian's kernels) end in a BUG in ``lib/list_debug.c``. Seen after a
#   block live migration of the benchmarks' tuned variant (2026-12-07, in
#   the guest's dd that dirties memory: the task died with its list).
#
# Any other crash (another oops, a panic of its own such as "VFS: Unable
# to mount root fs", an NMI) and a silent guest do not bear it: they fail
# the test at once, whatever QEMU the move ran on.
TCG_FAULT_SIGNATURES = collections.OrderedDict([
    ('idle-task-null-call', (
        _LINE + r'BUG: kernel NULL pointer dereference, '
        r'address: 0{16}\s*$',
        _LINE + r'#PF: supervisor instruction fetch in kernel mode\s*$',
        _LINE + r'Kernel panic - not syncing: '
        r'Attempted to kill the idle task!',
    )),
    ('hrtimer-rbtree', (
        _LINE + r'RIP: [0-9a-f]{4}:(?:rb_insert_color|rb_erase|rb_next|'
        r'timerqueue_add|timerqueue_del|enqueue_hrtimer|__remove_hrtimer|'
        r'__hrtimer_run_queues)\+0x[0-9a-f]+/0x[0-9a-f]+\s*$',
        _LINE + r'Kernel panic - not syncing: '
        r'Fatal exception in interrupt\s*$',
    )),
    ('non-canonical-gpf', (
        _LINE + r'general protection fault, probably for non-canonical '
        r'address 0x[0-9a-f]+: [0-9a-f]{4} \[#1\]',
    )),
    ('list-corruption', (
        _LINE + r'kernel BUG at lib/list_debug\.c:\d+!\s*$',
    )),
])

_COMPILED = collections.OrderedDict(
    (name, tuple(re.compile(p, re.MULTILINE) for p in patterns))
    for name, patterns in TCG_FAULT_SIGNATURES.items())

Crash = collections.namedtuple('Crash', ['line', 'signature'])
Crash.__doc__ = """A guest kernel crash in a console log.

``line`` is the crash's first line; ``signature`` the name of the
:data:`TCG_FAULT_SIGNATURES` entry its report bears, or None.
"""


def _first_crash_index(lines):
    for i, line in enumerate(lines):
        if (any(marker in line for marker in CRASH_MARKERS) and
                not any(marker in line for marker in WARNING_MARKERS)):
            return i
    return None


def guest_crash(text):
    """The first line of a guest kernel crash in a serial log, or None."""
    lines = text.splitlines()
    i = _first_crash_index(lines)
    return None if i is None else lines[i].strip()


def crash_report(text):
    """The first crash's report in a serial log, or None.

    From the crash's first line to the end of its panic (the line
    ``---[ end Kernel panic ...``), or to the end of the log.
    """
    lines = text.splitlines()
    start = _first_crash_index(lines)
    if start is None:
        return None
    report = []
    for line in lines[start:]:
        report.append(line)
        if _END_OF_PANIC in line:
            break
    return '\n'.join(report)


def tcg_fault_signature(text):
    """The TCG dirty-bitmap fault's signature the first crash bears.

    :param text: a guest's serial log
    :returns: the name of the :data:`TCG_FAULT_SIGNATURES` entry whose
        patterns all match the first crash's report, or None (no crash,
        or a crash of another kind)
    """
    report = crash_report(text)
    if report is None:
        return None
    for name, patterns in _COMPILED.items():
        if all(p.search(report) for p in patterns):
            return name
    return None


def crash(text):
    """The guest kernel crash in a serial log: a :class:`Crash`, or None."""
    line = guest_crash(text)
    if line is None:
        return None
    return Crash(line, tcg_fault_signature(text))
