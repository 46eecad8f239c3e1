"""ASGI middleware at the HTTP border: URLs with unstorable text, and unexpected errors.

Starlette sends an `Exception` handler's answer from its outermost ServerErrorMiddleware and
then re-raises, so uvicorn logs the error a second time and closes the connection: a
keep-alive client finds it reset on its next request. `CatchUnexpected` sits inside that
middleware and answers the Neutron 500 fault itself, so the connection stays usable.
"""

from __future__ import annotations

import logging

from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neutrino import errors
from neutrino.api.faults import INTERNAL_ERROR, fault_response, neutron_fault
from neutrino.api.payload import check_url
from neutrino.api.text import preview

LOG = logging.getLogger(__name__)


class CheckUrl:
    """Refuse (400) a path or query string holding text no backend can store."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = QueryParams(scope.get("query_string", b""))
            try:
                check_url(scope["path"], query.multi_items())
            except errors.BadRequest as exc:
                await fault_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class CatchUnexpected:
    """Answer an unexpected exception with a logged Neutron 500 fault, keeping the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            LOG.exception("unexpected error in %s %s", scope["method"],
                          preview(scope["path"], 200))
            if started:  # part of an answer is out: closing is all that is left
                raise
            await neutron_fault(500, *INTERNAL_ERROR)(scope, receive, send)
