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

import dataclasses

from hypothesis import given
from hypothesis import strategies as st
import testtools

from nova_v2v.hardware import guest as hw_guest
from nova_v2v.planning import compat
from nova_v2v.planning import planner
from nova_v2v.planning import profile

INSTANCES = '/var/lib/nova/instances'
MACHINES = ('pc-i440fx-7.2', 'pc-q35-7.2', 'pc-i440fx-6.2')


def host(name, accel=profile.KVM, storage='local:%(name)s', **kw):
    values = dict(hostname=name, accelerator=accel, arch='x86_64',
                  libvirt_version=9000000, qemu_version=7002000,
                  machine_types=MACHINES, cpu_model='Skylake',
                  cpu_vendor='Intel', disk_formats=('raw', 'qcow2'),
                  storage_id=storage % {'name': name},
                  instances_path=INSTANCES)
    values.update(kw)
    return profile.HostProfile(**values)


def disk(target='vda', fmt='qcow2', bus='virtio', **kw):
    values = dict(target=target, bus=bus, format=fmt,
                  path='%s/uuid/disk%s' % (INSTANCES, target),
                  virtual_size=1 << 30)
    values.update(kw)
    return hw_guest.GuestDisk(**values)


def guest(domain_type='kvm', disks=None, machine='pc-i440fx-7.2', **kw):
    return hw_guest.GuestProfile(domain_type=domain_type,
                                 machine=machine,
                                 disks=tuple(disks or [disk()]), **kw)


class TestLiveModes(testtools.TestCase):

    def test_local_storage_auto_is_block_live(self):
        plan = planner.plan_live_migration(host('a'), host('b'), guest())
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        self.assertTrue(plan.block_migration)
        self.assertEqual(1, len(plan.disks))
        self.assertEqual(('%s/uuid/diskvda' % INSTANCES, 'qcow2', 'qcow2',
                          1 << 30),
                         (plan.disks[0].path, plan.disks[0].source_format,
                          plan.disks[0].dest_format,
                          plan.disks[0].virtual_size))
        self.assertEqual((), plan.hardware_changes)

    def test_shared_storage_auto_is_shared_live(self):
        plan = planner.plan_live_migration(
            host('a', storage='nfs4:srv:/x'),
            host('b', storage='nfs4:srv:/x'), guest())
        self.assertEqual(planner.SHARED_LIVE, plan.mode)
        self.assertFalse(plan.block_migration)
        self.assertEqual((), plan.disks)

    def test_probe_overrides_storage_identity(self):
        # The identities say shared; Nova's probe file says otherwise.
        facts = profile.StorageFacts(shared_instance_path=False,
                                     shared_block_storage=False)
        plan = planner.plan_live_migration(
            host('a', storage='same'), host('b', storage='same'), guest(),
            storage=facts)
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)

    def test_volume_backed_is_shared(self):
        plan = planner.plan_live_migration(
            host('a'), host('b'), guest(disks=[]),
            storage=profile.StorageFacts(volume_backed=True))
        self.assertEqual(planner.SHARED_LIVE, plan.mode)

    def test_explicit_block_on_shared_refused_as_nova(self):
        e = self.assertRaises(
            planner.PlanRefused, planner.plan_live_migration,
            host('a', storage='s'), host('b', storage='s'), guest(),
            block_migration=True)
        self.assertEqual(planner.INVALID_LOCAL_STORAGE, e.code)
        self.assertEqual(planner.MSG_BLOCK_ON_SHARED, e.reason)

    def test_explicit_shared_on_local_refused_as_nova(self):
        e = self.assertRaises(
            planner.PlanRefused, planner.plan_live_migration,
            host('a'), host('b'), guest(), block_migration=False)
        self.assertEqual(planner.INVALID_SHARED_STORAGE, e.code)
        self.assertEqual(planner.MSG_SHARED_ON_LOCAL, e.reason)

    def test_explicit_values_matching_storage_pass(self):
        self.assertEqual(planner.BLOCK_LIVE, planner.plan_live_migration(
            host('a'), host('b'), guest(), block_migration=True).mode)
        self.assertEqual(planner.SHARED_LIVE, planner.plan_live_migration(
            host('a', storage='s'), host('b', storage='s'), guest(),
            block_migration=False).mode)

    def test_readonly_shareable_and_foreign_disks_not_copied(self):
        disks = [disk(), disk('vdb', readonly=True),
                 disk('vdc', shareable=True),
                 disk('vdd', path='/srv/elsewhere/disk'),
                 disk('sda', source_type='network', path='pool/vol')]
        plan = planner.plan_live_migration(host('a'), host('b'),
                                           guest(disks=disks))
        self.assertEqual(['%s/uuid/diskvda' % INSTANCES],
                         [d.path for d in plan.disks])


