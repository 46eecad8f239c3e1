"""Allocators under concurrency, through a real `neutrino serve` process.

Every automatically chosen value (geneve VNI, MAC, IP address) that a concurrent request took
first is a lost race: the request chooses again, and fails only when the range is really
exhausted (409 for addresses; Neutron's 503 NoNetworkAvailable for segmentation ids). An
explicitly requested value that is taken is the client's conflict (409 *InUse).
PostgreSQL runs READ COMMITTED, so it sees other requests' commits in the middle of a
transaction; SQLite serializes writers.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from ovn_tools import sbctl
from serve_tools import start_serve, stop_serve
from sqlalchemy import select

from neutrino.db.engine import Database, make_engine
from neutrino.db.models import Router
from neutrino.ovn.local import LocalOvn

CLIENTS = 48


@contextlib.contextmanager
def serving(ovn: LocalOvn, state: Path, db_url: str | None, **env: str) -> Iterator[str]:
    if db_url is not None:
        env["NEUTRINO_DB_URL"] = db_url
    url, proc = start_serve(ovn, state, NEUTRINO_STARTUP_SYNC="off", **env)
    try:
        yield url
    finally:
        stop_serve(proc)


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request: pytest.FixtureRequest) -> Callable[[], str | None]:
    """The database URL for `serving` (None: the embedded SQLite default)."""
    if request.param == "sqlite":
        return lambda: None
    return lambda: request.getfixturevalue("pg_url")


def concurrently(url: str, count: int, path: str,
                 body: Callable[[int], dict]) -> list[httpx.Response]:
    def post(i: int) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=120) as client:
            return client.post(f"/v2.0/{path}", json=body(i))

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(post, range(count)))


def statuses(responses: list[httpx.Response]) -> Counter:
    return Counter((r.status_code, r.json()["NeutronError"]["type"] if r.status_code >= 400
                    else "") for r in responses)


def network(i: int) -> dict:
    """One project per request: a project's creates queue on its quota lock, projects race."""
    return {"network": {"name": f"n{i}", "project_id": f"project-{i}"}}


def vnis(responses: list[httpx.Response]) -> list[int]:
    return [r.json()["network"]["provider:segmentation_id"]
            for r in responses if r.status_code == 201]


def test_concurrent_network_creates_get_distinct_vnis(local_ovn, tmp_path, pg_url):
    """PostgreSQL only: SQLite serialises writers, so there is no race to lose."""
    with serving(local_ovn, tmp_path, pg_url) as url:
        responses = concurrently(url, CLIENTS, "networks", network)
    assert statuses(responses) == {(201, ""): CLIENTS}
    assert len(set(vnis(responses))) == CLIENTS


def test_exhausted_vni_range_refuses_only_the_excess(local_ovn, tmp_path, backend):
    size, excess = 12, 8
    with serving(local_ovn, tmp_path, backend(),
                 NEUTRINO_GENEVE_VNI_RANGE=f"500:{499 + size}") as url:
        responses = concurrently(url, size + excess, "networks", network)
    assert statuses(responses) == {(201, ""): size, (503, "NoNetworkAvailable"): excess}
    assert sorted(vnis(responses)) == list(range(500, 500 + size))


def test_explicit_segmentation_id_taken_concurrently_is_a_conflict(local_ovn, tmp_path,
                                                                   backend):
    def explicit(i: int) -> dict:
        return {"network": {"name": f"e{i}", "project_id": f"project-{i}",
                            "provider:network_type": "geneve",
                            "provider:segmentation_id": 4242}}

    with serving(local_ovn, tmp_path, backend()) as url:
        responses = concurrently(url, 16, "networks", explicit)
        with httpx.Client(base_url=url, timeout=60) as client:
            again = client.post("/v2.0/networks", json=explicit(99))
            auto = client.post("/v2.0/networks", json=network(100))
    assert statuses(responses) == {(201, ""): 1, (409, "SegmentationIdInUse"): 15}
    assert again.status_code == 409, again.text
    assert again.json()["NeutronError"]["type"] == "SegmentationIdInUse"
    assert auto.status_code == 201, auto.text
    assert auto.json()["network"]["provider:segmentation_id"] != 4242


