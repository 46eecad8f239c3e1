"""A NB transaction whose answer was lost (the server committed it, then the connection
died before the answer came back) is checked against what NB holds, never replayed blind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import wait_journal_idle
from ovn_tools import nbctl
from ovsdb_proxy import LosingProxy
from sqlalchemy import select
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.db.models import JournalEntry
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

pytestmark = pytest.mark.functional


@pytest.fixture()
def proxied(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[tuple[Neutrino, LosingProxy]]:
    proxy = LosingProxy(private_ovn.nb)
    app = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": proxy.remote,
        "NEUTRINO_OVN_SB": private_ovn.sb, "NEUTRINO_STARTUP_SYNC": "off"}))
    app.start()
    try:
        wait_for(lambda: app.nb.connected, 20, "NB connection through the proxy")
        yield app, proxy
    finally:
        app.stop()
        proxy.close()


def test_a_committed_transaction_whose_answer_was_lost_is_not_applied_twice(
        proxied: tuple[Neutrino, LosingProxy], private_ovn: LocalOvn) -> None:
    app, proxy = proxied
    # Logical_Switch has no unique index on its name: a blind replay would create a second
    # switch, and the server would not object.
    proxy.lose_answer_to("Logical_Switch")
    with TestClient(app.app) as client:
        answer = client.post("/v2.0/networks", json={"network": {"name": "n"}})
        assert answer.status_code == 201, answer.text
        net_id = answer.json()["network"]["id"]
        wait_journal_idle(app, timeout=30)

    assert len(proxy.lost) == 1  # the server committed it; the answer never arrived
    names = nbctl(private_ovn, "--bare", "--columns=name", "find", "Logical_Switch",
                  f"name=neutron-{net_id}").split()
    assert names == [f"neutron-{net_id}"]  # once
    assert app.metrics.ovsdb_errors._value.get() == 0  # not taken for a refusal
    with app.db.read() as session:
        assert all(e.attempts == 0 for e in session.scalars(select(JournalEntry)))
    assert app.sync.compare().differences == []
