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

"""The fault matrix's tools on the all-in-one, and what it reads.

What a cell of :mod:`nova_v2v_rig.aio.faults` does to the all-in-one and
how it looks at it, without judging anything:

* the cutover's phase and Nova's records, read from the cell database
  (``instance_system_metadata`` key ``v2v_phase``, the ``migrations`` and
  ``instances`` rows) with the ``mariadb`` client over its unix socket, the
  phase also from the computes' ``V2V phase <phase>`` log lines;
* a compute killed with SIGKILL by pid (restarted by ``computes.up``);
* a lab host's libvirtd killed with SIGKILL and started again in the same
  mount, UTS and network namespaces, as a host's init would restart it;
* the link between the lab hosts down and up (``ip link`` inside the
  lab's namespaces, checked by a bounded ping inside host a's);
* a small filesystem mounted over the destination's instance store inside
  that host's mount namespace, filled up with a filler file sized from
  ``statvfs``; unmounted and removed afterwards;
* the clone paused through the destination libvirtd's unix socket;
* the guest's copies, directories and ``qemu-nbd`` processes on each
  host, through the host's libvirt socket and ``/proc/<pid>/root``.

Nothing here dials a lab address from the root network namespace.
"""

import json
import os
import re
import signal
import time
from xml.etree import ElementTree

import libvirt
from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v.virt.libvirt import record as v2v_record
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import infra
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.lab import hosts as lab_hosts

LOG = logging.getLogger(__name__)

NOVA_DB = 'nova'
_PHASE_LINE = re.compile(r'\[instance: (?P<uuid>[0-9a-f-]{36})\] '
                         r'V2V phase (?P<phase>[a-z-]+)')
STORE_IMAGE = 'faults-store.ext4'
FILLER = 'faults-filler'
PING_TIMEOUT = 1


class InjectError(paths.AioError):
    """A fault could not be injected or undone."""


# -- the cell database -------------------------------------------------------

def _sql_text(value):
    return "'%s'" % str(value).replace('\\', '\\\\').replace("'", "\\'")


def query(layout, sql):
    """Rows (lists of strings, NULL as None) of ``sql`` in Nova's cell DB."""
    out, _err = processutils.execute(
        infra.MARIADB, '--defaults-file=%s' % infra.my_cnf_path(layout),
        '--protocol=socket', '-N', '-B', '-e', sql, NOVA_DB)
    rows = []
    for line in out.splitlines():
        rows.append([None if f == 'NULL' else f for f in line.split('\t')])
    return rows


def db_phase(layout, uuid):
    """The ``v2v_phase`` record's phase of the instance, or None."""
    rows = query(layout, "SELECT `key`, value FROM instance_system_metadata "
                 "WHERE instance_uuid=%s AND deleted=0 AND `key` LIKE "
                 "'v2v_phase%%'" % _sql_text(uuid))
    sysmeta = {key: value for key, value in rows}
    text = v2v_record.sysmeta_get(sysmeta, v2v_record.SYSMETA_PHASE)
    if not text:
        return None
    try:
        return json.loads(text).get('phase')
    except (ValueError, AttributeError):
        return text


def log_phases(text, uuid):
    """The phases the computes logged for the instance, in order."""
    return [m.group('phase') for m in _PHASE_LINE.finditer(text)
            if m.group('uuid') == uuid]


# Nova's default [DEFAULT] instance_name_template.
INSTANCE_NAME = 'instance-%08x'
_INSTANCE_COLUMNS = ('id', 'uuid', 'host', 'vm_state', 'task_state',
                     'deleted', 'locked')


def _instance(rows):
    if not rows:
        return {}
    found = dict(zip(_INSTANCE_COLUMNS, rows[0]))
    found['name'] = INSTANCE_NAME % int(found['id'])
    found['deleted'] = found['deleted'] not in (None, '0')
    found['locked'] = found.get('locked') not in (None, '0', 'NULL')
    return found


