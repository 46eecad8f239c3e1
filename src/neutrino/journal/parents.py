"""The parents an entry for an existing resource names, read from the database.

Services know these when they record an entry; maintenance, which journals fixes for
drifted resources, asks here instead.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from neutrino.db.models import Port, SecurityGroupRule, Subnet
from neutrino.journal.types import ResourceRef, ResourceType

Parents = dict[ResourceType, list[str]]


def _subnet(session: Session, rid: str) -> Parents:
    subnet = session.get(Subnet, rid)
    return {ResourceType.NETWORK: [subnet.network_id]} if subnet else {}


def _port(session: Session, rid: str) -> Parents:
    port = session.get(Port, rid)
    if port is None:
        return {}
    return {
        ResourceType.NETWORK: [port.network_id],
        ResourceType.SUBNET: sorted({a.subnet_id for a in port.fixed_ips}),
        ResourceType.SECURITY_GROUP: sorted(
            {b.security_group_id for b in port.security_group_bindings}),
    }


def _rule(session: Session, rid: str) -> Parents:
    rule = session.get(SecurityGroupRule, rid)
    if rule is None:
        return {}
    groups = {rule.security_group_id} | ({rule.remote_group_id} if rule.remote_group_id else set())
    return {ResourceType.SECURITY_GROUP: sorted(groups)}


LOADERS: dict[ResourceType, Callable[[Session, str], Parents]] = {
    ResourceType.SUBNET: _subnet,
    ResourceType.PORT: _port,
    ResourceType.SECURITY_GROUP_RULE: _rule,
}


def parents_of(session: Session, ref: ResourceRef) -> Parents:
    loader = LOADERS.get(ref.type)
    return loader(session, ref.id) if loader else {}
