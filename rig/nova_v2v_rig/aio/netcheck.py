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

"""The network checks of a gate move: the guest's port went with it.

After each move the gate checks, with what an operator has:

- the port (``openstack port show -f json``): bound to the destination
  (``binding_host_id``, Neutron's ``binding:host_id``) and ``ACTIVE``,
  polled briefly since Neutron flips both a moment after Nova's move;
- the guest's MAC on the destination (``<interface><mac address>`` of the
  destination's domain XML) is the port's (``mac_kept``);
- the guest answers on its address: at least
  :data:`~nova_v2v_rig.lab.pingstats.ANSWERS_MIN` replies to the probe
  received from one second before the move's end on;
- nothing of the port is left on the source: no ``Interface`` on the
  source's Open vSwitch whose ``external_ids:iface-id`` is the port, and in
  OVN's southbound database the port's ``Port_Binding`` claimed by the
  destination's chassis alone (``chassis``; no ``additional_chassis``; its
  ``requested_chassis``, ``requested_additional_chassis`` and
  ``options:requested-chassis`` name the destination only) and ``up``.

The databases are read from the root namespace over the connection
strings given (``unix:PATH`` or ``tcp:127.0.0.1:PORT``), with
``ovs-vsctl``/``ovn-sbctl --format=json``: read-only, no network traffic
to the lab. :func:`check_move` runs every check and returns the fields of
the gate's JSON rows.
"""

import json
import time
from xml.etree import ElementTree

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.aio import paths
from nova_v2v_rig.lab import pingstats

LOG = logging.getLogger(__name__)

PORT_TIMEOUT = 30
BINDING_TIMEOUT = 30
POLL_INTERVAL = 0.5
DB_TIMEOUT = 10
PB_COLUMNS = ('logical_port', 'chassis', 'additional_chassis',
              'requested_chassis', 'requested_additional_chassis', 'up',
              'options')


class NetCheckError(paths.AioError):
    """A database or the cloud could not be read."""


# -- the port --------------------------------------------------------------

def port_facts(shown):
    """What the checks need of ``openstack port show -f json``'s output.

    python-openstackclient prints the SDK's names (``binding_host_id``,
    ``mac_address``); older clients printed Neutron's (``binding:host_id``).

    :returns: ``{'id', 'host', 'status', 'mac', 'ips', 'vif_type',
        'device_id'}``; the MAC in lower case
    """
    shown = shown or {}

    def get(*names):
        for name in names:
            if shown.get(name) not in (None, ''):
                return shown[name]
        return None

    mac = get('mac_address', 'MAC Address')
    ips = get('fixed_ips', 'Fixed IP Addresses') or []
    if isinstance(ips, list):
        ips = [ip.get('ip_address') for ip in ips if isinstance(ip, dict)]
    return {
        'id': get('id', 'ID'),
        'host': get('binding_host_id', 'binding:host_id'),
        'status': get('status', 'Status'),
        'mac': mac.lower() if mac else None,
        'ips': ips,
        'vif_type': get('binding_vif_type', 'binding:vif_type'),
        'device_id': get('device_id'),
    }


def _status_problem(facts):
    return 'port %s is %s, not ACTIVE' % (facts['id'], facts['status'])


def status_stale(facts, binding, chassis, probed):
    """Neutron's DOWN of a port that OVN has up where the guest answers.

    Neutron marks a port DOWN when it activates the destination's binding
    (``Ml2Plugin.activate``) and ACTIVE again only on an OVN event: the
    logical switch port going up, or a Port_Binding changing chassis
    without clearing ``additional_chassis``. The source's ovn-controller
    releasing the port and the destination's taking it over race on the
    same ``requested-chassis`` change: when the destination claims first,
    or both reach ovn-northd in one pass, the logical switch port never
    goes down, and the chassis change clears ``additional_chassis``:
    neither event comes and the port stays DOWN, whoever's driver moved it
    (seen in the ovn-controllers' logs: "Changing chassis for lport" on
    the destination with no "OVN reports status" in Neutron's after the
    activation).

    :param facts: :func:`port_facts`
    :param binding: :func:`binding_facts` of its Port_Binding, or None
    :param probed: the move's probe fields (:func:`probe_fields`)
    :returns: the problem's text naming that race, or None when the port
        is not DOWN, or when OVN or the guest say anything is wrong
    """
    if facts.get('status') != 'DOWN' or binding is None:
        return None
    if binding_problems(facts['id'], binding, chassis):
        return None
    if not probed.get('answers_after_end') or probed.get(
            'network_downtime_open'):
        return None
    return ('port %s is DOWN in Neutron while OVN has it up on %s and the '
            'guest answers there (Neutron\'s activation race, see '
            'netcheck.status_stale and doc/upstream/'
            'neutron-activation-race.rst)' % (facts['id'], chassis))


