"""`/v2.0/agents`: the OVN chassis as Neutron agents (list and show; read-only).

Updating or deleting an agent answers 405: ML2/OVN keeps nothing of its own about an agent
but a description, and deleting one means deleting the chassis from SB, which neutrino leaves
to OVN (a chassis whose ovn-controller exits cleanly removes itself).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from neutrino.api import converters as c
from neutrino.api.attributes import Attr, ResourceSpec
from neutrino.api.query import page_links, parse_query, select_fields
from neutrino.services.agents import AgentService
from neutrino.services.context import Context

_STRINGS = ("id", "agent_type", "binary", "topic", "host", "availability_zone", "description",
            "heartbeat_timestamp", "created_at", "started_at")
AGENT = ResourceSpec(
    "agent", "agents",
    {**{name: Attr(name, c.string()) for name in _STRINGS},
     "admin_state_up": Attr("admin_state_up", c.to_bool),
     "alive": Attr("alive", c.to_bool),
     "configurations": Attr("configurations", post=False)},
    "agents",
)


def agent_routes(agents: AgentService, context_for: Callable[[Request], Context]) -> list[Route]:
    async def listing(request: Request) -> JSONResponse:
        items = list(request.query_params.multi_items())
        parsed = parse_query(AGENT, items)
        page = await run_in_threadpool(agents.list, context_for(request), parsed.query)
        url = f"{str(request.base_url).rstrip('/')}{request.url.path}"
        return JSONResponse({
            "agents": [select_fields(a, parsed.fields) for a in page],
            **page_links(url, items, page, parsed.query, "agents"),
        })

    async def show(request: Request) -> JSONResponse:
        fields = request.query_params.getlist("fields")
        agent = await run_in_threadpool(agents.get, context_for(request),
                                        request.path_params["aid"])
        return JSONResponse({"agent": select_fields(agent, fields)})

    return [
        Route("/v2.0/agents", listing, methods=["GET"]),
        Route("/v2.0/agents/{aid}", show, methods=["GET"]),
    ]
