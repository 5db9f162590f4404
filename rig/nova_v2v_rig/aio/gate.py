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

"""The gate: real moves of a real guest through the ``openstack`` client.

``tox -e gate`` (``nova-v2v-aio gate``) builds the lab (two libvirt/QEMU
hosts), the all-in-one control plane and its two nova-v2v computes, puts
the lab guest in Glance, then moves guests the way an operator does, with
the ``openstack`` client (and ``nova-v2v``) only, in eight stages:

``local``
    Each compute on its own store, same profile. A guest is created on
    labhost-a; ``server migrate --live-migration --block-migration``
    (scheduled), again with ``--host labhost-a``, then a cold ``server
    migrate`` and ``server resize confirm``, and one ``server resize
    revert``.
``import``
    The lab guest's disk exported as VMware would (an OVA: pvscsi, vmxnet3,
    streamOptimized VMDK) and imported by ``nova-v2v import``; the server
    it makes boots with virtio devices and the export's MAC, keeps the
    export's data and every record, then block live-migrates
    (:mod:`nova_v2v_rig.aio.gateimport`).
``drain``
    ``nova-v2v drain labhost-a`` empties labhost-a of six servers (two
    flavors, one stopped, one that only a V2V cutover moves), interrupted
    by SIGINT once and run again; every server's records are checked on
    labhost-b (:mod:`nova_v2v_rig.aio.gatedrain`).
``baseline-local``
    The same two block live migrations by stock Nova (``nova-compute``,
    ``libvirt.LibvirtDriver``): the baseline of the network downtime.
``profiles``
    labhost-b runs raw disks only (``[v2v] disk_formats = raw``, and Nova's
    raw image backend: ``[DEFAULT] use_cow_images = False``): a live
    migration of a qcow2 guest to it stays a block live migration, into a
    raw disk; one of a guest with a vmxnet3 NIC is a V2V cutover that
    gives the guest a virtio-net NIC (and converts the disk); a cold
    ``server migrate`` of another converts its qcow2 disk, an overlay on
    Nova's image cache, to a whole raw disk (the offline V2V move). Each
    ends on a raw disk.
``shared``
    Both computes on the lab's common directory: ``server migrate
    --live-migration`` without ``--block-migration`` (``block_migration``
    auto) resolves to a shared-storage live migration; and back with
    ``--host``.
``baseline-shared``
    The same two moves by stock Nova.
``upgrade``
    A rolling upgrade: labhost-b, emptied, runs Debian 13's libvirt and
    QEMU; a guest created on labhost-a moves to it live and back, and one
    created on it (a machine type only its QEMU runs) comes back by a V2V
    cutover (:mod:`nova_v2v_rig.aio.gateupgrade`).

With ``repeat`` the live moves of a stage go back and forth that many
times.

During each live move ``server migration list`` and ``server migration
show`` are read; after each move the gate checks the server's host and
status, the migration record, the mode the planner chose (the compute's
log), that nothing of the guest is left on the source (its domain, its
instance directory on a host's own store) and the guest's records on the
destination's disk against every write the guest acknowledged on its serial
console (0 lost).

The downtime is the longest gap between two acknowledged writes as the host
saw them appear on the serial console: the guest's own clock stops while
it is paused.
"""

import contextlib
import re
import sys
import time

from oslo_log import log as logging

from nova_v2v.deploy import novaconf
from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import config
from nova_v2v_rig.aio import gatedrain
from nova_v2v_rig.aio import gateimport
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import gatereport
from nova_v2v_rig.aio import gateupgrade
from nova_v2v_rig.aio import images
from nova_v2v_rig.aio import network
from nova_v2v_rig.aio import observe
from nova_v2v_rig.aio import stack
from nova_v2v_rig.lab import hosts as lab_hosts
from nova_v2v_rig.lab import migrate as lab_migrate

LOG = logging.getLogger(__name__)

STAGES = ('local', 'import', 'drain', 'baseline-local', 'profiles',
          'shared', 'baseline-shared', 'upgrade')
# The computes and the drivers, as gatemove names them.
HOST_A = gatemove.HOST_A
HOST_B = gatemove.HOST_B
NOVA_V2V = gatemove.NOVA_V2V
BASELINE = gatemove.BASELINE
_LOADED = re.compile(r"Loading compute driver '([^']+)'")


@contextlib.contextmanager
def _created(cloud, lab, ids, name, shared, image=images.DISK):
    """A new guest of a lab image on labhost-a, deleted afterwards."""
    guest = gatemove.Guest(cloud, lab, name, shared)
    try:
        guest.create(HOST_A, ids[image], ids[images.FLAVOR])
        yield guest
    finally:
        guest.delete()


