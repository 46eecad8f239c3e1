"""Subnet and network rules as Neutron applies them: MTU floors per IP version, VLAN ids
allocated from ranges, and the attributes listing may filter on."""

from __future__ import annotations

import pytest


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
    _fault(api.put(f"/v2.0/networks/{net['id']}", json={"network": {"mtu": mtu}}),
           409, "Conflict")
    shown = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert (shown["mtu"], shown["revision_number"]) == (net["mtu"], net["revision_number"])


def test_a_negative_mtu_is_400(api):
    _fault(api.post("/v2.0/networks", json={"network": {"mtu": -1}}), 400, "InvalidInput")