def port_problems(facts, host):
    """The port is bound to ``host`` and ACTIVE; else the problems."""
    problems = []
    if facts['host'] != host:
        problems.append('port %s bound to %s, not %s'
                        % (facts['id'], facts['host'], host))
    if facts['status'] != 'ACTIVE':
        problems.append(_status_problem(facts))
    return problems


def wait_port(cloud, port, host, timeout=PORT_TIMEOUT,
              interval=POLL_INTERVAL):
    """``port show`` until the port is bound to ``host`` and ACTIVE.

    :returns: (its :func:`port_facts` at the last read, the problems left
        at the deadline, [] if none)
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            facts = port_facts(cloud('port', 'show', port, parse=True))
            problems = port_problems(facts, host)
        except paths.AioError as exc:
            facts = port_facts({'id': port})
            problems = ['port %s: %s' % (port, exc)]
        if not problems or time.monotonic() >= deadline:
            return facts, problems
        time.sleep(interval)


# -- the guest's MAC on the destination -----------------------------------

def domain_macs(xml):
    """The MACs (lower case) of the domain's ``<interface>`` devices."""
    root = ElementTree.fromstring(xml)
    return [m.get('address').lower()
            for m in root.findall('./devices/interface/mac')
            if m.get('address')]


def mac_kept(xml, mac):
    """(the domain has an interface with the port's MAC, the problems)."""
    try:
        macs = domain_macs(xml) if xml else []
    except ElementTree.ParseError as exc:
        return False, ['the destination\'s domain XML: %s' % exc]
    if mac and mac.lower() in macs:
        return True, []
    return False, ['the destination\'s domain has MACs %s, not the port\'s '
                   '%s' % (', '.join(macs) or 'none', mac)]


# -- the OVSDB tables ------------------------------------------------------

def ovsdb_value(value):
    """One cell of ``--format=json`` output as plain Python.

    ``["uuid", U]`` is U, ``["set", [...]]`` a list, ``["map", [[k, v],
    ...]]`` a dict; a set of one element is printed as the element itself:
    :func:`ovsdb_set` reads either as a list.
    """
    if isinstance(value, list) and len(value) == 2:
        kind, body = value
        if kind == 'uuid' or kind == 'named-uuid':
            return body
        if kind == 'set':
            return [ovsdb_value(v) for v in body]
        if kind == 'map':
            return {ovsdb_value(k): ovsdb_value(v) for k, v in body}
    return value


def ovsdb_set(value):
    """A column of type set (min 0) as a list."""
    return value if isinstance(value, list) else [value]


def ovsdb_rows(out):
    """The rows of an ``ovs-vsctl``/``ovn-sbctl --format=json`` listing."""
    doc = json.loads(out or '{}')
    heads = doc.get('headings', [])
    return [dict(zip(heads, (ovsdb_value(v) for v in row)))
            for row in doc.get('data', [])]


def _ctl(*argv):
    try:
        out, _err = processutils.execute(*argv)
    except (processutils.ProcessExecutionError, OSError) as exc:
        raise NetCheckError('%s: %s' % (' '.join(argv[:2]), exc))
    return ovsdb_rows(out)


def ovs_interfaces(ovsdb, port):
    """Names of the Interfaces of the OVS at ``ovsdb`` bound to ``port``.

    Those whose ``external_ids:iface-id`` is the Neutron port's id (what
    os-vif sets when it plugs a VIF).
    """
    rows = _ctl('ovs-vsctl', '--db=%s' % ovsdb, '--timeout=%d' % DB_TIMEOUT,
                '--format=json', '--columns=name,external_ids', 'find',
                'Interface', 'external_ids:iface-id=%s' % port)
    return sorted(r['name'] for r in rows)


def chassis_names(sbdb):
    """``{Chassis row uuid: name}`` of OVN's southbound database."""
    rows = _ctl('ovn-sbctl', '--db=%s' % sbdb, '--timeout=%d' % DB_TIMEOUT,
                '--format=json', '--columns=_uuid,name', 'list', 'Chassis')
    return {r['_uuid']: r['name'] for r in rows}


