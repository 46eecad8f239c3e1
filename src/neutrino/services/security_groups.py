"""Security groups and their rules, and each project's `default` group."""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, not_, or_, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.clock import isoformat
from neutrino.db.models import (
    DefaultSecurityGroup,
    PortSecurityGroup,
    SecurityGroup,
    SecurityGroupRule,
)
from neutrino.journal.parents import rule_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services import quotas, sg_rules
from neutrino.services.address_groups import get_ag_row
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    apply_simple_updates,
    bump_revision,
    check_revision,
    new_id,
    revise_parent,
    run_and_wake,
    set_tags,
    stamp_new,
    standard_fields,
)
from neutrino.services.context import Context
from neutrino.services.default_sg_rules import rule_body, templates_for
from neutrino.services.listing import ListQuery, ListSpec, select_page, standard_columns
from neutrino.services.rbac_types import (
    ACCESS_SHARED,
    EVERYONE,
    SECURITY_GROUP,
    granted_to,
    grants,
)

SG, RULE = ResourceType.SECURITY_GROUP, ResourceType.SECURITY_GROUP_RULE


def rule_dict(rule: SecurityGroupRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "project_id": rule.project_id,
        "tenant_id": rule.project_id,
        "security_group_id": rule.security_group_id,
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix,
        "remote_group_id": rule.remote_group_id,
        "remote_address_group_id": rule.remote_address_group_id,
        "normalized_cidr": _normalized(rule.remote_ip_prefix),
        "belongs_to_default_sg": rule.security_group.is_default,
        "description": rule.description,
        "revision_number": rule.revision_number,
        "created_at": isoformat(rule.created_at),
        "updated_at": isoformat(rule.updated_at),
        "tags": [],
    }


def sg_dict(sg: SecurityGroup, ctx: Context) -> dict[str, Any]:
    return {**standard_fields(sg), "security_group_rules": [rule_dict(r) for r in sg.rules],
            "stateful": sg.stateful, "shared": shared_with(ctx, sg)}


def shared_with(ctx: Context, sg: SecurityGroup) -> bool:
    """An access_as_shared policy gives the caller's project (or every project) the group:
    it sees it and puts its ports in it, but only the owner changes it."""
    return grants(sg.rbac_entries, ACCESS_SHARED, ctx.project_id)


def shared_groups(project_id: str) -> ColumnElement[bool]:
    """`shared_with` as SQL: what the `shared` filter reads
    (`security-groups-shared-filtering`)."""
    return granted_to(SecurityGroup.id, SECURITY_GROUP.name, (ACCESS_SHARED,), project_id)


def _normalized(prefix: str | None) -> str | None:
    return str(ipaddress.ip_network(prefix, strict=False)) if prefix else None


def refuse_default_name(body: dict[str, Any]) -> None:
    """No group but the project's own default may be called `default`, in any case."""
    if isinstance(body.get("name"), str) and body["name"].lower() == "default":
        raise errors.SecurityGroupDefaultAlreadyExists()


def get_sg_row(session: Session, ctx: Context, sg_id: str) -> SecurityGroup:
    """A group the caller may see: its project's, or one shared with it (RBAC)."""
    sg = session.get(SecurityGroup, sg_id)
    if sg is None or not (ctx.is_admin or sg.project_id == ctx.project_id
                          or shared_with(ctx, sg)):
        raise errors.SecurityGroupNotFound(sg_id)
    return sg


def ensure_default(session: Session, project_id: str) -> SecurityGroup:
    """The project's `default` group, created on first use with the rules of the templates
    `used_in_default_sg` (services/default_sg_rules.py)."""
    found = session.get(DefaultSecurityGroup, project_id)
    if found is not None:
        return session.get(SecurityGroup, found.security_group_id)
    sg = _new_group(session, project_id, "default", "Default security group", is_default=True)
    session.add(DefaultSecurityGroup(project_id=project_id, security_group_id=sg.id))
    for template in templates_for(session, default_group=True):
        _add_rule(session, sg, rule_body(template, sg.id), project_id)
    session.flush()
    return sg


_DEFAULTS = DefaultSecurityGroup.__table__
# Built once: every port create asks for its project's default group.
_DEFAULT_GROUP_ID = select(_DEFAULTS.c.security_group_id).where(
    _DEFAULTS.c.project_id == bindparam("project"))


def ensure_default_id(session: Session, project_id: str) -> str:
    """The id of the project's `default` group (created on first use), without loading the
    group and its rules when it exists."""
    found = session.scalar(_DEFAULT_GROUP_ID, {"project": project_id})
    return found if found is not None else ensure_default(session, project_id).id


def _new_group(session: Session, project_id: str, name: str, description: str,
               is_default: bool = False, stateful: bool = True) -> SecurityGroup:
    sg = SecurityGroup(id=new_id(), name=name, description=description, is_default=is_default,
                       stateful=stateful)
    stamp_new(sg, project_id)
    session.add(sg)
    session.flush()
    record_entry(session, SG, sg.id, Operation.CREATE)
    return sg


