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

"""Two libvirt "hosts" on one machine, each in its own network namespace.

Host ``a`` and host ``b`` each run one ``libvirtd`` inside a network
namespace (joined by a veth pair on the lab subnet), with its own UTS
hostname, ``host_uuid`` and private mount namespace in which per-host
directories under the state dir are bind-mounted over the libvirt paths.
``/var/lib/nova/instances`` is per host (or common with ``shared=True``)
and ``/var/lib/nova/shared`` is always the same directory on both hosts.

The provider network's "switch" is one more namespace (``nv2v-lab-net``):
a kernel bridge that carries the provider network's router/probe address
(10.77.1.254/24) and one veth pair to each host, whose host end (no
address) the all-in-one puts into that host's Open vSwitch bridge
``br-prov`` (nova_v2v_rig.aio.ovn). The libvirt/NBD link (10.77.0.0/24)
stays a plain veth pair, out of Open vSwitch.

Network safety: ``unreachable`` routes for the lab subnet and the guests'
subnet are added in the root namespace before any daemon starts, and
root-namespace clients only talk to the daemons over their unix sockets.
"""

import errno
import json
import os
import shutil
import signal
import socket
import sys
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.lab import rootfs
from nova_v2v_rig.lab import tls as lab_tls

LOG = logging.getLogger(__name__)

DEFAULT_STATE_DIR = '/var/lib/nova-v2v-lab'
SUBNET = '10.77.0.0/24'
PREFIX_LEN = 24
NETNS_PREFIX = 'nv2v-lab-'
VETH_PREFIX = 'nv2v-v'
# The guests' (Neutron provider network's) subnet, its switch namespace and
# the switch's own address there (the network's gateway and probe address).
GUEST_SUBNET = '10.77.1.0/24'
NET_NETNS = NETNS_PREFIX + 'net'
NET_BRIDGE = 'br-lab'
NET_ADDRESS = '10.77.1.254'
# The provider link of each host: its end in the switch namespace, and its
# end in the host's namespace (an Open vSwitch port of br-prov).
NET_SWITCH_PREFIX = 'nv2v-s'
NET_HOST_PREFIX = 'nv2v-p'
HOSTS = {
    'a': {'ip': '10.77.0.1', 'hostname': 'labhost-a',
          'uuid': '0a0a0a0a-0000-4000-8000-00000000000a'},
    'b': {'ip': '10.77.0.2', 'hostname': 'labhost-b',
          'uuid': '0b0b0b0b-0000-4000-8000-00000000000b'},
}
INSTANCES_PATH = '/var/lib/nova/instances'
SHARED_PATH = '/var/lib/nova/shared'
LIBVIRTD = '/usr/sbin/libvirtd'
DAEMON_START_TIMEOUT = 60
# The host programs the lab and its tested guest shapes need, with the
# Debian package (bindep.txt, profile "test") that brings each: a missing
# one is named by "up", not met later as a libvirt error deep in a test
# (swtpm: libvirt refuses a vTPM guest with "TPM version '2.0' is not
# supported" when it cannot find it).
HOST_PROGRAMS = (
    (LIBVIRTD, 'libvirt-daemon'),
    ('qemu-system-x86_64', 'qemu-system-x86'),
    ('qemu-img', 'qemu-utils'),
    ('qemu-nbd', 'qemu-utils'),
    ('qemu-storage-daemon', 'qemu-system-common'),
    ('swtpm', 'swtpm'),
    ('swtpm_setup', 'swtpm-tools'),
    ('virt-xml-validate', 'libvirt-clients'),
    ('busybox', 'busybox-static'),
    ('cpio', 'cpio'),
    ('nsenter', 'util-linux'),
    ('ip', 'iproute2'),
    ('mkfs.ext4', 'e2fsprogs'),
)
TLS_PROGRAMS = (('openssl', 'openssl'),)
# Per-host subdirectory -> path it is mounted at inside the host's view.
PRIVATE_DIRS = (
    ('etc', '/etc/libvirt'),
    ('run', '/run/libvirt'),
    ('lib', '/var/lib/libvirt'),
    ('log', '/var/log/libvirt'),
    ('cache', '/var/cache/libvirt'),
    # The host's Open vSwitch run directory (nova_v2v_rig.aio.ovn): its
    # database socket, where libvirt's ovs-vsctl and os-vif look for it.
    ('openvswitch', '/run/openvswitch'),
)
PRIVATE_FILES = (('passwd', '/etc/passwd'), ('group', '/etc/group'),
                 ('hosts', '/etc/hosts'))
