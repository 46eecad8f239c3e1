"""Tags on any resource (the standard-attr-tag extension); a tag change is a revision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.clock import utcnow
from neutrino.db.engine import Database
from neutrino.journal.parents import parents_of_row
from neutrino.journal.types import ResourceType
from neutrino.services import (
    floating_ips,
    networks,
    ports,
    routers,
    security_groups,
    subnetpools,
    subnets,
)
from neutrino.services.common import (
    Waker,
    bump_revision,
    run_and_wake,
    set_tags,
    validate_tags,
)
from neutrino.services.context import Context
from neutrino.services.qos import policies as qos_policies
from neutrino.services.sfc import chains as sfc_chains
from neutrino.services.sfc import classifiers as sfc_classifiers
from neutrino.services.sfc import groups as sfc_groups
from neutrino.services.sfc import pairs as sfc_pairs
from neutrino.services.trunks import service as trunk_service

Getter = Callable[[Session, Context, str], Any]

# The resources with tags, by collection. Security group rules have none (as in Neutron, whose
# rule model does not declare tag support), so the API gives them no /tags routes; their
# absence here used to be a KeyError, a 500 on every /tags call.
RESOURCES: dict[str, tuple[ResourceType | str, Getter]] = {
    "networks": (ResourceType.NETWORK, networks.get_network_row),
    "subnets": (ResourceType.SUBNET, subnets.get_subnet_row),
    "ports": (ResourceType.PORT, ports.get_port_row),
    "security_groups": (ResourceType.SECURITY_GROUP, security_groups.get_sg_row),
    "routers": (ResourceType.ROUTER, routers.get_router_row),
    "floatingips": (ResourceType.FLOATING_IP, floating_ips.get_fip_row),
    # no OVN rows, so no journal entry (a plain string, not a journal ResourceType)
    "subnetpools": ("subnetpool", subnetpools.get_pool_row),
    "trunks": ("trunk", trunk_service.get_trunk_row),
    "port_pairs": (ResourceType.PORT_PAIR, sfc_pairs.get_pair_row),
    "port_pair_groups": (ResourceType.PORT_PAIR_GROUP, sfc_groups.get_group_row),
    "port_chains": (ResourceType.PORT_CHAIN, sfc_chains.get_chain_row),
    "flow_classifiers": (ResourceType.FLOW_CLASSIFIER, sfc_classifiers.get_classifier_row),
    # a QoS policy has no OVN rows of its own ("update_policy" guards its tags, admin-only)
    "policies": ("policy", qos_policies.get_policy_row),
}


class TagNotFound(errors.NotFound):
    def __init__(self, tag: str, resource_id: str) -> None:
        super().__init__(f"Tag {tag} could not be found for resource {resource_id}.")


class TagService:
    def __init__(self, db: Database, wakeup: Waker) -> None:
        self.db = db
        self.wakeup = wakeup

    def supports(self, collection: str) -> bool:
        return collection in RESOURCES

    def get_all(self, ctx: Context, collection: str, rid: str) -> list[str]:
        _, getter = RESOURCES[collection]
        with self.db.read() as session:
            return [t.tag for t in getter(session, ctx, rid).tags]

    def check(self, ctx: Context, collection: str, rid: str, tag: str) -> None:
        if tag not in self.get_all(ctx, collection, rid):
            raise TagNotFound(tag, rid)

    def replace(self, ctx: Context, collection: str, rid: str, tags: list[str]) -> list[str]:
        return self._change(ctx, collection, rid, lambda current: list(tags))

    def add(self, ctx: Context, collection: str, rid: str, tag: str) -> list[str]:
        return self._change(ctx, collection, rid, lambda current: [*current, tag])

    def remove(self, ctx: Context, collection: str, rid: str, tag: str) -> list[str]:
        def without(current: list[str]) -> list[str]:
            if tag not in current:
                raise TagNotFound(tag, rid)
            return [t for t in current if t != tag]

        return self._change(ctx, collection, rid, without)

    def _change(
        self, ctx: Context, collection: str, rid: str,
        change: Callable[[list[str]], list[str]],
    ) -> list[str]:
        rtype, getter = RESOURCES[collection]

        def txn(session: Session) -> list[str]:
            row = getter(session, ctx, rid)
            policy.enforce(ctx, f"update_{str(rtype).replace('_ip', 'ip')}",
                           {"project_id": row.project_id,
                            "network:project_id": getattr(getattr(row, "network", None),
                                                          "project_id", row.project_id)})
            current = [t.tag for t in row.tags]
            wanted = sorted(set(validate_tags(change(current))))
            if wanted != current:
                set_tags(row, rtype, wanted)
                if isinstance(rtype, ResourceType):
                    bump_revision(session, row, rtype, parents_of_row(rtype, row))
                else:
                    row.revision_number += 1
                    row.updated_at = utcnow()
            return wanted

        return run_and_wake(self.db.write, self.wakeup, txn)
