"""The HTTP server's protocol writes a response's head and body in one send, the same bytes
uvicorn's own protocol writes in two."""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

import pytest
import uvicorn.logging
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

import neutrino.server
from neutrino.server import protocol_class
from neutrino.settings import HttpSettings

BODY = b'{"port":{"id":"p","name":"x"}}'


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 9696), "peername": ("127.0.0.1", 50000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["method"] in ("PUT", "POST"):
        while (await receive()).get("more_body"):
            pass
    if scope["path"] == "/fails-after-start":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"5")]})
        raise RuntimeError("the answer broke off")
    status = 204 if scope["method"] == "DELETE" else 200
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]
                + ([(b"content-length", str(len(BODY)).encode())] if status == 200 else [])})
    await send({"type": "http.response.body", "body": BODY if status == 200 else b""})


def _serve(protocol: type[H11Protocol], requests: bytes, chunks: int = 1) -> Transport:
    async def run() -> Transport:
        config = Config(app=_answer, http=protocol, log_level="critical")
        config.load()
        state = ServerState()
        state.default_headers = [(b"server", b"uvicorn")]
        served = protocol(config=config, server_state=state, app_state={},
                          _loop=asyncio.get_running_loop())
        transport = Transport()
        served.connection_made(transport)
        step = max(1, len(requests) // chunks)
        for start in range(0, len(requests), step):
            served.data_received(requests[start:start + step])
            for _ in range(20):
                await asyncio.sleep(0)
        for _ in range(200):  # answers that can be given are given by then
            await asyncio.sleep(0)
        served.connection_lost(None)
        await asyncio.gather(*state.tasks)
        return transport

    return asyncio.run(run())


def _sent(transport: Transport) -> list[bytes]:
    return [w for w in transport.writes if w]


SHOW = b"GET /v2.0/ports/p HTTP/1.1\r\nHost: h\r\n\r\n"
PUT = (b"PUT /v2.0/ports/p HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
       b"Content-Length: 25\r\n\r\n" + b'{"port": {"name": "new"}}')
DELETE = b"DELETE /v2.0/ports/p HTTP/1.1\r\nHost: h\r\n\r\n"
PROTOCOL = protocol_class(HttpSettings())


@pytest.mark.parametrize("request_bytes", [SHOW, PUT, DELETE, SHOW + PUT + DELETE + SHOW])
def test_a_response_is_one_send_of_uvicorns_bytes(request_bytes):
    ours, uvicorns = _serve(PROTOCOL, request_bytes), _serve(H11Protocol, request_bytes)
    answers = request_bytes.count(b" HTTP/1.1\r\n")
    with_body = answers - request_bytes.count(b"DELETE")  # a 204 is its head alone
    assert len(_sent(uvicorns)) == answers + with_body
    assert len(_sent(ours)) == answers  # one send an answer, pipelined ones too
    assert b"".join(_sent(ours)) == b"".join(_sent(uvicorns))
    assert b"".join(_sent(ours)).count(BODY) == with_body


def test_a_body_that_arrives_late_is_answered_in_one_send_too():
    ours, uvicorns = _serve(PROTOCOL, PUT, chunks=4), _serve(H11Protocol, PUT, chunks=4)
    assert len(_sent(ours)) == 1 and _sent(ours)[0].endswith(BODY)
    assert _sent(ours) == [b"".join(_sent(uvicorns))]


def test_100_continue_goes_out_before_the_body_comes():
    headers, body = PUT.split(b"\r\n\r\n")
    request = headers.replace(b"Host: h", b"Host: h\r\nExpect: 100-continue") + b"\r\n\r\n"
    ours = _serve(PROTOCOL, request)  # the body never comes: the answer waits
    assert _sent(ours) == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    both = _serve(PROTOCOL, request + body)
    assert _sent(both)[0] == b"HTTP/1.1 100 Continue\r\n\r\n" and len(_sent(both)) == 2


def test_a_head_whose_body_never_comes_is_written_before_the_close():
    request = b"GET /fails-after-start HTTP/1.1\r\nHost: h\r\n\r\n"
    ours, uvicorns = _serve(PROTOCOL, request), _serve(H11Protocol, request)
    assert ours.closed and uvicorns.closed
    assert _sent(ours) == _sent(uvicorns) and _sent(ours)[0].startswith(b"HTTP/1.1 200 OK")


def _access_record(status: int, path: str = "/v2.0/ports?fields=id") -> logging.LogRecord:
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                             '%s - "%s %s HTTP/%s" %d',
                             ("127.0.0.1:50668", "GET", path, "1.1", status), None)


@pytest.mark.parametrize("colours", [False, True])
def test_access_lines_are_uvicorns(colours):
    config = neutrino.server.log_config()["formatters"]["access"]
    fmt = config["fmt"]
    ours = config["()"](fmt=fmt, use_colors=colours)
    uvicorns = uvicorn.logging.AccessFormatter(fmt=fmt, use_colors=colours)
    for status in (200, 201, 204, 307, 400, 404, 409, 500, 503, 599):
        for path in ("/", "/v2.0/ports/é%20x", "/v2.0/ports?fields=id&name=a%25"):
            record = _access_record(status, path)
            line = ours.format(record)
            assert line == uvicorns.format(_access_record(status, path))
            assert line == ours.format(_access_record(status, path))  # the phrase kept
    if not colours:
        assert ours.format(_access_record(200)) == \
            'INFO:     127.0.0.1:50668 - "GET /v2.0/ports?fields=id HTTP/1.1" 200 OK'


def test_an_access_line_copies_no_record(monkeypatch):
    copies: list[Any] = []
    monkeypatch.setattr(uvicorn.logging, "copy", lambda record: copies.append(record) or
                        copy.copy(record))
    config = neutrino.server.log_config()["formatters"]["access"]
    formatter = config["()"](fmt=config["fmt"], use_colors=False)
    formatter.format(_access_record(200))
    assert copies == []  # two with uvicorn's formatter
