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

"""The translated clone on the destination: define, start, check, remove.

The last step of a cutover: once the source is stopped and the exports
released their images, the clone of the guest (its translated
definition, on the disks the mirror filled) is defined and started on
the destination's libvirt and checked to run.  A clone that fails is
destroyed and undefined again, so that the source can resume; when its
removal cannot be confirmed (the destination became unreachable, or the
clone did not stop) it may run, and
:class:`~nova_v2v.transfer.exception.CloneStateUnknown` tells the caller to
leave the source stopped.

A running domain is not yet a running guest: a translated guest can hang
in its boot (no driver for its new disk bus) with its QEMU running, after
its boot loader wrote to its disk. :func:`wait_for_activity` waits until
the clone's guest shows activity, the proof a cutover's point of no
return rests on: its guest agent answering, when its image says it has
one; otherwise its disks still written a settle window after their first
writes (:class:`ActivityWatch`; :func:`guest_activity` is the decision on
writes, from two samples).
"""

import time

import libvirt
import libvirt_qemu
from oslo_log import log as logging

from nova_v2v.transfer import deadline as call_deadline
from nova_v2v.transfer import exception

LOG = logging.getLogger(__name__)

CLONE_TIMEOUT = 120
CLONE_START_ATTEMPTS = 3
CLONE_RETRY_DELAY = 1.0
# Seconds between two samples of the clone's activity.
ACTIVITY_POLL = 1.0
# Samples of the last look at a clone before its removal: one, a second
# once the settle window passed, a third if its QEMU was replaced between.
LAST_LOOK_SAMPLES = 3
# Seconds a guest-ping of the clone's guest agent may take.
AGENT_TIMEOUT = 2
# The most one look at the clone (its lookup, or one sample of its disks
# and agent) may take: the destination's libvirt, across the link, may
# not answer at all (deadline.call_within).
SAMPLE_TIMEOUT = 10
GUEST_PING = '{"execute": "guest-ping"}'
AGENT_PROOF = 'its guest agent answered guest-ping'


def _conn_alive(conn):
    try:
        return bool(conn.isAlive())
    except libvirt.libvirtError:
        return False


def _stopped(dest_conn, clone):
    """Whether the clone is verifiably stopped or gone.

    Its domain says it is inactive, or a fresh lookup of its UUID finds
    no domain (a transient domain vanishes with its destroy) or an
    inactive one. Anything else (an error, an active domain) is not a
    proof: the clone may run.
    """
    try:
        return not clone.isActive()
    except libvirt.libvirtError as exc:
        LOG.debug('State of the clone after its destroy: %(err)s',
                  {'err': exc})
    try:
        return not dest_conn.lookupByUUIDString(clone.UUIDString()).isActive()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return True
        LOG.debug('Lookup of the clone after its destroy: %(err)s',
                  {'err': exc})
        return False


def remove_clone(dest_conn, clone):
    """Destroy and undefine a clone; False if it may still be running.

    Success is what the destination confirms after the destroy: the
    clone inactive, or no domain of its UUID any more. A destroy that
    failed (the destination unreachable, or QEMU that does not die, e.g.
    in uninterruptible sleep: "Failed to terminate process ... Device or
    resource busy") leaves a clone that may run: it is not undefined
    (that would only make it a running transient domain) and the caller
    must not resume the source. Its disks are left (the caller's, or
    Nova's rollback's, to remove).

    :param dest_conn: the libvirt connection ``clone`` was looked up on
    :param clone: the clone's ``virDomain``
    :returns: True when the clone is gone or stopped, False when that
        could not be confirmed (it may run)
    """
    try:
        if clone.isActive():
            clone.destroy()
    except libvirt.libvirtError as exc:
        if not _conn_alive(dest_conn):
            LOG.error('The clone %(name)s could not be destroyed: the '
                      'destination is unreachable (%(err)s)',
                      {'name': clone.name(), 'err': exc})
            return False
        LOG.warning('Destroy of the clone %(name)s: %(err)s',
                    {'name': clone.name(), 'err': exc})
    if not _stopped(dest_conn, clone):
        LOG.error('The clone %(name)s may still run: the destination did '
                  'not confirm its destroy', {'name': clone.name()})
        return False
    try:
        clone.undefine()
    except libvirt.libvirtError as exc:
        LOG.warning('Undefine of the clone: %(err)s', {'err': exc})
    return True


