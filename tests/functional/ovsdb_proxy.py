"""A TCP proxy in front of an ovsdb-server that can lose the answer to one transaction
(test helper, not a test module).

Every byte goes through unchanged, until `lose_answer_to(table)` is armed: the next
`transact` request inserting into `table` reaches the server (which commits it), but its
answer is swallowed and the client's connection is cut, as when a leader dies between
committing and answering.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from typing import Any

from neutrino.ovn.json_stream import JsonStream


class LosingProxy:
    def __init__(self, target: str) -> None:
        self.target = target  # unix:PATH of the real server
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.remote = f"tcp:127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._armed: str | None = None
        self._doomed: set[Any] = set()
        self.lost: list[dict[str, Any]] = []  # the requests whose answer was swallowed
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def lose_answer_to(self, table: str) -> None:
        with self._lock:
            self._armed = table

    def close(self) -> None:
        self._closed = True
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.target.removeprefix("unix:"))
            self._sockets += [client, server]
            threading.Thread(target=self._upstream, args=(client, server), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client),
                             daemon=True).start()

    def _upstream(self, client: socket.socket, server: socket.socket) -> None:
        stream = JsonStream()
        while data := _recv(client):
            for message in stream.feed(data):
                self._watch_request(message)
            if not _send(server, data):
                break
        _close(client, server)

    def _watch_request(self, message: Any) -> None:
        if not isinstance(message, dict) or message.get("method") != "transact":
            return
        ops = message.get("params", [])[1:]
        with self._lock:
            if self._armed and any(isinstance(op, dict) and op.get("op") == "insert"
                                   and op.get("table") == self._armed for op in ops):
                self._doomed.add(message["id"])
                self.lost.append(message)
                self._armed = None

    def _downstream(self, server: socket.socket, client: socket.socket) -> None:
        stream = JsonStream()
        while data := _recv(server):
            for message in stream.feed(data):
                if isinstance(message, dict) and message.get("id") in self._doomed \
                        and "result" in message:
                    _close(client, server)  # committed by the server; the answer is lost
                    return
                if not _send(client, json.dumps(message).encode()):
                    return
        _close(client, server)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
    except OSError:
        return False
    return True


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()
