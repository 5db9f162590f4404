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
``/init`` runs the data-integrity workload described in ``WORKLOAD_INIT``
and, in the background, puts the guest on whatever network its NIC (virtio
or vmxnet3) reaches: an address by DHCP, announced on the console as
``LABNET <if> mac=<mac> ip=<ip>/<prefix> driver=<driver>``; the kernel
answers pings.  Built artefacts are cached under ``<state>/cache`` so that
a second build is a no-op; the initramfs's name carries its
:func:`recipe`, so a changed one is built anew.
"""

import collections
import gzip
import hashlib
import io
import lzma
import os
import re
import shutil
import stat

from oslo_concurrency import processutils
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

KERNEL_META_PACKAGE = 'linux-image-cloud-amd64'
BUSYBOX = '/bin/busybox'

# Disk drivers for every lab hardware profile (virtio, VMware-like, IDE)
# plus what busybox acpid needs to see the ACPI power button: /init loads
# these before the workload starts.
GUEST_MODULES = (
    'virtio_pci', 'virtio_blk', 'virtio_scsi', 'virtio_balloon',
    'vmw_pvscsi', 'ata_piix', 'sd_mod', 'button', 'evdev',
)

# NIC drivers: the network bring-up loads them in the background, after
# the workload's first record, so no NIC delays it.  The kernel's
# AF_PACKET (udhcpc's raw socket) is built in (CONFIG_PACKET=y).  Debian's
# cloud kernel has no e1000 or e1000e driver (CONFIG_E1000 is not set):
# a guest with such a NIC (the "ide" profile) writes its records but has
# no network.  Debian's generic kernel has both, but takes more than
# twice as long to the first record under TCG (12-13.5 s against 4-6 s
# here), which every V2V cutover (a reboot) would pay.
NET_MODULES = ('virtio_net', 'vmxnet3')

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
# The network, in the background once the first record is written: NIC
# drivers, lo, then busybox udhcpc on every Ethernet device found within
# 5 s (none: the job ends), which keeps its lease and retries forever
# (3 discoveries 1 s apart, then 2 s of pause); /etc/udhcpc.script sets
# the address and says "LABNET <if> mac=<mac> ip=<ip>/<prefix> driver=<drv>".
net_up() {
    for m in $(cat /etc/modules.net); do
        insmod "/lib/modules/$m"
    done
    ip link set lo up
    nics=
    i=0
    while [ -z "$nics" ] && [ $i -lt 5 ]; do
        for d in /sys/class/net/*; do
            [ -e "$d/device" ] && [ "$(cat "$d/type")" = 1 ] &&
                nics="$nics ${d##*/}"
        done
        [ -z "$nics" ] && sleep 1
        i=$((i + 1))
    done
    for nic in $nics; do
        ip link set "$nic" up
        udhcpc -f -i "$nic" -s /etc/udhcpc.script -t 3 -T 1 -A 2 &
    done
}
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
net=1
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
    if [ -n "$net" ]; then
        net=
        net_up </dev/null >/dev/null 2>&1 &
    fi
    n=$((n + 1))
    sleep $INTERVAL
done
sync
say "LABSTOP last=$((n - 1))"
poweroff -f
'''

# busybox udhcpc runs this on each event ($1) of the lease of $interface
# (its variables: ip, mask (the prefix length), broadcast, router).  One
# console line when an address is taken or changes, one when it is lost;
# none on a renewal of the same address or a discovery without answer.
UDHCPC_SCRIPT = r'''#!/bin/busybox sh
export PATH=/bin
say() { echo "<5>$*" > /dev/kmsg; }
lease=/var/run/lease.$interface
old=$(cat $lease 2>/dev/null)
case "$1" in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    if [ -n "$old" ]; then
        rm -f $lease
        say "LABNET $interface lost ip=$old"
    fi
    ;;
bound|renew)
    new="$ip/${mask:-32}"
    if [ "$new" != "$old" ]; then
        ip -4 addr flush dev "$interface"
        ip addr add "$new" broadcast "${broadcast:-+}" dev "$interface"
    fi
    for r in $router; do
        ip route replace default via "$r" dev "$interface"
        break
    done
    if [ "$new" != "$old" ]; then
        echo "$new" > $lease
        drv=$(readlink "/sys/class/net/$interface/device/driver")
        say "LABNET $interface" \
            "mac=$(cat "/sys/class/net/$interface/address")" \
            "ip=$new driver=${drv##*/}"
    fi
    ;;
esac
exit 0
'''

# busybox acpid runs /etc/acpi/<action> for the power button event.
ACPI_POWER = '''#!/bin/sh
touch /tmp/stop
'''


# The console lines of UDHCPC_SCRIPT, with or without printk's time.
_LABNET = re.compile(
    r'^(?:\[ *\d+\.\d+\] )?LABNET (\S+) (?:mac=(\S+) ip=([0-9.]+)/(\d+) '
    r'driver=(\S*)|lost ip=([0-9.]+)/(\d+))\s*$', re.MULTILINE)

NetEvent = collections.namedtuple(
    'NetEvent', ['interface', 'kind', 'mac', 'address', 'prefix', 'driver'])
NetEvent.__doc__ = """A LABNET line of a guest's console.

