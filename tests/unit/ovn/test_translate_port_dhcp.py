"""extra_dhcp_opts → a port's own DHCP_Options rows (ML2/OVN's shape), as pure values."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.ovn.rows import DesiredRow, RowKey
from neutrino.ovn.translate.inputs import (
    DhcpOpt,
    FixedIp,
    PortFacts,
    SubnetFacts,
    TranslateConfig,
)
from neutrino.ovn.translate.port_dhcp import lsp_dhcp_options
from neutrino.ovn.translate.ports import build_port

PORT_ID = "0f0f0f0f-1111-4222-8333-444444444444"
NET_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SUB4 = "44444444-0000-4000-8000-000000000004"
SUB6 = "66666666-0000-4000-8000-000000000006"
SERVER_MAC = "fa:16:3e:11:22:33"
CONFIG = TranslateConfig(dns_servers=("192.0.2.53", "2001:db8::53"))

SUBNET4 = SubnetFacts(
    id=SUB4, network_id=NET_ID, revision=3, network_mtu=1442, ip_version=4,
    cidr="10.0.0.0/24", gateway_ip="10.0.0.1", enable_dhcp=True, ipv6_address_mode=None,
    dns_nameservers=(), host_routes=(("172.16.0.0/16", "10.0.0.254"),),
    dhcp_server_mac=SERVER_MAC)
SUBNET6 = SubnetFacts(
    id=SUB6, network_id=NET_ID, revision=2, network_mtu=1442, ip_version=6,
    cidr="fd00:10::/64", gateway_ip="fd00:10::1", enable_dhcp=True,
    ipv6_address_mode="dhcpv6-stateful", dns_nameservers=(), host_routes=(),
    dhcp_server_mac=SERVER_MAC)
IP4 = FixedIp(SUB4, "10.0.0.5", 24, 4, dhcp=True)
IP6 = FixedIp(SUB6, "fd00:10::5", 64, 6, dhcp=True)

SUBNET4_OPTIONS = {
    "lease_time": "43200", "mtu": "1442", "server_id": "10.0.0.1",
    "server_mac": SERVER_MAC, "router": "10.0.0.1", "dns_server": "{192.0.2.53}",
    "classless_static_route": "{172.16.0.0/16,10.0.0.254, 0.0.0.0/0,10.0.0.1}",
}
SUBNET6_OPTIONS = {"server_id": SERVER_MAC, "dns_server": "{2001:db8::53}"}


def shared(subnet_id: str) -> RowKey:
    return RowKey("DHCP_Options", "external_ids", subnet_id, map_key="subnet_id")


def own(version: int) -> RowKey:
    return RowKey("DHCP_Options", "external_ids", f"{PORT_ID} {version}",
                  map_key="neutron:port_dhcp_key")


def own_row(version: int, options: dict[str, str]) -> DesiredRow:
    subnet = SUBNET4 if version == 4 else SUBNET6
    external_ids = {"subnet_id": subnet.id, "neutron:network_id": NET_ID,
                    "port_id": PORT_ID, "neutron:port_dhcp_key": f"{PORT_ID} {version}",
                    "neutron:revision_number": "7"}
    return DesiredRow(own(version), {"cidr": subnet.cidr, "options": options,
                                     "external_ids": external_ids})


def port(*opts: DhcpOpt, **overrides: Any) -> PortFacts:
    values: dict[str, Any] = {
        "id": PORT_ID, "name": "p", "network_id": NET_ID, "project_id": "proj",
        "revision": 7, "mac_address": "fa:16:3e:aa:bb:cc", "admin_state_up": True,
        "device_id": "", "device_owner": "", "fixed_ips": (IP4, IP6),
        "port_security_enabled": False, "allowed_address_pairs": (), "binding_host_id": "",
        "binding_profile": (), "vnic_type": "normal", "extra_dhcp_opts": opts,
        "dhcp_subnets": (SUBNET4, SUBNET6),
    }
    values.update(overrides)
    return PortFacts(**values)


def v4(name: str, value: str) -> DhcpOpt:
    return DhcpOpt(name, value, 4)


def v6(name: str, value: str) -> DhcpOpt:
    return DhcpOpt(name, value, 6)


@pytest.mark.parametrize(
    ("facts", "refs", "rows"),
    [
        pytest.param(port(), (shared(SUB4), shared(SUB6)), (), id="no-options-shares-subnets"),
        pytest.param(
            port(v4("mtu", "1400"), v4("router", "10.0.0.254")),
            (own(4), shared(SUB6)),
            (own_row(4, SUBNET4_OPTIONS | {"mtu": "1400", "router": "10.0.0.254"}),),
            id="ipv4-overrides",
        ),
        pytest.param(
            port(v4("26", "1400"), v4("3", "10.0.0.254")),
            (own(4), shared(SUB6)),
            (own_row(4, SUBNET4_OPTIONS | {"mtu": "1400", "router": "10.0.0.254"}),),
            id="ipv4-by-dhcp-code",
        ),
        pytest.param(
            port(v4("domain-name", "example.org"), v4("bootfile-name", '"pxelinux.0"'),
                 v4("ntp-server", "192.0.2.123")),
            (own(4), shared(SUB6)),
            (own_row(4, SUBNET4_OPTIONS | {"domain_name": '"example.org"',
                                           "bootfile_name": '"pxelinux.0"',
                                           "ntp_server": "192.0.2.123"}),),
            id="ipv4-extends-string-options-quoted-once",
        ),
        pytest.param(
            port(v4("classless-static-route", "169.254.169.254/32,10.0.0.2")),
            (own(4), shared(SUB6)),
            (own_row(4, SUBNET4_OPTIONS | {"classless_static_route":
             "{172.16.0.0/16,10.0.0.254, 0.0.0.0/0,10.0.0.1, 169.254.169.254/32,10.0.0.2}"}),),
            id="set-option-keeps-subnet-entries",
        ),
        pytest.param(
            port(v4("not-an-ovn-option", "1"), v4("tag:ipxe,67", "x")),
            (shared(SUB4), shared(SUB6)), (),
            id="unsupported-only-shares-subnet",
        ),
        pytest.param(
            port(v6("dns-server", "{2001:db8::1}"), v6("bootfile-name", "boot.efi")),
            (shared(SUB4), own(6)),
            (own_row(6, SUBNET6_OPTIONS | {"dns_server": "{2001:db8::1}",
                                           "bootfile_name": '"boot.efi"'}),),
            id="ipv6-only",
        ),
        pytest.param(
            port(v4("mtu", "1400"), v6("domain-search", "example.org")),
            (own(4), own(6)),
            (own_row(4, SUBNET4_OPTIONS | {"mtu": "1400"}),
             own_row(6, SUBNET6_OPTIONS | {"domain_search": "example.org"})),
            id="both-versions",
        ),
        pytest.param(
            port(v4("mtu", "1400"), v4("dhcp_disabled", "True")),
            (None, shared(SUB6)), (),
            id="dhcp-disabled-ipv4-wins-over-options",
        ),
        pytest.param(
            port(v6("dhcp_disabled", "true"), v4("dhcp_disabled", "false")),
            (shared(SUB4), None), (),
            id="dhcp-disabled-per-version",
        ),
        pytest.param(
            port(v4("mtu", "1400"), fixed_ips=(FixedIp(SUB4, "10.0.0.5", 24, 4, dhcp=False),),
                 dhcp_subnets=()),
            (None, None), (),
            id="subnet-without-dhcp-no-row",
        ),
        pytest.param(
            port(v4("mtu", "1400"), device_owner="network:router_interface", device_id="r1"),
            (None, None), (),
            id="router-ports-ask-no-dhcp",
        ),
        pytest.param(
            port(v4("tag:ipxe,67", "ipxe.efi"), v4("tag:!ipxe,bootfile-name", "undionly.kpxe"),
                 vnic_type="baremetal"),
            (own(4), shared(SUB6)),
            (own_row(4, SUBNET4_OPTIONS | {"bootfile_name": '"ipxe.efi"',
                                           "bootfile_name_alt": '"undionly.kpxe"'}),),
            id="baremetal-ipxe-tags",
        ),
    ],
)
def test_port_dhcp_rows(facts: PortFacts, refs: tuple[RowKey | None, RowKey | None],
                        rows: tuple[DesiredRow, ...]) -> None:
    state = build_port(facts, CONFIG)
    lsp = state.rows[0]
    assert dict(lsp.refs) == {"dhcpv4_options": refs[0], "dhcpv6_options": refs[1]}
    assert tuple(r for r in state.rows if r.key.table == "DHCP_Options") == rows
    # both possible rows are the port's, wanted or not, so that unwanted ones are removed
    assert set(state.owned) >= {own(4), own(6)}


def test_own_row_carries_the_port_revision_not_the_subnet_one() -> None:
    row = build_port(port(v4("mtu", "1400"), revision=12), CONFIG).rows[1]
    assert row.revision == 12


def test_own_row_follows_subnet_facts() -> None:
    """A subnet change (here its DNS servers) reaches the port's own row too."""
    subnet = SubnetFacts(**{**SUBNET4.__dict__, "dns_nameservers": ("198.51.100.1",)})
    row = build_port(port(v4("mtu", "1400"), dhcp_subnets=(subnet, SUBNET6)), CONFIG).rows[1]
    assert row.columns["options"]["dns_server"] == "{198.51.100.1}"


