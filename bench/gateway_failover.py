"""Gateway failover benchmark: R gateway routers on N chassis, one chassis deleted from SB.

`neutrino serve` (gateway-router mode) places R routers with external gateways on N gateway
chassis (least-loaded: about R/N each). Then one chassis is deleted from SB, as a CMS or an
operator removing a dead node does, through an OVSDB client of the benchmark's own. The
figure is the time from sending that deletion to the moment the last affected gateway router
is pinned (`options:chassis`) to a surviving chassis in NB, as an NB IDL of the benchmark's
own receives the updates (its notify hook: no polling).

Baseline, same NB, same run, after the server stopped: plain ovsdbapp re-pins the same
routers (`db_set` of `options:chassis`, all in one transaction), timed the same way, from
sending to the last update seen.

Run with the virtualenv's interpreter; it prints one JSON document on stdout:

    /tmp/venv/bin/python bench/gateway_failover.py [--routers R] [--chassis N] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common import emit, machine, ovsdbapp_nb, ratio, throwaway_ovn
from ovsdbapp.backend.ovs_idl import connection, idlutils
from routers import add_gateway_chassis
from serve import (
    client,
    create_network,
    in_threads,
    neutrino_server,
    post,
    scrape,
    wait_journal_idle,
)

from neutrino.ovn.client import SouthboundClient

GW_PREFIX = "neutron-gw-"
EXTERNAL_CIDR = "172.16.0.0/16"
CLIENT_THREADS = 4
WAIT_TIMEOUT = 60.0
BATCH_METRIC = "neutrino_journal_batch_size_count"


class _PinIdl(connection.OvsdbIdl):
    seen: Callable[[str, str | None], None]

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        if row._table.name == "Logical_Router" and event != "delete" and \
                (event == "create" or hasattr(updates, "options")):
            self.seen(row.name, row.options.get("chassis"))


class PinWatcher:
    """router id → (chassis its gateway router is pinned to, monotonic moment it was seen)."""

    def __init__(self, nb: str) -> None:
        self.pins: dict[str, tuple[str | None, float]] = {}
        helper = idlutils.get_schema_helper(nb, "OVN_Northbound")
        helper.register_table("Logical_Router")
        idl = _PinIdl(nb, helper)
        idl.seen = self._seen
        self._conn = connection.Connection(idl, timeout=30)
        self._conn.start()

    def _seen(self, name: str, chassis: str | None) -> None:
        if name.startswith(GW_PREFIX):
            self.pins[name.removeprefix(GW_PREFIX)] = (chassis, time.monotonic())

    def last_pinned(self, routers: Sequence[str], to: Callable[[str], set[str]],
                    timeout: float = WAIT_TIMEOUT) -> float | None:
        """Wait until each router is pinned to one of `to(router)`; the last such moment."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [(self.pins.get(rid, (None, 0.0)), rid) for rid in routers]
            if all(chassis in to(rid) for (chassis, _), rid in found):
                return max(moment for (_, moment), _ in found)
            time.sleep(0.002)
        return None

    def close(self) -> None:
        self._conn.stop(timeout=5)


def create_routers(base: str, count: int) -> list[str]:
    with client(base) as http:
        external, _ = create_network(http, "public", EXTERNAL_CIDR, **{"router:external": True})
    made: list[str] = []

    def one(http: Any, index: int) -> None:
        router = post(http, "/v2.0/routers", {"router": {
            "name": f"r{index}", "external_gateway_info": {"network_id": external}}})
        made.append(router["router"]["id"])

    in_threads(base, range(count), CLIENT_THREADS, one, "router creates")
    return made


def delete_chassis(sb_remote: str, name: str) -> tuple[float, float]:
    """Delete `name` from SB; (moment sent, seconds until the commit was confirmed)."""
    sb = SouthboundClient(sb_remote)
    try:
        sb.connect()
        deadline = time.monotonic() + WAIT_TIMEOUT
        while not sb.connected and time.monotonic() < deadline:
            time.sleep(0.01)
        sent = time.monotonic()
        if not sb.delete_chassis(name):
            raise RuntimeError(f"chassis {name} was not in SB")
        return sent, time.monotonic() - sent
    finally:
        sb.close()


