"""`openstack sfc ...` (python-neutronclient's OSC plugin, unmodified) against a real
`neutrino serve` on an OVN of its own: the chain reaches OVN as reroute policies, a group
removed and the chain deleted take them away, and `neutrino sync` finds nothing to repair
until a policy is deleted behind neutrino's back, which it then reports and repairs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from serve_tools import start_serve, stop_serve

from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.local import LocalOvn


@dataclass(frozen=True)
class Served:
    url: str
    state: Path
    ovn: LocalOvn


@pytest.fixture()
def served(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Served]:
    url, proc = start_serve(private_ovn, tmp_path, NEUTRINO_STARTUP_SYNC="off")
    try:
        yield Served(url, tmp_path, private_ovn)
    finally:
        stop_serve(proc)


def _openstack() -> str:
    found = shutil.which("openstack") or str(Path(sys.executable).parent / "openstack")
    if not Path(found).exists():
        pytest.fail("the openstack CLI (python-openstackclient) is not installed")
    return found


def _cli(served: Served, *args: str) -> dict | list | str:
    argv = [_openstack(), "--os-auth-type", "none", "--os-endpoint", served.url, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return json.loads(done.stdout) if "json" in args else done.stdout


def _sync(served: Served, mode: str) -> dict:
    env = dict(os.environ, NEUTRINO_STATE_DIR=str(served.state), NEUTRINO_OVN_NB=served.ovn.nb,
               NEUTRINO_OVN_SB=served.ovn.sb)
    done = subprocess.run([sys.executable, "-m", "neutrino.cli", "sync", "--mode", mode,
                           "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def _policies(served: Served) -> list[dict]:
    client = NorthboundClient(served.ovn.nb)
    try:
        client.connect()
        return client.read_rows("Logical_Router_Policy")
    finally:
        client.close()


def _wait_policies(served: Served, count: int, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _policies(served)
        if len(found) == count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"expected {count} policies, found {_policies(served)}")


def _topology(served: Served) -> None:
    _cli(served, "router", "create", "r")
    for i, name in enumerate(("src", "dst", "sf1", "sf2"), start=1):
        _cli(served, "network", "create", name)
        _cli(served, "subnet", "create", "--network", name, "--subnet-range",
             f"10.8.{i}.0/24", "--no-dhcp", f"{name}-sub")
        _cli(served, "router", "add", "subnet", "r", f"{name}-sub")
    _cli(served, "port", "create", "--network", "src", "vm")
    _cli(served, "port", "create", "--network", "dst", "dest")
    for name, net in (("sf1a", "sf1"), ("sf1b", "sf1"), ("sf2", "sf2")):
        _cli(served, "port", "create", "--network", net, "--disable-port-security",
             "--no-security-group", name)


def test_openstack_sfc_cli_builds_a_chain_that_reaches_ovn_and_sync_keeps_it(served):
    _topology(served)
    for name in ("sf1a", "sf1b", "sf2"):
        pair = _cli(served, "sfc", "port", "pair", "create", "--ingress", name, "--egress",
                    name, f"pp-{name}", "-f", "json")
        assert pair["Service Function Parameters"] == {"correlation": None, "weight": 1}
    _cli(served, "sfc", "port", "pair", "group", "create", "--port-pair", "pp-sf1a",
         "--port-pair", "pp-sf1b", "g1")
    _cli(served, "sfc", "port", "pair", "group", "create", "--port-pair", "pp-sf2", "g2")
    fc = _cli(served, "sfc", "flow", "classifier", "create", "--protocol", "tcp",
              "--destination-port", "80:80", "--logical-source-port", "vm",
              "--logical-destination-port", "dest", "web", "-f", "json")
    assert fc["Protocol"] == "tcp" and fc["Destination Port Range Min"] == 80
    chain = _cli(served, "sfc", "port", "chain", "create", "--port-pair-group", "g1",
                 "--port-pair-group", "g2", "--flow-classifier", "web", "--chain-parameters",
                 "symmetric=true", "pc", "-f", "json")
    assert chain["Chain Parameters"] == {"correlation": "mpls", "symmetric": True}
    policies = _wait_policies(served, 4)  # 2 hops forward, 2 in reverse
    assert {p["external_ids"]["neutron:port_chain_id"] for p in policies} == {chain["ID"]}
    listed = _cli(served, "sfc", "port", "chain", "list", "-f", "json")
    assert [c["Name"] for c in listed] == ["pc"]

    assert _sync(served, "log")["differences"] == {}
    victim = policies[0]
    subprocess.run(["ovn-nbctl", f"--db={served.ovn.nb}", "lr-policy-del",
                    f"neutron-{_cli(served, 'router', 'show', 'r', '-f', 'json')['id']}",
                    victim["_uuid"]], check=True, timeout=30)
    found = _sync(served, "log")
    assert found["differences"] == {"missing": 1}
    assert found["items"][0]["resource_id"] == chain["ID"]
    assert _sync(served, "repair")["repaired"] == 1
    assert _sync(served, "log")["differences"] == {}
    assert len(_policies(served)) == 4

    _cli(served, "sfc", "port", "chain", "unset", "--port-pair-group", "g2", "pc")
    _wait_policies(served, 2)  # group 1 only: one hop each way
    _cli(served, "sfc", "port", "chain", "delete", "pc")
    _wait_policies(served, 0)
    for kind, name in (("port pair group", "g1"), ("port pair group", "g2"),
                       ("flow classifier", "web"), ("port pair", "pp-sf2")):
        _cli(served, "sfc", *kind.split(), "delete", name)
