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

"""The lab's fault matrix: faults injected into real V2V cutovers.

Each cell is one fault in one phase of a cutover of a running, writing
guest from host a to host b (:func:`nova_v2v_rig.lab.v2v.run`, the engine
Nova's driver runs):

=============== ============================================================
fault           what is done
=============== ============================================================
dest-libvirtd   host b's libvirtd is killed (SIGKILL); restarted afterwards
dest-qemu       host b's QEMU is killed: the NBD export's qemu-nbd during
                the sync, the clone's qemu-system during the cutover
link            the link between the hosts goes down; up again after
                ``LINK_DOWN`` seconds
dest-full       host b's instance filesystem (a small dedicated ext4) is
                filled up; the filler is removed afterwards
source-crash    the source guest's QEMU is killed (SIGKILL)
abort           an abort is requested (Nova's ``live_migration_abort``)
=============== ============================================================

Phases: ``sync`` (the disks are mirrored while the guest runs) and
``cutover`` (the guest is stopped, the exports released, the clone about
to start; for ``dest-qemu`` the clone has started).  After each cell the
guest must run on the source with every record (or, past the point of no
return, on the destination with every record), nothing may be left on the
destination, and a second attempt on the same guest must succeed.
"""

import os
import signal
import threading
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.lab import engine
from nova_v2v_rig.lab import hosts

LOG = logging.getLogger(__name__)

FAULTS = ('dest-libvirtd', 'dest-qemu', 'link', 'dest-full', 'source-crash',
          'abort')
PHASES = ('sync', 'cutover')
CELLS = tuple((f, p) for f in FAULTS for p in PHASES)
LINK_DOWN = 3.0
# How long a sync-phase fault may take to show (the job failing, ...).
SETTLE = 10.0
# Host b's dedicated instance filesystem for dest-full, and what the guest
# writes to fresh clusters each second there (so that a full store bites).
SMALL_STORE_MIB = 2048
FILL_MB = 1
# At most this much may be left free for the store to count as full (less
# than what the guest writes to fresh clusters in the sync).
FULL_ENOUGH = 512 * 1024


def hook_for(fault, phase):
    """The hook of :class:`engine.LabHooks` that injects a cell's fault.

    An abort is requested while the mirror converges (``should_abort``)
    or as the cutover starts (``enter_cutover``); any other fault goes in
    once the disks are in sync (``before_cutover``) or, in the cutover
    phase, once the source is stopped and the exports released
    (``before_clone``), but for ``dest-qemu``, which kills the clone's
    QEMU while it is checked (``wrap_verify``).
    """
    if fault == 'abort':
        return 'should_abort' if phase == 'sync' else 'enter_cutover'
    if phase == 'sync':
        return 'before_cutover'
    if fault == 'dest-qemu':
        return 'wrap_verify'
    return 'before_clone'


class FaultError(Exception):
    """The fault could not be injected (not a result of the cutover)."""


