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

"""Draining a compute host: every server off it, within limits.

``nova-v2v drain HOST`` (:mod:`nova_v2v.cmd.drain`) is built of pure
parts and one driver of the cloud's API:

- :mod:`~nova_v2v.drain.plan`: what happens to each server (live, V2V
  cutover, cold, or nothing and why), by the planner of ``nova-v2v check``,
  and in which order;
- :mod:`~nova_v2v.drain.schedule`: which moves start now under the
  limits (in flight, per destination) and each move's share of the
  drain's bandwidth;
- :mod:`~nova_v2v.drain.state`: what the drain did so far, kept in a file
  so that the same command goes on after an interruption;
- :mod:`~nova_v2v.drain.progress`: bytes, rate and ETA; the lines and the
  JSON events it prints;
- :mod:`~nova_v2v.drain.report`: the report at the end;
- :mod:`~nova_v2v.drain.runner`: the loop that moves the servers through
  a :class:`~nova_v2v.drain.runner.DrainCloud` (the API's calls).
"""
