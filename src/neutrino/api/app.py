"""The Starlette application: Neutron's v2.0 routes over the services."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from neutrino import errors, policy
from neutrino.api import attributes, converters
from neutrino.api.agents import agent_routes
from neutrino.api.auth import MAX_PROJECT_CHARS
from neutrino.api.encode import JsonAnswer
from neutrino.api.extensions import extension_list
from neutrino.api.faults import INTERNAL_ERROR, fault_response, neutron_fault
from neutrino.api.ip_availability import ip_availability_routes
from neutrino.api.middleware import CatchUnexpected, CheckUrl
from neutrino.api.payload import BodyLimits, as_object, envelope, json_object
from neutrino.api.port_bindings import binding_routes
from neutrino.api.qos import qos_routes
from neutrino.api.query import page_links, parse_query, select_fields
from neutrino.api.routing import IndexedRouter
from neutrino.api.text import preview
from neutrino.api.threads import run_in_thread
from neutrino.services.agents import AgentService
from neutrino.services.context import Context
from neutrino.services.ip_availability import IpAvailabilityService
from neutrino.services.listing import ListQuery
from neutrino.services.port_bindings import PortBindingService
from neutrino.services.quotas import QuotaService
from neutrino.services.tags import TagService


class ResourceService(Protocol):
    def create(self, ctx: Context, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]: ...
    def get(self, ctx: Context, rid: str) -> dict[str, Any]: ...
    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]: ...
    def update(self, ctx: Context, rid: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]: ...
    def delete(self, ctx: Context, rid: str, if_match: int | None) -> None: ...


@dataclass(frozen=True)
class ApiDeps:
    services: dict[str, ResourceService]  # by collection name
    tags: TagService
    quotas: QuotaService
    context_for: Callable[[Request], Context]
    health: Callable[[], dict[str, Any]]
    metrics_registry: Any
    limits: BodyLimits = BodyLimits()
    agents: AgentService | None = None
    port_bindings: PortBindingService | None = None
    ip_availability: IpAvailabilityService | None = None
    qos_rules: dict[str, Any] | None = None  # QosRuleService by rule collection


def build_app(deps: ApiDeps) -> Starlette:
    routes = [
        Route("/", _versions, methods=["GET"]),
        Route("/v2.0", _v2_index, methods=["GET"]),
        Route("/v2.0/", _v2_index, methods=["GET"]),
        Route("/v2.0/extensions", _extensions, methods=["GET"]),
        Route("/v2.0/extensions/{alias}", _extension, methods=["GET"]),
        Route("/healthz", _health(deps), methods=["GET"]),
        Route("/metrics", _metrics(deps), methods=["GET"]),
    ]
    routes += _router_interface_routes(deps) + _quota_routes(deps) + _prefix_routes(deps)
    routes += _address_group_action_routes(deps) + _pool_routes(deps) + _trunk_routes(deps)
    if deps.agents is not None:
        routes += agent_routes(deps.agents, deps.context_for, deps.limits)
    if deps.port_bindings is not None:
        routes += binding_routes(deps.port_bindings, deps.context_for, deps.limits)
    if deps.ip_availability is not None:
        routes += ip_availability_routes(deps.ip_availability, deps.context_for)
    if deps.qos_rules is not None:
        routes += qos_routes(deps.qos_rules, deps.context_for, deps.limits)
    for collection, service in deps.services.items():
        routes += _resource_routes(attributes.SPECS[collection], service, deps)
    app = Starlette(
        middleware=[Middleware(CatchUnexpected), Middleware(CheckUrl)],
        exception_handlers={
            errors.NeutrinoError: _domain_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,  # only what escapes CatchUnexpected (outer middleware)
        },
    )
    app.router = IndexedRouter(routes)  # Starlette's, asking only the routes a path can match
    return app


# -- discovery ------------------------------------------------------------------------------
def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _versions(request: Request) -> JsonAnswer:
    link = {"href": f"{_base(request)}/v2.0/", "rel": "self"}
    return JsonAnswer({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [link]}]})


async def _v2_index(request: Request) -> JsonAnswer:
    resources = [
        {"name": spec.singular, "collection": spec.collection,
         "links": [{"href": f"{_base(request)}/v2.0/{spec.path}", "rel": "self"}]}
        for spec in attributes.SPECS.values() if spec.parent is None
    ]
    return JsonAnswer({"resources": resources})


async def _extensions(request: Request) -> JsonAnswer:
    return JsonAnswer({"extensions": extension_list()})


async def _extension(request: Request) -> JsonAnswer:
    alias = request.path_params["alias"]
    for ext in extension_list():
        if ext["alias"] == alias:
            return JsonAnswer({"extension": ext})
    raise errors.NotFound(f"Extension with alias {preview(alias)} does not exist")


def _health(deps: ApiDeps) -> Callable[[Request], Any]:
    async def health(request: Request) -> JsonAnswer:
        report = await run_in_thread(deps.health)
        return JsonAnswer(report, status_code=200 if report["status"] == "ok" else 503)

    return health


def _metrics(deps: ApiDeps) -> Callable[[Request], Any]:
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(deps.metrics_registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


# -- quotas ---------------------------------------------------------------------------------
def _quota_routes(deps: ApiDeps) -> list[Route]:
    quotas = deps.quotas

    async def listing(request: Request) -> JsonAnswer:
        found = await run_in_thread(quotas.list, deps.context_for(request))
        return JsonAnswer({"quotas": found})

    async def show(request: Request) -> JsonAnswer:
        ctx, project = deps.context_for(request), _project(request)
        return JsonAnswer({"quota": await run_in_thread(quotas.get, ctx, project)})

    async def default(request: Request) -> JsonAnswer:
        ctx, project = deps.context_for(request), _project(request)
        return JsonAnswer({"quota": await run_in_thread(quotas.defaults, ctx, project)})

    async def details(request: Request) -> JsonAnswer:
        ctx, project = deps.context_for(request), _project(request)
        return JsonAnswer({"quota": await run_in_thread(quotas.details, ctx, project)})

    async def update(request: Request) -> JsonAnswer:
        ctx, project = deps.context_for(request), _project(request)
        body = dict(envelope(await json_object(request, deps.limits), "quota"))
        force = _quota_force(body)
        limits = _quota_limits(body)
        return JsonAnswer({"quota": await run_in_thread(quotas.update, ctx, project,
                                                          limits, force)})

    def caller(key: str) -> Callable[[Request], Any]:
        async def own(request: Request) -> JsonAnswer:
            """Neutron's `quotas/project` and `quotas/tenant`: the caller's own project."""
            project = deps.context_for(request).project_id
            if not project:
                raise errors.QuotaMissingTenant()
            return JsonAnswer({key: {f"{key}_id": project}})

        return own

    async def reset(request: Request) -> Response:
        ctx, project = deps.context_for(request), _project(request)
        await run_in_thread(quotas.reset, ctx, project)
        return Response(status_code=204)

    return [
        Route("/v2.0/quotas", listing, methods=["GET"]),
        Route("/v2.0/quotas/project", caller("project"), methods=["GET"]),
        Route("/v2.0/quotas/tenant", caller("tenant"), methods=["GET"]),
        Route("/v2.0/quotas/{project}/default", default, methods=["GET"]),
        Route("/v2.0/quotas/{project}/details", details, methods=["GET"]),
        Route("/v2.0/quotas/{project}", show, methods=["GET"]),
        Route("/v2.0/quotas/{project}", update, methods=["PUT"]),
        Route("/v2.0/quotas/{project}", reset, methods=["DELETE"]),
    ]


def _project(request: Request) -> str:
    project = request.path_params["project"]
    if len(project) > MAX_PROJECT_CHARS:
        raise errors.BadRequest(f"Invalid project id '{preview(project)}': longer than "
                                f"{MAX_PROJECT_CHARS} characters")
    return project


def _quota_force(body: dict[str, Any]) -> bool:
    """`force` (quota-check-limit) sets a limit below the usage; `check_limit`, the older
    way to ask for the check that is now the default, is accepted and changes nothing."""
    flags = {name: body.pop(name) for name in ("force", "check_limit") if name in body}
    try:
        values = {name: converters.to_bool(value) for name, value in flags.items()}
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid input for quota: {exc}") from None
    return values.get("force", False)


def _quota_limits(body: dict[str, Any]) -> dict[str, int]:
    """Limits as integers a database column holds (the service checks names and ranges)."""
    return {name: _quota_limit(name, limit) for name, limit in body.items()}


def _quota_limit(name: str, limit: Any) -> int:
    try:
        return converters.to_int(limit)
    except ValueError:
        raise errors.InvalidInput(f"'{preview(limit)}' is not a valid quota limit for "
                                  f"{preview(name)}") from None


# -- router interfaces ----------------------------------------------------------------------
def _router_interface_routes(deps: ApiDeps) -> list[Route]:
    routers = deps.services.get("routers")
    if routers is None:
        return []

    def handler(action: str) -> Callable[[Request], Any]:
        async def run(request: Request) -> JsonAnswer:
            body = _interface_info(await json_object(request, deps.limits))
            ctx = deps.context_for(request)
            method = getattr(routers, action)
            info = await run_in_thread(method, ctx, request.path_params["rid"], body)
            return JsonAnswer(info)

        return run

    def routes_handler(action: str) -> Callable[[Request], Any]:
        async def run(request: Request) -> JsonAnswer:
            routes = _extraroutes(await json_object(request, deps.limits))
            ctx = deps.context_for(request)
            method = getattr(routers, action)
            router = await run_in_thread(method, ctx, request.path_params["rid"], routes)
            return JsonAnswer({"router": router})

        return run

    return [
        Route("/v2.0/routers/{rid}/add_router_interface", handler("add_interface"),
              methods=["PUT"]),
        Route("/v2.0/routers/{rid}/remove_router_interface", handler("remove_interface"),
              methods=["PUT"]),
        Route("/v2.0/routers/{rid}/add_extraroutes", routes_handler("add_extraroutes"),
              methods=["PUT"]),
        Route("/v2.0/routers/{rid}/remove_extraroutes", routes_handler("remove_extraroutes"),
              methods=["PUT"]),
    ]


# -- address groups: add_addresses / remove_addresses ----------------------------------------
def _address_group_action_routes(deps: ApiDeps) -> list[Route]:
    groups = deps.services.get("address_groups")
    if groups is None:
        return []

    def handler(action: str) -> Callable[[Request], Any]:
        async def run(request: Request) -> JsonAnswer:
            body = await json_object(request, deps.limits)
            ctx = deps.context_for(request)
            method = getattr(groups, action)
            result = await run_in_thread(method, ctx, request.path_params["rid"], body)
            return JsonAnswer(result)

        return run

    return [Route(f"/v2.0/address-groups/{{rid}}/{action}", handler(action), methods=["PUT"])
            for action in ("add_addresses", "remove_addresses")]


# -- trunks: add_subports / remove_subports / get_subports ----------------------------------
def _trunk_routes(deps: ApiDeps) -> list[Route]:
    trunks = deps.services.get("trunks")
    if trunks is None:
        return []

    def handler(action: str) -> Callable[[Request], Any]:
        async def run(request: Request) -> JsonAnswer:
            body = await json_object(request, deps.limits)
            ctx = deps.context_for(request)
            method = getattr(trunks, action)
            result = await run_in_thread(method, ctx, request.path_params["rid"], body)
            return JsonAnswer(result)

        return run

    async def subports(request: Request) -> JsonAnswer:
        ctx = deps.context_for(request)
        found = await run_in_thread(trunks.get_subports,  # type: ignore[attr-defined]
                                    ctx, request.path_params["rid"])
        return JsonAnswer(found)

    return [Route(f"/v2.0/trunks/{{rid}}/{action}", handler(action), methods=["PUT"])
            for action in ("add_subports", "remove_subports")] + [
        Route("/v2.0/trunks/{rid}/get_subports", subports, methods=["GET"])]


# -- subnetpool-prefix-ops ------------------------------------------------------------------
def _prefix_routes(deps: ApiDeps) -> list[Route]:
    pools = deps.services.get("subnetpools")
    if pools is None:
        return []

    def handler(action: str) -> Callable[[Request], Any]:
        async def run(request: Request) -> JsonAnswer:
            prefixes = _prefix_list(await json_object(request, deps.limits))
            ctx = deps.context_for(request)
            method = getattr(pools, action)
            return JsonAnswer(await run_in_thread(method, ctx, request.path_params["rid"],
                                                    prefixes))

        return run

    return [
        Route("/v2.0/subnetpools/{rid}/add_prefixes", handler("add_prefixes"), methods=["PUT"]),
        Route("/v2.0/subnetpools/{rid}/remove_prefixes", handler("remove_prefixes"),
              methods=["PUT"]),
    ]


def _prefix_list(body: dict[str, Any]) -> list[str]:
    """The body of add_prefixes/remove_prefixes: {"prefixes": [CIDR, ...]}."""
    unknown = [preview(k) for k in body if k != "prefixes"]
    if unknown:
        raise errors.BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    prefixes = body.get("prefixes")
    if not isinstance(prefixes, list) or not all(isinstance(p, str) and len(p) <= 64
                                                  for p in prefixes):
        raise errors.BadRequest("Invalid input: 'prefixes' must be a list of CIDRs")
    return prefixes


def _extraroutes(body: dict[str, Any]) -> list[dict[str, str]]:
    """extraroute-atomic's body, {"router": {"routes": [...]}}, checked like `routes`."""
    router = envelope(body, "router")
    unknown = [preview(k) for k in router if k != "routes"]
    if unknown:
        raise errors.BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    if "routes" not in router:
        raise errors.BadRequest("Failed to parse request. Required attribute 'routes' not "
                                "specified")
    return attributes.parse_update(attributes.ROUTER, router)["routes"]


