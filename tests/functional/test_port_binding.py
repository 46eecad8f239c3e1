"""Port binding against a real SB: Nova's vif_type and vif_details, as ML2/OVN answers them.

Chassis are SB records only (no ovn-controller), carrying what an ovn-controller reports in
other_config (or external_ids, as older ones did).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from nb_state import wait_journal_idle
from ovn_tools import nbctl, sbctl
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino
from neutrino.ovn import local
from neutrino.ovn.local import LocalOvn

_encaps = itertools.count(1)
OVS_SYSTEM = {"port_filter": True, "connectivity": "l2", "bridge_name": "br-int",
              "datapath_type": "system"}


def add_chassis(app: Neutrino, ovn: LocalOvn, name: str, hostname: str,
                column: str = "other_config", **settings: str) -> None:
    sbctl(ovn, "chassis-add", name, "geneve", f"127.0.3.{next(_encaps)}")
    sets = [f"hostname={hostname}"] + [f'{column}:"{k}"="{v}"' for k, v in settings.items()]
    sbctl(ovn, "set", "Chassis", name, *sets)
    wait_for(lambda: any(c.name == name and c.hostname == hostname for c in app.sb.chassis()),
             10, f"chassis {name} seen by neutrino")


@pytest.fixture()
def app(private_app: Neutrino) -> Neutrino:
    wait_for(lambda: private_app.sb.connected, 20, "SB connection")
    return private_app


@pytest.fixture()
def api(app: Neutrino) -> Iterator[TestClient]:
    with TestClient(app.app) as client:
        yield client


def network(api: TestClient, **provider: str) -> str:
    response = api.post("/v2.0/networks", json={"network": {"name": "n", **provider}})
    assert response.status_code == 201, response.text
    return response.json()["network"]["id"]


def port(api: TestClient, network_id: str, **attrs: object) -> dict:
    response = api.post("/v2.0/ports", json={"port": {"network_id": network_id, **attrs}})
    assert response.status_code == 201, response.text
    return response.json()["port"]


def update(api: TestClient, port_id: str, **attrs: object) -> dict:
    response = api.put(f"/v2.0/ports/{port_id}", json={"port": attrs})
    assert response.status_code == 200, response.text
    return response.json()["port"]


def binding(body: dict) -> tuple[str, dict]:
    return body["binding:vif_type"], body["binding:vif_details"]


def test_system_chassis_binds_ovs_and_keeps_requested_chassis(
        app: Neutrino, private_ovn: LocalOvn, api: TestClient) -> None:
    add_chassis(app, private_ovn, "ch-sys", "compute-sys")
    created = port(api, network(api), **{"binding:host_id": "compute-sys"})
    assert binding(created) == ("ovs", OVS_SYSTEM)
    assert binding(api.get(f"/v2.0/ports/{created['id']}").json()["port"]) == (
        "ovs", OVS_SYSTEM)
    wait_journal_idle(app)
    assert nbctl(private_ovn, "get", "Logical_Switch_Port", created["id"],
                 "options:requested-chassis").strip().strip('"') == "compute-sys"


def test_netdev_chassis_reports_its_datapath_and_bridge(
        app: Neutrino, private_ovn: LocalOvn, api: TestClient) -> None:
    add_chassis(app, private_ovn, "ch-net", "compute-net", **{  # as ovn-controller reports
        "datapath-type": "netdev", "ovn-bridge": "br-fast",
        "iface-types": "afxdp,geneve,internal,patch,system,tap,vxlan"})
    created = port(api, network(api), **{"binding:host_id": "compute-net"})
    assert binding(created) == ("ovs", {**OVS_SYSTEM, "datapath_type": "netdev",
                                        "bridge_name": "br-fast"})


def test_dpdk_chassis_reporting_in_external_ids_binds_vhostuser(
        app: Neutrino, private_ovn: LocalOvn, api: TestClient) -> None:
    add_chassis(app, private_ovn, "ch-dpdk", "compute-dpdk", column="external_ids", **{
        "ovn-bridge-datapath-type": "netdev", "iface-types": "dpdk,dpdkvhostuser"})
    created = port(api, network(api), **{"binding:host_id": "compute-dpdk"})
    assert binding(created) == ("vhostuser", {
        "port_filter": False, "vhostuser_mode": "server", "vhostuser_ovs_plug": True,
        "vhostuser_socket": f"/var/run/openvswitch/vhu{created['id'][:11]}",
        "connectivity": "l2", "bridge_name": "br-int", "datapath_type": "netdev"})


def test_unknown_host_fails_and_a_later_update_retries(
        app: Neutrino, private_ovn: LocalOvn, api: TestClient) -> None:
    created = port(api, network(api), **{"binding:host_id": "compute-late"})
    assert binding(created) == ("binding_failed", {})
    failed = api.get("/v2.0/ports", params={"binding:vif_type": "binding_failed"}).json()
    assert [p["id"] for p in failed["ports"]] == [created["id"]]  # filtered as stored
    add_chassis(app, private_ovn, "ch-late", "compute-late")
    assert binding(update(api, created["id"], name="again")) == ("ovs", OVS_SYSTEM)


def test_unmapped_physnet_fails_and_a_mapped_one_binds(
        app: Neutrino, private_ovn: LocalOvn, api: TestClient) -> None:
    add_chassis(app, private_ovn, "ch-map", "compute-map",
                **{"ovn-bridge-mappings": "physnet1:br-ex"})
    mapped = network(api, **{"provider:network_type": "flat",
                             "provider:physical_network": "physnet1"})
    unmapped = network(api, **{"provider:network_type": "vlan",
                               "provider:physical_network": "physnet2",
                               "provider:segmentation_id": 100})
    host = {"binding:host_id": "compute-map"}
    assert binding(port(api, mapped, **host)) == ("ovs", OVS_SYSTEM)
    assert binding(port(api, unmapped, **host)) == ("binding_failed", {})


def test_clearing_the_host_unbinds_and_moving_rebinds(
        app: Neutrino, private_ovn: LocalOvn, api: TestClient) -> None:
    add_chassis(app, private_ovn, "ch-a", "compute-a")
    add_chassis(app, private_ovn, "ch-b", "compute-b",
                **{"datapath-type": "netdev"})
    created = port(api, network(api), **{"binding:host_id": "compute-a"})
    moved = update(api, created["id"], **{"binding:host_id": "compute-b"})
    assert binding(moved) == ("ovs", {**OVS_SYSTEM, "datapath_type": "netdev"})
    assert moved["revision_number"] > created["revision_number"]
    assert binding(update(api, created["id"], **{"binding:host_id": ""})) == ("unbound", {})


def test_sb_unreachable_fails_the_binding_until_an_update_after_it_returns(
        app: Neutrino, private_ovn: LocalOvn, api: TestClient) -> None:
    add_chassis(app, private_ovn, "ch-sb", "compute-sb")
    net = network(api)
    local.stop(private_ovn.directory, "ovnsb_db")
    wait_for(lambda: not app.sb.connected, 20, "SB disconnection seen")
    created = port(api, net, **{"binding:host_id": "compute-sb"})
    assert binding(created) == ("binding_failed", {})
    local.up(private_ovn.directory)
    wait_for(lambda: app.sb.connected, 30, "SB reconnection")
    assert binding(update(api, created["id"], name="retry")) == ("ovs", OVS_SYSTEM)
