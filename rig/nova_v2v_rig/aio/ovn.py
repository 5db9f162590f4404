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

"""ML2/OVN's data plane in the all-in-one, from Debian's OVS and OVN.

Central, in the root namespace (started by ``nova-v2v-aio up`` before
neutron's API): the northbound and southbound ovsdb-servers, each on a
unix socket of the all-in-one's run dir and on 127.0.0.1 (6641, 6642:
neutron's ``[ovn]`` connections), and ``ovn-northd`` on the unix sockets.

Per lab host, inside that host's network and mount namespaces (those of
its libvirtd, as nova_v2v_rig.aio.computes enters them): an ovsdb-server,
``ovs-vswitchd`` on the userspace datapath (``datapath_type=netdev``: this
kernel has no ``openvswitch`` module) and ``ovn-controller``, the chassis
``labhost-X`` (= nova-compute's host = the ports' ``binding:host_id``).
Their files are in the host's ``openvswitch`` directory of the lab, which
the host's mount namespace has over ``/run/openvswitch``
(nova_v2v_rig.lab.hosts.PRIVATE_DIRS): libvirt's ``ovs-vsctl`` and the
compute's os-vif (``unix:/run/openvswitch/db.sock``) find that host's
database there; the distribution's default database is never used.
``ovn-controller`` reaches the southbound database over its unix socket (a
host's 127.0.0.1 is its own namespace's). ``br-prov`` holds the host's end
of its provider link to the lab's switch namespace (physnet1).

Nothing here dials a lab address: the root namespace's clients use unix
sockets (:func:`host_ovsdb`, :func:`sb_db`, :func:`nb_db`) or 127.0.0.1.
"""

import os
import socket
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.lab import hosts as lab_hosts

LOG = logging.getLogger(__name__)

NSENTER = '/usr/bin/nsenter'
OVSDB_SERVER = '/usr/sbin/ovsdb-server'
OVS_VSWITCHD = '/usr/sbin/ovs-vswitchd'
OVN_NORTHD = '/usr/bin/ovn-northd'
OVN_CONTROLLER = '/usr/bin/ovn-controller'
OVSDB_TOOL = '/usr/bin/ovsdb-tool'
VSCTL = '/usr/bin/ovs-vsctl'
NBCTL = '/usr/bin/ovn-nbctl'
SBCTL = '/usr/bin/ovn-sbctl'
SCHEMAS = {'nb': '/usr/share/ovn/ovn-nb.ovsschema',
           'sb': '/usr/share/ovn/ovn-sb.ovsschema',
           'vswitch': '/usr/share/openvswitch/vswitch.ovsschema'}
# The central services: state file record name -> database ('nb', 'sb').
CENTRAL = (('ovn-nb', 'nb'), ('ovn-sb', 'sb'))
NORTHD = 'ovn-northd'
PHYSNET = 'physnet1'
INT_BRIDGE = 'br-int'
PROVIDER_BRIDGE = 'br-prov'
# The per-host daemons, in start order (down stops them in reverse).
HOST_DAEMONS = ('ovsdb-server', 'ovs-vswitchd', 'ovn-controller')
HOST_PREFIX = 'ovs-host-'
TIMEOUT = 60


# -- where things are ---------------------------------------------------------

def central_dir(layout):
    """The central databases' sockets, PID and control files."""
    return os.path.join(layout.run_dir, 'ovn')


def db_file(layout, db):
    return layout.data('ovn', '%s.db' % db)


def db_socket(layout, db):
    return os.path.join(central_dir(layout), '%s.sock' % db)


def nb_db(layout):
    """The northbound database for root-namespace clients (``unix:...``)."""
    return 'unix:' + db_socket(layout, 'nb')


def sb_db(layout):
    """The southbound database (``unix:...``).

    For root-namespace clients and the hosts' ovn-controllers: a socket's
    path crosses network namespaces.
    """
    return 'unix:' + db_socket(layout, 'sb')


def tcp_db(db):
    """Neutron's connection to a central database, on 127.0.0.1."""
    return 'tcp:%s:%d' % (paths.HOST, paths.PORTS['ovn-' + db])