class TestCutover(testtools.TestCase):

    def test_tcg_to_kvm_is_cutover(self):
        plan = planner.plan_live_migration(
            host('a', profile.TCG), host('b', profile.KVM),
            guest('qemu'))
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertIn(planner.HardwareChange('domain-type', 'domain',
                                             'qemu', 'kvm'),
                      plan.hardware_changes)
        self.assertIn('qemu -> kvm', plan.reasons[0])
        self.assertTrue(plan.block_migration)
        self.assertEqual(1, len(plan.disks))

    def test_kvm_to_tcg_is_cutover(self):
        plan = planner.plan_live_migration(
            host('a', profile.KVM), host('b', profile.TCG), guest('kvm'))
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertIn('kvmclock', plan.reasons[0])

    def test_cutover_disabled_refuses(self):
        e = self.assertRaises(
            planner.PlanRefused, planner.plan_live_migration,
            host('a', profile.KVM), host('b', profile.TCG), guest('kvm'),
            allow_cutover=False)
        self.assertIn('allow_cutover = False', e.reason)
        self.assertEqual(planner.INCOMPATIBLE, e.code)

    def test_vmware_shaped_guest_is_translated(self):
        g = guest(disks=[disk('sda', bus='scsi')], nic_models=('vmxnet3',),
                  scsi_models=('pvscsi',))
        plan = planner.plan_live_migration(host('a'), host('b'), g)
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertIn(planner.HardwareChange('nic-model', 'interface',
                                             'vmxnet3', 'virtio'),
                      plan.hardware_changes)
        self.assertIn(planner.HardwareChange('scsi-model', 'controller',
                                             'pvscsi', 'virtio-scsi'),
                      plan.hardware_changes)

    def test_ide_disk_translated(self):
        plan = planner.plan_live_migration(
            host('a'), host('b'), guest(disks=[disk('hda', bus='ide')]))
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertIn(planner.HardwareChange('disk-bus', 'hda', 'ide',
                                             'virtio'),
                      plan.hardware_changes)

    def test_no_translations_keeps_live(self):
        g = guest(nic_models=('e1000',))
        plan = planner.plan_live_migration(host('a'), host('b'), g,
                                           translations={})
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)

    def test_machine_type_missing_on_dest(self):
        dest = host('b', machine_types=('pc-i440fx-8.2', 'pc-i440fx-7.0',
                                        'pc-q35-8.2'))
        plan = planner.plan_live_migration(host('a'), dest, guest())
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertIn(planner.HardwareChange('machine', 'domain',
                                             'pc-i440fx-7.2',
                                             'pc-i440fx-8.2'),
                      plan.hardware_changes)

    def test_no_machine_of_family_refused(self):
        dest = host('b', machine_types=('pc-q35-8.2',))
        e = self.assertRaises(planner.PlanRefused,
                              planner.plan_live_migration,
                              host('a'), dest, guest())
        self.assertIn('pc-i440fx family', e.reason)

    def test_older_qemu_on_dest(self):
        # The guest's machine type runs there: its live state moves back
        # (as QEMU 10.0 to 7.2 does on the lab's daemons).
        plan = planner.plan_live_migration(
            host('a', qemu_version=10000013, machine_types=(
                'pc-i440fx-7.2', 'pc-i440fx-10.0')),
            host('b', qemu_version=7002000), guest())
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        # A machine type only the newer runs: restarted on the older's.
        plan = planner.plan_live_migration(
            host('a', qemu_version=10000013, machine_types=(
                'pc-i440fx-7.2', 'pc-i440fx-10.0')),
            host('b', qemu_version=7002000),
            guest(machine='pc-i440fx-10.0'))
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertEqual(['the destination does not run machine type '
                          'pc-i440fx-10.0'], list(plan.reasons))
        # A guest seen from its image (no machine, or the alias) runs the
        # source's newest pc-i440fx: the same.
        for machine in ('', 'pc'):
            plan = planner.plan_live_migration(
                host('a', qemu_version=10000013, machine_types=(
                    'pc', 'pc-i440fx-7.2', 'pc-i440fx-10.0')),
                host('b', qemu_version=7002000,
                     machine_types=('pc', 'pc-i440fx-7.2')),
                guest(machine=machine))
            self.assertEqual(planner.V2V_CUTOVER, plan.mode, machine)
            # A newer destination runs the alias, and the older machines.
            plan = planner.plan_live_migration(
                host('a', machine_types=('pc', 'pc-i440fx-7.2')),
                host('b', qemu_version=10000013, machine_types=(
                    'pc', 'pc-i440fx-7.2', 'pc-i440fx-10.0')),
                guest(machine=machine))
            self.assertEqual(planner.BLOCK_LIVE, plan.mode, machine)

    def test_newer_qemu_on_dest_is_live(self):
        plan = planner.plan_live_migration(
            host('a', qemu_version=7002000), host('b', qemu_version=8002002),
            guest())
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)

    def test_host_passthrough_cpu_differs(self):
        g = guest(cpu_mode='host-passthrough')
        plan = planner.plan_live_migration(
            host('a'), host('b', cpu_model='Icelake-Server'), g)
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertIn('host CPU through', ' '.join(plan.reasons))

    def test_disk_format_converted_live(self):
        # A format the destination does not run is no reason to restart
        # the guest: the block migration writes into a disk of another.
        g = guest(disks=[disk(fmt='vmdk')])
        plan = planner.plan_live_migration(host('a'), host('b'), g)
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        self.assertEqual(('vmdk', 'qcow2'), (plan.disks[0].source_format,
                                             plan.disks[0].dest_format))
        self.assertEqual(
            ('local storage: disks are copied while the guest runs',
             'the destination does not run vmdk disks (vda): converted to '
             'qcow2 on the way'), plan.reasons)
        self.assertEqual([plan.disks[0]],
                         list(planner.conversions(plan).values()))

    def test_raw_only_destination_converts_live(self):
        plan = planner.plan_live_migration(
            host('a'), host('b', disk_formats=('raw',)), guest())
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        self.assertEqual(('qcow2', 'raw'), (plan.disks[0].source_format,
                                            plan.disks[0].dest_format))
        self.assertEqual((), plan.hardware_changes)

    def test_same_format_converts_nothing(self):
        plan = planner.plan_live_migration(host('a'), host('b'), guest())
        self.assertEqual({}, planner.conversions(plan))
        self.assertEqual(1, len(plan.reasons))

    def test_cutover_says_what_it_converts(self):
        g = guest(nic_models=('vmxnet3',))
        plan = planner.plan_live_migration(
            host('a'), host('b', disk_formats=('raw',)), g)
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertEqual(2, len(plan.reasons))
        self.assertIn('hardware to translate', plan.reasons[0])
        self.assertIn('converted to raw on the way', plan.reasons[1])

    def test_disk_format_on_shared_storage_refused(self):
        g = guest(disks=[disk(fmt='vmdk')])
        e = self.assertRaises(
            planner.PlanRefused, planner.plan_live_migration,
            host('a', disk_formats=('vmdk', 'qcow2')), host('b'), g,
            storage=profile.StorageFacts(shared_instance_path=True))
        self.assertIn('convert them offline first', e.reason)

    def test_guest_type_wins_over_host_profile(self):
        # A qemu (TCG) guest on a KVM host moves to another KVM host.
        plan = planner.plan_live_migration(host('a'), host('b'),
                                           guest('qemu'))
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertEqual(profile.TCG, plan.source_accel)