def _pid_file_pid(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class Injector(engine.LabHooks):
    """One fault in one phase: the hooks of a cutover's first attempt.

    The fault goes in through one hook of :class:`engine.LabHooks`
    (:attr:`hook`, chosen by the cell); every other hook keeps its
    default.  ``events`` records what was done and seen, ``restore()``
    undoes what can be undone (the daemon restarted, the link up, the
    filler removed) before the checks and the second attempt.
    """

    def __init__(self, lab, fault, phase, name):
        if fault not in FAULTS or phase not in PHASES:
            raise FaultError('fault must be one of %s, phase one of %s'
                             % (FAULTS, PHASES))
        super().__init__()
        self.lab = lab
        self.fault = fault
        self.phase = phase
        self.name = name
        self.hook = hook_for(fault, phase)
        self.events = []
        self.injected = False
        # Why the fault could not be injected, if it could not.
        self.fault_error = None
        self._timers = []
        self._filler = None
        self._link_down = False
        self._libvirtd_killed = False

    # -- the hooks -------------------------------------------------------
    def should_abort(self):
        # Polled from the start of the block jobs until the disks are in
        # sync (a sparse disk syncs in a fraction of a second here): the
        # first poll is already during the sync.
        if self.hook != 'should_abort':
            return False
        if not self.injected:
            self.injected = True
            self._note('abort requested while syncing')
        return True

    def enter_cutover(self):
        if self.hook != 'enter_cutover':
            return True
        self.injected = True
        self._note('abort requested as the cutover starts')
        return False

    def before_cutover(self, sync):
        if self.hook != 'before_cutover':
            return
        self._inject(export=self.export)
        # Give the fault time to show in the jobs (or not).
        deadline = time.monotonic() + SETTLE
        while time.monotonic() < deadline:
            if sync.watcher.failures():
                self._note('the sync saw it', failures=[
                    str(f) for f in sync.watcher.failures()][:3])
                return
            if self.fault in ('dest-libvirtd', 'link'):
                break
            time.sleep(0.1)

    def before_clone(self):
        if self.hook == 'before_clone':
            self._inject()

    def wrap_verify(self, verify):
        if self.hook != 'wrap_verify':
            return verify

        def check(clone, timeout):
            self._inject(clone=clone)
            return verify(clone, timeout)
        return check

    def _note(self, what, **kw):
        kw['event'] = what
        kw['t'] = round(time.monotonic(), 3)
        self.events.append(kw)
        LOG.warning('Fault %(f)s/%(p)s: %(what)s %(kw)s',
                    {'f': self.fault, 'p': self.phase, 'what': what,
                     'kw': kw})

    # -- the faults ------------------------------------------------------
    def _inject(self, export=None, clone=None):
        try:
            getattr(self, '_fault_' + self.fault.replace('-', '_'))(
                export=export, clone=clone)
        except FaultError as exc:
            # Not injected: the cell fails, whatever the cutover did.
            self.fault_error = str(exc)
            raise
        self.injected = True

    def _fault_dest_libvirtd(self, **_kw):
        state = self.lab.load()
        pid = state['hosts']['b']['pid']
        os.kill(pid, signal.SIGKILL)
        self._libvirtd_killed = True
        self._note('killed host b libvirtd', pid=pid)

    def _fault_dest_qemu(self, export=None, clone=None):
        if export is not None:
            pids = [p for p in (export.pids if hasattr(export, 'pids')
                                else [export.pid]) if p]
            export.kill()
            self._note('killed the NBD export on host b', pids=pids)
            return
        pid = _pid_file_pid(os.path.join(self.lab.host_dir('b'), 'run',
                                         'qemu', '%s.pid' % clone.name()))
        if not pid:
            raise FaultError('no QEMU pid for the clone %s' % clone.name())
        os.kill(pid, signal.SIGKILL)
        self._note('killed the clone QEMU on host b', pid=pid)

    def _veth(self, host):
        return hosts.VETH_PREFIX + host

    def _fault_link(self, **_kw):
        processutils.execute('ip', '-n', self.lab.netns('b'), 'link', 'set',
                             self._veth('b'), 'down')
        self._link_down = True
        self._note('link down', seconds=LINK_DOWN)
        timer = threading.Timer(LINK_DOWN, self._link_up)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def _link_up(self):
        if self._link_down:
            processutils.execute('ip', '-n', self.lab.netns('b'), 'link',
                                 'set', self._veth('b'), 'up')
            self._link_down = False
            self._note('link up')

    def _fault_dest_full(self, **_kw):
        store = os.path.join(self.lab.host_dir('b'), 'instances')
        if not os.path.ismount(store):
            raise FaultError('host b\'s store is not a dedicated filesystem;'
                             ' bring the lab up with small_store_mib')
        self._filler = os.path.join(store, 'fault-filler')
        st = os.statvfs(store)
        free = st.f_bavail * st.f_frsize
        with open(self._filler, 'wb') as f:
            try:
                os.posix_fallocate(f.fileno(), 0, free)
            except OSError as exc:
                # ENOSPC part way: what was allocated stays; the check
                # below says whether the store is full.
                self._note('fallocate stopped', error=str(exc))
        st = os.statvfs(store)
        free_after = st.f_bavail * st.f_frsize
        self._note('filled host b store', free_after=free_after)
        if free_after > FULL_ENOUGH:
            # A fill that did not take is not a fault injected.
            raise FaultError('host b\'s store still has %d bytes free '
                             'after the fill' % free_after)

    def _fault_source_crash(self, **_kw):
        pid = _pid_file_pid(os.path.join(self.lab.host_dir('a'), 'run',
                                         'qemu', '%s.pid' % self.name))
        if not pid:
            raise FaultError('no QEMU pid for %s on host a' % self.name)
        os.kill(pid, signal.SIGKILL)
        self._note('killed the source QEMU on host a', pid=pid)

    # -- afterwards ------------------------------------------------------
    def restore(self):
        """Undo what can be undone; returns what was done."""
        done = []
        for timer in self._timers:
            timer.cancel()
        if self._link_down:
            self._link_up()
            done.append('link up')
        if self._filler and os.path.exists(self._filler):
            os.unlink(self._filler)
            done.append('filler removed')
        if self._libvirtd_killed:
            state = self.lab.load()
            pid = self.lab._start_daemon('b')
            state['hosts']['b']['pid'] = pid
            self.lab._save(state)
            self._libvirtd_killed = False
            done.append('host b libvirtd restarted (pid %d)' % pid)
        if done:
            self._note('restored', done=done)
        return done


def cell_problems(result):
    """What makes a cell fail ([] when it passed)."""
    problems = []
    if 'error' in result:
        return [result['error']]
    if result.get('fault_error'):
        return ['the fault was not injected: %s' % result['fault_error']]
    first = result.get('first_attempt', {})
    if not first.get('injected'):
        problems.append('the fault was not injected')
    if first.get('outcome') not in ('completed', 'rolled back',
                                    'cancelled'):
        problems.append('first attempt: %s' % first.get('outcome'))
    if first.get('outcome') in ('rolled back', 'cancelled'):
        if not first.get('source_running'):
            problems.append('the source did not run on after the rollback')
        if first.get('dest_leftovers'):
            problems.append('left on host b: %s' % first['dest_leftovers'])
        if result.get('retry', {}).get('outcome') != 'completed':
            problems.append('retry: %s' % result.get('retry'))
    if result.get('records_lost') != 0:
        problems.append('%s records lost' % result.get('records_lost'))
    if result.get('source_leftovers'):
        problems.append('left on host a: %s' % result['source_leftovers'])
    if not result.get('dest_running'):
        problems.append('the guest does not run on host b in the end')
    return problems


def run_cell(lab, fault, phase, before=2.0, after=2.0, dirty_mb=8):
    """One cell on a lab that is up; the result dict (never raises)."""
    from nova_v2v_rig.lab import v2v
    injector = Injector(lab, fault, phase, name=None)
    try:
        result = v2v.run(lab, 'v2v-cutover', before=before, after=after,
                         dirty_mb=dirty_mb, profile='vmware',
                         disk_format='qcow2', injector=injector,
                         fill_mb=FILL_MB if fault == 'dest-full' else 0)
    except Exception as exc:
        LOG.exception('Fault cell %(f)s/%(p)s failed',
                      {'f': fault, 'p': phase})
        injector.restore()
        result = {'fault': fault, 'phase': phase,
                  'error': '%s: %s' % (type(exc).__name__, exc)}
    if injector.fault_error:
        result['fault_error'] = injector.fault_error
    result['guest_on'] = 'b' if result.get('dest_running') else '?'
    result['problems'] = cell_problems(result)
    return result


def run_matrix(lab, cells=CELLS, **kwargs):
    """Every cell; brings a lab up (and down) when none is up.

    Returns (results, rows, seconds).
    """
    start = time.monotonic()
    own = False
    if not lab.load():
        lab.up(shared=False, small_store_mib=SMALL_STORE_MIB)
        own = True
    results = []
    try:
        for fault, phase in cells:
            LOG.info('Fault matrix: %(f)s during the %(p)s',
                     {'f': fault, 'p': phase})
            results.append(run_cell(lab, fault, phase, **kwargs))
    finally:
        if own:
            lab.down()
    return (results, [row(r) for r in results],
            round(time.monotonic() - start, 1))


def row(cell_result):
    """A table row from one cell's result dict."""
    first = cell_result.get('first_attempt', {})
    retry = cell_result.get('retry')
    return {
        'fault': cell_result['fault'],
        'phase': cell_result['phase'],
        'outcome': first.get('outcome'),
        'guest_on': cell_result.get('guest_on'),
        'records_lost': cell_result.get('records_lost'),
        'records_verified': cell_result.get('records_verified'),
        'leftovers': len(first.get('dest_leftovers', [])) + len(
            cell_result.get('source_leftovers', [])),
        'retry': (retry or {}).get('outcome', 'not needed'),
        'seconds': cell_result.get('cell_seconds'),
        'detail': (first.get('error') or cell_result.get('error') or
                   '')[:160],
        'problems': cell_result.get('problems', []),
    }


def format_table(rows):
    cols = ('fault', 'phase', 'outcome', 'guest_on', 'records_lost',
            'leftovers', 'retry', 'seconds', 'problems')
    widths = {c: max(len(c), *(len(str(r.get(c))) for r in rows))
              for c in cols}
    lines = ['  '.join(c.ljust(widths[c]) for c in cols),
             '  '.join('-' * widths[c] for c in cols)]
    for r in rows:
        lines.append('  '.join(str(r.get(c)).ljust(widths[c])
                               for c in cols).rstrip())
    return '\n'.join(lines)
