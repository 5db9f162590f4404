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

"""The one seam between the V2V driver and Nova's internals.

Nova's libvirt driver has no plugin interface for migrations: the V2V
driver subclasses it, overrides a few of its private methods and reads
some of its private state. Every such internal is named here, and only
here; the rest of :mod:`nova_v2v.virt` reaches Nova's internals through
:class:`NovaLibvirt` (one per driver) and the module functions below.

:data:`OVERRIDDEN`, :data:`DRIVER_MEMBERS` and :data:`FUNCTIONS` list what
the driver assumes, with the parameter names it assumes;
``tests/unit/virt/test_nova_internals.py`` checks them against the
installed Nova, so that a Nova release that renames, removes or reshapes
one of them fails with its name.

libvirt itself is reached through Nova's ``Host`` and ``Guest`` for the
local hypervisor. The V2V cutover needs two more things, which the seam
gives through public libvirt routes only: the source guest's ``virDomain``
(looked up by UUID on the ``Host``'s connection, never unwrapped from a
``Guest``), and a short-lived connection to the destination's libvirtd to
start the clone (:meth:`NovaLibvirt.open_destination`). That connection is
not a second Nova ``Host``: a ``Host`` registers lifecycle-event and
close callbacks that dispatch into this compute's driver
(``emit_event``), so the destination's clone starting would be reported
as an event of this host's instance; it also keeps the connection open
for the service's lifetime. A plain ``openAuth`` through the libvirt
module Nova's driver imported (fake libvirt in Nova's test fixtures), closed
after use, is all the clone needs.
"""

import collections
import contextlib
import functools
import os
import threading

from nova.compute import instance_actions
from nova.compute import utils as compute_utils
from nova import conf as nova_conf
from nova import objects
from nova.objects import base as objects_base
from nova.objects import fields as obj_fields
from nova import utils as nova_utils
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import host as libvirt_host
from nova.virt.libvirt import migration as libvirt_migrate
from nova.virt.libvirt import utils as libvirt_utils
from oslo_context import context as common_context
from oslo_log import log as logging
from oslo_serialization import jsonutils

LOG = logging.getLogger(__name__)

LibvirtDriver = libvirt_driver.LibvirtDriver

# Nova's private LibvirtDriver methods the V2V driver overrides, with their
# parameters (Nova calls them; the override must accept what Nova passes).
OVERRIDDEN = {
    '_live_migration': (
        'self', 'context', 'instance', 'dest', 'post_method',
        'recover_method', 'block_migration', 'migrate_data'),
    '_live_migration_operation': (
        'self', 'context', 'instance', 'dest', 'block_migration',
        'migrate_data', 'guest', 'device_names'),
    '_live_migration_monitor': (
        'self', 'context', 'instance', 'guest', 'dest', 'post_method',
        'recover_method', 'block_migration', 'migrate_data', 'future',
        'disk_paths'),
}

# Nova's private LibvirtDriver members the V2V driver calls or reads.
# A tuple lists a method's parameters; None marks an attribute that
# LibvirtDriver.__init__ sets.
DRIVER_MEMBERS = {
    '_get_migration_flags': ('self', 'is_block_migration'),
    '_sorted_migrating_resources': ('self', 'instance', 'flavor'),
    '_live_migration_uri': ('dest',),
    '_check_shared_storage_test_file': ('self', 'filename', 'instance'),
    '_is_shared_block_storage': (
        'self', 'instance', 'dest_check_data', 'block_device_info'),
    '_clear_empty_migration': ('self', 'instance'),
    # What Nova's pre_live_migration runs to fetch a block migration's
    # backing files into this host's image cache.
    '_create_images_and_backing': (
        'self', 'context', 'instance', 'instance_dir', 'disk_info',
        'fallback_from_host'),
    '_get_volume_config': ('self', 'connection_info', 'disk_info'),
    # The 'force-complete' task protocol of active_migrations: Nova's
    # live_migration_force_complete appends the task to the instance's
    # deque, the migration's monitor pops it.
    'live_migration_force_complete': ('self', 'instance'),
    '_host': None,
    'active_migrations': None,
    'vif_driver': None,
    # ComputeDriver.__init__'s: the manager's ComputeVirtAPI.
    'virtapi': None,
}