# Wiped by up(); "cache" keeps libvirt's QEMU capabilities between runs.
RUNTIME_DIRS = ('etc', 'run', 'lib', 'log', 'instances', 'openvswitch')


def missing_programs(tls=False, which=shutil.which):
    """The host programs the lab needs that are not installed.

    :returns: ``[(program, Debian package)]``, empty when all are there
    """
    wanted = HOST_PROGRAMS + (TLS_PROGRAMS if tls else ())
    return [(prog, pkg) for prog, pkg in wanted
            if not (os.access(prog, os.X_OK) if os.path.isabs(prog)
                    else which(prog))]


class LabError(Exception):
    pass


def _pid_alive(pid, needle):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            cmdline = f.read()
    except (OSError, IOError):
        return False
    return needle.encode() in cmdline


def save_json(path, data):
    """Write ``data`` as JSON to ``path`` at once (a renamed file)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.rename(tmp, path)


def kill_pid(pid, needle, timeout=10):
    """Stop one process we started; needle guards against PID reuse."""
    if not pid or not _pid_alive(pid, needle):
        return False
    LOG.debug('Stopping %(needle)s pid %(pid)d', {'needle': needle,
                                                  'pid': pid})
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        try:
            os.kill(pid, sig)
        except OSError as exc:
            if exc.errno == errno.ESRCH:
                return True
            raise
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _pid_alive(pid, needle):
                return True
            time.sleep(0.05)
    return not _pid_alive(pid, needle)


class Lab(object):
    """The lab's layout under a state dir, plus up/down/status."""

    def __init__(self, state_dir=DEFAULT_STATE_DIR):
        self.state_dir = os.path.abspath(state_dir)
        self.state_file = os.path.join(self.state_dir, 'lab.json')
        self.cache_dir = os.path.join(self.state_dir, 'cache')
        self.shared_dir = os.path.join(self.state_dir, 'shared')
        self.shared_instances_dir = os.path.join(self.state_dir,
                                                 'shared-instances')

    # -- layout -----------------------------------------------------------
    def host_dir(self, host):
        if host not in HOSTS:
            raise LabError('unknown lab host %r' % host)
        return os.path.join(self.state_dir, 'host-%s' % host)

    def netns(self, host):
        return NETNS_PREFIX + host

    def ip(self, host):
        return HOSTS[host]['ip']

    def net_netns(self):
        """The provider network's switch namespace (its probe runs there)."""
        return NET_NETNS

    def provider_port(self, host):
        """Host ``host``'s end of its provider link, in its namespace."""
        if host not in HOSTS:
            raise LabError('unknown lab host %r' % host)
        return NET_HOST_PREFIX + host

    def socket_path(self, host):
        return os.path.join(self.host_dir(host), 'run', 'libvirt-sock')

    def local_uri(self, host):
        """URI for root-namespace clients: the daemon's unix socket."""
        return 'qemu:///system?socket=%s' % self.socket_path(host)

    def lab_uri(self, host, scheme='tcp'):
        """URI valid only inside the lab network (p2p destinations).

        ``scheme`` is Nova's ``[libvirt] live_migration_scheme``; ``tls``
        needs a lab started with ``tls=True`` (see nova_v2v_rig.lab.tls).
        """
        return lab_tls.uri(self.ip(host), HOSTS[host]['hostname'], scheme)

    def load(self):
        try:
            with open(self.state_file) as f:
                return json.load(f)
        except (IOError, OSError):
            return None

    def _save(self, state):
        save_json(self.state_file, state)

    def is_shared(self):
        state = self.load() or {}
        return bool(state.get('shared'))

    def mounts(self, host, shared=None):
        """(root filesystem path, path inside host) pairs, dirs first."""
        state = self.load() or {}
        if shared is None:
            shared = bool(state.get('shared'))
        hdir = self.host_dir(host)
        release = (host_release(state, host) or {}).get('release')
        # libvirt's QEMU capabilities cache: one per libvirt a host runs.
        result = [(os.path.join(hdir, sub if sub != 'cache' or not release
                                else 'cache-' + release), path)
                  for sub, path in PRIVATE_DIRS]
        inst = self.shared_instances_dir if shared else os.path.join(
            hdir, 'instances')
        result.append((inst, INSTANCES_PATH))
        result.append((self.shared_dir, SHARED_PATH))
        return result

    def root_path(self, host, path):
        """Map a path as host X sees it to the root filesystem path."""
        path = os.path.normpath(path)
        for src, dst in self.mounts(host):
            if path == dst or path.startswith(dst + os.sep):
                return src + path[len(dst):]
        return path

    # -- network ----------------------------------------------------------
    def _check_subnet_free(self):
        for subnet in (SUBNET, GUEST_SUBNET):
            out, _ = processutils.execute('ip', '-o', 'addr', 'show')
            net = subnet.rsplit('.', 1)[0] + '.'
            if (' %s' % net) in out:
                raise LabError('%s is already used by an address in the '
                               'root namespace' % subnet)
            out, _ = processutils.execute('ip', 'route', 'show', 'match',
                                          net + '1')
            for line in out.splitlines():
                if not line.startswith('default'):
                    raise LabError('a route already covers %s: %s'
                                   % (subnet, line))
        out, _ = processutils.execute('ip', 'netns', 'list')
        for ns in [self.netns(host) for host in HOSTS] + [NET_NETNS]:
            if ns in out.split():
                raise LabError('network namespace %s already exists; run '
                               '"nova-v2v-lab down"' % ns)

    def _setup_network(self, state):
        processutils.execute('ip', 'route', 'add', 'unreachable', SUBNET)
        state['route'] = SUBNET
        self._save(state)
        processutils.execute('ip', 'route', 'add', 'unreachable',
                             GUEST_SUBNET)
        state['guest_route'] = GUEST_SUBNET
        self._save(state)
        for host in HOSTS:
            processutils.execute('ip', 'netns', 'add', self.netns(host))
            state['netns'].append(self.netns(host))
            self._save(state)
        processutils.execute('ip', 'netns', 'add', NET_NETNS)
        state['netns'].append(NET_NETNS)
        self._save(state)
        for argv in provider_commands():
            processutils.execute(*argv)
        veth = {h: VETH_PREFIX + h for h in HOSTS}
        processutils.execute('ip', 'link', 'add', veth['a'], 'type', 'veth',
                             'peer', 'name', veth['b'])
        for host in HOSTS:
            ns = self.netns(host)
            processutils.execute('ip', 'link', 'set', veth[host], 'netns',
                                 ns)
            ipns = ('ip', '-n', ns)
            processutils.execute(*ipns, 'link', 'set', 'lo', 'up')
            processutils.execute(*ipns, 'addr', 'add', '%s/%d' % (
                self.ip(host), PREFIX_LEN), 'dev', veth[host])
            processutils.execute(*ipns, 'link', 'set', veth[host], 'up')

    # -- configuration ----------------------------------------------------
    def _write_configs(self, host, tls=False):
        hdir = self.host_dir(host)
        info = HOSTS[host]
        for sub in RUNTIME_DIRS:
            shutil.rmtree(os.path.join(hdir, sub), ignore_errors=True)
        for sub in ('etc', 'run', 'lib', 'log/qemu', 'cache', 'instances',
                    'openvswitch') + tuple('cache-' + r
                                           for r in rootfs.RELEASES):
            os.makedirs(os.path.join(hdir, sub), exist_ok=True)
        libvirtd_conf = '\n'.join(lab_tls.libvirtd_settings(tls) + [
            'listen_tcp = 1',
            'listen_addr = "%s"' % info['ip'],
            'auth_tcp = "none"',
            'auth_unix_rw = "none"',
            'unix_sock_rw_perms = "0700"',
            'host_uuid = "%s"' % info['uuid'],
            'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"',
            ''])
        qemu_conf = '\n'.join([
            'user = "root"',
            'group = "root"',
            'dynamic_ownership = 0',
            'remember_owner = 0',
            'security_driver = "none"',
            'cgroup_controllers = [ ]',
            'namespaces = [ ]',
            'stdio_handler = "file"',
            'migration_address = "%s"' % info['ip'],
            'migration_host = "%s"' % info['ip']] +
            lab_tls.qemu_settings(tls) + [''])
        files = {
            'etc/libvirtd.conf': libvirtd_conf,
            'etc/qemu.conf': qemu_conf,
            'passwd': _with_entries('/etc/passwd', {
                'libvirt-qemu':
                    'libvirt-qemu:x:64055:64055::/var/lib/libvirt:'
                    '/usr/sbin/nologin'}),
            'group': _with_entries('/etc/group', {
                'libvirt-qemu': 'libvirt-qemu:x:64055:',
                'kvm': 'kvm:x:64056:'}),
            'hosts': ''.join(
                ['127.0.0.1 localhost\n'] +
                ['%s %s\n' % (h['ip'], h['hostname'])
                 for h in HOSTS.values()]),
        }
        for rel, text in files.items():
            with open(os.path.join(hdir, rel), 'w') as f:
                f.write(text)

    def _ensure_mountpoints(self, state):
        for _src, dst in self.mounts('a', state['shared']):
            if not os.path.isdir(dst):
                missing = dst
                while not os.path.isdir(os.path.dirname(missing)):
                    missing = os.path.dirname(missing)
                os.makedirs(dst)
                state['created_dirs'].append(missing)
                self._save(state)

    # -- daemons ----------------------------------------------------------
    def _start_daemon(self, host):
        pkg_parent = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(
            [pkg_parent] + [p for p in env.get('PYTHONPATH', '').split(
                os.pathsep) if p])
        processutils.execute(
            'setsid', 'nsenter', '--net=/run/netns/%s' % self.netns(host),
            'unshare', '--mount', '--uts', '--propagation', 'private',
            sys.executable, '-m', 'nova_v2v_rig.lab.hosts', '--inner',
            self.state_dir, host, env_variables=env)
        pid_file = os.path.join(self.host_dir(host), 'run', 'libvirtd.pid')
        deadline = time.monotonic() + DAEMON_START_TIMEOUT
        pid = None
        while time.monotonic() < deadline:
            if pid is None and os.path.exists(pid_file):
                with open(pid_file) as f:
                    text = f.read().strip()
                pid = int(text) if text else None
            if pid and self._socket_ready(host):
                return pid
            time.sleep(0.1)
        raise LabError('libvirtd for host %s did not come up; see %s'
                       % (host, os.path.join(self.host_dir(host), 'log',
                                             'libvirtd.log')))

    def _socket_ready(self, host):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.socket_path(host))
            return True
        except OSError:
            return False
        finally:
            sock.close()

    # -- lifecycle --------------------------------------------------------
    def store_image(self, host):
        return os.path.join(self.host_dir(host), 'instances.ext4')

    def _mount_small_store(self, state, host, size_mib):
        """Host's instance store on its own small ext4 (a loop mount).

        So that the store can be filled up (fault injection) without
        touching the machine's filesystems.  ``down`` unmounts it.
        """
        image = self.store_image(host)
        target = os.path.join(self.host_dir(host), 'instances')
        with open(image, 'wb') as f:
            f.truncate(size_mib * 1024 * 1024)
        processutils.execute('mkfs.ext4', '-q', '-F', '-m', '0', image)
        processutils.execute('mount', '-o', 'loop', image, target)
        state.setdefault('mounts', []).append(target)
        self._save(state)

    def up(self, shared=False, small_store_mib=None, tls=False,
           releases=None):
        """Create the network, start both daemons; returns the state.

        :param releases: ``{host: Debian release}``: those hosts run
            libvirtd and QEMU of that release, chrooted in its root
            filesystem (:mod:`nova_v2v_rig.lab.rootfs`, built before
            anything starts and kept for the next ``up``); the others run
            the machine's own

        :param tls: also listen for TLS (port 16514) and give QEMU its
            migration certificates: a lab CA and per-host certificates
            (nova_v2v_rig.lab.tls); plain TCP stays available
        :param small_store_mib: put host b's instance store on a dedicated
            ext4 filesystem of that size (fault injection: a full store)
        """
        state = self.load()
        if state:
            raise LabError('lab state exists at %s; run "nova-v2v-lab down"'
                           ' first' % self.state_file)
        missing = missing_programs(tls=tls)
        if missing:
            raise LabError(
                'the lab needs programs this host lacks: %s; install the '
                'Debian packages of bindep.txt\'s "test" profile '
                '(tools/install-deps.sh default test)' % ', '.join(
                    '%s (package %s)' % m for m in missing))
        self._check_subnet_free()
        roots = self._roots(releases or {}, tls)
        state = {'subnet': SUBNET, 'shared': bool(shared), 'route': None,
                 'netns': [], 'created_dirs': [], 'hosts': {},
                 'tls': bool(tls), 'releases': roots}
        self._save(state)
        try:
            for host in HOSTS:
                self._write_configs(host, tls=tls)
            if tls:
                lab_tls.setup(self, HOSTS)
            os.makedirs(self.shared_dir, exist_ok=True)
            if shared:
                shutil.rmtree(self.shared_instances_dir, ignore_errors=True)
                os.makedirs(self.shared_instances_dir)
            self._ensure_mountpoints(state)
            if small_store_mib:
                self._mount_small_store(state, 'b', int(small_store_mib))
            self._setup_network(state)
            for host in HOSTS:
                start = time.monotonic()
                pid = self._start_daemon(host)
                state['hosts'][host] = {'pid': pid}
                self._save(state)
                LOG.info('libvirtd for host %(host)s is pid %(pid)d '
                         '(%(sec).2f s)', {'host': host, 'pid': pid,
                                           'sec': time.monotonic() - start})
        except Exception:
            LOG.exception('Lab start failed, tearing down')
            self.down()
            raise
        return state

    def _roots(self, releases, tls):
        """``{host: {release, root, versions}}``, each root built."""
        unknown = sorted(set(releases) - set(HOSTS))
        if unknown:
            raise LabError('no lab host %s (the hosts: %s)'
                           % (', '.join(unknown), ', '.join(sorted(HOSTS))))
        if releases and tls:
            raise LabError('a lab host of another release runs without '
                           'TLS: its certificates are not in its root')
        roots = {}
        for host, release in sorted(releases.items()):
            try:
                path, stamp = rootfs.ensure(self.state_dir, release)
            except rootfs.RootError as exc:
                raise LabError('host %s: %s' % (host, exc))
            roots[host] = {'release': release, 'root': path,
                           'versions': stamp.get('versions', {})}
        return roots

    def release(self, host):
        """The Debian release host ``host`` runs, or None (the machine's)."""
        return (host_release(self.load() or {}, host) or {}).get('release')

    def _netns_pids(self, ns):
        try:
            out, _ = processutils.execute('ip', 'netns', 'pids', ns)
        except processutils.ProcessExecutionError:
            return []
        return [int(p) for p in out.split()]

    def _stop_host(self, host, info):
        run_dir = os.path.join(self.host_dir(host), 'run', 'qemu')
        if os.path.isdir(run_dir):
            for name in os.listdir(run_dir):
                if name.endswith('.pid'):
                    with open(os.path.join(run_dir, name)) as f:
                        text = f.read().strip()
                    if text.isdigit():
                        kill_pid(int(text), 'qemu-system')
        kill_pid(info.get('pid'), 'libvirtd')
        # Anything still inside the lab netns was started by the lab or by
        # the all-in-one on it (its computes, their relays: "nova-v2v-aio
        # down" stops those first; a leftover is what it could not stop).
        for pid in self._netns_pids(self.netns(host)):
            LOG.warning('Stopping leftover process %(pid)d in %(ns)s',
                        {'pid': pid, 'ns': self.netns(host)})
            kill_pid(pid, '')

    def down(self):
        """Stop everything up() started; safe to run any number of times."""
        state = self.load()
        if state is None:
            LOG.info('Lab is not up (no %(f)s)', {'f': self.state_file})
            return False
        for host, info in state.get('hosts', {}).items():
            self._stop_host(host, info)
        existing, _ = processutils.execute('ip', 'netns', 'list')
        existing = [line.split()[0] for line in existing.splitlines()
                    if line.strip()]
        for ns in state.get('netns', []):
            host = ns[len(NETNS_PREFIX):]
            if host in HOSTS and host not in state.get('hosts', {}):
                self._stop_host(host, {})
            if ns == NET_NETNS:
                # The probes of the provider network run there.
                for pid in self._netns_pids(ns):
                    LOG.warning('Stopping leftover process %(pid)d in '
                                '%(ns)s', {'pid': pid, 'ns': ns})
                    kill_pid(pid, '')
            if ns in existing:
                processutils.execute('ip', 'netns', 'del', ns)
        out, _ = processutils.execute('ip', 'route', 'show', 'type',
                                      'unreachable')
        for route in (state.get('route'), state.get('guest_route')):
            if route and route in out.split():
                processutils.execute('ip', 'route', 'del', 'unreachable',
                                     route)
        for target in reversed(state.get('mounts', [])):
            try:
                processutils.execute('umount', target)
            except processutils.ProcessExecutionError as exc:
                LOG.error('Could not unmount %(t)s: %(err)s',
                          {'t': target, 'err': exc.stderr})
                continue
            for host in HOSTS:
                image = self.store_image(host)
                if os.path.dirname(image) == os.path.dirname(target) and (
                        os.path.exists(image)):
                    os.unlink(image)
        for path in reversed(state.get('created_dirs', [])):
            _remove_empty_tree(path)
        if state.get('tls'):
            lab_tls.remove(self, HOSTS)
        os.unlink(self.state_file)
        return True

    def status(self):
        state = self.load()
        if state is None:
            return {'up': False}
        out, _ = processutils.execute('ip', 'netns', 'list')
        route, _ = processutils.execute('ip', 'route', 'show', 'type',
                                        'unreachable')
        result = {'up': True, 'shared': state['shared'],
                  'tls': bool(state.get('tls')),
                  'route': state.get('route') in route.split(),
                  'guest_route': GUEST_SUBNET in route.split(),
                  'net_netns': NET_NETNS in out.split(),
                  'hosts': {}}
        for host in HOSTS:
            pid = state.get('hosts', {}).get(host, {}).get('pid')
            result['hosts'][host] = {
                'pid': pid,
                'running': bool(pid) and _pid_alive(pid, 'libvirtd'),
                'netns': self.netns(host) in out.split(),
                'ip': self.ip(host),
                'uri': self.local_uri(host),
                'socket_ready': self._socket_ready(host),
                'release': host_release(state, host),
            }
        return result