def subnet_with_pool(url: str, cidr: str, start: str, end: str) -> str:
    with httpx.Client(base_url=url, timeout=60) as client:
        net = client.post("/v2.0/networks", json={"network": {"name": "ports", "shared": True}})
        assert net.status_code == 201, net.text
        net_id = net.json()["network"]["id"]
        subnet = client.post("/v2.0/subnets", json={"subnet": {
            "network_id": net_id, "ip_version": 4, "cidr": cidr,
            "allocation_pools": [{"start": start, "end": end}]}})
        assert subnet.status_code == 201, subnet.text
    return net_id


def port_on(net_id: str) -> Callable[[int], dict]:
    return lambda i: {"port": {"network_id": net_id, "project_id": f"project-{i}"}}


def test_concurrent_port_creates_choose_again_on_taken_macs_and_addresses(
        local_ovn, tmp_path, pg_url):
    # 256 MACs and 64 addresses for 48 ports: automatic choices collide often.
    with serving(local_ovn, tmp_path, pg_url, NEUTRINO_MAC_PREFIX="fa:16:3e:00:00") as url:
        net_id = subnet_with_pool(url, "10.71.0.0/24", "10.71.0.10", "10.71.0.73")
        responses = concurrently(url, CLIENTS, "ports", port_on(net_id))
    assert statuses(responses) == {(201, ""): CLIENTS}
    ports = [r.json()["port"] for r in responses]
    assert len({p["mac_address"] for p in ports}) == CLIENTS
    assert len({p["fixed_ips"][0]["ip_address"] for p in ports}) == CLIENTS


def test_exhausted_pool_refuses_only_the_excess(local_ovn, tmp_path, pg_url):
    """PostgreSQL (test_ipam_concurrency has it on SQLite), with a project per port: the
    ports of one project queue on its quota lock and would never race."""
    free = 20
    with serving(local_ovn, tmp_path, pg_url) as url:
        net_id = subnet_with_pool(url, "10.72.0.0/24", "10.72.0.100", f"10.72.0.{99 + free}")
        responses = concurrently(url, CLIENTS, "ports", port_on(net_id))
    assert statuses(responses) == {(201, ""): free,
                                   (409, "IpAddressGenerationFailure"): CLIENTS - free}
    assert len({r.json()["port"]["fixed_ips"][0]["ip_address"]
                for r in responses if r.status_code == 201}) == free


def test_concurrent_gateways_spread_over_chassis(private_ovn, tmp_path, pg_url):
    """Least-loaded placement counts the gateways chosen concurrently (PostgreSQL)."""
    for number, name in enumerate(("gw1", "gw2"), start=1):
        sbctl(private_ovn, "chassis-add", name, "geneve", f"127.0.2.{number}")
        sbctl(private_ovn, "set", "Chassis", name,
              "other_config:ovn-cms-options=enable-chassis-as-gw")
    db = Database(make_engine(pg_url))
    with serving(private_ovn, tmp_path, pg_url) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            ext = client.post("/v2.0/networks", json={"network": {
                "name": "public", "router:external": True}}).json()["network"]
            assert client.post("/v2.0/subnets", json={"subnet": {
                "network_id": ext["id"], "ip_version": 4, "cidr": "172.26.0.0/24"}}
            ).status_code == 201

        def router(i: int) -> dict:
            return {"router": {"name": f"r{i}", "project_id": f"project-{i}",
                               "external_gateway_info": {"network_id": ext["id"]}}}

        # The first one waits, if need be, for the chassis to be known (maintenance binds it).
        assert statuses(concurrently(url, 1, "routers", router)) == {(201, ""): 1}
        wait_until(lambda: placement(db) == [1], "the first gateway placed")
        responses = concurrently(url, 11, "routers", lambda i: router(i + 1))
    assert statuses(responses) == {(201, ""): 11}
    assert placement(db) == [6, 6]
    db.engine.dispose()


def placement(db: Database) -> list[int]:
    with db.read() as session:
        return sorted(Counter(session.scalars(select(Router.gateway_chassis).where(
            Router.gateway_chassis.is_not(None)))).values())


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
