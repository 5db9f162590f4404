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
# The project's test command (README.rst, CI's .ci/run): runs the tox envs
# one after the other, prints each env's stestr counts and its time, then one
# closing line summed over the envs:
#   N passed, M failed, S skipped, K passed only on a second run
# K counts the lines "RERUN-PASSED: <test>: <signature>" in the envs'
# output: a test (a gate move or check) that passed only when run once more
# after a guest crash of QEMU's known TCG fault (README.rst, "TCG guests on
# QEMU before 9.0"; nova_v2v_rig.lab.migrate.once_more). K is part of N.
#
# Usage: tools/run-tests.sh [ENV ...]
#   default envs: pep8 py3 functional nova-regression integration gate
#   horizon gate-faults
#   (integration runs the real libvirt/QEMU lab, gate the lab and a real
#   OpenStack all-in-one on it, horizon Horizon's migrate actions in a
#   browser on it, gate-faults its fault matrix: root)
#   gate, horizon and gate-faults share one all-in-one: each leaves it up
#   (--keep) for the next, and the last one tears it down (--down).
#   TOX=/path/to/tox to use a tox that is not on PATH.
#
# Time limits: each env runs under GNU timeout, in a process group of its
# own (tox, stestr and its workers). Past its limit the group gets SIGTERM,
# then SIGKILL NOVA_V2V_TEST_KILL_AFTER seconds later (30); the env fails
# with the line "<env>: timed out after Ns" and counts as one failure, and
# the next env runs. The limit of an env, in seconds, is
# NOVA_V2V_TEST_TIMEOUT_<ENV> (the env's name in capitals, "-" as "_"),
# by default:
#   py3 600, functional 900, nova-regression 900, integration 1500,
#   gate 2400, horizon 900, gate-faults 1800, any other env
#   NOVA_V2V_TEST_TIMEOUT (1200)
# (well above what each takes on CI's 2-core machine: a hung env fails
# alone, and the run stays within CI's 90 minutes).
# SIGINT or SIGTERM to this script stops the running env the same way.
#
# Every env runs even when an earlier one fails; the exit status is non-zero
# if any env failed or if no test ran at all.

set -uo pipefail

DEFAULT_ENVS=(pep8 py3 functional nova-regression integration gate
              horizon gate-faults)

cd "$(dirname "$0")/.." || exit 1

if [ "$#" -gt 0 ]; then
    ENVS=("$@")
else
    ENVS=("${DEFAULT_ENVS[@]}")
fi

# Install what is missing (Debian packages as root, tox in a venv) unless
# the caller brings its own tox.
# The integration env needs the libvirt/QEMU lab's packages too.
PROFILES=(default)
case " ${ENVS[*]} " in
    *" integration "*|*" demo "*|*" faults "*|*" gate "*|*" gate-faults "*|*" horizon "*)
        PROFILES+=(test) ;;
esac
case " ${ENVS[*]} " in
    *" gate "*|*" gate-faults "*|*" horizon "*) PROFILES+=(gate) ;;
esac
case " ${ENVS[*]} " in
    *" horizon "*) PROFILES+=(horizon) ;;
esac
if [ -z "${TOX:-}" ]; then
    TOX=$(tools/install-deps.sh "${PROFILES[@]}") || exit 1
fi

total_passed=0
total_failed=0
total_skipped=0
total_reruns=0
failed_envs=()
summary=()

# totals LOG -> "passed failed skipped" from the last "Totals" block that
# stestr (subunit-trace) printed in LOG, or nothing. The output of this very
# run is parsed, not the shared ./.stestr repository, which other runs in
# the same tree may write to at the same time.
totals() {
    awk '/^Totals$/ {seen=1; p=""; f=""; s=""}
         seen && /^ - Passed: [0-9]+/ {p=$3}
         seen && /^ - Failed: [0-9]+/ {f=$3}
         seen && /^ - Skipped: [0-9]+/ {s=$3}
         END {if (p != "" && f != "") print p+0, f+0, s+0}' "$1"
}

