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

"""The two nova-compute services of the all-in-one, one per lab host.

Each ``nova-v2v-compute`` runs inside its lab host's mount, UTS and
network namespaces (``nsenter`` into the host's libvirtd), as a compute
runs on its hypervisor in production: there ``qemu:///system`` is that
host's libvirtd (its ``/run/libvirt``), the instance store
``/var/lib/nova/instances`` is that host's, the hostname is ``labhost-X``,
and the guests' taps, which os-vif creates, checks and deletes
(Neutron's ``ovs_create_tap``, Nova 2026.1's tap pre-creation), are in
the host's network namespace with its libvirtd, QEMU and Open vSwitch.
The control plane on the root namespace's 127.0.0.1 reaches it through
relays over unix sockets (nova_v2v_rig.aio.cprelay): the compute's
configuration keeps 127.0.0.1. Live migrations are peer-to-peer, the
source libvirtd dials ``qemu+tcp://labhost-Y/system``; a V2V cutover's
clone is defined and watched through a relay (:func:`relay_command`) that
carries the connection to the destination libvirtd's TCP listener across
the lab's link, as in production, where the source's compute talks to the
destination's libvirtd over TCP or TLS.

Configuration: the control plane's nova.conf, then ``compute-X.conf`` with
the per-host lines below and nova-v2v's compute part written by
:func:`nova_v2v.deploy.novaconf.apply` (role ``compute``).
"""

import concurrent.futures
import os
import time

from oslo_log import log as logging

from nova_v2v.deploy import novaconf
from nova_v2v_rig.aio import config
from nova_v2v_rig.aio import cprelay
from nova_v2v_rig.aio import identity
from nova_v2v_rig.aio import ovn
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.aio import services
from nova_v2v_rig.lab import hosts as lab_hosts

LOG = logging.getLogger(__name__)

NSENTER = '/usr/bin/nsenter'
QEMU_NBD = '/usr/bin/qemu-nbd'
SOCAT = '/usr/bin/socat'
# The lab's libvirtd listens for plain TCP on its lab address
# (nova_v2v_rig.lab.hosts: listen_tcp, auth_tcp "none"), libvirt's port.
LIBVIRTD_TCP_PORT = 16509
RELAY_PREFIX = 'clone-relay-'
RELAY_TIMEOUT = 10
# The product's filtered listener of a cutover's exports.
LISTEN = 'nova-v2v-nbd-listen'
DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
BINARY = 'nova-v2v-compute'
# Stock Nova (the gate's baseline moves): Nova's own nova-compute and
# libvirt driver, no [v2v] options, but for one flag. libvirt 9.0 knows no
# bind-mounted directory as shared storage and refuses a live migration
# without block migration from it ("Migration without shared storage is
# unsafe"), which nova-v2v's driver starts with VIR_MIGRATE_UNSAFE for a
# [v2v] shared_filesystems directory. Stock Nova has no such option: this
# driver is Nova's with VIR_MIGRATE_UNSAFE on its live (not block)
# migrations, as the lab's shared storage needs, and nothing else. It is
# defined in the compute's own process (the computes' virtualenv holds the
# product, not the rig).
STOCK_DRIVER = 'lab_stock.LibvirtDriver'
STOCK_COMPUTE = '''
import sys
import types

from nova.cmd import compute  # first: Nova's monkey patching
import libvirt
from nova.virt.libvirt import driver


class LibvirtDriver(driver.LibvirtDriver):

    def _parse_migration_flags(self):
        super()._parse_migration_flags()
        self._live_migration_flags |= libvirt.VIR_MIGRATE_UNSAFE


module = types.ModuleType('nova.virt.lab_stock')
module.LibvirtDriver = LibvirtDriver
sys.modules['nova.virt.lab_stock'] = module
sys.argv[0] = 'nova-compute'
sys.exit(compute.main())
'''
# oslo.privsep contexts nova-compute (and the libraries it loads) may use;
# there is no sudo: each starts the venv's privsep-helper directly.
PRIVSEP_SECTIONS = ('privsep', 'nova_sys_admin', 'privsep_osbrick',
                    'vif_plug_linux_bridge_privileged',
                    'vif_plug_ovs_privileged')
# The host's Open vSwitch database in its mount namespace (the lab binds
# the host's directory over /run/openvswitch; nova_v2v_rig.aio.ovn).
OVSDB_CONNECTION = 'unix:/run/openvswitch/db.sock'


def service_name(host):
    """The state file's record name of host ``host``'s compute."""
    return 'nova-compute-' + host


def hostname(host):
    return lab_hosts.HOSTS[host]['hostname']