def start_clone(dest_conn, xml, verify_clone, timeout):
    """Define and start the clone on ``dest_conn``; check that it runs.

    :param dest_conn: a libvirt connection to the destination
    :param xml: the clone's definition
    :param verify_clone: ``f(clone, timeout)`` that raises when the clone
        does not come up (e.g. it does not write), or None
    :param timeout: seconds ``verify_clone`` may take
    :returns: (clone ``virDomain``, monotonic time it was started)
    :raises: CloneNotRunning (the clone was removed again),
        CloneStateUnknown (its removal could not be confirmed), or what
        ``verify_clone`` or libvirt raised (the clone was removed again)
    """
    if not _conn_alive(dest_conn):
        # Nothing was sent: the clone cannot run, the source may resume.
        raise exception.CloneNotRunning('the destination\'s libvirt is '
                                        'unreachable; the clone was not '
                                        'defined')
    clone = dest_conn.defineXML(xml)
    try:
        clone.create()
        started = time.monotonic()
        state = clone.state()[0]
        if state != libvirt.VIR_DOMAIN_RUNNING:
            raise exception.CloneNotRunning('the clone %s is not running '
                                            '(state %s)' % (clone.name(),
                                                            state))
        if verify_clone:
            verify_clone(clone, timeout)
        if not clone.isActive():
            raise exception.CloneNotRunning('the clone %s stopped'
                                            % clone.name())
    except Exception as exc:
        if not remove_clone(dest_conn, clone):
            raise exception.CloneStateUnknown(
                'the clone %s failed (%s) and its removal could not be '
                'confirmed (the destination unreachable, or the clone did '
                'not stop)' % (clone.name(), exc),
                clone=clone.name()) from exc
        raise
    return clone, started


def start_clone_retrying(dest_conn, xml, verify_clone, timeout,
                         attempts=CLONE_START_ATTEMPTS,
                         delay=CLONE_RETRY_DELAY):
    """:func:`start_clone`, again while an image lock is still held.

    The export that held the destination's images may still be closing
    them when its port or process is gone; QEMU then refuses to start
    with a lock error.  Returns (clone, monotonic start time).
    """
    for attempt in range(1, attempts + 1):
        try:
            return start_clone(dest_conn, xml, verify_clone, timeout)
        except libvirt.libvirtError as exc:
            if attempt == attempts or 'lock' not in str(exc).lower():
                raise
            LOG.info('The clone could not start yet (attempt %(n)d: '
                     '%(err)s); retrying', {'n': attempt, 'err': exc})
            time.sleep(delay)


def guest_activity(first, latest, elapsed, settle, baseline=None):
    """Whether the clone's guest writes on, from two samples.

    The decision of :class:`ActivityWatch` on writes, without libvirt.
    The clone's QEMU counts its guest's write requests per disk from its
    start. A first write proves little: boot loaders write before the
    kernel runs (GRUB's ``save_env`` into ``grubenv``, the Windows boot
    manager into ``bootstat.dat``), and a translated guest whose kernel
    has no driver for its new disk bus then hangs without writing again
    (the classic V2V failure). A guest whose disks are written again
    after the ``settle`` seconds that follow its first writes runs: the
    writes that count are those made after the last sample inside that
    window (``baseline``), not those of a boot loader that went on for a
    second or two.

    :param first: ``{disk dev: write requests}`` of the first sample with
        writes
    :param latest: ``{disk dev: write requests}`` of a later sample
    :param elapsed: seconds between the two samples
    :param settle: seconds the writes must go on after the first sample
        (``[v2v] cutover_activity_settle``)
    :param baseline: ``{disk dev: write requests}`` of the last sample
        inside the settle window (default: ``first``)
    :returns: what proved it (text for the log), or None
    """
    if elapsed < settle:
        return None
    base = first if baseline is None else baseline
    grown = sorted(dev for dev, count in latest.items()
                   if dev in base and count > base[dev])
    if not grown:
        return None
    return 'its disk(s) %s written on %d s after its first writes (%s)' % (
        ', '.join(grown), elapsed,
        ', '.join('%d -> %d write requests' % (first[dev], latest[dev])
                  for dev in grown))


