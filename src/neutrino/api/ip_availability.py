"""`/v2.0/network-ip-availabilities` (network-ip-availability and -details)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from neutrino.api import converters as c
from neutrino.api.attributes import Attr, ResourceSpec
from neutrino.api.query import page_links, parse_query, select_fields
from neutrino.api.threads import run_in_thread
from neutrino.services.context import Context
from neutrino.services.ip_availability import IpAvailabilityService

PATH = "network-ip-availabilities"
# Neutron's filters (and sort keys): every other attribute is a 400 as a filter.
IP_AVAILABILITY = ResourceSpec(
    "network_ip_availability", "network_ip_availabilities",
    {"network_id": Attr("network_id", c.string(36)),
     "network_name": Attr("network_name", c.string()),
     "project_id": Attr("project_id", c.string()),
     "tenant_id": Attr("tenant_id", c.string()),
     "ip_version": Attr("ip_version", c.int_one_of(4, 6))},
    PATH,
)


def ip_availability_routes(service: IpAvailabilityService,
                           context_for: Callable[[Request], Context]) -> list[Route]:
    async def listing(request: Request) -> JSONResponse:
        items = list(request.query_params.multi_items())
        parsed = parse_query(IP_AVAILABILITY, items)
        page = await run_in_thread(service.list, context_for(request), parsed.query)
        url = f"{str(request.base_url).rstrip('/')}{request.url.path}"
        return JSONResponse({
            "network_ip_availabilities": [
                select_fields({k: v for k, v in a.items() if k != "id"}, parsed.fields)
                for a in page],
            **page_links(url, items, page, parsed.query, "network_ip_availabilities"),
        })

    async def show(request: Request) -> JSONResponse:
        fields = request.query_params.getlist("fields")
        found = await run_in_thread(service.get, context_for(request),
                                    request.path_params["nid"])
        return JSONResponse({"network_ip_availability": select_fields(found, fields)})

    return [
        Route(f"/v2.0/{PATH}", listing, methods=["GET"]),
        Route(f"/v2.0/{PATH}/{{nid}}", show, methods=["GET"]),
    ]
