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

"""nova-v2v-aio: the gate's all-in-one OpenStack control plane.

  nova-v2v-aio up [--constraints FILE]
  nova-v2v-aio status
  nova-v2v-aio down [--purge]
  nova-v2v-aio computes up|down [--lab-state-dir DIR]
  nova-v2v-aio gate [--json] [--keep] [--stage STAGE ...] [--repeat N]
  nova-v2v-aio gate-faults [--json] [--keep] [--down] [--cell N ...]
  nova-v2v-aio horizon [--json] [--keep] [--down] [--screenshots DIR]

Everything listens on 127.0.0.1; state, logs, virtualenvs and configs
live under --state-dir (default /var/lib/nova-v2v-aio, configs in its
etc/). ``down`` stops only what ``up`` started, by recorded PID and
process group, and keeps the data unless --purge.
"""

import argparse
import json
import sys

from oslo_log import log as logging

from nova_v2v_rig.aio import computes
from nova_v2v_rig.aio import faultgate
from nova_v2v_rig.aio import faults
from nova_v2v_rig.aio import gate
from nova_v2v_rig.aio import gatehorizon
from nova_v2v_rig.aio import gatereport
from nova_v2v_rig.aio import paths
from nova_v2v_rig.aio import stack
from nova_v2v_rig.cmd import common as cmd_common
from nova_v2v_rig.lab import hosts as lab_hosts

LOG = logging.getLogger(__name__)


def _parser():
    parser = argparse.ArgumentParser(prog='nova-v2v-aio')
    parser.add_argument('--state-dir', default=paths.DEFAULT_STATE_DIR)
    parser.add_argument('--debug', action='store_true')
    sub = parser.add_subparsers(dest='command', required=True)
    up = sub.add_parser('up', help='start the control plane')
    up.add_argument('--constraints', metavar='FILE',
                    help='pip constraints of the virtualenvs (default: '
                         'TOX_CONSTRAINTS_FILE or the project\'s '
                         'upper-constraints.txt)')
    sub.add_parser('status', help='each service as JSON')
    down = sub.add_parser('down', help='stop what "up" started')
    down.add_argument('--purge', action='store_true',
                      help='also remove the state dir (data, logs, '
                           'configs, virtualenvs)')
    comp = sub.add_parser('computes', help='one nova-compute per lab host '
                          '(after "nova-v2v-lab up" and "up")')
    comp.add_argument('action', choices=('up', 'down'))
    comp.add_argument('--lab-state-dir', default=lab_hosts.DEFAULT_STATE_DIR)
    comp.add_argument('--timeout', type=int, default=180,
                      help='seconds to wait for both in os-services')
    gate_p = sub.add_parser(
        'gate', help='the gate: lab, control plane, computes, then moves '
        'of a guest by the openstack client, checked (a table)')
    gate_p.add_argument('--lab-state-dir',
                        default=lab_hosts.DEFAULT_STATE_DIR)
    gate_p.add_argument('--json', action='store_true',
                        help='the report as JSON on stdout (the table then '
                             'goes to stderr)')
    gate_p.add_argument('--keep', action='store_true',
                        help='leave the lab and the all-in-one up')
    gate_p.add_argument('--stage', action='append', choices=gate.STAGES,
                        help='run these stages only (repeat; default: all)')
    gate_p.add_argument('--repeat', type=_at_least_one, default=1,
                        metavar='N',
                        help='move each stage\'s guest live to labhost-b '
                             'and back N times (the summary\'s medians; '
                             'default: 1)')
    gate_p.add_argument('--no-network-voting', dest='network_voting',
                        action='store_false',
                        help='measure and report the moves\' network '
                             'checks without failing a move on them (by '
                             'default they vote)')
    gate_p.add_argument('--constraints', metavar='FILE',
                        help='as for "up"')
    faults_p = _shared_suite(
        sub, 'gate-faults', 'the fault matrix through Nova: faults '
        'injected into V2V cutovers on the all-in-one (reused when up), '
        'each cell\'s outcome asserted (a table)',
        'leave the lab and the all-in-one up')
    faults_p.add_argument('--cell', action='append', type=int,
                          choices=[c.number for c in faults.CELLS],
                          help='run these cells only (repeat; default: '
                               'all)')
    horizon_p = _shared_suite(
        sub, 'horizon', "Horizon's migrate actions clicked in a headless "
        'Chromium against the all-in-one (reused when up), each move '
        'checked (a table)', 'leave the lab, the all-in-one and Horizon up')
    horizon_p.add_argument('--screenshots', metavar='DIR',
                           help='where the screenshots go (default: '
                                'log/horizon-screenshots of the state dir)')
    return parser


