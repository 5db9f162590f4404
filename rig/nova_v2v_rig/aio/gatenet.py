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

"""The network side of a gate move: the probe during it, the checks after.

A guest of the gate has a Neutron port on the lab's flat network
(:mod:`nova_v2v_rig.aio.network`); its ``/init`` takes the port's address
by DHCP and says so on the console (a ``LABNET`` line,
:func:`nova_v2v_rig.lab.guest.net_events`). During each move an ICMP
prober (:mod:`nova_v2v_rig.lab.pingprobe`) in the lab's switch namespace,
the provider network's router, sends an echo request to the guest's
address every 10 ms; after the move :func:`netcheck.check_move` checks
the port's binding and status, the MAC on the destination, the guest's
answers and what is left of the port on the source, and reads the
network downtime and the packets lost from the probe's record.

Nothing here dials a lab address from the root namespace: the prober runs
in the switch namespace, the databases are read over unix sockets.
"""

import os
import re
import time

import libvirt
from oslo_log import log as logging

from nova_v2v_rig.aio import netcheck
from nova_v2v_rig.aio import ovn
from nova_v2v_rig.aio import paths
from nova_v2v_rig.lab import guest as lab_guest
from nova_v2v_rig.lab import harness as lab_harness
from nova_v2v_rig.lab import hosts as lab_hosts
from nova_v2v_rig.lab import pingprobe
from nova_v2v_rig.lab import pingstats

LOG = logging.getLogger(__name__)

# Seconds the probe runs before a move starts (the guest's answers before
# it) and at most in all (a bound, far above the slowest move).
PROBE_LEAD = 1.0
PROBE_MAX_SECONDS = 900.0
# Seconds a guest that boots has to take its address (it does in 10-20 s
# on TCG; a dead tap on the userspace datapath would keep it from ever
# doing so, and each wait is the gate's time).
ADDRESS_TIMEOUT = 60
# Seconds the probe runs on once a rebooted guest has its address (the
# answers after the move that the checks count).
ANSWERS_SPAN = 1.5
# The result fields of a move without a port (a guest created with
# --nic none).
FIELDS = ('port_host', 'port_status', 'mac_kept', 'network_downtime_ms',
          'packets_lost')


class NetworkError(paths.AioError):
    """A guest's network could not be measured (not a failed check)."""


def guest_address(port):
    """The IPv4 address of a port record (``openstack port create``)."""
    facts = netcheck.port_facts(port)
    if not facts['ips']:
        raise NetworkError('port %s has no fixed IP' % facts['id'])
    return facts['ips'][0]


# The line the guest's /init says on each boot, before any record (see
# nova_v2v_rig.lab.guest): its first record will be ``resume``.
_LABSTART = re.compile(r'^(?:\[ *\d+\.\d+\] )?LABSTART .*\bresume=(\d+)\s*$',
                       re.MULTILINE)


def console_events(guest, after_record=None):
    """The LABNET events of the guest's console logs, oldest first.

    Both hosts' logs are read (one file on shared storage).

    :param after_record: only the events of a boot that resumed past this
        record (a boot after the records the guest had acknowledged then):
        a log the source's clean-up removed, renamed or a new QEMU
        truncated counts for nothing
    """
    events = []
    for path in guest.tail.paths:
        text = lab_harness.read_log(path)
        if after_record is not None:
            boots = [m for m in _LABSTART.finditer(text)
                     if int(m.group(1)) > after_record]
            if not boots:
                continue
            text = text[boots[-1].start():]
        events += lab_guest.net_events(text)
    return events


def last_record(guest):
    """The highest record the guest has acknowledged so far (0: none)."""
    return max((a[0] for a in guest.tail.merged()), default=0)


def wait_address(guest, after_record=None, timeout=ADDRESS_TIMEOUT,
                 interval=0.5):
    """The guest's newest ``bound`` LABNET event for its port's MAC.

    :param after_record: only an event of a boot after this record (see
        :func:`console_events`): a guest that booted again
    :raises: NetworkError when none came within ``timeout`` seconds
    """
    mac = netcheck.port_facts(guest.port)['mac'].lower()
    deadline = time.monotonic() + timeout
    while True:
        events = console_events(guest, after_record)
        bound = [e for e in events if e.kind == 'bound' and
                 (e.mac or '').lower() == mac]
        if bound:
            return bound[-1]
        if time.monotonic() > deadline:
            raise NetworkError(
                'the guest %s took no address for MAC %s within %d s%s '
                '(its LABNET lines: %s)' % (
                    guest.name, mac, timeout,
                    '' if after_record is None else
                    ' of booting again after record %d' % after_record,
                    events or 'none'))
        time.sleep(interval)


