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
# Install what the tests and the demo need on a Debian host, idempotently:
# the Debian packages of bindep.txt that are missing (needs root; the
# bindep profiles to use are the arguments, "default" when none), and tox
# in a virtualenv of its own. Prints the path of tox last.
#
#   tools/install-deps.sh            # build packages: tox -e py3 etc.
#   tools/install-deps.sh default test   # plus the libvirt/QEMU lab

set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TOOLS=${NOVA_V2V_TOOLS:-$(pwd)/.tox/.tools}
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
PROFILES=("$@")
if [ "${#PROFILES[@]}" -eq 0 ]; then
    PROFILES=(default)
fi

apt_updated=0
apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "Missing Debian packages: $*; run as root to install them." >&2
        exit 1
    fi
    if [ "$apt_updated" -eq 0 ]; then
        apt-get update -q >&2
        apt_updated=1
    fi
    # The distribution's services (MariaDB, RabbitMQ, libvirtd) are not
    # started by their packages: the lab and the all-in-one run their own
    # on this machine. Debian's policy-rc.d says so, unless one is there.
    local policy=/usr/sbin/policy-rc.d added=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        added=1
    fi
    local rc=0
    apt-get install -y -q --no-install-recommends "$@" >&2 || rc=$?
    if [ "$added" -eq 1 ]; then
        rm -f "$policy"
    fi
    return "$rc"
}

# A Python that can make virtualenvs (Debian's needs python3-venv).
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    apt_install python3-venv python3-pip
fi

mkdir -p "$TOOLS"
if [ ! -x "$TOOLS/bindep/bin/bindep" ]; then
    "$PYTHON" -m venv "$TOOLS/bindep" >&2
    "$TOOLS/bindep/bin/pip" install -q 'bindep>=2.11' >&2
fi
# bindep -b prints the missing packages and exits 1 when there are some.
missing=$("$TOOLS/bindep/bin/bindep" -b "${PROFILES[@]}" || true)
if [ -n "$missing" ]; then
    echo "Installing Debian packages: ${missing//$'\n'/ }" >&2
    # shellcheck disable=SC2086
    apt_install $missing
fi
# Fails, listing them, if something is still missing.
"$TOOLS/bindep/bin/bindep" "${PROFILES[@]}" >&2

# tox with tox-uv: each env's packages installed by uv (about 25 s an env
# on CI's machine, where pip took 45 to 55).
if [ ! -x "$TOOLS/tox/bin/tox" ] ||
        ! "$TOOLS/tox/bin/python" -c 'import tox_uv' 2>/dev/null; then
    [ -x "$TOOLS/tox/bin/pip" ] || "$PYTHON" -m venv "$TOOLS/tox" >&2
    "$TOOLS/tox/bin/pip" install -q 'tox>=4.6,<5' 'tox-uv>=1.11,<2' >&2
fi
echo "$TOOLS/tox/bin/tox"