class TestRefusals(testtools.TestCase):

    def test_no_source_profile(self):
        e = self.assertRaises(planner.PlanRefused,
                              planner.plan_live_migration,
                              None, host('b'), guest())
        self.assertEqual(planner.NO_PROFILE, e.code)
        self.assertIn('source host publishes no V2V profile', e.reason)

    def test_no_dest_profile(self):
        e = self.assertRaises(planner.PlanRefused,
                              planner.plan_live_migration,
                              host('a'), None, guest())
        self.assertIn('destination host publishes no V2V profile',
                      e.reason)

    def test_same_host(self):
        e = self.assertRaises(planner.PlanRefused,
                              planner.plan_live_migration,
                              host('a'), host('a'), guest())
        self.assertIn('is the source host', e.reason)

    def test_arch(self):
        e = self.assertRaises(planner.PlanRefused,
                              planner.plan_live_migration,
                              host('a'), host('b', arch='aarch64'), guest())
        self.assertIn('aarch64', e.reason)

    def test_no_accelerator(self):
        e = self.assertRaises(planner.PlanRefused,
                              planner.plan_live_migration,
                              host('a'), host('b', accel=''), guest())
        self.assertIn('no usable accelerator', e.reason)
        self.assertEqual(planner.NO_PROFILE, e.code)

    def test_unknown_accelerator(self):
        e = self.assertRaises(planner.PlanRefused,
                              planner.plan_live_migration,
                              host('a'), host('b', accel='hvf'), guest())
        self.assertIn("'kvm' and 'hvf'", e.reason)


