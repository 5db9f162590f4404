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

"""Every source shape under fixtures/sources, translated and checked.

Each fixture is a definition shaped like what libvirt's QEMU, ESX, Hyper-V
or Xen driver gives (see fixtures/sources/README.rst).  Each is translated
for a KVM and for a QEMU/TCG destination, and the result must be valid for
libvirt's own schema and keep what the guest needs: every MAC address, every
disk in order, its firmware, a serial console, disks under the instances
path in qcow2 or raw, virtio where the tables say so.
"""

import json
import posixpath

from lxml import etree
import testtools

from nova_v2v.conf import v2v as v2v_conf
from nova_v2v.hardware import machines
from nova_v2v.hardware import tables
from nova_v2v.hardware import translate
from tests.unit.hardware import schema

INSTANCES = '/var/lib/nova/instances'
SOURCES = schema.source_fixtures()
# The defaults of [v2v] translate_device_models.
OVERRIDES = dict(item.split(':') for item in
                 v2v_conf.ALL_OPTS[[o.name for o in v2v_conf.ALL_OPTS]
                                   .index('translate_device_models')].default)
# What the refuse policy refuses, and why: everything else translates.
REFUSED = {
    '09': translate.UnmappableDevices,   # PCI hostdev
    '10': translate.UnmappableDevices,   # host LVM block device
    '27': translate.UnmappableDevices,   # Hyper-V pass-through disk
    '23': translate.UnsupportedGuest,    # Xen PV with pygrub
    '25': translate.UnsupportedGuest,    # VirtualBox: no table
    '28': translate.UnmappableDevices,   # Ceph RBD network disks
    '29': translate.UnsupportedGuest,    # aarch64 guest, x86_64 target
}
# With the drop policy only the guests no table can take are refused.
REFUSED_WHEN_DROPPING = {'23', '25', '29'}
# What belongs to the running source only, and goes from a live XML.
LIVE_ONLY = ('./seclabel', './devices/interface/target')


def _root(xml):
    return etree.fromstring(xml.encode() if isinstance(xml, str) else xml)


def canonical(root_or_xml):
    """C14N without the layout whitespace between elements."""
    text = root_or_xml
    if not isinstance(text, (str, bytes)):
        text = etree.tostring(root_or_xml)
    if isinstance(text, str):
        text = text.encode()
    root = etree.fromstring(text, etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, method='c14n')


def _uefi(root):
    os_el = root.find('./os')
    loader = os_el.find('./loader')
    return os_el.get('firmware') == 'efi' or (
        loader is not None and loader.get('type') == 'pflash')


def _macs(root):
    return [m.get('address') for m in root.findall('./devices/interface/mac')]


def _disks(root):
    return root.findall("./devices/disk[@device='disk']")


def _target(accel, policy='refuse', import_dir=None):
    return translate.Target(accelerator=accel, instances_path=INSTANCES,
                            overrides=OVERRIDES, unmappable=policy,
                            cpu_model='qemu64' if accel == 'qemu' else None,
                            import_dir=import_dir)


def _import_dir(src, profile):
    """Where a foreign guest's disks at host paths are: their folder."""
    paths = [d.find('./source').get('file') for d in _disks(src)
             if d.find('./source') is not None]
    paths = [p for p in paths if p and p.startswith('/')]
    if not profile.foreign or not paths:
        return None
    return posixpath.commonpath([posixpath.dirname(p) for p in paths])


