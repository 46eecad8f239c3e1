#!/usr/bin/env bash
# The two commands of the README:
#   ./dev.sh run    install what is needed, start a local OVN and serve the API on :9696
#   ./dev.sh test   install what is needed (test extras too), then lint and run every test
# Works on a fresh Debian 12 (Python 3.11): system packages come from apt-get.
set -euo pipefail
cd "$(dirname "$0")"

VENV=${NEUTRINO_VENV:-.venv}
KEYSTONE_VENV=${NEUTRINO_KEYSTONE_VENV:-.venv-keystone}  # tests run a real Keystone from it
APT_PACKAGES=(ovn-central ovn-host python3-venv
              # `neutrino lab`: namespaces as VMs, real DHCP, ping and TCP through OVN
              openvswitch-switch iproute2 isc-dhcp-client iputils-ping ncat ethtool
              # VTEP gateways: the hardware_vtep schema and vtep-ctl, ovn-controller-vtep
              openvswitch-vtep ovn-controller-vtep
              # python-ovs's C JSON parser, built for Debian's Python 3.11 (ovn/json_parser.py)
              python3-openvswitch)
TEST_APT_PACKAGES=(postgresql)  # tests start throwaway PostgreSQL clusters of their own

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

system_packages() {
    local wanted=("${APT_PACKAGES[@]}") missing=()
    [ "${1:-}" = test ] && wanted+=("${TEST_APT_PACKAGES[@]}")
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
            || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]} with apt-get" >&2
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
    # The Debian packages start system-wide OVN and PostgreSQL services; neutrino and its
    # tests run their own, so stop them (ignored where systemd is not running).
    # The lab runs OVS of its own too: a system ovs-vswitchd would own the same br-int device.
    as_root systemctl disable --now ovn-central ovn-host openvswitch-switch postgresql \
        openvswitch-vtep ovn-controller-vtep \
        >/dev/null 2>&1 || true
}

python_env() {
    local extras=$1 stamp="$VENV/.installed-$1"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e ".[$extras]"
        touch "$stamp"
    fi
}

keystone_env() {
    local stamp="$KEYSTONE_VENV/.installed"
    [ -x "$KEYSTONE_VENV/bin/python" ] || python3 -m venv "$KEYSTONE_VENV"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        local pin
        pin=$(grep -o '"keystone==[^"]*"' pyproject.toml | tr -d '"')
        "$KEYSTONE_VENV/bin/python" -m pip install -q --upgrade pip
        "$KEYSTONE_VENV/bin/python" -m pip install -q "$pin"
        touch "$stamp"
    fi
}

# The whole suite as two pytest runs at once: the e2e and lab tests mostly wait (CLIs,
# daemons, DHCP, Keystone) while the unit and functional ones mostly compute, so on two cores
# the halves overlap well. The lab's devices have fixed names: all lab tests stay in one run.
every_test() {
    local logs rc_fast=0 rc_slow=0 pid
    logs=$(mktemp -d)
    "$VENV/bin/pytest" -q -p no:cacheprovider tests/unit tests/functional >"$logs/fast" 2>&1 &
    pid=$!
    "$VENV/bin/pytest" -q -p no:cacheprovider tests/e2e tests/lab >"$logs/slow" 2>&1 || rc_slow=$?
    wait "$pid" || rc_fast=$?
    echo "== tests/unit tests/functional (exit $rc_fast)"
    cat "$logs/fast"
    echo "== tests/e2e tests/lab (exit $rc_slow)"
    cat "$logs/slow"
    rm -rf "$logs"
    [ "$rc_fast" -eq 0 ] && [ "$rc_slow" -eq 0 ]
}

case "${1:-}" in
    run)
        system_packages
        python_env server
        exec "$VENV/bin/neutrino" serve --local-ovn
        ;;
    test)
        system_packages test
        python_env test
        keystone_env
        "$VENV/bin/ruff" check src tests bench
        export NEUTRINO_KEYSTONE_VENV=$KEYSTONE_VENV
        if [ $# -gt 1 ]; then
            exec "$VENV/bin/pytest" -q -p no:cacheprovider "${@:2}"
        fi
        every_test
        ;;
    *)
        echo "usage: $0 run|test [pytest args]" >&2
        exit 2
        ;;
esac
