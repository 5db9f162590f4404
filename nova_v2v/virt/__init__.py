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

"""Make the V2V driver loadable by Nova's ``compute_driver`` option.

Nova 34 loads ``nova.virt.<compute_driver>`` and nothing else, so a driver
outside the ``nova.virt`` package cannot be named directly. :func:`register`
makes ``nova.virt.v2v`` an alias of :mod:`nova_v2v.virt.libvirt`, so that
``compute_driver = v2v.V2VLibvirtDriver`` loads
:class:`nova_v2v.virt.libvirt.driver.V2VLibvirtDriver`. The
``nova-v2v-compute`` console script calls it before running Nova's own
``nova-compute`` main.
"""

import importlib
import sys

ALIAS = 'v2v'
ALIAS_MODULE = 'nova.virt.' + ALIAS
DRIVER = ALIAS + '.V2VLibvirtDriver'


def register():
    """Alias this package's libvirt driver module as ``nova.virt.v2v``."""
    if ALIAS_MODULE in sys.modules:
        return sys.modules[ALIAS_MODULE]
    import nova.virt
    module = importlib.import_module('nova_v2v.virt.libvirt')
    sys.modules[ALIAS_MODULE] = module
    setattr(nova.virt, ALIAS, module)
    return module


def unregister():
    """Undo :func:`register` (for tests)."""
    sys.modules.pop(ALIAS_MODULE, None)
    nova_virt = sys.modules.get('nova.virt')
    if nova_virt is not None and hasattr(nova_virt, ALIAS):
        delattr(nova_virt, ALIAS)
