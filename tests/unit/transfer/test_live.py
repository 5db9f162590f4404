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

import testtools

from nova_v2v.transfer import live


class LiveMigrationTestCase(testtools.TestCase):

    def _dom(self, done):
        dom = mock.Mock()
        dom.name.return_value = 'guest'
        dom.migrateToURI3.side_effect = lambda *a: done.wait(5)
        dom.jobStats.return_value = {'type': 2, 'memory_remaining': 1}
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
