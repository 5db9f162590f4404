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

"""The cloud's side of ``nova-v2v import``: its REST calls, the upload.

:class:`Cloud` extends :class:`nova_v2v.cmd.check.Cloud` (one
keystoneauth1 session; Nova through novaclient) with the calls the import
makes: Glance and Neutron through the session's raw REST calls.
:class:`Upload` streams the converted disk to Glance with its length,
and :func:`check_stored` checks what Glance stored against what was sent.

A create whose answer was lost (a connection lost, a timeout, a 5xx: the
cloud may have made it anyway) is looked for by the run's ID
(:data:`nova_v2v.exports.plan.PROP_RUN`) and what it made recorded, to
be deleted with the rest: :func:`create_recorded`.
"""

import hashlib
import os
import re
import time

from keystoneauth1 import exceptions as ks_exceptions
from novaclient import exceptions as nova_exceptions
from oslo_log import log as logging

from nova_v2v.cmd import check
from nova_v2v.exports import plan as import_plan

LOG = logging.getLogger(__name__)

COMPUTE_API_VERSION = check.COMPUTE_API_VERSION
CHUNK = 1024 * 1024
POLL_SECONDS = 2.0
# Looks for what a create whose answer was lost may have made: an API
# still at it when the connection went makes it a little later.
LOOKUPS = 3


# The errors of the import's steps: raised here, and by the steps of
# nova_v2v.cmd.importer (a wait timed out, the server went to ERROR).
class ImportFailed(Exception):
    """A step of the import failed."""


class StepTimeout(ImportFailed):
    """A resource did not become ready in time."""


class ServerFailed(ImportFailed):
    """The server went to ERROR."""


class ImageFailed(ImportFailed):
    """The image could not be created, uploaded, or did not go active."""


def _sleep(seconds):
    time.sleep(seconds)


class Cloud(check.Cloud):
    """The calls ``import`` makes, through one keystoneauth1 session."""

    def _ep(self, service_type):
        return dict(self.filter, service_type=service_type)

    def flavors(self):
        return [import_plan.Flavor(
            id=str(f.id), name=f.name, vcpus=int(f.vcpus), ram=int(f.ram),
            disk=int(f.disk or 0),
            is_public=bool(getattr(f, 'os-flavor-access:is_public', True)))
            for f in self.nova.flavors.list(is_public=None)]

    def networks(self):
        body = self.sess.get('/v2.0/networks',
                             endpoint_filter=self._ep('network')).json()
        return [import_plan.Network(id=n['id'], name=n.get('name') or '')
                for n in body.get('networks', [])]

    def create_image(self, image):
        body = dict(image.properties, name=image.name,
                    disk_format=image.disk_format,
                    container_format=image.container_format,
                    min_disk=image.min_disk)
        return self.sess.post('/v2/images', json=body,
                              endpoint_filter=self._ep('image')).json()['id']

    def upload_image(self, image_id, body):
        """Upload ``body`` (an :class:`Upload`) as the image's data."""
        self.sess.put('/v2/images/%s/file' % image_id, data=body,
                      headers={'Content-Type': 'application/octet-stream'},
                      endpoint_filter=self._ep('image'))

    def image_record(self, image_id):
        """The image's record (``status``, ``size``, ``os_hash_*``)."""
        return self.sess.get('/v2/images/%s' % image_id,
                             endpoint_filter=self._ep('image')).json()

    def image_status(self, image_id):
        return self.image_record(image_id).get('status')

    def delete_image(self, image_id):
        self.sess.delete('/v2/images/%s' % image_id,
                         endpoint_filter=self._ep('image'))

    def find_images(self, run_id):
        """The IDs of the images of the import run ``run_id``."""
        body = self.sess.get('/v2/images',
                             params={import_plan.PROP_RUN: run_id},
                             endpoint_filter=self._ep('image')).json()
        # Checked here too: a Glance that ignored the filter lists others.
        return [i['id'] for i in body.get('images', [])
                if i.get(import_plan.PROP_RUN) == run_id]

    def create_port(self, network_id, mac, name, description):
        port = {'network_id': network_id, 'name': name,
                'description': description}
        if mac:
            port['mac_address'] = mac
        return self.sess.post('/v2.0/ports', json={'port': port},
                              endpoint_filter=self._ep('network')
                              ).json()['port']['id']

    def delete_port(self, port_id):
        self.sess.delete('/v2.0/ports/%s' % port_id,
                         endpoint_filter=self._ep('network'))

    def find_ports(self, name, description):
        """The IDs of the ports of this name and description."""
        query = {'name': name, 'description': description}
        body = self.sess.get('/v2.0/ports', params=query,
                             endpoint_filter=self._ep('network')).json()
        return [p['id'] for p in body.get('ports', [])
                if (p.get('name'), p.get('description')) == (name,
                                                             description)]

    def create_server(self, name, image_id, flavor_id, port_ids,
                      metadata=None):
        # A guest without a NIC: 'none' (a list is required since
        # microversion 2.37, and an empty one is refused).
        kwargs = {'meta': metadata} if metadata else {}
        server = self.nova.servers.create(
            name, image_id, flavor_id,
            nics=[{'port-id': p} for p in port_ids] or 'none', **kwargs)
        return server.id

    def find_servers(self, name, run_id):
        """The IDs of the servers named ``name`` of the run ``run_id``."""
        # Nova's name filter is a regular expression.
        found = self.nova.servers.list(
            search_opts={'name': '^%s$' % re.escape(name)})
        return [s.id for s in found if s.name == name and (
            getattr(s, 'metadata', None) or {}).get(
                import_plan.PROP_RUN) == run_id]

    def server_status(self, server_id):
        """``(status, fault message)``; ``(None, None)`` once gone."""
        try:
            server = self.nova.servers.get(server_id)
        except nova_exceptions.NotFound:
            return None, None
        fault = getattr(server, 'fault', None) or {}
        return server.status, fault.get('message')

    def delete_server(self, server_id):
        self.nova.servers.delete(server_id)


