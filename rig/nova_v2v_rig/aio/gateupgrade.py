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

"""The gate's ``upgrade`` stage: a rolling upgrade of the hypervisor.

labhost-b, emptied, is upgraded to Debian 13's libvirt and QEMU
(:data:`RELEASE`, :func:`nova_v2v_rig.lab.upgrade.reroot`) while
labhost-a keeps the machine's (Debian 12's); its compute starts again on
it. Then, by ``openstack server migrate --live-migration``:

1. a guest created on the old host moves to the new one: live, its
   machine type kept (``block-live``, no restart, 0 records lost, its
   port up);
2. the old host is emptied (its guests gone, ready for its own
   upgrade), and the guests come back only as the planner says they can:
   the first one live (the old QEMU runs its machine type), one created on
   the new host (a machine type only the new QEMU runs) by a V2V cutover
   (it restarts on the old host's newest machine of its family).

The control plane runs ``[workarounds]
skip_hypervisor_version_check_on_lm`` (as an operator of a rolling
upgrade sets it): without it Nova's conductor refuses every move to an
older hypervisor. Every move's row carries both hypervisors' versions
(:func:`gatemove.version_fields`). labhost-b runs the machine's libvirt
again at the end, whatever happened (the next suite shares the lab).
"""

from oslo_log import log as logging

from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import images
from nova_v2v_rig.lab import upgrade as lab_upgrade

LOG = logging.getLogger(__name__)

# The release labhost-b is upgraded to.
RELEASE = 'trixie'
LAB_HOST = 'b'
HOST_A = gatemove.HOST_A
HOST_B = gatemove.HOST_B
MOVES = 3


def _restart_computes(layout, lab, release):
    """Computes down, labhost-b on ``release`` (None: the machine's), up.

    The computes start again whether the reroot worked or not.
    """
    computes.down(layout)
    try:
        lab_upgrade.reroot(lab, LAB_HOST, release)
    finally:
        computes.up(layout, lab)


def stage_upgrade(layout, cloud, lab, ids, events=None, checks=None,
                  repeat=1, found=None):
    """The rolling upgrade; the stage's moves.

    Its ``upgrade`` object goes into ``found``: the release labhost-b ran.
    """
    found = {} if found is None else found
    found['upgrade'] = {'release': RELEASE, 'lab_host': LAB_HOST}
    old = gatemove.Guest(cloud, lab, 'gate-upgrade-old', False)
    new = gatemove.Guest(cloud, lab, 'gate-upgrade-new', False)
    results = []
    done = False
    try:
        _restart_computes(layout, lab, RELEASE)
        old.create(HOST_A, ids[images.DISK], ids[images.FLAVOR])
        new.create(HOST_B, ids[images.DISK], ids[images.FLAVOR])
        results.append(gatemove.run_move(
            layout, cloud, old, 'upgrade: old to new QEMU',
            gatemove.live_args(old, '--block-migration'), HOST_B,
            'block-live', events=events))
        # labhost-a is empty: its upgrade could start. The guests come
        # back where the planner says they can.
        results.append(gatemove.run_move(
            layout, cloud, old, 'upgrade: back to old QEMU',
            gatemove.live_args(old, '--block-migration', '--host', HOST_A),
            HOST_A, 'block-live', events=events))
        results.append(gatemove.run_move(
            layout, cloud, new, 'upgrade: new machine to old QEMU',
            gatemove.live_args(new, '--block-migration', '--host', HOST_A),
            HOST_A, 'v2v-cutover', events=events))
        done = True
        return results
    finally:
        for guest in (old, new):
            try:
                guest.delete()
            except Exception:
                LOG.exception('Cannot delete %s', guest.name)
        try:
            _restart_computes(layout, lab, None)
        except Exception:
            # After a failed stage its own error is the one to report
            # (and to judge for a rerun); after a good one, this fails it.
            LOG.exception('labhost-b could not go back to the machine\'s '
                          'libvirt')
            if done:
                raise
