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

"""V2V cutover and offline moves in the two-host lab (nova_v2v_rig.lab).

Real libvirt/QEMU: a VMware-shaped guest (pvscsi + vmxnet3 on a vmdk) and
a virtio guest move from host a to host b with the warm cutover that Nova's
driver runs (cutover.run_source_cutover: block copy onto one
non-persistent qemu-nbd per disk in host b's netns, stop, abort without
pivot, wait until the port refuses as seen from host a, boot the
translated clone), once with a qemu-storage-daemon released over QMP for
comparison, an offline move converts vmdk to qcow2, a killed NBD export
makes the cutover refuse and roll back, and libvirt itself is asked to live
migrate a TCG guest into a KVM domain (it refuses; the planner picks the
cutover for that pair).

Needs root, libvirtd, qemu-system-x86, qemu-utils, qemu-storage-daemon
(Debian: qemu-system-common), busybox-static, kmod, iproute2 and the
Debian archive for the guest kernel.  Nothing is skipped: a missing
prerequisite fails every test with one message (tests.integration.base).
Run with OS_NOVA_DISABLE_EVENTLET_PATCHING=1.
"""

import json
import os

from testtools import content

from tests.integration import base


def _processes_with(needle):
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                raw = f.read()
        except OSError:
            continue
        cmd = raw.replace(b'\0', b' ').decode('utf-8', 'replace')
        if needle in cmd:
            found.append('%s %s' % (pid, cmd[:120]))
    return found


