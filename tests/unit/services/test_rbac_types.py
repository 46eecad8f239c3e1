"""What a grant means and who would lose one: table tests without a database."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from neutrino.db.models import RbacPolicy
from neutrino.services.context import Context
from neutrino.services.networks import network_access
from neutrino.services.rbac_types import (
    ACCESS_EXTERNAL,
    ACCESS_SHARED,
    TYPES,
    InvalidActionForType,
    RbacType,
    grants,
    losing_access,
)

OWNER = "owner"


def policy(target: str, action: str = ACCESS_SHARED) -> RbacPolicy:
    return RbacPolicy(id=f"{action}-{target}", project_id=OWNER, object_type="network",
                      object_id="n", action=action, target_project=target)


def users(*projects: str, strict: bool = False) -> RbacType:
    """A type whose object is used by `projects` (whatever the action)."""
    return RbacType("thing", object, (ACCESS_SHARED,), KeyError,
                    lambda session, obj, action: set(projects), strict_in_use=strict)


OBJ: Any = SimpleNamespace(id="n", project_id=OWNER)


@pytest.mark.parametrize(("entries", "action", "project", "expected"), [
    ([], ACCESS_SHARED, "b", False),
    ([policy("b")], ACCESS_SHARED, "b", True),
    ([policy("b")], ACCESS_SHARED, "c", False),
    ([policy("*")], ACCESS_SHARED, "c", True),
    ([policy("*", ACCESS_EXTERNAL)], ACCESS_SHARED, "c", False),
    ([policy("b", ACCESS_EXTERNAL)], ACCESS_EXTERNAL, "b", True),
])
def test_grants(entries: list[RbacPolicy], action: str, project: str, expected: bool) -> None:
    assert grants(entries, action, project) is expected


@pytest.mark.parametrize(("before", "after", "used_by", "lost"), [
    # a targeted grant goes: only that project's use counts
    ([policy("b")], [], ("b", "c"), {"b"}),
    ([policy("b")], [], ("c",), set()),
    # ... and not while every project keeps access
    ([policy("b"), policy("*")], [policy("*")], ("b",), set()),
    # the wildcard goes: every user not covered by a policy of its own loses access
    ([policy("*"), policy("b")], [policy("b")], ("b", "c"), {"c"}),
    # moving a grant to another project
    ([policy("b")], [policy("c")], ("b",), {"b"}),
    ([policy("b")], [policy("*")], ("b",), set()),
    # the owner, and ports of no project (gateways, floating IPs), never lose access
    ([policy("*")], [], (OWNER, ""), set()),
    # another action's policies do not count
    ([policy("b")], [policy("b", ACCESS_EXTERNAL)], ("b",), {"b"}),
])
def test_losing_access(before: list[RbacPolicy], after: list[RbacPolicy],
                       used_by: tuple[str, ...], lost: set[str]) -> None:
    assert losing_access(None, users(*used_by), OBJ, ACCESS_SHARED, before, after) == lost  # type: ignore[arg-type]


@pytest.mark.parametrize(("before", "after", "used_by", "lost"), [
    # Neutron's object RBAC (QoS policies): the owner's own use needs the `*` policy...
    ([policy("*")], [], (OWNER, ""), {OWNER}),
    ([policy("*"), policy("b")], [policy("b")], (OWNER, "b", "c"), {OWNER, "c"}),
    # ... unless a policy names the owner; never for a policy to one project
    ([policy("*"), policy(OWNER)], [policy(OWNER)], (OWNER,), set()),
    ([policy(OWNER)], [], (OWNER,), set()),
    ([policy("b")], [], (OWNER, "b"), {"b"}),
    ([policy("*"), policy("b")], [policy("*")], (OWNER, "b"), set()),
])
def test_losing_access_strict(before: list[RbacPolicy], after: list[RbacPolicy],
                              used_by: tuple[str, ...], lost: set[str]) -> None:
    rtype = users(*used_by, strict=True)
    assert losing_access(None, rtype, OBJ, ACCESS_SHARED, before, after) == lost  # type: ignore[arg-type]


def test_actions_per_type() -> None:
    assert {name: t.actions for name, t in TYPES.items()} == {
        "network": (ACCESS_SHARED, ACCESS_EXTERNAL), "security_group": (ACCESS_SHARED,),
        "subnetpool": (ACCESS_SHARED,), "address_scope": (ACCESS_SHARED,),
        "qos_policy": (ACCESS_SHARED,)}
    with pytest.raises(InvalidActionForType):
        TYPES["security_group"].check_action(ACCESS_EXTERNAL)


@pytest.mark.parametrize(("ctx", "entries", "expected"), [
    (Context("owner", is_admin=False), [], (True, False, False, True)),
    (Context("b", is_admin=False), [], (False, False, False, False)),
    (Context("b", is_admin=False), [policy("b")], (False, True, False, True)),
    (Context("c", is_admin=False), [policy("b")], (False, False, False, False)),
    (Context("c", is_admin=False), [policy("*", ACCESS_EXTERNAL)], (False, False, True, True)),
    (Context("admin"), [policy("b")], (True, False, False, True)),
])
def test_network_access(ctx: Context, entries: list[RbacPolicy],
                        expected: tuple[bool, ...]) -> None:
    net: Any = SimpleNamespace(project_id=OWNER, rbac_entries=entries)
    access = network_access(ctx, net)
    assert (access.owner, access.shared, access.external, access.visible) == expected