# Nova's Host attributes the V2V driver changes (reentrant_connection_lock).
HOST_MEMBERS = ('_wrapped_conn_lock',)

# Nova's module functions, classes and methods of other objects the V2V
# driver calls, by dotted name, with their parameters.
FUNCTIONS = {
    'nova.virt.libvirt.migration.get_updated_guest_xml': (
        'instance', 'guest', 'migrate_data', 'get_volume_config',
        'get_vif_config', 'new_resources'),
    'nova.virt.libvirt.migration.save_stats': (
        'instance', 'migration', 'info', 'remaining'),
    'nova.virt.libvirt.guest.JobInfo': ('kwargs',),
    'nova.virt.libvirt.utils.get_instance_path': ('instance', 'relative'),
    'nova.virt.libvirt.utils.get_instance_path_at_destination': (
        'instance', 'migrate_data'),
    'nova.utils.get_image_from_system_metadata': ('system_meta',),
    # The destination's connection, wrapped as Nova's Host wraps its own.
    'nova.utils.tpool_wrap': ('target', 'autowrap'),
    'nova.virt.libvirt.host.Host._get_libvirt_proxy_classes': (
        'libvirt_module',),
    'nova.virt.libvirt.vif.LibvirtGenericVIFDriver.get_config': (
        'self', 'instance', 'vif', 'image_meta', 'flavor', 'virt_type'),
    'nova.virt.libvirt.host.Host.get_guest': ('self', 'instance'),
    'nova.virt.libvirt.host.Host.get_connection': ('self',),
    'nova.virt.libvirt.host.Host.get_capabilities': ('self',),
    'nova.virt.libvirt.host.Host.get_version': ('self',),
    # The driver hook the recovery at start-up runs in (overridden).
    'nova.virt.libvirt.driver.LibvirtDriver.process_instances_at_startup': (
        'self', 'context', 'instances'),
    # The recovery of an interrupted cutover at start-up: Nova's own
    # callbacks of a live migration, as ComputeManager._do_live_migration
    # binds them, reached through the driver's virtapi.
    'nova.compute.manager.ComputeVirtAPI.__init__': ('self', 'compute'),
    'nova.compute.manager.ComputeManager._post_live_migration_update_host': (
        'self', 'ctxt', 'instance', 'dest', 'block_migration',
        'migrate_data', 'source_bdms'),
    'nova.compute.manager.ComputeManager._rollback_live_migration': (
        'self', 'context', 'instance', 'dest', 'migrate_data',
        'migration_status', 'source_bdms', 'pre_live_migration'),
    # The activation of an instance's port bindings on a host, as Nova's
    # live migration does it (ComputeManager.handle_lifecycle_event and
    # _post_live_migration) through the manager's network_api: for the
    # destination's as a cutover's clone starts, the source's again when
    # the cutover rolls back (NovaCompute.activate_port_bindings).
    'nova.network.neutron.API.migrate_instance_start': (
        'self', 'context', 'instance', 'migration'),
    'nova.compute.utils.add_instance_fault_from_exc': (
        'context', 'instance', 'fault', 'exc_info', 'fault_message'),
    'nova.objects.migration.MigrationList.get_by_filters': (
        'context', 'filters', 'sort_keys', 'sort_dirs', 'limit',
        'marker'),
    'nova.objects.migration.MigrationList.get_in_progress_by_instance': (
        'context', 'instance_uuid', 'migration_type'),
    # An administrator's lock of an instance whose cutover is held, as
    # Nova's API does it (lock_instance).
    'nova.compute.api.API.lock': ('self', 'context', 'instance', 'reason'),
    'nova.objects.instance_action.InstanceAction.action_start': (
        'context', 'instance_uuid', 'action_name', 'want_result'),
    'nova.compute.utils.EventReporter.__init__': (
        'self', 'context', 'event_name', 'host', 'instance_uuids',
        'graceful_exit'),
    'nova.compute.utils.notify_about_instance_action': (
        'context', 'instance', 'host', 'action', 'phase', 'source',
        'exception', 'bdms', 'best_effort'),
    # An event of the instance action of the request in progress (a
    # cutover's downtime, :mod:`.downtime`), as Nova's EventReporter
    # records one: Nova's API shows it (os-instance-actions).
    'nova.objects.instance_action.InstanceActionEvent.event_start': (
        'context', 'instance_uuid', 'event_name', 'want_result', 'host'),
    ('nova.objects.instance_action.InstanceActionEvent.'
     'event_finish_with_failure'): (
        'context', 'instance_uuid', 'event_name', 'exc_val', 'exc_tb',
        'want_result'),
}

