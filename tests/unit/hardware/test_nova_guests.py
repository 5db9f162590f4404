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

"""A Nova guest's definition through the translator, pinned.

Nova's own live migrations and cutovers hand the translator a QEMU/KVM
guest's definition (``translate_domain_xml``); the ``nova-v2v translate``
command hands it one too.  Rules for foreign guests must never reach such
a guest: the definition under fixtures/nova (see its README.rst) holds
what Nova writes that a foreign guest's rule could touch (pinning, memory
tuning, SMBIOS sysinfo, UEFI secure boot with its NVRAM template and SMM,
tap devices, file, pty and tcp serials, VNC on a fixed port and address,
SPICE, an NVMe controller with no disk), and each way in translates it to
exactly the definition and report the translator gave before foreign
guests had rules of their own (commit 1f6ed18), kept under
fixtures/nova/expected.

Run as a script with that commit's ``nova_v2v`` first on PYTHONPATH, this
module writes those files again (fixtures/nova/README.rst says how).
"""

import json
import os
import sys

from lxml import etree
import testtools

from nova_v2v.hardware import translate

NOVA = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    'fixtures', 'nova')
EXPECTED = os.path.join(NOVA, 'expected')
GUEST = 'kvm-q35-pinned-uefi-secureboot'
INSTANCES = '/var/lib/nova/instances'
ROOT_DISK = ('/var/lib/nova/instances/3b9e6d1c-5f2a-4c8e-b7d0-9a1f2e3c4b4b/'
             'disk')
# A disk named like an NVMe namespace and given without a bus: libvirt
# always writes one, but a hand-written definition may not.
BUSLESS_NVME_DISK = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source file='/var/lib/nova/instances/"
    "3b9e6d1c-5f2a-4c8e-b7d0-9a1f2e3c4b4b/disk.eph0'/>"
    "<target dev='nvme0n1'/></disk>")


def _change(kind, device, old, new):
    return {'kind': kind, 'device': device, 'old': old, 'new': new}


# How each way in reaches the translator: the command's translate with a
# Target, or translate_domain_xml with a plan's hardware changes and the
# arguments its callers give (nova_v2v.virt.libvirt.prechecks.translate_xml
# for a live migration, nova_v2v_rig.lab.engine.clone_xml for a cutover).
COMMAND_CASES = {
    'command-kvm': dict(accelerator='kvm', instances_path=INSTANCES),
    'command-qemu': dict(accelerator='qemu', instances_path=INSTANCES),
    'command-kvm-in-place': dict(accelerator='kvm'),
}
PLAN_CASES = {
    'live-migration': dict(changes=()),
    'live-migration-raw': dict(
        changes=(_change('disk-format', ROOT_DISK, 'qcow2', 'raw'),),
        disk_formats={ROOT_DISK: 'raw'}),
    'cutover-clone-qemu': dict(
        changes=(_change('domain-type', 'domain', 'kvm', 'qemu'),
                 _change('disk-format', ROOT_DISK, 'qcow2', 'raw')),
        new_name='instance-0000004b-clone',
        disk_paths={ROOT_DISK: ROOT_DISK},
        disk_formats={ROOT_DISK: 'raw'}),
}


# A Cinder volume attached as a SCSI LUN (an iSCSI path), which the
# command refuses: the reason is the one it gave before.
LUN_DISK = (
    "<disk type='block' device='lun'>"
    "<driver name='qemu' type='raw' cache='none'/>"
    "<source dev='/dev/disk/by-path/ip-192.0.2.5:3260-iscsi-"
    "iqn.2010-10.org.openstack:volume-5e1c-lun-0'/>"
    "<target dev='sdb' bus='scsi'/></disk>")


def guest_xml(busless_nvme=False, lun=False):
    with open(os.path.join(NOVA, GUEST + '.xml')) as f:
        xml = f.read()
    extra = [d for d, wanted in ((BUSLESS_NVME_DISK, busless_nvme),
                                 (LUN_DISK, lun)) if wanted]
    if extra:
        root = etree.fromstring(xml.encode())
        disk = root.find('./devices/disk')
        for text in extra:
            disk.addnext(etree.fromstring(text))
        xml = etree.tostring(root).decode()
    return xml


