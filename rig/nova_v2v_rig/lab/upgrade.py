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

"""A lab host's hypervisor upgraded (or downgraded) in place.

What an operator does to an emptied compute in a rolling upgrade: its
libvirtd stops, and starts again from another Debian release's libvirt and
QEMU (:mod:`nova_v2v_rig.lab.rootfs`), in the host's network namespace
and with its directories (instances, libvirt's configuration and state)
where they were. The host must run no guest.
"""

import os

import libvirt
from oslo_log import log as logging

from nova_v2v_rig.lab import hosts

LOG = logging.getLogger(__name__)


def running_domains(lab, host):
    """The names of the domains that run on lab host ``host``."""
    conn = libvirt.open(lab.local_uri(host))
    try:
        return sorted(d.name() for d in conn.listAllDomains(
            libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
    finally:
        conn.close()


def reroot(lab, host, release):
    """Run lab host ``host``'s libvirtd and QEMU of ``release`` from now.

    Its libvirtd stops (SIGTERM; its pid file goes with it) and starts
    again chrooted in the release's root; a start that fails leaves the
    lab's state as it was, with no daemon of the new release running.

    :param release: a Debian release of :data:`rootfs.RELEASES`, or None
        for the machine's own
    :returns: the host's new libvirtd pid
    :raises: LabError when the lab is down, the host runs guests (they
        would lose their QEMU's daemon), the root cannot be built, or the
        daemon does not stop or start
    """
    state = lab.load()
    if not state or host not in state.get('hosts', {}):
        raise hosts.LabError('lab host %s is not up' % host)
    old_pid = state['hosts'][host].get('pid')
    if lab.release(host) == release and hosts._pid_alive(old_pid,
                                                         'libvirtd'):
        return old_pid
    if hosts._pid_alive(old_pid, 'libvirtd'):
        running = running_domains(lab, host)
        if running:
            raise hosts.LabError('lab host %s runs %s: move them away '
                                 'first' % (host, ', '.join(running)))
    roots = lab._roots({host: release}, state.get('tls')) if release else {}
    hosts.kill_pid(old_pid, 'libvirtd')
    if hosts._pid_alive(old_pid, 'libvirtd'):
        raise hosts.LabError('libvirtd %d of lab host %s does not stop'
                             % (old_pid, host))
    pid_file = os.path.join(lab.host_dir(host), 'run', 'libvirtd.pid')
    if os.path.exists(pid_file):
        os.unlink(pid_file)
    before = state.get('releases')
    releases = dict(before or {})
    releases.pop(host, None)
    releases.update(roots)
    state['releases'] = releases
    lab._save(state)
    try:
        pid = lab._start_daemon(host)
    except Exception:
        # Whatever started of it goes; the state says what ran before.
        if os.path.exists(pid_file):
            with open(pid_file) as f:
                text = f.read().strip()
            if text.isdigit():
                hosts.kill_pid(int(text), 'libvirtd')
        state['releases'] = before
        lab._save(state)
        raise
    state['hosts'][host]['pid'] = pid
    lab._save(state)
    LOG.info('Lab host %(host)s runs %(what)s now: libvirtd pid %(pid)d',
             {'host': host, 'what': release or "the machine's libvirt",
              'pid': pid})
    return pid
