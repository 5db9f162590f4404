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

"""Nova's own libvirt functional tests, run with the V2V driver.

Everything under this package re-runs upstream Nova functional tests with
``compute_driver = v2v.V2VLibvirtDriver`` (``tox -e nova-regression``), to
show that the V2V driver keeps Nova's behaviour where no V2V is involved.
"""

# Nova's test fixtures need Nova's monkey patching applied before anything
# else is imported (nova/tests/__init__.py does the same).
# autopep8: off
from nova import monkey_patch; monkey_patch.patch()  # noqa
# autopep8: on