class Upload(object):
    """A file as a request body of known length, reporting progress.

    Sent with its ``Content-Length``, not chunked: an image API behind
    uWSGI without ``http-chunked-input``, or with its 1 MiB
    ``chunked-input-limit``, refuses chunked uploads.
    """

    def __init__(self, path, progress):
        self._file = open(path, 'rb')
        self.total = os.fstat(self._file.fileno()).st_size
        self.done = 0
        self._progress = progress
        # Glance's default os_hash_algo: what it stored is checked after.
        self.sha512 = hashlib.sha512()

    def __len__(self):
        return self.total

    def read(self, size=-1):
        data = self._file.read(size if size and size > 0 else CHUNK)
        self.sha512.update(data)
        self.done += len(data)
        self._progress.bytes('uploading', self.done, self.total)
        return data

    def close(self):
        self._file.close()


def check_stored(image, body):
    """What Glance stored is what was sent: its size, and its hash.

    :returns: a note where Glance keeps no SHA-512 to check, else None
    :raises: ImageFailed
    """
    if image.get('size') is not None and image['size'] != body.done:
        raise ImageFailed('image %s holds %s bytes, not the %d sent'
                          % (image.get('id'), image['size'], body.done))
    if image.get('os_hash_algo') == 'sha512' and image.get('os_hash_value'):
        if image['os_hash_value'] != body.sha512.hexdigest():
            raise ImageFailed('image %s does not hold the data sent: its '
                              'SHA-512 differs' % image.get('id'))
        return None
    return ('the image\'s data was not checked against Glance\'s hash '
            '(its os_hash_algo is %s)' % image.get('os_hash_algo'))


def _maybe_created(exc):
    """Whether the cloud may have made what a create failing so asked.

    The request may have reached the API before the connection was lost
    or the answer timed out (keystoneauth1 raises ConnectFailure and
    ConnectTimeout for both), a proxy may answer 5xx for an API still at
    it, and Ctrl-C may come while the answer is awaited.
    """
    if isinstance(exc, (KeyboardInterrupt, ks_exceptions.ConnectionError,
                        ks_exceptions.RetriableConnectionFailure,
                        ks_exceptions.HttpServerError)):
        return True
    code = getattr(exc, 'code', None)
    return (isinstance(exc, nova_exceptions.ClientException) and
            isinstance(code, int) and code >= 500)


def create_recorded(kind, create, find, ledger, progress):
    """``create()``'s ID, added to ``ledger``.

    :param find: ``() -> [ID]``: what ``create`` made, by this run's
        marker; called when ``create`` failed so that the cloud may have
        made it (:func:`_maybe_created`), and what it finds is added to
        ``ledger`` to be cleaned up
    :raises: what ``create`` raised
    """
    try:
        ident = create()
    except (Exception, KeyboardInterrupt) as exc:
        if _maybe_created(exc):
            _adopt(kind, find, ledger, progress, exc)
        raise
    ledger.add(kind, ident)
    return ident


def _adopt(kind, find, ledger, progress, exc):
    """What a create that lost its answer made, in ``ledger``; best effort."""
    for attempt in range(LOOKUPS):
        if attempt:
            _sleep(POLL_SECONDS)
        try:
            found = [i for i in find() if (kind, i) not in ledger.items]
        except Exception as lookup:
            LOG.warning('Could not look for the %(kind)s a failed create '
                        'may have made: %(exc)s',
                        {'kind': kind, 'exc': lookup})
            progress.line('could not look for the %s the failed create '
                          'may have made: %s' % (kind, lookup))
            ledger.unfound.append(kind)
            return
        for ident in found:
            ledger.add(kind, ident)
            progress.line('%s %s was made although its create failed (%s)'
                          % (kind, ident, type(exc).__name__))
        if found:
            return
    ledger.unfound.append(kind)
