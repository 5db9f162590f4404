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

"""The fault matrix through Nova: its cells, what each must end in.

Each cell is one fault injected at one phase of a V2V cutover that the
``openstack`` client started (``server migrate --live-migration
--block-migration --host labhost-b``) on the all-in-one; the injection
and the observations are :mod:`nova_v2v_rig.aio.faultgate`'s. This module
holds the table only: the cells, the outcome each must reach (written
down, one outcome per cell, never "completed or rolled back"), and the
judgement of what a cell observed against it. It imports nothing that
runs anything.

An outcome is the migration record's final status, the host Nova's
record names and the instance's ``vm_state``/``task_state``:

=============== ============ ========== ============== ===========
outcome         migration    host       vm_state       task_state
=============== ============ ========== ============== ===========
``rolled back`` ``error``    source     ``active``     None
``cancelled``   ``cancelled`` source    ``active``     None
``completed``   ``completed`` dest      ``active``     None
``held``        ``error``    source     ``error``      None
=============== ============ ========== ============== ===========

``held`` is the product's answer to a clone whose state it cannot tell
(``CloneStateUnknown``): nothing destroyed on either host, the server in
ERROR for the operator. The cell then performs README's resolution
("When a cutover's clone state is unknown", the clone runs: Nova's record
follows the clone to the destination) and checks what follows on the
resolved server, as after a completed move.

Every cell also asserts: the fault took effect (a new process, the link
seen down, the store seen full, the abort accepted...) while the cutover
was in the cell's phase; exactly one running copy of the guest, on the
host Nova's record names; the guest writing again and 0 of its
acknowledged records lost; nothing of it left on the other host (domain,
instance directory, ``qemu-nbd`` process or pid file); and, after a move
that did not complete, a retry by the ``openstack`` client that succeeds
(``n/a`` after a completed move).
"""

import collections

SOURCE = 'source'
DEST = 'dest'

ROLLED_BACK = 'rolled back'
CANCELLED = 'cancelled'
COMPLETED = 'completed'
HELD = 'held'

Expected = collections.namedtuple(
    'Expected', 'outcome migration host vm_state task_state')

# A rollback through Nova's own recover_method ends in 'failed', as Nova's
# rollback of any live migration does; a cell whose rollback the product
# decides (a compute's recovery at start-up, a clone that showed no
# activity) names 'error' (Cell.migration).
OUTCOMES = {
    ROLLED_BACK: Expected(ROLLED_BACK, 'failed', SOURCE, 'active', None),
    CANCELLED: Expected(CANCELLED, 'cancelled', SOURCE, 'active', None),
    COMPLETED: Expected(COMPLETED, 'completed', DEST, 'active', None),
    HELD: Expected(HELD, 'error', SOURCE, 'error', None),
}
# Where Nova's record is once README's resolution of a held cutover ran
# (the clone ran: the record follows it).
RESOLVED_HOST = DEST
RESOLVED = 'resolved'

# Phases (nova_v2v.virt.libvirt.record's names) where faults go in.
SYNCING = 'syncing'
CLONE_RUNNING = 'clone-running'
CLONE_PROVEN = 'clone-proven'
PHASES = (SYNCING, CLONE_RUNNING, CLONE_PROVEN)

# The faults.
ABORT = 'abort'
FORCE_COMPLETE = 'force-complete'
FORCE_COMPLETE_SLOW = 'force-complete, copy slowed'
SOURCE_COMPUTE = 'source nova-compute SIGKILL'
DEST_COMPUTE = 'dest nova-compute SIGKILL'
SOURCE_LIBVIRTD = 'source libvirtd SIGKILL'
DEST_LIBVIRTD = 'dest libvirtd SIGKILL'
LINK_DOWN = 'link down'
STORE_FULL = 'dest store full'
CLONE_SILENT = 'clone shows no activity'
FAULTS = (ABORT, FORCE_COMPLETE, FORCE_COMPLETE_SLOW, SOURCE_COMPUTE,
          DEST_COMPUTE, SOURCE_LIBVIRTD, DEST_LIBVIRTD, LINK_DOWN,
          STORE_FULL, CLONE_SILENT)

