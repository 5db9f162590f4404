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

"""Convert foreign disk images to qcow2 or raw with qemu-img.

Three steps, each usable alone:

``inspect_source(path, fmt)``
    ``qemu-img info`` (under resource limits) *probes* the image and the
    declared format must match the probed one: a raw file whose first
    bytes claim to be qcow2 is refused, never followed.  Backing files,
    qcow2 external data files, and vmdk extents outside the source's
    directory (a descriptor pointing at ``/etc/shadow``) are refused too.
    Probing is the only time qemu-img guesses a format: every later
    command passes ``-f``/``-O``/``-F`` explicitly.

``plan_conversion(source_format, dest_format, virtual_size, ...)``
    Pure: the ``qemu-img convert`` arguments and notes on the known traps
    (vpc's CHS geometry, vhdx that libvirt 9.0 does not run).

``convert(source_path, source_format, dest_path, dest_format, ...)``
    Inspects, plans, runs ``qemu-img convert -p`` through
    ``processutils.execute`` and verifies: equal virtual size and
    ``qemu-img compare`` (content identical, holes read as zeros).  The
    destination is created with ``O_EXCL`` first, so a pre-existing file is
    never overwritten, and it is removed on any failure.

Progress: ``processutils.execute`` only returns output when the command
ends, so the progress reader runs in its ``on_execute`` hook: it reads
qemu-img's ``-p`` lines (``"    (12.34/100%)\\r"``) from the child's
stdout until EOF, then ``execute`` collects the (empty) rest and the exit
status as usual.  qemu-img convert writes to stderr only when it fails, a
few lines, far below a pipe's buffer, so the unread stderr cannot block
it.  A progress callback that raises cancels the conversion: qemu-img is
killed and the partial destination removed.
"""

import dataclasses
import errno
import json
import os
import re
import struct
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v.storage import disks

LOG = logging.getLogger(__name__)

SOURCE_FORMATS = ('vmdk', 'vhdx', 'vpc', 'qcow2', 'raw')
DEST_FORMATS = ('qcow2', 'raw')
# vmdk subformats (qemu-img info "create-type") accepted as sources.
# A flat or split disk is a descriptor and extent files, which must all
# be in the descriptor's directory (_confined_extents); an ESXi datastore's
# disk is a "vmfs" descriptor and its -flat.vmdk.
VMDK_SUBFORMATS = ('monolithicSparse', 'streamOptimized', 'monolithicFlat',
                   'vmfs', 'twoGbMaxExtentSparse', 'twoGbMaxExtentFlat')
# Extents that are a raw device of the source host, never read.
VMDK_DEVICE_EXTENTS = ('VMFSRDM', 'VMFSRAW')
# qemu-img -o options a caller may set on the destination, per format.
# Never backing_file, data_file or preallocation (it defeats sparseness).
DEST_OPTIONS = {
    'qcow2': ('compat', 'cluster_size', 'lazy_refcounts',
              'compression_type'),
    'raw': (),
}
# Holes: a run of zeros of at least this size is not written (qemu-img's
# default, spelled out).
SPARSE_SIZE = '4k'
# qemu-img info parses untrusted headers: bound it as Nova does.
QEMU_IMG_LIMITS = processutils.ProcessLimits(cpu_time=30,
                                             address_space=1 << 30)

_PROGRESS_RE = re.compile(r'\((\d+(?:\.\d+)?)/100%\)')


class UnsafeImage(disks.DiskError):
    """The source image is refused for what it would make qemu read."""


class FormatMismatch(UnsafeImage):
    """The declared format is not the format qemu-img probes."""


class ExtentEscape(UnsafeImage):
    """A vmdk extent lies outside the source's directory."""


class BackingFileRefused(UnsafeImage):
    """The source has a backing file or an external data file."""


class DestinationExists(disks.DiskError):
    """The destination path exists; it is never overwritten."""


class ConversionFailed(disks.DiskError):
    """qemu-img convert failed."""


class VerificationFailed(disks.DiskError):
    """The converted disk differs from the source."""


@dataclasses.dataclass(frozen=True)
class SourceInfo:
    path: str
    format: str
    virtual_size: int
    actual_size: int
    subformat: str = None
    extents: tuple = ()
    vpc_footer: dict = None
    # The real path of its (confined) backing file, if it has one.
    backing: str = None


