"""List filters as Neutron accepts them (filter-validation: unknown ones are a 400), and
empty-string-filtering (`?name=` lists what is named "")."""

from __future__ import annotations

import pytest


def _post(api, collection: str, body: dict) -> dict:
    path = collection.replace("_", "-")
    response = api.post(f"/v2.0/{path}", json={collection[:-1]: body})
    assert response.status_code == 201, response.text
    return response.json()[collection[:-1]]


def _ids(api, collection: str, query: str) -> set[str]:
    response = api.get(f"/v2.0/{collection}?{query}")
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()[collection]}


@pytest.fixture()
def world(api):
    shared = _post(api, "networks", {"name": "shared", "shared": True})
    private = _post(api, "networks", {"name": ""})
    v4 = _post(api, "subnets", {"network_id": shared["id"], "ip_version": 4,
                                "cidr": "10.7.0.0/24", "description": "four"})
    v6 = _post(api, "subnets", {"network_id": private["id"], "ip_version": 6, "name": "",
                                "cidr": "fd00:7::/64", "ipv6_ra_mode": "slaac",
                                "ipv6_address_mode": "slaac", "enable_dhcp": False,
                                "gateway_ip": "fd00:7::99"})
    group = _post(api, "security_groups", {"name": "g"})
    port = _post(api, "ports", {"network_id": shared["id"], "name": "p",
                                "device_owner": "compute:nova", "binding:host_id": "hv9",
                                "security_groups": [group["id"]]})
    bare = _post(api, "ports", {"network_id": private["id"]})
    return {"shared": shared, "private": private, "v4": v4, "v6": v6, "group": group,
            "port": port, "bare": bare}


def test_subnet_filters(api, world):
    v4, v6 = world["v4"]["id"], world["v6"]["id"]
    cases = {
        "shared=true": {v4}, "shared=false": {v6},
        "ipv6_ra_mode=slaac": {v6}, "ipv6_address_mode=slaac": {v6},
        "enable_dhcp=false": {v6}, "enable_dhcp=true": {v4},
        "gateway_ip=fd00:7::99": {v6}, "cidr=10.7.0.0/24": {v4},
        "ip_version=4": {v4}, "ip_version=6": {v6}, "description=four": {v4},
        f"network_id={world['private']['id']}": {v6},
        "segment_id=a5a5a5a5-0000-0000-0000-000000000000": set(),
    }
    for query, expected in cases.items():
        assert _ids(api, "subnets", query) == expected, query


def test_port_filters(api, world):
    port, bare = world["port"], world["bare"]
    address = port["fixed_ips"][0]["ip_address"]
    cases = {
        f"fixed_ips=ip_address={address}": {port["id"]},
        f"fixed_ips=subnet_id={world['v4']['id']}": {port["id"]},
        f"fixed_ips=subnet_id={world['v6']['id']}": {bare["id"]},
        f"mac_address={port['mac_address']}": {port["id"]},
        "device_owner=compute:nova": {port["id"]},
        "binding:host_id=hv9": {port["id"]},
        f"security_groups={world['group']['id']}": {port["id"]},
        f"network_id={world['shared']['id']}": {port["id"]},
    }
    for query, expected in cases.items():
        assert _ids(api, "ports", query) == expected, query


def test_network_filters(api, world):
    shared, private = world["shared"]["id"], world["private"]["id"]
    cases = {
        "shared=true": {shared}, "router:external=false": {shared, private},
        f"subnets={world['v6']['id']}": {private},
        "provider:network_type=geneve": {shared, private},
        "port_security_enabled=true": {shared, private},
    }
    for query, expected in cases.items():
        assert _ids(api, "networks", query) == expected, query


def test_empty_string_filters_match_empty_values(api, world):
    assert _ids(api, "networks", "name=") == {world["private"]["id"]}
    assert _ids(api, "subnets", "name=") == {world["v4"]["id"], world["v6"]["id"]}
    assert _ids(api, "ports", "name=") == {world["bare"]["id"]}
    assert _ids(api, "ports", "device_owner=") == {world["bare"]["id"]}
    assert _ids(api, "subnets", "description=") == {world["v6"]["id"]}
    names = [e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]]
    assert "empty-string-filtering" in names


@pytest.mark.parametrize("collection", ["networks", "subnets", "ports"])
def test_unknown_filters_are_400(api, collection):
    response = api.get(f"/v2.0/{collection}?no_such_attribute=1")
    assert response.status_code == 400, response.text
    assert response.json()["NeutronError"]["type"] == "BadRequest"
