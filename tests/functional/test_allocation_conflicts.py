"""Conflicts that are not races: answered at once, never retried into a 503.

Runs on SQLite (the `api` fixture) and on PostgreSQL (the same app on a fresh database).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from neutrino.bootstrap import build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, local_ovn: LocalOvn,
           tmp_path: Path) -> Iterator[TestClient]:
    if request.param == "sqlite":
        yield request.getfixturevalue("api")
        return
    app = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_DB_URL": request.getfixturevalue("pg_url"),
        "NEUTRINO_OVN_NB": local_ovn.nb, "NEUTRINO_OVN_SB": local_ovn.sb,
        "NEUTRINO_STARTUP_SYNC": "off",
    }))
    app.start()
    try:
        with TestClient(app.app) as test_client:
            yield test_client
    finally:
        app.stop()


def _post(client: TestClient, collection: str, body: dict) -> dict:
    response = client.post(f"/v2.0/{collection}", json={collection[:-1]: body})
    assert response.status_code == 201, response.text
    return response.json()[collection[:-1]]


def test_a_stale_duplicate_key_is_a_conflict_at_once(client):
    """A SLAAC address stays with its port when the port's MAC changes, so a new port given
    the old MAC derives an address that is taken. No rerun can help: 409, not a 503 after
    every retry."""
    net = _post(client, "networks", {"name": "slaac"})
    _post(client, "subnets", {"network_id": net["id"], "ip_version": 6, "cidr": "fd00:77::/64",
                              "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"})
    first = _post(client, "ports", {"network_id": net["id"], "mac_address": "fa:16:3e:00:77:01"})
    moved = client.put(f"/v2.0/ports/{first['id']}",
                       json={"port": {"mac_address": "fa:16:3e:00:77:02"}})
    assert moved.status_code == 200, moved.text
    started = time.monotonic()
    second = client.post("/v2.0/ports", json={"port": {
        "network_id": net["id"], "mac_address": "fa:16:3e:00:77:01"}})
    assert second.status_code == 409, second.text
    assert second.json()["NeutronError"]["type"] == "Conflict"
    assert time.monotonic() - started < 5


def test_an_address_chosen_for_one_entry_is_never_another_entrys(client):
    """A port asking for a given address and any address of a two-address pool gets both."""
    net = _post(client, "networks", {"name": "two"})
    subnet = _post(client, "subnets", {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.77.0.0/24",
        "allocation_pools": [{"start": "10.77.0.10", "end": "10.77.0.11"}]})
    given = {"subnet_id": subnet["id"], "ip_address": "10.77.0.10"}
    anyone = {"subnet_id": subnet["id"]}
    for fixed_ips, expected in (([given, anyone], ["10.77.0.10", "10.77.0.11"]),
                                ([anyone, given], ["10.77.0.11", "10.77.0.10"]),
                                ([anyone, anyone], None)) * 6:
        port = _post(client, "ports", {"network_id": net["id"], "fixed_ips": fixed_ips})
        addresses = [ip["ip_address"] for ip in port["fixed_ips"]]
        assert addresses == expected or expected is None and \
            sorted(addresses) == ["10.77.0.10", "10.77.0.11"]
        assert client.delete(f"/v2.0/ports/{port['id']}").status_code == 204
