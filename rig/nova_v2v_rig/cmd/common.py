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

"""What the rig's commands (nova-v2v-lab, nova-v2v-aio) share."""

from oslo_config import cfg
from oslo_log import log as logging


def setup_logging(project, debug):
    """oslo.log on stderr for one of the project's commands."""
    conf = cfg.CONF
    logging.register_options(conf)
    conf([], project=project)
    conf.set_override('use_stderr', True)
    conf.set_override('debug', debug)
    logging.setup(conf, project)