def db_instance(layout, uuid):
    """``{id, uuid, name, host, vm_state, task_state, deleted, locked}``."""
    return _instance(query(layout, 'SELECT %s FROM instances WHERE uuid=%s'
                           % (', '.join(_INSTANCE_COLUMNS),
                              _sql_text(uuid))))


def db_instance_named(layout, display_name):
    """The live instance called ``display_name`` (as db_instance), or {}."""
    return _instance(query(layout, 'SELECT %s FROM instances WHERE '
                           'display_name=%s AND deleted=0 ORDER BY id DESC'
                           % (', '.join(_INSTANCE_COLUMNS),
                              _sql_text(display_name))))


def db_migration(layout, uuid, after_id=0):
    """``{id, status}`` of the instance's newest migration past after_id."""
    rows = query(layout, 'SELECT id, status FROM migrations WHERE '
                 'instance_uuid=%s AND id>%d ORDER BY id DESC LIMIT 1'
                 % (_sql_text(uuid), int(after_id)))
    if not rows:
        return {}
    return {'id': int(rows[0][0]), 'status': rows[0][1]}


def db_migration_uuid(layout, migration_id):
    rows = query(layout, 'SELECT uuid FROM migrations WHERE id=%d'
                 % int(migration_id))
    return rows[0][0] if rows else None


def follow_clone_sql(uuid, host):
    """README's step 2 of a held cutover whose clone runs: the update."""
    return ('UPDATE instances SET host=%(host)s, node=%(host)s, '
            'compute_id=(SELECT id FROM compute_nodes WHERE '
            'hypervisor_hostname=%(host)s AND deleted=0) WHERE uuid=%(uuid)s'
            ' AND deleted=0' % {'host': _sql_text(host),
                                'uuid': _sql_text(uuid)})


def db_follow_clone(layout, uuid, host):
    """Nova's record of the instance on ``host`` (its node of the name)."""
    query(layout, follow_clone_sql(uuid, host))


# -- processes of the all-in-one and the lab ----------------------------------

def compute_record(layout, host):
    state = layout.load() or {}
    record = state.get('services', {}).get(computes.service_name(host))
    if not record:
        raise InjectError('no compute of lab host %s is recorded' % host)
    return record


def _pid_alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return procs.parse_stat(f.read())[1] != 'Z'
    except (OSError, ValueError, IndexError):
        return False


