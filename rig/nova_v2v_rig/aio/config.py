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

"""Configuration files of every all-in-one service, as data and text.

Each ``*_conf`` function returns the ``(section, key, value)`` lines of
one file (the format of :mod:`nova_v2v.deploy.novaconf`); :func:`write_all`
renders them under ``<state dir>/etc``. nova.conf's nova-v2v part
(the scheduler filter) is then written by
:func:`nova_v2v.deploy.novaconf.apply`, the code path of the devstack
plugin; everything else (database, transport_url, keystone_authtoken,
placement, neutron, glance, service_user) is generated here.
"""

import os
import shutil

from nova_v2v.deploy import novaconf
from nova_v2v_rig.aio import ovn
from nova_v2v_rig.aio import paths

AUTH_URL = 'http://%s:%d' % (paths.HOST, paths.PORTS['keystone'])
DB_USER = 'openstack'
RABBIT_USER = 'openstack'
NOVA_HOST = 'aio'
# The novaconf role of the control plane's nova.conf: the scheduler's
# filter. The computes get their own files (role "compute") later.
NOVACONF_ROLE = 'scheduler'
DATABASES = ('keystone', 'placement', 'nova_api', 'nova', 'nova_cell0',
             'neutron', 'glance')
# Service -> the keystone user it authenticates as.
SERVICE_USERS = ('nova', 'placement', 'neutron', 'glance')


def url(service, path=''):
    return 'http://%s:%d%s' % (paths.HOST, paths.PORTS[service], path)


def db_url(passwords, database):
    return 'mysql+pymysql://%s:%s@%s:%d/%s?charset=utf8' % (
        DB_USER, passwords['db'], paths.HOST, paths.PORTS['mariadb'],
        database)


def transport_url(passwords):
    return 'rabbit://%s:%s@%s:%d/' % (RABBIT_USER, passwords['rabbit'],
                                      paths.HOST, paths.PORTS['rabbitmq'])


def _auth(section, user, password, token_middleware=False):
    lines = [
        (section, 'auth_type', 'password'),
        (section, 'auth_url', AUTH_URL),
        (section, 'project_domain_name', 'Default'),
        (section, 'user_domain_name', 'Default'),
        (section, 'project_name', 'service'),
        (section, 'username', user),
        (section, 'password', password),
        (section, 'region_name', paths.REGION),
    ]
    if token_middleware:
        lines.insert(0, (section, 'www_authenticate_uri', AUTH_URL))
    return lines


def _lock_path(layout, service):
    return [('oslo_concurrency', 'lock_path',
             layout.data(service, 'lock'))]


# -- infrastructure ---------------------------------------------------------

def my_cnf(layout):
    """MariaDB's own option file: its datadir, socket, 127.0.0.1."""
    data = layout.data('mysql')
    sock = os.path.join(layout.run_dir, 'mysqld.sock')
    return [
        ('client', 'socket', sock),
        ('client', 'user', 'root'),
        ('mysqld', 'user', 'root'),
        ('mysqld', 'datadir', data),
        ('mysqld', 'socket', sock),
        ('mysqld', 'pid-file', os.path.join(layout.run_dir, 'mysqld.pid')),
        ('mysqld', 'bind-address', paths.HOST),
        ('mysqld', 'port', str(paths.PORTS['mariadb'])),
        ('mysqld', 'skip-name-resolve', '1'),
        ('mysqld', 'log-error', layout.log('mariadb-error')),
        ('mysqld', 'character-set-server', 'utf8mb3'),
        ('mysqld', 'collation-server', 'utf8mb3_general_ci'),
        ('mysqld', 'max_connections', '500'),
        ('mysqld', 'innodb_buffer_pool_size', '128M'),
        ('mysqld', 'innodb_flush_log_at_trx_commit', '2'),
    ]


def rabbitmq_conf(passwords):
    """rabbitmq.conf (new style): AMQP on 127.0.0.1, its own user."""
    return [
        ('listeners.tcp.1', '%s:%d' % (paths.HOST, paths.PORTS['rabbitmq'])),
        ('default_user', RABBIT_USER),
        ('default_pass', passwords['rabbit']),
        ('log.console', 'true'),
        ('log.file', 'false'),
    ]


