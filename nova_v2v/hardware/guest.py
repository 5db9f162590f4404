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

"""What a guest's virtual hardware is: the description the planner reads.

Pure data. :mod:`nova_v2v.hardware.inspect` builds a
:class:`GuestProfile` from a libvirt domain definition or from Nova's
image properties; the planner (:mod:`nova_v2v.planning.planner`) decides
a move from it and the hosts' profiles. The accelerators are named here
because a guest tells its own by its libvirt ``<domain type>``;
:mod:`nova_v2v.planning.profile` names them for the hosts with the same
values.
"""

import dataclasses
import typing as ty

KVM = 'kvm'
TCG = 'tcg'
ACCELERATORS = (KVM, TCG)

# The libvirt <domain type> that runs a guest on each accelerator.
DOMAIN_TYPE = {KVM: 'kvm', TCG: 'qemu'}
ACCEL_OF_DOMAIN_TYPE = {v: k for k, v in DOMAIN_TYPE.items()}


@dataclasses.dataclass(frozen=True)
class GuestDisk:
    """One disk of a guest, as its domain definition describes it."""

    target: str
    bus: str = 'virtio'
    path: ty.Optional[str] = None
    format: str = 'raw'
    device: str = 'disk'
    source_type: str = 'file'
    readonly: bool = False
    shareable: bool = False
    virtual_size: ty.Optional[int] = None
    backing_file: ty.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class GuestProfile:
    """The virtual hardware of one guest."""

    domain_type: str
    arch: str = 'x86_64'
    machine: str = ''
    cpu_mode: str = ''
    cpu_model: str = ''
    disks: ty.Tuple[GuestDisk, ...] = ()
    nic_models: ty.Tuple[str, ...] = ()
    scsi_models: ty.Tuple[str, ...] = ()

    @property
    def accelerator(self):
        return ACCEL_OF_DOMAIN_TYPE.get(self.domain_type, self.domain_type)
