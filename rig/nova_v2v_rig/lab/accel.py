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

"""Decide whether the lab can run guests with KVM or must use TCG.

``/dev/kvm`` existing is not enough: nested software KVM such as
``kvm_pvm`` opens fine but cannot boot a stock distribution kernel.  The
fast path recognises such modules; otherwise a boot probe starts the lab
guest under KVM with a short deadline and waits for its probe line.
"""

import os
import tempfile

from oslo_concurrency import processutils
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

KVM_DEVICE = '/dev/kvm'
# Software/paravirtual KVM implementations that need guest kernel support.
UNBOOTABLE_KVM_MODULES = ('kvm_pvm',)
PROBE_LINE = 'LABPROBE OK'
PROBE_DEADLINE = 20


def _loaded_modules():
    try:
        return set(os.listdir('/sys/module'))
    except OSError:
        return set()


def _boot_probe(image, deadline):
    with tempfile.TemporaryDirectory(prefix='nova-v2v-kvm-probe-') as tmp:
        log = os.path.join(tmp, 'serial.log')
        try:
            processutils.execute(
                'timeout', '--signal=KILL', str(deadline),
                'qemu-system-x86_64', '-accel', 'kvm',
                '-machine', 'pc', '-cpu', 'qemu64', '-m', '128',
                '-kernel', image.kernel, '-initrd', image.initrd,
                '-append', 'console=ttyS0 quiet lab.probe=1',
                '-display', 'none', '-monitor', 'none', '-nic', 'none',
                '-serial', 'file:%s' % log, '-no-reboot',
                check_exit_code=[0, 124, 137])
        except processutils.ProcessExecutionError as exc:
            LOG.info('KVM boot probe failed to run: %(err)s', {'err': exc})
            return False
        try:
            with open(log, errors='replace') as f:
                return PROBE_LINE in f.read()
        except OSError:
            return False


def detect(image, cache_file=None, deadline=PROBE_DEADLINE):
    """Return ('kvm'|'qemu', reason) for guests built from image."""
    if not os.path.exists(KVM_DEVICE):
        return 'qemu', '%s missing' % KVM_DEVICE
    if not os.access(KVM_DEVICE, os.R_OK | os.W_OK):
        return 'qemu', '%s not accessible' % KVM_DEVICE
    unbootable = _loaded_modules().intersection(UNBOOTABLE_KVM_MODULES)
    if unbootable:
        return 'qemu', ('KVM is provided by %s, which cannot boot a stock '
                        'kernel' % ', '.join(sorted(unbootable)))
    key = '%s %s' % (_boot_id(), image.version)
    if cache_file and os.path.exists(cache_file):
        with open(cache_file) as f:
            cached = f.read().split('\n')
        if len(cached) >= 2 and cached[0] == key:
            return cached[1], 'cached boot probe'
    ok = _boot_probe(image, deadline)
    result = 'kvm' if ok else 'qemu'
    if cache_file:
        with open(cache_file, 'w') as f:
            f.write('%s\n%s\n' % (key, result))
    reason = ('KVM boot probe passed' if ok else
              'KVM boot probe did not finish within %ss' % deadline)
    return result, reason


def _boot_id():
    try:
        with open('/proc/sys/kernel/random/boot_id') as f:
            return f.read().strip()
    except OSError:
        return 'unknown'
