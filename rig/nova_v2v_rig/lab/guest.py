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

"""Build the lab's test guest from Debian packages only.

The guest is a Debian cloud kernel (downloaded with ``apt-get download``
and unpacked, never installed) plus a busybox-static initramfs whose
``/init`` runs the data-integrity workload described in ``WORKLOAD_INIT``.
Built artefacts are cached under ``<state>/cache`` so that a second build
is a no-op.
"""

import gzip
import hashlib
import io
import lzma
import os
import shutil
import stat

from oslo_concurrency import processutils
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

KERNEL_META_PACKAGE = 'linux-image-cloud-amd64'
BUSYBOX = '/bin/busybox'

# Drivers for every lab hardware profile (virtio, VMware-like, IDE) plus
# what busybox acpid needs to see the ACPI power button.
GUEST_MODULES = (
    'virtio_pci', 'virtio_blk', 'virtio_net', 'virtio_scsi',
    'virtio_balloon', 'vmw_pvscsi', 'vmxnet3', 'ata_piix', 'sd_mod',
    'button', 'evdev',
)

# The guest's PID 1.  Record N goes to 512-byte sector N of the data disk,
# the header (sector 0) holds the last record written.  Every write is
# fsync'd and "W <n> <guest time>" is printed on ttyS0 only afterwards.
#
# Everything the guest prints goes through /dev/kmsg to the kernel console
# on ttyS0, never through the ttyS0 tty itself: the console driver writes
# each character by polling the UART (synchronously, under the console
# lock), while the tty path queues output in a buffer drained by transmit
# interrupts and blocks the writer (and every close, for up to 30 s of
# closing_wait) whenever that buffer does not drain.  A line printed by
# "say" is in the serial log when say returns, whatever becomes of the
# UART's transmit interrupt across a migration.  /dev/kmsg is rate
# limited (10 lines per 5 s) unless printk_devkmsg is "on"; printk time
# stamps are switched off so a line reads exactly as printed.
WORKLOAD_INIT = r'''#!/bin/busybox sh
/bin/busybox mkdir -p /bin /proc /sys /dev /tmp /var/run /var/log /mnt
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=192m tmpfs /tmp
echo on > /proc/sys/kernel/printk_devkmsg
echo N > /sys/module/printk/parameters/time
# Console log level 6: "say" lines (level 5, notice) and kernel warnings.
echo 6 > /proc/sys/kernel/printk
say() { echo "<5>$*" > /dev/kmsg; }
arg() {
    for kv in $(cat /proc/cmdline); do
        case "$kv" in "$1"=*) echo "${kv#*=}"; return;; esac
    done
    echo "$2"
}
for m in $(cat /etc/modules.order); do
    insmod "/lib/modules/$m" 2>/dev/null
done
if [ "$(arg lab.probe 0)" = 1 ]; then
    say "LABPROBE OK"
    poweroff -f
fi
INTERVAL=$(arg lab.interval 0.05)
DIRTY_MB=$(arg lab.dirty_mb 0)
DIRTY_SLEEP=$(arg lab.dirty_sleep 1)
FILL_MB=$(arg lab.fill_mb 0)
acpid -c /etc/acpi -l /var/log/acpid.log
DISK=
i=0
while [ -z "$DISK" ] && [ $i -lt 200 ]; do
    for d in /dev/vda /dev/sda /dev/hda /dev/xvda; do
        [ -b $d ] && { DISK=$d; break; }
    done
    [ -z "$DISK" ] && sleep 0.05
    i=$((i + 1))
done
if [ -z "$DISK" ]; then
    say "LABERR no data disk"
    poweroff -f
fi
DRV=$(readlink /sys/block/${DISK#/dev/}/device/driver)
DRV=${DRV##*/}
hdr=$(dd if=$DISK bs=512 count=1 2>/dev/null | tr -d '\000' | head -n 1)
last=0
case "$hdr" in
    LABHDR\ *) last=$(echo "${hdr#LABHDR }" | sed 's/^0*//');;
esac
[ -z "$last" ] && last=0
say "LABSTART disk=$DISK driver=$DRV resume=$((last + 1))"
if [ "$DIRTY_MB" -gt 0 ]; then
    (while [ ! -e /tmp/stop ]; do
        dd if=/dev/urandom of=/tmp/dirty bs=1M count=$DIRTY_MB 2>/dev/null
        sleep $DIRTY_SLEEP
    done) &
fi
if [ "$FILL_MB" -gt 0 ]; then
    # Fresh data past the records (from 512 MiB on): the disk keeps
    # allocating new clusters, as a guest filling its disk does.
    (off=512
    while [ ! -e /tmp/stop ]; do
        dd if=/dev/urandom of=$DISK bs=1M seek=$off count=$FILL_MB \
            conv=fsync 2>/dev/null
        off=$((off + FILL_MB))
        [ $off -ge 1000 ] && off=512
        sleep 1
    done) &
fi
n=$((last + 1))
while [ ! -e /tmp/stop ]; do
    t=$(adjtimex | sed -n 's/.*tv_sec: *//p;s/.*tv_usec: *//p' | tr '\n' ' ')
    set -- $t
    ts=$(printf '%s.%06d' "$1" "$2")
    body=$(printf 'SEQ %010d T %s' $n $ts)
    sum=$(printf '%s' "$body" | md5sum | cut -c1-32)
    printf '%s %s\n' "$body" "$sum" |
        dd of=$DISK bs=512 seek=$n count=1 conv=sync,fsync 2>/dev/null || {
        say "LABERR write $n"; sleep 1; continue; }
    printf 'LABHDR %010d\n' $n |
        dd of=$DISK bs=512 count=1 conv=sync,fsync 2>/dev/null || {
        say "LABERR header $n"; sleep 1; continue; }
    say "W $n $ts"
    n=$((n + 1))
    sleep $INTERVAL
done
sync
say "LABSTOP last=$((n - 1))"
poweroff -f
'''

