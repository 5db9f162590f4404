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

"""The gate's ``import`` stage: a VMware export becomes a server, then moves.

The rig exports the lab guest's disk as VMware's ``ovftool`` would
(:mod:`nova_v2v_rig.aio.ovaexport`: OVF 1.0, a VMware paravirtual SCSI
controller, a vmxnet3 NIC with a VMware MAC on ``VM Network``, a
streamOptimized VMDK with a pattern in it, a SHA256 manifest).
``nova-v2v import`` makes it a server of the all-in-one the way an
operator would: its network mapped to the gate's (``--network "VM
Network=lab-net"``), the lab's kernel and initramfs booting it
(``--property``, as the gate's own images do), the flavor the import picks.
Then the gate checks what a VMware guest must become on KVM:

* the import's JSON says ``ok``, its image carries the translated
  hardware (``hw_disk_bus``, ``hw_vif_model``: virtio);
* the server boots on a nova-v2v compute and writes its records; its
  domain's disk and NIC are virtio, its NIC keeps the export's MAC, the
  guest's kernel binds ``virtio_net`` and takes its port's address;
* the export's data (the pattern) is on the server's disk, and every
  record the guest acknowledged is (0 lost);

and moves it like any other server: ``nova-v2v check``, then a block live
migration to the other compute with every check of
:func:`gatemove.run_move`, the pattern read again on the destination.

The result is the gate report's ``import`` object (``ok``,
``records_lost``, ...); the move is one of its ``moves``.
"""

import os
import shutil
import tempfile
import time

from lxml import etree
from oslo_log import log as logging

from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import gatenet
from nova_v2v_rig.aio import images
from nova_v2v_rig.aio import network
from nova_v2v_rig.aio import ovaexport

LOG = logging.getLogger(__name__)

NAME = 'gate-import'
# The export's disk and the pattern in it (MiB): past every record the
# workload writes in the stage (one 512-byte sector each, from sector 0).
CAPACITY_MIB = 256
PATTERN_AT_MIB = 64
PATTERN_MIB = 16
PATTERN_BYTE = 0x5a
# What the import must have made of the VMware hardware on a QEMU host.
IMAGE_PROPERTIES = {'hw_disk_bus': 'virtio', 'hw_vif_model': 'virtio'}
IMPORT_LABEL = 'live, block (imported)'


def import_args(ova, ids, work_dir):
    """``nova-v2v import``'s arguments for the lab's OVA.

    :param ids: the gate's images (:func:`images.ensure`): the kernel and
        the initramfs that boot the lab guest
    """
    return [ova, '--name', NAME,
            '--network', '%s=%s' % (ovaexport.NETWORK, network.NETWORK),
            '--target', 'qemu', '--work-dir', work_dir,
            '--property', 'kernel_id=%s' % ids[images.KERNEL],
            '--property', 'ramdisk_id=%s' % ids[images.RAMDISK],
            '--property', 'os_command_line=%s' % images.COMMAND_LINE,
            '--wait-timeout', gatemove.BOOT_TIMEOUT * 2]


def pattern_intact(disk):
    """Whether the export's pattern is on ``disk`` (raw bytes)."""
    start = PATTERN_AT_MIB << 20
    end = start + (PATTERN_MIB << 20)
    if len(disk) < end:
        return False
    want = bytes([PATTERN_BYTE]) * (1 << 20)
    return all(disk[at:at + (1 << 20)] == want
               for at in range(start, end, 1 << 20))


def domain_devices(xml):
    """The domain's disks and NICs as the gate checks them.

    :param xml: the domain's XML (text)
    :returns: ``{'disks': [(target dev, bus)], 'nics': [(model, mac)]}``
    """
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    disks = [(d.get('dev'), d.get('bus'))
             for d in root.findall('./devices/disk[@device="disk"]/target')]
    nics = []
    for nic in root.findall('./devices/interface'):
        model = nic.find('model')
        mac = nic.find('mac')
        nics.append((model.get('type') if model is not None else None,
                     (mac.get('address') or '').lower()
                     if mac is not None else None))
    return {'disks': disks, 'nics': nics}