class TestOffline(testtools.TestCase):

    def test_offline_cross_accelerator(self):
        plan = planner.plan_offline_migration(
            host('a', profile.KVM), host('b', profile.TCG), guest('kvm'))
        self.assertEqual(planner.OFFLINE, plan.mode)
        self.assertTrue(plan.block_migration)
        self.assertEqual(1, len(plan.disks))

    def test_offline_shared(self):
        plan = planner.plan_offline_migration(
            host('a', storage='s'), host('b', storage='s'), guest())
        self.assertEqual((), plan.disks)
        self.assertFalse(plan.block_migration)


class TestTable(testtools.TestCase):

    def test_every_pair_of_accelerators_has_a_rule(self):
        for src in profile.ACCELERATORS:
            for dst in profile.ACCELERATORS:
                rule = compat.rule(src, dst)
                self.assertIsNotNone(rule, (src, dst))
                self.assertEqual(src == dst, rule.live_state, (src, dst))
                self.assertTrue(rule.cutover)
                self.assertTrue(rule.offline)

    def test_pick_machine_type(self):
        self.assertEqual('pc-i440fx-7.2', planner.pick_machine_type(
            'pc-i440fx-7.2', MACHINES))
        self.assertEqual('pc-q35-8.2', planner.pick_machine_type(
            'q35', ('pc-q35-8.2', 'pc-q35-7.1', 'pc-i440fx-8.2')))
        self.assertEqual('pc-i440fx-8.2', planner.pick_machine_type(
            'pc', ('pc-i440fx-8.2', 'pc-i440fx-10.0')[:1]))
        self.assertEqual('pc-i440fx-10.0', planner.pick_machine_type(
            'pc-i440fx-7.2', ('pc-i440fx-9.2', 'pc-i440fx-10.0')))
        self.assertIsNone(planner.pick_machine_type('virt-7.2', MACHINES))


