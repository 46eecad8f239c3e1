"""Real packets across the Geneve tunnel between the lab's two chassis, with metadata on:
a security group's allow and deny, east-west routing, the metadata route VMs learn by DHCP
(and the localport answering it, plumbed as neutron-ovn-metadata-agent plumbs it), and a
port moved to the other chassis by Nova's live-migration bindings."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
from lab_cloud import LabCloud, lab_cloud
from test_geneve import bound_chassis
from waiting import wait_for

from neutrino.lab import hypervisor, vm
from neutrino.lab.hypervisor import run_ip

METADATA_IP = "169.254.169.254"


@pytest.fixture(scope="module")
def cloud2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCloud]:
    with lab_cloud(tmp_path_factory.mktemp("labdb2m"), hypervisors=2,
                   NEUTRINO_OVN_METADATA="true") as running:
        yield running


@pytest.fixture()
def plugged(cloud2: LabCloud) -> Iterator[list[tuple[hypervisor.Lab, str]]]:
    """(chassis, port id) of each VM the test plugs, unplugged afterwards even on failure."""
    booted: list[tuple[hypervisor.Lab, str]] = []
    yield booted
    for lab, port_id in booted:
        vm.unplug(lab, port_id)


@pytest.fixture()
def servers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def boot(cloud: LabCloud, plugged: list, network_id: str, on: hypervisor.Lab,
         **port: object) -> tuple[dict, vm.Vm]:
    booted: list[vm.Vm] = []
    try:
        return cloud.boot(network_id, booted, on=on, **port)
    finally:
        plugged.extend((on, machine.port_id) for machine in booted)


def address(port: dict) -> str:
    return port["fixed_ips"][0]["ip_address"]


def connects(client: vm.Vm, where: str, port: int, attempts: int = 10) -> bool:
    for _ in range(attempts):
        if client.connect(where, port, timeout=1) is not None:
            return True
        time.sleep(0.3)
    return False


def claimed_by(cloud: LabCloud, port_id: str) -> str | None:
    """The chassis holding the port in SB, or None while no chassis does."""
    try:
        return bound_chassis(cloud, port_id)
    except subprocess.CalledProcessError:
        return None


def lsp_options(cloud: LabCloud, port_id: str) -> dict[str, str]:
    found = [row for row in cloud.app.nb.read_rows("Logical_Switch_Port")
             if row.get("name") == port_id]
    return dict(found[0]["options"]) if found else {}


def labs(cloud: LabCloud) -> tuple[hypervisor.Lab, hypervisor.Lab]:
    return cloud.lab, hypervisor.second(cloud.lab)


def test_security_group_allows_and_denies_across_the_tunnel(cloud2, plugged, servers):
    first, other = labs(cloud2)
    net, _ = cloud2.tenant_network("sg2", "10.66.0.0/24")
    web = cloud2.post("security-groups", {"name": "ssh-only-2"})
    cloud2.post("security-group-rules", {"security_group_id": web["id"],
                                         "direction": "ingress", "protocol": "tcp",
                                         "port_range_min": 22, "port_range_max": 22})
    server_port, server = boot(cloud2, plugged, net["id"], other,
                               security_groups=[web["id"]])
    _, client = boot(cloud2, plugged, net["id"], first)
    assert bound_chassis(cloud2, server_port["id"]) == other.chassis
    servers += [vm.tcp_server(server.namespace, 22), vm.tcp_server(server.namespace, 23)]

    assert connects(client, address(server_port), 22)
    assert client.connect(address(server_port), 22) == client_address(client)
    assert not connects(client, address(server_port), 23, attempts=2)


def client_address(machine: vm.Vm) -> str:
    shown = machine.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout
    return shown.split()[3].split("/")[0]


def test_east_west_routing_between_chassis(cloud2, plugged):
    first, other = labs(cloud2)
    left, left_subnet = cloud2.tenant_network("left2", "10.67.1.0/24")
    right, right_subnet = cloud2.tenant_network("right2", "10.67.2.0/24")
    router = cloud2.post("routers", {"name": "r2"})
    for subnet in (left_subnet, right_subnet):
        response = cloud2.api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                                  json={"subnet_id": subnet["id"]})
        assert response.status_code == 200, response.text
    # both in the project's default group, which admits its own members
    a_port, a = boot(cloud2, plugged, left["id"], first)
    b_port, b = boot(cloud2, plugged, right["id"], other)
    wait_for(lambda: a.ping(address(b_port), count=1), 20, "left (hv1) reaches right (hv2)")
    assert b.ping(address(a_port))
    # routed: the reply crossed one router hop (the distributed router decrements the TTL)
    reply = a.exec("ping", "-c", "1", "-W", "1", address(b_port)).stdout
    assert "ttl=63" in reply, reply


def test_dhcp_routes_metadata_through_the_localport(cloud2, plugged, servers):
    """The VM learns 169.254.169.254/32 via the metadata port by DHCP; a namespace plugged
    as that localport on the VM's chassis, as the metadata agent plugs it, answers there."""
    first, _ = labs(cloud2)
    net, sub = cloud2.tenant_network("md2", "10.68.0.0/24")
    ports = cloud2.api.get(f"/v2.0/ports?network_id={net['id']}"
                           "&device_owner=network:distributed").json()["ports"]
    (md_port,) = ports
    md_address = address(md_port)
    _, machine = boot(cloud2, plugged, net["id"], first)
    route = machine.exec("ip", "route", "show", f"{METADATA_IP}/32").stdout
    assert f"{METADATA_IP} via {md_address} dev eth0" in route, route
    default = machine.exec("ip", "route", "show", "default").stdout
    assert f"default via {sub['gateway_ip']}" in default, default

    agent = vm.plug(first, md_port["id"], md_port["mac_address"])
    plugged.append((first, md_port["id"]))
    for cidr in (f"{md_address}/24", f"{METADATA_IP}/32"):
        run_ip("-n", agent.namespace, "addr", "add", cidr, "dev", "eth0")
    servers.append(vm.tcp_server(agent.namespace, 80))
    wait_for(lambda: machine.connect(METADATA_IP, 80, timeout=1) is not None, 20,
             "metadata address answered by the localport")
    assert machine.connect(METADATA_IP, 80) == client_address(machine)


