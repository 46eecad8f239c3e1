"""Neutron agents as ML2/OVN shows them, derived from OVN Southbound: pure rules.

Every chassis is an "OVN Controller agent" (an "OVN Controller Gateway agent" when its
`ovn-cms-options` hold `enable-chassis-as-gw`), with the chassis name as its id. A chassis whose
Chassis_Private (or, on old OVN, Chassis) `external_ids` carry `neutron:ovn-metadata-id` also
runs an "OVN Metadata agent" with that id.

Liveness. neutrino's maintenance bumps `NB_Global.nb_cfg` every few seconds; ovn-northd copies
it to `SB_Global.nb_cfg`, and each ovn-controller, once it has processed it, writes it to its
Chassis_Private `nb_cfg` together with `nb_cfg_timestamp` (milliseconds since the epoch). A
controller is alive when it acknowledged a probe within `agent_down_time` seconds. A metadata
agent reports the SB nb_cfg it saw in `neutron:ovn-metadata-sb-cfg`; it is alive when its
chassis is and it is at most one probe behind `SB_Global.nb_cfg` (Neutron's tolerance).
Both clocks are wall clocks, as Neutron's agent heartbeats are: hosts need NTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from neutrino.scheduling import OPT_IN, parse_cms_options, zones

CONTROLLER = "OVN Controller agent"
GATEWAY = "OVN Controller Gateway agent"
METADATA = "OVN Metadata agent"
CONTROLLER_BINARY = "ovn-controller"
METADATA_BINARY = "neutron-ovn-metadata-agent"
METADATA_ID_KEY = "neutron:ovn-metadata-id"
METADATA_SB_CFG_KEY = "neutron:ovn-metadata-sb-cfg"
DESCRIPTION_KEY = "neutron:description"
METADATA_DESCRIPTION_KEY = "neutron:description-metadata"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # Neutron's agent timestamps


@dataclass(frozen=True)
class ChassisFacts:
    """One chassis as SB holds it: Chassis joined with its Chassis_Private row."""

    name: str
    hostname: str = ""
    config: Mapping[str, str] = field(default_factory=dict)  # other_config, else external_ids
    private_ids: Mapping[str, str] = field(default_factory=dict)  # Chassis_Private external_ids
    nb_cfg: int = 0
    nb_cfg_timestamp: int = 0  # ms since the epoch; 0 when it never acknowledged a probe


@dataclass(frozen=True)
class SouthboundView:
    chassis: tuple[ChassisFacts, ...]
    sb_nb_cfg: int = 0  # SB_Global.nb_cfg: the last probe ovn-northd passed on


def availability_zones(config: Mapping[str, str]) -> list[str]:
    """`availability-zones=az1:az2` in ovn-cms-options, as ML2/OVN reads it."""
    return zones(parse_cms_options(config.get("ovn-cms-options")))


def is_gateway(config: Mapping[str, str]) -> bool:
    return OPT_IN in parse_cms_options(config.get("ovn-cms-options"))


def controller_alive(chassis: ChassisFacts, now: datetime, down_time: float) -> bool:
    if not chassis.nb_cfg_timestamp:
        return False
    return (now.timestamp() * 1000 - chassis.nb_cfg_timestamp) < down_time * 1000


def unresponsive(view: SouthboundView, now: datetime, down_time: float) -> set[str]:
    """The chassis whose controller stopped answering: it acknowledged a probe once, not
    within `down_time`, and SB holds a probe it has not acknowledged. A chassis that never
    acknowledged one (no ovn-controller of this era, or not yet started) is not called dead:
    nothing says it ever lived, nor that it left."""
    return {c.name for c in view.chassis
            if c.nb_cfg_timestamp and c.nb_cfg < view.sb_nb_cfg
            and not controller_alive(c, now, down_time)}


def metadata_alive(chassis: ChassisFacts, view: SouthboundView, now: datetime,
                   down_time: float) -> bool:
    try:
        seen = int(chassis.private_ids.get(METADATA_SB_CFG_KEY, "0"))
    except ValueError:
        seen = 0
    return controller_alive(chassis, now, down_time) and view.sb_nb_cfg - seen <= 1


def _heartbeat(chassis: ChassisFacts) -> str | None:
    if not chassis.nb_cfg_timestamp:
        return None
    moment = datetime.fromtimestamp(chassis.nb_cfg_timestamp / 1000, tz=UTC)
    return moment.strftime(TIME_FORMAT)


def _common(chassis: ChassisFacts) -> dict[str, Any]:
    config = chassis.config
    return {
        "host": chassis.hostname,
        "availability_zone": ", ".join(availability_zones(config)),
        "topic": "n/a",
        "admin_state_up": True,
        "start_flag": True,
        "heartbeat_timestamp": _heartbeat(chassis),
        "created_at": None,  # OVN does not record when a chassis registered
        "started_at": None,
        "configurations": {
            "chassis_name": chassis.name,
            "bridge-mappings": config.get("ovn-bridge-mappings", ""),
            "datapath-type": config.get("datapath-type", ""),
            "iface-types": config.get("iface-types", ""),
            "ovn-cms-options": config.get("ovn-cms-options", ""),
        },
    }


def controller_agent(chassis: ChassisFacts, now: datetime, down_time: float) -> dict[str, Any]:
    return {
        **_common(chassis),
        "id": chassis.name,
        "agent_type": GATEWAY if is_gateway(chassis.config) else CONTROLLER,
        "binary": CONTROLLER_BINARY,
        "description": chassis.private_ids.get(DESCRIPTION_KEY, ""),
        "alive": controller_alive(chassis, now, down_time),
    }


def metadata_agent(chassis: ChassisFacts, view: SouthboundView, now: datetime,
                   down_time: float) -> dict[str, Any] | None:
    agent_id = chassis.private_ids.get(METADATA_ID_KEY)
    if not agent_id:
        return None
    return {
        **_common(chassis),
        "id": agent_id,
        "agent_type": METADATA,
        "binary": METADATA_BINARY,
        "description": chassis.private_ids.get(METADATA_DESCRIPTION_KEY, ""),
        "alive": metadata_alive(chassis, view, now, down_time),
    }


def agents(view: SouthboundView, now: datetime, down_time: float) -> list[dict[str, Any]]:
    """Every agent the chassis in `view` stand for."""
    found: list[dict[str, Any]] = []
    for chassis in view.chassis:
        found.append(controller_agent(chassis, now, down_time))
        metadata = metadata_agent(chassis, view, now, down_time)
        if metadata is not None:
            found.append(metadata)
    return found