# Retry column values.
RETRY_OK = 'ok'
RETRY_NA = 'n/a'

# ``migration``: the migration record's final status when it is not the
# outcome's usual one (OUTCOMES).
Cell = collections.namedtuple('Cell', 'number fault phase outcome why '
                                      'migration', defaults=(None,))

CELLS = (
    Cell(1, ABORT, SYNCING, CANCELLED,
         'an abort before the point of no return cancels the move'),
    Cell(2, FORCE_COMPLETE, SYNCING, COMPLETED,
         'the guest is paused, the mirror converges, the cutover follows'),
    Cell(3, ABORT, CLONE_RUNNING, COMPLETED,
         'past the source\'s stop an abort is too late and refused'),
    Cell(4, SOURCE_COMPUTE, SYNCING, ROLLED_BACK,
         'the source\'s init_host ends the mirrors, cleans the destination',
         'error'),
    Cell(5, SOURCE_COMPUTE, CLONE_RUNNING, ROLLED_BACK,
         'before the proof the source\'s init_host removes the clone and '
         'resumes the source', 'error'),
    Cell(6, SOURCE_COMPUTE, CLONE_PROVEN, COMPLETED,
         'past the proof the source\'s init_host completes the move'),
    Cell(7, DEST_COMPUTE, SYNCING, ROLLED_BACK,
         'the destination\'s init_host stops the exports, the mirror fails'),
    Cell(8, DEST_COMPUTE, CLONE_RUNNING, COMPLETED,
         'past the source\'s stop the destination leaves the cutover alone'),
    Cell(9, SOURCE_LIBVIRTD, SYNCING, ROLLED_BACK,
         'the source loses its block jobs\' daemon: rolled back'),
    Cell(10, DEST_LIBVIRTD, SYNCING, COMPLETED,
         'the mirror writes to qemu-nbd, not to libvirtd'),
    Cell(11, DEST_LIBVIRTD, CLONE_RUNNING, COMPLETED,
         'the clone\'s QEMU runs on; the restarted libvirtd finds it'),
    Cell(12, LINK_DOWN, SYNCING, ROLLED_BACK,
         'the link stays down past [v2v] cutover_sync_timeout'),
    # The source's compute watches the clone through a relay across the
    # lab's link ([v2v] clone_uri): with the link down the clone's
    # activity cannot be sampled within [v2v] cutover_activity_timeout,
    # nor its removal confirmed: CloneStateUnknown, the server held in
    # ERROR, nothing destroyed; README's resolution then follows the clone.
    # Each look at the clone and its removal are bounded in time
    # (nova_v2v.transfer.deadline): a look that hangs on the cut link
    # ends with the wait, whether the link fell before or after the
    # source's sampling connection opened.
    Cell(13, LINK_DOWN, CLONE_RUNNING, HELD,
         'the clone can be neither proven nor removed: held in ERROR, '
         'README\'s resolution follows the running clone'),
    Cell(14, STORE_FULL, SYNCING, ROLLED_BACK,
         'the mirror\'s writes fail with ENOSPC: rolled back, dest cleaned'),
    Cell(15, CLONE_SILENT, CLONE_RUNNING, ROLLED_BACK,
         'no guest activity within [v2v] cutover_activity_timeout: clone '
         'removed, source resumed, the reason logged', 'error'),
    Cell(16, FORCE_COMPLETE_SLOW, SYNCING, COMPLETED,
         'forced while the copy to the destination is slowed'),
)

# The reason a cell 15 rollback must give (the contract's wording).
NO_ACTIVITY_REASON = 'showed no guest activity'


def cell(number):
    for item in CELLS:
        if item.number == number:
            return item
    raise KeyError('no cell %s' % number)


