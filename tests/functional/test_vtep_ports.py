"""Ports bound to a hardware VTEP by binding:profile, proven with a VTEP database and
ovn-controller-vtep: the port becomes a `vtep` switch port that the physical switch claims."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import wait_journal_idle
from ovn_tools import nbctl, sbctl
from starlette.testclient import TestClient
from vtep_tools import Vtep, vtep_switch
from waiting import wait_for

from neutrino.bootstrap import Neutrino
from neutrino.ovn.local import LocalOvn

PROFILE = {"vtep-physical-switch": "ps1", "vtep-logical-switch": "lsw1"}


@pytest.fixture()
def api(private_app: Neutrino) -> Iterator[TestClient]:
    with TestClient(private_app.app) as client:
        yield client


@pytest.fixture()
def vtep(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Vtep]:
    with vtep_switch(tmp_path / "vtep", private_ovn, "ps1", ("p0",), "192.0.2.10") as switch:
        yield switch


def _network_with_subnet(api: TestClient) -> str:
    net = api.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]["id"]
    created = api.post("/v2.0/subnets", json={"subnet": {
        "network_id": net, "cidr": "10.9.0.0/24", "ip_version": 4}})
    assert created.status_code == 201, created.text
    return net


def _lsp(ovn: LocalOvn, port_id: str, column: str) -> str:
    return nbctl(ovn, "--bare", f"--columns={column}", "find", "Logical_Switch_Port",
                 f"name={port_id}").strip()


def test_vtep_port_is_claimed_by_the_physical_switch(
        private_app: Neutrino, private_ovn: LocalOvn, api: TestClient, vtep: Vtep) -> None:
    vtep.ctl("add-ls", "lsw1")
    vtep.ctl("bind-ls", "ps1", "p0", "100", "lsw1")
    wait_for(lambda: "ps1" in sbctl(private_ovn, "--bare", "--columns=name", "list",
                                    "Chassis"), 20, "the physical switch as an SB chassis")
    net = _network_with_subnet(api)
    created = api.post("/v2.0/ports", json={"port": {"network_id": net,
                                                     "binding:profile": PROFILE}})
    assert created.status_code == 201, created.text
    port = created.json()["port"]
    assert port["fixed_ips"] == []
    wait_journal_idle(private_app)
    assert _lsp(private_ovn, port["id"], "type") == "vtep"
    assert _lsp(private_ovn, port["id"], "addresses") == "unknown"
    options = _lsp(private_ovn, port["id"], "options")
    assert "vtep-logical-switch=lsw1" in options and "vtep-physical-switch=ps1" in options

    def bound_chassis() -> str:
        chassis = sbctl(private_ovn, "--bare", "--columns=chassis", "find", "Port_Binding",
                        f"logical_port={port['id']}").strip()
        return sbctl(private_ovn, "--bare", "--columns=name", "list", "Chassis",
                     chassis).strip() if chassis else ""

    wait_for(lambda: bound_chassis() == "ps1", 20, "the port bound on the physical switch")


@pytest.mark.parametrize("profile", [
    {"vtep-physical-switch": "ps1"},
    {"vtep-logical-switch": "lsw1"},
    {"vtep-physical-switch": "ps1", "vtep-logical-switch": ""},
    {"vtep-physical-switch": 5, "vtep-logical-switch": "lsw1"},
])
def test_half_a_vtep_profile_is_refused(api: TestClient, profile: dict) -> None:
    net = _network_with_subnet(api)
    created = api.post("/v2.0/ports", json={"port": {"network_id": net,
                                                     "binding:profile": profile}})
    assert created.status_code == 400, created.text
    assert created.json()["NeutronError"]["type"] == "InvalidInput"
    port = api.post("/v2.0/ports", json={"port": {"network_id": net}}).json()["port"]
    updated = api.put(f"/v2.0/ports/{port['id']}", json={"port": {"binding:profile": profile}})
    assert updated.status_code == 400, updated.text
    assert api.get(f"/v2.0/ports/{port['id']}").json()["port"] == port  # nothing changed


def test_a_vtep_port_keeps_no_fixed_ips(api: TestClient) -> None:
    net = _network_with_subnet(api)
    asked = api.post("/v2.0/ports", json={"port": {
        "network_id": net, "binding:profile": PROFILE, "fixed_ips": [{"ip_address": "10.9.0.7"}]}})
    assert asked.status_code == 400, asked.text
    port = api.post("/v2.0/ports", json={"port": {"network_id": net}}).json()["port"]
    assert port["fixed_ips"]
    updated = api.put(f"/v2.0/ports/{port['id']}", json={"port": {"binding:profile": PROFILE}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["port"]["fixed_ips"] == []
    again = api.post("/v2.0/ports", json={"port": {
        "network_id": net, "fixed_ips": [{"ip_address": port["fixed_ips"][0]["ip_address"]}]}})
    assert again.status_code == 201, again.text  # the address was given back

