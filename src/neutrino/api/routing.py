"""Starlette's router, asking only the routes that can match a request's path.

Starlette tries every route in turn: a port's show was 83 regex matches (~75 us of the event
loop's CPU, a fifth of its work for the request), and a route near the end of the 241 took
240. A `Route` whose path begins with two literal segments (`/v2.0/ports/{rid}`: "v2.0",
"ports") can only match a path beginning with those two: the other routes never answer
`Match.FULL` or `Match.PARTIAL` for it, so leaving them out changes nothing. The routes a path
is tried against are its two segments' routes and every route that may match any path (one
with a parameter in its first two segments, or of another kind than `Route`), in the order
the router holds them: the first full match, the first partial match (405), the trailing
slash's redirect and the 404 come out as Starlette's (`Router.app`, starlette 1.10.0, whose
steps `app` below follows).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import get_route_path
from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send


def path_head(path: str) -> tuple[str, ...]:
    """A path's first two segments ("/v2.0/ports/x" -> ("v2.0", "ports"), "/" -> ("",)).

    A route's regex ends in `$`, which matches before a final newline too: that newline is
    no part of the path's head."""
    if path.endswith("\n"):
        path = path[:-1]
    return tuple(path.split("/", 3)[1:3])


def literal_head(route: BaseRoute) -> tuple[str, ...] | None:
    """The two segments every path `route` matches begins with, or None where they vary."""
    if type(route) is not Route:
        return None
    head = path_head(route.path)
    return None if any("{" in segment for segment in head) else head


class IndexedRouter(Router):
    """A `Router` whose routes are fixed once it serves (the index follows a change of their
    number, not a route replaced in place)."""

    _size = -1

    def candidates(self, path: str) -> Sequence[BaseRoute]:
        """The routes that may match `path`, in the router's order."""
        if self._size != len(self.routes):
            self._index()
        return self._by_head.get(path_head(path), self._anywhere)

    def _index(self) -> None:
        heads = {literal_head(route) for route in self.routes} - {None}
        self._by_head = {head: tuple(r for r in self.routes if literal_head(r) in (head, None))
                         for head in heads}
        self._anywhere = tuple(r for r in self.routes if literal_head(r) is None)
        self._size = len(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (and websockets, which neutrino has none of)
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self

        partial = None
        route_path = get_route_path(scope)
        for route in self.candidates(route_path):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope

        if partial is not None:  # the path is served, not with this method: 405
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return

        if self.redirect_slashes and route_path != "/":
            redirect_scope = dict(scope)
            if route_path.endswith("/"):
                redirect_scope["path"] = redirect_scope["path"].rstrip("/")
            else:
                redirect_scope["path"] = redirect_scope["path"] + "/"
            for route in self.candidates(get_route_path(redirect_scope)):
                match, _ = route.matches(redirect_scope)
                if match is not Match.NONE:
                    response = RedirectResponse(url=str(URL(scope=redirect_scope)))
                    await response(scope, receive, send)
                    return

        await self.default(scope, receive, send)
