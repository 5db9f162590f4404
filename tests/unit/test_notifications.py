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

import testtools

from nova_v2v import notifications
from nova_v2v.planning import planner

U = '11111111-2222-4333-8444-555555555555'


class PayloadTest(testtools.TestCase):

    def test_versioned_format(self):
        body = notifications.payload(U, mode='block-live', downtime_s=None)
        self.assertEqual({
            'nova_object.name': 'V2VMigrationPayload',
            'nova_object.namespace': 'nova_v2v',
            'nova_object.version': '1.1',
            'nova_object.data': {'instance_uuid': U, 'mode': 'block-live'}},
            body)

    def test_unknown_field_refused(self):
        self.assertRaises(ValueError, notifications.payload, U, speed=1)

    def test_plan_fields(self):
        plan = planner.MigrationPlan(
            mode=planner.V2V_CUTOVER, source_host='a', dest_host='b',
            source_accel='kvm', dest_accel='tcg', block_migration=True,
            disks=(planner.DiskPlan('/i/u/disk', 'qcow2', 'raw', 10),),
            reasons=('the destination does not run qcow2 disks',),
            cautions=('told',))
        fields = notifications.plan_fields(plan)
        self.assertEqual(['told'], fields['cautions'])
        self.assertEqual(('v2v-cutover', 'a', 'b', True),
                         (fields['mode'], fields['source_host'],
                          fields['dest_host'], fields['block_migration']))
        self.assertEqual('/i/u/disk', fields['disks'][0]['path'])
        self.assertEqual(['the destination does not run qcow2 disks'],
                         fields['reasons'])
        # Every field is one of the payload's.
        notifications.payload(U, **fields)

    def test_progress_fields(self):
        self.assertEqual(
            {'bytes_copied': 3, 'bytes_remaining': 7, 'bytes_total': 10},
            notifications.progress_fields({'copied': 3, 'remaining': 7,
                                           'total': 10}))


class ThrottleTest(testtools.TestCase):

    def test_one_per_interval_per_key(self):
        now = [0.0]
        throttle = notifications.Throttle(5, clock=lambda: now[0])
        self.assertTrue(throttle.allow('a'))
        self.assertTrue(throttle.allow('b'))
        now[0] = 4.9
        self.assertFalse(throttle.allow('a'))
        self.assertTrue(throttle.allow('a', final=True))
        now[0] = 10.0
        self.assertTrue(throttle.allow('a'))
        throttle.forget('a')
        self.assertTrue(throttle.allow('a'))


class EmitterTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.notifier = mock.Mock()
        self.factory = mock.Mock(return_value=self.notifier)
        self.emitter = notifications.Emitter(self.factory, 'host-a',
                                             progress_interval=60)

    def test_info_event(self):
        self.assertTrue(self.emitter.emit('ctxt', notifications.START, U,
                                          dest_host='b'))
        self.factory.assert_called_once_with('nova-v2v:host-a')
        self.notifier.info.assert_called_once_with(
            'ctxt', 'v2v.migration.start',
            notifications.payload(U, dest_host='b'))

    def test_rollback_is_an_error(self):
        self.emitter.emit('ctxt', notifications.ROLLBACK, U, reason='boom')
        self.notifier.error.assert_called_once()
        self.notifier.info.assert_not_called()

    def test_progress_throttled_until_the_end(self):
        for _i in range(3):
            self.emitter.emit('ctxt', notifications.PROGRESS, U,
                              bytes_copied=1)
        self.assertEqual(1, self.notifier.info.call_count)
        self.emitter.emit('ctxt', notifications.END, U)
        # A new move of the same guest reports its progress again.
        self.emitter.emit('ctxt', notifications.PROGRESS, U)
        self.assertEqual(3, self.notifier.info.call_count)

    def test_disabled(self):
        emitter = notifications.Emitter(self.factory, 'h', enabled=False)
        self.assertFalse(emitter.emit('ctxt', notifications.START, U))
        self.factory.assert_not_called()

    def test_a_failing_bus_does_not_fail_the_move(self):
        log = mock.Mock()
        emitter = notifications.Emitter(
            mock.Mock(side_effect=RuntimeError('no bus')), 'h', log=log)
        self.assertFalse(emitter.emit('ctxt', notifications.START, U))
        log.exception.assert_called_once()

    def test_event_list(self):
        self.assertEqual(7, len(notifications.EVENTS))
        for event in notifications.EVENTS:
            self.assertTrue(event.startswith('v2v.migration.'))
            self.assertIn('``%s``' % event, notifications.__doc__)
