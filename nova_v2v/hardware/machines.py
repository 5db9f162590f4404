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

"""x86 machine types: families, versions and the choice on a destination.

Pure.  QEMU names its x86 machines ``pc-i440fx-X.Y`` and ``pc-q35-X.Y``
with the aliases ``pc`` and ``q35`` for the newest; Xen's HVM machine
(``xenfv``) is an i440fx board.
"""

import re

I440FX = 'pc-i440fx'
Q35 = 'pc-q35'
ALIASES = {'pc': I440FX, 'q35': Q35, 'xenfv': I440FX}
ALIAS_OF = {I440FX: 'pc', Q35: 'q35'}


def family(machine):
    """'pc-i440fx-7.2' -> 'pc-i440fx'; 'pc' -> 'pc-i440fx'; 'q35' ..."""
    if machine in ALIASES:
        return ALIASES[machine]
    match = re.match(r'^(.*?)-(\d+(\.\d+)*)$', machine)
    return match.group(1) if match else machine


def version(machine):
    match = re.search(r'-(\d+(?:\.\d+)*)$', machine)
    if not match:
        return ()
    return tuple(int(p) for p in match.group(1).split('.'))


def newest(fam, available):
    """The newest versioned machine of family ``fam`` in ``available``.

    :returns: the machine, or None when ``available`` has none
    """
    same = [m for m in available if family(m) == fam and version(m)]
    return max(same, key=version) if same else None


def pick(machine, available):
    """The destination's machine type for a guest built on ``machine``.

    The machine itself when the destination runs it, else the newest one of
    the same family, else None.
    """
    if not machine or machine in available:
        return machine
    fam = family(machine)
    found = newest(fam, available)
    if found is None:
        alias = ALIAS_OF.get(fam)
        return alias if alias in available else None
    return found


def pick_family(fam, available):
    """A machine of family ``fam``: its alias where offered, else newest."""
    alias = ALIAS_OF.get(fam, fam)
    if not available or alias in available:
        return alias
    return newest(fam, available)


def expand(machine, available, default='pc'):
    """The versioned machine type an unversioned one runs as on a host.

    libvirt defines a guest on an alias (``pc``, ``q35``) as the newest
    versioned machine of its family the host's QEMU runs; a guest seen
    through its image properties has the alias, or none (Nova's x86
    default, ``pc``). A versioned machine is returned as it is.

    :param available: the host's machine types
    :param default: the machine of a guest that names none
    :returns: the versioned machine, or ``machine`` when the host runs no
        versioned one of that family
    """
    if version(machine or default):
        return machine
    return newest(family(machine or default), available) or machine