def binding_facts(row, names):
    """A Port_Binding row with its Chassis references as chassis names.

    :param names: ``{uuid: name}`` (:func:`chassis_names`); a reference to
        a row not in it shows as its uuid
    :returns: ``{'chassis', 'additional_chassis', 'requested_chassis',
        'requested_additional_chassis', 'requested_option', 'up'}``;
        ``chassis`` and ``requested_chassis`` a name or None, the others
        lists; ``requested_option`` the names in
        ``options:requested-chassis``; ``up`` True, False or None
    """
    def one(value):
        got = [names.get(v, v) for v in ovsdb_set(value)]
        return got[0] if got else None

    def many(value):
        return sorted(names.get(v, v) for v in ovsdb_set(value))

    options = row.get('options') or {}
    up = ovsdb_set(row.get('up', []))
    requested = options.get('requested-chassis', '')
    return {
        'chassis': one(row.get('chassis', [])),
        'additional_chassis': many(row.get('additional_chassis', [])),
        'requested_chassis': one(row.get('requested_chassis', [])),
        'requested_additional_chassis': many(
            row.get('requested_additional_chassis', [])),
        'requested_option': [n for n in requested.split(',') if n],
        'up': up[0] if up else None,
    }


def port_binding(sbdb, port):
    """:func:`binding_facts` of the port's Port_Binding, or None."""
    rows = _ctl('ovn-sbctl', '--db=%s' % sbdb, '--timeout=%d' % DB_TIMEOUT,
                '--format=json', '--columns=%s' % ','.join(PB_COLUMNS),
                'find', 'Port_Binding', 'logical_port=%s' % port)
    if not rows:
        return None
    return binding_facts(rows[0], chassis_names(sbdb))


def binding_problems(port, binding, chassis):
    """The Port_Binding is claimed by ``chassis`` alone; else the problems.

    :param binding: :func:`binding_facts`, or None (no row)
    """
    if binding is None:
        return ['no Port_Binding for port %s in OVN\'s southbound database'
                % port]
    problems = []
    if binding['chassis'] != chassis:
        problems.append('port %s: Port_Binding chassis %s, not %s'
                        % (port, binding['chassis'], chassis))
    if binding['additional_chassis']:
        problems.append('port %s: Port_Binding still has additional_chassis '
                        '%s' % (port, ', '.join(
                            binding['additional_chassis'])))
    if binding['requested_chassis'] not in (None, chassis):
        problems.append('port %s: Port_Binding requested_chassis %s, not %s'
                        % (port, binding['requested_chassis'], chassis))
    if binding['requested_additional_chassis']:
        problems.append('port %s: Port_Binding requested_additional_chassis '
                        '%s' % (port, ', '.join(
                            binding['requested_additional_chassis'])))
    if binding['requested_option'] not in ([], [chassis]):
        problems.append('port %s: options:requested-chassis %s, not %s'
                        % (port, ','.join(binding['requested_option']),
                           chassis))
    if binding['up'] is not True:
        problems.append('port %s: Port_Binding up is %s'
                        % (port, binding['up']))
    return problems


def leftover_problems(port, source_host, interfaces, binding, chassis):
    """The problems of what the source still holds of the port."""
    problems = []
    if interfaces:
        problems.append('port %s still plugged on %s\'s Open vSwitch: %s'
                        % (port, source_host, ', '.join(interfaces)))
    return problems + binding_problems(port, binding, chassis)


def wait_source_clean(port, source_host, source_ovsdb, sbdb, chassis,
                      timeout=BINDING_TIMEOUT, interval=POLL_INTERVAL):
    """Read the source's OVS and the SB until nothing of the port is left.

    :returns: (the Interfaces found, the :func:`binding_facts`, the
        problems left at the deadline)
    """
    deadline = time.monotonic() + timeout
    while True:
        interfaces = ovs_interfaces(source_ovsdb, port)
        binding = port_binding(sbdb, port)
        problems = leftover_problems(port, source_host, interfaces, binding,
                                     chassis)
        if not problems or time.monotonic() >= deadline:
            return interfaces, binding, problems
        time.sleep(interval)


# -- the probe's record ----------------------------------------------------