def _shared_suite(sub, name, summary, keep_help):
    """The subcommand of a suite that shares the lab and the all-in-one."""
    suite = sub.add_parser(name, help=summary)
    suite.add_argument('--lab-state-dir', default=lab_hosts.DEFAULT_STATE_DIR)
    suite.add_argument('--json', action='store_true',
                       help='the report as JSON on stdout (the table then '
                            'goes to stderr)')
    suite.add_argument('--keep', action='store_true', help=keep_help)
    suite.add_argument('--down', action='store_true',
                       help='tear the lab and the all-in-one down at the end '
                            'even when they were up before (the last suite '
                            'sharing them)')
    suite.add_argument('--constraints', metavar='FILE', help='as for "up"')
    return suite


def _print(args, report, table):
    """Print the report; the exit status.

    Its table, or with ``--json`` JSON on stdout and the table on stderr.
    """
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        print(table(report), file=sys.stderr)
    else:
        print(table(report))
    return 0 if report['ok'] else 1


def _horizon(args, layout):
    report = gatehorizon.run(layout, lab_hosts.Lab(args.lab_state_dir),
                             keep=args.keep, down=args.down,
                             constraints=args.constraints,
                             shots_dir=args.screenshots)
    return _print(args, report, gatehorizon.table)


def _at_least_one(value):
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError('at least 1, not %s' % value)
    return number


def _gate_faults(args, layout):
    cells = [c for c in faults.CELLS
             if not args.cell or c.number in args.cell]
    report = faultgate.run(layout, lab_hosts.Lab(args.lab_state_dir),
                           cells=cells, keep=args.keep, down=args.down,
                           constraints=args.constraints)
    return _print(args, report, faultgate.table)


def _gate(args, layout):
    report = gate.run(layout, lab_hosts.Lab(args.lab_state_dir),
                      stages=tuple(args.stage or gate.STAGES),
                      keep=args.keep, constraints=args.constraints,
                      repeat=args.repeat,
                      network_voting=args.network_voting)
    return _print(args, report, gatereport.table)


def main(argv=None):
    args = _parser().parse_args(argv)
    cmd_common.setup_logging('nova-v2v-aio', args.debug)
    layout = paths.Layout(args.state_dir)
    if args.command == 'gate':
        return _gate(args, layout)
    if args.command == 'gate-faults':
        return _gate_faults(args, layout)
    if args.command == 'horizon':
        return _horizon(args, layout)
    try:
        if args.command == 'up':
            out = stack.up(layout, args.constraints)
        elif args.command == 'computes' and args.action == 'up':
            out = computes.up(layout, lab_hosts.Lab(args.lab_state_dir),
                              args.timeout)
        elif args.command == 'computes':
            out = computes.down(layout)
        elif args.command == 'status':
            out = stack.status(layout)
        else:
            out = stack.down(layout, purge=args.purge)
    except paths.AioError as exc:
        LOG.error('%(cmd)s failed: %(err)s', {'cmd': args.command,
                                              'err': exc})
        return 1
    except KeyboardInterrupt:
        LOG.error('%s interrupted', args.command)
        return 130
    print(json.dumps(out, indent=2, sort_keys=True))
    if args.command == 'status' and not out['up']:
        return 3
    return 0


if __name__ == '__main__':
    sys.exit(main())
