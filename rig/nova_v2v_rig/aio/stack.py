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

"""``up``, ``status`` and ``down`` of the all-in-one control plane."""

import concurrent.futures
import shutil
import threading
import time

from oslo_log import log as logging

from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import config
from nova_v2v_rig.aio import identity
from nova_v2v_rig.aio import infra
from nova_v2v_rig.aio import ovn
from nova_v2v_rig.aio import packages
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import procs
from nova_v2v_rig.aio import services
from nova_v2v_rig.aio import venvs

LOG = logging.getLogger(__name__)

# The nova services "up" waits for in os-services.
NOVA_DAEMONS = ('nova-conductor', 'nova-scheduler')


class _Recorder(object):
    """Adds records to the state file as services start (thread-safe)."""

    def __init__(self, layout, state):
        self.layout = layout
        self.state = state
        self.lock = threading.Lock()

    def add(self, name, record):
        with self.lock:
            self.state['services'][name] = record
            self.layout.save(self.state)

    def step(self, name, seconds):
        with self.lock:
            self.state['steps'][name] = round(seconds, 1)
            self.layout.save(self.state)


def _timed(recorder, name, func, *args):
    start = time.monotonic()
    result = func(*args)
    recorder.step(name, time.monotonic() - start)
    return result


def running(state):
    """Names of the recorded services whose group is still alive."""
    return sorted(name for name, record in
                  (state or {}).get('services', {}).items()
                  if procs.alive(record))


def _wait_nova(passwords, timeout=120):
    return identity.wait_up(lambda: identity.compute_services(passwords),
                            NOVA_DAEMONS, timeout, 1, 'nova services')


def up(layout, constraints=None):
    """Start the control plane; refuses if any recorded service runs."""
    alive = running(layout.load())
    if alive:
        raise paths.AioError('the all-in-one is up (%s running); run '
                             '"nova-v2v-aio down" first' % ', '.join(alive))
    start = time.monotonic()
    packages.check()
    layout.makedirs()
    passwords = layout.passwords()
    state = paths.new_state()
    state['started'] = time.time()
    layout.save(state)
    rec = _Recorder(layout, state)
    try:
        _timed(rec, 'venvs', venvs.create_all, layout, constraints)
        _timed(rec, 'config', config.write_all, layout, passwords)
        rec.add('mariadb', _timed(rec, 'mariadb', infra.start_mariadb,
                                  layout, passwords))
        epmd, rabbit = _timed(rec, 'rabbitmq', infra.start_rabbitmq,
                              layout)
        rec.add('epmd', epmd)
        rec.add('rabbitmq', rabbit)
        _timed(rec, 'ovn-central', ovn.start_central, layout, rec.add)
        _timed(rec, 'keystone-db', services.sync, layout, 'keystone',
               passwords)
        rec.add('keystone', _timed(rec, 'keystone', services.start_wsgi,
                                   layout, 'keystone'))
        _timed(rec, 'keystone-resources', identity.setup, passwords)

        def chain(db, names):
            _timed(rec, db + '-db', services.sync, layout, db, passwords)
            for name in names:
                if name in NOVA_DAEMONS + services.NEUTRON_DAEMONS:
                    rec.add(name, services.start_daemon(layout, name))
                else:
                    rec.add(name, _timed(rec, name, services.start_wsgi,
                                         layout, name))

        chains = (('placement', ('placement',)),
                  ('nova', ('nova-api',) + NOVA_DAEMONS),
                  ('neutron', ('neutron-api',) + services.NEUTRON_DAEMONS),
                  ('glance', ('glance-api',)))
        with concurrent.futures.ThreadPoolExecutor(len(chains)) as pool:
            for future in [pool.submit(chain, db, names)
                           for db, names in chains]:
                future.result()
        _timed(rec, 'nova-services-up', _wait_nova, passwords)
    except BaseException:
        LOG.exception('up failed; stopping what it started')
        down(layout)
        raise
    rec.step('total', time.monotonic() - start)
    result = status(layout)
    result['steps'] = state['steps']
    result['openrc'] = layout.openrc
    return result


def status(layout):
    state = layout.load()
    if state is None:
        return {'up': False, 'services': {}}
    result = {}
    for name in paths.SERVICES:
        record = state['services'].get(name)
        if record is None:
            result[name] = {'started': False}
            continue
        alive = procs.alive(record)
        result[name] = {
            'pid': record['pid'], 'alive': alive,
            'port': record.get('port'),
            'port_answers': procs.port_open(record.get('port')),
            'rss_mib': procs.rss_mib(record) if alive else 0,
            'log': record.get('log'),
        }
    return {'up': summarize(result), 'services': result,
            'rss_total_mib': round(sum(s.get('rss_mib', 0)
                                       for s in result.values()), 1)}


def summarize(result):
    """True when every service runs and every port answers."""
    return all(s.get('alive') and s.get('port_answers') is not False
               for s in result.values())


def down(layout, purge=False):
    """Stop what ``up`` recorded, in reverse order; safe to repeat."""
    stopped = computes.down(layout)['stopped']
    stopped += ovn.stop_hosts(layout)
    state = layout.load()
    failed = []
    if state is not None:
        records = state.get('services', {})
        # The computes first (any record not of the control plane).
        order = [n for n in sorted(records) if n not in paths.SERVICES]
        order += [n for n in reversed(paths.SERVICES) if n in records]
        for name in order:
            if procs.stop(records[name]):
                stopped.append(name)
            else:
                failed.append(name)
        if failed:
            raise paths.AioError('could not stop: %s' % ', '.join(failed))
        layout.forget()
    if purge:
        shutil.rmtree(layout.state_dir, ignore_errors=True)
    return {'stopped': stopped, 'purged': bool(purge)}


def bring_up(layout, lab, started, constraints=None):
    """The lab and the all-in-one for a suite, each reused when it is up.

    :param lab: a :class:`nova_v2v_rig.lab.hosts.Lab`
    :param started: a dict: ``'lab'`` and ``'aio'`` become True for what
        this call started, each as soon as it is up (a failure to start
        the all-in-one leaves the lab started to be torn down)
    """
    if not lab.load():
        lab.up(shared=False)
        started['lab'] = True
    if not running(layout.load()):
        up(layout, constraints)
        started['aio'] = True


def tear_down(layout, lab, started_aio, started_lab):
    """Stop what a run started (of the all-in-one, its computes at least)."""
    if started_aio:
        down(layout)
    else:
        computes.down(layout)
    if started_lab:
        lab.down()


def end_suite(layout, lab, started, report, keep=False, down=False,
              first=()):
    """The tear-down at the end of a suite that shares them.

    Unless ``keep``: ``first`` (each called with the layout), then what
    this run started, or everything with ``down`` (the last suite). Its
    time goes to ``report['steps']['down']``, a failure to
    ``report['errors']``.

    :param started: what :func:`bring_up` recorded
    """
    if keep:
        return
    step = time.monotonic()
    try:
        for func in first:
            func(layout)
        tear_down(layout, lab, started.get('aio') or down,
                  started.get('lab') or down)
    except Exception as exc:
        LOG.exception('Tear-down failed')
        report['errors'].append('tear-down: %s' % exc)
    report['steps']['down'] = round(time.monotonic() - step, 1)
