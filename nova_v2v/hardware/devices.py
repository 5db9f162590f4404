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

"""Translation steps of the guest's other devices.

Pure. Devices no table maps are refused or dropped as the target's
policy says, and those a profile removes go; then the SCSI controllers,
the network interfaces (models and networks), video, sound, graphics,
the TPM, the memory balloon and the consoles are brought to what KVM
runs. Each step takes the :class:`~nova_v2v.hardware.draft.Draft`.
"""

from lxml import etree

from nova_v2v.hardware import draft as hw_draft
from nova_v2v.hardware import exception
from nova_v2v.hardware import machines
from nova_v2v.hardware import report as hw_report
from nova_v2v.hardware import tables

# The planner's (and Nova's) SCSI controller model names -> libvirt's.
SCSI_MODEL_TO_LIBVIRT = {
    'pvscsi': 'vmpvscsi',
    'lsilogic': 'lsilogic',
    'lsisas1068': 'lsisas1068',
    'buslogic': 'buslogic',
    'virtio-scsi': 'virtio-scsi',
    'vmpvscsi': 'vmpvscsi',
}
LIBVIRT_TO_SCSI_MODEL = {'vmpvscsi': 'pvscsi'}
# A foreign guest's NICs that are connected to the target's networks, and
# those its source left unconnected (connected with their link down).
MAPPED_NIC_TYPES = ('bridge', 'network', 'vds', 'user')
UNCONNECTED_NIC_TYPES = ('dummy', 'null')
NIC_TYPE_REASONS = {
    'vds': 'a vSphere distributed switch port exists on ESXi only',
    'user': 'the source hypervisor\'s NAT',
}


def unmappable(draft, extra=()):
    """Devices no table maps are refused, or dropped with a warning.

    As the target's policy says. With ``keep_host_disks``, the disks that are
    Nova's volumes are kept.

    :param extra: more :class:`~nova_v2v.hardware.tables.Unmappable` rules
    :raises: UnmappableDevices when the policy refuses
    """
    rules = tables.COMMON_UNMAPPABLE + draft.profile.unmappable + tuple(
        extra)
    if draft.profile.foreign:
        # Its pass-through LUN is named as one, not as a host block device.
        rules = (tables.LUN_PASSTHROUGH,) + rules
    if draft.target.keep_host_disks:
        rules = tuple(r for r in rules
                      if not r.xpath.startswith('./devices/disk['))
    found = []
    for rule in rules:
        for el in draft.root.findall(rule.xpath):
            dev = el
            while dev.getparent() is not None and (
                    dev.getparent() is not draft.devices and
                    dev.getparent() is not draft.root):
                dev = dev.getparent()
            if any(dev is d for d, _r in found):
                continue
            found.append((dev, rule.reason))
    if not found:
        return
    if draft.target.unmappable == 'refuse':
        for dev, reason in found:
            draft.rep.add(hw_report.UNMAPPABLE, hw_draft.where(dev),
                          reason=reason, severity=hw_report.ERROR)
        raise exception.UnmappableDevices(
            'the guest has devices that cannot be mapped to the '
            'destination: %s; remove them, or set the unmappable '
            'device policy to drop' % '; '.join(
                '%s (%s)' % (hw_draft.where(d), r) for d, r in found),
            draft.rep)
    for dev, reason in found:
        draft.rep.add(hw_report.DROPPED, hw_draft.where(dev), reason=reason,
                      severity=hw_report.WARNING)
        hw_draft.drop(dev)


def removals(draft):
    """The devices the source's table removes go (its own devices).

    A tuning element they leave empty (``<cputune>``) goes with them.
    """
    for rule in draft.profile.removals:
        for el in draft.root.findall(rule.xpath):
            draft.rep.add(hw_report.REMOVED, hw_draft.where(el),
                          reason=rule.reason)
            parent = el.getparent()
            hw_draft.drop(el)
            if parent.tag in ('cputune', 'memtune') and not len(
                    parent) and not parent.attrib:
                hw_draft.drop(parent)


