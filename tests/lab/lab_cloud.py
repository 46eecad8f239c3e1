"""The lab cloud the real-packet tests drive (not a test module)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from serve_tools import throwaway_ovn
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.lab import hypervisor, vm
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


@dataclass
class LabCloud:
    app: Neutrino
    api: TestClient
    lab: hypervisor.Lab

    @property
    def lab_provider_ns(self) -> str:
        return self.lab.provider_namespace

    def post(self, path: str, body: dict) -> dict:
        singular = path.replace("-", "_")[:-1]
        response = self.api.post(f"/v2.0/{path}", json={singular: body})
        assert response.status_code == 201, response.text
        return response.json()[singular]

    def tenant_network(self, name: str, cidr: str) -> tuple[dict, dict]:
        """A network with one IPv4 subnet (DHCP on)."""
        net = self.post("networks", {"name": name})
        return net, self.post("subnets", {"network_id": net["id"], "ip_version": 4,
                                          "cidr": cidr})

    def boot(self, network_id: str, booted: list[vm.Vm], on: hypervisor.Lab | None = None,
             **port: object) -> tuple[dict, vm.Vm]:
        """A port bound to the lab chassis (or chassis `on`) and a VM plugged in as it,
        addressed by DHCP; the VM joins `booted` (which the `vms` fixture unplugs) before
        anything can fail."""
        chassis = on or self.lab
        created = self.post("ports", {"network_id": network_id,
                                      "binding:host_id": chassis.chassis, **port})
        machine = vm.plug(chassis, created["id"], created["mac_address"])
        booted.append(machine)
        wait_for(lambda: self.api.get(f"/v2.0/ports/{created['id']}")
                 .json()["port"]["status"] == "ACTIVE", 30, "port ACTIVE")
        vm.dhcp(chassis, machine)
        return created, machine


@contextlib.contextmanager
def lab_cloud(state: Path, hypervisors: int = 1, **env: str) -> Iterator[LabCloud]:
    """A throwaway OVN, neutrino on it (with `env` added to its settings) and the lab
    hypervisor (or two) as its chassis; all removed afterwards."""
    lab_dir = Path(tempfile.mkdtemp(prefix="nlab", dir="/tmp"))
    with throwaway_ovn("nlo") as ovn:
        app = _neutrino(ovn, state, env)
        try:
            lab = hypervisor.up(lab_dir, ovn.sb, hypervisors=hypervisors)
            names = {lab.chassis} | ({hypervisor.second(lab).chassis} if hypervisors == 2
                                     else set())
            wait_for(lambda: names <= {c.name for c in app.sb.chassis()}, 30,
                     "lab chassis in SB")
            with TestClient(app.app) as api:
                yield LabCloud(app, api, lab)
        finally:
            for chassis_dir in (lab_dir, lab_dir / hypervisor.SECOND):
                with contextlib.suppress(Exception):  # the lab may not have come up at all
                    vm.unplug_all(hypervisor.load(chassis_dir))
            hypervisor.down(lab_dir)
            app.stop()
            shutil.rmtree(lab_dir, ignore_errors=True)


def _neutrino(ovn: LocalOvn, state: Path, env: dict[str, str]) -> Neutrino:
    app = build(load_settings({"NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb,
                               "NEUTRINO_OVN_SB": ovn.sb, "NEUTRINO_STARTUP_SYNC": "off",
                               **env}))
    app.start()
    wait_for(lambda: app.nb.connected, 20, "NB connection")
    return app