class TestSourceFixtures(testtools.TestCase):

    def test_at_least_twenty_shapes(self):
        self.assertGreaterEqual(len(SOURCES), 20)
        profiles = {_root(x).get('type') for x in SOURCES.values()}
        for kind in ('kvm', 'qemu', 'vmware', 'hyperv', 'xen'):
            self.assertIn(kind, profiles)

    def test_fixtures_are_valid_libvirt(self):
        for name, xml in SOURCES.items():
            self.assertIsNone(schema.schema_errors(xml), name)

    def test_refusals_are_typed(self):
        for name, xml in SOURCES.items():
            key = name[:2]
            if key not in REFUSED:
                continue
            exc = self.assertRaises(REFUSED[key], translate.translate, xml,
                                    _target('kvm'))
            self.assertTrue(str(exc), name)
            if isinstance(exc, translate.UnmappableDevices):
                self.assertTrue(exc.report.unmappable, name)

    def _check(self, name, accel, policy):
        src = _root(SOURCES[name])
        profile = tables.profile_for(src.get('type'))
        result = translate.translate(
            SOURCES[name], _target(accel, policy,
                                   _import_dir(src, profile)))
        out = _root(result.xml)
        rep = result.report
        # libvirt's schema accepts it.
        self.assertIsNone(schema.schema_errors(result.xml))
        self.assertEqual(accel, out.get('type'))
        # Every MAC, in order.
        self.assertEqual(_macs(src), _macs(out))
        self.assertEqual(_macs(src), rep.macs)
        # Every disk, in order, minus what the drop policy dropped.
        dropped = {f.device for f in rep.findings if f.action == 'dropped'}
        kept = [d.find('./target').get('dev') for d in _disks(src)
                if 'disk %s' % d.find('./target').get('dev') not in dropped]
        self.assertEqual(kept, [d.source_target for d in rep.disks
                                if d.device == 'disk'])
        self.assertEqual(len(kept), len(_disks(out)))
        for disk, mapping in zip(_disks(out),
                                 [d for d in rep.disks
                                  if d.device == 'disk']):
            path = disk.find('./source').get('file')
            self.assertEqual(mapping.path, path)
            self.assertTrue(path.startswith(INSTANCES + '/'), path)
            self.assertIn(disk.find('./driver').get('type'),
                          tables.TARGET_DISK_FORMATS)
            self.assertEqual('file', disk.get('type'))
            bus = disk.find('./target').get('bus')
            if profile.foreign:
                self.assertEqual('virtio', bus)
            else:
                self.assertEqual(OVERRIDES.get(mapping.source_bus,
                                               mapping.source_bus)
                                 if mapping.source_bus != 'ide' or
                                 machines.family(rep.machine) !=
                                 machines.Q35 else 'virtio', bus)
        # Every NIC model as the tables and overrides say.
        for s_nic, o_nic in zip(src.findall('./devices/interface'),
                                out.findall('./devices/interface')):
            model = s_nic.find('./model')
            model = model.get('type') if model is not None else None
            expected = 'virtio' if profile.foreign else OVERRIDES.get(
                model, model)
            self.assertEqual(expected, o_nic.find('./model').get('type'))
        # The firmware stays what it was.
        self.assertEqual(_uefi(src), _uefi(out))
        if _uefi(src):
            self.assertTrue(out.findtext('./os/nvram', '').startswith(
                INSTANCES + '/'))
        # A machine QEMU runs, a serial console.
        self.assertIn(machines.family(out.find('./os/type').get('machine')),
                      (machines.I440FX, machines.Q35))
        self.assertIsNotNone(out.find('./devices/serial'))
        self.assertIsNotNone(out.find('./devices/console'))
        if accel == 'qemu':
            cpu = out.find('./cpu')
            self.assertNotIn(cpu.get('mode') if cpu is not None else None,
                             ('host-model', 'host-passthrough'))
        # Nothing of the source hypervisor is left behind.
        if profile.foreign:
            self.assertIsNone(out.find('./devices/emulator'))
            self.assertEqual([], [el for el in out.iter()
                                  if isinstance(el.tag, str) and
                                  el.tag.startswith('{')])
        for tag in ('./devices/hostdev', "./devices/disk[@type='block']"):
            self.assertEqual([], out.findall(tag))
        # The report is complete and serialisable.
        json.dumps(rep.to_dict())
        self.assertIn('target: %s' % accel, rep.to_text())
        return result

    def test_already_in_target_shape_is_unchanged(self):
        name = [n for n in SOURCES if n.startswith('01')][0]
        # With an NVMe controller and no disk on it (libvirt 11.x; not in
        # the 9.0 schema the fixtures validate with): a foreign guest's
        # goes, a QEMU/KVM guest's stays.
        source = _root(SOURCES[name])
        etree.SubElement(source.find('./devices'), 'controller',
                         type='nvme', index='0')
        source = etree.tostring(source)
        result = translate.translate(source, _target('kvm'))
        # The fixture is a live dumpxml: its live-only state goes, and
        # nothing else changes.
        expected = _root(source)
        for xpath in LIVE_ONLY:
            for el in expected.findall(xpath):
                el.getparent().remove(el)
        for el in expected.findall("./devices/graphics[@autoport='yes']"):
            el.attrib.pop('port', None)
        self.assertEqual(canonical(expected), canonical(result.xml))
        self.assertEqual([], result.report.findings)


def _make(name, accel, policy):
    def test(self):
        self._check(name, accel, policy)
    return test


for _name in SOURCES:
    _key = _name[:2]
    for _accel in ('kvm', 'qemu'):
        if _key not in REFUSED:
            setattr(TestSourceFixtures,
                    'test_%s_%s' % (_name.replace('-', '_'), _accel),
                    _make(_name, _accel, 'refuse'))
        elif _key not in REFUSED_WHEN_DROPPING:
            setattr(TestSourceFixtures,
                    'test_%s_%s_dropping' % (_name.replace('-', '_'), _accel),
                    _make(_name, _accel, 'drop'))
