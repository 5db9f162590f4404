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

"""``nova-v2v``: operators' commands.

``nova-v2v check SERVER [--host HOST] [--json]`` tells which compute hosts
can take a server by live migration, in which mode, with which disks and
hardware changes, and why the others cannot (see
:mod:`nova_v2v.cmd.check`; exit 0 some host fits, 1 none, 3 the cloud could
not be asked).

``nova-v2v drain HOST`` moves every server off a compute host, within
limits, with progress and a report: see :mod:`nova_v2v.cmd.drain`.

``nova-v2v import EXPORT`` makes a Nova server of a VMware export (OVA,
OVF, VMX): see :mod:`nova_v2v.cmd.importer`.

``nova-v2v translate SOURCE`` prints the domain XML a guest gets on a
KVM destination on stdout and the translation report on stderr; it exits
non-zero with the reason when it refuses.  SOURCE is a libvirt domain XML,
or a VMware export (a ``.vmx``, an ``.ovf`` or a folder holding one, an
``.ova``: :mod:`nova_v2v.exports`) whose disks are read below its own
directory unless ``--import-dir`` names another.  It reads the same
``[v2v]`` options as the compute service (``--config-file
/etc/nova/nova.conf``).

Exit codes: 0 translated, 1 refused (hostile input, an unsupported guest,
unmappable devices under the ``refuse`` policy), 2 bad usage (an import
directory that is not one), 3 the source could not be read, 4 the output
failed libvirt's schema (``--validate``).
"""

import argparse
import json
import os
import sys
import tempfile

from oslo_concurrency import processutils
from oslo_config import cfg

from nova_v2v.cmd import check
from nova_v2v.cmd import drain
from nova_v2v.cmd import importer
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v.exports import base as export_base
from nova_v2v.exports import reader as export_reader
from nova_v2v.hardware import tables
from nova_v2v.hardware import translate as hw_translate
from nova_v2v import paths

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = 3
EXIT_INVALID = 4


def _network(text):
    src, sep, dest = text.partition('=')
    kind, sep2, name = dest.partition(':')
    if not (sep and sep2 and src and name and kind in ('network', 'bridge')):
        raise argparse.ArgumentTypeError(
            'expected SOURCE=network:NAME or SOURCE=bridge:NAME, not %r'
            % text)
    return src, (kind, name)


def _parser(argv=None):
    parser = argparse.ArgumentParser(
        prog='nova-v2v', description='nova-v2v operator commands')
    parser.add_argument('--config-file', action='append', default=[],
                        help='nova.conf to read [v2v] options from')
    sub = parser.add_subparsers(dest='command', required=True)
    tr = sub.add_parser(
        'translate',
        help='print the KVM domain XML of a guest from another hypervisor',
        description='Translate a libvirt domain definition (QEMU/KVM, '
                    'VMware, Hyper-V or Xen HVM) for a KVM or QEMU/TCG '
                    'destination: the XML on stdout, the report on stderr.')
    tr.add_argument('source', help='the source domain XML file ("-" for '
                                   'stdin), or a VMware export: .vmx, '
                                   '.ovf (or its folder), .ova')
    tr.add_argument('--target', choices=('kvm', 'qemu'), default='kvm',
                    help='the destination\'s virt_type (default: kvm)')
    tr.add_argument('--instances-path', default='/var/lib/nova/instances',
                    help='the destination\'s instances directory')
    tr.add_argument('--guest-dir',
                    help='the guest\'s directory under it (default: its '
                         'UUID)')
    tr.add_argument('--import-dir',
                    help='where a foreign guest\'s disks are on this host '
                         '(copies or mounts of its datastores, drives or '
                         'folder): each disk is read from below it, '
                         '"[ds] dir/f" at DIR/ds/dir/f, "C:\\dir\\f" at '
                         'DIR/C/dir/f; a disk outside it is refused, and '
                         'without it one at a path of this host')
    tr.add_argument('--machine', help='the machine type to use')
    tr.add_argument('--machine-types', default='',
                    help='comma-separated machine types the destination '
                         'offers')
    tr.add_argument('--cpu-model',
                    help='the CPU model for a qemu (TCG) destination')
    tr.add_argument('--disk-bus', choices=('virtio', 'scsi'),
                    help='default: [v2v] translate_disk_bus')
    tr.add_argument('--disk-format', choices=('qcow2', 'raw'),
                    help='default: [v2v] translate_disk_format')
    tr.add_argument('--network', action='append', type=_network,
                    default=[], metavar='SRC=network:NAME|bridge:NAME',
                    help='map a source network or bridge (repeatable)')
    tr.add_argument('--firmware', choices=('bios', 'uefi'),
                    help='the source\'s firmware where its definition does '
                         'not say (a Hyper-V Generation 2 VM is uefi)')
    tr.add_argument('--unmappable', choices=('refuse', 'drop'),
                    help='default: [v2v] unmappable_devices')
    tr.add_argument('--json', action='store_true',
                    help='the report as JSON on stderr')
    tr.add_argument('--validate', action='store_true',
                    help='check the output with virt-xml-validate')
    tb = sub.add_parser('tables',
                        help='print the translation\'s mapping tables')
    tb.add_argument('--json', action='store_true')
    ck = sub.add_parser(
        'check', help='which hosts can take a server, in which mode, and '
        'why the others cannot (asks the cloud\'s APIs)')
    check.add_arguments(ck, sys.argv[1:] if argv is None else argv)
    im = sub.add_parser(
        'import', help='a VMware export (OVA, OVF, VMX) as a new server: '
        'its boot disk converted into a Glance image, its NICs as ports '
        'keeping their MACs (asks and changes the cloud)',
        description='Import a VMware export as a Nova server. On any '
                    'failure or Ctrl-C what this run created is deleted. '
                    'Exit: 0 done, 1 refused, 2 usage, 3 the cloud could '
                    'not be asked, 4 failed (cleaned up), 130 interrupted.')
    importer.add_arguments(im, sys.argv[1:] if argv is None else argv)
    dr = sub.add_parser(
        'drain', conflict_handler='resolve',
        help='move every server off a compute host, within limits, with '
        'progress and a report (asks and changes the cloud)',
        description='Empty a compute host: plan every server on it as '
                    '"check" does, move them live (a V2V cutover only '
                    'with --allow-cutover; stopped servers cold), within '
                    'the limits, with progress, ETA and a report. Run '
                    'again after an interruption, it goes on where it '
                    'stopped. Ctrl-C: no new move starts; twice: the '
                    'live moves in flight are aborted. Exit: 0 the host '
                    'is empty, 1 servers stay, 2 usage, 3 the cloud could '
                    'not be asked, 4 another drain of the host runs, 130 '
                    'interrupted.')
    drain.add_arguments(dr, sys.argv[1:] if argv is None else argv)
    return parser


