"""Agents: read-only, derived from OVN Southbound on every request (no SQL state).

Neutron's default policy lets only admins see agents (`get_agent: admin_only`); as Neutron
does, a list filters out what the caller may not see (an empty list) and a show of it is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from neutrino import agents, errors
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery, matching, paginate, sort_items

ViewSource = Callable[[], agents.SouthboundView]


def _now() -> datetime:
    return datetime.now(UTC)


class AgentService:
    def __init__(self, view: ViewSource, down_time: float,
                 clock: Callable[[], datetime] = _now) -> None:
        self.view = view
        self.down_time = down_time
        self.clock = clock

    def _all(self, ctx: Context) -> list[dict[str, Any]]:
        if not ctx.is_admin:
            return []
        return agents.agents(self.view(), self.clock(), self.down_time)

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        found = matching(self._all(ctx), query.filters)
        return paginate(sort_items(found, query.sort), query)

    def get(self, ctx: Context, agent_id: str) -> dict[str, Any]:
        for agent in self._all(ctx):
            if agent["id"] == agent_id:
                return agent
        raise errors.AgentNotFound(agent_id)
