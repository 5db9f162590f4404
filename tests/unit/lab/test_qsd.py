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

"""The lab's qemu-storage-daemon export: its QMP client."""

import json
import os
import socket
import tempfile
import threading
import unittest

from nova_v2v.transfer import exception
from nova_v2v_rig.lab import qsd


class FakeQMPServer(threading.Thread):
    """A unix socket QMP server answering from a script."""

    def __init__(self, path, replies):
        super().__init__(daemon=True)
        self.path = path
        self.replies = replies
        self.received = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)

    def run(self):
        conn, _ = self.sock.accept()
        f = conn.makefile('rwb')
        f.write(b'{"QMP": {"version": {}}}\r\n')
        f.flush()
        for line in f:
            msg = json.loads(line)
            self.received.append(msg)
            for reply in self.replies.get(msg['execute'],
                                          [{'return': {}}]):
                f.write(json.dumps(reply).encode() + b'\r\n')
            f.flush()
            if msg['execute'] == 'quit':
                break
        conn.close()
        self.sock.close()


class QMPClientTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, 'qmp')

    def test_events_kept_and_errors_typed(self):
        server = FakeQMPServer(self.path, {
            'block-export-del': [
                {'event': 'BLOCK_EXPORT_DELETED', 'data': {'id': 'e0'}},
                {'return': {}}],
            'blockdev-del': [{'error': {'desc': 'node in use'}}]})
        server.start()
        with qsd.QMPClient(self.path, timeout=5) as qmp:
            qmp.execute('block-export-del', {'id': 'e0', 'mode': 'safe'})
            evt = qmp.wait_event('BLOCK_EXPORT_DELETED', {'id': 'e0'})
            self.assertEqual('e0', evt['data']['id'])
            e = self.assertRaises(exception.QMPError, qmp.execute,
                                  'blockdev-del', {'node-name': 'd0'})
            self.assertIn('node in use', str(e))
            self.assertIsNone(qmp.execute('quit', allow_eof=True) or None)
        server.join(5)
        self.assertEqual(['qmp_capabilities', 'block-export-del',
                          'blockdev-del', 'quit'],
                         [m['execute'] for m in server.received])

    def test_no_socket(self):
        self.assertRaises(exception.QMPError,
                          qsd.QMPClient(self.path).connect)

    def assertRaises(self, exc, fn, *args, **kwargs):
        with self.subTest():
            try:
                fn(*args, **kwargs)
            except exc as e:
                return e
            self.fail('%s not raised' % exc.__name__)