# -- floating IP pools ----------------------------------------------------------------------
def _pool_routes(deps: ApiDeps) -> list[Route]:
    fips = deps.services.get("floatingips")
    if fips is None:
        return []

    async def listing(request: Request) -> JsonAnswer:
        fields = _pool_fields(request.query_params.multi_items())
        ctx = deps.context_for(request)
        pools = await run_in_thread(fips.list_pools, ctx)  # type: ignore[attr-defined]
        return JsonAnswer({"floatingip_pools": [select_fields(p, fields) for p in pools]})

    return [Route("/v2.0/floatingip_pools", listing, methods=["GET"])]


def _pool_fields(items: list[tuple[str, str]]) -> list[str]:
    """Only `fields`: neutron-lib marks no pool attribute as a filter or a sort key."""
    unknown = sorted({preview(k) for k, _ in items if k != "fields"})
    if unknown:
        raise errors.BadRequest(f"{unknown} is invalid attribute for filtering")
    return [v for k, v in items if k == "fields"]


# -- resources ------------------------------------------------------------------------------
def _resource_routes(
    spec: attributes.ResourceSpec, service: ResourceService, deps: ApiDeps
) -> list[Route]:
    coll = spec.path
    handlers = _ResourceHandlers(spec, service, deps)
    routes = [
        Route(f"/v2.0/{coll}", handlers.list, methods=["GET"]),
        Route(f"/v2.0/{coll}", handlers.create, methods=["POST"]),
        Route(f"/v2.0/{coll}/{{rid}}", handlers.show, methods=["GET"]),
        Route(f"/v2.0/{coll}/{{rid}}", handlers.update, methods=["PUT"]),
        Route(f"/v2.0/{coll}/{{rid}}", handlers.delete, methods=["DELETE"]),
    ]
    if not deps.tags.supports(spec.collection):
        return routes  # as in Neutron, a resource without tag support has no /tags (404)
    return routes + [
        Route(f"/v2.0/{coll}/{{rid}}/tags", handlers.tags_get, methods=["GET"]),
        Route(f"/v2.0/{coll}/{{rid}}/tags", handlers.tags_put, methods=["PUT"]),
        Route(f"/v2.0/{coll}/{{rid}}/tags", handlers.tags_delete, methods=["DELETE"]),
        Route(f"/v2.0/{coll}/{{rid}}/tags/{{tag}}", handlers.tag_get, methods=["GET"]),
        Route(f"/v2.0/{coll}/{{rid}}/tags/{{tag}}", handlers.tag_put, methods=["PUT"]),
        Route(f"/v2.0/{coll}/{{rid}}/tags/{{tag}}", handlers.tag_delete, methods=["DELETE"]),
    ]


