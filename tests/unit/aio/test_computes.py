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

"""nova_v2v_rig.aio.computes: configuration, command lines, up and down."""

import os
from unittest import mock

import fixtures
import testtools

from nova_v2v.deploy import novaconf
from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import cprelay
from nova_v2v_rig.aio import identity
from nova_v2v_rig.aio import ovn
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.aio import stack
from nova_v2v_rig.lab import hosts as lab_hosts


class TestComputes(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.layout = paths.Layout(os.path.join(self.dir, 'aio'))
        self.lab = lab_hosts.Lab(os.path.join(self.dir, 'lab'))
        self.execute = self.useFixture(fixtures.MockPatch(
            'oslo_concurrency.processutils.execute',
            return_value=('', ''))).mock

    def _values(self, host):
        with open(computes.conf_path(self.layout, host)) as f:
            return novaconf.values(novaconf.read_ini(f.read()))

    def test_compute_conf(self):
        conf = dict(((s, k), v) for s, k, v in
                    computes.compute_conf(self.layout, 'b'))
        self.assertEqual('labhost-b', conf['DEFAULT', 'host'])
        self.assertEqual('/var/lib/nova/instances',
                         conf['DEFAULT', 'instances_path'])
        self.assertEqual(self.layout.data('nova', 'b'),
                         conf['DEFAULT', 'state_path'])
        self.assertEqual('qemu', conf['libvirt', 'virt_type'])
        self.assertEqual('none', conf['libvirt', 'cpu_mode'])
        self.assertEqual('tcp', conf['libvirt', 'live_migration_scheme'])
        self.assertEqual('10.77.0.2',
                         conf['libvirt', 'live_migration_inbound_addr'])
        self.assertEqual('10.77.0.2', conf['DEFAULT', 'my_ip'])
        self.assertEqual('/var/lib/nova/instances',
                         conf['DEFAULT', 'instances_path'])
        shared = dict(((s, k), v) for s, k, v in
                      computes.compute_conf(self.layout, 'b', shared=True))
        self.assertEqual('/var/lib/nova/shared',
                         shared['DEFAULT', 'instances_path'])
        self.assertEqual('http://127.0.0.1:9292', conf['glance',
                                                       'api_servers'])
        helper = conf['nova_sys_admin', 'helper_command'].split()
        self.assertEqual(self.layout.bin('main', 'privsep-helper'),
                         helper[0])
        self.assertEqual(computes.conf_path(self.layout, 'b'), helper[-1])
        for section in computes.PRIVSEP_SECTIONS:
            self.assertIn((section, 'helper_command'), conf)
        # Every privsep daemon is the compute's child, in its namespaces
        # (os-vif's taps in the lab host's network namespace with it).
        for section in computes.PRIVSEP_SECTIONS:
            self.assertEqual(helper,
                             conf[section, 'helper_command'].split())
        self.assertEqual('unix:/run/openvswitch/db.sock',
                         conf['os_vif_ovs', 'ovsdb_connection'])

    def test_write_conf_adds_v2v_compute_part(self):
        path = computes.write_conf(self.layout, 'a')
        self.assertEqual(self.layout.etc('nova', 'compute-a.conf'), path)
        values = self._values('a')
        self.assertEqual([novaconf.COMPUTE_DRIVER],
                         values['DEFAULT', 'compute_driver'])
        self.assertEqual(['aio-lab-a-local'], values['v2v', 'storage_id'])
        # The compute, in its host's namespace, probes the exports across
        # the lab's link: the product's default.
        self.assertNotIn(('v2v', 'cutover_release_probe'), values)
        # The clone's control goes through host a's relay (lab link).
        self.assertEqual(
            ['qemu:///system?socket=%s'
             % os.path.join(self.layout.run_dir, 'libvirt', 'from-a',
                            '%s-sock')],
            values['v2v', 'clone_uri'])
        self.assertEqual(['labhost-a'], values['DEFAULT', 'host'])
        self.assertTrue(os.path.isdir(self.layout.data('nova', 'a',
                                                       'lock')))
        # Idempotent: a second write gives the same file.
        with open(path) as f:
            first = f.read()
        computes.write_conf(self.layout, 'a')
        with open(path) as f:
            self.assertEqual(first, f.read())

    def test_write_conf_extra_lines(self):
        computes.write_conf(
            self.layout, 'b', {'disk_formats': 'raw'}, extra=[
                ('libvirt', 'live_migration_bandwidth', '80'),
                ('v2v', 'not_yet_an_option', '30')])
        values = self._values('b')
        self.assertEqual(['80'], values['libvirt',
                                        'live_migration_bandwidth'])
        # A plain line: not validated against the product's options.
        self.assertEqual(['30'], values['v2v', 'not_yet_an_option'])
        self.assertEqual(['raw'], values['v2v', 'disk_formats'])

    def test_write_conf_stock(self):
        computes.write_conf(self.layout, 'a', {'disk_formats': 'raw'},
                            stock=True)
        values = self._values('a')
        self.assertEqual([computes.STOCK_DRIVER],
                         values['DEFAULT', 'compute_driver'])
        self.assertFalse([k for k in values if k[0] == 'v2v'])

    def test_stock_compute(self):
        argv = computes.command(self.layout, 'a', 1234, stock=True)
        self.assertEqual([self.layout.bin('main', 'python'), '-c',
                          computes.STOCK_COMPUTE], argv[5:8])
        self.assertEqual(self.layout.etc('nova', 'compute-a.conf'),
                         argv[-1])
        # The shim is Nova's driver with one more flag on live (not block)
        # migrations, under the name the configuration gives.
        module, cls = computes.STOCK_DRIVER.split('.')
        self.assertIn("sys.modules['nova.virt.%s'] = module" % module,
                      computes.STOCK_COMPUTE)
        self.assertIn('class %s(driver.LibvirtDriver)' % cls,
                      computes.STOCK_COMPUTE)
        code = compile(computes.STOCK_COMPUTE, '<stock>', 'exec')
        self.assertIn('compute', code.co_names)
        self.assertIn("self._live_migration_flags |= "
                      "libvirt.VIR_MIGRATE_UNSAFE", computes.STOCK_COMPUTE)
        self.assertNotIn('_block_migration_flags', computes.STOCK_COMPUTE)

    def test_clone_uri_per_source_host(self):
        self.assertEqual(
            'qemu:///system?socket=%s/libvirt/from-b/labhost-a-sock'
            % self.layout.run_dir, computes.clone_uri(self.layout, 'b')
            % 'labhost-a')

    def test_relay_command(self):
        # In host a's network namespace (never the root one's), from the
        # socket of host a's compute to host b's libvirtd TCP listener.
        argv = computes.relay_command(self.layout, self.lab, 'a', 'b')
        self.assertEqual(
            ['/usr/bin/nsenter', '--net=/run/netns/nv2v-lab-a', '--',
             '/usr/bin/socat',
             'UNIX-LISTEN:%s/libvirt/from-a/labhost-b-sock,fork,'
             'unlink-early,mode=600' % self.layout.run_dir,
             'TCP:10.77.0.2:16509'], argv)
        self.assertFalse([a for a in argv if a.startswith(('--mount',
                                                           '--uts'))])
        self.assertEqual(
            'TCP:10.77.0.1:16509',
            computes.relay_command(self.layout, self.lab, 'b', 'a')[-1])

    @mock.patch.object(procs, 'wait_ready')
    @mock.patch.object(procs, 'spawn')
    @mock.patch.object(procs, 'alive')
    def test_start_relays(self, alive, spawn, wait_ready):
        state = paths.new_state()
        running = {'pid': 7, 'pgid': 7, 'needle': 'x'}
        state['services']['clone-relay-b-a'] = running
        self.layout.makedirs()
        stale = computes.relay_socket(self.layout, 'a', 'labhost-b')
        os.makedirs(os.path.dirname(stale))
        with open(stale, 'w'):
            pass
        alive.side_effect = lambda record: record is running
        spawn.side_effect = lambda lo, name, argv, needle: {
            'pid': 8, 'pgid': 8, 'argv': argv, 'needle': needle}
        computes.start_relays(self.layout, self.lab, state)
        # Only the relay that did not run, its stale socket removed first.
        self.assertEqual(1, spawn.call_count)
        self.assertFalse(os.path.lexists(stale))
        saved = self.layout.load()['services']
        self.assertEqual(
            computes.relay_command(self.layout, self.lab, 'a', 'b'),
            saved['clone-relay-a-b']['argv'])
        self.assertEqual(stale, saved['clone-relay-a-b']['needle'])
        self.assertEqual(running, saved['clone-relay-b-a'])
        name, record, check, timeout = wait_ready.call_args[0]
        self.assertEqual('clone-relay-a-b', name)
        self.assertFalse(check())
        with open(stale, 'w'):
            pass
        self.assertTrue(check())

    def test_command_enters_mount_uts_and_net(self):
        argv = computes.command(self.layout, 'a', 1234)
        self.assertEqual(['/usr/bin/nsenter', '--mount=/proc/1234/ns/mnt',
                          '--uts=/proc/1234/ns/uts',
                          '--net=/proc/1234/ns/net', '--',
                          self.layout.bin('main', 'nova-v2v-compute'),
                          '--config-file',
                          self.layout.etc('nova', 'nova.conf'),
                          '--config-file',
                          self.layout.etc('nova', 'compute-a.conf')], argv)

    def test_lab_pids_requires_lab(self):
        self.assertRaises(paths.AioError, computes.lab_pids, self.lab)

    @mock.patch.object(lab_hosts, '_pid_alive', return_value=True)
    def test_lab_pids(self, alive):
        self.lab._save({'hosts': {'a': {'pid': 11}, 'b': {'pid': 12}}})
        self.assertEqual({'a': 11, 'b': 12}, computes.lab_pids(self.lab))

    @mock.patch.object(lab_hosts, '_pid_alive', return_value=False)
    def test_lab_pids_dead_libvirtd(self, alive):
        self.lab._save({'hosts': {'a': {'pid': 11}, 'b': {'pid': 12}}})
        self.assertRaises(paths.AioError, computes.lab_pids, self.lab)

    def test_up_requires_control_plane(self):
        self.assertRaises(paths.AioError, computes.up, self.layout,
                          self.lab)

    @mock.patch.object(cprelay, 'start')
    @mock.patch.object(ovn, 'ensure_hosts')
    @mock.patch.object(computes, 'start_relays')
    @mock.patch.object(computes.time, 'sleep')
    @mock.patch.object(identity, 'hypervisors',
                       return_value={'labhost-a': 'up', 'labhost-b': 'up'})
    @mock.patch.object(identity, 'compute_hosts',
                       return_value={'labhost-a': 'up', 'labhost-b': 'up'})
    @mock.patch.object(procs, 'spawn')
    @mock.patch.object(procs, 'alive')
    @mock.patch.object(computes, 'lab_pids',
                       return_value={'a': 11, 'b': 12})
    def test_up(self, lab_pids, alive, spawn, hosts, hypervisors, sleep,
                start_relays, ensure_hosts, cp_start):
        state = paths.new_state()
        state['services']['nova-conductor'] = {'pid': 1, 'pgid': 1}
        self.layout.save(state)
        self.layout.makedirs()
        alive.side_effect = lambda record: record.get('pid') == 1
        spawn.side_effect = lambda lo, name, argv, needle, env: {
            'pid': 5, 'argv': argv, 'needle': needle, 'env': env}
        out = computes.up(self.layout, self.lab,
                          v2v_options={'b': {'disk_formats': 'raw'}},
                          host_extra={'b': [('DEFAULT', 'use_cow_images',
                                             'false')]})
        self.assertEqual({'labhost-a': 'up', 'labhost-b': 'up'},
                         out['computes'])
        saved = self.layout.load()['services']
        self.assertEqual(11, saved['nova-compute-a']['libvirtd_pid'])
        self.assertEqual(self.layout.etc('nova', 'compute-b.conf'),
                         saved['nova-compute-b']['needle'])
        self.assertIn('--mount=/proc/12/ns/mnt',
                      saved['nova-compute-b']['argv'])
        self.assertIn('--net=/proc/12/ns/net',
                      saved['nova-compute-b']['argv'])
        self.assertEqual(['labhost-a', 'labhost-b'],
                         sorted(out['hypervisors']))
        # Host b got its own profile, host a the default one.
        self.assertEqual({'disk_formats': 'raw'},
                         saved['nova-compute-b']['v2v_options'])
        self.assertEqual(['raw'], self._values('b')['v2v', 'disk_formats'])
        self.assertNotIn(('v2v', 'disk_formats'), self._values('a'))
        # And its own Nova options.
        self.assertEqual(['false'],
                         self._values('b')['DEFAULT', 'use_cow_images'])
        self.assertNotIn(('DEFAULT', 'use_cow_images'), self._values('a'))
        self.assertEqual([['DEFAULT', 'use_cow_images', 'false']],
                         saved['nova-compute-b']['extra'])
        # qemu-nbd runs in the lab host's network namespace.
        path = saved['nova-compute-b']['env']['PATH'].split(os.pathsep)
        self.assertEqual(os.path.dirname(computes.nbd_wrapper(self.layout,
                                                              'b')), path[0])
        with open(computes.nbd_wrapper(self.layout, 'b')) as f:
            self.assertIn('exec /usr/bin/nsenter --net=/run/netns/nv2v-lab-b'
                          ' -- /usr/bin/qemu-nbd "$@"', f.read())
        # Nova's ssh and scp reach the other host's mount namespace.
        bindir = os.path.dirname(computes.nbd_wrapper(self.layout, 'a'))
        with open(os.path.join(bindir, 'ssh')) as f:
            text = f.read()
        self.assertIn('10.77.0.2|labhost-b) echo 12 ;;', text)
        self.assertIn('exec /usr/bin/nsenter --mount=/proc/$pid/ns/mnt', text)
        with open(os.path.join(bindir, 'scp')) as f:
            self.assertIn('cp --sparse=always /dev/fd/3 "$target"', f.read())
        # The relays to the destinations' libvirtd start with them.
        start_relays.assert_called_once_with(self.layout, self.lab,
                                             mock.ANY)
        # And the control plane's relays into the hosts.
        cp_start.assert_called_once_with(self.layout, self.lab, mock.ANY)
        # So do the hosts' Open vSwitch and ovn-controller.
        ensure_hosts.assert_called_once_with(self.layout, self.lab,
                                             {'a': 11, 'b': 12})
        discover = self.execute.call_args[0]
        self.assertEqual(['cell_v2', 'discover_hosts', '--verbose'],
                         list(discover[-3:]))

    def test_discover_command(self):
        self.assertEqual([self.layout.bin('main', 'nova-manage'),
                          '--config-file',
                          self.layout.etc('nova', 'nova.conf'), 'cell_v2',
                          'discover_hosts', '--verbose'],
                         computes.discover_command(self.layout))

    @mock.patch.object(procs, 'stop', return_value=True)
    def test_down_only_computes(self, stop):
        state = paths.new_state()
        state['services'] = {'nova-compute-a': {'pid': 5},
                             'nova-conductor': {'pid': 1}}
        self.layout.save(state)
        self.assertEqual({'stopped': ['nova-compute-a']},
                         computes.down(self.layout))
        self.assertEqual(['nova-conductor'],
                         list(self.layout.load()['services']))

    @mock.patch.object(procs, 'stop', return_value=True)
    def test_down_stops_relays_after_computes(self, stop):
        state = paths.new_state()
        state['services'] = {'clone-relay-a-b': {'pid': 7},
                             'cp-relay-a-keystone': {'pid': 8},
                             'nova-compute-a': {'pid': 5},
                             'nova-conductor': {'pid': 1}}
        self.layout.save(state)
        self.assertEqual({'stopped': ['nova-compute-a', 'clone-relay-a-b',
                                      'cp-relay-a-keystone']},
                         computes.down(self.layout))
        self.assertEqual([{'pid': 5}, {'pid': 7}, {'pid': 8}],
                         [c[0][0] for c in stop.call_args_list])
        self.assertEqual(['nova-conductor'],
                         list(self.layout.load()['services']))

    @mock.patch.object(procs, 'stop', return_value=True)
    def test_stack_down_stops_computes_first(self, stop):
        state = paths.new_state()
        state['services'] = {'mariadb': {'pid': 1},
                             'nova-compute-b': {'pid': 6},
                             'nova-compute-a': {'pid': 5}}
        self.layout.save(state)
        out = stack.down(self.layout)
        self.assertEqual(['nova-compute-a', 'nova-compute-b', 'mariadb'],
                         out['stopped'])

    def test_parse_compute_hosts(self):
        body = {'services': [
            {'binary': 'nova-compute', 'host': 'labhost-a', 'state': 'up'},
            {'binary': 'nova-conductor', 'host': 'aio', 'state': 'up'}]}
        self.assertEqual({'labhost-a': 'up'},
                         identity.parse_compute_hosts(body))

    def test_parse_compute_hosts_since(self):
        def body(updated):
            return {'services': [{'binary': 'nova-compute', 'host': 'h',
                                  'state': 'up', 'updated_at': updated}]}
        since = 1795677600.0  # 2026-11-26T07:20:00Z
        self.assertEqual({'h': 'starting'}, identity.parse_compute_hosts(
            body(None), since))
        self.assertEqual({'h': 'starting'}, identity.parse_compute_hosts(
            body('2026-11-26T07:19:59.000000'), since))
        self.assertEqual({'h': 'up'}, identity.parse_compute_hosts(
            body('2026-11-26T07:20:01.000000'), since))


class TestWaitUp(testtools.TestCase):

    def test_retries_until_every_name_is_up(self):
        answers = iter([paths.AioError('not yet'), {'a': 'up', 'b': 'down'},
                        {'a': 'up', 'b': 'up'}])

        def fetch():
            answer = next(answers)
            if isinstance(answer, Exception):
                raise answer
            return answer
        self.assertEqual({'a': 'up', 'b': 'up'},
                         identity.wait_up(fetch, ['a', 'b'], 10, 0, 'x'))

    def test_deadline(self):
        exc = self.assertRaises(paths.AioError, identity.wait_up,
                                lambda: {'a': 'down'}, ['a'], 0.05, 0.01,
                                'nova-compute')
        self.assertIn('nova-compute not up', str(exc))
