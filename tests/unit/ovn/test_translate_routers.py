"""router → distributed router, and with a gateway a gateway router on a /30 transit switch."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.inputs import GatewayFacts, RouterFacts, TranslateConfig
from neutrino.ovn.translate.routers import (
    build_router,
    build_router_absent,
    gateway_router_key,
    router_key,
    transit_addresses,
    transit_mac,
    transit_switch_key,
)

RID = "12121212-3434-4565-8787-909090909090"
OTHER_RID = "34343434-1212-4000-8000-000000000034"
GW_PORT = "abababab-0000-4000-8000-0000000000ab"
EXT_NET = "eeeeeeee-0000-4000-8000-0000000000ee"
EXT4 = "e4e4e4e4-0000-4000-8000-0000000000e4"
EXT6 = "e6e6e6e6-0000-4000-8000-0000000000e6"
SUB_A = "aaaaaaaa-0000-4000-8000-00000000000a"
SUB_B = "bbbbbbbb-0000-4000-8000-00000000000b"
GW_MAC = "fa:16:3e:00:00:99"
CONFIG = TranslateConfig()

DR = RowKey("Logical_Router", "name", f"neutron-{RID}")
GWR = RowKey("Logical_Router", "name", f"neutron-gw-{RID}")
TRANSIT = RowKey("Logical_Switch", "name", f"neutron-transit-{RID}")
LRP_DR = RowKey("Logical_Router_Port", "name", f"lrp-transit-dr-{RID}")
LRP_GW = RowKey("Logical_Router_Port", "name", f"lrp-transit-gw-{RID}")
LSP_DR = RowKey("Logical_Switch_Port", "name", f"transit-dr-{RID}")
LSP_GW = RowKey("Logical_Switch_Port", "name", f"transit-gw-{RID}")
EXT_LRP = RowKey("Logical_Router_Port", "name", f"lrp-{GW_PORT}")
# Stable across releases: a changed MAC would rewrite every transit port of every router.
MAC_DR = "fa:16:3e:50:15:8b"
MAC_GW = "fa:16:3e:0c:dd:56"

HA_GROUP = RowKey("HA_Chassis_Group", "name", f"neutron-{RID}")
OWNED = (DR, GWR, TRANSIT, LRP_DR, HA_GROUP)
# a router owns both layouts' rows, so that those of the other L3 mode are removed
CHILDREN_DR = ((DR, "static_routes"), (DR, "nat"), (HA_GROUP, "ha_chassis"))
GATEWAY_PORTS = (("Logical_Router_Port", (("neutron:router_name", f"neutron-{RID}"),
                                          ("neutron:gateway_role", "gateway-port"))),)
CHILDREN_GW = (*CHILDREN_DR, (GWR, "ports"), (GWR, "static_routes"), (GWR, "nat"))
TENANTS = ((SUB_A, "10.0.0.0/24"), (SUB_B, "10.0.1.0/26"))


def gateway(**overrides: Any) -> GatewayFacts:
    values: dict[str, Any] = {
        "port_id": GW_PORT,
        "network_id": EXT_NET,
        "mac": GW_MAC,
        "addresses": (("172.24.4.40", 24),),
        "subnet_ids": (EXT4,),
        "nexthop": "172.24.4.1",
        "enable_snat": True,
        "chassis": "gw1",
        "nexthop_subnet_id": EXT4,
    }
    values.update(overrides)
    return GatewayFacts(**values)


def router(**overrides: Any) -> RouterFacts:
    values: dict[str, Any] = {
        "id": RID,
        "name": "router1",
        "revision": 5,
        "admin_state_up": True,
        "routes": (),
        "tenant_subnets": (),
        "gateway": None,
    }
    values.update(overrides)
    return RouterFacts(**values)


def distributed(enabled: bool = True, revision: str = "5", name: str = "router1") -> DesiredRow:
    return DesiredRow(DR, {
        "enabled": enabled,
        "external_ids": {"neutron:router_name": name, "neutron:revision_number": revision,
                         "neutron:availability_zone_hints": ""},
        "options": {"always_learn_from_arp_request": "false", "dynamic_neigh_routers": "false",
                    "mac_binding_age_threshold": "300"},
    })


def route(parent: RowKey, prefix: str, nexthop: str, **extra: str) -> DesiredRow:
    identity = f"{RID} {parent.value} {prefix} {nexthop}"
    return DesiredRow(
        RowKey("Logical_Router_Static_Route", "external_ids", identity, "neutron:route_key"),
        {"ip_prefix": prefix, "nexthop": nexthop,
         "external_ids": {"neutron:route_key": identity, "neutron:is_static_route": "true",
                          **{k.replace("_", ":", 1): v for k, v in extra.items()}}},
        parent=ParentLink(parent, "static_routes"),
    )


def gateway_router(options: dict[str, str], enabled: bool = True,
                   revision: str = "5") -> DesiredRow:
    return DesiredRow(GWR, {
        "enabled": enabled,
        "options": options,
        "external_ids": {"neutron:router_id": RID, "neutron:gateway_role": "gateway-router",
                         "neutron:revision_number": revision},
    })


def transit_rows(gw_end: str = "169.254.128.1", dr_end: str = "169.254.128.2",
                 revision: str = "5") -> tuple[DesiredRow, ...]:
    role = {"neutron:router_id": RID, "neutron:gateway_role": "transit"}
    switch = DesiredRow(TRANSIT, {"external_ids": {**role, "neutron:revision_number": revision}})

    def lrp(key: RowKey, mac: str, network: str, parent: RowKey) -> DesiredRow:
        return DesiredRow(key, {"mac": mac, "networks": [network],
                                "external_ids": {**role, "neutron:router_name": parent.value}},
                          parent=ParentLink(parent, "ports"))

    def lsp(key: RowKey, lrp_key: RowKey) -> DesiredRow:
        return DesiredRow(key, {"type": "router", "addresses": ["router"],
                                "options": {"router-port": lrp_key.value},
                                "external_ids": role},
                          parent=ParentLink(TRANSIT, "ports"))

    return (switch,
            lrp(LRP_DR, MAC_DR, f"{dr_end}/30", DR), lsp(LSP_DR, LRP_DR),
            lrp(LRP_GW, MAC_GW, f"{gw_end}/30", GWR), lsp(LSP_GW, LRP_GW))


def external_port(networks: list[str], subnet_ids: str = EXT4, revision: str = "5",
                  options: dict[str, str] | None = None) -> DesiredRow:
    return DesiredRow(EXT_LRP, {
        "mac": GW_MAC,
        "networks": networks,
        "external_ids": {"neutron:is_ext_gw": "True",
                         "neutron:network_name": f"neutron-{EXT_NET}",
                         "neutron:router_name": f"neutron-gw-{RID}",
                         "neutron:subnet_ids": subnet_ids,
                         "neutron:revision_number": revision},
        "options": options or {},
    }, refs={"ha_chassis_group": None}, parent=ParentLink(GWR, "ports"))


def snat(cidr: str, external_ip: str = "172.24.4.40") -> DesiredRow:
    identity = f"{RID} {cidr}"
    return DesiredRow(
        RowKey("NAT", "external_ids", identity, "neutron:snat_key"),
        {"type": "snat", "external_ip": external_ip, "logical_ip": cidr,
         "external_ids": {"neutron:snat_key": identity,
                          "neutron:router_name": f"neutron-{RID}"}},
        parent=ParentLink(GWR, "nat"),
    )


def tenant_routes(dr_end: str = "169.254.128.2") -> tuple[DesiredRow, ...]:
    return (route(GWR, "10.0.0.0/24", dr_end, neutron_subnet_id=SUB_A),
            route(GWR, "10.0.1.0/26", dr_end, neutron_subnet_id=SUB_B))


DR_DEFAULT = route(DR, "0.0.0.0/0", "169.254.128.1", neutron_is_ext_gw="true")
GW_DEFAULT = route(GWR, "0.0.0.0/0", "172.24.4.1", neutron_is_ext_gw="true",
                   neutron_subnet_id=EXT4)


def state(*rows: DesiredRow, children: tuple[tuple[RowKey, str], ...] = CHILDREN_GW
          ) -> DesiredState:
    return DesiredState("router", RID, rows, OWNED, owned_children=children,
                        owned_matching=GATEWAY_PORTS)


# --- without a gateway: only the distributed router -----------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(router(), state(distributed(), children=CHILDREN_DR), id="bare"),
        pytest.param(
            router(name="", revision=1, admin_state_up=False),
            state(distributed(enabled=False, revision="1", name=""), children=CHILDREN_DR),
            id="admin-down-unnamed",
        ),
        pytest.param(
            router(routes=(("192.168.7.0/24", "10.0.0.7"), ("fd00:99::/64", "fd00:10::7"))),
            state(distributed(), route(DR, "192.168.7.0/24", "10.0.0.7"),
                  route(DR, "fd00:99::/64", "fd00:10::7"), children=CHILDREN_DR),
            id="extra-routes-on-the-distributed-router",
        ),
        pytest.param(
            router(tenant_subnets=TENANTS),
            state(distributed(), children=CHILDREN_DR),
            id="interfaces-alone-need-no-gateway-rows",
        ),
    ],
)
def test_build_router_without_gateway(facts: RouterFacts, expected: DesiredState) -> None:
    assert build_router(facts, CONFIG) == expected


def test_without_gateway_the_gateway_rows_are_owned_for_removal() -> None:
    built = build_router(router(), CONFIG)
    assert [row.key for row in built.rows] == [DR]
    assert built.owned == OWNED


# --- with a gateway -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(
            router(gateway=gateway(), tenant_subnets=TENANTS),
            state(distributed(), gateway_router({"chassis": "gw1"}), *transit_rows(),
                  external_port(["172.24.4.40/24"]), DR_DEFAULT, GW_DEFAULT,
                  *tenant_routes(), snat("10.0.0.0/24"), snat("10.0.1.0/26")),
            id="scheduled-with-snat-for-each-tenant-subnet",
        ),
        pytest.param(
            router(gateway=gateway(chassis=None), tenant_subnets=TENANTS),
            state(distributed(), gateway_router({}), *transit_rows(),
                  external_port(["172.24.4.40/24"]), DR_DEFAULT, GW_DEFAULT,
                  *tenant_routes(), snat("10.0.0.0/24"), snat("10.0.1.0/26")),
            id="unscheduled-no-chassis-option",
        ),
        pytest.param(
            router(gateway=gateway(enable_snat=False), tenant_subnets=TENANTS),
            state(distributed(), gateway_router({"chassis": "gw1"}), *transit_rows(),
                  external_port(["172.24.4.40/24"]), DR_DEFAULT, GW_DEFAULT,
                  *tenant_routes()),
            id="snat-disabled-no-nat-rows",
        ),
        pytest.param(
            router(gateway=gateway()),
            state(distributed(), gateway_router({"chassis": "gw1"}), *transit_rows(),
                  external_port(["172.24.4.40/24"]), DR_DEFAULT, GW_DEFAULT),
            id="no-interfaces-no-tenant-routes-no-snat",
        ),
        pytest.param(
            router(gateway=gateway(nexthop=None, nexthop_subnet_id=""),
                   tenant_subnets=TENANTS[:1]),
            state(distributed(), gateway_router({"chassis": "gw1"}), *transit_rows(),
                  external_port(["172.24.4.40/24"]), DR_DEFAULT, tenant_routes()[0],
                  snat("10.0.0.0/24")),
            id="external-subnet-without-gateway-ip-no-default-route-outwards",
        ),
        pytest.param(
            router(gateway=gateway(addresses=(("2001:db8::40", 64),), subnet_ids=(EXT6,),
                                   nexthop=None, nexthop_subnet_id=""),
                   tenant_subnets=TENANTS),
            state(distributed(), gateway_router({"chassis": "gw1"}), *transit_rows(),
                  external_port(["2001:db8::40/64"], EXT6), DR_DEFAULT, *tenant_routes()),
            id="ipv6-only-gateway-no-snat",
        ),
        pytest.param(
            router(gateway=gateway(addresses=(("172.24.4.40", 24), ("2001:db8::40", 64)),
                                   subnet_ids=(EXT4, EXT6)),
                   tenant_subnets=TENANTS[1:]),
            state(distributed(), gateway_router({"chassis": "gw1"}), *transit_rows(),
                  external_port(["172.24.4.40/24", "2001:db8::40/64"], f"{EXT4} {EXT6}"),
                  DR_DEFAULT, GW_DEFAULT, tenant_routes()[1], snat("10.0.1.0/26")),
            id="dual-stack-gateway-snat-from-the-ipv4-address",
        ),
        pytest.param(
            router(gateway=gateway(), tenant_subnets=TENANTS[:1], admin_state_up=False,
                   revision=9, routes=(("192.168.7.0/24", "10.0.0.7"),)),
            state(distributed(enabled=False, revision="9"),
                  gateway_router({"chassis": "gw1"}, enabled=False, revision="9"),
                  *transit_rows(revision="9"), external_port(["172.24.4.40/24"], revision="9"),
                  DR_DEFAULT, GW_DEFAULT, tenant_routes()[0], snat("10.0.0.0/24"),
                  route(DR, "192.168.7.0/24", "10.0.0.7")),
            id="admin-down-revision-and-extra-route-after-the-gateway-rows",
        ),
    ],
)
def test_build_router_with_gateway(facts: RouterFacts, expected: DesiredState) -> None:
    assert build_router(facts, CONFIG) == expected


def test_ipv6_first_gateway_still_snats_from_its_ipv4_address() -> None:
    facts = router(gateway=gateway(addresses=(("2001:db8::40", 64), ("172.24.4.40", 24)),
                                   subnet_ids=(EXT6, EXT4)), tenant_subnets=TENANTS[:1])
    built = build_router(facts, CONFIG)
    assert [row for row in built.rows if row.key.table == "NAT"] == [snat("10.0.0.0/24")]
    assert [row for row in built.rows if row.key == EXT_LRP] == [
        external_port(["2001:db8::40/64", "172.24.4.40/24"], f"{EXT6} {EXT4}")]


def test_custom_transit_cidr() -> None:
    facts = router(gateway=gateway(), tenant_subnets=TENANTS)
    assert build_router(facts, TranslateConfig(transit_cidr="100.64.0.4/30")) == state(
        distributed(), gateway_router({"chassis": "gw1"}),
        *transit_rows(gw_end="100.64.0.5", dr_end="100.64.0.6"),
        external_port(["172.24.4.40/24"]),
        route(DR, "0.0.0.0/0", "100.64.0.5", neutron_is_ext_gw="true"), GW_DEFAULT,
        *tenant_routes(dr_end="100.64.0.6"), snat("10.0.0.0/24"), snat("10.0.1.0/26"),
    )


def test_gateway_rows_sit_in_the_right_parents() -> None:
    built = build_router(router(gateway=gateway(), tenant_subnets=TENANTS,
                                routes=(("192.168.7.0/24", "10.0.0.7"),)), CONFIG)
    placed = [(row.key.table, row.parent.key if row.parent else None, row.parent.column
               if row.parent else None) for row in built.rows]
    assert placed == [
        ("Logical_Router", None, None),
        ("Logical_Router", None, None),
        ("Logical_Switch", None, None),
        ("Logical_Router_Port", DR, "ports"),
        ("Logical_Switch_Port", TRANSIT, "ports"),
        ("Logical_Router_Port", GWR, "ports"),
        ("Logical_Switch_Port", TRANSIT, "ports"),
        ("Logical_Router_Port", GWR, "ports"),
        ("Logical_Router_Static_Route", DR, "static_routes"),
        ("Logical_Router_Static_Route", GWR, "static_routes"),
        ("Logical_Router_Static_Route", GWR, "static_routes"),
        ("Logical_Router_Static_Route", GWR, "static_routes"),
        ("NAT", GWR, "nat"),
        ("NAT", GWR, "nat"),
        ("Logical_Router_Static_Route", DR, "static_routes"),
    ]


def test_router_lookup_keys() -> None:
    built = build_router(router(gateway=gateway(), tenant_subnets=TENANTS[:1]), CONFIG)
    assert built.lookup_keys() == {
        DR, GWR, TRANSIT, LRP_DR, LRP_GW, LSP_DR, LSP_GW, EXT_LRP, HA_GROUP,
        DR_DEFAULT.key, GW_DEFAULT.key, tenant_routes()[0].key, snat("10.0.0.0/24").key,
    }


def test_row_keys_are_unique() -> None:
    built = build_router(router(gateway=gateway(), tenant_subnets=TENANTS,
                                routes=(("192.168.7.0/24", "10.0.0.7"),)), CONFIG)
    keys = [row.key for row in built.rows]
    assert len(keys) == len(set(keys)) == 15


# --- absent, keys, transit addressing ---------------------------------------------------


def test_build_router_absent() -> None:
    """The routers and the transit switch take their ports, routes and NAT rows along."""
    assert build_router_absent(RID) == DesiredState("router", RID, (), (DR, GWR, TRANSIT,
                                                                        HA_GROUP),
                                                    owned_matching=GATEWAY_PORTS)


def test_keys() -> None:
    assert (router_key(RID), gateway_router_key(RID), transit_switch_key(RID)) == (
        DR, GWR, TRANSIT)


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("169.254.128.0/30", ("169.254.128.1", "169.254.128.2", 30)),
        ("100.64.0.4/30", ("100.64.0.5", "100.64.0.6", 30)),
        ("10.255.255.252/30", ("10.255.255.253", "10.255.255.254", 30)),
    ],
)
def test_transit_addresses(cidr: str, expected: tuple[str, str, int]) -> None:
    assert transit_addresses(TranslateConfig(transit_cidr=cidr)) == expected


def test_transit_mac_is_stable_and_distinct() -> None:
    macs = [transit_mac(r, side) for r in (RID, OTHER_RID) for side in ("dr", "gw")]
    assert macs[:2] == [MAC_DR, MAC_GW]
    assert macs == [transit_mac(r, side) for r in (RID, OTHER_RID) for side in ("dr", "gw")]
    assert len(set(macs)) == 4
    assert all(m.startswith("fa:16:3e:") and len(m) == 17 for m in macs)


# --- route placement and identity -------------------------------------------------------


def test_default_route_names_the_subnet_of_its_next_hop() -> None:
    """An IPv6-first gateway port: the default route still names the IPv4 subnet it leads to."""
    facts = router(gateway=gateway(addresses=(("2001:db8::40", 64), ("172.24.4.40", 24)),
                                   subnet_ids=(EXT6, EXT4), nexthop_subnet_id=EXT4))
    routes = [row for row in build_router(facts, CONFIG).rows if row.key == GW_DEFAULT.key]
    assert routes == [GW_DEFAULT]


def test_route_identity_names_the_logical_router_it_sits_in() -> None:
    facts = router(gateway=gateway(), tenant_subnets=TENANTS[:1],
                   routes=(("192.168.7.0/24", "10.0.0.7"), ("198.51.100.0/24", "172.24.4.99")))
    identities = [(row.key.value, row.columns["external_ids"]["neutron:route_key"])
                  for row in build_router(facts, CONFIG).rows
                  if row.key.table == "Logical_Router_Static_Route"]
    assert identities == [(i, i) for i in (
        f"{RID} neutron-{RID} 0.0.0.0/0 169.254.128.1",
        f"{RID} neutron-gw-{RID} 0.0.0.0/0 172.24.4.1",
        f"{RID} neutron-gw-{RID} 10.0.0.0/24 169.254.128.2",
        f"{RID} neutron-{RID} 192.168.7.0/24 10.0.0.7",
        f"{RID} neutron-gw-{RID} 198.51.100.0/24 172.24.4.99",
    )]


GATEWAY_ROWS = (gateway_router({"chassis": "gw1"}), *transit_rows(),
                external_port(["172.24.4.40/24"]), DR_DEFAULT, GW_DEFAULT)
DUAL_STACK = {"addresses": (("172.24.4.40", 24), ("2001:db8::40", 64)),
              "subnet_ids": (EXT4, EXT6)}
DUAL_STACK_ROWS = (gateway_router({"chassis": "gw1"}), *transit_rows(),
                   external_port(["172.24.4.40/24", "2001:db8::40/64"], f"{EXT4} {EXT6}"),
                   DR_DEFAULT, GW_DEFAULT)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(
            router(gateway=gateway(), routes=(("198.51.100.0/24", "172.24.4.99"),)),
            state(distributed(), *GATEWAY_ROWS, route(GWR, "198.51.100.0/24", "172.24.4.99")),
            id="next-hop-on-the-external-subnet-gateway-router",
        ),
        pytest.param(
            router(gateway=gateway(), routes=(("198.51.100.0/24", "172.24.4.99"),
                                              ("192.168.7.0/24", "10.0.0.7"),
                                              ("203.0.113.0/24", "172.24.5.1"))),
            state(distributed(), *GATEWAY_ROWS, route(GWR, "198.51.100.0/24", "172.24.4.99"),
                  route(DR, "192.168.7.0/24", "10.0.0.7"),
                  route(DR, "203.0.113.0/24", "172.24.5.1")),
            id="mixed-in-the-order-given-next-hop-outside-the-external-subnet-stays",
        ),
        pytest.param(
            router(gateway=gateway(**DUAL_STACK),
                   routes=(("2001:db8:7::/48", "2001:db8::99"), ("fd00:99::/64", "fd00:10::7"))),
            state(distributed(), *DUAL_STACK_ROWS,
                  route(GWR, "2001:db8:7::/48", "2001:db8::99"),
                  route(DR, "fd00:99::/64", "fd00:10::7")),
            id="ipv6-next-hop-on-the-external-ipv6-subnet",
        ),
        pytest.param(
            router(routes=(("198.51.100.0/24", "172.24.4.99"),)),
            state(distributed(), route(DR, "198.51.100.0/24", "172.24.4.99"),
                  children=CHILDREN_DR),
            id="without-a-gateway-every-route-on-the-distributed-router",
        ),
    ],
)
def test_extra_route_placement(facts: RouterFacts, expected: DesiredState) -> None:
    assert build_router(facts, CONFIG) == expected


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(
            router(gateway=gateway(), routes=(("0.0.0.0/0", "172.24.4.1"),)),
            state(distributed(), *GATEWAY_ROWS),
            id="extra-default-via-the-external-gateway-is-the-gateway-default",
        ),
        pytest.param(
            router(gateway=gateway(), routes=(("0.0.0.0/0", "169.254.128.1"),)),
            state(distributed(), *GATEWAY_ROWS),
            id="extra-default-via-the-transit-link-is-the-distributed-default",
        ),
        pytest.param(
            router(gateway=gateway(), routes=(("0.0.0.0/0", "172.24.4.254"),)),
            state(distributed(), *GATEWAY_ROWS, route(GWR, "0.0.0.0/0", "172.24.4.254")),
            id="extra-default-via-another-external-hop-is-its-own-row",
        ),
        pytest.param(
            router(routes=(("192.168.7.0/24", "10.0.0.7"), ("192.168.8.0/24", "10.0.0.8"),
                           ("192.168.7.0/24", "10.0.0.7"))),
            state(distributed(), route(DR, "192.168.7.0/24", "10.0.0.7"),
                  route(DR, "192.168.8.0/24", "10.0.0.8"), children=CHILDREN_DR),
            id="a-repeated-extra-route-once-in-first-place",
        ),
    ],
)
def test_duplicate_route_keys_keep_the_first_row(facts: RouterFacts,
                                                 expected: DesiredState) -> None:
    built = build_router(facts, CONFIG)
    assert built == expected
    keys = [row.key for row in built.rows]
    assert len(keys) == len(set(keys))


# --- gateway MTU ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tenant_mtu", "options"),
    [
        pytest.param(None, {}, id="no-interfaces-no-option"),
        pytest.param(1442, {"gateway_mtu": "1442"}, id="smallest-tenant-mtu"),
        pytest.param(9000, {"gateway_mtu": "9000"}, id="jumbo"),
    ],
)
def test_external_port_gateway_mtu(tenant_mtu: int | None, options: dict[str, str]) -> None:
    facts = router(gateway=gateway(tenant_mtu=tenant_mtu), tenant_subnets=TENANTS[:1])
    assert build_router(facts, CONFIG) == state(
        distributed(), gateway_router({"chassis": "gw1"}), *transit_rows(),
        external_port(["172.24.4.40/24"], options=options), DR_DEFAULT, GW_DEFAULT,
        tenant_routes()[0], snat("10.0.0.0/24"),
    )


def test_distributed_router_carries_its_zone_hints_as_ml2_ovn_does() -> None:
    state = build_router(router(az_hints=("az1", "az3")), CONFIG)
    row = next(row for row in state.rows if row.key == DR)
    assert row.columns["external_ids"]["neutron:availability_zone_hints"] == "az1,az3"


# --- distributed-gateway-port mode (ML2/OVN's layout) -------------------------------------

DGP = TranslateConfig(l3_mode="distributed-gateway-port")
GROUP_IDS = {"neutron:router_id": RID, "neutron:availability_zone_hints": "",
             "neutron:gateway_role": "gateway-port"}


def dgp_router(revision: str = "5") -> DesiredRow:
    row = distributed(revision=revision)
    return DesiredRow(DR, {**row.columns, "options": {
        "always_learn_from_arp_request": "false", "dynamic_neigh_routers": "true",
        "mac_binding_age_threshold": "300"}})


def ha_group(hints: str = "") -> DesiredRow:
    return DesiredRow(HA_GROUP, {"external_ids": {**GROUP_IDS,
                                                  "neutron:availability_zone_hints": hints}})


def ha_chassis(name: str, priority: int) -> DesiredRow:
    identity = f"neutron-{RID} {name}"
    return DesiredRow(RowKey("HA_Chassis", "external_ids", identity, "neutron:ha_chassis_key"),
                      {"chassis_name": name, "priority": priority,
                       "external_ids": {"neutron:ha_chassis_key": identity}},
                      parent=ParentLink(HA_GROUP, "ha_chassis"))


def gateway_port(networks: list[str], subnet_ids: str = EXT4,
                 options: dict[str, str] | None = None) -> DesiredRow:
    """ML2/OVN's gateway LRP: on the distributed router, with its HA_Chassis_Group."""
    return DesiredRow(EXT_LRP, {
        "mac": GW_MAC,
        "networks": networks,
        "external_ids": {"neutron:is_ext_gw": "True",
                         "neutron:network_name": f"neutron-{EXT_NET}",
                         "neutron:router_name": f"neutron-{RID}",
                         "neutron:subnet_ids": subnet_ids,
                         "neutron:revision_number": "5",
                         "neutron:gateway_role": "gateway-port"},
        "options": {**(options or {}), "reside-on-redirect-chassis": "true"},
    }, refs={"ha_chassis_group": HA_GROUP}, parent=ParentLink(DR, "ports"))


