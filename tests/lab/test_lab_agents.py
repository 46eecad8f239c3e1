"""A real ovn-controller (the lab hypervisor) seen as a Neutron agent by `neutrino serve` and by
`openstack network agent list`: alive while it runs, gone once it exits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx2 as httpx
from serve_tools import start_serve, stop_serve
from waiting import wait_for

from neutrino import daemons
from neutrino.lab import hypervisor

GATEWAY = "OVN Controller Gateway agent"


def _agents(url: str) -> dict[str, dict]:
    response = httpx.get(f"{url}/v2.0/agents", timeout=30)
    assert response.status_code == 200, response.text
    return {a["id"]: a for a in response.json()["agents"]}


def _openstack(url: str, *args: str) -> list[dict]:
    cli = shutil.which("openstack") or str(Path(sys.executable).parent / "openstack")
    done = subprocess.run([cli, "--os-auth-type", "none", "--os-endpoint", url, *args,
                           "-f", "json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_lab_chassis_is_an_alive_agent_until_it_goes_down(private_ovn, tmp_path):
    directory = Path(tempfile.mkdtemp(prefix="nla", dir="/tmp"))
    url, proc = start_serve(private_ovn, tmp_path / "serve", NEUTRINO_STARTUP_SYNC="off",
                            NEUTRINO_AGENT_DOWN_TIME="5", NEUTRINO_AGENT_PROBE_SECONDS="1")
    try:
        lab = hypervisor.up(directory, private_ovn.sb)
        # alive only once ovn-controller acknowledged one of neutrino's probes
        wait_for(lambda: _agents(url).get(lab.chassis, {}).get("alive"), 30,
                 "lab chassis alive")
        agent = _agents(url)[lab.chassis]
        assert (agent["agent_type"], agent["binary"]) == (GATEWAY, "ovn-controller")
        assert agent["configurations"]["chassis_name"] == lab.chassis
        assert agent["host"]  # the hypervisor's hostname, as ovn-controller registered it

        listed = _openstack(url, "network", "agent", "list")
        row = next(r for r in listed if r["ID"] == lab.chassis)
        assert (row["Agent Type"], row["Alive"], row["State"], row["Binary"]) == \
            (GATEWAY, True, True, "ovn-controller")
        assert row["Host"] == agent["host"]

        # a frozen ovn-controller stops acknowledging: dead after agent_down_time, and alive
        # again once it resumes
        controller = daemons.live_pid(lab.directory, hypervisor.CONTROLLER)
        assert controller is not None
        os.kill(controller, signal.SIGSTOP)
        try:
            wait_for(lambda: _agents(url)[lab.chassis]["alive"] is False, 15, "agent dead")
        finally:
            os.kill(controller, signal.SIGCONT)
        wait_for(lambda: _agents(url)[lab.chassis]["alive"], 15, "agent alive again")

        hypervisor.down(directory)
        # told to exit, ovn-controller removes its chassis from SB: the agent is gone
        wait_for(lambda: lab.chassis not in _agents(url), 30, "lab agent gone")
    finally:
        hypervisor.down(directory)
        stop_serve(proc)
        shutil.rmtree(directory, ignore_errors=True)
