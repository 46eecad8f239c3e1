"""The journal's promises under failure: NB outages, a killed process, several nodes on
PostgreSQL, and an NB that lost its contents. Real processes, real OVN, real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from journal_audit import assert_dependency_order
from nb_state import rows, wait_journal_idle
from serve_tools import signal_node, start_serve, stop_serve
from sqlalchemy import select
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.clock import utcnow
from neutrino.db.engine import Database, make_engine
from neutrino.db.migrate import upgrade
from neutrino.db.models import JournalEntry, Port
from neutrino.journal.listen import JournalListener
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType, State
from neutrino.ovn import local
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


@pytest.fixture()
def app(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    neutrino = build(load_settings({"NEUTRINO_STATE_DIR": str(tmp_path),
                                    "NEUTRINO_OVN_NB": private_ovn.nb,
                                    "NEUTRINO_OVN_SB": private_ovn.sb}))
    neutrino.start()
    wait_for(lambda: neutrino.nb.connected, 20, "NB connection")
    try:
        yield neutrino
    finally:
        neutrino.stop()


def _post(client, path: str, body: dict) -> dict:
    singular = path[:-1]
    response = client.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _networks_with_ports(client, networks: int, ports: int) -> list[dict]:
    created = []
    for i in range(networks):
        net = _post(client, "networks", {"name": f"n{i}"})
        _post(client, "subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": f"10.{100 + i}.0.0/22"})
        created.append(net)
    bodies = [{"network_id": created[i % networks]["id"], "name": f"p{i}"}
              for i in range(ports)]
    for start in range(0, ports, 50):
        response = client.post("/v2.0/ports", json={"ports": bodies[start:start + 50]})
        assert response.status_code == 201, response.text
    return created


def test_nb_outage_backlog_drains_in_order_without_errors(app, private_ovn):
    local.stop(private_ovn.directory, "ovnnb_db")
    wait_for(lambda: not app.nb.connected, 10, "NB seen as down")
    with TestClient(app.app) as client:
        _networks_with_ports(client, networks=4, ports=200)
        assert client.get("/healthz").json()["ovn_nb"] == "disconnected"
    with app.db.read() as session:
        pending = session.scalars(select(JournalEntry).where(
            JournalEntry.state != State.COMPLETED.value)).all()
        # networks, subnets, the network updates their subnets made (Neutron revises a
        # network with its subnets), ports, the default group and its four rules
        assert len(pending) == 4 + 4 + 4 + 200 + 1 + 4

    local.up(private_ovn.directory)
    drained = wait_for(lambda: app.nb.connected, 30, "NB reconnect")
    wait_journal_idle(app, timeout=60)
    # NB_Global's keys are no journal entry: if NB went before neutrino wrote them at start,
    # maintenance writes them within its next tick (`cold_reboot_every`, 5 s)
    wait_for(lambda: app.sync.compare().differences == [], 15, "NB matching the database")
    assert len(rows(app, "Logical_Switch_Port")) == 200
    assert app.metrics.ovsdb_errors._value.get() == 0  # never a constraint/reference error
    with app.db.read() as session:
        assert all(e.attempts == 0 for e in session.scalars(select(JournalEntry)))
    assert drained < 30


def test_cold_reboot_is_detected_and_repaired(app, private_ovn):
    with TestClient(app.app) as client:
        nets = _networks_with_ports(client, networks=2, ports=20)
    wait_journal_idle(app)
    wait_for(lambda: app.maintenance.detector.last_database_id is not None, 15,
          "maintenance saw NB once")

    local.wipe_nb(private_ovn.directory)
    took = wait_for(lambda: app.nb.connected and len(rows(app, "Logical_Switch_Port")) == 20
                 and app.sync.compare().differences == [], 30, "cold reboot repaired")
    assert app.maintenance.repairs >= 1
    for net in nets:
        assert rows(app, "Logical_Switch", name=f"neutron-{net['id']}")
    assert took < 30


# -- several processes on PostgreSQL -------------------------------------------------------

def _pg_db(url: str) -> Database:
    return Database(make_engine(url))


def _sync_log(ovn: LocalOvn, state: Path, db_url: str) -> dict:
    env = dict(os.environ, NEUTRINO_STATE_DIR=str(state), NEUTRINO_DB_URL=db_url,
               NEUTRINO_OVN_NB=ovn.nb, NEUTRINO_OVN_SB=ovn.sb)
    done = subprocess.run([sys.executable, "-m", "neutrino.cli", "sync", "--json"], env=env,
                          capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)
    assert done.returncode == (1 if report["items"] else 0), done.stderr
    return report


def _journal_idle(db: Database) -> bool:
    with db.read() as session:
        states = set(session.scalars(select(JournalEntry.state)))
    assert State.FAILED.value not in states
    return states <= {State.COMPLETED.value}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_entries_of_a_node_killed_mid_batch_are_applied_after_restart(
        private_ovn, tmp_path, request, backend):
    """SIGKILL while a batch is inside its NB transaction. SQLite: the same node restarted
    takes its claims back at start-up (they were once made due in 1,000 years). PostgreSQL:
    another node takes them once the lease runs out."""
    lease = 3
    db_url = request.getfixturevalue("pg_url") if backend == "postgresql" \
        else f"sqlite:///{tmp_path / 'shared.db'}"
    env = {"NEUTRINO_DB_URL": db_url, "NEUTRINO_JOURNAL_LEASE_SECONDS": str(lease),
           "NEUTRINO_STARTUP_SYNC": "off"}
    url_a, proc_a = start_serve(private_ovn, tmp_path / "a", **env)
    db = Database(make_engine(db_url))
    nb_pid = local.pid(private_ovn.directory, "ovnnb_db")
    try:
        with httpx.Client(base_url=url_a, timeout=60) as client:
            _networks_with_ports(client, networks=1, ports=0)
            wait_for(lambda: _journal_idle(db), 20, "network applied")
            os.kill(nb_pid, signal.SIGSTOP)  # the next batch hangs inside its transaction
            bodies = [{"network_id": client.get("/v2.0/networks").json()["networks"][0]["id"]}
                      for _ in range(30)]
            assert client.post("/v2.0/ports", json={"ports": bodies}).status_code == 201

        def stuck() -> list[int]:
            with db.read() as session:
                return list(session.scalars(select(JournalEntry.seq).where(
                    JournalEntry.state == State.PROCESSING.value)))

        wait_for(lambda: bool(stuck()), 15, "a batch claimed by node A")
        claimed_by_a = stuck()
        signal_node(proc_a, signal.SIGKILL)  # the node, its journal process with it
        proc_a.wait(timeout=10)
        killed_at = utcnow()
    finally:
        os.kill(nb_pid, signal.SIGCONT)
        if proc_a.poll() is None:
            stop_serve(proc_a)

    url_b, proc_b = start_serve(private_ovn, tmp_path / "b", **env)
    try:
        # SQLite: at once (B's start-up takes the claims back). PostgreSQL: once the lease
        # is out, B's claim heartbeat frees them (every quarter lease), not waiting for B to
        # inherit the maintenance leadership.
        bound = 10 if backend == "sqlite" else lease + 10
        wait_for(lambda: _journal_idle(db), bound, "node B finished A's entries")
        with db.read() as session:
            ports = session.scalars(select(Port.id)).all()
            redone = session.scalars(select(JournalEntry).where(
                JournalEntry.seq.in_(claimed_by_a))).all()
        assert all(e.state == State.COMPLETED.value for e in redone)
        assert all(e.claimed_at > killed_at for e in redone)  # claimed again, by node B
        names = [r["name"] for r in _nb_lsps(private_ovn)]
        assert sorted(names) == sorted(ports)  # nothing lost, nothing twice
        assert _sync_log(private_ovn, tmp_path / "b", db_url)["items"] == []
    finally:
        stop_serve(proc_b)


def _nb_lsps(ovn: LocalOvn) -> list[dict]:
    out = subprocess.run(["ovn-nbctl", f"--db={ovn.nb}", "--format=json", "--columns=name",
                          "list", "Logical_Switch_Port"], capture_output=True, text=True,
                         check=True, timeout=30)
    return [{"name": row[0]} for row in json.loads(out.stdout)["data"]]


def test_two_nodes_on_postgresql(private_ovn, pg_url, tmp_path):
    env = {"NEUTRINO_DB_URL": pg_url, "NEUTRINO_STARTUP_SYNC": "off",
           "NEUTRINO_JOURNAL_WORKERS": "2"}
    nodes = [start_serve(private_ovn, tmp_path / name, **env) for name in ("a", "b")]
    urls = [url for url, _ in nodes]
    db = _pg_db(pg_url)
    try:
        _ipam_race(urls)
        operations = _mixed_operations(urls)
        assert operations >= 500
        wait_for(lambda: _journal_idle(db), 120, "both nodes drained the journal")
        assert _sync_log(private_ovn, tmp_path / "a", pg_url)["items"] == []
        assert_dependency_order(db)
    finally:
        for _, proc in nodes:
            stop_serve(proc)


def _ipam_race(urls: list[str]) -> None:
    """64 clients, spread over both nodes, race for 20 addresses."""
    with httpx.Client(base_url=urls[0], timeout=60) as client:
        net = _post(client, "networks", {"name": "race"})
        _post(client, "subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": "10.99.0.0/24", "allocation_pools": [
                                      {"start": "10.99.0.10", "end": "10.99.0.29"}]})

    def create(i: int) -> httpx.Response:
        with httpx.Client(base_url=urls[i % 2], timeout=120) as c:
            return c.post("/v2.0/ports", json={"port": {"network_id": net["id"]}})

    with ThreadPoolExecutor(64) as pool:
        responses = list(pool.map(create, range(64)))
    assert sorted(r.status_code for r in responses) == [201] * 20 + [409] * 44
    addresses = {r.json()["port"]["fixed_ips"][0]["ip_address"]
                 for r in responses if r.status_code == 201}
    assert len(addresses) == 20


def _mixed_operations(urls: list[str]) -> int:
    """Creates, updates and deletes from 8 concurrent clients, alternating nodes."""
    def client_work(worker: int) -> int:
        done = 0
        with httpx.Client(base_url=urls[worker % 2], timeout=120) as client:
            net = _post(client, "networks", {"name": f"mix{worker}"})
            _post(client, "subnets", {"network_id": net["id"], "ip_version": 4,
                                      "cidr": f"10.{150 + worker}.0.0/24"})
            done += 2
            ports = []
            for i in range(40):
                ports.append(_post(client, "ports", {"network_id": net["id"]}))
                done += 1
                if i % 3 == 0:
                    response = client.put(f"/v2.0/ports/{ports[-1]['id']}",
                                          json={"port": {"name": f"renamed{i}"}})
                    assert response.status_code == 200
                    done += 1
                if i % 4 == 0:
                    assert client.delete(f"/v2.0/ports/{ports.pop(0)['id']}").status_code \
                        == 204
                    done += 1
            if worker % 2:
                for port in ports:
                    assert client.delete(f"/v2.0/ports/{port['id']}").status_code == 204
                    done += 1
                assert client.delete(f"/v2.0/networks/{net['id']}").status_code == 204
                done += 1
        return done

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(client_work, range(8)))


def test_a_commit_on_one_node_wakes_the_listeners_of_another(pg_url):
    """NOTIFY at commit reaches a LISTEN on another connection (another node) at once."""
    db = _pg_db(pg_url)
    upgrade(db.engine)
    woken = threading.Event()
    listener = JournalListener(db.engine, woken.set)
    listener.start()
    try:
        time.sleep(0.5)  # let it LISTEN
        other_node = _pg_db(pg_url)
        with other_node.session() as session:
            record_entry(session, ResourceType.NETWORK, "n1", Operation.CREATE)
            assert not woken.wait(0.3)  # nothing before the commit
        assert woken.wait(5)
    finally:
        listener.stop()
