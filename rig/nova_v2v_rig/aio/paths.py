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

"""Where the all-in-one keeps things, and its state file.

Everything lives under one state dir (``/var/lib/nova-v2v-aio``): data,
logs, virtualenvs, and the configuration files under ``etc/`` (nothing is
written to ``/etc``). ``state.json`` records what ``up`` started (name,
PID, process group, port), so that ``down`` stops exactly that.
"""

import json
import os
import secrets

from nova_v2v_rig.lab import hosts as lab_hosts

DEFAULT_STATE_DIR = '/var/lib/nova-v2v-aio'
HOST = '127.0.0.1'
REGION = 'RegionOne'

# Service name -> TCP port on 127.0.0.1 (None: no port of its own).
PORTS = {
    'mariadb': 3306,
    'epmd': 4369,
    'rabbitmq': 5672,
    # ML2/OVN's central databases (nova_v2v_rig.aio.ovn).
    'ovn-nb': 6641,
    'ovn-sb': 6642,
    'ovn-northd': None,
    'keystone': 5000,
    'placement': 8778,
    'nova-api': 8774,
    'neutron-api': 9696,
    'neutron-ovn-maintenance-worker': None,
    'glance-api': 9292,
    'nova-conductor': None,
    'nova-scheduler': None,
    'horizon': 8090,
}
# Started on demand (nova_v2v_rig.aio.horizon), not by "up"; "down" stops
# them with the rest.
ON_DEMAND = ('horizon',)
# The order "up" starts them in; "down" stops them in reverse.
SERVICES = ('mariadb', 'epmd', 'rabbitmq', 'ovn-nb', 'ovn-sb', 'ovn-northd',
            'keystone', 'placement', 'nova-api', 'neutron-api',
            'neutron-ovn-maintenance-worker', 'glance-api', 'nova-conductor',
            'nova-scheduler')
# Passwords (generated once, kept in etc/passwords.json).
ACCOUNTS = ('admin', 'db', 'rabbit', 'nova', 'placement', 'neutron',
            'glance')


class AioError(Exception):
    """An all-in-one step failed; the message says what to do."""


class Layout(object):
    """The paths of an all-in-one under ``state_dir``."""

    def __init__(self, state_dir=DEFAULT_STATE_DIR):
        self.state_dir = os.path.abspath(state_dir)
        self.etc_dir = os.path.join(self.state_dir, 'etc')
        self.log_dir = os.path.join(self.state_dir, 'log')
        self.run_dir = os.path.join(self.state_dir, 'run')
        self.data_dir = os.path.join(self.state_dir, 'data')
        self.venv_dir = os.path.join(self.state_dir, 'venvs')
        self.state_file = os.path.join(self.state_dir, 'state.json')
        self.passwords_file = os.path.join(self.etc_dir, 'passwords.json')
        self.openrc = os.path.join(self.etc_dir, 'admin-openrc')

    def etc(self, *parts):
        return os.path.join(self.etc_dir, *parts)

    def data(self, *parts):
        return os.path.join(self.data_dir, *parts)

    def log(self, name):
        return os.path.join(self.log_dir, name + '.log')

    def venv(self, name):
        return os.path.join(self.venv_dir, name)

    def bin(self, venv, command):
        return os.path.join(self.venv(venv), 'bin', command)

    def makedirs(self):
        for path in (self.etc_dir, self.log_dir, self.run_dir,
                     self.data_dir, self.venv_dir):
            os.makedirs(path, exist_ok=True)

    # -- state file -------------------------------------------------------
    def load(self):
        """The recorded state, or None when nothing is up."""
        try:
            with open(self.state_file) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def save(self, state):
        lab_hosts.save_json(self.state_file, state)

    def forget(self):
        try:
            os.unlink(self.state_file)
        except FileNotFoundError:
            pass

    # -- secrets ----------------------------------------------------------
    def passwords(self):
        """``{account: password}``, generated on first use, mode 0600."""
        try:
            with open(self.passwords_file) as f:
                found = json.load(f)
        except FileNotFoundError:
            found = {}
        if all(name in found for name in ACCOUNTS):
            return found
        for name in ACCOUNTS:
            found.setdefault(name, secrets.token_hex(12))
        os.makedirs(self.etc_dir, exist_ok=True)
        fd = os.open(self.passwords_file + '.tmp',
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            json.dump(found, f, indent=2, sort_keys=True)
        os.rename(self.passwords_file + '.tmp', self.passwords_file)
        return found


def new_state():
    return {'services': {}, 'steps': {}}