``kind`` is ``'bound'`` (an address taken or changed: every field set) or
``'lost'`` (the lease lost: ``mac`` and ``driver`` are None).
"""


def net_events(text):
    """The LABNET lines of a serial log, in order, as :class:`NetEvent`."""
    events = []
    for m in _LABNET.finditer(text):
        if m.group(2) is not None:
            events.append(NetEvent(m.group(1), 'bound', m.group(2),
                                   m.group(3), int(m.group(4)),
                                   m.group(5)))
        else:
            events.append(NetEvent(m.group(1), 'lost', None, m.group(6),
                                   int(m.group(7)), None))
    return events


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


def _module_order(kroot, version, modules, loaded=()):
    """Resolve modules to the .ko paths to insmod, dependencies first.

    :param modules: module names; a module built into the kernel needs no
        file and is left out.
    :param loaded: paths loaded before these, left out of the order.
    :returns: (paths, missing): paths without repeats, and the names of
        the modules the kernel has neither built in nor as a file.
    """
    order = []
    missing = []
    for mod in modules:
        out, _err = processutils.execute(
            'modprobe', '-d', kroot, '-S', version, '--show-depends', mod,
            check_exit_code=[0, 1])
        lines = [line.split() for line in out.splitlines()]
        if not any(p[:1] in (['insmod'], ['builtin']) for p in lines):
            missing.append(mod)
        for parts in lines:
            if len(parts) >= 2 and parts[0] == 'insmod':
                if parts[1] not in order and parts[1] not in loaded:
                    order.append(parts[1])
    return order, missing


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


def _module_name(path):
    name = os.path.basename(path)
    for ext in ('.xz', '.gz', '.zst'):
        if name.endswith(ext):
            name = name[:-len(ext)]
    return name


def _build_initramfs(module_paths, net_paths, dest):
    """Write the gzip'd initramfs to dest.

    :param module_paths: .ko paths /init loads before the workload, in
        order (etc/modules.order).
    :param net_paths: .ko paths the network bring-up loads, in order
        (etc/modules.net).
    """
    archive = _Newc()
    for d in ('bin', 'dev', 'etc', 'etc/acpi', 'etc/acpi/PWRF', 'lib',
              'lib/modules', 'proc', 'sys', 'tmp', 'var', 'var/run',
              'var/log'):
        archive.add_dir(d)
    with open(BUSYBOX, 'rb') as f:
        archive.add_file('bin/busybox', f.read(), 0o755)
    for order_file, paths in (('etc/modules.order', module_paths),
                              ('etc/modules.net', net_paths)):
        names = []
        for path in paths:
            name = _module_name(path)
            archive.add_file('lib/modules/' + name, _read_module(path))
            names.append(name)
        archive.add_file(order_file, ''.join(n + '\n' for n in names)
                         .encode())
    archive.add_file('etc/acpi/PWRF/00000080', ACPI_POWER.encode(), 0o755)
    archive.add_file('etc/udhcpc.script', UDHCPC_SCRIPT.encode(), 0o755)
    archive.add_file('init', WORKLOAD_INIT.encode(), 0o755)
    tmp = dest + '.tmp'
    with gzip.open(tmp, 'wb', compresslevel=6) as f:
        f.write(archive.finish())
    os.rename(tmp, dest)


def recipe(busybox_digest):
    """The initramfs's cache key for a kernel: what goes into it.

    Everything the archive holds besides the kernel's own modules (which
    the kernel version in the file name stands for): the scripts, the
    module lists and busybox.  A change to any of them names a new file,
    so a cache built before the change is never used after it.

    :param busybox_digest: sha256 hex digest of :data:`BUSYBOX`.
    """
    pieces = (WORKLOAD_INIT, UDHCPC_SCRIPT, ACPI_POWER,
              ' '.join(GUEST_MODULES), ' '.join(NET_MODULES),
              busybox_digest)
    key = hashlib.sha256()
    for piece in pieces:
        data = piece.encode()
        key.update(b'%d:' % len(data) + data)
    return key.hexdigest()[:12]


def file_digest(path, algorithm=hashlib.sha256):
    """The hex digest of a file's data (read in 1 MiB blocks)."""
    digest = algorithm()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def build_initramfs(cache_dir, kroot, version):
    """Build (or reuse) the initramfs for the kernel unpacked at kroot.

    :returns: the initramfs's path in cache_dir.
    :raises RuntimeError: when the kernel lacks a disk or NIC driver.
    """
    initrd = os.path.join(cache_dir, 'initrd-%s-%s.gz'
                          % (version, recipe(file_digest(BUSYBOX))))
    if os.path.exists(initrd):
        return initrd
    processutils.execute('depmod', '-b', kroot, version)
    paths, missing = _module_order(kroot, version, GUEST_MODULES)
    net_paths, net_missing = _module_order(kroot, version, NET_MODULES,
                                           loaded=paths)
    if missing or net_missing:
        raise RuntimeError('kernel %s in %s has no module %s'
                           % (version, kroot,
                              ', '.join(missing + net_missing)))
    # modprobe prints paths below kroot; make sure they are there.
    paths, net_paths = ([p if p.startswith(kroot) else kroot + p
                         for p in ps] for ps in (paths, net_paths))
    LOG.info('Building initramfs with %(n)d modules and %(net)d network '
             'modules', {'n': len(paths), 'net': len(net_paths)})
    _build_initramfs(paths, net_paths, initrd)
    return initrd


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
    return GuestImage(kernel, build_initramfs(cache_dir, kroot, version),
                      version)