def test_live_migration_moves_the_port_to_the_other_chassis(cloud2, plugged):
    first, other = labs(cloud2)
    net, _ = cloud2.tenant_network("mig2", "10.69.0.0/24")
    port, machine = boot(cloud2, plugged, net["id"], first, device_owner="compute:nova",
                         device_id="vm-migrating")
    _, peer = boot(cloud2, plugged, net["id"], first)
    wait_for(lambda: peer.ping(address(port), count=1), 20, "peer reaches the VM on hv1")
    base = f"/v2.0/ports/{port['id']}/bindings"

    made = cloud2.api.post(base, json={"binding": {"host": other.chassis}})
    assert made.status_code == 201, made.text
    assert (made.json()["binding"]["status"], made.json()["binding"]["vif_type"]) == (
        "INACTIVE", "ovs")
    # meanwhile OVN may claim the port on both chassis, on the new one once it hears a RARP
    both = f"{first.chassis},{other.chassis}"
    wait_for(lambda: lsp_options(cloud2, port["id"]) == {
        "requested-chassis": both, "activation-strategy": "rarp"}, 20, "both chassis in NB")
    # the VM stops at the source and starts at the destination with the same MAC
    vm.unplug(first, port["id"])
    moved = vm.plug(other, port["id"], port["mac_address"])
    plugged.append((other, port["id"]))
    activated = cloud2.api.put(f"{base}/{other.chassis}/activate")
    assert activated.status_code == 200, activated.text
    wait_for(lambda: claimed_by(cloud2, port["id"]) == other.chassis, 30,
             "port claimed by the second chassis")
    wait_for(lambda: lsp_options(cloud2, port["id"]) == {
        "requested-chassis": other.chassis}, 20, "only the new chassis in NB")
    offer = vm.dhcp(other, moved)
    assert offer["new_ip_address"] == address(port)
    wait_for(lambda: peer.ping(address(port), count=1), 20, "peer reaches the VM on hv2")
    assert moved.ping(client_address(peer))