def rabbitmq_env(layout):
    """The environment of RabbitMQ and its CLI: own HOME, 127.0.0.1.

    The Erlang distribution listeners (server and CLI) and epmd are bound
    to 127.0.0.1 too; HOME holds the Erlang cookie that server and CLI
    must share.
    """
    base = layout.data('rabbitmq')
    dist = '-kernel inet_dist_use_interface {127,0,0,1}'
    return {
        'HOME': base,
        'RABBITMQ_HOME': '/usr/lib/rabbitmq',
        'RABBITMQ_NODENAME': 'rabbit@localhost',
        'RABBITMQ_NODE_IP_ADDRESS': paths.HOST,
        'RABBITMQ_NODE_PORT': str(paths.PORTS['rabbitmq']),
        'RABBITMQ_DIST_PORT': '25672',
        'RABBITMQ_CONFIG_FILE': layout.etc('rabbitmq', 'rabbitmq.conf'),
        'RABBITMQ_CONF_ENV_FILE': layout.etc('rabbitmq',
                                             'rabbitmq-env.conf'),
        'RABBITMQ_ENABLED_PLUGINS_FILE': layout.etc('rabbitmq',
                                                    'enabled_plugins'),
        'RABBITMQ_MNESIA_BASE': os.path.join(base, 'mnesia'),
        'RABBITMQ_LOG_BASE': layout.log_dir,
        'RABBITMQ_LOGS': '-',
        'RABBITMQ_PID_FILE': os.path.join(layout.run_dir, 'rabbitmq.pid'),
        'ERL_EPMD_ADDRESS': paths.HOST,
        'ERL_EPMD_PORT': str(paths.PORTS['epmd']),
        'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS': dist,
        'RABBITMQ_CTL_ERL_ARGS': dist,
    }


# -- OpenStack services -----------------------------------------------------

def keystone_conf(layout, passwords):
    return [
        ('database', 'connection', db_url(passwords, 'keystone')),
        ('token', 'provider', 'fernet'),
        ('fernet_tokens', 'key_repository',
         layout.data('keystone', 'fernet-keys')),
        ('credential', 'key_repository',
         layout.data('keystone', 'credential-keys')),
    ]


def placement_conf(layout, passwords):
    return ([
        ('placement_database', 'connection',
         db_url(passwords, 'placement')),
        ('api', 'auth_strategy', 'keystone'),
    ] + _auth('keystone_authtoken', 'placement', passwords['placement'],
              True))


def nova_conf(layout, passwords):
    """nova.conf without its nova-v2v part (see :func:`write_nova`)."""
    lines = [
        ('DEFAULT', 'host', NOVA_HOST),
        ('DEFAULT', 'my_ip', paths.HOST),
        ('DEFAULT', 'state_path', layout.data('nova')),
        ('DEFAULT', 'transport_url', transport_url(passwords)),
        ('api', 'auth_strategy', 'keystone'),
        ('api_database', 'connection', db_url(passwords, 'nova_api')),
        ('database', 'connection', db_url(passwords, 'nova')),
        ('wsgi', 'api_paste_config', layout.etc('nova', 'api-paste.ini')),
        ('conductor', 'workers', '1'),
        ('scheduler', 'workers', '1'),
        # Only formats image URLs until Glance answers there (it does):
        # without it a build fails with EndpointNotFound (image).
        ('glance', 'api_servers', url('glance-api')),
        ('service_user', 'send_service_user_token', 'true'),
        # As in a rolling upgrade: the conductor lets a guest move back to
        # an older hypervisor, where the planner says it can (the gate's
        # upgrade stage); hosts of one version are not concerned.
        ('workarounds', 'skip_hypervisor_version_check_on_lm', 'true'),
    ]
    lines += _auth('keystone_authtoken', 'nova', passwords['nova'], True)
    lines += _auth('placement', 'placement', passwords['placement'])
    lines += _auth('neutron', 'neutron', passwords['neutron'])
    lines += _auth('service_user', 'nova', passwords['nova'])
    lines += _lock_path(layout, 'nova')
    return lines


