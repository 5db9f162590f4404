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

"""A call to another host's libvirt, bounded in time.

A libvirt call cannot be interrupted. With the link to the other host
silently down, opening a connection waits for TCP to give up (minutes),
and a call on an open connection waits until libvirt's keepalive, when
an event loop runs it, or TCP closes the connection. A cutover's bounds
([v2v] cutover_activity_timeout) and a compute's start-up must not wait
as long: :func:`call_within` runs the call in a thread of its own and
gives up on it after a deadline. The thread is left to end by itself
(what it opened, it closes); whatever it returns then is dropped, and a
caller whose call must not act once given up passes ``abandoned`` and
checks it before it acts.

Under Nova's eventlet concurrency mode (deprecated, still supported) the
thread is a green thread: the libvirt objects the call uses must then run
their calls in native threads (``tpool``), as Nova's own do
(``nova_internals.NovaLibvirt.open_destination`` wraps the destination's
connection so), or a call blocking in C blocks the whole process.
"""

import threading

from nova_v2v.transfer import exception


def call_within(timeout, func, *args, abandoned=None, **kwargs):
    """``func(*args, **kwargs)`` for at most ``timeout`` seconds.

    :param timeout: seconds; at least a tenth of a second is given
    :param abandoned: a :class:`threading.Event` set when the call is
        given up, for ``func`` to check before it acts
    :returns: what ``func`` returned
    :raises: NoAnswer when ``func`` did not return in time; what ``func``
        raised otherwise
    """
    outcome = {}

    def run():
        try:
            outcome['value'] = func(*args, **kwargs)
        except BaseException as exc:
            outcome['error'] = exc

    worker = threading.Thread(target=run, name='v2v-bounded-call',
                              daemon=True)
    worker.start()
    worker.join(max(timeout, 0.1))
    if worker.is_alive():
        if abandoned is not None:
            abandoned.set()
        raise exception.NoAnswer('the destination\'s libvirt did not '
                                 'answer within %gs' % timeout)
    if 'error' in outcome:
        raise outcome['error']
    return outcome['value']
