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

"""Translate a guest's libvirt domain XML for its V2V clone.

Pure: lxml only, no libvirt or Nova import.  Given the source domain's
XML and the planner's :class:`~nova_v2v.planning.planner.HardwareChange`
list, return the XML of the clone to define on the destination: other
domain type, machine type, NIC and SCSI models, disk buses and formats,
and without what only made sense on the source host (live ids, aliases,
block job mirrors, security labels).
"""

import copy

from lxml import etree

from nova_v2v.hardware import inspect

# The planner's (and Nova's) SCSI controller model names -> libvirt's.
SCSI_MODEL_TO_LIBVIRT = {
    'pvscsi': 'vmpvscsi',
    'lsilogic': 'lsilogic',
    'lsisas1068': 'lsisas1068',
    'buslogic': 'buslogic',
    'virtio-scsi': 'virtio-scsi',
    'vmpvscsi': 'vmpvscsi',
}
# The first target dev of each bus; libvirt names disks <prefix><letter>.
BUS_PREFIX = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd',
              'ide': 'hd', 'xen': 'xvd'}
KNOWN_KINDS = ('domain-type', 'machine', 'nic-model', 'scsi-model',
               'disk-bus', 'disk-format')


class TranslationError(ValueError):
    """The domain cannot be translated as asked."""


class UnknownChange(TranslationError):
    """A hardware change of a kind this module does not know."""


def _field(change, name):
    if isinstance(change, dict):
        return change[name]
    return getattr(change, name)


def _parse(xml):
    try:
        return inspect.domain_root(xml)
    except inspect.InvalidDomainXML as exc:
        raise TranslationError(str(exc))


def _drop(el):
    el.getparent().remove(el)


def _strip_source_host_state(root, keep_uuid):
    """Remove what belongs to the running source instance only."""
    if 'id' in root.attrib:
        del root.attrib['id']
    if not keep_uuid:
        for el in root.findall('./uuid'):
            _drop(el)
    for xpath in ('./seclabel', './devices/*/seclabel',
                  './devices/*/source/seclabel', './devices/*/alias',
                  './devices/disk/mirror', './devices/disk/backingStore'):
        for el in root.findall(xpath):
            _drop(el)
    # Transient state written by libvirt into a live XML.
    for el in root.iter():
        if el.tag == 'source' and 'index' in el.attrib:
            del el.attrib['index']
    for el in root.findall('./devices/interface/target'):
        _drop(el)
    for el in root.findall('./devices/graphics'):
        if el.get('autoport') == 'yes' and 'port' in el.attrib:
            del el.attrib['port']


def _dev_name(prefix, index):
    """0 -> 'a', 25 -> 'z', 26 -> 'aa' (libvirt's virDiskNameToIndex)."""
    letters = ''
    index += 1
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord('a') + rem) + letters
    return prefix + letters


def _disk_key(disk):
    target = disk.find('./target')
    source = disk.find('./source')
    dev = target.get('dev') if target is not None else None
    path = None
    if source is not None:
        path = source.get('file') or source.get('dev') or source.get('name')
    return dev, path


def _lookup(mapping, disk):
    if not mapping:
        return None
    dev, path = _disk_key(disk)
    if dev in mapping:
        return mapping[dev]
    return mapping.get(path) if path else None


def _drop_address(el):
    for addr in el.findall('./address'):
        _drop(addr)


def _change_disk_buses(root, bus_changes):
    """Move disks to another bus and give them that bus's dev names."""
    disks = root.findall('./devices/disk')
    used = set()
    moved = []
    for disk in disks:
        target = disk.find('./target')
        if target is None:
            continue
        dev = target.get('dev')
        if dev in bus_changes:
            old, new = bus_changes[dev]
            if target.get('bus', old) != old:
                raise TranslationError(
                    'disk %s is on bus %s, not %s' % (dev, target.get('bus'),
                                                      old))
            moved.append((disk, target, new))
        else:
            used.add(dev)
    missing = set(bus_changes) - {t.get('dev') for _d, t, _n in moved}
    if missing:
        raise TranslationError('no disk with target %s'
                               % ', '.join(sorted(missing)))
    for disk, target, new in moved:
        prefix = BUS_PREFIX.get(new)
        if prefix is None:
            raise TranslationError('unknown disk bus %r' % new)
        index = 0
        while _dev_name(prefix, index) in used:
            index += 1
        name = _dev_name(prefix, index)
        used.add(name)
        target.set('dev', name)
        target.set('bus', new)
        _drop_address(disk)


