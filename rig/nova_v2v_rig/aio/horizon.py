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

"""Horizon in the all-in-one, with nova-v2v's dashboard plugin.

Horizon (the PyPI release of the Nova 34 series, Django as the
constraints pin it) gets a virtualenv of its own, ``horizon``, with the
plugin distribution (``dashboard/``) and nova-v2v (the plugin plans with
its planner). It is configured as devstack configures it: a
``local_settings.py`` and the plugin's ``enabled`` file in
``openstack_dashboard/local/``. Its static files are collected and
compressed offline, and uWSGI serves it (and them) on 127.0.0.1 against
the all-in-one's Keystone. It is one more record in the all-in-one's
state: ``nova-v2v-aio down`` stops it with the rest.
"""

import glob
import os
import secrets
import shutil
import time

from oslo_log import log as logging

from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.aio import services
from nova_v2v_rig.aio import venvs

LOG = logging.getLogger(__name__)

NAME = 'horizon'
PORT = paths.PORTS[NAME]
ENABLED = '_2125_admin_v2v_migrations_panel.py'
READY_TIMEOUT = 180


def url(path='/'):
    return 'http://%s:%d%s' % (paths.HOST, PORT, path)


def dashboard_dir(project=None):
    """The plugin distribution's source (``dashboard/`` of the tree)."""
    return os.path.join(project or venvs.project_dir(), 'dashboard')


def site_packages(layout):
    found = glob.glob(os.path.join(layout.venv(NAME), 'lib', 'python3*',
                                   'site-packages'))
    if not found:
        raise paths.AioError('no site-packages in the %s virtualenv'
                             % NAME)
    return found[0]


def local_dir(layout):
    """Horizon's ``openstack_dashboard/local`` in the virtualenv."""
    return os.path.join(site_packages(layout), 'openstack_dashboard',
                        'local')


def secret_key(layout):
    """Horizon's SECRET_KEY, generated once (mode 0600)."""
    path = layout.etc(NAME, 'secret_key')
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(key)
    return key


def local_settings(layout):
    """The text of ``local_settings.py`` (pure but for the secret key)."""
    data = layout.data(NAME)
    return '\n'.join([
        '# Written by nova-v2v-aio: Horizon against the all-in-one.',
        'DEBUG = False',
        'ALLOWED_HOSTS = [%r, %r]' % (paths.HOST, 'localhost'),
        'SECRET_KEY = %r' % secret_key(layout),
        'OPENSTACK_HOST = %r' % paths.HOST,
        'OPENSTACK_KEYSTONE_URL = %r' % 'http://%s:%d/v3' % (
            paths.HOST, paths.PORTS['keystone']),
        "OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = 'Default'",
        "OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'",
        "OPENSTACK_ENDPOINT_TYPE = 'publicURL'",
        'AVAILABLE_REGIONS = []',
        # One uWSGI process: sessions in files survive its restarts.
        "SESSION_ENGINE = 'django.contrib.sessions.backends.file'",
        'SESSION_FILE_PATH = %r' % os.path.join(data, 'sessions'),
        "CACHES = {'default': {'BACKEND': "
        "'django.core.cache.backends.locmem.LocMemCache'}}",
        'COMPRESS_ENABLED = True',
        'COMPRESS_OFFLINE = True',
        'STATIC_ROOT = %r' % os.path.join(data, 'static'),
        "TIME_ZONE = 'UTC'",
        # No Cinder, Swift or Heat here: Horizon hides their panels.
        "OPENSTACK_NEUTRON_NETWORK = {'enable_router': False, "
        "'enable_quotas': False, 'enable_fip_topology_check': False}",
        '',
    ])


def configure(layout, project=None):
    """Write the settings and enable the plugin; collect static files."""
    local = local_dir(layout)
    os.makedirs(layout.log_dir, exist_ok=True)
    os.makedirs(os.path.join(layout.data(NAME), 'sessions'), exist_ok=True)
    with open(os.path.join(local, 'local_settings.py'), 'w') as f:
        f.write(local_settings(layout))
    enabled = os.path.join(local, 'enabled')
    os.makedirs(enabled, exist_ok=True)
    shutil.copy(os.path.join(dashboard_dir(project), 'nova_v2v_dashboard',
                             'enabled', ENABLED), enabled)
    admin = layout.bin(NAME, 'django-admin')
    env = {'DJANGO_SETTINGS_MODULE': 'openstack_dashboard.settings'}
    for argv in ([admin, 'collectstatic', '--noinput', '--clear', '-v', '0'],
                 [admin, 'compress', '--force']):
        services.run(layout, NAME, argv, env=env)


def command(layout):
    """uWSGI serving Horizon and its collected static files."""
    return [layout.bin(NAME, 'uwsgi'),
            '--http-socket', '%s:%d' % (paths.HOST, PORT),
            '--master', '--processes', '1', '--threads', '4',
            '--enable-threads', '--lazy-apps', '--need-app',
            '--die-on-term', '--buffer-size', '65535',
            '--virtualenv', layout.venv(NAME),
            '--module', 'openstack_dashboard.wsgi:application',
            '--static-map', '/static=%s' % os.path.join(
                layout.data(NAME), 'static'),
            '--procname-prefix-spaced', services.procname(NAME)]


def running(layout):
    state = layout.load() or {}
    record = state.get('services', {}).get(NAME)
    return bool(record and procs.alive(record))


def up(layout, constraints=None, project=None):
    """Horizon on :func:`url`, recorded in the all-in-one's state.

    :returns: ``{'venv': s, 'configure': s, 'ready': s}``
    :raises: paths.AioError when the all-in-one is not up or Horizon does
        not answer
    """
    state = layout.load()
    if not state:
        raise paths.AioError('the all-in-one is not up')
    if running(layout):
        return {'venv': 0.0, 'configure': 0.0, 'ready': 0.0}
    constraints = constraints or venvs.default_constraints()
    took = {'venv': venvs.create(layout, NAME, constraints,
                                 project=project)}
    start = time.monotonic()
    configure(layout, project)
    took['configure'] = round(time.monotonic() - start, 1)
    record = procs.spawn(layout, NAME, command(layout),
                         needle=services.procname(NAME))
    took['ready'] = procs.wait_ready(
        NAME, record, lambda: services.http_answers(PORT),
        timeout=READY_TIMEOUT)
    state = layout.load() or state
    state.setdefault('services', {})[NAME] = record
    layout.save(state)
    LOG.info('Horizon answers on %s', url())
    return took


def down(layout):
    """Stop Horizon (the rest of the all-in-one stays)."""
    state = layout.load() or {}
    record = state.get('services', {}).pop(NAME, None)
    if record is None:
        return False
    if not procs.stop(record):
        raise paths.AioError('could not stop Horizon (pid %s)'
                             % record.get('pid'))
    layout.save(state)
    return True
