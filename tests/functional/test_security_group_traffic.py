"""Security groups on the data path: ovn-trace of new and established flows."""

from __future__ import annotations

from nb_state import wait_journal_idle
from ovn_tools import delivered_to, trace, wait_sb_synced

NEW = ("new", "new")  # the sender's and the receiver's ct_next both see a new connection
REPLY = ("est,rpl", "est,rpl")


def _post(api, path: str, body: dict) -> dict:
    singular = path.replace("-", "_")[:-1]
    response = api.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _group(api, name: str, *rules: dict) -> str:
    group = _post(api, "security-groups", {"name": name})
    for rule in rules:
        _post(api, "security-group-rules", {"security_group_id": group["id"], **rule})
    return group["id"]


def _ip4(port: dict) -> str:
    return next(ip["ip_address"] for ip in port["fixed_ips"] if "." in ip["ip_address"])


def _packet(src: dict, dst: dict, l4: str, src_ip: str | None = None) -> str:
    return (f'inport == "{src["id"]}" && eth.src == {src["mac_address"]} && '
            f'eth.dst == {dst["mac_address"]} && ip4.src == {src_ip or _ip4(src)} && '
            f'ip4.dst == {_ip4(dst)} && ip.ttl == 64 && {l4}')


SSH = "tcp && tcp.src == 40000 && tcp.dst == 22"
TELNET = "tcp && tcp.src == 40000 && tcp.dst == 23"
PING = "icmp4 && icmp4.type == 8 && icmp4.code == 0"


def test_rules_admit_exactly_what_they_say(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "sg-net"})
    inside = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": "10.61.0.0/24"})
    outside = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                     "cidr": "10.62.0.0/24"})
    members = _group(api, "members")
    ssh = _group(api, "ssh-from-inside",
                 {"direction": "ingress", "protocol": "tcp", "port_range_min": 22,
                  "port_range_max": 22, "remote_ip_prefix": "10.61.0.0/24"},
                 {"direction": "ingress", "protocol": "icmp", "remote_group_id": members})

    def port(subnet: dict, *groups: str) -> dict:
        body = {"network_id": net["id"], "fixed_ips": [{"subnet_id": subnet["id"]}]}
        if groups:
            body["security_groups"] = list(groups)
        return _post(api, "ports", body)

    target = port(inside, ssh)
    near = port(inside, members)
    far = port(outside, members)
    stranger = port(inside)  # no groups given: the project's default group
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)
    switch = f"neutron-{net['id']}"

    def delivered(src: dict, l4: str, ct: tuple[str, ...] = NEW) -> bool:
        output = trace(local_ovn, switch, _packet(src, target, l4), ct=ct)
        return target["id"] in delivered_to(output)

    assert delivered(near, SSH)  # tcp/22 from 10.61.0.0/24
    assert not delivered(far, SSH)  # same port, source outside the prefix
    assert not delivered(near, TELNET)  # no rule for tcp/23
    assert delivered(near, PING) and delivered(far, PING)  # members of the remote group
    assert not delivered(stranger, PING)  # not a member
    # The default group's members may reach each other; others may not reach them.
    default_member = port(inside)
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)
    to_default = _packet(stranger, default_member, PING)
    assert default_member["id"] in delivered_to(trace(local_ovn, switch, to_default, ct=NEW))
    assert delivered_to(trace(local_ovn, switch, _packet(near, default_member, PING),
                              ct=NEW)) == set()


def test_replies_of_allowed_connections_pass_statefully(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "stateful"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.63.0.0/24"})
    client_group = _group(api, "egress-only")  # new groups allow all egress, nothing in
    server_group = _group(api, "web", {"direction": "ingress", "protocol": "tcp",
                                       "port_range_min": 80, "port_range_max": 80})
    client = _post(api, "ports", {"network_id": net["id"], "security_groups": [client_group]})
    server = _post(api, "ports", {"network_id": net["id"], "security_groups": [server_group]})
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)
    switch = f"neutron-{net['id']}"

    request = _packet(client, server, "tcp && tcp.src == 40000 && tcp.dst == 80")
    assert delivered_to(trace(local_ovn, switch, request, ct=NEW)) == {server["id"]}
    reply = _packet(server, client, "tcp && tcp.src == 80 && tcp.dst == 40000")
    assert delivered_to(trace(local_ovn, switch, reply, ct=REPLY)) == {client["id"]}
    # The same packet as a new connection is not admitted: the client accepts no ingress.
    assert delivered_to(trace(local_ovn, switch, reply, ct=NEW)) == set()


