"""neutrino against NB and SB as 3-member RAFT clusters: the leader is killed mid-stream.

Every member is named in NEUTRINO_OVN_NB / NEUTRINO_OVN_SB; the connections follow the
leader, nothing the API accepted is lost or written twice, and /healthz and /metrics say
which member is in use, how the cluster stands and how often the leader changed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import wait_journal_idle
from ovn_tools import run, sbctl
from sqlalchemy import select
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.db.models import JournalEntry
from neutrino.ovn import local, local_cluster
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

pytestmark = pytest.mark.functional

PORTS = 150
KILL_AFTER = 40  # port creates answered before the leader is killed


@pytest.fixture()
def app(cluster_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    neutrino = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": cluster_ovn.nb,
        "NEUTRINO_OVN_SB": cluster_ovn.sb, "NEUTRINO_STARTUP_SYNC": "off"}))
    neutrino.start()
    try:
        wait_for(lambda: neutrino.nb.connected and neutrino.sb.connected, 20,
                 "OVN connections")
        yield neutrino
    finally:
        neutrino.stop()


def kill_leader(ovn: LocalOvn, database: str) -> local_cluster.Member:
    leader = local_cluster.leader(ovn.directory, database)
    assert leader is not None, f"{database} has no leader"
    os.kill(local.pid(ovn.directory, leader.name), signal.SIGKILL)
    return leader


def member_lsps(member: local_cluster.Member) -> list[str]:
    """Logical_Switch_Port names in one member's copy of NB (leader or not)."""
    out = run("ovn-nbctl", f"--db={member.remote}", "--no-leader-only", "--timeout=10",
              "--format=csv", "--no-headings", "--columns=name", "list", "Logical_Switch_Port")
    return [line.strip().strip('"') for line in out.splitlines() if line.strip()]


def sync_log(app: Neutrino, ovn: LocalOvn, state: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NEUTRINO_STATE_DIR=str(state), NEUTRINO_DB_URL=app.settings.db_url,
               NEUTRINO_OVN_NB=ovn.nb, NEUTRINO_OVN_SB=ovn.sb)
    return subprocess.run([sys.executable, "-m", "neutrino.cli", "sync", "--mode", "log",
                           "--json"], env=env, capture_output=True, text=True, timeout=120)


def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} "):
            return float(line.split()[-1])
    raise AssertionError(f"{name}{{{wanted}}} not in /metrics")


def test_nb_leader_killed_during_port_creates(app: Neutrino, cluster_ovn: LocalOvn,
                                              tmp_path: Path) -> None:
    with TestClient(app.app) as client:
        health = client.get("/healthz").json()
        leader = local_cluster.leader(cluster_ovn.directory, "ovnnb_db")
        assert leader is not None
        assert health["ovn_nb_cluster"]["member"] == leader.remote  # leader-only connection
        assert health["ovn_nb_cluster"]["health"] == "ok"
        assert health["ovn_nb_cluster"]["leader_changes"] == 0

        net = client.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]
        subnet = client.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.1.0.0/22"}})
        assert subnet.status_code == 201, subnet.text
        created, killed = [], None
        for i in range(PORTS):
            if i == KILL_AFTER:
                killed = kill_leader(cluster_ovn, "ovnnb_db")
            answer = client.post("/v2.0/ports", json={"port": {"network_id": net["id"]}})
            assert answer.status_code == 201, answer.text
            created.append(answer.json()["port"]["id"])
        assert killed is not None

        wait_journal_idle(app, timeout=90)
        # a leader change is an outage of a few seconds, never a refused transaction
        assert app.metrics.ovsdb_errors._value.get() == 0
        with app.db.read() as session:
            assert not session.scalars(select(JournalEntry).where(
                JournalEntry.attempts > 0)).all()
        health = client.get("/healthz").json()
        metrics = client.get("/metrics").text

    survivors = [m for m in local_cluster.load_layout(cluster_ovn.directory).of("ovnnb_db")
                 if m != killed]
    for member in survivors:  # every create, in every surviving member, exactly once
        wait_for(lambda m=member: len(member_lsps(m)) >= PORTS, 15, f"{member.name} caught up")
        names = member_lsps(member)
        assert sorted(names) == sorted(created), member.name
    done = sync_log(app, cluster_ovn, tmp_path / "sync")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["items"] == []

    view = health["ovn_nb_cluster"]
    assert view["member"] in {m.remote for m in survivors}
    assert view["leader_changes"] >= 1
    assert view["health"] == "degraded"  # one member of three lost: still a quorum
    assert view["members"][killed.remote] == "unreachable"
    assert health["ovn_nb"] == "connected" and health["status"] == "ok"
    assert metric(metrics, "neutrino_ovsdb_leader_changes_total",
                  database="OVN_Northbound") >= 1
    assert metric(metrics, "neutrino_ovsdb_member_in_use", database="OVN_Northbound",
                  member=view["member"]) == 1
    assert metric(metrics, "neutrino_ovsdb_cluster_members", database="OVN_Northbound",
                  state="unreachable") == 1
    assert metric(metrics, "neutrino_ovsdb_cluster_quorum", database="OVN_Northbound") == 1


