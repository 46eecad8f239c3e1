"""Costs on the hot paths that must not grow with the cloud or take the write lock for
nothing (issue 15): measured in SQLite virtual machine steps and write transactions, which
are exact, not in time, which is noise on a shared machine."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from neutrino.api.attributes import NETWORK, PORT, SUBNET, parse_create
from neutrino.bootstrap import Neutrino, build
from neutrino.db.models import Port
from neutrino.reconcile import facts
from neutrino.services.context import Context
from neutrino.settings import load_settings

CTX = Context(project_id="costs")


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[Neutrino]:
    """Built, never started: no OVN is needed to load facts or record statuses."""
    neutrino = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": f"unix:{tmp_path}/nb.sock",
        "NEUTRINO_OVN_SB": f"unix:{tmp_path}/sb.sock", "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_OVN_METADATA": "true", "NEUTRINO_QUOTA_PORT": "-1"}))
    try:
        yield neutrino
    finally:
        neutrino.db.engine.dispose()


def network(app: Neutrino) -> tuple[str, str]:
    net = app.networks.create(CTX, [parse_create(NETWORK, {"name": "costs"})])[0]
    (sub,) = app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.9.0.0/16"})])
    return net["id"], sub["id"]


def ports(app: Neutrino, network_id: str, count: int) -> list[str]:
    return [p["id"] for p in app.ports.create(
        CTX, [parse_create(PORT, {"network_id": network_id}) for _ in range(count)])]


def steps(app: Neutrino, fn) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    """SQLite VM steps `fn(session)` takes (a progress handler called on every step)."""
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0

    with app.db.read() as session:
        raw = session.connection().connection.driver_connection
        raw.set_progress_handler(tick, 1)
        try:
            result = fn(session)
        finally:
            raw.set_progress_handler(None, 1)
    return counted[0], result


def test_the_metadata_address_costs_the_same_on_a_crowded_subnet(app: Neutrino):
    network_id, subnet_id = network(app)
    ports(app, network_id, 5)
    with app.db.read() as session:
        address = session.scalars(select(Port).where(
            Port.device_id == f"ovnmeta-{network_id}")).one().fixed_ips[0].ip_address
    few, found = steps(app, lambda s: facts._metadata_ips(s, [subnet_id]))
    assert found == {subnet_id: address}
    ports(app, network_id, 300)
    many, found = steps(app, lambda s: facts._metadata_ips(s, [subnet_id]))
    assert found == {subnet_id: address}
    # scanning the subnet's addresses took thousands of steps more with 300 more ports
    assert many <= few + 50, (few, many)


def test_a_status_report_that_changes_nothing_takes_no_write_transaction(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    network_id, _ = network(app)
    (port_id,) = ports(app, network_id, 1)
    writes = []
    session = app.db.session

    @contextlib.contextmanager
    def counted():  # type: ignore[no-untyped-def]
        writes.append(1)
        with session() as s:
            yield s

    monkeypatch.setattr(app.db, "session", counted)
    assert app.ports.set_status(port_id, False) is False  # a new port is DOWN already
    assert app.ports.set_status("no-such-port", True) is False
    assert writes == []
    assert app.ports.set_status(port_id, True) is True
    assert writes == [1]
    with app.db.read() as s:
        assert s.scalar(select(Port.status).where(Port.id == port_id)) == "ACTIVE"
    assert app.ports.set_status(port_id, True) is False
    assert writes == [1]