# The statuses of a live migration in progress (Nova's own list:
# nova.db.main.api.migration_get_in_progress_by_instance).
IN_PROGRESS = ('queued', 'preparing', 'running', 'post-migrating')
LIVE_MIGRATION = 'live-migration'
# The fields of a live migration's migrate_data the recovery does not keep:
# the migration (read again, current, from the database), the destination's
# volume connections (credentials; the callbacks do not read them).
_MIGRATE_DATA_DROPPED = ('migration', 'bdms')

# The libvirt module Nova's driver imported (its name in that module).
LIBVIRT_MODULE = 'nova.virt.libvirt.driver.libvirt'

# The file in an instance directory where Nova's image backend keeps each
# disk's format ({path: format}; nova.virt.libvirt.imagebackend).
DISK_INFO_FILE = 'disk.info'

# The task Nova's live_migration_force_complete queues.
FORCE_COMPLETE = 'force-complete'

# Where an RPC call was made, oslo.messaging rebuilds only the exceptions of
# the modules Nova allows (nova.rpc.ALLOWED_EXMODS); any other arrives as a
# RemoteError, which Nova's conductor takes for an unexpected failure of a
# live migration's pre-check: it puts the instance in ERROR.
RPC_EXCEPTION_MODULES = ('nova.exception',)

# Nova's lock of an instance by an administrator (compute.api.API.lock):
# who holds it, and the system metadata key of its reason.
LOCKED_BY_ADMIN = 'admin'
LOCKED_REASON = 'locked_reason'
# The event of the lock's instance action, recorded by this compute.
LOCK_EVENT = 'compute_lock'

# The libvirt credential types offered to the destination's libvirtd: the
# same list Nova's Host offers for its own connection.
_CRED_TYPES = ('VIR_CRED_AUTHNAME', 'VIR_CRED_ECHOPROMPT', 'VIR_CRED_REALM',
               'VIR_CRED_PASSPHRASE', 'VIR_CRED_NOECHOPROMPT',
               'VIR_CRED_EXTERNAL')


def libvirt():
    """The libvirt module Nova's driver imported (read at call time).

    Nova's test fixtures replace it with their fake libvirt; reading it
    here, when needed, follows them.
    """
    return libvirt_driver.libvirt


def instance_path(instance):
    """The instance's directory on this host."""
    return libvirt_utils.get_instance_path(instance)


def instance_path_at_destination(instance, migrate_data):
    """The instance's directory on a live migration's destination."""
    return libvirt_utils.get_instance_path_at_destination(instance,
                                                          migrate_data)


def image_from_system_metadata(system_metadata):
    """The image (with its properties) the instance was built from."""
    return nova_utils.get_image_from_system_metadata(system_metadata)


