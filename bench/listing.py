"""Listing benchmark: one page of `GET /v2.0/ports` at a few thousand ports, in-process.

The ports are bulk-created through the API (Starlette's TestClient on the built app, no
journal worker, so nothing reaches OVN and nothing competes for the CPU). Each listing
variant is timed several times and reported as its median. The baseline, measured in the
same run on the same database, is the raw SQL a page cannot do without:
`SELECT * FROM ports ORDER BY id LIMIT <limit>`.

Run with the virtualenv's interpreter; it prints one JSON document on stdout:

    /tmp/venv/bin/python bench/listing.py [--ports N] [--limit L] [--repeat R]
        [--unpaged-repeat U] [--db-url URL] [--out FILE]

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from common import chunks, emit, machine, ms, neutrino_env, ratio, sec, throwaway_ovn
from sqlalchemy import text
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino, build, freeze_start_up_objects
from neutrino.settings import load_settings

BULK = 500  # ports per bulk POST
CIDR = "10.0.0.0/18"  # room for 16,000 ports
HEADERS = {"X-Project-Id": "bench"}


@contextlib.contextmanager
def neutrino_api(db_url: str | None = None) -> Iterator[tuple[Neutrino, TestClient]]:
    """Neutrino built in-process and never started: the API without a journal worker, on
    a fresh SQLite database unless `db_url` names another (empty) one. What start-up built
    is moved out of the garbage collector's way, as `neutrino serve` does once built."""
    with throwaway_ovn("nbl") as (tmp, ovn):
        (tmp / "state").mkdir()
        env = neutrino_env(tmp, ovn) | ({"NEUTRINO_DB_URL": db_url} if db_url else {})
        app = build(load_settings(env))
        freeze_start_up_objects()
        try:
            with TestClient(app.app, headers=HEADERS) as client:
                yield app, client
        finally:
            app.nb.close()
            app.db.engine.dispose()


def call(client: TestClient, method: str, path: str, expected: int, **kwargs: Any) -> Any:
    response = client.request(method, path, **kwargs)
    if response.status_code != expected:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return response.json()


def populate(client: TestClient, ports: int) -> dict[str, Any]:
    """One network, one subnet, and `ports` ports in bulk POSTs, every tenth one tagged and
    given one of ten device ids."""
    started = time.perf_counter()
    net = call(client, "POST", "/v2.0/networks", 201, json={"network": {"name": "bench"}})
    net_id = net["network"]["id"]
    call(client, "POST", "/v2.0/subnets", 201, json={"subnet": {
        "network_id": net_id, "ip_version": 4, "cidr": CIDR}})
    bodies = [{"network_id": net_id, "name": f"port-{i:05d}",
               "tags": ["tenth"] if i % 10 == 0 else []}
              | ({"device_id": f"vm-{i // 10 % 10}"} if i % 10 == 0 else {})
              for i in range(ports)]
    for chunk in chunks(bodies, BULK):
        call(client, "POST", "/v2.0/ports", 201, json={"ports": list(chunk)})
    return {"populate_s": sec(time.perf_counter() - started), "network_id": net_id}


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up: caches, compiled statements
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return ms(statistics.median(times))


def wall_and_cpu_ms(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Wall and process CPU time (every thread: client, event loop, worker) of `fn`, the
    fastest and the median of `repeat` runs after a warm-up, and the garbage collector's
    share (its passes' wall time, mean a run). On a shared machine the CPU time leaves out
    the waits for a core that the wall time includes."""
    fn()
    walls, cpus = [], []
    with collector_time() as collecting:
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
    return {"min_ms": ms(min(walls)), "median_ms": ms(statistics.median(walls)),
            "cpu_min_ms": ms(min(cpus)), "cpu_median_ms": ms(statistics.median(cpus)),
            "gc_mean_ms": ms(collecting[0] / repeat)}


@contextlib.contextmanager
def collector_time() -> Iterator[list[float]]:
    """Seconds the garbage collector's passes take while inside (`gc.callbacks`)."""
    spent, started = [0.0], [0.0]

    def note(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.callbacks.append(note)
    try:
        yield spent
    finally:
        gc.callbacks.remove(note)


def page_variants(client: TestClient, limit: int, net_id: str) -> dict[str, str]:
    """The listing requests timed: first pages, a page in the middle, reverse, filters."""
    everything = call(client, "GET", "/v2.0/ports?fields=id", 200)["ports"]
    middle = sorted(p["id"] for p in everything)[len(everything) // 2]
    base = f"/v2.0/ports?limit={limit}"
    return {
        "first_page": base,
        "middle_page_by_marker": f"{base}&marker={middle}",
        "last_page_reverse": f"{base}&page_reverse=True",
        "sorted_by_name_desc": f"{base}&sort_key=name&sort_dir=desc",
        "filtered_network_and_tag": f"{base}&network_id={net_id}&tags=tenth",
        "filtered_fixed_ips_substr": f"{base}&fixed_ips=ip_address_substr=10.0.",
        "fields_id_name": f"{base}&fields=id&fields=name",
        "filtered_device_id": "/v2.0/ports?device_id=vm-3",
        "unpaged_fields_id_name": "/v2.0/ports?fields=id&fields=name",
    }


def measure(app: Neutrino, client: TestClient, limit: int, repeat: int,
            net_id: str, unpaged_repeat: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, path in page_variants(client, limit, net_id).items():
        count = len(call(client, "GET", path, 200)["ports"])
        figures[name] = {"ms": median_ms(lambda p=path: call(client, "GET", p, 200), repeat),
                         "items": count}
    unpaged = wall_and_cpu_ms(lambda: call(client, "GET", "/v2.0/ports", 200), unpaged_repeat)
    figures["unpaged_all_ports_ms"] = unpaged.pop("median_ms")
    figures["unpaged_all_ports"] = unpaged
    figures["unpaged_all_ports_undecoded"] = wall_and_cpu_ms(
        lambda: client.get("/v2.0/ports").raise_for_status(), unpaged_repeat)

    def raw_page() -> None:
        with app.db.engine.connect() as conn:
            conn.execute(text("SELECT * FROM ports ORDER BY id LIMIT :n"), {"n": limit}).all()

    figures["baseline_raw_sql_page_ms"] = median_ms(raw_page, repeat)
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--unpaged-repeat", type=int,
                        help="times the unpaged listing is timed (default: repeat / 4)")
    parser.add_argument("--db-url", help="an empty database (default: a fresh SQLite file)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    with neutrino_api(args.db_url) as (app, client):
        populated = populate(client, args.ports)
        figures = measure(app, client, args.limit, args.repeat, populated.pop("network_id"),
                          args.unpaged_repeat or max(1, args.repeat // 4))
    result = {
        "ports": args.ports, "limit": args.limit, "repeat": args.repeat,
        "database": app.db.engine.dialect.name, **populated,
        "pages": figures,
        "ratios": {"first_page_vs_raw_sql": ratio(figures["first_page"]["ms"],
                                                  figures["baseline_raw_sql_page_ms"])},
        "machine": machine(),
    }
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