# moves LOG -> "passed failed 0" from the gate's closing line "N of M moves
# OK, K of L checks OK, ...": each move and each check of the gate is a
# checked test.
moves() {
    awk '/^[0-9]+ of [0-9]+ moves OK/ {
             p=$1; f=$3-$1
             if ($9 == "checks") {p+=$6; f+=$8-$6}
         }
         END {if (p != "") print p+0, f+0, 0}' "$1"
}

# cells LOG -> "passed failed 0" from gate-faults' closing line "N of M
# cells OK, ...": each cell of the fault matrix is a checked test.
cells() {
    awk '/^[0-9]+ of [0-9]+ cells OK/ {p=$1; f=$3-$1}
         END {if (p != "") print p+0, f+0, 0}' "$1"
}

# actions LOG -> "passed failed 0" from the horizon suite's closing line
# "N of M actions OK, ...": each clicked action is a checked test.
actions() {
    awk '/^[0-9]+ of [0-9]+ actions OK/ {p=$1; f=$3-$1}
         END {if (p != "") print p+0, f+0, 0}' "$1"
}

# The suites that share one all-in-one, in the order they run.
SHARING=(gate horizon gate-faults)

# shared_before ENV / shared_after ENV: whether a suite sharing the
# all-in-one runs before / after ENV in this run.
shared_before() {
    local e
    for e in "${ENVS[@]}"; do
        [ "$e" = "$1" ] && return 1
        case " ${SHARING[*]} " in *" $e "*) return 0 ;; esac
    done
    return 1
}
shared_after() {
    local e seen=0
    for e in "${ENVS[@]}"; do
        if [ "$seen" -eq 1 ]; then
            case " ${SHARING[*]} " in *" $e "*) return 0 ;; esac
        fi
        [ "$e" = "$1" ] && seen=1
    done
    return 1
}

# posargs ENV -> the arguments after "--" for tox -e ENV: a suite that
# shares the all-in-one keeps it up when another runs after it, and the
# last one tears it down (even when an earlier one brought it up);
# horizon and gate-faults print their rows as JSON too (on stdout, the
# table on stderr: the log has both).
posargs() {
    local out=()
    case "$1" in
        horizon|gate-faults) out+=(--json) ;;
    esac
    case "$1" in
        gate|horizon|gate-faults)
            if shared_after "$1"; then
                out+=(--keep)
            elif shared_before "$1" && [ "$1" != gate ]; then
                out+=(--down)
            fi ;;
    esac
    echo "${out[*]}"
}

# reruns LOG -> how many "RERUN-PASSED: " lines LOG has (a test that passed
# only on a second run, nova_v2v_rig.lab.migrate.rerun_passed_line). A line
# that a failed test's captured output repeats is indented: not counted.
reruns() {
    grep -c '^RERUN-PASSED: ' "$1" || true
}

# limit ENV -> the env's time limit in seconds (see the header).
limit() {
    local var default
    var="NOVA_V2V_TEST_TIMEOUT_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_' |
                                 tr -c 'A-Z0-9_' '_')"
    case "$1" in
        py3) default=600 ;;
        functional) default=900 ;;
        nova-regression) default=900 ;;
        integration) default=1500 ;;
        gate) default=2400 ;;
        horizon) default=900 ;;
        gate-faults) default=1800 ;;
        *) default=${NOVA_V2V_TEST_TIMEOUT:-1200} ;;
    esac
    echo "${!var:-$default}"
}
KILL_AFTER=${NOVA_V2V_TEST_KILL_AFTER:-30}

# The running env's timeout process (the leader of the env's process
# group): a signal to this script stops it and what it runs.
running=
stop_running() {
    if [ -n "$running" ]; then
        echo "--- interrupted: stopping tox -e $env" >&2
        kill -TERM "$running" 2>/dev/null
        wait "$running" 2>/dev/null
    fi
    exit 130
}
trap stop_running INT TERM

# failures LOG [--brief]: each test that failed in LOG with the end of its
# traceback and details (--brief: its id and exception, one line), as
# subunit-trace printed them (tools/failed_tests.py), so that the closing
# lines of a long run (all that a CI summary may keep) say what failed.
failures() {
    python3 tools/failed_tests.py "$@" | sed 's/^/    /'
}

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/nova-v2v-tests.XXXXXX")
trap 'rm -rf "$LOGDIR"' EXIT

