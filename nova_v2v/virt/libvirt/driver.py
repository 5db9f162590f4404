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

"""The V2V compute driver: Nova's libvirt driver plus V2V planning.

:class:`V2VDriverMixin` is thin glue over three parts: the host profile
and pre-checks (:mod:`.prechecks`), the live migrations and the V2V cutover
(:mod:`.live`), the cold migration with disk conversion (:mod:`.cold`).
The decisions themselves live in the pure planning layer
(:mod:`nova_v2v.planning`), the data path in :mod:`nova_v2v.transfer`.
"""

from nova import rpc
from nova.virt.libvirt import driver as libvirt_driver
from oslo_log import log as logging

from nova_v2v import conf
from nova_v2v import notifications
from nova_v2v.virt.libvirt import cold
from nova_v2v.virt.libvirt import live
from nova_v2v.virt.libvirt import prechecks

CONF = conf.CONF
LOG = logging.getLogger(__name__)


class V2VDriverMixin(prechecks.PrecheckMixin, live.LiveMigrationMixin,
                     cold.ColdMigrationMixin):
    """V2V additions on top of :class:`LibvirtDriver`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # {instance uuid: CutoverState} of the cutovers this source runs.
        self._v2v_cutovers = {}
        self._v2v_emitter = notifications.Emitter(
            rpc.get_versioned_notifier, CONF.host,
            enabled=CONF.v2v.notifications,
            progress_interval=CONF.v2v.notification_progress_interval,
            log=LOG)

    def init_host(self, host):
        super().init_host(host)
        # [libvirt] virt_type is not mutable: the profile keeps the value
        # this service started with.
        self._v2v_virt_type = CONF.libvirt.virt_type
        # The compute service's host, the name the scheduler and the
        # conductor use for it (CONF.host in a nova-compute process).
        self._v2v_hostname = host
        self._v2v_emitter.publisher_id = '%s:%s' % (
            notifications.PUBLISHER, host)

    def _v2v_emit(self, context, event, instance, **fields):
        """Send one V2V event about ``instance`` (see notifications)."""
        self._v2v_emitter.emit(context, event, instance.uuid, **fields)


class V2VLibvirtDriver(V2VDriverMixin, libvirt_driver.LibvirtDriver):
    """Nova's libvirt driver with V2V migration."""