class ActivityWatch(object):
    """The proof of a clone's guest activity, sample after sample.

    :param agent: whether the guest has a QEMU guest agent (its image
        says so): then only the agent's answer to a ping proves the guest
        runs; its writes do not (a boot loader writes too)
    :param settle: seconds the guest's disks must still be written after
        the first sample with writes (:func:`guest_activity`)
    """

    def __init__(self, agent=False, settle=0):
        self.agent = agent
        self.settle = settle
        # The first sample with writes ({dev: write requests}) and its
        # monotonic time; the latest sample and its time.
        self.first = None
        self.since = None
        # The last sample inside the settle window: writes past it prove.
        self.baseline = None
        self.latest = None
        self.latest_at = None

    def rule(self):
        """What proves the guest runs (text for the log)."""
        if self.agent:
            return 'its guest agent answering guest-ping'
        return ('its disks written again past the %d s that follow their '
                'first writes' % self.settle)

    def add(self, sample, agent_answered, now):
        """Take a sample of the clone in.

        :param sample: ``{disk dev: write requests}``
        :param agent_answered: whether its guest agent answered a ping
            (only asked when the guest has one)
        :param now: the sample's monotonic time
        :returns: what proved the guest runs (text for the log), or None
        """
        self.latest, self.latest_at = sample, now
        if self.agent:
            return AGENT_PROOF if agent_answered else None
        if self.first is not None and any(
                dev in sample and sample[dev] < count
                for dev, count in self.baseline.items()):
            # Lower counts: another QEMU process than the one sampled
            # first (the domain was restarted); its writes count anew.
            self.first = self.since = self.baseline = None
        if self.first is None:
            if any(count > 0 for count in sample.values()):
                self.first, self.since = dict(sample), now
                self.baseline = dict(sample)
            return None
        if now - self.since < self.settle:
            self.baseline = dict(sample)
            return None
        return guest_activity(self.first, sample, now - self.since,
                              self.settle, self.baseline)

    def missing(self):
        """What the guest did not show (text for the failure's reason)."""
        if self.agent:
            return 'its guest agent did not answer guest-ping'
        if self.first is None:
            return 'no disk written'
        writes = ', '.join('%s: %d' % (dev, count) for dev, count in
                           sorted(self.first.items()) if count)
        after = self.latest_at - self.since
        if after < self.settle:
            return ('its disks first written (%s write requests) only '
                    '%d s before the end, less than the %d s they must '
                    'be written on' % (writes, after, self.settle))
        return ('its disks written (%s write requests) but no more over '
                'the %d s that followed' % (writes, after))


def write_requests(clone, devs):
    """``{dev: write requests}`` of the clone's disks (blockStats).

    A disk whose statistics cannot be read is left out of the sample.
    """
    sample = {}
    for dev in devs:
        try:
            sample[dev] = clone.blockStats(dev)[2]
        except libvirt.libvirtError as exc:
            LOG.debug('No block statistics of %(dev)s of %(name)s: '
                      '%(err)s', {'dev': dev, 'name': clone.name(),
                                  'err': exc})
    return sample


def agent_answers(clone, timeout=AGENT_TIMEOUT):
    """Whether the clone's QEMU guest agent answers a guest-ping."""
    try:
        libvirt_qemu.qemuAgentCommand(clone, GUEST_PING, timeout, 0)
        return True
    except libvirt.libvirtError as exc:
        LOG.debug('The guest agent of %(name)s does not answer: %(err)s',
                  {'name': clone.name(), 'err': exc})
        return False


def _sample(clone, devs, agent):
    """``(active, {dev: write requests}, agent answered)`` of the clone."""
    if not clone.isActive():
        return False, {}, False
    return True, write_requests(clone, devs), agent and agent_answers(clone)


