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

"""Optional step: guest OS fix-ups with Debian's ``virt-v2v-in-place``.

The translator changes the domain's *hardware*; what the guest OS needs
to boot on that hardware (virtio drivers in the initramfs, ``/dev/sdX``
to ``/dev/vdX`` in fstab and the boot loader, the QEMU guest agent) is
``virt-v2v-in-place``'s job.  It edits the disks named by a libvirt
domain XML **in place, with no backup**: run it on a shut-off guest, or
on a copy.

What it takes on Debian 12 (virt-v2v 2.2.0, libguestfs 1.48), all checked
by ``missing_prerequisites()``:

* ``virt-v2v`` (``/usr/bin/virt-v2v-in-place``);
* ``nbdkit``: ``-i libvirtxml`` needs it, but Debian's virt-v2v 2.2.0-1
  neither depends on nor recommends it ("nbdkit is not installed or not
  working");
* a kernel on the host for the libguestfs appliance, which supermin looks
  for in ``/boot`` and ``/lib/modules/*/vmlinuz`` (or ``SUPERMIN_KERNEL``):
  e.g. ``linux-image-cloud-amd64``.

The libguestfs appliance always runs with ``LIBGUESTFS_BACKEND=direct``
(QEMU started by libguestfs itself, no libvirt daemon involved); add
``LIBGUESTFS_BACKEND_SETTINGS=force_tcg`` through ``env`` where KVM cannot
boot it.  The tool runs with ``--machine-readable``: virt-v2v 2.2 then
prints one JSON object per status message on stdout (``{"message": ...,
"timestamp": ..., "type": "message"|"warning"|...}``) besides its usual
lines, and ``run_in_place`` returns those messages.
"""

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import time

from lxml import etree
from oslo_concurrency import processutils
from oslo_log import log as logging

from nova_v2v.storage import disks

LOG = logging.getLogger(__name__)

BINARY = 'virt-v2v-in-place'
# Where Debian installs it; other distributions used /usr/libexec.
BINARY_PATHS = ('/usr/bin/virt-v2v-in-place',
                '/usr/libexec/virt-v2v-in-place')
NBDKIT = 'nbdkit'
# A whole conversion under TCG takes about 6 minutes for a 600 MiB guest.
DEFAULT_TIMEOUT = 1800
# Seconds between SIGTERM and SIGKILL when a run times out.
KILL_GRACE = 30
STDERR_TAIL_LINES = 20
ROOT_CHOICES = ('single', 'first')
_PROGRESS = re.compile(r'^[0-9]+/[0-9]+$')


class InPlaceError(Exception):
    """Base of this module's errors."""


class InPlaceUnavailable(InPlaceError):
    """virt-v2v-in-place (or what it needs) is not installed here."""


class InPlaceRefused(InPlaceError):
    """The domain XML names no disk, or disks that cannot be converted."""


class InPlaceFailed(InPlaceError):
    """virt-v2v-in-place ran and failed.

    ``exit_code`` is its exit status, ``stderr_tail`` the last lines of
    its stderr and ``messages`` the machine-readable messages it printed.
    """

    def __init__(self, message, exit_code=None, stderr_tail='',
                 messages=()):
        if stderr_tail:
            message = '%s: %s' % (message, stderr_tail)
        super(InPlaceFailed, self).__init__(message)
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail
        self.messages = list(messages)


class InPlaceTimeout(InPlaceFailed):
    """virt-v2v-in-place did not finish in time and was killed."""


@dataclasses.dataclass
class InPlaceMessage:
    type: str
    message: str
    timestamp: str = ''


@dataclasses.dataclass
class InPlaceResult:
    """What a successful run reported."""

    domain_xml_path: str
    disks: list
    elapsed: float
    messages: list
    stdout: str = ''
    stderr: str = ''

    @property
    def warnings(self):
        return [m.message for m in self.messages if m.type == 'warning']


def find_binary():
    """Path of virt-v2v-in-place, or None."""
    found = shutil.which(BINARY)
    if found:
        return found
    for path in BINARY_PATHS:
        if os.access(path, os.X_OK):
            return path
    return None


def _host_kernel_present():
    """Whether supermin can find a kernel for the appliance."""
    if os.environ.get('SUPERMIN_KERNEL'):
        return True
    try:
        if any(n.startswith('vmlinuz-') for n in os.listdir('/boot')):
            return True
    except OSError:
        pass
    try:
        versions = os.listdir('/lib/modules')
    except OSError:
        return False
    return any(os.path.exists(os.path.join('/lib/modules', v, 'vmlinuz'))
               for v in versions)


def missing_prerequisites():
    """Human-readable reasons the step cannot run here ([] when it can)."""
    problems = []
    if not find_binary():
        problems.append('%s not found; install with: apt-get install '
                        'virt-v2v' % BINARY)
    if not shutil.which(NBDKIT):
        problems.append('nbdkit not found (needed by -i libvirtxml); '
                        'install with: apt-get install nbdkit')
    if not _host_kernel_present():
        problems.append('no kernel in /boot for the libguestfs appliance; '
                        'install one, e.g. apt-get install '
                        'linux-image-cloud-amd64')
    return problems


def available():
    """True when virt-v2v-in-place and what it needs are installed."""
    return not missing_prerequisites()


