"""port chain → Logical_Router_Policy `reroute` rows (OVN 23.03, which has no chaining).

Classified traffic crosses a router. On that router, one policy per hop matches the
classifier plus the router port the traffic arrives on, and reroutes it to the next group's
ingress addresses (several pairs: several `nexthops`, OVN's ECMP):

* hop 0 matches `inport ==` the router port facing the source's network and sends the
  traffic to group 1's ingress;
* hop k (k ≥ 1) matches the router port facing group k's egress network (where the service
  function hands the traffic back) and sends it to group k+1; after the last group the
  traffic is routed normally.

A symmetric chain adds the same in reverse for the reply: from the router port facing the
destination's network to the last group's egress addresses, and from each group's ingress
network to the previous group's egress, then routed to the source.

What this OVN cannot steer is never half-realised: a classifier with a problem gets no
policies, and `chain_problems` says why (the API shows it, sync and /healthz report it).
This module is one realisation; OVN's later Network_Function tables would be a second one,
chosen by NB schema version.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.routers import router_key

RESOURCE = "port_chain"
PRIORITY = 30000  # above anything neutrino's routers write (they write no policies)
FORWARD, REVERSE = "forward", "reverse"


@dataclass(frozen=True)
class SfPort:
    """A Neutron port a chain names: its network, addresses and port security."""

    id: str
    network_id: str
    addresses: tuple[str, ...]
    port_security: bool

    def address(self, version: int) -> str | None:
        return next((a for a in self.addresses
                     if ipaddress.ip_address(a).version == version), None)


@dataclass(frozen=True)
class PairFacts:
    id: str
    ingress_id: str
    egress_id: str
    ingress: SfPort | None  # None: the port is gone
    egress: SfPort | None
    correlation: str | None = None


@dataclass(frozen=True)
class GroupFacts:
    id: str
    pairs: tuple[PairFacts, ...]
    n_tuple_mapping: bool = False  # a ppg_n_tuple_mapping that is not empty


@dataclass(frozen=True)
class ClassifierFacts:
    id: str
    ethertype: str = "IPv4"
    protocol: str | None = None
    source_port_range: tuple[int | None, int | None] = (None, None)
    destination_port_range: tuple[int | None, int | None] = (None, None)
    source_ip_prefix: str | None = None
    destination_ip_prefix: str | None = None
    source_id: str | None = None
    destination_id: str | None = None
    source: SfPort | None = None
    destination: SfPort | None = None


@dataclass(frozen=True, order=True)
class RouterPort:
    """A router interface: the router, the interface's port (its LRP is `lrp-<id>`), the
    network it faces and the prefixes it holds there."""

    router_id: str
    port_id: str
    network_id: str
    cidrs: tuple[str, ...]


@dataclass(frozen=True)
class ChainFacts:
    id: str
    revision: int
    symmetric: bool
    groups: tuple[GroupFacts, ...]
    classifiers: tuple[ClassifierFacts, ...]
    router_ports: tuple[RouterPort, ...]


def policy_key(identity: str) -> RowKey:
    return RowKey(n.POLICY, "external_ids", identity, map_key=n.SFC_POLICY_KEY)


def build_port_chain(facts: ChainFacts) -> DesiredState:
    rows: list[DesiredRow] = []
    for classifier in facts.classifiers:
        if not classifier_problems(facts, classifier):
            rows += _classifier_policies(facts, classifier)
    return DesiredState(RESOURCE, facts.id, tuple(rows), tuple(r.key for r in rows),
                        owned_tagged=((n.POLICY, n.SFC_CHAIN_ID, facts.id),))


def build_port_chain_absent(chain_id: str) -> DesiredState:
    return DesiredState(RESOURCE, chain_id, (), (),
                        owned_tagged=((n.POLICY, n.SFC_CHAIN_ID, chain_id),))


def build_nothing(resource_type: str, resource_id: str) -> DesiredState:
    """Pairs, groups and classifiers have no rows of their own: their chain carries them."""
    return DesiredState(resource_type, resource_id, (), ())


# -- what can be steered ----------------------------------------------------------------
def chain_problems(facts: ChainFacts) -> list[str]:
    """Why (part of) the chain is not steered; empty when all of it is."""
    found: list[str] = []
    for classifier in facts.classifiers:
        found += [p for p in classifier_problems(facts, classifier) if p not in found]
    return found


def classifier_problems(facts: ChainFacts, fc: ClassifierFacts) -> list[str]:
    if fc.source_id is None:
        return [f"flow classifier {fc.id} has no logical_source_port: the router its "
                "traffic crosses is unknown"]
    if fc.source is None:
        return [f"logical_source_port {fc.source_id} of flow classifier {fc.id} is gone"]
    version = _version(fc)
    if fc.source.address(version) is None:
        return [f"logical_source_port {fc.source.id} has no IPv{version} address"]
    router = _router_of(facts, fc.source)
    if router is None:
        return [f"the network of logical_source_port {fc.source.id} is attached to no router"]
    found = _same_network(facts, fc, router) + _group_problems(facts, router, version)
    found += _network_problems(facts, fc, router, FORWARD)
    if facts.symmetric:
        found += _reverse_problems(facts, fc, router, version)
    return found


def _same_network(facts: ChainFacts, fc: ClassifierFacts, router: str) -> list[str]:
    assert fc.source is not None
    if fc.destination is not None:
        same = fc.destination.network_id == fc.source.network_id
    elif fc.destination_ip_prefix:
        same = any(_within(fc.destination_ip_prefix, cidr)
                   for rp in facts.router_ports
                   if rp.router_id == router and rp.network_id == fc.source.network_id
                   for cidr in rp.cidrs)
    else:
        same = False
    if not same:
        return []
    return [f"flow classifier {fc.id}: traffic between ports of one network, with no router "
            "in between, cannot be steered"]


def _group_problems(facts: ChainFacts, router: str, version: int) -> list[str]:
    found = []
    for group in facts.groups:
        if not group.pairs:
            found.append(f"port pair group {group.id} has no port pairs")
        if group.n_tuple_mapping:
            found.append(f"port pair group {group.id}: ppg_n_tuple_mapping is not realised")
        for pair in group.pairs:
            found += _pair_problems(facts, router, pair, version)
    return found


def _pair_problems(facts: ChainFacts, router: str, pair: PairFacts,
                   version: int) -> list[str]:
    found = []
    for role, port_id, port in (("ingress", pair.ingress_id, pair.ingress),
                                ("egress", pair.egress_id, pair.egress)):
        if port is None:
            found.append(f"port pair {pair.id}: its {role} port {port_id} is gone")
            continue
        if _lrp(facts, router, port.network_id) is None:
            found.append(f"port pair {pair.id}: its {role} port {port.id} is on a network "
                         f"not attached to router {router}")
        if port.port_security:
            found.append(f"port pair {pair.id}: port security is enabled on its {role} port "
                         f"{port.id}, which would drop traffic addressed to others")
    if pair.ingress is not None and pair.ingress.address(version) is None:
        found.append(f"port pair {pair.id}: its ingress port has no IPv{version} address")
    if facts.symmetric and pair.egress is not None and pair.egress.address(version) is None:
        found.append(f"port pair {pair.id}: its egress port has no IPv{version} address "
                     "(needed by the reply of a symmetric chain)")
    return found


def _network_problems(facts: ChainFacts, fc: ClassifierFacts, router: str,
                      direction: str) -> list[str]:
    """The router tells hops apart by the network traffic comes back on: each hop's
    return network must differ from the others and from where the traffic starts."""
    start = fc.source if direction == FORWARD else fc.destination
    assert start is not None
    seen = {start.network_id: "the classified traffic's own"}
    groups = facts.groups if direction == FORWARD else tuple(reversed(facts.groups))
    for group in groups:  # the last one too: its traffic must not meet a policy again
        for network in _return_networks(group, direction):
            if network in seen:
                return [f"port pair group {group.id} hands {direction} traffic back on "
                        f"network {network}, which is also {seen[network]} network: "
                        "the router cannot tell the hops apart"]
            seen[network] = f"port pair group {group.id}'s return"
    return []


def _reverse_problems(facts: ChainFacts, fc: ClassifierFacts, router: str,
                      version: int) -> list[str]:
    if fc.destination_id is None:
        return [f"symmetric chain: flow classifier {fc.id} has no logical_destination_port, "
                "so the reply's router port is unknown"]
    if fc.destination is None:
        return [f"logical_destination_port {fc.destination_id} of flow classifier {fc.id} "
                "is gone"]
    if fc.destination.address(version) is None:
        return [f"logical_destination_port {fc.destination.id} has no IPv{version} address"]
    if _lrp(facts, router, fc.destination.network_id) is None:
        return [f"the network of logical_destination_port {fc.destination.id} is not "
                f"attached to router {router}"]
    return _network_problems(facts, fc, router, REVERSE)


def _return_networks(group: GroupFacts, direction: str) -> set[str]:
    ports = [p.egress if direction == FORWARD else p.ingress for p in group.pairs]
    return {port.network_id for port in ports if port is not None}


# -- the policies ---------------------------------------------------------------------------
def _classifier_policies(facts: ChainFacts, fc: ClassifierFacts) -> list[DesiredRow]:
    assert fc.source is not None
    router = _router_of(facts, fc.source)
    assert router is not None
    rows = _direction_policies(facts, fc, router, FORWARD)
    if facts.symmetric:
        rows += _direction_policies(facts, fc, router, REVERSE)
    return rows


def _direction_policies(facts: ChainFacts, fc: ClassifierFacts, router: str,
                        direction: str) -> list[DesiredRow]:
    version = _version(fc)
    start = fc.source if direction == FORWARD else fc.destination
    assert start is not None
    groups = facts.groups if direction == FORWARD else tuple(reversed(facts.groups))
    classified = classifier_match(fc, direction)
    arrivals = [{start.network_id}] + [_return_networks(g, direction) for g in groups[:-1]]
    rows = []
    for hop, (networks, group) in enumerate(zip(arrivals, groups, strict=True)):
        nexthops = sorted(_entry_addresses(group, direction, version))
        for network in sorted(networks):
            lrp = _lrp(facts, router, network)
            assert lrp is not None
            match = f'inport == "{n.router_port_name(lrp)}" && {classified}'
            rows.append(_policy(facts, fc, router, direction, hop, network, match, nexthops))
    return rows


def _entry_addresses(group: GroupFacts, direction: str, version: int) -> set[str]:
    ports = [p.ingress if direction == FORWARD else p.egress for p in group.pairs]
    return {a for port in ports if port is not None
            for a in [port.address(version)] if a is not None}


def _policy(facts: ChainFacts, fc: ClassifierFacts, router: str, direction: str, hop: int,
            network: str, match: str, nexthops: list[str]) -> DesiredRow:
    identity = f"{facts.id} {fc.id} {direction} {hop} {network}"
    external_ids = {n.SFC_POLICY_KEY: identity, n.SFC_CHAIN_ID: facts.id,
                    n.SFC_CLASSIFIER_ID: fc.id, n.SFC_DIRECTION: direction,
                    n.SFC_HOP: str(hop), n.REVISION: str(facts.revision)}
    columns = {"priority": PRIORITY, "match": match, "action": "reroute",
               "nexthops": nexthops, "external_ids": external_ids}
    return DesiredRow(policy_key(identity), columns,
                      parent=ParentLink(router_key(router), "policies"))


def classifier_match(fc: ClassifierFacts, direction: str = FORWARD) -> str:
    """The classifier as an OVN match; the reverse direction swaps sources and
    destinations (the reply of the classified traffic)."""
    version = _version(fc)
    ip = f"ip{version}"
    src_ips = _addresses(fc.source, fc.source_ip_prefix, version)
    dst_ips = _addresses(fc.destination, fc.destination_ip_prefix, version)
    src_ports, dst_ports = fc.source_port_range, fc.destination_port_range
    if direction == REVERSE:
        src_ips, dst_ips, src_ports, dst_ports = dst_ips, src_ips, dst_ports, src_ports
    parts = [ip]
    parts += [f"{ip}.src == {a}" for a in src_ips]
    parts += [f"{ip}.dst == {a}" for a in dst_ips]
    if fc.protocol:
        parts.append(_protocol(fc.protocol, version))
        if fc.protocol in ("tcp", "udp"):
            parts += _port_range(f"{fc.protocol}.src", src_ports)
            parts += _port_range(f"{fc.protocol}.dst", dst_ports)
    return " && ".join(parts)


def _addresses(port: SfPort | None, prefix: str | None, version: int) -> list[str]:
    found = []
    if port is not None:
        ips = [a for a in port.addresses if ipaddress.ip_address(a).version == version]
        found.append(ips[0] if len(ips) == 1 else "{" + ", ".join(ips) + "}")
    if prefix:
        found.append(prefix)
    return found


def _protocol(protocol: str, version: int) -> str:
    if protocol == "icmp":
        return "icmp4" if version == 4 else "icmp6"
    return protocol


def _port_range(field: str, bounds: tuple[int | None, int | None]) -> list[str]:
    low, high = bounds
    if low is None and high is None:
        return []
    if low is not None and (high is None or high == low):
        return [f"{field} == {low}"] if high is not None else [f"{field} >= {low}"]
    if low is None:
        return [f"{field} <= {high}"]
    return [f"{field} >= {low}", f"{field} <= {high}"]


# -- lookups --------------------------------------------------------------------------------
def _version(fc: ClassifierFacts) -> int:
    return 6 if fc.ethertype == "IPv6" else 4


def _router_of(facts: ChainFacts, source: SfPort) -> str | None:
    """The router the source's traffic crosses: the one with an interface on the source's
    network (the lowest id if several)."""
    routers = sorted(rp.router_id for rp in facts.router_ports
                     if rp.network_id == source.network_id)
    return routers[0] if routers else None


def _lrp(facts: ChainFacts, router: str, network_id: str) -> str | None:
    return next((rp.port_id for rp in sorted(facts.router_ports, key=lambda r: r.port_id)
                 if rp.router_id == router and rp.network_id == network_id), None)


def _within(prefix: str, cidr: str) -> bool:
    try:
        inner, outer = ipaddress.ip_network(prefix, strict=False), ipaddress.ip_network(cidr)
    except ValueError:
        return False
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def routers_of(facts: ChainFacts) -> Sequence[str]:
    """The routers a chain's policies live in (for its journal parents)."""
    found = {_router_of(facts, fc.source) for fc in facts.classifiers if fc.source}
    return sorted(r for r in found if r)
