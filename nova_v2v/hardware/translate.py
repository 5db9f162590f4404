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

"""Translate a guest's libvirt domain definition for a KVM destination.

Pure: lxml only, no libvirt or Nova import.  :func:`translate` takes the
source's domain XML (a QEMU/KVM guest, or a VMware, Hyper-V or Xen HVM
guest as libvirt's drivers describe them) and a :class:`Target`, and
returns the destination's domain XML with a
:class:`~nova_v2v.hardware.report.Report` of every change.  The mappings
come from :mod:`nova_v2v.hardware.tables`; what cannot be mapped is refused
or dropped with a warning as the target's policy says, never silently.

Input, conversion and output are apart, as in virt-v2v: reading (a
hardened parser and the limits, :mod:`nova_v2v.hardware.reading`) comes
first, then the steps apply the tables to a copy
(:mod:`nova_v2v.hardware.draft`): the platform
(:mod:`~nova_v2v.hardware.platform`), the disks
(:mod:`~nova_v2v.hardware.disks`) and the other devices
(:mod:`~nova_v2v.hardware.devices`); then the result is written. Disk
data is converted elsewhere (:mod:`nova_v2v.storage.convert`), from the
report's disk mappings.

This module is the entry point of the translation: :func:`translate`,
:func:`translate_domain_xml` for a plan's hardware changes,
:func:`disk_targets`, and the errors of
:mod:`nova_v2v.hardware.exception`, named here for their callers.
"""

import dataclasses
import typing as ty

from lxml import etree

from nova_v2v.hardware import devices
from nova_v2v.hardware import disks
from nova_v2v.hardware import draft as hw_draft
from nova_v2v.hardware import exception
from nova_v2v.hardware import hostrefs
from nova_v2v.hardware import platform as hw_platform
from nova_v2v.hardware import reading
from nova_v2v.hardware import report as hw_report
from nova_v2v.hardware import tables

# The errors a translation raises, and the disk targets of a definition:
# what the callers of this module use.
TranslationError = exception.TranslationError
UnknownChange = exception.UnknownChange
HostileInput = exception.HostileInput
PathEscape = exception.PathEscape
LimitExceeded = exception.LimitExceeded
UnsupportedGuest = exception.UnsupportedGuest
UnmappableDevices = exception.UnmappableDevices
disk_targets = disks.disk_targets

KNOWN_KINDS = ('domain-type', 'machine', 'nic-model', 'scsi-model',
               'disk-bus', 'disk-format')


@dataclasses.dataclass(frozen=True)
class Target:
    """The destination a definition is translated for."""

    # Nova's [libvirt] virt_type on the destination: kvm or qemu (TCG).
    accelerator: str = 'kvm'
    arch: str = 'x86_64'
    # The machine to use (the planner's choice); else chosen from
    # machine_types (empty: the family's alias, 'pc' or 'q35').
    machine: ty.Optional[str] = None
    machine_types: ty.Tuple[str, ...] = ()
    # Where disks live on the destination; None: disk paths are kept as
    # given and never relocated (the cutover's identical paths).
    instances_path: ty.Optional[str] = '/var/lib/nova/instances'
    # The guest's directory below instances_path (default: its UUID).
    guest_dir: ty.Optional[str] = None
    disk_bus: str = 'virtio'
    disk_format: str = 'qcow2'
    # CPU model for a TCG destination or a custom CPU (None: QEMU's own).
    cpu_model: ty.Optional[str] = None
    # Source network or bridge name -> ('network' | 'bridge', name).
    networks: ty.Mapping[str, ty.Tuple[str, str]] = dataclasses.field(
        default_factory=dict)
    default_network: ty.Tuple[str, str] = ('network', 'default')
    # 'refuse' or 'drop' devices that cannot be mapped.
    unmappable: str = 'refuse'
    # Block, network and pool-volume disks are Nova's Cinder volumes,
    # which Nova connects on the destination itself: keep them as they are
    # (the compute driver's moves), instead of refusing them.
    keep_host_disks: bool = False
    # The source's firmware where its definition does not tell (libvirt's
    # Hyper-V driver does not report a VM's generation): 'bios', 'uefi'.
    firmware: ty.Optional[str] = None
    # Operators' model and bus translations, on top of the tables
    # ([v2v] translate_device_models).
    overrides: ty.Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Where a foreign guest's disks are on this host (copies or mounts of
    # its datastores, drives or folder): every disk's source is read from
    # below it, a datastore path [ds] dir/file at ds/dir/file, a Windows
    # path C:\dir\file at C/dir/file (reading.imported_path). None: the
    # source paths are taken as they are.
    import_dir: ty.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Translation:
    xml: str
    report: hw_report.Report


