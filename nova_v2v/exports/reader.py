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

"""Which reader an export needs, and reading it.

Pure but for reading the export's files.
"""

import os

from nova_v2v.exports import base
from nova_v2v.exports import ova
from nova_v2v.exports import ovf
from nova_v2v.exports import vmx


def kind_of(path):
    """The kind of export at ``path`` (one of base.KINDS), or None.

    A directory is an OVF folder when it holds exactly one ``.ovf``.
    """
    if os.path.isdir(path):
        return 'ovf' if _folder_ovf(path) else None
    ext = os.path.splitext(path)[1].lower().lstrip('.')
    return ext if ext in base.KINDS else None


def _folder_ovf(path):
    found = [n for n in os.listdir(path) if n.lower().endswith('.ovf')]
    return os.path.join(path, found[0]) if len(found) == 1 else None


def read(path):
    """Read the export at ``path`` (a .vmx, .ovf, .ova or OVF folder).

    :returns: :class:`nova_v2v.exports.base.Export`
    :raises: :class:`nova_v2v.exports.base.ExportError` and its subclasses
    """
    kind = kind_of(path)
    if kind is None:
        raise base.UnsupportedExport(
            '%s is not a VMware export (.vmx, .ovf, .ova or a folder with '
            'one .ovf)' % path)
    if os.path.isdir(path):
        path = _folder_ovf(path)
    if kind == 'vmx':
        return vmx.read(path)
    if kind == 'ovf':
        return ovf.read(path)
    return ova.read(path)