def _back_and_forth(layout, cloud, guest, label, extra, mode, repeat,
                    events, variant=NOVA_V2V):
    """``repeat`` times: to labhost-b (scheduled), back with ``--host``."""
    results = []
    for _i in range(repeat):
        results.append(gatemove.run_move(
            layout, cloud, guest, label % 'scheduled',
            gatemove.live_args(guest, *extra),
            HOST_B, mode, events=events, variant=variant))
        results.append(gatemove.run_move(
            layout, cloud, guest, label % '--host',
            gatemove.live_args(guest, *(extra + ('--host', HOST_A))),
            HOST_A, mode,
            events=events, variant=variant))
    return results


def stage_local(layout, cloud, lab, ids, events=None, checks=None,
                repeat=1, found=None):
    checks = [] if checks is None else checks
    with _created(cloud, lab, ids, 'gate-local', False) as guest:
        checks.append(gatemove.run_check(
            cloud, guest, 'fits live', 0,
            {HOST_A: None, HOST_B: 'block-live'}))
        cloud('compute', 'service', 'set', '--disable', HOST_B,
              'nova-compute')
        try:
            checks.append(gatemove.run_check(
                cloud, guest, 'none fits (disabled)', 1,
                {HOST_A: None, HOST_B: None}))
        finally:
            cloud('compute', 'service', 'set', '--enable', HOST_B,
                  'nova-compute')
        results = _back_and_forth(layout, cloud, guest,
                                  'live, block (%s)', ('--block-migration',),
                                  'block-live', repeat, events)
        # Both computes run the guest's disk format: nothing to convert,
        # Nova's own cold migration, confirmed; then one reverted.
        results.append(gatemove.run_move(
            layout, cloud, guest, 'cold + resize confirm',
            ('server', 'migrate', '--wait', guest.id), HOST_B,
            observe.NOVA_OWN, cold='confirm', events=events))
        results.append(gatemove.run_move(
            layout, cloud, guest, 'cold + resize revert',
            ('server', 'migrate', '--wait', guest.id), HOST_B,
            observe.NOVA_OWN, cold='revert', events=events))
    return results


def stage_baseline_local(layout, cloud, lab, ids, events=None, checks=None,
                         repeat=1, found=None):
    """Block live migrations by stock Nova (its driver and flags)."""
    with _created(cloud, lab, ids, 'gate-baseline-local', False) as guest:
        return _back_and_forth(layout, cloud, guest, 'live, block (%s)',
                               ('--block-migration',), observe.NOVA_OWN,
                               repeat, events, variant=BASELINE)


def stage_profiles(layout, cloud, lab, ids, events=None, checks=None,
                   repeat=1, found=None):
    checks = [] if checks is None else checks
    results = []
    # labhost-b runs raw disks only: the disk format is no reason to
    # restart a guest. A live block migration writes it into a raw disk.
    with _created(cloud, lab, ids, 'gate-convert', False) as guest:
        checks.append(gatemove.run_check(
            cloud, guest, 'converts live', 0, {HOST_B: 'block-live'}))
        results.append(gatemove.run_move(
            layout, cloud, guest, 'live, block into a raw disk',
            gatemove.live_args(guest, '--block-migration'), HOST_B,
            'block-live', events=events, expect_format='raw'))
    # A vmxnet3 guest: a NIC model translation cannot move live. Its live
    # move is a V2V cutover that gives it a virtio-net NIC (and converts
    # its disk).
    # A new guest each time (the cutover's way back would be another).
    for i in range(repeat):
        with _created(cloud, lab, ids, 'gate-profiles', False,
                      images.VMXNET3_DISK) as guest:
            if not i:
                checks.append(gatemove.run_check(
                    cloud, guest, 'needs the cutover', 0,
                    {HOST_B: 'v2v-cutover'}))
            results.append(gatemove.run_move(
                layout, cloud, guest, 'live, profiles and NIC differ',
                gatemove.live_args(guest, '--block-migration'), HOST_B,
                'v2v-cutover', events=events, expect_format='raw'))
    # labhost-b runs raw disks only: a cold migration converts the qcow2
    # disk (an overlay on Nova's image cache) on the way (the offline V2V
    # mode).
    with _created(cloud, lab, ids, 'gate-offline', False) as guest:
        results.append(gatemove.run_move(
            layout, cloud, guest, 'cold + confirm, profiles differ',
            ('server', 'migrate', '--wait', guest.id), HOST_B, 'offline',
            cold='confirm', events=events, expect_format='raw'))
    return results


def stage_shared(layout, cloud, lab, ids, events=None, checks=None,
                 repeat=1, found=None):
    checks = [] if checks is None else checks
    with _created(cloud, lab, ids, 'gate-shared', True) as guest:
        checks.append(gatemove.run_check(
            cloud, guest, 'shared storage', 0, {HOST_B: 'shared-live'}))
        return _back_and_forth(layout, cloud, guest,
                               'live, shared storage (%s)', (),
                               'shared-live', repeat, events)


