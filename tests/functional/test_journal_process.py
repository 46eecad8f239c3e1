"""`neutrino serve` with its journal in a process of its own (NEUTRINO_JOURNAL_PROCESS,
"separate" by default): the API's commits wake the child's workers, /healthz and /metrics
speak for both processes, a child that dies is started again and catches up, and neither
process outlives the other."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from serve_tools import start_serve, stop_serve
from waiting import wait_for

from neutrino.ovn.local import LocalOvn

pytestmark = pytest.mark.functional

BOUND = 15.0  # seconds for what the journal process does in the background


def _nb_lsp_names(ovn: LocalOvn) -> set[str]:
    out = subprocess.run(["ovn-nbctl", f"--db={ovn.nb}", "--timeout=10", "--format=csv",
                          "--no-headings", "--columns=name", "list", "Logical_Switch_Port"],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return {line.strip().strip('"') for line in out.splitlines() if line.strip()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a child that exited but was not reaped yet is a zombie: gone for this test's purpose
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _network(http: httpx.Client) -> str:
    net = http.post("/v2.0/networks", json={"network": {"name": "jp"}}).json()["network"]["id"]
    answer = http.post("/v2.0/subnets", json={"subnet": {
        "network_id": net, "cidr": "10.9.0.0/24", "ip_version": 4}})
    assert answer.status_code == 201, answer.text
    return net


def _port(http: httpx.Client, net: str) -> str:
    answer = http.post("/v2.0/ports", json={"port": {"network_id": net}})
    assert answer.status_code == 201, answer.text
    return answer.json()["port"]["id"]


@pytest.fixture()
def serve(private_ovn, tmp_path) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    url, proc = start_serve(private_ovn, tmp_path / "state", NEUTRINO_STARTUP_SYNC="off")
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            yield http, proc
    finally:
        stop_serve(proc)


def test_commits_reach_nb_through_the_journal_process(serve, private_ovn):
    http, proc = serve
    health = http.get("/healthz").json()
    child = health["journal_process"]
    assert child["running"] and child["pid"] != proc.pid and child["restarts"] == 0
    assert health["status"] == "ok" and health["ovn_nb"] == "connected"
    assert health["ovn_nb_cluster"]["health"] == "ok"
    net = _network(http)
    ports = [_port(http, net) for _ in range(5)]
    wait_for(lambda: set(ports) <= _nb_lsp_names(private_ovn), BOUND, "ports in NB")
    # the API's process holds no NB connection: the rows came from the child
    assert _alive(child["pid"])


def test_metrics_speak_for_both_processes(serve, private_ovn):
    http, _ = serve
    net = _network(http)
    port = _port(http, net)
    wait_for(lambda: port in _nb_lsp_names(private_ovn), BOUND, "the port in NB")
    text = http.get("/metrics").text
    lines = text.splitlines()
    threads = {line.split('thread="', 1)[1].split('"', 1)[0] for line in lines
               if line.startswith("neutrino_thread_cpu_seconds_total{")}
    # the API's handler threads and the child's workers, in one family
    assert "AnyIO worker thread" in threads
    assert any(name.startswith("worker-") for name in threads), threads
    assert "OVN_Northbound-idl" in threads
    applied = next(float(line.split()[-1]) for line in lines
                   if line.startswith("neutrino_sync_latency_seconds_count"))
    assert applied >= 3  # the network, its subnet, the port: applied in the child
    # each family once, though both processes register the same metrics
    types = [line for line in lines if line.startswith("# TYPE ")]
    assert len(types) == len(set(types))
    assert any(line.startswith('neutrino_journal_entries{state="completed"}') for line in lines)
    assert any(line.startswith("neutrino_ovsdb_cluster_quorum{") for line in lines)


def test_a_journal_process_that_dies_is_started_again_and_catches_up(serve, private_ovn):
    http, _ = serve
    net = _network(http)
    first = http.get("/healthz").json()["journal_process"]["pid"]
    os.kill(first, signal.SIGKILL)
    # the API goes on answering while its journal is down; the entry waits
    during = _port(http, net)
    wait_for(lambda: http.get("/healthz").json()["journal_process"]["restarts"] >= 1, BOUND,
             "the journal process started again")
    wait_for(lambda: during in _nb_lsp_names(private_ovn), BOUND, "the waiting port in NB")
    health = http.get("/healthz").json()
    assert health["journal_process"]["pid"] != first
    assert health["ovn_nb"] == "connected" and health["status"] == "ok"
    after = _port(http, net)
    wait_for(lambda: after in _nb_lsp_names(private_ovn), BOUND, "a later port in NB")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_the_journal_process_does_not_outlive_serve(private_ovn, tmp_path, how):
    url, proc = start_serve(private_ovn, tmp_path / "state", NEUTRINO_STARTUP_SYNC="off")
    try:
        child = httpx.get(f"{url}/healthz", timeout=10).json()["journal_process"]["pid"]
        assert _alive(child)
        proc.send_signal(how)
        proc.wait(timeout=30)
        # SIGKILL: the child learns it from its control socket's end
        wait_for(lambda: not _alive(child), BOUND, "the journal process gone")
    finally:
        stop_serve(proc)


def test_inline_serve_runs_the_journal_in_the_api_process(private_ovn, tmp_path):
    url, proc = start_serve(private_ovn, tmp_path / "state", NEUTRINO_STARTUP_SYNC="off",
                            NEUTRINO_JOURNAL_PROCESS="inline")
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            health = http.get("/healthz").json()
            assert "journal_process" not in health and health["ovn_nb"] == "connected"
            port = _port(http, _network(http))
            wait_for(lambda: port in _nb_lsp_names(private_ovn), BOUND, "the port in NB")
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            assert children == []
    finally:
        stop_serve(proc)