def translate_domain_xml(xml, hardware_changes, new_name=None,
                         new_uuid=None, disk_paths=None, disk_formats=None,
                         keep_uuid=True):
    """The destination clone's domain XML (a str).

    :param xml: the source domain's XML (live or inactive)
    :param hardware_changes: HardwareChange objects (or dicts with kind,
        device, old, new) as the planner gives them
    :param new_name: the clone's name (default: unchanged)
    :param new_uuid: the clone's UUID (default: unchanged, or dropped when
        ``keep_uuid`` is False so that libvirt generates one)
    :param disk_paths: ``{source target dev or path: new path}``
    :param disk_formats: ``{source target dev or path: new driver type}``
    :raises: :class:`UnknownChange`, :class:`TranslationError`
    """
    root = copy.deepcopy(_parse(xml))
    changes = list(hardware_changes or ())
    for change in changes:
        if _field(change, 'kind') not in KNOWN_KINDS:
            raise UnknownChange('unknown hardware change kind %r (known: %s)'
                                % (_field(change, 'kind'),
                                   ', '.join(KNOWN_KINDS)))
    _strip_source_host_state(root, keep_uuid or new_uuid)
    if new_name:
        root.find('./name').text = new_name
    if new_uuid:
        uuid_el = root.find('./uuid')
        if uuid_el is None:
            uuid_el = etree.Element('uuid')
            root.find('./name').addnext(uuid_el)
        uuid_el.text = new_uuid

    # Disk path and format changes are keyed by the source's names, so
    # apply them before targets are renamed.
    formats = dict(disk_formats or {})
    for change in changes:
        if _field(change, 'kind') == 'disk-format':
            formats[_field(change, 'device')] = _field(change, 'new')
    for disk in root.findall('./devices/disk'):
        new_path = _lookup(disk_paths, disk)
        new_fmt = _lookup(formats, disk)
        if new_path:
            source = disk.find('./source')
            if source is None or disk.get('type') not in ('file', None):
                raise TranslationError('disk %s is not a file disk'
                                       % (_disk_key(disk)[0],))
            source.set('file', new_path)
        if new_fmt:
            driver = disk.find('./driver')
            if driver is None:
                driver = etree.Element('driver', name='qemu')
                disk.insert(0, driver)
            driver.set('type', new_fmt)

    bus_changes = {}
    for change in changes:
        kind = _field(change, 'kind')
        old, new = _field(change, 'old'), _field(change, 'new')
        if kind == 'domain-type':
            if root.get('type') != old:
                raise TranslationError('domain type is %s, not %s'
                                       % (root.get('type'), old))
            root.set('type', new)
        elif kind == 'machine':
            os_type = root.find('./os/type')
            if os_type is None:
                raise TranslationError('the domain has no <os><type>')
            os_type.set('machine', new)
        elif kind == 'nic-model':
            for model in root.findall('./devices/interface/model'):
                if model.get('type') == old or (
                        old == 'vmxnet3' and model.get('type') == 'vmxnet'):
                    model.set('type', new)
                    _drop_address(model.getparent())
        elif kind == 'scsi-model':
            old_lv = SCSI_MODEL_TO_LIBVIRT.get(old, old)
            new_lv = SCSI_MODEL_TO_LIBVIRT.get(new, new)
            for ctrl in root.findall("./devices/controller[@type='scsi']"):
                if ctrl.get('model') in (old, old_lv):
                    ctrl.set('model', new_lv)
                    _drop_address(ctrl)
        elif kind == 'disk-bus':
            bus_changes[_field(change, 'device')] = (old, new)
    if bus_changes:
        _change_disk_buses(root, bus_changes)
    return etree.tostring(root, pretty_print=True).decode('utf-8')


def disk_targets(xml):
    """[(target dev, bus, source path, driver type)] of the file disks."""
    result = []
    for disk in _parse(xml).findall('./devices/disk'):
        if disk.get('device', 'disk') != 'disk':
            continue
        target = disk.find('./target')
        driver = disk.find('./driver')
        dev, path = _disk_key(disk)
        result.append((dev, target.get('bus') if target is not None
                       else None, path,
                       driver.get('type', 'raw') if driver is not None
                       else 'raw'))
    return result