class _ResourceHandlers:
    def __init__(
        self, spec: attributes.ResourceSpec, service: ResourceService, deps: ApiDeps
    ) -> None:
        self.spec = spec
        self.service = service
        self.deps = deps

    def _service(self, request: Request) -> ResourceService:
        """The service; for a sub-resource, the one of the parent named in the path."""
        if self.spec.parent is None:
            return self.service
        return self.service.under(request.path_params["parent_id"])  # type: ignore[attr-defined]

    def _shown(self, ctx: Context, item: dict[str, Any], fields: Any = ()) -> dict[str, Any]:
        """What the caller may see of `item` (policy), limited to the asked `fields`."""
        hidden = policy.hidden_fields(ctx, self.spec.singular, item)
        if hidden:  # an admin, say, is shown the item as it is: no copy
            item = {k: v for k, v in item.items() if k not in hidden}
        return select_fields(item, fields)

    async def list(self, request: Request) -> JsonAnswer:
        items = list(request.query_params.multi_items())
        parsed = parse_query(self.spec, items)
        ctx = self.deps.context_for(request)
        page = await run_in_thread(self._service(request).list, ctx, parsed.query)
        url = f"{_base(request)}{request.url.path}"
        body: dict[str, Any] = {
            self.spec.collection: [self._shown(ctx, i, parsed.fields) for i in page],
            **page_links(url, items, page, parsed.query, self.spec.collection),
        }
        return JsonAnswer(body)

    async def create(self, request: Request) -> JsonAnswer:
        body = await json_object(request, self.deps.limits)
        ctx = self.deps.context_for(request)
        singular, plural = self.spec.singular, self.spec.collection
        if plural in body and isinstance(body[plural], list):
            _check_bulk(body[plural], plural, self.deps.limits.max_bulk)
            items = [attributes.parse_create(self.spec, _bulk_item(b, singular))
                     for b in body[plural]]
            created = await run_in_thread(self._service(request).create, ctx, items)
            return JsonAnswer({plural: [self._shown(ctx, c) for c in created]},
                                status_code=201)
        item = attributes.parse_create(self.spec, envelope(body, singular))
        created = await run_in_thread(self._service(request).create, ctx, [item])
        return JsonAnswer({singular: self._shown(ctx, created[0])}, status_code=201)

    async def show(self, request: Request) -> JsonAnswer:
        fields = request.query_params.getlist("fields")
        ctx = self.deps.context_for(request)
        item = await run_in_thread(self._service(request).get, ctx,
                                   request.path_params["rid"])
        return JsonAnswer({self.spec.singular: self._shown(ctx, item, fields)})

    async def update(self, request: Request) -> JsonAnswer:
        body = attributes.parse_update(
            self.spec, envelope(await json_object(request, self.deps.limits),
                                 self.spec.singular))
        ctx = self.deps.context_for(request)
        updated = await run_in_thread(
            self._service(request).update, ctx, request.path_params["rid"], body,
            _if_match(request))
        return JsonAnswer({self.spec.singular: self._shown(ctx, updated)})

    async def delete(self, request: Request) -> Response:
        ctx = self.deps.context_for(request)
        await run_in_thread(
            self._service(request).delete, ctx, request.path_params["rid"], _if_match(request))
        return Response(status_code=204)

    # -- tags -----------------------------------------------------------------------------
    def _tag_args(self, request: Request) -> tuple[Context, str, str]:
        return self.deps.context_for(request), self.spec.collection, request.path_params["rid"]

    async def tags_get(self, request: Request) -> JsonAnswer:
        tags = await run_in_thread(self.deps.tags.get_all, *self._tag_args(request))
        return JsonAnswer({"tags": tags})

    async def tags_put(self, request: Request) -> JsonAnswer:
        body = await json_object(request, self.deps.limits)
        tags = body.get("tags")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise errors.BadRequest("Invalid tags body: 'tags' must be a list of strings")
        tags = await run_in_thread(self.deps.tags.replace, *self._tag_args(request),
                                   body["tags"])
        return JsonAnswer({"tags": tags})

    async def tags_delete(self, request: Request) -> Response:
        await run_in_thread(self.deps.tags.replace, *self._tag_args(request), [])
        return Response(status_code=204)

    async def tag_get(self, request: Request) -> Response:
        await run_in_thread(self.deps.tags.check, *self._tag_args(request),
                            request.path_params["tag"])
        return Response(status_code=204)

    async def tag_put(self, request: Request) -> Response:
        await run_in_thread(self.deps.tags.add, *self._tag_args(request),
                            request.path_params["tag"])
        return Response(status_code=201)

    async def tag_delete(self, request: Request) -> Response:
        await run_in_thread(self.deps.tags.remove, *self._tag_args(request),
                            request.path_params["tag"])
        return Response(status_code=204)


