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

"""The migration planner: the single place that decides a mode.

``plan_live_migration()`` answers, for one guest and one destination, how
the guest can move while it keeps serving:

* ``shared-live``: both hosts see the guest's storage; QEMU moves memory and
  device state.
* ``block-live``: local storage; the disks are precreated at identical paths
  on the destination and QEMU copies them over NBD while memory is
  pre-copied. A disk in a format the destination does not run is
  precreated in one it runs and copied whole into it: the format is no
  reason to restart the guest.
* ``v2v-cutover``: the live state cannot move (another accelerator, a
  machine type the destination does not run, hardware to translate); the
  disks are synchronised while the guest runs, then it is shut down, the
  last changes are copied and its translated clone boots on the
  destination.

``plan_offline_migration()`` answers the same for a cold move.

A move that cannot be done raises :class:`PlanRefused` with a reason a
person can act on.
"""

import dataclasses
import json
import typing as ty

from nova_v2v.hardware import machines
from nova_v2v.planning import compat
from nova_v2v.planning import profile

SHARED_LIVE = 'shared-live'
BLOCK_LIVE = 'block-live'
V2V_CUTOVER = 'v2v-cutover'
OFFLINE = 'offline'
MODES = (SHARED_LIVE, BLOCK_LIVE, V2V_CUTOVER, OFFLINE)

# Codes of refusal, mapped onto Nova's exceptions by the driver.
INVALID_LOCAL_STORAGE = 'invalid-local-storage'
INVALID_SHARED_STORAGE = 'invalid-shared-storage'
NO_PROFILE = 'no-profile'
INCOMPATIBLE = 'incompatible'
# The move needs a V2V cutover and the guest has Cinder volumes attached.
VOLUMES_ATTACHED = 'volumes-attached'

# Nova's own wording for its storage refusals, kept word for word.
MSG_BLOCK_ON_SHARED = 'Block migration can not be used with shared storage.'
MSG_SHARED_ON_LOCAL = ('Shared storage live-migration requires either '
                       'shared storage or boot-from-volume with no local '
                       'disks.')

DEFAULT_TRANSLATIONS = {
    'vmxnet3': 'virtio', 'e1000': 'virtio', 'e1000e': 'virtio',
    'rtl8139': 'virtio', 'pvscsi': 'virtio-scsi',
    'lsilogic': 'virtio-scsi', 'ide': 'virtio', 'sata': 'virtio',
}
# The kinds of change that translate a device model the destination also
# runs as it is: wanted, not needed.
TRANSLATION_KINDS = ('nic-model', 'scsi-model', 'disk-bus')


class PlanRefused(Exception):
    """No migration plan exists; ``reason`` says why, ``code`` the kind."""

    def __init__(self, reason, code=INCOMPATIBLE):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclasses.dataclass(frozen=True)
class DiskPlan:
    """A disk to create on the destination before data moves."""

    path: str
    source_format: str
    dest_format: str
    virtual_size: ty.Optional[int] = None
    backing_file: ty.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class HardwareChange:
    """One change to the guest's virtual hardware on the destination."""

    kind: str
    device: str
    old: str
    new: str

    def __str__(self):
        return '%s %s: %s -> %s' % (self.kind, self.device, self.old,
                                    self.new)


@dataclasses.dataclass(frozen=True)
class MigrationPlan:
    mode: str
    source_host: str
    dest_host: str
    source_accel: str
    dest_accel: str
    block_migration: bool = False
    disks: ty.Tuple[DiskPlan, ...] = ()
    hardware_changes: ty.Tuple[HardwareChange, ...] = ()
    reasons: ty.Tuple[str, ...] = ()
    # What is known to put the guest at risk in this mode on these hosts
    # (compat.live_state_caveat): the move is not refused, it is told.
    cautions: ty.Tuple[str, ...] = ()

    @property
    def live_state_moves(self):
        return self.mode in (SHARED_LIVE, BLOCK_LIVE)

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data['disks'] = tuple(DiskPlan(**d) for d in data.get('disks', ()))
        data['hardware_changes'] = tuple(
            HardwareChange(**c) for c in data.get('hardware_changes', ()))
        data['reasons'] = tuple(data.get('reasons', ()))
        data['cautions'] = tuple(data.get('cautions', ()))
        return cls(**data)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))

    def __str__(self):
        return self.summary()

    def summary(self):
        text = '%s from %s (%s) to %s (%s)' % (
            self.mode, self.source_host, self.source_accel, self.dest_host,
            self.dest_accel)
        if self.reasons:
            text += ': ' + '; '.join(self.reasons)
        if self.cautions:
            text += ' (caution: %s)' % '; '.join(self.cautions)
        return text


