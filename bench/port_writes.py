"""Port write-path benchmark (issue 15): single create, update and delete over HTTP, and one
bulk POST of many ports, against a real `neutrino serve` on a throwaway OVN.

- `create` / `update` (a new name) / `delete`: percentiles of `--repeat` requests, one client,
  and the API process's CPU a request over them (`api_cpu_ms_per_request`, from /proc: it
  moves less with the machine's load than the wall time);
- `bulk`: one `POST /v2.0/ports` of `--bulk` ports: the request's time and its time per
  port, then how long until the last of them is in OVN NB (from the 201);
- baseline, same run, same server: `GET /` (the versions document), a handler with no
  database behind it, i.e. the HTTP stack's own floor.

    PYTHONPATH=$PWD/src /work/main/.venv/bin/python bench/port_writes.py [--repeat R] [--bulk N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from common import LspWatcher, emit, machine, ms, percentiles, ratio, throwaway_ovn
from serve import call, client, create_network, neutrino_server, post, put

from neutrino.metrics import cpu_seconds

HTTP_TIMEOUT = 120.0


def timed_ms(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def deleted(response: Any) -> None:
    if response.status_code != 204:
        raise RuntimeError(f"DELETE: {response.status_code} {response.text[:500]}")


def cpu_ms(pid: int) -> float:
    return cpu_seconds(f"/proc/{pid}/stat") * 1000


def run(repeat: int, bulk: int) -> dict[str, Any]:
    with throwaway_ovn() as (directory, ovn), neutrino_server(directory, ovn) as server, \
            LspWatcher(ovn.nb) as watcher, client(server.base, HTTP_TIMEOUT) as http:
        network_id = create_network(http, "bench", "10.0.0.0/16")[0]
        body = {"port": {"network_id": network_id}}
        post(http, "/v2.0/ports", body)  # the project's default group, made once
        floor = [timed_ms(lambda: call(http, "GET", "/", 200)) for _ in range(repeat)]
        made: list[str] = []
        cpu = [cpu_ms(server.pid)]
        create = [timed_ms(lambda: made.append(post(http, "/v2.0/ports", body)["port"]["id"]))
                  for _ in range(repeat)]
        cpu.append(cpu_ms(server.pid))
        names = iter(range(10**6))
        update = [timed_ms(lambda: put(http, f"/v2.0/ports/{made[0]}",
                                       {"port": {"name": f"n{next(names)}"}}))
                  for _ in range(repeat)]
        cpu.append(cpu_ms(server.pid))
        delete = [timed_ms(lambda: deleted(http.delete(f"/v2.0/ports/{made.pop()}")))
                  for _ in range(repeat - 1)]
        cpu.append(cpu_ms(server.pid))
        started = time.perf_counter()
        ports = post(http, "/v2.0/ports", {"ports": [
            {"network_id": network_id} for _ in range(bulk)]})["ports"]
        answered = time.perf_counter()
        missing = watcher.wait_for([p["id"] for p in ports])
        in_nb = max(watcher.first_seen[p["id"]] for p in ports
                    if p["id"] in watcher.first_seen) - answered
    base = statistics.median(floor)
    figures = {name: {**percentiles([t / 1000 for t in values]),
                      "api_cpu_ms_per_request": round((cpu[i + 1] - cpu[i]) / len(values), 3)}
               for i, (name, values) in enumerate((("create", create), ("update", update),
                                                   ("delete", delete)))}
    return {
        "benchmark": "port_writes", "repeat": repeat, "machine": machine(),
        **figures,
        "bulk": {"ports": bulk, "request_ms": ms(answered - started),
                 "per_port_ms": ms((answered - started) / bulk),
                 "last_in_nb_after_201_ms": ms(in_nb), "missing_in_nb": len(missing)},
        "baseline_http_get_root_p50_ms": round(base, 3),
        "ratios": {name: ratio(figures[name]["p50_ms"], base)
                   for name in ("create", "update", "delete")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100, help="requests a figure (100)")
    parser.add_argument("--bulk", type=int, default=1000, help="ports in the bulk POST (1000)")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    emit(run(args.repeat, args.bulk), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