def _wait_gone(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def kill_compute(layout, host):
    """SIGKILL the compute of ``host`` (its pid only); the pid killed.

    The privsep daemons it started see their channel close; any that is
    left in the compute's process group is killed too, so that the
    restarted compute is the only one with its configuration.
    """
    record = compute_record(layout, host)
    pid = record['pid']
    if not procs.alive(record):
        raise InjectError('the compute of %s (pid %d) is not running'
                          % (host, pid))
    os.kill(pid, signal.SIGKILL)
    if not _wait_gone(pid):
        raise InjectError('the compute of %s (pid %d) survived SIGKILL'
                          % (host, pid))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and procs.group_pids(record['pgid']):
        time.sleep(0.1)
    for member in procs.group_pids(record['pgid']):
        if 'privsep-helper' in procs.cmdline(member):
            os.kill(member, signal.SIGKILL)
    return pid


def libvirtd_pid(lab, host):
    return (lab.load() or {}).get('hosts', {}).get(host, {}).get('pid')


def kill_libvirtd(lab, host):
    """SIGKILL the lab host's libvirtd; the pid killed."""
    pid = libvirtd_pid(lab, host)
    if not pid or not lab_hosts._pid_alive(pid, 'libvirtd'):
        raise InjectError('libvirtd of %s is not running' % host)
    os.kill(pid, signal.SIGKILL)
    if not _wait_gone(pid):
        raise InjectError('libvirtd of %s (pid %d) survived SIGKILL'
                          % (host, pid))
    return pid


def _rebind_private_files(lab, host, anchor, proc='/proc'):
    """The lab host's own ``/etc/passwd`` (and group, hosts) again.

    The lab binds its own copies over them in the host's mount namespace;
    a program that replaces the machine's file while the lab runs (a
    package that adds a user: a rename over the mount point) detaches the
    bind, and libvirtd would start without the ``libvirt-qemu`` user.
    """
    hdir = lab.host_dir(host)
    for name, dst in lab_hosts.PRIVATE_FILES:
        own = os.path.join(hdir, name)
        try:
            with open(own, 'rb') as f:
                wanted = f.read()
            with open('%s/%d/root%s' % (proc, anchor, dst), 'rb') as f:
                seen = f.read()
        except OSError:
            continue
        if seen != wanted:
            LOG.warning('%(dst)s of lab host %(host)s was replaced; bound '
                        'again', {'dst': dst, 'host': host})
            processutils.execute('nsenter', '--mount=/proc/%d/ns/mnt'
                                 % anchor, '--', 'mount', '--bind', own,
                                 dst)


def restart_libvirtd(layout, lab, host, old_pid):
    """Start the host's libvirtd again where it ran; its new pid.

    It joins the mount and UTS namespaces of the host's compute (the ones
    the first libvirtd made, where the running QEMUs and their state files
    are) and the host's network namespace, with the lab's own command
    line. The lab's state, the computes' ``qemu-nbd``, ``ssh`` and ``scp``
    wrappers and the computes' records learn the new pid.
    """
    anchor = compute_record(layout, host)['pid']
    if not _pid_alive(anchor):
        raise InjectError('no process left in lab host %s\'s namespaces'
                          % host)
    _rebind_private_files(lab, host, anchor)
    processutils.execute(
        'nsenter', '--mount=/proc/%d/ns/mnt' % anchor,
        '--uts=/proc/%d/ns/uts' % anchor,
        '--net=/run/netns/%s' % lab.netns(host), '--',
        lab_hosts.LIBVIRTD, '--daemon', '--listen',
        '--pid-file', '/run/libvirt/libvirtd.pid',
        '--config', '/etc/libvirt/libvirtd.conf')
    pid_file = os.path.join(lab.host_dir(host), 'run', 'libvirtd.pid')
    deadline = time.monotonic() + lab_hosts.DAEMON_START_TIMEOUT
    pid = None
    while time.monotonic() < deadline:
        try:
            with open(pid_file) as f:
                text = f.read().strip()
            pid = int(text) if text.isdigit() else None
        except OSError:
            pid = None
        if pid and pid != old_pid and lab._socket_ready(host):
            break
        time.sleep(0.1)
    else:
        raise InjectError('libvirtd of %s did not come back' % host)
    state = lab.load()
    state['hosts'][host]['pid'] = pid
    lab._save(state)
    pids = {h: state['hosts'][h]['pid'] for h in state['hosts']}
    aio = layout.load()
    for lab_host in sorted(pids):
        computes.write_nbd_wrapper(layout, lab_host)
        computes.write_remote_wrappers(layout, lab_host, pids)
        name = computes.service_name(lab_host)
        if name in aio['services']:
            aio['services'][name]['libvirtd_pid'] = pids[lab_host]
    layout.save(aio)
    return pid


# -- the link between the hosts -----------------------------------------------

def _veth(host):
    return lab_hosts.VETH_PREFIX + host


def link_set(lab, up):
    processutils.execute('ip', '-n', lab.netns('b'), 'link', 'set',
                         _veth('b'), 'up' if up else 'down')


def link_is_down(lab):
    """True when host b's end is down and host a cannot ping host b.

    The ping runs inside host a's network namespace, once, bounded.
    """
    out, _err = processutils.execute('ip', '-n', lab.netns('b'), '-j',
                                     'link', 'show', 'dev', _veth('b'))
    flags = (json.loads(out or '[{}]') or [{}])[0].get('flags', [])
    if 'UP' in flags:
        return False
    try:
        processutils.execute(
            'ip', 'netns', 'exec', lab.netns('a'), 'ping', '-c', '1', '-W',
            str(PING_TIMEOUT), lab.ip('b'))
    except processutils.ProcessExecutionError:
        return True
    return False


# -- a host's view ------------------------------------------------------------

def host_root(layout, host):
    """``/proc/<pid>/root`` of the host's compute: the host's files."""
    return '/proc/%d/root' % compute_record(layout, host)['pid']


def host_path(layout, host, path):
    return host_root(layout, host) + os.path.normpath(path)


class SmallStore(object):
    """A small ext4 over the host's instance store, in its namespace.

    Mounted (a loop device) over ``/var/lib/nova/instances`` inside the
    mount namespace of the host's compute and libvirtd before the move,
    so that :meth:`fill` can fill the destination's store during the bulk
    copy without touching the machine's filesystems.
    """

    def __init__(self, layout, lab, host, size_mib):
        self.layout = layout
        self.lab = lab
        self.host = host
        self.size_mib = size_mib
        self.image = os.path.join(lab.host_dir(host), STORE_IMAGE)
        self.mounted = False
        self.filler = None

    def _nsenter(self, *argv):
        pid = compute_record(self.layout, self.host)['pid']
        return processutils.execute(
            'nsenter', '--mount=/proc/%d/ns/mnt' % pid, '--', *argv)

    def mount(self):
        with open(self.image, 'wb') as f:
            f.truncate(self.size_mib * 1024 * 1024)
        processutils.execute('mkfs.ext4', '-q', '-F', '-m', '0', self.image)
        self._nsenter('mount', '-o', 'loop', self.image,
                      lab_hosts.INSTANCES_PATH)
        self.mounted = True

    def fill(self, leave=0):
        """Fill the store but ``leave`` bytes; the bytes left free."""
        store = host_path(self.layout, self.host, lab_hosts.INSTANCES_PATH)
        self.filler = os.path.join(store, FILLER)
        st = os.statvfs(store)
        free = st.f_bavail * st.f_frsize - leave
        if free > 0:
            with open(self.filler, 'wb') as f:
                try:
                    os.posix_fallocate(f.fileno(), 0, free)
                except OSError:
                    pass
        return self.left()

    def left(self):
        """The bytes free in the store (statvfs)."""
        st = os.statvfs(host_path(self.layout, self.host,
                                  lab_hosts.INSTANCES_PATH))
        return st.f_bavail * st.f_frsize

    def free(self):
        """The filler removed."""
        if self.filler and os.path.exists(self.filler):
            os.unlink(self.filler)

    def remove(self):
        self.free()
        if self.mounted:
            try:
                self._nsenter('umount', lab_hosts.INSTANCES_PATH)
            except processutils.ProcessExecutionError as exc:
                LOG.warning('umount of the small store: %s; lazily',
                            exc.stderr)
                self._nsenter('umount', '-l', lab_hosts.INSTANCES_PATH)
            self.mounted = False
        if os.path.exists(self.image):
            os.unlink(self.image)


# -- the guest on the hosts -------------------------------------------------

def _open(lab, host):
    return libvirt.open(lab.local_uri(host))


def _on_domain(lab, host, name, read):
    """``read(dom)`` for domain ``name`` on ``host``; None without it."""
    conn = _open(lab, host)
    try:
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError:
            return None
        return read(dom)
    finally:
        conn.close()


def domain_state(lab, host, name):
    """libvirt's state of domain ``name`` on ``host``, or None."""
    return _on_domain(lab, host, name, lambda dom: dom.state()[0])


def copy_done(lab, host, name):
    """Bytes the block copy jobs of domain ``name`` have copied so far.

    None when the domain or its jobs are gone.
    """
    def done(dom):
        jobs = [dom.blockJobInfo(dev, 0) for dev in _disk_targets(dom)]
        jobs = [info for info in jobs if info]
        if not jobs:
            return None
        return sum(info['cur'] for info in jobs)
    return _on_domain(lab, host, name, done)


def _disk_targets(dom):
    root = ElementTree.fromstring(dom.XMLDesc(0))
    return [t.get('dev') for t in root.findall('./devices/disk/target')]


def pause(lab, host, name):
    """Pause domain ``name`` on ``host``; True when it is paused."""
    conn = _open(lab, host)
    try:
        dom = conn.lookupByName(name)
        dom.suspend()
        return dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    finally:
        conn.close()


def write_requests(lab, host, name):
    """Write requests of domain ``name``'s disks on ``host`` (or None)."""
    return _on_domain(lab, host, name, lambda dom: sum(
        dom.blockStats(dev)[2] for dev in _disk_targets(dom)))


def destroy(lab, host, name, undefine=False):
    """Destroy domain ``name`` on ``host``, maybe undefine; False if none."""
    def stop(dom):
        if dom.isActive():
            dom.destroy()
        if undefine:
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        return True
    return bool(_on_domain(lab, host, name, stop))


def remove_instance_dir(layout, host, instance_dir):
    """Remove the instance's directory on ``host``; True if it was there."""
    path = host_path(layout, host, instance_dir)
    if not os.path.isdir(path):
        return False
    processutils.execute('rm', '-rf', '--one-file-system', path)
    return True


def running_on(lab, name):
    """The hosts (Nova names) where domain ``name`` runs."""
    found = []
    for host in sorted(lab_hosts.HOSTS):
        if domain_state(lab, host, name) == libvirt.VIR_DOMAIN_RUNNING:
            found.append(lab_hosts.HOSTS[host]['hostname'])
    return found


def nbd_processes(uuid):
    """``qemu-nbd`` processes of the instance, on any host."""
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        line = procs.cmdline(int(name))
        if 'qemu-nbd' in line and uuid in line and 'nsenter' not in (
                line.split(' ', 1)[0]):
            found.append(int(name))
    return sorted(found)


def leftovers(layout, lab, host, name, instance_dir, uuid):
    """What of the guest is on ``host`` (the one Nova's record is not on).

    Its domain (any state), its instance directory as the host sees it,
    pid files of ``qemu-nbd`` and the ``qemu-nbd`` processes of the
    instance on any host.
    """
    left = []
    state = domain_state(lab, host, name)
    if state is not None:
        left.append('domain %s on %s (state %d)' % (name, host, state))
    path = host_path(layout, host, instance_dir)
    if os.path.exists(path):
        files = sorted(os.listdir(path))
        left.append('%s:%s/ (%s)' % (host, instance_dir,
                                     ', '.join(files) or 'empty'))
    left += ['qemu-nbd pid %d' % pid for pid in nbd_processes(uuid)]
    return left


def scrub(layout, lab, name, instance_dir, uuid, keep_host):
    """Remove what a failed cell left of the guest off ``keep_host``.

    Not a check: the next cell starts from clean hosts.
    """
    done = []
    for host in sorted(lab_hosts.HOSTS):
        if lab_hosts.HOSTS[host]['hostname'] == keep_host:
            continue
        conn = _open(lab, host)
        try:
            try:
                dom = conn.lookupByName(name)
            except libvirt.libvirtError:
                dom = None
            if dom is not None:
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
                done.append('domain on %s' % host)
        finally:
            conn.close()
        path = host_path(layout, host, instance_dir)
        if os.path.isdir(path):
            processutils.execute('rm', '-rf', '--one-file-system', path)
            done.append('%s on %s' % (instance_dir, host))
    for pid in nbd_processes(uuid):
        os.kill(pid, signal.SIGKILL)
        done.append('qemu-nbd %d' % pid)
    if done:
        LOG.warning('Scrubbed after the cell: %s', ', '.join(done))
    return done