def _add_rule(session: Session, sg: SecurityGroup, body: dict[str, Any],
              project_id: str) -> SecurityGroupRule:
    values = sg_rules.validate_rule(body)
    address_group = body.get("remote_address_group_id")
    alike = [r for r in sg.rules if r.remote_address_group_id == address_group]
    duplicate = sg_rules.find_duplicate(alike, values)
    if duplicate is not None:
        raise errors.SecurityGroupRuleExists(duplicate.id)
    rule = SecurityGroupRule(id=new_id(), description=body.get("description") or "",
                             remote_address_group_id=address_group, **values)
    stamp_new(rule, project_id)
    sg.rules.append(rule)
    session.flush()
    record_entry(session, RULE, rule.id, Operation.CREATE, rule_parents(rule))
    return rule


def revise_group(session: Session, sg: SecurityGroup) -> None:
    revise_parent(session, sg, SG)


def _visible_rules(ctx: Context) -> ColumnElement[bool]:
    """A project's own rules, and any rule in a group it owns (an admin may have added it)."""
    own_groups = select(SecurityGroup.id).where(SecurityGroup.project_id == ctx.project_id)
    return or_(SecurityGroupRule.project_id == ctx.project_id,
               SecurityGroupRule.security_group_id.in_(own_groups))


def rule_target(rule: SecurityGroupRule) -> dict[str, Any]:
    return {"project_id": rule.project_id,
            "security_group:project_id": rule.security_group.project_id}


def _check_restate(session: Session, sg: SecurityGroup) -> None:
    """As in Neutron, a group's `stateful` may change only while no port uses it."""
    if session.scalar(select(exists().where(PortSecurityGroup.security_group_id == sg.id))):
        raise errors.SecurityGroupInUse(sg.id)


