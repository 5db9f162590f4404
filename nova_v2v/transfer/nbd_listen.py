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

"""A listening socket that admits only given peer addresses, for qemu-nbd.

``qemu-nbd`` has no filter on who connects.  This small exec wrapper
creates its listening TCP socket, attaches a classic BPF socket filter
(``SO_ATTACH_FILTER``, locked with ``SO_LOCK_FILTER``) that drops every
packet whose IPv4 or IPv6 source address is not an allowed one, and
hands the socket to ``qemu-nbd`` with systemd socket activation: the
socket on fd 3, ``LISTEN_FDS=1``, ``LISTEN_PID`` its own pid, then
``exec`` (the pid stays the same, as qemu-nbd checks).  qemu-nbd then
takes neither ``--bind`` nor ``--port``.

A dropped SYN is never answered: a client from another address sees its
connection time out, it never reaches qemu-nbd (which therefore cannot
be ended or written by it).  Accepted sockets inherit the filter.

Run as ``python -m nova_v2v.transfer.nbd_listen --address A --port P
--allow X [--allow Y ...] -- qemu-nbd ARGS...`` (through processutils,
with whatever command prefix the caller uses, so that it runs where
qemu-nbd would).  When the port is taken it exits with status 98 and
``Address already in use`` on stderr, as qemu-nbd does.
"""

import argparse
import ctypes
import errno
import ipaddress
import os
import socket
import struct
import sys

# Classic BPF (linux/filter.h, linux/bpf_common.h).
BPF_LD = 0x00
BPF_ALU = 0x04
BPF_JMP = 0x05
BPF_RET = 0x06
BPF_W = 0x00
BPF_B = 0x10
BPF_ABS = 0x20
BPF_RSH = 0x70
BPF_JEQ = 0x10
BPF_K = 0x00
# Loads relative to the network header (the IP header) of the packet.
SKF_NET_OFF = -0x100000
# SOL_SOCKET options (asm-generic/socket.h).
SO_ATTACH_FILTER = 26
SO_LOCK_FILTER = 44
# What a socket filter returns: bytes to keep (all) or 0 (drop).
ACCEPT = 0xffffffff
DROP = 0
# The IP header fields: version nibble, source addresses.
IPV4_SRC = 12
IPV6_SRC = 8
# A jump offset is one byte: keep programs well below that.
MAX_ADDRESSES = 16
# The systemd socket activation protocol.
LISTEN_FD = 3
EXIT_ADDRESS_IN_USE = 98


class FilterError(ValueError):
    """The allowed addresses cannot make a filter."""


def _net(offset):
    return (SKF_NET_OFF + offset) & 0xffffffff


def parse_addresses(addresses):
    """The allowed addresses as ``(IPv4 list, IPv6 list)``, deduplicated.

    An IPv4-mapped IPv6 address counts as its IPv4 address (a dual-stack
    socket sees such a peer's packets as IPv4).

    :raises: FilterError on an empty list, a name or too many addresses
    """
    v4, v6 = [], []
    for text in addresses:
        try:
            addr = ipaddress.ip_address(str(text).strip())
        except ValueError:
            raise FilterError('%r is not an IP address' % (text,))
        if addr.version == 6 and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        target = v4 if addr.version == 4 else v6
        if addr not in target:
            target.append(addr)
    if not v4 and not v6:
        raise FilterError('no allowed address')
    if len(v4) + len(v6) > MAX_ADDRESSES:
        raise FilterError('at most %d allowed addresses' % MAX_ADDRESSES)
    return v4, v6


