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

"""The OpenStack services: database syncs, cells, processes.

keystone, placement, nova-api, the Neutron API and Glance run under uWSGI
(master and one worker of 4 threads, ``Connection: close`` on every answer:
uWSGI's ``--http-socket`` closes kept-alive sockets that keystoneauth
would reuse, "Connection reset by peer"); nova-conductor and
nova-scheduler run as they are, with ``workers = 1`` in nova.conf.
"""

import http.client
import os

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.aio import config
from nova_v2v_rig.aio import identity
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs

LOG = logging.getLogger(__name__)

NEUTRON_WSGI = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            'neutron_wsgi.py')


class WsgiApp(object):
    """One uWSGI service: venv, application and its environment."""

    def __init__(self, name, venv, module=None, wsgi_file=None, env=None):
        self.name = name
        self.venv = venv
        self.module = module
        self.wsgi_file = wsgi_file
        self.env = env or {}


def wsgi_apps(layout):
    nova_dir = layout.etc('nova')
    return {
        'keystone': WsgiApp('keystone', 'main', 'keystone.wsgi.api', env={
            'OS_KEYSTONE_CONFIG_DIR': layout.etc('keystone'),
            'OS_KEYSTONE_CONFIG_FILES': 'keystone.conf'}),
        'placement': WsgiApp('placement', 'main', 'placement.wsgi.api',
                             env={'OS_PLACEMENT_CONFIG_DIR':
                                  layout.etc('placement')}),
        # nova's wsgi_app takes the *first* file as the paste file.
        'nova-api': WsgiApp('nova-api', 'main', 'nova.wsgi.osapi_compute',
                            env={'OS_NOVA_CONFIG_DIR': nova_dir,
                                 'OS_NOVA_CONFIG_FILES':
                                 'api-paste.ini;nova.conf'}),
        'neutron-api': WsgiApp('neutron-api', 'neutron',
                               wsgi_file=NEUTRON_WSGI, env={
                                   'OS_NEUTRON_CONFIG_DIR':
                                   layout.etc('neutron'),
                                   'OS_NEUTRON_CONFIG_FILES':
                                   'neutron.conf;ml2_conf.ini'}),
        'glance-api': WsgiApp('glance-api', 'glance', 'glance.wsgi.api',
                              env={'OS_GLANCE_CONFIG_DIR':
                                   layout.etc('glance')}),
    }


def procname(name):
    """uWSGI's process title prefix: the needle of its processes."""
    return 'nova-v2v-aio-' + name


def uwsgi_command(layout, app):
    argv = [layout.bin(app.venv, 'uwsgi'),
            '--http-socket', '%s:%d' % (paths.HOST, paths.PORTS[app.name]),
            '--master', '--processes', '1', '--threads', '4',
            '--enable-threads', '--lazy-apps', '--need-app',
            '--die-on-term', '--buffer-size', '65535',
            '--add-header', 'Connection: close',
            '--virtualenv', layout.venv(app.venv),
            '--procname-prefix-spaced', procname(app.name)]
    if app.wsgi_file:
        argv += ['--wsgi-file', app.wsgi_file]
    else:
        argv += ['--module', '%s:application' % app.module]
    return argv


NEUTRON_DAEMONS = ('neutron-ovn-maintenance-worker',)


def daemon_command(layout, binary):
    if binary in NEUTRON_DAEMONS:
        return [layout.bin('neutron', binary),
                '--config-file', layout.etc('neutron', 'neutron.conf'),
                '--config-file', layout.etc('neutron', 'ml2_conf.ini')]
    return [layout.bin('main', binary), '--config-file',
            layout.etc('nova', 'nova.conf')]


# -- one-shot commands ------------------------------------------------------

def db_commands(layout, service, passwords):
    """The argument lists that create or upgrade a service's schema."""
    etc = layout.etc
    nova = ['--config-file', etc('nova', 'nova.conf')]
    if service == 'keystone':
        manage = [layout.bin('main', 'keystone-manage'), '--config-file',
                  etc('keystone', 'keystone.conf')]
        return [manage + ['db_sync'],
                manage + ['fernet_setup', '--keystone-user', 'root',
                          '--keystone-group', 'root'],
                manage + ['credential_setup', '--keystone-user', 'root',
                          '--keystone-group', 'root'],
                manage + identity.bootstrap_args(passwords)]
    if service == 'placement':
        return [[layout.bin('main', 'placement-manage'), '--config-file',
                 etc('placement', 'placement.conf'), 'db', 'sync']]
    if service == 'nova':
        manage = [layout.bin('main', 'nova-manage')] + nova
        return [manage + ['api_db', 'sync'],
                manage + ['cell_v2', 'map_cell0', '--database_connection',
                          config.db_url(passwords, 'nova_cell0')],
                # Exit code 2: cell1 exists already (a re-run).
                manage + ['cell_v2', 'create_cell', '--name', 'cell1'],
                manage + ['db', 'sync']]
    if service == 'neutron':
        return [[layout.bin('neutron', 'neutron-db-manage'),
                 '--config-file', etc('neutron', 'neutron.conf'),
                 '--config-file', etc('neutron', 'ml2_conf.ini'),
                 'upgrade', 'heads']]
    if service == 'glance':
        return [[layout.bin('glance', 'glance-manage'), '--config-file',
                 etc('glance', 'glance-api.conf'), 'db_sync']]
    raise ValueError('no database for %r' % service)


def run(layout, name, argv, ok_codes=(0,), env=None):
    """One command, its output appended to log/<name>-manage.log.

    :param env: variables added to the command's environment
    """
    LOG.info('%(name)s: %(cmd)s', {'name': name,
                                   'cmd': ' '.join(_masked(argv))})
    path = layout.log(name + '-manage')
    try:
        out, err = processutils.execute(
            *argv, check_exit_code=list(ok_codes), cwd=layout.state_dir,
            env_variables=dict(os.environ, **env) if env else None)
    except processutils.ProcessExecutionError as exc:
        with open(path, 'a') as log:
            log.write('%s\n%s\n%s\n' % (_masked(argv), exc.stdout,
                                        exc.stderr))
        raise paths.AioError('%s failed (exit %s); see %s\n%s' % (
            ' '.join(_masked(argv)[:4]), exc.exit_code, path,
            '\n'.join((exc.stderr or '').splitlines()[-8:])))
    with open(path, 'a') as log:
        log.write('%s\n%s\n%s\n' % (_masked(argv), out, err))


def _masked(argv):
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == '--bootstrap-password':
            out[i + 1] = '***'
        if arg == '--database_connection':
            out[i + 1] = '***'
    return out


def sync(layout, service, passwords):
    for argv in db_commands(layout, service, passwords):
        codes = (0, 2) if 'create_cell' in argv else (0,)
        run(layout, service, argv, codes)


# -- long-running services --------------------------------------------------

def start_wsgi(layout, name):
    app = wsgi_apps(layout)[name]
    # uWSGI rewrites its processes' titles: "<procname> uWSGI master".
    record = procs.spawn(layout, name, uwsgi_command(layout, app),
                         needle=procname(name), env=app.env)
    record['ready_seconds'] = procs.wait_ready(
        name, record, lambda: http_answers(record['port']), timeout=120)
    return record


def start_daemon(layout, binary):
    return procs.spawn(layout, binary, daemon_command(layout, binary),
                       needle=binary)


def http_answers(port):
    """True when something answers HTTP on 127.0.0.1:port."""
    conn = http.client.HTTPConnection(paths.HOST, port, timeout=5)
    try:
        conn.request('GET', '/')
        return conn.getresponse().status < 500
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
