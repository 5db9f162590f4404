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

"""The definition being translated: a :class:`Draft` and its elements.

Pure. The translation steps (:mod:`nova_v2v.hardware.platform`,
:mod:`nova_v2v.hardware.disks`, :mod:`nova_v2v.hardware.devices`) each
take the draft: a copy of the source's definition they change in place,
the :class:`~nova_v2v.hardware.translate.Target`, the source's mapping
table and the report of every change.
"""

import copy

from lxml import etree

from nova_v2v.hardware import reading
from nova_v2v.hardware import tables


def drop(el):
    """Remove ``el`` from its parent."""
    el.getparent().remove(el)


def sub(parent, tag, **attrs):
    """A new ``tag`` element appended to ``parent``."""
    return etree.SubElement(parent, tag, **attrs)


def where(el):
    """A short name of a device for the report: 'interface 00:50:56:..'."""
    tag = el.tag if isinstance(el.tag, str) else 'node'
    if '}' in tag:
        tag = tag.split('}', 1)[1]
    if tag == 'disk':
        target = el.find('./target')
        return 'disk %s' % (target.get('dev') if target is not None
                            else '?')
    if tag == 'interface':
        mac = el.find('./mac')
        return 'interface %s' % (mac.get('address') if mac is not None
                                 else '(no mac)')
    if tag == 'controller':
        return 'controller %s %s' % (el.get('type'), el.get('index', '0'))
    if tag == 'hostdev':
        return 'hostdev %s' % el.get('type', '')
    return tag


class Draft(object):
    """A source definition on its way to the destination.

    ``src`` is the source's parsed definition, ``root`` the copy the
    steps change and ``devices`` its ``<devices>``; ``target`` is the
    :class:`~nova_v2v.hardware.translate.Target`, ``profile`` the
    source's :class:`~nova_v2v.hardware.tables.SourceProfile` and ``rep``
    the :class:`~nova_v2v.hardware.report.Report`. ``disk_paths``,
    ``disk_formats`` and ``disk_sizes`` map a source target dev or path to
    what the caller chose or knows. ``family`` (the destination's machine
    family) and ``replatform`` (whether the guest changes platform) are
    set by the machine step, for the steps after it.
    """

    def __init__(self, root, target, profile, rep, disk_paths, disk_formats,
                 disk_sizes=None):
        self.src = root
        self.root = copy.deepcopy(root)
        self.target = target
        self.profile = profile
        self.rep = rep
        self.disk_paths = dict(disk_paths or {})
        self.disk_formats = dict(disk_formats or {})
        self.disk_sizes = dict(disk_sizes or {})
        self.devices = self.root.find('./devices')
        if self.devices is None:
            self.devices = sub(self.root, 'devices')
        self.replatform = False
        self.family = None

    def override(self, key, table_value):
        """The operator's override for ``key``, else the table's value."""
        if key is not None and key in self.target.overrides:
            return self.target.overrides[key]
        if table_value == tables.TARGET_DISK_BUS:
            return self.target.disk_bus
        if table_value == tables.MACHINE_CDROM_BUS:
            return tables.CDROM_BUS.get(self.family, 'ide')
        return table_value

    def guest_dir(self):
        """The guest's directory name below the instances path.

        The target's, else the guest's UUID (or its name).

        :raises: PathEscape for a name that is not a plain file name
        """
        if self.target.guest_dir:
            return self.target.guest_dir
        name = (self.root.findtext('./uuid') or
                self.root.findtext('./name') or '').strip()
        reading.check_component(name, 'guest directory')
        return name
