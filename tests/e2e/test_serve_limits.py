"""`neutrino serve` as a real process: slow clients are cut off, connections are capped, and
a second server on the same state directory leaves the first one's OVN alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from serve_tools import free_port, start_serve, stop_serve, wait_healthy

from neutrino.ovn import local

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def limited(local_ovn, tmp_path_factory) -> Iterator[str]:
    url, proc = start_serve(local_ovn, tmp_path_factory.mktemp("limits"),
                            NEUTRINO_STARTUP_SYNC="off", NEUTRINO_HTTP_HEADER_TIMEOUT="1",
                            NEUTRINO_HTTP_BODY_TIMEOUT="1", NEUTRINO_HTTP_MAX_CONNECTIONS="8")
    try:
        yield url
    finally:
        stop_serve(proc)


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    return sock


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float:
    """Seconds until the server closes `sock` (sending `trickle` a byte at a time)."""
    started = time.monotonic()
    sock.settimeout(0.2)
    sent = 0
    while time.monotonic() - started < seconds:
        if sent < len(trickle):
            try:
                sock.sendall(trickle[sent:sent + 1])
            except OSError:
                return time.monotonic() - started
            sent += 1
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - started
    raise AssertionError(f"connection still open after {seconds}s")


def test_a_client_that_sends_nothing_is_cut_off(limited):
    with _connect(limited) as sock:
        assert _closed_within(sock, 5) < 3


def test_headers_sent_a_byte_at_a_time_are_cut_off(limited):
    slow = b"GET /v2.0/networks HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200
    with _connect(limited) as sock:
        assert _closed_within(sock, 10, slow) < 3


def test_a_promised_body_that_never_comes_is_cut_off(limited):
    with _connect(limited) as sock:
        sock.sendall(b"POST /v2.0/networks HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 1000\r\n\r\n{\"network\":")
        assert _closed_within(sock, 5) < 3


def test_keep_alive_still_serves_several_requests(limited):
    with httpx.Client(base_url=limited) as client:
        for _ in range(3):
            assert client.get("/v2.0/networks").status_code == 200
            time.sleep(0.3)  # idle between requests, well within the keep-alive timeout


def test_connections_beyond_the_limit_are_answered_503(limited):
    idle = [_connect(limited) for _ in range(8)]
    try:
        time.sleep(0.2)
        assert httpx.get(f"{limited}/v2.0/networks", timeout=5).status_code == 503
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(f"{limited}/v2.0/networks", timeout=5).status_code == 200


def test_a_second_server_that_cannot_bind_leaves_the_first_ones_ovn_alone(tmp_path: Path):
    state = Path(__import__("tempfile").mkdtemp(prefix="nss", dir="/tmp"))
    port = free_port()
    env = dict(os.environ, NEUTRINO_STATE_DIR=str(state), NEUTRINO_BIND=f"127.0.0.1:{port}",
               NEUTRINO_STARTUP_SYNC="off")
    env.pop("NEUTRINO_OVN_NB", None)
    env.pop("NEUTRINO_OVN_SB", None)
    command = [sys.executable, "-m", "neutrino.cli", "serve", "--local-ovn"]
    with open(tmp_path / "first.log", "w") as log:
        first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", first, tmp_path / "first.log")
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert all(local.status(state / "ovn").values()), second.stderr[-2000:]
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        assert health["ovn_nb"] == "connected"
    finally:
        stop_serve(first)
        assert not any(local.status(state / "ovn").values())  # the first stops what it started
        local.down(state / "ovn")
        __import__("shutil").rmtree(state, ignore_errors=True)