def stage_baseline_shared(layout, cloud, lab, ids, events=None, checks=None,
                          repeat=1, found=None):
    """Shared-storage live migrations by stock Nova."""
    with _created(cloud, lab, ids, 'gate-baseline-shared', True) as guest:
        return _back_and_forth(layout, cloud, guest,
                               'live, shared storage (%s)', (),
                               observe.NOVA_OWN, repeat, events,
                               variant=BASELINE)


# The computes' configuration of each stage: (v2v_options, shared, stock).
STAGE_COMPUTES = {
    'local': ({}, False, False),
    'import': ({}, False, False),
    'drain': ({}, False, False),
    'baseline-local': ({}, False, True),
    'profiles': ({'b': {'disk_formats': 'raw'}}, False, False),
    'shared': ({}, True, False),
    'baseline-shared': ({}, True, True),
    # labhost-b's compute starts again on the upgraded libvirt, and once
    # more when it is back on the machine's (gateupgrade).
    'upgrade': ({}, False, False),
}
# Nova's own options of some computes in a stage: labhost-b of the
# profiles stage is a raw-only host as Nova knows one (its image backend
# raw; a cold move's raw disk is not made qcow2 again by Nova).
STAGE_HOST_EXTRA = {
    'profiles': {'b': (('DEFAULT', 'use_cow_images', 'false'),)},
    'drain': {'a': gatedrain.HOST_EXTRA, 'b': gatedrain.HOST_EXTRA},
}
# Each: (layout, cloud, lab, ids, events, checks, repeat, found=) -> its
# moves; it appends its nova-v2v checks to ``checks`` and puts what else it
# found (the import stage: ``import``) into ``found``, the report.
STAGE_RUN = {'local': stage_local, 'import': gateimport.stage_import,
             'drain': gatedrain.stage_drain,
             'baseline-local': stage_baseline_local,
             'profiles': stage_profiles, 'shared': stage_shared,
             'baseline-shared': stage_baseline_shared,
             'upgrade': gateupgrade.stage_upgrade}


def _computes(layout, lab, stage, current):
    """(Re)start the computes for ``stage`` unless they run that way."""
    wanted = STAGE_COMPUTES[stage] + (STAGE_HOST_EXTRA.get(stage),)
    if current == wanted:
        return current
    start = time.monotonic()
    computes.down(layout)
    mark = observe.LogMark(layout)
    computes.up(layout, lab, v2v_options=wanted[0], shared=wanted[1],
                stock=wanted[2], host_extra=STAGE_HOST_EXTRA.get(stage))
    # Each compute says which driver it loaded: the baseline's must be
    # stock Nova's, the others nova-v2v's.
    driver = computes.STOCK_DRIVER if wanted[2] else novaconf.COMPUTE_DRIVER
    loaded = _LOADED.findall(mark.text())
    if loaded != [driver] * len(lab_hosts.HOSTS):
        raise gatemove.GateError(
            'the computes of stage %s loaded %s, not %s each'
            % (stage, loaded or 'no driver', driver))
    LOG.info('Computes for stage %(stage)s up in %(s).1f s',
             {'stage': stage, 's': time.monotonic() - start})
    return wanted


def _run_stage(report, stage, layout, cloud, lab, ids, events, repeat=1):
    """A stage's moves and checks into ``report``; once more on a known fault.

    A server that crashed after a move whose plan told why QEMU may lose its
    memory writes, with that fault's crash on its console
    (:attr:`lab_migrate.GuestCrashed.explained`), is recorded in
    ``report['repeated']`` and the stage runs again with a new server
    (:func:`lab_migrate.once_more`); any other failure (another crash, a
    crash after a move the fault cannot hit), or a second crash, fails the
    stage. Each move and check of the second run that passed is named in
    the entry's ``passed_again`` and in one ``RERUN-PASSED`` line on
    stderr (:func:`lab_migrate.rerun_passed_line`; tools/run-tests.sh
    counts them).
    """
    checks = []
    found = {}

    def attempt():
        del checks[:]
        found.clear()
        return STAGE_RUN[stage](layout, cloud, lab, ids, events, checks,
                                repeat, found=found)

    def told(exc):
        LOG.warning('Stage %(stage)s: %(exc)s; known QEMU fault: %(fault)s '
                    '(%(sig)s); running the stage once more',
                    {'stage': stage, 'exc': exc, 'fault': exc.known_fault,
                     'sig': exc.signature})
        report['repeated'].append({'stage': stage, 'crash': exc.crash,
                                   'known_fault': exc.known_fault,
                                   'signature': exc.signature,
                                   'passed_again': []})

    moves = []

    def passed(exc):
        names = (['%s/%s' % (stage, m['move']) for m in moves if m['ok']] +
                 ['%s/check %s' % (stage, c['check']) for c in checks
                  if c['ok']])
        report['repeated'][-1]['passed_again'] = names
        for name in names:
            sys.stderr.write(lab_migrate.rerun_passed_line(
                'gate ' + name, exc.signature) + '\n')
        sys.stderr.flush()

    def run_stage():
        moves[:] = attempt()
        return moves

    try:
        report['moves'] += lab_migrate.once_more(run_stage, told, passed)
    except Exception as exc:
        LOG.exception('Stage %s failed', stage)
        report['errors'].append('%s: %s' % (stage, exc))
        if getattr(exc, 'report', None):
            # The whole crash, to tell the next known fault's signature.
            LOG.error('Stage %(stage)s: the guest\'s crash:\n%(report)s',
                      {'stage': stage, 'report': exc.report})
            report.setdefault('crash_reports', []).append(
                {'stage': stage, 'report': exc.report})
    finally:
        report['checks'] += checks
        # What the stage found besides its moves and checks (the import).
        report.update(found)


