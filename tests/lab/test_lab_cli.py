"""`neutrino lab up|vm|status|vm-rm|down` as a user runs them, against `neutrino serve`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx2 as httpx
from serve_tools import start_serve, stop_serve

from neutrino.lab import hypervisor, vm


def _lab(directory: Path, sb: str, *args: str, url: str = "") -> tuple[int, dict]:
    extra = ["--url", url] if url else []
    done = subprocess.run([sys.executable, "-m", "neutrino.cli", "lab", *args, "--dir",
                           str(directory), *extra], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, NEUTRINO_OVN_SB=sb))
    assert done.stdout, done.stderr[-3000:]
    return done.returncode, json.loads(done.stdout)


def test_lab_commands_boot_a_vm_by_dhcp_and_clean_up(private_ovn, tmp_path):
    directory = Path(tempfile.mkdtemp(prefix="nlc", dir="/tmp"))
    url, proc = start_serve(private_ovn, tmp_path / "serve", NEUTRINO_STARTUP_SYNC="off")
    try:
        code, up = _lab(directory, private_ovn.sb, "up")
        assert code == 0, up
        with httpx.Client(base_url=url, timeout=30) as api:
            net = api.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]
            api.post("/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                       "cidr": "10.66.0.0/24"}})
            port = api.post("/v2.0/ports", json={"port": {"network_id": net["id"]}}).json()[
                "port"]
            code, booted = _lab(directory, private_ovn.sb, "vm", port["id"], url=url)
            assert code == 0, booted
            assert booted["address"] == port["fixed_ips"][0]["ip_address"]
            bound = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
            assert bound["binding:host_id"] == up["chassis"]
        code, status = _lab(directory, private_ovn.sb, "status")
        assert code == 0 and status["vms"] == {port["id"]: booted["namespace"]}
        assert _lab(directory, private_ovn.sb, "vm-rm", port["id"])[0] == 0
        assert booted["namespace"] not in _namespaces()
    finally:
        code, down = _lab(directory, private_ovn.sb, "down")
        stop_serve(proc)
        shutil.rmtree(directory, ignore_errors=True)
    assert code == 0 and set(down["stopped"]) == set(hypervisor.COMPONENTS)
    assert up["provider_namespace"] not in _namespaces()
    assert not [n for n in _namespaces() if n.startswith(vm.names(port["id"])[0])]


def _namespaces() -> set[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}


def test_lab_up_with_two_hypervisors_and_down_removes_both(private_ovn):
    directory = Path(tempfile.mkdtemp(prefix="nlc", dir="/tmp"))
    try:
        code, up = _lab(directory, private_ovn.sb, "up", "--hypervisors", "2")
        assert code == 0 and up["second_chassis"] == "lab-hv2", up
        code, status = _lab(directory, private_ovn.sb, "status")
        assert code == 0 and status["running"]["hv2/ovn-controller"], status
        assert hypervisor.SECOND_NS in _namespaces()
    finally:
        code, down = _lab(directory, private_ovn.sb, "down")
        shutil.rmtree(directory, ignore_errors=True)
    assert code == 0 and set(down["stopped"]) == set(hypervisor.COMPONENTS) | {
        f"hv2/{name}" for name in hypervisor.COMPONENTS}
    assert not {hypervisor.SECOND_NS, up["provider_namespace"]} & _namespaces()
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                           timeout=10).stdout
    assert not [name for name in (*hypervisor.UNDERLAY_BRIDGES, *hypervisor.UNDERLAY_VETHS,
                                  hypervisor.INTEGRATION_BRIDGE, hypervisor.EXTERNAL_BRIDGE)
                if f" {name}:" in links or f" {name}@" in links]
