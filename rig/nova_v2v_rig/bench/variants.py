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

"""The two ways the benchmarks drive a lab live migration.

``baseline`` is Nova 34's stock libvirt live migration, run by Nova's own
code where Nova has code for it: the flags of ``_parse_migration_flags``
with its defaults (``LIVE | PEER2PEER | UNDEFINE_SOURCE | PERSIST_DEST``,
``NON_SHARED_INC`` for a block migration, no multifd, no auto-converge,
no post-copy), the params of ``Guest.migrate`` (``migrate_disks``,
``destination_xml``, ``persistent_xml``, ``bandwidth`` 0) and a monitor
that, every 0.5 s like ``_live_migration_monitor``, runs
``nova.virt.libvirt.migration.update_downtime`` on a
``nova.virt.libvirt.guest.Guest`` with the steps of
``nova.virt.libvirt.migration.downtime_steps`` for the data size of
``_live_migration_data_gb``.

``nova-v2v`` is what the V2V driver does on top of that:
:func:`nova_v2v.transfer.tuning.live_flags` and the downtime policy of
:class:`nova_v2v.transfer.tuning.FittedDowntime`, with the driver's
defaults (``[v2v]`` options).
"""

import os

import libvirt
from nova import conf as nova_conf
from nova.virt.libvirt import guest as nova_guest
from nova.virt.libvirt import migration as nova_migration
from oslo_utils import units

from nova_v2v import conf as v2v_conf
from nova_v2v.hardware import translate
from nova_v2v.transfer import tuning
from nova_v2v_rig.lab import migrate

NOVA_CONF = nova_conf.CONF
V2V_CONF = v2v_conf.CONF
BASELINE = 'baseline'
NOVA_V2V = 'nova-v2v'
VARIANTS = (BASELINE, NOVA_V2V)
# Nova's _live_migration_monitor loops every 0.5 s.
NOVA_MONITOR_INTERVAL = 0.5


def data_gb(memory_mib, disk_files):
    """Nova's ``_live_migration_data_gb`` (GiB).

    RAM and each disk, 2 GiB each at least, a disk counted by its file's
    size.
    """
    ram_gb = max(memory_mib * units.Mi / units.Gi, 2)
    return ram_gb + sum(max(os.stat(p).st_size / units.Gi, 2)
                        for p in disk_files)


class NovaBaseline(migrate.Tuning):
    """Nova 34's stock live migration (see the module docstring)."""

    name = BASELINE
    poll_interval = NOVA_MONITOR_INTERVAL

    def __init__(self, lab, memory_mib):
        super(NovaBaseline, self).__init__()
        self.lab = lab
        self.memory_mib = memory_mib
        self.flags_added = []
        self._downtime = None
        self._steps = None
        self._guest = None

    def prepare(self, dom, flags, params, block):
        # The lab's flags are Nova's, but for NON_SHARED_DISK where Nova
        # uses NON_SHARED_INC (the same copy for a disk without backing
        # file) and UNSAFE, which Nova adds for [v2v] shared_filesystems.
        if block:
            flags &= ~libvirt.VIR_MIGRATE_NON_SHARED_DISK
            flags |= libvirt.VIR_MIGRATE_NON_SHARED_INC
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
        params = dict(params)
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = (
            NOVA_CONF.libvirt.live_migration_bandwidth)
        params[libvirt.VIR_MIGRATE_PARAM_DEST_XML] = xml
        params[libvirt.VIR_MIGRATE_PARAM_PERSIST_XML] = xml
        disks = [(dev, path) for dev, _bus, path, _fmt in
                 translate.disk_targets(dom.XMLDesc(0)) if path]
        if block:
            params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = [
                dev for dev, _path in disks]
        files = ([self.lab.root_path('a', path) for _dev, path in disks]
                 if block else [])
        self._steps = list(nova_migration.downtime_steps(
            data_gb(self.memory_mib, files)))
        self._guest = nova_guest.Guest(dom)
        return flags, params

    def sample(self, dom, stats):
        new = nova_migration.update_downtime(
            self._guest, None, self._downtime, self._steps, stats['_t'])
        if new != self._downtime:
            self.downtime_settings.append((round(stats['_t'], 2), new))
        self._downtime = new


class NovaV2V(NovaBaseline):
    """Nova's migration with the V2V driver's tuning."""

    name = NOVA_V2V

    def __init__(self, lab, memory_mib, parallel=1):
        super(NovaV2V, self).__init__(lab, memory_mib)
        self.parallel = parallel
        self.policy = tuning.FittedDowntime(
            NOVA_CONF.libvirt.live_migration_downtime,
            NOVA_CONF.libvirt.live_migration_downtime_steps,
            passes=V2V_CONF.v2v.downtime_step_passes)

    def prepare(self, dom, flags, params, block):
        flags, params = super(NovaV2V, self).prepare(dom, flags, params,
                                                     block)
        flags, self.flags_added = tuning.live_flags(
            flags, dom.connect().getLibVersion(),
            auto_converge=V2V_CONF.v2v.auto_converge,
            synchronous_writes=V2V_CONF.v2v.synchronous_disk_writes)
        if self.parallel > 1:
            # What Nova does with [libvirt]
            # live_migration_parallel_connections > 1: multifd.
            flags |= libvirt.VIR_MIGRATE_PARALLEL
            params[libvirt.VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS] = (
                self.parallel)
            self.flags_added.append('parallel-%d' % self.parallel)
        # The driver sets the ladder's first value before the migration
        # starts (nova_v2v.virt.libvirt.live_tuning), not at the first sample:
        # a migration shorter than a poll has it too.
        self.set_max_downtime(dom, 0.0, self.policy.update({}, 0.0))
        return flags, params

    def sample(self, dom, stats):
        new = self.policy.update(stats, stats['_t'])
        if new is not None:
            self.set_max_downtime(dom, stats['_t'], new)


def make(variant, lab, memory_mib, parallel=1):
    """A variant; ``parallel`` > 1 gives nova-v2v multifd connections."""
    if variant == BASELINE:
        return NovaBaseline(lab, memory_mib)
    if variant == NOVA_V2V:
        return NovaV2V(lab, memory_mib, parallel)
    raise ValueError('variant must be one of %s' % (VARIANTS,))
