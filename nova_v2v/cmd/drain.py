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

"""``nova-v2v drain HOST``: every server off a compute host, within limits.

Authenticates as ``nova-v2v check`` does (keystoneauth1: ``OS_*`` or
``--os-cloud``), as an admin: it lists every project's servers on the
host and asks for their migrations through the compute API
(:class:`ApiCloud`); :mod:`nova_v2v.drain` plans, schedules, follows and
reports them.

Exit status: 0 the host runs no server any more, 1 some stay (refused,
skipped, failed: see the report), 2 bad usage, 3 the cloud could not be
asked (the state is kept: the same command goes on), 4 another drain of
the host runs, 130 interrupted (Ctrl-C: the same command goes on).
"""

import argparse
import functools
import json
import signal
import sys

from keystoneauth1 import exceptions as ks_exceptions
from novaclient import exceptions as nova_exceptions

from nova_v2v.cmd import check
from nova_v2v.drain import cloud as drain_cloud
from nova_v2v.drain import plan as drain_plan
from nova_v2v.drain import progress
from nova_v2v.drain import report as drain_report
from nova_v2v.drain import runner
from nova_v2v.drain import schedule
from nova_v2v.drain import state as drain_state
from nova_v2v.transfer import tuning

EXIT_EMPTY = 0
EXIT_NOT_EMPTY = 1
EXIT_USAGE = 2
EXIT_CANNOT_ASK = 3
EXIT_BUSY = 4
EXIT_INTERRUPTED = 130
# [v2v] min_migration_bandwidth's default: a smaller share is raised to it.
MIN_SHARE = 8


def add_arguments(parser, argv):
    parser.add_argument('host', help='the compute host to empty')
    parser.add_argument('--disable', action='store_true',
                        help='disable its nova-compute service first (no '
                             'new server is scheduled there)')
    parser.add_argument('--reason', default='nova-v2v drain',
                        help='the disabled service\'s reason')
    parser.add_argument('--parallel', type=int, default=2, metavar='N',
                        help='moves in flight at once (default 2; the '
                             'source compute runs [DEFAULT] '
                             'max_concurrent_live_migrations of them at '
                             'once, the others wait there)')
    parser.add_argument('--per-destination', type=int, metavar='N',
                        help='moves in flight to one host at once '
                             '(default: --parallel)')
    parser.add_argument('--bandwidth', type=int, default=0, metavar='MiB/s',
                        help='for the whole drain, shared among the live '
                             'moves in flight (the server\'s %s metadata, '
                             'read by nova-v2v computes; default 0: no '
                             'limit)' % tuning.BANDWIDTH_KEY)
    parser.add_argument('--force-complete-after', type=float,
                        metavar='SECONDS',
                        help='force a live move that runs longer to '
                             'complete (Nova pauses the guest, or switches '
                             'to post-copy where it is permitted)')
    parser.add_argument('--allow-cutover', action='store_true',
                        help='move servers that only a V2V cutover can move '
                             '(the guest restarts once)')
    parser.add_argument('--order', choices=drain_plan.ORDERS,
                        default='cheapest',
                        help='cheapest: the least disruptive first (live '
                             'and cold moves, then V2V cutovers), the '
                             'fewest bytes first (default); largest: the '
                             'most bytes first; name')
    parser.add_argument('--to', action='append', default=[], metavar='HOST',
                        help='only this destination (repeatable; default: '
                             'any host the planner accepts)')
    parser.add_argument('--state-file',
                        help='where the drain keeps what it did (default: '
                             '%s)' % drain_state.default_path('HOST'))
    parser.add_argument('--retry-failed', action='store_true',
                        help='move again the servers an earlier run '
                             'failed to move')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan, move nothing')
    parser.add_argument('--poll', type=float, default=2.0,
                        help=argparse.SUPPRESS)
    parser.add_argument('--json', action='store_true',
                        help='one JSON event per line; the last one '
                             '(drain.end) has the report')
    check.add_auth_arguments(parser, argv)
    # keystoneauth1's --timeout (its requests') is --api-timeout here: the
    # drain's --timeout is a move's (the parser resolves the conflict).
    parser.add_argument('--timeout', type=float, metavar='SECONDS',
                        dest='move_timeout',
                        help='abort a live move that runs longer (the '
                             'server stays where it is)')
    parser.add_argument('--api-timeout', type=float, default=600,
                        dest='timeout', metavar='SECONDS',
                        help='the timeout of an API request (default 600)')


