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

"""Pre-flight of a live migration: every candidate host, as planned.

Pure: given what the cloud's API tells of a server (its host, flavor and
image properties) and of the computes (their service state and the V2V
profile they publish as Placement traits), the planner the scheduler
filter and the compute pre-checks use says, per host, whether and how the
server can move there. ``nova-v2v check`` (:mod:`nova_v2v.cmd.check`) asks
the API and prints this.

The guest is seen as the scheduler sees it (image properties, flavor), not
from its domain definition: a pre-check on the source may still refuse
what its real hardware cannot do (an unmappable device).
"""

import dataclasses
import json
import typing as ty

from nova_v2v.hardware import guest as hw_guest
from nova_v2v.hardware import inspect
from nova_v2v.planning import planner
from nova_v2v.planning import profile

# What the guest's users see of each mode.
DOWNTIME_CLASS = {
    planner.SHARED_LIVE: 'live (a pause under a second)',
    planner.BLOCK_LIVE: 'live (a pause under a second)',
    planner.V2V_CUTOVER: 'cutover (the guest reboots once)',
    planner.OFFLINE: 'offline (stopped while it moves)',
}
GIB = 1024 ** 3

EXIT_FITS = 0
EXIT_NONE_FITS = 1
EXIT_USAGE = 2
EXIT_CANNOT_ASK = 3


@dataclasses.dataclass(frozen=True)
class Server:
    """What the compute API tells of the server to move."""

    id: str
    name: str
    host: str
    root_gb: int = 0
    ephemeral_gb: int = 0
    image_properties: ty.Dict[str, str] = dataclasses.field(
        default_factory=dict)
    volume_backed: bool = False


@dataclasses.dataclass(frozen=True)
class Compute:
    """One compute host: its service and the profile it publishes."""

    host: str
    enabled: bool = True
    up: bool = True
    host_profile: ty.Optional[profile.HostProfile] = None


@dataclasses.dataclass
class Verdict:
    host: str
    fits: bool
    mode: ty.Optional[str] = None
    downtime: ty.Optional[str] = None
    disks: ty.List[dict] = dataclasses.field(default_factory=list)
    hardware_changes: ty.List[dict] = dataclasses.field(default_factory=list)
    reasons: ty.List[str] = dataclasses.field(default_factory=list)
    cautions: ty.List[str] = dataclasses.field(default_factory=list)

    def to_dict(self):
        return dataclasses.asdict(self)


def guest_of(server, source):
    """The server's :class:`hw_guest.GuestProfile` on ``source``.

    Nova's image backend creates the root disk (and an ephemeral disk) in
    the format the source publishes (``images_format``); a volume-backed
    server has no local disk to move.
    """
    guest = inspect.guest_from_image_properties(server.image_properties,
                                                source.accelerator)
    bus = guest.disks[0].bus if guest.disks else 'virtio'
    disks = []
    if not server.volume_backed and source.images_format:
        base = '<instances_path>/%s/' % server.id
        sizes = [('disk', server.root_gb)]
        if server.ephemeral_gb:
            sizes.append(('disk.eph0', server.ephemeral_gb))
        for index, (name, size) in enumerate(sizes):
            disks.append(hw_guest.GuestDisk(
                target='vd%s' % chr(ord('a') + index), bus=bus,
                path=base + name, format=source.images_format,
                virtual_size=size * GIB))
    return dataclasses.replace(guest, disks=tuple(disks))


def evaluate(server, computes, options=None, only=None,
             hypervisor_version_check=True, offline=False):
    """A :class:`Verdict` per compute (or for host ``only``).

    :param options: the planner's keyword options
    :param offline: plan a cold move (a stopped server's) rather than a
        live one
    :param hypervisor_version_check: Nova's conductor refuses a live
        migration to a host whose hypervisor (QEMU) is older than the
        source's, as it does unless ``[workarounds]
        skip_hypervisor_version_check_on_lm`` is True (then False here)
    """
    options = options or {}
    by_host = {c.host: c for c in computes}
    source = by_host.get(server.host)
    verdicts = []
    for compute in sorted(computes, key=lambda c: c.host):
        if only is not None and compute.host != only:
            continue
        verdicts.append(_verdict(server, source, compute, options,
                                 hypervisor_version_check, offline))
    if only is not None and only not in by_host:
        verdicts.append(Verdict(only, False, reasons=[
            'no nova-compute service on this host']))
    return verdicts


