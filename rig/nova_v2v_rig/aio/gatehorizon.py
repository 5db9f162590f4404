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

"""Horizon's migrate actions, clicked in a real browser on the lab guests.

Horizon (:mod:`nova_v2v_rig.aio.horizon`) runs against the all-in-one, a
headless Chromium (:mod:`nova_v2v_rig.aio.browser`) logs in as the admin
and, in this order:

1. "Live Migrate Instance", automatic scheduling, block migration
   (labhost-a to labhost-b);
2. the same with a chosen host (back to labhost-a);
3. "Live Migrate Instance" to a host the planner refuses, "Disk Over
   Commit" ticked (python-novaclient passes it as ``force`` at Horizon's
   microversion 2.30: the scheduler, and with it the V2V filter, is
   bypassed): a guest whose NIC only a V2V cutover can translate, on
   computes that allow no cutover. The destination's pre-check refuses
   it; the planner's reason must be in the error Horizon shows, and the
   guest must run on where it was;
4. "Disable Service" on labhost-a, then "Migrate Host" (live, block) of
   its two guests, while the Migrations panel of nova-v2v's dashboard is
   watched: its progress bars must advance and the moves end there;
5. "Migrate Instance" then "Confirm Resize/Migrate" (back to labhost-a).

After each, the gate's checks (:func:`gatemove.run_move`: where the guest
runs, its migration record, its records, what is left behind). Every step
leaves a screenshot in the run's folder.
"""

import concurrent.futures
import os
import re
import threading
import time

from oslo_log import log as logging

from nova_v2v_rig.aio import cli
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import gatedrain
from nova_v2v_rig.aio import gatemove
from nova_v2v_rig.aio import horizon
from nova_v2v_rig.aio import horizonpages as pages
from nova_v2v_rig.aio import images
from nova_v2v_rig.aio import inject
from nova_v2v_rig.aio import network
from nova_v2v_rig.aio import observe
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import stack
from nova_v2v_rig.lab import upgrade as lab_upgrade

LOG = logging.getLogger(__name__)

HOST_A = gatemove.HOST_A
HOST_B = gatemove.HOST_B
# Slow enough that the panel's bars can be seen advancing (the filled
# guests' 128 MiB of data take about 8 s each), with Nova saving a live
# migration's bytes every second rather than every 5.
BANDWIDTH_MIB = 16
EXTRA = (('libvirt', 'live_migration_bandwidth', str(BANDWIDTH_MIB)),
         ('libvirt', 'live_migration_monitor_interval', '1'))
# The first action's V2V cutover runs with nova-v2v's defaults; then the
# computes start again with the cutover disabled: the vmxnet3 guest's
# forced move is one the planner refuses.
V2V_OPTIONS = {'a': {'allow_cutover': 'False'},
               'b': {'allow_cutover': 'False'}}
# Both hosts run a QEMU that keeps a TCG guest's memory writes through a
# live migration (the lab's Debian 13 root where the machine's QEMU is
# older than 9.0), as the gate's drain stage does: what is checked here is
# Horizon, not QEMU 7.2's TCG fault (README, "TCG guests on QEMU before
# 9.0"), which the guests' six live moves would meet now and then.
RELEASE = gatedrain.RELEASE
FIXED_QEMU = gatedrain.FIXED_QEMU
REFUSED_REASON = re.compile(r'allow_cutover')
# The panel's downtime is the instance action event's: from just before
# the source's stop to the clone running with its ports active, each end
# truncated to the second by MariaDB. It must be at least the engine's
# figure (stop to the clone's start, in the compute log) less that second,
# and at most the gap the guest's own records show (it writes again only
# once the clone booted) plus that second.
WHOLE_SECOND = 1.0
DISABLE_REASON = 'nova-v2v horizon gate'
ACTIONS = ('live migrate, V2V cutover',
           'live migrate, automatic, block',
           'live migrate, chosen host, block',
           'live migrate, refused forced host',
           'migrate host',
           'migrate + confirm')


class Context(object):
    """What every action uses."""

    def __init__(self, layout, lab, cloud, ids, browser):
        self.layout = layout
        self.lab = lab
        self.cloud = cloud
        self.ids = ids
        self.browser = browser


