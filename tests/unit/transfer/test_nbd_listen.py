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

"""The address filter of the exports: its BPF program and the wrapper."""

import errno
import ipaddress
import os
import socket
import struct
import subprocess
import sys
import unittest
from unittest import mock

import testtools

from nova_v2v.transfer import nbd_listen


def run_filter(program, packet):
    """A classic BPF interpreter for the instructions the filter uses.

    ``packet`` is the network header onwards (SKF_NET_OFF loads).
    """
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        if code & 0x07 in (nbd_listen.BPF_LD,):
            offset = (k - (nbd_listen.SKF_NET_OFF & 0xffffffff))
            size = 1 if code & 0x18 == nbd_listen.BPF_B else 4
            if offset + size > len(packet):
                return 0
            acc = int.from_bytes(packet[offset:offset + size], 'big')
        elif code == nbd_listen.BPF_ALU | nbd_listen.BPF_RSH:
            acc >>= k
        elif code == nbd_listen.BPF_JMP | nbd_listen.BPF_JEQ:
            pc += jt if acc == k else jf
        elif code == nbd_listen.BPF_RET:
            return k
        else:
            raise AssertionError('unexpected instruction %#x' % code)


def ipv4_packet(source, dest='192.0.2.2'):
    return (bytes([0x45, 0, 0, 40]) + bytes(8) +
            ipaddress.ip_address(source).packed +
            ipaddress.ip_address(dest).packed + bytes(20))


def ipv6_packet(source, dest='2001:db8::2'):
    return (bytes([0x60, 0, 0, 0, 0, 20, 6, 64]) +
            ipaddress.ip_address(source).packed +
            ipaddress.ip_address(dest).packed + bytes(20))


class FilterProgramTest(unittest.TestCase):
    maxDiff = None

    def test_one_ipv4_address(self):
        # The program, instruction by instruction (struct sock_filter).
        self.assertEqual([
            (0x30, 0, 0, 0xfff00000),       # ldb [net+0]
            (0x74, 0, 0, 4),                # rsh #4
            (0x15, 1, 0, 4),                # jeq #4 -> v4
            (0x15, 3, 3, 6),                # jeq #6 -> v6, else drop
            (0x20, 0, 0, 0xfff0000c),       # v4: ld [net+12]
            (0x15, 2, 0, 0xc0000201),       # jeq 192.0.2.1 -> accept
            (0x06, 0, 0, 0),                # ret #0
            (0x06, 0, 0, 0),                # v6 (none), drop: ret #0
            (0x06, 0, 0, 0xffffffff),       # accept: ret all
        ], nbd_listen.filter_program(['192.0.2.1']))

    def test_bytes_are_struct_sock_filter(self):
        program = nbd_listen.filter_program(['192.0.2.1'])
        raw = nbd_listen.program_bytes(program)
        self.assertEqual(8 * len(program), len(raw))
        self.assertEqual(struct.pack('=HBBI', 0x30, 0, 0, 0xfff00000),
                         raw[:8])

    def test_admits_only_the_listed_sources(self):
        allowed = ['192.0.2.1', '198.51.100.7', '2001:db8::1',
                   '2001:db8::abcd:1']
        program = nbd_listen.filter_program(allowed)
        for source in ('192.0.2.1', '198.51.100.7'):
            self.assertEqual(nbd_listen.ACCEPT,
                             run_filter(program, ipv4_packet(source)))
        for source in ('2001:db8::1', '2001:db8::abcd:1'):
            self.assertEqual(nbd_listen.ACCEPT,
                             run_filter(program, ipv6_packet(source)))
        for source in ('192.0.2.2', '192.0.2.0', '10.0.0.1'):
            self.assertEqual(0, run_filter(program, ipv4_packet(source)))
        # Each 32-bit word of an IPv6 address counts.
        for source in ('2001:db8::2', '2001:db9::1', '2001:db8:0:1::1',
                       '::ffff:192.0.2.1', '2001:db8::abcd:2'):
            self.assertEqual(0, run_filter(program, ipv6_packet(source)))
        # Neither IPv4 nor IPv6.
        self.assertEqual(0, run_filter(program, bytes([0x50]) + bytes(40)))

    def test_ipv4_only_list_drops_ipv6(self):
        program = nbd_listen.filter_program(['192.0.2.1'])
        self.assertEqual(0, run_filter(program, ipv6_packet('2001:db8::1')))

    def test_mapped_and_duplicate_addresses(self):
        self.assertEqual(
            ([ipaddress.ip_address('192.0.2.1')], []),
            nbd_listen.parse_addresses(['192.0.2.1', '::ffff:192.0.2.1',
                                        ' 192.0.2.1 ']))

    def test_bad_lists_are_refused(self):
        for addresses in ([], ['compute-1'], ['192.0.2.%d' % i
                                              for i in range(17)]):
            self.assertRaises(nbd_listen.FilterError,
                              nbd_listen.filter_program, addresses)


