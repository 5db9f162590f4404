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

"""The Debian packages the all-in-one needs (bindep.txt, profile gate).

``bindep -b gate`` lists the missing ones; :func:`check` says the same in
plain words before ``up`` starts anything. The build packages (gcc,
python3-dev, ...) are bindep.txt's profile-less entries: the virtualenvs
build uWSGI and libvirt-python from source.
"""

from oslo_concurrency import processutils

from nova_v2v_rig.aio import paths

# Package -> what the all-in-one runs from it.
GATE = {
    'mariadb-server': '/usr/sbin/mariadbd, mariadb-install-db',
    'mariadb-client': '/usr/bin/mariadb (databases and users)',
    'rabbitmq-server': '/usr/lib/rabbitmq/bin/rabbitmq-server, epmd',
    'socat': '/usr/bin/socat (the relay of a cutover\'s clone control)',
    'openvswitch-switch': '/usr/sbin/ovsdb-server, ovs-vswitchd (one per '
                          'lab host, userspace datapath)',
    'ovn-central': '/usr/bin/ovn-northd, the NB/SB schemas',
    'ovn-host': '/usr/bin/ovn-controller (one per lab host)',
}
BUILD = {
    'gcc': 'builds uWSGI and libvirt-python',
    'python3-dev': 'builds uWSGI and libvirt-python',
    'python3-venv': 'creates the virtualenvs',
    'pkg-config': 'builds libvirt-python',
    'libvirt-dev': 'builds libvirt-python (nova-v2v in the main venv)',
}
REQUIRED = dict(GATE, **BUILD)


def query_command(packages):
    return ['dpkg-query', '-W', '-f', '${Package} ${db:Status-Status}\n'] \
        + sorted(packages)


def parse_installed(output):
    """The package names dpkg-query reports as ``installed``."""
    found = set()
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == 'installed':
            found.add(parts[0].split(':')[0])
    return found


def missing(packages=None):
    packages = sorted(packages or REQUIRED)
    try:
        out, _err = processutils.execute(*query_command(packages),
                                         check_exit_code=[0, 1])
    except (OSError, processutils.ProcessExecutionError) as exc:
        raise paths.AioError('cannot ask dpkg which packages are installed:'
                             ' %s' % exc)
    installed = parse_installed(out)
    return [name for name in packages if name not in installed]


def check(packages=None):
    """Raise AioError naming the missing Debian packages, if any."""
    absent = missing(packages)
    if absent:
        raise paths.AioError(
            'missing Debian packages: %s (%s). Install them with '
            '"apt-get install --no-install-recommends %s" (or "bindep -b '
            'gate" lists them)' % (
                ', '.join(absent),
                '; '.join('%s: %s' % (n, REQUIRED[n]) for n in absent),
                ' '.join(absent)))
