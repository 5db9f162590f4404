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

"""``nova-v2v import EXPORT``: a VMware export becomes a Nova server.

Thin glue around :mod:`nova_v2v.exports.plan`: read the export
(:func:`nova_v2v.exports.reader.read`), translate it for KVM, read the
cloud's flavors and networks, plan, check that the work directory's
filesystem has room for the disks' copies; then (unless ``--dry-run``)
extract an OVA's disks, convert the boot disk with ``qemu-img``
(:mod:`nova_v2v.storage.convert`, verified), create the Glance image with
the properties of the translated hardware and upload the disk, create one
Neutron port per NIC keeping its MAC, and create the server through the
compute API.  Authenticates as ``nova-v2v check`` does (keystoneauth1:
``clouds.yaml`` or ``OS_*``); the calls to the cloud, the upload and the
lookups of what a create that lost its answer made are in
:mod:`nova_v2v.cmd.import_cloud`.

Whatever fails, or Ctrl-C, everything this run created is deleted in
reverse order (server, ports, image, converted and extracted files), and
nothing it did not create. Each port, image and server carries the run's
ID (:data:`nova_v2v.exports.plan.PROP_RUN`), so that one whose create
call lost its answer (a connection lost, a timeout, a 5xx: the cloud may
have made it anyway) is looked for and deleted too.

Exit status: 0 imported (or planned, ``--dry-run``), 1 refused (the
export, its translation or the plan), 2 bad usage, 3 the cloud could not
be asked, 4 a step failed (what was created is cleaned up), 130
interrupted (cleaned up too).
"""

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
import uuid

from keystoneauth1 import exceptions as ks_exceptions
from novaclient import exceptions as nova_exceptions
from oslo_log import log as logging

from nova_v2v.cmd import check
from nova_v2v.cmd import import_cloud
from nova_v2v.conf import v2v as v2v_conf
from nova_v2v.exports import base
from nova_v2v.exports import ova
from nova_v2v.exports import ovf
from nova_v2v.exports import plan as import_plan
from nova_v2v.exports import reader
from nova_v2v.hardware import translate as hw_translate
from nova_v2v import paths
from nova_v2v.storage import convert as disk_convert
from nova_v2v.storage import disks

LOG = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_CANNOT_ASK = 3
EXIT_FAILED = 4
EXIT_INTERRUPTED = 130

SERVER_GONE_SECONDS = 120
# Neutron's limit on a port's description.
MAX_DESCRIPTION = 255


def _sleep(seconds):
    time.sleep(seconds)


def _property(text):
    """``KEY=VALUE`` of ``--property``."""
    key, sep, value = text.partition('=')
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError('expected KEY=VALUE, not %r'
                                         % text)
    return key.strip(), value


def add_arguments(parser, argv):
    parser.add_argument('export', help='the VMware export: an .ova, an '
                                       '.ovf (or a folder with one) or a '
                                       '.vmx with its disks')
    parser.add_argument('--name', help='the server\'s name (default: the '
                                       'guest\'s)')
    parser.add_argument('--flavor', help='flavor name or ID (default: the '
                                         'smallest public flavor that '
                                         'fits: disk, RAM, vCPUs)')
    parser.add_argument('--network', action='append', default=[],
                        metavar='"SOURCE NETWORK=NET"',
                        help='the Neutron network (name or ID) of the NICs '
                             'on a source network (repeatable; "*=NET" for '
                             'every other); every NIC\'s must map')
    parser.add_argument('--disk-format', choices=import_plan.DISK_FORMATS,
                        help='the image\'s format (default: [v2v] '
                             'translate_disk_format)')
    parser.add_argument('--target', choices=('kvm', 'qemu'), default='kvm',
                        help='the computes\' virt_type (default: kvm)')
    parser.add_argument('--work-dir',
                        help='where to extract and convert the disk '
                             '(default: a new temporary directory); its '
                             'filesystem must have room for them, checked '
                             'before anything is created')
    parser.add_argument('--property', action='append', default=[],
                        type=_property, metavar='KEY=VALUE',
                        help='one more image property (repeatable), over '
                             'the translated hardware\'s (e.g. kernel_id, '
                             'ramdisk_id, os_command_line of a guest booted '
                             'by a kernel of its own)')
    parser.add_argument('--boot-disk-only', action='store_true',
                        help='import the boot disk alone, leaving the '
                             'others out (they would need Cinder volumes)')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan and stop: nothing is written '
                             'or created; the cloud\'s flavors and '
                             'networks are read to plan, and qemu-img info '
                             'reads the boot disk of a VMX or OVF export '
                             'whose capacity the export does not give')
    parser.add_argument('--json', action='store_true',
                        help='the plan or the result as JSON on stdout')
    parser.add_argument('--wait', action=argparse.BooleanOptionalAction,
                        default=True,
                        help='wait for the server to be ACTIVE (default)')
    parser.add_argument('--wait-timeout', type=int, default=1800,
                        help='seconds to wait for the image and the server '
                             '(default: 1800)')
    check.add_auth_arguments(parser, argv)