class TestLiveStateCautions(testtools.TestCase):
    """TCG's dirty tracking before QEMU 9.0 (compat.live_state_caveat)."""

    def _plan(self, accel, qemu_version, **kw):
        return planner.plan_live_migration(
            host('a', accel, qemu_version=qemu_version),
            host('b', accel, qemu_version=qemu_version),
            guest('qemu' if accel == profile.TCG else 'kvm'), **kw)

    def test_tcg_before_9_0_is_told(self):
        plan = self._plan(profile.TCG, 7002022)
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        self.assertEqual(1, len(plan.cautions))
        self.assertIn('QEMU 7.2.22 before 9.0 can lose a TCG guest\'s '
                      'memory writes', plan.cautions[0])
        self.assertIn('(caution: QEMU 7.2.22', plan.summary())
        self.assertEqual(plan, planner.MigrationPlan.from_json(
            plan.to_json()))

    def test_shared_live_is_told_too(self):
        plan = planner.plan_live_migration(
            host('a', profile.TCG, storage='nfs:x', qemu_version=8002000),
            host('b', profile.TCG, storage='nfs:x', qemu_version=8002000),
            guest('qemu'))
        self.assertEqual(planner.SHARED_LIVE, plan.mode)
        self.assertEqual(1, len(plan.cautions))

    def test_nothing_to_tell(self):
        for accel, version in ((profile.TCG, 9000000),
                               (profile.TCG, 10001000),
                               (profile.KVM, 7002022),
                               (profile.TCG, 0)):
            self.assertEqual((), self._plan(accel, version).cautions,
                             (accel, version))

    def test_cutover_moves_no_memory(self):
        plan = planner.plan_live_migration(
            host('a', profile.TCG, qemu_version=7002022),
            host('b', qemu_version=7002022), guest('qemu'))
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)
        self.assertEqual((), plan.cautions)

    def test_plan_of_an_older_release_reads(self):
        data = self._plan(profile.TCG, 7002022).to_dict()
        del data['cautions']
        self.assertEqual((), planner.MigrationPlan.from_dict(data).cautions)

    def test_caveat(self):
        self.assertIsNone(compat.live_state_caveat(profile.TCG, 9000000))
        self.assertIsNone(compat.live_state_caveat(profile.KVM, 8002000))
        self.assertIsNone(compat.live_state_caveat(profile.TCG, None))
        self.assertIn('QEMU 8.2.9 before 9.0',
                      compat.live_state_caveat(profile.TCG, '8002009'))


class TestPlanSerialisation(testtools.TestCase):

    def test_json_round_trip(self):
        plan = planner.plan_live_migration(
            host('a', profile.TCG), host('b'),
            guest('qemu', nic_models=('vmxnet3',)))
        again = planner.MigrationPlan.from_json(plan.to_json())
        self.assertEqual(plan, again)
        self.assertIn('v2v-cutover from a (tcg) to b (kvm)', again.summary())