def capabilities():
    """The feature list of ``virt-v2v-in-place --machine-readable``."""
    binary = find_binary()
    if not binary:
        raise InPlaceUnavailable('%s not found' % BINARY)
    out, _err = processutils.execute(binary, '--machine-readable')
    return [line.strip() for line in out.splitlines() if line.strip()]


def domain_disks(domain_xml_path):
    """Absolute paths of the file-backed disks of a domain XML.

    virt-v2v-in-place resolves relative paths against its own working
    directory, so they are refused; so are missing files and a domain
    without disks.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        tree = etree.parse(domain_xml_path, parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise InPlaceRefused('cannot read %s: %s' % (domain_xml_path, exc))
    paths = []
    for disk in tree.findall('./devices/disk'):
        if disk.get('device', 'disk') != 'disk':
            continue
        source = disk.find('source')
        path = source.get('file') if source is not None else None
        if disk.get('type') != 'file' or not path:
            raise InPlaceRefused('only file-backed disks can be converted '
                                 'in place (disk of type %r)'
                                 % disk.get('type'))
        if not os.path.isabs(path):
            raise InPlaceRefused('disk path %r is not absolute' % path)
        if not os.path.isfile(path):
            raise InPlaceRefused('disk %s does not exist' % path)
        paths.append(path)
    if not paths:
        raise InPlaceRefused('%s describes no disk' % domain_xml_path)
    return paths


def parse_messages(stdout):
    """The JSON status messages of a ``--machine-readable`` run."""
    messages = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith('{'):
            # Progress ("12/100") and the human-readable copy of each
            # message.
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict) or 'message' not in obj:
            continue
        messages.append(InPlaceMessage(type=str(obj.get('type', 'message')),
                                       message=str(obj['message']),
                                       timestamp=str(obj.get('timestamp',
                                                             ''))))
    return messages


def _tail(text, lines=STDERR_TAIL_LINES):
    return '\n'.join((text or '').strip().splitlines()[-lines:])


def _kill_group(proc):
    """SIGTERM the tool's process group, SIGKILL it after KILL_GRACE."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_in_place(domain_xml_path, timeout=DEFAULT_TIMEOUT, env=None,
                 root='single'):
    """Run virt-v2v-in-place on the guest a libvirt domain XML describes.

    The disks are modified in place: the guest must be shut off.  ``env``
    adds to (and may override) this process's environment, except that
    ``LIBGUESTFS_BACKEND`` is always ``direct``.  ``root`` is passed as
    ``--root``: ``single`` (the default) fails on a multi-boot guest
    rather than guessing, ``first`` picks the first root found.

    Returns an InPlaceResult.  Raises InPlaceUnavailable, InPlaceRefused,
    InPlaceTimeout or InPlaceFailed.
    """
    if root not in ROOT_CHOICES and not str(root).startswith('/dev/'):
        raise ValueError('root must be one of %s or a /dev/ path, not %r'
                         % (ROOT_CHOICES, root))
    binary = find_binary()
    if not binary:
        raise InPlaceUnavailable('%s not found; install with: apt-get '
                                 'install virt-v2v nbdkit' % BINARY)
    domain_xml_path = os.path.abspath(domain_xml_path)
    paths = domain_disks(domain_xml_path)
    busy = [p for p in paths if disks.in_use(p)]
    if busy:
        raise InPlaceRefused('disks in use (is the guest running?): %s'
                             % ', '.join(busy))

    child_env = dict(os.environ)
    child_env.update(env or {})
    child_env['LIBGUESTFS_BACKEND'] = 'direct'
    cmd = [binary, '-i', 'libvirtxml', '--machine-readable',
           '--root', root, domain_xml_path]
    procs = []
    LOG.info('Running %(binary)s on %(xml)s (disks: %(disks)s)',
             {'binary': BINARY, 'xml': domain_xml_path,
              'disks': ', '.join(paths)})
    start = time.monotonic()
    try:
        out, err = processutils.execute(
            *cmd, env_variables=child_env, timeout=timeout,
            # Own process group: a timeout kills the appliance's QEMU
            # and nbdkit along with the tool.
            preexec_fn=os.setsid, on_execute=procs.append)
    except OSError as exc:
        raise InPlaceUnavailable('cannot run %s: %s' % (binary, exc))
    except subprocess.TimeoutExpired:
        if procs:
            _kill_group(procs[0])
        raise InPlaceTimeout('%s timed out after %ss on %s'
                             % (BINARY, timeout, domain_xml_path))
    except processutils.ProcessExecutionError as exc:
        messages = parse_messages(exc.stdout or '')
        tail = _tail(exc.stderr)
        if not tail:
            tail = '\n'.join(m.message for m in messages
                             if m.type == 'error')
        raise InPlaceFailed('%s failed on %s (exit code %s)'
                            % (BINARY, domain_xml_path, exc.exit_code),
                            exit_code=exc.exit_code, stderr_tail=tail,
                            messages=messages)
    elapsed = time.monotonic() - start
    result = InPlaceResult(domain_xml_path=domain_xml_path, disks=paths,
                           elapsed=elapsed, messages=parse_messages(out),
                           stdout=out, stderr=err)
    for warning in result.warnings:
        LOG.warning('%(binary)s: %(warning)s',
                    {'binary': BINARY, 'warning': warning})
    LOG.info('%(binary)s converted %(xml)s in %(elapsed).1fs',
             {'binary': BINARY, 'xml': domain_xml_path,
              'elapsed': elapsed})
    return result
