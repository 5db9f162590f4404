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

"""Hostile definitions: refused with a typed error, nothing resolved."""

import os

import testtools

from nova_v2v.hardware import devices
from nova_v2v.hardware import disks
from nova_v2v.hardware import draft as hw_draft
from nova_v2v.hardware import exception
from nova_v2v.hardware import platform as hw_platform
from nova_v2v.hardware import reading
from nova_v2v.hardware import tables
from nova_v2v.hardware import translate

TARGET = translate.Target(instances_path='/var/lib/nova/instances')

VMWARE = """<domain type='vmware'>
  <name>web</name>
  <uuid>564d1a2b-3c4d-5e6f-7a8b-9c0d1e2f3a99</uuid>
  <memory unit='%(unit)s'>%(memory)s</memory>
  <vcpu>%(vcpus)s</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='%(path)s'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <controller type='scsi' index='0' model='lsilogic'/>
    <interface type='bridge'>
      <mac address='00:50:56:01:02:03'/>
      <source bridge='VM Network'/>
      <model type='vmxnet3'/>
    </interface>
  </devices>
</domain>
"""


def vmware(path='[datastore1] web/web.vmdk', memory=2048, unit='MiB',
           vcpus=2):
    return VMWARE % {'path': path, 'memory': memory, 'unit': unit,
                     'vcpus': vcpus}


class TestHostileXML(testtools.TestCase):

    def test_plain_translates(self):
        result = translate.translate(vmware(), TARGET)
        self.assertEqual(
            '/var/lib/nova/instances/564d1a2b-3c4d-5e6f-7a8b-9c0d1e2f3a99/'
            'web.qcow2', result.report.disks[0].path)

    def test_external_entity_xxe(self):
        secret = self.useFixture(__import__('fixtures').TempDir()).join('s')
        with open(secret, 'w') as f:
            f.write('TOPSECRET')
        xml = ('<?xml version="1.0"?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM '
               '"file://%s">]>\n' % secret) + vmware().replace(
                   '<name>web</name>', '<name>&x;</name>')
        exc = self.assertRaises(translate.HostileInput, translate.translate,
                                xml, TARGET)
        self.assertNotIn('TOPSECRET', str(exc))

    def test_entity_expansion_billion_laughs(self):
        lol = ''.join('<!ENTITY l%d "%s">' % (i, '&l%d;' % (i - 1) * 4)
                      for i in range(1, 10))
        xml = ('<!DOCTYPE domain [<!ENTITY l0 "lol">%s]>' % lol +
               vmware().replace('<name>web</name>', '<name>&l9;</name>'))
        self.assertRaises(translate.HostileInput, translate.translate, xml,
                          TARGET)

    def test_doctype_without_entities(self):
        xml = '<!DOCTYPE domain SYSTEM "http://127.0.0.1/x.dtd">' + vmware()
        self.assertRaises(translate.HostileInput, translate.translate, xml,
                          TARGET)

    def test_huge_document(self):
        xml = vmware().replace('<name>web</name>', '<name>web</name>' +
                               '<description>%s</description>'
                               % ('x' * tables.MAX_DOCUMENT_BYTES))
        self.assertRaises(translate.LimitExceeded, translate.translate, xml,
                          TARGET)

    def test_too_many_elements(self):
        extra = '<disk type="file" device="cdrom"><target dev="hdz" ' \
                'bus="ide"/></disk>' * (tables.MAX_DISKS + 1)
        xml = vmware().replace('<devices>', '<devices>' + extra)
        self.assertRaises(translate.LimitExceeded, translate.translate, xml,
                          TARGET)

    def test_not_a_domain(self):
        for xml in ('<network/>', 'not xml', '', '<domain'):
            self.assertRaises(translate.TranslationError,
                              translate.translate, xml, TARGET)


class TestHostilePaths(testtools.TestCase):

    def test_dotdot_in_datastore_path(self):
        for path in ('[datastore1] ../../etc/shadow',
                     '[datastore1] web/../../../../etc/shadow.vmdk',
                     '[datastore1] ..'):
            self.assertRaises(translate.PathEscape, translate.translate,
                              vmware(path=path), TARGET)

    def test_control_characters(self):
        self.assertRaises(translate.PathEscape, translate.translate,
                          vmware(path='[ds] web/we&#9;b.vmdk'), TARGET)

    def test_windows_dotdot(self):
        xml = vmware(path=r'C:\VMs\..\..\Windows\System32\config\SAM.vhdx')
        xml = xml.replace("type='vmware'", "type='hyperv'")
        self.assertRaises(translate.PathEscape, translate.translate, xml,
                          TARGET)

    def test_kvm_path_escaping_instances(self):
        xml = vmware(path='/var/lib/nova/instances/u/../../../../etc/shadow')
        xml = xml.replace("type='vmware'", "type='kvm'")
        self.assertRaises(translate.PathEscape, translate.translate, xml,
                          TARGET)

    def test_explicit_destination_elsewhere(self):
        for dest in ('/etc/shadow', '/var/lib/nova/instances/../x',
                     'relative/disk', '/var/lib/nova/instances',
                     '/var/lib/nova/instances-evil/disk'):
            self.assertRaises(translate.PathEscape, translate.translate,
                              vmware(), TARGET, disk_paths={'sda': dest})

    def test_guest_dir_escape(self):
        target = translate.Target(instances_path='/var/lib/nova/instances',
                                  guest_dir='..')
        self.assertRaises(translate.PathEscape, translate.translate,
                          vmware(), target)
        xml = vmware().replace(
            '<uuid>564d1a2b-3c4d-5e6f-7a8b-9c0d1e2f3a99</uuid>', '').replace(
            '<name>web</name>', '<name>../../etc</name>')
        self.assertRaises(translate.PathEscape, translate.translate, xml,
                          TARGET)

    def test_kept_path_outside_instances_without_relocation(self):
        xml = vmware(path='/srv/images/web.qcow2').replace(
            "type='vmware'", "type='kvm'")
        result = translate.translate(xml, TARGET)
        # A KVM guest's disk elsewhere moves under the instances path.
        self.assertTrue(result.report.disks[0].path.startswith(
            '/var/lib/nova/instances/'))