def conf_path(layout, host):
    return layout.etc('nova', 'compute-%s.conf' % host)


def storage_id(host, shared=False):
    return 'aio-lab-shared' if shared else 'aio-lab-%s-local' % host


def instances_path(shared=False):
    """The lab's common directory, or each host's own store."""
    return lab_hosts.SHARED_PATH if shared else lab_hosts.INSTANCES_PATH


def compute_conf(layout, host, shared=False):
    """The per-host lines of ``compute-<host>.conf``.

    They come after nova.conf on the command line, so ``host`` and the
    lock path here win over the control plane's. With ``shared``, both
    computes keep their instances in the directory common to the lab's
    hosts (shared storage).
    """
    info = lab_hosts.HOSTS[host]
    helper = ' '.join([layout.bin('main', 'privsep-helper'),
                       '--config-file', layout.etc('nova', 'nova.conf'),
                       '--config-file', conf_path(layout, host)])
    lines = [
        ('DEFAULT', 'host', info['hostname']),
        ('DEFAULT', 'state_path', layout.data('nova', host)),
        ('DEFAULT', 'instances_path', instances_path(shared)),
        # The host's own address: Nova compares it with the destination's
        # to tell a cold migration's shared instance path (same address)
        # from a copy over ssh; nothing of the compute dials it.
        ('DEFAULT', 'my_ip', info['ip']),
        # A stop (down, or a new configuration) need not wait the default
        # minute for the service's threads.
        ('DEFAULT', 'graceful_shutdown_timeout', '5'),
        ('libvirt', 'virt_type', 'qemu'),
        ('libvirt', 'cpu_mode', 'none'),
        ('libvirt', 'live_migration_scheme', 'tcp'),
        ('libvirt', 'live_migration_inbound_addr', info['ip']),
        ('vnc', 'enabled', 'false'),
        # The lab guest boots its kernel and initramfs from Glance (aki,
        # ari). When a live migration fetches them again on the
        # destination, Nova 34's format inspector takes the bzImage's boot
        # sector for an MBR with an invalid boot flag and refuses it ("Image
        # does not pass safety check"); the images are the lab's own.
        ('workarounds', 'disable_deep_image_inspection', 'true'),
        ('oslo_concurrency', 'lock_path', layout.data('nova', host, 'lock')),
        ('glance', 'api_servers', config.url('glance-api')),
        # Versioned notifications on the broker: nova-v2v's migration
        # events go with them (the gate listens to them).
        ('notifications', 'notification_format', 'versioned'),
        ('oslo_messaging_notifications', 'driver', 'messagingv2'),
    ]
    # The privsep daemons are the compute's children: in its namespaces.
    lines += [(section, 'helper_command', helper)
              for section in PRIVSEP_SECTIONS]
    # os-vif plugs the guests' ports into the host's br-int (ML2/OVN).
    lines.append(('os_vif_ovs', 'ovsdb_connection', OVSDB_CONNECTION))
    return lines


def relay_socket(layout, host, hostname_):
    """The socket where host ``host``'s compute reaches ``hostname_``.

    :param host: the lab host of the compute (``a``, ``b``)
    :param hostname_: the destination's host name (``labhost-b``), or
        ``%s`` for :func:`clone_uri`'s template
    """
    return os.path.join(layout.run_dir, 'libvirt', 'from-%s' % host,
                        '%s-sock' % hostname_)


def clone_uri(layout, host):
    """``[v2v] clone_uri`` of host ``host``'s compute: through its relay.

    At a V2V cutover the compute defines and watches the clone through a
    unix socket of the all-in-one's run dir, where a relay in the compute's
    lab host's network namespace (:func:`relay_command`) carries the
    connection to the destination libvirtd's TCP listener across the lab's
    link: the link down cuts the source's control of the clone, as it
    would in production. (The relay dates from computes in the root
    namespace; it keeps the connection's path one a test can name.)
    """
    return 'qemu:///system?socket=%s' % relay_socket(layout, host, '%s')


def relay_name(host, other):
    """The state file's record name of ``host``'s relay to ``other``."""
    return '%s%s-%s' % (RELAY_PREFIX, host, other)


def relay_command(layout, lab, host, other):
    """The relay from host ``host``'s compute to host ``other``'s libvirtd.

    ``socat`` in lab host ``host``'s network namespace (``nsenter --net``
    only: the socket is in the all-in-one's run dir, which the computes
    see in their lab host's mount namespace): it accepts on a unix socket
    and, for each connection, dials ``other``'s libvirtd on its lab
    address, as ``host``'s own libvirtd dials it for a live migration.
    """
    return [NSENTER, '--net=/run/netns/%s' % lab.netns(host), '--', SOCAT,
            'UNIX-LISTEN:%s,fork,unlink-early,mode=600'
            % relay_socket(layout, host, hostname(other)),
            'TCP:%s:%d' % (lab.ip(other), LIBVIRTD_TCP_PORT)]


