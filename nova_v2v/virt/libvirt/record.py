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

"""The one owner of what a V2V migration keeps: :class:`MigrationRecord`.

A migration's record lives in the instance's ``system_metadata``: the plan
the source's pre-check made, the destination's profile handed to the
source's pre-check, the NBD exports of a cutover, the phase it reached
(with its time) and the plan of an offline (cold) move. No other module
reads or writes these keys, and no other module of the driver reads the
instance from the database.

**Stale objects.** Nova hands each hook an instance object, and the
objects of a live migration's later calls were serialised before the
record changed: the conductor serialises the instance for the source's
``live_migration`` before the source's pre-check records the plan, and the
source's manager serialises its object for the destination's
``pre_live_migration`` before the destination records the exports. Nova
saves ``system_metadata`` whole whenever it saves such an object, so a
stale object would also write an old record back. The record solves both
halves here, and only here:

* :meth:`MigrationRecord.current` reads the record from the database (the
  hooks whose object is known to be older than the record call it);
  :meth:`MigrationRecord.carried` reads the object as Nova gave it (the
  pre-checks and the cold migration, whose objects are current);
* every change is applied to the object the hook was given as well as
  written (by :meth:`MigrationRecord.save`) through a fresh copy read from
  the database, so a later save of the given object by Nova writes the same
  record;
* the exports belong to the destination: a record read on the source
  removes them from the object it was given (:meth:`MigrationRecord.current`
  with ``carry_exports=False``), so that the source's later saves cannot
  bring back exports the destination has forgotten.

Nova's ``instance_system_metadata.value`` is a VARCHAR(255) (MySQL refuses a
longer value): a value longer than that is stored in pieces
(:func:`sysmeta_put`, :func:`sysmeta_get`).
"""

from nova import objects
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import timeutils

from nova_v2v.planning import planner

LOG = logging.getLogger(__name__)

# instance.system_metadata keys.
SYSMETA_PLAN = 'v2v_plan'
SYSMETA_DEST_PROFILE = 'v2v_dest_profile'
SYSMETA_NBD = 'v2v_nbd'
SYSMETA_OFFLINE_PLAN = 'v2v_offline_plan'
SYSMETA_PHASE = 'v2v_phase'
# The source's migrate_data of a running cutover (what Nova's callbacks
# need to complete or roll it back after a restart of the source).
SYSMETA_MIGRATE_DATA = 'v2v_migrate_data'
# Who the destination's exports admit: the source host's addresses and
# client certificate DN (written by the source's pre-check).
SYSMETA_SOURCE_PEER = 'v2v_source_peer'
KEYS = (SYSMETA_PLAN, SYSMETA_DEST_PROFILE, SYSMETA_NBD,
        SYSMETA_OFFLINE_PLAN, SYSMETA_PHASE, SYSMETA_MIGRATE_DATA,
        SYSMETA_SOURCE_PEER)

# The phases of a live migration's record, in the order a cutover enters
# them. Each is recorded durably before it is entered, so that a restarted
# compute knows what to resolve.
PLANNED = 'planned'
# The destination's NBD exports run (written by the destination).
EXPORTED = 'exported'
# The source's block copy jobs mirror into the exports.
SYNCING = 'syncing'
# The source guest is being stopped (the disks' last writes follow).
CUTTING_OVER = 'cutting-over'
# The source guest stopped (paused or shut off), mirrors ended, exports
# released: the source's disks are untouched since.
SOURCE_STOPPED = 'source-stopped'
# The clone is being defined and started on the destination.
CLONE_STARTED = 'clone-started'
# The clone's domain runs; its guest has not shown activity yet.
CLONE_RUNNING = 'clone-running'
# The point of no return: the clone's guest showed activity.
CLONE_PROVEN = 'clone-proven'
# The source's domain is gone (its disks are Nova's post_method's to
# delete).
SOURCE_REMOVED = 'source-removed'
# Ends: rolled back (the source runs), or held for the operator: the
# clone's state is unknown, or a restarted compute's recovery found no copy
# it can trust (nothing was destroyed; the instance is in ERROR, locked).
ROLLED_BACK = 'rolled-back'
CLONE_UNKNOWN = 'clone-unknown'

# Before the point of no return the source owns the guest: an interrupted
# cutover is rolled back (mirrors ended, clone removed, source running).
BEFORE_NO_RETURN = (EXPORTED, SYNCING, CUTTING_OVER, SOURCE_STOPPED,
                    CLONE_STARTED, CLONE_RUNNING)
# After it the destination owns the guest: an interrupted cutover is
# completed (Nova's records moved to the destination, the source never
# restarted).
AFTER_NO_RETURN = (CLONE_PROVEN, SOURCE_REMOVED)

