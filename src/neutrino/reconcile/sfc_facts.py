"""Loading what a port chain's translation needs: its groups, pairs, classifiers, the ports
they name and the router interfaces on those ports' networks, as frozen values."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.engine import Database
from neutrino.db.models import (
    Port,
    SfcFlowClassifier,
    SfcPortChain,
    SfcPortPairGroup,
    Subnet,
)
from neutrino.ovn.translate.sfc import (
    ChainFacts,
    ClassifierFacts,
    GroupFacts,
    PairFacts,
    RouterPort,
    SfPort,
    chain_problems,
)
from neutrino.reconcile.bulk import chunks

ROUTER_INTERFACE = "network:router_interface"


def _rows(session: Session, model: type, ids: Sequence[str]) -> list:  # type: ignore[type-arg]
    found = []
    for chunk in chunks(ids):
        found.extend(session.scalars(select(model).where(model.id.in_(chunk))))
    return found


def load_port_chains(session: Session, ids: Sequence[str]) -> dict[str, ChainFacts]:
    return {chain.id: chain_facts(session, chain) for chain in _rows(session, SfcPortChain, ids)}


def chain_facts(session: Session, chain: SfcPortChain) -> ChainFacts:
    groups = _by_id(session, SfcPortPairGroup, [g.group_id for g in chain.groups])
    classifiers = _by_id(session, SfcFlowClassifier,
                         [c.classifier_id for c in chain.classifiers])
    port_ids = {pid for g in groups.values() for p in g.port_pairs
                for pid in (p.ingress, p.egress)}
    port_ids |= {pid for fc in classifiers.values()
                 for pid in (fc.logical_source_port, fc.logical_destination_port) if pid}
    ports = {port.id: port_view(port) for port in _rows(session, Port, sorted(port_ids))}
    return ChainFacts(
        id=chain.id,
        revision=chain.revision_number,
        symmetric=chain.symmetric,
        groups=tuple(_group(groups[g.group_id], ports) for g in chain.groups
                     if g.group_id in groups),
        classifiers=tuple(_classifier(classifiers[c.classifier_id], ports)
                          for c in chain.classifiers if c.classifier_id in classifiers),
        router_ports=router_ports(session, {p.network_id for p in ports.values()}),
    )


def _by_id(session: Session, model: type, ids: list[str]) -> dict:  # type: ignore[type-arg]
    return {row.id: row for row in _rows(session, model, ids)}


def port_view(port: Port) -> SfPort:
    return SfPort(port.id, port.network_id, tuple(a.ip_address for a in port.fixed_ips),
                  bool(port.port_security_enabled))


def _group(group: SfcPortPairGroup, ports: dict[str, SfPort]) -> GroupFacts:
    pairs = tuple(PairFacts(p.id, p.ingress, p.egress, ports.get(p.ingress),
                            ports.get(p.egress), p.correlation) for p in group.port_pairs)
    mapping = group.n_tuple_mapping or {}
    return GroupFacts(group.id, pairs, n_tuple_mapping=any(mapping.values()))


def _classifier(fc: SfcFlowClassifier, ports: dict[str, SfPort]) -> ClassifierFacts:
    return ClassifierFacts(
        id=fc.id,
        ethertype=fc.ethertype,
        protocol=fc.protocol,
        source_port_range=(fc.source_port_range_min, fc.source_port_range_max),
        destination_port_range=(fc.destination_port_range_min,
                                fc.destination_port_range_max),
        source_ip_prefix=fc.source_ip_prefix,
        destination_ip_prefix=fc.destination_ip_prefix,
        source_id=fc.logical_source_port,
        destination_id=fc.logical_destination_port,
        source=ports.get(fc.logical_source_port or ""),
        destination=ports.get(fc.logical_destination_port or ""),
    )


def router_ports(session: Session, network_ids: set[str]) -> tuple[RouterPort, ...]:
    """Every router interface on these networks, with the prefixes it holds."""
    if not network_ids:
        return ()
    found = session.scalars(select(Port).where(
        Port.device_owner == ROUTER_INTERFACE, Port.network_id.in_(sorted(network_ids)))).all()
    subnet_ids = sorted({a.subnet_id for port in found for a in port.fixed_ips})
    cidrs = {s.id: s.cidr for s in _rows(session, Subnet, subnet_ids)}
    return tuple(sorted(
        RouterPort(port.device_id, port.id, port.network_id,
                   tuple(cidrs[a.subnet_id] for a in port.fixed_ips if a.subnet_id in cidrs))
        for port in found if port.device_id))


def unsteered(db: Database) -> dict[str, str]:
    """chain id → why this OVN does not steer (all of) it: for operators (/healthz, sync)."""
    with db.read() as session:
        found = {}
        for chain in session.scalars(select(SfcPortChain).order_by(SfcPortChain.id)):
            problems = chain_problems(chain_facts(session, chain))
            if problems:
                found[chain.id] = "; ".join(problems)
        return found
