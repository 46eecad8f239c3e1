"""`neutrino lab ...`: the lab's operator commands, over the hypervisor and VM modules.

`vm PORT` is what Nova and the Neutron agents do for a VM, done by hand: bind the port to the
lab chassis (`binding:host_id`, through neutrino's API), plug a namespace in as the port,
and configure it by DHCP from OVN.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from neutrino import errors
from neutrino.lab import hypervisor, vm


def run(action: str, directory: Path, sb: str, url: str, port_id: str | None,
        hypervisors: int = 1, on: int = 1) -> tuple[dict[str, Any], int]:
    """The command's JSON answer and exit status; `on` picks the chassis of vm / vm-rm."""
    try:
        if action == "up":
            lab = hypervisor.up(directory, sb, hypervisors=hypervisors)
            answer = {"chassis": lab.chassis, "dir": str(lab.directory),
                      "provider_namespace": lab.provider_namespace,
                      "provider_address": lab.provider_address,
                      "physical_network": lab.physical_network}
            if hypervisors == 2:
                answer["second_chassis"] = hypervisor.second(lab).chassis
            return answer, 0
        if action == "down":
            unplugged = _unplug_all(directory) + _unplug_all(directory / hypervisor.SECOND)
            return {"unplugged": unplugged, "stopped": hypervisor.down(directory)}, 0
        if action == "status":
            state = hypervisor.status(directory)
            vms = {**_vm_names(directory), **_vm_names(directory / hypervisor.SECOND)}
            return {"running": state, "vms": vms}, 0 if all(state.values()) else 1
        lab = hypervisor.load(directory if on == 1 else directory / hypervisor.SECOND)
        assert port_id is not None
        if action == "vm-rm":
            vm.unplug(lab, port_id)
            return {"unplugged": port_id}, 0
        return _boot(lab, url, port_id), 0
    except errors.NeutrinoError as exc:
        return {"error": str(exc)}, 1


def _boot(lab: hypervisor.Lab, url: str, port_id: str) -> dict[str, Any]:
    port = _api(url, "PUT", f"/v2.0/ports/{port_id}",
                {"port": {"binding:host_id": lab.chassis}})["port"]
    machine = vm.plug(lab, port_id, port["mac_address"])
    try:
        _wait_active(url, port_id)  # as Nova waits for network-vif-plugged before booting
        offer = vm.dhcp(lab, machine)
    except errors.NeutrinoError:
        vm.unplug(lab, port_id)
        raise
    return {"port": port_id, "namespace": machine.namespace,
            "address": offer.get("new_ip_address"), "routers": offer.get("new_routers"),
            "try": f"ip netns exec {machine.namespace} ping ..."}


def _wait_active(url: str, port_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _api(url, "GET", f"/v2.0/ports/{port_id}")["port"]["status"] == "ACTIVE":
            return
        time.sleep(0.2)
    raise errors.BackendUnavailable(f"port {port_id} did not become ACTIVE in {timeout}s: is "
                                    "ovn-controller running (`neutrino lab status`)?")


def _api(url: str, method: str, path: str,
         body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}{path}", data=data,
                                     method=method,
                                     headers={"Content-Type": "application/json"})
    if os.environ.get("OS_TOKEN"):
        request.add_header("X-Auth-Token", os.environ["OS_TOKEN"])
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our API
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise errors.BadRequest(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc
    except OSError as exc:
        raise errors.BackendUnavailable(f"neutrino at {url} is unreachable: {exc}") from exc


def _unplug_all(directory: Path) -> list[str]:
    try:
        return vm.unplug_all(hypervisor.load(directory))
    except errors.NeutrinoError:
        return []


def _vm_names(directory: Path) -> dict[str, str]:
    try:
        return {m.port_id: m.namespace for m in vm.plugged(hypervisor.load(directory))}
    except errors.NeutrinoError:
        return {}
