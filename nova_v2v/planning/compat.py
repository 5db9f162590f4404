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
