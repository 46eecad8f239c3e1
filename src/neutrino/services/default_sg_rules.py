"""Default security group rules (security-groups-default-rules): the templates new groups
take their rules from. Admins create and delete them; anyone may read them. They live in
the database only: OVN learns of them through the rules of the groups made from them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import DefaultSecurityGroupRule
from neutrino.services import sg_rules
from neutrino.services.address_groups import get_ag_row
from neutrino.services.base import ResourceService
from neutrino.services.common import new_id, run_and_wake
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery, ListSpec, select_page

PARENT = "PARENT"  # a template's remote group: the group being created
COLUMNS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
           "remote_ip_prefix", "remote_group_id", "remote_address_group_id",
           "used_in_default_sg", "used_in_non_default_sg")


class DefaultSecurityGroupRuleNotFound(errors.NotFound):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Default Security Group rule {rule_id} does not exist")


class DefaultSecurityGroupRuleExists(errors.InUse):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Default Security group rule already exists. Rule id is {rule_id}.")


def template_dict(row: DefaultSecurityGroupRule) -> dict[str, Any]:
    return {"id": row.id, "description": row.description,
            **{name: getattr(row, name) for name in COLUMNS}}


def templates_for(session: Session, default_group: bool) -> list[DefaultSecurityGroupRule]:
    """The templates a new group takes its rules from, oldest first."""
    used = DefaultSecurityGroupRule.used_in_default_sg if default_group \
        else DefaultSecurityGroupRule.used_in_non_default_sg
    return list(session.scalars(select(DefaultSecurityGroupRule).where(used)
                                .order_by(DefaultSecurityGroupRule.direction,
                                          DefaultSecurityGroupRule.ethertype,
                                          DefaultSecurityGroupRule.id)))


def rule_body(template: DefaultSecurityGroupRule, group_id: str) -> dict[str, Any]:
    """A rule create body for `group_id` from a template ("PARENT" becomes the group)."""
    body = {name: getattr(template, name) for name in COLUMNS[:-2]}
    if body["remote_group_id"] == PARENT:
        body["remote_group_id"] = group_id
    return {**body, "security_group_id": group_id, "description": template.description}


class DefaultRuleService(ResourceService):
    model = DefaultSecurityGroupRule
    listing = ListSpec(DefaultSecurityGroupRule, {
        "id": DefaultSecurityGroupRule.id,
        "description": DefaultSecurityGroupRule.description,
        **{name: getattr(DefaultSecurityGroupRule, name) for name in COLUMNS}})

    def to_dict(self, row: DefaultSecurityGroupRule) -> dict[str, Any]:
        return template_dict(row)

    def _create_one(self, session: Session, ctx: Context,
                    body: dict[str, Any]) -> DefaultSecurityGroupRule:
        policy.enforce(ctx, "create_default_security_group_rule", {})
        remote = body.get("remote_group_id")
        if remote not in (None, PARENT):
            raise errors.InvalidInput(f"remote_group_id of a default security group rule "
                                      f"may only be '{PARENT}', not '{remote}'")
        # the rule checks, with the parent standing in for the remote group
        values = sg_rules.validate_rule({**body, "security_group_id": "",
                                         "remote_group_id": remote and PARENT})
        address_group = body.get("remote_address_group_id")
        if address_group:  # held, as a rule holds it (services/address_groups.py)
            get_ag_row(session, ctx, address_group, lock=True)
        existing = [t for t in session.scalars(select(DefaultSecurityGroupRule))
                    if t.remote_address_group_id == address_group]
        duplicate = sg_rules.find_duplicate(existing, values)
        if duplicate is not None:
            raise DefaultSecurityGroupRuleExists(duplicate.id)
        values.pop("security_group_id")
        row = DefaultSecurityGroupRule(
            id=new_id(), description=body.get("description") or "",
            remote_address_group_id=address_group,
            used_in_default_sg=bool(body.get("used_in_default_sg")),
            used_in_non_default_sg=bool(body.get("used_in_non_default_sg")), **values)
        session.add(row)
        session.flush()
        return row

    def _row(self, session: Session, rule_id: str) -> DefaultSecurityGroupRule:
        row = session.get(DefaultSecurityGroupRule, rule_id)
        if row is None:
            raise DefaultSecurityGroupRuleNotFound(rule_id)
        return row

    def get(self, ctx: Context, rule_id: str) -> dict[str, Any]:
        policy.enforce(ctx, "get_default_security_group_rule", {})
        with self.db.read() as session:
            return template_dict(self._row(session, rule_id))

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        """Templates belong to no project: every caller sees them all."""
        policy.enforce(ctx, "get_default_security_group_rule", {})
        with self.db.read() as session:
            return select_page(session, select(DefaultSecurityGroupRule), self.listing,
                               self.to_dict, query)

    def update(self, ctx: Context, rule_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        policy.enforce(ctx, "update_default_security_group_rule", {})
        with self.db.read() as session:
            self._row(session, rule_id)
        raise errors.BadRequest("Default security group rules cannot be updated: delete the "
                                "rule and create another")

    def delete(self, ctx: Context, rule_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            policy.enforce(ctx, "delete_default_security_group_rule", {})
            session.delete(self._row(session, rule_id))

        run_and_wake(self.db.write, self.wakeup, txn)
