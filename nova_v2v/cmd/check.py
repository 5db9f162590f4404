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

"""``nova-v2v check SERVER [--host HOST] [--json]``: where can it move?

Authenticates like every OpenStack client (keystoneauth1: the ``OS_*``
variables or ``--os-*`` options, or ``--os-cloud`` from ``clouds.yaml``),
reads the server, its image's properties and the compute services through
the compute and image APIs, and each compute's V2V profile from the traits
its resource provider carries in Placement; then
:mod:`nova_v2v.preflight` plans the move to each host.

Exit status: 0 some host can take the server, 1 none can, 2 bad usage,
3 the cloud could not be asked (authentication, an API error).
"""

import os

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from novaclient import client as nova_client
from novaclient import exceptions as nova_exceptions

from nova_v2v.planning import profile
from nova_v2v import preflight

COMPUTE_API_VERSION = '2.80'
PLACEMENT_API_VERSION = 'placement 1.6'


class CannotAsk(Exception):
    """The cloud could not be asked."""


def add_arguments(parser, argv):
    parser.add_argument('server', help='name or ID of the server')
    parser.add_argument('--host', help='only this compute host')
    parser.add_argument('--json', action='store_true',
                        help='the report as JSON')
    add_auth_arguments(parser, argv)


def add_auth_arguments(parser, argv):
    """keystoneauth1's options, ``--os-cloud``, region and interface."""
    parser.add_argument('--os-cloud', default=os.environ.get('OS_CLOUD'),
                        help='a cloud of clouds.yaml (default: $OS_CLOUD)')
    parser.add_argument('--os-region-name',
                        default=os.environ.get('OS_REGION_NAME'))
    parser.add_argument('--os-interface',
                        default=os.environ.get('OS_INTERFACE', 'public'))
    ks_loading.register_session_argparse_arguments(parser)
    ks_loading.register_auth_argparse_arguments(parser, argv,
                                                default='password')


def session(args):
    """A keystoneauth1 session from clouds.yaml or the OS_* settings."""
    if args.os_cloud:
        try:
            from openstack import config as os_config
        except ImportError:
            raise CannotAsk('--os-cloud needs openstacksdk (clouds.yaml); '
                            'or use the OS_* variables')
        cloud = os_config.OpenStackConfig().get_one(args.os_cloud)
        return cloud.get_session()
    try:
        auth = ks_loading.load_auth_from_argparse_arguments(args)
    except ks_exceptions.ClientException as exc:
        raise CannotAsk('authentication settings: %s' % exc)
    return ks_loading.load_session_from_argparse_arguments(args, auth=auth)


class Cloud(object):
    """The reads ``check`` makes, through one keystoneauth1 session."""

    # The compute API's microversion of the reads (a subclass may ask for
    # a later one).
    compute_api_version = COMPUTE_API_VERSION

    def __init__(self, sess, region=None, interface='public'):
        self.sess = sess
        self.filter = {'region_name': region, 'interface': interface}
        self.nova = nova_client.Client(self.compute_api_version, session=sess,
                                       region_name=region,
                                       endpoint_type=interface)

    def _get(self, service_type, path, headers=None):
        response = self.sess.get(
            path, headers=headers or {},
            endpoint_filter=dict(self.filter, service_type=service_type))
        return response.json()

    def server(self, name_or_id):
        try:
            found = self.nova.servers.get(name_or_id)
        except nova_exceptions.NotFound:
            found = self.nova.servers.find(name=name_or_id)
        return found

    def image_properties(self, image_id):
        if not image_id:
            return {}
        image = self._get('image', '/v2/images/%s' % image_id)
        return {k: str(v) for k, v in image.items() if k.startswith('hw_')}

    def computes(self):
        """``{host: (enabled, up, resource provider uuid)}``."""
        services = {s.host: s for s in
                    self.nova.services.list(binary='nova-compute')}
        providers = {}
        for hyp in self.nova.hypervisors.list(detailed=True):
            host = getattr(hyp, 'service', {}).get('host')
            if host:
                providers.setdefault(host, hyp.id)
        return {host: (s.status == 'enabled', s.state == 'up',
                       providers.get(host))
                for host, s in services.items()}

    def traits(self, provider):
        if not provider:
            return []
        body = self._get('placement', '/resource_providers/%s/traits'
                         % provider,
                         headers={'OpenStack-API-Version':
                                  PLACEMENT_API_VERSION})
        return body.get('traits', [])


def server_of(info, image_properties):
    """The :class:`preflight.Server` of a server's API record (a dict).

    :param image_properties: ``f(image id) -> {hw_* property: value}``
    """
    flavor = info.get('flavor') or {}
    image = info.get('image') or {}
    image_id = image.get('id') if isinstance(image, dict) else None
    return preflight.Server(
        id=info['id'], name=info.get('name', ''),
        host=info.get('OS-EXT-SRV-ATTR:host') or '',
        root_gb=int(flavor.get('disk') or 0),
        ephemeral_gb=int(flavor.get('ephemeral') or 0),
        image_properties=image_properties(image_id),
        volume_backed=not image_id)


def computes_of(cloud):
    """Every compute as a :class:`preflight.Compute`, with its profile."""
    computes = []
    for host, (enabled, up, provider) in sorted(cloud.computes().items()):
        computes.append(preflight.Compute(
            host=host, enabled=enabled, up=up,
            host_profile=profile.HostProfile.from_traits(
                host, cloud.traits(provider))))
    return computes


def gather(cloud, name_or_id):
    """(:class:`preflight.Server`, [:class:`preflight.Compute`])."""
    found = cloud.server(name_or_id)
    return (server_of(found.to_dict(), cloud.image_properties),
            computes_of(cloud))


def run(args, options=None, hypervisor_version_check=True):
    """Print the report; the exit status.

    :param options: the planner's options (``[v2v]`` of ``--config-file``)
    :param hypervisor_version_check: as Nova's conductor checks hypervisor
        versions (not ``[workarounds]
        skip_hypervisor_version_check_on_lm`` of ``--config-file``)
    """
    try:
        cloud = Cloud(session(args), args.os_region_name, args.os_interface)
        server, computes = gather(cloud, args.server)
    except CannotAsk as exc:
        print('nova-v2v check: %s' % exc)
        return preflight.EXIT_CANNOT_ASK
    except (ks_exceptions.ClientException,
            nova_exceptions.ClientException) as exc:
        print('nova-v2v check: could not ask the cloud: %s' % exc)
        return preflight.EXIT_CANNOT_ASK
    verdicts = preflight.evaluate(
        server, computes, options, only=args.host,
        hypervisor_version_check=hypervisor_version_check)
    if args.json:
        print(preflight.to_json(server, verdicts))
    else:
        print(preflight.format_text(server, verdicts))
    return preflight.exit_code(verdicts)
