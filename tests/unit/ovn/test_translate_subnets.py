"""subnet → DHCP_Options (or nothing), as whole DesiredStates."""

from __future__ import annotations

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, RowKey
from neutrino.ovn.translate.inputs import SubnetFacts, TranslateConfig
from neutrino.ovn.translate.subnets import (
    build_subnet,
    build_subnet_absent,
    dhcp_key,
    ovn_set,
)

SUBNET_ID = "11111111-2222-4333-8444-555555555555"
NET_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
MAC = "fa:16:3e:11:22:33"
KEY = RowKey("DHCP_Options", "external_ids", SUBNET_ID, map_key="subnet_id")
NO_CONFIG = TranslateConfig()


def v4(**overrides: object) -> SubnetFacts:
    values: dict[str, object] = {
        "id": SUBNET_ID,
        "network_id": NET_ID,
        "revision": 0,
        "network_mtu": 1442,
        "ip_version": 4,
        "cidr": "10.0.0.0/24",
        "gateway_ip": "10.0.0.1",
        "enable_dhcp": True,
        "ipv6_address_mode": None,
        "dns_nameservers": (),
        "host_routes": (),
        "dhcp_server_mac": MAC,
    }
    values.update(overrides)
    return SubnetFacts(**values)  # type: ignore[arg-type]


def v6(**overrides: object) -> SubnetFacts:
    values: dict[str, object] = {
        "ip_version": 6,
        "cidr": "fd00:10::/64",
        "gateway_ip": "fd00:10::",
        "ipv6_address_mode": "dhcpv6-stateful",
    }
    values.update(overrides)
    return v4(**values)


def dhcp_state(cidr: str, options: dict[str, str], revision: int = 0) -> DesiredState:
    row = DesiredRow(
        KEY,
        {
            "cidr": cidr,
            "options": options,
            "external_ids": {
                "subnet_id": SUBNET_ID,
                "neutron:network_id": NET_ID,
                "neutron:revision_number": str(revision),
            },
        },
    )
    return DesiredState("subnet", SUBNET_ID, (row,), (KEY,))


def v4_options(**extra: str) -> dict[str, str]:
    return {
        "lease_time": "43200",
        "mtu": "1442",
        "server_id": "10.0.0.1",
        "server_mac": MAC,
        "router": "10.0.0.1",
        **extra,
    }


NO_ROWS = DesiredState("subnet", SUBNET_ID, (), (KEY,))


def test_dhcp_key_uses_unprefixed_subnet_id_map_key() -> None:
    assert dhcp_key(SUBNET_ID) == KEY


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ((), "{}"),
        (("10.0.0.2",), "{10.0.0.2}"),
        (("10.0.0.2", "10.0.0.3"), "{10.0.0.2, 10.0.0.3}"),
        (["b", "a"], "{b, a}"),
    ],
)
def test_ovn_set(items: tuple[str, ...] | list[str], expected: str) -> None:
    assert ovn_set(items) == expected


