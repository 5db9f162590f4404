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

"""Horizon's pages as a user works them, in a browser; the Migrations panel.

The clicks of :mod:`nova_v2v_rig.aio.gatehorizon` on Horizon's own pages
(Admin > Instances, Admin > Hypervisors > Compute Host) and the reading
of nova-v2v's Migrations panel, on a :class:`browser.Browser`. Each waits
for the page that answers, not for a message: Horizon shows none for some
actions, and fades out the ones it shows.
"""

import time

from nova_v2v_rig.aio import observe

PANEL = '/admin/v2v_migrations/'
PANEL_TIMEOUT = 300
INSTANCES = '/admin/instances/'
COMPUTE_HOSTS = '/admin/hypervisors/?tab=hypervisor_info__compute_host'


def _danger_confirmed(b, old, timeout=120):
    """Confirm the dialog a "danger" action opens; until the next page.

    :param old: the page the action was clicked on
    """
    b.click(b.wait('.modal.in .modal-footer .btn-danger, '
                   '.modal.in .modal-footer .btn-primary'))
    b.wait_reload(old, timeout)


def live_migrate(b, server_id, label, host=None, block=True, force=False):
    """Admin > Instances > the server's "Live Migrate Instance"; messages.

    Horizon (microversion 2.30) waits for Nova's pre-checks: the page after
    the form says whether they passed.

    :param host: the new host, or None: "Automatically schedule new host"
    :param force: tick "Disk Over Commit"
    """
    b.open(INSTANCES)
    b.row_action('instances', server_id, 'live_migrate')
    b.modal()
    b.choose('host', host or 'AUTO_SCHEDULE')
    b.tick('block_migration', block)
    b.tick('disk_over_commit', force)
    b.shot(label + ' form')
    b.submit_modal(timeout=180)
    shown = b.messages()
    b.shot(label + ' submitted')
    return shown


def migrate(b, server_id, label):
    """Admin > Instances > the server's "Migrate Instance", confirmed."""
    b.open(INSTANCES)
    old = b.page()
    b.row_action('instances', server_id, 'migrate')
    _danger_confirmed(b, old)
    shown = b.messages()
    b.shot(label + ' submitted')
    return shown


def confirm_resize(b, server_id, label):
    """The server's "Confirm Resize/Migrate" (no dialog, no message).

    :raises: BrowserError when Horizon shows an error after it
    """
    b.open(INSTANCES)
    b.until('Confirm Resize/Migrate offered', lambda: b.find(
        '#instances__row_%s__action_confirm' % server_id), timeout=60)
    old = b.page()
    b.row_action('instances', server_id, 'confirm')
    b.wait_reload(old)
    b.shot(label + ' confirmed')
    if b.errors():
        raise b.Error('Horizon says %s' % b.errors())


def compute_host_action(b, host, action, label, fields=None, wait=True):
    """Admin > Hypervisors > Compute Host > ``host``'s ``action`` form.

    :param fields: ``{field: value}`` of its form (True/False: a checkbox)
    :param wait: until the page after the form (else it returns at once)
    :returns: the page's messages (``wait``), or the page the form was on
        (for :meth:`Browser.wait_reload`)
    """
    b.open(COMPUTE_HOSTS)
    b.row_action('compute_host', host, action)
    b.modal()
    for field, value in (fields or {}).items():
        if isinstance(value, bool):
            b.tick(field, value)
        elif field == 'migrate_type':
            b.choose(field, value)
        else:
            box = b.wait('#id_%s' % field)
            box.clear()
            box.send_keys(value)
    b.shot(label + ' form')
    old = b.submit_modal(wait=wait, timeout=300)
    if not wait:
        return old
    shown = b.messages()
    b.shot(label + ' submitted')
    return shown


def enable_service(b, host):
    """Compute Host > ``host``'s "Enable Service" (no dialog)."""
    b.open(COMPUTE_HOSTS)
    old = b.page()
    b.row_action('compute_host', host, 'enable')
    b.wait_reload(old)
    b.shot('enable service')
    return b.messages()


# -- the panel ----------------------------------------------------------------

def panel_rows(b):
    """``{migration uuid: (status, percent or None, processed bytes)}``."""
    out = {}
    for tr in b.rows_data('#v2v-moves tbody tr[data-status]',
                          ('id', 'data-status', 'data-percent',
                           'data-processed')):
        uuid = (tr['id'] or '')[len('v2v-move-'):]
        percent = tr['data-percent']
        out[uuid] = (tr['data-status'], int(percent) if percent else None,
                     int(tr['data-processed'] or 0))
    return out


