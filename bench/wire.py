"""NB's own cost of a port, with no client library in the way.

`WireClient` speaks OVSDB's JSON-RPC over NB's unix socket: it sends a `transact` and reads
its reply, and monitors nothing, so no update has to be parsed on this side. `port_floor`
writes ports the way neutrino's journal does (an insert of the switch port, its switch's
`ports` mutated, and the drop group's and the security group's), one transaction after
another, and times each round trip: what ovsdb-server alone makes a port cost at the size
NB has reached. A plain ovsdbapp client is no floor there: python-ovs applies each change
of a Port_Group to its copy of every member.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from common import percentiles

from neutrino.ovn import naming
from neutrino.ovn.json_stream import JsonStream

DATABASE = "OVN_Northbound"
READ_SIZE = 1 << 16


class WireError(RuntimeError):
    pass


class WireClient:
    """One OVSDB JSON-RPC connection; one request in flight at a time."""

    def __init__(self, remote: str, timeout: float = 60.0) -> None:
        if not remote.startswith("unix:"):
            raise ValueError(f"a unix: remote is needed, not {remote}")
        self._sock = socket.socket(socket.AF_UNIX)
        self._sock.settimeout(timeout)
        self._sock.connect(remote.removeprefix("unix:"))
        self._stream = JsonStream()
        self._received: list[dict[str, Any]] = []
        self._next_id = 0

    def __enter__(self) -> WireClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()

    def transact(self, *ops: dict[str, Any]) -> list[dict[str, Any]]:
        """The results of one transaction; raises if any operation failed."""
        self._next_id += 1
        request = {"method": "transact", "params": [DATABASE, *ops], "id": self._next_id}
        self._sock.sendall(json.dumps(request).encode())
        reply = self._reply(self._next_id)
        if reply.get("error") is not None:
            raise WireError(f"transact failed: {reply['error']}")
        results: list[dict[str, Any]] = reply["result"]
        failed = [r for r in results if r is not None and "error" in r]
        if failed:
            raise WireError(f"transact failed: {failed}")
        return results

    def uuid_of(self, table: str, name: str) -> list[str]:
        """The row of `table` named `name`, as OVSDB's ["uuid", ...] pair."""
        rows = self.transact({"op": "select", "table": table, "where": [["name", "==", name]],
                              "columns": ["_uuid"]})[0]["rows"]
        if len(rows) != 1:
            raise WireError(f"{table} {name}: {len(rows)} rows")
        uuid: list[str] = rows[0]["_uuid"]
        return uuid

    def _reply(self, request_id: int) -> dict[str, Any]:
        # ovsdb-server may send an "echo" or other notifications; only our reply counts
        while True:
            if not self._received:
                chunk = self._sock.recv(READ_SIZE)
                if not chunk:
                    raise WireError("NB closed the connection")
                self._received.extend(self._stream.feed(chunk))
                continue
            message = self._received.pop(0)
            if message.get("method") == "echo":
                reply = {"result": message.get("params", []), "error": None,
                         "id": message.get("id")}
                self._sock.sendall(json.dumps(reply).encode())
            elif message.get("id") == request_id:
                return message


def _add_member(table: str, row: list[str]) -> dict[str, Any]:
    return {"op": "mutate", "table": table, "where": [["_uuid", "==", row]],
            "mutations": [["ports", "insert", ["set", [["named-uuid", "port"]]]]]}


def port_floor(remote: str, network_id: str, security_group_id: str, count: int,
               prefix: str) -> dict[str, Any]:
    """`count` ports on the network's switch, one transaction each, as the journal writes
    them; each round trip's percentiles. The ports are removed again afterwards (dropping
    them from their switch deletes them, and a Port_Group's references to them go too)."""
    with WireClient(remote) as wire:
        switch = wire.uuid_of("Logical_Switch", naming.switch_name(network_id))
        groups = [wire.uuid_of("Port_Group", naming.PG_DROP),
                  wire.uuid_of("Port_Group", naming.port_group_name(security_group_id))]
        made: list[list[str]] = []
        seconds: list[float] = []
        try:
            for i in range(count):
                insert = {"op": "insert", "table": "Logical_Switch_Port", "uuid-name": "port",
                          "row": {"name": f"{prefix}-{i}"}}
                ops = [insert, _add_member("Logical_Switch", switch),
                       *(_add_member("Port_Group", group) for group in groups)]
                started = time.perf_counter()
                results = wire.transact(*ops)
                seconds.append(time.perf_counter() - started)
                made.append(results[0]["uuid"])
        finally:
            if made:
                wire.transact({"op": "mutate", "table": "Logical_Switch",
                               "where": [["_uuid", "==", switch]],
                               "mutations": [["ports", "delete", ["set", made]]]})
    return {"transactions": count, "round_trip": percentiles(seconds)}
