"""Who may do what: Neutron's default policies ("secure RBAC"), as one table of rules.

Keys use Neutron's policy names (`create_network:shared`, `get_port:binding:host_id`, ...) so
an operator can read them side by side. A rule sees the caller's context and the target: the
resource's `project_id`, and for resources on a network the network's project
(`network:project_id`) and whether it is shared (`network:shared`); for a security group
rule, its group's project (`security_group:project_id`). Visibility (what a caller
may see at all) is the services' concern: what a caller cannot see is a 404, never a 403.

Attribute rules (`<action>:<attribute>`) apply as in Neutron: on create, to an attribute given
a value other than its default; on update, to every attribute the request names, whatever its
value (Neutron's ATTRIBUTES_TO_UPDATE).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from neutrino import errors
from neutrino.services.context import Context

Rule = Callable[[Context, Mapping[str, Any]], bool]


def admin_only(ctx: Context, target: Mapping[str, Any]) -> bool:
    return ctx.is_admin


def project_member(ctx: Context, target: Mapping[str, Any]) -> bool:
    """Admin, or a member of the target's project."""
    return ctx.is_admin or (target.get("project_id") == ctx.project_id and "member" in ctx.roles)


def project_reader(ctx: Context, target: Mapping[str, Any]) -> bool:
    return ctx.is_admin or (target.get("project_id") == ctx.project_id
                            and bool({"member", "reader"} & set(ctx.roles)))


def network_owner(ctx: Context, target: Mapping[str, Any]) -> bool:
    """Admin, or a member of the project that owns the target's network."""
    return ctx.is_admin or (target.get("network:project_id") == ctx.project_id
                            and "member" in ctx.roles)


def port_creator(ctx: Context, target: Mapping[str, Any]) -> bool:
    """A member's own port, on a network its project owns or on a shared one (a visible
    external network is not enough)."""
    return project_member(ctx, target) and (network_owner(ctx, target)
                                            or bool(target.get("network:shared")))


def group_owner(ctx: Context, target: Mapping[str, Any]) -> bool:
    """A member of the project that owns a rule's security group (Neutron's sg_owner)."""
    return target.get("security_group:project_id") == ctx.project_id and "member" in ctx.roles


def restrict_wildcard(ctx: Context, target: Mapping[str, Any]) -> bool:
    """Only an admin shares with every project (`*`)."""
    return ctx.is_admin or target.get("target_tenant") != "*"


def either(*rules: Rule) -> Rule:
    return lambda ctx, target: any(rule(ctx, target) for rule in rules)


def _for(action_prefixes: tuple[str, ...], attrs: tuple[str, ...],
         rule: Rule) -> dict[str, Rule]:
    return {f"{prefix}:{attr}": rule for prefix in action_prefixes for attr in attrs}


PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")
BINDING_WRITE = ("binding:host_id", "binding:profile")
BINDING_READ = ("binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details")