def test_removing_the_rule_closes_the_door(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "closing"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.64.0.0/24"})
    group = _post(api, "security-groups", {"name": "temp"})
    rule = _post(api, "security-group-rules", {"security_group_id": group["id"],
                                              "direction": "ingress", "protocol": "icmp"})
    a = _post(api, "ports", {"network_id": net["id"], "security_groups": [group["id"]]})
    b = _post(api, "ports", {"network_id": net["id"], "security_groups": [group["id"]]})
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)
    switch = f"neutron-{net['id']}"
    assert delivered_to(trace(local_ovn, switch, _packet(a, b, PING), ct=NEW)) == {b["id"]}

    assert api.delete(f"/v2.0/security-group-rules/{rule['id']}").status_code == 204
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)
    assert delivered_to(trace(local_ovn, switch, _packet(a, b, PING), ct=NEW)) == set()

    # Switching port security off removes filtering altogether.
    for port in (a, b):
        response = api.put(f"/v2.0/ports/{port['id']}", json={"port": {
            "port_security_enabled": False, "security_groups": []}})
        assert response.status_code == 200, response.text
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)
    assert delivered_to(trace(local_ovn, switch, _packet(a, b, PING), ct=NEW)) == {b["id"]}


def test_dhcp_works_even_when_no_rule_allows_anything(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "dhcp-locked"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.65.0.0/24"})
    group = _post(api, "security-groups", {"name": "locked"})
    for rule in group["security_group_rules"]:
        assert api.delete(f"/v2.0/security-group-rules/{rule['id']}").status_code == 204
    vm = _post(api, "ports", {"network_id": net["id"], "security_groups": [group["id"]]})
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)

    discover = (f'inport == "{vm["id"]}" && eth.src == {vm["mac_address"]} && '
                'eth.dst == ff:ff:ff:ff:ff:ff && ip4.src == 0.0.0.0 && '
                'ip4.dst == 255.255.255.255 && ip.ttl == 64 && udp && udp.src == 68 && '
                'udp.dst == 67')
    output = trace(local_ovn, f"neutron-{net['id']}", discover, ct=NEW)
    assert vm["id"] in delivered_to(output), output  # OVN's DHCP answer comes back


def test_ipv6_neighbour_discovery_passes_a_locked_group(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "nd-locked"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 6, "cidr": "fd00:66::/64",
                           "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"})
    group = _post(api, "security-groups", {"name": "locked6"})
    for rule in group["security_group_rules"]:
        assert api.delete(f"/v2.0/security-group-rules/{rule['id']}").status_code == 204
    a, b = (_post(api, "ports", {"network_id": net["id"], "security_groups": [group["id"]]})
            for _ in range(2))
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)
    a_ip, b_ip = a["fixed_ips"][0]["ip_address"], b["fixed_ips"][0]["ip_address"]
    solicit = (f'inport == "{a["id"]}" && eth.src == {a["mac_address"]} && '
               f'eth.dst == 33:33:ff:00:00:01 && ip6.src == {a_ip} && ip6.dst == ff02::1:ff00:1 '
               f'&& ip.ttl == 255 && icmp6 && icmp6.type == 135 && icmp6.code == 0 && '
               f'nd.target == {b_ip} && nd.sll == {a["mac_address"]}')
    output = trace(local_ovn, f"neutron-{net['id']}", solicit, ct=NEW)
    assert delivered_to(output) & {a["id"], b["id"]}, output
    # ...while ordinary IPv6 traffic between them stays dropped.
    ping = (f'inport == "{a["id"]}" && eth.src == {a["mac_address"]} && '
            f'eth.dst == {b["mac_address"]} && ip6.src == {a_ip} && ip6.dst == {b_ip} && '
            'ip.ttl == 64 && icmp6 && icmp6.type == 128 && icmp6.code == 0')
    assert delivered_to(trace(local_ovn, f"neutron-{net['id']}", ping, ct=NEW)) == set()
