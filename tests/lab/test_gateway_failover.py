"""A distributed gateway port's failover between the lab's two chassis, decided by OVN alone.

Both chassis say they accept gateways, so the router's HA_Chassis_Group holds both, the first
one at the higher priority; the real ovn-controllers bring BFD up between them and the
highest-priority live one claims the `cr-lrp-*` chassisredirect port. Lowering that
chassis' priority in NB (no API call, nothing of neutrino's involved) moves the port to the
other one.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from lab_cloud import LabCloud, lab_cloud
from waiting import wait_for

from neutrino.lab import hypervisor


@pytest.fixture(scope="module")
def cloud2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCloud]:
    with lab_cloud(tmp_path_factory.mktemp("labdgp"), hypervisors=2,
                   NEUTRINO_L3_MODE="distributed-gateway-port") as running:
        yield running


def _ovn(cloud: LabCloud, tool: str, *args: str) -> str:
    remote = cloud.app.settings.ovn_sb if tool == "ovn-sbctl" else cloud.app.settings.ovn_nb
    return subprocess.run([tool, f"--db={remote}", *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def _claimed_by(cloud: LabCloud, port: str) -> str:
    chassis = _ovn(cloud, "ovn-sbctl", "--bare", "--columns=chassis", "find", "Port_Binding",
                   f"logical_port={port}")
    return _ovn(cloud, "ovn-sbctl", "--bare", "--columns=name", "list", "Chassis",
                chassis) if chassis else ""


def test_lowering_the_active_chassis_priority_moves_the_chassisredirect_port(cloud2):
    first, other = cloud2.lab, hypervisor.second(cloud2.lab)
    # the second chassis accepts gateways too (as its operator would say in ovn-cms-options)
    hypervisor.vsctl(other, "set", "Open_vSwitch", ".",
                     'external_ids:"ovn-cms-options"="enable-chassis-as-gw"')
    wait_for(lambda: len([c for c in cloud2.app.sb.chassis()
                          if "enable-chassis-as-gw" in c.cms_options]) == 2, 30,
             "both chassis gateways")
    ext = cloud2.post("networks", {"name": "public", "router:external": True,
                                   "provider:network_type": "flat",
                                   "provider:physical_network": first.physical_network})
    cloud2.post("subnets", {"network_id": ext["id"], "ip_version": 4,
                            "cidr": "172.24.4.0/24", "enable_dhcp": False})
    router = cloud2.post("routers", {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}})
    gateway = cloud2.api.get("/v2.0/ports", params={
        "device_owner": "network:router_gateway"}).json()["ports"][0]
    redirect = f"cr-lrp-{gateway['id']}"
    gateways = cloud2.app.routers.list_gateways()
    assert [g["chassis"] for g in gateways] == [first.chassis]  # least-loaded, then by name

    def members() -> dict[str, dict]:
        groups = [row for row in cloud2.app.nb.read_rows("HA_Chassis_Group")
                  if row["name"] == f"neutron-{router['id']}"]
        return {row["chassis_name"]: row for row in cloud2.app.nb.read_rows("HA_Chassis")
                if groups and row["_uuid"] in groups[0]["ha_chassis"]}

    wait_for(lambda: len(members()) == 2, 20, "the HA_Chassis_Group in NB")
    assert {name: row["priority"] for name, row in members().items()} == {
        first.chassis: 2, other.chassis: 1}
    active = members()[first.chassis]["_uuid"]

    wait_for(lambda: _claimed_by(cloud2, redirect) == first.chassis, 60,
             "the chassisredirect port on the highest-priority chassis")
    # failover, OVN's own: the first chassis' priority lowered behind neutrino's back
    _ovn(cloud2, "ovn-nbctl", "set", "HA_Chassis", active, "priority=0")
    wait_for(lambda: _claimed_by(cloud2, redirect) == other.chassis, 60,
             "the chassisredirect port moved to the other chassis")
    # and back when it is restored
    _ovn(cloud2, "ovn-nbctl", "set", "HA_Chassis", active, "priority=2")
    wait_for(lambda: _claimed_by(cloud2, redirect) == first.chassis, 60,
             "the chassisredirect port back on the first chassis")