def probe_fields(record, start, end, answers_min=pingstats.ANSWERS_MIN):
    """The network downtime, loss and answers of the move.

    :param start: the move's start, ``end``: when it finished (probe
        clock, see :func:`nova_v2v_rig.lab.pingstats.probe_time`)
    :returns: (fields, problems)
    """
    got = pingstats.analyse(record, start, end)
    answered = pingstats.answers_after(record, end)
    fields = {
        'network_downtime_ms': got['network_downtime_ms'],
        'network_downtime_open': got['downtime_open'],
        'packets_lost': got['packets_lost'],
        'packets_lost_after': got['packets_lost_after'],
        'probes_sent': got['probes_sent'],
        'probes_answered': got['probes_answered'],
        'answers_after_end': answered,
        'probe_notes': got['notes'],
    }
    problems = []
    if answered < answers_min:
        problems.append('the guest answered %d probes after the move\'s '
                        'end, fewer than %d' % (answered, answers_min))
    if got['downtime_open']:
        problems.append('the guest did not answer again before the probe '
                        'stopped: an outage of at least %d ms'
                        % got['network_downtime_ms'])
    return fields, problems


def check_move(cloud, port, dest_host, source_host, source_ovsdb, sbdb,
               dest_xml, record, start, end, dest_chassis=None,
               port_timeout=PORT_TIMEOUT, binding_timeout=BINDING_TIMEOUT):
    """Every network check of a move; the fields of the gate's JSON row.

    :param cloud: a :class:`nova_v2v_rig.aio.cli.OpenStack`
    :param port: the guest's Neutron port (id)
    :param source_ovsdb: the connection string of the source host's
        Open vSwitch database (``unix:PATH``)
    :param sbdb: the connection string of OVN's southbound database
    :param dest_xml: the guest's domain XML on the destination's libvirt
    :param record: the probe's record (None: no probe, a problem)
    :param start: the move's start, ``end``: when it finished, on the
        probe's clock
    :param dest_chassis: the destination's OVN chassis name (its
        ``system-id``); the destination's host name if None
    :returns: a dict: ``port``, ``port_host``, ``port_status``, ``port_mac``,
        ``mac_kept``, ``network_downtime_ms``, ``network_downtime_open``,
        ``packets_lost``, ``packets_lost_after``, ``probes_sent``,
        ``probes_answered``, ``answers_after_end``, ``probe_notes``,
        ``source_vifs``, ``port_binding``, ``port_status_stale`` (the port
        is DOWN only by Neutron's activation race, :func:`status_stale`),
        ``upstream_defects`` (that race's text, not a problem: every
        other check passed, OVN and the guest say the port is up where
        it went) and ``problems`` (a list, [] if every check passed)
    """
    chassis = dest_chassis or dest_host
    problems = []
    facts, found = wait_port(cloud, port, dest_host, timeout=port_timeout)
    problems += found
    kept, found = mac_kept(dest_xml, facts['mac'])
    problems += found
    result = {'port': port, 'port_host': facts['host'],
              'port_status': facts['status'], 'port_mac': facts['mac'],
              'mac_kept': kept}
    if record is None:
        problems.append('no probe record: the guest\'s network was not '
                        'probed')
        result.update(network_downtime_ms=None, packets_lost=None,
                      probes_sent=None, probes_answered=None)
    else:
        fields, found = probe_fields(record, start, end)
        result.update(fields)
        problems += found
    try:
        interfaces, binding, found = wait_source_clean(
            port, source_host, source_ovsdb, sbdb, chassis,
            timeout=binding_timeout)
    except NetCheckError as exc:
        interfaces, binding, found = None, None, [str(exc)]
    problems += found
    stale = status_stale(facts, binding, chassis, result)
    defects = []
    if stale and _status_problem(facts) in problems:
        # Neutron's, not the move's: named apart, not a problem.
        problems = [p for p in problems if p != _status_problem(facts)]
        defects.append(stale)
    result.update(source_vifs=interfaces, port_binding=binding,
                  port_status_stale=bool(defects), upstream_defects=defects,
                  problems=problems)
    LOG.info('network of port %(port)s after the move to %(host)s: '
             '%(ms)s ms down, %(lost)s lost; %(problems)s',
             {'port': port, 'host': dest_host,
              'ms': result.get('network_downtime_ms'),
              'lost': result.get('packets_lost'),
              'problems': '; '.join(problems) or 'OK'})
    return result
