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

"""MariaDB and RabbitMQ, started as processes the all-in-one owns.

Both come from Debian (bindep.txt, profile ``gate``) but none of their
system services is used: MariaDB runs with its own my.cnf and datadir
under the state dir, RabbitMQ (and epmd, started first so that RabbitMQ
does not daemonize its own) with its own environment and HOME. All of
them listen on 127.0.0.1 only.
"""

import os

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.aio import config
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs

LOG = logging.getLogger(__name__)

MARIADBD = '/usr/sbin/mariadbd'
MARIADB_INSTALL_DB = '/usr/bin/mariadb-install-db'
MARIADB = '/usr/bin/mariadb'
EPMD = '/usr/bin/epmd'
RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'


def my_cnf_path(layout):
    return layout.etc('mysql', 'my.cnf')


def install_db_command(layout):
    # --defaults-file must come first.
    return [MARIADB_INSTALL_DB, '--defaults-file=%s' % my_cnf_path(layout),
            '--skip-test-db', '--auth-root-authentication-method=socket']


def mariadbd_command(layout):
    return [MARIADBD, '--defaults-file=%s' % my_cnf_path(layout)]


def mysql_command(layout, sql):
    return [MARIADB, '--defaults-file=%s' % my_cnf_path(layout),
            '--protocol=socket', '-e', sql]


def _quote(text):
    return "'%s'" % text.replace('\\', '\\\\').replace("'", "\\'")


def databases_sql(passwords):
    """The databases and the one account the services use."""
    user = config.DB_USER
    sql = []
    for host in ('127.0.0.1', 'localhost'):
        account = '%s@%s' % (_quote(user), _quote(host))
        sql.append('CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s'
                   % (account, _quote(passwords['db'])))
        sql.append('ALTER USER %s IDENTIFIED BY %s'
                   % (account, _quote(passwords['db'])))
        for name in config.DATABASES:
            sql.append('GRANT ALL PRIVILEGES ON `%s`.* TO %s'
                       % (name, account))
    for name in config.DATABASES:
        sql.insert(0, 'CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET '
                      'utf8mb3' % name)
    return ';\n'.join(sql + ['FLUSH PRIVILEGES']) + ';'


def start_mariadb(layout, passwords):
    """Initialize the datadir once, start mariadbd; returns its record."""
    datadir = layout.data('mysql')
    if not os.path.isdir(os.path.join(datadir, 'mysql')):
        LOG.info('Initializing the MariaDB datadir %s', datadir)
        processutils.execute(*install_db_command(layout))
    record = procs.spawn(layout, 'mariadb', mariadbd_command(layout),
                         needle='mariadbd')
    sock = os.path.join(layout.run_dir, 'mysqld.sock')
    record['ready_seconds'] = procs.wait_ready(
        'mariadb', record,
        lambda: os.path.exists(sock) and procs.port_open(record['port']))
    processutils.execute(*mysql_command(layout, databases_sql(passwords)))
    return record


def epmd_command():
    return [EPMD, '-address', '127.0.0.1', '-port',
            str(paths.PORTS['epmd'])]


def start_rabbitmq(layout):
    """epmd, then RabbitMQ; returns their records."""
    env = config.rabbitmq_env(layout)
    os.makedirs(env['HOME'], exist_ok=True)
    epmd = procs.spawn(layout, 'epmd', epmd_command(), needle='epmd',
                       env=env)
    epmd['ready_seconds'] = procs.wait_ready(
        'epmd', epmd, lambda: procs.port_open(epmd['port']))
    rabbit = procs.spawn(layout, 'rabbitmq', [RABBITMQ_SERVER],
                         needle='rabbitmq', env=env)
    rabbit['ready_seconds'] = procs.wait_ready(
        'rabbitmq', rabbit, lambda: procs.port_open(rabbit['port']),
        timeout=90)
    return epmd, rabbit
