"""A value OVN cannot store must fail alone: split out, `failed`, visible, never blocking
others. Real OVN; the poisoned rows are written straight into the database, as an older
release (or another client of the database) could have left them."""

from __future__ import annotations

import time

import pytest
from nb_state import rows
from sqlalchemy import select, update
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino
from neutrino.db.models import JournalEntry, Network
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType, State
from neutrino.ovn import client as ovn_client


@pytest.fixture()
def app(private_app: Neutrino) -> Neutrino:
    return private_app


def _entries(app: Neutrino, resource_id: str) -> list[JournalEntry]:
    with app.db.read() as session:
        return list(session.scalars(select(JournalEntry).where(
            JournalEntry.resource_id == resource_id)))


def test_a_poisoned_network_fails_alone_and_the_rest_reach_ovn(app: Neutrino):
    poison = "bad\x00name"  # SQLite holds it; ovsdb-server drops any client that sends it
    with TestClient(app.app) as api:
        ids = [api.post("/v2.0/networks", json={"network": {"name": f"n{i}"}})
               .json()["network"]["id"] for i in range(6)]
        bad = ids[2]
        for net_id in ids:
            wait_for(lambda n=net_id: rows(app, "Logical_Switch", name=f"neutron-{n}"), 20,
                     "networks in NB")
        # Poison one network behind the API's back and journal it again together with the
        # others, so that one batch carries the poison and five good updates.
        with app.db.session() as session:
            session.execute(update(Network).where(Network.id == bad).values(name=poison))
            for net_id in ids:
                record_entry(session, ResourceType.NETWORK, net_id, Operation.UPDATE)
        app.wakeup.set()
        wait_for(lambda: all(e.state == State.FAILED.value for e in _entries(app, bad)
                          if e.operation == Operation.UPDATE.value), 60, "poison failed")
        entry = [e for e in _entries(app, bad) if e.operation == Operation.UPDATE.value][0]
        assert "name" in entry.last_error and entry.attempts == 2

        # Nothing else is blocked: a network created after the poison reaches OVN at once.
        later = api.post("/v2.0/networks", json={"network": {"name": "later"}}).json()
        wait_for(lambda: rows(app, "Logical_Switch", name=f"neutron-{later['network']['id']}"),
              20, "a later network in NB")
        for good in ids:
            if good != bad:
                assert {e.state for e in _entries(app, good)} == {State.COMPLETED.value}
        health = api.get("/healthz").json()
        assert health["ovn_nb"] == "connected"
        assert health["journal"]["counts"]["failed"] == 1


def test_a_transaction_the_server_drops_us_for_is_a_refusal_not_an_outage(private_ovn):
    """Sent past the pre-flight check, a NUL makes ovsdb-server drop the connection; the
    client must call that a refusal (within a few reconnects) and stay usable."""
    nb = ovn_client.NorthboundClient(private_ovn.nb, timeout=20)
    nb.connect()
    try:
        started = time.monotonic()
        with pytest.raises(ovn_client.TransactionRefused):
            nb._run(_AddSwitch(nb._backend_or_raise(), "dropped\x00switch"))
        assert time.monotonic() - started < 15  # refused before the 20 s timeout
        deadline = time.monotonic() + 20
        while not nb.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        nb._run(_AddSwitch(nb._backend_or_raise(), "fine"))
        assert [r for r in nb.read_rows("Logical_Switch") if r["name"] == "fine"]
    finally:
        nb.close()


def test_unstorable_values_are_found_before_sending(private_ovn):
    from neutrino.ovn.rows import DesiredRow, DesiredState, RowKey

    key = RowKey("Logical_Switch", "name", "neutron-x")
    state = DesiredState("network", "x", (DesiredRow(key, {"external_ids": {"k": "a\x00"}}),),
                         (key,))
    nb = ovn_client.NorthboundClient(private_ovn.nb, timeout=20)
    nb.connect()
    try:
        transactions = nb.transactions
        with pytest.raises(ovn_client.UnstorableValue, match="external_ids"):
            nb.apply([state])
        assert nb.transactions == transactions
    finally:
        nb.close()


class _AddSwitch(ovn_client.command.BaseCommand):
    def __init__(self, api, name: str) -> None:
        super().__init__(api)
        self.name = name

    def run_idl(self, txn) -> None:
        row = txn.insert(self.api.idl.tables["Logical_Switch"])
        row.name = self.name


def test_healthz_shows_entries_pending_but_never_due(app: Neutrino):
    from datetime import timedelta

    from neutrino.clock import utcnow

    with TestClient(app.app) as api:
        net = api.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]
        wait_for(lambda: rows(app, "Logical_Switch", name=f"neutron-{net['id']}"), 10, "in NB")
        with app.db.session() as session:
            entry = record_entry(session, ResourceType.NETWORK, net["id"], Operation.UPDATE)
            session.flush()
            session.execute(update(JournalEntry).where(JournalEntry.seq == entry.seq).values(
                next_attempt_at=utcnow() + timedelta(days=365_000)))
        health = api.get("/healthz")
        assert health.status_code == 503
        journal = health.json()["journal"]
        assert journal["pending"]["stuck"] == 1 and journal["problems"]
