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

"""The all-in-one's virtualenvs, created with pip and the constraints.

The virtualenvs under ``<state dir>/venvs``, all installed with the
project's upper-constraints.txt (the Nova 34 series pins, as tox uses):

``main``
    nova 34, keystone, placement, python-openstackclient, osc-placement,
    PyMySQL, uWSGI and nova-v2v itself (the scheduler loads its filter).
``neutron``
    neutron (the same OpenStack series), PyMySQL, uWSGI.
``glance``
    glance and glance_store (the same series), PyMySQL, uWSGI.
``horizon`` (made only when Horizon is asked for)
    horizon (the same series), Django, uWSGI, nova-v2v and its dashboard.

Neutron and Glance get their own virtualenvs: their requirements are
resolved on their own, not against nova's. A virtualenv whose recorded
spec (packages and constraints digest) is unchanged is reused as is.
"""

import concurrent.futures
import hashlib
import json
import os
import shutil
import sys
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v_rig.aio import paths

LOG = logging.getLogger(__name__)

# Versions of the OpenStack series of nova 34.0.0 that the constraints do
# not pin (nova and openstack-placement are pinned there).
UWSGI = 'uWSGI==2.0.31'
PYMYSQL = 'PyMySQL'
PACKAGES = {
    'main': ['nova', 'openstack-placement', 'keystone==30.0.0',
             'python-openstackclient==10.5.0', 'osc-placement==4.9.1',
             PYMYSQL, UWSGI],
    'neutron': ['neutron==29.0.0', PYMYSQL, UWSGI],
    'glance': ['glance==33.0.0', 'glance-store==5.7.0', PYMYSQL, UWSGI],
    # Made on demand (nova_v2v_rig.aio.horizon), with nova-v2v and its
    # dashboard plugin; Django and Horizon's libraries are pinned in the
    # constraints.
    'horizon': ['horizon==27.0.0', 'Django', UWSGI],
}
VENVS = ('main', 'neutron', 'glance')
MARKER = '.nova-v2v-aio.json'


# The nova-v2v tree the ``main`` virtualenv installs (the product the
# computes run), when it is not the tree the rig runs from: a worktree's
# rig can then drive the all-in-one of another tree without rebuilding the
# virtualenv.
PROJECT_ENV = 'NOVA_V2V_AIO_PROJECT'


def project_dir():
    """The source tree of nova-v2v (installed in develop mode).

    The rig lives in its ``rig/`` folder; the computes' virtualenv gets
    the product only, from the tree's root, or from the tree named by
    ``NOVA_V2V_AIO_PROJECT``.
    """
    override = os.environ.get(PROJECT_ENV)
    if override:
        return os.path.abspath(override)
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))


def default_constraints():
    """TOX_CONSTRAINTS_FILE, else the project's upper-constraints.txt."""
    return os.environ.get('TOX_CONSTRAINTS_FILE') or os.path.join(
        project_dir(), 'upper-constraints.txt')


def base_python():
    """The interpreter the virtualenvs are made from (not a venv's)."""
    return getattr(sys, '_base_executable', None) or sys.executable


def _digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def spec(name, constraints, project=None, python=None):
    """What the virtualenv ``name`` holds: recorded in its marker.

    The interpreter is part of it: uWSGI embeds the libpython it was built
    against, so a virtualenv (or a wheel) from another Python 3.11 on the
    same machine (a pyenv one, Debian's) cannot serve.
    """
    packages = list(PACKAGES[name])
    if name == 'main':
        packages += ['-e', project or project_dir()]
    elif name == 'horizon':
        packages += ['-e', project or project_dir(),
                     '-e', os.path.join(project or project_dir(),
                                        'dashboard')]
    return {'packages': packages, 'constraints': _digest(constraints),
            'python': os.path.realpath(python or base_python())}


def pip_cache(layout, python=None):
    """pip's cache for one interpreter: no wheel built for another."""
    key = hashlib.sha256(os.path.realpath(
        python or base_python()).encode()).hexdigest()[:16]
    return layout.data('pip-cache', key)


def commands(layout, name, constraints, python=None, project=None):
    """The argument lists that create the virtualenv ``name``."""
    venv = layout.venv(name)
    return [
        [python or base_python(), '-m', 'venv', '--clear', venv],
        [os.path.join(venv, 'bin', 'pip'), 'install',
         '--disable-pip-version-check', '-c', constraints] +
        spec(name, constraints, project, python)['packages'],
    ]


def _read_marker(venv):
    try:
        with open(os.path.join(venv, MARKER)) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None


def is_current(layout, name, constraints, project=None, python=None):
    return _read_marker(layout.venv(name)) == spec(name, constraints,
                                                   project, python)


def create(layout, name, constraints, python=None, project=None):
    """Create (or reuse) one virtualenv; returns the seconds it took."""
    start = time.monotonic()
    if is_current(layout, name, constraints, project, python):
        LOG.info('virtualenv %s is current', name)
        return 0.0
    log_path = layout.log('venv-' + name)
    with open(log_path, 'w') as log:
        for argv in commands(layout, name, constraints, python, project):
            LOG.info('venv %(name)s: %(cmd)s',
                     {'name': name, 'cmd': ' '.join(argv)})
            try:
                out, err = processutils.execute(
                    *argv, env_variables=dict(
                        os.environ, PIP_CACHE_DIR=pip_cache(layout, python)))
            except processutils.ProcessExecutionError as exc:
                log.write('%s\n%s\n%s\n' % (argv, exc.stdout, exc.stderr))
                raise paths.AioError(
                    'creating the %s virtualenv failed (%s); see %s'
                    % (name, ' '.join(argv[:3]), log_path))
            log.write('%s\n%s\n%s\n' % (argv, out, err))
    with open(os.path.join(layout.venv(name), MARKER), 'w') as f:
        json.dump(spec(name, constraints, project, python), f, indent=2)
    return round(time.monotonic() - start, 1)


def create_all(layout, constraints=None, python=None, project=None):
    """All virtualenvs, in parallel; returns ``{name: seconds}``."""
    constraints = constraints or default_constraints()
    if not os.path.exists(constraints):
        raise paths.AioError('constraints file %s not found (set '
                             'TOX_CONSTRAINTS_FILE)' % constraints)
    os.makedirs(layout.venv_dir, exist_ok=True)
    os.makedirs(layout.log_dir, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(len(VENVS)) as pool:
        futures = {name: pool.submit(create, layout, name, constraints,
                                     python, project)
                   for name in VENVS}
        return {name: future.result() for name, future in futures.items()}


def remove_all(layout):
    shutil.rmtree(layout.venv_dir, ignore_errors=True)