class TestVolumes(testtools.TestCase):
    """A V2V cutover never runs with Cinder volumes attached."""

    VOLUMES = profile.StorageFacts(volumes=('vdb',))

    def test_cutover_with_volumes_refused_typed(self):
        e = self.assertRaises(
            planner.PlanRefused, planner.plan_live_migration,
            host('a', profile.TCG), host('b'), guest('qemu'),
            storage=self.VOLUMES)
        self.assertEqual(planner.VOLUMES_ATTACHED, e.code)
        self.assertIn('Cinder volumes attached (vdb)', e.reason)
        self.assertIn('qemu -> kvm', e.reason)

    def test_volume_backed_cutover_refused_typed(self):
        storage = profile.StorageFacts(volume_backed=True, volumes=('vda',))
        e = self.assertRaises(
            planner.PlanRefused, planner.plan_live_migration,
            host('a', profile.KVM), host('b', profile.TCG), guest('kvm'),
            storage=storage)
        self.assertEqual(planner.VOLUMES_ATTACHED, e.code)

    def test_every_needed_cutover_refused(self):
        # Each reason the live state cannot move, alone or with a
        # translation: no cutover with volumes.
        cases = [
            (host('a', qemu_version=10000013),
             host('b', machine_types=('pc-i440fx-7.2',)),
             guest(machine='pc-i440fx-10.0')),
            (host('a'), host('b', cpu_model='Icelake-Server'),
             guest(cpu_mode='host-passthrough', nic_models=('e1000',))),
            (host('a'), host('b', machine_types=('pc-i440fx-8.2',)),
             guest(nic_models=('e1000',))),
        ]
        for source, dest, g in cases:
            e = self.assertRaises(
                planner.PlanRefused, planner.plan_live_migration,
                source, dest, g, storage=self.VOLUMES)
            self.assertEqual(planner.VOLUMES_ATTACHED, e.code, e.reason)

    def test_conversion_and_translation_move_live(self):
        # The disk is converted on the way, the NIC stays as it is.
        g = guest(disks=[disk(fmt='vmdk')], nic_models=('e1000',))
        plan = planner.plan_live_migration(host('a'), host('b'), g,
                                           storage=self.VOLUMES)
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        self.assertEqual('qcow2', plan.disks[0].dest_format)
        self.assertIn('converted to qcow2 on the way', plan.reasons[1])
        self.assertEqual(1, len(plan.cautions))

    def test_translation_only_moves_live_untranslated(self):
        # Nova would move this guest as it is, with its volumes: so does
        # the planner, and it says what it did not translate.
        g = guest(nic_models=('e1000',), disks=[disk('hda', bus='ide')])
        plan = planner.plan_live_migration(host('a'), host('b'), g,
                                           storage=self.VOLUMES)
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)
        self.assertTrue(plan.live_state_moves)
        self.assertEqual((), plan.hardware_changes)
        self.assertEqual(1, len(plan.disks))
        self.assertEqual(1, len(plan.cautions))
        self.assertIn('Cinder volumes attached (vdb)', plan.cautions[0])
        self.assertIn('nic-model interface: e1000 -> virtio',
                      plan.cautions[0])
        self.assertIn('disk-bus hda: ide -> virtio', plan.cautions[0])

    def test_translation_only_on_shared_storage_moves_live(self):
        storage = profile.StorageFacts(volume_backed=True, volumes=('vda',))
        plan = planner.plan_live_migration(
            host('a'), host('b'), guest(nic_models=('vmxnet3',)),
            storage=storage)
        self.assertEqual(planner.SHARED_LIVE, plan.mode)
        self.assertEqual((), plan.disks)

    def test_translation_only_with_cutover_disabled_moves_live(self):
        plan = planner.plan_live_migration(
            host('a'), host('b'), guest(nic_models=('e1000',)),
            storage=self.VOLUMES, allow_cutover=False)
        self.assertEqual(planner.BLOCK_LIVE, plan.mode)

    def test_explicit_storage_rules_first(self):
        e = self.assertRaises(
            planner.PlanRefused, planner.plan_live_migration,
            host('a', profile.TCG), host('b'), guest('qemu'),
            storage=self.VOLUMES, block_migration=False)
        self.assertEqual(planner.INVALID_SHARED_STORAGE, e.code)

    def test_live_moves_unchanged_by_volumes(self):
        for g in (guest(), guest(nic_models=('virtio',))):
            plan = planner.plan_live_migration(host('a'), host('b'), g,
                                               storage=self.VOLUMES)
            self.assertEqual(planner.BLOCK_LIVE, plan.mode)
            self.assertEqual((), plan.cautions)

    def test_without_volumes_still_cutover(self):
        plan = planner.plan_live_migration(
            host('a'), host('b'), guest(nic_models=('e1000',)))
        self.assertEqual(planner.V2V_CUTOVER, plan.mode)