RULES: dict[str, Rule] = {
    **{f"{verb}_{resource}": project_member
       for verb in ("create", "update", "delete")
       for resource in ("network", "port", "security_group", "security_group_rule", "router",
                        "floatingip", "rbac_policy", "address_group")},
    **{f"get_{resource}": project_reader
       for resource in ("network", "subnet", "port", "security_group", "security_group_rule",
                        "router", "floatingip", "quota", "rbac_policy", "address_group")},
    "update_security_group_rule": either(project_member, group_owner),
    "delete_security_group_rule": either(project_member, group_owner),
    "get_default_security_group_rule": lambda ctx, target: ctx.is_admin or bool(
        {"member", "reader"} & set(ctx.roles)),
    "add_addresses": project_member,
    "remove_addresses": project_member,
    **{f"{verb}_{resource}": project_member
       for verb in ("create", "update", "delete")
       for resource in ("port_pair", "port_pair_group", "port_chain", "flow_classifier")},
    **{f"get_{resource}": project_reader
       for resource in ("port_pair", "port_pair_group", "port_chain", "flow_classifier")},
    # trunks (Neutron's trunk policies)
    **{action: project_member for action in ("create_trunk", "update_trunk", "delete_trunk",
                                             "add_subports", "remove_subports")},
    "get_trunk": project_reader,
    "get_subports": project_reader,
    **{f"{verb}_floatingip_port_forwarding": project_member
       for verb in ("create", "update", "delete")},
    "get_floatingip_port_forwarding": project_reader,
    "create_port": port_creator,
    "create_subnet": network_owner,
    "update_subnet": either(project_member, network_owner),
    "delete_subnet": either(project_member, network_owner),
    "add_router_interface": project_member,
    "remove_router_interface": project_member,
    "add_extraroutes": project_member,
    "remove_extraroutes": project_member,
    **_for(("create_network", "update_network"), ("shared", "router:external", *PROVIDER),
           admin_only),
    **_for(("get_network",), PROVIDER, admin_only),
    **_for(("create_port", "update_port"), BINDING_WRITE, admin_only),
    **_for(("get_port",), BINDING_READ, admin_only),
    **_for(("create_port",), ("mac_address", "fixed_ips:ip_address", "device_owner",
                              "port_security_enabled", "allowed_address_pairs"), network_owner),
    **_for(("update_port",), ("mac_address",), admin_only),
    **_for(("update_port",), ("fixed_ips", "fixed_ips:ip_address", "device_owner",
                              "port_security_enabled", "allowed_address_pairs"), network_owner),
    **_for(("create_router", "update_router"), ("external_gateway_info:external_fixed_ips",
                                                "external_gateway_info:enable_snat"),
           admin_only),
    "create_floatingip:floating_ip_address": admin_only,
    **_for(("create_rbac_policy", "update_rbac_policy"), ("target_tenant",), restrict_wildcard),
    **{f"{verb}_{resource}": project_member
       for verb in ("create", "update", "delete") for resource in ("subnetpool",
                                                                    "address_scope")},
    "add_prefixes": project_member,
    "remove_prefixes": project_member,
    **_for(("create_subnetpool",), ("shared", "is_default"), admin_only),
    **_for(("update_subnetpool",), ("is_default",), admin_only),
    **_for(("create_address_scope", "update_address_scope"), ("shared",), admin_only),
    "update_quota": admin_only,
    "delete_quota": admin_only,
}


class ProjectNotAllowed(errors.BadRequest):
    """Neutron answers this before any policy, with webob's HTTPBadRequest."""

    def __init__(self) -> None:
        super().__init__("Specifying 'project_id' other than the authenticated project in "
                         "request is not allowed for the current user.")

    @property
    def type(self) -> str:
        return "HTTPBadRequest"


def check_project(ctx: Context, body: Mapping[str, Any]) -> None:
    """Only an admin creates resources for another project (a 400, as in Neutron)."""
    project = body.get("project_id")
    if project and project != ctx.project_id and not ctx.is_admin:
        raise ProjectNotAllowed()


def enforce(ctx: Context, action: str, target: Mapping[str, Any],
            attributes: Mapping[str, Any] | None = None) -> None:
    """Raise NotAuthorized (403) unless `action`, and each attribute rule it touches, pass.

    `attributes` are the request's: for an update only those it names (see the module doc)."""
    _check(ctx, action, target)
    updating = action.startswith("update_")
    for name, value in (attributes or {}).items():
        if (updating or _requested(value)) and f"{action}:{name}" in RULES:
            _check(ctx, f"{action}:{name}", target)


def _check(ctx: Context, action: str, target: Mapping[str, Any]) -> None:
    rule = RULES.get(action, admin_only)
    if not rule(ctx, target):
        raise errors.PolicyNotAuthorized(action)


def _requested(value: Any) -> bool:
    """On create, an attribute left at its empty default asks for nothing the policy guards."""
    return value not in (None, False, "", [], {})


def hidden_fields(ctx: Context, resource: str, item: Mapping[str, Any]) -> set[str]:
    """Attributes of `item` the caller may not see (`get_<resource>:<attr>` rules)."""
    return {name for name, rule in _read_rules(resource) if name in item
            and not rule(ctx, item)}


@functools.cache
def _read_rules(resource: str) -> tuple[tuple[str, Rule], ...]:
    """(attribute, rule) of every `get_<resource>:<attr>` rule: a listing checks these on
    each item, rather than looking every attribute of every item up in RULES."""
    prefix = f"get_{resource}:"
    return tuple((action.removeprefix(prefix), rule) for action, rule in RULES.items()
                 if action.startswith(prefix))
