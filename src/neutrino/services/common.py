"""What every resource shares: ids, timestamps, revisions, If-Match, tags, journaling."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.clock import isoformat, utcnow
from neutrino.db.models import Tag
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services.context import Context

MAX_TAG_LEN = 255
T = TypeVar("T")


class Journaled(Protocol):
    id: str
    revision_number: int


class Waker(Protocol):
    def set(self) -> None: ...


def get_owned(session: Session, ctx: Context, model: type[T], rid: str,
              not_found: Callable[[str], errors.NeutrinoError]) -> T:
    """The row if the caller may see it (its project's, or any for an admin), else a 404:
    another project's resource is answered as if it did not exist."""
    row = session.get(model, rid)
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
        raise not_found(rid)
    return row


def new_id() -> str:
    return str(uuid.uuid4())


def stamp_new(row: Any, project_id: str) -> None:
    now = utcnow()
    row.project_id = project_id
    row.created_at = now
    row.updated_at = now
    row.revision_number = 1


def check_revision(row: Journaled, if_match: int | None) -> None:
    if if_match is not None and row.revision_number != if_match:
        raise errors.RevisionNumberConstraintFailed(if_match, row.revision_number)


def bump_revision(
    session: Session,
    row: Any,
    rtype: ResourceType,
    parents: Mapping[ResourceType, Iterable[str]] | None = None,
) -> None:
    """Every change to a resource moves its revision and journals its new state."""
    row.revision_number += 1
    row.updated_at = utcnow()
    record_entry(session, rtype, row.id, Operation.UPDATE, parents)


def revise_parent(
    session: Session,
    row: Any,
    rtype: ResourceType,
    parents: Mapping[ResourceType, Iterable[str]] | None = None,
) -> None:
    """A child's change is its parent's too (Neutron's `revises_on_change`: a subnet moves
    its network's revision, a rule its group's). Once per transaction: a bulk request that
    changes several children moves their parent once."""
    revised = session.info.setdefault("neutrino.revised_parents", set())
    if (rtype, row.id) not in revised:
        revised.add((rtype, row.id))
        bump_revision(session, row, rtype, parents)


def standard_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "project_id": row.project_id,
        "tenant_id": row.project_id,
        "revision_number": row.revision_number,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
        "tags": [t.tag for t in row.tags],
    }


def apply_simple_updates(row: Any, body: Mapping[str, Any], columns: Mapping[str, str]) -> bool:
    """Copy API attributes onto columns; returns whether anything changed."""
    changed = False
    for attr, column in columns.items():
        if attr in body and getattr(row, column) != body[attr]:
            setattr(row, column, body[attr])
            changed = True
    return changed


def set_tags(row: Any, rtype: ResourceType | str, tags: Iterable[str]) -> None:
    wanted = sorted(set(validate_tags(tags)))
    current = {t.tag: t for t in row.tags}
    row.tags[:] = [current.get(t) or Tag(resource_id=row.id, tag=t, resource_type=str(rtype))
                   for t in wanted]


def validate_tags(tags: Iterable[str]) -> list[str]:
    result = []
    for tag in tags:
        if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LEN or "," in tag:
            raise errors.InvalidInput(f"'{tag}' is not a valid tag")
        result.append(tag)
    return result


def run_and_wake(write: Callable[[Callable[[Session], Any]], Any], wakeup: Waker,
                 fn: Callable[[Session], Any]) -> Any:
    """Run `fn` in one write transaction, then wake the journal (postcommit)."""
    result = write(fn)
    wakeup.set()
    return result
