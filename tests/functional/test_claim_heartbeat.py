"""Heartbeated claims: a node that dies holding journal entries loses them within seconds.

Two `neutrino serve` processes on one PostgreSQL database; node A is stopped dead while its
worker is inside an OVSDB transaction (its NB frozen), then killed with SIGKILL. Node B must
apply A's entries within 10 s of A's last sign of life, without any setting shortened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from serve_tools import signal_node, start_serve, stop_serve
from sqlalchemy import select, update
from waiting import wait_for

from neutrino.clock import utcnow
from neutrino.db.engine import Database, make_engine
from neutrino.db.migrate import upgrade
from neutrino.db.models import JournalEntry, Port
from neutrino.journal.claim import claim_batch
from neutrino.journal.heartbeat import ClaimHeartbeat
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType, State
from neutrino.ovn import local
from neutrino.ovn.local import LocalOvn

pytestmark = pytest.mark.functional

BOUND = 10.0  # seconds from a node's death to another node having applied its claims


def _states(db: Database, seqs: list[int]) -> list[JournalEntry]:
    with db.read() as session:
        return list(session.scalars(select(JournalEntry).where(JournalEntry.seq.in_(seqs))))


def _processing(db: Database) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(JournalEntry.seq).where(
            JournalEntry.state == State.PROCESSING.value)))


def _pending(db: Database) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(JournalEntry.seq).where(
            JournalEntry.state == State.PENDING.value)))


def _nb_lsp_names(ovn: LocalOvn) -> list[str]:
    out = subprocess.run(["ovn-nbctl", f"--db={ovn.nb}", "--timeout=10", "--format=csv",
                          "--no-headings", "--columns=name", "list", "Logical_Switch_Port"],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return [line.strip().strip('"') for line in out.splitlines() if line.strip()]


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def test_a_killed_nodes_claims_are_applied_by_another_within_10s(
        private_ovn: LocalOvn, pg_url: str, tmp_path: Path) -> None:
    env = {"NEUTRINO_DB_URL": pg_url, "NEUTRINO_STARTUP_SYNC": "off"}  # default lease
    db = Database(make_engine(pg_url))
    nb_pid = local.pid(private_ovn.directory, "ovnnb_db")
    assert nb_pid is not None
    url_a, proc_a = start_serve(private_ovn, tmp_path / "a", **env)
    proc_b = None
    try:
        with httpx.Client(base_url=url_a, timeout=60) as client:
            net = client.post("/v2.0/networks", json={"network": {"name": "n"}})
            assert net.status_code == 201, net.text
            net_id = net.json()["network"]["id"]
            first = client.post("/v2.0/ports", json={"port": {"network_id": net_id}})
            assert first.status_code == 201, first.text  # and the default security group
            wait_for(lambda: not _processing(db) and not _pending(db), 20, "first port applied")
            _signal(nb_pid, signal.SIGSTOP)  # A's next batch hangs inside its transaction
            ports = client.post("/v2.0/ports", json={"ports": [{"network_id": net_id}] * 30})
            assert ports.status_code == 201, ports.text
        wait_for(lambda: len(_processing(db)) == 30, 15, "node A claimed the 30 ports")
        claimed = _processing(db)

        signal_node(proc_a, signal.SIGSTOP)  # A's last sign of life: it renews nothing more
        died, died_at = time.monotonic(), utcnow()
        _signal(nb_pid, signal.SIGCONT)
        url_b, proc_b = start_serve(private_ovn, tmp_path / "b", **env)
        assert all(e.state == State.PROCESSING.value for e in _states(db, claimed))
        signal_node(proc_a, signal.SIGKILL)
        proc_a.wait(timeout=10)

        wait_for(lambda: all(e.state == State.COMPLETED.value for e in _states(db, claimed)),
                 BOUND + 20, "node B applied A's claims")
        took = time.monotonic() - died
        assert took < BOUND, f"A's claims were applied {took:.1f}s after A died"
        assert all(e.claimed_at > died_at for e in _states(db, claimed))  # claimed again by B
        wait_for(lambda: not _processing(db) and not _pending(db), 30, "journal drained")
        with db.read() as session:
            port_ids = session.scalars(select(Port.id)).all()
        assert len(port_ids) == 31
        assert sorted(_nb_lsp_names(private_ovn)) == sorted(port_ids)  # none lost, none twice
    finally:
        _signal(nb_pid, signal.SIGCONT)
        if proc_a.poll() is None:
            signal_node(proc_a, signal.SIGKILL)
            proc_a.wait(timeout=10)
        if proc_b is not None:
            stop_serve(proc_b)


def test_a_beat_renews_our_claims_and_frees_those_nobody_renews(tmp_path: Path) -> None:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'j.db'}"))
    upgrade(db.engine)
    with db.session() as session:
        for rid in ("n1", "n2", "n3"):
            record_entry(session, ResourceType.NETWORK, rid, Operation.CREATE)
    with db.session() as session:  # ours: a lease about to run out
        ours = claim_batch(session, "alive", 1, timedelta(seconds=1))[0].seq
    with db.session() as session:  # a dead worker's: ran out already
        theirs = claim_batch(session, "dead", 1, timedelta(seconds=-1))[0].seq
    with db.session() as session:  # ours too, but claimed so long ago that we must hang
        hung = claim_batch(session, "alive", 1, timedelta(seconds=1))[0].seq
        session.execute(update(JournalEntry).where(JournalEntry.seq == hung).values(
            claimed_at=utcnow() - timedelta(minutes=6)))
    woken = []
    heartbeat = ClaimHeartbeat(db, ["alive"], 6, lambda: woken.append(1))

    assert heartbeat.beat() == (1, 1)

    entries = {e.seq: e for e in _states(db, [ours, theirs])}
    assert entries[ours].state == State.PROCESSING.value
    assert entries[ours].claimed_by == "alive"
    assert entries[ours].lease_expires_at > utcnow().replace(tzinfo=None) + timedelta(seconds=5)
    assert entries[theirs].state == State.PENDING.value
    assert entries[theirs].claimed_by is None
    assert woken == [1]
    assert heartbeat.beat() == (1, 0)  # nothing more to free; nobody woken for nothing
    assert woken == [1]
    assert heartbeat.every == 1.5
    hung_entry = _states(db, [hung])[0]
    assert hung_entry.state == State.PROCESSING.value  # not renewed: it expires, then
    assert hung_entry.lease_expires_at < utcnow() + timedelta(seconds=2)  # others take it
