"""Subnet allocation from one pool under concurrency, through a real `neutrino serve`:
concurrent requests never get overlapping prefixes, and only the excess over the pool's room
is refused. PostgreSQL (READ COMMITTED) would let two transactions see the same free space;
the pool row lock is what prevents that. SQLite serialises writers.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable

import httpx2 as httpx
import pytest
from test_allocation_concurrency import concurrently, serving

ROOM, EXCESS = 16, 16  # a /20 holds sixteen /24s


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request: pytest.FixtureRequest) -> Callable[[], str | None]:
    """The database URL for `serving` (None: the embedded SQLite default)."""
    if request.param == "sqlite":
        return lambda: None
    return lambda: request.getfixturevalue("pg_url")


def test_concurrent_allocations_from_one_pool_never_overlap(local_ovn, tmp_path, backend):
    with serving(local_ovn, tmp_path, backend()) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            pool = client.post("/v2.0/subnetpools", json={"subnetpool": {
                "name": "race", "prefixes": ["10.128.0.0/20"], "default_prefixlen": 24}})
            assert pool.status_code == 201, pool.text
            pool_id = pool.json()["subnetpool"]["id"]
            nets = [client.post("/v2.0/networks", json={"network": {
                "name": f"n{i}", "project_id": f"project-{i}"}}).json()["network"]["id"]
                for i in range(ROOM + EXCESS)]

        # One project per request: a project's creates queue on its quota lock, projects race.
        responses = concurrently(url, ROOM + EXCESS, "subnets", lambda i: {"subnet": {
            "network_id": nets[i], "ip_version": 4, "subnetpool_id": pool_id,
            "project_id": f"project-{i}"}})
        with httpx.Client(base_url=url, timeout=60) as client:
            listed = client.get("/v2.0/subnets", params={"subnetpool_id": pool_id}).json()

    kinds = Counter((r.status_code, r.json()["NeutronError"]["type"] if r.status_code >= 400
                     else "") for r in responses)
    assert kinds == {(201, ""): ROOM, (409, "SubnetAllocationError"): EXCESS}, kinds
    cidrs = sorted(ipaddress.ip_network(r.json()["subnet"]["cidr"]) for r in responses
                   if r.status_code == 201)
    assert cidrs == list(ipaddress.ip_network("10.128.0.0/20").subnets(new_prefix=24))
    assert len(listed["subnets"]) == ROOM


def test_concurrent_default_pools_leave_one_default(local_ovn, tmp_path, backend):
    count = 8
    with serving(local_ovn, tmp_path, backend()) as url:
        responses = concurrently(url, count, "subnetpools", lambda i: {"subnetpool": {
            "name": f"d{i}", "prefixes": [f"10.{140 + i}.0.0/16"], "is_default": True,
            "project_id": f"project-{i}"}})
        with httpx.Client(base_url=url, timeout=60) as client:
            defaults = client.get("/v2.0/subnetpools", params={"is_default": True}).json()
    kinds = Counter((r.status_code, r.json()["NeutronError"]["type"] if r.status_code >= 400
                     else "") for r in responses)
    assert kinds == {(201, ""): 1, (400, "InvalidInput"): count - 1}, kinds
    assert len(defaults["subnetpools"]) == 1
