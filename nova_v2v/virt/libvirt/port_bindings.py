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

"""A cutover's Neutron port bindings: active where the guest runs.

Nova's conductor creates an inactive binding on the destination for each
port before a live migration starts. Nova activates them as soon as the
guest is about to run there: ``ComputeManager.handle_lifecycle_event``
does it when the source's libvirt reports the migration completed (or
post-copy started), and ``_post_live_migration`` again (a port already
active is left alone). With ML2/OVN the destination's binding carries no
traffic until then (or until the guest sends a RARP, which a guest that
boots does not).

A cutover's source guest is suspended or shut down, which libvirt reports
as no migration event: only ``_post_live_migration`` would activate them,
once the clone proved its guest runs, with the guest booting (its DHCP
client retrying) and unreachable meanwhile. The cutover activates them
instead as the clone runs (:meth:`PortBindings.activate`, after the phase
``clone-running`` is recorded): the source guest is stopped, its disks no
longer change, and the clone is the copy that runs.

Until the clone is proven the cutover may still roll back. Nova's
rollback would then leave the destination's binding active: its teardown
(``setup_networks_on_host(..., teardown=True)`` on the destination, or on
the source with a shared instance path) looks the ports up by their
``binding:host_id``, which is the destination now, and finds none to
clean; the source guest would run with its ports bound elsewhere. So
every rollback of a cutover makes the source's bindings the active ones
again (:meth:`PortBindings.restore`), as Nova does when it reverts a
cross-cell resize: the cutover does it once the clone's removal is
confirmed, before the source runs again, and the driver's
``rollback_live_migration_at_source`` does it again (for a rollback by
the recovery at start-up, and should the first attempt fail) before
Nova's teardown deletes the destination's bindings, inactive by then.
A held cutover (the clone's state unknown) touches no binding: the
administrator's resolution does (README.rst).

Neither call fails a cutover: a binding that could not be activated is
activated by Nova's ``_post_live_migration`` (which fails the migration,
as for any live migration, when it cannot either); one that could not be
restored is logged as an error that says what to do.
"""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class PortBindings(object):
    """The port bindings of the cutovers this compute runs as source.

    :param compute: the driver's :class:`nova_internals.NovaCompute`
    """

    def __init__(self, compute):
        self._compute = compute

    def activate(self, context, instance, dest):
        """Activate the instance's port bindings on ``dest``.

        :returns: True when every port's binding on ``dest`` is active
            (or there was none to activate), False when the activation
            failed (logged; Nova's post-migration activates them)
        """
        try:
            self._compute.activate_port_bindings(
                context, instance, host=dest, from_host=instance.host)
        except Exception as exc:
            LOG.warning('V2V cutover: the port bindings on %(dest)s could '
                        'not be activated as the clone started (%(err)s); '
                        'Nova activates them when the move completes',
                        {'dest': dest, 'err': exc}, instance=instance)
            return False
        LOG.info('V2V cutover: the port bindings on %(dest)s are active '
                 'as the clone runs', {'dest': dest}, instance=instance)
        return True

    def restore(self, context, instance, dest):
        """Make the source's port bindings the active ones again.

        The source is ``instance.host`` (a rolled-back instance's host).
        A port whose source binding is active already is left alone.

        :param dest: the cutover's destination, whose bindings were
            activated (Nova's rollback deletes them once inactive)
        :returns: True when done, False when it failed (logged)
        """
        source = instance.host
        try:
            self._compute.activate_port_bindings(
                context, instance, host=source, from_host=dest)
        except Exception as exc:
            LOG.error('V2V cutover rolled back: the port bindings on the '
                      'source %(source)s could not be activated again '
                      '(%(err)s). The guest runs on %(source)s; until each '
                      'of its ports has its binding on %(source)s active '
                      '(Neutron API: PUT /v2.0/ports/<port>/bindings/'
                      '%(source)s/activate) it may have no network, and '
                      'Nova leaves the binding on %(dest)s in place',
                      {'source': source, 'dest': dest, 'err': exc},
                      instance=instance)
            return False
        LOG.info('V2V cutover rolled back: the port bindings on the source '
                 '%(source)s are the active ones', {'source': source},
                 instance=instance)
        return True