@dataclasses.dataclass(frozen=True)
class ConversionPlan:
    source_format: str
    dest_format: str
    virtual_size: int
    # qemu-img convert arguments without the two paths.
    args: tuple
    # False for qcow2->qcow2 and raw->raw: still a qemu-img convert, which
    # copies sparsely (and drops a qcow2's internal snapshots).
    needs_conversion: bool
    source_subformat: str = None
    notes: tuple = ()

    def command(self, source_path, dest_path):
        """The full argument list; paths are made absolute.

        An absolute path cannot be read as an option ("-f...") nor as a
        qemu protocol prefix ("nbd:", "json:{...}").
        """
        return list(self.args) + [os.path.abspath(source_path),
                                  os.path.abspath(dest_path)]


@dataclasses.dataclass(frozen=True)
class ConversionResult:
    source_path: str
    dest_path: str
    source_format: str
    source_subformat: str
    dest_format: str
    virtual_size: int
    # st_blocks * 512 of the source file (and its extents) and of the
    # destination.
    allocated_before: int
    allocated_after: int
    seconds: float
    convert_seconds: float
    verify_seconds: float
    needs_conversion: bool
    notes: tuple = ()

    def to_dict(self):
        data = dataclasses.asdict(self)
        data['notes'] = list(self.notes)
        return data


def _check_formats(source_format, dest_format):
    if source_format not in SOURCE_FORMATS:
        raise disks.UnsupportedFormat(
            'source format %r is not one of %s'
            % (source_format, ', '.join(SOURCE_FORMATS)))
    if dest_format not in DEST_FORMATS:
        raise disks.UnsupportedFormat(
            'destination format %r is not one of %s'
            % (dest_format, ', '.join(DEST_FORMATS)))


def _option_string(dest_format, dest_options):
    allowed = DEST_OPTIONS[dest_format]
    items = []
    for key in sorted(dest_options or {}):
        value = str(dest_options[key])
        if key not in allowed:
            raise disks.UnsupportedFormat(
                'option %r is not allowed for %s (allowed: %s)'
                % (key, dest_format, ', '.join(allowed) or 'none'))
        # A comma would start another option (backing_file=...).
        if not value or not re.match(r'^[A-Za-z0-9._-]+$', value):
            raise disks.UnsupportedFormat('bad value %r for option %s'
                                          % (value, key))
        items.append('%s=%s' % (key, value))
    return ','.join(items)


def plan_conversion(source_format, dest_format, virtual_size,
                    source_subformat=None, dest_options=None,
                    vpc_footer=None):
    """Plan a qemu-img conversion (pure: runs nothing).

    ``virtual_size`` is the size qemu-img reports for the source; the
    destination gets exactly that size.  ``source_subformat`` is a vmdk's
    create-type; ``vpc_footer`` the dict of :func:`read_vpc_footer`, only
    used for the notes.
    """
    _check_formats(source_format, dest_format)
    virtual_size = int(virtual_size)
    if virtual_size <= 0:
        raise disks.DiskError('virtual size %d is not positive'
                              % virtual_size)
    notes = []
    if source_format == 'vmdk':
        if source_subformat not in VMDK_SUBFORMATS:
            raise disks.UnsupportedFormat(
                'vmdk subformat %r is not one of %s'
                % (source_subformat, ', '.join(VMDK_SUBFORMATS)))
        notes.append('vmdk %s' % source_subformat)
    elif source_subformat is not None:
        raise disks.UnsupportedFormat('a subformat (%r) only applies to '
                                      'vmdk, not %s'
                                      % (source_subformat, source_format))
    if source_format == 'vhdx':
        notes.append('vhdx cannot be run by libvirt 9.0: converted to %s'
                     % dest_format)
    if source_format == 'vpc':
        notes.append(_vpc_note(virtual_size, vpc_footer))
    needs_conversion = source_format != dest_format
    if not needs_conversion:
        notes.append('same format: sparse copy with qemu-img convert')
    args = ['qemu-img', 'convert', '-p', '-f', source_format,
            '-O', dest_format, '-S', SPARSE_SIZE]
    options = _option_string(dest_format, dest_options)
    if options:
        args += ['-o', options]
    return ConversionPlan(source_format=source_format,
                          dest_format=dest_format,
                          virtual_size=virtual_size,
                          args=tuple(args),
                          needs_conversion=needs_conversion,
                          source_subformat=source_subformat,
                          notes=tuple(notes))


