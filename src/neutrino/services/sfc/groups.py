"""Port pair groups: interchangeable pairs, load-shared (OVN's ECMP over their ingresses)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import SfcChainGroup, SfcPortPair, SfcPortPairGroup
from neutrino.journal.parents import merged, port_pair_group_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services import quotas
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    apply_simple_updates,
    bump_revision,
    check_revision,
    new_id,
    run_and_wake,
    standard_fields,
)
from neutrino.services.context import Context
from neutrino.services.listing import ListSpec, standard_columns
from neutrino.services.sfc import errors as sfc_errors
from neutrino.services.sfc.common import get_sfc_row, resteer_groups, smallest_free, store_new
from neutrino.services.sfc.pairs import get_pair_row

GROUP = ResourceType.PORT_PAIR_GROUP
MAX_GROUP_ID = 2**31 - 1
N_TUPLE_DEFAULT = {"ingress_n_tuple": {}, "egress_n_tuple": {}}


def group_dict(group: SfcPortPairGroup) -> dict[str, Any]:
    return {**standard_fields(group), "group_id": group.group_id,
            "port_pairs": [p.id for p in group.port_pairs],
            "port_pair_group_parameters": {"lb_fields": list(group.lb_fields),
                                           "ppg_n_tuple_mapping": group.n_tuple_mapping},
            "tap_enabled": group.tap_enabled}


def get_group_row(session: Session, ctx: Context, group_id: str) -> SfcPortPairGroup:
    return get_sfc_row(session, ctx, SfcPortPairGroup, group_id,
                       sfc_errors.PortPairGroupNotFound)


class PortPairGroupService(ResourceService):
    model = SfcPortPairGroup
    listing = ListSpec(SfcPortPairGroup, {**standard_columns(SfcPortPairGroup),
                                          "group_id": SfcPortPairGroup.group_id,
                                          "tap_enabled": SfcPortPairGroup.tap_enabled})

    def to_dict(self, row: SfcPortPairGroup) -> dict[str, Any]:
        return group_dict(row)

    def _create_one(self, session: Session, ctx: Context,
                    body: dict[str, Any]) -> SfcPortPairGroup:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_port_pair_group", {"project_id": project})
        quotas.check(session, self.settings, project, "port_pair_group")
        if body.get("tap_enabled"):
            raise sfc_errors.SfcNotRealisable(
                "tap_enabled true cannot be realised: OVN 23.03 reroutes traffic, it cannot "
                "copy it to a tap service function")
        params = _group_parameters(body.get("port_pair_group_parameters"))
        used = session.scalars(select(SfcPortPairGroup.group_id))
        number = smallest_free(used, 1, MAX_GROUP_ID)
        group = SfcPortPairGroup(id=new_id(), name=body["name"],
                                 description=body["description"], group_id=number,
                                 lb_fields=params["lb_fields"],
                                 n_tuple_mapping=params["ppg_n_tuple_mapping"],
                                 tap_enabled=False)
        store_new(session, group, GROUP, project, body.get("tags"))
        _set_pairs(session, ctx, group, body.get("port_pairs") or [])
        record_entry(session, GROUP, group.id, Operation.CREATE, port_pair_group_parents(group))
        return group

    def get(self, ctx: Context, group_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return group_dict(get_group_row(session, ctx, group_id))

    def update(self, ctx: Context, group_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            group = get_group_row(session, ctx, group_id)
            policy.enforce(ctx, "update_port_pair_group", {"project_id": group.project_id})
            check_revision(group, if_match)
            before = port_pair_group_parents(group)
            changed = apply_simple_updates(group, body, {"name": "name",
                                                         "description": "description"})
            if "port_pairs" in body:
                old = [p.id for p in group.port_pairs]
                _set_pairs(session, ctx, group, body["port_pairs"] or [])
                if old != [p.id for p in group.port_pairs]:
                    changed = True
                    resteer_groups(session, [group.id])
            if changed:
                bump_revision(session, group, GROUP,
                              merged(before, port_pair_group_parents(group)))
            return group_dict(group)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, group_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            group = get_group_row(session, ctx, group_id)
            policy.enforce(ctx, "delete_port_pair_group", {"project_id": group.project_id})
            check_revision(group, if_match)
            if session.scalar(select(SfcChainGroup.chain_id).where(
                    SfcChainGroup.group_id == group.id)):
                raise sfc_errors.PortPairGroupInUse(group.id)
            parents = port_pair_group_parents(group)
            for pair in list(group.port_pairs):
                pair.group_id = None
            session.flush()
            session.delete(group)
            record_entry(session, GROUP, group.id, Operation.DELETE, parents)

        run_and_wake(self.db.write, self.wakeup, txn)


def _set_pairs(session: Session, ctx: Context, group: SfcPortPairGroup,
               pair_ids: list[str]) -> None:
    """A pair is in one group at most (PortPairInUse otherwise)."""
    wanted = [get_pair_row(session, ctx, pid) for pid in dict.fromkeys(pair_ids)]
    for pair in wanted:
        if pair.group_id not in (None, group.id):
            raise sfc_errors.PortPairInUse(pair.id)
    for pair in session.scalars(select(SfcPortPair).where(SfcPortPair.group_id == group.id)):
        if pair not in wanted:
            pair.group_id = None
    for pair in wanted:
        pair.group_id = group.id
    session.flush()
    session.expire(group, ["port_pairs"])


def _group_parameters(given: dict[str, Any] | None) -> dict[str, Any]:
    params = {"lb_fields": [], "ppg_n_tuple_mapping": dict(N_TUPLE_DEFAULT), **(given or {})}
    mapping = {**N_TUPLE_DEFAULT, **(params["ppg_n_tuple_mapping"] or {})}
    params["ppg_n_tuple_mapping"] = {k: v or {} for k, v in mapping.items()}
    if not isinstance(params["lb_fields"], list):
        raise errors.InvalidInput("lb_fields must be a list")
    return params
