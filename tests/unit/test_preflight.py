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

import json
from unittest import mock

import fixtures
from keystoneauth1 import exceptions as ks_exceptions
import testtools

from nova_v2v.cmd import check
from nova_v2v.cmd import v2v as v2v_cmd
from nova_v2v.planning import planner
from nova_v2v.planning import profile
from nova_v2v import preflight

U = '11111111-2222-4333-8444-555555555555'


def host(name, accel='tcg', storage=None, **kw):
    values = dict(hostname=name, accelerator=accel, arch='x86_64',
                  libvirt_version=9000000, qemu_version=7002000,
                  machine_types=('pc', 'pc-i440fx-7.2'), cpu_vendor='Intel',
                  disk_formats=('raw', 'qcow2'),
                  storage_id=storage or 'local-' + name,
                  images_format='qcow2')
    values.update(kw)
    # As nova-v2v check sees it: through the traits.
    return profile.HostProfile.from_traits(
        name, profile.HostProfile(**values).traits())


def server(**kw):
    values = dict(id=U, name='vm', host='a', root_gb=1)
    values.update(kw)
    return preflight.Server(**values)


class EvaluateTest(testtools.TestCase):

    def _verdicts(self, computes, **kw):
        return {v.host: v for v in preflight.evaluate(server(**kw),
                                                      computes)}

    def test_local_storage_is_block_live(self):
        v = self._verdicts([preflight.Compute('a', host_profile=host('a')),
                            preflight.Compute('b', host_profile=host('b'))])
        self.assertFalse(v['a'].fits)
        self.assertEqual(['the server runs on this host'], v['a'].reasons)
        self.assertTrue(v['b'].fits)
        self.assertEqual(planner.BLOCK_LIVE, v['b'].mode)
        self.assertIn('live', v['b'].downtime)
        self.assertEqual([('<instances_path>/%s/disk' % U, 'qcow2',
                           'qcow2', 1 << 30)],
                         [(d['path'], d['source_format'], d['dest_format'],
                           d['virtual_size']) for d in v['b'].disks])

    def test_raw_only_destination_converts_live(self):
        v = self._verdicts([
            preflight.Compute('a', host_profile=host('a')),
            preflight.Compute('b', host_profile=host(
                'b', disk_formats=('raw',)))])
        self.assertEqual(planner.BLOCK_LIVE, v['b'].mode)
        self.assertIn('live', v['b'].downtime)
        self.assertEqual('raw', v['b'].disks[0]['dest_format'])
        self.assertIn('converted to raw on the way', v['b'].reasons[1])

    def test_shared_storage_is_shared_live(self):
        v = self._verdicts([
            preflight.Compute('a', host_profile=host('a', storage='nfs')),
            preflight.Compute('b', host_profile=host('b', storage='nfs'))])
        self.assertEqual(planner.SHARED_LIVE, v['b'].mode)
        self.assertEqual([], v['b'].disks)

    def test_other_accelerator_needs_the_cutover(self):
        v = self._verdicts([
            preflight.Compute('a', host_profile=host('a')),
            preflight.Compute('b', host_profile=host('b', accel='kvm'))])
        self.assertEqual(planner.V2V_CUTOVER, v['b'].mode)

    def test_older_hypervisor_as_nova_refuses(self):
        computes = [
            preflight.Compute('a', host_profile=host(
                'a', qemu_version=10000013,
                machine_types=('pc', 'pc-i440fx-7.2', 'pc-i440fx-10.0'))),
            preflight.Compute('b', host_profile=host('b'))]
        v = {x.host: x for x in preflight.evaluate(server(), computes)}
        self.assertFalse(v['b'].fits)
        self.assertEqual(['Nova refuses a live migration to an older '
                          'hypervisor (QEMU 7.2.0 here, 10.0.13 on the '
                          'source) unless [workarounds] '
                          'skip_hypervisor_version_check_on_lm = True'],
                         v['b'].reasons)
        # With Nova's workaround, the planner's word. A server whose image
        # names no machine type runs the source's newest pc-i440fx: the
        # older QEMU lacks it, the guest restarts there.
        v = {x.host: x for x in preflight.evaluate(
            server(), computes, hypervisor_version_check=False)}
        self.assertTrue(v['b'].fits, v['b'].reasons)
        self.assertEqual(planner.V2V_CUTOVER, v['b'].mode)
        self.assertEqual(['the destination does not run machine type '
                          'pc-i440fx-10.0'], v['b'].reasons)
        # One on a machine type both run moves live.
        v = {x.host: x for x in preflight.evaluate(
            server(image_properties={'hw_machine_type': 'pc-i440fx-7.2'}),
            computes, hypervisor_version_check=False)}
        self.assertEqual(planner.BLOCK_LIVE, v['b'].mode)
        # The other way round, nothing to refuse.
        v = {x.host: x for x in preflight.evaluate(server(host='b'),
                                                   computes)}
        self.assertTrue(v['a'].fits, v['a'].reasons)

    def test_refusals(self):
        v = self._verdicts([
            preflight.Compute('a', host_profile=host('a')),
            preflight.Compute('b', enabled=False, host_profile=host('b')),
            preflight.Compute('c', up=False, host_profile=host('c')),
            preflight.Compute('d'),
            preflight.Compute('e', host_profile=host('e', arch='aarch64'))])
        self.assertIn('disabled', v['b'].reasons[0])
        self.assertIn('down', v['c'].reasons[0])
        self.assertIn('publishes no V2V profile', v['d'].reasons[0])
        self.assertFalse(v['e'].fits)
        self.assertEqual(preflight.EXIT_NONE_FITS,
                         preflight.exit_code(list(v.values())))

    def test_cutover_disabled_by_the_options(self):
        verdicts = preflight.evaluate(server(), [
            preflight.Compute('a', host_profile=host('a')),
            preflight.Compute('b', host_profile=host('b', accel='kvm'))],
            options={'allow_cutover': False})
        self.assertFalse(verdicts[1].fits)
        self.assertIn('allow_cutover', verdicts[1].reasons[0])

    def test_source_without_profile(self):
        v = self._verdicts([preflight.Compute('a'),
                            preflight.Compute('b', host_profile=host('b'))])
        self.assertIn('source host a publishes no V2V profile',
                      v['b'].reasons[0])

    def test_only_one_host(self):
        computes = [preflight.Compute('a', host_profile=host('a')),
                    preflight.Compute('b', host_profile=host('b'))]
        self.assertEqual(['b'], [v.host for v in preflight.evaluate(
            server(), computes, only='b')])
        (missing,) = preflight.evaluate(server(), computes, only='zz')
        self.assertIn('no nova-compute service', missing.reasons[0])

    def test_volume_backed_has_no_disk_to_move(self):
        v = self._verdicts([preflight.Compute('a', host_profile=host('a')),
                            preflight.Compute('b', host_profile=host('b'))],
                           volume_backed=True)
        self.assertEqual([], v['b'].disks)

    def test_reports(self):
        verdicts = preflight.evaluate(server(), [
            preflight.Compute('a', host_profile=host('a')),
            preflight.Compute('b', host_profile=host(
                'b', disk_formats=('raw',)))])
        text = preflight.format_text(server(), verdicts)
        self.assertIn('a: cannot: the server runs on this host', text)
        self.assertIn('b: block-live, live', text)
        self.assertIn('converted to raw on the way', text)
        self.assertIn('precreates <instances_path>/%s/disk (qcow2 -> raw, '
                      '1.0 GiB)' % U, text)
        self.assertIn('1 of 2 hosts can take it: b', text)
        data = json.loads(preflight.to_json(server(), verdicts))
        self.assertEqual(['b'], data['fits'])
        self.assertEqual('block-live', data['hosts'][1]['mode'])
        self.assertEqual(U, data['server']['id'])

    def test_reports_cautions(self):
        # Both hosts run TCG on QEMU 7.2: the live state moves, told.
        verdicts = preflight.evaluate(server(), [
            preflight.Compute('a', host_profile=host('a')),
            preflight.Compute('b', host_profile=host('b'))])
        self.assertEqual(planner.BLOCK_LIVE, verdicts[1].mode)
        text = preflight.format_text(server(), verdicts)
        self.assertIn('      caution: QEMU 7.2.0 before 9.0 can lose a TCG '
                      'guest\'s memory writes during a live migration',
                      text)
        data = json.loads(preflight.to_json(server(), verdicts))
        self.assertEqual(list(verdicts[1].cautions),
                         data['hosts'][1]['cautions'])