def wait_for_activity(lookup, devs, timeout, agent=False, settle=0,
                      poll=ACTIVITY_POLL):
    """Wait until the running clone's guest shows activity.

    Samples the write requests of the clone's disks (and, with
    ``agent``, pings its guest agent) until an :class:`ActivityWatch`
    finds a proof or ``timeout`` seconds passed: with ``agent``, the
    agent answering; otherwise the disks still written ``settle``
    seconds after their first writes (the settle window counts within
    ``timeout``). When the destination's libvirt fails meanwhile (its
    libvirtd restarted, the link to it went down: the clone's QEMU may
    run on) or does not answer a look within :data:`SAMPLE_TIMEOUT` (or
    the time left), the clone is looked up again at the next sample,
    until the deadline: the wait ends at ``timeout``, whatever the link
    does.

    :param lookup: ``f() -> virDomain`` of the clone, called for the
        first sample and again after a libvirt error (it may reconnect)
    :param devs: the target devs of its disks
    :param timeout: seconds the guest has to show activity
    :param agent: whether the guest has a QEMU guest agent to ping
    :param settle: seconds its disks must be written on after their
        first writes
    :returns: what proved it (text)
    :raises: CloneNotProven when ``timeout`` passed without a proof (its
        message says what was missing, and when the destination's libvirt
        failed last) or the clone stopped first; its ``watch`` holds the
        samples
    """
    watch = ActivityWatch(agent, settle)
    now = time.monotonic()
    deadline = now + timeout
    clone = None
    failure = None
    while True:
        # Each look within the time left (as of the last sample).
        bound = min(SAMPLE_TIMEOUT, max(deadline - now, 0))
        try:
            if clone is None:
                clone = call_deadline.call_within(bound, lookup)
            active, latest, answered = call_deadline.call_within(
                bound, _sample, clone, devs, agent)
            if not active:
                raise exception.CloneNotProven(
                    'the clone %s stopped before its guest showed activity'
                    % clone.name(), watch=watch)
        except (libvirt.libvirtError, exception.NoAnswer) as exc:
            LOG.warning('The destination\'s libvirt failed while the '
                        'clone\'s activity was sampled (%(err)s); looking '
                        'the clone up again', {'err': exc})
            clone, failure = None, exc
            now = time.monotonic()
        else:
            failure = None
            now = time.monotonic()
            proof = watch.add(latest, answered, now)
            if proof:
                return proof
        if now >= deadline:
            raise exception.CloneNotProven(
                'the clone showed no guest activity within %d s (%s)'
                % (timeout, '; '.join(
                    [watch.missing()] + ([] if failure is None else [
                        'the destination\'s libvirt failed: %s' % failure]))),
                watch=watch)
        time.sleep(poll)


def last_look(lookup, devs, watch, poll=ACTIVITY_POLL):
    """One more look at a clone not proven in time, before its removal.

    The source may not have seen the clone to the end of its wait (the
    destination's libvirt failed, or the guest's first writes came
    late). A clone whose guest shows activity now is proven: removing it
    would lose what its guest wrote and may have acknowledged to the
    outside world, while the source would resume from older disks. The
    samples of the wait (``watch``) count: one sample decides against
    writes seen at least the settle window before; a guest whose writes
    are seen first now is sampled again once the settle window passed
    (at least ``poll`` seconds later). With a guest agent, one ping
    decides.

    :param lookup: ``f() -> virDomain`` of the clone (it may reconnect)
    :param devs: the target devs of its disks
    :param watch: the :class:`ActivityWatch` of the wait
    :returns: what proved it (text), or None when it shows no activity
        (stopped, gone, or silent): it may be removed
    :raises: CloneStateUnknown when the destination cannot tell (its
        libvirt failed, or no disk of the running clone could be read)
    """
    try:
        clone = call_deadline.call_within(SAMPLE_TIMEOUT, lookup)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise exception.CloneStateUnknown(
            'the clone could not be looked up: %s' % exc) from exc
    except exception.NoAnswer as exc:
        raise exception.CloneStateUnknown(
            'the clone could not be looked up: %s' % exc) from exc
    for _look in range(LAST_LOOK_SAMPLES):
        try:
            active, sample, answered = call_deadline.call_within(
                SAMPLE_TIMEOUT, _sample, clone, devs, watch.agent)
            if not active:
                return None
        except (libvirt.libvirtError, exception.NoAnswer) as exc:
            raise exception.CloneStateUnknown(
                'the clone\'s activity could not be read: %s' % exc
            ) from exc
        if devs and not sample and not answered:
            raise exception.CloneStateUnknown(
                'no disk of the clone could be read')
        now = time.monotonic()
        since = watch.since
        proof = watch.add(sample, answered, now)
        if proof:
            return proof
        if watch.agent or watch.first is None:
            return None
        if watch.since == since and now - since >= watch.settle:
            # Compared with writes a settle window old: no more since.
            return None
        time.sleep(max(watch.since + watch.settle - now, poll))
    return None
