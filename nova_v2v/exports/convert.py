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

"""An export's disk read and converted with ``qemu-img``.

Thin: ``qemu-img info --output=json`` for a disk's format, virtual size and
files (a VMDK descriptor's extents), under the same resource limits Nova
puts on it for an untrusted image; ``qemu-img convert`` from the format the
export declares (``-f``: never probed) to qcow2 or raw.  VMDK in every
subformat qemu-img reads (streamOptimized, monolithicSparse, monolithicFlat
and its flat extent, twoGbMaxExtent*) and raw.

Progress: ``qemu-img convert -p`` only writes its progress to a terminal
or to the pipe that processutils reads at the end, so the conversion runs
in a thread and its output file's allocated bytes are polled; the
callback gets ``(bytes written, virtual size)``, the size an upper bound
(the output is sparse), and ``(virtual size, virtual size)`` once done.
"""

import json
import os
import threading

from oslo_concurrency import processutils
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

SOURCE_FORMATS = ('vmdk', 'raw', 'qcow2')
TARGET_FORMATS = ('qcow2', 'raw')
# As Nova's nova.virt.images.QEMU_IMG_LIMITS: a crafted image must not
# make qemu-img info take the host's memory or time.
INFO_LIMITS = processutils.ProcessLimits(cpu_time=30,
                                         address_space=1024 ** 3)
POLL_SECONDS = 2.0


class ConvertError(Exception):
    """A disk of the export could not be read or converted."""


class ImageInfoError(ConvertError):
    """``qemu-img info`` failed or said something unexpected."""


class FormatMismatch(ConvertError):
    """The disk is not in the format the export declares."""


class ConversionFailed(ConvertError):
    """``qemu-img convert`` failed."""


def _error_text(exc):
    return (exc.stderr or exc.stdout or str(exc)).strip()


def info(path, fmt=None):
    """What ``qemu-img info`` says of a disk.

    :param fmt: the format the export declares: given to qemu-img (``-f``)
        and checked
    :returns: ``{'format', 'virtual_size', 'files'}``: ``files`` every file
        the image reads (itself and a VMDK's extents), absolute
    :raises: ImageInfoError, FormatMismatch
    """
    cmd = ['qemu-img', 'info', '--output=json']
    if fmt:
        cmd += ['-f', fmt]
    cmd.append(path)
    try:
        out, _err = processutils.execute(*cmd, prlimit=INFO_LIMITS)
    except processutils.ProcessExecutionError as exc:
        raise ImageInfoError('qemu-img info %s: %s'
                             % (path, _error_text(exc)))
    except OSError as exc:
        raise ImageInfoError('qemu-img info %s: %s' % (path, exc))
    try:
        data = json.loads(out)
        size = int(data['virtual-size'])
    except (ValueError, KeyError, TypeError) as exc:
        raise ImageInfoError('qemu-img info %s: unexpected output (%s)'
                             % (path, exc))
    found = data.get('format')
    if fmt and found != fmt:
        raise FormatMismatch('%s is %s, not %s as the export says'
                             % (path, found, fmt))
    files = [path]
    specific = (data.get('format-specific') or {}).get('data') or {}
    base = os.path.dirname(path)
    for extent in specific.get('extents') or ():
        name = extent.get('filename')
        if name:
            files.append(os.path.normpath(os.path.join(base, name)))
    if data.get('backing-filename'):
        raise ImageInfoError('%s has a backing file (%s): not a disk of an '
                             'export' % (path, data['backing-filename']))
    return {'format': found, 'virtual_size': size, 'files': files}


def _allocated(path):
    try:
        return os.stat(path).st_blocks * 512
    except OSError:
        return 0


def convert(source, source_format, dest, dest_format, progress=None,
            virtual_size=None, poll=POLL_SECONDS):
    """Convert a disk with ``qemu-img convert``.

    :param source: the disk (a VMDK descriptor or data file, raw)
    :param source_format: its format as the export declares it
    :param dest: the output file (replaced)
    :param dest_format: qcow2 or raw
    :param progress: called with ``(bytes written, virtual size)``
    :param virtual_size: the disk's virtual size, for progress
    :raises: ConversionFailed
    """
    if source_format not in SOURCE_FORMATS:
        raise ConversionFailed('cannot convert from %r (formats: %s)'
                               % (source_format, ', '.join(SOURCE_FORMATS)))
    if dest_format not in TARGET_FORMATS:
        raise ConversionFailed('cannot convert to %r (formats: %s)'
                               % (dest_format, ', '.join(TARGET_FORMATS)))
    cmd = ['qemu-img', 'convert', '-f', source_format, '-O', dest_format]
    if dest_format == 'qcow2':
        cmd += ['-o', 'compat=1.1']
    cmd += [source, dest]
    LOG.info('Converting %(src)s (%(sf)s) to %(dest)s (%(df)s)',
             {'src': source, 'sf': source_format, 'dest': dest,
              'df': dest_format})
    outcome = {}

    def _run():
        try:
            processutils.execute(*cmd)
        except Exception as exc:  # reported below, in the caller's thread
            outcome['error'] = exc

    worker = threading.Thread(target=_run, name='qemu-img-convert',
                              daemon=True)
    worker.start()
    total = virtual_size or 0
    while True:
        worker.join(poll)
        if not worker.is_alive():
            break
        if progress:
            progress(_allocated(dest), total)
    exc = outcome.get('error')
    if isinstance(exc, processutils.ProcessExecutionError):
        raise ConversionFailed('qemu-img convert %s: %s'
                               % (source, _error_text(exc)))
    if exc is not None:
        raise ConversionFailed('qemu-img convert %s: %s' % (source, exc))
    if progress:
        progress(total, total)
