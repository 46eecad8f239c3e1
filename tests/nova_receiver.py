"""A small stand-in for Nova's os-server-external-events, for tests (not a test module).

It answers as Nova's API reference says: 200 when every event names a server it knows, 207
with a `code` per event when only some do, 404 when none does; 401 for a token the real
Keystone does not accept. `fail_next` makes it answer 500 that many times first.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2 as httpx
from keystone_tools import PASSWORD, Keystone

PATH = "/v2.1/os-server-external-events"
USER = "nova_events"  # the Keystone user neutrino sends events as (a tests' choice)


def nova_env(keystone: Keystone, url: str) -> dict[str, str]:
    """neutrino's settings for sending events to `url` as USER."""
    return {"NEUTRINO_NOVA_URL": url, "NEUTRINO_NOVA_AUTH_URL": keystone.url,
            "NEUTRINO_NOVA_USERNAME": USER, "NEUTRINO_NOVA_PASSWORD": PASSWORD,
            "NEUTRINO_NOVA_PROJECT_NAME": "service"}


@dataclass
class Received:
    events: list[dict[str, Any]]
    token_valid: bool
    status: int


@dataclass
class NovaReceiver:
    keystone: Keystone
    known_servers: set[str] = field(default_factory=set)
    fail_next: int = 0
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v2.1"

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [e for r in self.requests for e in r.events]

    def answer(self, token: str, events: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        if not self._valid(token):
            return 401, {"error": {"code": 401, "message": "The request you have made "
                                   "requires authentication."}}
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                return 500, {"computeFault": {"code": 500, "message": "Unexpected API Error."}}
        answered = [{**e, "code": 200 if e["server_uuid"] in self.known_servers else 404}
                    for e in events]
        codes = {e["code"] for e in answered}
        if codes == {404}:
            return 404, {"itemNotFound": {"code": 404, "message": "No instances found for "
                                          "any event"}}
        return (200 if codes == {200} else 207), {"events": answered}

    def _valid(self, token: str) -> bool:
        response = httpx.get(f"{self.keystone.url}/auth/tokens", timeout=30, headers={
            "X-Auth-Token": self.keystone.admin(), "X-Subject-Token": token})
        return response.status_code == 200

    def start(self) -> NovaReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                events = body["events"]
                status, answer = (receiver.answer(self.headers.get("X-Auth-Token", ""), events)
                                  if self.path == PATH else (404, {}))
                with receiver.lock:
                    receiver.requests.append(Received(events, status != 401, status))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