def _vpc_note(virtual_size, footer):
    note = ('vpc: the size qemu-img reports (%d) is kept; an image '
            'written without force_size has its size rounded up to its '
            'CHS geometry' % virtual_size)
    if footer:
        note += ('; footer: creator %r, current size %d, CHS size %d'
                 % (footer['creator_app'], footer['current_size'],
                    footer['chs_size']))
    return note


def read_vpc_footer(path):
    """The VHD footer's creator, current size and CHS size (or None).

    Read for the notes only: qemu decides which size to use from the
    creator ('qem2' is qemu with force_size).
    """
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            length = f.tell()
            # A dynamic VHD starts with a copy of the footer.
            for offset in (0, length - 512):
                if offset < 0:
                    continue
                f.seek(offset)
                block = f.read(512)
                if block[:8] == b'conectix':
                    break
            else:
                return None
    except OSError:
        return None
    creator = block[28:32].decode('ascii', 'replace')
    current_size = struct.unpack('>Q', block[48:56])[0]
    cyls, heads, secs = struct.unpack('>HBB', block[56:60])
    return {'creator_app': creator, 'current_size': current_size,
            'chs_size': cyls * heads * secs * 512}


def _qemu_img_info(path, fmt=None):
    args = ['qemu-img', 'info', '--output=json']
    if fmt:
        args += ['-f', fmt]
    try:
        out, _err = processutils.execute(*(args + [path]),
                                         prlimit=QEMU_IMG_LIMITS)
    except processutils.ProcessExecutionError as exc:
        raise disks.DiskError('qemu-img info %s failed: %s'
                              % (path, (exc.stderr or '').strip()))
    return json.loads(out)


def _is_below(path, directory):
    return path.startswith(directory.rstrip(os.sep) + os.sep)


# The formats a backing file in a trusted directory may have (Nova's image
# cache holds raw images, or qcow2 ones without force_raw_images).
BACKING_FORMATS = ('raw', 'qcow2')


def _confined_backing(path, info, backing_dir):
    """The real path of ``path``'s backing file, checked, or refused.

    A backing file is accepted only inside ``backing_dir`` (Nova's image
    cache, which Nova fills and trusts), with its format recorded in the
    image (never probed), and with no backing or data file of its own: the
    conversion then reads a chain of exactly two files that Nova made.

    :raises: BackingFileRefused, DiskError
    """
    backing = info.get('full-backing-filename') or info.get(
        'backing-filename')
    if not backing_dir:
        raise BackingFileRefused('%s has a backing file %s'
                                 % (path, backing))
    if not os.path.isabs(backing):
        backing = os.path.join(os.path.dirname(path), backing)
    real = os.path.realpath(backing)
    directory = os.path.realpath(backing_dir)
    if not _is_below(real, directory):
        raise BackingFileRefused('%s has a backing file %s outside %s'
                                 % (path, backing, directory))
    fmt = info.get('backing-filename-format')
    if fmt not in BACKING_FORMATS:
        raise BackingFileRefused(
            '%s: the format of its backing file %s is %s, not one of %s'
            % (path, backing, fmt or 'not recorded',
               ', '.join(BACKING_FORMATS)))
    if not os.path.exists(real):
        raise disks.DiskError('%s: its backing file %s does not exist'
                              % (path, real))
    inspect_source(real, fmt)
    return real