def _row(action, result=None, **fields):
    """The report's row of one action."""
    row = {'action': action, 'outcome': None, 'records_lost': None,
           'screenshot': None, 'problems': [], 'seconds': None}
    if result is not None:
        row.update(outcome='completed' if result['ok'] else 'failed',
                   records_lost=result['records_lost'],
                   problems=list(result['problems']),
                   seconds=result['seconds'], mode=result['mode'],
                   to=result['to'], check=result)
        row['from'] = result['from']
    row.update(fields)
    row['ok'] = not row['problems'] and row['outcome'] in (
        'completed', 'confirmed', 'refused')
    return row


# -- the actions --------------------------------------------------------------

def _click_move(ctx, label, start, finish=None):
    """A :class:`gatemove.Move` whose start is ``start(browser)``."""
    def begin():
        shown = start(ctx.browser)
        LOG.info('%(label)s: Horizon says %(msg)s',
                 {'label': label, 'msg': shown})
        errors = [m for m in shown if m.startswith('Error')]
        if errors:
            raise ctx.browser.Error('Horizon refused %s: %s'
                                    % (label, errors))
    return gatemove.Move(begin, 'Horizon: ' + label, finish=finish)


def _live_move(ctx, guest, label, host, expect_host, expect_mode):
    """"Live Migrate Instance" (block) clicked, checked as the gate does."""
    return gatemove.run_move(
        ctx.layout, ctx.cloud, guest, label, _click_move(
            ctx, label, lambda b: pages.live_migrate(
                b, guest.id, label, host=host, block=True)),
        expect_host, expect_mode)


def do_live(ctx, guest, label, host, expect_host):
    shots = len(ctx.browser.taken)
    result = _live_move(ctx, guest, label, host, expect_host, 'block-live')
    return _row(label, result, screenshot=ctx.browser.taken[shots:])


def do_cutover(ctx, guest, label):
    """A move only a V2V cutover makes: its mode and downtime in the panel.

    Its downtime as the Migrations panel shows it (the instance action
    event the source compute records) must lie between the engine's own
    figure, from the compute log, and the gap in the guest's records
    (:func:`cutover_panel_problems`).
    """
    shots = len(ctx.browser.taken)
    mark = observe.LogMark(ctx.layout)
    result = _live_move(ctx, guest, label, None, HOST_B, 'v2v-cutover')
    logged = observe.logged_downtime(mark.text(), guest.id)
    panel = pages.panel_row(ctx.browser, result['migration']['uuid'], label)
    problems = cutover_panel_problems(panel, logged, result['downtime_s'])
    row = _row(label, result, screenshot=ctx.browser.taken[shots:],
               panel=panel, logged_downtime_s=logged)
    row['problems'] += problems
    row['ok'] = row['ok'] and not problems
    return row


def cutover_panel_problems(panel, logged, guest_gap):
    """What is wrong with a cutover's row of the panel (a list).

    :param panel: :func:`pages.panel_row`'s cells, or None
    :param logged: the downtime in the compute log (seconds), or None
    :param guest_gap: the longest gap in the guest's records around the
        move (seconds), or None
    """
    if panel is None:
        return ['the Migrations panel does not list the move']
    problems = []
    if panel.get('mode') != 'v2v-cutover':
        problems.append('the panel says mode %r, not v2v-cutover'
                        % panel.get('mode'))
    if logged is None:
        problems.append('no downtime in the compute log')
    try:
        shown = float(panel.get('downtime_s'))
    except (TypeError, ValueError):
        problems.append('the panel shows no downtime (%r)'
                        % panel.get('downtime'))
        return problems
    if logged is not None and shown < logged - WHOLE_SECOND:
        problems.append('the panel shows a downtime of %s (%.1f s), less '
                        'than the compute log\'s %.3f s'
                        % (panel.get('downtime'), shown, logged))
    if guest_gap is None:
        problems.append('no gap in the guest\'s records to compare with')
    elif shown > guest_gap + WHOLE_SECOND:
        problems.append('the panel shows a downtime of %s (%.1f s), more '
                        'than the %.2f s the guest did not write'
                        % (panel.get('downtime'), shown, guest_gap))
    return problems


