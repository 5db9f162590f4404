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

"""The known QEMU fault's signatures against guest console excerpts."""

import testtools

from nova_v2v_rig.lab import console

# Serial logs of the lab guest (Debian 12's 6.1 cloud kernel, printk time
# stamps off, console log level 6) on host b after a live migration.
WRITES = 'W 410 1795691600\nW 411 1795691610\nW 412 1795691620\n'

# The idle loop called a NULL function pointer.
IDLE_NULL_CALL = WRITES + '''\
BUG: kernel NULL pointer dereference, address: 0000000000000000
#PF: supervisor instruction fetch in kernel mode
#PF: error_code(0x0010) - not-present page
PGD 0 P4D 0
Oops: 0010 [#1] PREEMPT SMP NOPTI
CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0-28-cloud-amd64 #1  Debian \
6.1.119-1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-\
1.16.2-1 04/01/2014
RIP: 0010:0x0
Code: Unable to access opcode bytes at 0xffffffffffffffd6.
RSP: 0018:ffffffffa5c03e58 EFLAGS: 00000246
Call Trace:
 <TASK>
 ? __die+0x23/0x70
 ? page_fault_oops+0x17d/0x4c0
 ? exc_page_fault+0x7f/0x180
 ? asm_exc_page_fault+0x26/0x30
 default_idle_call+0x33/0x130
 do_idle+0x20b/0x290
 cpu_startup_entry+0x1d/0x20
 rest_init+0xd5/0xe0
 arch_call_rest_init+0xe/0x30
 start_kernel+0x727/0xb50
 </TASK>
CR2: 0000000000000000
---[ end trace 0000000000000000 ]---
Kernel panic - not syncing: Attempted to kill the idle task!
Kernel Offset: 0x24200000 from 0xffffffff81000000 (relocation range: \
0xffffffff80000000-0xffffffffbfffffff)
---[ end Kernel panic - not syncing: Attempted to kill the idle task! ]---
'''

# The timer interrupt walked a corrupted hrtimer tree.
HRTIMER_TREE = WRITES + '''\
BUG: kernel NULL pointer dereference, address: 0000000000000008
#PF: supervisor read access in kernel mode
#PF: error_code(0x0000) - not-present page
Oops: 0000 [#1] PREEMPT SMP NOPTI
CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0-28-cloud-amd64 #1  Debian \
6.1.119-1
RIP: 0010:rb_insert_color+0x14/0x140
RSP: 0018:ffffa80e40003f00 EFLAGS: 00010046
Call Trace:
 <IRQ>
 ? __die+0x23/0x70
 timerqueue_add+0x66/0xb0
 enqueue_hrtimer+0x3c/0x90
 __hrtimer_run_queues+0x185/0x2a0
 hrtimer_interrupt+0xf8/0x230
 __sysvec_apic_timer_interrupt+0x55/0x100
 sysvec_apic_timer_interrupt+0x6d/0x90
 </IRQ>
CR2: 0000000000000008
---[ end trace 0000000000000000 ]---
R2: 0000000000000008 CR3: 00000000031e4000 CR4: 00000000000006b0
Kernel panic - not syncing: Fatal exception in interrupt
Kernel Offset: 0x7200000 from 0xffffffff81000000 (relocation range: \
0xffffffff80000000-0xffffffffbfffffff)
---[ end Kernel panic - not syncing: Fatal exception in interrupt ]---
'''

# The same crash with printk's time stamps (a guest that keeps them on).
HRTIMER_TIMESTAMPED = '''\
[   41.203117] Oops: 0000 [#1] PREEMPT SMP NOPTI
[   41.203519] RIP: 0010:rb_erase+0x1a3/0x3a0
[   41.215004] Kernel panic - not syncing: Fatal exception in interrupt
'''

