"""network-ip-availability(-details): counts per network and subnet, filters, admin only."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.services.context import Context
from neutrino.services.ip_availability import IpAvailabilityService
from neutrino.services.listing import ListQuery

PATH = "/v2.0/network-ip-availabilities"


def _post(api, collection: str, body: dict) -> dict:
    response = api.post(f"/v2.0/{collection}", json={collection[:-1]: body})
    assert response.status_code == 201, response.text
    return response.json()[collection[:-1]]


@pytest.fixture()
def world(api):
    net = _post(api, "networks", {"name": "counted"})
    v4 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "name": "four",
                                "cidr": "10.3.0.0/24",
                                "allocation_pools": [{"start": "10.3.0.10",
                                                      "end": "10.3.0.19"}]})
    v6 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6,
                                "cidr": "fd00:3::/64"})
    _post(api, "ports", {"network_id": net["id"]})  # one address in each subnet's pools
    _post(api, "ports", {"network_id": net["id"],
                         "fixed_ips": [{"ip_address": "10.3.0.200"}]})  # outside the pool
    empty = _post(api, "networks", {"name": "empty", "project_id": "other"})
    return {"net": net, "v4": v4, "v6": v6, "empty": empty}


def test_counts_per_network_and_subnet(api, world):
    answer = api.get(f"{PATH}/{world['net']['id']}")
    assert answer.status_code == 200, answer.text
    found = answer.json()["network_ip_availability"]
    by_subnet = {s["subnet_id"]: s for s in found["subnet_ip_availability"]}
    v4, v6 = by_subnet[world["v4"]["id"]], by_subnet[world["v6"]["id"]]
    assert (v4["subnet_name"], v4["cidr"], v4["ip_version"]) == ("four", "10.3.0.0/24", 4)
    assert (v4["total_ips"], v4["used_ips"]) == (10, 2)
    assert v4["ip_availability_details"] == {
        "total_ips_in_subnet": 254, "total_ips_in_allocation_pool": 10,
        "used_ips_in_subnet": 2, "used_ips_in_allocation_pool": 1}
    v6_pool = 2**64 - 2  # the default pool: all but the subnet-router anycast and gateway
    assert (v6["total_ips"], v6["used_ips"]) == (v6_pool, 1)
    assert v6["ip_availability_details"] == {
        "total_ips_in_subnet": 2**64, "total_ips_in_allocation_pool": v6_pool,
        "used_ips_in_subnet": 1, "used_ips_in_allocation_pool": 1}
    assert (found["network_id"], found["network_name"], found["project_id"]) == (
        world["net"]["id"], "counted", world["net"]["project_id"])
    assert (found["total_ips"], found["used_ips"]) == (10 + v6_pool, 3)
    assert found["ip_availability_details"]["used_ips_in_allocation_pool"] == 2


def test_filters(api, world):
    def listed(query: str) -> dict[str, list[int]]:
        answer = api.get(f"{PATH}?{query}")
        assert answer.status_code == 200, answer.text
        return {a["network_id"]: sorted(s["ip_version"] for s in a["subnet_ip_availability"])
                for a in answer.json()["network_ip_availabilities"]}

    net, empty = world["net"]["id"], world["empty"]["id"]
    assert listed("") == {net: [4, 6], empty: []}
    assert listed("ip_version=4") == {net: [4]}
    assert listed("network_name=empty") == {empty: []}
    assert listed(f"network_id={net}") == {net: [4, 6]}
    assert listed("project_id=other") == {empty: []}
    assert listed("tenant_id=other") == {empty: []}
    assert api.get(f"{PATH}?total_ips=3").status_code == 400
    assert api.get(f"{PATH}?ip_version=5").status_code == 400
    names = [e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]]
    assert {"network-ip-availability", "network-ip-availability-details"} <= set(names)


def test_an_unknown_network_is_404(api):
    answer = api.get(f"{PATH}/0b5e0000-0000-0000-0000-000000000000")
    assert answer.status_code == 404, answer.text
    assert answer.json()["NeutronError"]["type"] == "NetworkNotFound"


def test_only_admins_see_availability(neutrino, world):
    member = Context(project_id=world["net"]["project_id"], is_admin=False)
    service = IpAvailabilityService(neutrino.db)
    assert service.list(member, ListQuery()) == []
    with pytest.raises(errors.NetworkNotFound):
        service.get(member, world["net"]["id"])