def do_refused(ctx, guest, label):
    """A forced host the planner refuses: the error shown, nothing moved.

    The guest is forced from where it runs to the other lab host.
    """
    source = cli.host_of(ctx.cloud.server(guest.id))
    target = HOST_A if source == HOST_B else HOST_B
    shots = len(ctx.browser.taken)
    known = [r.get('Id') for r in ctx.cloud.migrations(guest.id)]
    start = time.time()
    shown = pages.live_migrate(ctx.browser, guest.id, label, host=target,
                               block=True, force=True)
    problems = []
    errors = [m for m in shown if 'Failed to live migrate' in m]
    if not errors:
        problems.append('Horizon showed no error: %s' % shown)
    elif not REFUSED_REASON.search(' '.join(errors)):
        problems.append("the error does not give the planner's reason: %s"
                        % errors)
    # ERROR is not waited past: the refusal must leave it ACTIVE.
    info = ctx.cloud.wait_status(guest.id, ('ACTIVE', 'ERROR'))
    host = cli.host_of(info)
    if info.get('status') != 'ACTIVE':
        problems.append('the server is %s: %s' % (info.get('status'),
                                                  info.get('fault')))
    if host != source or info.get('OS-EXT-STS:task_state'):
        problems.append('on %s, task %s, not on %s with no task' % (
            host, info.get('OS-EXT-STS:task_state'), source))
    record = observe.wait_migration(ctx.cloud, guest.id, known)
    # Nova's conductor writes the record before the pre-checks, and sets it
    # to error when they refuse.
    if record.get('Status') != 'error':
        problems.append('migration record %s, not error'
                        % (record.get('Status') or 'missing'))
    gatemove.wait_ack(guest.tail, time.time(), gatemove.RESUME_TIMEOUT,
                      'after the refusal')
    check = gatemove.read_records(ctx.lab, gatemove.LAB_HOST[source],
                                  guest.inside('disk'), guest.tail.merged())
    problems += gatemove.records_problems(check)
    left = gatemove.source_leftovers(
        ctx.lab, target, info.get('OS-EXT-SRV-ATTR:instance_name'),
        guest.instance_dir(), False)
    if left:
        problems.append('left on %s: %s' % (target, ', '.join(left)))
    running = inject.running_on(ctx.lab,
                                info.get('OS-EXT-SRV-ATTR:instance_name'))
    if running != [source]:
        problems.append('running on %s' % (running or 'no host'))
    panel = pages.panel_reason(ctx.browser, record.get('UUID'), label)
    if not REFUSED_REASON.search(panel or ''):
        problems.append("the Migrations panel does not give the planner's "
                        'reason for migration %s: %r'
                        % (record.get('UUID'), panel))
    return _row(label, None, outcome='refused' if not problems or errors
                else 'not refused', records_lost=check['records_lost'],
                problems=problems, shown=errors or shown, panel=panel,
                migration=record.get('Status'), to=host,
                seconds=round(time.time() - start, 1),
                screenshot=ctx.browser.taken[shots:])


def check_moved(cloud, guest, label, known, mark, start, source,
                expect_host, expect_mode):
    """The checks of a live move that another tool started; a result.

    For one of several guests moved by one request (Horizon's "Migrate
    Host"): it waits for the guest's move to end, then checks it as
    :func:`run_move` does (where it runs, the planned mode, its migration
    record, its records, what is left where it came from).

    :param known: the guest's migration ids before the request
    :param mark: an :class:`observe.LogMark` made before the request
    """
    problems = []
    info = cloud.wait_status(guest.id, ('ACTIVE',))
    record = observe.wait_migration(cloud, guest.id, known,
                                    timeout=gatemove.RESUME_TIMEOUT * 3)
    info = cloud.wait_status(guest.id, ('ACTIVE',))
    host = cli.host_of(info)
    resumed = gatemove.wait_ack(guest.tail, time.time(),
                                gatemove.RESUME_TIMEOUT, 'the move ' + label)
    gatemove.raise_if_crashed(guest, label, None, start)
    acks = guest.tail.merged()
    check = gatemove.read_records(
        guest.lab, gatemove.LAB_HOST.get(host, 'a'), guest.inside('disk'),
        acks)
    mode = observe.planned_mode(mark.text(), guest.id) or observe.NOVA_OWN
    left = gatemove.source_leftovers(
        guest.lab, source, info.get('OS-EXT-SRV-ATTR:instance_name'),
        guest.instance_dir(), guest.shared)
    if left:
        problems.append('left on %s: %s' % (source, ', '.join(left)))
    if host != expect_host:
        problems.append('on %s, not %s' % (host, expect_host))
    if mode != expect_mode:
        problems.append('mode %s, not %s' % (mode, expect_mode))
    problems += gatemove.records_problems(check)
    if record.get('Status') != 'completed':
        problems.append('migration record %s, not completed'
                        % record.get('Status'))
    if (record.get('Source Compute'), record.get('Dest Compute')) != (
            source, host):
        problems.append('migration record %s -> %s, not %s -> %s'
                        % (record.get('Source Compute'),
                           record.get('Dest Compute'), source, host))
    return {
        'move': label, 'server': guest.id, 'from': source, 'to': host,
        'mode': mode, 'seconds': round(time.time() - start, 1),
        'downtime_s': gatemove.largest_gap(acks, start, resumed[1]),
        'records_written': check['records_written'],
        'records_verified': check['records_verified'],
        'records_lost': check['records_lost'],
        'migration': {'id': record.get('Id'), 'status': record.get('Status')},
        'source_leftovers': left, 'problems': problems, 'ok': not problems,
    }


