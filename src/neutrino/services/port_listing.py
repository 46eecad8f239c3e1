"""A page of ports in the API representation, loaded in a few Core queries.

Listing pages through the ports' ids (`select(Port.id)`, keyset order); this module turns a
page of ids into what `port_dict` reads: the ports' own columns, then their addresses,
security groups, tags and trunk (with its subports' MACs), each one query for the whole page
(the ids passed as one parameter), read as plain rows rather than ORM objects. `port_dict`
itself builds the answer from these light stand-ins, so a listed port and a shown one cannot
differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    String,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from neutrino.db.models import IpAllocation, Port, PortSecurityGroup, Tag, Trunk, TrunkSubport

# Port columns holding JSON, read as text and decoded here: most hold an empty object or
# list, which need no parser (SQLAlchemy's JSON type would run json.loads on each).
_JSON = frozenset(c.name for c in Port.__table__.c if isinstance(c.type, JSON))
_EMPTY: dict[str, Callable[[], Any]] = {"{}": dict, "[]": list}
_PORTS = Port.__table__
_COLUMNS = [cast(c, Text).label(c.name) if c.name in _JSON else c for c in _PORTS.c]
_NAMES = [c.name for c in _PORTS.c]
_SUBPORT_PORT = _PORTS.alias("subport_port")


def port_views(session: Session, ids: Sequence[str]) -> list[SimpleNamespace]:
    """Stand-ins for the ports `ids` (in that order; ids gone meanwhile are left out), with
    the columns and relationships `port_dict` reads."""
    if not ids:
        return []
    views = _load(session, list(ids))
    return [views[i] for i in ids if i in views]


def among(column: Any, ids: list[str], dialect: str) -> ColumnElement[bool]:
    """`column IN ids` with the ids as one parameter (a JSON array on SQLite, an array on
    PostgreSQL): a page of a thousand ids costs SQLAlchemy no thousand bound parameters."""
    if dialect == "sqlite":
        values = select(literal_column("value")).select_from(
            func.json_each(bindparam(None, json.dumps(ids), type_=Text)))
        return column.in_(values.scalar_subquery())
    if dialect == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(String)))
    return column.in_(ids)


def _decode(raw: str | None) -> Any:
    empty = _EMPTY.get(raw) if raw is not None else None
    if empty is not None:
        return empty()
    return None if raw is None else json.loads(raw)


def _load(session: Session, ids: list[str]) -> dict[str, SimpleNamespace]:
    dialect = session.get_bind().dialect.name
    views: dict[str, SimpleNamespace] = {}
    for row in session.execute(select(*_COLUMNS).where(among(_PORTS.c.id, ids, dialect))):
        view = SimpleNamespace(fixed_ips=[], security_group_bindings=[], tags=[], trunk=None)
        values = view.__dict__
        values.update(zip(_NAMES, row, strict=True))
        for name in _JSON:
            values[name] = _decode(values[name])
        views[view.id] = view
    if not views:
        return views
    for address in session.execute(
            select(IpAllocation.port_id, IpAllocation.subnet_id, IpAllocation.ip_address)
            .where(among(IpAllocation.port_id, ids, dialect))
            .order_by(IpAllocation.port_id, IpAllocation.position)):
        views[address.port_id].fixed_ips.append(address)
    for binding in session.execute(
            select(PortSecurityGroup.port_id, PortSecurityGroup.security_group_id)
            .where(among(PortSecurityGroup.port_id, ids, dialect))
            .order_by(PortSecurityGroup.port_id, PortSecurityGroup.position)):
        views[binding.port_id].security_group_bindings.append(binding)
    for tag in session.execute(select(Tag.resource_id, Tag.tag)
                               .where(among(Tag.resource_id, ids, dialect))
                               .order_by(Tag.resource_id, Tag.tag)):
        views[tag.resource_id].tags.append(tag)
    _load_trunks(session, views, ids, dialect)
    return views


def _load_trunks(session: Session, views: dict[str, SimpleNamespace], ids: list[str],
                 dialect: str) -> None:
    trunks: dict[str, SimpleNamespace] = {}
    for row in session.execute(select(Trunk.id, Trunk.port_id)
                               .where(among(Trunk.port_id, ids, dialect))):
        trunks[row.id] = views[row.port_id].trunk = SimpleNamespace(id=row.id, sub_ports=[])
    if not trunks:
        return
    subports = (select(TrunkSubport.trunk_id, TrunkSubport.port_id,
                       TrunkSubport.segmentation_id, TrunkSubport.segmentation_type,
                       _SUBPORT_PORT.c.mac_address)
                .outerjoin(_SUBPORT_PORT, _SUBPORT_PORT.c.id == TrunkSubport.port_id)
                .where(TrunkSubport.trunk_id.in_(list(trunks)))
                .order_by(TrunkSubport.trunk_id, TrunkSubport.segmentation_id,
                          TrunkSubport.port_id))
    for row in session.execute(subports):
        trunks[row.trunk_id].sub_ports.append(SimpleNamespace(
            segmentation_id=row.segmentation_id, segmentation_type=row.segmentation_type,
            port_id=row.port_id, port=None if row.mac_address is None
            else SimpleNamespace(mac_address=row.mac_address)))
