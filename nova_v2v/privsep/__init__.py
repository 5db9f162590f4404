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

"""The oslo.privsep context of nova-v2v's root file operations.

nova-compute starts its daemon through rootwrap (Nova's ``nova-compute``
calls ``priv_context.init`` with ``sudo nova-rootwrap
/etc/nova/rootwrap.conf``), which the filter in
``etc/nova/rootwrap.d/nova-v2v.filters`` allows. The daemon reads the
``[nova_v2v_sys_admin]`` section (oslo.privsep's options: ``user``,
``group``, ``capabilities``, ``helper_command``, ...).

The privileged functions are in :mod:`nova_v2v.privsep.path`; each one
confines its path under the instances root itself, in the daemon.
"""

from oslo_privsep import capabilities
from oslo_privsep import priv_context

# The daemon keeps uid 0 but only these capabilities:
#
# * CAP_DAC_OVERRIDE: unlink, rmdir, mkdir and rmtree in instance
#   directories that nova-compute's user may not write, read or search
#   (files and directories left owned by qemu or root, mode 0700).
# * CAP_CHOWN: a directory the daemon creates gets the owner of its parent
#   (the instances root belongs to nova-compute's user), so that
#   nova-compute and qemu use it exactly as when nova-compute made it.
#
# Not kept: CAP_DAC_READ_SEARCH (what it grants for these operations,
# reading and searching directories, CAP_DAC_OVERRIDE grants already; its
# own extra, open_by_handle_at, is not used) and CAP_FOWNER (no operation
# here changes modes or times of files it does not own; it would only
# matter for unlinking in a sticky directory, which an instances path is
# not).
CAPABILITIES = (capabilities.CAP_CHOWN, capabilities.CAP_DAC_OVERRIDE)

sys_admin_pctxt = priv_context.PrivContext(
    'nova_v2v',
    cfg_section='nova_v2v_sys_admin',
    pypath=__name__ + '.sys_admin_pctxt',
    capabilities=list(CAPABILITIES),
)


def run_in_process():
    """Run the entrypoints in this process instead of the daemon.

    For callers that already run as root on purpose (the test lab,
    ``nova-v2v-lab``) and for tests; nova-compute never calls it.
    """
    sys_admin_pctxt.set_client_mode(False)