def add_instance_fault(context, instance, message, exc=None,
                       exc_info=None):
    """Record an instance fault, as Nova's compute manager does.

    :param message: the fault's message (at most 255 characters), which
        the API shows to the server's owner too
    :param exc: the exception the fault is about (by default one with
        ``message``)
    :param exc_info: ``sys.exc_info()`` of ``exc``: its text goes into
        the fault's details, which Nova's API shows to administrators
        only
    """
    compute_utils.add_instance_fault_from_exc(
        context, instance, exc if exc is not None else RuntimeError(message),
        exc_info=exc_info, fault_message=message)


def lock_instance(context, instance, reason):
    """Lock the instance as an administrator's ``server lock`` does.

    What Nova's ``compute.api.API.lock`` does for an administrator: the
    instance's ``locked``, ``locked_by`` ``'admin'`` and the reason in its
    system metadata, saved (with any other change made to the object),
    an instance action ``lock`` (of a request of its own, its event
    :data:`LOCK_EVENT` on this host) and the ``instance.lock``
    notification. Nova's API then refuses the owner every action on the
    instance (reboot, rebuild, delete...; ``check_instance_lock``) and
    its unlock (``locked_by`` is not the owner); an administrator unlocks
    it (``openstack server unlock``), which removes the reason.

    The action and the notification are recorded as well as they can be:
    their failure is logged, the lock is what matters.

    :param reason: the lock's reason, which the API shows to the owner
    """
    host = nova_conf.CONF.host
    lock_context = context.elevated()
    # Its own request: the action of the request in progress (a live
    # migration's) keeps its events.
    lock_context.request_id = common_context.generate_request_id()
    with contextlib.ExitStack() as event:
        try:
            objects.InstanceAction.action_start(
                lock_context, instance.uuid, instance_actions.LOCK,
                want_result=False)
            event.enter_context(compute_utils.EventReporter(
                lock_context, LOCK_EVENT, host, instance.uuid,
                graceful_exit=True))
        except Exception:
            LOG.exception('Cannot record the lock as an instance action',
                          instance=instance)
        instance.locked = True
        instance.locked_by = LOCKED_BY_ADMIN
        instance.system_metadata[LOCKED_REASON] = reason
        instance.save()
    try:
        compute_utils.notify_about_instance_action(
            lock_context, instance, host,
            action=obj_fields.NotificationAction.LOCK,
            source=obj_fields.NotificationSource.COMPUTE)
    except Exception:
        LOG.exception('Cannot notify the lock', instance=instance)


def action_event_start(context, instance, event_name, host):
    """Start an event of the request's instance action.

    As Nova's ``EventReporter`` does: the action is the one the API
    created for ``context``'s request (a live migration's).

    :param host: the compute host the event happens on (this one)
    :raises: what Nova raises, InstanceActionNotFound when the request
        has no action
    """
    objects.InstanceActionEvent.event_start(
        context, instance.uuid, event_name, want_result=False, host=host)


def action_event_finish(context, instance, event_name, failure=None):
    """End an event that :func:`action_event_start` started.

    :param failure: None: the event's result is ``Success``; otherwise
        ``Error``, with this text in its details (which Nova's API shows
        to administrators, as for Nova's own failed events) and in its
        traceback (Nova records an ``Error`` only with one: the reason is
        what there is)
    :raises: what Nova raises
    """
    objects.InstanceActionEvent.event_finish_with_failure(
        context, instance.uuid, event_name, exc_val=failure,
        exc_tb=None if failure is None else failure, want_result=False)


def job_info(**fields):
    """A ``Guest.get_job_info`` result, as Nova's monitor reads it."""
    return libvirt_guest.JobInfo(**fields)


def image_cache_dir():
    """This host's image cache (``<instances_path>/_base``).

    Where Nova keeps the backing files of qcow2 instance disks; the V2V
    conversion reads a backing file only from there.
    """
    return os.path.join(nova_conf.CONF.instances_path,
                        nova_conf.CONF.image_cache.subdirectory_name)


