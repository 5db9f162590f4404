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

import testtools

from nova_v2v_rig.bench import drain as bench_drain

MIB = 1 << 20


class SamplerStatsTest(testtools.TestCase):

    def test_mean_of_the_busy_seconds_and_the_peak(self):
        sampler = bench_drain.LinkSampler(lab=None)
        sampler.samples = [(0, 0), (1, 10 * MIB), (2, 30 * MIB),
                           (3, 30 * MIB + 1000)]
        wire, mean, peak = sampler.stats()
        self.assertEqual(30 * MIB + 1000, wire)
        # The idle second (1000 bytes) is not in the mean.
        self.assertEqual(15 * MIB, mean)
        self.assertEqual(20 * MIB, peak)

    def test_too_few_samples(self):
        sampler = bench_drain.LinkSampler(lab=None)
        self.assertEqual((0, None, None), sampler.stats())


class MarkdownTest(testtools.TestCase):

    def test_table(self):
        data = {'meta': {'date': 'd', 'servers': 6, 'flavors': 'f',
                         'link': 'l'},
                'runs': [{'variant': 'nova-v2v drain --bandwidth',
                          'from': 'a', 'to': 'b', 'total_s': 60.0,
                          'servers_per_hour': 360.0,
                          'wire_bytes': 2048 * MIB, 'link_mean_mib_s': 31.0,
                          'link_peak_mib_s': 33.0, 'bandwidth_mib': 32,
                          'records_lost': 0, 'crashed': [{'name': 'g'}]}],
                'failed': [{'variant': 'x', 'error': 'boom'}]}
        text = bench_drain.markdown(data)
        self.assertIn('| nova-v2v drain --bandwidth | a | b | 60.0 | 360.0 '
                      '| 2048 | 31.0 | 33.0 | 32 | 0 | 1 |', text)
        self.assertIn('FAILED x: boom', text)
