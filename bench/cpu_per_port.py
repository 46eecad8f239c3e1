"""CPU per port: what one `neutrino serve` and the OVN daemons spend for each port created
one after another, by server thread, against a raw ovsdbapp client writing the same LSPs; and
the whole machine's budget a port, one client and `--concurrency` clients.

Why CPU and not time: with the journal in the API's process (NEUTRINO_JOURNAL_PROCESS=
inline), everything neutrino does (HTTP, the journal worker, the NB IDL thread parsing NB's
updates, port status) shares one interpreter lock, so with one client creating ports back to
back the create's p50 follows the server's CPU per port, whichever thread spends it; with
the journal process apart (the default), it follows the API process's. CPU seconds are
also steadier than wall time on a busy machine, though how the journal batches (and so what
a port costs it) still depends on timing: compare runs made one after the other.

1. A throwaway OVN and a real `neutrino serve` (`serve.neutrino_server`), one network with a
   /16 subnet.
2. `--ports` creates, one client, back to back; then the wait until the journal is idle, so
   every port's journal apply, NB update and status report is counted.
3. CPU per port from `/metrics` (`neutrino_thread_cpu_seconds`, by thread name, both
   processes), and from /proc for the server's processes (the API's, the journal's, and
   their sum) and the OVN daemons (northd, the two ovsdb-servers).
4. The same again with `--concurrency` clients (threads of this process, each with its
   own HTTP connection): CPU a port by process.
5. For both, `machine`: every process's CPU a port (the server's two, northd, the two
   ovsdb-servers, and the benchmark itself, the clients' side of HTTP), their sum, the
   creates a second, and how busy that kept the machine's cores (CPU seconds over wall
   seconds times cores, from the first create until the journal is idle). When that is
   near 1, the creates a second are the cores divided by the sum: a ms of CPU cut anywhere
   is a faster create, whichever process it is in. `run_queue_wait` gives, for each
   process, the time a port its threads were ready to run but waited for a core (the
   kernel's schedstat, summed over the process's threads; a thread that ended meanwhile is
   not counted): a create's latency is its CPU plus that wait.
6. Baseline, same run: the same number of LSPs with ovsdbapp, one transaction each (as
   `port_create.py` does); this process's CPU per LSP, and the daemons' meanwhile.

    PYTHONPATH=src /work/main/.venv/bin/python bench/cpu_per_port.py [--ports N]
        [--concurrency C] [--out F]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import serve
from common import emit, machine, ms, ovsdbapp_nb, ratio, throwaway_ovn
from port_create import _lsp_columns
from prometheus_client.parser import text_string_to_metric_families

from neutrino.metrics import cpu_seconds
from neutrino.ovn import local
from neutrino.ovn.local import LocalOvn

DAEMONS = {"ovn-northd": "ovn-northd", "nb ovsdb-server": "ovnnb_db",
           "sb ovsdb-server": "ovnsb_db"}


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process used so far."""
    return cpu_seconds(f"/proc/{pid}/stat")


def thread_cpu(http: Any) -> dict[str, float]:
    """The server's `neutrino_thread_cpu_seconds`, by thread name."""
    response = http.get("/metrics")
    response.raise_for_status()
    return {sample.labels["thread"]: sample.value
            for family in text_string_to_metric_families(response.text)
            if family.name == "neutrino_thread_cpu_seconds"
            for sample in family.samples if sample.name.endswith("_total")}


def daemon_pids(ovn: LocalOvn) -> dict[str, int]:
    found = {name: local.pid(ovn.directory, component) for name, component in DAEMONS.items()}
    return {name: pid for name, pid in found.items() if pid is not None}


def run_queue_wait(pid: int) -> float:
    """Seconds the process's live threads have spent runnable but not running, so far."""
    waited = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # schedstat: ns on a core, ns waiting on a run queue, time slices
            waited += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError):
            continue  # the thread ended meanwhile
    return waited / 1e9


def per_port(before: dict[str, float], after: dict[str, float], count: int) -> dict[str, float]:
    """Milliseconds of CPU a port, for each key that grew."""
    grown = {k: after[k] - before.get(k, 0.0) for k in after}
    return {k: ms(v / count) for k, v in sorted(grown.items(), key=lambda kv: -kv[1]) if v > 0}


def measured(ovn: LocalOvn, extra: Callable[[], dict[str, float]],
             work: Callable[[], None], count: int) -> dict[str, float]:
    """CPU a port of the daemons and of `extra()`'s sources while `work` runs."""
    pids = daemon_pids(ovn)

    def sample() -> dict[str, float]:
        return {**{name: process_cpu(pid) for name, pid in pids.items()}, **extra()}

    before = sample()
    work()
    return per_port(before, sample(), count)