def disk_info_file(instance_dir):
    """The path of the image backend's disk format file."""
    return os.path.join(instance_dir, DISK_INFO_FILE)


def record_disk_formats(instance_dir, formats):
    """Tell Nova's image backend the formats of disks made here.

    Nova's raw (flat) backend reads a disk's format from ``disk.info`` (one
    JSON object, ``{path: format}``) and probes the file only for a disk
    it finds no entry for; Nova records the disks it creates there, so
    that no later redefinition probes a file the guest wrote. (Its qcow2
    backend runs every disk as qcow2, whatever the entry says.)

    :param formats: ``{disk path: format}``; entries for other disks stay
    """
    path = disk_info_file(instance_dir)
    known = {}
    if os.path.exists(path):
        with open(path) as f:
            known = jsonutils.loads(f.read() or '{}')
    known.update(formats)
    with open(path, 'w') as f:
        f.write(jsonutils.dumps(known))


def _no_auth(creds, opaque):
    return 0


def reentrant_connection_lock(host):
    """Let Nova's ``Host`` survive its connection closing under its lock.

    In Nova 34's native threading mode the libvirt event loop thread runs
    a lifecycle event's handler itself (``LibvirtEventHandler._queue_event``
    dispatches inline). The handler asks for the power state, which takes
    ``Host._wrapped_conn_lock`` in ``_get_connection`` and tests the
    connection; when libvirtd has gone (killed, restarting), libvirt runs
    the close callback in that same thread, during the test, and
    ``_connection_closed`` takes ``_wrapped_conn_lock`` again: a
    ``threading.Lock`` deadlocks there, and with it every later libvirt
    call of the compute service (the fault matrix's "destination libvirtd
    killed while the clone runs" froze the destination's nova-compute for
    good). With a reentrant lock the nested call goes through, drops the
    dead connection, and ``_get_connection`` connects again, as it does
    when the close callback comes from another thread.

    :param host: Nova's ``Host``, before its first connection
    :returns: True if the lock was replaced, False if it already was
        reentrant
    """
    lock = host._wrapped_conn_lock
    if isinstance(lock, type(threading.RLock())):
        return False
    host._wrapped_conn_lock = threading.RLock()
    return True


