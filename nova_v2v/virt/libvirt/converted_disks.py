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

"""Live migrations into disks of another format.

A disk format the destination does not run (``[v2v] disk_formats``) is no
reason to restart the guest: the planner's ``block-live`` plan then
changes the disk's format (:func:`planner.conversions`), and Nova's own
block migration runs with three differences:

* the destination precreates every local disk as a whole image in the
  plan's format, with no backing file in Nova's image cache
  (:func:`whole_disk_info`; Nova's ``pre_live_migration`` records those
  formats in ``disk.info`` for its image backend);
* the source sends the destination definition with those disks' driver
  type changed, and no ``backingStore`` on any disk of the plan;
* and migrates with ``VIR_MIGRATE_NON_SHARED_DISK`` instead of Nova's
  ``VIR_MIGRATE_NON_SHARED_INC``: QEMU copies every block of each disk's
  chain, not only its top overlay, which the whole image needs.

The V2V cutover precreates its disks the same way. A move without a
format change is Nova's, untouched.
"""

from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_v2v.hardware import disks as hw_disks
from nova_v2v.planning import planner

LOG = logging.getLogger(__name__)

# virDomainMigrateFlags (libvirt-domain.h): a full copy of each local disk,
# and Nova's copy of the top image only.
VIR_MIGRATE_NON_SHARED_DISK = 1 << 6
VIR_MIGRATE_NON_SHARED_INC = 1 << 7


def converting(plan):
    """Whether ``plan`` is a live block migration that converts disks."""
    return (plan is not None and plan.mode == planner.BLOCK_LIVE and
            bool(planner.conversions(plan)))


def plan_of_move(plan, source_host, dest_host):
    """``plan`` if it is the plan of a move between these hosts, or None.

    The destination reads the plan the source's pre-check recorded in the
    instance; a source that does not run nova-v2v records none and leaves
    an earlier move's plan there, which must not steer this move.
    """
    if plan is None:
        return None
    if (plan.source_host, plan.dest_host) != (source_host, dest_host):
        return None
    return plan


def whole_disk_info(plan, disk_info):
    """Nova's disk_info JSON with the plan's formats and no backing file.

    The destination precreates each disk of the plan in the format it
    will run, as a whole image: the copy writes every block, no ``_base``
    is needed.

    :param disk_info: the source's ``get_instance_disk_info`` (JSON)
    """
    if not disk_info:
        return disk_info
    formats = {d.path: d.dest_format for d in plan.disks}
    infos = jsonutils.loads(disk_info)
    for info in infos:
        if info.get('path') in formats:
            info['type'] = formats[info['path']]
            info['backing_file'] = ''
    return jsonutils.dumps(infos)


def migrate_flags(flags):
    """Nova's block migration flags with a full copy of the disks.

    Flags without Nova's copy of the disks (not a block migration) are
    left as they are.
    """
    if not flags & VIR_MIGRATE_NON_SHARED_INC:
        return flags
    return (flags & ~VIR_MIGRATE_NON_SHARED_INC) | VIR_MIGRATE_NON_SHARED_DISK


class ConvertingMigrateGuest(object):
    """A Guest whose ``migrate`` writes the disks in ``formats``.

    :param formats: ``{disk path: destination format}``
    """

    def __init__(self, guest, formats):
        self._guest = guest
        self.formats = formats

    def __getattr__(self, name):
        return getattr(self._guest, name)

    def migrate(self, *args, **kwargs):
        kwargs['flags'] = migrate_flags(kwargs.get('flags', 0))
        xml = kwargs.get('destination_xml')
        if xml is None:
            # Nova sends no definition (parallels): the source's own.
            xml = self._guest.get_xml_desc(dump_migratable=True)
        kwargs['destination_xml'] = hw_disks.set_formats(xml, self.formats)
        return self._guest.migrate(*args, **kwargs)


class ConvertedDisks(object):
    """The hooks of a live block migration that converts disks."""

    @staticmethod
    def disk_info(plan, disk_info):
        """On the destination, before Nova precreates the disks."""
        if not converting(plan):
            return disk_info
        return whole_disk_info(plan, disk_info)

    @staticmethod
    def operation_guest(instance, plan, guest):
        """On the source: the Guest Nova's migration thread gets."""
        if not converting(plan):
            return guest
        # Every disk of the plan, as the destination precreated it: a
        # whole image (no backingStore), in its plan's format.
        formats = {d.path: d.dest_format for d in plan.disks}
        LOG.info('Live block migration into disks of another format: '
                 '%(disks)s; every block of their chains is copied',
                 {'disks': ', '.join(
                     '%s (%s to %s)' % (d.path, d.source_format,
                                        d.dest_format)
                     for d in planner.conversions(plan).values())},
                 instance=instance)
        return ConvertingMigrateGuest(guest, formats)