@pytest.mark.parametrize(
    ("subnet", "config", "expected"),
    [
        pytest.param(v4(), NO_CONFIG, dhcp_state("10.0.0.0/24", v4_options()), id="v4-gateway"),
        pytest.param(
            v4(dns_nameservers=("10.0.0.2", "10.0.0.3")),
            NO_CONFIG,
            dhcp_state("10.0.0.0/24", v4_options(dns_server="{10.0.0.2, 10.0.0.3}")),
            id="v4-subnet-dns-ovn-set",
        ),
        pytest.param(
            v4(gateway_ip=None),
            NO_CONFIG,
            dhcp_state(
                "10.0.0.0/24",
                {"lease_time": "43200", "mtu": "1442", "server_id": "10.0.0.1",
                 "server_mac": MAC},
            ),
            id="v4-no-gateway-server-is-first-host-no-router",
        ),
        pytest.param(
            v4(gateway_ip=None, cidr="192.168.8.0/22"),
            NO_CONFIG,
            dhcp_state(
                "192.168.8.0/22",
                {"lease_time": "43200", "mtu": "1442", "server_id": "192.168.8.1",
                 "server_mac": MAC},
            ),
            id="v4-no-gateway-wider-cidr",
        ),
        pytest.param(
            v4(gateway_ip="10.0.0.254"),
            NO_CONFIG,
            dhcp_state(
                "10.0.0.0/24",
                v4_options(server_id="10.0.0.254", router="10.0.0.254"),
            ),
            id="v4-gateway-not-first-host",
        ),
        pytest.param(
            v4(),
            TranslateConfig(dns_servers=("10.255.255.53", "fd00::53", "8.8.8.8")),
            dhcp_state("10.0.0.0/24", v4_options(dns_server="{10.255.255.53, 8.8.8.8}")),
            id="v4-config-dns-only-ipv4",
        ),
        pytest.param(
            v4(),
            TranslateConfig(dns_servers=("fd00::53",)),
            dhcp_state("10.0.0.0/24", v4_options()),
            id="v4-config-dns-only-other-version-none",
        ),
        pytest.param(
            v4(dns_nameservers=("1.1.1.1",)),
            TranslateConfig(dns_servers=("10.255.255.53",)),
            dhcp_state("10.0.0.0/24", v4_options(dns_server="{1.1.1.1}")),
            id="v4-subnet-dns-wins-over-config",
        ),
        pytest.param(
            v4(),
            TranslateConfig(dhcp_lease_time=600),
            dhcp_state("10.0.0.0/24", v4_options(lease_time="600")),
            id="v4-config-lease-time",
        ),
        pytest.param(
            v4(network_mtu=1500, revision=4),
            NO_CONFIG,
            dhcp_state("10.0.0.0/24", v4_options(mtu="1500"), revision=4),
            id="v4-mtu-and-revision",
        ),
        pytest.param(
            v4(host_routes=(("192.168.0.0/24", "10.0.0.10"),)),
            NO_CONFIG,
            dhcp_state(
                "10.0.0.0/24",
                v4_options(
                    classless_static_route="{192.168.0.0/24,10.0.0.10, 0.0.0.0/0,10.0.0.1}"
                ),
            ),
            id="v4-host-routes-plus-default-via-gateway",
        ),
        pytest.param(
            v4(metadata_ip="10.0.0.2"),
            NO_CONFIG,
            dhcp_state("10.0.0.0/24", v4_options(
                classless_static_route="{169.254.169.254/32,10.0.0.2, 0.0.0.0/0,10.0.0.1}")),
            id="v4-metadata-route-via-the-metadata-port-then-default",
        ),
        pytest.param(
            v4(metadata_ip="10.0.0.2", host_routes=(("192.168.0.0/24", "10.0.0.10"),)),
            NO_CONFIG,
            dhcp_state("10.0.0.0/24", v4_options(
                classless_static_route="{169.254.169.254/32,10.0.0.2, "
                "192.168.0.0/24,10.0.0.10, 0.0.0.0/0,10.0.0.1}")),
            id="v4-metadata-route-first-then-host-routes",
        ),
        pytest.param(
            v4(metadata_ip="10.0.0.2",
               host_routes=(("169.254.169.254/32", "10.0.0.9"),)),
            NO_CONFIG,
            dhcp_state("10.0.0.0/24", v4_options(
                classless_static_route="{169.254.169.254/32,10.0.0.9, 0.0.0.0/0,10.0.0.1}")),
            id="v4-a-host-route-to-metadata-wins",
        ),
        pytest.param(
            v4(host_routes=(("192.168.0.0/24", "10.0.0.10"), ("172.16.0.0/12", "10.0.0.11"))),
            NO_CONFIG,
            dhcp_state(
                "10.0.0.0/24",
                v4_options(
                    classless_static_route="{192.168.0.0/24,10.0.0.10, "
                    "172.16.0.0/12,10.0.0.11, 0.0.0.0/0,10.0.0.1}"
                ),
            ),
            id="v4-two-host-routes-in-order",
        ),
        pytest.param(
            v4(host_routes=(("0.0.0.0/0", "10.0.0.99"),)),
            NO_CONFIG,
            dhcp_state(
                "10.0.0.0/24",
                v4_options(classless_static_route="{0.0.0.0/0,10.0.0.99}"),
            ),
            id="v4-explicit-default-route-not-duplicated",
        ),
        pytest.param(
            v4(gateway_ip=None, host_routes=(("192.168.0.0/24", "10.0.0.10"),)),
            NO_CONFIG,
            dhcp_state(
                "10.0.0.0/24",
                {"lease_time": "43200", "mtu": "1442", "server_id": "10.0.0.1",
                 "server_mac": MAC, "classless_static_route": "{192.168.0.0/24,10.0.0.10}"},
            ),
            id="v4-host-routes-without-gateway-no-default",
        ),
        pytest.param(v4(enable_dhcp=False), NO_CONFIG, NO_ROWS, id="v4-dhcp-disabled"),
        pytest.param(
            v4(enable_dhcp=False, dns_nameservers=("10.0.0.2",)),
            TranslateConfig(dns_servers=("8.8.8.8",)),
            NO_ROWS,
            id="v4-dhcp-disabled-with-dns",
        ),
        pytest.param(v6(ipv6_address_mode="slaac"), NO_CONFIG, NO_ROWS, id="v6-slaac"),
        pytest.param(v6(ipv6_address_mode=None), NO_CONFIG, NO_ROWS, id="v6-no-mode"),
        pytest.param(
            v6(enable_dhcp=False), NO_CONFIG, NO_ROWS, id="v6-stateful-dhcp-disabled"
        ),
        pytest.param(
            v6(),
            NO_CONFIG,
            dhcp_state("fd00:10::/64", {"server_id": MAC}),
            id="v6-stateful-server-id-only",
        ),
        pytest.param(
            v6(ipv6_address_mode="dhcpv6-stateless"),
            NO_CONFIG,
            dhcp_state("fd00:10::/64", {"server_id": MAC, "dhcpv6_stateless": "true"}),
            id="v6-stateless",
        ),
        pytest.param(
            v6(),
            TranslateConfig(dns_servers=("10.255.255.53", "fd00::53", "2001:db8::1")),
            dhcp_state("fd00:10::/64", {"server_id": MAC, "dns_server": "{fd00::53, 2001:db8::1}"}),
            id="v6-config-dns-only-ipv6",
        ),
        pytest.param(
            v6(dns_nameservers=("fd00::2",)),
            NO_CONFIG,
            dhcp_state("fd00:10::/64", {"server_id": MAC, "dns_server": "{fd00::2}"}),
            id="v6-subnet-dns",
        ),
        pytest.param(
            v6(host_routes=(("fd00:99::/64", "fd00:10::9"),), dns_nameservers=()),
            NO_CONFIG,
            dhcp_state("fd00:10::/64", {"server_id": MAC}),
            id="v6-host-routes-not-offered",
        ),
    ],
)
def test_build_subnet(subnet: SubnetFacts, config: TranslateConfig,
                      expected: DesiredState) -> None:
    assert build_subnet(subnet, config) == expected


@pytest.mark.parametrize(
    ("subnet", "kind"),
    [
        (v4(), "v4"),
        (v4(enable_dhcp=False), None),
        (v6(), "v6"),
        (v6(ipv6_address_mode="dhcpv6-stateless"), "v6"),
        (v6(ipv6_address_mode="slaac"), None),
        (v6(ipv6_address_mode=None), None),
        (v6(enable_dhcp=False), None),
    ],
)
def test_dhcp_kind(subnet: SubnetFacts, kind: str | None) -> None:
    assert subnet.dhcp_kind == kind


def test_dhcp_row_revision_is_readable() -> None:
    (row,) = build_subnet(v4(revision=3), NO_CONFIG).rows
    assert row.revision == 3


def test_build_subnet_absent() -> None:
    assert build_subnet_absent(SUBNET_ID) == NO_ROWS