class FakeCloud(object):

    def __init__(self, traits, services=None):
        self._traits = traits
        self._services = services or {h: (True, True, 'rp-' + h)
                                      for h in traits}

    def server(self, name):
        found = mock.Mock()
        found.to_dict.return_value = {
            'id': U, 'name': name, 'OS-EXT-SRV-ATTR:host': 'a',
            'flavor': {'disk': 1, 'ephemeral': 0},
            'image': {'id': 'img'}}
        return found

    def image_properties(self, image_id):
        return {'hw_disk_bus': 'virtio'}

    def computes(self):
        return self._services

    def traits(self, provider):
        return self._traits[provider[len('rp-'):]]


class CheckCommandTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(check, 'session'))
        self.cloud = FakeCloud({
            'a': sorted(host('a').traits()),
            'b': sorted(profile.HostProfile(
                hostname='b', accelerator='tcg', arch='x86_64',
                disk_formats=('raw',), storage_id='local-b').traits())})
        self.useFixture(fixtures.MockPatchObject(
            check, 'Cloud', return_value=self.cloud))
        self.out = self.useFixture(fixtures.StringStream('stdout')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out))

    def _main(self, *argv):
        return v2v_cmd.main(['check'] + list(argv))

    def test_json(self):
        self.assertEqual(0, self._main('vm', '--json'))
        self.out.seek(0)
        data = json.loads(self.out.read())
        self.assertEqual(['b'], data['fits'])
        self.assertEqual('block-live', data['hosts'][1]['mode'])

    def test_none_fits(self):
        self.cloud._services['b'] = (False, True, 'rp-b')
        self.assertEqual(1, self._main('vm'))
        self.out.seek(0)
        self.assertIn('b: cannot: its nova-compute service is disabled',
                      self.out.read())

    def test_cannot_ask(self):
        check.Cloud.side_effect = ks_exceptions.ConnectFailure('refused')
        self.assertEqual(3, self._main('vm'))
        self.out.seek(0)
        self.assertIn('could not ask the cloud', self.out.read())

    def test_config_file_workaround_reaches_the_hypervisor_check(self):
        conf = self.useFixture(fixtures.TempDir()).path + '/nova.conf'
        for text, checked in (('', True), (
                '[workarounds]\nskip_hypervisor_version_check_on_lm = '
                'True\n', False)):
            with open(conf, 'w') as f:
                f.write(text)
            with mock.patch.object(check.preflight, 'evaluate',
                                   return_value=[]) as evaluate:
                v2v_cmd.main(['--config-file', conf, 'check', 'vm'])
            self.assertIs(checked, evaluate.call_args[1][
                'hypervisor_version_check'])

    def test_novas_option_has_that_name(self):
        from nova.conf import workarounds
        self.assertIn(v2v_cmd.SKIP_HV_CHECK.name,
                      [o.name for o in workarounds.ALL_OPTS])

    def test_config_file_options_reach_the_planner(self):
        with mock.patch.object(check.preflight, 'evaluate',
                               return_value=[]) as evaluate:
            self._main('vm', '--host', 'b')
        self.assertEqual({'allow_cutover': True},
                         {'allow_cutover':
                          evaluate.call_args[0][2]['allow_cutover']})
        self.assertEqual('b', evaluate.call_args[1]['only'])
