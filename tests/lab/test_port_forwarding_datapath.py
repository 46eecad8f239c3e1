"""Floating IP port forwarding on real packets: from the outside world, TCP and UDP to the
floating IP's port 2222 reach the VM's port 22 through the gateway router's load balancer,
and the answers come back; ports that are not forwarded reach nothing, even where the VM
listens, and neither does 2222 once the forwarding is deleted."""

from __future__ import annotations

import subprocess
import sys
import time

from lab_cloud import LabCloud
from waiting import wait_for

from neutrino.lab.vm import in_namespace

# Tells each client its own port and the address the client came from, over UDP.
UDP_SERVER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(f"{sys.argv[1]} {peer[0]}".encode(), peer)
"""
UDP_CLIENT = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
s.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
print(s.recv(2048).decode())
"""


def _tcp_server(namespace: str, port: int) -> subprocess.Popen[bytes]:
    """The same over TCP; the caller stops it (terminate)."""
    return subprocess.Popen(["ip", "netns", "exec", namespace, "ncat", "-l", "-k", "-p",
                             str(port), "--sh-exec", f"echo {port} $NCAT_REMOTE_ADDR"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _udp_server(namespace: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", UDP_SERVER,
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _tcp(cloud: LabCloud, address: str, port: int, timeout: float = 2) -> str | None:
    """What the TCP server behind `address:port` says to the outside world, or None."""
    done = in_namespace(cloud.lab_provider_ns, "ncat", "--recv-only", "-w", str(timeout),
                        address, str(port), timeout=timeout + 10)
    return done.stdout.strip() if done.returncode == 0 else None


def _udp(cloud: LabCloud, address: str, port: int, timeout: float = 1) -> str | None:
    done = in_namespace(cloud.lab_provider_ns, sys.executable, "-c", UDP_CLIENT, address,
                        str(port), str(timeout), timeout=timeout + 10)
    return done.stdout.strip() if done.returncode == 0 else None


def test_outside_reaches_the_vm_port_22_at_the_floating_ip_port_2222(cloud: LabCloud, vms,
                                                                      servers):
    ext = cloud.post("networks", {"name": "public", "router:external": True,
                                  "provider:network_type": "flat",
                                  "provider:physical_network": cloud.lab.physical_network})
    outside = cloud.lab.provider_address.split("/")[0]
    cloud.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.24.4.0/24",
                           "gateway_ip": outside, "enable_dhcp": False,
                           "allocation_pools": [{"start": "172.24.4.10",
                                                 "end": "172.24.4.200"}]})
    net, subnet = cloud.tenant_network("pf", "10.75.0.0/24")
    router = cloud.post("routers", {"name": "pf", "external_gateway_info": {
        "network_id": ext["id"]}})
    response = cloud.api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                             json={"subnet_id": subnet["id"]})
    assert response.status_code == 200, response.text
    # The VM admits all TCP and UDP: what does not arrive was not forwarded.
    open_group = cloud.post("security-groups", {"name": "open"})
    for protocol in ("tcp", "udp"):
        cloud.post("security-group-rules", {"security_group_id": open_group["id"],
                                            "direction": "ingress", "protocol": protocol})
    port, machine = cloud.boot(net["id"], vms, security_groups=[open_group["id"]])
    for listening in (22, 2223):
        servers.append(_tcp_server(machine.namespace, listening))
        servers.append(_udp_server(machine.namespace, listening))

    fip = cloud.post("floatingips", {"floating_network_id": ext["id"]})
    address = fip["floating_ip_address"]
    forwardings = []
    for protocol in ("tcp", "udp"):
        created = cloud.api.post(f"/v2.0/floatingips/{fip['id']}/port_forwardings", json={
            "port_forwarding": {"internal_port_id": port["id"], "protocol": protocol,
                                "internal_ip_address": port["fixed_ips"][0]["ip_address"],
                                "internal_port": 22, "external_port": 2222}})
        assert created.status_code == 201, created.text
        forwardings.append(created.json()["port_forwarding"])

    # The VM's port 22 answers the outside world, which it sees as it is (no SNAT).
    wait_for(lambda: _tcp(cloud, address, 2222, timeout=1) is not None, 30, "TCP 2222 → 22")
    assert _tcp(cloud, address, 2222) == f"22 {outside}"
    wait_for(lambda: _udp(cloud, address, 2222) is not None, 20, "UDP 2222 → 22")
    assert _udp(cloud, address, 2222) == f"22 {outside}"

    # Ports not forwarded lead nowhere, though the VM listens on 22 and 2223.
    for not_forwarded in (22, 2223):
        assert _tcp(cloud, address, not_forwarded) is None
        assert _udp(cloud, address, not_forwarded) is None

    # Deleted, the forwarding leads nowhere either.
    for pf in forwardings:
        deleted = cloud.api.delete(f"/v2.0/floatingips/{fip['id']}/port_forwardings/{pf['id']}")
        assert deleted.status_code == 204, deleted.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _tcp(cloud, address, 2222, timeout=1) is not None:
        time.sleep(0.3)
    assert _tcp(cloud, address, 2222) is None
    assert _udp(cloud, address, 2222) is None