def inspect_source(path, declared_format, backing_dir=None):
    """Probe path and check it is safe to convert as declared_format.

    :param backing_dir: a directory whose files may back ``path`` (see
        :func:`_confined_backing`); without it a backing file is refused
    :returns: a SourceInfo
    :raises: FormatMismatch, ExtentEscape, BackingFileRefused,
        UnsupportedFormat or DiskError
    """
    if declared_format not in SOURCE_FORMATS:
        raise disks.UnsupportedFormat(
            'source format %r is not one of %s'
            % (declared_format, ', '.join(SOURCE_FORMATS)))
    path = os.path.abspath(path)
    if not os.path.exists(path):
        raise disks.DiskError('%s does not exist' % path)
    # The one deliberate probe (no -f): what the file really is.
    info = _qemu_img_info(path)
    probed = info.get('format')
    if probed != declared_format:
        raise FormatMismatch('%s is declared %s but qemu-img probes %s'
                             % (path, declared_format, probed))
    backing = None
    if info.get('backing-filename') or info.get('full-backing-filename'):
        backing = _confined_backing(path, info, backing_dir)
    specific = (info.get('format-specific') or {}).get('data') or {}
    if specific.get('data-file'):
        raise BackingFileRefused('%s has an external data file %s'
                                 % (path, specific['data-file']))
    if info.get('encrypted'):
        raise disks.UnsupportedFormat('%s is encrypted' % path)
    subformat = None
    extents = ()
    if declared_format == 'vmdk':
        extents = _confined_extents(path, specific.get('extents'))
        subformat = specific.get('create-type')
        if subformat not in VMDK_SUBFORMATS:
            raise disks.UnsupportedFormat(
                '%s: vmdk subformat %r is not one of %s'
                % (path, subformat, ', '.join(VMDK_SUBFORMATS)))
    footer = read_vpc_footer(path) if declared_format == 'vpc' else None
    return SourceInfo(path=path, format=probed,
                      virtual_size=int(info['virtual-size']),
                      actual_size=int(info.get('actual-size') or 0),
                      subformat=subformat, extents=extents,
                      vpc_footer=footer, backing=backing)


def _confined_extents(path, extents):
    """Every extent's real path, all in the source's directory."""
    if not extents:
        raise UnsafeImage('%s: qemu-img lists no vmdk extents' % path)
    directory = os.path.dirname(os.path.realpath(path))
    resolved = []
    for extent in extents:
        name = extent.get('filename') or ''
        if (extent.get('format') or '').upper() in VMDK_DEVICE_EXTENTS:
            raise ExtentEscape('%s: extent %s is a raw device mapping'
                               % (path, name))
        # The source path is absolute, so qemu reports extents absolute.
        if not os.path.isabs(name):
            raise ExtentEscape('%s: extent %r is not an absolute path'
                               % (path, name))
        real = os.path.realpath(name)
        if not _is_below(real, directory):
            raise ExtentEscape('%s: extent %s resolves to %s, outside %s'
                               % (path, name, real, directory))
        resolved.append(real)
    return tuple(resolved)


def parse_progress(text):
    """The percentages in qemu-img -p output ("    (12.34/100%)\\r")."""
    return [float(m) for m in _PROGRESS_RE.findall(text)]


class ProgressReporter(object):
    """Calls callback(percent) at most every min_interval seconds.

    100.0 is always reported, once; percentages never go back.
    """

    def __init__(self, callback, min_interval=1.0, clock=time.monotonic):
        self.callback = callback
        self.min_interval = min_interval
        self.clock = clock
        self.last_time = None
        self.last_percent = None

    def update(self, percent):
        percent = min(max(float(percent), 0.0), 100.0)
        if self.last_percent is not None and percent <= self.last_percent:
            return
        now = self.clock()
        if (percent < 100.0 and self.last_time is not None
                and now - self.last_time < self.min_interval):
            return
        self.last_time = now
        self.last_percent = percent
        if self.callback is not None:
            self.callback(percent)

    def feed(self, text):
        for percent in parse_progress(text):
            self.update(percent)


def _progress_reader(reporter):
    """An on_execute hook: read -p output until qemu-img closes stdout."""

    def on_execute(process):
        stream = process.stdout
        # A native pipe is buffered (read1 returns what is there); a
        # green one under eventlet is raw (read returns what is there).
        read = getattr(stream, 'read1', None) or stream.read
        pending = ''
        try:
            while True:
                chunk = read(4096)
                if not chunk:
                    break
                pending += chunk.decode('ascii', 'replace')
                # Keep a possibly cut "(12.3" for the next chunk.
                cut = max(pending.rfind('\r'), pending.rfind('\n'))
                if cut >= 0:
                    reporter.feed(pending[:cut + 1])
                    pending = pending[cut + 1:]
            reporter.feed(pending)
        except BaseException:
            # A raising callback cancels: execute() would otherwise leave
            # qemu-img running.
            process.kill()
            process.wait()
            raise

    return on_execute


def _reserve(dest_path):
    """Create dest_path, failing if anything (even a symlink) is there."""
    try:
        fd = os.open(dest_path,
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                     0o644)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise DestinationExists('%s exists; refusing to overwrite it'
                                    % dest_path)
        raise ConversionFailed('cannot create %s: %s' % (dest_path, exc))
    os.close(fd)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        LOG.warning('Could not remove the partial disk %(path)s: %(err)s',
                    {'path': path, 'err': exc})


