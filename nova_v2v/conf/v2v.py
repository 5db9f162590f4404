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

from oslo_config import cfg

v2v_group = cfg.OptGroup(
    'v2v',
    title='V2V migration options',
    help="""
Options for nova-v2v, the cross-hypervisor (V2V) migration plugin for the
libvirt compute driver and the scheduler.
""")

ALL_OPTS = [
    cfg.BoolOpt('allow_cutover',
                default=True,
                help="""
Allow the V2V cutover mode.

When the live state of a guest cannot move between two hosts (different
accelerators such as QEMU/TCG and KVM, a machine type the destination does
not run, or a hardware translation), nova-v2v can still move the guest while
it keeps serving: its disks are synchronised while it runs, then it is shut
down, the last changes are copied and it boots on the destination. The guest
restarts once. Set this to False to refuse such moves instead.

Related options:

* ``[v2v] cutover_shutdown_timeout``
"""),
    cfg.IntOpt('cutover_shutdown_timeout',
               default=60,
               min=0,
               help="""
Seconds to wait for a clean (ACPI) shutdown of the guest at a V2V cutover
before it is powered off. 0 powers it off at once.
"""),
    cfg.StrOpt('cutover_mode',
               default='suspend',
               choices=[('suspend', 'Pause the guest, finish the copy and '
                                    'power the paused guest off once its '
                                    'clone runs (crash-consistent).'),
                        ('acpi', 'Shut the guest down over ACPI (clean); '
                                 'suspend it after '
                                 '``cutover_shutdown_timeout``.')],
               help="""
How the source guest is stopped at a V2V cutover.

Related options:

* ``[v2v] cutover_shutdown_timeout``
"""),
    cfg.IntOpt('cutover_sync_timeout',
               default=3600,
               min=1,
               help="""
Seconds the disks of a guest moving with a V2V cutover may take to reach
synchronisation (every block copy job ready) before the move is rolled back.
"""),
    cfg.IntOpt('cutover_release_timeout',
               default=30,
               min=1,
               help="""
Seconds to wait, after the source guest stopped at a V2V cutover, for the
destination's NBD exports to close the disk images before the clone starts.
"""),
    cfg.BoolOpt('cutover_release_probe',
                default=True,
                help="""
Whether the source host probes the destination's NBD export ports, after the
source guest stopped at a V2V cutover, to confirm that the exports closed
the disk images before the clone starts (at most
``[v2v] cutover_release_timeout`` seconds).

Turn it off where nova-compute cannot reach the destination's live
migration address (only libvirtd can): the clone's start then waits on
QEMU's image locks, which refuse it while an export still holds a disk.

Related options:

* ``[v2v] clone_uri``
"""),
    cfg.ListOpt('shared_filesystems',
                default=[],
                help="""
Directories on a filesystem that is shared between the compute hosts but
that libvirt does not recognise as shared (it knows NFS, GFS2, OCFS2, Ceph,
GlusterFS and a few more; libvirt 10.3 and later take such paths in
qemu.conf's ``shared_filesystems``).

A live migration without block migration whose instance path Nova's
shared-storage probe found shared and whose disks all lie below one of these
directories is started with ``VIR_MIGRATE_UNSAFE``, which libvirt otherwise
refuses with "Migration without shared storage is unsafe". List only storage
that really is the same file on every host.
"""),
    cfg.StrOpt('downtime_policy',
               default='fitted',
               choices=[
                   ('fitted', 'Nova\'s downtime values, one step every '
                    '[v2v] downtime_step_passes memory passes at the '
                    'measured bandwidth, only while the job does not fit '
                    'in the current value'),
                   ('nova', 'Nova\'s own schedule: one step every '
                    '[libvirt] live_migration_downtime_delay seconds per '
                    'GiB of RAM and disk')],
               help="""
How the maximum downtime of a libvirt live or block migration is raised
while the migration runs. Both policies use the values of Nova's
``[libvirt] live_migration_downtime`` and ``live_migration_downtime_steps``
(50 to 500 ms by default); they differ in when a step is taken. With
``fitted`` the first value is set before the migration starts; Nova sets it
at its monitor's first sample, so a migration that converges sooner runs
with QEMU's default (300 ms).

Related options:

* ``[v2v] downtime_step_passes``
"""),
    cfg.FloatOpt('downtime_step_passes',
                 default=2.0,
                 min=0.5,
                 help="""
With ``[v2v] downtime_policy = fitted``: how many times the guest's memory
could be sent, at the memory bandwidth measured during the migration,
between two downtime steps.
"""),
    cfg.BoolOpt('auto_converge',
                default=True,
                help="""
Start libvirt live and block migrations with ``VIR_MIGRATE_AUTO_CONVERGE``
(QEMU throttles the vCPUs of a guest that dirties memory faster than the
link sends it), unless post-copy is permitted (``[libvirt]
live_migration_permit_post_copy``). Like Nova's ``[libvirt]
live_migration_permit_auto_converge``, which also adds it.
"""),
    cfg.BoolOpt('synchronous_disk_writes',
                default=True,
                help="""
Start block migrations with ``VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES``
(libvirt 8.0.0 and later): QEMU's disk mirror copies each guest write to the
destination before completing it, so the disk copy converges whatever the
guest's write rate, at the cost of write latency while the disks are copied.
"""),
    cfg.BoolOpt('bandwidth_from_metadata',
                default=False,
                help="""
Whether a server's ``nova-v2v:bandwidth_mib`` metadata lowers the bandwidth
of its live, block and V2V cutover migrations (MiB/s; a cutover divides it
among its disks). ``nova-v2v drain --bandwidth`` sets it on each server it
moves, its share of the drain's bandwidth, and removes it afterwards: turn
this on in the computes for the drain's bandwidth to apply. It never raises
``[libvirt] live_migration_bandwidth`` and never goes below ``[v2v]
min_migration_bandwidth``. The server's owner can set it too, and so slow
its own server's live migrations down to that floor (Nova's completion
timeout still ends them): off by default, a migration runs as Nova runs it.
"""),
    cfg.IntOpt('min_migration_bandwidth',
               default=8,
               min=1,
               help="""
The lowest bandwidth (MiB/s) that a server's ``nova-v2v:bandwidth_mib``
metadata may give its migration (see ``[v2v] bandwidth_from_metadata``).
"""),
    cfg.BoolOpt('notifications',
                default=True,
                help="""
Whether the compute hosts send V2V migration events (``v2v.migration.*``:
plan, start, progress, cutover start and end, end, rollback) as versioned
notifications. They go where Nova's versioned notifications go
(``[notifications] versioned_notifications_topics``, sent only when
``[oslo_messaging_notifications] driver`` is set).

Related options:

* ``[v2v] notification_progress_interval``
"""),
    cfg.FloatOpt('notification_progress_interval',
                 default=5.0,
                 min=0.0,
                 help="""
Seconds between two ``v2v.migration.progress`` events of one migration.
"""),
    cfg.StrOpt('clone_uri',
               help="""
libvirt URI the source's nova-compute opens to define and start the clone on
the destination at a V2V cutover, with ``%s`` for the destination host.

By default it is the URI of Nova's own live migration
(``[libvirt] live_migration_scheme`` and ``live_migration_inbound_addr``).
Set it when nova-compute reaches the destination's libvirtd another way
than the libvirt daemons reach each other, for example
``qemu+ssh://nova@%s/system``.

Related options:

* ``[v2v] cutover_release_probe``
"""),
    cfg.IntOpt('cutover_clone_check',
               default=3,
               min=0,
               deprecated_for_removal=True,
               deprecated_reason="""
A clone's domain that keeps running proves nothing about its guest: the
cutover now waits until the clone's guest shows activity, for at most
``[v2v] cutover_activity_timeout`` seconds. This option has no effect.
""",
               help="""
Has no effect: see ``[v2v] cutover_activity_timeout``.
"""),
    cfg.IntOpt('cutover_activity_timeout',
               default=300,
               min=1,
               help="""
Seconds the clone started at a V2V cutover has to show that its guest runs,
before the move is rolled back.

The clone is the guest translated for the destination. Its QEMU running is
not enough: a translated guest can hang in its boot (for example without a
driver for its new disk bus). The source guest stays stopped on the source
host, with its domain and its disks, until the clone's guest shows activity:
when the instance's image sets ``hw_qemu_guest_agent=yes``, its QEMU guest
agent answering a ping (its writes then prove nothing); otherwise its disks
written again past the ``[v2v] cutover_activity_settle`` seconds that follow
their first writes. That is the point of no return: the source guest is then
removed and the move completes. If this does not happen within this many
seconds (or the clone stops), the clone is destroyed, the source guest runs
again from its untouched disks and the move fails with the reason "the clone
showed no guest activity within N s (what was missing)".

Set it above the time the slowest guest takes from power on to its guest
agent's start, or to its first disk write plus ``[v2v]
cutover_activity_settle``.

Related options:

* ``[v2v] cutover_activity_settle``
* ``[v2v] cutover_mode``
"""),
    cfg.IntOpt('cutover_activity_settle',
               default=10,
               min=0,
               help="""
Seconds a V2V cutover's clone must go on writing after its first writes to
prove that its guest runs, when its image declares no guest agent.

A first write is no proof: boot loaders write before the kernel runs (GRUB
saves its environment into ``grubenv``, the Windows boot manager writes
``bootstat.dat``), and a translated guest whose kernel lacks the driver of
its new disk bus then hangs without writing again. Removing the source guest
then would lose the guest. The clone is proven only when its disks' write
requests grow past the last sample taken within this many seconds of the
first sample with writes: writes that stop inside the window (a boot
loader's, over a second or two) prove nothing. A guest that runs writes on
(logs, journals, its applications); the longer the window, the surer the
proof, the longer the source waits before its removal (the clone's guest
runs meanwhile).

The window counts within ``[v2v] cutover_activity_timeout``, which must be
larger: the source's pre-check refuses a cutover otherwise. When the image
sets ``hw_qemu_guest_agent=yes``, only its agent's answer proves the guest
runs and this option has no effect.

Related options:

* ``[v2v] cutover_activity_timeout``
"""),
    cfg.PortOpt('nbd_port_min',
                default=10810,
                help="""
First TCP port of the range the destination's NBD exports of a V2V cutover
listen on (one port per disk, on the live migration address).

Related options:

* ``[v2v] nbd_port_max``
* ``[libvirt] live_migration_inbound_addr``
"""),
    cfg.PortOpt('nbd_port_max',
                default=10909,
                help="""
Last TCP port of the range the destination's NBD exports of a V2V cutover
listen on.

Related options:

* ``[v2v] nbd_port_min``
"""),
    cfg.StrOpt('nbd_tls_x509_cert_dir',
               default='/etc/pki/qemu',
               help="""
Directory of the x509 certificates QEMU uses for libvirt's native TLS (the
``nbd_tls_x509_cert_dir``, by default ``default_tls_x509_cert_dir``, of
qemu.conf): ``ca-cert.pem``, ``server-cert.pem``, ``server-key.pem``,
``client-cert.pem`` and ``client-key.pem``.

With ``[libvirt] live_migration_with_native_tls`` on, the NBD exports a
destination runs for a V2V cutover serve TLS with this directory's server
certificate and admit only the client certificate of the source host, whose
subject the source reads from its own ``client-cert.pem`` here at its
pre-check. The files must be readable by the user nova-compute runs as
(it starts the exports' ``qemu-nbd``). Whatever the TLS setting, the exports
admit connections from the source host's addresses only (``[DEFAULT]
my_ip`` and ``[libvirt] live_migration_inbound_addr`` of the source).

Related options:

* ``[libvirt] live_migration_with_native_tls``
"""),
    cfg.ListOpt('translate_device_models',
                default=['vmxnet3:virtio', 'e1000:virtio', 'e1000e:virtio',
                         'rtl8139:virtio', 'pvscsi:virtio-scsi',
                         'lsilogic:virtio-scsi', 'ide:virtio',
                         'sata:virtio'],
                help="""
Device model translations applied when a guest moves with a V2V cutover or
an offline V2V migration, as ``source:target`` pairs.

The left side is a NIC model (``vmxnet3``, ``e1000``, ...), a SCSI
controller model (``pvscsi``, ``lsilogic``) or a disk bus (``ide``,
``sata``); the right side is its replacement on the destination. A guest
whose devices appear here needs a translation, which a live migration cannot
do, so the planner picks the V2V cutover for it.
"""),
    cfg.ListOpt('disk_formats',
                default=['raw', 'qcow2'],
                help="""
Disk image formats that this compute host runs guests from. Published in the
host's V2V profile; a disk in another format is converted on the way to this
host: a live block migration precreates it here in a format of this list and
copies it whole into it, a V2V cutover or an offline move converts it. A
guest on shared storage in another format is refused (convert it offline
first). A host that runs raw disks only should run Nova's raw image backend
(``[DEFAULT] use_cow_images = False``): with its qcow2 backend Nova runs
every disk as qcow2 when it redefines a guest, and makes a cold move's raw
disk qcow2 again.
"""),
    cfg.StrOpt('storage_id',
               help="""
Identity of the storage behind ``[DEFAULT] instances_path``.

Two hosts that report the same identity are taken to share their instance
storage when the scheduler looks for a destination; the compute hosts still
confirm it with Nova's shared-storage probe during the pre-checks. By default
it is derived from the mount that holds ``instances_path``: network file
systems (NFS, CephFS, GlusterFS, ...) are identified by their export, local
ones by this host's machine id, the device and the mount root, so that no two
hosts share a local store by accident. Set this when the automatic identity is
wrong, for example for a clustered block file system.
"""),
    cfg.StrOpt('unmappable_devices',
               default='refuse',
               choices=[
                   ('refuse', 'Refuse to translate a guest that has a device '
                              'with no equivalent on the destination.'),
                   ('drop', 'Translate it without such devices, each listed '
                            'as a warning in the translation report.'),
               ],
               help="""
What a V2V translation does with a device that cannot be mapped to the
destination: a host device passed through, a host block device, a network
disk, a floppy drive on a q35 destination, a shared host directory, and so
on (see the mapping tables in the documentation).

Nothing is ever dropped silently: ``nova-v2v translate`` lists such devices in
its report either way.
"""),
    cfg.StrOpt('translate_disk_bus',
               default='virtio',
               choices=[('virtio', 'virtio-blk'),
                        ('scsi', 'virtio-scsi (one controller)')],
               help="""
The disk bus that a guest from another hypervisor (VMware, Hyper-V, Xen)
gets on KVM.
"""),
    cfg.StrOpt('translate_disk_format',
               default='qcow2',
               choices=['qcow2', 'raw'],
               help="""
The format that disks in a format this host does not run (vmdk, vhdx, vpc)
are converted to.
"""),
]


def planner_options(conf):
    """The planner's keyword options, as this service is configured."""
    translations = {}
    for item in conf.v2v.translate_device_models:
        old, sep, new = item.partition(':')
        if sep and old.strip() and new.strip():
            translations[old.strip()] = new.strip()
    return {'allow_cutover': conf.v2v.allow_cutover,
            'translations': translations}


def translation_options(conf):
    """The translator's Target keyword options, as configured."""
    return {'overrides': planner_options(conf)['translations'],
            'unmappable': conf.v2v.unmappable_devices,
            'disk_bus': conf.v2v.translate_disk_bus,
            'disk_format': conf.v2v.translate_disk_format}


def register_opts(conf):
    conf.register_group(v2v_group)
    conf.register_opts(ALL_OPTS, group=v2v_group)


def list_opts():
    return {v2v_group: ALL_OPTS}