# busybox acpid runs /etc/acpi/<action> for the power button event.
ACPI_POWER = '''#!/bin/sh
touch /tmp/stop
'''


class GuestImage(object):
    """Paths of a built guest: kernel, initramfs and the kernel version."""

    def __init__(self, kernel, initrd, version):
        self.kernel = kernel
        self.initrd = initrd
        self.version = version

    def __repr__(self):
        return 'GuestImage(%s, %s)' % (self.kernel, self.initrd)


def _kernel_package():
    """Resolve the current versioned cloud kernel package name."""
    out, _err = processutils.execute('apt-cache', 'depends',
                                     KERNEL_META_PACKAGE)
    for line in out.splitlines():
        line = line.strip()
        if line.startswith('Depends: linux-image-'):
            return line.split(':', 1)[1].strip()
    raise RuntimeError('cannot resolve %s to a kernel package; run '
                       'apt-get update' % KERNEL_META_PACKAGE)


def _unpack_kernel(cache_dir, package):
    root = os.path.join(cache_dir, package)
    if os.path.isdir(os.path.join(root, 'boot')):
        return root
    dl_dir = os.path.join(cache_dir, 'deb')
    os.makedirs(dl_dir, exist_ok=True)
    debs = [f for f in os.listdir(dl_dir) if f.startswith(package + '_')]
    if not debs:
        LOG.info('Downloading %(pkg)s', {'pkg': package})
        processutils.execute('apt-get', 'download', package, cwd=dl_dir)
        debs = [f for f in os.listdir(dl_dir)
                if f.startswith(package + '_')]
    tmp = root + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    processutils.execute('dpkg-deb', '-x',
                         os.path.join(dl_dir, sorted(debs)[-1]), tmp)
    os.rename(tmp, root)
    return root


def _module_order(kroot, version):
    """Return the .ko paths to insmod, dependencies first, no repeats."""
    processutils.execute('depmod', '-b', kroot, version)
    order = []
    for mod in GUEST_MODULES:
        out, _err = processutils.execute(
            'modprobe', '-d', kroot, '-S', version, '--show-depends', mod,
            check_exit_code=[0, 1])
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == 'insmod':
                if parts[1] not in order:
                    order.append(parts[1])
    if not order:
        raise RuntimeError('no guest modules found in %s' % kroot)
    return order


class _Newc(object):
    """Minimal writer for the cpio "newc" format the kernel unpacks."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b''):
        name_b = name.encode() + b'\0'
        hdr = '070701' + ''.join('%08X' % v for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0,
            len(name_b), 0))
        self.ino += 1
        self.buf.write(hdr.encode() + name_b)
        self.buf.write(b'\0' * ((4 - (110 + len(name_b)) % 4) % 4))
        self.buf.write(data)
        self.buf.write(b'\0' * ((4 - len(data) % 4) % 4))

    def add_dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def add_file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def finish(self):
        self._entry('TRAILER!!!', 0)
        return self.buf.getvalue()


def _read_module(path):
    with open(path, 'rb') as f:
        data = f.read()
    if path.endswith('.xz'):
        data = lzma.decompress(data)
    elif path.endswith('.gz'):
        data = gzip.decompress(data)
    return data


def _build_initramfs(module_paths, dest):
    archive = _Newc()
    for d in ('bin', 'dev', 'etc', 'etc/acpi', 'etc/acpi/PWRF', 'lib',
              'lib/modules', 'proc', 'sys', 'tmp', 'var', 'var/run',
              'var/log'):
        archive.add_dir(d)
    with open(BUSYBOX, 'rb') as f:
        archive.add_file('bin/busybox', f.read(), 0o755)
    names = []
    for path in module_paths:
        name = os.path.basename(path)
        for ext in ('.xz', '.gz', '.zst'):
            if name.endswith(ext):
                name = name[:-len(ext)]
        archive.add_file('lib/modules/' + name, _read_module(path))
        names.append(name)
    archive.add_file('etc/modules.order', '\n'.join(names).encode() + b'\n')
    archive.add_file('etc/acpi/PWRF/00000080', ACPI_POWER.encode(), 0o755)
    archive.add_file('init', WORKLOAD_INIT.encode(), 0o755)
    tmp = dest + '.tmp'
    with gzip.open(tmp, 'wb', compresslevel=6) as f:
        f.write(archive.finish())
    os.rename(tmp, dest)


def build(cache_dir):
    """Build (or reuse) the guest kernel and initramfs in cache_dir."""
    if not os.path.exists(BUSYBOX):
        raise RuntimeError('%s missing: apt-get install busybox-static'
                           % BUSYBOX)
    os.makedirs(cache_dir, exist_ok=True)
    package = _kernel_package()
    version = package[len('linux-image-'):]
    kroot = _unpack_kernel(cache_dir, package)
    kernel = os.path.join(kroot, 'boot', 'vmlinuz-%s' % version)
    recipe = hashlib.sha256(
        (WORKLOAD_INIT + ACPI_POWER + ' '.join(GUEST_MODULES)).encode())
    initrd = os.path.join(cache_dir, 'initrd-%s-%s.gz'
                          % (version, recipe.hexdigest()[:12]))
    if not os.path.exists(initrd):
        paths = _module_order(kroot, version)
        # modprobe prints paths below kroot; make sure they are there.
        paths = [p if p.startswith(kroot) else kroot + p for p in paths]
        LOG.info('Building initramfs with %(n)d modules', {'n': len(paths)})
        _build_initramfs(paths, initrd)
    return GuestImage(kernel, initrd, version)
