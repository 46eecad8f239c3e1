"""Connecting to a large NB: its first copy gets time to arrive; an NB that is away does not."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ovn_tools import nbctl

from neutrino import errors
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.local import LocalOvn

PORTS = 3000
PIECE = 8192  # bytes the slow link passes at a time, every TRICKLE seconds
TRICKLE = 0.01


@contextlib.contextmanager
def slow_link(target: str) -> Iterator[str]:
    """A TCP proxy to the unix socket `target` that passes the server's bytes slowly, as a
    busy or distant server sends a large database: tcp:HOST:PORT of the proxy."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    opened: list[socket.socket] = [listener]

    def pipe(src: socket.socket, dst: socket.socket, size: int, pause: float) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(size):
                dst.sendall(data)
                time.sleep(pause)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.close()

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                server = socket.socket(socket.AF_UNIX)
                server.connect(target.removeprefix("unix:"))
                opened.extend((client, server))
                threading.Thread(target=pipe, args=(client, server, 65536, 0),
                                 daemon=True).start()
                threading.Thread(target=pipe, args=(server, client, PIECE, TRICKLE),
                                 daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"tcp:127.0.0.1:{listener.getsockname()[1]}"
    finally:
        for sock in opened:
            with contextlib.suppress(OSError):
                sock.close()


def test_a_copy_slower_to_arrive_than_the_operation_timeout_still_connects(
        private_ovn: LocalOvn):
    commands = ["ls-add", "big"]
    for i in range(PORTS):
        commands += ["--", "lsp-add", "big", f"p{i}"]
    nbctl(private_ovn, *commands)
    with slow_link(private_ovn.nb) as remote:
        _connects_in_full(remote)


def _connects_in_full(remote: str) -> None:
    # 0.3 s per operation, while the copy takes over a second to arrive: a client that gave
    # the whole download as long never connected (every try starts it again)
    client = NorthboundClient(remote, timeout=0.3)
    try:
        client.connect()
        assert client.connected
        # the copy itself (reading it back through a transaction would take over 50 ms)
        copy = client._backend_or_raise().idl.tables["Logical_Switch_Port"].rows
        assert len(copy) == PORTS
    finally:
        client.close()


def test_an_nb_that_does_not_answer_fails_within_the_operation_timeout(tmp_path: Path):
    client = NorthboundClient(f"unix:{tmp_path / 'nobody.sock'}", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(errors.BackendUnavailable):
        client.connect()
    assert time.monotonic() - started < 5
