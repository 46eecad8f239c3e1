"""Port chains: an ordered list of port pair groups and the classifiers that enter it.

A chain shows `status` and `status_reason` besides networking-sfc's attributes: ACTIVE when
every classifier is steered in OVN, DEGRADED with the reasons when this OVN cannot steer
some of it (clients that do not know the two keys ignore them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import (
    SfcChainClassifier,
    SfcChainGroup,
    SfcFlowClassifier,
    SfcPortChain,
)
from neutrino.journal.parents import merged, port_chain_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.ovn.translate.sfc import chain_problems
from neutrino.reconcile.sfc_facts import chain_facts
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
from neutrino.services.listing import ListSpec, select_page, standard_columns
from neutrino.services.sfc import errors as sfc_errors
from neutrino.services.sfc.classifiers import get_classifier_row, overlap
from neutrino.services.sfc.common import get_sfc_row, smallest_free, store_new
from neutrino.services.sfc.groups import get_group_row

CHAIN = ResourceType.PORT_CHAIN
MAX_CHAIN_ID = 65535
CORRELATIONS = ("mpls", "nsh")


def chain_dict(chain: SfcPortChain, problems: list[str] | None = None) -> dict[str, Any]:
    return {**standard_fields(chain), "chain_id": chain.chain_id,
            "port_pair_groups": [g.group_id for g in chain.groups],
            "flow_classifiers": [c.classifier_id for c in chain.classifiers],
            "chain_parameters": {"correlation": chain.correlation,
                                 "symmetric": chain.symmetric},
            "status": "DEGRADED" if problems else "ACTIVE",
            "status_reason": "; ".join(problems or [])}


def chain_view(session: Session, chain: SfcPortChain) -> dict[str, Any]:
    return chain_dict(chain, chain_problems(chain_facts(session, chain)))


def get_chain_row(session: Session, ctx: Context, chain_id: str) -> SfcPortChain:
    return get_sfc_row(session, ctx, SfcPortChain, chain_id, sfc_errors.PortChainNotFound)


class PortChainService(ResourceService):
    model = SfcPortChain
    listing = ListSpec(SfcPortChain, {**standard_columns(SfcPortChain),
                                      "chain_id": SfcPortChain.chain_id})

    def list(self, ctx: Context, query: Any) -> list[dict[str, Any]]:
        with self.db.read() as session:
            stmt = select(SfcPortChain)
            if not ctx.is_admin:
                stmt = stmt.where(SfcPortChain.project_id == ctx.project_id)
            return select_page(session, stmt, self.listing,
                               lambda row: chain_view(session, row), query)

    def to_dict(self, row: SfcPortChain) -> dict[str, Any]:
        return chain_dict(row)

    def create(self, ctx: Context, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for body in bodies:
            policy.check_project(ctx, body)

        def txn(session: Session) -> list[dict[str, Any]]:
            chains = [self._create_one(session, ctx, body) for body in bodies]
            return [chain_view(session, chain) for chain in chains]

        return run_and_wake(self.db.write, self.wakeup, txn)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> SfcPortChain:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_port_chain", {"project_id": project})
        quotas.check(session, self.settings, project, "port_chain")
        params = {"correlation": "mpls", "symmetric": False,
                  **(body.get("chain_parameters") or {})}
        if params["correlation"] not in CORRELATIONS:
            raise errors.InvalidInput(f"'{params['correlation']}' is not in "
                                      f"{list(CORRELATIONS)}")
        chain = SfcPortChain(id=new_id(), name=body["name"], description=body["description"],
                             chain_id=_chain_number(session, body.get("chain_id") or 0),
                             correlation=params["correlation"],
                             symmetric=bool(params["symmetric"]))
        store_new(session, chain, CHAIN, project, body.get("tags"))
        _set_groups(session, ctx, chain, body.get("port_pair_groups"))
        _set_classifiers(session, ctx, chain, body.get("flow_classifiers") or [])
        record_entry(session, CHAIN, chain.id, Operation.CREATE, port_chain_parents(chain))
        return chain

    def get(self, ctx: Context, chain_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return chain_view(session, get_chain_row(session, ctx, chain_id))

    def update(self, ctx: Context, chain_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            chain = get_chain_row(session, ctx, chain_id)
            policy.enforce(ctx, "update_port_chain", {"project_id": chain.project_id})
            check_revision(chain, if_match)
            before = port_chain_parents(chain)
            changed = apply_simple_updates(chain, body, {"name": "name",
                                                         "description": "description"})
            if "port_pair_groups" in body:
                changed |= _set_groups(session, ctx, chain, body["port_pair_groups"])
            if "flow_classifiers" in body:
                changed |= _set_classifiers(session, ctx, chain, body["flow_classifiers"] or [])
            if changed:
                bump_revision(session, chain, CHAIN, merged(before, port_chain_parents(chain)))
            return chain_view(session, chain)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, chain_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            chain = get_chain_row(session, ctx, chain_id)
            policy.enforce(ctx, "delete_port_chain", {"project_id": chain.project_id})
            check_revision(chain, if_match)
            parents = port_chain_parents(chain)
            session.delete(chain)
            record_entry(session, CHAIN, chain.id, Operation.DELETE, parents)

        run_and_wake(self.db.write, self.wakeup, txn)


def _chain_number(session: Session, wanted: int) -> int:
    if not 0 <= wanted <= MAX_CHAIN_ID:
        raise errors.InvalidInput(f"'{wanted}' is not in range 0 through {MAX_CHAIN_ID}")
    used = set(session.scalars(select(SfcPortChain.chain_id)))
    if wanted == 0:
        number = smallest_free(used, 1, MAX_CHAIN_ID)
        if number is None:
            raise sfc_errors.PortChainUnavailableChainId()
        return number
    if wanted in used:
        other = session.scalar(select(SfcPortChain.id).where(SfcPortChain.chain_id == wanted))
        raise sfc_errors.PortChainChainIdInConflict(wanted, str(other))
    return wanted


def _set_groups(session: Session, ctx: Context, chain: SfcPortChain,
                group_ids: list[str] | None) -> bool:
    """The chain's groups, in order; a group is in one chain at most."""
    if not group_ids:
        raise sfc_errors.PortPairGroupNotSpecified()
    if len(set(group_ids)) != len(group_ids):
        raise errors.InvalidInput("port_pair_groups lists a port pair group twice")
    groups = [get_group_row(session, ctx, gid) for gid in group_ids]
    for group in groups:
        owner = session.scalar(select(SfcChainGroup.chain_id).where(
            SfcChainGroup.group_id == group.id))
        if owner not in (None, chain.id):
            raise sfc_errors.InvalidPortPairGroups(group.id, owner)
    if [g.group_id for g in chain.groups] == [g.id for g in groups]:
        return False
    chain.groups.clear()
    session.flush()
    chain.groups.extend(SfcChainGroup(group_id=g.id, position=i) for i, g in enumerate(groups))
    session.flush()
    return True