def host_dir(lab, host):
    """Host ``host``'s OVS directory on the root filesystem.

    The host's mount namespace has it over ``/run/openvswitch``.
    """
    return os.path.join(lab.host_dir(host), 'openvswitch')


def host_ovsdb(lab, host):
    """Host ``host``'s Open vSwitch database, from the root namespace.

    ``unix:<lab state dir>/host-X/openvswitch/db.sock``, valid in any mount
    namespace; inside the host's it is also ``unix:/run/openvswitch/db.sock``.
    """
    return 'unix:' + os.path.join(host_dir(lab, host), 'db.sock')


def chassis(host):
    """Host ``host``'s OVN chassis name: its nova-compute host name."""
    return lab_hosts.HOSTS[host]['hostname']


def record_name(host, daemon):
    """The state file's record name of a per-host daemon."""
    return '%s%s-%s' % (HOST_PREFIX, host, daemon)


def is_host_record(name):
    return name.startswith(HOST_PREFIX)


# -- command lines ------------------------------------------------------------

def central_command(layout, name, db):
    """An ovsdb-server of a central database (root namespace)."""
    run = central_dir(layout)
    return [OVSDB_SERVER, db_file(layout, db),
            '--remote=punix:%s' % db_socket(layout, db),
            '--remote=ptcp:%d:%s' % (paths.PORTS[name], paths.HOST),
            '--pidfile=%s' % os.path.join(run, '%s.pid' % db),
            '--unixctl=%s' % os.path.join(run, '%s.ctl' % db),
            '--no-chdir']


def northd_command(layout):
    run = central_dir(layout)
    return [OVN_NORTHD, '--ovnnb-db=%s' % nb_db(layout),
            '--ovnsb-db=%s' % sb_db(layout),
            '--pidfile=%s' % os.path.join(run, 'northd.pid'),
            '--unixctl=%s' % os.path.join(run, 'northd.ctl'),
            '--no-chdir']


def enter(libvirtd_pid):
    """nsenter into a lab host's network and mount namespaces."""
    return [NSENTER, '--net=/proc/%d/ns/net' % libvirtd_pid,
            '--mount=/proc/%d/ns/mnt' % libvirtd_pid, '--']


def host_command(lab, host, daemon, libvirtd_pid):
    """One of host ``host``'s daemons (:data:`HOST_DAEMONS`).

    In the host's namespaces, in the foreground (the all-in-one keeps its
    process group).
    """
    hdir = host_dir(lab, host)
    sock = host_ovsdb(lab, host)
    pidfile = '--pidfile=%s' % os.path.join(hdir, daemon + '.pid')
    if daemon == 'ovsdb-server':
        argv = [OVSDB_SERVER, os.path.join(hdir, 'conf.db'),
                '--remote=p' + sock,
                '--remote=db:Open_vSwitch,Open_vSwitch,manager_options',
                pidfile, '--unixctl=%s' % os.path.join(hdir, 'db.ctl')]
    elif daemon == 'ovs-vswitchd':
        argv = [OVS_VSWITCHD, sock, pidfile,
                '--unixctl=%s' % os.path.join(hdir, 'ovs-vswitchd.ctl')]
    elif daemon == 'ovn-controller':
        # No --unixctl: ovn-controller's control socket is
        # $OVN_RUNDIR/ovn-controller.<pid>.ctl.
        argv = [OVN_CONTROLLER, sock, pidfile]
    else:
        raise ValueError('unknown OVS daemon %r' % daemon)
    return enter(libvirtd_pid) + argv + ['--no-chdir']


def host_environment(lab, host):
    """Run directories of a host's daemons (br-int.mgmt, control files)."""
    hdir = host_dir(lab, host)
    return {'OVS_RUNDIR': hdir, 'OVN_RUNDIR': hdir, 'OVS_DBDIR': hdir,
            'OVS_LOGDIR': hdir}


