"""`openstack network trunk ...` (python-openstackclient, unmodified) against a real
`neutrino serve`: a trunk with a VLAN subport, a subport added and one removed, and each
subport's switch port in OVN naming the parent and its VLAN."""

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
    if not Path(found).exists():
        pytest.fail("the openstack CLI (python-openstackclient) is not installed")
    argv = [found, "--os-auth-type", "none", "--os-endpoint", served.url, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return json.loads(done.stdout) if "json" in args else done.stdout


def _children(served: Served, timeout: float = 20.0) -> dict[str, tuple]:
    """Switch ports that name a parent, once two consecutive reads agree."""
    reader = NorthboundClient(served.ovn.nb)
    reader.connect()
    try:
        last, deadline = None, time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = {r["name"]: (r["parent_name"], r["tag_request"])
                    for r in reader.read_rows("Logical_Switch_Port") if r["parent_name"]}
            if rows == last:
                return rows
            last = rows
            time.sleep(0.5)
        return last or {}
    finally:
        reader.close()


def test_trunk_through_the_openstack_cli(served):
    for name in ("parents", "vlans"):
        _cli(served, "network", "create", name, "-f", "json")
    _cli(served, "subnet", "create", "--network", "parents", "--subnet-range", "10.5.0.0/24",
         "p4", "-f", "json")
    _cli(served, "subnet", "create", "--network", "vlans", "--subnet-range", "10.6.0.0/24",
         "v4", "-f", "json")
    parent = _cli(served, "port", "create", "--network", "parents", "parent", "-f", "json")
    sub1 = _cli(served, "port", "create", "--network", "vlans", "sub1", "-f", "json")
    sub2 = _cli(served, "port", "create", "--network", "vlans", "sub2", "-f", "json")
    trunk = _cli(served, "network", "trunk", "create", "--parent-port", parent["id"],
                 "--subport", f"port={sub1['id']},segmentation-type=vlan,segmentation-id=101",
                 "t1", "-f", "json")
    assert trunk["status"] == "ACTIVE"
    _cli(served, "network", "trunk", "set", "--subport",
         f"port={sub2['id']},segmentation-type=vlan,segmentation-id=102", "t1")
    subports = _cli(served, "network", "subport", "list", "--trunk", "t1", "-f", "json")
    assert sorted(s["Segmentation ID"] for s in subports) == [101, 102]
    assert _children(served) == {sub1["id"]: (parent["id"], 101),
                                 sub2["id"]: (parent["id"], 102)}

    _cli(served, "network", "trunk", "unset", "--subport", sub1["id"], "t1")
    assert _children(served) == {sub2["id"]: (parent["id"], 102)}
    _cli(served, "network", "trunk", "delete", "t1")
    assert _children(served) == {}
    assert _cli(served, "network", "trunk", "list", "-f", "json") == []