def canonical(xml):
    """C14N without the layout whitespace between elements."""
    if isinstance(xml, str):
        xml = xml.encode()
    root = etree.fromstring(xml, etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, method='c14n')


def _plan_translation(module, xml, case):
    """translate_domain_xml's XML, and the report of the same translation.

    :returns: (xml, report, translation)
    """
    formats = dict(case.get('disk_formats') or {})
    out = module.translate_domain_xml(
        xml, case['changes'], new_name=case.get('new_name'),
        disk_paths=case.get('disk_paths'), disk_formats=formats)
    for change in case['changes']:
        if change['kind'] == 'disk-format':
            formats[change['device']] = change['new']
    result = module.translate(
        xml, module.target_from_changes(xml, case['changes']),
        name=case.get('new_name'), disk_paths=case.get('disk_paths'),
        disk_formats=formats, keep_ifnames=True)
    return out, result.report, result


def outcomes(module):
    """{case: (xml, report dict)} of every way in, for ``module``.

    :param module: a ``nova_v2v.hardware.translate`` module
    """
    found = {}
    for busless in (False, True):
        xml = guest_xml(busless)
        suffix = '-busless-nvme' if busless else ''
        for name, kwargs in COMMAND_CASES.items():
            result = module.translate(xml, module.Target(**kwargs))
            found[name + suffix] = (result.xml, result.report.to_dict())
        for name, case in PLAN_CASES.items():
            out, report, result = _plan_translation(module, xml, case)
            if canonical(out) != canonical(result.xml):
                raise AssertionError('translate_domain_xml and translate '
                                     'differ for %s' % name)
            found[name + suffix] = (out, report.to_dict())
    return found


def refusals(module):
    """{case: (error, report dict)} of the command's refusals."""
    found = {}
    xml = guest_xml(lun=True)
    for name, kwargs in COMMAND_CASES.items():
        try:
            module.translate(xml, module.Target(**kwargs))
        except module.UnmappableDevices as exc:
            found[name + '-lun'] = (str(exc), exc.report.to_dict())
        else:
            raise AssertionError('%s: a LUN was not refused' % name)
    return found


def _expected_xml(case):
    with open(os.path.join(EXPECTED, case + '.xml')) as f:
        return f.read()


def _expected_reports():
    with open(os.path.join(EXPECTED, 'reports.json')) as f:
        return json.load(f)


def _jsonable(data):
    return json.loads(json.dumps(data))


