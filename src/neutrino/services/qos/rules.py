"""QoS rules of a policy: bandwidth limits (one per direction) and DSCP marking (one per
policy), the kinds the OVN driver realises. A rule change journals every port the policy
reaches, in the change's own transaction.

Packet rate limits and minimum bandwidth (or packet rate) are not offered: OVN's `QoS` table
knows only `bandwidth` in kbps and a DSCP `action`, and a minimum needs the hypervisor's
queueing on a physical port, which neutrino does not configure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import policy
from neutrino.db.models import QosBandwidthLimitRule, QosDscpMarkingRule, QosPolicy
from neutrino.services.common import new_id, run_and_wake
from neutrino.services.context import Context
from neutrino.services.qos import errors as qos_errors
from neutrino.services.qos.policies import get_policy_row, policy_visible, revise_policy


@dataclass(frozen=True)
class RuleKind:
    type: str  # Neutron's rule type name
    model: type
    fields: tuple[str, ...]  # the rule's own attributes
    unique_by: tuple[str, ...]  # one rule per policy and these attributes

    @property
    def collection(self) -> str:
        return f"{self.type}_rules"

    def rows(self, pol: QosPolicy) -> list[Any]:
        return list(getattr(pol, self.collection))

    def to_dict(self, rule: Any) -> dict[str, Any]:
        return {"id": rule.id, "type": self.type, "qos_policy_id": rule.qos_policy_id,
                **{f: getattr(rule, f) for f in self.fields}}


RULE_KINDS: Mapping[str, RuleKind] = {k.collection: k for k in (
    RuleKind("bandwidth_limit", QosBandwidthLimitRule,
             ("max_kbps", "max_burst_kbps", "direction"), ("direction",)),
    RuleKind("dscp_marking", QosDscpMarkingRule, ("dscp_mark",), ()),
)}


class QosRuleService:
    """The rules of one kind, under `/qos/policies/{id}/<kind>_rules` and, without the
    policy, under `/qos/alias_<kind>_rules/{id}` (qos-rules-alias)."""

    def __init__(self, db: Any, wakeup: Callable[[], None], kind: RuleKind) -> None:
        self.db = db
        self.wakeup = wakeup
        self.kind = kind

    def create(self, ctx: Context, policy_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            pol = self._policy(session, ctx, policy_id, "create")
            rule = self.kind.model(id=new_id(), qos_policy_id=pol.id,
                                   **{f: body[f] for f in self.kind.fields})
            self._check_unique(pol, rule)
            getattr(pol, self.kind.collection).append(rule)
            session.flush()
            revise_policy(session, pol)
            return self.kind.to_dict(rule)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def get(self, ctx: Context, policy_id: str, rule_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return self.kind.to_dict(self._rule(session, ctx, policy_id, rule_id))

    def list(self, ctx: Context, policy_id: str,
             filters: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
        with self.db.read() as session:
            pol = get_policy_row(session, ctx, policy_id)
            found = [self.kind.to_dict(r) for r in self.kind.rows(pol)]
            return [r for r in found if all(r.get(k) in v for k, v in filters.items())]

    def update(self, ctx: Context, policy_id: str, rule_id: str,
               body: dict[str, Any]) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            pol = self._policy(session, ctx, policy_id, "update")
            rule = self._rule(session, ctx, pol.id, rule_id)
            changed = {f: v for f, v in body.items() if getattr(rule, f) != v}
            for field, value in changed.items():
                setattr(rule, field, value)
            self._check_unique(pol, rule)
            if changed:
                session.flush()
                revise_policy(session, pol)
            return self.kind.to_dict(rule)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, policy_id: str, rule_id: str) -> None:
        def txn(session: Session) -> None:
            pol = self._policy(session, ctx, policy_id, "delete")
            rule = self._rule(session, ctx, pol.id, rule_id)
            getattr(pol, self.kind.collection).remove(rule)
            session.flush()
            revise_policy(session, pol)

        run_and_wake(self.db.write, self.wakeup, txn)

    def policy_of(self, ctx: Context, rule_id: str) -> str:
        """The policy of a rule named alone (qos-rules-alias), if the caller sees it."""
        with self.db.read() as session:
            rule = session.get(self.kind.model, rule_id)
            if rule is None:
                raise qos_errors.QosRuleNotFound("", rule_id)
            pol = session.get(QosPolicy, rule.qos_policy_id)
            if pol is None or not policy_visible(ctx, pol):
                raise qos_errors.QosRuleNotFound("", rule_id)
            return pol.id

    def _policy(self, session: Session, ctx: Context, policy_id: str,
                verb: str) -> QosPolicy:
        pol = get_policy_row(session, ctx, policy_id)
        policy.enforce(ctx, f"{verb}_policy_{self.kind.type}_rule",
                       {"project_id": pol.project_id})
        return pol

    def _rule(self, session: Session, ctx: Context, policy_id: str, rule_id: str) -> Any:
        pol = get_policy_row(session, ctx, policy_id)
        rule = session.scalar(select(self.kind.model).where(
            self.kind.model.id == rule_id, self.kind.model.qos_policy_id == pol.id))
        if rule is None:
            raise qos_errors.QosRuleNotFound(pol.id, rule_id)
        return rule

    def _check_unique(self, pol: QosPolicy, rule: Any) -> None:
        for other in self.kind.rows(pol):
            if other is not rule and all(getattr(other, f) == getattr(rule, f)
                                         for f in self.kind.unique_by):
                direction = getattr(rule, "direction", None)
                raise qos_errors.QoSRulesConflict(pol.id, self.kind.type, direction)


# GET /qos/rule-types (and /qos/rule-types/{type}, qos-rule-type-details): what the OVN
# driver realises, with the parameters it takes
RULE_TYPES: Mapping[str, list[dict[str, Any]]] = {
    "bandwidth_limit": [
        {"parameter_name": "max_kbps", "parameter_type": "range",
         "parameter_values": {"start": 0, "end": 2147483647}},
        {"parameter_name": "max_burst_kbps", "parameter_type": "range",
         "parameter_values": {"start": 0, "end": 2147483647}},
        {"parameter_name": "direction", "parameter_type": "choices",
         "parameter_values": ["egress", "ingress"]}],
    "dscp_marking": [
        {"parameter_name": "dscp_mark", "parameter_type": "choices",
         "parameter_values": [0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36,
                              38, 40, 44, 46, 48, 56]}],
}


def rule_type_details(rule_type: str) -> dict[str, Any] | None:
    if rule_type not in RULE_TYPES:
        return None
    return {"type": rule_type,
            "drivers": [{"name": "ovn", "supported_parameters": RULE_TYPES[rule_type]}]}
