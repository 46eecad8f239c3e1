"""The HTTP server: uvicorn, with the limits a public API needs against slow clients.

uvicorn bounds idle keep-alive connections but not a client that connects and sends
nothing, sends its headers a byte at a time, or promises a body it never sends: each holds a
connection (and, for a body, a request task) for as long as it likes. The protocol below
gives every request's headers and body a deadline; `limit_concurrency` caps connections.

uvicorn writes a response's head and its body to the socket one after the other: two sends,
and two wake-ups of a client waiting for the answer. The protocol below hands each request's
cycle a transport that keeps the head until the body's first write and writes both at once:
the same bytes in one send.

The access log's lines are uvicorn's, written by a formatter that does not copy every
record twice nor look the status phrase up in `http.HTTPStatus` at every request.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

import uvicorn
import uvicorn.config
import uvicorn.logging
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

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
            _hold_head(cycle)
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
        before = self.cycle
        super().on_response_complete()
        if self.cycle is not None and self.cycle is not before:  # a pipelined request's
            _hold_head(self.cycle)

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


class _HeadWithBody:
    """A request cycle's transport: its response's head is written with the body's first
    write (or at a close). Before the response starts (`100 Continue`) and after the head,
    writes go straight through; everything else is the connection's transport."""

    __slots__ = ("_transport", "_cycle", "_head", "_headed")

    def __init__(self, transport: asyncio.Transport, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head: bytes | None = None
        self._headed = False

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            data = head + data
        elif not self._headed and self._cycle.response_started:  # uvicorn wrote the head
            self._headed = True
            self._head = data
            return
        self._transport.write(data)

    def close(self) -> None:
        head, self._head = self._head, None
        if head is not None:
            self._transport.write(head)
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _hold_head(cycle: RequestResponseCycle) -> None:
    if not cycle.response_started:
        cycle.transport = _HeadWithBody(cycle.transport, cycle)  # type: ignore[assignment]


def protocol_class(settings: HttpSettings) -> type[H11Protocol]:
    return type("NeutrinoH11Protocol", (_TimedH11Protocol,),
                {"header_timeout": settings.header_timeout,
                 "body_timeout": settings.body_timeout})


class AccessFormatter(uvicorn.logging.AccessFormatter):
    """uvicorn's access lines (`INFO:     127.0.0.1:50668 - "GET / HTTP/1.1" 200 OK`), for
    some 47,000 instructions less a request; with colours (a terminal), uvicorn's own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._statuses: dict[Any, str] = {}

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        if self.use_colors:
            return super().formatMessage(record)
        client_addr, method, full_path, http_version, status_code = record.args  # type: ignore[misc]
        status = self._statuses.get(status_code)
        if status is None:
            status = self._statuses[status_code] = self.get_status_code(int(status_code))
        level = record.levelname
        fields = {**record.__dict__, "levelprefix": level + ":" + " " * (8 - len(level)),
                  "client_addr": client_addr,
                  "request_line": f"{method} {full_path} HTTP/{http_version}",
                  "status_code": status}
        return logging.Formatter.formatMessage(self, _Fields(fields))  # type: ignore[arg-type]


class _Fields:
    """What `logging.Formatter.formatMessage` reads of a record: its fields."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__ = fields


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, the access lines written by `AccessFormatter`."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["access"]["()"] = AccessFormatter
    return config


def serve(app: Any, host: str, port: int, settings: HttpSettings) -> None:
    uvicorn.run(
        app, host=host, port=port, log_level="info", log_config=log_config(),
        http=protocol_class(settings),
        timeout_keep_alive=settings.keepalive_timeout,
        limit_concurrency=settings.max_connections,
    )
