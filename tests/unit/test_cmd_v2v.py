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

"""``nova-v2v translate``: XML on stdout, report on stderr, exit codes."""

import io
import json
import os
import sys
from unittest import mock

import fixtures
from lxml import etree
import testtools

from nova_v2v.cmd import v2v
from nova_v2v.exports import base as export_base
from tests.unit.hardware import schema

SOURCES = schema.FIXTURES


def _fixture(prefix):
    for name in sorted(os.listdir(SOURCES)):
        if name.startswith(prefix):
            return os.path.join(SOURCES, name)
    raise AssertionError('no fixture %s' % prefix)


class _CommandTest(testtools.TestCase):
    """stdout and stderr captured, a temporary directory."""

    def setUp(self):
        super().setUp()
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.err))
        self.tmp = self.useFixture(fixtures.TempDir()).path


class TestTranslateCommand(_CommandTest):

    def run_cmd(self, *argv):
        return v2v.main(['translate'] + list(argv))

    def test_vmware_to_kvm(self):
        rc = self.run_cmd(_fixture('12'))
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())
        root = etree.fromstring(self.out.getvalue().encode())
        self.assertEqual('kvm', root.get('type'))
        self.assertIsNone(schema.schema_errors(self.out.getvalue()))
        report = self.err.getvalue()
        self.assertIn('source: vmware', report)
        self.assertIn('vmxnet3 -> virtio', report)
        self.assertIn(', convert', report)

    def test_json_report_and_target_qemu(self):
        rc = self.run_cmd(_fixture('11'), '--target', 'qemu', '--json',
                          '--instances-path', self.tmp, '--guest-dir', 'g1',
                          '--cpu-model', 'qemu64')
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())
        report = json.loads(self.err.getvalue())
        self.assertEqual('qemu', report['target_type'])
        self.assertEqual(os.path.join(self.tmp, 'g1', 'web01.qcow2'),
                         report['disks'][0]['path'])
        self.assertTrue(report['disks'][0]['needs_conversion'])
        self.assertIn('qemu64', self.out.getvalue())

    def test_refusal_exit_code_and_reason(self):
        rc = self.run_cmd(_fixture('09'))
        self.assertEqual(v2v.EXIT_REFUSED, rc)
        self.assertEqual('', self.out.getvalue())
        self.assertIn('refused', self.err.getvalue())
        self.assertIn('hostdev', self.err.getvalue())
        rc = self.run_cmd(_fixture('09'), '--unmappable', 'drop')
        self.assertEqual(v2v.EXIT_OK, rc)
        self.assertNotIn('<hostdev', self.out.getvalue())
        self.assertIn('dropped', self.err.getvalue())

    def test_unsupported_guest(self):
        rc = self.run_cmd(_fixture('23'))
        self.assertEqual(v2v.EXIT_REFUSED, rc)
        self.assertIn('UnsupportedGuest', self.err.getvalue())

    def test_unreadable_source(self):
        rc = self.run_cmd(os.path.join(self.tmp, 'missing.xml'))
        self.assertEqual(v2v.EXIT_UNREADABLE, rc)

    def test_stdin(self):
        with open(_fixture('18'), 'rb') as f:
            data = f.read()
        stdin = mock.Mock(buffer=io.BytesIO(data))
        self.useFixture(fixtures.MonkeyPatch('sys.stdin', stdin))
        rc = self.run_cmd('-', '--firmware', 'bios')
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())

    def test_symlink_in_instances_path_refused(self):
        # The guest's directory is a symlink out of the instances path.
        elsewhere = self.useFixture(fixtures.TempDir()).path
        os.symlink(elsewhere, os.path.join(self.tmp, 'g1'))
        rc = self.run_cmd(_fixture('11'), '--instances-path', self.tmp,
                          '--guest-dir', 'g1')
        self.assertEqual(v2v.EXIT_REFUSED, rc)
        self.assertIn('PathEscape', self.err.getvalue())
        self.assertEqual('', self.out.getvalue())

    def _vmware(self, source):
        path = os.path.join(self.tmp, 'guest.xml')
        with open(_fixture('12')) as f:
            xml = f.read()
        with open(path, 'w') as f:
            f.write(xml.replace('[datastore1] app02/app02.vmdk', source))
        return path

    def test_import_dir_confines_foreign_disks(self):
        imports = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(imports, 'datastore1', 'app02'))
        rc = self.run_cmd(self._vmware('[datastore1] app02/app02.vmdk'),
                          '--import-dir', imports, '--json')
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())
        report = json.loads(self.err.getvalue())
        self.assertEqual(
            os.path.join(imports, 'datastore1', 'app02', 'app02.vmdk'),
            report['disks'][0]['source_path'])
        # A disk anywhere else on the host is refused, and so is one at a
        # host path without an import directory.
        for source, args in (('/etc/shadow', ('--import-dir', imports)),
                             (imports + '-other/disk.vmdk',
                              ('--import-dir', imports)),
                             ('/etc/shadow', ())):
            self.err.seek(0)
            self.err.truncate(0)
            rc = self.run_cmd(self._vmware(source), *args)
            self.assertEqual(v2v.EXIT_REFUSED, rc, source)
            self.assertIn('PathEscape', self.err.getvalue())
        # And so is one through a symlink out of it.
        os.symlink('/etc', os.path.join(imports, 'datastore1', 'etc'))
        rc = self.run_cmd(self._vmware('[datastore1] etc/shadow'),
                          '--import-dir', imports)
        self.assertEqual(v2v.EXIT_REFUSED, rc)
        self.assertIn('PathEscape', self.err.getvalue())

    def test_import_dir_must_exist(self):
        # A missing one would skip the check for symlinks out of it.
        missing = os.path.join(self.tmp, 'missing')
        rc = self.run_cmd(self._vmware('[datastore1] app02/app02.vmdk'),
                          '--import-dir', missing)
        self.assertEqual(v2v.EXIT_USAGE, rc)
        self.assertIn('import directory %s is not a directory' % missing,
                      self.err.getvalue())
        self.assertEqual('', self.out.getvalue())
        # And a path that is not normal is refused, not normalised.
        os.mkdir(os.path.join(self.tmp, 'imports'))
        os.mkdir(os.path.join(self.tmp, 'x'))
        rc = self.run_cmd(self._vmware('[datastore1] app02/app02.vmdk'),
                          '--import-dir', os.path.join(self.tmp, 'x', '..',
                                                       'imports'))
        self.assertEqual(v2v.EXIT_REFUSED, rc)
        self.assertIn('import directory must be absolute and normal',
                      self.err.getvalue())

    def test_import_dir_leaves_kvm_guests_alone(self):
        imports = self.useFixture(fixtures.TempDir()).path
        rc = self.run_cmd(_fixture('01'), '--import-dir', imports)
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())

    def test_network_mapping_option(self):
        rc = self.run_cmd(_fixture('11'), '--network',
                          'VM Network=bridge:br-int')
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())
        self.assertIn('bridge="br-int"', self.out.getvalue())
        self.assertRaises(SystemExit, self.run_cmd, _fixture('11'),
                          '--network', 'nonsense')

    def test_config_file_policy(self):
        conf = os.path.join(self.tmp, 'nova.conf')
        with open(conf, 'w') as f:
            f.write('[v2v]\nunmappable_devices = drop\n'
                    'translate_disk_format = raw\n')
        rc = v2v.main(['--config-file', conf, 'translate', _fixture('09')])
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())
        rc = v2v.main(['--config-file', conf, 'translate', _fixture('11')])
        self.assertIn('type="raw"', self.out.getvalue())

    def test_validate_option_uses_virt_xml_validate(self):
        with mock.patch.object(v2v.processutils, 'execute') as execute:
            rc = self.run_cmd(_fixture('12'), '--validate')
        self.assertEqual(v2v.EXIT_OK, rc)
        args = execute.call_args[0]
        self.assertEqual(('virt-xml-validate',), args[:1])
        self.assertEqual('domain', args[-1])
        with mock.patch.object(
                v2v.processutils, 'execute',
                side_effect=v2v.processutils.ProcessExecutionError(
                    stderr='fails to validate')):
            rc = self.run_cmd(_fixture('12'), '--validate')
        self.assertEqual(v2v.EXIT_INVALID, rc)
        self.assertIn('fails to validate', self.err.getvalue())

    def test_tables(self):
        self.assertEqual(v2v.EXIT_OK, v2v.main(['tables']))
        text = self.out.getvalue()
        self.assertIn('vmware   nic_model    vmxnet3      virtio', text)
        self.assertIn('(target disk bus)', text)
        self.assertIn('hostdev', text)
        self.out.truncate(0)
        self.out.seek(0)
        self.assertEqual(v2v.EXIT_OK, v2v.main(['tables', '--json']))
        data = json.loads(self.out.getvalue())
        self.assertIn(['hyperv', 'nic_model', '(none)', 'virtio'],
                      data['mappings'])

    def test_console_script_declared(self):
        setup_cfg = os.path.join(os.path.dirname(SOURCES), '..', '..', '..',
                                 '..', 'setup.cfg')
        with open(setup_cfg) as f:
            self.assertIn('nova-v2v = nova_v2v.cmd.v2v:main', f.read())
        self.assertTrue(callable(v2v.main))
        self.assertIs(sys.modules['nova_v2v.cmd.v2v'], v2v)