def _wrapped(fn):
    """The cloud's errors as :class:`drain_cloud.CloudError`."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ks_exceptions.ClientException,
                nova_exceptions.ClientException) as exc:
            raise drain_cloud.CloudError('%s: %s' % (fn.__name__, exc))
    return call


class ApiCloud(check.Cloud, drain_cloud.DrainCloud):
    """:class:`drain_cloud.DrainCloud` through the compute API (novaclient)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._images = {}

    def _image_properties(self, image_id):
        if image_id not in self._images:
            try:
                self._images[image_id] = self.image_properties(image_id)
            except ks_exceptions.NotFound:
                # Its image was deleted since: planned as an image with
                # no properties, as the scheduler sees it.
                self._images[image_id] = {}
        return self._images[image_id]

    @_wrapped
    def servers_on(self, host):
        found = self.nova.servers.list(
            detailed=True, search_opts={'host': host, 'all_tenants': True})
        items = []
        for s in found:
            info = s.to_dict()
            if (info.get('OS-EXT-SRV-ATTR:host') or '') != host:
                continue
            items.append(drain_plan.DrainServer(
                server=check.server_of(info, self._image_properties),
                status=info.get('status', ''),
                task_state=info.get('OS-EXT-STS:task_state'),
                ram_mib=int((info.get('flavor') or {}).get('ram') or 0)))
        return items

    @_wrapped
    def compute_hosts(self):
        return check.computes_of(self)

    @_wrapped
    def server(self, server_id):
        try:
            info = self.nova.servers.get(server_id).to_dict()
        except nova_exceptions.NotFound:
            return None
        return drain_cloud.ServerView(
            host=info.get('OS-EXT-SRV-ATTR:host'),
            status=info.get('status', ''),
            task_state=info.get('OS-EXT-STS:task_state'),
            fault=(info.get('fault') or {}).get('message'))

    @_wrapped
    def migrations_in_progress(self, server_id):
        return [m.to_dict() for m in
                self.nova.server_migrations.list(server_id)]

    @_wrapped
    def last_migration(self, server_id):
        found = [m.to_dict() for m in
                 self.nova.migrations.list(instance_uuid=server_id)]
        found.sort(key=lambda m: (m.get('created_at') or '', m.get('id')))
        return found[-1] if found else None

    @_wrapped
    def live_migrate(self, server_id, host):
        self.nova.servers.live_migrate(server_id, host=host,
                                       block_migration='auto')

    @_wrapped
    def cold_migrate(self, server_id, host):
        self.nova.servers.migrate(server_id, host=host)

    @_wrapped
    def confirm(self, server_id):
        self.nova.servers.confirm_resize(server_id)

    @_wrapped
    def abort(self, server_id, migration_id):
        self.nova.server_migrations.live_migration_abort(server_id,
                                                         migration_id)

    @_wrapped
    def force_complete(self, server_id, migration_id):
        self.nova.server_migrations.live_migrate_force_complete(
            server_id, migration_id)

    @_wrapped
    def set_bandwidth(self, server_id, mib):
        self.nova.servers.set_meta_item(server_id, tuning.BANDWIDTH_KEY,
                                        str(int(mib)))

    @_wrapped
    def clear_bandwidth(self, server_id):
        try:
            self.nova.servers.delete_meta(server_id, [tuning.BANDWIDTH_KEY])
        except nova_exceptions.NotFound:
            pass

    def _service(self, host):
        found = self.nova.services.list(host=host, binary='nova-compute')
        if not found:
            raise drain_cloud.CloudError('no nova-compute service on %s'
                                         % host)
        return found[0]

    @_wrapped
    def service(self, host):
        s = self._service(host)
        return s.status == 'enabled', getattr(s, 'disabled_reason', None)

    @_wrapped
    def disable(self, host, reason):
        self.nova.services.disable_log_reason(self._service(host).id, reason)


def _printer(args, out):
    if args.json:
        return progress.JsonPrinter(out, args.host)
    if out.isatty():
        return progress.TerminalPrinter(out, args.host)
    return progress.LogPrinter(out, args.host)


def _dry_run(args, cloud, options, out):
    steps = drain_plan.plan_drain(
        cloud.servers_on(args.host), cloud.compute_hosts(), options.planner,
        options.allow_cutover, options.targets,
        options.hypervisor_version_check, options.order)
    if args.json:
        out.write(json.dumps({'host': args.host,
                              'steps': [s.to_dict() for s in steps]},
                             indent=2, sort_keys=True) + '\n')
    else:
        out.write('drain of %s: %d servers\n' % (args.host, len(steps)))
        for s in steps:
            if s.action == drain_plan.SKIP:
                out.write('  %s (%s): stays: %s\n'
                          % (s.name, s.id, s.reason))
            else:
                out.write('  %s (%s): %s (%s) to %s, about %s: %s\n' % (
                    s.name, s.id, s.action, s.mode,
                    ' or '.join(s.destinations), progress.size(s.cost),
                    s.reason))
    moving = [s for s in steps if s.action != drain_plan.SKIP]
    return EXIT_EMPTY if len(moving) == len(steps) else EXIT_NOT_EMPTY