def expected(item):
    want = OUTCOMES[item.outcome]
    if item.migration:
        want = want._replace(migration=item.migration)
    return want


def expected_text(item, source, dest):
    """``'rolled back: migration error, ACTIVE on labhost-a'``."""
    want = expected(item)
    return '%s: migration %s, %s on %s' % (
        want.outcome, want.migration, want.vm_state.upper(),
        source if want.host == SOURCE else dest)


def expected_retry(item):
    return RETRY_NA if item.outcome in (COMPLETED, HELD) else RETRY_OK


def outcome(obs):
    """What the observations say the move ended in (a short text).

    :param obs: the cell's observations (see :func:`problems`)
    """
    status = obs.get('migration')
    host = obs.get('host')
    if obs.get('vm_state') == 'error':
        if status == 'error' and host == obs.get('source') and (
                obs.get('task_state') is None):
            return HELD
        return 'instance error (migration %s, on %s)' % (status, host)
    if status not in ('completed', 'cancelled', 'error', 'failed'):
        return 'unfinished (migration %s, task %s)' % (
            status, obs.get('task_state'))
    where = (SOURCE if host == obs.get('source') else
             DEST if host == obs.get('dest') else host)
    if status == 'completed' and where == DEST:
        return COMPLETED
    if status == 'cancelled' and where == SOURCE:
        return CANCELLED
    if status in ('error', 'failed') and where == SOURCE:
        return ROLLED_BACK
    return 'migration %s, on %s' % (status, host)


def problems(item, obs):
    """Why the cell failed ([] when it passed).

    :param obs: a dict: ``effect`` (what showed the fault took effect, or
        None), ``missed`` (why it did not, or None), ``migration``,
        ``host``, ``source``, ``dest``, ``vm_state``, ``task_state``,
        ``running_on`` (hosts where a copy of the guest runs),
        ``writing`` (the guest acknowledged a write after the fault),
        ``records_lost``, ``records_written``, ``records_verified``,
        ``leftovers`` (list), ``retry`` (``ok``, ``n/a`` or why not) and,
        for cell 15, ``reason_seen``
    """
    found = []
    if obs.get('error'):
        found.append('the cell could not run: %s' % obs['error'])
    if not obs.get('effect'):
        found.append('the fault did not take effect: %s'
                     % (obs.get('missed') or 'no evidence'))
    want = expected(item)
    got = outcome(obs)
    if item.outcome == HELD:
        found += _resolution_problems(obs)
    if got != want.outcome:
        found.append('outcome %s, not %s' % (got, want.outcome))
    if obs.get('migration') != want.migration:
        found.append('migration %s, not %s'
                     % (obs.get('migration'), want.migration))
    want_host = obs.get('source') if want.host == SOURCE else obs.get('dest')
    if obs.get('host') != want_host:
        found.append('Nova\'s record on %s, not %s' % (obs.get('host'),
                                                       want_host))
    if obs.get('vm_state') != want.vm_state:
        found.append('vm_state %s, not %s' % (obs.get('vm_state'),
                                              want.vm_state))
    if obs.get('task_state') != want.task_state:
        found.append('task_state %s, not %s' % (obs.get('task_state'),
                                                want.task_state))
    # After a held outcome, Nova's record once README's resolution ran.
    record = (obs.get(RESOLVED) or {}).get('host', obs.get('host'))
    running = list(obs.get('running_on') or [])
    if len(running) != 1:
        found.append('%d running copies (%s)' % (len(running),
                                                 ', '.join(running) or
                                                 'none'))
    elif running[0] != record:
        found.append('the copy runs on %s, Nova says %s'
                     % (running[0], record))
    if not obs.get('writing'):
        found.append('the guest acknowledged no write after the fault')
    lost = obs.get('records_lost')
    if lost is None:
        found.append('records not read')
    elif lost:
        found.append('%d records lost' % lost)
    elif (obs.get('records_verified') or 0) < (obs.get('records_written')
                                               or 0):
        found.append('records verified up to %s of %s'
                     % (obs.get('records_verified'),
                        obs.get('records_written')))
    if obs.get('leftovers'):
        found.append('left behind: %s' % ', '.join(obs['leftovers']))
    if obs.get('retry') != expected_retry(item):
        found.append('retry: %s, not %s' % (obs.get('retry'),
                                            expected_retry(item)))
    if item.fault == CLONE_SILENT and not obs.get('reason_seen'):
        found.append('the reason "%s" was not given' % NO_ACTIVITY_REASON)
    return found


