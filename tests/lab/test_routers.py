"""Routers on real packets: east-west between subnets, SNAT to the outside world through the
gateway router (or, in `distributed-gateway-port` mode, the distributed gateway port the lab
chassis claims), and a floating IP reachable from outside until it is disassociated."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
from lab_cloud import LabCloud, lab_cloud
from waiting import wait_for

from neutrino.lab.vm import in_namespace, tcp_server


@pytest.fixture(scope="module", params=("gateway-router", "distributed-gateway-port"))
def cloud(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCloud]:
    """The lab cloud in each L3 mode, one after the other (the lab's devices are fixed)."""
    with lab_cloud(tmp_path_factory.mktemp("labdb"), NEUTRINO_L3_MODE=request.param) as running:
        yield running


def _sb(cloud: LabCloud, *args: str) -> str:
    return subprocess.run(["ovn-sbctl", f"--db={cloud.app.settings.ovn_sb}", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def _chassisredirect_host(cloud: LabCloud, gateway_port_id: str) -> str:
    """Which chassis claimed the gateway port's chassisredirect port ("" while none)."""
    chassis = _sb(cloud, "--bare", "--columns=chassis", "find", "Port_Binding",
                  f"logical_port=cr-lrp-{gateway_port_id}")
    return _sb(cloud, "--bare", "--columns=name", "list", "Chassis", chassis) if chassis else ""


def _outside_pings(cloud: LabCloud, address: str) -> bool:
    return in_namespace(cloud.lab_provider_ns, "ping", "-c", "2", "-W", "1", "-i", "0.2",
                        address).returncode == 0


def test_east_west_snat_and_floating_ip(cloud: LabCloud, vms, servers):
    physnet = cloud.lab.physical_network
    ext = cloud.post("networks", {"name": "public", "router:external": True,
                                  "provider:network_type": "flat",
                                  "provider:physical_network": physnet})
    outside = cloud.lab.provider_address.split("/")[0]
    cloud.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.24.4.0/24",
                           "gateway_ip": outside, "enable_dhcp": False,
                           "allocation_pools": [{"start": "172.24.4.10",
                                                 "end": "172.24.4.200"}]})
    left, left_subnet = cloud.tenant_network("left", "10.64.1.0/24")
    right, right_subnet = cloud.tenant_network("right", "10.64.2.0/24")
    router = cloud.post("routers", {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}})
    for subnet in (left_subnet, right_subnet):
        response = cloud.api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                                 json={"subnet_id": subnet["id"]})
        assert response.status_code == 200, response.text
    gateway_ip = cloud.api.get(f"/v2.0/routers/{router['id']}").json()["router"][
        "external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    if cloud.app.settings.l3_mode == "distributed-gateway-port":
        # the lab's ovn-controller claims the chassisredirect port of the gateway port
        gateway_port = cloud.api.get("/v2.0/ports", params={
            "device_owner": "network:router_gateway"}).json()["ports"][0]
        wait_for(lambda: _chassisredirect_host(cloud, gateway_port["id"]) == cloud.lab.chassis,
                 30, "chassisredirect port bound to the lab chassis")

    # Ping from outside must be admitted: the default group only admits its own members.
    pingable = cloud.post("security-groups", {"name": "pingable"})
    cloud.post("security-group-rules", {"security_group_id": pingable["id"],
                                        "direction": "ingress", "protocol": "icmp"})
    a_port, a = cloud.boot(left["id"], vms, security_groups=[pingable["id"]])
    b_port, b = cloud.boot(right["id"], vms, security_groups=[pingable["id"]])
    a_address = a_port["fixed_ips"][0]["ip_address"]
    b_address = b_port["fixed_ips"][0]["ip_address"]

    # East-west across the distributed router.
    wait_for(lambda: a.ping(b_address, count=1), 20, "left reaches right")
    assert b.ping(a_address)

    # SNAT: the outside world sees the router's gateway address, not the VM's.
    servers.append(tcp_server(cloud.lab_provider_ns, 8080))
    wait_for(lambda: a.connect(outside, 8080, timeout=1) is not None, 20, "SNAT to outside")
    assert a.connect(outside, 8080) == gateway_ip

    # A floating IP is reachable from outside, and the VM leaves through it...
    fip = cloud.post("floatingips", {"floating_network_id": ext["id"],
                                     "port_id": b_port["id"]})
    wait_for(lambda: _outside_pings(cloud, fip["floating_ip_address"]), 20,
             "floating IP reachable from outside")
    assert b.connect(outside, 8080) == fip["floating_ip_address"]
    # ...until it is disassociated.
    response = cloud.api.put(f"/v2.0/floatingips/{fip['id']}", json={"floatingip": {
        "port_id": None}})
    assert response.status_code == 200, response.text
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _outside_pings(cloud, fip["floating_ip_address"]):
        time.sleep(0.3)
    assert not _outside_pings(cloud, fip["floating_ip_address"])
