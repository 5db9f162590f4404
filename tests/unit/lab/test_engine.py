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

"""The lab's cutover around the product's: what it hands the product."""

import os
import shutil
import tempfile
import unittest
from unittest import mock

from nova_v2v.planning import planner
from nova_v2v.transfer import cutover
from nova_v2v.transfer import exception
from nova_v2v.transfer import nbd
from nova_v2v_rig.lab import engine
from nova_v2v_rig.lab import qsd

XML = """<domain><devices>
  <disk type='file' device='disk'><driver name='qemu' type='vmdk'/>
    <source file='/inst/u/disk'/><target dev='sda' bus='scsi'/></disk>
  <disk type='file' device='disk'><driver name='qemu' type='raw'/>
    <source file='/inst/u/disk.eph0'/><target dev='sdb' bus='scsi'/></disk>
</devices></domain>"""


def _started(export):
    return export


class RunCutoverTest(unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.dom = mock.Mock()
        self.dom.name.return_value = 'guest'
        self.dom.UUIDString.return_value = '12345678-aaaa'
        self.dom.isPersistent.return_value = True
        self.dom.XMLDesc.return_value = XML
        self.disks = [planner.DiskPlan('/inst/u/disk', 'vmdk', 'qcow2', 10),
                      planner.DiskPlan('/inst/u/disk.eph0', 'raw', 'raw', 5)]
        self.tmp = tempfile.mkdtemp()
        for name, patch in (
                ('translate', mock.patch.object(
                    engine.translate, 'translate_domain_xml',
                    return_value='<domain><name>clone</name></domain>')),
                ('dest', mock.patch.object(engine, 'DestinationDisks')),
                ('start', mock.patch.object(nbd.ClientBoundExport, 'start',
                                            new=_started)),
                ('stop', mock.patch.object(nbd.ClientBoundExport, 'stop')),
                ('run', mock.patch.object(cutover, 'run_source_cutover',
                                          return_value={})),
                ('retrying', mock.patch.object(
                    engine.clone, 'start_clone_retrying',
                    return_value=('clone', 1.0)))):
            setattr(self, name, patch.start())
            self.addCleanup(patch.stop)
        self.dest.return_value.local_path = lambda path: path

    def _run(self, **kwargs):
        return engine.run_cutover(
            self.dom, mock.Mock(), self.disks, [], '192.0.2.2', '/inst',
            port=20000, run_dir=self.tmp,
            source_local_path=lambda p: os.path.join(self.tmp, 'gone'),
            **kwargs)

    def test_the_product_gets_the_exports_hooks_and_options(self):
        hooks = engine.LabHooks()
        verify = mock.Mock()
        stats = self._run(hooks=hooks, verify_clone=verify,
                          options=cutover.CutoverOptions(mode=cutover.ACPI))
        dom, disks, clone_xml, start_clone, got_hooks, options = (
            self.run.call_args[0])
        self.assertIs(self.dom, dom)
        self.assertEqual(
            [nbd.ExportedDisk('/inst/u/disk', 'qcow2', 'v2v-12345678-sda',
                              host='192.0.2.2', port=20000,
                              pid_file=os.path.join(
                                  self.tmp, 'v2v-12345678-nbd-0.pid'),
                              source_path='/inst/u/disk', target='sda'),
             nbd.ExportedDisk('/inst/u/disk.eph0', 'raw',
                              'v2v-12345678-sdb', host='192.0.2.2',
                              port=20001,
                              pid_file=os.path.join(
                                  self.tmp, 'v2v-12345678-nbd-1.pid'),
                              source_path='/inst/u/disk.eph0',
                              target='sdb')],
            disks)
        self.assertIs(hooks, got_hooks)
        self.assertIsInstance(hooks.export, nbd.ClientBoundExport)
        self.assertEqual((cutover.ACPI, engine.POLL,
                          hooks.export.wait_exited),
                         (options.mode, options.poll,
                          options.release_check))
        self.assertEqual(('clone', 1.0), start_clone(clone_xml))
        self.retrying.assert_called_once_with(
            mock.ANY, clone_xml, verify, engine.CLONE_TIMEOUT, mock.ANY)
        _args, kwargs = self.translate.call_args
        self.assertEqual({'/inst/u/disk': 'qcow2', '/inst/u/disk.eph0': 'raw'},
                         kwargs['disk_formats'])
        self.assertEqual({'/inst/u/disk': '/inst/u/disk',
                          '/inst/u/disk.eph0': '/inst/u/disk.eph0'},
                         kwargs['disk_paths'])
        self.assertEqual('client-bound', stats['export'])
        self.stop.assert_called_once_with()
        self.dom.undefine.assert_called_once_with()

    def test_default_hooks_and_wrapped_check(self):
        class Wrapping(engine.LabHooks):
            def wrap_verify(self, verify):
                return 'wrapped %s' % verify

        self._run(verify_clone='check')
        self.assertIsInstance(self.run.call_args[0][4], engine.LabHooks)
        self.run.call_args[0][3]('<domain/>')
        self.assertEqual('check', self.retrying.call_args[0][2])
        self._run(hooks=Wrapping(), verify_clone='check')
        self.run.call_args[0][3]('<domain/>')
        self.assertEqual('wrapped check', self.retrying.call_args[0][2])

    def test_qsd_export_released_over_qmp(self):
        with mock.patch.object(qsd.NBDExport, 'start', new=_started):
            self._run(export_kind=engine.QSD)
        disks = self.run.call_args[0][1]
        self.assertEqual([('sda', 20000), ('sdb', 20000)],
                         [(d.target, d.port) for d in disks])
        options = self.run.call_args[0][5]
        self.assertIsInstance(options.release_check, engine._QMPRelease)

    def test_failure_cleans_the_destination(self):
        self.run.side_effect = exception.SyncFailed('gone')
        self.assertRaises(exception.SyncFailed, self._run)
        self.stop.assert_called_once_with()
        self.dest.return_value.remove.assert_called_once_with()
        self.dom.undefine.assert_not_called()

    def test_disk_missing_from_the_guest(self):
        self.disks.append(planner.DiskPlan('/inst/u/other', 'raw', 'raw', 1))
        self.assertRaises(exception.CutoverFailed, self._run)
        self.run.assert_not_called()
        self.dest.return_value.precreate.assert_not_called()


class LabHooksTest(unittest.TestCase):

    def test_defaults(self):
        hooks = engine.LabHooks()
        self.assertIsNone(hooks.export)
        hooks.exported('export')
        self.assertEqual('export', hooks.export)
        self.assertEqual('check', hooks.wrap_verify('check'))
        self.assertFalse(hooks.should_abort())
        self.assertTrue(hooks.enter_cutover())


class TestOfflineCloneUnknown(unittest.TestCase):
    """An offline move whose clone's state is unknown touches nothing."""

    def test_neither_removed_nor_restarted(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        src = os.path.join(tmp, 'src-disk')
        with open(src, 'w') as f:
            f.write('data')
        dom = mock.Mock()
        dom.name.return_value = 'guest'
        dom.XMLDesc.return_value = '<domain/>'
        dom.isActive.side_effect = [True, False]
        disk = planner.DiskPlan(os.path.join(tmp, 'dest', 'disk'), 'raw',
                                'raw', 4)
        os.makedirs(os.path.join(tmp, 'dest'))

        def copy(source, sfmt, dest, dfmt):
            open(dest, 'w').close()

        unknown = exception.CloneStateUnknown('the clone may run')
        with mock.patch.object(engine.translate, 'translate_domain_xml',
                               return_value='<domain/>'), \
                mock.patch.object(engine, 'shutdown', return_value='acpi'), \
                mock.patch.object(engine.clone, 'start_clone',
                                  side_effect=unknown):
            self.assertRaises(exception.CloneStateUnknown,
                              engine.run_offline, dom, mock.Mock(), [disk],
                              [], tmp, source_local_path=lambda path: src,
                              copy=copy)
        dom.create.assert_not_called()
        self.assertTrue(os.path.exists(disk.path))
