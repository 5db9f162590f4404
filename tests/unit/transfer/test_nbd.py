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

"""The NBD exports: QMP client on a fake server, qemu-nbd exports."""

import os
import socket
import tempfile
import unittest
from unittest import mock

from oslo_concurrency import processutils

from nova_v2v.transfer import exception
from nova_v2v.transfer import nbd


class ExportedDiskTest(unittest.TestCase):

    # A record as the driver has stored it in the system metadata.
    STORED = {'path': '/inst/u/disk', 'format': 'qcow2',
              'name': 'v2v-u-disk', 'host': '192.0.2.2', 'port': 10810,
              'pid_file': '/inst/u/v2v-nbd-0.pid',
              'source_path': '/inst/u/disk'}

    def test_stored_record_is_readable(self):
        disk = nbd.ExportedDisk.from_dict(self.STORED)
        self.assertEqual(('/inst/u/disk', 'qcow2', 'v2v-u-disk',
                          '192.0.2.2', 10810, '/inst/u/v2v-nbd-0.pid',
                          '/inst/u/disk', None),
                         (disk.path, disk.format, disk.name, disk.host,
                          disk.port, disk.pid_file, disk.source_path,
                          disk.target))

    def test_round_trip_keeps_the_stored_keys(self):
        disk = nbd.ExportedDisk.from_dict(self.STORED)
        self.assertEqual(self.STORED, disk.to_dict())
        self.assertEqual(disk, nbd.ExportedDisk.from_dict(disk.to_dict()))
        with_target = nbd.ExportedDisk.from_dict(
            dict(self.STORED, target='vda'))
        self.assertEqual('vda', with_target.to_dict()['target'])

    def test_unknown_fields_are_left_out(self):
        self.assertEqual({'path': '/d', 'format': 'raw', 'name': 'n'},
                         nbd.ExportedDisk('/d', 'raw', 'n').to_dict())

    def test_newer_keys_ignored_port_as_int(self):
        disk = nbd.ExportedDisk.from_dict(
            {'path': '/d', 'name': 'n', 'port': '10810', 'tls': True,
             'compression': 'zstd'})
        self.assertEqual(10810, disk.port)
        self.assertIsNone(disk.format)
        self.assertTrue(disk.tls)

    def test_record_without_name_is_refused(self):
        self.assertRaises(TypeError, nbd.ExportedDisk.from_dict,
                          {'path': '/d'})


class ClientBoundExportTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.disks = [nbd.ExportedDisk('/inst/u/disk', 'qcow2', 'v2v-disk'),
                      nbd.ExportedDisk('/inst/u/disk.eph0', 'raw',
                                       'v2v-eph')]

    def _export(self, **kw):
        return nbd.ClientBoundExport(self.disks, '192.0.2.2',
                                     run_dir=self.dir, **kw)

    def test_command_is_one_client_non_persistent(self):
        cmd = self._export(ports=[10810, 10811]).command(1)
        self.assertEqual('qemu-nbd', cmd[0])
        self.assertNotIn('--persistent', cmd)
        self.assertNotIn('-t', cmd)
        for opt, value in (('--shared', '1'), ('--format', 'raw'),
                           ('--export-name', 'v2v-eph'),
                           ('--bind', '192.0.2.2'), ('--port', '10811'),
                           ('--cache', 'none')):
            self.assertEqual(value, cmd[cmd.index(opt) + 1])
        self.assertEqual('/inst/u/disk.eph0', cmd[-1])
        self.assertIn('--fork', cmd)

    @mock.patch.object(processutils, 'execute')
    def test_start_takes_the_first_ports_qemu_nbd_binds(self, mock_exec):
        tried = []

        def fork(*cmd):
            port = int(cmd[cmd.index('--port') + 1])
            tried.append(port)
            if port in (20000, 20002):
                raise processutils.ProcessExecutionError(
                    stderr='qemu-nbd: Failed to find an available port: '
                           'Address already in use\n')
            with open(cmd[cmd.index('--pid-file') + 1], 'w') as f:
                f.write('4242\n')
            return '', ''
        mock_exec.side_effect = fork
        export = self._export(port_range=(20000, 20009)).start()
        # 20000 is taken, 20001 for the first disk, 20002 taken, 20003.
        self.assertEqual([20000, 20001, 20002, 20003], tried)
        self.assertEqual([20001, 20003], export.ports)
        self.assertEqual([4242, 4242], export.pids)
        exports = export.exports()
        self.assertEqual(('v2v-disk', '192.0.2.2', 20001),
                         (exports[0].name, exports[0].host,
                          exports[0].port))
        self.assertEqual(
            nbd.ExportedDisk('/inst/u/disk.eph0', 'raw', 'v2v-eph',
                             host='192.0.2.2', port=20003,
                             pid_file=os.path.join(self.dir,
                                                   'v2v-nbd-1.pid')),
            exports[1])
        # What the destination was given stays as it was.
        self.assertIsNone(self.disks[1].port)

    def test_exports_keep_the_source_path(self):
        disk = nbd.ExportedDisk('/inst/u/disk', 'qcow2', 'v2v-disk',
                                source_path='/src/u/disk')
        export = nbd.ClientBoundExport([disk], '192.0.2.2', ports=[7])
        self.assertEqual('/src/u/disk', export.exports()[0].source_path)

    @mock.patch.object(nbd, 'stop_pid_file')
    @mock.patch.object(processutils, 'execute')
    def test_other_failure_is_not_retried_on_another_port(self, mock_exec,
                                                          mock_stop):
        mock_exec.side_effect = processutils.ProcessExecutionError(
            stderr='qemu-nbd: Failed to get "write" lock')
        export = self._export(port_range=(20000, 20009))
        e = self.assertRaises(exception.ExportError, export.start)
        self.assertNotIsInstance(e, exception.PortInUse)
        self.assertIn('write', str(e))
        self.assertEqual(1, mock_exec.call_count)

    @mock.patch.object(nbd, 'stop_pid_file')
    @mock.patch.object(processutils, 'execute')
    def test_failed_start_stops_the_others(self, mock_exec, mock_stop):
        mock_exec.side_effect = [('', ''), processutils.ProcessExecutionError(
            stderr='Failed to get "write" lock')]
        export = self._export(ports=[1, 2])
        e = self.assertRaises(exception.ExportError, export.start)
        self.assertIn('write', str(e))
        self.assertEqual(sorted(export.pid_files),
                         sorted(c[0][0] for c in mock_stop.call_args_list))

    @mock.patch.object(nbd, 'stop_pid_file')
    @mock.patch.object(processutils, 'execute')
    def test_no_free_port(self, mock_exec, mock_stop):
        mock_exec.side_effect = processutils.ProcessExecutionError(
            stderr='Failed to find an available port: Address already in '
                   'use')
        e = self.assertRaises(exception.ExportError,
                              self._export(port_range=(1, 2)).start)
        self.assertIn('no free port in 1-2 on 192.0.2.2', str(e))
        self.assertEqual(2, mock_exec.call_count)

    def assertRaises(self, exc, fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
        except exc as e:
            return e
        self.fail('%s not raised' % exc.__name__)


class PidFileTest(unittest.TestCase):

    def test_stop_pid_file_of_a_dead_process_removes_it(self):
        fd, path = tempfile.mkstemp()
        os.write(fd, b'999999999\n')
        os.close(fd)
        self.assertFalse(nbd.stop_pid_file(path))
        self.assertFalse(os.path.exists(path))

    def test_missing_pid_file(self):
        self.assertFalse(nbd.stop_pid_file('/nonexistent/v2v.pid'))

    @mock.patch.object(nbd, 'cmdline_has', side_effect=[True, False, False])
    @mock.patch('os.kill')
    def test_stop_sends_sigterm(self, mock_kill, mock_has):
        fd, path = tempfile.mkstemp()
        os.write(fd, b'4242\n')
        os.close(fd)
        self.assertTrue(nbd.stop_pid_file(path, timeout=1))
        mock_kill.assert_called_once_with(4242, nbd.signal.SIGTERM)

    def test_port_helpers_on_loopback(self):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        self.assertTrue(nbd.port_open('127.0.0.1', port))
        sock.close()
        self.assertTrue(nbd.wait_closed('127.0.0.1', port, timeout=2))

    @mock.patch.object(nbd, 'port_state', return_value=nbd.UNKNOWN)
    def test_wait_closed_needs_a_refusal(self, mock_state):
        self.assertFalse(nbd.wait_closed('192.0.2.2', 1, timeout=0.05,
                                         poll=0.01))
        self.assertGreater(mock_state.call_count, 1)

    @mock.patch.object(nbd, 'port_state',
                       side_effect=[nbd.OPEN, nbd.UNKNOWN, nbd.REFUSED])
    def test_wait_closed_after_dropped_syn(self, mock_state):
        self.assertTrue(nbd.wait_closed('192.0.2.2', 1, timeout=5,
                                        poll=0))
        self.assertEqual(3, mock_state.call_count)

    def test_wait_exited_names_what_still_runs(self):
        export = nbd.ClientBoundExport(
            [nbd.ExportedDisk('/a', 'qcow2', 'a'),
             nbd.ExportedDisk('/b', 'qcow2', 'b')], '192.0.2.2',
            ports=[1, 2])
        export.pids = [11, 12]
        with mock.patch.object(nbd, 'cmdline_has',
                               side_effect=lambda pid, prog: pid == 12):
            self.assertEqual(['b'], export.wait_exited(timeout=0))
        with mock.patch.object(nbd, 'cmdline_has', return_value=False):
            self.assertEqual([], export.wait_exited(timeout=0))


class ExportAccessTest(unittest.TestCase):

    DN = 'O=nova-v2v lab,CN=labhost-a'

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.disks = [nbd.ExportedDisk('/inst/u/disk', 'qcow2', 'v2v-disk')]

    def _export(self, access):
        return nbd.ClientBoundExport(self.disks, '192.0.2.2', ports=[10810],
                                     run_dir=self.dir, access=access)

    def test_tls_and_filter_command(self):
        access = nbd.ExportAccess(tls_dir='/etc/pki/qemu',
                                  tls_identity=self.DN,
                                  addresses=('192.0.2.1', '2001:db8::1'))
        cmd = self._export(access).command(0)
        wrapper = ['nova-v2v-nbd-listen', '--address', '192.0.2.2',
                   '--port', '10810',
                   '--allow', '192.0.2.1', '--allow', '2001:db8::1', '--']
        self.assertEqual(wrapper, cmd[:len(wrapper)])
        qemu_nbd = cmd[len(wrapper):]
        self.assertEqual([
            'qemu-nbd',
            '--object', 'tls-creds-x509,id=v2v-tls,endpoint=server,'
                        'dir=/etc/pki/qemu,verify-peer=on',
            # QEMU's option syntax: a comma in a value is doubled.
            '--object', 'authz-simple,id=v2v-authz,'
                        'identity=O=nova-v2v lab,,CN=labhost-a',
            '--tls-creds', 'v2v-tls', '--tls-authz', 'v2v-authz'],
            qemu_nbd[:9])
        # Socket activation: no address or port of its own.
        self.assertNotIn('--bind', qemu_nbd)
        self.assertNotIn('--port', qemu_nbd)
        self.assertEqual('/inst/u/disk', qemu_nbd[-1])
        self.assertTrue(self._export(access).exports()[0].tls)

    def test_run_prefix_comes_first(self):
        access = nbd.ExportAccess(addresses=('192.0.2.1',))
        export = nbd.ClientBoundExport(
            self.disks, '192.0.2.2', ports=[10810], run_dir=self.dir,
            run_prefix=['nsenter', '--net=/run/netns/b'], access=access)
        self.assertEqual(['nsenter', '--net=/run/netns/b',
                          'nova-v2v-nbd-listen'], export.command(0)[:3])

    def test_filter_without_tls(self):
        cmd = self._export(
            nbd.ExportAccess(addresses=('192.0.2.1',))).command(0)
        self.assertNotIn('--tls-creds', cmd)
        self.assertIn('nova-v2v-nbd-listen', cmd)
        self.assertIsNone(self._export(
            nbd.ExportAccess(addresses=('192.0.2.1',))).exports()[0].tls)

    def test_open_access_is_the_old_command(self):
        cmd = self._export(None).command(0)
        self.assertEqual('qemu-nbd', cmd[0])
        self.assertEqual(['--bind', '192.0.2.2', '--port', '10810'],
                         cmd[cmd.index('--bind'):cmd.index('--bind') + 4])

    def test_tls_needs_an_identity(self):
        self.assertRaises(ValueError, nbd.ExportAccess, tls_dir='/pki')

    def test_for_source(self):
        from nova_v2v.transfer import peer
        source = peer.SourcePeer(('192.0.2.1',), self.DN)
        self.assertEqual(
            nbd.ExportAccess('/pki', self.DN, ('192.0.2.1',)),
            nbd.ExportAccess.for_source(source, tls_dir='/pki'))
        self.assertEqual(
            nbd.ExportAccess(None, None, ('192.0.2.1',)),
            nbd.ExportAccess.for_source(source))
        self.assertEqual(
            nbd.ExportAccess('/pki', self.DN, ()),
            nbd.ExportAccess.for_source(source, tls_dir='/pki',
                                        filter_addresses=False))
        for bad, tls_dir in ((None, None),
                             (peer.SourcePeer(('192.0.2.1',)), '/pki'),
                             (peer.SourcePeer((), self.DN), None)):
            self.assertRaises(exception.ExportError,
                              nbd.ExportAccess.for_source, bad, tls_dir)

    @mock.patch.object(processutils, 'execute')
    def test_wrapper_port_in_use_tries_the_next(self, mock_exec):
        def fork(*cmd):
            port = int(cmd[cmd.index('--port') + 1])
            if port == 20000:
                raise processutils.ProcessExecutionError(
                    exit_code=98, stderr='nbd_listen: 192.0.2.2:20000: '
                                         'Address already in use\n')
            with open(cmd[cmd.index('--pid-file') + 1], 'w') as f:
                f.write('4242\n')
            return '', ''
        mock_exec.side_effect = fork
        export = nbd.ClientBoundExport(
            self.disks, '192.0.2.2', run_dir=self.dir,
            port_range=(20000, 20009),
            access=nbd.ExportAccess(addresses=('192.0.2.1',))).start()
        self.assertEqual([20001], export.ports)