def dgp_snat(cidr: str) -> DesiredRow:
    row = snat(cidr)
    return DesiredRow(row.key, row.columns, parent=ParentLink(DR, "nat"))


DGP_DEFAULT = route(DR, "0.0.0.0/0", "172.24.4.1", neutron_is_ext_gw="true",
                    neutron_subnet_id=EXT4)


def dgp_state(*rows: DesiredRow) -> DesiredState:
    return DesiredState("router", RID, rows, OWNED, owned_children=CHILDREN_DR,
                        owned_matching=GATEWAY_PORTS)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(
            router(gateway=gateway(ha_chassis=("gw1", "gw3", "gw2")), tenant_subnets=TENANTS),
            dgp_state(dgp_router(), ha_group(), ha_chassis("gw1", 3), ha_chassis("gw3", 2),
                      ha_chassis("gw2", 1), gateway_port(["172.24.4.40/24"]), DGP_DEFAULT,
                      dgp_snat("10.0.0.0/24"), dgp_snat("10.0.1.0/26")),
            id="three-chassis-by-priority-snat-per-subnet-on-the-distributed-router",
        ),
        pytest.param(
            router(gateway=gateway(), tenant_subnets=TENANTS[:1]),
            dgp_state(dgp_router(), ha_group(), ha_chassis("gw1", 1),
                      gateway_port(["172.24.4.40/24"]), DGP_DEFAULT, dgp_snat("10.0.0.0/24")),
            id="scheduled-before-priorities-the-one-chassis",
        ),
        pytest.param(
            router(gateway=gateway(chassis=None), tenant_subnets=TENANTS[:1]),
            dgp_state(dgp_router(), ha_group(), gateway_port(["172.24.4.40/24"]),
                      DGP_DEFAULT, dgp_snat("10.0.0.0/24")),
            id="unscheduled-an-empty-group",
        ),
        pytest.param(
            router(gateway=gateway(enable_snat=False, tenant_mtu=1442),
                   tenant_subnets=TENANTS, az_hints=("az1",)),
            DesiredState("router", RID, (
                DesiredRow(DR, {**dgp_router().columns, "external_ids": {
                    **dgp_router().columns["external_ids"],
                    "neutron:availability_zone_hints": "az1"}}),
                ha_group("az1"), ha_chassis("gw1", 1),
                gateway_port(["172.24.4.40/24"], options={"gateway_mtu": "1442"}),
                DGP_DEFAULT), OWNED, owned_children=CHILDREN_DR, owned_matching=GATEWAY_PORTS),
            id="snat-off-gateway-mtu-zones",
        ),
        pytest.param(
            router(gateway=gateway(nexthop=None, nexthop_subnet_id=""),
                   routes=(("192.168.7.0/24", "172.24.4.7"), ("192.168.8.0/24", "10.0.0.8"))),
            dgp_state(dgp_router(), ha_group(), ha_chassis("gw1", 1),
                      gateway_port(["172.24.4.40/24"]),
                      route(DR, "192.168.7.0/24", "172.24.4.7"),
                      route(DR, "192.168.8.0/24", "10.0.0.8")),
            id="no-external-gateway-ip-every-extra-route-on-the-distributed-router",
        ),
        pytest.param(
            router(),
            dgp_state(dgp_router()),
            id="no-gateway-the-distributed-router-alone",
        ),
    ],
)
def test_build_router_distributed_gateway_port(facts: RouterFacts,
                                               expected: DesiredState) -> None:
    assert build_router(facts, DGP) == expected


def test_no_gateway_router_and_no_transit_switch_in_distributed_gateway_port_mode() -> None:
    built = build_router(router(gateway=gateway(ha_chassis=("gw1", "gw2")),
                                tenant_subnets=TENANTS), DGP)
    tables = {row.key.table for row in built.rows}
    assert "Logical_Switch" not in tables and "Logical_Switch_Port" not in tables
    assert [row.key for row in built.rows if row.key.table == "Logical_Router"] == [DR]
    # the gateway-router layout's rows are still owned: a change of mode removes them
    assert {GWR, TRANSIT, LRP_DR} <= set(built.owned)
    # ... and the gateway-router layout owns this one's
    assert HA_GROUP in build_router(router(gateway=gateway()), CONFIG).owned
