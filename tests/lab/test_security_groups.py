"""Security groups on real packets: what a rule admits connects, the rest does not."""

from __future__ import annotations

import time

from lab_cloud import LabCloud

from neutrino.lab.vm import tcp_server


def _rule(cloud: LabCloud, group: dict, **rule) -> dict:
    return cloud.post("security-group-rules", {"security_group_id": group["id"],
                                               "direction": "ingress", "ethertype": "IPv4",
                                               **rule})


def _connects(client, address: str, port: int, attempts: int = 10) -> bool:
    """Whether a new connection gets through; a few tries, as ACLs take a moment to land."""
    for _ in range(attempts):
        if client.connect(address, port, timeout=1) is not None:
            return True
        time.sleep(0.3)
    return False


def test_rules_admit_exactly_what_they_say(cloud: LabCloud, vms, servers):
    net, _ = cloud.tenant_network("sg", "10.62.0.0/24")
    web = cloud.post("security-groups", {"name": "ssh-only"})
    ssh = _rule(cloud, web, protocol="tcp", port_range_min=22, port_range_max=22)
    _rule(cloud, web, protocol="icmp")
    server_port, server = cloud.boot(net["id"], vms, security_groups=[web["id"]])
    _, client = cloud.boot(net["id"], vms)
    address = server_port["fixed_ips"][0]["ip_address"]
    servers += [tcp_server(server.namespace, 22), tcp_server(server.namespace, 23)]

    assert _connects(client, address, 22)
    assert not _connects(client, address, 23, attempts=2)

    # Removing the rule cuts new connections.
    assert cloud.api.delete(f"/v2.0/security-group-rules/{ssh['id']}").status_code == 204
    assert _waits_until_refused(client, address, 22)

    # Port security off passes everything.
    response = cloud.api.put(f"/v2.0/ports/{server_port['id']}", json={"port": {
        "security_groups": [], "port_security_enabled": False}})
    assert response.status_code == 200, response.text
    assert _connects(client, address, 23)


def test_a_remote_group_rule_admits_only_members(cloud: LabCloud, vms, servers):
    net, _ = cloud.tenant_network("remote", "10.63.0.0/24")
    members = cloud.post("security-groups", {"name": "members"})
    guarded = cloud.post("security-groups", {"name": "guarded"})
    _rule(cloud, guarded, protocol="tcp", port_range_min=80, port_range_max=80,
          remote_group_id=members["id"])
    server_port, server = cloud.boot(net["id"], vms, security_groups=[guarded["id"]])
    _, member = cloud.boot(net["id"], vms, security_groups=[members["id"]])
    _, stranger = cloud.boot(net["id"], vms)
    address = server_port["fixed_ips"][0]["ip_address"]
    servers.append(tcp_server(server.namespace, 80))

    assert _connects(member, address, 80)
    assert not _connects(stranger, address, 80, attempts=2)


def _waits_until_refused(client, address: str, port: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.connect(address, port, timeout=1) is None:
            return True
        time.sleep(0.3)
    return False