# What a product bug looks like: a guest booted from a disk that lost or
# mangled data (the root file system missing, an ext4 oops).
NO_ROOT_FS = '''\
VFS: Cannot open root device "vda1" or unknown-block(0,0): error -6
Please append a correct "root=" boot option; here are the available \
partitions:
Kernel panic - not syncing: VFS: Unable to mount root fs on \
unknown-block(0,0)
CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-28-cloud-amd64 #1
---[ end Kernel panic - not syncing: VFS: Unable to mount root fs on \
unknown-block(0,0) ]---
'''
EXT4_OOPS = WRITES + '''\
BUG: unable to handle page fault for address: ffff9d3c45a3f000
#PF: supervisor read access in kernel mode
#PF: error_code(0x0000) - not-present page
Oops: 0000 [#1] PREEMPT SMP NOPTI
CPU: 0 PID: 93 Comm: sh Not tainted 6.1.0-28-cloud-amd64 #1
RIP: 0010:ext4_ext_find_extent+0x1b2/0x3f0 [ext4]
Kernel panic - not syncing: Fatal exception
---[ end Kernel panic - not syncing: Fatal exception ]---
'''
# An NMI the test gave it (tests/integration: a crash on demand).
NMI = WRITES + '''\
Uhhuh. NMI received for unknown reason 30 on CPU 0.
Kernel panic - not syncing: NMI: Not continuing
---[ end Kernel panic - not syncing: NMI: Not continuing ]---
'''
# The idle task died, but of a data read, not of a NULL call.
IDLE_NULL_READ = WRITES + '''\
BUG: kernel NULL pointer dereference, address: 0000000000000040
#PF: supervisor read access in kernel mode
Oops: 0000 [#1] PREEMPT SMP NOPTI
RIP: 0010:tick_nohz_idle_enter+0x2c/0x70
Kernel panic - not syncing: Attempted to kill the idle task!
'''
# The rbtree, but not in interrupt context.
RBTREE_IN_A_TASK = WRITES + '''\
Oops: 0000 [#1] PREEMPT SMP NOPTI
CPU: 0 PID: 93 Comm: sh Not tainted 6.1.0-28-cloud-amd64 #1
RIP: 0010:rb_insert_color+0x14/0x140
Kernel panic - not syncing: Fatal exception
'''
# A BUG_ON in interrupt context: the trap is an invalid opcode, the first
# line the BUG's place (neither says "BUG: " or "Oops: ").
BUG_ON_IN_INTERRUPT = WRITES + '''\
------------[ cut here ]------------
kernel BUG at kernel/time/hrtimer.c:1092!
invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
CPU: 1 PID: 0 Comm: swapper/1 Not tainted 6.1.0-28-cloud-amd64 #1
RIP: 0010:enqueue_hrtimer+0x6e/0x80
Kernel panic - not syncing: Fatal exception in interrupt
---[ end Kernel panic - not syncing: Fatal exception in interrupt ]---
'''
# A trap of another kind, without a BUG line before it.
STACK_SEGMENT = WRITES + '''\
stack segment: 0000 [#1] PREEMPT SMP NOPTI
Kernel panic - not syncing: Fatal exception in interrupt
'''
# A pointer that holds no address, followed (the baseline's crash after
# stock Nova's shared live migration, 2026-12-07).
NON_CANONICAL_GPF = WRITES + '''\
general protection fault, probably for non-canonical address \
0x24b8ba17d106d1ac: 0000 [#1] PREEMPT SMP NOPTI
CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0-28-cloud-amd64 #1
RIP: 0010:__rb_erase_color+0x6b/0x260
Kernel panic - not syncing: Fatal exception in interrupt
---[ end Kernel panic - not syncing: Fatal exception in interrupt ]---
'''
# The same in a block kworker: the worker dies, no panic (after a block
# live migration under load, 2026-12-07).
NON_CANONICAL_OOPS = WRITES + '''\
general protection fault, probably for non-canonical address \
0x3cfd91505deafbd9: 0000 [#1] PREEMPT SMP NOPTI
CPU: 0 PID: 35 Comm: kworker/0:1H Not tainted 6.1.0-57-cloud-amd64 #1
Workqueue: kblockd blk_mq_run_work_fn
RIP: 0010:__kmem_cache_alloc_node+0x12e/0x2a0
---[ end trace 0000000000000000 ]---
note: kworker/0:1H[35] exited with irqs disabled
'''
# A list whose links do not point back (the benchmarks' tuned block live
# migration, 2026-12-07): the list checks' BUG, in the task that dirties.
LIST_CORRUPTION = WRITES + '''\
list_del corruption. next->prev should be ffff8d5203a1c548, but was \
ffff8d5203a1c000. (next=ffff8d5203a1d548)
------------[ cut here ]------------
kernel BUG at lib/list_debug.c:59!
invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
CPU: 0 PID: 567 Comm: dd Not tainted 6.1.0-28-cloud-amd64 #1
RIP: 0010:__list_del_entry_valid.cold+0x4b/0x6f
---[ end trace 0000000000000000 ]---
note: dd[567] exited with irqs disabled
note: dd[567] exited with preempt_count 1
'''
# Another file's BUG is not the list checks'.
OTHER_BUG = WRITES + '''\
------------[ cut here ]------------
kernel BUG at mm/slub.c:435!
invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
'''
# A GPF on a canonical address is another crash.
CANONICAL_GPF = WRITES + '''\
general protection fault: 0000 [#1] PREEMPT SMP NOPTI
Kernel panic - not syncing: Fatal exception
'''
# The soft lockup watchdog warns; the guest lives on and writes again.
SOFT_LOCKUP = WRITES + '''\
watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [swapper/0:0]
CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0-28-cloud-amd64 #1
RIP: 0010:default_idle+0xb/0x10
W 413 1795691650
'''
# Only the panic's tail (a log cut short): nothing says where it died.
PANIC_TAIL = '''\
R2: 0000000000000008 CR3: 00000000031e4000 CR4: 00000000000006b0
Kernel panic - not syncing: Fatal exception in interrupt
'''