def _machine_family(machine):
    return machines.family(machine)


def pick_machine_type(machine, available):
    """The destination's machine type for a guest built on ``machine``."""
    return machines.pick(machine, available)


def _check_profiles(source, dest):
    if source is None:
        raise PlanRefused(
            'the source host publishes no V2V profile: is it running the '
            'V2V compute driver (compute_driver = v2v.V2VLibvirtDriver)?',
            NO_PROFILE)
    if dest is None:
        raise PlanRefused(
            'the destination host publishes no V2V profile: is it running '
            'the V2V compute driver (compute_driver = '
            'v2v.V2VLibvirtDriver)?', NO_PROFILE)
    for host, which in ((source, 'source'), (dest, 'destination')):
        if not host.accelerator:
            raise PlanRefused(
                'the %s host %s has no usable accelerator: libvirt does not '
                'offer the [libvirt] virt_type it is configured with'
                % (which, host.hostname), NO_PROFILE)
    if source.hostname and source.hostname == dest.hostname:
        raise PlanRefused('the destination is the source host (%s)'
                          % dest.hostname)
    if dest.arch and source.arch and dest.arch != source.arch:
        raise PlanRefused(
            'the destination %s runs %s guests, this guest is %s: no '
            'migration mode changes the guest architecture'
            % (dest.hostname, dest.arch, source.arch))
    pair = compat.rule(source.accelerator, dest.accelerator)
    if pair is None:
        raise PlanRefused(
            'no migration is known between accelerators %r and %r'
            % (source.accelerator, dest.accelerator))
    return pair


def _local_disks(guest, source):
    """The guest's disks that live on the source's instance storage."""
    disks = []
    for disk in guest.disks:
        if disk.device not in ('disk', 'lun') and not disk.path:
            continue
        if disk.source_type != 'file' or not disk.path:
            continue
        if disk.readonly or disk.shareable:
            continue
        if source.instances_path and not disk.path.startswith(
                source.instances_path.rstrip('/') + '/'):
            continue
        disks.append(disk)
    return disks


def _hardware_changes(guest, source, dest, translations):
    """The changes the guest needs to run on ``dest``, and why.

    :returns: ``(changes, blockers, translation)``: the changes, why the
        live state cannot move, and the one of those reasons that is a
        device model translation only (the guest would run untranslated
        on ``dest`` too), or None
    """
    changes = []
    blockers = []
    translation = None
    if source.accelerator != dest.accelerator:
        changes.append(HardwareChange(
            'domain-type', 'domain', profile.DOMAIN_TYPE[source.accelerator],
            profile.DOMAIN_TYPE[dest.accelerator]))
    guest_machine = guest.machine
    if (dest.machine_types and source.machine_types and
            dest.qemu_version and source.qemu_version and
            dest.qemu_version < source.qemu_version):
        # A guest seen from its image properties (no machine, or an
        # alias) runs the source's newest machine of that family, which
        # an older destination may lack: plan from that one.
        guest_machine = machines.expand(guest.machine, source.machine_types)
    if guest_machine and dest.machine_types:
        machine = pick_machine_type(guest_machine, dest.machine_types)
        if machine is None:
            raise PlanRefused(
                'the destination %s runs no machine type of the %s family '
                '(it runs: %s)' % (dest.hostname,
                                   _machine_family(guest_machine),
                                   ', '.join(dest.machine_types)))
        if machine != guest_machine:
            changes.append(HardwareChange('machine', 'domain',
                                          guest_machine, machine))
            blockers.append('the destination does not run machine type %s'
                            % guest_machine)
    for model in guest.nic_models:
        if model in translations:
            changes.append(HardwareChange('nic-model', 'interface', model,
                                          translations[model]))
    for model in guest.scsi_models:
        if model in translations:
            changes.append(HardwareChange('scsi-model', 'controller', model,
                                          translations[model]))
    for disk in guest.disks:
        if disk.bus in translations and disk.device == 'disk':
            changes.append(HardwareChange('disk-bus', disk.target, disk.bus,
                                          translations[disk.bus]))
    if any(c.kind in TRANSLATION_KINDS for c in changes):
        translation = 'the guest has hardware to translate (%s)' % ', '.join(
            str(c) for c in changes if c.kind in TRANSLATION_KINDS)
        blockers.append(translation)
    if (guest.cpu_mode == 'host-passthrough' and source.cpu_model and
            dest.cpu_model and source.cpu_model != dest.cpu_model):
        blockers.append(
            'the guest passes the host CPU through and the host CPUs '
            'differ (%s, %s)' % (source.cpu_model, dest.cpu_model))
    return changes, blockers, translation