def _resolution_problems(obs):
    """What is wrong with a held cutover's resolution.

    :param obs: the observations; ``obs['resolved']``: ``steps``,
        ``error``, ``host``, ``vm_state``, ``task_state``
    """
    done = obs.get(RESOLVED)
    if not done:
        return ['README\'s resolution did not run']
    found = []
    if done.get('error'):
        found.append('README\'s resolution failed: %s' % done['error'])
    want = obs.get('dest') if RESOLVED_HOST == DEST else obs.get('source')
    got = (done.get('host'), done.get('vm_state'), done.get('task_state'))
    if got != (want, 'active', None):
        found.append('after README\'s resolution: on %s, %s, task %s; not '
                     'ACTIVE on %s' % (got + (want,)))
    return found


def row(item, obs, seconds):
    """The cell's row (the JSON keys of ``gate-faults --json``)."""
    found = problems(item, obs)
    lost = obs.get('records_lost')
    return {
        'cell': item.number,
        'fault': item.fault,
        'phase': item.phase,
        'expected': expected_text(item, obs.get('source'), obs.get('dest')),
        'outcome': outcome(obs),
        'copies_running': len(obs.get('running_on') or []),
        'records_lost': lost,
        'leftovers': len(obs.get('leftovers') or []),
        'retry': obs.get('retry'),
        'effect': obs.get('effect'),
        'seconds': seconds,
        'problems': found,
        'ok': not found,
    }


COLUMNS = (('cell', '#', 2), ('fault', 'fault', 27), ('phase', 'phase', 13),
           ('expected', 'expected', 11), ('outcome', 'outcome', 11),
           ('copies_running', 'copies', 6), ('records_lost', 'lost', 4),
           ('leftovers', 'left', 4), ('retry', 'retry', 5),
           ('seconds', 'seconds', 7), ('result', 'result', 6))


def table(rows, seconds, steps=None, errors=()):
    """The rows as the table ``gate-faults`` prints, and its last line.

    The last line, ``N of M cells OK, ...``, is what tools/run-tests.sh
    counts (one test per cell).
    """
    lines = ['  '.join(title.ljust(width) for _k, title, width in COLUMNS)]
    for entry in rows:
        # A failed retry's reason is among the cell's problems below.
        shown = dict(entry, expected=entry['expected'].split(':')[0],
                     retry=(entry['retry']
                            if entry['retry'] in (RETRY_OK, RETRY_NA)
                            else 'failed'),
                     result='OK' if entry['ok'] else 'FAILED')
        lines.append('  '.join(
            ('-' if shown.get(key) is None else str(shown[key])).ljust(width)
            for key, _title, width in COLUMNS).rstrip())
    for entry in rows:
        lines.append('cell %d (%s at %s): expected %s; fault: %s'
                     % (entry['cell'], entry['fault'], entry['phase'],
                        entry['expected'], entry['effect'] or '-'))
        for problem in entry['problems']:
            lines.append('  %s' % problem)
    for error in errors:
        lines.append('error: %s' % error)
    lines.append('%d of %d cells OK, %d records lost, %s s in all%s'
                 % (sum(1 for r in rows if r['ok']), len(rows),
                    sum(r['records_lost'] or 0 for r in rows), seconds,
                    ' (%s)' % ', '.join('%s %s s' % kv
                                        for kv in steps.items())
                    if steps else ''))
    return '\n'.join(lines)
