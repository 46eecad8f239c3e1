"""DHCP-enabled subnet → one DHCP_Options row with the options Neutron's DHCP would serve."""

from __future__ import annotations

import ipaddress

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, RowKey
from neutrino.ovn.translate.inputs import SubnetFacts, TranslateConfig

RESOURCE = "subnet"
METADATA_ROUTE = "169.254.169.254/32"


def dhcp_key(subnet_id: str) -> RowKey:
    return RowKey(n.DHCP, "external_ids", subnet_id, map_key=n.DHCP_SUBNET_ID)


def build_subnet(facts: SubnetFacts, config: TranslateConfig) -> DesiredState:
    options = dhcp_options(facts, config)
    rows = () if options is None else (
        DesiredRow(dhcp_key(facts.id), dhcp_columns(facts, options)),)
    return DesiredState(RESOURCE, facts.id, rows, (dhcp_key(facts.id),))


def build_subnet_absent(subnet_id: str) -> DesiredState:
    return DesiredState(RESOURCE, subnet_id, (), (dhcp_key(subnet_id),))


def dhcp_options(facts: SubnetFacts, config: TranslateConfig) -> dict[str, str] | None:
    """What OVN's DHCP serves on this subnet, or None when it serves nothing."""
    if facts.dhcp_kind == "v4":
        return _dhcpv4_options(facts, config)
    if facts.dhcp_kind == "v6":
        return _dhcpv6_options(facts, config)
    return None


def dhcp_columns(facts: SubnetFacts, options: dict[str, str],
                 more_ids: dict[str, str] | None = None) -> dict[str, object]:
    """A DHCP_Options row of the subnet (a port's own row adds its keys in `more_ids`)."""
    external_ids = {
        n.DHCP_SUBNET_ID: facts.id,
        n.DHCP_NETWORK_ID: facts.network_id,
        n.REVISION: str(facts.revision),
        **(more_ids or {}),
    }
    return {"cidr": facts.cidr, "options": options, "external_ids": external_ids}


def _dhcpv4_options(facts: SubnetFacts, config: TranslateConfig) -> dict[str, str]:
    server_ip = facts.gateway_ip or _first_host(facts.cidr)
    options = {
        "lease_time": str(config.dhcp_lease_time),
        "mtu": str(facts.network_mtu),
        "server_id": server_ip,
        "server_mac": facts.dhcp_server_mac,
    }
    if facts.gateway_ip:
        options["router"] = facts.gateway_ip
    if dns := _dns_servers(facts, config):
        options["dns_server"] = dns
    if facts.host_routes or facts.metadata_ip:
        options["classless_static_route"] = _classless_routes(facts)
    return options


def _dhcpv6_options(facts: SubnetFacts, config: TranslateConfig) -> dict[str, str]:
    options = {"server_id": facts.dhcp_server_mac}
    if facts.ipv6_address_mode == "dhcpv6-stateless":
        options["dhcpv6_stateless"] = "true"
    if dns := _dns_servers(facts, config):
        options["dns_server"] = dns
    return options


def _dns_servers(facts: SubnetFacts, config: TranslateConfig) -> str | None:
    version = facts.ip_version
    servers = facts.dns_nameservers or tuple(
        s for s in config.dns_servers if ipaddress.ip_address(s).version == version
    )
    return ovn_set(servers) if servers else None


def _classless_routes(facts: SubnetFacts) -> str:
    """RFC 3442 clients ignore option 3 when 121 is present, so the default route goes in too.
    With a metadata port, the metadata address is reached through it first (as ML2/OVN)."""
    routes = [f"{dest},{nexthop}" for dest, nexthop in facts.host_routes]
    if facts.metadata_ip and not any(d == METADATA_ROUTE for d, _ in facts.host_routes):
        routes.insert(0, f"{METADATA_ROUTE},{facts.metadata_ip}")
    if facts.gateway_ip and not any(d == "0.0.0.0/0" for d, _ in facts.host_routes):
        routes.append(f"0.0.0.0/0,{facts.gateway_ip}")
    return ovn_set(routes)


def ovn_set(items: tuple[str, ...] | list[str]) -> str:
    return "{" + ", ".join(items) + "}"


def _first_host(cidr: str) -> str:
    net = ipaddress.ip_network(cidr)
    return str(net.network_address + 1)