def translate(xml, target, name=None, uuid=None, keep_uuid=True,
              disk_paths=None, disk_formats=None, disk_sizes=None,
              keep_ifnames=False):
    """The destination's domain XML for a guest, and what changed.

    :param xml: the source's domain XML, live or inactive (str or bytes)
    :param target: a :class:`Target`
    :param name: the translated guest's name (default: unchanged)
    :param uuid: its UUID (default: unchanged, or none with ``keep_uuid``
        False so that libvirt makes one)
    :param disk_paths: ``{source target dev or path: destination path}``
    :param disk_formats: ``{source target dev or path: destination format}``
    :param disk_sizes: ``{source target dev or path: virtual size}`` when
        known, checked against the size limit
    :param keep_ifnames: keep the interfaces' device names but those
        libvirt generated (Nova's destination XML: its taps' names), rather
        than let the destination's libvirt name every one
    :returns: :class:`Translation`
    :raises: :class:`HostileInput` (:class:`PathEscape`,
        :class:`LimitExceeded`), :class:`UnsupportedGuest`,
        :class:`UnmappableDevices`, :class:`TranslationError`
    """
    reading.check_target(target)
    root = reading.parse(xml)
    reading.check_limits(root, disk_sizes)
    source_type = root.get('type', '')
    profile = tables.profile_for(source_type)
    if profile is None:
        raise UnsupportedGuest(
            'no mapping table for domain type %r (tables: %s)'
            % (source_type, ', '.join(sorted(tables.BY_DOMAIN_TYPE))))
    rep = hw_report.Report(source_profile=profile.name,
                           source_type=source_type)
    draft = hw_draft.Draft(root, target, profile, rep, disk_paths,
                           disk_formats, disk_sizes)
    os_el, os_type = hw_platform.os_checks(draft)
    hw_platform.strip_source_host_state(draft, keep_uuid or uuid,
                                        keep_ifnames)
    _name_and_uuid(draft, name, uuid)
    hostrefs.platform(draft)
    uefi, secure = hw_platform.firmware(draft, os_el)
    hostrefs.removable_media(draft)
    devices.unmappable(draft)
    devices.removals(draft)
    hw_platform.domain_type(draft)
    hw_platform.machine(draft, os_type, uefi)
    hw_platform.set_firmware(draft, os_el, uefi, secure)
    hw_platform.features(draft)
    hw_platform.cpu(draft)
    disks.translate_disks(draft)
    devices.controllers(draft)
    devices.interfaces(draft)
    devices.video_and_sound(draft)
    hostrefs.graphics(draft)
    hostrefs.char_devices(draft)
    devices.console(draft)
    devices.reorder_devices(draft)
    etree.cleanup_namespaces(draft.root)
    # Re-indent: removed and added elements leave the old layout behind.
    text = etree.tostring(draft.root)
    tidy = etree.fromstring(text, etree.XMLParser(remove_blank_text=True,
                                                  resolve_entities=False,
                                                  no_network=True))
    out = etree.tostring(tidy, pretty_print=True).decode('utf-8')
    return Translation(out, rep)


