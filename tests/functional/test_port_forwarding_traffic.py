"""Floating IP port forwarding with ovn-trace: an external TCP packet to the floating IP's
port 2222 arrives at the VM's TCP port 22, through the Load_Balancer on the gateway router
(or, in distributed-gateway-port mode, on the distributed router), in both L3 modes.

The external next hop's MAC is taught as in test_router_traffic (ovn-trace 23.03 resolves
next hops from SB MAC_Binding only).
"""

from __future__ import annotations

import pytest
from nb_state import one, wait_journal_idle
from ovn_tools import delivered_to, trace, wait_sb_synced
from starlette.testclient import TestClient
from test_router_traffic import (
    MODES,
    NEXT_HOP_MAC,
    Api,
    _ip4,
    _teach_next_hop,
    app,  # noqa: F401 (the fixture: the router tests' app, with a gateway chassis)
)

NEW = ("new", "new", "new", "new")  # a new connection at every ct_next on the way


def _inbound(provnet: str, gateway_mac: str, fip: str, proto: str, port: int) -> str:
    return (f'inport == "{provnet}" && eth.src == {NEXT_HOP_MAC} && eth.dst == {gateway_mac} '
            f'&& ip4.src == 8.8.8.8 && ip4.dst == {fip} && ip.ttl == 64 && {proto} && '
            f'{proto}.src == 40000 && {proto}.dst == {port}')


@pytest.mark.parametrize("l3_mode", MODES)
def test_external_tcp_2222_reaches_the_vm_on_22(app, private_ovn, l3_mode):  # noqa: F811
    api = Api(TestClient(app.app))
    ext = api.post("networks", {"name": "public", "router:external": True,
                                "provider:network_type": "flat",
                                "provider:physical_network": "public"})
    api.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.24.4.0/24"})
    net = api.post("networks", {"name": "net1"})
    subnet = api.post("subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": "10.0.1.0/24"})
    ssh = api.post("security-groups", {"name": "ssh"})
    api.post("security-group-rules", {"security_group_id": ssh["id"], "direction": "ingress",
                                      "ethertype": "IPv4", "protocol": "tcp",
                                      "port_range_min": 22, "port_range_max": 22})
    router = api.post("routers", {"name": "r1", "external_gateway_info": {
        "network_id": ext["id"]}})
    api.put(f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    vm = api.post("ports", {"network_id": net["id"], "security_groups": [ssh["id"]]})
    fip = api.post("floatingips", {"floating_network_id": ext["id"]})
    created = api.client.post(f"/v2.0/floatingips/{fip['id']}/port_forwardings", json={
        "port_forwarding": {"internal_port_id": vm["id"], "protocol": "tcp",
                            "internal_port": 22, "external_port": 2222}})
    assert created.status_code == 201, created.text
    pf = created.json()["port_forwarding"]
    wait_journal_idle(app)
    gateway_port = api.port(device_owner="network:router_gateway")
    _teach_next_hop(private_ovn, router["id"], gateway_port["id"], l3_mode)
    wait_sb_synced(private_ovn)

    provnet = one(app, "Logical_Switch_Port", type="localnet")["name"]
    ext_switch = f"neutron-{ext['id']}"
    address, gw_mac = fip["floating_ip_address"], gateway_port["mac_address"]
    backend = f"{_ip4(vm)}:22"

    def inbound(proto: str, port: int) -> str:
        return trace(private_ovn, ext_switch, _inbound(provnet, gw_mac, address, proto, port),
                     ct=NEW, lb_dst=backend)

    # The router's balancer sends it to the VM's address and port 22; the VM's
    # security group admits only TCP/22, so arriving proves the port was rewritten too.
    arrived = inbound("tcp", 2222)
    assert delivered_to(arrived) == {vm["id"]}
    assert f"ct_lb(backends={backend});" in arrived
    # Other ports and protocols of the floating IP lead nowhere.
    assert vm["id"] not in delivered_to(inbound("tcp", 2223))
    assert vm["id"] not in delivered_to(inbound("udp", 2222))
    assert app.sync.compare().differences == []

    # Without the forwarding the floating IP's port 2222 leads nowhere either.
    deleted = api.client.delete(f"/v2.0/floatingips/{fip['id']}/port_forwardings/{pf['id']}")
    assert deleted.status_code == 204
    wait_journal_idle(app)
    wait_sb_synced(private_ovn)
    assert vm["id"] not in delivered_to(inbound("tcp", 2222))
    assert app.sync.compare().differences == []