class TestLabV2V(base.LabTestCase):
    """One lab; V2V cutovers, an offline move, a fault, cross-accel."""

    @property
    def v2v(self):
        from nova_v2v_rig.lab import v2v
        return v2v

    def _record(self, name, result):
        print('\n%s: %s' % (name, json.dumps(result, sort_keys=True)))
        engine = result.get('engine', {})
        print('%s: downtime %s ms as the guest saw it (%s ms stop -> clone '
              'started), total %s s, sync %s s, %s bytes moved'
              % (name, result.get('downtime_ms_guest'),
                 result.get('downtime_ms_engine'),
                 result.get('total_seconds'), engine.get('sync_seconds'),
                 result.get('bytes_moved')))
        self.addDetail('result', content.text_content(
            json.dumps(result, indent=2, sort_keys=True)))

    def _no_export_left(self):
        self.assertEqual([], _processes_with('qemu-storage-daemon'),
                         'a qemu-storage-daemon is left behind')
        self.assertEqual([], _processes_with('qemu-nbd'),
                         'a qemu-nbd is left behind')

    def _assert_released_by_client(self, result):
        """The qemu-nbd exited on the abort, the port refused from a."""
        self.assertEqual('client-bound', result['export'])
        release = result['release']
        self.assertEqual('port', release['check'], release)
        self.assertEqual([], release['held'], release)
        self.assertIsNotNone(release['qemu_nbd_exited_ms'], release)
        self.assertIsNotNone(release['port_refused_ms'], release)

    def _move(self, mode, **kwargs):
        result = self.v2v.run(self.lab, mode, **kwargs)
        self._record('%s %s' % (mode, kwargs), result)
        self.assertGuestMovedIntact(result)
        (first_a, last_a), range_b = result['log_ranges']
        self.assertEqual(1, first_a, result)
        self.assertIsNotNone(range_b, 'the clone wrote nothing on host b')
        # The clone resumes after the last record on disk: the last one
        # acknowledged on a, or the one written there but not acknowledged.
        self.assertEqual(last_a + 1 + len(result['serial_unacked']),
                         range_b[0],
                         'the clone did not resume at the last record + 1')
        self.assertGreater(range_b[1], range_b[0],
                           'the clone wrote only one record on host b')
        self.assertEqual('qcow2', result['dest_format'])
        self._no_export_left()
        return result

    def test_cutover_vmware_to_virtio(self):
        result = self._move('v2v-cutover', profile='vmware',
                            disk_format='vmdk')
        self.assertEqual('v2v-cutover', result['planner_live_mode'])
        self.assertEqual('vmdk', result['source_format'])
        self.assertEqual('vda:virtio', result['dest_disk_bus'])
        self.assertIn('nic-model interface: vmxnet3 -> virtio',
                      result['hardware_changes'])
        self.assertIn('disk-bus sda: scsi -> virtio',
                      result['hardware_changes'])
        self.assertEqual('suspended', result['engine']['stop'])
        self.assertGreater(result['bytes_moved'], 0)
        self._assert_released_by_client(result)

    def test_cutover_qsd_release(self):
        result = self._move('v2v-cutover', profile='vmware',
                            disk_format='qcow2', export='qsd')
        self.assertEqual('qsd', result['engine']['export'])
        self.assertEqual('suspended', result['engine']['stop'])
        self.assertEqual('vda:virtio', result['dest_disk_bus'])

    def test_cutover_virtio_to_virtio(self):
        result = self._move('v2v-cutover', profile='virtio')
        self.assertEqual('vda:virtio', result['dest_disk_bus'])
        self.assertEqual([], result['hardware_changes'])
        self._assert_released_by_client(result)

    def test_cutover_acpi(self):
        result = self._move('v2v-cutover', profile='vmware',
                            disk_format='qcow2', cutover_mode='acpi')
        self.assertEqual('shutdown', result['engine']['stop'])
        self.assertEqual('vda:virtio', result['dest_disk_bus'])
        self._assert_released_by_client(result)

    def test_offline_vmdk_to_qcow2(self):
        result = self._move('offline', profile='vmware', disk_format='vmdk')
        self.assertEqual('vmdk', result['source_format'])
        self.assertEqual('vda:virtio', result['dest_disk_bus'])
        self.assertEqual('shutdown', result['engine']['stop'])

    def test_cutover_refused_when_export_dies(self):
        result = self.v2v.run(self.lab, 'v2v-cutover', profile='virtio',
                              fault='kill-export')
        self._record('v2v-cutover kill-export', result)
        self.assertIn('CutoverRefused', result.get('refused', ''), result)
        self.assertEqual('client-bound', result['export'])
        self.assertTrue(result['export_pids'], result)
        self.assertTrue(result['fault_event_seen'], result)
        self.assertTrue(result['source_running'],
                        'the source guest is not running after rollback')
        self.assertGreater(result['source_writes_after_rollback'], 0,
                           'the source guest stopped writing')
        self.assertEqual([], result['dest_leftovers'], result)
        self.assertFalse(result['export_alive'], result)
        self.assertEqual(0, result['records_lost'], result)
        self.assertGreaterEqual(result['records_verified'],
                                result['records_written'], result)
        self.assertEqual([], result['serial_gaps'], result)
        self._no_export_left()

    def test_rollback_when_clone_fails(self):
        result = self.v2v.run(self.lab, 'v2v-cutover', profile='virtio',
                              fault='clone-fails')
        self._record('v2v-cutover clone-fails', result)
        self.assertIn('CloneNotRunning', result.get('refused', ''), result)
        self.assertGreater(result['dest_writes'], 0,
                           'the clone never ran on host b')
        self.assertTrue(result['source_running'],
                        'the paused source was not resumed')
        self.assertGreater(result['source_writes_after_rollback'], 0,
                           'the source guest stopped writing')
        self.assertEqual([], result['dest_leftovers'], result)
        self.assertEqual(0, result['records_lost'], result)
        self.assertGreaterEqual(result['records_verified'],
                                result['records_written'], result)
        self.assertEqual([], result['serial_gaps'], result)
        self.assertEqual([], result['serial_repeats'], result)
        self._no_export_left()

    def test_cross_accelerator(self):
        import libvirt

        from nova_v2v.hardware import inspect
        from nova_v2v.planning import compat
        from nova_v2v.planning import planner
        from nova_v2v.planning import profile
        from nova_v2v_rig.lab import accel
        from nova_v2v_rig.lab import domain
        from nova_v2v_rig.lab import guest
        from nova_v2v_rig.lab import hosts

        image = guest.build(self.lab.cache_dir)
        virt_type, reason = accel.detect(
            image, cache_file=os.path.join(self.lab.cache_dir, 'accel'))
        # The planner, from the real capabilities of the two lab hosts,
        # b declared KVM.
        conn_a = libvirt.open(self.lab.local_uri('a'))
        conn_b = libvirt.open(self.lab.local_uri('b'))
        try:
            src = self.v2v.host_profile(conn_a, 'labhost-a', profile.TCG,
                                        hosts.INSTANCES_PATH)
            dst = self.v2v.host_profile(conn_b, 'labhost-b', profile.KVM,
                                        hosts.INSTANCES_PATH)
        finally:
            conn_a.close()
            conn_b.close()
        spec = domain.DomainSpec(
            'g', '6a1f3b7e-0000-4000-8000-000000000001', image.kernel,
            image.initrd, hosts.INSTANCES_PATH + '/u/disk', '/dev/null')
        guest_p = inspect.parse_domain_xml(domain.to_xml(spec))
        plan = planner.plan_live_migration(
            src, dst, guest_p,
            profile.StorageFacts(shared_instance_path=False))
        self.assertEqual(planner.V2V_CUTOVER, plan.mode, plan.summary())
        self.assertIn('domain-type domain: qemu -> kvm',
                      [str(c) for c in plan.hardware_changes])
        rule = compat.rule(profile.TCG, profile.KVM)
        if virt_type == 'kvm':
            # KVM boots guests here: do the TCG -> KVM move for real.
            result = self._move('v2v-cutover', profile='virtio',
                                source_accel=profile.TCG,
                                dest_accel=profile.KVM)
            self.assertEqual('kvm', result['dest_accel'])
            return
        print('\nKVM cannot boot guests here (%s): asking libvirt for a '
              'TCG -> KVM live migration instead' % reason)
        result = self.v2v.cross_accel_live(self.lab, 'kvm')
        self._record('cross-accel live', result)
        self.assertTrue(result['refused'], result)
        self.assertIn('virt type', result['error'])
        self.assertTrue(result['source_still_running'], result)
        # The compatibility table says what libvirt said.
        self.assertEqual(not result['refused'], rule.live_state)

    def test_compat_table_tcg_kvm(self):
        from nova_v2v.planning import compat
        from nova_v2v.planning import profile

        for pair in ((profile.TCG, profile.KVM), (profile.KVM, profile.TCG)):
            rule = compat.TABLE[pair]
            self.assertFalse(rule.live_state, pair)
            self.assertTrue(rule.cutover, pair)
            self.assertTrue(rule.offline, pair)
            self.assertIn('domain type', rule.why)
