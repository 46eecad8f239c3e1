"""The API's router answers every path as Starlette's does, asking only the routes that can
match it (a port's show asked 83 routes, one near the end of the list 240)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Mount, Route, Router
from starlette.testclient import TestClient
from stub_app import PORT_ID, stub_app

from neutrino.api.routing import IndexedRouter, literal_head, path_head

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")


def _recording(routes: list[Any]) -> list[Any]:
    """The routes with endpoints that say which route answered."""
    def endpoint(index: int) -> Any:
        async def answer(request: Request) -> PlainTextResponse:
            return PlainTextResponse(f"{index} {sorted(request.path_params.items())}")
        return answer

    return [Route(r.path, endpoint(i), methods=r.methods) for i, r in enumerate(routes)]


def _answer(router: Router, method: str, path: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "headers": [(b"host", b"h")],
             "scheme": "http", "server": ("h", 80)}
    asyncio.run(router(scope, receive, send))
    return sent


def _paths(route_path: str) -> list[str]:
    filled = route_path.replace("{", "").replace("}", "")  # a value per parameter
    return [filled, filled + "/", filled + "/extra", filled + "\n", filled.upper(),
            filled.rstrip("/") + "//", route_path.split("{")[0], filled.replace("v2.0", "v2")]


def test_every_path_gets_starlettes_answer():
    routes = _recording(stub_app().router.routes)
    assert len(routes) > 200
    linear, indexed = Router(routes), IndexedRouter(routes)
    paths = sorted({p for r in routes for p in _paths(r.path)}
                   | {"/", "", "//", "/v2.0", "/v2.0/", "/nowhere", "/v2.0/nowhere/x",
                      "/\n", "/v2.0\n", "/v2.0/ports/a/b/c/d"})
    answers = {"200": 0, "405": 0, "307": 0, "404": 0}
    for path, method in itertools.product(paths, METHODS):
        expected = _answer(linear, method, path)
        assert _answer(indexed, method, path) == expected, (method, path)
        answers[str(expected[0]["status"])] += 1
    assert all(answers.values()), answers  # every kind of answer was compared


def test_a_port_request_asks_only_the_routes_under_its_collection(monkeypatch):
    asked: list[str] = []
    matches = Route.matches

    def counted(self: Route, scope: Any) -> tuple[Match, Any]:
        asked.append(self.path)
        return matches(self, scope)

    served = stub_app()
    under = sum(1 for r in served.router.routes if r.path.startswith("/v2.0/ports/"))
    assert under < 20
    monkeypatch.setattr(Route, "matches", counted)
    with TestClient(served) as client:
        for method in ("GET", "PUT", "DELETE"):
            asked.clear()
            body = {"port": {"name": "n"}} if method == "PUT" else None
            answer = client.request(method, f"/v2.0/ports/{PORT_ID}", json=body)
            assert answer.status_code in (200, 204)
            assert asked and all(p.startswith("/v2.0/ports") for p in asked), asked
            assert len(asked) <= under  # 83 to 85 with every route asked in turn


def test_a_routes_head_is_its_literal_first_two_segments():
    assert path_head("/v2.0/ports/x") == ("v2.0", "ports")
    assert path_head("/v2.0/ports") == ("v2.0", "ports")
    assert path_head("/v2.0/ports\n") == ("v2.0", "ports")
    assert path_head("/") == ("",)
    assert path_head("") == ()
    assert literal_head(Route("/v2.0/{x}/y", lambda r: None)) is None
    assert literal_head(Route("/{x}", lambda r: None)) is None
    assert literal_head(Mount("/v2.0", routes=[])) is None
    assert literal_head(Route("/v2.0/ports/{rid}", lambda r: None)) == ("v2.0", "ports")


@pytest.mark.parametrize("path", ["/v2.0/a/1", "/v2.0/b", "/v2.0/c", "/x/1"])
def test_routes_that_may_match_any_path_are_asked_in_order(path):
    def endpoint(name: str) -> Any:
        async def answer(request: Request) -> PlainTextResponse:
            return PlainTextResponse(name)
        return answer

    routes = [Route("/v2.0/a/{n}", endpoint("a")), Route("/{any}/b", endpoint("any-b")),
              Route("/v2.0/b", endpoint("b")), Mount("/v2.0/c", routes=[
                  Route("/", endpoint("mounted"))]), Route("/x/{n}", endpoint("x"))]
    indexed = IndexedRouter(routes)
    assert _answer(indexed, "GET", path) == _answer(Router(routes), "GET", path)
    indexed.routes.append(Route("/v2.0/late/{n}", endpoint("late")))  # added afterwards
    assert _answer(indexed, "GET", "/v2.0/late/1")[1]["body"] == b"late"