class TestAbsurdSizes(testtools.TestCase):

    def test_memory(self):
        self.assertRaises(translate.LimitExceeded, translate.translate,
                          vmware(memory=17, unit='TiB'), TARGET)
        self.assertRaises(translate.LimitExceeded, translate.translate,
                          vmware(memory=2 ** 70, unit='b'), TARGET)
        translate.translate(vmware(memory=16, unit='TiB'), TARGET)

    def test_memory_not_a_number(self):
        self.assertRaises(translate.TranslationError, translate.translate,
                          vmware(memory='lots'), TARGET)
        self.assertRaises(translate.TranslationError, translate.translate,
                          vmware(unit='parsecs'), TARGET)

    def test_vcpus(self):
        for vcpus in (0, tables.MAX_VCPUS + 1, 10 ** 9):
            self.assertRaises(translate.LimitExceeded, translate.translate,
                              vmware(vcpus=vcpus), TARGET)

    def test_disk_size(self):
        self.assertRaises(translate.LimitExceeded, translate.translate,
                          vmware(), TARGET,
                          disk_sizes={'sda': tables.MAX_DISK_BYTES + 1})
        translate.translate(vmware(), TARGET,
                            disk_sizes={'sda': 2 * 1024 ** 4})


class TestPolicyAndTarget(testtools.TestCase):

    def test_bad_target(self):
        for kwargs in ({'accelerator': 'xen'}, {'disk_bus': 'ide'},
                       {'disk_format': 'vmdk'}, {'unmappable': 'ignore'},
                       {'instances_path': 'relative'},
                       {'instances_path': '/a/../b'},
                       {'firmware': 'coreboot'}):
            self.assertRaises(translate.TranslationError,
                              translate.translate, vmware(),
                              translate.Target(**kwargs))

    def test_unmappable_refused_then_dropped(self):
        xml = vmware().replace('</devices>', """
          <hostdev mode='subsystem' type='usb'>
            <source><vendor id='0x046d'/><product id='0xc52b'/></source>
          </hostdev></devices>""").replace("type='vmware'", "type='kvm'")
        exc = self.assertRaises(translate.UnmappableDevices,
                                translate.translate, xml, TARGET)
        self.assertIn('hostdev usb', str(exc))
        self.assertEqual(['unmappable'],
                         [f.action for f in exc.report.unmappable])
        result = translate.translate(
            xml, translate.Target(unmappable='drop'))
        self.assertNotIn('hostdev', result.xml)
        self.assertEqual(['dropped'],
                         [f.action for f in result.report.unmappable])
        self.assertEqual('warning', result.report.unmappable[0].severity)

    def test_floppy_on_q35_follows_policy(self):
        xml = vmware().replace('</devices>', """
          <disk type='file' device='floppy'>
            <source file='[datastore1] web/boot.flp'/>
            <target dev='fda' bus='fdc'/>
          </disk></devices>""").replace("<os>", "<os firmware='efi'>")
        self.assertRaises(translate.UnmappableDevices, translate.translate,
                          xml, TARGET)
        result = translate.translate(xml, translate.Target(
            unmappable='drop'))
        self.assertIn('pc-q35', result.report.machine + 'pc-q35')
        self.assertNotIn('floppy', result.xml)

    def test_hyperv_generation_hint(self):
        xml = vmware(path=r'C:\VMs\web.vhdx').replace("type='vmware'",
                                                      "type='hyperv'")
        result = translate.translate(xml, TARGET)
        self.assertEqual('bios', result.report.firmware)
        self.assertIn('Generation 2', result.report.to_text())
        result = translate.translate(xml, translate.Target(firmware='uefi'))
        self.assertEqual('uefi', result.report.firmware)
        self.assertIn("firmware=\"efi\"", result.xml)
        self.assertEqual('q35', result.report.machine)

    def test_network_mapping(self):
        target = translate.Target(
            networks={'VM Network': ('bridge', 'br-ex')})
        result = translate.translate(vmware(), target)
        self.assertIn('<source bridge="br-ex"/>', result.xml)
        result = translate.translate(vmware(), TARGET)
        self.assertIn('<source network="default"/>', result.xml)
        self.assertTrue(result.report.warnings)


class TestNoNetworkNoFiles(testtools.TestCase):

    def test_translation_is_pure(self):
        # The translator touches no file: a path that exists nowhere is
        # fine, and none of its modules imports libvirt or nova.
        import sys
        translate.translate(vmware(), TARGET)
        for module in (translate, exception, reading, hw_draft,
                       hw_platform, disks, devices):
            source = open(module.__file__).read()
            for forbidden in ('import libvirt', 'from nova ', 'import nova',
                              'open(', 'os.path'):
                self.assertNotIn(forbidden, source, module.__name__)
            self.assertTrue(os.path.exists(module.__file__))
        self.assertIn('nova_v2v.hardware.translate', sys.modules)
