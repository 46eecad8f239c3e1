"""Routing, SNAT and floating IPs through the distributed and gateway routers, with ovn-trace,
in both L3 modes (a gateway router per router, or ML2/OVN's distributed gateway port).

The external next hop's MAC is made known the way a real network teaches it: a
Static_MAC_Binding in NB, and the MAC_Binding ovn-controller would learn by ARP in SB (ovn-trace
23.03 resolves next hops from SB MAC_Binding only).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import one, rows, wait_journal_idle
from ovn_tools import delivered_to, nbctl, sbctl, trace, wait_sb_synced
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

NEXT_HOP_MAC = "00:00:5e:00:01:01"


_encaps = iter(range(1, 250))


def add_chassis(ovn: LocalOvn, name: str, cms: str = "enable-chassis-as-gw") -> None:
    """A chassis record only (no ovn-controller); its tunnel address must be unique."""
    sbctl(ovn, "chassis-add", name, "geneve", f"127.0.1.{next(_encaps)}")
    if cms:
        sbctl(ovn, "set", "Chassis", name, f"other_config:ovn-cms-options={cms}")


MODES = ("gateway-router", "distributed-gateway-port")


@pytest.fixture()
def l3_mode() -> str:
    return "gateway-router"


@pytest.fixture()
def app(private_ovn: LocalOvn, tmp_path: Path, l3_mode: str) -> Iterator[Neutrino]:
    add_chassis(private_ovn, "gw1")
    neutrino = build(load_settings({"NEUTRINO_STATE_DIR": str(tmp_path),
                                    "NEUTRINO_OVN_NB": private_ovn.nb,
                                    "NEUTRINO_OVN_SB": private_ovn.sb,
                                    "NEUTRINO_L3_MODE": l3_mode}))
    neutrino.start()
    deadline = time.monotonic() + 20
    while not (neutrino.nb.connected and neutrino.sb.connected) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield neutrino
    finally:
        neutrino.stop()


class Api:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(self, path: str, body: dict) -> dict:
        singular = path.replace("-", "_")[:-1]
        response = self.client.post(f"/v2.0/{path}", json={singular: body})
        assert response.status_code == 201, response.text
        return response.json()[singular]

    def put(self, path: str, body: dict) -> dict:
        response = self.client.put(f"/v2.0/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def port(self, **filters: str) -> dict:
        found = self.client.get("/v2.0/ports", params=filters).json()["ports"]
        assert len(found) == 1, found
        return found[0]


def _ip4(port: dict) -> str:
    return next(ip["ip_address"] for ip in port["fixed_ips"] if "." in ip["ip_address"])


def _from_vm(vm: dict, router_mac: str, dst: str, src: str | None = None) -> str:
    return (f'inport == "{vm["id"]}" && eth.src == {vm["mac_address"]} && '
            f'eth.dst == {router_mac} && ip4.src == {src or _ip4(vm)} && ip4.dst == {dst} && '
            'ip.ttl == 64 && icmp4 && icmp4.type == 8 && icmp4.code == 0')


def _minimal(output: str) -> str:
    return output.split("# Minimal trace.", 1)[1]


@pytest.mark.parametrize("l3_mode", MODES)
def test_routing_snat_and_floating_ips(app, private_ovn, l3_mode):
    api = Api(TestClient(app.app))
    ext = api.post("networks", {"name": "public", "router:external": True,
                                "provider:network_type": "flat",
                                "provider:physical_network": "public"})
    api.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.24.4.0/24"})
    net1 = api.post("networks", {"name": "net1"})
    s1a = api.post("subnets", {"network_id": net1["id"], "ip_version": 4, "cidr": "10.0.1.0/24"})
    s1b = api.post("subnets", {"network_id": net1["id"], "ip_version": 4, "cidr": "10.0.3.0/24"})
    net2 = api.post("networks", {"name": "net2"})
    s2 = api.post("subnets", {"network_id": net2["id"], "ip_version": 4, "cidr": "10.0.2.0/24"})
    open_group = api.post("security-groups", {"name": "open"})
    api.post("security-group-rules", {"security_group_id": open_group["id"],
                                      "direction": "ingress", "ethertype": "IPv4"})
    router = api.post("routers", {"name": "r1", "external_gateway_info": {
        "network_id": ext["id"]}})
    s1v6 = api.post("subnets", {"network_id": net1["id"], "ip_version": 6,
                                "cidr": "fd00:1::/64", "ipv6_ra_mode": "dhcpv6-stateful",
                                "ipv6_address_mode": "dhcpv6-stateful"})
    # net1 joins through one port holding an IPv4 and an IPv6 subnet: one router port, two
    # networks; its second IPv4 subnet gets a router port of its own (Neutron allows one
    # IPv4 subnet per router port)
    two_subnets = api.post("ports", {"network_id": net1["id"], "fixed_ips": [
        {"subnet_id": s1a["id"], "ip_address": "10.0.1.1"},
        {"subnet_id": s1v6["id"], "ip_address": "fd00:1::1"}]})
    api.put(f"routers/{router['id']}/add_router_interface", {"port_id": two_subnets["id"]})
    api.put(f"routers/{router['id']}/add_router_interface", {"subnet_id": s1b["id"]})
    api.put(f"routers/{router['id']}/add_router_interface", {"subnet_id": s2["id"]})

    def vm(net: dict, subnet: dict) -> dict:
        return api.post("ports", {"network_id": net["id"], "security_groups": [open_group["id"]],
                                  "fixed_ips": [{"subnet_id": subnet["id"]}]})

    vm1, vm3, vm2 = vm(net1, s1a), vm(net1, s1b), vm(net2, s2)
    fip = api.post("floatingips", {"floating_network_id": ext["id"], "port_id": vm2["id"]})
    assert fip["router_id"] == router["id"] and fip["status"] == "ACTIVE"
    wait_journal_idle(app)

    gateway_port = api.port(device_owner="network:router_gateway")
    gateway_ip = _ip4(gateway_port)
    if l3_mode == "gateway-router":
        gateway_router = one(app, "Logical_Router", name=f"neutron-gw-{router['id']}")
        assert gateway_router["options"] == {"chassis": "gw1"}
    else:  # the gateway port on the distributed router, its group holding gw1
        assert not rows(app, "Logical_Router", name=f"neutron-gw-{router['id']}")
        group = one(app, "HA_Chassis_Group", name=f"neutron-{router['id']}")
        assert [row["chassis_name"] for row in rows(app, "HA_Chassis")
                if row["_uuid"] in group["ha_chassis"]] == ["gw1"]
    assert api.client.get(f"/v2.0/routers/{router['id']}").json()["router"]["status"] == \
        "ACTIVE"
    lrp = one(app, "Logical_Router_Port", name=f"lrp-{two_subnets['id']}")
    assert sorted(lrp["networks"]) == ["10.0.1.1/24", "fd00:1::1/64"]
    _teach_next_hop(private_ovn, router["id"], gateway_port["id"], l3_mode)
    wait_sb_synced(private_ovn)

    r1_on_net1 = two_subnets["mac_address"]
    r1_on_s1b = api.port(device_owner="network:router_interface",
                         fixed_ips=f"subnet_id={s1b['id']}")["mac_address"]
    r1_on_net2 = api.port(device_owner="network:router_interface",
                          network_id=net2["id"])["mac_address"]
    switch1, switch2 = f"neutron-{net1['id']}", f"neutron-{net2['id']}"

    # East-west through the distributed router: TTL decremented, MACs rewritten.
    east_west = trace(private_ovn, switch1, _from_vm(vm1, r1_on_net1, _ip4(vm2)))
    assert delivered_to(east_west) == {vm2["id"]}
    assert "ip.ttl--;" in _minimal(east_west)
    assert f"eth.src = {r1_on_net2};" in _minimal(east_west)
    assert f"eth.dst = {vm2['mac_address']};" in _minimal(east_west)
    # The network's second IPv4 subnet is routed through its own router port.
    assert delivered_to(trace(private_ovn, switch1, _from_vm(vm3, r1_on_s1b, _ip4(vm2)))) \
        == {vm2["id"]}

    # A VM without a floating IP goes out with the router's gateway address.
    provnet = one(app, "Logical_Switch_Port", type="localnet")["name"]
    out = trace(private_ovn, switch1, _from_vm(vm1, r1_on_net1, "8.8.8.8"))
    assert delivered_to(out) == {provnet}
    # a gateway router SNATs in ct_snat, a distributed gateway port in its common zone
    # (ct_snat_in_czone, which ovn-trace 23.03 prints as "ct_snatin_czone")
    snat = "ct_snat" if l3_mode == MODES[0] else "ct_snatin_czone"
    assert f"{snat}(ip4.src={gateway_ip})" in _minimal(out)
    assert f"eth.dst = {NEXT_HOP_MAC};" in _minimal(out)

    # An external host reaches vm2 through its floating IP, and vm2 answers from it.
    inbound = (f'inport == "{provnet}" && eth.src == {NEXT_HOP_MAC} && '
               f'eth.dst == {gateway_port["mac_address"]} && ip4.src == 8.8.8.8 && '
               f'ip4.dst == {fip["floating_ip_address"]} && ip.ttl == 64 && icmp4 && '
               'icmp4.type == 8 && icmp4.code == 0')
    ext_switch = f"neutron-{ext['id']}"
    arrived = trace(private_ovn, ext_switch, inbound)
    assert delivered_to(arrived) == {vm2["id"]}
    assert f"ip4.dst = {_ip4(vm2)};" in _minimal(arrived)
    reply = trace(private_ovn, switch2, _from_vm(vm2, r1_on_net2, "8.8.8.8"))
    assert delivered_to(reply) == {provnet}
    assert f"ip4.src = {fip['floating_ip_address']};" in _minimal(reply)

    # Without the association the floating IP leads nowhere.
    api.put(f"floatingips/{fip['id']}", {"floatingip": {"port_id": None}})
    wait_journal_idle(app)
    wait_sb_synced(private_ovn)
    assert vm2["id"] not in delivered_to(trace(private_ovn, ext_switch, inbound))
    assert app.sync.compare().differences == []


def _teach_next_hop(ovn: LocalOvn, router_id: str, gateway_port_id: str,
                    l3_mode: str = MODES[0]) -> None:
    nbctl(ovn, "static-mac-binding-add", f"lrp-{gateway_port_id}", "172.24.4.1", NEXT_HOP_MAC)
    holder = f"neutron-gw-{router_id}" if l3_mode == MODES[0] else f"neutron-{router_id}"
    datapath = sbctl(ovn, "--bare", "--columns=_uuid", "find", "Datapath_Binding",
                     f"external_ids:name={holder}").strip()
    sbctl(ovn, "create", "MAC_Binding", f"logical_port=lrp-{gateway_port_id}",
          "ip=172.24.4.1", f'mac="{NEXT_HOP_MAC}"', f"datapath={datapath}")


def test_gateway_routers_move_when_their_chassis_leaves(app, private_ovn):
    api = Api(TestClient(app.app))
    add_chassis(private_ovn, "gw2")
    add_chassis(private_ovn, "compute1", cms="disable-chassis-as-gw")  # opted out
    ext = api.post("networks", {"name": "public", "router:external": True})
    api.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.25.0.0/24"})
    _wait(lambda: app.sb.connected and {c.name for c in app.sb.chassis()} >=
          {"gw1", "gw2", "compute1"})
    routers = [api.post("routers", {"name": f"r{i}", "external_gateway_info": {
        "network_id": ext["id"]}}) for i in range(4)]
    placement = {r["router_id"]: r["chassis"] for r in app.routers.list_gateways()}
    assert sorted(placement.values()) == ["gw1", "gw1", "gw2", "gw2"]  # least-loaded

    moved = [rid for rid, chassis in placement.items() if chassis == "gw1"]
    sbctl(private_ovn, "chassis-del", "gw1")
    _wait(lambda: all(r["chassis"] == "gw2" for r in app.routers.list_gateways()))
    wait_journal_idle(app)
    for rid in moved:
        assert one(app, "Logical_Router", name=f"neutron-gw-{rid}")["options"] == \
            {"chassis": "gw2"}

    sbctl(private_ovn, "chassis-del", "gw2")  # no candidate left: routers report it
    _wait(lambda: all(r["chassis"] is None for r in app.routers.list_gateways()))
    health = api.client.get("/healthz").json()
    assert sorted(health["unscheduled_routers"]) == sorted(r["id"] for r in routers)
    assert api.client.get(f"/v2.0/routers/{routers[0]['id']}").json()["router"]["status"] \
        == "ERROR"
    add_chassis(private_ovn, "compute2", cms="")  # says nothing: a candidate when alone...
    _wait(lambda: all(r["chassis"] == "compute2" for r in app.routers.list_gateways()))
    add_chassis(private_ovn, "gw3")  # ...until a chassis opts in
    _wait(lambda: all(r["chassis"] == "gw3" for r in app.routers.list_gateways()))
    wait_journal_idle(app)
    assert {row["options"].get("chassis") for row in rows(app, "Logical_Router")
            if row["name"].startswith("neutron-gw-")} == {"gw3"}


def _wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
