"""The API border on a real `neutrino serve` (uvicorn): a huge body costs neither memory nor a
full read, and an unexpected error leaves the keep-alive connection usable."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from api_border import assert_fault
from serve_tools import start_serve, stop_serve

MIB = 1024 * 1024


@pytest.fixture()
def serve(private_ovn, tmp_path) -> Iterator[tuple[str, int, Path]]:
    url, proc = start_serve(private_ovn, tmp_path / "state", NEUTRINO_STARTUP_SYNC="off")
    try:
        yield url, proc.pid, tmp_path / "state" / "neutrino.db"
    finally:
        stop_serve(proc)


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _local_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


def test_a_100_mib_body_is_refused_without_being_read(serve):
    url, pid, _ = serve
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"network": {"name": "'
        for _ in range(100):
            sent += MIB
            yield b"n" * MIB
        yield b'"}}'

    peak_before = _peak_rss_mib(pid)
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=60) as client:
        response = client.post("/v2.0/networks", content=body())
    elapsed = time.monotonic() - started
    growth = _peak_rss_mib(pid) - peak_before
    print(f"100 MiB body: {response.status_code} after {elapsed:.2f}s, {sent // MIB} MiB sent, "
          f"server peak RSS +{growth:.1f} MiB")
    assert_fault(response, 413)
    assert growth < 20, f"the server's peak RSS grew by {growth:.1f} MiB"
    assert sent < 50 * MIB, f"the client could send {sent // MIB} MiB before the answer"


def test_a_declared_length_over_the_limit_is_refused_before_the_body(serve):
    url, _, _ = serve
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST /v2.0/networks HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n{" % (100 * MIB))  # the rest never comes
        answer = b""
        while b"}}" not in answer:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {answer!r}"
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"connection: close" in head.lower()
    assert json.loads(body)["NeutronError"]["type"] == "RequestEntityTooLarge"


def test_an_unexpected_error_answers_500_and_keeps_the_connection(serve):
    url, _, db_path = serve
    with httpx.Client(base_url=url, timeout=30) as client:
        created = client.post("/v2.0/networks", json={"network": {"name": "corrupt"}})
        net = created.json()["network"]["id"]
        with sqlite3.connect(db_path) as db:  # a row neutrino cannot read: a real bug path
            db.execute("UPDATE networks SET created_at = 'not a date' WHERE id = ?", (net,))
        broken = client.get(f"/v2.0/networks/{net}")
        assert broken.json()["NeutronError"]["type"] == "HTTPInternalServerError"
        assert_fault(broken, 500)
        after = client.get("/v2.0/extensions")
        assert after.status_code == 200
        assert _local_port(after) == _local_port(broken), "the connection was not kept"