def relay_pairs():
    """``(host, other)`` for every ordered pair of lab hosts."""
    return [(host, other) for host in sorted(lab_hosts.HOSTS)
            for other in sorted(lab_hosts.HOSTS) if other != host]


def start_relays(layout, lab, state):
    """Start the relays that do not run yet (recorded in ``state``)."""
    for host, other in relay_pairs():
        name = relay_name(host, other)
        record = state['services'].get(name)
        if record and procs.alive(record):
            continue
        path = relay_socket(layout, host, hostname(other))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.unlink(path)
        record = procs.spawn(layout, name,
                             relay_command(layout, lab, host, other),
                             needle=path)
        state['services'][name] = record
        layout.save(state)
        procs.wait_ready(name, record,
                         lambda p=path: os.path.exists(p), RELAY_TIMEOUT)


def nbd_wrapper(layout, host):
    return layout.data('nova', host, 'bin', 'qemu-nbd')


def write_nbd_wrapper(layout, host):
    """``qemu-nbd`` and its listener first on the compute's PATH.

    The destination of a V2V cutover serves its disks with ``qemu-nbd`` on
    its live migration address, which exists only in the lab host's
    network namespace. The compute runs there itself; the wrappers still
    name the namespace (its bind mount, ``/run/netns``, which outlives a
    restart of the host's libvirtd) so that ``qemu-nbd`` and the product's
    filtered listener (``nova-v2v-nbd-listen``, which opens the export's
    socket and execs qemu-nbd) run in it whoever starts them.
    """
    netns = '/run/netns/%s' % (lab_hosts.NETNS_PREFIX + host)
    path = nbd_wrapper(layout, host)
    _script(path, '#!/bin/sh\n'
            '# nova-v2v-aio: qemu-nbd in lab host %s\'s network namespace.\n'
            'exec %s --net=%s -- %s "$@"\n'
            % (host, NSENTER, netns, QEMU_NBD))
    listen = os.path.join(os.path.dirname(path), LISTEN)
    _script(listen, '#!/bin/sh\n'
            '# nova-v2v-aio: the export\'s listener in lab host %s\'s '
            'network namespace.\n'
            'exec %s --net=%s -- %s "$@"\n'
            % (host, NSENTER, netns, layout.bin('main', LISTEN)))
    return path


_HOST_PID = """host_pid() {
    case "$1" in
%s
        *) return 1 ;;
    esac
}
"""

REMOTE_HEADER = """#!/bin/sh
# nova-v2v-aio: Nova's "%s" to a lab host, for its cold
# migrations and resizes ([libvirt] remote_filesystem_transport = ssh).
# The lab's hosts are namespaces of this machine: the command runs in the
# destination host's mount namespace, no sshd, nothing is dialled.
"""

SSH_BODY = """while [ $# -gt 0 ]; do
    case "$1" in
        -o|-p|-i|-l) shift 2 ;;
        -*) shift ;;
        *) break ;;
    esac
done
host=$1
shift
pid=$(host_pid "$host") || { echo "ssh: $host: not a lab host" >&2; exit 255; }
exec %s --mount=/proc/$pid/ns/mnt --uts=/proc/$pid/ns/uts -- "$@"
"""

SCP_BODY = """while [ $# -gt 0 ]; do
    case "$1" in
        -o|-P|-i|-l) shift 2 ;;
        -*) shift ;;
        *) break ;;
    esac
done
if [ $# -ne 2 ]; then echo "scp: SOURCE HOST:TARGET expected" >&2; exit 1; fi
case "$2" in
    *:*) host=${2%%%%:*}; target=${2#*:} ;;
    *) echo "scp: $2: copies go to a lab host" >&2; exit 1 ;;
esac
pid=$(host_pid "$host") || { echo "scp: $host: not a lab host" >&2; exit 1; }
# The source is opened here, in the caller's (source host's) namespace.
exec 3< "$1" || exit 1
exec %s --mount=/proc/$pid/ns/mnt -- cp --sparse=always /dev/fd/3 "$target"
"""


def _script(path, text):
    """An executable script, written at once."""
    config._write(path, text, mode=0o755)
    return path


