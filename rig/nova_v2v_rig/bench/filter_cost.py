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

"""The cost of V2VMigrationFilter per host, against stock Nova filters.

Runs each filter over the same 1,000 host states in the same process and
reports microseconds per host and the ratio to the baselines: Nova's
``AllHostsFilter`` (the floor: a call per host) and ``ImagePropertiesFilter``
(a stock filter doing comparable per-host work). The per-request lookup of
the instance (one cell database read) is replaced by a fixed answer, so
this measures the per-host planning cost the scheduler pays.
"""

import argparse
import json
import statistics
import sys
import time
from unittest import mock

from nova.compute import task_states
from nova import objects
from nova.scheduler.filters import all_hosts_filter
from nova.scheduler.filters import image_props_filter
from nova.scheduler import host_manager

from nova_v2v.hardware import inspect
from nova_v2v.planning import profile
from nova_v2v.scheduler import filters
from nova_v2v.scheduler import move

MACHINES = ('pc-i440fx-7.2', 'pc-q35-7.2', 'pc-i440fx-8.2', 'pc-q35-8.2')


def _host_states(count):
    states = []
    for i in range(count):
        accel = profile.KVM if i % 4 else profile.TCG
        storage = 'nfs4:srv:/x' if i % 10 == 0 else 'local:%d' % i
        stats = profile.HostProfile(
            hostname='host%d' % i, accelerator=accel, arch='x86_64',
            libvirt_version=9000000, qemu_version=7002000 + i % 3,
            machine_types=MACHINES, cpu_model='Skylake-Server',
            cpu_vendor='Intel', storage_id=storage,
            instances_path='/var/lib/nova/instances').to_stats()
        state = host_manager.HostState('host%d' % i, 'host%d' % i, None)
        state.stats = stats
        state.hypervisor_type = 'QEMU'
        state.hypervisor_version = 7002000
        state.supported_instances = [('x86_64', 'kvm', 'hvm'),
                                     ('x86_64', 'qemu', 'hvm')]
        states.append(state)
    return states


def _spec():
    image = objects.ImageMeta.from_dict({
        'properties': {'hw_architecture': 'x86_64', 'img_hv_type': 'qemu',
                       'hw_vm_mode': 'hvm'}})
    return objects.RequestSpec(instance_uuid='0' * 32, image=image,
                               scheduler_hints={})


def _run(filters_by_name, hosts, spec, rounds):
    """Median seconds per request for each filter, rounds interleaved.

    Each round runs every filter once, so that a change of load on the
    machine during the run touches all of them alike.
    """
    timings = {name: [] for name in filters_by_name}
    passed = {}
    for _ in range(rounds):
        for name, filt in filters_by_name.items():
            start = time.perf_counter()
            passed[name] = len(list(filt.filter_all(hosts, spec)))
            timings[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), passed[name])
            for name, t in timings.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--rounds', type=int, default=30)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args(argv)

    objects.register_all()
    hosts = _host_states(args.hosts)
    spec = _spec()
    source = profile.HostProfile.from_stats('source', dict(
        hosts[1].stats, v2v_host='source', v2v_storage_id='local:src'))
    guest = inspect.guest_from_image_properties(
        {'hw_machine_type': 'pc-i440fx-7.2'}, source.accelerator)
    live_move = move.LiveMove('0' * 32, source, guest)

    with mock.patch.object(filters.V2VMigrationFilter, '_live_move',
                           return_value=live_move):
        results = _run({
            'V2VMigrationFilter': filters.V2VMigrationFilter(),
            'AllHostsFilter': all_hosts_filter.AllHostsFilter(),
            'ImagePropertiesFilter':
                image_props_filter.ImagePropertiesFilter(),
        }, hosts, spec, args.rounds)

    report = {
        'hosts': args.hosts, 'rounds': args.rounds,
        'task_state': task_states.MIGRATING,
        'filters': {
            name: {'us_per_host': round(t / args.hosts * 1e6, 2),
                   'ms_per_request': round(t * 1e3, 2),
                   'hosts_passed': n}
            for name, (t, n) in results.items()},
    }
    v2v_t = results['V2VMigrationFilter'][0]
    report['ratio_to_AllHostsFilter'] = round(
        v2v_t / results['AllHostsFilter'][0], 1)
    report['ratio_to_ImagePropertiesFilter'] = round(
        v2v_t / results['ImagePropertiesFilter'][0], 2)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print('filter cost over %d hosts (median of %d rounds)'
              % (args.hosts, args.rounds))
        for name, row in report['filters'].items():
            print('  %-24s %8.2f us/host %8.2f ms/request  %d passed'
                  % (name, row['us_per_host'], row['ms_per_request'],
                     row['hosts_passed']))
        print('  V2VMigrationFilter / AllHostsFilter        = %sx'
              % report['ratio_to_AllHostsFilter'])
        print('  V2VMigrationFilter / ImagePropertiesFilter = %sx'
              % report['ratio_to_ImagePropertiesFilter'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
