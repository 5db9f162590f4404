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

"""What a reader of a VMware export returns, and its errors.

The interface between the readers (:mod:`nova_v2v.exports.vmx`,
:mod:`nova_v2v.exports.ovf`, :mod:`nova_v2v.exports.ova`) and their users
(``nova-v2v translate``, ``nova-v2v import``). Pure.
"""

import dataclasses
import typing

from nova_v2v.hardware import exception

KINDS = ('vmx', 'ovf', 'ova')
# A descriptor (.vmx, .ovf, .mf) bigger than this is no real guest's.
MAX_DESCRIPTOR_BYTES = 4 * 1024 * 1024
# Members of an OVA; disks of an export.
MAX_MEMBERS = 256
MAX_DISKS = 64


class ExportError(exception.TranslationError):
    """The export cannot be read as a guest."""


class UnsupportedExport(ExportError):
    """Not an export of a kind the readers know, or a feature they refuse."""


class HostileExport(ExportError, exception.HostileInput):
    """Refused as hostile: entities, paths out of the export, sizes."""


class ChecksumMismatch(ExportError):
    """A file of the export does not match its manifest's digest."""


@dataclasses.dataclass(frozen=True)
class ExportDisk:
    """One disk image of an export.

    :ivar target: the disk's ``<target dev>`` in :attr:`Export.domain_xml`
    :ivar path: where its data is, absolute and below
        :attr:`Export.root_dir`: the file itself, or for an OVA member
        where :func:`nova_v2v.exports.ova.extract` puts it
    :ivar format: its format as ``qemu-img`` names it (``vmdk``, ``raw``,
        ``qcow2``)
    :ivar member: the OVA member that holds it (None: a plain file)
    :ivar size: its bytes in the export, when known
    :ivar capacity: the guest's view of its size in bytes, when the
        export says
    :ivar digest: ``(algorithm, hex digest)`` from the export's manifest,
        or None
    """

    target: str
    path: str
    format: str = 'vmdk'
    member: typing.Optional[str] = None
    size: typing.Optional[int] = None
    capacity: typing.Optional[int] = None
    digest: typing.Optional[typing.Tuple[str, str]] = None


@dataclasses.dataclass(frozen=True)
class ExportNic:
    """One NIC of an export.

    :ivar mac: its MAC address, None where VMware generates one
    :ivar network: the source network's name (``VM Network``)
    :ivar model: the NIC's model as libvirt names it (``vmxnet3``)
    """

    mac: typing.Optional[str]
    network: str
    model: str


@dataclasses.dataclass(frozen=True)
class Export:
    """A VMware export read as a libvirt domain.

    :ivar kind: one of :data:`KINDS`
    :ivar source: the path given to the reader
    :ivar root_dir: the directory every disk path is below (the import
        directory of the translation)
    :ivar domain_xml: ``<domain type='vmware'>``, as libvirt's VMware
        driver describes the guest, its disks' sources the
        :attr:`ExportDisk.path` values
    :ivar disks: :class:`ExportDisk`, in the domain's order
    :ivar nics: :class:`ExportNic`, in the domain's order
    :ivar notes: what the reader assumed or left out, one line each
    """

    kind: str
    source: str
    root_dir: str
    domain_xml: str
    disks: typing.Tuple[ExportDisk, ...] = ()
    nics: typing.Tuple[ExportNic, ...] = ()
    notes: typing.Tuple[str, ...] = ()
