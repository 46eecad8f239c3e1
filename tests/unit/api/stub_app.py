"""Helpers for the API unit tests (not a test module): the real application, its 241 routes
in bootstrap's order, over services that answer without a database."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from neutrino.api import attributes
from neutrino.api.app import ApiDeps, build_app
from neutrino.api.auth import noauth_context
from neutrino.services.qos.rules import RULE_KINDS
from neutrino.services.tags import TagService

PORT_ID = "0d5e7a0b-8a3c-4e49-9c59-6c2b6e0f0a11"
# as bootstrap lists them (the order of the routes follows)
COLLECTIONS = ("networks", "subnets", "ports", "security_groups", "security_group_rules",
               "address_groups", "default_security_group_rules", "routers", "floatingips",
               "rbac_policies", "subnetpools", "address_scopes", "port_pairs", "port_pair_groups",
               "port_chains", "flow_classifiers", "trunks", "policies", "l2_gateways",
               "l2_gateway_connections", "port_forwardings")


class Resources:
    def create(self, ctx: Any, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": PORT_ID, **body} for body in bodies]

    def get(self, ctx: Any, rid: str) -> dict[str, Any]:
        return {"id": rid, "name": "x"}

    def update(self, ctx: Any, rid: str, body: Any, if_match: Any) -> dict[str, Any]:
        return {"id": rid, "name": body.get("name")}

    def delete(self, ctx: Any, rid: str, if_match: Any) -> None:
        return None

    def under(self, parent: str) -> Resources:
        return self


class Anything:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: {}


def stub_app() -> Starlette:
    assert set(COLLECTIONS) == set(attributes.SPECS)
    return build_app(ApiDeps(
        services={c: Resources() for c in COLLECTIONS},  # type: ignore[misc]
        tags=TagService(None, None), quotas=Anything(),  # type: ignore[arg-type]
        context_for=noauth_context("p"), health=lambda: {"status": "ok"},
        metrics_registry=None, agents=Anything(), port_bindings=Anything(),  # type: ignore[arg-type]
        ip_availability=Anything(), qos_rules={name: Anything() for name in RULE_KINDS}))
