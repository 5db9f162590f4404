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

"""The gate's Neutron network, and a port per guest.

A flat provider network on ``physnet1`` (the lab hosts' ``br-prov``, wired
to the lab's switch namespace; nova_v2v_rig.aio.ovn and
nova_v2v_rig.lab.hosts) with the guests' subnet: OVN's native DHCP gives
the addresses, the gateway is the switch's own address (where the probe
runs), outside the allocation pool. Everything is made through the
``openstack`` client, once: a network or subnet that exists with the
expected name is reused.

Port security is off on this network: no security group, so no
conntrack in Open vSwitch's userspace datapath, and the probe's echo
requests from the switch's address reach the guests without rules.
"""

import ipaddress
import time

from oslo_log import log as logging

from nova_v2v_rig.aio import ovn
from nova_v2v_rig.aio import paths
from nova_v2v_rig.lab import hosts as lab_hosts

LOG = logging.getLogger(__name__)

NETWORK = 'lab-net'
SUBNET = 'lab-subnet'
# The first addresses are left out of the pool (OVN's DHCP server port
# takes one of the pool's).
POOL_FIRST = 10
SYNC_TIMEOUT = 120


def subnet_args():
    """``openstack subnet create`` arguments of the guests' subnet."""
    net = ipaddress.ip_network(lab_hosts.GUEST_SUBNET)
    gateway = ipaddress.ip_address(lab_hosts.NET_ADDRESS)
    first = net.network_address + POOL_FIRST
    last = gateway - 1
    return ['subnet', 'create', '--network', NETWORK,
            '--subnet-range', str(net), '--dhcp',
            '--gateway', str(gateway),
            '--allocation-pool', 'start=%s,end=%s' % (first, last),
            '--dns-nameserver', str(gateway), SUBNET]


def network_args():
    return ['network', 'create', '--share', '--provider-network-type', 'flat',
            '--provider-physical-network', ovn.PHYSNET,
            '--disable-port-security', NETWORK]


def _find(cloud, kind, name):
    for row in cloud(kind, 'list', parse=True) or []:
        if row.get('Name') == name:
            return row['ID']
    return None


def logical_switch(network_id):
    """ML2/OVN's name of a network's logical switch."""
    return 'neutron-%s' % network_id


def wait_synced(layout, network_id, timeout=SYNC_TIMEOUT):
    """Wait until OVN's northbound database has the network's switch.

    A network neutron's database kept from an earlier ``up`` is in a
    northbound database that was lost only once the maintenance worker's
    repair (``[ovn] neutron_sync_mode``) has run; a port created before
    would fail.
    """
    deadline = time.monotonic() + timeout
    name = logical_switch(network_id)
    while True:
        found = ovn.nbctl(layout, '--bare', '--columns=name', 'find',
                          'Logical_Switch', 'name=%s' % name).strip()
        if found == name:
            return
        if time.monotonic() > deadline:
            raise paths.AioError('network %s has no logical switch in '
                                 'OVN\'s northbound database after %d s; '
                                 'see the neutron-ovn-maintenance-worker '
                                 'log' % (network_id, timeout))
        time.sleep(1)


def ensure(cloud, layout):
    """The network and its subnet; ``{'network': id, 'subnet': id}``."""
    ids = {}
    ids['network'] = _find(cloud, 'network', NETWORK) or cloud(
        *network_args(), parse=True)['id']
    ids['subnet'] = _find(cloud, 'subnet', SUBNET) or cloud(
        *subnet_args(), parse=True)['id']
    wait_synced(layout, ids['network'])
    LOG.info('Network %(net)s (%(id)s), subnet %(subnet)s',
             {'net': NETWORK, 'id': ids['network'],
              'subnet': lab_hosts.GUEST_SUBNET})
    return ids


def create_port(cloud, name):
    """A port of the gate's network for server ``name``; its record."""
    return cloud('port', 'create', '--network', NETWORK, name, parse=True)


def delete_port(cloud, port_id):
    """Delete a port (after its server); False if that failed."""
    return cloud('port', 'delete', port_id, check=False) is not None
