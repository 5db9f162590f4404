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

"""Keystone's projects, users, roles, services and endpoints.

``keystone-manage bootstrap`` creates the admin project and user, the
RegionOne region and the identity endpoints; the rest is created here over
keystone's API (keystoneauth, no CLI round trips): the ``service``
project, one user per service with the ``admin`` and ``service`` roles
(keystonemiddleware 13 requires the ``service`` role of a service token:
without it neutron answers nova with 401), and the catalog.
"""

import datetime
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
from oslo_log import log as logging

from nova_v2v_rig.aio import config
from nova_v2v_rig.aio import paths

LOG = logging.getLogger(__name__)

SERVICE_PROJECT = 'service'
SERVICE_ROLES = ('admin', 'service')
# (service name, type, base URL) of the catalog; identity is bootstrap's.
CATALOG = (
    ('placement', 'placement', config.url('placement')),
    ('nova', 'compute', config.url('nova-api', '/v2.1')),
    ('neutron', 'network', config.url('neutron-api')),
    ('glance', 'image', config.url('glance-api')),
)
INTERFACES = ('public', 'internal')


def admin_session(passwords):
    auth = v3.Password(auth_url=config.AUTH_URL + '/v3', username='admin',
                       password=passwords['admin'], project_name='admin',
                       user_domain_name='Default',
                       project_domain_name='Default')
    return ks_session.Session(auth=auth)


def bootstrap_args(passwords):
    """``keystone-manage bootstrap`` arguments."""
    identity = config.AUTH_URL + '/v3'
    return ['bootstrap', '--bootstrap-password', passwords['admin'],
            '--bootstrap-admin-url', identity,
            '--bootstrap-internal-url', identity,
            '--bootstrap-public-url', identity,
            '--bootstrap-region-id', paths.REGION]


def endpoint_plan():
    """``(service name, type, interface, url)`` of every endpoint."""
    return [(name, kind, interface, url)
            for name, kind, url in CATALOG for interface in INTERFACES]


class Keystone(object):
    """Idempotent creation of keystone resources over its v3 API."""

    def __init__(self, session):
        self.session = session
        self.base = config.AUTH_URL + '/v3'

    def _get(self, path, key, **filters):
        resp = self.session.get(self.base + path, params=filters)
        return resp.json()[key]

    def ensure(self, path, key, body, **filters):
        """The id of the one resource matching filters, created if none."""
        found = self._get(path, key + 's', **filters)
        if found:
            return found[0]['id']
        resp = self.session.post(self.base + path, json={key: body})
        LOG.info('keystone: created %(key)s %(body)s',
                 {'key': key, 'body': filters})
        return resp.json()[key]['id']

    def ensure_user(self, name, password, project_id):
        user_id = self.ensure('/users', 'user', {
            'name': name, 'password': password, 'domain_id': 'default',
            'default_project_id': project_id}, name=name)
        # Keep it in step with passwords.json on a re-run.
        self.session.patch(self.base + '/users/' + user_id,
                           json={'user': {'password': password}})
        return user_id

    def grant(self, project_id, user_id, role_id):
        self.session.put(self.base + '/projects/%s/users/%s/roles/%s'
                         % (project_id, user_id, role_id))

    def setup(self, passwords):
        project = self.ensure('/projects', 'project', {
            'name': SERVICE_PROJECT, 'domain_id': 'default'},
            name=SERVICE_PROJECT)
        self.ensure('/roles', 'role', {'name': 'service'}, name='service')
        roles = {name: self.ensure('/roles', 'role', {'name': name},
                                   name=name)
                 for name in SERVICE_ROLES}
        for user in config.SERVICE_USERS:
            user_id = self.ensure_user(user, passwords[user], project)
            for role in SERVICE_ROLES:
                self.grant(project, user_id, roles[role])
        services = {}
        for name, kind, url in CATALOG:
            services[kind] = self.ensure('/services', 'service', {
                'name': name, 'type': kind, 'enabled': True}, type=kind)
        for _name, kind, interface, url in endpoint_plan():
            self.ensure('/endpoints', 'endpoint', {
                'service_id': services[kind], 'interface': interface,
                'url': url, 'region_id': paths.REGION},
                service_id=services[kind], interface=interface)


def setup(passwords):
    Keystone(admin_session(passwords)).setup(passwords)


def _nova_get(passwords, path):
    """The JSON body of an admin GET on nova's API."""
    sess = admin_session(passwords)
    try:
        resp = sess.get(path, endpoint_filter={'service_type': 'compute',
                                               'interface': 'public'})
    except ks_exc.ClientException as exc:
        raise paths.AioError('nova-api: %s' % exc)
    return resp.json()


def compute_services(passwords):
    """``{binary: state}`` from nova's os-services (admin)."""
    return parse_services(_nova_get(passwords, '/os-services'))


def compute_hosts(passwords, since=None):
    """``{host: state}`` of the nova-compute services (admin).

    With ``since`` (a UTC POSIX time), a service that has not reported
    after it counts as ``starting``: a restarted compute's record is
    "up" on its old heartbeat for a minute.
    """
    return parse_compute_hosts(
        _nova_get(passwords, '/os-services?binary=nova-compute'), since)


def hypervisors(passwords):
    """``{hypervisor_hostname: state}`` from os-hypervisors (admin)."""
    body = _nova_get(passwords, '/os-hypervisors')
    return {h['hypervisor_hostname']: h['state']
            for h in body.get('hypervisors', [])}


def wait_up(fetch, names, timeout, interval, what):
    """Poll ``fetch() -> {name: state}`` until every name is ``up``.

    A failing fetch (the API not answering yet) is retried until the
    deadline. Returns the last mapping; raises AioError at the deadline.
    """
    deadline = time.monotonic() + timeout
    found = {}
    while time.monotonic() < deadline:
        try:
            found = fetch()
        except paths.AioError as exc:
            LOG.debug('os-services: %s', exc)
        if all(found.get(name) == 'up' for name in names):
            return found
        time.sleep(interval)
    raise paths.AioError('%s not up after %d s: %s' % (what, timeout, found))


def parse_compute_hosts(body, since=None):
    found = {}
    for service in body.get('services', []):
        if service['binary'] != 'nova-compute':
            continue
        state = service['state']
        if since is not None and state == 'up':
            updated = service.get('updated_at')
            when = (datetime.datetime.fromisoformat(updated).replace(
                tzinfo=datetime.timezone.utc).timestamp()
                if updated else None)
            if when is None or when < since:
                state = 'starting'
        found[service['host']] = state
    return found


def parse_services(body):
    return {s['binary']: s['state'] for s in body.get('services', [])}