class _Interrupts(object):
    """Ctrl-C once: stop starting moves; twice: abort those in flight."""

    def __init__(self, drain):
        self.drain = drain
        self.count = 0

    def __call__(self, signum, frame):
        self.count += 1
        if self.count == 1 or signum == signal.SIGTERM:
            self.drain.request_stop()
        elif self.count == 2:
            self.drain.request_abort()
        else:
            raise KeyboardInterrupt()


def run(args, planner_options=None, hypervisor_version_check=True,
        out=None):
    """Drain ``args.host``; the exit status.

    :param planner_options: the planner's options (``[v2v]`` of
        ``--config-file``)
    :param hypervisor_version_check: as Nova's conductor checks versions
    """
    out = out or sys.stdout
    try:
        limits = schedule.Limits(
            parallel=args.parallel,
            per_destination=(args.parallel if args.per_destination is None
                             else args.per_destination),
            bandwidth_mib=args.bandwidth)
    except schedule.LimitsError as exc:
        sys.stderr.write('nova-v2v drain: %s\n' % exc)
        return EXIT_USAGE
    if limits.bandwidth_mib and (
            limits.bandwidth_mib // limits.parallel < MIN_SHARE):
        sys.stderr.write(
            'nova-v2v drain: warning: --bandwidth %d over --parallel %d '
            'gives a move less than %d MiB/s, which the computes raise to '
            'their [v2v] min_migration_bandwidth (%d MiB/s by default): '
            'the moves may use more than --bandwidth\n'
            % (limits.bandwidth_mib, limits.parallel, MIN_SHARE, MIN_SHARE))
    for name, value in (('timeout', args.move_timeout),
                        ('force-complete-after', args.force_complete_after),
                        ('api-timeout', args.timeout), ('poll', args.poll)):
        if value is not None and value <= 0:
            sys.stderr.write('nova-v2v drain: --%s must be positive\n'
                             % name)
            return EXIT_USAGE
    options = runner.Options(
        planner=planner_options, allow_cutover=args.allow_cutover,
        targets=tuple(args.to), order=args.order,
        hypervisor_version_check=hypervisor_version_check,
        timeout=args.move_timeout,
        force_complete_after=args.force_complete_after,
        retry_failed=args.retry_failed,
        disable_reason=args.reason if args.disable else None,
        poll=args.poll)
    try:
        cloud = ApiCloud(check.session(args), args.os_region_name,
                         args.os_interface)
        if args.dry_run:
            return _dry_run(args, cloud, options, out)
        state = drain_state.DrainState(
            args.state_file or drain_state.default_path(args.host),
            args.host)
    except check.CannotAsk as exc:
        sys.stderr.write('nova-v2v drain: %s\n' % exc)
        return EXIT_CANNOT_ASK
    except drain_cloud.CloudError as exc:
        sys.stderr.write('nova-v2v drain: could not ask the cloud: %s\n'
                         % exc)
        return EXIT_CANNOT_ASK
    except drain_state.DrainBusy as exc:
        sys.stderr.write('nova-v2v drain: %s\n' % exc)
        return EXIT_BUSY
    except drain_state.StateError as exc:
        sys.stderr.write('nova-v2v drain: %s\n' % exc)
        return EXIT_USAGE
    try:
        return _run(args, cloud, state, limits, options, out)
    finally:
        state.close()


def _run(args, cloud, state, limits, options, out):
    drain = runner.Drain(cloud, args.host, state, _printer(args, out),
                         limits, options)
    handler = _Interrupts(drain)
    previous = {sig: signal.signal(sig, handler)
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = drain.run()
    except drain_cloud.CloudError as exc:
        sys.stderr.write('nova-v2v drain: %s (the state is in %s: the same '
                         'command goes on)\n' % (exc, state.path))
        return EXIT_CANNOT_ASK
    except KeyboardInterrupt:
        sys.stderr.write('nova-v2v drain: interrupted; the moves in flight '
                         'go on; the same command follows them (%s)\n'
                         % state.path)
        return EXIT_INTERRUPTED
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    if not args.json:
        out.write(drain_report.to_text(result) + '\n')
    if result['interrupted']:
        return EXIT_INTERRUPTED
    return EXIT_EMPTY if result['empty'] else EXIT_NOT_EMPTY