def do_migrate_host(ctx, guests, label):
    """Disable labhost-a, "Migrate Host" its guests; the panel watched.

    The Migrations panel is opened in a second tab before the form is
    sent, and read while Horizon asks Nova for each move.
    """
    b = ctx.browser
    shots = len(b.taken)
    known = {g.id: [r.get('Id') for r in ctx.cloud.migrations(g.id)]
             for g in guests}
    mark = observe.LogMark(ctx.layout)
    start = time.time()
    problems = []
    pages.compute_host_action(b, HOST_A, 'disable', 'disable service',
                              {'reason': DISABLE_REASON})
    service = ctx.cloud('compute', 'service', 'list', '--host', HOST_A,
                        '--service', 'nova-compute', '--long', parse=True)
    if not service or service[0].get('Status') != 'disabled' or (
            service[0].get('Disabled Reason') != DISABLE_REASON):
        problems.append('labhost-a not disabled with the reason: %s'
                        % service)
    panel_tab, main_tab = b.new_tab(pages.PANEL)
    b.to_tab(main_tab)
    form = pages.compute_host_action(
        b, HOST_A, 'migrate_maintenance', label,
        {'migrate_type': 'live_migrate', 'block_migration': True},
        wait=False)
    b.to_tab(panel_tab)
    finder = MoveFinder(ctx.cloud, guests, known)
    finder.start()
    try:
        seen, panel_shot, panel_problems = pages.watch_panel(
            b, finder.found, label)
    finally:
        finder.join()
    problems += panel_problems
    b.driver.close()
    b.to_tab(main_tab)
    b.wait_reload(form, timeout=300)
    shown = b.messages()
    b.shot(label + ' submitted')
    if b.errors():
        problems.append('Horizon says %s' % shown)
    rows = []
    for g in guests:
        result = check_moved(
            ctx.cloud, g, label, known[g.id], mark, start, HOST_A, HOST_B,
            'block-live')
        problems += ['%s: %s' % (g.name, p) for p in result['problems']]
        rows.append(result)
    return _row(label, None, outcome='completed' if not problems
                else 'failed',
                records_lost=sum(r['records_lost'] or 0 for r in rows),
                problems=problems, seconds=round(time.time() - start, 1),
                shown=shown, panel=seen, panel_screenshot=panel_shot,
                moves=rows, screenshot=b.taken[shots:])


class MoveFinder(threading.Thread):
    """Finds, through the API, the migration of each guest after a request.

    :param known: ``{server id: its migration ids before}``
    """

    def __init__(self, cloud, guests, known, timeout=120):
        super().__init__(name='move-finder', daemon=True)
        self.cloud = cloud
        self.guests = guests
        self.known = known
        self.timeout = timeout
        self._lock = threading.Lock()
        self._found = {}
        self._done = False

    def run(self):
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline:
                for g in self.guests:
                    if g.id in self._found:
                        continue
                    new = [r for r in self.cloud.migrations(g.id)
                           if r.get('Id') not in self.known[g.id]]
                    if new:
                        with self._lock:
                            self._found[g.id] = new[0]['UUID']
                if len(self._found) == len(self.guests):
                    return
                time.sleep(1)
        finally:
            with self._lock:
                self._done = True

    def found(self):
        """(the UUIDs found so far, whether the search is over)."""
        with self._lock:
            return list(self._found.values()), self._done


def do_enable(ctx):
    """Enable labhost-a again in Horizon; problems (checked by the API)."""
    shown = pages.enable_service(ctx.browser, HOST_A)
    service = ctx.cloud('compute', 'service', 'list', '--host', HOST_A,
                        '--service', 'nova-compute', parse=True)
    if not service or service[0].get('Status') != 'enabled':
        return ['labhost-a not enabled again (Horizon says %s): %s'
                % (shown, service)]
    return []