def neutron_conf(layout, passwords):
    """neutron.conf: ML2 (:func:`ml2_conf`) and OVN's L3 plugin.

    Port status and data changes go to Nova (``network-vif-plugged``,
    ``-unplugged``), as the nova user of the service project.
    """
    lines = [
        ('DEFAULT', 'core_plugin', 'ml2'),
        ('DEFAULT', 'service_plugins', 'ovn-router'),
        ('DEFAULT', 'auth_strategy', 'keystone'),
        ('DEFAULT', 'api_paste_config', layout.etc('neutron',
                                                   'api-paste.ini')),
        ('DEFAULT', 'state_path', layout.data('neutron')),
        ('DEFAULT', 'transport_url', transport_url(passwords)),
        ('DEFAULT', 'notify_nova_on_port_status_changes', 'true'),
        ('DEFAULT', 'notify_nova_on_port_data_changes', 'true'),
        ('database', 'connection', db_url(passwords, 'neutron')),
    ]
    lines += _auth('keystone_authtoken', 'neutron', passwords['neutron'],
                   True)
    lines += _auth('nova', 'nova', passwords['nova'])
    lines += _lock_path(layout, 'neutron')
    return lines


def ml2_conf():
    """ML2/OVN, as devstack deploys it, on the all-in-one's OVN.

    The gate's network is flat on ``physnet1`` (the lab hosts' ``br-prov``,
    nova_v2v_rig.aio.ovn); geneve stays the tenant type ML2/OVN expects.
    No metadata agent (``ovn_metadata_enabled = false``): OVN's native DHCP
    gives the guests their addresses.

    ``ovs_create_tap`` keeps Neutron 29's default (true): Nova 34 has
    os-vif create the guest's tap before libvirt starts QEMU (Nova
    2026.1's tap pre-creation) and delete it at the unplug; os-vif checks
    for the device in nova-compute's own process, which runs in its lab
    host's network namespace (nova_v2v_rig.aio.computes).
    """
    return [
        ('ml2', 'type_drivers', 'flat,geneve'),
        ('ml2', 'tenant_network_types', 'geneve'),
        ('ml2', 'mechanism_drivers', 'ovn'),
        ('ml2', 'extension_drivers', 'port_security'),
        ('ml2', 'overlay_ip_version', '4'),
        ('ml2_type_flat', 'flat_networks', ovn.PHYSNET),
        ('ml2_type_geneve', 'vni_ranges', '1:65536'),
        ('ml2_type_geneve', 'max_header_size', '38'),
        ('ovn', 'ovn_nb_connection', ovn.tcp_db('nb')),
        ('ovn', 'ovn_sb_connection', ovn.tcp_db('sb')),
        ('ovn', 'ovn_metadata_enabled', 'false'),
        ('ovn', 'enable_distributed_floating_ip', 'false'),
        # The maintenance worker brings the northbound database back in
        # line with neutron's at its start (one that was lost, or older).
        ('ovn', 'neutron_sync_mode', 'repair'),
    ]


def glance_conf(layout, passwords):
    lines = [
        ('DEFAULT', 'enabled_backends', 'fs:file'),
        ('database', 'connection', db_url(passwords, 'glance')),
        ('paste_deploy', 'flavor', 'keystone'),
        ('glance_store', 'default_backend', 'fs'),
        ('fs', 'filesystem_store_datadir',
         layout.data('glance', 'images') + '/'),
        ('os_glance_staging_store', 'filesystem_store_datadir',
         layout.data('glance', 'staging') + '/'),
        ('os_glance_tasks_store', 'filesystem_store_datadir',
         layout.data('glance', 'tasks') + '/'),
    ]
    lines += _auth('keystone_authtoken', 'glance', passwords['glance'],
                   True)
    lines += _lock_path(layout, 'glance')
    return lines