def filter_program(addresses):
    """The socket filter admitting only ``addresses``, as instructions.

    :param addresses: IPv4/IPv6 address strings
    :returns: list of ``(code, jt, jf, k)``, the ``struct sock_filter``
        fields of each instruction
    :raises: FilterError
    """
    v4, v6 = parse_addresses(addresses)
    # Items are instructions whose jump targets may be labels, or labels.
    items = [
        (BPF_LD | BPF_B | BPF_ABS, 0, 0, _net(0)),
        (BPF_ALU | BPF_RSH | BPF_K, 0, 0, 4),
        (BPF_JMP | BPF_JEQ | BPF_K, 'v4', 0, 4),
        (BPF_JMP | BPF_JEQ | BPF_K, 'v6', 'drop', 6),
        'v4',
        (BPF_LD | BPF_W | BPF_ABS, 0, 0, _net(IPV4_SRC)),
    ]
    for addr in v4:
        items.append((BPF_JMP | BPF_JEQ | BPF_K, 'accept', 0,
                      int.from_bytes(addr.packed, 'big')))
    items += [(BPF_RET | BPF_K, 0, 0, DROP), 'v6']
    for index, addr in enumerate(v6):
        words = struct.unpack('!4I', addr.packed)
        following = 'v6-%d' % (index + 1)
        for word_index, word in enumerate(words):
            items.append((BPF_LD | BPF_W | BPF_ABS, 0, 0,
                          _net(IPV6_SRC + 4 * word_index)))
            last = word_index == len(words) - 1
            items.append((BPF_JMP | BPF_JEQ | BPF_K,
                          'accept' if last else 0, following, word))
        items.append(following)
    items += ['drop', (BPF_RET | BPF_K, 0, 0, DROP),
              'accept', (BPF_RET | BPF_K, 0, 0, ACCEPT)]
    return _assemble(items)


def _assemble(items):
    """Resolve label jump targets into forward offsets."""
    labels = {}
    index = 0
    for item in items:
        if isinstance(item, str):
            labels[item] = index
        else:
            index += 1
    program = []
    for item in items:
        if isinstance(item, str):
            continue
        code, jt, jf, k = item
        here = len(program)
        offsets = []
        for target in (jt, jf):
            if isinstance(target, str):
                target = labels[target] - here - 1
            if not 0 <= target <= 255:
                raise FilterError('jump out of range in the filter')
            offsets.append(target)
        program.append((code, offsets[0], offsets[1], k))
    return program


def program_bytes(program):
    """The ``struct sock_filter`` array of ``program``."""
    return b''.join(struct.pack('=HBBI', *insn) for insn in program)


def attach_filter(sock, program):
    """Attach and lock ``program`` on ``sock`` (before it listens)."""
    raw = program_bytes(program)
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = struct.pack('@HP', len(program), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    sock.setsockopt(socket.SOL_SOCKET, SO_LOCK_FILTER, 1)


def listen(address, port, allowed, backlog=1):
    """A filtered socket listening on ``address``:``port``.

    The filter is attached before the socket listens: no connection from
    another address is ever queued.

    :raises: OSError (EADDRINUSE when the port is taken), FilterError
    """
    program = filter_program(allowed)
    family, kind, proto, _name, sockaddr = socket.getaddrinfo(
        address, int(port), type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        attach_filter(sock, program)
        sock.bind(sockaddr)
        sock.listen(backlog)
    except Exception:
        sock.close()
        raise
    return sock


def activation_env(environ, pid):
    """``environ`` with systemd's socket activation variables for ``pid``."""
    env = dict(environ)
    env.pop('LISTEN_FDNAMES', None)
    env['LISTEN_FDS'] = '1'
    env['LISTEN_PID'] = str(pid)
    return env


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='python -m nova_v2v.transfer.nbd_listen',
        description='Listen on a TCP socket admitting only the given peer '
                    'addresses and exec the command with it (systemd '
                    'socket activation).')
    parser.add_argument('--address', required=True)
    parser.add_argument('--port', required=True, type=int)
    parser.add_argument('--allow', action='append', required=True,
                        help='a peer address to admit (repeatable)')
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command and args.command[0] == '--':
        args.command = args.command[1:]
    if not args.command:
        parser.error('no command to run')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        sock = listen(args.address, args.port, args.allow)
    except OSError as exc:
        # strerror: "Address already in use", as qemu-nbd says it.
        sys.stderr.write('nbd_listen: %s:%d: %s\n'
                         % (args.address, args.port, exc.strerror or exc))
        return (EXIT_ADDRESS_IN_USE if exc.errno == errno.EADDRINUSE
                else 1)
    except FilterError as exc:
        sys.stderr.write('nbd_listen: %s\n' % exc)
        return 2
    if sock.fileno() != LISTEN_FD:
        os.dup2(sock.fileno(), LISTEN_FD)
        sock.close()
    os.set_inheritable(LISTEN_FD, True)
    env = activation_env(os.environ, os.getpid())
    os.execvpe(args.command[0], args.command, env)


if __name__ == '__main__':
    sys.exit(main())