SYSMETA_VALUE_MAX = 255
SYSMETA_CHUNK = 240


def sysmeta_put(sysmeta, key, text):
    """Store ``text`` under ``key`` in pieces that fit; None removes it.

    ``key`` holds ``'#N'``, ``key#0`` .. ``key#N-1`` the text.
    """
    for name in [k for k in sysmeta if k == key or
                 k.startswith(key + '#')]:
        del sysmeta[name]
    if text is None:
        return
    chunks = [text[i:i + SYSMETA_CHUNK]
              for i in range(0, len(text), SYSMETA_CHUNK)] or ['']
    sysmeta[key] = '#%d' % len(chunks)
    for index, chunk in enumerate(chunks):
        sysmeta['%s#%d' % (key, index)] = chunk


def sysmeta_get(sysmeta, key):
    """The text :func:`sysmeta_put` stored under ``key``, or None."""
    head = sysmeta.get(key)
    if head is None:
        return None
    if not head.startswith('#') or not head[1:].isdigit():
        return head
    return ''.join(sysmeta.get('%s#%d' % (key, index), '')
                   for index in range(int(head[1:])))


def _fetch(context, instance):
    return objects.Instance.get_by_uuid(context, instance.uuid,
                                        expected_attrs=['system_metadata'])


class MigrationRecord(object):
    """What one migration of ``instance`` keeps, and its changes.

    Build it with :meth:`current` or :meth:`carried`; read its properties;
    change it with the setters; :meth:`save` writes the changes.
    """

    def __init__(self, context, instance, values):
        self._context = context
        self._instance = instance
        self._values = dict(values)
        self._changed = set()

    @classmethod
    def carried(cls, context, instance):
        """The record as the given object carries it."""
        sysmeta = instance.system_metadata
        return cls(context, instance,
                   {key: sysmeta_get(sysmeta, key) for key in KEYS})

    @classmethod
    def of_instance(cls, context, instance_uuid):
        """The record of an instance this compute was given no object of.

        For the recovery at start-up on a migration's destination, where
        Nova loads no instance (the instance's host is the source); the
        record's :attr:`instance` is the object read.
        """
        instance = objects.Instance.get_by_uuid(
            context, instance_uuid, expected_attrs=['system_metadata'])
        return cls.carried(context, instance)

    @classmethod
    def current(cls, context, instance, carry_exports=True):
        """The record in the database, carried onto ``instance`` too.

        :param carry_exports: False on the source: the exports are the
            destination's, the given object must not hold them
        """
        fresh = _fetch(context, instance)
        values = {key: sysmeta_get(fresh.system_metadata, key)
                  for key in KEYS}
        for key in KEYS:
            carried = values[key]
            if key == SYSMETA_NBD and not carry_exports:
                carried = None
            if sysmeta_get(instance.system_metadata, key) != carried:
                sysmeta_put(instance.system_metadata, key, carried)
        return cls(context, instance, values)

    # -- reading ---------------------------------------------------------

    @property
    def instance(self):
        """The instance object the record was built on."""
        return self._instance

    def _json(self, key, default):
        text = self._values.get(key)
        return jsonutils.loads(text) if text else default

    @property
    def plan(self):
        """The live migration's :class:`planner.MigrationPlan`, or None."""
        text = self._values.get(SYSMETA_PLAN)
        return planner.MigrationPlan.from_json(text) if text else None

    @property
    def is_cutover(self):
        plan = self.plan
        return plan is not None and plan.mode == planner.V2V_CUTOVER

    @property
    def offline_plan(self):
        """The cold migration's plan, or None (Nova's own move)."""
        text = self._values.get(SYSMETA_OFFLINE_PLAN)
        return planner.MigrationPlan.from_json(text) if text else None

    @property
    def dest_profile_stats(self):
        """The destination's profile (as stats), handed to the source."""
        return self._json(SYSMETA_DEST_PROFILE, {})

    @property
    def exports(self):
        """The destination's NBD export records (list of dicts)."""
        return self._json(SYSMETA_NBD, [])

    @property
    def source_peer(self):
        """What the source said of itself for the exports (dict), or None.

        ``{'addresses': [...], 'tls_dn': ...}``
        (:class:`nova_v2v.transfer.peer.SourcePeer`).
        """
        return self._json(SYSMETA_SOURCE_PEER, None)

    @property
    def phase(self):
        """``(phase, ISO 8601 time)`` of the last phase, or (None, None)."""
        data = self._json(SYSMETA_PHASE, {})
        return data.get('phase'), data.get('at')

    @property
    def migrate_data_text(self):
        """The running cutover's migrate_data, as the seam wrote it."""
        return self._values.get(SYSMETA_MIGRATE_DATA)

    # -- changing --------------------------------------------------------

    def _set(self, key, text):
        if self._values.get(key) == text:
            return
        self._values[key] = text
        self._changed.add(key)
        sysmeta_put(self._instance.system_metadata, key, text)

    def set_plan(self, plan):
        """Record the live migration's plan (None forgets it)."""
        self._set(SYSMETA_PLAN, plan.to_json() if plan else None)
        self.set_phase(PLANNED if plan else None)
        # A new move: the migrate_data of an earlier one must not serve it.
        self.set_migrate_data_text(None)

    def set_offline_plan(self, plan):
        self._set(SYSMETA_OFFLINE_PLAN, plan.to_json() if plan else None)

    def set_dest_profile_stats(self, stats):
        """Hand the destination's profile over (None removes it).

        Only on the object: it travels to the source's pre-check with the
        RPC call, which removes it.
        """
        self._set(SYSMETA_DEST_PROFILE,
                  jsonutils.dumps(stats) if stats is not None else None)

    def set_exports(self, records):
        self._set(SYSMETA_NBD, jsonutils.dumps(records) if records
                  else None)

    def set_source_peer(self, data):
        """Record who the exports are to admit (None forgets it)."""
        self._set(SYSMETA_SOURCE_PEER,
                  jsonutils.dumps(data) if data else None)

    def set_phase(self, phase):
        self._set(SYSMETA_PHASE, jsonutils.dumps(
            {'phase': phase, 'at': timeutils.utcnow().isoformat()})
            if phase else None)

    def record_phase(self, phase):
        """Write ``phase`` durably now, and log it ("V2V phase <phase>").

        :meth:`set_phase` and :meth:`save` in one: a cutover calls it
        before it enters each phase, so that a restarted compute (and the
        fault matrix, which reads the phase from the database or from
        that log line) knows how far it got.

        :raises: what writing to the database raises; the phase is then
            not recorded (the caller decides whether to go on)
        """
        self.set_phase(phase)
        self.save()
        LOG.info('V2V phase %(phase)s', {'phase': phase},
                 instance=self._instance)

    def set_migrate_data_text(self, text):
        """Keep the running cutover's migrate_data (None forgets it)."""
        self._set(SYSMETA_MIGRATE_DATA, text)

    def save_given(self):
        """Write the changes by saving the object the hook was given.

        Only for an object that is current (the source's pre-check: the
        conductor read it at the start of the move); it reads nothing from
        the database, as Nova's pre-checks do not.
        """
        if not self._changed:
            return
        self._changed.clear()
        self._instance.save()

    def save(self):
        """Write the changes through a fresh copy of the instance.

        The given object already holds them (a later save of it by Nova
        writes the same values); the fresh copy keeps this save from
        writing anything else that object holds.
        """
        if not self._changed:
            return
        fresh = _fetch(self._context, self._instance)
        dirty = False
        for key in sorted(self._changed):
            text = self._values.get(key)
            if sysmeta_get(fresh.system_metadata, key) != text:
                sysmeta_put(fresh.system_metadata, key, text)
                dirty = True
        self._changed.clear()
        if dirty:
            fresh.save()


