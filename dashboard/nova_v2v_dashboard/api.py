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

"""What the panel asks the cloud: public compute and Placement APIs only.

One keystoneauth1 session per request, on the Horizon user's token, and
the same reads as ``nova-v2v check`` (:class:`nova_v2v.cmd.check.Cloud`):
the planner sees the servers and computes exactly as the command does.
"""

import collections
import dataclasses
import datetime
import logging
import threading

from keystoneauth1.identity import v3
from novaclient import exceptions as nova_exceptions
from openstack_auth import utils as auth_utils

from nova_v2v.cmd import check
from nova_v2v import preflight
from nova_v2v_dashboard import moves

LOG = logging.getLogger(__name__)

# 2.80: the migrations' bytes and project; 2.84: an instance action
# event's details (why a move failed, as Nova recorded it).
COMPUTE_API_VERSION = '2.84'
RECENT = 50
# A move's instance action starts at most this long after its migration
# record is created (the API creates both in one request).
ACTION_SLACK = datetime.timedelta(seconds=10)
MOVE_ACTIONS = ('live-migration', 'migrate', 'resize', 'evacuate')
# One keystoneauth session per token (the panel refreshes every 2 s: a
# session re-authenticates only when its token changes).
_SESSIONS = collections.OrderedDict()
_SESSIONS_KEEP = 20
_SESSIONS_LOCK = threading.Lock()


class Cloud(check.Cloud):
    """``nova-v2v check``'s reads, plus the migrations and their bytes."""

    compute_api_version = COMPUTE_API_VERSION

    def __init__(self, sess, region=None, interface='public'):
        super().__init__(sess, region, interface)
        self._computes = None

    def migrations(self, limit=RECENT):
        """The latest migration records (dicts, with their ``uuid``)."""
        return [m.to_dict() for m in self.nova.migrations.list(limit=limit)]

    def progress(self, server_id):
        """``{migration uuid: server-migration record}`` of moves running."""
        try:
            found = self.nova.server_migrations.list(server_id)
        except nova_exceptions.NotFound:
            return {}
        return {m.uuid: m.to_dict() for m in found}

    def servers(self):
        """``{server id: API record}`` of every project's servers."""
        return {s.id: s.to_dict() for s in self.nova.servers.list(
            detailed=True, search_opts={'all_tenants': True})}

    def planner_computes(self):
        if self._computes is None:
            self._computes = check.computes_of(self)
        return self._computes

    def action(self, server_id, created_at):
        """The instance action of the move created at ``created_at``.

        The server's move action (live migration, migration, resize,
        evacuation) that started closest to its migration record's
        creation, within :data:`ACTION_SLACK`, with its events (a dict),
        or None.
        """
        created = moves.parse_time(created_at)
        if created is None:
            return None
        best = None
        for action in self.nova.instance_action.list(server_id):
            started = moves.parse_time(getattr(action, 'start_time', None))
            if (getattr(action, 'action', None) not in MOVE_ACTIONS or
                    started is None or started > created + ACTION_SLACK or
                    started < created - ACTION_SLACK):
                continue
            if best is None or abs(started - created) < abs(
                    best[0] - created):
                best = (started, action.request_id)
        if best is None:
            return None
        return self.nova.instance_action.get(server_id, best[1]).to_dict()


def _session(request):
    """The keystoneauth1 session of the request's token (kept per token)."""
    token = request.user.token.id
    with _SESSIONS_LOCK:
        sess = _SESSIONS.get(token)
        if sess is not None:
            _SESSIONS.move_to_end(token)
            return sess
    if getattr(request.user, 'system_scoped', False):
        auth = v3.Token(auth_url=request.user.endpoint, token=token,
                        system_scope='all')
    else:
        auth = v3.Token(auth_url=request.user.endpoint, token=token,
                        project_id=request.user.project_id)
    sess = auth_utils.get_session(auth=auth)
    with _SESSIONS_LOCK:
        _SESSIONS[token] = sess
        while len(_SESSIONS) > _SESSIONS_KEEP:
            _SESSIONS.popitem(last=False)
    return sess


def cloud(request):
    """A :class:`Cloud` on the request's token and region.

    :raises: keystoneauth1 exceptions when the token cannot be used
    """
    return Cloud(_session(request),
                 region=getattr(request.user, 'services_region', None))


def planned_mode(cloud, server_record, source, dest, offline=False):
    """The mode the planner chooses to move the server from ``source``.

    :returns: the mode, or ``refused: <reason>``, or None when the server
        is gone
    """
    if not server_record or not source or not dest:
        return None
    server = check.server_of(server_record, cloud.image_properties)
    server = dataclasses.replace(server, host=source)
    verdicts = preflight.evaluate(server, cloud.planner_computes(),
                                  only=dest, offline=offline)
    if not verdicts:
        return None
    verdict = verdicts[0]
    if verdict.fits:
        return verdict.mode
    return 'refused: %s' % '; '.join(verdict.reasons)


def preflight_of(cloud, server_id):
    """(:class:`preflight.Server`, a :class:`preflight.Verdict` per host)."""
    server, computes = check.gather(cloud, server_id)
    return server, preflight.evaluate(server, computes)
