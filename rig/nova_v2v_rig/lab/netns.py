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

"""Run a function inside a lab host's network namespace, in-process.

A network namespace is a per-thread attribute: a fresh thread joins the
namespace with ``setns(2)`` and runs the function there, so its sockets
belong to the lab host and the root namespace never dials a lab address.
The thread checks that it really is in the namespace before it runs
anything, and ends with the function.
"""

import ctypes
import os
import threading

CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


class NetnsError(Exception):
    """The thread could not join the network namespace."""


def _same_ns(path_a, path_b):
    a, b = os.stat(path_a), os.stat(path_b)
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _join(ns_path):
    fd = os.open(ns_path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise NetnsError('setns(%s) failed: %s'
                             % (ns_path, os.strerror(err)))
    finally:
        os.close(fd)
    if not _same_ns('/proc/thread-self/ns/net', ns_path):
        raise NetnsError('the thread is not in %s after setns' % ns_path)


def run_in(ns_path, func, *args, **kwargs):
    """func(*args, **kwargs) in a new thread inside ns_path; its result."""
    outcome = {}

    def target():
        try:
            _join(ns_path)
            outcome['value'] = func(*args, **kwargs)
        except BaseException as exc:
            outcome['error'] = exc

    thread = threading.Thread(target=target, name='netns-probe', daemon=True)
    thread.start()
    thread.join()
    if 'error' in outcome:
        raise outcome['error']
    return outcome['value']
