#!/bin/bash
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
# Stand-ins for the devstack functions that devstack/plugin.sh and
# devstack/settings call, for tests/unit/deploy/test_devstack.py.
#
# The ini helpers behave as devstack's inc/ini-config does (same sed
# expressions, without the -sudo variants and xtrace handling):
#   iniset FILE SECTION OPTION VALUE
#       creates FILE and appends "[SECTION]" when missing; replaces the
#       value of every OPTION line of the section, or, if there is none,
#       inserts "OPTION = VALUE" right after the section header. The value
#       goes through an unquoted echo (whitespace collapses).
#   iniset_multiline FILE SECTION OPTION VALUE...
#       deletes the OPTION lines of the section, then writes one
#       "OPTION = VALUE" line per value, in the order given (each inserted
#       after the header, in reverse).
#   iniget FILE SECTION OPTION     the value(s) after "=", joined by echo
#   inidelete FILE SECTION OPTION  deletes the OPTION lines of the section
# Service and process functions record their calls, one line each (the
# function name and its arguments separated by tabs), in $DEVSTACK_CALLS.

function _devstack_record {
    local IFS=$'\t'
    echo "$*" >> "${DEVSTACK_CALLS:-/dev/null}"
}

function die {
    local lineno=$1
    shift
    echo "[ERROR] line $lineno: $*" >&2
    exit 1
}

function echo_summary {
    _devstack_record echo_summary "$@"
}

function trueorfalse {
    local default=$1
    if [ -z "$2" ]; then
        die $LINENO "variable to normalize required"
    fi
    local testval=${!2:-}
    case "$testval" in
        "1" | [yY]es | "YES" | [tT]rue | "TRUE" ) echo "True" ;;
        "0" | [nN]o | "NO" | [fF]alse | "FALSE" ) echo "False" ;;
        * ) echo "$default" ;;
    esac
}

# ENABLED_SERVICES is devstack's comma-separated list.
function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ,${ENABLED_SERVICES:-}, == *,$service,* ]]; then
            return 0
        fi
    done
    return 1
}

function enable_service {
    local service
    for service in "$@"; do
        if ! is_service_enabled "$service"; then
            ENABLED_SERVICES="${ENABLED_SERVICES:+$ENABLED_SERVICES,}$service"
        fi
    done
}

function setup_develop {
    _devstack_record setup_develop "$@"
}

function stop_process {
    _devstack_record stop_process "$@"
}

function run_process {
    _devstack_record run_process "$@"
}

function ini_has_option {
    local file=$1
    local section=$2
    local option=$3
    local line
    line=$(sed -ne "/^\[$section\]/,/^\[.*\]/ { /^${option}[ \t]*=/ p; }" "$file")
    [ -n "$line" ]
}

function iniget {
    local file=$1
    local section=$2
    local option=$3
    local line
    line=$(sed -ne "/^\[$section\]/,/^\[.*\]/ { /^${option}[ \t]*=/ p; }" "$file")
    # shellcheck disable=SC2086
    echo ${line#*=}
}

function iniset {
    local file=$1
    local section=$2
    local option=$3
    local value=$4
    # As devstack: an unquoted echo, then \ and & escaped for sed.
    # shellcheck disable=SC2086
    value=$(echo $value | sed -e 's/\\/\\\\/g' -e 's/&/\\&/g')
    if [[ -z $section || -z $option ]]; then
        return
    fi
    if ! grep -q "^\[$section\]" "$file" 2>/dev/null; then
        echo -e "\n[$section]" >> "$file"
    fi
    if ! ini_has_option "$file" "$section" "$option"; then
        sed -i -e "/^\[$section\]/ a\\
$option = $value
" "$file"
    else
        local sep
        sep=$(echo -ne "\x01")
        sed -i -e '/^\['"${section}"'\]/,/^\[.*\]/ s'"${sep}"'^\('"${option}"'[ \t]*=[ \t]*\).*$'"${sep}"'\1'"${value}${sep}" "$file"
    fi
}

function iniset_multiline {
    local file=$1
    local section=$2
    local option=$3
    shift 3
    local values=""
    local v
    # Each value is inserted right after the header: reverse them first.
    # shellcheck disable=SC2068
    for v in $@; do
        values="$v ${values}"
    done
    if ! grep -q "^\[$section\]" "$file" 2>/dev/null; then
        echo -e "\n[$section]" >> "$file"
    else
        sed -i -e "/^\[$section\]/,/^\[.*\]/ { /^${option}[ \t]*=/ d; }" "$file"
    fi
    for v in $values; do
        sed -i -e "/^\[$section\]/ a\\
$option = $v
" "$file"
    done
}

function inidelete {
    local file=$1
    local section=$2
    local option=$3
    if [[ -z $section || -z $option ]]; then
        return
    fi
    sed -i -e "/^\[$section\]/,/^\[.*\]/ { /^${option}[ \t]*=/ d; }" "$file"
}
