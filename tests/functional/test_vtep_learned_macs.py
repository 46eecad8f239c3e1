"""Importing the MACs a VTEP switch learnt (Ucast_Macs_Local), driven by hand on SQLite and
PostgreSQL against a real VTEP database: the cap per logical switch, what is journaled, and
learnt MACs that go again."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import one, wait_journal_idle
from starlette.testclient import TestClient
from vtep_tools import Vtep, start_vtep
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.maintenance.vtep_macs import import_learned_macs, vtep_port_users
from neutrino.ovn.local import LocalOvn
from neutrino.ovn.vtep_client import VtepClient
from neutrino.settings import load_settings

MACS = ("00:00:5e:00:53:02", "00:00:5e:00:53:01")


@pytest.fixture()
def vtep(tmp_path: Path) -> Iterator[Vtep]:
    switch = start_vtep(tmp_path / "vtep", "ps1", ("p0",), "192.0.2.10")
    switch.ctl("add-ls", "lsx")
    try:
        yield switch
    finally:
        switch.stop_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, local_ovn: LocalOvn,
        tmp_path: Path) -> Iterator[Neutrino]:
    # no NEUTRINO_VTEP_DBS: maintenance imports nothing, the test calls the import itself
    env = {"NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": local_ovn.nb,
           "NEUTRINO_OVN_SB": local_ovn.sb, "NEUTRINO_STARTUP_SYNC": "off"}
    if request.param == "postgresql":
        env["NEUTRINO_DB_URL"] = request.getfixturevalue("pg_url")
    neutrino = build(load_settings(env))
    neutrino.start()
    try:
        yield neutrino
    finally:
        neutrino.stop()


@pytest.fixture()
def client(vtep: Vtep) -> Iterator[VtepClient]:
    found = VtepClient("ps1", vtep.remote, timeout=10)
    try:
        yield found
    finally:
        found.close()


def _bound_port(app: Neutrino) -> str:
    with TestClient(app.app) as api:
        net = api.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]
        made = api.post("/v2.0/ports", json={"port": {"network_id": net["id"], "binding:profile": {
            "vtep-physical-switch": "ps1", "vtep-logical-switch": "lsx"}}})
        other = api.post("/v2.0/ports", json={"port": {"network_id": net["id"]}})
        assert made.status_code == other.status_code == 201, made.text
    wait_journal_idle(app)
    return made.json()["port"]["id"]


def _import(app: Neutrino, client: VtepClient, cap: int) -> int:
    client.connect()
    wait_for(lambda: client.connected, 10, "the VTEP database's initial copy")
    journaled = import_learned_macs(app.db, {"ps1": client}, cap)
    wait_journal_idle(app)
    return journaled


def test_learnt_macs_capped_journaled_and_forgotten(
        app: Neutrino, vtep: Vtep, client: VtepClient, caplog: pytest.LogCaptureFixture) -> None:
    port = _bound_port(app)
    with app.db.read() as session:
        assert {k: [r.id for r in v] for k, v in vtep_port_users(session).items()} == {
            ("ps1", "lsx"): [port]}
    for mac in MACS:
        vtep.ctl("add-ucast-local", "lsx", mac, "192.0.2.10")
    with caplog.at_level(logging.WARNING):
        assert _import(app, client, cap=1) == 1
    assert "lsx learnt more than 1 MACs" in caplog.text
    assert set(one(app, "Logical_Switch_Port", name=port)["addresses"]) == {
        "unknown", "00:00:5e:00:53:01"}  # the lowest, so the choice does not flap
    assert _import(app, client, cap=1) == 0  # nothing changed, nothing journaled
    assert _import(app, client, cap=4096) == 1
    assert set(one(app, "Logical_Switch_Port", name=port)["addresses"]) == {"unknown", *MACS}
    vtep.ctl("del-ucast-local", "lsx", MACS[1])
    vtep.ctl("del-ucast-local", "lsx", MACS[0])
    assert _import(app, client, cap=4096) == 1
    assert one(app, "Logical_Switch_Port", name=port)["addresses"] == ["unknown"]
