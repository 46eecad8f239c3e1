"""port → Logical_Switch_Port in its network's switch, as whole DesiredStates."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.inputs import AddressPair, FixedIp, PortFacts
from neutrino.ovn.translate.ports import build_port, build_port_absent, port_key

PORT_ID = "0f0f0f0f-1111-4222-8333-444444444444"
NET_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SUB4 = "44444444-0000-4000-8000-000000000004"
SUB4B = "44444444-0000-4000-8000-00000000004b"
SUB6 = "66666666-0000-4000-8000-000000000006"
MAC = "fa:16:3e:aa:bb:cc"
OTHER_MAC = "fa:16:3e:00:00:01"
SWITCH = RowKey("Logical_Switch", "name", f"neutron-{NET_ID}")
LSP_KEY = RowKey("Logical_Switch_Port", "name", PORT_ID)

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


def lsp_state(
    columns: dict[str, Any], dhcpv4: RowKey | None = None, dhcpv6: RowKey | None = None
) -> DesiredState:
    full = {
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
    return DesiredState("port", PORT_ID, (row,), (LSP_KEY,))


NO_ROWS = DesiredState("port", PORT_ID, (), (LSP_KEY,))
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
            ),
            id="port-security-disabled",
        ),
        pytest.param(
            port(port_security_enabled=False,
                 allowed_address_pairs=(AddressPair("10.0.0.200", MAC),)),
            lsp_state(
                {"addresses": [f"{MAC} 10.0.0.5", "unknown"], "port_security": []},
                dhcpv4=dhcp(SUB4),
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
            ),
            id="vtep-binding-profile",
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
            ),
            id="external-ids-follow-facts",
        ),
        pytest.param(
            port(security_group_ids=()),
            lsp_state(
                {"external_ids": external_ids(**{"neutron:security_group_ids": ""})},
                dhcpv4=dhcp(SUB4),
            ),
            id="no-security-groups",
        ),
        pytest.param(port(device_owner="network:floatingip"), NO_ROWS, id="floatingip-no-lsp"),
    ],
)
def test_build_port(facts: PortFacts, expected: DesiredState) -> None:
    assert build_port(facts) == expected


def test_port_external_ids_key_set_follows_conventions() -> None:
    (row,) = build_port(port()).rows
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


def test_port_lookup_keys_include_switch_and_dhcp_rows() -> None:
    state = build_port(port(fixed_ips=(IP4, IP6)))
    assert state.lookup_keys() == {LSP_KEY, SWITCH, dhcp(SUB4), dhcp(SUB6)}


def test_port_key() -> None:
    assert port_key(PORT_ID) == LSP_KEY


def test_build_port_absent() -> None:
    assert build_port_absent(PORT_ID) == NO_ROWS