_accel = st.sampled_from(profile.ACCELERATORS)
_storage = st.sampled_from(['local:a', 'local:b', 'nfs:x', ''])
_block = st.sampled_from([None, True, False])
_nics = st.lists(st.sampled_from(['virtio', 'e1000', 'vmxnet3']),
                 max_size=2)


class TestPlannerProperties(testtools.TestCase):
    """Invariants over many generated host pairs and guests."""

    @given(_accel, _accel, _storage, _storage, _block, _nics,
           st.booleans())
    def test_invariants(self, src_accel, dst_accel, src_store, dst_store,
                        block, nics, allow_cutover):
        source = host('a', src_accel, storage=src_store)
        dest = host('b', dst_accel, storage=dst_store)
        g = guest(profile.DOMAIN_TYPE[src_accel], nic_models=tuple(nics))
        shared = bool(src_store) and src_store == dst_store
        try:
            plan = planner.plan_live_migration(source, dest, g,
                                               block_migration=block,
                                               allow_cutover=allow_cutover)
        except planner.PlanRefused as e:
            # Refused only for Nova's storage rules or a disabled cutover.
            self.assertTrue(
                (block is True and shared) or (block is False and not shared)
                or not allow_cutover, e.reason)
            return
        # The live state moves only between equal accelerators and
        # untranslated hardware; block migration iff not shared.
        live = src_accel == dst_accel and not (set(nics) - {'virtio'})
        self.assertEqual(live, plan.live_state_moves)
        self.assertEqual(not shared, plan.block_migration)
        self.assertEqual(not shared, bool(plan.disks))
        if block is not None:
            self.assertEqual(block, plan.block_migration)
        if not live:
            self.assertEqual(planner.V2V_CUTOVER, plan.mode)
            self.assertTrue(allow_cutover)
        self.assertEqual(plan, planner.MigrationPlan.from_json(
            plan.to_json()))

    @given(_accel, _accel, _storage, _storage, _block, _nics,
           st.booleans())
    def test_never_a_cutover_with_volumes(self, src_accel, dst_accel,
                                          src_store, dst_store, block, nics,
                                          allow_cutover):
        g = guest(profile.DOMAIN_TYPE[src_accel], nic_models=tuple(nics))
        try:
            plan = planner.plan_live_migration(
                host('a', src_accel, storage=src_store),
                host('b', dst_accel, storage=dst_store), g,
                storage=profile.StorageFacts(volumes=('vdb',)),
                block_migration=block, allow_cutover=allow_cutover)
        except planner.PlanRefused as e:
            # Nova's storage rules, a disabled cutover, or the volumes
            # where the live state cannot move as it is.
            if e.code == planner.VOLUMES_ATTACHED:
                self.assertNotEqual(src_accel, dst_accel)
                self.assertTrue(allow_cutover)
            return
        # Whatever the cutover would only have translated moves live,
        # as it is: what Nova does.
        self.assertEqual(src_accel, dst_accel)
        self.assertTrue(plan.live_state_moves)
        self.assertEqual((), plan.hardware_changes)


