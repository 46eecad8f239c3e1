"""Agents and availability zones, derived from OVN Southbound on every request (no SQL state).

Neutron's default policy lets only admins see and change agents (`get_agent: admin_only`); as
Neutron does, a list filters out what the caller may not see (an empty list) and anything else
on it is a 404. Updates follow ML2/OVN: only `description` is stored (in the chassis's
Chassis_Private external_ids); `admin_state_up` stays true. Deleting an agent removes its
chassis from SB, as ML2/OVN does, but only once the agent is dead: a live ovn-controller would
register the chassis again at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from neutrino import agents, errors
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery, matching, paginate, sort_items


class Southbound(Protocol):
    def view(self) -> agents.SouthboundView: ...
    def set_chassis_external_id(self, chassis: str, key: str, value: str) -> bool: ...
    def delete_chassis(self, chassis: str) -> bool: ...


class AgentStatusCannotBeUpdated(errors.BadRequest):
    def __init__(self) -> None:
        super().__init__("OVN agent status cannot be updated")


class AgentIsAlive(errors.Conflict):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"Agent {agent_id} is alive: stop its ovn-controller (which then "
                         "removes its chassis itself) or wait until it is reported dead")


def _now() -> datetime:
    return datetime.now(UTC)


class AgentService:
    def __init__(self, sb: Southbound, down_time: float,
                 clock: Callable[[], datetime] = _now) -> None:
        self.sb = sb
        self.down_time = down_time
        self.clock = clock

    def _all(self, ctx: Context) -> list[dict[str, Any]]:
        if not ctx.is_admin:
            return []
        return agents.agents(self.sb.view(), self.clock(), self.down_time)

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        found = matching(self._all(ctx), query.filters)
        return paginate(sort_items(found, query.sort), query)

    def get(self, ctx: Context, agent_id: str) -> dict[str, Any]:
        for agent in self._all(ctx):
            if agent["id"] == agent_id:
                return agent
        raise errors.AgentNotFound(agent_id)

    def update(self, ctx: Context, agent_id: str, body: dict[str, Any]) -> dict[str, Any]:
        agent = self.get(ctx, agent_id)
        if body.get("admin_state_up", True) is False:
            raise AgentStatusCannotBeUpdated()
        if "description" in body:
            key = agents.METADATA_DESCRIPTION_KEY if agent["agent_type"] == agents.METADATA \
                else agents.DESCRIPTION_KEY
            chassis = agent["configurations"]["chassis_name"]
            if not self.sb.set_chassis_external_id(chassis, key, body["description"]):
                raise errors.AgentNotFound(agent_id)  # the chassis left meanwhile
        return self.get(ctx, agent_id)

    def delete(self, ctx: Context, agent_id: str) -> None:
        agent = self.get(ctx, agent_id)
        if agent["alive"]:
            raise AgentIsAlive(agent_id)
        self.sb.delete_chassis(agent["configurations"]["chassis_name"])

    def availability_zones(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        """Zones of the gateway chassis, for routers, as ML2/OVN lists them."""
        names = {zone for chassis in self.sb.view().chassis if agents.is_gateway(chassis.config)
                 for zone in agents.availability_zones(chassis.config)}
        zones = [{"name": name, "resource": "router", "state": "available"}
                 for name in sorted(names)]
        return matching(zones, query.filters)