def measure_neutrino(args: argparse.Namespace, directory: Path, ovn: Any,
                     pins: PinWatcher) -> tuple[dict[str, Any], dict[str, str]]:
    chassis = add_gateway_chassis(ovn, args.chassis)
    with neutrino_server(directory, ovn) as server:
        routers = create_routers(server.base, args.routers)
        if pins.last_pinned(routers, lambda _: set(chassis)) is None:
            raise RuntimeError("not every gateway router reached NB in time")
        with client(server.base) as http:
            wait_journal_idle(http)
            before = {rid: pins.pins[rid][0] for rid in routers}
            victim = Counter(before.values()).most_common(1)[0][0]
            assert victim is not None
            affected = sorted(rid for rid, name in before.items() if name == victim)
            survivors = set(chassis) - {victim}
            batches_before = scrape(http).get(BATCH_METRIC, 0.0)
            sent, commit = delete_chassis(ovn.sb, victim)
            last = pins.last_pinned(affected, lambda _: survivors)
            if last is None:
                raise RuntimeError("affected gateway routers were not re-pinned in time")
            wait_journal_idle(http)
            batches = scrape(http).get(BATCH_METRIC, 0.0) - batches_before
        after = {rid: pins.pins[rid][0] for rid in routers}
    unaffected_stayed = all(after[rid] == before[rid] for rid in routers if rid not in affected)
    per_chassis = Counter(after[rid] for rid in routers)
    return {
        "chassis": chassis, "deleted_chassis": victim, "moved": len(affected),
        "failover_s": round(last - sent, 3), "sb_delete_commit_s": round(commit, 3),
        "journal_batches_during_failover": batches,
        "unaffected_stayed": unaffected_stayed,
        "per_chassis_after": dict(per_chassis),
        "all_on_survivors": set(per_chassis) <= survivors,
    }, {rid: str(after[rid]) for rid in affected}


def measure_baseline(nb: str, pins: PinWatcher, placement: dict[str, str]) -> dict[str, Any]:
    """Re-pin the same routers, each to the other survivor, in one ovsdbapp transaction."""
    survivors = sorted(set(placement.values()))
    swap = {rid: survivors[(survivors.index(name) + 1) % len(survivors)]
            for rid, name in placement.items()}
    with ovsdbapp_nb(nb) as api:
        sent = time.monotonic()
        with api.transaction(check_error=True) as txn:
            for rid, name in swap.items():
                txn.add(api.db_set("Logical_Router", f"{GW_PREFIX}{rid}",
                                   ("options", {"chassis": name})))
        committed = time.monotonic() - sent
    last = pins.last_pinned(list(swap), lambda rid: {swap[rid]})
    if last is None:
        raise RuntimeError("the baseline's re-pins were not seen in time")
    return {"routers": len(swap), "transactions": 1, "seconds": round(last - sent, 3),
            "commit_s": round(committed, 3)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    with throwaway_ovn("gwf") as (directory, ovn):
        pins = PinWatcher(ovn.nb)
        try:
            figures, placement = measure_neutrino(args, directory, ovn, pins)
            base = measure_baseline(ovn.nb, pins, placement)
        finally:
            pins.close()
    return {
        "benchmark": "gateway_failover", "routers": args.routers,
        "gateway_chassis": args.chassis, "l3_mode": "gateway-router",
        "machine": {**machine(), "load_average_at_start": os.getloadavg()},
        **figures,
        "baseline_ovsdbapp": base,
        "ratios": {"failover_vs_baseline": ratio(figures["failover_s"], base["seconds"])},
    }


def passed(result: dict[str, Any]) -> bool:
    return bool(result["unaffected_stayed"] and result["all_on_survivors"]
                and result["moved"] > 0)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", type=int, default=200, help="routers (default 200)")
    parser.add_argument("--chassis", type=int, default=3,
                        help="gateway chassis registered in SB (default 3)")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    if not 1 <= args.routers <= 30000 or not 2 <= args.chassis <= 250:
        parser.error("--routers must be 1 to 30000, --chassis 2 to 250")
    return args


def main(argv: list[str] | None = None) -> int:
    """Exit 1 (after printing the JSON) when a check in `passed` fails."""
    args = _args(argv)
    result = run(args)
    emit(result, args.out)
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