class Progress(object):
    """Progress lines on stderr, one every few seconds per step."""

    def __init__(self, err, every=5.0):
        self.err = err
        self.every = every
        self.last = {}

    def line(self, text):
        self.err.write('nova-v2v import: %s\n' % text)
        self.err.flush()

    def bytes(self, step, done, total):
        now = time.monotonic()
        final = total and done >= total
        if not final and now - self.last.get(step, -self.every) < self.every:
            return
        self.last[step] = now
        if total:
            self.line('%s: %.1f of %.1f GiB (%d%%)' % (
                step, done / import_plan.GIB, total / import_plan.GIB,
                min(100, done * 100 // total)))
        else:
            self.line('%s: %.1f GiB' % (step, done / import_plan.GIB))


class Ledger(object):
    """What this run created, to undo in reverse order on failure."""

    def __init__(self):
        self.items = []        # (kind, id or path)
        # Kinds whose create lost its answer and whose lookup found
        # nothing: they may exist all the same (the run's marker finds
        # them, see import_plan.PROP_RUN).
        self.unfound = []
        self.run_id = None

    def add(self, kind, ident):
        self.items.append((kind, ident))


def _target(args, conf, export, maps):
    options = v2v_conf.translation_options(conf)
    if args.disk_format:
        options['disk_format'] = args.disk_format
    networks = {src: ('network', net) for src, net in maps.items()
                if src != import_plan.DEFAULT_NETWORK}
    extra = {}
    if import_plan.DEFAULT_NETWORK in maps:
        extra['default_network'] = ('network',
                                    maps[import_plan.DEFAULT_NETWORK])
    return hw_translate.Target(accelerator=args.target,
                               import_dir=export.root_dir,
                               networks=networks, **dict(options, **extra))


def _disk_info(export, disk):
    """The boot disk probed, it and its extents below the export's root.

    :returns: :class:`nova_v2v.storage.convert.SourceInfo`
    :raises: PathEscape, nova_v2v.storage.disks.DiskError
    """
    found = disk_convert.inspect_source(
        paths.confine(export.root_dir, disk.path), disk.format)
    for name in found.extents:
        paths.confine(export.root_dir, name)
    return found


def free_bytes(path):
    """The bytes free on the filesystem of ``path``, or where it would be.

    :returns: ``(the directory asked: path or its nearest existing
        parent, bytes an unprivileged user may write there)``
    :raises: OSError
    """
    path = os.path.abspath(path)
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    st = os.statvfs(path)
    return path, st.f_bavail * st.f_frsize


def check_work_space(work_dir, needed):
    """Refuse if the work directory's filesystem cannot hold ``needed``.

    :raises: nova_v2v.exports.plan.NoWorkSpace, OSError
    """
    directory, free = free_bytes(work_dir)
    import_plan.check_work_space(directory, needed, free)


def prepare(args, conf, cloud, maps):
    """Read, translate, ask the cloud, plan; check the work directory.

    :param maps: ``{source network: network}`` of ``--network``
    :returns: ``(export, translation, options, plan)``
    :raises: PlanError (NoWorkSpace: no room for the disks' copies), and
        what reading, translating and asking the cloud raise
    """
    export = reader.read(args.export)
    translation = hw_translate.translate(export.domain_xml,
                                         _target(args, conf, export, maps))
    options = import_plan.Options(
        name=args.name, flavor=args.flavor, networks=maps,
        disk_format=(args.disk_format or
                     v2v_conf.translation_options(conf)['disk_format']),
        boot_disk_only=args.boot_disk_only,
        properties=dict(args.property))
    # Without the cloud: refusals that need none come first.
    disk = import_plan.make_plan(export, translation, options).boot_disk
    capacities = {}
    if disk.capacity is None and not disk.member:
        # Read only: qemu-img info, the disk's files confined.
        capacities[disk.target] = _disk_info(export, disk).virtual_size
    result = import_plan.make_plan(
        export, translation, options, flavors=cloud.flavors(),
        networks=cloud.networks(), capacities=capacities)
    # Where execute() writes: --work-dir, else a new directory in the
    # temporary directory (tempfile.mkdtemp's).
    check_work_space(args.work_dir or tempfile.gettempdir(),
                     result.work_bytes)
    return export, translation, options, result


def _extract(export, work_dir, ledger, progress):
    """An OVA's disks written below ``work_dir``, their digests checked.

    The OVA is read again with its root there (``work_dir/ova``), so that
    its disks' paths are where :func:`nova_v2v.exports.ova.extract` writes
    them; what this run writes is in ``ledger`` first.

    :returns: the export as read again
    """
    root = os.path.join(work_dir, 'ova')
    if not os.path.lexists(root):
        ledger.add('dir', root)
    export = ova.read(export.source, work_dir=root)
    for d in export.disks:
        if d.member and not os.path.lexists(d.path):
            ledger.add('file', d.path)
    ova.extract(export, progress=lambda done, total: progress.bytes(
        'extracting', done, total))
    return export


def _wait(what, poll, timeout, ready, failed, error):
    """Poll until ``ready``; :raises: ``error`` or StepTimeout."""
    deadline = time.monotonic() + timeout
    while True:
        status, detail = poll()
        if status in ready:
            return status
        if status in failed or status is None:
            raise error('%s is %s%s' % (what, status or 'gone',
                                        ': %s' % detail if detail else ''))
        if time.monotonic() > deadline:
            raise import_cloud.StepTimeout('%s still %s after %d s'
                                           % (what, status, timeout))
        _sleep(import_cloud.POLL_SECONDS)


def execute(args, cloud, export, translation, options, planned, progress,
            ledger, timings):
    """The import's writes; each created thing in ``ledger`` first."""
    # Marks what this run creates in the cloud, to find it again.
    run_id = str(uuid.uuid4())
    ledger.run_id = run_id
    made_dir = False
    work_dir = args.work_dir
    if not work_dir:
        work_dir = tempfile.mkdtemp(prefix='nova-v2v-import-')
        made_dir = True
        ledger.add('dir', work_dir)
    elif not os.path.isdir(work_dir):
        os.makedirs(work_dir)
        made_dir = True
        ledger.add('dir', work_dir)
    # The ports first: Neutron's MAC policy (403) or a MAC in use (409)
    # is known in a second, not after the disk's copy.
    start = time.monotonic()
    port_ids = []
    for index, port in enumerate(planned.ports):
        name = '%s-nic%d' % (planned.name, index)
        description = ('%s=%s: nova-v2v import of %s (%s)' % (
            import_plan.PROP_RUN, run_id, export.source,
            port.source_network))[:MAX_DESCRIPTION]
        port_id = import_cloud.create_recorded(
            'port', lambda: cloud.create_port(port.network_id, port.mac,
                                              name, description),
            lambda: cloud.find_ports(name, description), ledger, progress)
        port_ids.append(port_id)
        progress.line('port %s on %s, MAC %s'
                      % (port_id, port.network, port.mac or '(new)'))
    timings['ports'] = time.monotonic() - start

    disk = planned.boot_disk
    start = time.monotonic()
    if any(d.member for d in export.disks):
        progress.line('extracting the disks of %s' % export.source)
        index = export.disks.index(disk)
        export = _extract(export, work_dir, ledger, progress)
        disk = export.disks[index]
        timings['extract'] = time.monotonic() - start
    elif disk.digest:
        # An OVF folder's disk, checked as an OVA's is when extracted.
        progress.line('checking %s against the manifest' % disk.path)
        ovf.check_file(disk.path, disk.digest,
                       progress=lambda done, total: progress.bytes(
                           'checking', done, total))
        timings['check'] = time.monotonic() - start
    found = _disk_info(export, disk)
    if planned.capacity is None or found.virtual_size > planned.capacity:
        # The room to convert it was not counted before it was read, or
        # counted for a smaller disk than it is (the export understated
        # it): count it now, the extracted files being there already.
        check_work_space(work_dir, import_plan.work_bytes(
            (), found.virtual_size))
    if planned.capacity != found.virtual_size:
        # Unknown until now, or not what the export said: the plan again,
        # with the flavor's disk checked against the disk as it is.
        planned = import_plan.make_plan(
            export, translation, options, flavors=cloud.flavors(),
            networks=cloud.networks(),
            capacities={disk.target: found.virtual_size})
    dest = os.path.join(work_dir, 'boot-disk.%s' % planned.image.disk_format)
    if os.path.lexists(dest):
        raise import_cloud.ImportFailed('%s exists already: not overwritten'
                                        % dest)
    if not made_dir:
        ledger.add('file', dest)
    start = time.monotonic()
    progress.line('converting %s (%s) to %s' % (
        disk.path, disk.format, planned.image.disk_format))
    size = found.virtual_size
    disk_convert.convert(
        disk.path, disk.format, dest, planned.image.disk_format,
        progress=lambda pct: progress.bytes('converting',
                                            int(size * pct / 100), size))
    timings['convert'] = time.monotonic() - start

    start = time.monotonic()
    image = dataclasses.replace(planned.image, properties=dict(
        planned.image.properties, **{import_plan.PROP_RUN: run_id}))
    image_id = import_cloud.create_recorded(
        'image', lambda: cloud.create_image(image),
        lambda: cloud.find_images(run_id), ledger, progress)
    progress.line('image %s created; uploading %s' % (image_id, dest))
    body = import_cloud.Upload(dest, progress)
    try:
        cloud.upload_image(image_id, body)
    finally:
        body.close()
    _wait('image %s' % image_id,
          lambda: (cloud.image_status(image_id), None), args.wait_timeout,
          ('active',), ('killed', 'deleted', 'deactivated'),
          import_cloud.ImageFailed)
    stored_note = import_cloud.check_stored(cloud.image_record(image_id), body)
    timings['image'] = time.monotonic() - start

    start = time.monotonic()
    server_id = import_cloud.create_recorded(
        'server', lambda: cloud.create_server(
            planned.name, image_id, planned.flavor.id, port_ids,
            metadata={import_plan.PROP_RUN: run_id}),
        lambda: cloud.find_servers(planned.name, run_id), ledger, progress)
    progress.line('server %s created' % server_id)
    status = 'BUILD'
    if args.wait:
        status = _wait('server %s' % server_id,
                       lambda: cloud.server_status(server_id),
                       args.wait_timeout,
                       ('ACTIVE',), ('ERROR',),
                       import_cloud.ServerFailed)
        progress.line('server %s is %s' % (server_id, status))
    timings['server'] = time.monotonic() - start
    return {'server_id': server_id, 'server_status': status,
            'image_id': image_id, 'port_ids': port_ids,
            'flavor': planned.flavor.name, 'name': planned.name,
            'run_id': run_id,
            'notes': list(planned.notes) + [n for n in (stored_note,) if n]}


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def remove_files(ledger, progress):
    """The run's extracted and converted files, once the server is made.

    Best effort: the server, its ports and its image are the import's
    result now, and nothing here deletes them.

    :returns: ``[(kind, path, error)]`` of what could not be removed
    """
    left = []
    for kind, path in reversed(ledger.items):
        if kind not in ('file', 'dir'):
            continue
        try:
            _remove(path)
        except OSError as exc:
            LOG.warning('Could not remove %(path)s: %(exc)s',
                        {'path': path, 'exc': exc})
            progress.line('could not remove %s: %s' % (path, exc))
            left.append((kind, path, str(exc)))
    return left


def cleanup(cloud, ledger, progress):
    """Delete what this run created, newest first.

    :returns: ``(cleaned, left)``: ``[(kind, id)]`` and
        ``[(kind, id, error)]``
    """
    cleaned, left = [], []
    for kind, ident in reversed(ledger.items):
        try:
            if kind == 'server':
                cloud.delete_server(ident)
                # Its ports are unbound once it is gone.
                _wait_gone(cloud, ident)
            elif kind == 'port':
                cloud.delete_port(ident)
            elif kind == 'image':
                cloud.delete_image(ident)
            else:
                _remove(ident)
        except Exception as exc:
            left.append((kind, ident, str(exc)))
            progress.line('could not delete %s %s: %s' % (kind, ident, exc))
            continue
        cleaned.append((kind, ident))
        progress.line('deleted %s %s' % (kind, ident))
    for kind in ledger.unfound:
        reason = ('its create lost its answer and no %s marked %s=%s was '
                  'found: look for one' % (kind, import_plan.PROP_RUN,
                                           ledger.run_id))
        left.append(('maybe-%s' % kind, ledger.run_id, reason))
        progress.line('NOT deleted: maybe a %s: %s' % (kind, reason))
    return cleaned, left


def _wait_gone(cloud, server_id):
    deadline = time.monotonic() + SERVER_GONE_SECONDS
    while cloud.server_status(server_id)[0] is not None:
        if time.monotonic() > deadline:
            LOG.warning('Server %s not gone after %d s: deleting its ports '
                        'anyway', server_id, SERVER_GONE_SECONDS)
            return
        _sleep(import_cloud.POLL_SECONDS)


def _refused(args, out, err, exc, code):
    """Before anything was created: the reason, and the exit status."""
    text = str(exc) or 'interrupted before anything was created'
    if args.json:
        out.write(json.dumps({'ok': False, 'error': text,
                              'error_type': type(exc).__name__,
                              'cleaned': [], 'left': []}, indent=2) + '\n')
    err.write('nova-v2v import: %s: %s\n' % (type(exc).__name__, text))
    return code


def run(args, conf, cloud_factory=None, out=None, err=None):
    """Import (or plan) an export; the exit status.

    :param cloud_factory: ``args -> import_cloud.Cloud`` (tests give a
        fake)
    """
    out = out or sys.stdout
    err = err or sys.stderr
    progress = Progress(err)
    timings = {}
    start = time.monotonic()
    try:
        maps = import_plan.parse_network_maps(args.network)
    except ValueError as exc:
        return _refused(args, out, err, exc, EXIT_USAGE)
    try:
        cloud = (cloud_factory or _cloud)(args)
        export, translation, options, planned = prepare(args, conf, cloud,
                                                        maps)
    except (base.ExportError, hw_translate.TranslationError,
            paths.PathEscape, import_plan.PlanError, disks.DiskError,
            OSError, ValueError) as exc:
        # ValueError: a definition that is no domain (inspect's errors).
        return _refused(args, out, err, exc, EXIT_REFUSED)
    except (check.CannotAsk, ks_exceptions.ClientException,
            nova_exceptions.ClientException) as exc:
        return _refused(args, out, err, exc, EXIT_CANNOT_ASK)
    except KeyboardInterrupt as exc:
        return _refused(args, out, err, exc, EXIT_INTERRUPTED)
    timings['plan'] = time.monotonic() - start
    if args.dry_run:
        if args.json:
            out.write(json.dumps(dict(planned.to_dict(), dry_run=True),
                                 indent=2, sort_keys=True) + '\n')
        else:
            out.write(planned.to_text() + '\n')
        return EXIT_OK
    ledger = Ledger()
    try:
        result = execute(args, cloud, export, translation, options, planned,
                         progress, ledger, timings)
    except (Exception, KeyboardInterrupt) as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        error = 'interrupted' if interrupted else str(exc)
        err.write('nova-v2v import: %s: %s; cleaning up\n'
                  % (type(exc).__name__, error))
        cleaned, left = cleanup(cloud, ledger, progress)
        if args.json:
            out.write(json.dumps({
                'ok': False, 'error': error,
                'error_type': type(exc).__name__,
                'cleaned': [list(c) for c in cleaned],
                'left': [list(item) for item in left],
                'timings': timings}, indent=2, sort_keys=True) + '\n')
        err.write('nova-v2v import: failed (%s); deleted: %s%s\n' % (
            type(exc).__name__,
            ', '.join('%s %s' % c for c in cleaned) or 'nothing',
            '; NOT deleted: %s' % ', '.join('%s %s (%s)' % item
                                            for item in left)
            if left else ''))
        return EXIT_INTERRUPTED if interrupted else EXIT_FAILED
    # Done with the extracted and converted files: the disk is in Glance.
    try:
        left = remove_files(ledger, progress)
    except KeyboardInterrupt:
        left = [('dir', '(interrupted)', 'interrupted while removing the '
                 'work files; the server was kept')]
    timings['total'] = time.monotonic() - start
    result = dict(result, ok=True, timings=timings,
                  left=[list(item) for item in left])
    if args.json:
        out.write(json.dumps(result, indent=2, sort_keys=True) + '\n')
    else:
        out.write('imported %s as server %s (%s), image %s, ports %s\n' % (
            args.export, result['name'], result['server_id'],
            result['image_id'], ', '.join(result['port_ids']) or '(none)'))
    return EXIT_OK


def _cloud(args):
    return import_cloud.Cloud(check.session(args), args.os_region_name,
                              args.os_interface)