def write_remote_wrappers(layout, host, pids):
    """``ssh`` and ``scp`` first on the compute's PATH (see the scripts).

    :param pids: ``{lab host: libvirtd pid}`` of every lab host
    """
    cases = '\n'.join(
        '        %s|%s) echo %d ;;' % (lab_hosts.HOSTS[h]['ip'],
                                       lab_hosts.HOSTS[h]['hostname'],
                                       pid)
        for h, pid in sorted(pids.items()))
    lookup = _HOST_PID % cases
    bindir = os.path.dirname(nbd_wrapper(layout, host))
    return [
        _script(os.path.join(bindir, 'ssh'), REMOTE_HEADER % 'ssh HOST ...' +
                lookup + SSH_BODY % NSENTER),
        _script(os.path.join(bindir, 'scp'), REMOTE_HEADER % 'scp FILE '
                'HOST:PATH' + lookup + SCP_BODY % NSENTER)]


def environment(layout, host):
    """The compute's environment: its ``qemu-nbd`` wrapper first."""
    return {'PATH': os.pathsep.join([os.path.dirname(nbd_wrapper(layout,
                                                                 host)),
                                     os.environ.get('PATH', DEFAULT_PATH)])}


def write_conf(layout, host, v2v_options=None, shared=False, extra=(),
               stock=False):
    """Write ``compute-<host>.conf``; returns its path.

    The transport, database, keystone_authtoken, placement, neutron and
    service_user settings are the control plane's nova.conf (given first).
    ``v2v_options`` are more ``[v2v]`` options for this host (``{key:
    value}``), for example ``disk_formats`` to give it another profile;
    ``extra`` more ``(section, key, value)`` lines (Nova's own options).
    With ``stock``, Nova's own libvirt driver and nothing of nova-v2v.
    """
    path = conf_path(layout, host)
    os.makedirs(layout.data('nova', host, 'lock'), exist_ok=True)
    lines = compute_conf(layout, host, shared) + [tuple(line)
                                                  for line in extra]
    if stock:
        lines.append(('DEFAULT', 'compute_driver', STOCK_DRIVER))
    config._write(path, config.render(lines))
    if stock:
        return path
    # [v2v] cutover_release_probe at its default: the compute, in its
    # host's network namespace, reaches the destination's export ports
    # across the lab's link, as in production.
    options = {'storage_id': storage_id(host, shared),
               'clone_uri': clone_uri(layout, host)}
    if shared:
        # A bind-mounted directory: libvirt 9.0 does not know it is shared.
        options['shared_filesystems'] = lab_hosts.SHARED_PATH
    options.update(v2v_options or {})
    novaconf.apply(path, 'compute', options)
    return path


def command(layout, host, libvirtd_pid, stock=False):
    """nsenter into the host's mount, UTS and network namespaces.

    With ``stock``, stock Nova's compute (see :data:`STOCK_COMPUTE`).
    """
    binary = ([layout.bin('main', 'python'), '-c', STOCK_COMPUTE] if stock
              else [layout.bin('main', BINARY)])
    return ([NSENTER, '--mount=/proc/%d/ns/mnt' % libvirtd_pid,
             '--uts=/proc/%d/ns/uts' % libvirtd_pid,
             '--net=/proc/%d/ns/net' % libvirtd_pid, '--'] + binary +
            ['--config-file', layout.etc('nova', 'nova.conf'),
             '--config-file', conf_path(layout, host)])


def lab_pids(lab):
    """``{host: libvirtd pid}`` of a running lab, or AioError."""
    state = lab.load()
    if not state:
        raise paths.AioError('the lab is not up: run "nova-v2v-lab up" '
                             'first (state dir %s)' % lab.state_dir)
    found = {}
    for host in sorted(lab_hosts.HOSTS):
        pid = state.get('hosts', {}).get(host, {}).get('pid')
        if not pid or not lab_hosts._pid_alive(pid, 'libvirtd'):
            raise paths.AioError('libvirtd of lab host %s is not running; '
                                 'restart the lab' % host)
        found[host] = pid
    return found


def _wait_up(passwords, names, timeout, since):
    return identity.wait_up(
        lambda: identity.compute_hosts(passwords, since), names, timeout,
        2, 'nova-compute')


def discover_command(layout):
    return [layout.bin('main', 'nova-manage'), '--config-file',
            layout.etc('nova', 'nova.conf'), 'cell_v2', 'discover_hosts',
            '--verbose']


def _discover(layout, passwords, names, timeout):
    """Map the new compute nodes to cell1 until both hypervisors show.

    A compute node record exists only after the compute's first resource
    update, shortly after its service is up: repeat until os-hypervisors
    lists every host.
    """
    deadline = time.monotonic() + timeout
    found = {}
    while time.monotonic() < deadline:
        services.run(layout, 'nova', discover_command(layout))
        try:
            found = identity.hypervisors(passwords)
        except paths.AioError as exc:
            LOG.debug('os-hypervisors: %s', exc)
        if all(name in found for name in names):
            return found
        time.sleep(2)
    raise paths.AioError('hypervisors not listed after %d s: %s'
                         % (timeout, found))