for env in "${ENVS[@]}"; do
    echo
    echo "=== tox -e $env ==="
    log="$LOGDIR/$env.log"
    env_limit=$(limit "$env")
    start=$SECONDS
    # GNU timeout (not --foreground) makes itself a process group leader:
    # on the limit it signals tox and everything tox started (stestr, its
    # workers), which stay in that group. It runs in the background, its
    # output through a FIFO to tee, so that a signal to this script reaches
    # stop_running at once (wait returns; a foreground pipeline would not).
    fifo="$LOGDIR/$env.fifo"
    mkfifo "$fifo"
    tee "$log" <"$fifo" &
    tee_pid=$!
    extra=$(posargs "$env")
    # $extra unquoted: no argument or a few words (--json, --keep, --down).
    # shellcheck disable=SC2086
    timeout --kill-after="$KILL_AFTER" --signal=TERM "$env_limit" \
        "$TOX" -e "$env" ${extra:+--} $extra >"$fifo" 2>&1 &
    running=$!
    wait "$running"
    rc=$?
    running=
    wait "$tee_pid"
    rm -f "$fifo"
    elapsed=$((SECONDS - start))
    timed_out=0
    # 124: stopped by SIGTERM at the limit; 137: by the SIGKILL after it.
    if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] &&
                              [ "$elapsed" -ge "$env_limit" ]; }; then
        timed_out=1
        echo "$env: timed out after ${env_limit}s"
    fi
    env_reruns=$(reruns "$log")
    total_reruns=$((total_reruns + env_reruns))
    counts=$(totals "$log")
    if [ -z "$counts" ]; then
        counts=$(moves "$log")
    fi
    if [ -z "$counts" ]; then
        counts=$(cells "$log")
    fi
    if [ -z "$counts" ]; then
        counts=$(actions "$log")
    fi
    if [ "$timed_out" -eq 1 ]; then
        # What ran before the limit has no totals: the env is one failure.
        total_failed=$((total_failed + 1))
        line="$env: timed out after ${env_limit}s"
    elif [ -n "$counts" ]; then
        read -r passed failed skipped <<<"$counts"
        if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
            # The env failed without a failed test to show for it (a
            # gate stage that could not run its moves): counted as one.
            failed=1
        fi
        total_passed=$((total_passed + passed))
        total_failed=$((total_failed + failed))
        total_skipped=$((total_skipped + skipped))
        line="$env: $passed passed, $failed failed, $skipped skipped,"
        line="$line $env_reruns passed only on a second run"
        if [ "$rc" -eq 0 ] && [ "$failed" -gt 0 ]; then
            rc=1
        fi
    else
        line="$env: no test counts (not a test env, or stestr did not finish)"
    fi
    if [ "$rc" -ne 0 ]; then
        failed_envs+=("$env")
        line="$line, exit $rc, FAILED"
    else
        line="$line, OK"
    fi
    line="$line (${elapsed}s)"
    echo "--- $line"
    summary+=("$line")
done

for env in "${failed_envs[@]}"; do
    echo
    echo "=== What failed in $env ==="
    failures "$LOGDIR/$env.log"
done

echo
echo "=== Summary ==="
for line in "${summary[@]}"; do
    echo "  $line"
done
status=0
if [ "${#failed_envs[@]}" -gt 0 ]; then
    echo "Failed envs: ${failed_envs[*]}"
    for env in "${failed_envs[@]}"; do
        failures --brief "$LOGDIR/$env.log"
    done
    status=1
fi
if [ $((total_passed + total_failed)) -eq 0 ]; then
    case " ${ENVS[*]} " in
        *" py3 "*|*" functional "*|*" nova-regression "*|*" integration "*|*" gate "*|*" gate-faults "*|*" horizon "*)
            echo "No test ran."
            status=1
            ;;
    esac
fi
echo "$total_passed passed, $total_failed failed, $total_skipped skipped," \
    "$total_reruns passed only on a second run"
exit "$status"
