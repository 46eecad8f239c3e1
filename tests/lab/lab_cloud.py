"""The lab cloud the real-packet tests drive (not a test module)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino
from neutrino.lab import hypervisor, vm


@dataclass
class LabCloud:
    app: Neutrino
    api: TestClient
    lab: hypervisor.Lab

    @property
    def lab_provider_ns(self) -> str:
        return hypervisor.PROVIDER_NS

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

    def boot(self, network_id: str, booted: list[vm.Vm], **port: object) -> tuple[dict, vm.Vm]:
        """A port bound to the lab chassis and a VM plugged in as it, addressed by DHCP;
        the VM joins `booted` (which the `vms` fixture unplugs) before anything can fail."""
        created = self.post("ports", {"network_id": network_id,
                                      "binding:host_id": self.lab.chassis, **port})
        machine = vm.plug(self.lab, created["id"], created["mac_address"])
        booted.append(machine)
        wait_for(lambda: self.api.get(f"/v2.0/ports/{created['id']}")
                 .json()["port"]["status"] == "ACTIVE", 30, "port ACTIVE")
        vm.dhcp(self.lab, machine)
        return created, machine
