"""Request bodies and URLs at the border: bounded size, bounded nesting, storable values.

Everything a request carries is checked here once, before any service sees it:
- the body is read in chunks and refused (413) as soon as it passes `max_body_bytes`, or
  before reading at all when its Content-Length says it would;
- JSON must be UTF-8, nested at most `MAX_DEPTH` levels (checked without recursion, before
  parsing), and hold only storable values: no NUL or lone surrogate in any key or string at
  any depth, no NaN/Infinity, no integer beyond OVSDB's 64 bits;
- the path and query string obey the same text rule (see `check_url`).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from neutrino import errors
from neutrino.api.text import preview
from neutrino.api.threads import run_in_thread
from neutrino.text import unstorable

MAX_DEPTH = 32
INLINE_PARSE_BYTES = 64 * 1024
INT64 = (-(2**63), 2**63 - 1)  # OVSDB integers; a JSON column holds them too

# A JSON string, or an unterminated one up to the end: every attempt that starts matches,
# so removing strings stays linear whatever the quotes and backslashes.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int = 1024 * 1024
    max_bulk: int = 1000


class RequestEntityTooLarge(errors.NeutrinoError):
    """The body is larger than the configured limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than the limit of {limit} bytes")


async def read_json(request: Request, limits: BodyLimits) -> Any:
    """The request's JSON document (None for an empty body), checked as the module says."""
    raw = await read_body(request, limits.max_bytes)
    if len(raw) > INLINE_PARSE_BYTES:  # a large body is parsed off the event loop
        return await run_in_thread(parse_json, raw)
    return parse_json(raw)


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise RequestEntityTooLarge(max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:  # chunked, or a Content-Length that lied: stop reading now
            raise RequestEntityTooLarge(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    check_depth(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.BadRequest("Malformed request body: not UTF-8") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        raise errors.BadRequest("Malformed request body") from None
    check_values(document)
    return document


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_depth(raw: bytes) -> None:
    """Refuse JSON nested deeper than `MAX_DEPTH`, without parsing (so without recursion).

    With strings removed (UTF-8 never hides a quote or a backslash inside a multi-byte
    character), the depth at each point is the running sum of +1 per opening and -1 per
    closing bracket; `accumulate` computes it in C. Brackets that do not balance are left
    to the parser, which stops at the first one before nesting any deeper."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return
    steps = _STRING.sub(b"", raw).translate(_STEPS, _NOT_BRACKETS)
    if max(itertools.accumulate(memoryview(steps).cast("b")), default=0) > MAX_DEPTH:
        raise errors.BadRequest(f"Malformed request body: JSON nested deeper than {MAX_DEPTH} "
                                "levels")


def check_values(document: Any) -> None:
    """Walk the document once, iteratively, refusing what no backend can store."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                check_text(key, "key")
                pending.append(item)
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            check_text(value, "value")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
            raise errors.BadRequest(f"Invalid input: integer {preview(value)} is out of range")
        elif isinstance(value, float) and not math.isfinite(value):
            raise errors.BadRequest("Invalid input: number out of range")


def check_text(text: str, what: str) -> None:
    if unstorable(text):
        raise errors.BadRequest(f"Invalid input: {what} '{preview(text)}' contains a NUL "
                                "character or an unpaired surrogate")


def check_url(path: str, query_items: list[tuple[str, str]]) -> None:
    """The path (ids, tag names, project ids) and every query key and value.

    Such text is refused with 400 rather than 404 even where it stands for an id: no
    resource can have it (bodies are held to the same rule), and one answer for the same
    bad text anywhere in a request is simpler for clients than one per position."""
    check_text(path, "path")
    for key, value in query_items:
        check_text(key, "query parameter")
        check_text(value, "query value")


async def json_object(request: Request, limits: BodyLimits) -> dict[str, Any]:
    """The request's body, which must be a JSON object."""
    body = await read_json(request, limits)
    if not isinstance(body, dict):
        raise errors.BadRequest("Malformed request body: a JSON object is required")
    return body


def envelope(body: dict[str, Any], singular: str) -> dict[str, Any]:
    """`{"<singular>": {...}}`'s inner object."""
    if singular not in body:
        raise errors.BadRequest(f"Unable to find '{singular}' in request body")
    return as_object(body[singular], singular)


def as_object(value: Any, singular: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.BadRequest(f"Malformed request body: '{singular}' must be an object")
    return value
