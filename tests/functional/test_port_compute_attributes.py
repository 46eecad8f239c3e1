"""port-device-profile and port-numa-affinity-policy(-socket): stored and returned as Neutron
does (device_profile only at create, numa_affinity_policy updatable, both null by default)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient


def network(api: TestClient) -> str:
    return api.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]["id"]


def test_defaults_are_null(api: TestClient):
    port = api.post("/v2.0/ports", json={"port": {"network_id": network(api)}}).json()["port"]
    assert (port["device_profile"], port["numa_affinity_policy"]) == (None, None)


def test_stored_returned_filtered_and_updated(api: TestClient):
    net = network(api)
    created = api.post("/v2.0/ports", json={"port": {
        "network_id": net, "device_profile": "gpu-profile",
        "numa_affinity_policy": "required"}})
    assert created.status_code == 201, created.text
    port = created.json()["port"]
    assert (port["device_profile"], port["numa_affinity_policy"]) == ("gpu-profile", "required")
    api.post("/v2.0/ports", json={"port": {"network_id": net}})
    found = api.get(f"/v2.0/ports?network_id={net}&numa_affinity_policy=required").json()
    assert [p["id"] for p in found["ports"]] == [port["id"]]
    found = api.get(f"/v2.0/ports?device_profile=gpu-profile&network_id={net}").json()
    assert [p["id"] for p in found["ports"]] == [port["id"]]

    for policy in ("socket", "preferred", "legacy", None):
        response = api.put(f"/v2.0/ports/{port['id']}",
                           json={"port": {"numa_affinity_policy": policy}})
        assert response.status_code == 200, response.text
        assert response.json()["port"]["numa_affinity_policy"] == policy
    shown = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert (shown["device_profile"], shown["numa_affinity_policy"]) == ("gpu-profile", None)


@pytest.mark.parametrize("body", [
    {"device_profile": "other"},  # create-only, as in Neutron
    {"numa_affinity_policy": "bogus"},
    {"numa_affinity_policy": 1},
])
def test_refused_updates_change_nothing(api: TestClient, body: dict):
    port = api.post("/v2.0/ports", json={"port": {
        "network_id": network(api), "device_profile": "dp",
        "numa_affinity_policy": "preferred"}}).json()["port"]
    response = api.put(f"/v2.0/ports/{port['id']}", json={"port": body})
    assert response.status_code == 400, response.text
    shown = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert shown == port


@pytest.mark.parametrize("body", [
    {"numa_affinity_policy": "bogus"}, {"device_profile": "x" * 256},
    {"device_profile": 5},
])
def test_bad_values_on_create_are_400(api: TestClient, body: dict):
    response = api.post("/v2.0/ports", json={"port": {"network_id": network(api), **body}})
    assert response.status_code == 400, response.text


def test_the_extensions_are_listed(api: TestClient):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"binding-extended", "port-device-profile", "port-numa-affinity-policy",
            "port-numa-affinity-policy-socket"} <= aliases