def run(layout, lab, stages=STAGES, keep=False, constraints=None, repeat=1,
        network_voting=True):
    """Build, move, check, tear down; the report (a dict).

    :param repeat: how many times each stage moves its guest live to
        labhost-b and back (the medians of the report's summary)
    :param network_voting: a move's network problems fail it (the
        default; False: reported only)
    """
    gatemove.OPTIONS['network_voting'] = bool(network_voting)
    t0 = time.monotonic()
    report = {'moves': [], 'checks': [], 'steps': {}, 'errors': [],
              'repeated': [], 'network_voting': bool(network_voting)}
    started_lab = started_aio = False
    events = None
    try:
        step = time.monotonic()
        if not lab.load():
            lab.up(shared=False)
            started_lab = True
        report['steps']['lab'] = round(time.monotonic() - step, 1)
        step = time.monotonic()
        if not stack.running(layout.load()):
            stack.up(layout, constraints)
            started_aio = True
        report['steps']['control plane'] = round(time.monotonic() - step, 1)
        cloud = cli.OpenStack(layout)
        events = observe.EventListener(
            config.transport_url(layout.passwords())).start()
        step = time.monotonic()
        ids = images.ensure(cloud, lab.cache_dir)
        report['steps']['images'] = round(time.monotonic() - step, 1)
        step = time.monotonic()
        network.ensure(cloud, layout)
        report['steps']['network'] = round(time.monotonic() - step, 1)
        current = None
        for stage in stages:
            step = time.monotonic()
            current = _computes(layout, lab, stage, current)
            report['steps']['computes (%s)' % stage] = round(
                time.monotonic() - step, 1)
            step = time.monotonic()
            _run_stage(report, stage, layout, cloud, lab, ids, events,
                       repeat)
            report['steps']['moves (%s)' % stage] = round(
                time.monotonic() - step, 1)
        report['openstack_calls'] = len(cloud.calls)
        report['events_received'] = len(events.events)
    except Exception as exc:
        LOG.exception('The gate could not run')
        report['errors'].append(str(exc))
    finally:
        if events is not None:
            events.stop()
        if not keep:
            step = time.monotonic()
            try:
                stack.tear_down(layout, lab, started_aio, started_lab)
            except Exception as exc:
                LOG.exception('Tear-down failed')
                report['errors'].append('tear-down: %s' % exc)
            report['steps']['down'] = round(time.monotonic() - step, 1)
    report['seconds'] = round(time.monotonic() - t0, 1)
    report['summary'] = gatereport.summary(report)
    report['ok'] = (not report['errors'] and
                    len(report['moves']) == expected_moves(stages,
                                                           repeat) and
                    all(m['ok'] for m in report['moves']) and
                    len(report['checks']) == expected_checks(stages) and
                    all(c['ok'] for c in report['checks']) and
                    ('import' not in stages or
                     report.get('import', {}).get('ok') is True))
    return report


def expected_checks(stages):
    return sum({'local': 2, 'import': 1, 'drain': 1, 'profiles': 2,
                'shared': 1}.get(s, 0) for s in stages)


def expected_moves(stages, repeat=1):
    """How many moves the stages make (live ones ``repeat`` times)."""
    live = {'local': 2, 'baseline-local': 2, 'profiles': 1, 'shared': 2,
            'baseline-shared': 2}
    once = {'local': 2, 'import': 1, 'profiles': 2,
            'upgrade': gateupgrade.MOVES}
    return sum(live.get(s, 0) * repeat + once.get(s, 0) for s in stages)