class ListenTest(testtools.TestCase):

    def test_filtered_socket_on_loopback(self):
        # 127.0.0.2 is not admitted: its SYN is dropped, no answer.
        sock = nbd_listen.listen('127.0.0.1', 0, ['127.0.0.3'])
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        client = socket.socket()
        self.addCleanup(client.close)
        client.bind(('127.0.0.2', 0))
        client.settimeout(0.5)
        self.assertRaises(socket.timeout, client.connect,
                          ('127.0.0.1', port))

    def test_admitted_source_connects(self):
        sock = nbd_listen.listen('127.0.0.1', 0, ['127.0.0.3'])
        self.addCleanup(sock.close)
        client = socket.socket()
        self.addCleanup(client.close)
        client.bind(('127.0.0.3', 0))
        client.settimeout(5)
        client.connect(('127.0.0.1', sock.getsockname()[1]))

    def test_filter_is_locked(self):
        sock = nbd_listen.listen('127.0.0.1', 0, ['127.0.0.3'])
        self.addCleanup(sock.close)
        so_detach_filter = 27
        exc = self.assertRaises(OSError, sock.setsockopt,
                                socket.SOL_SOCKET, so_detach_filter, 0)
        self.assertEqual(errno.EPERM, exc.errno)

    def test_activation_env(self):
        env = nbd_listen.activation_env(
            {'PATH': '/bin', 'LISTEN_FDNAMES': 'x', 'LISTEN_FDS': '4'}, 42)
        self.assertEqual({'PATH': '/bin', 'LISTEN_FDS': '1',
                          'LISTEN_PID': '42'}, env)

    def test_args(self):
        args = nbd_listen.parse_args(
            ['--address', '192.0.2.2', '--port', '10810', '--allow',
             '192.0.2.1', '--allow', '2001:db8::1', '--', 'qemu-nbd',
             '--fork', 'disk'])
        self.assertEqual(('192.0.2.2', 10810), (args.address, args.port))
        self.assertEqual(['192.0.2.1', '2001:db8::1'], args.allow)
        self.assertEqual(['qemu-nbd', '--fork', 'disk'], args.command)

    @mock.patch.object(os, 'execvpe')
    @mock.patch.object(os, 'dup2')
    @mock.patch.object(nbd_listen, 'listen')
    def test_main_execs_with_the_socket_on_fd_3(self, mock_listen,
                                                mock_dup2, mock_exec):
        mock_listen.return_value.fileno.return_value = 7
        with mock.patch.object(os, 'set_inheritable') as inheritable:
            nbd_listen.main(['--address', 'a', '--port', '1', '--allow',
                             '192.0.2.1', '--', 'qemu-nbd', 'x'])
        mock_listen.assert_called_once_with('a', 1, ['192.0.2.1'])
        mock_dup2.assert_called_once_with(7, 3)
        inheritable.assert_called_once_with(3, True)
        name, argv, env = mock_exec.call_args[0]
        self.assertEqual(('qemu-nbd', ['qemu-nbd', 'x']), (name, argv))
        self.assertEqual(('1', str(os.getpid())),
                         (env['LISTEN_FDS'], env['LISTEN_PID']))

    def test_port_in_use_is_said_as_qemu_nbd_says_it(self):
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(('127.0.0.1', 0))
        taken.listen(1)
        proc = subprocess.run(
            [sys.executable, '-m', 'nova_v2v.transfer.nbd_listen',
             '--address', '127.0.0.1', '--port',
             str(taken.getsockname()[1]), '--allow', '127.0.0.1', '--',
             'true'], capture_output=True, text=True, timeout=60)
        self.assertEqual(nbd_listen.EXIT_ADDRESS_IN_USE, proc.returncode)
        self.assertIn('Address already in use', proc.stderr)
