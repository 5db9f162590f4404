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

"""Which host pairs allow which migration mode: the one table.

Every row was measured on real libvirt 9.0 / QEMU 7.2 hosts (see
``tests/integration`` and ``doc``): libvirt refuses a live migration that
changes the domain type in both directions ("Target domain virt type kvm
does not match source qemu") before anything is sent, and at QEMU level a
KVM -> TCG stream fails on the kvmclock section. Moving the disks and
rebooting the guest on the other accelerator (the V2V cutover) works in both
directions, and so does an offline move.
"""

import collections

from nova_v2v.planning import profile

PairRule = collections.namedtuple(
    'PairRule', ['live_state', 'cutover', 'offline', 'why'])

TABLE = {
    (profile.KVM, profile.KVM): PairRule(
        True, True, True,
        'same accelerator: QEMU moves the live state'),
    (profile.TCG, profile.TCG): PairRule(
        True, True, True,
        'same accelerator: QEMU moves the live state'),
    (profile.TCG, profile.KVM): PairRule(
        False, True, True,
        'libvirt refuses to change the domain type during a live '
        'migration (qemu -> kvm)'),
    (profile.KVM, profile.TCG): PairRule(
        False, True, True,
        'libvirt refuses to change the domain type during a live '
        'migration (kvm -> qemu), and QEMU cannot load KVM state '
        '(kvmclock) under TCG'),
}


def rule(source_accel, dest_accel):
    """The rule for a pair of accelerators, or None for an unknown pair."""
    return TABLE.get((source_accel, dest_accel))


# QEMU 9.0 made TCG's dirty page tracking coherent with its softmmu TLB
# during a migration (QEMU commit "physmem: Fix migration dirty bitmap
# coherency with TCG memory access"). Before it, the fast path that syncs
# the dirty bitmap of a RAM block cleared the bits without resetting the
# TLB entries that let stores skip the tracking, so a store to such a page
# after a sync can be left out of the stream: the destination runs a guest
# whose memory misses writes. Debian 12's QEMU 7.2 lacks the fix; the lab
# sees about one live migration in seventy end in a guest kernel oops on
# the destination (tests/integration, doc/benchmarks). KVM tracks dirty
# pages in the kernel and is not affected, nor are moves that boot the
# guest again (V2V cutover, offline).
TCG_DIRTY_TRACKING_FIXED = 9000000


def live_state_caveat(source_accel, source_qemu_version):
    """Why moving the live state from this source may corrupt the guest.

    :param source_accel: the source's accelerator (``profile.KVM`` or
        ``profile.TCG``)
    :param source_qemu_version: the source's QEMU version as libvirt gives
        it (major * 1000000 + minor * 1000 + micro); 0 when unknown
    :returns: a sentence, or None when nothing is known against it
    """
    if source_accel != profile.TCG or not source_qemu_version:
        return None
    if int(source_qemu_version) >= TCG_DIRTY_TRACKING_FIXED:
        return None
    return ('QEMU %s before 9.0 can lose a TCG guest\'s memory writes '
            'during a live migration (its dirty page tracking is fixed in '
            'QEMU 9.0); a V2V cutover or an offline move does not move '
            'memory' % profile.version_to_str(source_qemu_version))
