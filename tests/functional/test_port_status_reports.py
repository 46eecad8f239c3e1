"""What the NB connection reports of switch ports' `up` (ovn-northd's column), which the
journal process turns into ports' ACTIVE/DOWN: a port is reported once northd has judged
it, whether it was judged before the connection or after; a switch port not judged yet
(our own insert's echo) is not reported, since northd's judgement follows."""

from __future__ import annotations

import time
import uuid

from ovn_tools import nbctl, sbctl

from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.local import LocalOvn


def wait_until(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def nb_up(ovn: LocalOvn, port: str) -> str:
    return nbctl(ovn, "get", "Logical_Switch_Port", port, "up").strip()


def test_a_port_up_before_the_connection_is_reported_at_connect_then_followed(
        local_ovn: LocalOvn):
    switch = f"status-{uuid.uuid4().hex[:8]}"
    port, chassis = f"{switch}-p1", f"hv-{switch}"
    nbctl(local_ovn, "ls-add", switch, "--", "lsp-add", switch, port)
    sbctl(local_ovn, "chassis-add", chassis, "geneve", "127.0.0.1")
    reports: list[tuple[str, bool]] = []
    client = NorthboundClient(local_ovn.nb, on_port_up=lambda name, up: reports.append(
        (name, up)))
    try:
        wait_until(lambda: nb_up(local_ovn, port) == "false")
        sbctl(local_ovn, "lsp-bind", port, chassis)
        sbctl(local_ovn, "set", "Port_Binding", port, "up=true")
        wait_until(lambda: nb_up(local_ovn, port) == "true")
        client.connect()  # the first copy holds the port, judged up
        assert [r for r in reports if r[0] == port] == [(port, True)]
        sbctl(local_ovn, "lsp-unbind", port)
        sbctl(local_ovn, "set", "Port_Binding", port, "up=false")
        wait_until(lambda: (port, False) in reports)
        assert [r for r in reports if r[0] == port] == [(port, True), (port, False)]
    finally:
        client.close()
        sbctl(local_ovn, "chassis-del", chassis)
        nbctl(local_ovn, "ls-del", switch)


def row_of(client: NorthboundClient, port: str) -> dict | None:  # type: ignore[type-arg]
    return next((row for row in client.read_rows("Logical_Switch_Port", ("name", "up"))
                 if row["name"] == port), None)


def test_a_switch_port_inserted_again_is_reported_once_northd_judged_it_not_before(
        local_ovn: LocalOvn):
    """A port's switch port deleted and inserted again (a repair): its insert, `up` unset,
    says nothing of the port; northd's judgement of the new row does. (When northd's write
    reaches us in one update with the insert, the insert comes judged and is reported.)"""
    switch = f"status-{uuid.uuid4().hex[:8]}"
    port = f"{switch}-p1"
    nbctl(local_ovn, "ls-add", switch, "--", "lsp-add", switch, port)
    reports: list[tuple[str, bool]] = []
    client = NorthboundClient(local_ovn.nb, on_port_up=lambda name, up: reports.append(
        (name, up)))
    client.connect()
    try:
        wait_until(lambda: (row_of(client, port) or {}).get("up") is False)
        first = row_of(client, port)["_uuid"]  # type: ignore[index]
        nbctl(local_ovn, "lsp-del", port, "--", "lsp-add", switch, port)
        # once the copy holds northd's `up` of the new row, every report of it was made
        wait_until(lambda: (row := row_of(client, port)) is not None
                   and row["_uuid"] != first and row["up"] is False)
        assert [r for r in reports if r[0] == port] == [(port, False), (port, False)]
    finally:
        client.close()
        nbctl(local_ovn, "ls-del", switch)
