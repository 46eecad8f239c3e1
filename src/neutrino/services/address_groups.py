"""Address groups: named sets of CIDRs that security group rules may name as their remote.

As in Neutron, addresses are CIDRs (a bare address is refused), stored normalised to their
network (`10.0.0.5/24` is `10.0.0.0/24`); they change only through `add_addresses` and
`remove_addresses`, and a group some rule names cannot be deleted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.clock import isoformat
from neutrino.db.models import (
    AddressGroup,
    AddressGroupAddress,
    DefaultSecurityGroupRule,
    SecurityGroupRule,
)
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    apply_simple_updates,
    bump_revision,
    check_revision,
    get_owned,
    new_id,
    run_and_wake,
    stamp_new,
)
from neutrino.services.context import Context
from neutrino.services.listing import ListSpec, member_of, standard_columns

AG = ResourceType.ADDRESS_GROUP


def normalised(addresses: Any) -> list[str]:
    """The request's CIDRs, checked as Neutron's `type:subnet_list` does, normalised and
    without duplicates (in the order given)."""
    if not isinstance(addresses, list):
        raise errors.BadRequest(f"Invalid input for addresses. Reason: '{_short(addresses)}' "
                                "is not a list.")
    return list(dict.fromkeys(_cidr(address) for address in addresses))


def _cidr(address: Any) -> str:
    reason = None
    try:
        if not isinstance(address, str):  # ipaddress would take an integer (or a bool)
            raise TypeError(address)
        net = ipaddress.ip_network(address, strict=False)
    except (ValueError, TypeError):
        reason = f"'{_short(address)}' is not a valid IP subnet"
    else:
        if "/" not in address or (net.version == 4 and
                                  str(ipaddress.ip_interface(address)) != address):
            reason = (f"'{address}' isn't a recognized IP subnet cidr, '{net}' is "
                      "recommended")
    if reason:
        raise errors.BadRequest(f"Invalid input for addresses. Reason: {reason}.")
    return str(net)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 64 else text[:61] + "..."


def ag_dict(ag: AddressGroup) -> dict[str, Any]:
    return {
        "id": ag.id,
        "name": ag.name,
        "description": ag.description,
        "project_id": ag.project_id,
        "tenant_id": ag.project_id,
        "addresses": [a.address for a in ag.addresses],
        "revision_number": ag.revision_number,
        "created_at": isoformat(ag.created_at),
        "updated_at": isoformat(ag.updated_at),
    }


def get_ag_row(session: Session, ctx: Context, ag_id: str, lock: bool = False) -> AddressGroup:
    """The group if the caller may see it; `lock` holds its row until commit (PostgreSQL),
    so that a rule naming it and its deletion cannot both succeed (there is no foreign key)."""
    if lock and session.get_bind().dialect.name == "postgresql":
        session.execute(select(AddressGroup.id).where(AddressGroup.id == ag_id)
                        .with_for_update())
    return get_owned(session, ctx, AddressGroup, ag_id, errors.AddressGroupNotFound)


class AddressGroupService(ResourceService):
    model = AddressGroup
    listing = ListSpec(AddressGroup, standard_columns(AddressGroup), filters={
        "addresses": member_of(AddressGroup.id, AddressGroupAddress.address_group_id,
                               AddressGroupAddress.address)})

    def to_dict(self, row: AddressGroup) -> dict[str, Any]:
        return ag_dict(row)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> AddressGroup:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_address_group", {"project_id": project})
        addresses = normalised(body.get("addresses") or [])
        ag = AddressGroup(id=new_id(), name=body.get("name", ""),
                          description=body.get("description", ""))
        stamp_new(ag, project)
        ag.addresses = [AddressGroupAddress(address=a) for a in addresses]
        session.add(ag)
        session.flush()
        record_entry(session, AG, ag.id, Operation.CREATE)
        return ag

    def get(self, ctx: Context, ag_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return ag_dict(get_ag_row(session, ctx, ag_id))

    def update(self, ctx: Context, ag_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            ag = get_ag_row(session, ctx, ag_id)
            policy.enforce(ctx, "update_address_group", {"project_id": ag.project_id})
            check_revision(ag, if_match)
            if apply_simple_updates(ag, body, {"name": "name", "description": "description"}):
                bump_revision(session, ag, AG)
            return ag_dict(ag)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def add_addresses(self, ctx: Context, ag_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._change_addresses(ctx, ag_id, body, adding=True)

    def remove_addresses(self, ctx: Context, ag_id: str,
                         body: dict[str, Any]) -> dict[str, Any]:
        return self._change_addresses(ctx, ag_id, body, adding=False)

    def _change_addresses(self, ctx: Context, ag_id: str, body: dict[str, Any],
                          adding: bool) -> dict[str, Any]:
        wanted = normalised(_addresses_of(body))

        def txn(session: Session) -> dict[str, Any]:
            ag = get_ag_row(session, ctx, ag_id)
            action = "add_addresses" if adding else "remove_addresses"
            policy.enforce(ctx, action, {"project_id": ag.project_id})
            present = {a.address: a for a in ag.addresses}
            if adding:
                _refuse(errors.AddressesAlreadyExist, [a for a in wanted if a in present], ag_id)
                ag.addresses.extend(AddressGroupAddress(address=a) for a in wanted)
            else:
                _refuse(errors.AddressesNotFound, [a for a in wanted if a not in present], ag_id)
                for address in wanted:
                    ag.addresses.remove(present[address])
            if wanted:
                bump_revision(session, ag, AG)
            session.flush()
            session.refresh(ag, ["addresses"])
            return {"address_group": ag_dict(ag)}

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, ag_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            ag = get_ag_row(session, ctx, ag_id, lock=True)
            policy.enforce(ctx, "delete_address_group", {"project_id": ag.project_id})
            check_revision(ag, if_match)
            for model in (SecurityGroupRule, DefaultSecurityGroupRule):  # rules and templates
                if session.scalar(select(exists().where(
                        model.remote_address_group_id == ag.id))):
                    raise errors.AddressGroupInUse(ag.id)
            session.delete(ag)
            record_entry(session, AG, ag.id, Operation.DELETE)

        run_and_wake(self.db.write, self.wakeup, txn)


def _addresses_of(body: dict[str, Any]) -> Any:
    """The action body is `{"addresses": [...]}` and nothing else."""
    if set(body) != {"addresses"}:
        raise errors.BadRequest("Invalid request body: expected {\"addresses\": [...]}")
    return body["addresses"]


def _refuse(error: type[errors.AddressesNotFound] | type[errors.AddressesAlreadyExist],
            found: Iterable[str], ag_id: str) -> None:
    found = sorted(found)
    if found:
        raise error(found, ag_id)
