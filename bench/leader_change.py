"""Sync latency across an NB leader change: neutrino on a 3-member NB RAFT cluster, and raw
ovsdbapp against the same cluster in the same run.

One client creates ports one after another through the API; after `--kill-after` of them
the NB leader is killed with SIGKILL. Each port's sync latency (201 received -> LSP visible)
is measured by an IDL connection of the benchmark's own to a member that is never killed,
so the watcher itself never has to find a new leader. Then the killed member is restarted,
and plain ovsdbapp (one LSP per transaction) goes through the same kill: how long its
writes stop, with python-ovs' own reconnection, is the baseline. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from common import cluster, emit, machine, ovsdbapp_nb, percentiles, sec, wait_seen
from ovsdbapp.backend.ovs_idl import connection
from serve import client, create_network, health, neutrino_server, post

from neutrino.ovn import local, local_cluster
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.local import LocalOvn

SYNC_TIMEOUT = 120.0


class _FollowerIdl(connection.OvsdbIdl):
    """An IDL content with any member (leader_only off), calling `seen` for each new LSP."""

    seen: Any = None

    def __init__(self, remote: str, helper: Any) -> None:
        super().__init__(remote, helper, leader_only=False)

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        if event == "create" and row._table.name == "Logical_Switch_Port" and self.seen:
            self.seen(row.name)


class MemberWatcher(NorthboundClient):
    """When each LSP name first appears in one member's copy of NB (perf_counter)."""

    def __init__(self, remote: str) -> None:
        super().__init__(remote)
        self.first_seen: dict[str, float] = {}

    def _new_idl(self, helper: Any) -> connection.OvsdbIdl:
        idl = _FollowerIdl(self.remote, helper)
        idl.seen = lambda name: self.first_seen.setdefault(name, time.perf_counter())
        return idl

    def wait_for(self, names: list[str], timeout: float = SYNC_TIMEOUT) -> list[str]:
        return wait_seen(self.first_seen, names, timeout)


def kill_leader(ovn: LocalOvn) -> local_cluster.Member:
    leader = local_cluster.leader(ovn.directory, "ovnnb_db")
    if leader is None:
        raise RuntimeError("the NB cluster has no leader")
    pid = local.pid(ovn.directory, leader.name)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return leader


def a_follower(ovn: LocalOvn) -> local_cluster.Member:
    layout = local_cluster.load_layout(ovn.directory)
    assert layout is not None
    return next(m for m in layout.of("ovnnb_db")
                if local_cluster.member_status(ovn.directory, m).get("role") == "follower")


def wait_whole(ovn: LocalOvn, timeout: float = 30.0) -> None:
    """Until every NB member is back in its cluster and one of them leads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        views = [v for name, v in local_cluster.roles(ovn.directory).items()
                 if name.startswith("ovnnb_db")]
        if len(views) == 3 and all(v.get("status") == "cluster member" for v in views) and \
                sum(v.get("role") == "leader" for v in views) == 1:
            return
        time.sleep(0.1)
    raise RuntimeError("NB cluster not whole again")


# --- neutrino ------------------------------------------------------------------------------


def neutrino_phase(ovn: LocalOvn, directory: Path, ports: int, kill_after: int,
                   watcher: MemberWatcher) -> dict[str, Any]:
    created: dict[str, float] = {}  # port id -> 201 received
    errors = 0
    with neutrino_server(directory, ovn) as server, client(server.base) as http:
        network_id = create_network(http, "bench", "10.0.0.0/16")[0]
        killed_at = None
        for i in range(ports):
            if i == kill_after:
                kill_leader(ovn)
                killed_at = time.perf_counter()
            try:
                port = post(http, "/v2.0/ports", {"port": {"network_id": network_id}})["port"]
            except Exception:  # noqa: BLE001 - counted: the figure is how many
                errors += 1
                continue
            created[port["id"]] = time.perf_counter()
        missing = watcher.wait_for(list(created))
        nb_view = health(http)["ovn_nb_cluster"]
    assert killed_at is not None
    return _figures(created, watcher.first_seen, killed_at) | {
        "api_errors": errors, "missing_in_nb": len(missing),
        "leader_changes_seen": nb_view["leader_changes"], "nb_cluster_at_end": nb_view,
    }


def _figures(created: dict[str, float], seen: dict[str, float],
             killed_at: float) -> dict[str, Any]:
    before = [seen[p] - t for p, t in created.items() if p in seen and t < killed_at]
    after = [seen[p] - t for p, t in created.items() if p in seen and t >= killed_at]
    first_after = min((seen[p] for p, t in created.items() if p in seen and t >= killed_at),
                      default=None)
    return {
        "sync_latency_before_kill": percentiles(before),
        "sync_latency_after_kill": percentiles(after),
        "sync_latency_all": percentiles(before + after),
        "writes_stopped_s": sec(first_after - killed_at) if first_after else None,
    }


# --- raw ovsdbapp baseline -----------------------------------------------------------------


def ovsdbapp_phase(ovn: LocalOvn, ports: int, kill_after: int) -> dict[str, Any]:
    """One LSP per transaction through plain ovsdbapp, the NB leader killed on the way."""
    latencies: list[float] = []
    errors = 0
    with ovsdbapp_nb(ovn.nb, timeout=60) as api:
        switch = f"base-{uuid.uuid4().hex[:8]}"
        api.ls_add(switch).execute(check_error=True)
        killed_at, first_after = None, None
        for i in range(ports):
            if i == kill_after:
                kill_leader(ovn)
                killed_at = time.perf_counter()
            started = time.perf_counter()
            try:
                api.lsp_add(switch, str(uuid.uuid4())).execute(check_error=True)
            except Exception:  # noqa: BLE001 - counted
                errors += 1
                continue
            done = time.perf_counter()
            latencies.append(done - started)
            if killed_at is not None and first_after is None:
                first_after = done
    assert killed_at is not None
    return {"txn_latency": percentiles(latencies), "errors": errors,
            "writes_stopped_s": sec(first_after - killed_at) if first_after else None}


# --- main ----------------------------------------------------------------------------------


def run(ports: int, kill_after: int) -> dict[str, Any]:
    with cluster() as (directory, ovn):
        watcher = MemberWatcher(a_follower(ovn).remote)
        watcher.connect()
        try:
            figures = neutrino_phase(ovn, directory, ports, kill_after, watcher)
        finally:
            watcher.close()
        local.up(ovn.directory)  # the killed member rejoins
        wait_whole(ovn)
        baseline = ovsdbapp_phase(ovn, ports, kill_after)
    return {"benchmark": "leader_change", "ports": ports, "kill_after": kill_after,
            "machine": machine(), "neutrino": figures, "baseline_ovsdbapp": baseline}


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=300)
    parser.add_argument("--kill-after", type=int, default=100)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not 0 < args.kill_after < args.ports:
        parser.error("--kill-after must be between 0 and --ports")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    emit(run(args.ports, args.kill_after), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
