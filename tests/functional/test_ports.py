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

"""A cutover of a guest with a Neutron port, through Nova's own flow.

The guest has Nova's NeutronFixture's ``port_1`` (with the
``binding-extended`` extension: the conductor creates an inactive binding
on the destination before the move) and an e1000 NIC (its image's
``hw_vif_model``), which the cutover translates to virtio. The
destination's binding differs from the source's (hybrid OVS plug there,
native OVS on the source), so that the clone's interface shows which one
it was made from.

What is checked: the destination's bindings are active while the clone
proves its guest runs (before the point of no return, before Nova's
``_post_live_migration``); the clone's interface is the destination's VIF
with the port's MAC, only its model changed; Nova unplugs the source's VIF
after the cutover as after a live migration; a cutover that fails before
the activation, or after it (the clone removed), leaves the source's
binding the active one and Nova's rollback removes the destination's,
also when the start-up recovery of a restarted source rolls it back.
"""

import copy

import fixtures
from lxml import etree
from nova.compute import manager as compute_manager
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.virt.libvirt import driver as libvirt_driver

from nova_v2v.planning import planner
from nova_v2v.virt.libvirt import cutover_source
from nova_v2v.virt.libvirt import port_bindings
from nova_v2v.virt.libvirt import record as v2v_record
from tests.functional import test_cutover_outcomes
from tests.functional import test_recovery

SOURCE = test_cutover_outcomes.SOURCE
DEST = test_cutover_outcomes.DEST
E1000_IMAGE = 'e1000e10-0000-4000-8000-00000000e100'
# The destination's binding: OVS with the hybrid plug (a Linux bridge
# between the tap and br-int), as an iptables firewall driver binds it.
DEST_VIF_DETAILS = {'ovs_hybrid_plug': True, 'port_filter': True}


class PortCutoverTestBase(test_cutover_outcomes.CloneOutcomeTestBase):
    """kvm-local-1 -> tcg-local, the guest with a port and an e1000 NIC."""

    def before_computes(self):
        super().before_computes()
        self.port_id = self.neutron.port_1['id']
        self.mac = self.neutron.port_1['mac_address']
        # (where, {host: binding status}) at the points observed.
        self.seen = []
        self.unplugged = []
        image = copy.deepcopy(self.glance.image1)
        image.update(id=E1000_IMAGE, name='e1000',
                     properties={'hw_vif_model': 'e1000'})
        self.glance.create(None, image)
        self._dest_binding_differs()
        self._keep_nic_model()
        self._observe()

    def boot(self, host):
        with self._virt_type(self.accel[host]):
            server = self._create_server(
                host=host, image_uuid=E1000_IMAGE,
                networks=[{'port': self.port_id}])
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server

    # -- the fakes ---------------------------------------------------

    def _dest_binding_differs(self):
        neutron = self.neutron
        real = neutron.create_port_binding

        def create_port_binding(port_id, body):
            result = real(port_id, body)
            if body['binding']['host'] != DEST:
                return result
            binding = neutron._port_bindings[port_id][DEST]
            binding['vif_details'] = copy.deepcopy(DEST_VIF_DETAILS)
            return {'binding': copy.deepcopy(binding)}

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.neutron.NeutronFixture.create_port_binding',
            lambda fixture, port_id, body: create_port_binding(port_id,
                                                               body)))

    def _keep_nic_model(self):
        """The source's NIC is the e1000 Nova defined.

        fakelibvirt's XML drops an interface's model; the planner reads
        the running guest's XML.
        """
        test = self
        real = fakelibvirt.Domain.XMLDesc

        def xml_desc(domain, flags=0):
            xml = real(domain, flags)
            if test._hostname_of_conn(domain._connection) != SOURCE:
                return xml
            root = etree.fromstring(xml)
            for nic in root.findall('./devices/interface'):
                if nic.find('./model') is None:
                    etree.SubElement(nic, 'model', type='e1000')
            return etree.tostring(root).decode()

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.XMLDesc', xml_desc))

    def _observe(self):
        test = self
        real_prove = cutover_source.CutoverSource.prove_clone
        real_post = compute_manager.ComputeManager._post_live_migration
        real_unplug = libvirt_driver.LibvirtDriver.unplug_vifs

        def prove_clone(source, *args, **kwargs):
            test.seen.append(('proof', test.bindings()))
            return real_prove(source, *args, **kwargs)

        def post_live_migration(manager, *args, **kwargs):
            test.seen.append(('post', test.bindings()))
            return real_post(manager, *args, **kwargs)

        def unplug_vifs(driver, instance, network_info):
            test.unplugged.append((test._hostname_of(driver),
                                   [(vif['id'], dict(vif['details']))
                                    for vif in network_info]))
            return real_unplug(driver, instance, network_info)

        for path, value in (
                ('nova_v2v.virt.libvirt.cutover_source.CutoverSource.'
                 'prove_clone', prove_clone),
                ('nova.compute.manager.ComputeManager._post_live_migration',
                 post_live_migration),
                ('nova.virt.libvirt.driver.LibvirtDriver.unplug_vifs',
                 unplug_vifs)):
            self.useFixture(fixtures.MonkeyPatch(path, value))

    # -- what Neutron holds ------------------------------------------

    def bindings(self):
        """{host: status} of the port's bindings."""
        return {host: binding['status'] for host, binding in
                self.neutron._port_bindings[self.port_id].items()}

    def port_host(self):
        return self.neutron._ports[self.port_id]['binding:host_id']

    def assert_source_binding_active(self):
        """The port is bound to the source alone.

        Nova's rollback removed the destination's binding.
        """
        self.assertEqual({SOURCE: 'ACTIVE'}, self.bindings())
        self.assertEqual(SOURCE, self.port_host())


