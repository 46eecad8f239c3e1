"""port → Logical_Switch_Port in its network's switch, as whole DesiredStates."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, Membership, ParentLink, RowKey
from neutrino.ovn.translate.inputs import AddressPair, FixedIp, PortFacts
from neutrino.ovn.translate.ports import (
    build_port,
    build_port_absent,
    port_key,
    router_port_key,
)

PORT_ID = "0f0f0f0f-1111-4222-8333-444444444444"
NET_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SUB4 = "44444444-0000-4000-8000-000000000004"
SUB4B = "44444444-0000-4000-8000-00000000004b"
SUB6 = "66666666-0000-4000-8000-000000000006"
MAC = "fa:16:3e:aa:bb:cc"
OTHER_MAC = "fa:16:3e:00:00:01"
SG_DASHED = "5b1e6a0c-1111-4aaa-8bbb-000000000001"
SWITCH = RowKey("Logical_Switch", "name", f"neutron-{NET_ID}")
LSP_KEY = RowKey("Logical_Switch_Port", "name", PORT_ID)
LRP_KEY = RowKey("Logical_Router_Port", "name", f"lrp-{PORT_ID}")
ROUTER_ID = "12121212-3434-4565-8787-909090909090"
ROUTER = RowKey("Logical_Router", "name", f"neutron-{ROUTER_ID}")
FIP = "172.24.4.50"
DROP = RowKey("Port_Group", "name", "neutron_pg_drop")
# a port's own DHCP_Options rows (extra_dhcp_opts): owned always, so that unwanted ones go
OWN_DHCP = tuple(RowKey("DHCP_Options", "external_ids", f"{PORT_ID} {v}",
                        map_key="neutron:port_dhcp_key") for v in (4, 6)) + tuple(
    # and its QoS rows, wanted or not
    RowKey("QoS", "external_ids", f"{PORT_ID} {d}", map_key="neutron:qos_key")
    for d in ("from-lport", "to-lport"))
DROP_ACL_FROM = RowKey("ACL", "match", "inport == @neutron_pg_drop && ip")
DROP_ACL_TO = RowKey("ACL", "match", "outport == @neutron_pg_drop && ip")
DHCP4_OUT = "inport == @neutron_pg_drop && ip4 && udp && udp.src == 68 && udp.dst == 67"
DHCP6_OUT = "inport == @neutron_pg_drop && ip6 && udp && udp.src == 546 && udp.dst == 547"


def drop_acl(direction: str, priority: int, action: str, match: str) -> DesiredRow:
    columns = {"direction": direction, "priority": priority, "action": action,
               "match": match, "log": False}
    return DesiredRow(RowKey("ACL", "match", match), columns, parent=ParentLink(DROP, "acls"))


# Every filtered port carries the shared drop group: its two drop ACLs (ML2/OVN's shape) and
# the two allowances for DHCP requests to OVN's own server.
DROP_ROWS = (
    DesiredRow(DROP, {}),
    drop_acl("from-lport", 1000, "drop", "inport == @neutron_pg_drop && ip"),
    drop_acl("to-lport", 1000, "drop", "outport == @neutron_pg_drop && ip"),
    drop_acl("from-lport", 1001, "allow", DHCP4_OUT),
    drop_acl("from-lport", 1001, "allow", DHCP6_OUT),
)

IP4 = FixedIp(SUB4, "10.0.0.5", 24, 4, dhcp=True)
IP4_NODHCP = FixedIp(SUB4, "10.0.0.5", 24, 4, dhcp=False)
IP4B = FixedIp(SUB4B, "10.0.1.7", 26, 4, dhcp=True)
IP6 = FixedIp(SUB6, "fd00:10::5", 64, 6, dhcp=True)
IP6_SLAAC = FixedIp(SUB6, "fd00:10::5", 64, 6, dhcp=False)


def dhcp(subnet_id: str) -> RowKey:
    return RowKey("DHCP_Options", "external_ids", subnet_id, map_key="subnet_id")


def port(**overrides: Any) -> PortFacts:
    values: dict[str, Any] = {
        "id": PORT_ID,
        "name": "port1",
        "network_id": NET_ID,
        "project_id": "proj",
        "revision": 1,
        "mac_address": MAC,
        "admin_state_up": True,
        "device_id": "",
        "device_owner": "",
        "fixed_ips": (IP4,),
        "port_security_enabled": True,
        "allowed_address_pairs": (),
        "binding_host_id": "",
        "binding_profile": (),
        "vnic_type": "normal",
        "security_group_ids": ("sg1",),
    }
    values.update(overrides)
    return PortFacts(**values)


def external_ids(**overrides: str) -> dict[str, str]:
    values = {
        "neutron:cidrs": "10.0.0.5/24",
        "neutron:device_id": "",
        "neutron:device_owner": "",
        "neutron:mtu": "",
        "neutron:network_name": f"neutron-{NET_ID}",
        "neutron:port_capabilities": "",
        "neutron:port_name": "port1",
        "neutron:project_id": "proj",
        "neutron:revision_number": "1",
        "neutron:security_group_ids": "sg1",
        "neutron:subnet_pool_addr_scope4": "",
        "neutron:subnet_pool_addr_scope6": "",
        "neutron:vnic_type": "normal",
    }
    values.update(overrides)
    return values


def pg(name: str) -> RowKey:
    return RowKey("Port_Group", "name", name)


# a port that is no trunk's subport: no parent, no VLAN (cleared when it leaves a trunk)
NO_CHILD = {"parent_name": None, "tag_request": None, "tag": None}


def lsp_state(
    columns: dict[str, Any],
    dhcpv4: RowKey | None = None,
    dhcpv6: RowKey | None = None,
    groups: tuple[str, ...] = ("pg_sg1",),
    filtered: bool = True,
) -> DesiredState:
    """The port's LSP; when `filtered`, also the drop group rows and the port's memberships
    of the drop group and of `groups` (Port_Group names), in that order."""
    full = {
        **NO_CHILD,
        "type": "",
        "addresses": [f"{MAC} 10.0.0.5"],
        "port_security": [f"{MAC} 10.0.0.5"],
        "options": {},
        "enabled": True,
        "external_ids": external_ids(),
    }
    full.update(columns)
    row = DesiredRow(
        LSP_KEY,
        full,
        refs={"dhcpv4_options": dhcpv4, "dhcpv6_options": dhcpv6},
        parent=ParentLink(SWITCH, "ports"),
    )
    if not filtered:
        return DesiredState("port", PORT_ID, (row,), (LSP_KEY, LRP_KEY, *OWN_DHCP), (), (LSP_KEY,))
    members = tuple(
        Membership(group, "ports", LSP_KEY) for group in (DROP, *(pg(g) for g in groups))
    )
    return DesiredState("port", PORT_ID, (row, *DROP_ROWS), (LSP_KEY, LRP_KEY, *OWN_DHCP), members,
                        (LSP_KEY,))


VTEP_PROFILE = (("vtep-physical-switch", "psw1"), ("vtep-logical-switch", "lsw1"))


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(port(), lsp_state({}, dhcpv4=dhcp(SUB4)), id="vm-one-ipv4"),
        pytest.param(
            port(fixed_ips=(IP4, IP6)),
            lsp_state(
                {
                    "addresses": [f"{MAC} 10.0.0.5 fd00:10::5"],
                    "port_security": [f"{MAC} 10.0.0.5 fd00:10::5"],
                    "external_ids": external_ids(
                        **{"neutron:cidrs": "10.0.0.5/24 fd00:10::5/64"}
                    ),
                },
                dhcpv4=dhcp(SUB4),
                dhcpv6=dhcp(SUB6),
            ),
            id="vm-dual-stack",
        ),
        pytest.param(
            # IPv4 comes first in addresses even when given later; cidrs keep the port's order.
            port(fixed_ips=(IP6, IP4)),
            lsp_state(
                {
                    "addresses": [f"{MAC} 10.0.0.5 fd00:10::5"],
                    "port_security": [f"{MAC} 10.0.0.5 fd00:10::5"],
                    "external_ids": external_ids(
                        **{"neutron:cidrs": "fd00:10::5/64 10.0.0.5/24"}
                    ),
                },
                dhcpv4=dhcp(SUB4),
                dhcpv6=dhcp(SUB6),
            ),
            id="vm-ipv6-given-first",
        ),
        pytest.param(
            port(fixed_ips=(IP6, IP4B, IP4)),
            lsp_state(
                {
                    "addresses": [f"{MAC} 10.0.1.7 10.0.0.5 fd00:10::5"],
                    "port_security": [f"{MAC} 10.0.1.7 10.0.0.5 fd00:10::5"],
                    "external_ids": external_ids(
                        **{"neutron:cidrs": "fd00:10::5/64 10.0.1.7/26 10.0.0.5/24"}
                    ),
                },
                dhcpv4=dhcp(SUB4B),
                dhcpv6=dhcp(SUB6),
            ),
            id="vm-two-ipv4-keep-own-order-first-dhcp-subnet-wins",
        ),
        pytest.param(
            port(fixed_ips=(IP4_NODHCP, IP6_SLAAC)),
            lsp_state(
                {
                    "addresses": [f"{MAC} 10.0.0.5 fd00:10::5"],
                    "port_security": [f"{MAC} 10.0.0.5 fd00:10::5"],
                    "external_ids": external_ids(
                        **{"neutron:cidrs": "10.0.0.5/24 fd00:10::5/64"}
                    ),
                },
            ),
            id="vm-no-dhcp-refs-when-subnets-offer-none",
        ),
        pytest.param(
            port(fixed_ips=(IP4_NODHCP, IP4B)),
            lsp_state(
                {
                    "addresses": [f"{MAC} 10.0.0.5 10.0.1.7"],
                    "port_security": [f"{MAC} 10.0.0.5 10.0.1.7"],
                    "external_ids": external_ids(
                        **{"neutron:cidrs": "10.0.0.5/24 10.0.1.7/26"}
                    ),
                },
                dhcpv4=dhcp(SUB4B),
            ),
            id="vm-dhcpv4-ref-to-the-dhcp-enabled-subnet-only",
        ),
        pytest.param(
            port(fixed_ips=()),
            lsp_state(
                {
                    "addresses": [MAC],
                    "port_security": [MAC],
                    "external_ids": external_ids(**{"neutron:cidrs": ""}),
                }
            ),
            id="vm-no-fixed-ips",
        ),
        pytest.param(
            port(allowed_address_pairs=(AddressPair("10.0.0.200", MAC),)),
            lsp_state(
                {"port_security": [f"{MAC} 10.0.0.5 10.0.0.200"]}, dhcpv4=dhcp(SUB4)
            ),
            id="pair-same-mac-appended",
        ),
        pytest.param(
            port(
                allowed_address_pairs=(
                    AddressPair("10.0.0.200", OTHER_MAC),
                    AddressPair("10.0.0.201", MAC),
                    AddressPair("10.0.0.0/28", OTHER_MAC),
                )
            ),
            lsp_state(
                {
                    "port_security": [
                        f"{MAC} 10.0.0.5 10.0.0.201",
                        f"{OTHER_MAC} 10.0.0.200 10.0.0.0/28",
                    ]
                },
                dhcpv4=dhcp(SUB4),
            ),
            id="pair-other-mac-separate-entry",
        ),
        pytest.param(
            port(port_security_enabled=False),
            lsp_state(
                {"addresses": [f"{MAC} 10.0.0.5", "unknown"], "port_security": []},
                dhcpv4=dhcp(SUB4),
                filtered=False,
            ),
            id="port-security-disabled",
        ),
        pytest.param(
            port(port_security_enabled=False,
                 allowed_address_pairs=(AddressPair("10.0.0.200", MAC),)),
            lsp_state(
                {"addresses": [f"{MAC} 10.0.0.5", "unknown"], "port_security": []},
                dhcpv4=dhcp(SUB4),
                filtered=False,
            ),
            id="port-security-disabled-ignores-pairs",
        ),
        pytest.param(
            port(admin_state_up=False),
            lsp_state({"enabled": False}, dhcpv4=dhcp(SUB4)),
            id="admin-down",
        ),
        pytest.param(
            port(binding_host_id="compute-1"),
            lsp_state({"options": {"requested-chassis": "compute-1"}}, dhcpv4=dhcp(SUB4)),
            id="bound-host-requested-chassis",
        ),
        pytest.param(
            port(device_owner="network:distributed", device_id=f"ovnmeta-{NET_ID}",
                 security_group_ids=()),
            lsp_state({"type": "localport", "addresses": [f"{MAC} 10.0.0.5"],
                       "port_security": [],
                       "external_ids": external_ids(
                           **{"neutron:device_owner": "network:distributed",
                              "neutron:device_id": f"ovnmeta-{NET_ID}",
                              "neutron:security_group_ids": ""})},
                      filtered=False),
            id="metadata-port-is-a-localport-without-dhcp",
        ),
        pytest.param(
            port(binding_host_id="compute-1", migrating_to=("compute-2",)),
            lsp_state({"options": {"requested-chassis": "compute-1,compute-2",
                                   "activation-strategy": "rarp"}}, dhcpv4=dhcp(SUB4)),
            id="live-migration-names-both-chassis-rarp",
        ),
        pytest.param(
            port(binding_profile=VTEP_PROFILE, binding_host_id="compute-1"),
            lsp_state(
                {
                    "type": "vtep",
                    "addresses": ["unknown"],
                    "port_security": [],
                    "options": {
                        "vtep-physical-switch": "psw1",
                        "vtep-logical-switch": "lsw1",
                    },
                },
                dhcpv4=dhcp(SUB4),
                filtered=False,
            ),
            id="vtep-binding-profile",
        ),
        pytest.param(
            port(binding_profile=VTEP_PROFILE, vtep_learned=("00:11:22:33:44:66",
                                                             "00:11:22:33:44:55")),
            lsp_state(
                {
                    "type": "vtep",
                    "addresses": ["unknown", "00:11:22:33:44:55", "00:11:22:33:44:66"],
                    "port_security": [],
                    "options": {
                        "vtep-physical-switch": "psw1",
                        "vtep-logical-switch": "lsw1",
                    },
                },
                dhcpv4=dhcp(SUB4),
                filtered=False,
            ),
            id="vtep-port-lists-the-macs-its-vtep-learnt",
        ),
        pytest.param(
            port(binding_profile=(("vtep-physical-switch", "psw1"),)),
            lsp_state({}, dhcpv4=dhcp(SUB4)),
            id="incomplete-vtep-profile-is-vm",
        ),
        pytest.param(
            port(binding_profile=(("vtep-physical-switch", "psw1"),
                                  ("vtep-logical-switch", ""))),
            lsp_state({}, dhcpv4=dhcp(SUB4)),
            id="empty-vtep-value-is-vm",
        ),
        pytest.param(
            port(
                name="",
                project_id="",
                revision=3,
                device_id="dev-1",
                device_owner="compute:nova",
                vnic_type="direct",
                security_group_ids=("sg1", "sg2"),
            ),
            lsp_state(
                {
                    "external_ids": external_ids(
                        **{
                            "neutron:port_name": "",
                            "neutron:project_id": "",
                            "neutron:revision_number": "3",
                            "neutron:device_id": "dev-1",
                            "neutron:device_owner": "compute:nova",
                            "neutron:vnic_type": "direct",
                            "neutron:security_group_ids": "sg1 sg2",
                        }
                    )
                },
                dhcpv4=dhcp(SUB4),
                groups=("pg_sg1", "pg_sg2"),
            ),
            id="external-ids-follow-facts",
        ),
        pytest.param(
            port(security_group_ids=()),
            lsp_state(
                {"external_ids": external_ids(**{"neutron:security_group_ids": ""})},
                dhcpv4=dhcp(SUB4),
                groups=(),
            ),
            id="no-security-groups-only-drop-group",
        ),
        pytest.param(
            port(security_group_ids=(SG_DASHED, "sg1")),
            lsp_state(
                {"external_ids": external_ids(
                    **{"neutron:security_group_ids": f"{SG_DASHED} sg1"})},
                dhcpv4=dhcp(SUB4),
                groups=(f"pg_{SG_DASHED.replace('-', '_')}", "pg_sg1"),
            ),
            id="group-names-underscored-in-given-order",
        ),
        pytest.param(
            port(binding_profile=VTEP_PROFILE, port_security_enabled=False),
            lsp_state(
                {
                    "type": "vtep",
                    "addresses": ["unknown"],
                    "port_security": [],
                    "options": {
                        "vtep-physical-switch": "psw1",
                        "vtep-logical-switch": "lsw1",
                    },
                },
                dhcpv4=dhcp(SUB4),
                filtered=False,
            ),
            id="vtep-without-port-security",
        ),
        pytest.param(
            port(floating_ip=FIP),
            lsp_state({"external_ids": external_ids(**{"neutron:port_fip": FIP})},
                      dhcpv4=dhcp(SUB4)),
            id="fixed-port-of-a-floating-ip",
        ),
        pytest.param(
            port(device_owner="network:dhcp", security_group_ids=()),
            lsp_state(
                {"port_security": [],
                 "external_ids": external_ids(**{"neutron:device_owner": "network:dhcp",
                                                 "neutron:security_group_ids": ""})},
                dhcpv4=dhcp(SUB4),
                filtered=False,
            ),
            id="trusted-network-owner-no-port-security-entries",
        ),
    ],
)
def test_build_port(facts: PortFacts, expected: DesiredState) -> None:
    assert build_port(facts) == expected


@pytest.mark.parametrize(
    ("facts", "child"),
    [
        pytest.param(port(trunk_parent="parent-1", trunk_tag=101),
                     {"parent_name": "parent-1", "tag_request": 101, "tag": 101},
                     id="subport-is-a-child-of-the-parent-with-its-vlan"),
        pytest.param(port(trunk_parent="parent-1", trunk_tag=4094,
                          binding_host_id="compute-1"),
                     {"parent_name": "parent-1", "tag_request": 4094, "tag": 4094},
                     id="bound-subport-highest-vlan"),
        pytest.param(port(), NO_CHILD, id="other-port-no-parent-no-tag"),
    ],
)
def test_trunk_subport_columns(facts: PortFacts, child: dict[str, Any]) -> None:
    row = build_port(facts).rows[0]
    assert {k: row.columns[k] for k in NO_CHILD} == child
    # everything else is the port's as any port's
    plain = build_port(port(binding_host_id=facts.binding_host_id)).rows[0]
    assert {k: v for k, v in row.columns.items() if k not in NO_CHILD} == \
        {k: v for k, v in plain.columns.items() if k not in NO_CHILD}


def test_port_external_ids_key_set_follows_conventions() -> None:
    row = build_port(port()).rows[0]
    assert row.key == LSP_KEY
    assert set(row.columns["external_ids"]) == {
        "neutron:cidrs",
        "neutron:device_id",
        "neutron:device_owner",
        "neutron:mtu",
        "neutron:network_name",
        "neutron:port_capabilities",
        "neutron:port_name",
        "neutron:project_id",
        "neutron:revision_number",
        "neutron:security_group_ids",
        "neutron:subnet_pool_addr_scope4",
        "neutron:subnet_pool_addr_scope6",
        "neutron:vnic_type",
    }
    assert row.revision == 1


def test_port_external_ids_with_floating_ip_add_port_fip() -> None:
    row = build_port(port(floating_ip=FIP)).rows[0]
    assert set(row.columns["external_ids"]) - set(external_ids()) == {"neutron:port_fip"}
    assert row.columns["external_ids"]["neutron:port_fip"] == FIP


def test_port_lookup_keys_include_switch_dhcp_and_group_rows() -> None:
    state = build_port(port(fixed_ips=(IP4, IP6), security_group_ids=("sg1", "sg2")))
    assert state.lookup_keys() == {
        LSP_KEY, LRP_KEY, *OWN_DHCP, SWITCH, dhcp(SUB4), dhcp(SUB6),
        DROP, DROP_ACL_FROM, DROP_ACL_TO, RowKey("ACL", "match", DHCP4_OUT),
        RowKey("ACL", "match", DHCP6_OUT), pg("pg_sg1"), pg("pg_sg2"),
    }


def test_unfiltered_port_lookup_keys_have_no_group_rows() -> None:
    state = build_port(port(port_security_enabled=False))
    assert state.lookup_keys() == {LSP_KEY, LRP_KEY, *OWN_DHCP, SWITCH, dhcp(SUB4)}


def test_drop_rows_are_not_owned_by_the_port() -> None:
    """The shared drop group must never be deleted because one port stops wanting it."""
    state = build_port(port())
    assert state.owned == (LSP_KEY, LRP_KEY, *OWN_DHCP)
    assert [r.key for r in state.rows] == [LSP_KEY, *(r.key for r in DROP_ROWS)]


def test_vm_port_owns_a_router_port_it_does_not_want() -> None:
    """A port that stops being a router interface has its Logical_Router_Port removed."""
    state = build_port(port())
    assert LRP_KEY in state.owned
    assert LRP_KEY not in {row.key for row in state.rows}


def test_trusted_network_owned_port_joins_no_group() -> None:
    state = build_port(port(device_owner="network:dhcp", security_group_ids=()))
    assert (state.members, state.rows[1:]) == ((), ())


def test_port_key() -> None:
    assert port_key(PORT_ID) == LSP_KEY


def test_router_port_key() -> None:
    assert router_port_key(PORT_ID) == LRP_KEY


# --- router interface and gateway ports ------------------------------------------------

INTERFACE = "network:router_interface"
GATEWAY = "network:router_gateway"
IP6_RA = {
    mode: FixedIp(SUB6, "fd00:10::1", 64, 6, dhcp=mode != "slaac", ra_mode=mode)
    for mode in ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
}
IP4_GW = FixedIp(SUB4, "10.0.0.1", 24, 4, dhcp=True)


def router_port(**overrides: Any) -> PortFacts:
    values: dict[str, Any] = {
        "name": "",
        "device_owner": INTERFACE,
        "device_id": ROUTER_ID,
        "fixed_ips": (IP4_GW,),
        "security_group_ids": (),
        "network_mtu": 1442,
    }
    values.update(overrides)
    return port(**values)


NO_DHCP: dict[str, RowKey | None] = {"dhcpv4_options": None, "dhcpv6_options": None}


def router_lsp(
    owner: str = INTERFACE,
    cidrs: str = "10.0.0.1/24",
    enabled: bool = True,
    options: dict[str, str] | None = None,
    project_id: str = "proj",
) -> DesiredRow:
    """A router's switch port: never a DHCP client, whatever its subnets offer."""
    columns = {
        **NO_CHILD,
        "type": "router",
        "addresses": ["router"],
        "port_security": [],
        "options": options or {"router-port": f"lrp-{PORT_ID}"},
        "enabled": enabled,
        "external_ids": external_ids(**{
            "neutron:cidrs": cidrs,
            "neutron:device_id": ROUTER_ID,
            "neutron:device_owner": owner,
            "neutron:port_name": "",
            "neutron:project_id": project_id,
            "neutron:security_group_ids": "",
        }),
    }
    return DesiredRow(LSP_KEY, columns, refs=NO_DHCP, parent=ParentLink(SWITCH, "ports"))