def panel_row(b, migration_uuid, label):
    """The Migrations panel's cells of one move, as the user sees them.

    :returns: ``{'mode', 'status', 'reason', 'downtime', 'downtime_s'}``
        (texts, None where a cell shows nothing of it), or None when the
        move is not listed
    """
    b.open(PANEL)
    b.wait('#v2v-moves')
    try:
        b.wait('#v2v-move-%s' % migration_uuid, timeout=10)
    except b.Error:
        b.shot(label + ' panel')
        return None
    # Read in one script: the page refreshes the table.
    found = b.driver.execute_script(
        "var tr = document.getElementById(arguments[0]);"
        "if (!tr) { return null; }"
        "function text(css) { var e = tr.querySelector(css);"
        " return e ? e.textContent.trim() : null; }"
        "var d = tr.querySelector('.v2v-downtime');"
        "return {mode: text('.v2v-mode'), status: tr.getAttribute("
        "'data-status'), reason: text('.v2v-reason'),"
        " downtime: text('.v2v-downtime'),"
        " downtime_s: d ? d.getAttribute('data-downtime-s') : null};",
        'v2v-move-' + migration_uuid)
    b.shot(label + ' panel')
    return found


def panel_reason(b, migration_uuid, label):
    """The reason the Migrations panel gives for a failed move."""
    return (panel_row(b, migration_uuid, label) or {}).get('reason')


def watch_panel(b, ours, label, timeout=PANEL_TIMEOUT):
    """Read the open panel until our moves have all ended there.

    Every row is recorded from the first read on, before it is known which
    moves are ours: the first move may run while they are being found.

    :param ours: a thread-safe callable: the UUIDs of our moves found so
        far, and whether that list is complete
    :returns: ``({uuid: [(status, percent, processed), ...]}, screenshot of
        a move in progress or None, problems)``
    """
    b.wait('#v2v-moves')
    history = {}
    shot = None
    halfway = False
    deadline = time.monotonic() + timeout
    while True:
        rows = panel_rows(b)
        for uuid, got in rows.items():
            seen = history.setdefault(uuid, [])
            if not seen or seen[-1] != got:
                seen.append(got)
        running = [percent for status, percent, _n in rows.values()
                   if status in observe.IN_PROGRESS and percent is not None
                   and 0 < percent < 100]
        # The first bar seen between 0 and 100 %, and once more when one
        # is halfway (a bar at 1 % says little).
        if running and (shot is None or not halfway and any(
                25 <= p <= 75 for p in running)):
            halfway = any(25 <= p <= 75 for p in running)
            shot = b.shot(label + ' panel in progress')
        found, complete = ours()
        if complete and all(rows.get(u) and rows[u][0] in observe.FINAL
                            for u in found):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    b.shot(label + ' panel ended')
    found, complete = ours()
    seen = {u: history.get(u, []) for u in found}
    return seen, shot, panel_problems(seen, complete)


def panel_problems(seen, complete=True):
    """What is wrong with the moves as the panel showed them.

    Each move must be shown and end completed at 100 %; at least one must
    be seen running with its bar between 0 and 100 % and its bytes
    advancing (the first move may be nearly done before the page is read).
    """
    problems = [] if complete else ['not every move was found']
    advanced = []
    for uuid, states in seen.items():
        if not states:
            problems.append('migration %s never shown in the panel' % uuid)
            continue
        percents = [p for _s, p, _b in states if p is not None]
        processed = [n for _s, _p, n in states]
        if states[-1][0] != 'completed' or states[-1][1] != 100:
            problems.append('migration %s ends %s at %s %% in the panel'
                            % (uuid, states[-1][0], states[-1][1]))
        if processed != sorted(processed):
            problems.append('migration %s: its bytes went back (%s)'
                            % (uuid, processed))
        if (any(0 < p < 100 for p in percents) and
                len(set(processed)) >= 2):
            advanced.append(uuid)
    if seen and not advanced:
        problems.append('no move seen advancing between 0 and 100 %%: %s'
                        % {u: [p for _s, p, _b in s] for u, s in
                           seen.items()})
    return problems