def _verdict(server, source, compute, options,
             hypervisor_version_check=True, offline=False):
    def refused(reason):
        return Verdict(compute.host, False, reasons=[reason])

    if compute.host == server.host:
        return refused('the server runs on this host')
    if not compute.enabled:
        return refused('its nova-compute service is disabled')
    if not compute.up:
        return refused('its nova-compute service is down')
    if source is None or source.host_profile is None:
        return refused('the source host %s publishes no V2V profile'
                       % server.host)
    if compute.host_profile is None:
        return refused('it publishes no V2V profile (not a nova-v2v '
                       'compute, or another version)')
    older = compute.host_profile.qemu_version
    newer = source.host_profile.qemu_version
    if (hypervisor_version_check and not offline and older and newer and
            older < newer):
        # Nova's conductor (LiveMigrationTask's hypervisor check) refuses
        # it before any compute is asked.
        return refused(
            'Nova refuses a live migration to an older hypervisor (QEMU %s '
            'here, %s on the source) unless [workarounds] '
            'skip_hypervisor_version_check_on_lm = True'
            % (profile.version_to_str(older), profile.version_to_str(newer)))
    guest = guest_of(server, source.host_profile)
    storage = profile.StorageFacts(volume_backed=server.volume_backed)
    try:
        if offline:
            plan = planner.plan_offline_migration(
                source.host_profile, compute.host_profile, guest,
                storage=storage, translations=options.get('translations'))
        else:
            plan = planner.plan_live_migration(
                source.host_profile, compute.host_profile, guest,
                storage=storage, **options)
    except planner.PlanRefused as exc:
        return refused(exc.reason)
    data = plan.to_dict()
    return Verdict(compute.host, True, mode=plan.mode,
                   downtime=DOWNTIME_CLASS.get(plan.mode),
                   disks=[dict(d) for d in data.get('disks') or ()],
                   hardware_changes=[dict(c) if isinstance(c, dict) else c
                                     for c in data.get('hardware_changes')
                                     or ()],
                   reasons=list(plan.reasons),
                   cautions=list(plan.cautions))


def exit_code(verdicts):
    return EXIT_FITS if any(v.fits for v in verdicts) else EXIT_NONE_FITS


def to_json(server, verdicts):
    return json.dumps({'server': dataclasses.asdict(server),
                       'hosts': [v.to_dict() for v in verdicts],
                       'fits': [v.host for v in verdicts if v.fits]},
                      indent=2, sort_keys=True)


def _size(disk):
    size = disk.get('virtual_size') or 0
    return '%.1f GiB' % (size / float(GIB)) if size else '?'


def format_text(server, verdicts):
    """The report as printed: one block per host."""
    lines = ['Server %s (%s) on %s' % (server.name, server.id, server.host)]
    for v in verdicts:
        if not v.fits:
            lines.append('  %s: cannot: %s' % (v.host, '; '.join(v.reasons)))
            continue
        lines.append('  %s: %s, %s' % (v.host, v.mode, v.downtime))
        lines.append('      why: %s' % '; '.join(v.reasons))
        for caution in v.cautions:
            lines.append('      caution: %s' % caution)
        for disk in v.disks:
            lines.append('      precreates %s (%s -> %s, %s)'
                         % (disk.get('path'), disk.get('source_format'),
                            disk.get('dest_format'), _size(disk)))
        for change in v.hardware_changes:
            lines.append('      changes %s' % (
                ', '.join('%s=%s' % kv for kv in sorted(change.items()))
                if isinstance(change, dict) else change))
    fits = [v.host for v in verdicts if v.fits]
    lines.append('%d of %d hosts can take it%s'
                 % (len(fits), len(verdicts),
                    (': ' + ', '.join(fits)) if fits else ''))
    return '\n'.join(lines)
