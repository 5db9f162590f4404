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
import time
import unittest

from nova_v2v.transfer import deadline
from nova_v2v.transfer import exception


class CallWithinTest(unittest.TestCase):

    def test_returns_what_the_call_returns(self):
        self.assertEqual(3, deadline.call_within(5, lambda a, b=0: a + b, 1,
                                                 b=2))

    def test_raises_what_the_call_raises(self):
        def fail():
            raise ValueError('boom')
        self.assertRaises(ValueError, deadline.call_within, 5, fail)

    def test_a_call_that_hangs_is_given_up(self):
        never = threading.Event()
        self.addCleanup(never.set)
        start = time.monotonic()
        with self.assertRaises(exception.NoAnswer) as ctx:
            deadline.call_within(0.2, never.wait)
        self.assertLess(time.monotonic() - start, 5)
        self.assertIn('did not answer within 0.2s', str(ctx.exception))

    def test_a_native_thread_call_is_given_up_under_eventlet(self):
        # The unit tests run monkey-patched (as Nova's): a native sleep in
        # eventlet's native threads stands for a proxied libvirt call
        # blocking in C.
        from eventlet import patcher
        from eventlet import tpool
        self.assertTrue(patcher.is_monkey_patched('thread'))
        native_sleep = patcher.original('time').sleep
        start = time.monotonic()
        self.assertRaises(exception.NoAnswer, deadline.call_within, 0.3,
                          tpool.execute, native_sleep, 2)
        self.assertLess(time.monotonic() - start, 1.5)

    def test_abandoned_is_set_when_given_up(self):
        never = threading.Event()
        self.addCleanup(never.set)
        abandoned = threading.Event()
        self.assertRaises(exception.NoAnswer, deadline.call_within, 0.1,
                          never.wait, abandoned=abandoned)
        self.assertTrue(abandoned.is_set())
        abandoned.clear()
        deadline.call_within(5, int, abandoned=abandoned)
        self.assertFalse(abandoned.is_set())
