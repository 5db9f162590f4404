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

"""The translated clone on the destination: define, start, check, remove.

The last step of a cutover: once the source is stopped and the exports
released their images, the clone of the guest (its translated
definition, on the disks the mirror filled) is defined and started on
the destination's libvirt and checked to run.  A clone that fails is
destroyed and undefined again, so that the source can resume; when its
removal cannot be confirmed (the destination became unreachable) it may
run, and :class:`~nova_v2v.transfer.exception.CloneStateUnknown` tells
the caller to leave the source stopped.
"""

import time

import libvirt
from oslo_log import log as logging

from nova_v2v.transfer import exception

LOG = logging.getLogger(__name__)

CLONE_TIMEOUT = 120
CLONE_START_ATTEMPTS = 3
CLONE_RETRY_DELAY = 1.0


def _conn_alive(conn):
    try:
        return bool(conn.isAlive())
    except libvirt.libvirtError:
        return False


def _remove_clone(dest_conn, clone):
    """Destroy and undefine a clone; False if it may still be running."""
    try:
        if clone.isActive():
            clone.destroy()
    except libvirt.libvirtError as exc:
        if not _conn_alive(dest_conn):
            LOG.error('The clone %(name)s could not be destroyed: the '
                      'destination is unreachable (%(err)s)',
                      {'name': clone.name(), 'err': exc})
            return False
        LOG.warning('Destroy of the clone: %(err)s', {'err': exc})
    try:
        clone.undefine()
    except libvirt.libvirtError as exc:
        LOG.warning('Undefine of the clone: %(err)s', {'err': exc})
    return True


def start_clone(dest_conn, xml, verify_clone, timeout):
    """Define and start the clone on ``dest_conn``; check that it runs.

    :param dest_conn: a libvirt connection to the destination
    :param xml: the clone's definition
    :param verify_clone: ``f(clone, timeout)`` that raises when the clone
        does not come up (e.g. it does not write), or None
    :param timeout: seconds ``verify_clone`` may take
    :returns: (clone ``virDomain``, monotonic time it was started)
    :raises: CloneNotRunning (the clone was removed again),
        CloneStateUnknown (its removal could not be confirmed), or what
        ``verify_clone`` or libvirt raised (the clone was removed again)
    """
    if not _conn_alive(dest_conn):
        # Nothing was sent: the clone cannot run, the source may resume.
        raise exception.CloneNotRunning('the destination\'s libvirt is '
                                        'unreachable; the clone was not '
                                        'defined')
    clone = dest_conn.defineXML(xml)
    try:
        clone.create()
        started = time.monotonic()
        state = clone.state()[0]
        if state != libvirt.VIR_DOMAIN_RUNNING:
            raise exception.CloneNotRunning('the clone %s is not running '
                                            '(state %s)' % (clone.name(),
                                                            state))
        if verify_clone:
            verify_clone(clone, timeout)
        if not clone.isActive():
            raise exception.CloneNotRunning('the clone %s stopped'
                                            % clone.name())
    except Exception as exc:
        if not _remove_clone(dest_conn, clone):
            raise exception.CloneStateUnknown(
                'the clone %s failed (%s) and the destination became '
                'unreachable before its removal was confirmed'
                % (clone.name(), exc), clone=clone.name()) from exc
        raise
    return clone, started


def start_clone_retrying(dest_conn, xml, verify_clone, timeout,
                         attempts=CLONE_START_ATTEMPTS,
                         delay=CLONE_RETRY_DELAY):
    """:func:`start_clone`, again while an image lock is still held.

    The export that held the destination's images may still be closing
    them when its port or process is gone; QEMU then refuses to start
    with a lock error.  Returns (clone, monotonic start time).
    """
    for attempt in range(1, attempts + 1):
        try:
            return start_clone(dest_conn, xml, verify_clone, timeout)
        except libvirt.libvirtError as exc:
            if attempt == attempts or 'lock' not in str(exc).lower():
                raise
            LOG.info('The clone could not start yet (attempt %(n)d: '
                     '%(err)s); retrying', {'n': attempt, 'err': exc})
            time.sleep(delay)
