"""The local OVN runner (neutrino.ovn.local) and the ovn-trace helpers, against real OVN."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ovn_tools import delivered_to, nbctl, sbctl, trace, trace_outcome, wait_sb_synced

from neutrino.errors import BackendUnavailable
from neutrino.ovn.local import (
    COMPONENTS,
    LocalOvn,
    SocketPathTooLong,
    connection_strings,
    down,
    status,
    up,
    wipe_nb,
)

pytestmark = pytest.mark.functional


@pytest.fixture
def ovn_dir() -> Iterator[Path]:
    """A private directory for tests that stop or break their OVN; cleaned up whatever happens."""
    directory = Path(tempfile.mkdtemp(prefix="nov", dir="/tmp"))
    try:
        yield directory
    finally:
        down(directory)
        shutil.rmtree(directory, ignore_errors=True)


def pids(directory: Path) -> dict[str, int]:
    return {name: int((directory / f"{name}.pid").read_text()) for name in COMPONENTS}


def running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie (detached daemons are reaped late here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_until_gone(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while running(pid):
        assert time.monotonic() < deadline, f"pid {pid} still running"
        time.sleep(0.05)


# --- up / down / status ----------------------------------------------------------------


def test_up_starts_nb_sb_and_northd(local_ovn: LocalOvn) -> None:
    assert status(local_ovn.directory) == {"ovnnb_db": True, "ovnsb_db": True, "ovn-northd": True}
    assert local_ovn.nb == f"unix:{local_ovn.directory}/ovnnb_db.sock"
    assert local_ovn.sb == f"unix:{local_ovn.directory}/ovnsb_db.sock"
    nbctl(local_ovn, "show")
    sbctl(local_ovn, "show")
    for pid in pids(local_ovn.directory).values():
        assert running(pid)


def test_northd_translates_nb_into_sb(local_ovn: LocalOvn) -> None:
    name = f"ls-{uuid.uuid4().hex[:8]}"
    nbctl(local_ovn, "ls-add", name)
    try:
        wait_sb_synced(local_ovn)
        assert name in sbctl(local_ovn, "--columns=external_ids", "list", "Datapath_Binding")
    finally:
        nbctl(local_ovn, "ls-del", name)


def test_up_twice_is_idempotent(ovn_dir: Path) -> None:
    first = up(ovn_dir)
    before = pids(ovn_dir)
    second = up(ovn_dir)
    assert second == first
    assert pids(ovn_dir) == before
    assert all(status(ovn_dir).values())


def test_up_restarts_only_what_is_missing(ovn_dir: Path) -> None:
    up(ovn_dir)
    before = pids(ovn_dir)
    os.kill(before["ovn-northd"], signal.SIGKILL)  # leaves a stale pidfile, as a crash would
    wait_until_gone(before["ovn-northd"])
    assert (ovn_dir / "ovn-northd.pid").exists()
    assert status(ovn_dir)["ovn-northd"] is False
    ovn = up(ovn_dir)
    after = pids(ovn_dir)
    assert after["ovnnb_db"] == before["ovnnb_db"]
    assert after["ovnsb_db"] == before["ovnsb_db"]
    assert after["ovn-northd"] != before["ovn-northd"]
    wait_sb_synced(ovn)


def test_down_stops_exactly_what_up_started(ovn_dir: Path) -> None:
    up(ovn_dir)
    started = pids(ovn_dir)
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        assert sorted(down(ovn_dir)) == sorted(COMPONENTS)
        for name, pid in started.items():
            assert not running(pid), name
            assert not (ovn_dir / f"{name}.pid").exists()
        assert status(ovn_dir) == dict.fromkeys(COMPONENTS, False)
        assert bystander.poll() is None
        assert down(ovn_dir) == []
    finally:
        bystander.kill()
        bystander.wait()


def test_down_ignores_a_pidfile_naming_a_foreign_process(ovn_dir: Path) -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        (ovn_dir / "ovnnb_db.pid").write_text(f"{bystander.pid}\n")
        assert status(ovn_dir)["ovnnb_db"] is False
        assert down(ovn_dir) == []
        assert bystander.poll() is None
        assert not (ovn_dir / "ovnnb_db.pid").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_relative_directory_gives_absolute_connection_strings(
    ovn_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ovn_dir.parent)
    ovn = up(Path(ovn_dir.name))
    assert ovn.directory == ovn_dir.resolve()
    assert ovn.nb == f"unix:{ovn_dir.resolve()}/ovnnb_db.sock"
    nbctl(ovn, "show")


def test_connection_strings_start_nothing(ovn_dir: Path) -> None:
    ovn = connection_strings(ovn_dir / "later")
    assert ovn.sb == f"unix:{ovn_dir.resolve()}/later/ovnsb_db.sock"
    assert not (ovn_dir / "later").exists()


def test_too_long_directory_is_refused() -> None:
    deep = Path("/tmp") / ("d" * 100)
    with pytest.raises(SocketPathTooLong, match="too long"):
        up(deep)
    assert isinstance(SocketPathTooLong("x"), ValueError)
    assert not deep.exists()


def test_failed_start_reports_the_log(ovn_dir: Path) -> None:
    (ovn_dir / "ovnnb_db.db").write_text("not an ovsdb file\n")
    with pytest.raises(BackendUnavailable, match="ovnnb_db"):
        up(ovn_dir)


def test_up_converts_a_database_with_an_older_schema(ovn_dir: Path) -> None:
    schema = json.loads(Path("/usr/share/ovn/ovn-nb.ovsschema").read_text())
    current = schema["version"]
    schema["version"] = "1.0.0"
    del schema["tables"]["NB_Global"]["columns"]["ipsec"]
    old_schema = ovn_dir / "old-nb.ovsschema"
    old_schema.write_text(json.dumps(schema))
    db = ovn_dir / "ovnnb_db.db"
    subprocess.run(["ovsdb-tool", "create", str(db), str(old_schema)], check=True)

    ovn = up(ovn_dir)

    version = subprocess.run(
        ["ovsdb-tool", "db-version", str(db)], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert version == current
    nbctl(ovn, "--columns=ipsec", "list", "NB_Global")  # unknown column before conversion


def test_wipe_nb_empties_nb_and_northd_follows(ovn_dir: Path) -> None:
    ovn = up(ovn_dir)
    nbctl(ovn, "ls-add", "doomed")
    wait_sb_synced(ovn)
    assert "doomed" in sbctl(ovn, "--columns=external_ids", "list", "Datapath_Binding")
    northd = pids(ovn_dir)["ovn-northd"]

    wipe_nb(ovn_dir)

    assert nbctl(ovn, "ls-list") == ""
    assert pids(ovn_dir)["ovn-northd"] == northd
    wait_sb_synced(ovn, timeout=30)  # northd must reconnect first (reconnect backoff)
    assert "doomed" not in sbctl(ovn, "--columns=external_ids", "list", "Datapath_Binding")


# --- ovn-trace ---------------------------------------------------------------------------

MAC1, IP1 = "fa:16:3e:00:00:01", "10.0.0.1"
MAC2, IP2 = "fa:16:3e:00:00:02", "10.0.0.2"


@pytest.fixture
def two_ports(local_ovn: LocalOvn) -> Iterator[tuple[str, str, str]]:
    """A switch with ports p1 and p2, both with port security; names unique per test."""
    tag = uuid.uuid4().hex[:8]
    switch, p1, p2 = f"ls-{tag}", f"p1-{tag}", f"p2-{tag}"
    nbctl(local_ovn, "ls-add", switch)
    for port, mac, ip in ((p1, MAC1, IP1), (p2, MAC2, IP2)):
        nbctl(
            local_ovn,
            "lsp-add", switch, port,
            "--", "lsp-set-addresses", port, f"{mac} {ip}",
            "--", "lsp-set-port-security", port, f"{mac} {ip}",
        )  # fmt: skip
    wait_sb_synced(local_ovn)
    try:
        yield switch, p1, p2
    finally:
        nbctl(local_ovn, "ls-del", switch)


def ip4_from(port: str, eth_src: str, ip4_src: str) -> str:
    return (
        f'inport == "{port}" && eth.src == {eth_src} && eth.dst == {MAC2} && '
        f"ip4.src == {ip4_src} && ip4.dst == {IP2} && ip.ttl == 64"
    )


def test_trace_delivers_legitimate_packet(local_ovn: LocalOvn, two_ports) -> None:
    switch, p1, p2 = two_ports
    output = trace(local_ovn, switch, ip4_from(p1, MAC1, IP1))
    assert delivered_to(output) == {p2}, output
    assert trace_outcome(output).reaches(p2)


def test_trace_drops_spoofed_ip_source(local_ovn: LocalOvn, two_ports) -> None:
    switch, p1, p2 = two_ports
    output = trace(local_ovn, switch, ip4_from(p1, MAC1, "10.0.0.99"))
    assert delivered_to(output) == set(), output
    outcome = trace_outcome(output)
    assert outcome.dropped and not outcome.reaches(p2)
    assert "drop;" in output


def test_trace_drops_spoofed_mac_source(local_ovn: LocalOvn, two_ports) -> None:
    switch, p1, _ = two_ports
    output = trace(local_ovn, switch, ip4_from(p1, "fa:16:3e:00:00:99", IP1))
    assert delivered_to(output) == set(), output


def test_trace_reports_full_uuid_port_names(local_ovn: LocalOvn, two_ports) -> None:
    switch, p1, _ = two_ports
    port = str(uuid.uuid4())
    mac, ip = "fa:16:3e:00:00:03", "10.0.0.3"
    nbctl(local_ovn, "lsp-add", switch, port, "--", "lsp-set-addresses", port, f"{mac} {ip}")
    wait_sb_synced(local_ovn)
    flow = (
        f'inport == "{p1}" && eth.src == {MAC1} && eth.dst == {mac} && '
        f"ip4.src == {IP1} && ip4.dst == {ip} && ip.ttl == 64"
    )
    assert delivered_to(trace(local_ovn, switch, flow)) == {port}


def test_trace_rejects_unknown_datapath(local_ovn: LocalOvn) -> None:
    with pytest.raises(ValueError, match="unknown datapath"):
        trace(local_ovn, "no-such-switch", "ip4")


# --- trace parsing, on recorded ovn-trace 23.03 output -------------------------------------

ROUTED_SUMMARY = """\
# ip,reg14=0x1,vlan_tci=0x0000,dl_src=fa:16:3e:00:00:01,dl_dst=fa:16:3e:00:00:ff
ingress(dp="sw", inport="p1") {
    outport = "sw-r1";
    output;
    egress(dp="sw", inport="p1", outport="sw-r1") {
        output;
        /* output to "sw-r1", type "patch" */;
        ingress(dp="r1", inport="r1-sw") {
            outport = "r1-sw2";
            output;
            egress(dp="r1", inport="r1-sw", outport="r1-sw2") {
                output;
                /* output to "r1-sw2", type "patch" */;
                ingress(dp="sw2", inport="sw2-r1") {
                    outport = "q1";
                    output;
                    egress(dp="sw2", inport="sw2-r1", outport="q1") {
                        output;
                        /* output to "q1", type "" */;
                    };
                };
            };
        };
    };
};
"""

FLOOD_MINIMAL = """\
# ip,reg14=0x1,vlan_tci=0x0000,dl_src=fa:16:3e:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff
# Summary trace.
ingress(dp="sw", inport="p1") {
    outport = "_MC_flood";
    output;
};
# Minimal trace.
output("p2");
output("p3");
"""


def test_delivered_to_skips_patch_hops_in_summary_format() -> None:
    assert delivered_to(ROUTED_SUMMARY) == {"q1"}


def test_delivered_to_reads_the_minimal_section() -> None:
    assert delivered_to(FLOOD_MINIMAL) == {"p2", "p3"}
    dropped = FLOOD_MINIMAL.split("# Minimal trace.\n")[0] + "# Minimal trace.\n"
    assert delivered_to(dropped) == set()