class NovaLibvirt(object):
    """Nova's LibvirtDriver internals, for one driver.

    :param driver: the :class:`LibvirtDriver` (the V2V driver itself)
    """

    def __init__(self, driver):
        self._driver = driver

    @property
    def host(self):
        """Nova's ``Host``: the local libvirt connection."""
        return self._driver._host

    def get_guest(self, instance):
        """Nova's ``Guest`` of ``instance``.

        :raises: nova.exception.InstanceNotFound
        """
        return self.host.get_guest(instance)

    def get_domain(self, instance):
        """The instance's ``virDomain`` on this host's connection.

        For the transfer engine, which drives block jobs on it.
        """
        return self.host.get_connection().lookupByUUIDString(instance.uuid)

    def fetch_backing_files(self, context, instance, instance_dir,
                            disk_info, fallback_from_host):
        """Fetch the backing files of ``disk_info``'s disks, as Nova does.

        Nova's own fetch into the image cache (from Glance, else from
        ``fallback_from_host``), which its ``pre_live_migration`` runs
        before a block migration; the disks themselves exist and are left
        as they are.

        :param disk_info: Nova's disk info dicts (``path``, ``type``,
            ``backing_file``, ``virt_disk_size``) of the disks concerned
        """
        self._driver._create_images_and_backing(
            context, instance, instance_dir, disk_info,
            fallback_from_host=fallback_from_host)

    def libvirt_version(self):
        return self.host.get_connection().getLibVersion()

    def migration_flags(self, block_migration):
        """The flags Nova's migration of this kind starts with."""
        return self._driver._get_migration_flags(block_migration)

    def live_migration_uri(self, dest):
        """The URI Nova's peer-to-peer live migration uses for ``dest``."""
        return self._driver._live_migration_uri(dest)

    def shared_instance_path(self, filename, instance):
        """Nova's shared-storage probe: is the destination's file here?"""
        return self._driver._check_shared_storage_test_file(filename,
                                                            instance)

    def shared_block_storage(self, instance, dest_check_data,
                             block_device_info):
        return self._driver._is_shared_block_storage(
            instance, dest_check_data, block_device_info)

    def instance_disk_info(self, instance, block_device_info):
        """Nova's JSON list of the instance's local disks."""
        return self._driver.get_instance_disk_info(
            instance, block_device_info=block_device_info)

    # -- the migrations Nova's monitor tracks ---------------------------

    def start_tracking(self, instance):
        """Register a migration of ``instance`` as Nova's driver does.

        Nova's ``live_migration_force_complete`` then queues its task for
        it (and raises NoActiveMigrationForInstance without it).
        """
        self._driver.active_migrations[instance.uuid] = collections.deque()

    def take_force_complete(self, instance):
        """Whether a force-complete was requested since the last call."""
        tasks = self._driver.active_migrations.get(instance.uuid)
        forced = False
        while tasks:
            if tasks.popleft() == FORCE_COMPLETE:
                forced = True
        return forced

    def stop_tracking(self, instance):
        self._driver._clear_empty_migration(instance)

    # -- the destination's definition -----------------------------------

    def updated_guest_xml(self, instance, guest, migrate_data, virt_type):
        """Nova's destination XML of a live migration.

        ``get_updated_guest_xml`` as Nova's migration thread calls it, with
        the destination's ``virt_type`` for the VIFs.
        """
        get_vif_config = None
        if 'vifs' in migrate_data and migrate_data.vifs:
            get_vif_config = functools.partial(
                self._driver.vif_driver.get_config, instance=instance,
                image_meta=instance.image_meta, flavor=instance.flavor,
                virt_type=virt_type)
        new_resources = None
        if isinstance(instance, objects.Instance):
            new_resources = self._driver._sorted_migrating_resources(
                instance, instance.flavor)
        return libvirt_migrate.get_updated_guest_xml(
            instance, guest, migrate_data, self._driver._get_volume_config,
            get_vif_config=get_vif_config, new_resources=new_resources)

    @staticmethod
    def save_stats(instance, migration, info, remaining):
        """Nova's record of a migration's progress (migration, instance)."""
        libvirt_migrate.save_stats(instance, migration, info, remaining)

    # -- the destination's libvirtd -------------------------------------

    @staticmethod
    def open_destination(uri):
        """A libvirt connection to ``uri``; the caller closes it.

        Wrapped as Nova's ``Host`` wraps its own: under Nova's eventlet
        concurrency mode every libvirt call then runs in a native thread
        (a call blocking in C would otherwise block the process, and no
        time bound of the cutover could fire); unwrapped in Nova's native
        threading mode.
        """
        lv = libvirt()
        auth = [[getattr(lv, name) for name in _CRED_TYPES], _no_auth, None]
        proxy = nova_utils.tpool_wrap(
            lv, autowrap=libvirt_host.Host._get_libvirt_proxy_classes(lv))
        return proxy.openAuth(uri, auth, 0)


# -- the recovery of an interrupted cutover at start-up -------------------

def live_migrations_in_progress(context, host):
    """This host's live migrations in progress, as source or destination.

    :returns: nova.objects.MigrationList
    """
    return objects.MigrationList.get_by_filters(
        context, {'host': host, 'migration_type': LIVE_MIGRATION,
                  'status': list(IN_PROGRESS)})


def live_migrating(context, instance_uuid):
    """Whether the instance has a live migration in progress anywhere."""
    return bool(objects.MigrationList.get_in_progress_by_instance(
        context, instance_uuid, LIVE_MIGRATION))