def _name_and_uuid(draft, name, uuid):
    """The guest's name and UUID as asked; a name where it has none.

    libvirt's ESX driver gives no ``<name>`` for a guest whose VMX has no
    display name: a foreign guest gets one from its UUID.

    :raises: TranslationError for a foreign guest with neither name nor
        UUID
    """
    name_el = draft.root.find('./name')
    if name_el is None and (name or draft.profile.foreign):
        name_el = etree.Element('name')
        draft.root.insert(0, name_el)
    if uuid:
        uuid_el = draft.root.find('./uuid')
        if uuid_el is None:
            uuid_el = etree.Element('uuid')
            if name_el is not None:
                name_el.addnext(uuid_el)
            else:
                draft.root.insert(0, uuid_el)
        uuid_el.text = uuid
    if name:
        name_el.text = name
    elif draft.profile.foreign and not (name_el.text or '').strip():
        source_uuid = (draft.src.findtext('./uuid') or '').strip()
        if not source_uuid:
            raise TranslationError(
                'the definition has neither a name nor a UUID: name the '
                'guest')
        name_el.text = '%s-%s' % (draft.profile.name, source_uuid)
        draft.rep.add(hw_report.ADDED, 'name', None, name_el.text,
                      'the definition names none', hw_report.WARNING)


def _field(change, name):
    if isinstance(change, dict):
        return change[name]
    return getattr(change, name)


def target_from_changes(xml, hardware_changes, instances_path=None,
                        unmappable='refuse'):
    """The :class:`Target` a plan's hardware changes describe.

    The planner decides the destination's accelerator, machine and model
    translations (:class:`~nova_v2v.planning.planner.HardwareChange`);
    the translator applies them with its tables.
    """
    root = reading.parse(xml)
    accel = root.get('type')
    machine = None
    overrides = {}
    for change in hardware_changes or ():
        kind = _field(change, 'kind')
        old, new = _field(change, 'old'), _field(change, 'new')
        if kind not in KNOWN_KINDS:
            raise UnknownChange('unknown hardware change kind %r (known: %s)'
                                % (kind, ', '.join(KNOWN_KINDS)))
        if kind == 'domain-type':
            if accel != old:
                raise TranslationError('domain type is %s, not %s'
                                       % (accel, old))
            accel = new
        elif kind == 'machine':
            machine = new
        elif kind == 'disk-bus':
            dev = _field(change, 'device')
            found = root.find("./devices/disk/target[@dev='%s']" % dev
                              if "'" not in dev else './none')
            if found is None or found.get('bus', old) != old:
                raise TranslationError('no disk %s on bus %s' % (dev, old))
            overrides[old] = new
        elif kind == 'nic-model':
            overrides[old] = new
        elif kind == 'scsi-model':
            overrides[old] = new
            overrides[devices.SCSI_MODEL_TO_LIBVIRT.get(old, old)] = new
    if accel not in tables.TARGET_DOMAIN_TYPES:
        raise TranslationError('no change takes the %s guest to kvm or qemu'
                               % accel)
    return Target(accelerator=accel, machine=machine,
                  instances_path=instances_path, overrides=overrides,
                  unmappable=unmappable, keep_host_disks=True)


def translate_domain_xml(xml, hardware_changes, new_name=None,
                         new_uuid=None, disk_paths=None, disk_formats=None,
                         keep_uuid=True, instances_path=None,
                         unmappable='refuse'):
    """The clone's domain XML (a str) for a plan's hardware changes.

    What the cutover and the offline migration define on the destination:
    :func:`translate` with the :class:`Target` of
    :func:`target_from_changes`; disk paths stay identical unless
    ``disk_paths`` says otherwise, and so do the interfaces' device names
    (Nova's, for the destination's VIFs).
    """
    formats = dict(disk_formats or {})
    for change in hardware_changes or ():
        if _field(change, 'kind') == 'disk-format':
            formats[_field(change, 'device')] = _field(change, 'new')
    target = target_from_changes(xml, hardware_changes, instances_path,
                                 unmappable)
    return translate(xml, target, name=new_name, uuid=new_uuid,
                     keep_uuid=keep_uuid, disk_paths=disk_paths,
                     disk_formats=formats, keep_ifnames=True).xml
