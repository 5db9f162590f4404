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

"""What a drain asks of the cloud: :class:`DrainCloud`, its one interface.

:class:`nova_v2v.drain.runner.Drain` reads and moves servers only through
these calls; :class:`nova_v2v.cmd.drain.ApiCloud` makes them with the
compute API (novaclient), the unit tests with a fake cloud. Each raises
:class:`CloudError` when the API fails.
"""

import abc
import dataclasses
import typing as ty


class CloudError(Exception):
    """The cloud's API failed a call."""


class CannotGoOn(CloudError):
    """The API failed too many times in a row: the drain stops."""


@dataclasses.dataclass(frozen=True)
class ServerView:
    """A server as the drain follows it."""

    host: ty.Optional[str]
    status: str
    task_state: ty.Optional[str] = None
    fault: ty.Optional[str] = None


class DrainCloud(abc.ABC):
    """The compute API's calls a drain makes; each raises CloudError."""

    @abc.abstractmethod
    def servers_on(self, host):
        """Every server of ``host`` (every project).

        :returns: :class:`nova_v2v.drain.plan.DrainServer` list
        """

    @abc.abstractmethod
    def compute_hosts(self):
        """:class:`nova_v2v.preflight.Compute` list (with profiles)."""

    @abc.abstractmethod
    def server(self, server_id):
        """:class:`ServerView`, or None when it no longer exists."""

    @abc.abstractmethod
    def migrations_in_progress(self, server_id):
        """The server's live migrations in progress (API dicts)."""

    @abc.abstractmethod
    def last_migration(self, server_id):
        """The server's newest migration record (a dict), or None."""

    @abc.abstractmethod
    def live_migrate(self, server_id, host):
        """Ask for a live migration (block migration: auto)."""

    @abc.abstractmethod
    def cold_migrate(self, server_id, host):
        """Ask for a cold migration."""

    @abc.abstractmethod
    def confirm(self, server_id):
        """Confirm a cold migration (VERIFY_RESIZE)."""

    @abc.abstractmethod
    def abort(self, server_id, migration_id):
        """Abort a live migration in progress."""

    @abc.abstractmethod
    def force_complete(self, server_id, migration_id):
        """Force a live migration in progress to complete."""

    @abc.abstractmethod
    def set_bandwidth(self, server_id, mib):
        """Set the server's ``nova-v2v:bandwidth_mib`` metadata."""

    @abc.abstractmethod
    def clear_bandwidth(self, server_id):
        """Remove it (no error if it is not set)."""

    @abc.abstractmethod
    def service(self, host):
        """``(enabled, disabled_reason)`` of the host's nova-compute."""

    @abc.abstractmethod
    def disable(self, host, reason):
        """Disable the host's nova-compute with ``reason``."""