def migrate_data_to_json(migrate_data):
    """A live migration's migrate_data as text, for the migration record.

    Without the migration (read again when needed), the destination's
    volume connections and the vTPM secret's value (its uuid is kept, so
    that Nova's callbacks still see a vTPM and delete the secret).
    """
    kept = migrate_data.obj_clone()
    for field in _MIGRATE_DATA_DROPPED:
        if kept.obj_attr_is_set(field):
            delattr(kept, field)
    if kept.obj_attr_is_set('vtpm_secret_value'):
        kept.vtpm_secret_value = None
    return jsonutils.dumps(kept.obj_to_primitive())


def migrate_data_from_json(text, migration):
    """The migrate_data :func:`migrate_data_to_json` kept, or a rebuilt one.

    Rebuilt (nothing was kept: the move was interrupted before the source
    started its half) with what every V2V cutover is: a block migration
    on local instance storage.
    """
    if text:
        data = objects_base.NovaObject.obj_from_primitive(
            jsonutils.loads(text))
    else:
        data = objects.LibvirtLiveMigrateData(
            is_shared_instance_path=False, is_shared_block_storage=False,
            block_migration=True)
    data.migration = migration
    return data


def source_bdms(context, instance, migrate_data):
    """The instance's BDMs as the source had them before the move.

    The destination's ``pre_live_migration`` replaced each volume's
    attachment; ``old_vol_attachment_ids`` holds the source's.
    """
    bdms = objects.BlockDeviceMappingList.get_by_instance_uuid(
        context, instance.uuid)
    old = (migrate_data.old_vol_attachment_ids
           if 'old_vol_attachment_ids' in migrate_data else {})
    for bdm in bdms:
        if bdm.is_volume and bdm.volume_id in old:
            bdm.attachment_id = old[bdm.volume_id]
    return bdms


class NovaCompute(object):
    """Nova's compute manager of a driver.

    For the recovery at start-up and the cutover's port bindings. The
    driver reaches the manager that loaded it through its virtapi
    (``ComputeVirtAPI._compute``): the callbacks a live migration's driver
    is given (``post_method``, ``recover_method``) are that manager's
    methods, bound as ``ComputeManager._do_live_migration`` binds them;
    its ``network_api`` is the one Nova's live migration activates the
    port bindings through.

    :param driver: the :class:`LibvirtDriver` (the V2V driver itself)
    """

    def __init__(self, driver):
        self._driver = driver

    @property
    def _manager(self):
        return self._driver.virtapi._compute

    def post_method(self, source_bdms):
        """Nova's ``post_method`` of a live migration."""
        return functools.partial(
            self._manager._post_live_migration_update_host,
            source_bdms=source_bdms)

    def recover_method(self, source_bdms):
        """Nova's ``recover_method`` of a live migration."""
        return functools.partial(self._manager._rollback_live_migration,
                                 source_bdms=source_bdms)

    def activate_port_bindings(self, context, instance, host, from_host):
        """Make the instance's port bindings on ``host`` the active ones.

        Nova's own activation, as its live migration runs it
        (``ComputeManager.handle_lifecycle_event`` and
        ``_post_live_migration``): the manager's
        ``network_api.migrate_instance_start`` with a Migration from
        ``from_host`` to ``host``. Each port (of the instance's network
        info) whose binding on ``host`` is inactive gets it activated;
        Neutron makes its other binding inactive and the port's
        ``binding:host_id`` ``host``. A port whose binding on ``host`` is
        active already is left as it is; without a binding on ``host``
        (the conductor created none: Neutron without the
        ``binding-extended`` extension) nothing is done. Nova activates
        the source's bindings again the same way when it reverts a move
        (``revert_snapshot_based_resize_at_dest``).

        :param host: the host whose bindings become the active ones
        :param from_host: the host whose bindings are active now
        :raises: nova.exception.PortBindingActivationFailed, or what
            the Neutron client raises
        """
        self._manager.network_api.migrate_instance_start(
            context, instance,
            objects.Migration(source_compute=from_host, dest_compute=host))
