"""Re-steering the chains a port or router-interface change touches.

A chain's policies depend on more than the chain: its ports' addresses and port security,
and the router interfaces on their networks. When one of those changes, each chain that
uses it moves to a new revision and is journaled, so its policies follow (a port security
switched off makes a DEGRADED chain ACTIVE; a removed interface takes its hops away).
Imported by the port and router services, so it imports neither.
"""

from __future__ import annotations

from sqlalchemy import or_, select
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
    by_pair = select(SfcChainGroup.chain_id).join(
        SfcPortPair, SfcPortPair.group_id == SfcChainGroup.group_id).where(
        or_(SfcPortPair.ingress.in_(port_ids), SfcPortPair.egress.in_(port_ids)))
    by_classifier = select(SfcChainClassifier.chain_id).join(
        SfcFlowClassifier, SfcFlowClassifier.id == SfcChainClassifier.classifier_id).where(
        or_(SfcFlowClassifier.logical_source_port.in_(port_ids),
            SfcFlowClassifier.logical_destination_port.in_(port_ids)))
    return set(session.scalars(by_pair)) | set(session.scalars(by_classifier))
