"""The data path: ovn-trace shows what ports created through the API can really send."""

from __future__ import annotations

from nb_state import wait_journal_idle
from ovn_tools import delivered_to, trace, wait_sb_synced


def _post(api, collection: str, body: dict) -> dict:
    singular = collection[:-1]
    path = collection.replace("_", "-")
    response = api.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _ip4(port: dict) -> str:
    return next(ip["ip_address"] for ip in port["fixed_ips"] if "." in ip["ip_address"])


def _flow(src: dict, dst: dict, ip_src: str | None = None, eth_src: str | None = None) -> str:
    return (
        f'inport == "{src["id"]}" && eth.src == {eth_src or src["mac_address"]} && '
        f'eth.dst == {dst["mac_address"]} && ip4.src == {ip_src or _ip4(src)} && '
        f'ip4.dst == {_ip4(dst)} && ip.ttl == 64 && udp && udp.dst == 53'
    )


def _open_group(api) -> str:
    """A group that admits any IPv4 traffic: these tests are about port security alone."""
    group = _post(api, "security_groups", {"name": "open"})
    _post(api, "security_group_rules", {"security_group_id": group["id"],
                                        "direction": "ingress", "ethertype": "IPv4"})
    return group["id"]


def test_two_ports_reach_each_other_and_spoofing_is_dropped(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "trace-net"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.40.0.0/24"})
    group = _open_group(api)
    vm1 = _post(api, "ports", {"network_id": net["id"], "name": "vm1",
                               "security_groups": [group]})
    vm2 = _post(api, "ports", {"network_id": net["id"], "name": "vm2",
                               "security_groups": [group],
                               "allowed_address_pairs": [{"ip_address": "10.40.0.250"}]})
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)
    switch = f"neutron-{net['id']}"

    assert delivered_to(trace(local_ovn, switch, _flow(vm1, vm2))) == {vm2["id"]}
    assert delivered_to(trace(local_ovn, switch, _flow(vm2, vm1))) == {vm1["id"]}
    # Port security: a source address or MAC the port does not own never leaves it.
    spoofed_ip = trace(local_ovn, switch, _flow(vm1, vm2, ip_src="10.40.0.99"))
    assert delivered_to(spoofed_ip) == set(), spoofed_ip
    spoofed_mac = trace(local_ovn, switch, _flow(vm1, vm2, eth_src="fa:16:3e:de:ad:01"))
    assert delivered_to(spoofed_mac) == set(), spoofed_mac
    # An allowed address pair is an address the port may use.
    assert delivered_to(trace(local_ovn, switch, _flow(vm2, vm1, ip_src="10.40.0.250"))) == \
        {vm1["id"]}


def test_port_security_off_lets_any_source_through(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "open-net", "port_security_enabled": False})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.41.0.0/24"})
    vm1 = _post(api, "ports", {"network_id": net["id"]})
    vm2 = _post(api, "ports", {"network_id": net["id"]})
    assert vm1["port_security_enabled"] is False
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)

    flow = _flow(vm1, vm2, ip_src="10.41.0.99", eth_src="fa:16:3e:de:ad:02")
    assert delivered_to(trace(local_ovn, f"neutron-{net['id']}", flow)) == {vm2["id"]}


def test_disabled_port_is_cut_off(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "down-net"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.42.0.0/24"})
    vm1 = _post(api, "ports", {"network_id": net["id"]})
    vm2 = _post(api, "ports", {"network_id": net["id"]})
    response = api.put(f"/v2.0/ports/{vm2['id']}", json={"port": {"admin_state_up": False}})
    assert response.status_code == 200
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)

    assert delivered_to(trace(local_ovn, f"neutron-{net['id']}", _flow(vm1, vm2))) == set()
