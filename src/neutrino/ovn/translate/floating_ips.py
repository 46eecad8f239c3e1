"""floating IP → a `dnat_and_snat` NAT row on its router's gateway router, and its port
forwardings → one `Load_Balancer` per protocol attached to that gateway router. With a
distributed gateway port (`distributed-gateway-port` mode) both are the distributed router's,
and distributed floating IPs (an option, as ML2/OVN's) carry `external_mac`, so that the
port's own chassis answers for them.

A floating IP either maps 1:1 to a port (the NAT row) or forwards ports (the load
balancers), never both: the services refuse the mix, as Neutron does. The load balancers
carry the floating IP's revision, because a port forwarding's change is its floating IP's
(Neutron's `revises_on_change`), and ML2/OVN writes them so.
"""

from __future__ import annotations

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, Membership, ParentLink, RowKey
from neutrino.ovn.translate.inputs import FloatingIpFacts, PortForwardingFacts, TranslateConfig
from neutrino.ovn.translate.routers import nat_parent

DEFAULT_CONFIG = TranslateConfig()

RESOURCE = "floating_ip"
PF_PROTOCOLS = ("tcp", "udp")


def global_external_ids(config: TranslateConfig) -> dict[str, str]:
    """What NB_Global says of floating IPs, as ML2/OVN announces it to OVN-side tools."""
    distributed = config.distributed_gateway and config.fip_distributed
    return {n.FIP_DISTRIBUTED: "True" if distributed else "False"}


def nat_key(fip_id: str) -> RowKey:
    return RowKey(n.NAT, "external_ids", fip_id, map_key=n.FIP_ID)


def lb_key(fip_id: str, protocol: str) -> RowKey:
    return RowKey(n.LB, "name", n.port_forwarding_lb_name(fip_id, protocol))


def build_floating_ip(facts: FloatingIpFacts,
                      config: TranslateConfig = DEFAULT_CONFIG) -> DesiredState:
    """Nothing in OVN until it is associated with a port, or forwards ports, behind a
    router."""
    if not facts.router_id:
        return build_floating_ip_absent(facts.id)
    rows: list[DesiredRow] = []
    if facts.port_id and facts.fixed_ip:
        rows.append(_nat_row(facts, facts.router_id, config))
    lbs = _load_balancers(facts, facts.router_id)
    members = tuple(Membership(nat_parent(facts.router_id, config), "load_balancer", row.key)
                    for row in lbs)
    return DesiredState(RESOURCE, facts.id, tuple(rows + lbs), _owned(facts.id),
                        members=members, member_rows=_lb_keys(facts.id))


def build_floating_ip_absent(fip_id: str) -> DesiredState:
    return DesiredState(RESOURCE, fip_id, (), _owned(fip_id))


def _owned(fip_id: str) -> tuple[RowKey, ...]:
    return (nat_key(fip_id), *_lb_keys(fip_id))


def _lb_keys(fip_id: str) -> tuple[RowKey, ...]:
    return tuple(lb_key(fip_id, protocol) for protocol in PF_PROTOCOLS)


def _nat_row(facts: FloatingIpFacts, router_id: str, config: TranslateConfig) -> DesiredRow:
    assert facts.port_id and facts.fixed_ip
    external_ids = {
        n.FIP_ID: facts.id,
        n.FIP_PORT_ID: facts.port_id,
        n.FIP_NETWORK_ID: facts.network_id,
        n.FIP_EXTERNAL_MAC: facts.fip_port_mac,
        n.ROUTER_NAME: n.router_name(router_id),
        n.REVISION: str(facts.revision),
    }
    columns = {
        "type": "dnat_and_snat",
        "external_ip": facts.floating_ip,
        "logical_ip": facts.fixed_ip,
        "logical_port": facts.port_id,
        # 1:1 NAT needs no connection tracking in the gateway router; security groups
        # already track connections at the port. (ML2/OVN writes stateless=false.)
        "options": {"stateless": "true"},
        "external_ids": external_ids,
        # distributed: the floating IP answers with its own port's MAC from the chassis of
        # the port it maps to (ML2/OVN's enable_distributed_floating_ip)
        "external_mac": facts.fip_port_mac
        if config.distributed_gateway and config.fip_distributed and facts.fip_port_mac
        else None,
    }
    parent = ParentLink(nat_parent(router_id, config), "nat")
    return DesiredRow(nat_key(facts.id), columns, parent=parent)


def _load_balancers(facts: FloatingIpFacts, router_id: str) -> list[DesiredRow]:
    rows = []
    for protocol in PF_PROTOCOLS:
        vips: dict[str, str] = {}
        for pf in facts.port_forwardings:
            if pf.protocol == protocol:
                vips.update(forwarded_vips(facts.floating_ip, pf))
        if not vips:
            continue
        external_ids = {n.DEVICE_OWNER: n.PF_DEVICE_OWNER, n.FIP_ID: facts.id,
                        n.ROUTER_NAME: n.router_name(router_id),
                        n.REVISION: str(facts.revision)}
        columns = {"protocol": protocol, "vips": vips, "external_ids": external_ids}
        rows.append(DesiredRow(lb_key(facts.id, protocol), columns))
    return rows


def forwarded_vips(floating_ip: str, pf: PortForwardingFacts) -> dict[str, str]:
    """`"<fip>:<external port>"` → `"<internal ip>:<internal port>"`, one per external port
    of the range (as ML2/OVN unrolls ranges): N:N port by port, N:1 all to one port."""
    first, last = pf.external
    single = pf.internal[0] == pf.internal[1]
    return {f"{floating_ip}:{port}":
            f"{pf.internal_ip}:{pf.internal[0] if single else pf.internal[0] + port - first}"
            for port in range(first, last + 1)}
