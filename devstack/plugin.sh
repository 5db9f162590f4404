#!/bin/bash
#
# devstack/plugin.sh: devstack plugin for nova-v2v.
#
# Installs nova-v2v into Nova's environment (setup_develop), configures the
# V2V compute driver and the scheduler filter, and runs n-cpu with
# nova-v2v-compute instead of nova-compute.
#
# The nova.conf lines are not written here: nova_v2v.deploy.novaconf (the
# one source of truth, also used by other installers) prints them as
# devstack iniset/iniset_multiline lines for a given role and this plugin
# runs them.
#
# Phases (devstack's plugin contract,
# https://docs.openstack.org/devstack/latest/plugins.html):
#   stack install      setup_develop $NOVA_V2V_DIR
#   stack post-config  n-sch: the "scheduler" role into $NOVA_CONF;
#                      n-cpu: the [v2v] options into $NOVA_CONF (devstack
#                      copies $NOVA_CONF to $NOVA_CPU_CONF when it starts
#                      n-cpu)
#   stack extra        n-cpu: stop it, write the "compute" role (the V2V
#                      driver) into $NOVA_CPU_CONF, run it again with
#                      nova-v2v-compute; only nova-v2v-compute can load the
#                      driver, so it is set once devstack's own start of n-cpu
#                      (nova-compute) is behind us.
#
# Tested by tests/unit/deploy/test_devstack.py against stand-ins for
# devstack's functions; not yet run in a real devstack.

# Save trace setting
_XTRACE_NOVA_V2V=$(set +o | grep xtrace)
set -o xtrace

# The python that can import nova_v2v (after setup_develop).
function _nova_v2v_python {
    if [[ -n "${NOVA_V2V_PYTHON:-}" ]]; then
        echo "$NOVA_V2V_PYTHON"
    elif [[ -x "${NOVA_BIN_DIR:-}/python3" ]]; then
        echo "$NOVA_BIN_DIR/python3"
    else
        echo "${PYTHON:-python3}"
    fi
}

# _nova_v2v_apply CONF ROLE [ARGS...]: write the nova.conf lines of ROLE
# (compute, scheduler) into CONF, with the [v2v] options of devstack/settings.
# ARGS go to nova_v2v.deploy.novaconf (e.g. --section v2v).
function _nova_v2v_apply {
    local conf=$1
    local role=$2
    shift 2
    local args=(--role "$role" --conf "$conf" --format iniset "$@")
    local opt
    if [[ -n "${NOVA_V2V_ALLOW_CUTOVER:-}" ]]; then
        args+=(--set "v2v.allow_cutover=$NOVA_V2V_ALLOW_CUTOVER")
    fi
    if [[ -n "${NOVA_V2V_CUTOVER_MODE:-}" ]]; then
        args+=(--set "v2v.cutover_mode=$NOVA_V2V_CUTOVER_MODE")
    fi
    if [[ -n "${NOVA_V2V_STORAGE_ID:-}" ]]; then
        args+=(--set "v2v.storage_id=$NOVA_V2V_STORAGE_ID")
    fi
    for opt in ${NOVA_V2V_OPTIONS:-}; do
        args+=(--set "$opt")
    done
    if [[ "${NOVA_V2V_ENABLE_WEIGHER:-False}" == "True" ]]; then
        args+=(--weigher)
    fi
    local lines
    # Not "eval $(...)": a failure of the module must stop the stack.
    lines=$("$(_nova_v2v_python)" -m nova_v2v.deploy.novaconf "${args[@]}") \
        || die $LINENO "nova_v2v.deploy.novaconf failed for $conf ($role)"
    # The module quotes every word (shlex.quote).
    eval "$lines"
}

function install_nova_v2v {
    setup_develop "$NOVA_V2V_DIR"
}

function configure_nova_v2v {
    if [[ "${VIRT_DRIVER:-libvirt}" != "libvirt" ]]; then
        die $LINENO "nova-v2v needs VIRT_DRIVER=libvirt, not $VIRT_DRIVER"
    fi
    if is_service_enabled n-sch; then
        _nova_v2v_apply "$NOVA_CONF" scheduler
    fi
    if is_service_enabled n-cpu; then
        # Only the [v2v] options: the driver is set at the "extra" phase.
        _nova_v2v_apply "$NOVA_CONF" compute --section v2v
    fi
}

function start_nova_v2v_compute {
    # devstack's start_nova_compute copied $NOVA_CONF to $NOVA_CPU_CONF and
    # ran $NOVA_BIN_DIR/nova-compute with the stock libvirt driver. Run the
    # same service, under the same name and group, with nova-v2v-compute
    # and the V2V driver instead.
    if is_service_enabled n-cpu; then
        stop_process n-cpu
        _nova_v2v_apply "$NOVA_CPU_CONF" compute
        run_process n-cpu \
            "$NOVA_BIN_DIR/nova-v2v-compute --config-file $NOVA_CPU_CONF" \
            "${LIBVIRT_GROUP:-}"
    fi
}

function cleanup_nova_v2v {
    :
}

if is_service_enabled nova-v2v; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing nova-v2v"
        install_nova_v2v
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring nova-v2v"
        configure_nova_v2v
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Restarting n-cpu with nova-v2v-compute"
        start_nova_v2v_compute
    fi

    if [[ "$1" == "unstack" ]]; then
        cleanup_nova_v2v
    fi
fi

# Restore xtrace
$_XTRACE_NOVA_V2V