def up(layout, lab, timeout=180, v2v_options=None, shared=False,
       extra=(), stock=False, host_extra=None):
    """Start one compute per lab host; the control plane must be up.

    A compute that runs already is left as it is: after a compute died
    (the fault matrix kills them), ``up`` with the same arguments starts
    that one again.

    :param v2v_options: ``{host: {key: value}}``, more ``[v2v]`` options
        for the computes of some lab hosts (see :func:`write_conf`)
    :param shared: both computes on the lab's shared directory
    :param extra: more ``(section, key, value)`` lines for both computes
    :param host_extra: ``{host: lines}``, more lines for the computes of
        some lab hosts (after ``extra``)
    :param stock: stock Nova's ``nova-compute`` and libvirt driver, without
        nova-v2v (``v2v_options`` are ignored)
    """
    v2v_options = v2v_options or {}
    state = layout.load()
    if not state or not procs.alive(state['services'].get(
            'nova-conductor', {})):
        raise paths.AioError('the control plane is not up: run '
                             '"nova-v2v-aio up" first')
    pids = lab_pids(lab)
    start_relays(layout, lab, state)
    cprelay.start(layout, lab, state)
    # Each host's Open vSwitch and ovn-controller (kept across the
    # computes' restarts; nova-v2v-aio down stops them).
    ovn.ensure_hosts(layout, lab, pids)
    state = layout.load()
    passwords = layout.passwords()
    start = time.monotonic()
    # A second of slack: the heartbeat times are whole seconds.
    since = time.time() - 1
    for host, pid in sorted(pids.items()):
        name = service_name(host)
        record = state['services'].get(name)
        if record and procs.alive(record):
            LOG.info('%s is running already', name)
            continue
        lines = tuple(extra) + tuple((host_extra or {}).get(host, ()))
        write_conf(layout, host, v2v_options.get(host), shared, lines,
                   stock)
        write_nbd_wrapper(layout, host)
        write_remote_wrappers(layout, host, pids)
        record = procs.spawn(layout, name, command(layout, host, pid, stock),
                             needle=conf_path(layout, host),
                             env=environment(layout, host))
        record['lab_host'] = host
        record['libvirtd_pid'] = pid
        record['v2v_options'] = dict(v2v_options.get(host) or {})
        record['shared'] = bool(shared)
        record['stock'] = bool(stock)
        record['extra'] = [list(line) for line in lines]
        state['services'][name] = record
        layout.save(state)
    try:
        found = _wait_up(passwords, [hostname(h) for h in pids], timeout,
                         since)
    except paths.AioError:
        for host in pids:
            record = state['services'][service_name(host)]
            if not procs.alive(record):
                LOG.error('%s exited:\n%s', service_name(host),
                          procs.tail(record['log']))
        raise
    hypervisors = _discover(layout, passwords,
                            [hostname(h) for h in pids], timeout)
    state['steps']['computes'] = round(time.monotonic() - start, 1)
    layout.save(state)
    return {'computes': found, 'hypervisors': hypervisors,
            'seconds': state['steps']['computes'],
            'logs': {service_name(h): layout.log(service_name(h))
                     for h in pids}}


def down(layout):
    """Stop the computes and their relays (``nova-v2v-aio down`` too)."""
    state = layout.load()
    stopped = []
    if not state:
        return {'stopped': stopped}
    names = sorted(n for n in state['services'] if is_compute(n))
    relays = sorted(n for n in state['services']
                    if is_relay(n) or cprelay.is_relay(n))
    if not names and not relays:
        return {'stopped': stopped}
    # In parallel: nova-compute 34 may hang in its graceful shutdown
    # (thread pool) until procs.stop's SIGKILL, 30 s later.
    results = {}
    if names:
        with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
            results = dict(zip(names, pool.map(
                lambda n: procs.stop(state['services'][n]), names)))
    # The relays after the computes that used them.
    results.update((n, procs.stop(state['services'][n])) for n in relays)
    names += relays
    for name in names:
        if results[name]:
            del state['services'][name]
            stopped.append(name)
    layout.save(state)
    failed = [n for n in names if not results[n]]
    if failed:
        raise paths.AioError('could not stop %s' % ', '.join(failed))
    return {'stopped': stopped}


def is_compute(name):
    return name.startswith('nova-compute-')


def is_relay(name):
    return name.startswith(RELAY_PREFIX)