def budget(ovn: LocalOvn, pids: dict[str, int], work: Callable[[], None],
           count: int) -> dict[str, float]:
    """Every process's CPU a port while `work` runs (this one's included), the creates a
    second, and how busy the machine's cores were meanwhile."""
    sources = {**{f"{role} process": pid for role, pid in pids.items()},
               **daemon_pids(ovn)}

    def sample() -> dict[str, float]:
        return {**{name: process_cpu(pid) for name, pid in sources.items()},
                "benchmark (clients)": time.process_time()}

    def waits() -> dict[str, float]:
        return {**{name: run_queue_wait(pid) for name, pid in sources.items()},
                "benchmark (clients)": run_queue_wait(os.getpid())}

    before, waited_before, started = sample(), waits(), time.perf_counter()
    work()
    wall = time.perf_counter() - started
    after, waited_after = sample(), waits()
    spent = {name: after[name] - before[name] for name in after}
    total = sum(spent.values())
    return {**{name: ms(used / count) for name, used in spent.items()},
            "sum": ms(total / count), "creates_per_s": round(count / wall, 1),
            "cores_busy": round(total / (wall * (os.cpu_count() or 1)), 2),
            "run_queue_wait": {name: ms((waited_after[name] - waited_before[name]) / count)
                               for name in waited_after}}


def api_run(directory: Path, ovn: LocalOvn, count: int, concurrency: int) -> dict[str, Any]:
    with serve.neutrino_server(directory, ovn) as server, serve.client(server.base) as http:
        network_id, _ = serve.create_network(http, "cpu", "10.0.0.0/16")
        serve.wait_journal_idle(http)
        latencies: list[float] = []

        pids = serve.server_pids(http, server)

        def server_cpu() -> dict[str, float]:
            threads = {f"thread {name}": used for name, used in thread_cpu(http).items()}
            processes = {f"{role} process": process_cpu(pid) for role, pid in pids.items()}
            return {"neutrino serve (process)": sum(processes.values()), **processes,
                    **threads}

        def creates() -> None:
            for _ in range(count):
                started = time.perf_counter()
                serve.post(http, "/v2.0/ports", {"port": {"network_id": network_id}})
                latencies.append(time.perf_counter() - started)
            serve.wait_journal_idle(http)

        sequential: dict[str, float] = {}
        cpu = measured(ovn, server_cpu,
                       lambda: sequential.update(budget(ovn, pids, creates, count)), count)
        body = {"port": {"network_id": network_id}}

        def concurrent_creates() -> None:
            serve.in_threads(server.base, range(count), concurrency,
                             lambda client, _: serve.post(client, "/v2.0/ports", body),
                             "concurrent creates")
            serve.wait_journal_idle(http)

        concurrent = budget(ovn, pids, concurrent_creates, count)
    return {"create_p50_ms": ms(statistics.median(latencies)), "cpu_ms_per_port": cpu,
            "machine_one_client": sequential,
            f"machine_{concurrency}_clients": concurrent}


def raw_run(ovn: LocalOvn, count: int) -> dict[str, Any]:
    with ovsdbapp_nb(ovn.nb) as api:
        switch = f"cpu-{uuid.uuid4().hex[:8]}"
        api.ls_add(switch).execute(check_error=True)

        def writes() -> None:
            for i in range(count):
                api.lsp_add(switch, str(uuid.uuid4()), **_lsp_columns(i)).execute(
                    check_error=True)

        cpu = measured(ovn, lambda: {"ovsdbapp client (process)": time.process_time()},
                       writes, count)
    return {"cpu_ms_per_lsp": cpu}


def run(count: int, concurrency: int) -> dict[str, Any]:
    with throwaway_ovn("cpu") as (directory, ovn):
        api = api_run(directory, ovn, count, concurrency)
        raw = raw_run(ovn, count)
    server = api["cpu_ms_per_port"].get("neutrino serve (process)")
    client = raw["cpu_ms_per_lsp"].get("ovsdbapp client (process)")
    return {
        "benchmark": "cpu_per_port", "ports": count, "concurrency": concurrency,
        "machine": machine(),
        "api": api, "raw_ovsdbapp": raw,
        "ratios": {"server_cpu_per_port_vs_raw_client_per_lsp": ratio(server, client),
                   "northd_api_vs_raw": ratio(api["cpu_ms_per_port"].get("ovn-northd"),
                                              raw["cpu_ms_per_lsp"].get("ovn-northd"))},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.ports < 1 or args.concurrency < 1:
        parser.error("--ports and --concurrency must be at least 1")
    emit(run(args.ports, args.concurrency), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
