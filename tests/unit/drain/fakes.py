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

"""A cloud for the drain's unit tests: servers whose moves take polls."""

import dataclasses

from nova_v2v.drain import cloud as drain_cloud
from nova_v2v.drain import plan as drain_plan
from nova_v2v.planning import profile
from nova_v2v import preflight

GIB = 1 << 30
MIB = 1 << 20


def host_profile(name, **kw):
    values = dict(hostname=name, accelerator='tcg', arch='x86_64',
                  libvirt_version=9000000, qemu_version=7002000,
                  machine_types=('pc', 'pc-i440fx-7.2'), cpu_vendor='Intel',
                  disk_formats=('raw', 'qcow2'), storage_id='local-' + name,
                  images_format='qcow2')
    values.update(kw)
    return profile.HostProfile.from_traits(
        name, profile.HostProfile(**values).traits())


def compute(name, **kw):
    enabled = kw.pop('enabled', True)
    return preflight.Compute(name, enabled=enabled,
                             host_profile=host_profile(name, **kw))


@dataclasses.dataclass
class FakeServer:
    id: str
    name: str
    host: str
    status: str = 'ACTIVE'
    task_state: object = None
    ram_mib: int = 256
    root_gb: int = 1
    image_properties: dict = dataclasses.field(default_factory=dict)
    metadata: dict = dataclasses.field(default_factory=dict)
    # The move in flight: [kind, dest, polls left, migration id]
    move: object = None
    fault: object = None


class FakeCloud(drain_cloud.DrainCloud):
    """A cloud whose moves end after ``polls`` reads of the server.

    ``fail`` makes a server's moves fail (a count of them), ``refuse``
    makes the API refuse them, a ``stuck`` server's live move never
    ends by itself; ``lose_answer``: the request is taken but its answer
    lost (an error); ``queued``: polls a live migration waits queued on
    its source; ``no_record``: a live move Nova lists no migration of;
    ``abort_fail``: aborts refused (a count). A confirm takes a poll, and
    a second one while it runs is refused as Nova refuses it.
    """

    def __init__(self, servers, computes, polls=2):
        self.servers = {s.id: s for s in servers}
        self.computes_list = computes
        self.polls = polls
        self.fail = {}
        self.refuse = set()
        self.stuck = set()
        self.calls = []
        self.service_enabled = True
        self.service_reason = None
        self.next_migration = 100
        self.bandwidth_seen = {}
        self.in_flight_max = 0
        self.gone = set()
        self.lose_answer = set()
        self.queued = {}
        self.no_record = set()
        self.abort_fail = 0
        self.confirming = set()
        self.metadata_quota = set()

    def _in_flight(self):
        return sum(1 for s in self.servers.values() if s.move)

    def servers_on(self, host):
        return [drain_plan.DrainServer(
            server=preflight.Server(id=s.id, name=s.name, host=s.host,
                                    root_gb=s.root_gb,
                                    image_properties=s.image_properties),
            status=s.status, task_state=s.task_state, ram_mib=s.ram_mib)
            for s in self.servers.values()
            if s.host == host and s.id not in self.gone]

    def compute_hosts(self):
        return list(self.computes_list)

    def _tick(self, s):
        if s.id in self.confirming:
            self.confirming.discard(s.id)
            s.status = 'SHUTOFF'
            return
        if not s.move:
            return
        if self.queued.get(s.id):
            self.queued[s.id] -= 1
            return
        kind, dest, left, mid = s.move
        if s.id in self.stuck and kind == 'live' and left != 'abort':
            return
        if left == 'abort':
            s.move = None
            s.task_state = None
            return
        left -= 1
        if left > 0:
            s.move = [kind, dest, left, mid]
            return
        s.move = None
        s.task_state = None
        if self.fail.get(s.id):
            self.fail[s.id] -= 1
            return
        s.host = dest
        if kind == 'cold':
            s.status = 'VERIFY_RESIZE'

    def server(self, server_id):
        self.calls.append(('server', server_id))
        s = self.servers.get(server_id)
        if s is None or server_id in self.gone:
            return None
        self._tick(s)
        return drain_cloud.ServerView(host=s.host, status=s.status,
                                      task_state=s.task_state,
                                      fault=s.fault)

    def migrations_in_progress(self, server_id):
        s = self.servers[server_id]
        if not s.move or s.move[0] != 'live' or server_id in self.no_record:
            return []
        if self.queued.get(server_id):
            return [{'id': s.move[3], 'status': 'queued'}]
        done = self.polls - (s.move[2] if s.move[2] != 'abort' else 0)
        total = s.ram_mib * MIB
        return [{'id': s.move[3], 'status': 'running',
                 'memory_total_bytes': total,
                 'memory_processed_bytes': total * done // self.polls,
                 'memory_remaining_bytes': total - total * done // self.polls,
                 'disk_total_bytes': 0, 'disk_processed_bytes': 0,
                 'disk_remaining_bytes': 0}]

    def last_migration(self, server_id):
        return {'id': self.next_migration - 1, 'status': 'error'}

    def _start(self, server_id, host, kind):
        self.calls.append((kind, server_id, host))
        s = self.servers[server_id]
        if server_id in self.refuse:
            raise drain_cloud.CloudError('409 Conflict')
        if s.task_state:
            raise drain_cloud.CloudError('409 Conflict: task_state %s'
                                         % s.task_state)
        self.next_migration += 1
        s.move = [kind, host, self.polls, self.next_migration]
        s.task_state = 'migrating' if kind == 'live' else 'resize_prep'
        self.bandwidth_seen[server_id] = s.metadata.get(
            'nova-v2v:bandwidth_mib')
        self.in_flight_max = max(self.in_flight_max, self._in_flight())
        if server_id in self.lose_answer:
            self.lose_answer.discard(server_id)
            raise drain_cloud.CloudError('the connection was lost')

    def live_migrate(self, server_id, host):
        self._start(server_id, host, 'live')

    def cold_migrate(self, server_id, host):
        self._start(server_id, host, 'cold')

    def confirm(self, server_id):
        self.calls.append(('confirm', server_id))
        if server_id in self.confirming:
            raise drain_cloud.CloudError('400: Instance has not been resized')
        self.confirming.add(server_id)

    def abort(self, server_id, migration_id):
        self.calls.append(('abort', server_id, migration_id))
        if self.abort_fail:
            self.abort_fail -= 1
            raise drain_cloud.CloudError('503')
        s = self.servers[server_id]
        s.move[2] = 'abort'

    def force_complete(self, server_id, migration_id):
        self.calls.append(('force_complete', server_id, migration_id))
        self.stuck.discard(server_id)

    def set_bandwidth(self, server_id, mib):
        self.calls.append(('set_bandwidth', server_id, mib))
        if server_id in self.metadata_quota:
            raise drain_cloud.CloudError('403: metadata quota')
        self.servers[server_id].metadata['nova-v2v:bandwidth_mib'] = str(mib)

    def clear_bandwidth(self, server_id):
        self.calls.append(('clear_bandwidth', server_id))
        self.servers[server_id].metadata.pop('nova-v2v:bandwidth_mib', None)

    def service(self, host):
        return self.service_enabled, self.service_reason

    def disable(self, host, reason):
        self.calls.append(('disable', host, reason))
        self.service_enabled = False
        self.service_reason = reason