class TestNovaGuest(testtools.TestCase):
    """A Nova guest translates as it did before foreign guests' rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.outcomes = outcomes(translate)

    def test_every_case_is_pinned(self):
        cases = sorted(self.outcomes)
        self.assertEqual(cases, sorted(_expected_reports()))
        self.assertEqual(cases, sorted(
            name[:-4] for name in os.listdir(EXPECTED)
            if name.endswith('.xml')))

    def test_definitions_unchanged(self):
        for case, (xml, _report) in sorted(self.outcomes.items()):
            self.assertEqual(canonical(_expected_xml(case)), canonical(xml),
                             case)

    def test_reports_unchanged(self):
        expected = _expected_reports()
        for case, (_xml, report) in sorted(self.outcomes.items()):
            self.assertEqual(expected[case], _jsonable(report), case)

    def test_live_migration_keeps_every_element(self):
        # The pinned files checked against the source itself: a live
        # migration's definition is the guest's own, element for element,
        # but for what the source host resolved when it auto-selected the
        # firmware (the loader, the variable store's template).
        xml, report = self.outcomes['live-migration']
        expected = etree.fromstring(guest_xml().encode())
        os_el = expected.find('./os')
        os_el.remove(os_el.find('./loader'))
        del os_el.find('./nvram').attrib['template']
        self.assertEqual(canonical(etree.tostring(expected)),
                         canonical(xml))
        self.assertEqual([], report['findings'])

    def test_source_host_elements_kept(self):
        # The elements a foreign guest's rules remove or rewrite are all
        # still there in every way in.
        for case, (xml, report) in sorted(self.outcomes.items()):
            root = etree.fromstring(xml.encode())
            self.assertEqual('2-5', root.find('./vcpu').get('cpuset'), case)
            self.assertEqual(2, len(root.findall('./cputune/vcpupin')))
            self.assertIsNotNone(root.find('./cputune/emulatorpin'))
            self.assertIsNotNone(root.find('./memtune/hard_limit'))
            self.assertIsNotNone(root.find("./sysinfo[@type='smbios']"))
            self.assertEqual('sysinfo',
                             root.find('./os/smbios').get('mode'))
            self.assertEqual(
                {'enrolled-keys': 'yes', 'secure-boot': 'yes'},
                {f.get('name'): f.get('enabled')
                 for f in root.findall('./os/firmware/feature')}, case)
            self.assertIsNotNone(root.find('./os/nvram'), case)
            self.assertEqual('on', root.find('./features/smm').get('state'))
            self.assertEqual(
                ['file', 'pty', 'tcp'],
                [s.get('type') for s in root.findall('./devices/serial')])
            self.assertEqual('file',
                             root.find('./devices/console').get('type'))
            vnc = root.find("./devices/graphics[@type='vnc']")
            self.assertEqual(('no', '5901', '192.0.2.21'),
                             (vnc.get('autoport'), vnc.get('port'),
                              vnc.get('listen')), case)
            self.assertIsNotNone(root.find("./devices/graphics"
                                           "[@type='spice']"))
            self.assertIsNotNone(
                root.find("./devices/controller[@type='nvme']"), case)
            self.assertEqual(['fa:16:3e:2b:9c:4b', 'fa:16:3e:2b:9c:4c'],
                             report['macs'])

    def test_tap_names_kept_where_nova_asks(self):
        # translate_domain_xml keeps Nova's tap names (keep_ifnames).
        for case in PLAN_CASES:
            root = etree.fromstring(self.outcomes[case][0].encode())
            self.assertEqual(
                ['tap7d4e1a2b-3c', 'tap8e5f2b3c-4d'],
                [t.get('dev') for t in
                 root.findall('./devices/interface/target')], case)

    def test_refusals_unchanged(self):
        with open(os.path.join(EXPECTED, 'refusals.json')) as f:
            expected = json.load(f)
        found = refusals(translate)
        self.assertEqual(sorted(expected), sorted(found))
        for case, (error, report) in sorted(found.items()):
            self.assertEqual(expected[case]['error'], error, case)
            self.assertEqual(expected[case]['report'], _jsonable(report),
                             case)

    def test_busless_nvme_disk_bus_as_before(self):
        for case, (_xml, report) in sorted(self.outcomes.items()):
            if not case.endswith('-busless-nvme'):
                continue
            nvme = [d for d in report['disks']
                    if d['source_target'] == 'nvme0n1']
            self.assertEqual(1, len(nvme), case)
            self.assertNotEqual('nvme', nvme[0]['source_bus'], case)


def write_expected(module):
    """Write the outcomes of ``module`` under fixtures/nova/expected."""
    os.makedirs(EXPECTED, exist_ok=True)
    reports = {}
    for case, (xml, report) in sorted(outcomes(module).items()):
        with open(os.path.join(EXPECTED, case + '.xml'), 'w') as f:
            f.write(xml)
        reports[case] = _jsonable(report)
    with open(os.path.join(EXPECTED, 'reports.json'), 'w') as f:
        json.dump(reports, f, indent=1, sort_keys=True)
        f.write('\n')
    with open(os.path.join(EXPECTED, 'refusals.json'), 'w') as f:
        json.dump({case: {'error': error, 'report': _jsonable(report)}
                   for case, (error, report) in refusals(module).items()},
                  f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    if sys.argv[1:] != ['--write']:
        sys.exit('usage: PYTHONPATH=<nova_v2v of the pinned commit> python '
                 '%s --write' % sys.argv[0])
    sys.stderr.write('writing the outcomes of %s\n' % translate.__file__)
    write_expected(translate)
