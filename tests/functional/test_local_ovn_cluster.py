"""`neutrino ovn up --cluster N`: NB and SB as RAFT clusters on loopback, against real OVN."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ovn_tools import nbctl, run, sbctl, wait_sb_synced

from neutrino.ovn import local_cluster
from neutrino.ovn.local import down, pid, status, up

pytestmark = pytest.mark.functional

MEMBERS = [f"{db}-{i}" for db in ("ovnnb_db", "ovnsb_db") for i in (1, 2, 3)]


@pytest.fixture
def cluster_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="ncl", dir="/tmp"))
    try:
        yield directory
    finally:
        down(directory)
        shutil.rmtree(directory, ignore_errors=True)


def roles(directory: Path, database: str) -> list[str]:
    views = local_cluster.roles(directory)
    return sorted(v["role"] for name, v in views.items() if name.startswith(database))


def member_nbctl(directory: Path, member: str, *args: str) -> str:
    """ovn-nbctl against one member, leader or not (what that member's copy holds)."""
    layout = local_cluster.load_layout(directory)
    assert layout is not None
    remote = next(m.remote for m in layout.members if m.name == member)
    return run("ovn-nbctl", f"--db={remote}", "--no-leader-only", "--timeout=10", *args)


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_cluster_up_status_and_down(cluster_dir: Path) -> None:
    ovn = up(cluster_dir, cluster=3)

    assert status(cluster_dir) == {**dict.fromkeys(MEMBERS, True), "ovn-northd": True}
    for remote in (ovn.nb, ovn.sb):
        members = remote.split(",")
        assert len(members) == 3 and all(m.startswith("tcp:127.0.0.1:") for m in members)
    assert roles(cluster_dir, "ovnnb_db") == ["follower", "follower", "leader"]
    assert roles(cluster_dir, "ovnsb_db") == ["follower", "follower", "leader"]
    assert sorted(ovn.started) == sorted([*MEMBERS, "ovn-northd"])

    name = f"ls-{uuid.uuid4().hex[:8]}"
    nbctl(ovn, "ls-add", name)
    wait_sb_synced(ovn)  # northd reads the NB cluster and writes the SB cluster
    assert name in sbctl(ovn, "--columns=external_ids", "list", "Datapath_Binding")
    for member in ("ovnnb_db-1", "ovnnb_db-2", "ovnnb_db-3"):  # replicated to every member
        wait_for(lambda m=member: name in member_nbctl(cluster_dir, m, "ls-list"))

    pids = [pid(cluster_dir, name) for name in [*MEMBERS, "ovn-northd"]]
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        assert sorted(down(cluster_dir)) == sorted([*MEMBERS, "ovn-northd"])
        assert not any(status(cluster_dir).values())
        for gone in pids:
            assert gone is not None and not running(gone)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_up_again_restarts_a_lost_member_into_its_cluster(cluster_dir: Path) -> None:
    first = up(cluster_dir, cluster=3)
    assert up(cluster_dir) == first  # idempotent, and the directory remembers its shape
    follower = next(name for name, view in local_cluster.roles(cluster_dir).items()
                    if name.startswith("ovnnb_db") and view["role"] == "follower")
    os.kill(pid(cluster_dir, follower), signal.SIGKILL)
    wait_for(lambda: not status(cluster_dir)[follower])

    name = f"ls-{uuid.uuid4().hex[:8]}"
    nbctl(first, "ls-add", name)  # two of three members: the cluster still commits

    again = up(cluster_dir)
    assert again.started == (follower,)
    assert again.nb == first.nb
    assert local_cluster.roles(cluster_dir)[follower]["status"] == "cluster member"
    wait_for(lambda: name in member_nbctl(cluster_dir, follower, "ls-list"))


def test_a_directory_keeps_its_shape(cluster_dir: Path) -> None:
    up(cluster_dir, cluster=3)
    with pytest.raises(local_cluster.ClusterMismatch, match="3-member"):
        up(cluster_dir, cluster=5)
    with pytest.raises(local_cluster.ClusterMismatch, match="3-member"):
        up(cluster_dir, cluster=1)
    single = cluster_dir / "single"
    up(single)
    try:
        with pytest.raises(local_cluster.ClusterMismatch, match="single-member"):
            up(single, cluster=3)
        assert not (single / local_cluster.LAYOUT_FILE).exists()
    finally:
        down(single)


def test_cli_up_cluster_status_down(cluster_dir: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "neutrino.cli", "ovn", *args,
                               "--dir", str(cluster_dir)], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "NEUTRINO_STATE_DIR":
                                                str(cluster_dir)})

    started = cli("up", "--cluster", "3")
    assert started.returncode == 0, started.stderr
    strings = json.loads(started.stdout)
    assert len(strings["nb"].split(",")) == 3 and len(strings["sb"].split(",")) == 3

    shown = cli("status")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["nb"] == strings["nb"]
    assert sorted(report["members"]) == sorted(MEMBERS)
    for database in ("ovnnb_db", "ovnsb_db"):
        views = [v for name, v in report["members"].items() if name.startswith(database)]
        assert sorted(v["role"] for v in views) == ["follower", "follower", "leader"]
        assert all(v["status"] == "cluster member" for v in views)

    assert cli("status", "--cluster", "3").returncode == 2  # --cluster goes with up
    stopped = cli("down")
    assert sorted(json.loads(stopped.stdout)["stopped"]) == sorted([*MEMBERS, "ovn-northd"])
    assert cli("status").returncode == 1


def test_serve_local_ovn_uses_every_member_of_a_local_cluster(tmp_path: Path) -> None:
    """`serve --local-ovn` on a state directory whose OVN is a cluster connects to it (the
    default unix sockets do not exist there)."""
    from serve_tools import free_port, stop_serve, wait_healthy

    state = Path(tempfile.mkdtemp(prefix="nsc", dir="/tmp"))
    try:
        ovn = up(state / "ovn", cluster=3)
        port = free_port()
        env = dict(os.environ, NEUTRINO_STATE_DIR=str(state), NEUTRINO_STARTUP_SYNC="off",
                   NEUTRINO_BIND=f"127.0.0.1:{port}")
        env.pop("NEUTRINO_OVN_NB", None)
        env.pop("NEUTRINO_OVN_SB", None)
        with open(tmp_path / "serve.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "neutrino.cli", "serve",
                                     "--local-ovn"], env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc, tmp_path / "serve.log")
            import httpx2 as httpx

            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
            assert health["ovn_nb_cluster"]["member"] in ovn.nb.split(",")
            assert health["ovn_sb_cluster"]["member"] in ovn.sb.split(",")
        finally:
            stop_serve(proc)
        assert all(status(state / "ovn").values())  # it started nothing, so it stops nothing
    finally:
        down(state / "ovn")
        shutil.rmtree(state, ignore_errors=True)
