"""IPAM under concurrency, through a real `neutrino serve` process on SQLite."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx

CLIENTS = 64
FREE = 20


def test_64_clients_racing_for_20_addresses(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        net = client.post("/v2.0/networks", json={"network": {"name": "race"}}).json()["network"]
        subnet = client.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.60.0.0/24",
            "allocation_pools": [{"start": "10.60.0.100", "end": f"10.60.0.{99 + FREE}"}],
        }})
        assert subnet.status_code == 201, subnet.text

    def create(i: int) -> httpx.Response:
        with httpx.Client(base_url=served.url, timeout=120) as c:
            return c.post("/v2.0/ports", json={"port": {"network_id": net["id"],
                                                        "name": f"p{i}"}})

    with ThreadPoolExecutor(CLIENTS) as pool:
        responses = list(pool.map(create, range(CLIENTS)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * FREE + [409] * (CLIENTS - FREE), statuses
    addresses = [r.json()["port"]["fixed_ips"][0]["ip_address"]
                 for r in responses if r.status_code == 201]
    assert len(set(addresses)) == FREE
    assert {r.json()["NeutronError"]["type"] for r in responses if r.status_code == 409} == \
        {"IpAddressGenerationFailure"}
    # An explicit address that is already taken is its own, clear conflict.
    with httpx.Client(base_url=served.url, timeout=60) as client:
        taken = client.post("/v2.0/ports", json={"port": {
            "network_id": net["id"], "fixed_ips": [{"ip_address": addresses[0]}]}})
        assert taken.status_code == 409
        assert taken.json()["NeutronError"]["type"] == "IpAddressAlreadyAllocated"
        listed = client.get("/v2.0/ports", params={"network_id": net["id"]}).json()["ports"]
        assert len(listed) == FREE
