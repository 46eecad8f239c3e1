"""What the four SFC services share: the standard fields, looking rows up with
networking-sfc's faults, and re-steering the chains a change touches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import SfcChainGroup, SfcPortChain
from neutrino.journal.parents import port_chain_parents
from neutrino.journal.types import ResourceType
from neutrino.services.common import bump_revision, get_owned, set_tags, stamp_new
from neutrino.services.context import Context
from neutrino.services.ports import get_port_row


def get_sfc_row(session: Session, ctx: Context, model: type, rid: str,
                not_found: Callable[[str], errors.NeutrinoError]) -> Any:
    return get_owned(session, ctx, model, rid, not_found)


def store_new(session: Session, row: Any, rtype: ResourceType, project: str,
              tags: list[str] | None) -> None:
    """A new SFC row: standard fields stamped, tags set, and flushed (so it has its id and
    the rows that follow may name it) before its journal entry is recorded."""
    stamp_new(row, project)
    set_tags(row, rtype, tags or [])
    session.add(row)
    session.flush()


def get_port(session: Session, ctx: Context, port_id: str,
             not_found: Callable[[str], errors.NeutrinoError]) -> Any:
    """The caller's port, or networking-sfc's own "port not found" fault."""
    try:
        return get_port_row(session, ctx, port_id)
    except errors.PortNotFound:
        raise not_found(port_id) from None


def resteer_groups(session: Session, group_ids: Iterable[str]) -> None:
    """A group's pairs changed: its chain (if any) moves to a new revision and re-steers."""
    ids = sorted(set(group_ids))
    if not ids:
        return
    chain_ids = set(session.scalars(select(SfcChainGroup.chain_id).where(
        SfcChainGroup.group_id.in_(ids))))
    for chain_id in sorted(chain_ids):
        chain = session.get(SfcPortChain, chain_id)
        if chain is not None:
            bump_revision(session, chain, ResourceType.PORT_CHAIN, port_chain_parents(chain))


def smallest_free(used: Iterable[int], low: int, high: int) -> int | None:
    taken = set(used)
    return next((i for i in range(low, high + 1) if i not in taken), None)