def test_port_option_overrides_subnet_dns() -> None:
    row = build_port(port(v4("dns-server", "{10.9.9.9}")), CONFIG).rows[1]
    assert row.columns["options"]["dns_server"] == "{10.9.9.9}"


@pytest.mark.parametrize(
    ("opts", "version", "baremetal", "expected"),
    [
        pytest.param((), 4, False, (False, {}), id="none"),
        pytest.param((v4("server-ip-address", "192.0.2.9"),), 4, False,
                     (False, {"next_server": "192.0.2.9"}), id="renamed"),
        pytest.param((v4("mtu", "1400"),), 6, False, (False, {}), id="other-version-ignored"),
        pytest.param((v6("mtu", "1400"),), 6, False, (False, {}),
                     id="ipv4-only-name-under-ipv6-unsupported"),
        pytest.param((v4("tag:ipxe,67", "x"),), 4, False, (False, {}),
                     id="ipxe-tag-needs-baremetal"),
        pytest.param((v4("dhcp_disabled", "TRUE"), v4("mtu", "1")), 4, False, (True, {}),
                     id="disabled-case-insensitive"),
        pytest.param((v4("dhcp_disabled", "yes"),), 4, False, (False, {}),
                     id="disabled-only-by-true"),
        pytest.param((v4("router", ""),), 4, False, (False, {"router": ""}),
                     id="blank-router-sent-blank"),
    ],
)
def test_lsp_dhcp_options(opts: tuple[DhcpOpt, ...], version: int, baremetal: bool,
                          expected: tuple[bool, dict[str, str]]) -> None:
    assert lsp_dhcp_options(opts, version, baremetal) == expected
