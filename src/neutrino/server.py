"""The HTTP server: uvicorn, with the limits a public API needs against slow clients.

uvicorn bounds idle keep-alive connections but not a client that connects and sends
nothing, sends its headers a byte at a time, or promises a body it never sends: each holds a
connection (and, for a body, a request task) for as long as it likes. The protocol below
gives every request's headers and body a deadline; `limit_concurrency` caps connections.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from neutrino.settings import HttpSettings


class _TimedH11Protocol(H11Protocol):
    """h11 protocol whose requests must arrive in time: headers within `header_timeout`
    of the first byte (or of the connection), the body within `body_timeout` after that."""

    header_timeout = 10.0
    body_timeout = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        super().data_received(data)
        cycle = self.cycle
        if cycle is not None and cycle is not before:  # a request's headers are complete
            self._disarm()
            if cycle.more_body:
                self._arm(self.body_timeout)
        elif cycle is None or cycle.response_complete:  # the next request is on its way
            if self._deadline is None:
                self._arm(self.header_timeout)
        elif not cycle.more_body:  # the body is complete
            self._disarm()

    def on_response_complete(self) -> None:
        self._disarm()  # idle from here on: uvicorn's keep-alive timeout takes over
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and cycle.response_started:
            return  # answering already: the client is not the one being slow
        self.logger.info("closing a connection whose request did not arrive in time")
        self.transport.close()


def protocol_class(settings: HttpSettings) -> type[H11Protocol]:
    return type("NeutrinoH11Protocol", (_TimedH11Protocol,),
                {"header_timeout": settings.header_timeout,
                 "body_timeout": settings.body_timeout})


def serve(app: Any, host: str, port: int, settings: HttpSettings) -> None:
    uvicorn.run(
        app, host=host, port=port, log_level="info",
        http=protocol_class(settings),
        timeout_keep_alive=settings.keepalive_timeout,
        limit_concurrency=settings.max_connections,
    )