def device_problems(devices, mac):
    """What of the domain is not the translated guest: a list of text."""
    problems = []
    buses = [bus for _dev, bus in devices['disks']]
    # The root disk (and an ephemeral or swap disk the flavor may add).
    if ('vda', 'virtio') not in devices['disks'] or set(buses) != {'virtio'}:
        problems.append('the domain\'s disks are %s, not a root disk vda '
                        'and any other on virtio' % (devices['disks'] or
                                                     'none'))
    if devices['nics'] != [('virtio', mac.lower())]:
        problems.append('the domain\'s NICs are %s, not one virtio NIC '
                        'with %s' % (devices['nics'], mac.lower()))
    return problems


def clear_leftovers(cloud):
    """Delete what an earlier run's import left (a killed gate).

    Its server, its ports (their MAC is the export's: a port left with it
    would make the next import's port a conflict) and its image, by the
    names the import gives them.

    :returns: what was deleted, ``[(kind, id)]``
    """
    gone = []
    for row in cloud('server', 'list', '--name', '^%s$' % NAME,
                     parse=True) or []:
        cloud('server', 'delete', '--wait', row['ID'], check=False)
        gone.append(('server', row['ID']))
    for row in cloud('port', 'list', parse=True) or []:
        if (row.get('Name') or '').startswith(NAME + '-nic') or (
                row.get('MAC Address') or '').lower() == ovaexport.MAC:
            cloud('port', 'delete', row['ID'], check=False)
            gone.append(('port', row['ID']))
    for row in cloud('image', 'list', parse=True) or []:
        if row.get('Name') == NAME + '-disk':
            cloud('image', 'delete', row['ID'], check=False)
            gone.append(('image', row['ID']))
    if gone:
        LOG.warning('Deleted what an earlier import left: %s', gone)
    return gone


def _run_import(cloud, ova, ids, work_dir, imported):
    """``nova-v2v import``; its output, or None when it failed."""
    start = time.time()
    rc, out = cloud.v2v('import', *import_args(ova, ids, work_dir))
    imported['seconds'] = round(time.time() - start, 1)
    imported['exit'] = rc
    imported['output'] = out
    if rc != 0 or not out.get('ok'):
        imported['problems'].append('nova-v2v import: exit %s: %s (%s)' % (
            rc, out.get('error') or out.get('output'),
            out.get('error_type')))
        for item in out.get('left') or ():
            imported['problems'].append('nova-v2v import left %s'
                                        % ' '.join(str(i) for i in item))
        return None, start
    return out, start


def _check_server(cloud, lab, guest, out, event, info, imported):
    """The imported server as KVM runs it: image, domain, NIC, disk.

    :param info: the server as ``server show`` printed it
    """
    host = cli.host_of(info)
    problems = imported['problems']
    shown = cloud('image', 'show', out['image_id'], parse=True) or {}
    properties = shown.get('properties') or {}
    imported['image_properties'] = {
        k: properties.get(k) for k in sorted(properties)
        if k.startswith(('hw_', 'os_', 'kernel_id', 'ramdisk_id'))}
    for key, value in sorted(IMAGE_PROPERTIES.items()):
        if str(properties.get(key)) != value:
            problems.append('the image\'s %s is %s, not %s'
                            % (key, properties.get(key), value))
    mac = (guest.port or {}).get('mac_address', '')
    imported['mac'] = mac
    if mac.lower() != ovaexport.MAC:
        problems.append('the port\'s MAC is %s, not the export\'s %s'
                        % (mac, ovaexport.MAC))
    devices = domain_devices(gatenet.domain_xml(
        lab, host, info.get('OS-EXT-SRV-ATTR:instance_name')))
    imported['disk_buses'] = [bus for _dev, bus in devices['disks']]
    imported['nic_models'] = [model for model, _mac in devices['nics']]
    problems += device_problems(devices, ovaexport.MAC)
    imported['nic_driver'] = event.driver if event else None
    if imported['nic_driver'] != 'virtio_net':
        problems.append('the guest\'s NIC driver is %s, not virtio_net'
                        % imported['nic_driver'])
    lab_host = gatemove.LAB_HOST[host]
    check = gatemove.read_records(lab, lab_host, guest.inside('disk'),
                                  guest.tail.merged())
    imported.update(records_written=check['records_written'],
                    records_verified=check['records_verified'],
                    records_lost=check['records_lost'])
    if check['records_lost'] or \
            check['records_verified'] < check['records_written']:
        problems.append('records: %d written, %d verified, %d lost'
                        % (check['records_written'],
                           check['records_verified'],
                           check['records_lost']))
    imported['pattern_intact'] = gatemove.read_disk(
        lab, lab_host, guest.inside('disk'), pattern_intact)
    if not imported['pattern_intact']:
        problems.append('the export\'s data is not on the server\'s disk')