class PortCutoverTest(PortCutoverTestBase):

    def test_bindings_active_as_the_clone_runs(self):
        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('completed', DEST)
        self.assert_cutover_done()
        # While the clone proved its guest runs (before the point of no
        # return), the destination's binding was the active one already,
        # as it was when Nova's post-migration began.
        expected = {SOURCE: 'INACTIVE', DEST: 'ACTIVE'}
        self.assertEqual([('proof', expected), ('post', expected)],
                         self.seen)
        # The move done, the port is bound to the destination alone.
        self.assertEqual({DEST: 'ACTIVE'}, self.bindings())
        self.assertEqual(DEST, self.port_host())
        self.assertIn('the port bindings on %s are active as the clone '
                      'runs' % DEST, self.stdlog.logger.output)

    def test_clone_has_the_destinations_vif_with_the_ports_mac(self):
        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('completed', DEST)
        plan = self.assert_plan(self.server, planner.V2V_CUTOVER, SOURCE,
                                DEST, True)
        self.assertIn(('nic-model', 'e1000', 'virtio'),
                      [(c.kind, c.old, c.new)
                       for c in plan.hardware_changes])
        ((_host, xml),) = [d for d in self.engine.defined if d[0] == DEST]
        (nic,) = etree.fromstring(xml).findall('./devices/interface')
        # The port's MAC; the model translated; the destination's VIF
        # (migrate_data.vifs): the hybrid plug's Linux bridge, where the
        # source's interface was on br-int with an OVS virtualport.
        self.assertEqual(self.mac, nic.find('./mac').get('address'))
        self.assertEqual('virtio', nic.find('./model').get('type'))
        self.assertEqual('bridge', nic.get('type'))
        self.assertEqual('qbr' + self.port_id[:11],
                         nic.find('./source').get('bridge'))
        self.assertIsNone(nic.find('./virtualport'))
        # Nova unplugged the source's VIF (its own binding's, native OVS)
        # on the source, once, as after a live migration.
        self.assertEqual([(SOURCE, [(self.port_id, {})])], self.unplugged)


class PortRollbackTest(PortCutoverTestBase):

    def test_failure_before_the_activation_keeps_the_source_binding(self):
        self.engine.mode = 'fail'

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('failed', SOURCE)
        # The clone never started: nothing was activated.
        self.assertEqual([], self.seen)
        self.assert_source_binding_active()
        self.assertEqual([], self.unplugged)

    def test_clone_removed_after_the_activation_restores_the_source(self):
        self.flags(cutover_activity_timeout=1, group='v2v')
        self.activity.writes = 0

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('error', SOURCE)
        self.assert_dest_cleaned(DEST)
        self.assertEqual(
            [('proof', {SOURCE: 'INACTIVE', DEST: 'ACTIVE'})], self.seen)
        self.assertIn(v2v_record.ROLLED_BACK, self.phases_logged())
        self.assert_source_binding_active()
        self.assertIn('the port bindings on the source %s are the active '
                      'ones' % SOURCE, self.stdlog.logger.output)

        # And the move, retried, completes with the port.
        self.activity.writes = None
        self.seen.clear()
        self.retry(DEST, planner.V2V_CUTOVER)
        self.assertEqual({DEST: 'ACTIVE'}, self.bindings())

    def test_novas_rollback_alone_would_leave_the_destination_bound(self):
        """Why the restore: Nova's teardown finds no port to clean."""
        self.flags(cutover_activity_timeout=1, group='v2v')
        self.activity.writes = 0
        self.useFixture(fixtures.MockPatchObject(
            port_bindings.PortBindings, 'restore'))

        self.assertEqual(202, self.live_migrate(self.server,
                                                host=DEST).status)

        self.assert_outcome('error', SOURCE)
        # The guest runs on the source; its port is bound to the
        # destination, whose binding Nova's rollback left in place.
        self.assertEqual({SOURCE: 'INACTIVE', DEST: 'ACTIVE'},
                         self.bindings())
        self.assertEqual(DEST, self.port_host())


class PortRecoveryTest(test_recovery.RecoveryTestBase, PortCutoverTestBase):
    """The source's compute dies after the activation, and starts again."""

    def test_source_restarted_after_the_activation_restores_it(self):
        self.migrate_and_kill_at('clone-running')
        # Dead right after what the cutover does once the clone runs: the
        # phase recorded, the destination's binding activated.
        self.set_phase(v2v_record.CLONE_RUNNING)
        self.neutron.activate_port_binding(self.port_id, DEST)
        self.assertEqual({SOURCE: 'INACTIVE', DEST: 'ACTIVE'},
                         self.bindings())

        self.restart(SOURCE)

        # The recovery removed the clone and rolled back through Nova's
        # rollback, whose call of the driver's rollback at the source
        # activated the source's binding before Nova's teardown.
        self.assert_outcome('error', SOURCE)
        self.wait_for(lambda: DEST in self.dest_rollbacks,
                      'the destination\'s rollback')
        self.assert_dest_cleaned(DEST)
        self.assert_source_binding_active()
        self.reap()