def _set_classifiers(session: Session, ctx: Context, chain: SfcPortChain,
                     fc_ids: list[str]) -> bool:
    """A classifier is in one chain at most, and may not overlap another chain's classifier
    on the same source port."""
    if len(set(fc_ids)) != len(fc_ids):
        raise errors.InvalidInput("flow_classifiers lists a flow classifier twice")
    wanted = [get_classifier_row(session, ctx, fid) for fid in fc_ids]
    for fc in wanted:
        owner = session.scalar(select(SfcChainClassifier.chain_id).where(
            SfcChainClassifier.classifier_id == fc.id))
        if owner not in (None, chain.id):
            raise sfc_errors.FlowClassifierInUse(fc.id)
        _check_conflicts(session, chain, fc)
    if [c.classifier_id for c in chain.classifiers] == [fc.id for fc in wanted]:
        return False
    chain.classifiers.clear()
    session.flush()
    chain.classifiers.extend(SfcChainClassifier(classifier_id=fc.id, position=i)
                             for i, fc in enumerate(wanted))
    session.flush()
    return True


def _check_conflicts(session: Session, chain: SfcPortChain, fc: SfcFlowClassifier) -> None:
    if not fc.logical_source_port:
        return
    others = session.execute(
        select(SfcFlowClassifier, SfcChainClassifier.chain_id)
        .join(SfcChainClassifier, SfcChainClassifier.classifier_id == SfcFlowClassifier.id)
        .where(SfcFlowClassifier.logical_source_port == fc.logical_source_port,
               SfcChainClassifier.chain_id != chain.id)).all()
    for other, other_chain in others:
        if overlap(fc, other):
            raise sfc_errors.PortChainFlowClassifierInConflict(fc.id, other.id, other_chain)