def _disk_plans(disks, dest):
    """The destination's disks, and the format changes among them.

    :returns: ``(plans, conversions)``: a :class:`DiskPlan` per disk, and
        a sentence per disk whose format the destination does not run
        (its plan converts it to one it runs)
    """
    plans = []
    conversions = []
    for disk in disks:
        dest_format = disk.format
        if dest.disk_formats and disk.format not in dest.disk_formats:
            dest_format = ('qcow2' if 'qcow2' in dest.disk_formats
                           else dest.disk_formats[0])
            conversions.append('the destination does not run %s disks (%s)'
                               % (disk.format, disk.target))
        plans.append(DiskPlan(path=disk.path, source_format=disk.format,
                              dest_format=dest_format,
                              virtual_size=disk.virtual_size,
                              backing_file=disk.backing_file))
    return plans, conversions


def conversions_of(disk_plans):
    """The disk plans whose format changes on the way, in order."""
    return [d for d in disk_plans if d.dest_format != d.source_format]


def conversions(plan):
    """The plan's disks whose format changes on the way, by path."""
    return {d.path: d for d in conversions_of(plan.disks)}


def storage_shared(source, dest, storage):
    """Whether the guest's storage is shared between the two hosts."""
    if storage.shared_instance_path is not None or (
            storage.shared_block_storage is not None):
        return bool(storage.shared_instance_path or
                    storage.shared_block_storage)
    if storage.volume_backed:
        return True
    return bool(source.storage_id) and source.storage_id == dest.storage_id


