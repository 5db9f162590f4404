#!/bin/bash
#
# devstack/plugin.sh: devstack plugin for nova-v2v.
#
# Installs nova-v2v into nova's environment (pip install -e), configures
# the V2V compute driver and scheduler filter, and runs n-cpu with
# nova-v2v-compute instead of nova-compute.
#
# NOTE: written to devstack's plugin contract
# (https://docs.openstack.org/devstack/latest/plugins.html) and the shape of
# networking-generic-switch's plugin; it has NOT been run in a devstack yet
# (no devstack on the machines this was written on).

# Save trace setting
_XTRACE_NOVA_V2V=$(set +o | grep xtrace)
set -o xtrace

NOVA_V2V_DIR=${NOVA_V2V_DIR:-$DEST/nova-v2v}
NOVA_V2V_FILTER=V2VMigrationFilter
NOVA_V2V_FILTER_PATH=nova_v2v.scheduler.filters.$NOVA_V2V_FILTER

function install_nova_v2v {
    setup_develop $NOVA_V2V_DIR
}

function configure_nova_v2v {
    # The compute driver is set in the "extra" phase, see
    # start_nova_v2v_compute.

    # Scheduler: make the filter available (MultiStrOpt: one line per value)
    # and append it to the enabled ones.
    if is_service_enabled n-sch; then
        iniset_multiline $NOVA_CONF filter_scheduler available_filters \
            nova.scheduler.filters.all_filters $NOVA_V2V_FILTER_PATH
        local enabled
        enabled=$(iniget $NOVA_CONF filter_scheduler enabled_filters)
        if [[ -z "$enabled" ]]; then
            # Nova 34's default list.
            enabled=ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter
        fi
        if [[ ",$enabled," != *",$NOVA_V2V_FILTER,"* ]]; then
            iniset $NOVA_CONF filter_scheduler enabled_filters \
                "$enabled,$NOVA_V2V_FILTER"
        fi
    fi
}

function start_nova_v2v_compute {
    # devstack's start_nova_compute copies nova.conf to $NOVA_CPU_CONF and
    # runs $NOVA_BIN_DIR/nova-compute with the stock libvirt driver. Once it
    # has, switch the driver (only nova-v2v-compute can load it) and run the
    # same service under its own name with nova-v2v-compute instead.
    if is_service_enabled n-cpu; then
        stop_process n-cpu
        iniset $NOVA_CPU_CONF DEFAULT compute_driver v2v.V2VLibvirtDriver
        run_process n-cpu "$NOVA_BIN_DIR/nova-v2v-compute --config-file $NOVA_CPU_CONF"
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