def domain_xml(lab, hostname, instance_name):
    """The domain's XML on lab host ``hostname`` (its unix socket)."""
    lab_host = {lab_hosts.HOSTS[h]['hostname']: h
                for h in lab_hosts.HOSTS}.get(hostname)
    if lab_host is None:
        return ''
    conn = libvirt.open(lab.local_uri(lab_host))
    try:
        return conn.lookupByName(instance_name).XMLDesc(0)
    except libvirt.libvirtError as exc:
        LOG.warning('No domain %(name)s on %(host)s: %(exc)s',
                    {'name': instance_name, 'host': hostname, 'exc': exc})
        return ''
    finally:
        conn.close()


def empty_fields():
    """The network fields of a move whose guest has no port."""
    return dict.fromkeys(FIELDS)


class MoveNetwork(object):
    """The probe of one move of a guest with a port, then its checks."""

    def __init__(self, layout, lab, guest, label):
        self.layout = layout
        self.lab = lab
        self.guest = guest
        self.address = guest_address(guest.port)
        safe = ''.join(c if c.isalnum() else '-' for c in label)
        run = os.path.join(lab.state_dir, 'run')
        os.makedirs(run, exist_ok=True)
        self.probe = pingprobe.Probe(
            lab_hosts.NET_NETNS, self.address, [lab_hosts.GUEST_SUBNET],
            os.path.join(run, 'probe-%s-%s.json' % (guest.id, safe)),
            max_seconds=PROBE_MAX_SECONDS)
        self.after_record = 0

    def start(self):
        """Start the probe; return once it has run :data:`PROBE_LEAD`."""
        self.after_record = last_record(self.guest)
        self.probe.start()
        time.sleep(PROBE_LEAD)
        return self

    def stop(self):
        """Stop the probe (also after a failure); its record or None."""
        try:
            return self.probe.stop()
        except pingprobe.ProbeError as exc:
            LOG.warning('The probe of %(guest)s: %(exc)s',
                        {'guest': self.guest.name, 'exc': exc})
            return None

    def finish(self, cloud, source, dest, instance_name, start, end,
               left_on=None):
        """Stop the probe and check the move; the result's fields.

        :param source: the host the guest left (for a revert: where it
            went and came back from)
        :param dest: the host it runs on now
        :param start: ``time.time()`` when the move began
        :param end: ``time.time()`` when it had finished (the server
            ACTIVE again)
        :param left_on: the host that must hold nothing of the port, if
            not ``source``
        :returns: the fields of :data:`FIELDS` and more, with
            ``network_problems``
        """
        record = self.stop()
        left_on = left_on or source
        problems = []
        if record is not None:
            start_p = pingstats.probe_time(record, start)
            end_p = pingstats.probe_time(record, end)
        else:
            start_p = end_p = None
            problems.append('the probe left no record')
        try:
            xml = domain_xml(self.lab, dest, instance_name)
            net = netcheck.check_move(
                cloud, self.guest.port['id'], dest, left_on,
                ovn.host_ovsdb(self.lab, _lab_host(left_on)),
                ovn.sb_db(self.layout), xml, record, start_p, end_p,
                dest_chassis=ovn.chassis(_lab_host(dest)))
        except (NetworkError, libvirt.libvirtError) as exc:
            net = {'problems': ['the network could not be checked: %s'
                                % exc]}
        problems += net['problems']
        fields = {k: net.get(k) for k in (
            'port', 'port_host', 'port_status', 'port_mac', 'mac_kept',
            'network_downtime_ms', 'network_downtime_open',
            'packets_lost', 'packets_lost_after', 'probes_sent',
            'probes_answered', 'answers_after_end', 'source_vifs',
            'port_binding', 'port_status_stale', 'probe_notes')}
        fields['upstream_defects'] = net.get('upstream_defects') or []
        fields['guest_address'] = self.address
        fields['network_problems'] = problems
        return fields


def _lab_host(hostname):
    for host, info in lab_hosts.HOSTS.items():
        if info['hostname'] == hostname:
            return host
    raise NetworkError('not a lab host: %s' % hostname)
