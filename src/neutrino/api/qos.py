"""QoS rules under their policy (`/v2.0/qos/policies/{id}/<kind>_rules`), the same rules
named alone (qos-rules-alias: `/v2.0/qos/alias_<kind>_rules/{id}`), and the rule types the
OVN driver realises (`/v2.0/qos/rule-types`, qos-rule-type-details)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from neutrino import errors
from neutrino.api import converters as c
from neutrino.api.attributes import REQUIRED, Attr, ResourceSpec, parse_create, parse_update
from neutrino.api.payload import BodyLimits, envelope, json_object
from neutrino.api.query import parse_query, select_fields
from neutrino.api.threads import run_in_thread
from neutrino.services.context import Context
from neutrino.services.qos.rules import RULE_TYPES, QosRuleService, rule_type_details

MAX_INT = 2147483647


def _range(low: int, high: int) -> c.Converter:
    def convert(value: Any) -> int:
        number = c.to_int(value)
        if not low <= number <= high:
            raise errors.InvalidInput(f"'{number}' is not in range {low} through {high}")
        return number
    return convert


def _rule_spec(singular: str, *attrs: Attr) -> ResourceSpec:
    common = (Attr("id", c.string(36), post=False), Attr("type", post=False),
              Attr("qos_policy_id", post=False), Attr("project_id", c.string()),
              Attr("tenant_id", c.string()))
    return ResourceSpec(singular, f"{singular}s", {a.name: a for a in common + attrs},
                        f"{singular}s")


RULE_SPECS: Mapping[str, ResourceSpec] = {
    "bandwidth_limit_rules": _rule_spec(
        "bandwidth_limit_rule",
        Attr("max_kbps", _range(0, MAX_INT), default=REQUIRED, put=True),
        Attr("max_burst_kbps", _range(0, MAX_INT), default=0, put=True),
        Attr("direction", c.one_of("egress", "ingress"), default="egress", put=True)),
    "dscp_marking_rules": _rule_spec(
        "dscp_marking_rule",
        Attr("dscp_mark", c.int_one_of(*RULE_TYPES["dscp_marking"][0]["parameter_values"]),
             default=REQUIRED, put=True)),
}
OWN = ("max_kbps", "max_burst_kbps", "direction", "dscp_mark")


def qos_routes(services: Mapping[str, QosRuleService],
               context_for: Callable[[Request], Context], limits: BodyLimits) -> list[Route]:
    routes = [Route("/v2.0/qos/rule-types", _rule_types, methods=["GET"]),
              Route("/v2.0/qos/rule-types/{rule_type}", _rule_type, methods=["GET"])]
    for collection, service in services.items():
        handlers = _RuleHandlers(RULE_SPECS[collection], service, context_for, limits)
        base = f"/v2.0/qos/policies/{{pid}}/{collection}"
        alias = f"/v2.0/qos/alias_{collection}/{{rid}}"
        routes += [
            Route(base, handlers.list, methods=["GET"]),
            Route(base, handlers.create, methods=["POST"]),
            Route(f"{base}/{{rid}}", handlers.show, methods=["GET"]),
            Route(f"{base}/{{rid}}", handlers.update, methods=["PUT"]),
            Route(f"{base}/{{rid}}", handlers.delete, methods=["DELETE"]),
            Route(alias, handlers.show, methods=["GET"]),
            Route(alias, handlers.update, methods=["PUT"]),
            Route(alias, handlers.delete, methods=["DELETE"]),
        ]
    return routes


async def _rule_types(request: Request) -> JSONResponse:
    return JSONResponse({"rule_types": [{"type": t} for t in RULE_TYPES]})


async def _rule_type(request: Request) -> JSONResponse:
    found = rule_type_details(request.path_params["rule_type"])
    if found is None:
        raise errors.NotFound(f"QoS rule type {request.path_params['rule_type']} "
                              "could not be found.")
    return JSONResponse({"rule_type": found})


class _RuleHandlers:
    def __init__(self, spec: ResourceSpec, service: QosRuleService,
                 context_for: Callable[[Request], Context], limits: BodyLimits) -> None:
        self.spec = spec
        self.service = service
        self.context_for = context_for
        self.limits = limits

    async def _ids(self, request: Request, ctx: Context) -> tuple[str, str]:
        """(policy id, rule id): under a policy, or found from the rule (the alias paths)."""
        rid = request.path_params.get("rid", "")
        if "pid" in request.path_params:
            return request.path_params["pid"], rid
        return await run_in_thread(self.service.policy_of, ctx, rid), rid

    async def list(self, request: Request) -> JSONResponse:
        parsed = parse_query(self.spec, list(request.query_params.multi_items()))
        ctx = self.context_for(request)
        found = await run_in_thread(self.service.list, ctx, request.path_params["pid"],
                                    dict(parsed.query.filters))
        return JSONResponse({self.spec.collection: [select_fields(r, parsed.fields)
                                                    for r in found]})

    async def create(self, request: Request) -> JSONResponse:
        body = envelope(await json_object(request, self.limits), self.spec.singular)
        item = {k: v for k, v in parse_create(self.spec, body).items() if k in OWN}
        created = await run_in_thread(self.service.create, self.context_for(request),
                                      request.path_params["pid"], item)
        return JSONResponse({self.spec.singular: created}, status_code=201)

    async def show(self, request: Request) -> JSONResponse:
        ctx = self.context_for(request)
        pid, rid = await self._ids(request, ctx)
        found = await run_in_thread(self.service.get, ctx, pid, rid)
        fields = request.query_params.getlist("fields")
        return JSONResponse({self.spec.singular: select_fields(found, fields)})

    async def update(self, request: Request) -> JSONResponse:
        body = parse_update(self.spec, envelope(await json_object(request, self.limits),
                                                self.spec.singular))
        ctx = self.context_for(request)
        pid, rid = await self._ids(request, ctx)
        updated = await run_in_thread(self.service.update, ctx, pid, rid, body)
        return JSONResponse({self.spec.singular: updated})

    async def delete(self, request: Request) -> Response:
        ctx = self.context_for(request)
        pid, rid = await self._ids(request, ctx)
        await run_in_thread(self.service.delete, ctx, pid, rid)
        return Response(status_code=204)