def do_cold(ctx, guest, label, expect_host):
    shots = len(ctx.browser.taken)
    result = gatemove.run_move(
        ctx.layout, ctx.cloud, guest, label, _click_move(
            ctx, label, lambda b: pages.migrate(b, guest.id, label),
            finish=lambda _how: pages.confirm_resize(
                ctx.browser, guest.id, label)),
        expect_host, observe.NOVA_OWN, cold='confirm')
    return _row(label, result, screenshot=ctx.browser.taken[shots:],
                outcome='confirmed' if result['ok'] else 'failed')


def _attempt(rows, label, action, *args):
    """Run one action; a failed row when it raised (the next ones run)."""
    try:
        row = action(*args)
    except Exception as exc:
        LOG.exception('%s could not run', label)
        row = _row(label, None, outcome='error',
                   problems=['%s: %s' % (type(exc).__name__, exc)])
    rows.append(row)
    return row


def run_actions(ctx):
    """The actions in order; their rows."""
    rows = []
    g1 = gatemove.Guest(ctx.cloud, ctx.lab, 'horizon-1', False,
                        with_port=False)
    # With its Neutron port: the vmxnet3 NIC in its definition is what
    # makes its move a V2V cutover (the source plans from the domain; a
    # guest without a NIC would move block-live).
    g2 = gatemove.Guest(ctx.cloud, ctx.lab, 'horizon-vmxnet3', False)
    g3 = gatemove.Guest(ctx.cloud, ctx.lab, 'horizon-filled', False,
                        with_port=False)
    try:
        # Created together (each one's boot takes most of a minute on TCG).
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            for future in [pool.submit(g.create, HOST_A, ctx.ids[image],
                                       ctx.ids[images.FLAVOR])
                           for g, image in ((g1, images.FILLED_DISK),
                                            (g2, images.VMXNET3_DISK),
                                            (g3, images.FILLED_DISK))]:
                future.result()
        ctx.browser.login('admin', ctx.layout.passwords()['admin'])
        # The vmxnet3 guest to labhost-b by a V2V cutover; then the
        # computes with the cutover disabled.
        _attempt(rows, ACTIONS[0], do_cutover, ctx, g2, ACTIONS[0])
        # Not while a failed action's move still runs.
        try:
            ctx.cloud.wait_status(g2.id, ('ACTIVE', 'ERROR'), failed=())
        except paths.AioError:
            LOG.exception('The vmxnet3 guest did not settle')
        computes.down(ctx.layout)
        computes.up(ctx.layout, ctx.lab, v2v_options=V2V_OPTIONS,
                    extra=EXTRA)
        _attempt(rows, ACTIONS[1], do_live, ctx, g1, ACTIONS[1], None,
                 HOST_B)
        _attempt(rows, ACTIONS[2], do_live, ctx, g1, ACTIONS[2], HOST_A,
                 HOST_A)
        # The vmxnet3 guest (on labhost-b, or still on labhost-a if the
        # cutover failed) forced to the other host: refused.
        _attempt(rows, ACTIONS[3], do_refused, ctx, g2, ACTIONS[3])
        # Migrate Host moves every guest of labhost-a: the two others.
        g2.delete()
        host_row = _attempt(rows, ACTIONS[4], do_migrate_host, ctx,
                            [g1, g3], ACTIONS[4])
        try:
            enabled = do_enable(ctx)
        except Exception as exc:
            LOG.exception('Enabling labhost-a again')
            enabled = ['enabling labhost-a again: %s' % exc]
            ctx.cloud('compute', 'service', 'set', '--enable', HOST_A,
                      'nova-compute', check=False)
        host_row['problems'] += enabled
        host_row['ok'] = host_row['ok'] and not enabled
        _attempt(rows, ACTIONS[5], do_cold, ctx, g1, ACTIONS[5], HOST_A)
    finally:
        for g in (g1, g2, g3):
            try:
                g.delete()
            except Exception:
                LOG.exception('Deleting %s', g.name)
    return rows


# A screenshot's name, as the browser makes it (nova_v2v_rig.aio.browser).
SCREENSHOT = re.compile(r'^[0-9]{2,}-[a-z0-9-]*\.png$')


