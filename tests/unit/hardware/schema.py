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

"""libvirt's own domain schema, for the translator's tests.

The RelaxNG schema libvirt installs (``/usr/share/libvirt/schemas``, from
the libvirt0 package that bindep's default profile brings with
libvirt-dev) is the one ``virt-xml-validate`` uses.  A missing schema
fails the tests: it is never a skip.
"""

import functools
import glob
import os

from lxml import etree

SCHEMA_DIR = os.environ.get('NOVA_V2V_LIBVIRT_SCHEMAS',
                            '/usr/share/libvirt/schemas')
FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'sources')


@functools.lru_cache(maxsize=1)
def domain_schema():
    path = os.path.join(SCHEMA_DIR, 'domain.rng')
    if not os.path.exists(path):
        raise AssertionError('libvirt\'s domain schema %s is missing: '
                             'install libvirt0 (bindep.txt)' % path)
    return etree.RelaxNG(etree.parse(path))


def schema_errors(xml):
    """None when ``xml`` is a valid libvirt domain, else the errors."""
    schema = domain_schema()
    doc = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    if schema.validate(doc):
        return None
    return '; '.join('%s:%s %s' % (e.line, e.column, e.message)
                     for e in schema.error_log)


def source_fixtures():
    """{name: xml text} of the source definitions under fixtures/."""
    result = {}
    for path in sorted(glob.glob(os.path.join(FIXTURES, '*.xml'))):
        with open(path) as f:
            result[os.path.basename(path)[:-4]] = f.read()
    return result
