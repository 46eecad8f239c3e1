"""Port binding rules: which host binds, with what vif_type and vif_details."""

from __future__ import annotations

import pytest

from neutrino.binding import Binding, BindRequest, bind, find_chassis, vhost_socket
from neutrino.ovn.client import chassis_from_row
from neutrino.scheduling import Chassis, parse_physnets

PORT = "0123456789abcdef-port"
SOCK = "/var/run/openvswitch"
PLAIN = Chassis("uuid-1", hostname="compute-1")
DPDK = Chassis("uuid-2", hostname="compute-2", datapath_type="netdev",
               iface_types=("dpdk", "dpdkvhostuser", "internal"), bridge="br-fast")
NETDEV_ONLY = Chassis("uuid-3", hostname="compute-3", datapath_type="netdev")
MAPPED = Chassis("uuid-4", hostname="compute-4", physnets=("physnet1",))
ALL = [PLAIN, DPDK, NETDEV_ONLY, MAPPED]
OVS_SYSTEM = {"port_filter": True, "connectivity": "l2", "bridge_name": "br-int",
              "datapath_type": "system"}


def request(host: str, **kw: object) -> BindRequest:
    return BindRequest(port_id=PORT, host=host, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("req", "chassis", "expected"),
    [
        pytest.param(request(""), ALL, Binding("unbound"), id="no-host-unbound"),
        pytest.param(request(""), None, Binding("unbound"), id="no-host-sb-down-unbound"),
        pytest.param(request("compute-1"), ALL, Binding("ovs", OVS_SYSTEM), id="system-ovs"),
        pytest.param(request("uuid-1"), ALL, Binding("ovs", OVS_SYSTEM), id="by-chassis-name"),
        pytest.param(request("nowhere"), ALL, Binding("binding_failed"), id="not-a-chassis"),
        pytest.param(request("compute-1"), [], Binding("binding_failed"), id="no-chassis"),
        pytest.param(request("compute-1"), None, Binding("binding_failed"), id="sb-down"),
        pytest.param(request("compute-3"), ALL, Binding("ovs", {
            **OVS_SYSTEM, "datapath_type": "netdev"}), id="netdev-without-vhostuser-ovs"),
        pytest.param(request("compute-2"), ALL, Binding("vhostuser", {
            "port_filter": False, "vhostuser_mode": "server", "vhostuser_ovs_plug": True,
            "vhostuser_socket": "/var/run/openvswitch/vhu0123456789a",
            "connectivity": "l2", "bridge_name": "br-fast", "datapath_type": "netdev"}),
            id="dpdk-vhostuser"),
        pytest.param(request("compute-4", network_type="vlan", physical_network="physnet1"),
                     ALL, Binding("ovs", OVS_SYSTEM), id="vlan-mapped-physnet"),
        pytest.param(request("compute-4", network_type="flat", physical_network="physnet2"),
                     ALL, Binding("binding_failed"), id="flat-unmapped-physnet"),
        pytest.param(request("compute-1", network_type="vlan", physical_network="physnet1"),
                     ALL, Binding("binding_failed"), id="vlan-no-mappings"),
        pytest.param(request("compute-1", network_type="geneve"), ALL,
                     Binding("ovs", OVS_SYSTEM), id="geneve-needs-no-mapping"),
        pytest.param(request("compute-1", vnic_type="direct"), ALL,
                     Binding("binding_failed"), id="direct-without-switchdev"),
        pytest.param(request("compute-1", vnic_type="direct",
                             profile={"capabilities": ["switchdev"]}), ALL,
                     Binding("ovs", OVS_SYSTEM), id="direct-switchdev"),
        pytest.param(request("compute-1", vnic_type="baremetal"), ALL,
                     Binding("binding_failed"), id="unbindable-vnic"),
        pytest.param(request("compute-1", vnic_type="virtio-forwarder"), ALL,
                     Binding("binding_failed"), id="virtio-forwarder-not-offered"),
    ],
)
def test_bind(req: BindRequest, chassis: list[Chassis] | None, expected: Binding) -> None:
    assert bind(req, chassis, SOCK) == expected


def test_hostname_wins_over_another_chassis_name() -> None:
    named = Chassis("compute-1", hostname="elsewhere")
    assert find_chassis([named, PLAIN], "compute-1") == PLAIN


def test_vhost_socket_name_fits_an_interface_name() -> None:
    assert vhost_socket("/run/ovs", "abcdefghijklmnop") == "/run/ovs/vhuabcdefghijk"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ()), ("", ()), ("physnet1:br-ex", ("physnet1",)),
     ("physnet1:br-ex, physnet2:br-vlan", ("physnet1", "physnet2")), ("junk", ())],
)
def test_parse_physnets(value: str | None, expected: tuple[str, ...]) -> None:
    assert parse_physnets(value) == expected


def test_chassis_row_reads_other_config_then_external_ids() -> None:
    row = {"name": "uuid-9", "hostname": "compute-9",
           "other_config": {"ovn-bridge-datapath-type": "netdev",
                            "iface-types": "dpdk,dpdkvhostuser"},
           "external_ids": {"ovn-bridge-datapath-type": "system",
                            "ovn-bridge-mappings": "physnet1:br-ex", "ovn-bridge": "br-x",
                            "ovn-cms-options": "enable-chassis-as-gw"}}
    assert chassis_from_row(row) == Chassis(
        "uuid-9", ("enable-chassis-as-gw",), hostname="compute-9", physnets=("physnet1",),
        datapath_type="netdev", iface_types=("dpdk", "dpdkvhostuser"), bridge="br-x")


def test_chassis_row_with_nothing_reported() -> None:
    assert chassis_from_row({"name": "c"}) == Chassis("c")


@pytest.mark.parametrize(
    ("other_config", "external_ids", "expected"),
    [
        pytest.param({"datapath-type": "netdev"}, {}, "netdev", id="reported-by-ovn-controller"),
        pytest.param({"datapath-type": "netdev", "ovn-bridge-datapath-type": "system"}, {},
                     "netdev", id="reported-wins-over-configured"),
        pytest.param({}, {"ovn-bridge-datapath-type": "netdev"}, "netdev",
                     id="configured-key-in-external-ids"),
        pytest.param({}, {}, "", id="none"),
    ],
)
def test_chassis_datapath_type(other_config: dict, external_ids: dict, expected: str) -> None:
    row = {"name": "c", "other_config": other_config, "external_ids": external_ids}
    assert chassis_from_row(row).datapath_type == expected
