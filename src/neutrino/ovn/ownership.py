"""Which NB rows are neutrino's, and of which resource: pure rules over row values.

A row counts as ours only when both its name and its `neutron:` keys say so, so that rows
other systems create in the same database are never reported or removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neutrino.ovn import naming as n
from neutrino.ovn.translate import (
    address_groups,
    floating_ips,
    l2gw,
    networks,
    ports,
    qos,
    routers,
    security_groups,
    sfc,
    subnets,
)

TABLES = (n.LS, n.LSP, n.DHCP, n.PG, n.ACL, n.LR, n.LRP, n.NAT, n.ROUTE, n.ADDRESS_SET,
          n.POLICY, n.DNS, n.QOS, n.LB, n.HA_GROUP)


def owner_of(table: str, row: Mapping[str, Any]) -> tuple[str, str] | None:
    """(resource type, resource id) of a row neutrino wrote, or None for a foreign row."""
    rule = _RULES.get(table)
    return rule(row, row.get("external_ids") or {}) if rule else None


def _switch(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    router_id = ext.get(n.ROUTER_ID)
    if router_id and row.get("name") == n.transit_switch_name(router_id):
        return routers.RESOURCE, router_id
    network_id = n.network_id_from_switch(row.get("name", ""))
    if network_id and n.NETWORK_NAME in ext and n.REVISION in ext:
        return networks.RESOURCE, network_id
    return None


def _switch_port(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    connection_id = ext.get(n.L2GW_CONNECTION_ID)
    if connection_id and row.get("name") == n.l2gw_port_name(connection_id,
                                                              ext.get(n.L2GW_DEVICE, "")):
        return l2gw.RESOURCE, connection_id
    # localnet ports belong to their network's switch (transit ports carry no network name)
    if row.get("type") != "localnet" and n.NETWORK_NAME in ext and n.REVISION in ext:
        return ports.RESOURCE, row["name"]
    return None


def _dns(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    """A network's DNS row: our key and ML2/OVN's `ls_name` must name the same network."""
    network_id = ext.get(n.DNS_NETWORK_ID)
    if network_id and ext.get(n.DNS_LS_NAME) == n.switch_name(network_id):
        return networks.RESOURCE, network_id
    return None


def _dhcp(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    """A subnet's row, or a port's own row (extra_dhcp_opts), which also names the port."""
    if n.DHCP_SUBNET_ID not in ext or n.REVISION not in ext:
        return None
    port_id = ext.get(n.DHCP_PORT_ID)
    if port_id is None:
        return subnets.RESOURCE, ext[n.DHCP_SUBNET_ID]
    # a per-port row is ours only with our identity key naming the same port
    if ext.get(n.PORT_DHCP_KEY, "").split(" ", 1)[0] == port_id:
        return ports.RESOURCE, port_id
    return None


def _port_group(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    sg_id = ext.get(n.SG_ID)
    if sg_id and row.get("name") == n.port_group_name(sg_id):
        return security_groups.SG_RESOURCE, sg_id
    return None


def _acl(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    rule_id = ext.get(n.SG_RULE_ID)
    return (security_groups.RULE_RESOURCE, rule_id) if rule_id else None


def _router(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    name = row.get("name", "")
    router_id = ext.get(n.ROUTER_ID)
    if router_id and name == n.gateway_router_name(router_id):
        return routers.RESOURCE, router_id
    if n.ROUTER_NAME in ext and n.REVISION in ext and name.startswith(n.SWITCH_PREFIX):
        return routers.RESOURCE, name[len(n.SWITCH_PREFIX):]
    return None


def _router_port(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    """Interface ports belong to their Neutron port; gateway-router ports and a distributed
    gateway port to the router."""
    name = row.get("name", "")
    if n.GATEWAY_ROLE in ext and n.ROUTER_ID in ext:
        return routers.RESOURCE, ext[n.ROUTER_ID]
    if ext.get(n.IS_EXT_GW) == "False" and name.startswith("lrp-"):
        return ports.RESOURCE, name[len("lrp-"):]
    router_name = ext.get(n.ROUTER_NAME, "")
    if ext.get(n.IS_EXT_GW) != "True" or not name.startswith("lrp-") or n.REVISION not in ext:
        return None
    if router_name.startswith(n.SWITCH_PREFIX + "gw-"):
        return routers.RESOURCE, router_name[len(n.SWITCH_PREFIX + "gw-"):]
    if router_name.startswith(n.SWITCH_PREFIX) and \
            ext.get(n.GATEWAY_ROLE) == n.GATEWAY_PORT_ROLE:  # a distributed gateway port
        return routers.RESOURCE, router_name[len(n.SWITCH_PREFIX):]
    return None


def _ha_group(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    """A router gateway's group, marked as neutrino's (ML2/OVN's own are not ours)."""
    router_id = ext.get(n.ROUTER_ID)
    if router_id and ext.get(n.GATEWAY_ROLE) == n.GATEWAY_PORT_ROLE and \
            row.get("name") == n.ha_group_name(router_id):
        return routers.RESOURCE, router_id
    return None


def _nat(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    if n.FIP_ID in ext:
        return floating_ips.RESOURCE, ext[n.FIP_ID]
    if n.SNAT_KEY in ext:
        return routers.RESOURCE, ext[n.SNAT_KEY].split(" ", 1)[0]
    return None


def _route(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    key = ext.get(n.ROUTE_KEY)
    return (routers.RESOURCE, key.split(" ", 1)[0]) if key else None


def _address_set(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    ag_id = ext.get(n.AG_ID)
    if ag_id and row.get("name") in {n.address_set_name(ag_id, f) for f in ("ip4", "ip6")}:
        return address_groups.RESOURCE, ag_id
    return None


def _policy(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    """A port chain's reroute policy; any other policy is foreign."""
    chain_id = ext.get(n.SFC_CHAIN_ID)
    return (sfc.RESOURCE, chain_id) if chain_id and n.SFC_POLICY_KEY in ext else None


def _qos(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    """A port's QoS row (its port's, the owner that writes it); any other QoS row is foreign."""
    port_id = qos.owner_port(dict(ext))
    return (ports.RESOURCE, port_id) if port_id else None


def _load_balancer(row: Mapping[str, Any], ext: Mapping[str, str]) -> tuple[str, str] | None:
    """A floating IP's port forwarding balancer: named for it and tagged as the plugin's."""
    fip_id = ext.get(n.FIP_ID)
    if not fip_id or ext.get(n.DEVICE_OWNER) != n.PF_DEVICE_OWNER:
        return None
    names = {n.port_forwarding_lb_name(fip_id, p) for p in floating_ips.PF_PROTOCOLS}
    return (floating_ips.RESOURCE, fip_id) if row.get("name") in names else None


_RULES = {n.LS: _switch, n.LSP: _switch_port, n.DHCP: _dhcp, n.PG: _port_group, n.ACL: _acl,
          n.LR: _router, n.LRP: _router_port, n.NAT: _nat, n.ROUTE: _route,
          n.ADDRESS_SET: _address_set,
          n.POLICY: _policy, n.DNS: _dns, n.QOS: _qos, n.LB: _load_balancer,
          n.HA_GROUP: _ha_group}
