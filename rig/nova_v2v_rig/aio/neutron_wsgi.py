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

"""The Neutron API application for uWSGI (``--wsgi-file``).

Runs in the neutron virtualenv, where nova_v2v is not installed: it
imports only neutron and SQLAlchemy. neutron 29's API-only server answers
the first ``GET /v2.0/ports`` with a 500 (``type object 'Port' has no
attribute 'port_forwardings'``: a backref that exists only once the
mappers are configured); loading that model and configuring the mappers
before the first request avoids it.
"""

from neutron.db.models import port_forwarding  # noqa: F401
from neutron.wsgi import api
import sqlalchemy.orm

application = api.application
sqlalchemy.orm.configure_mappers()