def _bulk_item(item: Any, singular: str) -> dict[str, Any]:
    """A bulk body's item, bare or wrapped as `{"<singular>": {...}}` (Neutron takes both)."""
    item = as_object(item, singular)
    return envelope(item, singular) if singular in item else item


def _check_bulk(items: list[Any], plural: str, max_bulk: int) -> None:
    if not items:
        raise errors.BadRequest("Resources required")
    if len(items) > max_bulk:
        raise errors.BadRequest(f"Bulk request of {len(items)} {plural} is over the limit of "
                                f"{max_bulk} items per request; send smaller batches")


def _interface_info(body: dict[str, Any]) -> dict[str, Any]:
    """add/remove_router_interface's body: Neutron's checks of its two possible keys."""
    unknown = [preview(k) for k in body if k not in ("subnet_id", "port_id")]
    if unknown:
        raise errors.BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    for key in ("subnet_id", "port_id"):
        if key in body and not _is_uuid(body[key]):
            raise errors.BadRequest(f"Bad router request: '{preview(body[key])}' is not a "
                                    "valid UUID")
    return body


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return uuid.UUID(value).hex == value.replace("-", "").lower()
    except ValueError:
        return False


def _if_match(request: Request) -> int | None:
    header = request.headers.get("if-match")
    if header is None:
        return None
    name, _, value = header.strip().partition("=")
    if name.strip() != "revision_number" or not value.strip().isdigit():
        raise errors.BadRequest(f"Invalid If-Match header '{preview(header)}': expected "
                                "revision_number=N")
    return int(value)


# -- errors ---------------------------------------------------------------------------------
async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.NeutrinoError)
    return fault_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return neutron_fault(404, "HTTPNotFound", "The resource could not be found.")
    if exc.status_code == 405:
        return neutron_fault(405, "HTTPMethodNotAllowed", "The method is not allowed.")
    return neutron_fault(exc.status_code, "HTTPError", str(exc.detail))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    return neutron_fault(500, *INTERNAL_ERROR)
