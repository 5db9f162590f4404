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

"""The lab guest in Glance, and its flavor.

Three images make the lab's test guest bootable by ``openstack server
create``: its kernel (``aki``), its initramfs (``ari``, whose ``/init`` is
the data-integrity workload of :mod:`nova_v2v_rig.lab.guest`) and an empty
qcow2 disk that names both (``kernel_id``, ``ramdisk_id``) and the kernel
command line (``os_command_line``). The workload writes its records to that
disk (``/dev/vda``) and acknowledges each on the serial console, which Nova
logs to the instance's ``console.log``.

Everything is made through the ``openstack`` client, once: an image or a
flavor that exists with the expected name is reused.
"""

import hashlib
import os
import tempfile

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.lab import guest as lab_guest

LOG = logging.getLogger(__name__)

KERNEL = 'lab-kernel'
RAMDISK = 'lab-initrd'
DISK = 'lab-disk'
# The same guest with data on its disk: a bulk copy that takes seconds
# (the fault gate's destination-store-full cell fills the store while it
# runs).  FILLED_MIB of a non-zero pattern from FILLED_AT_MIB on, past
# every record the workload writes in a cell.
FILLED_DISK = 'lab-disk-filled'
FILLED_DISK_MIB = 256
FILLED_AT_MIB = 64
FILLED_MIB = 128
# The same guest with a vmxnet3 NIC (``hw_vif_model``, a VMware-shaped
# guest; the lab's cloud kernel has no e1000 driver): Nova creates it
# with that model, nova-v2v translates it to virtio-net on a live move (the
# V2V cutover with a NIC model change).
VMXNET3_DISK = 'lab-disk-vmxnet3'
# The same guests with their disk on a VMware paravirtual SCSI controller
# (``hw_disk_bus``, ``hw_scsi_model``: a VMware-shaped guest without a
# NIC): a live move is a V2V cutover that gives it virtio-scsi (the fault
# matrix's guests). The guest finds its disk as /dev/sda either way.
PVSCSI = (('hw_disk_bus', 'scsi'), ('hw_scsi_model', 'vmpvscsi'))
PVSCSI_DISK = 'lab-disk-pvscsi'
FILLED_PVSCSI_DISK = 'lab-disk-filled-pvscsi'
FLAVOR = 'lab.tiny'
# A second flavor (the drain stage moves guests of two sizes).
FLAVOR_SMALL = 'lab.small'
FLAVOR_SMALL_RAM_MIB = 384
# The workload's disk: its records are 512-byte sectors from the start.
DISK_MIB = 64
FLAVOR_RAM_MIB = 256
FLAVOR_DISK_GIB = 1
# The serial console is the kernel console (the workload's acknowledgements).
COMMAND_LINE = 'console=ttyS0 quiet loglevel=1'


def _find(cloud, kind, name):
    """The id of the ``kind`` (image, flavor) called ``name``, or None."""
    for row in cloud(kind, 'list', parse=True) or []:
        if row.get('Name') == name:
            if kind == 'image' and row.get('Status') != 'active':
                continue
            return row['ID']
    return None


def _sha512(path):
    return lab_guest.file_digest(path, hashlib.sha512)


def holds(shown, path):
    """Whether the image ``image show`` printed holds ``path``'s data.

    Glance's multihash (``os_hash_value``, SHA-512 by default; the client
    prints it among the ``properties``). An image without one (uploaded by
    a Glance that did not compute it) is taken for another's.
    """
    value = (shown.get('os_hash_value') or
             (shown.get('properties') or {}).get('os_hash_value'))
    return value is not None and value == _sha512(path)