class SecurityGroupService(ResourceService):
    model = SecurityGroup
    listing = ListSpec(SecurityGroup, {**standard_columns(SecurityGroup),
                                       "stateful": SecurityGroup.stateful,
                                       "shared": shared_groups(EVERYONE)})

    def view(self, ctx: Context, row: SecurityGroup) -> dict[str, Any]:
        return sg_dict(row, ctx)

    def scope(self, ctx: Context) -> ColumnElement[bool]:
        return (SecurityGroup.project_id == ctx.project_id) | shared_groups(ctx.project_id)

    def listing_for(self, ctx: Context) -> ListSpec:
        """`shared` is the caller's: granted to its project or to every project."""
        return replace(self.listing, columns={**self.listing.columns,
                                              "shared": shared_groups(ctx.project_id)})

    def create(self, ctx: Context, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Quotas are checked for the whole request before the project's `default` group
        is made: that group and its rules are created outside any quota, so they never
        make the request that brings them about fail."""
        for body in bodies:
            policy.check_project(ctx, body)
            refuse_default_name(body)

        def txn(session: Session) -> list[dict[str, Any]]:
            projects = Counter(body.get("project_id") or ctx.project_id for body in bodies)
            for project, count in projects.items():
                policy.enforce(ctx, "create_security_group", {"project_id": project})
                quotas.check(session, self.settings, project, "security_group", count)
                quotas.check(session, self.settings, project, "security_group_rule",
                             count * len(templates_for(session, default_group=False)))
            return [self.view(ctx, self._create_one(session, ctx, body)) for body in bodies]

        return run_and_wake(self.db.write, self.wakeup, txn)

    def _create_one(self, session: Session, ctx: Context,
                    body: dict[str, Any]) -> SecurityGroup:
        project = body.get("project_id") or ctx.project_id
        ensure_default(session, project)
        sg = _new_group(session, project, body["name"], body["description"],
                        stateful=body.get("stateful", True))
        for template in templates_for(session, default_group=False):
            _add_rule(session, sg, rule_body(template, sg.id), project)
        set_tags(sg, SG, body.get("tags") or [])
        return sg

    def get(self, ctx: Context, sg_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return sg_dict(get_sg_row(session, ctx, sg_id), ctx)

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        self._ensure_default_exists(ctx.project_id)
        return super().list(ctx, query)

    def _ensure_default_exists(self, project_id: str) -> None:
        with self.db.read() as session:
            if session.get(DefaultSecurityGroup, project_id) is not None:
                return
        run_and_wake(self.db.write, self.wakeup, lambda s: ensure_default(s, project_id))

    def update(self, ctx: Context, sg_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        refuse_default_name(body)

        def txn(session: Session) -> dict[str, Any]:
            sg = get_sg_row(session, ctx, sg_id)
            policy.enforce(ctx, "update_security_group", {"project_id": sg.project_id})
            check_revision(sg, if_match)
            if sg.is_default and "name" in body:
                raise errors.SecurityGroupCannotUpdateDefault()
            restate = "stateful" in body and body["stateful"] != sg.stateful
            if restate:
                _check_restate(session, sg)
            if apply_simple_updates(sg, body, {"name": "name", "description": "description",
                                               "stateful": "stateful"}):
                bump_revision(session, sg, SG)
            if restate:  # every rule's ACL changes action (allow-related ↔ allow-stateless)
                for rule in sg.rules:
                    record_entry(session, RULE, rule.id, Operation.UPDATE, rule_parents(rule))
            return sg_dict(sg, ctx)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, sg_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            sg = get_sg_row(session, ctx, sg_id)
            policy.enforce(ctx, "delete_security_group", {"project_id": sg.project_id})
            check_revision(sg, if_match)
            if sg.is_default and sg.project_id == ctx.project_id:
                raise errors.SecurityGroupCannotRemoveDefault()
            if session.scalar(select(exists().where(
                    PortSecurityGroup.security_group_id == sg.id))):
                raise errors.SecurityGroupInUse(sg.id)
            # Rules of other groups that name this one as remote go with it (as in Neutron).
            referring = session.scalars(select(SecurityGroupRule).where(
                SecurityGroupRule.remote_group_id == sg.id,
                SecurityGroupRule.security_group_id != sg.id))
            for rule in [*sg.rules, *referring]:
                # the deleted group is this rule's own or its remote: a parent either way
                record_entry(session, RULE, rule.id, Operation.DELETE, rule_parents(rule))
                if rule.security_group_id != sg.id:
                    revise_group(session, rule.security_group)
                    session.delete(rule)
            session.flush()
            session.delete(sg)  # its own rules go with it (cascade)
            record_entry(session, SG, sg.id, Operation.DELETE)

        run_and_wake(self.db.write, self.wakeup, txn)


def _in_default_group(wanted: tuple[Any, ...]) -> ColumnElement[bool]:
    """`belongs_to_default_sg=true|false`: whether a rule's group is a project's default."""
    is_default = exists().where(SecurityGroup.id == SecurityGroupRule.security_group_id,
                                SecurityGroup.is_default)
    return or_(*(is_default if value else not_(is_default) for value in wanted))


class RuleService(ResourceService):
    model = SecurityGroupRule
    listing = ListSpec(SecurityGroupRule, {
        **standard_columns(SecurityGroupRule),
        **{attr: getattr(SecurityGroupRule, attr) for attr in (
            "security_group_id", "direction", "ethertype", "protocol", "port_range_min",
            "port_range_max", "remote_ip_prefix", "remote_group_id",
            "remote_address_group_id")},
    }, filters={"belongs_to_default_sg": _in_default_group})

    def to_dict(self, row: SecurityGroupRule) -> dict[str, Any]:
        return rule_dict(row)

    def _create_one(self, session: Session, ctx: Context,
                    body: dict[str, Any]) -> SecurityGroupRule:
        # Neutron judges this by the group's owner, so another project's group is a 403
        # (not a 404) here; naming it as a remote group below is a 404.
        sg = session.get(SecurityGroup, body["security_group_id"])
        if sg is None:
            raise errors.SecurityGroupNotFound(body["security_group_id"])
        policy.enforce(ctx, "create_security_group_rule", {"project_id": sg.project_id})
        if body.get("remote_group_id"):
            get_sg_row(session, ctx, body["remote_group_id"])
        if body.get("remote_address_group_id"):
            get_ag_row(session, ctx, body["remote_address_group_id"], lock=True)
        # As in Neutron, the rule is the caller's (or the project it names), even in a group
        # of another project an admin adds it to; that group's project still sees it.
        project = body.get("project_id") or ctx.project_id
        quotas.check(session, self.settings, project, "security_group_rule")
        rule = _add_rule(session, sg, body, project)
        revise_group(session, sg)
        return rule

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        with self.db.read() as session:
            stmt = select(SecurityGroupRule)
            if not ctx.is_admin:
                stmt = stmt.where(_visible_rules(ctx))
            return select_page(session, stmt, self.listing, self.to_dict, query)

    def _row(self, session: Session, ctx: Context, rule_id: str) -> SecurityGroupRule:
        rule = session.get(SecurityGroupRule, rule_id)
        if rule is None or not (ctx.is_admin or rule.project_id == ctx.project_id
                                or rule.security_group.project_id == ctx.project_id):
            raise errors.SecurityGroupRuleNotFound(rule_id)
        return rule

    def get(self, ctx: Context, rule_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return rule_dict(self._row(session, ctx, rule_id))

    def update(self, ctx: Context, rule_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            rule = self._row(session, ctx, rule_id)
            policy.enforce(ctx, "update_security_group_rule", rule_target(rule))
            check_revision(rule, if_match)
            if apply_simple_updates(rule, body, {"description": "description"}):
                rule.revision_number += 1
                revise_group(session, rule.security_group)
            return rule_dict(rule)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, rule_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            rule = self._row(session, ctx, rule_id)
            policy.enforce(ctx, "delete_security_group_rule", rule_target(rule))
            check_revision(rule, if_match)
            parents, sg = rule_parents(rule), rule.security_group
            session.delete(rule)
            record_entry(session, RULE, rule.id, Operation.DELETE, parents)
            revise_group(session, sg)

        run_and_wake(self.db.write, self.wakeup, txn)
