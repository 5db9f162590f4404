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

"""The destination's half of a live migration with a V2V cutover.

The destination's ``pre_live_migration`` lets Nova precreate the disks (in
the plan's formats, as full images) and exports them over NBD with one
non-persistent ``qemu-nbd`` per disk, which releases its image by itself
when the source's QEMU disconnects (:mod:`.cutover_transfer`). The phase
EXPORTED and the exports' pid files are recorded before any of them
starts. Its rollback stops the exports and lets Nova remove what was
created; after a completed move only the exports' pid files and the record
remain, and go. A retry after an attempt that left its exports running
(an interrupted ``pre_live_migration`` that Nova never rolled back) stops
them before it judges the instance directory a leftover.
"""

import os

from nova import exception
from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_v2v import conf
from nova_v2v import exception as v2v_exception
from nova_v2v import paths
from nova_v2v.storage import disks
from nova_v2v.storage import leftovers
from nova_v2v.transfer import nbd
from nova_v2v.virt.libvirt import converted_disks
from nova_v2v.virt.libvirt import cutover_transfer
from nova_v2v.virt.libvirt import nova_internals
from nova_v2v.virt.libvirt import record as v2v_record

CONF = conf.CONF
LOG = logging.getLogger(__name__)


def planned_exports(instance, wanted, instance_dir):
    """The records of exports about to start: no address or port yet.

    The path, export name and pid file of each, as
    :meth:`cutover_transfer.DestinationHalf.export` starts them (one
    ``qemu-nbd`` per disk, pid files ``v2v-nbd-<index>.pid`` in the
    instance directory, :data:`cutover_transfer.NBD_PID_GLOB`).

    :param wanted: ``[(source path, destination format)]``
    """
    records = []
    for index, (source_path, dest_format) in enumerate(wanted):
        base = os.path.basename(source_path)
        records.append(nbd.ExportedDisk(
            os.path.join(instance_dir, base), dest_format,
            'v2v-%s-%s' % (instance.uuid, base),
            pid_file=os.path.join(instance_dir, 'v2v-nbd-%d.pid' % index),
            source_path=source_path).to_dict())
    return records


class CutoverDestination(object):
    """The destination's hooks of a cutover.

    :param nova: the driver's :class:`nova_internals.NovaLibvirt`
    """

    def __init__(self, nova):
        self._nova = nova
        self._half = cutover_transfer.DestinationHalf()

    def clear_leftover(self, instance, migrate_data):
        """Replace what an earlier failed cutover left here.

        Nova refuses a destination whose instance directory exists. Before
        a V2V cutover, when no domain of the instance is defined here and
        none of its files is in use, the directory is a leftover of an
        earlier attempt (its exports and disks) and is removed, so that a
        retry works; otherwise Nova's refusal stands. Nova's own moves
        never come here.
        """
        if migrate_data.is_shared_instance_path:
            return
        instance_dir = nova_internals.instance_path_at_destination(
            instance, migrate_data)
        if not os.path.exists(instance_dir):
            return
        try:
            self._nova.get_guest(instance)
        except exception.InstanceNotFound:
            pass
        else:
            LOG.warning('The instance has a domain on this host: keeping '
                        '%(dir)s', {'dir': instance_dir}, instance=instance)
            return
        try:
            # An earlier attempt's exports hold its disks open (qemu-nbd's
            # image lock): they are leftovers too, stopped first. Only
            # a qemu-nbd started with a pid file of this directory stops.
            stopped = self._half.stop_leftovers(
                paths.confine(CONF.instances_path, instance_dir))
            if stopped:
                LOG.warning('Stopped %(n)d NBD export(s) an earlier '
                            'attempt left running in %(dir)s',
                            {'n': stopped, 'dir': instance_dir},
                            instance=instance)
        except Exception as e:
            LOG.warning('Cannot stop the NBD exports left in %(dir)s: '
                        '%(err)s', {'dir': instance_dir, 'err': e},
                        instance=instance)
        try:
            leftovers.clear_instance_dir(CONF.instances_path, instance_dir)
        except disks.DiskError as e:
            LOG.warning('Not removing %(dir)s: %(err)s',
                        {'dir': instance_dir, 'err': e}, instance=instance)

    @staticmethod
    def prepare(record, migrate_data, disk_info):
        """Before Nova's ``pre_live_migration``: the disk_info to create.

        :raises: V2VCutoverFailed
        """
        if migrate_data.is_shared_instance_path:
            raise v2v_exception.V2VCutoverFailed(
                reason='the instance path is shared with the source; the '
                       'cutover runs on local instance storage only')
        # Local storage: the disks are copied (by the cutover's mirror).
        migrate_data.block_migration = True
        return converted_disks.whole_disk_info(record.plan, disk_info)

    def export(self, instance, record, disk_info, migrate_data):
        """After Nova precreated the disks: record the exports, start them.

        EXPORTED is recorded, with the exports' pid files, before any
        ``qemu-nbd`` starts: a pre_live_migration interrupted in between
        leaves a phase that says exports may run here and where they are
        (for Nova's rollback, the start-up recovery and a retry's
        :meth:`clear_leftover`). The records with where each export
        listens follow once they run.

        :raises: V2VCutoverFailed, and what writing the record raises
            (then nothing was started)
        """
        planned = {d.path: d for d in record.plan.disks}
        wanted = [(info['path'], planned[info['path']].dest_format)
                  for info in jsonutils.loads(disk_info or '[]')
                  if info['path'] in planned]
        instance_dir = nova_internals.instance_path_at_destination(
            instance, migrate_data)
        record.set_exports(planned_exports(instance, wanted, instance_dir))
        record.record_phase(v2v_record.EXPORTED)
        records = self._half.export(instance, wanted, instance_dir,
                                    source=record.source_peer)
        record.set_exports(records)
        record.save()

    def rollback(self, context, instance, migrate_data):
        """Stop every NBD export of the instance on this host."""
        try:
            record = v2v_record.MigrationRecord.current(context, instance)
            records = record.exports
        except Exception:
            LOG.exception('Cannot read the NBD exports of the instance',
                          instance=instance)
            record, records = None, []
        instance_dir = None
        if migrate_data is not None and not (
                'is_shared_instance_path' in migrate_data and
                migrate_data.is_shared_instance_path):
            instance_dir = nova_internals.instance_path_at_destination(
                instance, migrate_data)
        stopped = self._half.stop(instance, records, instance_dir)
        if record is not None and records:
            record.set_exports(None)
            record.save()
        return stopped

    def finish(self, context, instance):
        """After a completed move: the exports' leftovers go.

        Each qemu-nbd exited when the source disconnected; only their
        pid files and the record remain. The source carried the plan onto
        the instance it sends here; a move that was not a cutover is left
        alone.
        """
        if not v2v_record.MigrationRecord.carried(
                context, instance).is_cutover:
            return
        self._half.stop(instance, [], nova_internals.instance_path(instance))
        record = v2v_record.MigrationRecord.current(context, instance)
        if record.exports:
            record.set_exports(None)
            record.save()
