"""`openstack network qos ...` (python-openstackclient, unmodified) against a real
`neutrino serve` on an OVN of its own: the policy, its rules and the rule types as the client
shows them, and the port's QoS rows in OVN."""

from __future__ import annotations

import json
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
    ovn: LocalOvn


@pytest.fixture()
def served(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Served]:
    url, proc = start_serve(private_ovn, tmp_path, NEUTRINO_STARTUP_SYNC="off")
    try:
        yield Served(url, private_ovn)
    finally:
        stop_serve(proc)


def _cli(served: Served, *args: str) -> dict | list | str:
    found = shutil.which("openstack") or str(Path(sys.executable).parent / "openstack")
    argv = [found, "--os-auth-type", "none", "--os-endpoint", served.url, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return json.loads(done.stdout) if "json" in args else done.stdout


def _qos_rows(served: Served, port_id: str) -> list[dict]:
    reader = NorthboundClient(served.ovn.nb)
    try:
        reader.connect()
        return [r for r in reader.read_rows("QoS")
                if r["external_ids"].get("neutron:port_id") == port_id]
    finally:
        reader.close()


def test_openstack_cli_drives_qos_into_ovn(served):
    types = _cli(served, "network", "qos", "rule", "type", "list", "-f", "json")
    assert sorted(t["Type"] for t in types) == ["bandwidth_limit", "dscp_marking"]
    policy = _cli(served, "network", "qos", "policy", "create", "gold", "--share",
                  "-f", "json")
    _cli(served, "network", "qos", "rule", "create", "--type", "bandwidth-limit",
         "--max-kbps", "3000", "--max-burst-kbits", "300", "--egress", policy["id"],
         "-f", "json")
    _cli(served, "network", "qos", "rule", "create", "--type", "dscp-marking",
         "--dscp-mark", "18", policy["id"], "-f", "json")
    shown = _cli(served, "network", "qos", "policy", "show", "gold", "-f", "json")
    assert shown["shared"] is True and len(shown["rules"]) == 2
    net = _cli(served, "network", "create", "n", "-f", "json")
    _cli(served, "subnet", "create", "s", "--network", net["id"], "--subnet-range",
         "10.82.0.0/24", "-f", "json")
    port = _cli(served, "port", "create", "p", "--network", net["id"], "--qos-policy",
                "gold", "-f", "json")
    assert port["qos_policy_id"] == policy["id"]

    deadline = time.monotonic() + 30
    while not _qos_rows(served, port["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    (row,) = _qos_rows(served, port["id"])
    assert (row["direction"], row["bandwidth"], row["action"]) == (
        "from-lport", {"rate": 3000, "burst": 300}, {"dscp": 18})