def interface_lrp(
    networks: list[str],
    subnet_ids: str = SUB4,
    ra: dict[str, str] | None = None,
    enabled: bool = True,
    revision: str = "1",
) -> DesiredRow:
    columns = {
        "mac": MAC,
        "networks": networks,
        "enabled": enabled,
        "external_ids": {
            "neutron:is_ext_gw": "False",
            "neutron:network_name": f"neutron-{NET_ID}",
            "neutron:router_name": f"neutron-{ROUTER_ID}",
            "neutron:subnet_ids": subnet_ids,
            "neutron:revision_number": revision,
        },
        "ipv6_ra_configs": ra or {},
    }
    return DesiredRow(LRP_KEY, columns, parent=ParentLink(ROUTER, "ports"))


def interface_state(lsp: DesiredRow, lrp: DesiredRow) -> DesiredState:
    return DesiredState("port", PORT_ID, (lsp, lrp), (LSP_KEY, LRP_KEY, *OWN_DHCP), (), (LSP_KEY,))


def ra(mode: str, mtu: str = "1442") -> dict[str, str]:
    return {"address_mode": mode, "mtu": mtu, "send_periodic": "true"}


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(
            router_port(),
            interface_state(router_lsp(), interface_lrp(["10.0.0.1/24"])),
            id="interface-ipv4",
        ),
        pytest.param(
            router_port(fixed_ips=(IP4_GW, IP6_RA["slaac"])),
            interface_state(
                router_lsp(cidrs="10.0.0.1/24 fd00:10::1/64"),
                interface_lrp(["10.0.0.1/24", "fd00:10::1/64"], f"{SUB4} {SUB6}",
                              ra=ra("slaac")),
            ),
            id="interface-dual-stack-one-lrp-with-every-subnet",
        ),
        pytest.param(
            router_port(fixed_ips=(IP6_RA["dhcpv6-stateful"],)),
            interface_state(
                router_lsp(cidrs="fd00:10::1/64"),
                interface_lrp(["fd00:10::1/64"], SUB6, ra=ra("dhcpv6_stateful")),
            ),
            id="interface-ipv6-dhcpv6-stateful",
        ),
        pytest.param(
            router_port(fixed_ips=(IP6_RA["dhcpv6-stateless"],), network_mtu=1500),
            interface_state(
                router_lsp(cidrs="fd00:10::1/64"),
                interface_lrp(["fd00:10::1/64"], SUB6, ra=ra("dhcpv6_stateless", "1500")),
            ),
            id="interface-ipv6-dhcpv6-stateless-network-mtu",
        ),
        pytest.param(
            router_port(fixed_ips=(IP6_SLAAC,)),
            interface_state(
                router_lsp(cidrs="fd00:10::5/64"),
                interface_lrp(["fd00:10::5/64"], SUB6),
            ),
            id="interface-ipv6-without-ra-mode-no-ra-configs",
        ),
        pytest.param(
            router_port(fixed_ips=(IP6_RA["slaac"], IP4_GW,
                                   FixedIp(SUB6, "fd00:10::99", 64, 6, dhcp=False))),
            interface_state(
                router_lsp(cidrs="fd00:10::1/64 10.0.0.1/24 fd00:10::99/64"),
                interface_lrp(["fd00:10::1/64", "10.0.0.1/24", "fd00:10::99/64"],
                              f"{SUB6} {SUB4}", ra=ra("slaac")),
            ),
            id="interface-networks-in-port-order-subnet-ids-unique",
        ),
        pytest.param(
            router_port(admin_state_up=False, revision=4),
            DesiredState(
                "port", PORT_ID,
                (DesiredRow(LSP_KEY, {**router_lsp().columns, "enabled": False,
                                      "external_ids": {**router_lsp().columns["external_ids"],
                                                       "neutron:revision_number": "4"}},
                            refs=NO_DHCP,
                            parent=ParentLink(SWITCH, "ports")),
                 interface_lrp(["10.0.0.1/24"], enabled=False, revision="4")),
                (LSP_KEY, LRP_KEY, *OWN_DHCP), (), (LSP_KEY,),
            ),
            id="interface-admin-down-and-revision",
        ),
        pytest.param(
            router_port(security_group_ids=("sg1",), port_security_enabled=True),
            DesiredState(
                "port", PORT_ID,
                (DesiredRow(LSP_KEY, {**router_lsp().columns,
                                      "external_ids": {**router_lsp().columns["external_ids"],
                                                       "neutron:security_group_ids": "sg1"}},
                            refs=NO_DHCP,
                            parent=ParentLink(SWITCH, "ports")),
                 interface_lrp(["10.0.0.1/24"])),
                (LSP_KEY, LRP_KEY, *OWN_DHCP), (), (LSP_KEY,),
            ),
            id="interface-is-in-no-port-group",
        ),
        pytest.param(
            router_port(device_owner=GATEWAY, project_id="",
                        fixed_ips=(FixedIp(SUB4, "172.24.4.40", 24, 4, dhcp=False),)),
            DesiredState(
                "port", PORT_ID,
                (router_lsp(GATEWAY, cidrs="172.24.4.40/24", project_id="",
                            options={"router-port": f"lrp-{PORT_ID}",
                                     "nat-addresses": "router",
                                     "exclude-lb-vips-from-garp": "true"}),),
                (LSP_KEY, *OWN_DHCP), (), (LSP_KEY,),
            ),
            id="gateway-port-lsp-only-lrp-belongs-to-the-router",
        ),
    ],
)
def test_build_router_port(facts: PortFacts, expected: DesiredState) -> None:
    assert build_port(facts) == expected


def test_gateway_port_on_dhcp_enabled_subnets_asks_for_no_dhcp() -> None:
    facts = router_port(device_owner=GATEWAY, project_id="",
                        fixed_ips=(FixedIp(SUB4, "172.24.4.40", 24, 4, dhcp=True),
                                   FixedIp(SUB6, "2001:db8::40", 64, 6, dhcp=True)))
    assert build_port(facts).rows[0].refs == NO_DHCP


# --- absent: the switch port and the router port go together ----------------------------

ABSENT = DesiredState("port", PORT_ID, (), (LSP_KEY, LRP_KEY, *OWN_DHCP))


def test_floating_ip_port_has_no_switch_port() -> None:
    assert build_port(port(device_owner="network:floatingip")) == ABSENT


def test_build_port_absent_removes_the_router_port() -> None:
    """Deleting an interface (or gateway) port takes its lrp-<port id> along with the LSP."""
    assert build_port_absent(PORT_ID) == ABSENT
