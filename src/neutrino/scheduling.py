"""Choosing the chassis that host a router's gateway: pure rules.

A gateway router is bound to one chassis; a distributed gateway port's HA_Chassis_Group holds
up to `HA_GROUP_SIZE` chassis by priority. Both come from one ordered list: its first chassis
is where a gateway router is bound and what the group prefers.

A chassis says it accepts gateways with `enable-chassis-as-gw` in its `ovn-cms-options`
(other_config, or external_ids on older OVN), and refuses them with `disable-chassis-as-gw`.
When some chassis opt in, only they are candidates; when none says anything, every chassis
that has not opted out is (gateways allowed by default).

Availability zones. A chassis belongs to the zones its `ovn-cms-options` name in
`availability-zones=az1:az2`. A router with `availability_zone_hints` is hosted only by a
candidate in one of those zones; as in ML2/OVN there is no fallback: with none there, its gateway
stays unscheduled until such a chassis appears.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

OPT_IN = "enable-chassis-as-gw"
OPT_OUT = "disable-chassis-as-gw"
AZ_OPTION = "availability-zones="
HA_GROUP_SIZE = 5  # ML2/OVN's MAX_GW_CHASSIS


@dataclass(frozen=True)
class Chassis:
    """What neutrino reads of an SB Chassis row: for gateway scheduling and port binding."""

    name: str
    cms_options: tuple[str, ...] = ()
    hostname: str = ""
    physnets: tuple[str, ...] = ()  # the physical networks its ovn-bridge-mappings map
    datapath_type: str = ""  # its br-int datapath ("system", "netdev"); "" when unreported
    iface_types: tuple[str, ...] = ()  # the interface types its Open vSwitch supports
    bridge: str = ""  # ovn-bridge, its integration bridge; "" when it reports none


# How a service learns the chassis OVN knows now (SouthboundClient.chassis; raises
# BackendUnavailable when SB cannot be read).
ChassisSource = Callable[[], list[Chassis]]


def candidates(chassis: Sequence[Chassis], az_hints: Sequence[str] = ()) -> list[str]:
    allowed = [c for c in chassis if OPT_OUT not in c.cms_options]
    opted_in = [c for c in allowed if OPT_IN in c.cms_options]
    found = opted_in or allowed
    if az_hints:
        found = [c for c in found if set(az_hints) & set(zones(c.cms_options))]
    return sorted(c.name for c in found)


def zones(cms_options: Sequence[str]) -> list[str]:
    """The availability zones `availability-zones=az1:az2` in ovn-cms-options names."""
    for option in cms_options:
        if option.startswith(AZ_OPTION):
            return sorted({az.strip() for az in option[len(AZ_OPTION):].split(":")
                           if az.strip()})
    return []


def gateway_zones(chassis: Sequence[Chassis]) -> set[str]:
    """The zones of the chassis that opted in as gateways: those a hint may name (the ones
    `/v2.0/availability_zones` lists)."""
    return {zone for c in chassis if OPT_IN in c.cms_options for zone in zones(c.cms_options)}


def parse_cms_options(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def parse_physnets(bridge_mappings: str | None) -> tuple[str, ...]:
    """The physical networks of an `ovn-bridge-mappings` value ("physnet1:br-ex,...")."""
    return tuple(entry.split(":", 1)[0].strip() for entry in parse_cms_options(bridge_mappings)
                 if ":" in entry)


def answering(names: Sequence[str], unresponsive: set[str]) -> list[str]:
    """The candidates whose controller answers; all of them when none does (moving a gateway
    from one silent chassis to another helps nothing, and silence is not a departure)."""
    return [name for name in names if name not in unresponsive] or list(names)


def count_move(load: dict[str, int], old: str | None, new: str | None) -> None:
    """Keep a load (chassis → gateways) true across a move, without reading it again."""
    if old is not None:
        load[old] = load.get(old, 0) - 1
    if new is not None:
        load[new] = load.get(new, 0) + 1


def least_loaded(names: Sequence[str], load: Mapping[str, int]) -> str | None:
    """The candidate hosting the fewest gateway routers (ties: by name, for stability)."""
    if not names:
        return None
    return min(names, key=lambda name: (load.get(name, 0), name))


def chance(names: Sequence[str], rng: random.Random) -> str | None:
    return rng.choice(list(names)) if names else None


def choose(kind: str, names: Sequence[str], load: Mapping[str, int],
           rng: random.Random) -> str | None:
    return least_loaded(names, load) if kind == "least-loaded" else chance(names, rng)


def by_priority(current: Sequence[str], first: str | None, names: Sequence[str],
                load: Mapping[str, int], size: int = HA_GROUP_SIZE) -> list[str]:
    """The gateway chassis by falling priority: `first` (the scheduler's choice, when one is
    made), then those already there that are still candidates, in their order (a chassis
    leaving only moves the others up), then the other candidates, least loaded first."""
    ordered = [first] if first else []
    ordered += [c for c in current if c in names and c not in ordered]
    ordered += sorted((c for c in names if c not in ordered),
                      key=lambda name: (load.get(name, 0), name))
    return ordered[:size]
