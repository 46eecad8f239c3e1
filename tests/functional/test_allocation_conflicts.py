"""Conflicts that are not races: answered at once, never retried into a 503.

Runs on SQLite and on PostgreSQL (a fresh database each).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from neutrino.bootstrap import build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

MAC_PREFIX = "fa:16:3e:00:00"  # 256 MACs: few enough to use them all


@contextlib.contextmanager
def _serving(ovn: LocalOvn, state: Path, db_url: str | None) -> Iterator[TestClient]:
    env = {"NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb,
           "NEUTRINO_OVN_SB": ovn.sb, "NEUTRINO_STARTUP_SYNC": "off",
           "NEUTRINO_MAC_PREFIX": MAC_PREFIX, "NEUTRINO_QUOTA_PORT": "-1"}
    if db_url is not None:
        env["NEUTRINO_DB_URL"] = db_url
    app = build(load_settings(env))
    app.start()
    try:
        with TestClient(app.app) as test_client:
            yield test_client
    finally:
        app.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, local_ovn: LocalOvn,
           tmp_path: Path) -> Iterator[TestClient]:
    db_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with _serving(local_ovn, tmp_path, db_url) as test_client:
        yield test_client


@pytest.fixture()
def sqlite_client(local_ovn: LocalOvn, tmp_path: Path) -> Iterator[TestClient]:
    with _serving(local_ovn, tmp_path, None) as test_client:
        yield test_client


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


def test_every_mac_of_a_crowded_prefix_is_given_before_a_generation_failure(sqlite_client):
    """Not a race (a sequential fill), so SQLite only: 256 ports are slow on PostgreSQL."""
    client = sqlite_client
    net = _post(client, "networks", {"name": "macs"})
    bulk = client.post("/v2.0/ports", json={"ports": [{"network_id": net["id"]}] * 256})
    assert bulk.status_code == 201, bulk.text
    macs = {p["mac_address"] for p in bulk.json()["ports"]}
    assert macs == {f"{MAC_PREFIX}:{i:02x}" for i in range(256)}
    more = client.post("/v2.0/ports", json={"port": {"network_id": net["id"]}})
    assert more.status_code == 503, more.text
    assert more.json()["NeutronError"]["type"] == "MacAddressGenerationFailure"