def openrc(passwords):
    """The admin credentials for the ``openstack`` CLI, as shell text."""
    env = [
        ('OS_AUTH_URL', AUTH_URL + '/v3'),
        ('OS_IDENTITY_API_VERSION', '3'),
        ('OS_USERNAME', 'admin'),
        ('OS_PASSWORD', passwords['admin']),
        ('OS_PROJECT_NAME', 'admin'),
        ('OS_USER_DOMAIN_NAME', 'Default'),
        ('OS_PROJECT_DOMAIN_NAME', 'Default'),
        ('OS_REGION_NAME', paths.REGION),
        ('OS_INTERFACE', 'public'),
    ]
    return ''.join('export %s=%s\n' % pair for pair in env)


def render(entries):
    return novaconf.format_ini(entries)


def render_flat(pairs):
    """``key = value`` lines without sections (rabbitmq.conf)."""
    return ''.join('%s = %s\n' % pair for pair in pairs)


# Files under <state dir>/etc: relative path -> (layout, passwords) -> text.
FILES = {
    'mysql/my.cnf': lambda lo, pw: render(my_cnf(lo)),
    'rabbitmq/rabbitmq.conf': lambda lo, pw: render_flat(rabbitmq_conf(pw)),
    'rabbitmq/rabbitmq-env.conf': lambda lo, pw: '',
    'rabbitmq/enabled_plugins': lambda lo, pw: '[].\n',
    'keystone/keystone.conf': lambda lo, pw: render(keystone_conf(lo, pw)),
    'placement/placement.conf':
        lambda lo, pw: render(placement_conf(lo, pw)),
    'nova/nova.conf': lambda lo, pw: render(nova_conf(lo, pw)),
    'neutron/neutron.conf': lambda lo, pw: render(neutron_conf(lo, pw)),
    'neutron/ml2_conf.ini': lambda lo, pw: render(ml2_conf()),
    'glance/glance-api.conf': lambda lo, pw: render(glance_conf(lo, pw)),
    'admin-openrc': lambda lo, pw: openrc(pw),
}
# Paste files shipped in the virtualenvs: etc path -> (venv, venv path).
PASTE_FILES = {
    'nova/api-paste.ini': ('main', 'etc/nova/api-paste.ini'),
    'neutron/api-paste.ini': ('neutron', 'etc/neutron/api-paste.ini'),
    'glance/glance-api-paste.ini': ('glance',
                                    'etc/glance/glance-api-paste.ini'),
}
DATA_DIRS = ('mysql', 'rabbitmq', 'keystone', 'nova/lock', 'neutron/lock',
             'glance/lock', 'glance/images', 'glance/staging',
             'glance/tasks', 'placement')


def _write(path, text, mode=0o640):
    """Write ``text`` to ``path`` at once (a renamed file), with ``mode``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                 mode)
    # Whatever the umask, and a leftover .tmp's mode.
    os.fchmod(fd, mode)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.rename(path + '.tmp', path)


def write_nova(layout, passwords):
    """nova.conf: the generated base, then novaconf's nova-v2v lines."""
    path = layout.etc('nova', 'nova.conf')
    _write(path, FILES['nova/nova.conf'](layout, passwords))
    return novaconf.apply(path, NOVACONF_ROLE)


def write_all(layout, passwords):
    """Write every file; returns the paths written."""
    written = []
    for rel, make in sorted(FILES.items()):
        if rel == 'nova/nova.conf':
            write_nova(layout, passwords)
        else:
            _write(layout.etc(rel), make(layout, passwords))
        written.append(layout.etc(rel))
    for rel, (venv, source) in sorted(PASTE_FILES.items()):
        src = os.path.join(layout.venv(venv), source)
        if not os.path.exists(src):
            raise paths.AioError('%s is missing from the %s virtualenv'
                                 % (source, venv))
        os.makedirs(os.path.dirname(layout.etc(rel)), exist_ok=True)
        shutil.copyfile(src, layout.etc(rel))
        written.append(layout.etc(rel))
    for rel in DATA_DIRS:
        os.makedirs(layout.data(rel), exist_ok=True)
    return written
