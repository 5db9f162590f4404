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

"""Deployment helpers: what nova-v2v needs in Nova's configuration.

``nova_v2v.deploy.novaconf`` is the one place that knows which nova.conf
lines nova-v2v needs; the devstack plugin (``devstack/plugin.sh``) and
other installers apply them from there.
"""
