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

"""The control plane as the computes reach it from their lab hosts.

Each nova-compute runs inside its lab host's namespaces, network included
(nova_v2v_rig.aio.computes), as a compute runs on its hypervisor host in
production: the guests' taps, the host's Open vSwitch and libvirtd are in
the namespace of the process that creates, checks and deletes them. The
control plane stays on 127.0.0.1 of the root namespace, which a lab host
cannot reach, and the root namespace never dials a lab address (the lab's
network rule). So every control plane port a compute uses is carried over
a unix socket of the all-in-one's run dir, which both namespaces see:

* in the root namespace, one ``socat`` per service accepts on
  ``run/control-plane/<service>.sock`` and dials the service on 127.0.0.1;
* in each lab host's network namespace, one ``socat`` per service listens
  on that namespace's 127.0.0.1 and the service's port, and connects to the
  socket.

The computes' configuration keeps ``127.0.0.1`` and the services' ports:
inside a lab host that is the relay. These relays dial nothing out of a
lab host but the socket, nothing in the root namespace but 127.0.0.1.
"""

import os

from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.lab import hosts as lab_hosts

NSENTER = '/usr/bin/nsenter'
SOCAT = '/usr/bin/socat'
PREFIX = 'cp-relay-'
READY_TIMEOUT = 10
# The control plane services a compute host talks to: the broker (RPC and
# notifications), Keystone (tokens and the catalog), the endpoints
# nova-compute calls (Placement, Neutron, Glance) and Nova's API, which
# ``nova-v2v check`` on a compute host calls. And MariaDB: the computes
# read the control plane's nova.conf, database connections included, and
# Nova 34's compute asks every cell for the minimum service version at its
# start (``get_minimum_version_all_cells``); without the database it waits
# a minute for the cells to time out. (A production compute has no
# database connection configured; the all-in-one's computes share the
# control plane's file, as they did in the root namespace.)
SERVICES = ('rabbitmq', 'keystone', 'placement', 'nova-api', 'neutron-api',
            'glance-api', 'mariadb')


def socket_path(layout, service):
    """The unix socket that carries ``service`` into the lab hosts."""
    return os.path.join(layout.run_dir, 'control-plane', '%s.sock' % service)


def root_name(service):
    return '%s%s' % (PREFIX, service)


def host_name(host, service):
    return '%s%s-%s' % (PREFIX, host, service)


def root_command(layout, service):
    """The root namespace's end: the socket to the service on 127.0.0.1."""
    return [SOCAT, 'UNIX-LISTEN:%s,fork,unlink-early,mode=600'
            % socket_path(layout, service),
            'TCP:%s:%d' % (paths.HOST, paths.PORTS[service])]


def host_command(layout, lab, host, service):
    """Lab host ``host``'s end: its 127.0.0.1 and the port, to the socket.

    ``nsenter --net`` only: the socket is in the all-in-one's run dir.
    """
    return [NSENTER, '--net=/run/netns/%s' % lab.netns(host), '--', SOCAT,
            'TCP-LISTEN:%d,bind=%s,fork,reuseaddr'
            % (paths.PORTS[service], paths.HOST),
            'UNIX-CONNECT:%s' % socket_path(layout, service)]


# 127.0.0.1 as /proc/net/tcp writes it (the address's bytes, hex).
_LOOPBACK_HEX = '0100007F'


def _listening(lab, host, port):
    """Whether something listens on 127.0.0.1:``port`` in lab host ``host``."""
    path = '/proc/%d/net/tcp' % _netns_pid(lab, host)
    try:
        with open(path) as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return False
    want = '%s:%04X' % (_LOOPBACK_HEX, port)
    # local_address is "0100007F:1388"; state 0A is LISTEN.
    return any(line.split()[1] == want and line.split()[3] == '0A'
               for line in lines if line.strip())


def _wait(name, record, check):
    """Wait until ``check()``; then the relay must still run.

    (Not one that exited on a port or socket another process holds.)
    """
    procs.wait_ready(name, record, check, READY_TIMEOUT, still_running=True)


def _netns_pid(lab, host):
    """A process in lab host ``host``'s network namespace (its libvirtd)."""
    state = lab.load() or {}
    return state.get('hosts', {}).get(host, {}).get('pid') or 0


def names(state):
    """The relays recorded in the all-in-one's ``state``."""
    return sorted(n for n in state.get('services', {}) if is_relay(n))


def is_relay(name):
    return name.startswith(PREFIX)


def start(layout, lab, state):
    """Start the relays that do not run yet (recorded in ``state``).

    :raises nova_v2v_rig.aio.paths.AioError: a relay did not come up
    """
    for service in SERVICES:
        name = root_name(service)
        path = socket_path(layout, service)
        record = state['services'].get(name)
        if record and procs.alive(record):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.unlink(path)
        record = procs.spawn(layout, name, root_command(layout, service),
                             needle=path)
        state['services'][name] = record
        layout.save(state)
        _wait(name, record, lambda p=path: os.path.exists(p))
    for host in sorted(lab_hosts.HOSTS):
        for service in SERVICES:
            name = host_name(host, service)
            record = state['services'].get(name)
            if record and procs.alive(record):
                continue
            port = paths.PORTS[service]
            record = procs.spawn(layout, name,
                                 host_command(layout, lab, host, service),
                                 needle=socket_path(layout, service))
            state['services'][name] = record
            layout.save(state)
            _wait(name, record, lambda h=host, p=port: _listening(lab, h, p))
