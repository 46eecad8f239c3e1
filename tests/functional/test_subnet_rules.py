"""Subnet and network rules as Neutron applies them: MTU floors per IP version, VLAN ids
allocated from ranges, and the attributes listing may filter on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from test_allocation_concurrency import backend, concurrently, serving, statuses  # noqa: F401

from neutrino.bootstrap import build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import SettingsError, load_settings

VLAN_RANGES = "physnet1:100:102,physnet2,physnet3:7:7"


def _client(ovn: LocalOvn, state: Path, **env: str) -> Iterator[TestClient]:
    app = build(load_settings({
        "NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb,
        "NEUTRINO_OVN_SB": ovn.sb, "NEUTRINO_STARTUP_SYNC": "off", **env}))
    app.start()
    try:
        with TestClient(app.app) as client:
            yield client
    finally:
        app.stop()


@pytest.fixture()
def vlan_api(local_ovn: LocalOvn, tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(local_ovn, tmp_path, NEUTRINO_VLAN_RANGES=VLAN_RANGES)


@pytest.fixture()
def vlan_first_api(local_ovn: LocalOvn, tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(local_ovn, tmp_path, NEUTRINO_VLAN_RANGES="physnet4:30:31",
                       NEUTRINO_TENANT_NETWORK_TYPES="vlan,geneve",
                       NEUTRINO_GENEVE_VNI_RANGE="900:900")


def _post(api, collection: str, body: dict) -> dict:
    response = api.post(f"/v2.0/{collection}", json={collection[:-1]: body})
    assert response.status_code == 201, response.text
    return response.json()[collection[:-1]]


def _fault(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    fault = response.json()["NeutronError"]
    assert fault["type"] == kind, fault
    return fault


@pytest.mark.parametrize(("mtu", "version", "cidr"), [(67, 4, "10.1.0.0/24"),
                                                      (1279, 6, "fd00:1::/64")])
def test_a_network_below_an_ip_versions_minimum_mtu_takes_no_such_subnet(api, mtu, version,
                                                                           cidr):
    net = _post(api, "networks", {"name": "small", "mtu": mtu})
    assert net["mtu"] == mtu
    _fault(api.post("/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": version, "cidr": cidr}}), 409, "Conflict")
    assert api.get(f"/v2.0/subnets?network_id={net['id']}").json()["subnets"] == []


@pytest.mark.parametrize(("mtu", "version", "cidr"), [(67, 4, "10.1.0.0/24"),
                                                      (1279, 6, "fd00:1::/64")])
def test_a_network_mtu_update_below_its_subnets_minimum_is_409(api, mtu, version, cidr):
    net = _post(api, "networks", {"name": "n"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": version, "cidr": cidr})
    net = api.get(f"/v2.0/networks/{net['id']}").json()["network"]  # a subnet may revise it
    _fault(api.put(f"/v2.0/networks/{net['id']}", json={"network": {"mtu": mtu}}),
           409, "Conflict")
    shown = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert (shown["mtu"], shown["revision_number"]) == (net["mtu"], net["revision_number"])


def test_a_negative_mtu_is_400(api):
    _fault(api.post("/v2.0/networks", json={"network": {"mtu": -1}}), 400, "InvalidInput")


def _vlan(physnet: str | None = None, seg: int | None = None) -> dict:
    body = {"name": "v", "provider:network_type": "vlan"}
    if physnet:
        body["provider:physical_network"] = physnet
    if seg is not None:
        body["provider:segmentation_id"] = seg
    return {"network": body}


def _segment(net: dict) -> tuple[str, int]:
    return net["provider:physical_network"], net["provider:segmentation_id"]


def test_a_vlan_network_without_an_id_gets_one_from_its_physnets_range(vlan_api):
    taken = vlan_api.post("/v2.0/networks", json=_vlan("physnet1", 101))
    assert taken.status_code == 201, taken.text
    got = [_segment(_post(vlan_api, "networks", _vlan("physnet1")["network"]))
           for _ in range(2)]
    assert sorted(got) == [("physnet1", 100), ("physnet1", 102)]
    _fault(vlan_api.post("/v2.0/networks", json=_vlan("physnet1")), 503, "NoNetworkAvailable")
    # a physnet without ranges has none to give; any physnet's range serves when none named
    _fault(vlan_api.post("/v2.0/networks", json=_vlan("physnet2")), 503, "NoNetworkAvailable")
    assert _segment(_post(vlan_api, "networks", _vlan()["network"])) == ("physnet3", 7)
    _fault(vlan_api.post("/v2.0/networks", json=_vlan()), 503, "NoNetworkAvailable")
    # an explicit id outside the ranges is still a provider network's own choice
    assert _segment(_post(vlan_api, "networks", _vlan("physnet2", 4000)["network"])) == \
        ("physnet2", 4000)


def test_vlan_provider_attributes_are_checked(vlan_api):
    _fault(vlan_api.post("/v2.0/networks", json=_vlan("physnet9")), 400, "InvalidInput")
    _fault(vlan_api.post("/v2.0/networks", json=_vlan(None, 100)), 400, "InvalidInput")


def test_without_vlan_ranges_a_vlan_network_needs_an_id(api):
    _fault(api.post("/v2.0/networks", json=_vlan("physnet1")), 503, "NoNetworkAvailable")


def test_bad_vlan_ranges_fail_at_start_up():
    for raw in ("physnet1:5", "physnet1:0:10", "physnet1:10:5000", ":1:2", "p:a:b"):
        with pytest.raises(SettingsError, match="NEUTRINO_VLAN_RANGES"):
            load_settings({"NEUTRINO_VLAN_RANGES": raw})
    assert load_settings({"NEUTRINO_VLAN_RANGES": VLAN_RANGES}).vlan_ranges == {
        "physnet1": ((100, 102),), "physnet2": (), "physnet3": ((7, 7),)}


def test_concurrent_vlan_networks_get_distinct_ids(local_ovn, tmp_path, backend):  # noqa: F811
    size, excess = 6, 6
    with serving(local_ovn, tmp_path, backend(),
                 NEUTRINO_VLAN_RANGES=f"physnet1:200:{199 + size}") as url:
        responses = concurrently(url, size + excess, "networks", lambda i: {"network": {
            "name": f"v{i}", "project_id": f"p{i}", "provider:network_type": "vlan",
            "provider:physical_network": "physnet1"}})
    assert statuses(responses) == {(201, ""): size, (503, "NoNetworkAvailable"): excess}
    ids = sorted(r.json()["network"]["provider:segmentation_id"] for r in responses
                 if r.status_code == 201)
    assert ids == list(range(200, 200 + size))


def test_project_networks_take_the_first_tenant_network_type_with_a_free_segment(
        vlan_first_api):
    nets = [_post(vlan_first_api, "networks", {"name": f"t{i}"}) for i in range(3)]
    assert [n["provider:network_type"] for n in nets] == ["vlan", "vlan", "geneve"]
    assert sorted(_segment(n) for n in nets[:2]) == [("physnet4", 30), ("physnet4", 31)]
    assert _segment(nets[2]) == (None, 900)
    _fault(vlan_first_api.post("/v2.0/networks", json={"network": {"name": "t3"}}),
           503, "NoNetworkAvailable")
    with pytest.raises(SettingsError, match="NEUTRINO_TENANT_NETWORK_TYPES"):
        load_settings({"NEUTRINO_TENANT_NETWORK_TYPES": "vxlan"})