def _network(client: TestClient) -> str:
    net = client.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]
    subnet = client.post("/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.1.0.0/22"}})
    assert subnet.status_code == 201, subnet.text
    return net["id"]


def _ports(client: TestClient, net_id: str, count: int) -> list[str]:
    created = []
    for _ in range(count):
        answer = client.post("/v2.0/ports", json={"port": {"network_id": net_id}})
        assert answer.status_code == 201, answer.text
        created.append(answer.json()["port"]["id"])
    return created


def _nb_members(ovn: LocalOvn) -> tuple[local_cluster.Member, ...]:
    layout = local_cluster.load_layout(ovn.directory)
    assert layout is not None
    return layout.of("ovnnb_db")


def test_nb_follower_stopped_and_restarted_during_port_creates(
        app: Neutrino, cluster_ovn: LocalOvn) -> None:
    follower = next(m for m in _nb_members(cluster_ovn)
                    if local_cluster.member_status(cluster_ovn.directory, m)["role"] ==
                    "follower")
    with TestClient(app.app) as client:
        net_id = _network(client)
        created = _ports(client, net_id, 30)
        local.stop(cluster_ovn.directory, follower.name)
        created += _ports(client, net_id, 30)
        wait_journal_idle(app, timeout=60)
        assert client.get("/healthz").json()["ovn_nb_cluster"]["health"] == "degraded"
        local.up(cluster_ovn.directory)  # the member rejoins and catches up
        created += _ports(client, net_id, 30)
        wait_journal_idle(app, timeout=60)
        health = client.get("/healthz").json()
    assert health["ovn_nb_cluster"]["health"] == "ok"
    assert health["ovn_nb_cluster"]["leader_changes"] == 0  # a follower: the leader stayed
    for member in _nb_members(cluster_ovn):
        wait_for(lambda m=member: len(member_lsps(m)) >= len(created), 15, f"{member.name}")
        assert sorted(member_lsps(member)) == sorted(created), member.name
    assert app.sync.compare().differences == []