class TestTranslateExports(_CommandTest):
    """``nova-v2v translate`` of a VMware export (the readers patched)."""

    def setUp(self):
        super().setUp()
        self.read = self.useFixture(fixtures.MockPatch(
            'nova_v2v.exports.reader.read')).mock

    def _export(self, kind, root, source):
        with open(_fixture('12')) as f:
            xml = f.read().replace('[datastore1] app02/app02.vmdk', source)
        return export_base.Export(
            kind=kind, source=os.path.join(self.tmp, 'guest.' + kind),
            root_dir=root, domain_xml=xml,
            disks=(export_base.ExportDisk('sda', source),),
            notes=('annotation kept as the description',))

    def test_a_vmx_is_read_and_its_disks_below_its_directory(self):
        disk = os.path.join(self.tmp, 'app02.vmdk')
        self.read.return_value = self._export('vmx', self.tmp, disk)
        path = os.path.join(self.tmp, 'guest.vmx')
        rc = v2v.main(['translate', path, '--json'])
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())
        self.read.assert_called_once_with(path)
        report = json.loads(self.err.getvalue())
        self.assertEqual(disk, report['disks'][0]['source_path'])
        self.assertEqual({'kind': 'vmx', 'source': path,
                          'root_dir': self.tmp,
                          'notes': ['annotation kept as the description']},
                         report['export'])
        self.assertIsNone(schema.schema_errors(self.out.getvalue()))

    def test_a_disk_out_of_the_export_is_refused(self):
        self.read.return_value = self._export('vmx', self.tmp,
                                              '/etc/shadow')
        rc = v2v.main(['translate', os.path.join(self.tmp, 'g.vmx')])
        self.assertEqual(v2v.EXIT_REFUSED, rc)
        self.assertIn('PathEscape', self.err.getvalue())
        self.assertEqual('', self.out.getvalue())

    def test_an_ova_is_translated_before_it_is_extracted(self):
        work = os.path.join(self.tmp, 'guest.ova.d')
        self.read.return_value = self._export(
            'ova', work, os.path.join(work, 'disk1.vmdk'))
        rc = v2v.main(['translate', os.path.join(self.tmp, 'guest.ova')])
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())
        self.assertIn('export (ova): annotation kept as the description',
                      self.err.getvalue())
        self.assertFalse(os.path.exists(work))

    def test_a_bad_export_is_refused_with_its_reason(self):
        self.read.side_effect = export_base.ChecksumMismatch(
            'guest.ovf: SHA256 does not match the manifest')
        rc = v2v.main(['translate', os.path.join(self.tmp, 'guest.ova')])
        self.assertEqual(v2v.EXIT_REFUSED, rc)
        self.assertIn('refused (ChecksumMismatch): guest.ovf: SHA256',
                      self.err.getvalue())

    def test_an_xml_file_is_no_export(self):
        rc = v2v.main(['translate', _fixture('12')])
        self.assertEqual(v2v.EXIT_OK, rc, self.err.getvalue())
        self.read.assert_not_called()