def open_vswitch_settings(layout, lab, host):
    """``key=value`` of host ``host``'s ``Open_vSwitch`` record.

    ``ovn-encap-ip`` (needed for the chassis to register) is the host's lab
    address: the gate's network is flat (localnet on physnet1), nothing
    goes through a Geneve tunnel.
    """
    name = chassis(host)
    return [
        'other_config:userspace-tso-enable=true',
        'external_ids:system-id=%s' % name,
        'external_ids:hostname=%s' % name,
        'external_ids:ovn-remote=%s' % sb_db(layout),
        'external_ids:ovn-encap-type=geneve',
        'external_ids:ovn-encap-ip=%s' % lab.ip(host),
        'external_ids:ovn-bridge=%s' % INT_BRIDGE,
        'external_ids:ovn-bridge-datapath-type=netdev',
        'external_ids:ovn-bridge-mappings=%s:%s' % (PHYSNET,
                                                    PROVIDER_BRIDGE),
        'external_ids:ovn-cms-options=enable-chassis-as-gw',
    ]


def bridge_args(lab, host):
    """ovs-vsctl arguments that create the host's bridges."""
    return ['--', '--may-exist', 'add-br', INT_BRIDGE,
            '--', 'set', 'Bridge', INT_BRIDGE, 'datapath_type=netdev',
            'fail-mode=secure', 'other-config:disable-in-band=true',
            '--', '--may-exist', 'add-br', PROVIDER_BRIDGE,
            '--', 'set', 'Bridge', PROVIDER_BRIDGE, 'datapath_type=netdev',
            '--', '--may-exist', 'add-port', PROVIDER_BRIDGE,
            lab.provider_port(host)]


# -- clients (root namespace, unix sockets) -----------------------------------

def vsctl(lab, host, *args, **kwargs):
    """``ovs-vsctl`` on host ``host``'s database; its output."""
    timeout = kwargs.pop('timeout', 30)
    out, _err = processutils.execute(
        VSCTL, '--db=%s' % host_ovsdb(lab, host), '--timeout=%d' % timeout,
        *args, **kwargs)
    return out


def nbctl(layout, *args):
    out, _err = processutils.execute(NBCTL, '--db=%s' % nb_db(layout),
                                     '--timeout=30', *args)
    return out


def sbctl(layout, *args):
    out, _err = processutils.execute(SBCTL, '--db=%s' % sb_db(layout),
                                     '--timeout=30', *args)
    return out


