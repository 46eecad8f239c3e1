"""Authentication: who the caller is, as a `Context`, built in one place.

`noauth`: the caller is admin, acting for `X-Project-Id` (or the configured default).
`keystone`: keystonemiddleware's auth_token validates the token. It is WSGI middleware, so
each request's headers are handed to it as a WSGI environ (in a worker thread, since it may
call Keystone); when it lets the request through, the identity headers it set are what the
context is built from, and when it refuses (401) its own answer goes back to the client.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from neutrino import errors
from neutrino.api.faults import neutron_fault
from neutrino.api.threads import run_in_thread
from neutrino.services.context import Context

LOG = logging.getLogger(__name__)

MAX_PROJECT_CHARS = 255  # what a project id column holds
OPEN_PATHS = ("/", "/healthz", "/metrics")  # version discovery and operations stay open
IDENTITY_HEADERS = ("x-identity-status", "x-user-id", "x-user-name", "x-project-id",
                    "x-project-name", "x-roles", "x-user-domain-id", "x-project-domain-id",
                    "x-is-admin-project", "x-service-catalog")


def noauth_context(default_project: str) -> Callable[[Request], Context]:
    def context_for(request: Request) -> Context:
        project = request.headers.get("x-project-id") or default_project
        if len(project) > MAX_PROJECT_CHARS:  # it becomes the project_id of what is created
            raise errors.BadRequest(f"Invalid X-Project-Id: longer than {MAX_PROJECT_CHARS} "
                                    "characters")
        return Context(project_id=project, is_admin=True)

    return context_for


def keystone_context(request: Request) -> Context:
    """From the headers auth_token set (it strips any the client sent itself)."""
    roles = tuple(r.strip().lower() for r in request.headers.get("x-roles", "").split(",")
                  if r.strip())
    return Context(project_id=request.headers.get("x-project-id", ""),
                   is_admin="admin" in roles, user_id=request.headers.get("x-user-id"),
                   roles=roles, project_name=request.headers.get("x-project-name"),
                   user_name=request.headers.get("x-user-name"))


class KeystoneAuth:
    """ASGI middleware around keystonemiddleware's auth_token."""

    def __init__(self, app: ASGIApp, options: dict[str, str]) -> None:
        from keystonemiddleware import auth_token

        self.app = app
        self._auth = auth_token.AuthProtocol(_passed, dict(options))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            outcome = await run_in_thread(self._validate, _environ(scope))
        except Exception as exc:  # noqa: BLE001 - a broken identity service is a 503, not a 500
            LOG.error("token validation failed: %s", exc)
            await neutron_fault(503, "ServiceUnavailable",
                                "The identity service could not validate the token."
                                )(scope, receive, send)
            return
        if isinstance(outcome, dict):
            await self.app(_with_identity(scope, outcome), receive, send)
        else:
            await _send(outcome, send)

    def _validate(self, environ: dict[str, Any]) -> dict[str, Any] | tuple[Any, ...]:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        body = b"".join(_iterate(self._auth(environ, start_response)))
        if environ.get("neutrino.passed"):
            return environ
        return captured["status"], captured["headers"], body


def _passed(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    environ["neutrino.passed"] = True
    start_response("200 OK", [])
    return []


def _iterate(result: Iterable[bytes]) -> Iterable[bytes]:
    try:
        yield from result
    finally:
        close = getattr(result, "close", None)
        if close:
            close()


def _environ(scope: Scope) -> dict[str, Any]:
    host, port = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"], "PATH_INFO": scope["path"], "SCRIPT_NAME": "",
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(host), "SERVER_PORT": str(port), "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": scope.get("scheme", "http"), "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    for name, value in scope["headers"]:
        key = name.decode("latin-1").upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value.decode("latin-1")
        else:
            environ[f"HTTP_{key}"] = value.decode("latin-1")
    return environ


def _with_identity(scope: Scope, environ: dict[str, Any]) -> Scope:
    kept = [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower()
            not in IDENTITY_HEADERS]
    for header in IDENTITY_HEADERS:
        value = environ.get("HTTP_" + header.upper().replace("-", "_"))
        if value is not None:
            kept.append((header.encode("latin-1"), str(value).encode("latin-1")))
    return {**scope, "headers": kept}


async def _send(outcome: tuple[Any, ...], send: Send) -> None:
    status, headers, body = outcome
    await send({"type": "http.response.start", "status": int(status.split()[0]),
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                            for k, v in headers]})
    await send({"type": "http.response.body", "body": body})
