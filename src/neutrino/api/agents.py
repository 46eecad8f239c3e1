"""`/v2.0/agents` (the OVN chassis as Neutron agents) and `/v2.0/availability_zones`."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from neutrino.api import converters as c
from neutrino.api.attributes import Attr, ResourceSpec, parse_update
from neutrino.api.payload import BodyLimits, envelope, json_object
from neutrino.api.query import page_links, parse_query, select_fields
from neutrino.api.threads import run_in_thread
from neutrino.services.agents import AgentService
from neutrino.services.context import Context

_STRINGS = ("id", "agent_type", "binary", "topic", "host", "availability_zone",
            "heartbeat_timestamp", "created_at", "started_at")
AGENT = ResourceSpec(
    "agent", "agents",
    {**{name: Attr(name, c.string()) for name in _STRINGS},
     "description": Attr("description", c.string(), put=True),
     "admin_state_up": Attr("admin_state_up", c.to_bool, put=True),
     "alive": Attr("alive", c.to_bool),
     "configurations": Attr("configurations", post=False)},
    "agents",
)
ZONE = ResourceSpec("availability_zone", "availability_zones",
                    {name: Attr(name, c.string()) for name in ("name", "resource", "state")},
                    "availability_zones")


def agent_routes(agents: AgentService, context_for: Callable[[Request], Context],
                 limits: BodyLimits) -> list[Route]:
    async def listing(request: Request) -> JSONResponse:
        items = list(request.query_params.multi_items())
        parsed = parse_query(AGENT, items)
        page = await run_in_thread(agents.list, context_for(request), parsed.query)
        url = f"{str(request.base_url).rstrip('/')}{request.url.path}"
        return JSONResponse({
            "agents": [select_fields(a, parsed.fields) for a in page],
            **page_links(url, items, page, parsed.query, "agents"),
        })

    async def show(request: Request) -> JSONResponse:
        fields = request.query_params.getlist("fields")
        agent = await run_in_thread(agents.get, context_for(request),
                                    request.path_params["aid"])
        return JSONResponse({"agent": select_fields(agent, fields)})

    async def update(request: Request) -> JSONResponse:
        body = parse_update(AGENT, envelope(await json_object(request, limits), "agent"))
        agent = await run_in_thread(agents.update, context_for(request),
                                    request.path_params["aid"], body)
        return JSONResponse({"agent": agent})

    async def delete(request: Request) -> Response:
        await run_in_thread(agents.delete, context_for(request),
                            request.path_params["aid"])
        return Response(status_code=204)

    async def zones(request: Request) -> JSONResponse:
        parsed = parse_query(ZONE, list(request.query_params.multi_items()))
        found = await run_in_thread(agents.availability_zones, context_for(request),
                                    parsed.query)
        return JSONResponse({"availability_zones": [select_fields(z, parsed.fields)
                                                    for z in found]})

    return [
        Route("/v2.0/agents", listing, methods=["GET"]),
        Route("/v2.0/agents/{aid}", show, methods=["GET"]),
        Route("/v2.0/agents/{aid}", update, methods=["PUT"]),
        Route("/v2.0/agents/{aid}", delete, methods=["DELETE"]),
        Route("/v2.0/availability_zones", zones, methods=["GET"]),
    ]