class TestProfileStats(testtools.TestCase):

    def test_round_trip(self):
        h = host('a', profile.TCG)
        stats = h.to_stats()
        self.assertTrue(all(isinstance(v, str) for v in stats.values()))
        self.assertEqual(h, profile.HostProfile.from_stats('a', stats))
        self.assertEqual(h, profile.HostProfile.from_stats(None, stats))

    def test_missing_or_other_version(self):
        self.assertIsNone(profile.HostProfile.from_stats('a', None))
        self.assertIsNone(profile.HostProfile.from_stats('a', {}))
        stats = host('a').to_stats()
        stats['v2v_profile'] = '99'
        self.assertIsNone(profile.HostProfile.from_stats('a', stats))

    def test_bad_numbers_tolerated(self):
        stats = host('a').to_stats()
        stats['v2v_qemu_version'] = 'garbage'
        self.assertEqual(0, profile.HostProfile.from_stats(
            'a', stats).qemu_version)

    def test_traits(self):
        traits = dataclasses.replace(
            host('a'), disk_formats=('raw', 'qcow2', 'vmdk'),
            machine_types=('pc-i440fx-7.2', 'q35'),
            images_format='qcow2').traits()
        self.assertEqual({'CUSTOM_V2V_CAPABLE', 'CUSTOM_V2V_PROFILE_1',
                          'CUSTOM_V2V_ACCEL_KVM', 'CUSTOM_V2V_ARCH_X86_64',
                          'CUSTOM_V2V_LIBVIRT_9000000',
                          'CUSTOM_V2V_QEMU_7002000',
                          'CUSTOM_V2V_CPU_VENDOR_INTEL',
                          'CUSTOM_V2V_STORAGE_' +
                          profile.storage_digest('local:a'),
                          'CUSTOM_V2V_IMAGES_QCOW2',
                          'CUSTOM_V2V_DISK_FORMAT_RAW',
                          'CUSTOM_V2V_DISK_FORMAT_QCOW2',
                          'CUSTOM_V2V_DISK_FORMAT_VMDK',
                          'CUSTOM_V2V_MACHINE_PC_I440FX_7__2',
                          'CUSTOM_V2V_MACHINE_Q35'}, traits)
        for trait in traits:
            self.assertRegex(trait, '^CUSTOM_[A-Z0-9_]{1,248}$')

    def test_profile_round_trip_through_traits(self):
        source = dataclasses.replace(host('a'), images_format='raw')
        back = profile.HostProfile.from_traits('a', source.traits())
        self.assertEqual(
            dataclasses.replace(source, cpu_model='', instances_path='',
                                storage_id=profile.storage_digest('local:a'),
                                machine_types=tuple(sorted(MACHINES)),
                                disk_formats=('qcow2', 'raw')),
            back)
        # What the planner decides from it is what it decides from stats.
        guest = hw_guest.GuestProfile(
            domain_type='kvm', machine='pc-i440fx-7.2',
            disks=(disk(path=None),))
        self.assertEqual(
            planner.plan_live_migration(host('a'), host('b'), guest).mode,
            planner.plan_live_migration(
                profile.HostProfile.from_traits('a', host('a').traits()),
                profile.HostProfile.from_traits('b', host('b').traits()),
                guest).mode)

    def test_no_or_other_profile_traits(self):
        self.assertIsNone(profile.HostProfile.from_traits('a', []))
        self.assertIsNone(profile.HostProfile.from_traits(
            'a', ['CUSTOM_V2V_CAPABLE', 'CUSTOM_V2V_PROFILE_2']))

    def test_machine_trait_encoding(self):
        for name in ('pc-i440fx-7.2', 'pc-q35-rhel9.2.0', 'q35', 'none'):
            self.assertEqual(name, profile.decode_machine(
                profile.encode_machine(name)))
        self.assertIsNone(profile.encode_machine('PC'))
        self.assertIsNone(profile.encode_machine('pc_x'))

    def test_detect_accelerator(self):
        self.assertEqual('kvm', profile.detect_accelerator(
            'kvm', ['qemu', 'kvm']))
        self.assertEqual('', profile.detect_accelerator('kvm', ['qemu']))
        self.assertEqual('tcg', profile.detect_accelerator(
            'qemu', ['qemu', 'kvm']))
        self.assertEqual('', profile.detect_accelerator('lxc', ['qemu']))

    def test_version_to_str(self):
        self.assertEqual('7.2.22', profile.version_to_str(7002022))