def clear_screenshots(folder):
    """Remove an earlier run's screenshots from ``folder``.

    Only the files named as the browser names them (``NN-name.png``): a
    run's folder then holds that run's steps alone.
    """
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        if SCREENSHOT.match(name):
            os.unlink(os.path.join(folder, name))


def _reroot(lab, release):
    """Both lab hosts on ``release`` (None: the machine's libvirt).

    The computes must be down.
    """
    for host in ('a', 'b'):
        lab_upgrade.reroot(lab, host, release)


def run(layout, lab, keep=False, down=False, constraints=None,
        shots_dir=None):
    """Bring up (or reuse) the lab, the all-in-one and Horizon; click.

    :param keep: leave everything up
    :param down: tear down even what this run did not start
    :returns: the report: ``rows`` (one per action), ``steps``,
        ``screenshots``, ``errors``, ``seconds``, ``ok``
    """
    t0 = time.monotonic()
    report = {'rows': [], 'steps': {}, 'errors': [], 'screenshots': []}
    started = {}
    rerooted = False
    shots_dir = shots_dir or os.path.join(layout.log_dir,
                                          'horizon-screenshots')
    try:
        step = time.monotonic()
        stack.bring_up(layout, lab, started, constraints)
        report['steps']['all-in-one'] = round(time.monotonic() - step, 1)
        step = time.monotonic()
        report['horizon'] = horizon.up(layout, constraints)
        report['steps']['horizon'] = round(time.monotonic() - step, 1)
        cloud = cli.OpenStack(layout)
        ids = images.ensure(cloud, lab.cache_dir)
        network.ensure(cloud, layout)
        step = time.monotonic()
        computes.down(layout)
        if gatemove.qemu_version(lab, HOST_A) < FIXED_QEMU:
            rerooted = True
            _reroot(lab, RELEASE)
        report['qemu'] = gatemove.qemu_version(lab, HOST_A)
        computes.up(layout, lab, extra=EXTRA)
        report['steps']['computes'] = round(time.monotonic() - step, 1)
        step = time.monotonic()
        # Selenium only here (and only in tox -e horizon): it brings trio,
        # whose hypothesis plugin cannot load under Nova's eventlet.
        from nova_v2v_rig.aio import browser as browser_mod
        clear_screenshots(shots_dir)
        with browser_mod.Browser(horizon.url(), shots_dir) as b:
            ctx = Context(layout, lab, cloud, ids, b)
            try:
                report['rows'] = run_actions(ctx)
            finally:
                report['screenshots'] = list(b.taken)
        report['steps']['actions'] = round(time.monotonic() - step, 1)
    except Exception as exc:
        LOG.exception('The Horizon suite could not run')
        report['errors'].append('%s: %s' % (type(exc).__name__, exc))
    finally:
        if rerooted:
            # The next suite finds the machine's libvirt, as before.
            try:
                computes.down(layout)
                _reroot(lab, None)
            except Exception as exc:
                LOG.exception("The lab hosts could not go back to the "
                              "machine's libvirt")
                report['errors'].append("back to the machine's libvirt: %s"
                                        % exc)
        stack.end_suite(layout, lab, started, report, keep, down,
                        first=(horizon.down,))
    report['seconds'] = round(time.monotonic() - t0, 1)
    report['ok'] = (not report['errors'] and
                    len(report['rows']) == len(ACTIONS) and
                    all(r['ok'] for r in report['rows']))
    return report


def table(report):
    """The report as printed: one line per action."""
    lines = ['%-36s %-12s %-6s %-8s %s' % ('action', 'outcome', 'lost',
                                           'seconds', 'result')]
    for row in report['rows']:
        lines.append('%-36s %-12s %-6s %-8s %s' % (
            row['action'], row['outcome'], row['records_lost'],
            row['seconds'], 'OK' if row['ok'] else 'FAILED'))
        for problem in row['problems']:
            lines.append('    ' + problem)
    for error in report['errors']:
        lines.append('error: ' + error)
    lines.append('%d of %d actions OK, %s records lost, %d screenshots, '
                 '%.1f s (%s)' % (
                     sum(1 for r in report['rows'] if r['ok']), len(ACTIONS),
                     sum(r['records_lost'] or 0 for r in report['rows']),
                     len(report['screenshots']), report['seconds'],
                     ', '.join('%s %s s' % kv for kv in
                               report['steps'].items())))
    return '\n'.join(lines)


def screenshots_of(report):
    """The screenshots' names, in order."""
    return [os.path.basename(p) for p in report['screenshots']]
