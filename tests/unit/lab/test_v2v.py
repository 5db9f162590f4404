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

"""The lab's V2V move: its disks, its fault hooks, its release check."""

import unittest
from unittest import mock

from nova_v2v.planning import planner
from nova_v2v.transfer import nbd
from nova_v2v_rig.lab import engine
from nova_v2v_rig.lab import v2v

XML = """<domain><devices>
  <disk type='file' device='disk'><driver name='qemu' type='vmdk'/>
    <source file='/inst/u/disk'/><target dev='sda' bus='scsi'/></disk>
  <disk type='file' device='disk'><driver name='qemu' type='raw'/>
    <source file='/inst/u/swap'/><target dev='sdb' bus='scsi'/></disk>
</devices></domain>"""


class DisksTest(unittest.TestCase):

    def test_the_plans_disks_with_their_sizes(self):
        dom = mock.Mock()
        dom.XMLDesc.return_value = XML
        plan = mock.Mock(disks=(
            planner.DiskPlan('/inst/u/disk', 'vmdk', 'qcow2'),))
        lab = mock.Mock()
        lab.root_path.side_effect = lambda host, path: '/lab/a' + path
        with mock.patch.object(v2v.disks, 'describe',
                               return_value=mock.Mock(virtual_size=1024)):
            got = v2v._disks(dom, plan, lab)
        self.assertEqual(
            [planner.DiskPlan('/inst/u/disk', 'vmdk', 'qcow2', 1024)], got)
        lab.root_path.assert_called_once_with('a', '/inst/u/disk')


class KillExportTest(unittest.TestCase):

    def test_kills_the_export_once_in_sync(self):
        result = {}
        hooks = v2v._KillExport(result)
        self.assertIsInstance(hooks, engine.LabHooks)
        export = mock.Mock(pids=[11, None, 12])
        hooks.exported(export)
        sync = mock.Mock()
        sync.watcher.failures.return_value = [(3, 'block-job', 'sda', 2)]
        hooks.before_cutover(sync)
        export.kill.assert_called_once_with()
        self.assertEqual([11, 12], result['export_pids'])
        self.assertTrue(result['fault_event_seen'])


class ReleaseCheckTest(unittest.TestCase):

    def test_port_check_probes_each_export_from_host_a(self):
        lab = mock.Mock()
        lab.netns.return_value = 'ns-a'
        export = nbd.ClientBoundExport(
            [nbd.ExportedDisk('/d0', 'raw', 'e0'),
             nbd.ExportedDisk('/d1', 'raw', 'e1')], '192.0.2.2',
            ports=[20000, 20001])
        result = {}
        check = v2v._release_check(lab, 'port', result)(export)
        with mock.patch.object(v2v.netns, 'run_in',
                               side_effect=[True, False]) as run_in, \
                mock.patch.object(export, 'wait_exited',
                                  return_value=['e1']):
            self.assertEqual(['e1'], check(5))
        self.assertEqual(
            [('/run/netns/ns-a', nbd.wait_closed, '192.0.2.2', 20000),
             ('/run/netns/ns-a', nbd.wait_closed, '192.0.2.2', 20001)],
            [c[0][:4] for c in run_in.call_args_list])
        self.assertEqual(['e1'], result['release']['held'])


class ExportAccessTest(unittest.TestCase):

    def _lab(self):
        lab = mock.Mock()
        lab.root_path.side_effect = lambda host, path: '/lab/%s%s' % (host,
                                                                      path)
        lab.ip.side_effect = {'a': '10.77.0.1', 'b': '10.77.0.2'}.get
        return lab

    def test_filter_only(self):
        self.assertEqual(nbd.ExportAccess(addresses=('10.77.0.1',)),
                         v2v.export_access(self._lab()))

    @mock.patch.object(v2v.peer, 'certificate_dn',
                       return_value='O=nova-v2v lab,CN=labhost-a')
    def test_tls_reads_a_client_certificate_serves_b_s(self, mock_dn):
        access = v2v.export_access(self._lab(), tls=True,
                                   filter_addresses=False)
        mock_dn.assert_called_once_with(
            '/lab/a/etc/libvirt/pki/qemu/client-cert.pem')
        self.assertEqual(
            nbd.ExportAccess('/lab/b/etc/libvirt/pki/qemu',
                             'O=nova-v2v lab,CN=labhost-a', ()), access)

    def test_evidence_hooks(self):
        result = {}
        dom = mock.Mock()
        probe = mock.Mock(return_value={'p': {'rc': 124}})
        hooks = v2v._AccessEvidence(result, dom, probe)
        export = mock.Mock(pids=[11])
        with mock.patch.object(v2v, '_cmdline', return_value=['qemu-nbd']), \
                mock.patch.object(v2v.nbd, 'cmdline_has', return_value=True):
            hooks.exported(export)
        probe.assert_called_once_with(export)
        with mock.patch.object(v2v, '_mirror_evidence',
                               side_effect=RuntimeError('no monitor')):
            hooks.before_cutover(mock.Mock())
        self.assertEqual({'qemu_nbd_cmdlines': [['qemu-nbd']],
                          'probes': {'p': {'rc': 124}},
                          'exports_alive_after_probes': True,
                          'mirror_error': 'no monitor'},
                         result['nbd_access'])
