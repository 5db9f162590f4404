#!/usr/bin/env bash
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
#
# The demo: on a Debian 12 host, as root, install what is missing, start
# the two-host libvirt/QEMU lab, run one migration of each mode through
# nova-v2v's engine, print a table, and tear the lab down.
#
#   sudo tools/demo.sh [nova-v2v-lab demo options]

set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "The lab needs root (network namespaces, libvirt daemons)." >&2
    exit 1
fi
TOX=$(tools/install-deps.sh default test)
exec "$TOX" -e demo -- "$@"
