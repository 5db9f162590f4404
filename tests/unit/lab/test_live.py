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

import threading
from unittest import mock

import libvirt
import testtools

from nova_v2v_rig.lab import live


class LiveMigrationTestCase(testtools.TestCase):

    def _dom(self, done):
        dom = mock.Mock()
        dom.name.return_value = 'guest'
        dom.migrateToURI3.side_effect = lambda *a: done.wait(5)
        dom.jobStats.return_value = {'type': 2, 'memory_remaining': 1}
        dom.connect.return_value.domainEventRegisterAny.side_effect = (
            libvirt.libvirtError('no event loop'))
        return dom

    def test_failing_progress_callback_does_not_end_the_watch(self):
        done = threading.Event()
        calls = []

        def progress(stats):
            calls.append(stats)
            if len(calls) == 3:
                done.set()
            raise RuntimeError('observer bug')

        mig = live.LiveMigration(self._dom(done), 'uri', 0,
                                 poll_interval=0.01, progress_cb=progress)
        self.assertIsNotNone(mig.run())
        self.assertGreaterEqual(len(calls), 3)
        self.assertEqual(len(calls), len(mig.progress))


class CompletedStatsTestCase(testtools.TestCase):
    """The totals come from the source's job-completed event."""

    STATS = {'disk_processed': 4 << 20, 'memory_processed': 110 << 20,
             'downtime': 56, 'time_elapsed': 1538}

    def _dom(self, uuid='u-1'):
        dom = mock.Mock()
        dom.name.return_value = 'guest'
        dom.UUIDString.return_value = uuid
        self.conn = dom.connect.return_value
        self.conn.domainEventRegisterAny.return_value = 7
        self.callbacks = []
        self.conn.domainEventRegisterAny.side_effect = (
            lambda d, ev, cb, opaque: self.callbacks.append((ev, cb)) or 7)
        # No poll ever succeeds: the migration ends before the first.
        dom.jobStats.side_effect = libvirt.libvirtError('not yet')
        return dom

    def _emit(self, uuid, stats):
        event_dom = mock.Mock()
        event_dom.UUIDString.return_value = uuid
        for ev, cb in self.callbacks:
            self.assertEqual(libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, ev)
            cb(self.conn, event_dom, stats, None)

    def test_completed_stats_without_a_single_sample(self):
        dom = self._dom()
        dom.migrateToURI3.side_effect = (
            lambda *a: self._emit('u-1', self.STATS))
        mig = live.LiveMigration(dom, 'uri', 0, poll_interval=0.01)
        mig.run()
        self.assertEqual(self.STATS, mig.completed)
        self.assertEqual([], mig.progress)
        self.conn.domainEventDeregisterAny.assert_called_once_with(7)

    def test_event_arriving_after_the_call_is_awaited(self):
        dom = self._dom()
        timer = threading.Timer(0.2, self._emit, ('u-1', self.STATS))
        dom.migrateToURI3.side_effect = lambda *a: timer.start()
        self.addCleanup(timer.cancel)
        mig = live.LiveMigration(dom, 'uri', 0, poll_interval=0.01,
                                 completed_wait=5)
        mig.run()
        self.assertEqual(self.STATS, mig.completed)

    def test_another_domains_event_is_ignored(self):
        dom = self._dom()
        dom.migrateToURI3.side_effect = (
            lambda *a: self._emit('u-2', self.STATS))
        mig = live.LiveMigration(dom, 'uri', 0, poll_interval=0.01,
                                 completed_wait=0.05)
        mig.run()
        self.assertIsNone(mig.completed)

    def test_no_event_loop_leaves_the_polls(self):
        dom = self._dom()
        self.conn.domainEventRegisterAny.side_effect = (
            libvirt.libvirtError('no event loop'))
        done = threading.Event()
        dom.jobStats.side_effect = None
        dom.jobStats.return_value = {'type': 2, 'disk_processed': 1}
        dom.migrateToURI3.side_effect = lambda *a: done.wait(0.2)
        mig = live.LiveMigration(dom, 'uri', 0, poll_interval=0.01)
        mig.run()
        self.assertIsNone(mig.completed)
        self.assertGreater(mig.polls['samples'], 0)
        self.conn.domainEventDeregisterAny.assert_not_called()

    def test_failed_migration_does_not_wait_for_the_event(self):
        dom = self._dom()
        dom.migrateToURI3.side_effect = libvirt.libvirtError('refused')
        mig = live.LiveMigration(dom, 'uri', 0, poll_interval=0.01,
                                 completed_wait=60)
        self.assertRaises(live.MigrationFailed, mig.run)
        self.assertIsNone(mig.completed)
        self.conn.domainEventDeregisterAny.assert_called_once_with(7)


class PollsTestCase(testtools.TestCase):

    def test_polls_counted_by_outcome(self):
        dom = mock.Mock()
        dom.jobStats.side_effect = [
            libvirt.libvirtError('domain is not running'),
            {'type': libvirt.VIR_DOMAIN_JOB_NONE}, {'type': 2}]
        mig = live.LiveMigration(dom, 'uri', 0)
        self.assertIsNone(mig._poll())
        self.assertIsNone(mig._poll())
        self.assertEqual({'type': 2}, mig._poll())
        self.assertEqual({'samples': 1, 'no_job': 1, 'errors': 1,
                          'last_error': 'domain is not running'}, mig.polls)