class SourceRecords(object):
    """The records this compute's source pre-checks made, in memory.

    The source's ``live_migration`` gets an instance object older than
    the plan its pre-check recorded (see the module's docstring). The
    pre-check ran in this process moments before: its record is kept here
    so that a move without a V2V plan (or one that is not a cutover) needs
    no read of the instance from the database, as in Nova. When this
    process did not make it (the service restarted in between), the
    database says.
    """

    def __init__(self):
        self._records = {}

    def remember(self, instance, record):
        self._records[instance.uuid] = {
            key: record._values.get(key) for key in (SYSMETA_PLAN,
                                                     SYSMETA_PHASE)}

    def forget(self, instance):
        self._records.pop(instance.uuid, None)

    def for_move(self, context, instance):
        """The move's record, carried onto ``instance``.

        The exports are not in it (they are the destination's; see
        :meth:`MigrationRecord.current` for a cutover).
        """
        values = self._records.get(instance.uuid)
        if values is None:
            record = MigrationRecord.current(context, instance,
                                             carry_exports=False)
            self.remember(instance, record)
            return record
        for key, text in values.items():
            if sysmeta_get(instance.system_metadata, key) != text:
                sysmeta_put(instance.system_metadata, key, text)
        return MigrationRecord(context, instance, values)