def plan_live_migration(source, dest, guest, storage=None,
                        block_migration=None, allow_cutover=True,
                        translations=None):
    """Plan a live move of ``guest`` from ``source`` to ``dest``.

    :param source: the source's :class:`profile.HostProfile` (or None)
    :param dest: the destination's :class:`profile.HostProfile` (or None)
    :param guest: the guest's :class:`~nova_v2v.hardware.guest.GuestProfile`
    :param storage: :class:`profile.StorageFacts`
    :param block_migration: True, False or None for "auto", as the API got
        it; explicit values keep Nova's semantics (True on shared storage
        and False on local storage are refused)
    :param allow_cutover: whether the V2V cutover may be chosen
    :param translations: device model translations, ``{old: new}``
    :returns: a :class:`MigrationPlan`
    :raises: :class:`PlanRefused`
    """
    storage = storage or profile.StorageFacts()
    translations = (DEFAULT_TRANSLATIONS if translations is None
                    else translations)
    pair = _check_profiles(source, dest)

    shared = storage_shared(source, dest, storage)
    if block_migration is True and shared:
        raise PlanRefused(MSG_BLOCK_ON_SHARED, INVALID_LOCAL_STORAGE)
    if block_migration is False and not shared:
        raise PlanRefused(MSG_SHARED_ON_LOCAL, INVALID_SHARED_STORAGE)

    if guest.accelerator != source.accelerator:
        # The guest is defined for another accelerator than the one its
        # host publishes (a guest imported as is): plan from what it is.
        source = dataclasses.replace(source, accelerator=guest.accelerator)
        pair = _check_profiles(source, dest)

    changes, blockers, translation = _hardware_changes(guest, source, dest,
                                                       translations)
    disk_plans, disk_changes = _disk_plans(_local_disks(guest, source),
                                           dest)
    if shared:
        disk_plans = []
    if not pair.live_state:
        blockers.insert(0, pair.why)
    # An older QEMU on the destination is no blocker of its own: a guest on
    # a machine type the destination runs moves back live (QEMU 10.0 to
    # 7.2 in the lab, tests/integration/test_two_versions.py); one on a
    # machine type it lacks is the machine check's. Nova's conductor
    # refuses such a move first unless [workarounds]
    # skip_hypervisor_version_check_on_lm (nova_v2v.preflight says so).
    if shared and disk_changes:
        raise PlanRefused(
            'the guest\'s disks are on shared storage in a format the '
            'destination does not run; convert them offline first (%s)'
            % '; '.join(disk_changes))
    # A disk format the destination does not run is no blocker: the block
    # migration writes the guest's blocks into a destination disk of a
    # format it runs (the live state moves as it is). The cutover, when
    # something else needs it, converts them the same way.
    conversion = tuple(
        '%s: converted to %s on the way' % (why, d.dest_format)
        for why, d in zip(disk_changes, conversions_of(disk_plans)))

    common = dict(source_host=source.hostname, dest_host=dest.hostname,
                  source_accel=source.accelerator,
                  dest_accel=dest.accelerator,
                  block_migration=not shared,
                  disks=tuple(disk_plans), hardware_changes=tuple(changes))
    if not blockers:
        return _live_plan(source, shared, common, conversion)
    if storage.volumes and blockers == [translation]:
        # A translation is all the cutover would bring, and the guest runs
        # untranslated on the destination: Nova's own live move, which
        # hands the volumes over, rather than none.
        common['hardware_changes'] = ()
        return _live_plan(source, shared, common, conversion, cautions=(
            'the guest has Cinder volumes attached (%s): it moves with '
            'its hardware as it is, not translated (%s)'
            % (', '.join(storage.volumes), ', '.join(
                str(c) for c in changes if c.kind in TRANSLATION_KINDS)),))

    if not (allow_cutover and pair.cutover):
        raise PlanRefused(
            'the live state cannot move (%s) and the V2V cutover is %s'
            % ('; '.join(blockers),
               'disabled ([v2v] allow_cutover = False)' if pair.cutover
               else 'not possible for this pair'))
    if storage.volumes:
        raise PlanRefused(
            'the live state cannot move (%s) and the V2V cutover cannot '
            'move a guest with Cinder volumes attached (%s): its clone '
            'would write them while the source can still be resumed; '
            'detach them, or migrate the server offline'
            % ('; '.join(blockers), ', '.join(storage.volumes)),
            VOLUMES_ATTACHED)
    return MigrationPlan(mode=V2V_CUTOVER,
                         reasons=tuple(blockers) + conversion, **common)


def _live_plan(source, shared, common, conversion=(), cautions=()):
    """The plan of a move of the live state (Nova's own migration).

    :param conversion: why disks change format on the way (a block
        migration into destination disks of other formats)
    """
    mode = SHARED_LIVE if shared else BLOCK_LIVE
    why = ('both hosts share the guest storage' if shared else
           'local storage: disks are copied while the guest runs')
    caveat = compat.live_state_caveat(source.accelerator,
                                      source.qemu_version)
    return MigrationPlan(mode=mode, reasons=(why,) + tuple(conversion),
                         cautions=((caveat,) if caveat else ()) + cautions,
                         **common)


def plan_offline_migration(source, dest, guest, storage=None,
                           translations=None):
    """Plan a cold move: the guest is stopped, converted and started."""
    storage = storage or profile.StorageFacts()
    translations = (DEFAULT_TRANSLATIONS if translations is None
                    else translations)
    pair = _check_profiles(source, dest)
    if not pair.offline:
        raise PlanRefused('no offline migration is possible from %s to %s'
                          % (source.accelerator, dest.accelerator))
    shared = storage_shared(source, dest, storage)
    changes, _blockers, _translation = _hardware_changes(
        guest, source, dest, translations)
    disk_plans, disk_changes = _disk_plans(_local_disks(guest, source),
                                           dest)
    if shared and disk_changes:
        raise PlanRefused(
            'the guest\'s disks are on shared storage in a format the '
            'destination does not run (%s)' % '; '.join(disk_changes))
    if shared:
        disk_plans = []
    return MigrationPlan(
        mode=OFFLINE, source_host=source.hostname, dest_host=dest.hostname,
        source_accel=source.accelerator, dest_accel=dest.accelerator,
        block_migration=not shared, disks=tuple(disk_plans),
        hardware_changes=tuple(changes),
        reasons=('the guest is stopped and started on the destination',))
