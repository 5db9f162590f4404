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

"""The Migrations panel's pages: the moves, their refresh, a pre-flight."""

import collections
import logging
import threading

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.views import generic
from horizon import views as horizon_views
from keystoneauth1 import exceptions as ks_exceptions
from novaclient import exceptions as nova_exceptions

from nova_v2v_dashboard import api
from nova_v2v_dashboard import moves

LOG = logging.getLogger(__name__)

# The rate of a move needs two samples: kept per Horizon process.
SAMPLES = moves.Samples()
# The planner's mode and a finished move's facts (why it failed, a
# cutover's downtime), asked once per move.
_SEEN = collections.OrderedDict()
_SEEN_KEEP = 500
_LOCK = threading.Lock()
CLOUD_ERRORS = (ks_exceptions.ClientException,
                nova_exceptions.ClientException)
REFRESH_MS = 2000


def _remember(key, compute):
    """``compute()`` once per key; None (not known yet) is asked again."""
    with _LOCK:
        if key in _SEEN:
            return _SEEN[key]
    value = compute()
    if value is None:
        return None
    with _LOCK:
        _SEEN[key] = value
        while len(_SEEN) > _SEEN_KEEP:
            _SEEN.popitem(last=False)
    return value


def _or_none(func, *args, **kwargs):
    """``func``'s answer, or None when the cloud could not give it.

    One row's mode or reason (a server's image deleted since) must not
    empty the whole panel.
    """
    try:
        return func(*args, **kwargs)
    except CLOUD_ERRORS as exc:
        LOG.info('The Migrations panel could not plan or explain a move: '
                 '%s', exc)
        return None


def _facts(cloud, record, failed):
    """The :class:`moves.ActionFacts` of a finished move's record.

    A server whose actions are gone (deleted, archived) has none to tell:
    that is kept too, not asked again at every refresh.
    """
    try:
        action = cloud.action(record.get('instance_uuid'),
                              record.get('created_at'))
    except nova_exceptions.NotFound:
        action = None
    return moves.facts_of(action, failed)


def move_rows(request):
    """The panel's rows; (rows, error text or None)."""
    try:
        cloud = api.cloud(request)
        migrations = cloud.migrations()
        servers = cloud.servers()
        details = {}
        for record in migrations:
            if (record.get('status') in moves.IN_PROGRESS and
                    record.get('migration_type') == 'live-migration'):
                details.update(cloud.progress(record['instance_uuid']))
        modes = {}
        facts = {}
        for record in migrations[:api.RECENT]:
            key = record.get('uuid')
            status = record.get('status')
            live = record.get('migration_type') == 'live-migration'
            failed = status in moves.FAILED
            if failed or (live and status == 'completed'):
                # Why it failed; a V2V cutover's downtime (and with it
                # its mode). A failed move may never have been planned.
                facts[key] = _remember(('facts', key), lambda: _or_none(
                    _facts, cloud, record, failed))
                if failed or facts[key] and facts[key].downtime:
                    continue
            modes[key] = _remember(('mode', key), lambda: _or_none(
                api.planned_mode, cloud,
                servers.get(record.get('instance_uuid')),
                record.get('source_compute'), record.get('dest_compute'),
                offline=not live))
    except CLOUD_ERRORS as exc:
        LOG.warning('The Migrations panel could not ask the cloud: %s', exc)
        return [], str(exc)
    names = {sid: s.get('name') for sid, s in servers.items()}
    return moves.rows(migrations, names, details, SAMPLES, modes=modes,
                      facts=facts), None


class IndexView(horizon_views.HorizonTemplateView):
    template_name = 'v2v_migrations/index.html'
    page_title = _("Migrations")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['rows'], context['error'] = move_rows(self.request)
        context['refresh_ms'] = REFRESH_MS
        return context


class MovesView(generic.View):
    """The table's body alone, for the page's refresh."""

    def get(self, request, *args, **kwargs):
        rows, error = move_rows(request)
        return HttpResponse(render_to_string(
            'v2v_migrations/_moves.html', {'rows': rows, 'error': error},
            request=request))


class PreflightView(horizon_views.HorizonTemplateView):
    """Where can this server move? The planner's verdict for every host."""

    template_name = 'v2v_migrations/preflight.html'
    page_title = _("Pre-flight")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        wanted = (self.request.GET.get('server') or '').strip()
        context['wanted'] = wanted
        if not wanted:
            return context
        try:
            server, verdicts = api.preflight_of(api.cloud(self.request),
                                                wanted)
        except nova_exceptions.NotFound:
            context['error'] = _('No server named or with the ID "%s".') % (
                wanted)
            return context
        except (CLOUD_ERRORS + (nova_exceptions.NoUniqueMatch,)) as exc:
            context['error'] = str(exc)
            return context
        context['server'] = server
        context['verdicts'] = verdicts
        return context