class GuestCrashTest(testtools.TestCase):

    def test_first_line_of_the_crash(self):
        self.assertEqual('BUG: kernel NULL pointer dereference, address: '
                         '0000000000000000',
                         console.guest_crash(IDLE_NULL_CALL))
        self.assertEqual('Kernel panic - not syncing: VFS: Unable to mount '
                         'root fs on unknown-block(0,0)',
                         console.guest_crash(NO_ROOT_FS))

    def test_first_line_of_any_trap(self):
        self.assertEqual('kernel BUG at kernel/time/hrtimer.c:1092!',
                         console.guest_crash(BUG_ON_IN_INTERRUPT))
        report = console.crash_report(BUG_ON_IN_INTERRUPT)
        self.assertTrue(report.startswith('kernel BUG at '), report)
        self.assertIn('invalid opcode: 0000 [#1]', report)
        self.assertEqual('stack segment: 0000 [#1] PREEMPT SMP NOPTI',
                         console.guest_crash(STACK_SEGMENT))
        # The BUG_ON in the hrtimer code in interrupt context is the
        # hrtimer tree's signature (its report now holds the RIP); a
        # report without a RIP in that code bears none.
        self.assertEqual('hrtimer-rbtree',
                         console.tcg_fault_signature(BUG_ON_IN_INTERRUPT))
        self.assertIsNone(console.tcg_fault_signature(STACK_SEGMENT))

    def test_a_lockup_warning_is_no_crash(self):
        self.assertIsNone(console.guest_crash(SOFT_LOCKUP))
        self.assertIsNone(console.crash(SOFT_LOCKUP))
        # A panic it causes is one, from the panic's line.
        panicked = SOFT_LOCKUP + ('Kernel panic - not syncing: softlockup: '
                                  'hung tasks\n')
        self.assertEqual('Kernel panic - not syncing: softlockup: hung '
                         'tasks', console.guest_crash(panicked))

    def test_a_guest_that_writes_or_is_silent(self):
        for text in (WRITES, ''):
            self.assertIsNone(console.guest_crash(text))
            self.assertIsNone(console.crash_report(text))
            self.assertIsNone(console.tcg_fault_signature(text))
            self.assertIsNone(console.crash(text))

    def test_report_ends_with_the_panic(self):
        report = console.crash_report(HRTIMER_TREE + WRITES)
        self.assertTrue(report.startswith('BUG: kernel NULL pointer'))
        self.assertTrue(report.endswith(
            '---[ end Kernel panic - not syncing: Fatal exception in '
            'interrupt ]---'))
        self.assertNotIn('W 41', report)
        # Without the end line: to the end of the log.
        self.assertTrue(console.crash_report(PANIC_TAIL).endswith(
            'Fatal exception in interrupt'))


class TcgFaultSignatureTest(testtools.TestCase):

    def test_the_fault(self):
        for text, name in ((IDLE_NULL_CALL, 'idle-task-null-call'),
                           (HRTIMER_TREE, 'hrtimer-rbtree'),
                           (HRTIMER_TIMESTAMPED, 'hrtimer-rbtree'),
                           (NON_CANONICAL_GPF, 'non-canonical-gpf'),
                           (NON_CANONICAL_OOPS, 'non-canonical-gpf'),
                           (LIST_CORRUPTION, 'list-corruption')):
            self.assertEqual(name, console.tcg_fault_signature(text))
        self.assertEqual(
            console.Crash('BUG: kernel NULL pointer dereference, address: '
                          '0000000000000008', 'hrtimer-rbtree'),
            console.crash(HRTIMER_TREE))

    def test_other_crashes(self):
        for text in (NO_ROOT_FS, EXT4_OOPS, NMI, IDLE_NULL_READ,
                     RBTREE_IN_A_TASK, PANIC_TAIL, CANONICAL_GPF,
                     OTHER_BUG):
            self.assertIsNone(console.tcg_fault_signature(text), text)
            crash = console.crash(text)
            self.assertEqual(console.guest_crash(text), crash.line)
            self.assertIsNone(crash.signature)

    def test_only_the_first_crash_counts(self):
        # Another crash first: the fault's lines after it do not excuse it.
        self.assertIsNone(console.tcg_fault_signature(
            EXT4_OOPS + IDLE_NULL_CALL))
        self.assertEqual('idle-task-null-call', console.tcg_fault_signature(
            IDLE_NULL_CALL + EXT4_OOPS))

    def test_every_pattern_is_needed(self):
        # Each line of a signature is required: without any one of them,
        # the crash is another one.
        for name, text in (('idle-task-null-call', IDLE_NULL_CALL),
                           ('hrtimer-rbtree', HRTIMER_TREE),
                           ('non-canonical-gpf', NON_CANONICAL_GPF),
                           ('list-corruption', LIST_CORRUPTION)):
            for pattern in console._COMPILED[name]:
                lines = [line for line in text.splitlines()
                         if not pattern.search(line)]
                self.assertIsNone(
                    console.tcg_fault_signature('\n'.join(lines)),
                    pattern.pattern)