def host_release(state, host):
    """Host ``host``'s release root in a lab's state, or None.

    ``{'release': ..., 'root': ..., 'versions': ...}`` (see ``Lab.up``'s
    ``releases``); None for a host that runs the machine's own libvirt.
    """
    return (state.get('releases') or {}).get(host)


def provider_commands():
    """The ``ip`` argument lists that wire the provider network's switch.

    In the switch namespace: the bridge with the network's router/probe
    address, and per host a veth pair whose other end goes into the host's
    namespace, up and without an address (an Open vSwitch port there).
    """
    ipns = ('ip', '-n', NET_NETNS)
    argv = [ipns + ('link', 'set', 'lo', 'up'),
            ipns + ('link', 'add', NET_BRIDGE, 'type', 'bridge'),
            ipns + ('addr', 'add', '%s/%s' % (
                NET_ADDRESS, GUEST_SUBNET.split('/')[1]), 'dev', NET_BRIDGE),
            ipns + ('link', 'set', NET_BRIDGE, 'up')]
    for host in sorted(HOSTS):
        switch_end = NET_SWITCH_PREFIX + host
        host_end = NET_HOST_PREFIX + host
        argv += [
            ipns + ('link', 'add', switch_end, 'type', 'veth', 'peer',
                    'name', host_end, 'netns', NETNS_PREFIX + host),
            ipns + ('link', 'set', switch_end, 'master', NET_BRIDGE),
            ipns + ('link', 'set', switch_end, 'up'),
            ('ip', '-n', NETNS_PREFIX + host, 'link', 'set', host_end,
             'up')]
    return argv


