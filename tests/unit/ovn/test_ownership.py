"""owner_of: which NB rows are neutrino's, and of which resource, over all nine tables."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.ovn.ownership import TABLES, owner_of
from neutrino.ovn.rows import DesiredState
from neutrino.ovn.translate.floating_ips import build_floating_ip
from neutrino.ovn.translate.inputs import (
    FixedIp,
    FloatingIpFacts,
    GatewayFacts,
    PortFacts,
    PortForwardingFacts,
    RouterFacts,
    TranslateConfig,
)
from neutrino.ovn.translate.ports import build_port
from neutrino.ovn.translate.routers import build_router

NET = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
PORT = "0f0f0f0f-1111-4222-8333-444444444444"
SUBNET = "44444444-0000-4000-8000-000000000004"
SG = "11111111-2222-4333-8444-555555555555"
PG = "pg_11111111_2222_4333_8444_555555555555"
RULE = "77777777-0000-4000-8000-000000000007"
ROUTER = "12121212-3434-4565-8787-909090909090"
GW_PORT = "abababab-0000-4000-8000-0000000000ab"
FIP = "f1f1f1f1-0000-4000-8000-0000000000f1"

LS_EXT = {"neutron:network_name": "net1", "neutron:revision_number": "1"}
LSP_EXT = {"neutron:network_name": f"neutron-{NET}", "neutron:revision_number": "2",
           "neutron:port_name": "port1"}
DHCP_EXT = {"subnet_id": SUBNET, "neutron:network_id": NET, "neutron:revision_number": "0"}
TRANSIT_EXT = {"neutron:router_id": ROUTER, "neutron:gateway_role": "transit"}
LR_EXT = {"neutron:router_name": "router1", "neutron:revision_number": "5",
          "neutron:availability_zone_hints": ""}
GWR_EXT = {"neutron:router_id": ROUTER, "neutron:gateway_role": "gateway-router",
           "neutron:revision_number": "5"}
LRP_EXT = {"neutron:is_ext_gw": "False", "neutron:network_name": f"neutron-{NET}",
           "neutron:router_name": f"neutron-{ROUTER}", "neutron:subnet_ids": SUBNET,
           "neutron:revision_number": "1"}


def without(mapping: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in mapping.items() if k != key}


def test_tables() -> None:
    assert TABLES == ("Logical_Switch", "Logical_Switch_Port", "DHCP_Options", "Port_Group",
                      "ACL", "Logical_Router", "Logical_Router_Port", "NAT",
                      "Logical_Router_Static_Route", "Address_Set", "Logical_Router_Policy",
                      "DNS", "QoS", "Load_Balancer", "HA_Chassis_Group")


@pytest.mark.parametrize(
    ("table", "row", "owner"),
    [
        # Logical_Switch: name neutron-<id> and both neutron: keys
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}", "external_ids": LS_EXT},
                     ("network", NET), id="switch"),
        pytest.param("Logical_Switch", {"name": NET, "external_ids": LS_EXT}, None,
                     id="switch-name-without-prefix"),
        pytest.param("Logical_Switch", {"name": "neutron-", "external_ids": LS_EXT}, None,
                     id="switch-prefix-only"),
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}",
                                        "external_ids": without(LS_EXT, "neutron:revision_number")},
                     None, id="switch-without-revision"),
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}",
                                        "external_ids": without(LS_EXT, "neutron:network_name")},
                     None, id="switch-without-network-name"),
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}", "external_ids": {}}, None,
                     id="switch-no-external-ids"),
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}", "external_ids": None}, None,
                     id="switch-null-external-ids"),
        pytest.param("Logical_Switch", {"name": "sw0"}, None, id="foreign-switch"),
        # DNS: ML2/OVN's ls_name and our network key naming the same network
        pytest.param("DNS", {"external_ids": {"ls_name": f"neutron-{NET}",
                                              "neutron:network_id": NET}},
                     ("network", NET), id="dns"),
        pytest.param("DNS", {"external_ids": {"ls_name": f"neutron-{NET}"}}, None,
                     id="dns-of-ml2-ovn-not-ours"),
        pytest.param("DNS", {"external_ids": {"ls_name": "neutron-x",
                                              "neutron:network_id": NET}}, None,
                     id="dns-keys-disagree"),
        # Logical_Switch_Port: a Neutron port's keys, not a localnet port
        pytest.param("Logical_Switch_Port", {"name": PORT, "type": "", "external_ids": LSP_EXT},
                     ("port", PORT), id="vm-port"),
        pytest.param("Logical_Switch_Port", {"name": PORT, "type": "vtep",
                                             "external_ids": LSP_EXT},
                     ("port", PORT), id="vtep-port"),
        pytest.param("Logical_Switch_Port",
                     {"name": "provnet-seg1", "type": "localnet",
                      "external_ids": {**LSP_EXT,
                                       "neutron:provnet-physical-network": "public"}},
                     None, id="localnet-port-belongs-to-the-switch"),
        pytest.param("Logical_Switch_Port",
                     {"name": "provnet-seg1", "type": "localnet",
                      "external_ids": {"neutron:provnet-physical-network": "public"}},
                     None, id="localnet-port-as-written"),
        pytest.param("Logical_Switch_Port",
                     {"name": PORT, "type": "",
                      "external_ids": without(LSP_EXT, "neutron:revision_number")},
                     None, id="port-without-revision"),
        pytest.param("Logical_Switch_Port",
                     {"name": PORT, "type": "",
                      "external_ids": without(LSP_EXT, "neutron:network_name")},
                     None, id="port-without-network-name"),
        pytest.param("Logical_Switch_Port", {"name": "p0", "type": "", "external_ids": {}},
                     None, id="foreign-port"),
        # DHCP_Options: per subnet, never the per-port rows
        pytest.param("DHCP_Options", {"cidr": "10.0.0.0/24", "external_ids": DHCP_EXT},
                     ("subnet", SUBNET), id="subnet-dhcp-options"),
        pytest.param("DHCP_Options",
                     {"cidr": "10.0.0.0/24", "external_ids": {**DHCP_EXT, "port_id": PORT}},
                     None, id="foreign-per-port-dhcp-options"),
        # a port's own row (extra_dhcp_opts) is the port's when our identity key names it
        pytest.param("DHCP_Options",
                     {"cidr": "10.0.0.0/24",
                      "external_ids": {**DHCP_EXT, "port_id": PORT,
                                       "neutron:port_dhcp_key": f"{PORT} 4"}},
                     ("port", PORT), id="port-own-dhcp-options"),
        pytest.param("DHCP_Options",
                     {"cidr": "10.0.0.0/24",
                      "external_ids": {**DHCP_EXT, "port_id": PORT,
                                       "neutron:port_dhcp_key": f"{SUBNET} 4"}},
                     None, id="per-port-dhcp-options-identity-of-another-port"),
        pytest.param("DHCP_Options",
                     {"external_ids": {**without(DHCP_EXT, "neutron:revision_number"),
                                       "port_id": PORT,
                                       "neutron:port_dhcp_key": f"{PORT} 6"}},
                     None, id="port-dhcp-options-without-revision"),
        pytest.param("DHCP_Options",
                     {"external_ids": without(DHCP_EXT, "neutron:revision_number")},
                     None, id="dhcp-without-revision"),
        pytest.param("DHCP_Options", {"external_ids": without(DHCP_EXT, "subnet_id")}, None,
                     id="dhcp-without-subnet-id"),
        pytest.param("DHCP_Options",
                     {"external_ids": {"neutron:subnet_id": SUBNET,
                                       "neutron:revision_number": "0"}},
                     None, id="dhcp-with-prefixed-subnet-key"),
        pytest.param("DHCP_Options", {"external_ids": {}}, None, id="foreign-dhcp-options"),
        # Port_Group: pg_<id> carrying that id
        pytest.param("Port_Group", {"name": PG, "external_ids": {"neutron:security_group_id": SG}},
                     ("security_group", SG), id="security-group"),
        pytest.param("Port_Group",
                     {"name": "pg_aaaaaaaa_0000_4000_8000_000000000001",
                      "external_ids": {"neutron:security_group_id": SG}},
                     None, id="group-name-of-another-id"),
        pytest.param("Port_Group", {"name": SG, "external_ids": {"neutron:security_group_id": SG}},
                     None, id="group-name-not-underscored"),
        pytest.param("Port_Group", {"name": PG, "external_ids": {}}, None,
                     id="group-without-id"),
        pytest.param("Port_Group", {"name": PG, "external_ids": {"neutron:security_group_id": ""}},
                     None, id="group-empty-id"),
        pytest.param("Port_Group", {"name": "neutron_pg_drop", "external_ids": {}}, None,
                     id="drop-group-is-no-resource"),
        pytest.param("Port_Group", {"name": "pg_ops"}, None, id="foreign-group"),
        # ACL: one per rule
        pytest.param("ACL", {"match": f"outport == @{PG} && ip4",
                             "external_ids": {"neutron:security_group_rule_id": RULE}},
                     ("security_group_rule", RULE), id="rule-acl"),
        pytest.param("ACL", {"match": "inport == @neutron_pg_drop && ip", "external_ids": {}},
                     None, id="drop-acl-is-no-resource"),
        pytest.param("ACL", {"match": "ip", "external_ids": {"neutron:security_group_rule_id": ""}},
                     None, id="acl-empty-rule-id"),
        pytest.param("ACL", {"match": "ip", "external_ids": {"neutron:lport": PORT}}, None,
                     id="acl-other-neutron-key"),
        # Logical_Switch: a router's transit switch
        pytest.param("Logical_Switch", {"name": f"neutron-transit-{ROUTER}",
                                        "external_ids": TRANSIT_EXT},
                     ("router", ROUTER), id="transit-switch"),
        pytest.param("Logical_Switch", {"name": f"neutron-transit-{NET}",
                                        "external_ids": TRANSIT_EXT},
                     None, id="transit-switch-of-another-router"),
        # Logical_Switch_Port: router ports are the Neutron port's; transit ports are nobody's
        pytest.param("Logical_Switch_Port",
                     {"name": PORT, "type": "router",
                      "external_ids": {**LSP_EXT,
                                       "neutron:device_owner": "network:router_interface"}},
                     ("port", PORT), id="router-interface-switch-port"),
        pytest.param("Logical_Switch_Port",
                     {"name": f"transit-dr-{ROUTER}", "type": "router",
                      "external_ids": TRANSIT_EXT},
                     None, id="transit-switch-port-lives-with-its-switch"),
        # Logical_Router: the distributed router and the gateway router
        pytest.param("Logical_Router", {"name": f"neutron-{ROUTER}", "external_ids": LR_EXT},
                     ("router", ROUTER), id="distributed-router"),
        pytest.param("Logical_Router", {"name": f"neutron-gw-{ROUTER}",
                                        "external_ids": GWR_EXT},
                     ("router", ROUTER), id="gateway-router"),
        pytest.param("Logical_Router", {"name": f"neutron-gw-{NET}", "external_ids": GWR_EXT},
                     None, id="gateway-router-name-of-another-router"),
        pytest.param("Logical_Router", {"name": f"neutron-{ROUTER}",
                                        "external_ids": without(LR_EXT,
                                                                "neutron:revision_number")},
                     None, id="router-without-revision"),
        pytest.param("Logical_Router", {"name": f"neutron-{ROUTER}",
                                        "external_ids": without(LR_EXT, "neutron:router_name")},
                     None, id="router-without-router-name"),
        pytest.param("Logical_Router", {"name": ROUTER, "external_ids": LR_EXT}, None,
                     id="router-name-without-prefix"),
        pytest.param("Logical_Router", {"name": f"neutron-{NET}", "external_ids": LS_EXT}, None,
                     id="router-with-switch-keys"),
        pytest.param("Logical_Router", {"name": "lr0", "external_ids": {}}, None,
                     id="foreign-router"),
        # Logical_Router_Port: interfaces are their port's, gateway-side ports the router's
        pytest.param("Logical_Router_Port", {"name": f"lrp-{PORT}", "external_ids": LRP_EXT},
                     ("port", PORT), id="interface-router-port"),
        pytest.param("Logical_Router_Port", {"name": PORT, "external_ids": LRP_EXT}, None,
                     id="interface-router-port-without-prefix"),
        pytest.param("Logical_Router_Port",
                     {"name": f"lrp-{GW_PORT}",
                      "external_ids": {**LRP_EXT, "neutron:is_ext_gw": "True",
                                       "neutron:router_name": f"neutron-gw-{ROUTER}"}},
                     ("router", ROUTER), id="external-router-port"),
        pytest.param("Logical_Router_Port",
                     {"name": f"lrp-{GW_PORT}",
                      "external_ids": {**LRP_EXT, "neutron:is_ext_gw": "True",
                                       "neutron:router_name": f"neutron-{ROUTER}"}},
                     None, id="ml2-ovn-distributed-gateway-port-not-ours"),
        pytest.param("Logical_Router_Port",
                     {"name": f"lrp-{GW_PORT}",
                      "external_ids": {**LRP_EXT, "neutron:is_ext_gw": "True",
                                       "neutron:router_name": f"neutron-{ROUTER}",
                                       "neutron:gateway_role": "gateway-port"}},
                     ("router", ROUTER), id="our-distributed-gateway-port"),
        pytest.param("Logical_Router_Port",
                     {"name": f"lrp-{GW_PORT}",
                      "external_ids": {**without(LRP_EXT, "neutron:revision_number"),
                                       "neutron:is_ext_gw": "True",
                                       "neutron:router_name": f"neutron-{ROUTER}",
                                       "neutron:gateway_role": "gateway-port"}},
                     None, id="distributed-gateway-port-without-revision"),
        pytest.param("HA_Chassis_Group",
                     {"name": f"neutron-{ROUTER}",
                      "external_ids": {"neutron:router_id": ROUTER,
                                       "neutron:availability_zone_hints": "",
                                       "neutron:gateway_role": "gateway-port"}},
                     ("router", ROUTER), id="our-gateway-ha-group"),
        pytest.param("HA_Chassis_Group",
                     {"name": f"neutron-{ROUTER}",
                      "external_ids": {"neutron:router_id": ROUTER,
                                       "neutron:availability_zone_hints": ""}},
                     None, id="ml2-ovn-gateway-ha-group-not-ours"),
        pytest.param("HA_Chassis_Group",
                     {"name": f"neutron-{NET}",
                      "external_ids": {"neutron:router_id": ROUTER,
                                       "neutron:gateway_role": "gateway-port"}},
                     None, id="ha-group-named-for-another-router"),
        pytest.param("Logical_Router_Port",
                     {"name": f"lrp-transit-gw-{ROUTER}",
                      "external_ids": {**TRANSIT_EXT,
                                       "neutron:router_name": f"neutron-gw-{ROUTER}"}},
                     ("router", ROUTER), id="transit-router-port"),
        pytest.param("Logical_Router_Port",
                     {"name": f"lrp-{PORT}", "external_ids": without(LRP_EXT,
                                                                     "neutron:is_ext_gw")},
                     None, id="router-port-without-is-ext-gw"),
        pytest.param("Logical_Router_Port", {"name": "lrp0", "external_ids": {}}, None,
                     id="foreign-router-port"),
        # NAT: floating IPs by id, SNAT by its key
        pytest.param("NAT", {"type": "dnat_and_snat",
                             "external_ids": {"neutron:fip_id": FIP,
                                              "neutron:router_name": f"neutron-{ROUTER}"}},
                     ("floating_ip", FIP), id="floating-ip-nat"),
        pytest.param("NAT", {"type": "snat",
                             "external_ids": {"neutron:snat_key": f"{ROUTER} 10.0.0.0/24",
                                              "neutron:router_name": f"neutron-{ROUTER}"}},
                     ("router", ROUTER), id="snat"),
        pytest.param("NAT", {"type": "snat", "external_ip": "172.24.4.40",
                             "logical_ip": "0.0.0.0/0", "external_ids": {}},
                     None, id="ml2-ovn-snat-without-keys"),
        pytest.param("NAT", {"type": "snat",
                             "external_ids": {"neutron:router_name": f"neutron-{ROUTER}"}},
                     None, id="nat-router-name-only"),
        # Logical_Router_Static_Route: by its route key
        pytest.param("Logical_Router_Static_Route",
                     {"ip_prefix": "0.0.0.0/0",
                      "external_ids": {"neutron:route_key":
                                       f"{ROUTER} neutron-{ROUTER} 0.0.0.0/0 169.254.128.1",
                                       "neutron:is_static_route": "true"}},
                     ("router", ROUTER), id="route"),
        pytest.param("Logical_Router_Static_Route",
                     {"ip_prefix": "10.0.0.0/24",
                      "external_ids": {"neutron:route_key":
                                       f"{ROUTER} neutron-gw-{ROUTER} 10.0.0.0/24 169.254.128.2",
                                       "neutron:is_static_route": "true"}},
                     ("router", ROUTER), id="gateway-router-route"),
        # written before route keys named their router: still the router's, to be replaced
        pytest.param("Logical_Router_Static_Route",
                     {"ip_prefix": "0.0.0.0/0",
                      "external_ids": {"neutron:route_key": f"{ROUTER} 0.0.0.0/0 169.254.128.1",
                                       "neutron:is_static_route": "true"}},
                     ("router", ROUTER), id="route-with-a-legacy-key"),
        pytest.param("Logical_Router_Static_Route",
                     {"ip_prefix": "0.0.0.0/0",
                      "external_ids": {"neutron:is_ext_gw": "true",
                                       "neutron:is_static_route": "true",
                                       "neutron:subnet_id": SUBNET}},
                     None, id="ml2-ovn-route-without-key"),
        pytest.param("Logical_Router_Static_Route", {"ip_prefix": "10.0.0.0/8"}, None,
                     id="foreign-route"),
        # tables neutrino does not own
        pytest.param("Address_Set", {"name": f"{PG}_ip4",
                                     "external_ids": {"neutron:security_group_id": SG}},
                     None, id="address-set-not-ours"),
    ],
)
def test_owner_of(table: str, row: dict[str, Any], owner: tuple[str, str] | None) -> None:
    assert owner_of(table, row) == owner


# --- the builders' own rows are attributed to the resource that built them ---------------


def as_read(state: DesiredState) -> list[tuple[str, str, dict[str, Any]]]:
    """Each desired row as sync reads it back: its columns plus the name it is found by."""
    found = []
    for row in state.rows:
        named = {row.key.column: row.key.value} if row.key.column == "name" else {}
        found.append((row.key.table, row.key.value, {**row.columns, **named}))
    return found


def test_router_rows_belong_to_the_router() -> None:
    gateway = GatewayFacts(GW_PORT, NET, "fa:16:3e:00:00:99", (("172.24.4.40", 24),),
                           (SUBNET,), "172.24.4.1", True, "gw1")
    facts = RouterFacts(ROUTER, "router1", 5, True, (("192.168.7.0/24", "10.0.0.7"),),
                        ((SUBNET, "10.0.0.0/24"),), gateway)
    rows = as_read(build_router(facts, TranslateConfig()))
    # transit switch ports carry no resource of their own: they go with the transit switch
    transit_ports = {f"transit-dr-{ROUTER}", f"transit-gw-{ROUTER}"}
    assert [(table, key, owner_of(table, row)) for table, key, row in rows] == [
        (table, key, None if key in transit_ports else ("router", ROUTER))
        for table, key, _ in rows]
    assert len(rows) == 13


def test_distributed_gateway_rows_belong_to_the_router() -> None:
    gateway = GatewayFacts(GW_PORT, NET, "fa:16:3e:00:00:99", (("172.24.4.40", 24),),
                           (SUBNET,), "172.24.4.1", True, "gw1", ha_chassis=("gw1", "gw2"))
    facts = RouterFacts(ROUTER, "router1", 5, True, (("192.168.7.0/24", "10.0.0.7"),),
                        ((SUBNET, "10.0.0.0/24"),), gateway)
    rows = as_read(build_router(facts, TranslateConfig(l3_mode="distributed-gateway-port")))
    # HA_Chassis rows go with their group (sync reads the groups)
    assert [(table, owner_of(table, row)) for table, _, row in rows
            if table != "HA_Chassis"] == [
        (table, ("router", ROUTER)) for table, _, _ in rows if table != "HA_Chassis"]
    assert len(rows) == 8


def test_interface_port_rows_belong_to_the_port() -> None:
    facts = PortFacts(PORT, "", NET, "proj", 1, "fa:16:3e:00:00:01", True, ROUTER,
                      "network:router_interface", (FixedIp(SUBNET, "10.0.0.1", 24, 4, True),),
                      True, (), "", (), "normal")
    assert [(t, k, owner_of(t, r)) for t, k, r in as_read(build_port(facts))] == [
        ("Logical_Switch_Port", PORT, ("port", PORT)),
        ("Logical_Router_Port", f"lrp-{PORT}", ("port", PORT)),
    ]


def test_floating_ip_row_belongs_to_the_floating_ip() -> None:
    facts = FloatingIpFacts(FIP, 1, "172.24.4.50", NET, "fa:16:3e:00:00:02", PORT,
                            "10.0.0.5", ROUTER)
    assert [(t, k, owner_of(t, r)) for t, k, r in as_read(build_floating_ip(facts))] == [
        ("NAT", FIP, ("floating_ip", FIP))]


def test_port_forwarding_balancers_belong_to_the_floating_ip() -> None:
    facts = FloatingIpFacts(FIP, 2, "172.24.4.50", NET, "fa:16:3e:00:00:02", None, None,
                            ROUTER, (PortForwardingFacts("tcp", "10.0.0.5", (22, 22), (22, 22)),
                                     PortForwardingFacts("udp", "10.0.0.5", (53, 53),
                                                         (53, 53))))
    assert [(t, k, owner_of(t, r)) for t, k, r in as_read(build_floating_ip(facts))] == [
        ("Load_Balancer", f"pf-floatingip-{FIP}-tcp", ("floating_ip", FIP)),
        ("Load_Balancer", f"pf-floatingip-{FIP}-udp", ("floating_ip", FIP))]
    ours = {"neutron:fip_id": FIP, "neutron:device_owner": "port_forwarding_plugin"}
    # an Octavia balancer, our keys on another name, or another owner: foreign
    assert owner_of("Load_Balancer", {"name": "lb-1", "external_ids": ours}) is None
    assert owner_of("Load_Balancer", {"name": f"pf-floatingip-{FIP}-tcp",
                                      "external_ids": {"neutron:fip_id": FIP}}) is None
    assert owner_of("Load_Balancer", {"name": f"pf-floatingip-{FIP}-sctp",
                                      "external_ids": ours}) is None


def test_address_sets_of_an_address_group_are_its_own() -> None:
    ag = "0f6c5a38-1111-4c2e-9d1c-5f3a4b2c1d0e"
    ext = {"neutron:address_group_id": ag, "neutron:revision_number": "1"}
    for family in ("ip4", "ip6"):
        row = {"name": f"ag_{ag.replace('-', '_')}_{family}", "external_ids": ext}
        assert owner_of("Address_Set", row) == ("address_group", ag)
    # a set of the same name without our key, or our key on another name, is foreign
    assert owner_of("Address_Set", {"name": f"ag_{ag.replace('-', '_')}_ip4"}) is None
    assert owner_of("Address_Set", {"name": "as_other", "external_ids": ext}) is None
