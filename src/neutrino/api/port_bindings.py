"""`/v2.0/ports/{port_id}/bindings` (binding-extended): list, create, show, update, delete
and `PUT .../bindings/{host}/activate`."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from neutrino import errors
from neutrino.api import converters as c
from neutrino.api.attributes import REQUIRED, VNIC_TYPES, Attr, ResourceSpec, parse_create
from neutrino.api.attributes import parse_update as parse_put
from neutrino.api.payload import BodyLimits, envelope, json_object
from neutrino.api.query import select_fields
from neutrino.api.text import preview
from neutrino.api.threads import run_in_thread
from neutrino.services.context import Context
from neutrino.services.port_bindings import FILTERS, PortBindingService

BINDING = ResourceSpec("binding", "bindings", {
    "host": Attr("host", c.string(), default=REQUIRED),
    "vnic_type": Attr("vnic_type", c.one_of(*VNIC_TYPES), default="normal", put=True),
    "profile": Attr("profile", c.dict_or_empty, default={}, put=True),
    "vif_type": Attr("vif_type", post=False),
    "vif_details": Attr("vif_details", post=False),
    "status": Attr("status", post=False),
    "project_id": Attr("project_id", c.string()),
    "tenant_id": Attr("tenant_id", c.string()),
}, "bindings")


def binding_routes(bindings: PortBindingService, context_for: Callable[[Request], Context],
                   limits: BodyLimits) -> list[Route]:
    base = "/v2.0/ports/{port_id}/bindings"

    async def listing(request: Request) -> JSONResponse:
        filters, fields = _query(request)
        found = await run_in_thread(bindings.list, context_for(request),
                                    request.path_params["port_id"], filters)
        return JSONResponse({"bindings": [select_fields(b, fields) for b in found]})

    async def create(request: Request) -> JSONResponse:
        body = parse_create(BINDING, envelope(await json_object(request, limits), "binding"))
        made = await run_in_thread(bindings.create, context_for(request),
                                   request.path_params["port_id"], body)
        return JSONResponse({"binding": made}, status_code=201)

    async def show(request: Request) -> JSONResponse:
        _, fields = _query(request, filtering=False)
        found = await run_in_thread(bindings.get, context_for(request),
                                    request.path_params["port_id"],
                                    request.path_params["host"])
        return JSONResponse({"binding": select_fields(found, fields)})

    async def update(request: Request) -> JSONResponse:
        body = parse_put(BINDING, envelope(await json_object(request, limits), "binding"))
        done = await run_in_thread(bindings.update, context_for(request),
                                   request.path_params["port_id"],
                                   request.path_params["host"], body)
        return JSONResponse({"binding": done})

    async def activate(request: Request) -> JSONResponse:
        done = await run_in_thread(bindings.activate, context_for(request),
                                   request.path_params["port_id"],
                                   request.path_params["host"])
        return JSONResponse({"binding": done})

    async def delete(request: Request) -> Response:
        await run_in_thread(bindings.delete, context_for(request),
                            request.path_params["port_id"], request.path_params["host"])
        return Response(status_code=204)

    return [
        Route(base, listing, methods=["GET"]),
        Route(base, create, methods=["POST"]),
        Route(base + "/{host}", show, methods=["GET"]),
        Route(base + "/{host}", update, methods=["PUT"]),
        Route(base + "/{host}", delete, methods=["DELETE"]),
        Route(base + "/{host}/activate", activate, methods=["PUT"]),
    ]


def _query(request: Request, filtering: bool = True
           ) -> tuple[dict[str, list[str]], list[str]]:
    """Filters on the bindings' filterable attributes, and `fields`; anything else is 400."""
    filters: dict[str, list[str]] = {}
    fields: list[str] = []
    for key, value in request.query_params.multi_items():
        if key == "fields":
            fields.append(value)
        elif filtering and key in FILTERS:
            filters.setdefault(key, []).append(value)
        else:
            raise errors.BadRequest(f"{preview(key)} is invalid attribute for filtering")
    return filters, fields
