"""Plans read as differences an operator can understand: missing, extra, stale."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from neutrino.ovn.rows import AddMember, Delete, Insert, Op, Plan, RemoveMember
from neutrino.ovn.translate.l2gw import VtepPlan


class Kind(enum.StrEnum):
    MISSING = "missing"  # the database has it, NB does not
    EXTRA = "extra"  # NB has a row of ours that the database no longer has
    STALE = "stale"  # both have it, but columns or the revision differ


@dataclass(frozen=True)
class Difference:
    resource_type: str
    resource_id: str
    kind: Kind
    row: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "kind": self.kind.value,
            "row": self.row,
            "detail": self.detail,
        }


def differences(plans: Iterable[Plan]) -> list[Difference]:
    found = []
    reported: set[object] = set()  # a shared row (the drop group) is reported once
    for plan in plans:
        inserted = {op.row.key for op in plan.ops if isinstance(op, Insert)}
        for op in plan.ops:
            if isinstance(op, AddMember) and op.member.child in inserted:
                continue  # joining its groups is part of creating the missing row
            if isinstance(op, Insert):
                if op.row.key in reported:
                    continue
                reported.add(op.row.key)
            found.append(_difference(plan, op))
    return found


def _difference(plan: Plan, op: Op) -> Difference:
    if isinstance(op, Insert):
        kind, key, detail = Kind.MISSING, op.row.key, "not in OVN NB"
    elif isinstance(op, Delete):
        kind, key, detail = Kind.EXTRA, op.key, "in OVN NB but not in the database"
    elif isinstance(op, AddMember):
        kind, key = Kind.STALE, op.member.child
        detail = f"not listed in {op.member.parent}.{op.member.column}"
    elif isinstance(op, RemoveMember):
        kind, key = Kind.STALE, op.member.child
        detail = f"wrongly listed in {op.member.parent}.{op.member.column}"
    else:
        changed = sorted([*op.columns, *op.refs])
        kind, key, detail = Kind.STALE, op.key, "differs in " + ", ".join(changed)
    return Difference(plan.resource_type, plan.resource_id, kind, str(key), detail)


VTEP_RESOURCE = "vtep"  # a VTEP database's differences, reported per physical switch


def vtep_differences(plans: Iterable[VtepPlan]) -> list[Difference]:
    """Differences in the VTEP rows neutrino owns (its logical switches and VLAN bindings)."""
    found = []
    for plan in plans:
        sw = plan.switch
        found += [Difference(VTEP_RESOURCE, sw, Kind.MISSING, f"Logical_Switch(name={name})",
                             "not in the VTEP database") for name in plan.add_switches]
        found += [Difference(VTEP_RESOURCE, sw, Kind.EXTRA, f"Logical_Switch(name={name})",
                             "in the VTEP database but not wanted")
                  for name in plan.remove_switches]
        found += [Difference(VTEP_RESOURCE, sw, Kind.MISSING,
                             f"Physical_Port(name={port}).vlan_bindings[{vlan}]",
                             f"should bind {ls}") for port, vlan, ls in plan.bind]
        found += [Difference(VTEP_RESOURCE, sw, Kind.EXTRA,
                             f"Physical_Port(name={port}).vlan_bindings[{vlan}]",
                             "bound but not wanted") for port, vlan in plan.unbind]
    return found


GLOBAL_RESOURCE = "nb_global"  # NB_Global keys neutrino sets (neutron:fip-distributed)


def global_differences(found: dict[str, tuple[str | None, str]]) -> list[Difference]:
    return [Difference(GLOBAL_RESOURCE, key, Kind.MISSING if have is None else Kind.STALE,
                       f"NB_Global(external_ids:{key})",
                       f"is {have!r}, should be {want!r}")
            for key, (have, want) in sorted(found.items())]
