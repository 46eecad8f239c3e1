"""Networks, subnets and ports created through the API appear in OVN NB exactly as expected."""

from __future__ import annotations

from nb_state import one, rows, wait_journal_idle

NETS = "/v2.0/networks"


def _create(api, collection: str, body: dict) -> dict:
    singular = collection[:-1]
    response = api.post(f"/v2.0/{collection}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def test_network_subnets_and_port_are_realised(api, neutrino):
    net = _create(api, "networks", {"name": "net1"})
    v4 = _create(api, "subnets", {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.10.0.0/24",
        "dns_nameservers": ["10.10.0.53"],
        "host_routes": [{"destination": "192.168.0.0/24", "nexthop": "10.10.0.254"}],
    })
    v6 = _create(api, "subnets", {
        "network_id": net["id"], "ip_version": 6, "cidr": "fd00:10::/64",
        "ipv6_address_mode": "dhcpv6-stateful", "ipv6_ra_mode": "dhcpv6-stateful",
    })
    port = _create(api, "ports", {
        "network_id": net["id"], "name": "vm1", "device_id": "dev-1",
        "device_owner": "compute:nova",
        "allowed_address_pairs": [{"ip_address": "10.10.0.200"}],
    })
    wait_journal_idle(neutrino)

    switch = one(neutrino, "Logical_Switch", name=f"neutron-{net['id']}")
    assert switch["external_ids"] == {
        "neutron:network_name": "net1",
        "neutron:mtu": "1442",
        "neutron:revision_number": "3",  # each of its two subnets revised it, as in Neutron
        "neutron:availability_zone_hints": "",
        "neutron:provnet-network-type": "geneve",
    }
    assert switch["other_config"] == {
        "mcast_snoop": "false", "mcast_flood_unregistered": "false", "vlan-passthru": "false",
    }

    dhcp4 = one(neutrino, "DHCP_Options", external_ids={"subnet_id": v4["id"]})
    server_mac = dhcp4["options"]["server_mac"]
    assert dhcp4["cidr"] == "10.10.0.0/24"
    assert dhcp4["options"] == {
        "lease_time": "43200", "mtu": "1442", "router": "10.10.0.1",
        "server_id": "10.10.0.1", "server_mac": server_mac, "dns_server": "{10.10.0.53}",
        "classless_static_route": "{192.168.0.0/24,10.10.0.254, 0.0.0.0/0,10.10.0.1}",
    }
    assert dhcp4["external_ids"] == {
        "subnet_id": v4["id"], "neutron:network_id": net["id"], "neutron:revision_number": "1",
    }
    dhcp6 = one(neutrino, "DHCP_Options", external_ids={"subnet_id": v6["id"]})
    assert dhcp6["options"] == {
        "server_id": dhcp6["options"]["server_id"], "dns_server": "{2001:db8::53}",
    }

    ips = {ip["subnet_id"]: ip["ip_address"] for ip in port["fixed_ips"]}
    assert set(ips) == {v4["id"], v6["id"]}
    lsp = one(neutrino, "Logical_Switch_Port", name=port["id"])
    mac = port["mac_address"]
    assert lsp["addresses"] == [f"{mac} {ips[v4['id']]} {ips[v6['id']]}"]
    assert lsp["port_security"] == [f"{mac} {ips[v4['id']]} {ips[v6['id']]} 10.10.0.200"]
    assert lsp["type"] == "" and lsp["enabled"] is True and lsp["options"] == {}
    assert lsp["dhcpv4_options"] == dhcp4["_uuid"]
    assert lsp["dhcpv6_options"] == dhcp6["_uuid"]
    assert lsp["external_ids"] == {
        "neutron:cidrs": f"{ips[v4['id']]}/24 {ips[v6['id']]}/64",
        "neutron:device_id": "dev-1",
        "neutron:device_owner": "compute:nova",
        "neutron:mtu": "",
        "neutron:network_name": f"neutron-{net['id']}",
        "neutron:port_capabilities": "",
        "neutron:port_name": "vm1",
        "neutron:project_id": port["project_id"],
        "neutron:revision_number": "1",
        "neutron:security_group_ids": " ".join(port["security_groups"]),
        "neutron:subnet_pool_addr_scope4": "",
        "neutron:subnet_pool_addr_scope6": "",
        "neutron:vnic_type": "normal",
    }
    assert switch["ports"] == [lsp["_uuid"]]
    assert len(port["security_groups"]) == 1  # the project's default group
    default_group = one(neutrino, "Port_Group",
                        external_ids={"neutron:security_group_id": port["security_groups"][0]})
    assert default_group["ports"] == [lsp["_uuid"]]
    assert lsp["_uuid"] in one(neutrino, "Port_Group", name="neutron_pg_drop")["ports"]


def test_provider_networks_get_localnet_ports(api, neutrino):
    flat = _create(api, "networks", {
        "name": "ext", "provider:network_type": "flat", "provider:physical_network": "public",
    })
    vlan = _create(api, "networks", {
        "name": "v100", "provider:network_type": "vlan",
        "provider:physical_network": "physnet1", "provider:segmentation_id": 100,
    })
    assert flat["mtu"] == 1500 and vlan["provider:segmentation_id"] == 100
    wait_journal_idle(neutrino)

    for net, tag in ((flat, None), (vlan, 100)):
        switch = one(neutrino, "Logical_Switch", name=f"neutron-{net['id']}")
        assert switch["external_ids"]["neutron:provnet-physical-network"] == \
            net["provider:physical_network"]
        localnet = [p for p in rows(neutrino, "Logical_Switch_Port", type="localnet")
                    if p["_uuid"] in switch["ports"]]
        assert len(localnet) == 1
        assert localnet[0]["name"].startswith("provnet-")
        assert localnet[0]["addresses"] == ["unknown"]
        assert localnet[0]["tag"] == tag
        assert localnet[0]["options"]["network_name"] == net["provider:physical_network"]


def test_updates_and_deletes_follow(api, neutrino):
    net = _create(api, "networks", {"name": "n"})
    subnet = _create(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                      "cidr": "10.20.0.0/24"})
    port = _create(api, "ports", {"network_id": net["id"], "name": "before"})
    wait_journal_idle(neutrino)

    response = api.put(f"/v2.0/ports/{port['id']}", json={"port": {
        "name": "after", "admin_state_up": False, "binding:host_id": "compute-1"}})
    assert response.status_code == 200, response.text
    assert response.json()["port"]["revision_number"] == 2
    api.put(f"/v2.0/subnets/{subnet['id']}", json={"subnet": {"enable_dhcp": False}})
    wait_journal_idle(neutrino)

    lsp = one(neutrino, "Logical_Switch_Port", name=port["id"])
    assert lsp["enabled"] is False
    assert lsp["options"] == {"requested-chassis": "compute-1"}
    assert lsp["external_ids"]["neutron:port_name"] == "after"
    assert lsp["external_ids"]["neutron:revision_number"] == "2"
    assert lsp["dhcpv4_options"] is None
    assert rows(neutrino, "DHCP_Options", external_ids={"subnet_id": subnet["id"]}) == []

    assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert api.delete(f"{NETS}/{net['id']}").status_code == 204
    wait_journal_idle(neutrino)
    assert rows(neutrino, "Logical_Switch_Port", name=port["id"]) == []
    assert rows(neutrino, "Logical_Switch", name=f"neutron-{net['id']}") == []


def test_port_status_follows_ovn(api, neutrino, local_ovn):
    from ovn_tools import sbctl

    net = _create(api, "networks", {"name": "status"})
    _create(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.30.0.0/24"})
    port = _create(api, "ports", {"network_id": net["id"]})
    assert port["status"] == "DOWN"
    wait_journal_idle(neutrino)

    chassis = f"hv-{port['id'][:8]}"
    sbctl(local_ovn, "chassis-add", chassis, "geneve", "127.0.0.1")
    try:
        sbctl(local_ovn, "lsp-bind", port["id"], chassis)
        sbctl(local_ovn, "set", "Port_Binding", port["id"], "up=true")
        _wait_for(lambda: api.get(f"/v2.0/ports/{port['id']}").json()["port"]["status"]
                  == "ACTIVE")
        sbctl(local_ovn, "lsp-unbind", port["id"])
        sbctl(local_ovn, "set", "Port_Binding", port["id"], "up=false")
        _wait_for(lambda: api.get(f"/v2.0/ports/{port['id']}").json()["port"]["status"]
                  == "DOWN")
    finally:
        sbctl(local_ovn, "chassis-del", chassis)


def _wait_for(condition, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
