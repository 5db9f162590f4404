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

"""``tox -e bench``: run the project's benchmarks.

``python -m nova_v2v_rig.bench [options]``: the migration benchmarks on
the lab (:mod:`nova_v2v_rig.bench.migrations`, needs root);
``python -m nova_v2v_rig.bench filter-cost [options]``: the scheduler
filter's cost per host (:mod:`nova_v2v_rig.bench.filter_cost`);
``python -m nova_v2v_rig.bench drain [options]``: a host drain by
``nova-v2v drain`` against today's ways, on the all-in-one
(:mod:`nova_v2v_rig.bench.drain`, needs root).
"""

import os
import sys


def main(argv=None):
    # The lab runs on native threads, as nova-compute does in Nova 34;
    # tests/__init__.py has applied Nova's patching before this runs.
    if os.environ.get('OS_NOVA_DISABLE_EVENTLET_PATCHING') not in (
            '1', 'true', 'True'):
        sys.stderr.write('run with OS_NOVA_DISABLE_EVENTLET_PATCHING=1 '
                         '(tox -e bench sets it)\n')
        return 2
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['drain']:
        from nova_v2v_rig.bench import drain
        return drain.main(argv[1:])
    if argv[:1] == ['filter-cost']:
        from nova_v2v_rig.bench import filter_cost
        return filter_cost.main(argv[1:])
    from nova_v2v_rig.bench import migrations
    return migrations.main(argv)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
