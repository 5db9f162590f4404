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

"""nova-v2v-lab: a two-host libvirt/QEMU lab on one machine.

  nova-v2v-lab up [--shared] [--tls] [--host-release HOST=RELEASE ...]
  nova-v2v-lab status
  nova-v2v-lab migrate --mode shared-live|block-live [--json]
               [--tls | --nova-config NOVA_CONF]
  nova-v2v-lab migrate --mode v2v-cutover|offline [--profile vmware|virtio|ide]
               [--dest-accel kvm|tcg] [--cutover suspend|acpi]
               [--export client-bound|qsd] [--release-check port|pid] [--json]
  nova-v2v-lab down
  nova-v2v-lab demo [--json] [--mode MODE ...]
  nova-v2v-lab faults [--json] [--cell FAULT/PHASE ...]
"""

import argparse
import json
import sys
import time

from oslo_log import log as logging

from nova_v2v_rig.cmd import common as cmd_common
from nova_v2v_rig.lab import accel
from nova_v2v_rig.lab import demo
from nova_v2v_rig.lab import faults
from nova_v2v_rig.lab import guest
from nova_v2v_rig.lab import harness
from nova_v2v_rig.lab import hosts
from nova_v2v_rig.lab import migrate
from nova_v2v_rig.lab import rootfs
from nova_v2v_rig.lab import tls

LOG = logging.getLogger(__name__)


def _parser():
    parser = argparse.ArgumentParser(prog='nova-v2v-lab')
    parser.add_argument('--state-dir', default=hosts.DEFAULT_STATE_DIR)
    parser.add_argument('--debug', action='store_true')
    sub = parser.add_subparsers(dest='command', required=True)
    up = sub.add_parser('up', help='start the two lab hosts')
    up.add_argument('--shared', action='store_true',
                    help='both hosts share /var/lib/nova/instances')
    up.add_argument('--tls', action='store_true',
                    help='also listen for libvirt TLS (16514) with a lab '
                         'CA and per-host certificates, and give QEMU its '
                         'migration certificates')
    up.add_argument('--host-release', action='append', default=[],
                    metavar='HOST=RELEASE', type=_host_release,
                    help='run that host\'s libvirtd and QEMU from a root '
                         'filesystem of that Debian release (%s), built '
                         'with mmdebstrap once and kept under the state '
                         'dir; e.g. b=trixie' % ', '.join(
                             sorted(rootfs.RELEASES)))
    sub.add_parser('status', help='show the lab state as JSON')
    mig = sub.add_parser('migrate', help='run one migration a -> b')
    mig.add_argument('--mode', choices=migrate.MODES, required=True)
    mig.add_argument('--json', action='store_true',
                     help='print only the JSON result on stdout')
    mig.add_argument('--before', type=float, default=4.0,
                     help='seconds of writes on host a before migrating')
    mig.add_argument('--after', type=float, default=4.0,
                     help='seconds of writes on host b after migrating')
    mig.add_argument('--dirty-mb', type=int, default=8)
    tls_group = mig.add_mutually_exclusive_group()
    tls_group.add_argument(
        '--tls', action='store_true',
        help='live modes over libvirt native TLS, as Nova\'s [libvirt] '
             'live_migration_with_native_tls = True and '
             'live_migration_scheme = tls (needs "up --tls")')
    tls_group.add_argument(
        '--nova-config', metavar='NOVA_CONF', action='append',
        help='live modes: take live_migration_with_native_tls and '
             'live_migration_scheme from this nova.conf\'s [libvirt] '
             'section (repeatable)')
    mig.add_argument('--profile', default=None,
                     choices=sorted(migrate.domain.PROFILES),
                     help='source hardware (default: virtio for the live '
                          'modes, vmware for the V2V modes)')
    mig.add_argument('--dest-accel', choices=('kvm', 'tcg'),
                     help='V2V modes: accelerator of the clone on host b '
                          '(default: what the lab can boot)')
    mig.add_argument('--cutover', choices=('suspend', 'acpi'),
                     default='suspend',
                     help='v2v-cutover: how the source guest is stopped')
    mig.add_argument('--disk-format', choices=('qcow2', 'raw', 'vmdk'),
                     help='V2V modes: source disk format (default: vmdk '
                          'for the vmware profile, else qcow2)')
    mig.add_argument('--fault', choices=('kill-export', 'clone-fails'),
                     help='v2v-cutover fault injection: kill the NBD export'
                          ' once the disks are in sync (the cutover must '
                          'be refused), or declare the started clone '
                          'broken (the paused source must resume)')
    mig.add_argument('--export', choices=('client-bound', 'qsd'),
                     default='client-bound',
                     help='v2v-cutover: the NBD export of host b: one '
                          'non-persistent qemu-nbd per disk, released when '
                          'the source lets go (what Nova runs), or a '
                          'qemu-storage-daemon released over QMP')
    mig.add_argument('--release-check', choices=('port', 'pid'),
                     default='port',
                     help='v2v-cutover, client-bound: wait for the port '
                          'to refuse (dialled from host a\'s netns) or for '
                          'the qemu-nbd processes to exit')
    mig.add_argument('--keep', action='store_true',
                     help='leave the guest defined on host b')
    sub.add_parser('down', help='stop everything "up" started')
    dem = sub.add_parser(
        'demo', help='up, one migration of each mode, a table, down')
    dem.add_argument('--json', action='store_true',
                     help='print the results as JSON instead of a table')
    dem.add_argument('--mode', action='append', choices=migrate.MODES,
                     help='run only this mode (repeatable; default: all)')
    dem.add_argument('--before', type=float, default=2.0,
                     help='seconds of writes on host a before each move')
    dem.add_argument('--after', type=float, default=2.0,
                     help='seconds of writes on host b after each move')
    dem.add_argument('--dirty-mb', type=int, default=8)
    flt = sub.add_parser('faults', help='the fault matrix: faults injected '
                                        'into V2V cutovers')
    flt.add_argument('--json', action='store_true')
    flt.add_argument('--cell', action='append', metavar='FAULT/PHASE',
                     help='run only this cell (repeatable); faults: %s; '
                          'phases: %s' % (', '.join(faults.FAULTS),
                                          ', '.join(faults.PHASES)))
    return parser