def controllers(draft):
    """SCSI controllers get the model the table (or the plan) gives.

    A SCSI controller with no disk left goes, and so does an IDE
    controller with none on q35, and a foreign guest's NVMe controller
    with none (a QEMU/KVM guest's stays as it is).
    """
    buses = {d.find('./target').get('bus')
             for d in draft.devices.findall('./disk')
             if d.find('./target') is not None}
    for ctrl in draft.devices.findall('./controller'):
        kind = ctrl.get('type')
        where = hw_draft.where(ctrl)
        if kind == 'scsi':
            if 'scsi' not in buses:
                draft.rep.add(hw_report.REMOVED, where,
                              ctrl.get('model'), None,
                              'no disk is left on it')
                hw_draft.drop(ctrl)
                continue
            model = ctrl.get('model')
            planner_name = LIBVIRT_TO_SCSI_MODEL.get(model, model)
            table = draft.profile.scsi_model.get(model)
            new = draft.override(planner_name, table)
            if new is None and model in draft.target.overrides:
                new = draft.target.overrides[model]
            if new:
                new = SCSI_MODEL_TO_LIBVIRT.get(new, new)
            if new and new != model:
                ctrl.set('model', new)
                for addr in ctrl.findall('./address'):
                    hw_draft.drop(addr)
                draft.rep.add(hw_report.CHANGED, where, model, new)
        elif (kind == 'nvme' and draft.profile.foreign and
              'nvme' not in buses):
            draft.rep.add(hw_report.REMOVED, where,
                          reason='no disk is left on it')
            hw_draft.drop(ctrl)
        elif kind in ('ide', 'sata', 'fdc') and kind not in buses and (
                not draft.devices.findall(
                    "./disk/target[@bus='%s']" % kind)):
            if kind == 'ide' and draft.family == machines.Q35:
                draft.rep.add(hw_report.REMOVED, where, reason='q35 has '
                              'no IDE and no disk is left on it')
                hw_draft.drop(ctrl)


def interfaces(draft):
    """NICs get the model the table gives; their MACs are recorded.

    A foreign guest's NICs are connected to the target's networks.
    """
    for nic in draft.devices.findall('./interface'):
        where = hw_draft.where(nic)
        mac = nic.find('./mac')
        if mac is not None and draft.profile.foreign and (
                mac.get('address', '').replace(':', '').strip('0') == ''):
            draft.rep.add(hw_report.REMOVED, '%s mac' % where,
                          mac.get('address'), None,
                          'no MAC address: the destination makes one',
                          hw_report.WARNING)
            hw_draft.drop(mac)
            where = hw_draft.where(nic)
        elif mac is None:
            draft.rep.add(hw_report.NOTE, where, reason='the source gives '
                          'no MAC address: the destination makes one',
                          severity=hw_report.WARNING)
        if mac is not None and mac.getparent() is nic:
            draft.rep.macs.append(mac.get('address'))
        model_el = nic.find('./model')
        model = model_el.get('type') if model_el is not None else None
        table = draft.profile.nic_model.get(model, model)
        new = draft.override(model, table)
        if new and new != model:
            if model_el is None:
                model_el = etree.Element('model')
                anchor = nic.find('./source')
                if anchor is None:
                    anchor = mac
                if anchor is not None:
                    anchor.addnext(model_el)
                else:
                    nic.insert(0, model_el)
            model_el.set('type', new)
            for addr in nic.findall('./address'):
                hw_draft.drop(addr)
            draft.rep.add(hw_report.CHANGED, where, model or '(none)', new)
        if draft.profile.map_networks and nic.get('type') in (
                MAPPED_NIC_TYPES + UNCONNECTED_NIC_TYPES):
            _map_network(draft, nic, where)


def _map_network(draft, nic, where):
    """A NIC's source becomes the target's network for the old one.

    A NIC the source left unconnected keeps its link down.
    """
    source = nic.find('./source')
    if source is None:
        source = etree.Element('source')
        mac = nic.find('./mac')
        if mac is not None:
            mac.addnext(source)
        else:
            nic.insert(0, source)
    old_type = nic.get('type')
    old = (source.get('bridge') or source.get('network') or
           source.get('portgroupid') or source.get('switchid'))
    kind, name = draft.target.networks.get(old,
                                           draft.target.default_network)
    for attr in list(source.attrib):
        del source.attrib[attr]
    nic.set('type', kind)
    source.set(kind, name)
    if old_type in UNCONNECTED_NIC_TYPES:
        for link in nic.findall('./link'):
            hw_draft.drop(link)
        link = etree.Element('link', state='down')
        anchor = nic.find('./model')
        if anchor is None:
            anchor = source
        anchor.addnext(link)
        draft.rep.add(hw_report.CHANGED, '%s type' % where, old_type,
                      '%s %s, link down' % (kind, name),
                      'not connected on the source: its link stays down',
                      hw_report.WARNING)
        return
    if old_type not in ('bridge', 'network'):
        draft.rep.add(hw_report.CHANGED, '%s type' % where, old_type, kind,
                      NIC_TYPE_REASONS.get(old_type, ''))
    draft.rep.add(hw_report.CHANGED, '%s network' % where, old,
                  '%s %s' % (kind, name),
                  '' if old in draft.target.networks else
                  'no mapping given for it: the default',
                  hw_report.INFO if old in draft.target.networks
                  else hw_report.WARNING)


