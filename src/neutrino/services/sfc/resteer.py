"""Re-steering the chains a port or router-interface change touches.

A chain's policies depend on more than the chain: its ports' addresses and port security,
and the router interfaces on their networks. When one of those changes, each chain that
uses it moves to a new revision and is journaled, so its policies follow (a port security
switched off makes a DEGRADED chain ACTIVE; a removed interface takes its hops away).
Imported by the port and router services, so it imports neither.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, bindparam, or_, select, union
from sqlalchemy.orm import Session

from neutrino.db.models import (
    Port,
    SfcChainClassifier,
    SfcChainGroup,
    SfcFlowClassifier,
    SfcPortChain,
    SfcPortPair,
)
from neutrino.journal.parents import ROUTER_INTERFACE, port_chain_parents
from neutrino.journal.types import ResourceType
from neutrino.services.common import bump_revision


def resteer_for_port(session: Session, port: Port) -> None:
    """Journal every chain that names `port`, or (for a router interface) any port on its
    network."""
    chains = _chains_naming(session, [port.id])
    if port.device_owner == ROUTER_INTERFACE:
        on_network = list(session.scalars(select(Port.id).where(
            Port.network_id == port.network_id)))
        chains |= _chains_naming(session, on_network)
    for chain_id in sorted(chains):
        chain = session.get(SfcPortChain, chain_id)
        if chain is not None:
            bump_revision(session, chain, ResourceType.PORT_CHAIN, port_chain_parents(chain))


def _chains_naming(session: Session, port_ids: list[str]) -> set[str]:
    if not port_ids:
        return set()
    if len(port_ids) == 1:
        return set(session.scalars(_CHAINS_NAMING_ONE, {"port": port_ids[0]}))
    return set(session.scalars(_CHAINS_NAMING_ANY, {"ports": port_ids}))


def _chains_naming_statement(one: bool) -> CompoundSelect:
    """The chains whose port pairs or flow classifiers name `:port` (`one`) or any of
    `:ports`: built once, because every port update and delete asks (building it cost more
    than running it, and an expanding list more than a single value)."""
    pairs, groups = SfcPortPair.__table__, SfcChainGroup.__table__
    classifiers, links = SfcFlowClassifier.__table__, SfcChainClassifier.__table__
    if one:
        port = bindparam("port")

        def names(column: Any) -> Any:
            return column == port
    else:
        ports = bindparam("ports", expanding=True)

        def names(column: Any) -> Any:
            return column.in_(ports)
    by_pair = select(groups.c.chain_id).join(pairs, pairs.c.group_id == groups.c.group_id).where(
        or_(names(pairs.c.ingress), names(pairs.c.egress)))
    by_classifier = select(links.c.chain_id).join(
        classifiers, classifiers.c.id == links.c.classifier_id).where(
        or_(names(classifiers.c.logical_source_port),
            names(classifiers.c.logical_destination_port)))
    return union(by_pair, by_classifier)


_CHAINS_NAMING_ONE = _chains_naming_statement(one=True)
_CHAINS_NAMING_ANY = _chains_naming_statement(one=False)
