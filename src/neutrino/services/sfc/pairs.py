"""Port pairs: a service function's ingress and egress ports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import SfcPortPair
from neutrino.journal.parents import port_pair_parents
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
from neutrino.services.sfc.common import get_port, get_sfc_row, store_new

PAIR = ResourceType.PORT_PAIR


def pair_dict(pair: SfcPortPair) -> dict[str, Any]:
    return {**standard_fields(pair), "ingress": pair.ingress, "egress": pair.egress,
            "service_function_parameters": {"correlation": pair.correlation,
                                            "weight": pair.weight}}


def get_pair_row(session: Session, ctx: Context, pair_id: str) -> SfcPortPair:
    return get_sfc_row(session, ctx, SfcPortPair, pair_id, sfc_errors.PortPairNotFound)


class PortPairService(ResourceService):
    model = SfcPortPair
    listing = ListSpec(SfcPortPair, {**standard_columns(SfcPortPair),
                                     "ingress": SfcPortPair.ingress,
                                     "egress": SfcPortPair.egress})

    def to_dict(self, row: SfcPortPair) -> dict[str, Any]:
        return pair_dict(row)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> SfcPortPair:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_port_pair", {"project_id": project})
        quotas.check(session, self.settings, project, "port_pair")
        ingress = get_port(session, ctx, body["ingress"], sfc_errors.PortPairPortNotFound)
        egress = get_port(session, ctx, body["egress"], sfc_errors.PortPairPortNotFound)
        taken = session.scalar(select(SfcPortPair.id).where(
            SfcPortPair.ingress == ingress.id, SfcPortPair.egress == egress.id))
        if taken:
            raise sfc_errors.PortPairIngressEgressInUse(ingress.id, egress.id, taken)
        params = sf_parameters(body.get("service_function_parameters"))
        pair = SfcPortPair(id=new_id(), name=body["name"], description=body["description"],
                           ingress=ingress.id, egress=egress.id,
                           correlation=params["correlation"], weight=params["weight"])
        store_new(session, pair, PAIR, project, body.get("tags"))
        record_entry(session, PAIR, pair.id, Operation.CREATE, port_pair_parents(pair))
        return pair

    def get(self, ctx: Context, pair_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return pair_dict(get_pair_row(session, ctx, pair_id))

    def update(self, ctx: Context, pair_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            pair = get_pair_row(session, ctx, pair_id)
            policy.enforce(ctx, "update_port_pair", {"project_id": pair.project_id})
            check_revision(pair, if_match)
            if apply_simple_updates(pair, body, {"name": "name", "description": "description"}):
                bump_revision(session, pair, PAIR, port_pair_parents(pair))
            return pair_dict(pair)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, pair_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            pair = get_pair_row(session, ctx, pair_id)
            policy.enforce(ctx, "delete_port_pair", {"project_id": pair.project_id})
            check_revision(pair, if_match)
            if pair.group_id is not None:
                raise sfc_errors.PortPairInUse(pair.id)
            parents = port_pair_parents(pair)
            session.delete(pair)
            record_entry(session, PAIR, pair.id, Operation.DELETE, parents)

        run_and_wake(self.db.write, self.wakeup, txn)


def sf_parameters(given: dict[str, Any] | None) -> dict[str, Any]:
    """networking-sfc's defaults; a service function that expects MPLS or NSH encapsulated
    traffic cannot be served by OVN's reroute, so it is refused rather than ignored."""
    params = {"correlation": None, "weight": 1, **(given or {})}
    if params["correlation"] is not None:
        raise sfc_errors.SfcNotRealisable(
            f"service_function_parameters correlation '{params['correlation']}' cannot be "
            "realised: OVN delivers the traffic to the service function unencapsulated "
            "(correlation null)")
    if params["weight"] < 0:
        raise errors.InvalidInput(f"'{params['weight']}' should be non-negative")
    return params
