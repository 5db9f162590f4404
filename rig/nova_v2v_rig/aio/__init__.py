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

"""The all-in-one OpenStack control plane of the gate.

``nova-v2v-aio up|status|down`` runs a real OpenStack control plane on one
machine, everything listening on 127.0.0.1: MariaDB and RabbitMQ from
Debian; keystone, placement, nova-api, nova-conductor, nova-scheduler, a
Neutron API (ML2, no agents) and Glance (file store) from PyPI, in
virtualenvs the tool creates. nova.conf's nova-v2v part is written by
:mod:`nova_v2v.deploy.novaconf`, the code path the devstack plugin uses.

``nova-v2v-aio computes up|down`` then starts (after ``nova-v2v-lab up``)
one nova-compute with the nova-v2v driver per lab host, in that host's
mount, UTS and network namespaces (:mod:`.computes`), the control plane
relayed to it over unix sockets (:mod:`.cprelay`); ``down`` stops them too.

Modules, one concern each: :mod:`.paths` (layout and the state file),
:mod:`.procs` (processes we start, by PID and process group),
:mod:`.packages` (the Debian packages of bindep's ``gate`` profile),
:mod:`.venvs` (the virtualenvs), :mod:`.infra` (MariaDB, RabbitMQ),
:mod:`.config` (every service's configuration files), :mod:`.identity`
(keystone's users, services and endpoints over its API),
:mod:`.services` (database syncs, cells and the OpenStack services) and
:mod:`.computes` (the nova-computes on the lab hosts).
"""
