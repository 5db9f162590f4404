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

from unittest import mock

from nova.compute import task_states
from nova import exception
from nova import objects
from nova import test
from nova.tests.unit.scheduler import fakes
from oslo_utils.fixture import uuidsentinel as uuids

from nova_v2v.planning import profile
from nova_v2v.scheduler import filters


def stats(name, accel, storage=None):
    return profile.HostProfile(
        hostname=name, accelerator=accel, arch='x86_64',
        qemu_version=7002000, machine_types=('pc-i440fx-7.2',),
        storage_id=storage or 'local:' + name,
        instances_path='/var/lib/nova/instances').to_stats()


class V2VMigrationFilterTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.filt = filters.V2VMigrationFilter()
        self.spec = objects.RequestSpec(instance_uuid=uuids.instance,
                                        scheduler_hints={})
        self.instance = objects.Instance(
            uuid=uuids.instance, host='src', node='src',
            task_state=task_states.MIGRATING,
            system_metadata={'image_hw_machine_type': 'pc-i440fx-7.2'})
        self.source_node = objects.ComputeNode(
            host='src', hypervisor_hostname='src', hypervisor_version=7002000,
            stats=stats('src', profile.KVM))
        self.mapping = objects.InstanceMapping(
            instance_uuid=uuids.instance,
            cell_mapping=objects.CellMapping(uuid=uuids.cell,
                                             database_connection='x',
                                             transport_url='x'))
        patchers = [
            mock.patch.object(objects.InstanceMapping,
                              'get_by_instance_uuid',
                              side_effect=lambda c, u: self.mapping),
            mock.patch.object(objects.Instance, 'get_by_uuid',
                              side_effect=lambda *a, **k: self.instance),
            mock.patch.object(objects.ComputeNodeList, 'get_all_by_host',
                              side_effect=lambda c, h: [self.source_node]),
            mock.patch('nova.context.target_cell'),
        ]
        self.mocks = [p.start() for p in patchers]
        for p in patchers:
            self.addCleanup(p.stop)
        self.mocks[3].return_value.__enter__.return_value = mock.sentinel.c

    def hosts(self):
        return [
            fakes.FakeHostState('kvm1', 'kvm1',
                                {'stats': stats('kvm1', profile.KVM)}),
            fakes.FakeHostState('tcg1', 'tcg1',
                                {'stats': stats('tcg1', profile.TCG)}),
            fakes.FakeHostState('plain', 'plain', {'stats': {}}),
        ]

    def passed(self):
        return [h.host for h in self.filt.filter_all(self.hosts(),
                                                     self.spec)]

    def test_live_migration_passes_hosts_with_a_plan_and_peers(self):
        # 'plain' publishes no profile: a peer of the same hypervisor,
        # which Nova's own filters and checks judge.
        self.assertEqual(['kvm1', 'tcg1', 'plain'], self.passed())
        # One lookup per request, not per host.
        self.assertEqual(1, self.mocks[1].call_count)

    def test_cutover_disabled_keeps_only_live_state_hosts(self):
        self.flags(allow_cutover=False, group='v2v')
        self.assertEqual(['kvm1', 'plain'], self.passed())

    def test_source_without_profile_passes_all(self):
        """Nova's own move: a source without a profile is everyone's peer.

        Before, the filter refused every host (the planner has no source
        profile), where Nova would move the guest.
        """
        self.source_node.stats = {'uptime': '1'}
        self.assertEqual(['kvm1', 'tcg1', 'plain'], self.passed())

    def test_not_migrating_passes_all(self):
        for state in (None, task_states.RESIZE_PREP,
                      task_states.REBUILDING, task_states.SPAWNING):
            self.instance.task_state = state
            self.assertEqual(['kvm1', 'tcg1', 'plain'], self.passed())

    def test_boot_passes_all(self):
        self.mapping.cell_mapping = None
        self.assertEqual(['kvm1', 'tcg1', 'plain'], self.passed())
        self.mocks[1].assert_not_called()

    def test_unknown_instance_passes_all(self):
        self.mocks[0].side_effect = exception.InstanceMappingNotFound(
            uuid=uuids.instance)
        self.assertEqual(['kvm1', 'tcg1', 'plain'], self.passed())

    def test_instance_gone_passes_all(self):
        self.mocks[1].side_effect = exception.InstanceNotFound(
            instance_id=uuids.instance)
        self.assertEqual(['kvm1', 'tcg1', 'plain'], self.passed())

    def test_rebuild_passes_all(self):
        self.spec.scheduler_hints = {'_nova_check_type': ['rebuild']}
        self.assertEqual(['kvm1', 'tcg1', 'plain'], self.passed())
        self.mocks[0].assert_not_called()

    def test_user_hints_do_not_decide(self):
        # A user-set hint cannot make a boot look like a move or the
        # reverse: only the instance's task_state does.
        self.spec.scheduler_hints = {'v2v': ['off'], 'live': ['no']}
        self.assertEqual(['kvm1', 'tcg1', 'plain'], self.passed())

    def test_arch_mismatch_refused(self):
        host = fakes.FakeHostState('arm', 'arm', {'stats': dict(
            stats('arm', profile.KVM), v2v_arch='aarch64')})
        self.assertEqual([], list(self.filt.filter_all([host], self.spec)))

    def test_host_passes(self):
        kvm1, tcg1, plain = self.hosts()
        self.assertTrue(self.filt.host_passes(kvm1, self.spec))
        self.assertTrue(self.filt.host_passes(plain, self.spec))
        self.flags(allow_cutover=False, group='v2v')
        self.assertFalse(self.filt.host_passes(tcg1, self.spec))
        self.instance.task_state = None
        self.assertTrue(self.filt.host_passes(plain, self.spec))

    def test_picks_the_instance_node(self):
        other = objects.ComputeNode(host='src', hypervisor_hostname='n2',
                                    hypervisor_version=7002000,
                                    stats=stats('src', profile.TCG))
        self.mocks[2].side_effect = lambda c, h: [other, self.source_node]
        self.instance.node = 'n2'
        self.flags(allow_cutover=False, group='v2v')
        # The guest runs on the TCG node: only TCG hosts keep its state
        # (and 'plain', a peer Nova judges).
        self.assertEqual(['tcg1', 'plain'], self.passed())

    def test_an_older_hypervisor_as_novas_conductor_refuses_it(self):
        self.source_node.hypervisor_version = 10000013
        hosts = self.hosts()
        for host, version in zip(hosts, (7002000, 10000013, 7002000)):
            host.hypervisor_version = version
        # kvm1 is older: left out; tcg1 is as new; plain (no profile) is
        # Nova's to judge.
        self.assertEqual(['tcg1', 'plain'], [
            h.host for h in self.filt.filter_all(hosts, self.spec)])
        self.flags(skip_hypervisor_version_check_on_lm=True,
                   group='workarounds')
        self.assertEqual(['kvm1', 'tcg1', 'plain'], [
            h.host for h in self.filt.filter_all(hosts, self.spec)])

    def test_the_nova_names_it_reads(self):
        # What the hypervisor check above mirrors, and reads: a Nova that
        # changes them fails here.
        import inspect as py_inspect

        from nova.conductor.tasks import live_migrate
        from nova.scheduler import host_manager
        self.assertIn('hypervisor_version', objects.ComputeNode.fields)
        self.assertIsNone(host_manager.HostState(
            'h', 'n', uuids.cell).hypervisor_version)
        code = py_inspect.getsource(live_migrate.LiveMigrationTask.
                                    _check_compatible_with_source_hypervisor)
        self.assertIn('skip_hypervisor_version_check_on_lm', code)
        self.assertIn('source_version > destination_version', code)
        self.assertIn('DestinationHypervisorTooOld', code)

    def test_not_run_on_rebuild(self):
        self.assertFalse(filters.V2VMigrationFilter.RUN_ON_REBUILD)