def stage_import(layout, cloud, lab, ids, events=None, checks=None,
                 repeat=1, found=None):
    """The lab's OVA imported, checked, then moved; the stage's moves.

    Its ``import`` object goes into ``found`` (the gate's report) whatever
    happens; its ``ok`` is False when the import or a check of the imported
    server failed. The server, its port and its image are deleted at the
    end.
    """
    checks = [] if checks is None else checks
    found = {} if found is None else found
    imported = {'ok': False, 'problems': [], 'records_lost': None,
                'records_written': None, 'records_verified': None}
    found['import'] = imported
    work = tempfile.mkdtemp(prefix='gate-import-', dir=layout.run_dir)
    guest = gatemove.Guest(cloud, lab, NAME, False)
    out = None
    moves = []
    try:
        imported['cleared'] = clear_leftovers(cloud)
        ova = ovaexport.build(work, NAME, CAPACITY_MIB,
                              data=(PATTERN_AT_MIB, PATTERN_MIB))
        imported['ova_bytes'] = os.path.getsize(ova)
        out, start = _run_import(cloud, ova, ids,
                                 os.path.join(work, 'import'), imported)
        if out is None:
            return moves
        imported.update(server=out['server_id'], image=out['image_id'],
                        flavor=out.get('flavor'),
                        timings=out.get('timings'))
        # The gate's now: deleted at the end whatever fails next.
        guest.id = out['server_id']
        ports = out.get('port_ids') or []
        guest.port = {'id': ports[0]} if ports else None
        port = (cloud('port', 'show', ports[0], parse=True)
                if ports else None)
        info = cloud.server(out['server_id'])
        host = cli.host_of(info)
        imported['host'] = host
        if host not in gatemove.LAB_HOST:
            imported['problems'].append('the server is on %s, no lab host'
                                        % host)
            return moves
        event = guest.adopt(out['server_id'], port, start, host)
        imported['boot_seconds'] = round(time.time() - start, 1)
        _check_server(cloud, lab, guest, out, event, info, imported)
        imported['ok'] = not imported['problems']
        LOG.info('Import: %(ok)s %(problems)s',
                 {'ok': 'OK' if imported['ok'] else 'FAILED',
                  'problems': '; '.join(imported['problems'])})
        other = gatemove.HOST_B if host == gatemove.HOST_A \
            else gatemove.HOST_A
        checks.append(gatemove.run_check(
            cloud, guest, 'imported server', 0, {host: None,
                                                 other: 'block-live'}))
        move = gatemove.run_move(
            layout, cloud, guest, IMPORT_LABEL,
            gatemove.live_args(guest, '--block-migration'), other,
            'block-live', events=events)
        moves.append(move)
        went = gatemove.LAB_HOST.get(move['to'])
        if went is not None and not gatemove.read_disk(
                lab, went, guest.inside('disk'), pattern_intact):
            move['problems'].append('the export\'s data is not on the '
                                    'destination\'s disk')
            move['ok'] = False
        return moves
    except Exception as exc:
        # The import object says why, whatever the report's errors hold.
        imported['ok'] = False
        imported['problems'].append('%s: %s' % (type(exc).__name__, exc))
        raise
    finally:
        guest.delete()
        if out is not None and out.get('image_id'):
            cloud('image', 'delete', out['image_id'], check=False)
        shutil.rmtree(work, ignore_errors=True)