def _host_release(text):
    """``HOST=RELEASE`` of ``--host-release``: ``(host, release)``."""
    host, sep, release = text.partition('=')
    if not sep or host not in hosts.HOSTS or release not in rootfs.RELEASES:
        raise argparse.ArgumentTypeError(
            '%r: give HOST=RELEASE, HOST one of %s, RELEASE one of %s'
            % (text, ', '.join(sorted(hosts.HOSTS)),
               ', '.join(sorted(rootfs.RELEASES))))
    return host, release


def _up(lab, args):
    start = time.monotonic()
    image = guest.build(lab.cache_dir)
    built = time.monotonic()
    virt_type, reason = accel.detect(
        image, cache_file=lab.cache_dir + '/accel')
    lab.up(shared=args.shared, tls=args.tls,
           releases=dict(args.host_release))
    status = lab.status()
    status.update({
        'guest_kernel': image.kernel, 'guest_initrd': image.initrd,
        'accel': virt_type, 'accel_reason': reason,
        'guest_build_seconds': round(built - start, 2),
        'up_seconds': round(time.monotonic() - start, 2)})
    return status


def _migrate(lab, args):
    kwargs = dict(before=args.before, after=args.after,
                  dirty_mb=args.dirty_mb, keep=args.keep)
    if args.tls:
        kwargs['tls'] = True
    elif args.nova_config:
        kwargs['libvirt_options'] = tls.Transport.from_config_files(
            args.nova_config).options()
    if args.mode in migrate.V2V_MODES:
        kwargs.update(profile=args.profile or 'vmware',
                      dest_accel=args.dest_accel, cutover_mode=args.cutover,
                      disk_format=args.disk_format, fault=args.fault,
                      export=args.export,
                      release_check=args.release_check)
    else:
        if args.dest_accel or args.disk_format or args.fault:
            raise harness.LabMigrationError(
                '--dest-accel, --disk-format and --fault are for the V2V '
                'modes')
        kwargs['profile'] = args.profile or 'virtio'
    return migrate.run(lab, args.mode, **kwargs)


def _demo(lab, args):
    results, seconds = demo.run(lab, before=args.before, after=args.after,
                                dirty_mb=args.dirty_mb, modes=args.mode)
    failed = [r.get('mode') for r in results if demo.problems(r)]
    if args.json:
        print(json.dumps({'results': results, 'seconds': seconds,
                          'failed': failed}, indent=2, sort_keys=True))
    else:
        print(demo.table(results))
        print('%d migrations in %.1f s, %s' % (
            len(results), seconds,
            'failed: %s' % ', '.join(failed) if failed else 'all passed'))
    return 1 if failed else 0


def _faults(lab, args):
    cells = faults.CELLS
    if args.cell:
        cells = []
        for cell in args.cell:
            fault, _sep, phase = cell.partition('/')
            if (fault, phase) not in faults.CELLS:
                raise harness.LabMigrationError('unknown cell %r' % cell)
            cells.append((fault, phase))
    results, rows, seconds = faults.run_matrix(lab, cells)
    failed = [r for r in rows if r['problems']]
    if args.json:
        print(json.dumps({'rows': rows, 'seconds': seconds,
                          'results': results}, indent=2, sort_keys=True,
                         default=str))
    else:
        print(faults.format_table(rows))
        print('%d cells in %.1f s, %s' % (
            len(rows), seconds, '%d failed' % len(failed) if failed
            else 'all passed'))
    return 1 if failed else 0


def main(argv=None):
    args = _parser().parse_args(argv)
    cmd_common.setup_logging('nova-v2v-lab', args.debug)
    lab = hosts.Lab(args.state_dir)
    try:
        if args.command == 'demo':
            return _demo(lab, args)
        if args.command == 'faults':
            return _faults(lab, args)
        if args.command == 'up':
            out = _up(lab, args)
        elif args.command == 'status':
            out = lab.status()
        elif args.command == 'down':
            out = {'stopped': lab.down()}
        else:
            out = _migrate(lab, args)
    except (hosts.LabError, harness.LabMigrationError, tls.TLSError) as exc:
        LOG.error('%(cmd)s failed: %(err)s', {'cmd': args.command,
                                              'err': exc})
        return 1
    except KeyboardInterrupt as exc:
        LOG.error('%(cmd)s interrupted (%(err)s); the lab was taken down'
                  if args.command == 'demo' else
                  '%(cmd)s interrupted (%(err)s)',
                  {'cmd': args.command, 'err': str(exc) or 'Ctrl-C'})
        return 130
    if args.command == 'migrate' and args.json:
        print(json.dumps(out, sort_keys=True))
    else:
        print(json.dumps(out, indent=2, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