def video_and_sound(draft):
    """Video, sound and graphics a KVM host runs, a virtio balloon.

    An emulated TPM is kept with a warning: its state stays behind.
    """
    for video in draft.devices.findall('./video/model'):
        old = video.get('type')
        new = draft.override(old, draft.profile.video_model.get(old, old))
        if new != old:
            for attr in ('vram', 'vgamem', 'ram', 'vram64'):
                video.attrib.pop(attr, None)
            for child in list(video):
                hw_draft.drop(child)
            video.set('type', new)
            for addr in video.getparent().findall('./address'):
                hw_draft.drop(addr)
            draft.rep.add(hw_report.CHANGED, 'video', old, new)
    for sound in draft.devices.findall('./sound'):
        old = sound.get('model')
        new = draft.override(old, draft.profile.sound_model.get(old, old))
        if new != old:
            sound.set('model', new)
            draft.rep.add(hw_report.CHANGED, 'sound', old, new)
    for graphics in draft.devices.findall('./graphics'):
        if graphics.get('type') in ('rdp', 'desktop'):
            old = graphics.get('type')
            for attr in list(graphics.attrib):
                del graphics.attrib[attr]
            for child in list(graphics):
                hw_draft.drop(child)
            graphics.set('type', 'vnc')
            graphics.set('autoport', 'yes')
            draft.rep.add(hw_report.CHANGED, 'graphics', old, 'vnc')
    for tpm in draft.devices.findall("./tpm/backend[@type='emulator']"):
        draft.rep.add(hw_report.NOTE, 'tpm', reason='the emulated TPM\'s '
                      'state stays on the source host: the guest gets a '
                      'fresh TPM, and secrets sealed to the old one (disk '
                      'encryption keys) must be recovered',
                      severity=hw_report.WARNING)
    for balloon in draft.devices.findall('./memballoon'):
        old = balloon.get('model')
        if old not in ('virtio', 'none', 'virtio-transitional',
                       'virtio-non-transitional'):
            balloon.set('model', 'virtio')
            draft.rep.add(hw_report.CHANGED, 'memballoon', old, 'virtio')


def console(draft):
    """A serial console; one on a pty is added for the guest's log.

    A foreign guest's ports are on a pty already
    (:func:`nova_v2v.hardware.hostrefs.char_devices`).
    """
    for con in draft.devices.findall('./console/target'):
        if con.get('type') not in (None, 'serial', 'virtio'):
            draft.rep.add(hw_report.CHANGED, 'console', con.get('type'),
                          'serial')
            con.set('type', 'serial')
    if draft.devices.find('./serial') is None:
        serial = hw_draft.sub(draft.devices, 'serial', type='pty')
        hw_draft.sub(serial, 'target', port='0')
        draft.rep.add(hw_report.ADDED, 'serial', None, 'pty',
                      'a serial console for the guest\'s log')
    if draft.devices.find('./console') is None:
        console = hw_draft.sub(draft.devices, 'console', type='pty')
        hw_draft.sub(console, 'target', type='serial', port='0')
        draft.rep.add(hw_report.ADDED, 'console', None, 'serial')


def reorder_devices(draft):
    """``<emulator>`` first in ``<devices>``, as libvirt's schema wants.

    The steps appended new elements after it.
    """
    emulator = draft.devices.find('./emulator')
    if emulator is not None and draft.devices.index(emulator) != 0:
        draft.devices.remove(emulator)
        draft.devices.insert(0, emulator)