def _with_entries(path, entries):
    with open(path) as f:
        lines = f.read().splitlines()
    names = {line.split(':', 1)[0] for line in lines}
    lines += [entry for name, entry in sorted(entries.items())
              if name not in names]
    return '\n'.join(lines) + '\n'


def _remove_empty_tree(path):
    """rmdir path and empty subdirectories; never removes files."""
    if not os.path.isdir(path) or os.path.ismount(path):
        return
    for name in os.listdir(path):
        _remove_empty_tree(os.path.join(path, name))
    try:
        os.rmdir(path)
    except OSError as exc:
        LOG.warning('Leaving %(path)s in place: %(err)s',
                    {'path': path, 'err': exc})


def _inner(state_dir, host):
    """Runs inside the host's fresh mount+UTS namespaces, execs libvirtd."""
    lab = Lab(state_dir)
    hdir = lab.host_dir(host)
    for src, dst in lab.mounts(host):
        processutils.execute('mount', '--bind', src, dst)
    for name, dst in PRIVATE_FILES:
        processutils.execute('mount', '--bind', os.path.join(hdir, name),
                             dst)
    socket.sethostname(HOSTS[host]['hostname'])
    release = host_release(lab.load() or {}, host)
    if release:
        # The host's own paths as its chrooted daemon sees them, and the
        # lab's cache (the guest's kernel and initramfs) at the same path,
        # read-only.
        rootfs.enter(release['root'], lab.mounts(host),
                     [(os.path.join(hdir, name), dst)
                      for name, dst in PRIVATE_FILES],
                     read_only=[(lab.cache_dir, lab.cache_dir)])
    os.execv(LIBVIRTD, [LIBVIRTD, '--daemon', '--listen',
                        '--pid-file', '/run/libvirt/libvirtd.pid',
                        '--config', '/etc/libvirt/libvirtd.conf'])


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--inner':
        _inner(sys.argv[2], sys.argv[3])
    sys.exit('usage: python -m nova_v2v_rig.lab.hosts --inner STATE_DIR HOST')