def _read(path):
    if path == '-':
        return sys.stdin.buffer.read()
    with open(path, 'rb') as f:
        return f.read()


def validate(xml):
    """Run libvirt's virt-xml-validate on a domain XML; None or the error."""
    with tempfile.NamedTemporaryFile('w', suffix='.xml') as f:
        f.write(xml)
        f.flush()
        try:
            processutils.execute('virt-xml-validate', f.name, 'domain')
        except processutils.ProcessExecutionError as exc:
            return (exc.stderr or exc.stdout or str(exc)).strip()
    return None


def translate(args, conf, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    options = v2v_conf.translation_options(conf)
    if args.disk_bus:
        options['disk_bus'] = args.disk_bus
    if args.disk_format:
        options['disk_format'] = args.disk_format
    if args.unmappable:
        options['unmappable'] = args.unmappable
    export = None
    try:
        if args.source != '-' and export_reader.kind_of(args.source):
            export = export_reader.read(args.source)
            data = export.domain_xml
        else:
            data = _read(args.source)
    except OSError as exc:
        err.write('nova-v2v: cannot read %s: %s\n' % (args.source, exc))
        return EXIT_UNREADABLE
    except export_base.ExportError as exc:
        err.write('nova-v2v: refused (%s): %s\n'
                  % (type(exc).__name__, exc))
        return EXIT_REFUSED
    import_dir = args.import_dir or (export and export.root_dir) or None
    target = hw_translate.Target(
        accelerator=args.target,
        instances_path=os.path.normpath(args.instances_path),
        guest_dir=args.guest_dir, machine=args.machine,
        machine_types=tuple(m for m in args.machine_types.split(',') if m),
        cpu_model=args.cpu_model, networks=dict(args.network),
        firmware=args.firmware, import_dir=import_dir, **options)
    # An OVA's disks are not extracted to translate it: its directory need
    # not exist yet.
    unpacked = not (export and export.kind == 'ova' and not args.import_dir)
    if (target.import_dir and unpacked and
            not os.path.isdir(target.import_dir)):
        # Nothing below it to check for symlinks out of it.
        err.write('nova-v2v: the import directory %s is not a directory '
                  'of this host\n' % target.import_dir)
        return EXIT_USAGE
    try:
        result = hw_translate.translate(data, target)
        if os.path.isdir(target.instances_path):
            # Symlinks on this host that would take a disk elsewhere.
            for d in result.report.disks:
                if d.path:
                    paths.confine(target.instances_path, d.path)
        profile = tables.profile_for(result.report.source_type)
        if target.import_dir and profile.foreign:
            # Symlinks on this host that would read a disk from elsewhere.
            for d in result.report.disks:
                if d.path and d.source_path:
                    paths.confine(target.import_dir, d.source_path)
    except hw_translate.UnmappableDevices as exc:
        _report(exc.report, args, err, export)
        err.write('nova-v2v: refused: %s\n' % exc)
        return EXIT_REFUSED
    except (hw_translate.TranslationError, paths.PathEscape) as exc:
        err.write('nova-v2v: refused (%s): %s\n'
                  % (type(exc).__name__, exc))
        return EXIT_REFUSED
    if args.validate:
        problem = validate(result.xml)
        if problem:
            _report(result.report, args, err, export)
            err.write('nova-v2v: the translated XML fails libvirt\'s '
                      'schema: %s\n' % problem)
            return EXIT_INVALID
    out.write(result.xml)
    _report(result.report, args, err, export)
    return EXIT_OK


def print_tables(args, conf_overrides=None, out=None):
    """The mapping tables of every source profile, and what is refused."""
    out = out or sys.stdout
    rows = tables.as_rows()
    unmappable = [(r.xpath, r.reason) for r in tables.COMMON_UNMAPPABLE]
    removals = [(p.name, r.xpath, r.reason) for p in tables.PROFILES
                for r in p.removals]
    if args.json:
        out.write(json.dumps({'mappings': rows, 'unmappable': unmappable,
                              'removed': removals}, indent=2) + '\n')
        return EXIT_OK
    out.write('%-8s %-12s %-12s %s\n' % ('profile', 'table', 'source',
                                         'target'))
    for row in rows:
        out.write('%-8s %-12s %-12s %s\n' % tuple(
            r.replace(tables.TARGET_DISK_BUS, '(target disk bus)')
            for r in row))
    out.write('kvm/qemu: kept as they are, but for [v2v] '
              'translate_device_models (%s)\n'
              % ', '.join(conf_overrides or ()))
    out.write('\nremoved (meaningless on KVM):\n')
    for name, xpath, reason in removals:
        out.write('  %-7s %s: %s\n' % (name, xpath, reason))
    out.write('\nunmappable (refused, or dropped with a warning by '
              '[v2v] unmappable_devices):\n')
    for xpath, reason in unmappable:
        out.write('  %s: %s\n' % (xpath, reason))
    out.write('  a floppy drive on a q35 destination: q35 has no floppy '
              'controller\n')
    return EXIT_OK


def _report(rep, args, err, export=None):
    """The translation's report, and what the export's reader noted."""
    if args.json:
        doc = rep.to_dict()
        if export is not None:
            doc['export'] = {'kind': export.kind, 'source': export.source,
                             'root_dir': export.root_dir,
                             'notes': list(export.notes)}
        err.write(json.dumps(doc, indent=2, sort_keys=True))
        err.write('\n')
    else:
        if export is not None:
            for note in export.notes:
                err.write('export (%s): %s\n' % (export.kind, note))
        err.write(rep.to_text() + '\n')


# Nova's own option (nova.conf.workarounds), read from --config-file as
# nova-conductor reads it: whether a live migration may go to an older
# hypervisor (``check``).
SKIP_HV_CHECK = cfg.BoolOpt(
    'skip_hypervisor_version_check_on_lm', default=False,
    help='Nova\'s: do not refuse a live migration to an older hypervisor')


def main(argv=None):
    parser = _parser(argv)
    args = parser.parse_args(argv)
    conf = cfg.ConfigOpts()
    v2v_conf.register_opts(conf)
    conf.register_opt(SKIP_HV_CHECK, group='workarounds')
    try:
        conf([], project='nova', default_config_files=args.config_file,
             validate_default_values=True)
    except cfg.Error as exc:
        sys.stderr.write('nova-v2v: %s\n' % exc)
        return EXIT_USAGE
    if args.command == 'translate':
        return translate(args, conf)
    if args.command == 'tables':
        return print_tables(args, conf.v2v.translate_device_models)
    if args.command == 'check':
        return check.run(args, v2v_conf.planner_options(conf),
                         not conf.workarounds[SKIP_HV_CHECK.name])
    if args.command == 'import':
        return importer.run(args, conf)
    if args.command == 'drain':
        return drain.run(args, v2v_conf.planner_options(conf),
                         not conf.workarounds[SKIP_HV_CHECK.name])
    parser.error('unknown command %s' % args.command)


if __name__ == '__main__':
    sys.exit(main())
