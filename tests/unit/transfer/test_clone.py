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

"""The clone's start on the destination, its removal when it fails."""

import unittest
from unittest import mock

from nova_v2v.transfer import clone as clone_mod
from nova_v2v.transfer import exception

libvirt = clone_mod.libvirt


class StartCloneTest(unittest.TestCase):

    def test_clone_not_running_is_undefined(self):
        conn = mock.Mock()
        clone = conn.defineXML.return_value
        clone.state.return_value = [libvirt.VIR_DOMAIN_SHUTOFF, 0]
        clone.isActive.return_value = False
        self.assertRaises(exception.CloneNotRunning, clone_mod.start_clone,
                          conn, '<domain/>', None, 1)
        clone.undefine.assert_called_once_with()

    def test_unreachable_destination_defines_nothing(self):
        conn = mock.Mock()
        conn.isAlive.return_value = False
        self.assertRaises(exception.CloneNotRunning, clone_mod.start_clone,
                          conn, '<domain/>', None, 1)
        conn.defineXML.assert_not_called()

    def test_clone_that_cannot_be_removed_is_unknown(self):
        # The clone was started, then the destination became unreachable:
        # it may be running.
        conn = mock.Mock()
        conn.isAlive.side_effect = [True, False]
        clone = conn.defineXML.return_value
        clone.name.return_value = 'clone'
        clone.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
        clone.isActive.return_value = True
        clone.destroy.side_effect = libvirt.libvirtError('connection reset')
        verify = mock.Mock(side_effect=exception.CloneNotRunning('silent'))
        with self.assertRaises(exception.CloneStateUnknown) as ctx:
            clone_mod.start_clone(conn, '<domain/>', verify, 1)
        self.assertEqual('clone', ctx.exception.clone)
        clone.undefine.assert_not_called()

    def test_destroy_error_on_a_live_connection_still_removes(self):
        conn = mock.Mock()
        conn.isAlive.return_value = True
        clone = conn.defineXML.return_value
        clone.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
        clone.isActive.return_value = True
        clone.destroy.side_effect = libvirt.libvirtError('not running')
        verify = mock.Mock(side_effect=exception.CloneNotRunning('silent'))
        self.assertRaises(exception.CloneNotRunning, clone_mod.start_clone,
                          conn, '<domain/>', verify, 1)
        clone.undefine.assert_called_once_with()


class StartCloneRetryingTest(unittest.TestCase):

    def test_lock_error_is_retried(self):
        conn = mock.Mock()
        clone = conn.defineXML.return_value
        clone.state.return_value = [libvirt.VIR_DOMAIN_RUNNING, 0]
        clone.create.side_effect = [
            libvirt.libvirtError('Failed to get "write" lock'), None]
        with mock.patch.object(clone_mod.time, 'sleep'):
            got, _t = clone_mod.start_clone_retrying(conn, '<d/>', None, 0)
        self.assertIs(clone, got)
        self.assertEqual(2, clone.create.call_count)

    def test_other_error_is_not_retried(self):
        conn = mock.Mock()
        clone = conn.defineXML.return_value
        clone.create.side_effect = libvirt.libvirtError('no memory')
        self.assertRaises(libvirt.libvirtError,
                          clone_mod.start_clone_retrying, conn, '<d/>', None,
                          0)
        self.assertEqual(1, clone.create.call_count)
