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

"""The committed sample configuration must match the options in the code."""

import os
import tempfile

from oslo_config import cfg
from oslo_config import generator
import testtools

_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
_GENERATOR_CONF = os.path.join(
    _ROOT, 'etc', 'oslo-config-generator', 'nova-v2v.conf')
_SAMPLE = os.path.join(_ROOT, 'etc', 'nova', 'nova-v2v.conf.sample')


class TestConfSample(testtools.TestCase):

    def _generate(self):
        """Run oslo-config-generator in-process with our generator config.

        The namespace and wrap width come from the same file that
        ``tox -e genconfig`` uses; only the output goes to a temp file.
        """
        with tempfile.TemporaryDirectory() as tmp:
            output = os.path.join(tmp, 'nova-v2v.conf.sample')
            conf = cfg.ConfigOpts()
            generator.register_cli_opts(conf)
            conf(['--config-file', _GENERATOR_CONF,
                  '--output-file', output], project='nova-v2v')
            self.assertEqual(['nova_v2v'], conf.namespace)
            generator.generate(conf)
            conf.reset()
            with open(output) as f:
                return f.read()

    def test_sample_is_up_to_date(self):
        generated = self._generate()
        self.assertIn('[v2v]', generated)
        with open(_SAMPLE) as f:
            committed = f.read()
        if committed != generated:
            self.fail('%s is stale: the [v2v] options in nova_v2v/conf/ '
                      'changed. Run "tox -e genconfig" and commit the '
                      'result.' % os.path.relpath(_SAMPLE, _ROOT))