def test_nb_quorum_lost_and_regained(app: Neutrino, cluster_ovn: LocalOvn) -> None:
    """Two members of three gone: nothing can be written, the API keeps answering, /healthz
    says why; back, the backlog drains."""
    with TestClient(app.app) as client:
        net_id = _network(client)
        wait_journal_idle(app)
        for member in _nb_members(cluster_ovn)[:2]:
            os.kill(local.pid(cluster_ovn.directory, member.name), signal.SIGKILL)
        wait_for(lambda: client.get("/healthz").json()["ovn_nb_cluster"]["health"] ==
                 "no quorum", 10, "quorum loss seen")
        created = _ports(client, net_id, 20)  # accepted: the journal owes them
        health = client.get("/healthz").json()
        assert health["status"] == "degraded"
        assert metric(client.get("/metrics").text, "neutrino_ovsdb_cluster_quorum",
                      database="OVN_Northbound") == 0

        local.up(cluster_ovn.directory)
        wait_journal_idle(app, timeout=60)
        health = client.get("/healthz").json()
    assert health["ovn_nb_cluster"]["health"] == "ok" and health["status"] == "ok"
    for member in _nb_members(cluster_ovn):
        wait_for(lambda m=member: len(member_lsps(m)) >= len(created), 15, f"{member.name}")
        assert sorted(member_lsps(member)) == sorted(created), member.name
    assert app.sync.compare().differences == []


def add_chassis(ovn: LocalOvn, name: str, encap: str) -> None:
    """A Chassis and its Chassis_Private row, as ovn-controller registers them."""
    sbctl(ovn, "chassis-add", name, "geneve", encap)
    uuid = sbctl(ovn, "--bare", "--columns=_uuid", "find", "Chassis", f"name={name}").strip()
    sbctl(ovn, "create", "Chassis_Private", f"name={name}", f"chassis={uuid}")


def agent_hosts(client: TestClient) -> set[str]:
    answer = client.get("/v2.0/agents")
    assert answer.status_code == 200, answer.text
    return {a["configurations"]["chassis_name"] for a in answer.json()["agents"]}


def test_sb_leader_killed_chassis_reads_and_writes_follow(app: Neutrino,
                                                          cluster_ovn: LocalOvn) -> None:
    add_chassis(cluster_ovn, "hv1", "127.0.3.1")
    with TestClient(app.app) as client:
        wait_for(lambda: agent_hosts(client) == {"hv1"}, 10, "hv1 listed")
        leader = local_cluster.leader(cluster_ovn.directory, "ovnsb_db")
        assert client.get("/healthz").json()["ovn_sb_cluster"]["member"] == leader.remote

        killed = kill_leader(cluster_ovn, "ovnsb_db")
        killed_at = time.monotonic()
        # written through the new leader: seen only by a connection that followed it
        wait_for(lambda: _try(sbctl, cluster_ovn, "--may-exist", "chassis-add", "hv2",
                              "geneve", "127.0.3.2"), 30, "a new SB leader takes writes")
        # while the cluster elects, reads answer 503 (no member will serve); then they work
        wait_for(lambda: agents_or_none(client) == {"hv1", "hv2"}, 30, "hv2 listed")
        assert time.monotonic() - killed_at < 10  # python-ovs alone: up to 15 s
        # a write of neutrino's own (an agent's description) reaches the new leader
        answer = client.put("/v2.0/agents/hv1", json={"agent": {"description": "rack 4"}})
        assert answer.status_code == 200, answer.text
        stored = sbctl(cluster_ovn, "get", "Chassis_Private", "hv1",
                       "external_ids:neutron\\:description")
        assert stored.strip() == '"rack 4"'

        health = client.get("/healthz").json()
    view = health["ovn_sb_cluster"]
    assert view["member"] not in (None, killed.remote)
    assert view["leader_changes"] >= 1
    assert view["members"][killed.remote] == "unreachable"
    assert view["health"] == "degraded"
    assert health["ovn_nb_cluster"]["leader_changes"] == 0  # NB was left alone


def agents_or_none(client: TestClient) -> set[str] | None:
    answer = client.get("/v2.0/agents")
    if answer.status_code == 503:
        assert answer.json()["NeutronError"]["type"] == "BackendUnavailable"
        return None
    return agent_hosts(client)


def _try(action, *args) -> bool:  # type: ignore[no-untyped-def]
    try:
        action(*args)
    except AssertionError:
        return False
    return True
