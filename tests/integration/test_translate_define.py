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

"""Every translated source shape, checked by libvirt itself.

For each source fixture (tests/unit/hardware/fixtures/sources) and each
destination kind (kvm, qemu): ``virt-xml-validate`` accepts the
translation, and a real libvirt daemon (lab host b, reached over its unix
socket) accepts it with ``defineXML``; what libvirt then holds keeps the
MACs, the disks and the domain type.  The definitions are undefined again.
"""

from lxml import etree
from oslo_concurrency import processutils
from testtools import content

from nova_v2v.cmd import v2v as v2v_cmd
from nova_v2v.hardware import tables
from nova_v2v.hardware import translate
from tests.integration import base
from tests.unit.hardware import schema
from tests.unit.hardware import test_sources

INSTANCES = '/var/lib/nova/instances'


class TestTranslatedDefinitions(base.LabTestCase):

    def test_virt_xml_validate_binary(self):
        # The binary, not only the schema through lxml (unit tests).
        processutils.execute('virt-xml-validate', '--help',
                             check_exit_code=[0, 1])
        bad = v2v_cmd.validate('<domain type="nosuchhypervisor">'
                               '<name>x</name></domain>')
        self.assertIsNotNone(bad, 'virt-xml-validate accepted a domain '
                                  'of an unknown type')

    def test_every_shape_defines_on_real_libvirt(self):
        import libvirt
        conn = libvirt.open(self.lab.local_uri('b'))
        self.addCleanup(conn.close)
        defined = 0
        refused = []
        for name, xml in sorted(schema.source_fixtures().items()):
            for accel in ('kvm', 'qemu'):
                try:
                    # A foreign guest's disks at host paths are read from
                    # an import directory: their folder (as the unit
                    # tests name it).
                    src = test_sources._root(xml)
                    profile = tables.profile_for(src.get('type'))
                    import_dir = (test_sources._import_dir(src, profile)
                                  if profile is not None else None)
                    result = translate.translate(
                        xml, test_sources._target(accel, 'drop', import_dir),
                        name='v2v-define-%s-%s' % (name[:2], accel))
                except translate.UnsupportedGuest as exc:
                    refused.append('%s: %s' % (name, exc))
                    continue
                problem = v2v_cmd.validate(result.xml)
                self.assertIsNone(problem, '%s %s: %s' % (name, accel,
                                                          problem))
                try:
                    dom = conn.defineXML(result.xml)
                except libvirt.libvirtError as exc:
                    self.fail('%s for %s: libvirt refused the definition: '
                              '%s\n%s' % (name, accel, exc, result.xml))
                try:
                    held = etree.fromstring(dom.XMLDesc(
                        libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
                    self.assertEqual(accel, held.get('type'))
                    self.assertEqual(
                        result.report.macs,
                        [m.get('address') for m in
                         held.findall('./devices/interface/mac')])
                    self.assertEqual(
                        [d.path for d in result.report.disks
                         if d.device == 'disk'],
                        [d.find('./source').get('file') for d in
                         held.findall("./devices/disk[@device='disk']")])
                    defined += 1
                finally:
                    dom.undefineFlags(
                        libvirt.VIR_DOMAIN_UNDEFINE_NVRAM |
                        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
        # 29 shapes less the three no table takes (Xen PV, VirtualBox,
        # aarch64), for two kinds of destination.
        self.assertEqual(3, len(refused) // 2, refused)
        self.assertGreaterEqual(defined, 2 * 20)
        self.addDetail('defined', content.text_content(
            '%d definitions accepted by libvirt; refused: %s'
            % (defined, '; '.join(refused))))