def _socket_answers(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _create_db(path, schema):
    """A fresh database (and no lock file of an earlier one)."""
    lock = os.path.join(os.path.dirname(path),
                        '.%s.~lock~' % os.path.basename(path))
    for old in (path, lock):
        if os.path.lexists(old):
            os.unlink(old)
    processutils.execute(OVSDB_TOOL, 'create', path, schema)


# -- central ------------------------------------------------------------------

def start_central(layout, add):
    """Start the NB/SB ovsdb-servers and ovn-northd.

    The northbound database is kept across ``down`` and ``up``, as
    neutron's MariaDB database is (what ML2/OVN wrote there must match
    neutron's networks and ports); the southbound one starts empty
    (ovn-northd fills it, the chassis register again).

    :param add: ``add(name, record)`` records each one as it starts (in the
        state file, so that ``down`` stops it if a later step fails)
    """
    os.makedirs(central_dir(layout), exist_ok=True)
    os.makedirs(layout.data('ovn'), exist_ok=True)
    env = {'OVS_RUNDIR': central_dir(layout),
           'OVN_RUNDIR': central_dir(layout)}
    for name, db in CENTRAL:
        if db != 'nb' or not os.path.exists(db_file(layout, db)):
            _create_db(db_file(layout, db), SCHEMAS[db])
        sock = db_socket(layout, db)
        if os.path.lexists(sock):
            os.unlink(sock)
        record = procs.spawn(layout, name, central_command(layout, name, db),
                             needle=db_file(layout, db), env=env)
        add(name, record)
        procs.wait_ready(name, record,
                         lambda s=sock: _socket_answers(s), TIMEOUT)
    record = procs.spawn(layout, NORTHD, northd_command(layout),
                         needle=nb_db(layout), env=env)
    add(NORTHD, record)
    procs.wait_ready(NORTHD, record,
                     lambda: _northd_status(layout) is not None, TIMEOUT)


def _northd_status(layout):
    try:
        out, _err = processutils.execute(
            '/usr/bin/ovs-appctl', '-t',
            os.path.join(central_dir(layout), 'northd.ctl'), 'status')
    except (OSError, processutils.ProcessExecutionError):
        return None
    return out.strip() or None


# -- lab hosts ----------------------------------------------------------------

def _wait_chassis(layout, host, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = sbctl(layout, '--bare', '--columns=name', 'find', 'Chassis',
                    'name=%s' % chassis(host))
        if out.strip() == chassis(host):
            return
        time.sleep(0.5)
    raise paths.AioError('chassis %s did not register in the southbound '
                         'database within %d s; see %s'
                         % (chassis(host), timeout, layout.log(
                             record_name(host, 'ovn-controller'))))


def start_host(layout, lab, host, libvirtd_pid):
    """Start host ``host``'s ovsdb-server, ovs-vswitchd, ovn-controller.

    A fresh database each time; the chassis is registered on return.

    :returns: ``[(name, record)]`` in start order
    """
    hdir = host_dir(lab, host)
    if not os.path.isdir(hdir):
        raise paths.AioError('%s is missing: the lab predates its Open '
                             'vSwitch directory; restart the lab' % hdir)
    for name in os.listdir(hdir):
        path = os.path.join(hdir, name)
        if not os.path.isdir(path):
            os.unlink(path)
    _create_db(os.path.join(hdir, 'conf.db'), SCHEMAS['vswitch'])
    env = host_environment(lab, host)
    started = []

    def spawn(daemon):
        name = record_name(host, daemon)
        record = procs.spawn(layout, name, host_command(
            lab, host, daemon, libvirtd_pid), needle=hdir, env=env)
        record['lab_host'] = host
        record['libvirtd_pid'] = libvirtd_pid
        started.append((name, record))
        return name, record

    try:
        name, record = spawn('ovsdb-server')
        sock = host_ovsdb(lab, host)[len('unix:'):]
        procs.wait_ready(name, record, lambda: _socket_answers(sock),
                         TIMEOUT)
        vsctl(lab, host, '--no-wait', 'init', '--', 'set', 'Open_vSwitch',
              '.', *open_vswitch_settings(layout, lab, host))
        spawn('ovs-vswitchd')
        vsctl(lab, host, *bridge_args(lab, host), timeout=TIMEOUT)
        spawn('ovn-controller')
        _wait_chassis(layout, host)
    except Exception:
        for _name, record in reversed(started):
            procs.stop(record, timeout=10)
        raise
    return started


def ensure_hosts(layout, lab, pids):
    """Start the hosts' daemons that do not run (for this libvirtd).

    :param pids: ``{lab host: libvirtd pid}``
    :returns: the names started
    """
    state = layout.load()
    started = []
    for host, pid in sorted(pids.items()):
        records = [state['services'].get(record_name(host, d))
                   for d in HOST_DAEMONS]
        if all(r and procs.alive(r) and r.get('libvirtd_pid') == pid
               for r in records):
            continue
        stop_host(layout, host)
        state = layout.load()
        start = time.monotonic()
        for name, record in start_host(layout, lab, host, pid):
            state['services'][name] = record
            started.append(name)
        layout.save(state)
        LOG.info('Open vSwitch and ovn-controller of lab host %(host)s up '
                 'in %(s).1f s', {'host': host,
                                  's': time.monotonic() - start})
    return started


def stop_host(layout, host):
    """Stop host ``host``'s daemons (reverse order); forget them."""
    state = layout.load()
    if not state:
        return []
    stopped = []
    for daemon in reversed(HOST_DAEMONS):
        name = record_name(host, daemon)
        record = state['services'].get(name)
        if record is None:
            continue
        if not procs.stop(record, timeout=10):
            raise paths.AioError('could not stop %s' % name)
        del state['services'][name]
        stopped.append(name)
    layout.save(state)
    return stopped


def stop_hosts(layout):
    """Stop every lab host's daemons (``nova-v2v-aio down``)."""
    stopped = []
    for host in sorted(lab_hosts.HOSTS):
        stopped += stop_host(layout, host)
    return stopped
