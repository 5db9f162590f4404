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

"""DiskSync on a mocked virDomain: the block copy jobs and their checks."""

import dataclasses
import unittest

from nova_v2v.transfer import exception
from nova_v2v.transfer import mirror
from nova_v2v.transfer import nbd
from tests.unit.transfer import fakes

libvirt = mirror.libvirt


class DiskSyncTest(unittest.TestCase):

    def _sync(self, dom):
        watcher = fakes.FakeWatcher()
        sync = mirror.DiskSync(dom, [fakes.exported()], watcher=watcher)
        return sync, watcher

    def test_start_copies_to_the_export(self):
        dom = fakes.dom()
        sync, _w = self._sync(dom)
        sync.start(bandwidth=5)
        dev, xml, params, flags = dom.blockCopy.call_args[0]
        self.assertEqual('vda', dev)
        self.assertIn("protocol=\"nbd\"", xml.replace("'", '"'))
        self.assertIn('name="exp"', xml.replace("'", '"'))
        self.assertIn('port="10810"', xml.replace("'", '"'))
        self.assertEqual(mirror.COPY_FLAGS, flags)
        self.assertEqual({libvirt.VIR_DOMAIN_BLOCK_COPY_BANDWIDTH: 5},
                         params)
        self.assertEqual(['vda'], sync.started)

    def test_nbd_target_xml(self):
        plain = mirror.nbd_disk_xml('exp', '192.0.2.2', 10810)
        self.assertEqual(
            '<disk type="network" device="disk"><driver name="qemu" '
            'type="raw"/><source protocol="nbd" name="exp" tls="no"><host '
            'name="192.0.2.2" port="10810"/></source></disk>', plain)
        self.assertIn('<source protocol="nbd" name="exp" tls="yes">',
                      mirror.nbd_disk_xml('exp', '192.0.2.2', 10810,
                                          tls=True))

    def test_nbd_target_xml_with_a_tls_hostname(self):
        # Connect to the address, check the certificate against the name.
        xml = mirror.nbd_disk_xml('exp', '192.0.2.2', 10810, tls=True,
                                  tls_hostname='dest.example.org')
        self.assertIn('<source protocol="nbd" name="exp" tls="yes" '
                      'tlsHostname="dest.example.org"><host '
                      'name="192.0.2.2" port="10810"/>', xml)
        # Without TLS it means nothing.
        self.assertNotIn('tlsHostname', mirror.nbd_disk_xml(
            'exp', '192.0.2.2', 10810, tls_hostname='dest.example.org'))

    def test_tls_export_is_mirrored_with_tls(self):
        dom = fakes.dom()
        disk = dataclasses.replace(fakes.exported(), tls=True)
        sync = mirror.DiskSync(dom, [disk], watcher=fakes.FakeWatcher())
        sync.start()
        self.assertIn('tls="yes"', dom.blockCopy.call_args[0][1])
        self.assertNotIn('tlsHostname', dom.blockCopy.call_args[0][1])
        named = mirror.DiskSync(
            fakes.dom(), [dataclasses.replace(disk, tls_hostname='dest')],
            watcher=fakes.FakeWatcher())
        named.start()
        self.assertIn('tlsHostname="dest"',
                      named.dom.blockCopy.call_args[0][1])
        dom = fakes.dom()
        sync, _w = self._sync(dom)
        sync.start()
        self.assertIn('tls="no"', dom.blockCopy.call_args[0][1])

    def test_disk_without_target_or_address_is_refused(self):
        dom = fakes.dom()
        for disk in (nbd.ExportedDisk('/d', 'raw', 'exp', host='h',
                                      port=1),
                     nbd.ExportedDisk('/d', 'raw', 'exp', target='vda')):
            self.assertRaises(ValueError, mirror.DiskSync, dom, [disk],
                              watcher=fakes.FakeWatcher())

    def test_poll_ready_by_event_or_xml(self):
        dom = fakes.dom(ready='no', info={'cur': 5, 'end': 10})
        sync, watcher = self._sync(dom)
        self.assertFalse(sync.poll_ready())
        self.assertEqual({'copied': 5, 'total': 10, 'remaining': 5},
                         sync.progress())
        dom.blockJobInfo.return_value = {'cur': 10, 'end': 10}
        self.assertFalse(sync.poll_ready())  # not ready yet
        watcher._add('block-job', 'vda', libvirt.VIR_DOMAIN_BLOCK_JOB_READY)
        self.assertTrue(sync.poll_ready())
        watcher.events = []
        dom.XMLDesc.return_value = fakes.XML % (fakes.MIRROR % 'yes')
        self.assertTrue(sync.poll_ready())

    def test_failure_event_breaks_the_sync(self):
        dom = fakes.dom()
        sync, watcher = self._sync(dom)
        watcher._add('block-job', 'vda', libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED)
        self.assertRaises(exception.SyncFailed, sync.poll_ready)
        self.assertRaises(exception.SyncFailed, sync.check_intact)

    def test_vanished_job(self):
        dom = fakes.dom(info={})
        sync, _w = self._sync(dom)
        self.assertRaises(exception.SyncFailed, sync.check_intact,
                          require_ready=False)
