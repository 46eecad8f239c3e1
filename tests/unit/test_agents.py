"""Agents as ML2/OVN shows them, from SB facts: types, zones, configurations, liveness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from neutrino import agents
from neutrino.agents import ChassisFacts, SouthboundView
from neutrino.errors import AgentNotFound
from neutrino.services.agents import AgentIsAlive, AgentService, AgentStatusCannotBeUpdated
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
DOWN = 75.0


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _chassis(name: str = "hv1", acked: timedelta | None = timedelta(seconds=5),
             **kw: object) -> ChassisFacts:
    stamp = _ms(NOW - acked) if acked is not None else 0
    return ChassisFacts(name=name, hostname=f"{name}.example", nb_cfg=7,
                        nb_cfg_timestamp=stamp, **kw)  # type: ignore[arg-type]


def test_controller_agent_fields() -> None:
    config = {"ovn-bridge-mappings": "physnet1:br-ex", "datapath-type": "netdev",
              "iface-types": "geneve,internal",
              "ovn-cms-options": "availability-zones=az2:az1"}
    agent = agents.controller_agent(_chassis(config=config), NOW, DOWN)
    assert agent["id"] == "hv1"
    assert agent["host"] == "hv1.example"
    assert agent["agent_type"] == "OVN Controller agent"
    assert agent["binary"] == "ovn-controller"
    assert agent["availability_zone"] == "az1, az2"
    assert agent["configurations"] == {
        "chassis_name": "hv1", "bridge-mappings": "physnet1:br-ex", "datapath-type": "netdev",
        "iface-types": "geneve,internal",
        "ovn-cms-options": "availability-zones=az2:az1"}
    assert agent["admin_state_up"] is True and agent["alive"] is True
    assert agent["heartbeat_timestamp"] == "2026-12-01 11:59:55"


def test_gateway_chassis_is_a_gateway_agent() -> None:
    config = {"ovn-cms-options": "enable-chassis-as-gw,availability-zones=az1"}
    agent = agents.controller_agent(_chassis(config=config), NOW, DOWN)
    assert agent["agent_type"] == "OVN Controller Gateway agent"
    assert agent["availability_zone"] == "az1"


@pytest.mark.parametrize(("acked", "alive"), [
    pytest.param(timedelta(seconds=74), True, id="within-down-time"),
    pytest.param(timedelta(seconds=76), False, id="too-long-ago"),
    pytest.param(None, False, id="never-acknowledged"),
])
def test_controller_liveness(acked: timedelta | None, alive: bool) -> None:
    assert agents.controller_alive(_chassis(acked=acked), NOW, DOWN) is alive


def test_metadata_agent_only_when_the_chassis_carries_its_id() -> None:
    plain = _chassis("hv1")
    with_metadata = _chassis("hv2", private_ids={agents.METADATA_ID_KEY: "m-1",
                                                 agents.METADATA_SB_CFG_KEY: "6"})
    found = agents.agents(SouthboundView((plain, with_metadata), sb_nb_cfg=7), NOW, DOWN)
    assert [(a["id"], a["agent_type"], a["binary"], a["alive"]) for a in found] == [
        ("hv1", "OVN Controller agent", "ovn-controller", True),
        ("hv2", "OVN Controller agent", "ovn-controller", True),
        ("m-1", "OVN Metadata agent", "neutron-ovn-metadata-agent", True),
    ]


def test_metadata_agent_behind_or_on_a_dead_chassis_is_dead() -> None:
    behind = _chassis(private_ids={agents.METADATA_ID_KEY: "m", agents.METADATA_SB_CFG_KEY: "5"})
    assert not agents.metadata_alive(behind, SouthboundView((behind,), 7), NOW, DOWN)
    dead = _chassis(acked=None, private_ids={agents.METADATA_ID_KEY: "m",
                                             agents.METADATA_SB_CFG_KEY: "7"})
    assert not agents.metadata_alive(dead, SouthboundView((dead,), 7), NOW, DOWN)


class _FixedSouthbound:
    """A Southbound that holds one view and refuses writes (the rules here only read)."""

    def __init__(self, view: SouthboundView) -> None:
        self._view = view

    def view(self) -> SouthboundView:
        return self._view

    def set_chassis_external_id(self, chassis: str, key: str, value: str) -> bool:
        raise AssertionError("no write expected")

    def delete_chassis(self, chassis: str) -> bool:
        raise AssertionError("no write expected")


def _service() -> AgentService:
    gateway = _chassis("gw", config={"ovn-cms-options":
                                     "enable-chassis-as-gw,availability-zones=az2:az1"})
    zoned = _chassis("hv3", config={"ovn-cms-options": "availability-zones=az9"})
    view = SouthboundView((_chassis("hv1"), _chassis("hv2", acked=None), gateway, zoned))
    return AgentService(_FixedSouthbound(view), DOWN, clock=lambda: NOW)


def test_service_filters_and_policy() -> None:
    service, admin = _service(), Context("p")
    dead = service.list(admin, ListQuery(filters={"alive": (False,)}))
    assert [a["id"] for a in dead] == ["hv2"]
    member = Context("p", is_admin=False, roles=("member",))
    assert service.list(member, ListQuery()) == []
    assert service.get(admin, "hv1")["id"] == "hv1"
    with pytest.raises(AgentNotFound):
        service.get(member, "hv1")
    with pytest.raises(AgentNotFound):
        service.delete(member, "hv2")


def test_live_agents_are_not_deleted_and_status_stays_up() -> None:
    service, admin = _service(), Context("p")
    with pytest.raises(AgentIsAlive):
        service.delete(admin, "hv1")
    with pytest.raises(AgentStatusCannotBeUpdated):
        service.update(admin, "hv1", {"admin_state_up": False})
    assert service.update(admin, "hv1", {"admin_state_up": True})["id"] == "hv1"


def test_availability_zones_are_those_of_gateway_chassis() -> None:
    zones = _service().availability_zones(Context("p", is_admin=False), ListQuery())
    assert zones == [{"name": "az1", "resource": "router", "state": "available"},
                     {"name": "az2", "resource": "router", "state": "available"}]


def test_unresponsive_chassis_are_those_seen_alive_that_missed_probes() -> None:
    view = SouthboundView((
        _chassis("live"),  # acknowledged 5 s ago
        _chassis("silent", acked=timedelta(seconds=DOWN + 1)),
        _chassis("never", acked=None),  # nothing says it ever lived: not called dead
        ChassisFacts(name="idle", nb_cfg=8,  # old stamp, but no probe was missed
                     nb_cfg_timestamp=_ms(NOW - timedelta(seconds=DOWN + 1))),
    ), sb_nb_cfg=8)
    assert agents.unresponsive(view, NOW, DOWN) == {"silent"}
