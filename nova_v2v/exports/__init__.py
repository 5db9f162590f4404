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

"""Guests exported from VMware (VMX, OVF, OVA) as libvirt domains.

Pure readers: an export becomes the libvirt domain XML that libvirt's own
VMware driver would describe (``<domain type='vmware'>``), so that the
translator (:mod:`nova_v2v.hardware.translate`) takes it like any other
foreign guest, with every disk below the export's directory.
:mod:`nova_v2v.exports.base` declares what a reader returns;
:mod:`nova_v2v.exports.reader` picks the reader.
"""