def allocated_bytes(path):
    """Bytes allocated on disk for path (st_blocks, 512-byte units)."""
    return os.stat(path).st_blocks * 512


def verify(source_path, source_format, dest_path, dest_format,
           virtual_size):
    """Equal virtual size and qemu-img compare exit 0, or raise."""
    info = _qemu_img_info(dest_path, dest_format)
    if int(info['virtual-size']) != int(virtual_size):
        raise VerificationFailed(
            '%s has virtual size %s, the source %s has %d'
            % (dest_path, info['virtual-size'], source_path, virtual_size))
    try:
        processutils.execute('qemu-img', 'compare', '-f', source_format,
                             '-F', dest_format, source_path, dest_path)
    except processutils.ProcessExecutionError as exc:
        if exc.exit_code == 1:
            raise VerificationFailed('%s differs from %s: %s'
                                     % (dest_path, source_path,
                                        (exc.stdout or '').strip()))
        raise VerificationFailed('qemu-img compare %s %s failed (%s): %s'
                                 % (source_path, dest_path, exc.exit_code,
                                    (exc.stderr or '').strip()))


def convert(source_path, source_format, dest_path, dest_format,
            progress=None, dest_options=None, progress_interval=1.0,
            check=True, backing_dir=None):
    """Convert source_path to a new dest_path and verify it.

    ``progress(percent)`` is called with a float in [0, 100], at most every
    ``progress_interval`` seconds, 100.0 once at the end of the copy; it
    may raise to cancel.  ``check=False`` skips the verification (size and
    qemu-img compare).  A source with a backing file inside
    ``backing_dir`` is converted whole (the result has no backing file);
    any other backing file is refused.  Returns a ConversionResult.  The
    destination must not exist; it is removed if anything fails.
    """
    _check_formats(source_format, dest_format)
    source_path = os.path.abspath(source_path)
    dest_path = os.path.abspath(dest_path)
    start = time.monotonic()
    source = inspect_source(source_path, source_format, backing_dir)
    plan = plan_conversion(source_format, dest_format, source.virtual_size,
                           source_subformat=source.subformat,
                           dest_options=dest_options,
                           vpc_footer=source.vpc_footer)
    for note in plan.notes:
        LOG.info('Converting %(src)s: %(note)s',
                 {'src': source_path, 'note': note})
    before = sum(allocated_bytes(p)
                 for p in set((source_path,) + source.extents))
    _reserve(dest_path)
    try:
        reporter = ProgressReporter(progress, min_interval=progress_interval)
        copy_start = time.monotonic()
        try:
            processutils.execute(*plan.command(source_path, dest_path),
                                 on_execute=_progress_reader(reporter))
        except processutils.ProcessExecutionError as exc:
            raise ConversionFailed(
                'qemu-img convert %s (%s) to %s (%s) failed: %s'
                % (source_path, source_format, dest_path, dest_format,
                   (exc.stderr or '').strip()))
        reporter.update(100.0)
        convert_seconds = time.monotonic() - copy_start
        verify_start = time.monotonic()
        if check:
            verify(source_path, source_format, dest_path, dest_format,
                   source.virtual_size)
        verify_seconds = time.monotonic() - verify_start
    except BaseException:
        _remove(dest_path)
        raise
    result = ConversionResult(
        source_path=source_path, dest_path=dest_path,
        source_format=source_format, source_subformat=source.subformat,
        dest_format=dest_format, virtual_size=source.virtual_size,
        allocated_before=before, allocated_after=allocated_bytes(dest_path),
        seconds=time.monotonic() - start, convert_seconds=convert_seconds,
        verify_seconds=verify_seconds,
        needs_conversion=plan.needs_conversion, notes=plan.notes)
    LOG.info('Converted %(src)s (%(sfmt)s) to %(dst)s (%(dfmt)s): '
             '%(size)d bytes virtual, %(before)d allocated before, '
             '%(after)d after, %(secs).2fs',
             {'src': source_path, 'sfmt': source_format, 'dst': dest_path,
              'dfmt': dest_format, 'size': result.virtual_size,
              'before': before, 'after': result.allocated_after,
              'secs': result.seconds})
    return result