def _image(cloud, name, path, disk_format, container_format,
           properties=()):
    """The id of image ``name``, uploaded from ``path`` unless it is there.

    An image of that name whose data is not ``path``'s (Glance's
    ``os_hash_value``, SHA-512: a lab guest built since) is deleted and
    uploaded again.
    """
    found = _find(cloud, 'image', name)
    if found:
        shown = cloud('image', 'show', found, parse=True) or {}
        if holds(shown, path):
            LOG.info('Image %(name)s exists: %(id)s',
                     {'name': name, 'id': found})
            return found
        LOG.info('Image %(name)s (%(id)s) holds other data: uploading '
                 'it again', {'name': name, 'id': found})
        cloud('image', 'delete', found)
    args = ['image', 'create', '--public', '--file', path,
            '--disk-format', disk_format,
            '--container-format', container_format]
    for key, value in properties:
        args += ['--property', '%s=%s' % (key, value)]
    return cloud(*(args + [name]), parse=True)['id']


def _disk(cloud, ids, name, size_mib, data=None, properties=()):
    """The guest's disk image ``name``: qcow2, booting the lab guest.

    :param data: ``(offset, length)`` in MiB written with a non-zero
        pattern (data a copy must carry, unlike zeroes), or None for an
        empty disk
    :param properties: more ``(key, value)`` image properties
    """
    boots = (('kernel_id', ids[KERNEL]), ('ramdisk_id', ids[RAMDISK]),
             ('os_command_line', COMMAND_LINE)) + tuple(properties)
    found = _find(cloud, 'image', name)
    if found:
        shown = cloud('image', 'show', found, parse=True) or {}
        have = shown.get('properties') or {}
        if all(str(have.get(k)) == str(v) for k, v in boots):
            return found
        # The kernel or initramfs was uploaded again since.
        LOG.info('Image %(name)s (%(id)s) boots another kernel or '
                 'initramfs: creating it again', {'name': name, 'id': found})
        cloud('image', 'delete', found)
    with tempfile.TemporaryDirectory(prefix='nova-v2v-image-') as tmp:
        disk = os.path.join(tmp, name + '.qcow2')
        processutils.execute('qemu-img', 'create', '-q', '-f', 'qcow2',
                             disk, '%dM' % size_mib)
        if data:
            processutils.execute('qemu-io', '-f', 'qcow2', '-c',
                                 'write -q -P 0x5a %dM %dM' % data, disk)
        return _image(cloud, name, disk, 'qcow2', 'bare', boots)


def ensure(cloud, cache_dir):
    """Upload the lab guest and create its flavors; ``{name: id}``."""
    image = lab_guest.build(cache_dir)
    ids = {}
    ids[KERNEL] = _image(cloud, KERNEL, image.kernel, 'aki', 'aki')
    ids[RAMDISK] = _image(cloud, RAMDISK, image.initrd, 'ari', 'ari')
    ids[DISK] = _disk(cloud, ids, DISK, DISK_MIB)
    ids[FILLED_DISK] = _disk(cloud, ids, FILLED_DISK, FILLED_DISK_MIB,
                             (FILLED_AT_MIB, FILLED_MIB))
    ids[VMXNET3_DISK] = _disk(cloud, ids, VMXNET3_DISK, DISK_MIB,
                              properties=(('hw_vif_model', 'vmxnet3'),))
    ids[PVSCSI_DISK] = _disk(cloud, ids, PVSCSI_DISK, DISK_MIB,
                             properties=PVSCSI)
    ids[FILLED_PVSCSI_DISK] = _disk(cloud, ids, FILLED_PVSCSI_DISK,
                                    FILLED_DISK_MIB,
                                    (FILLED_AT_MIB, FILLED_MIB), PVSCSI)
    ids[FLAVOR] = _find(cloud, 'flavor', FLAVOR) or cloud(
        'flavor', 'create', '--public', '--ram', FLAVOR_RAM_MIB,
        '--disk', FLAVOR_DISK_GIB, '--vcpus', 1, FLAVOR, parse=True)['id']
    ids[FLAVOR_SMALL] = _find(cloud, 'flavor', FLAVOR_SMALL) or cloud(
        'flavor', 'create', '--public', '--ram', FLAVOR_SMALL_RAM_MIB,
        '--disk', FLAVOR_DISK_GIB, '--vcpus', 1, FLAVOR_SMALL,
        parse=True)['id']
    return ids
