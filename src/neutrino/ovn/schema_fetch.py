"""A database's schema from its OVSDB server, read with the standard library's JSON parser.

ovsdbapp's `get_schema_helper` reads the reply through python-ovs, whose JSON parser is pure
Python here (PyPI's `ovs` has no C parser): 6-18 ms of CPU for NB's or SB's schema, once
for every connection a process makes at start-up (the API's SB, the journal process's NB
and SB). `json` parses the same reply in under half a millisecond. `ssl:` members need
python-ovs's streams (certificates), so a remote naming one is read as ovsdbapp reads it.
"""

from __future__ import annotations

import codecs
import itertools
import json
import socket
from typing import Any

from ovs.db import idl as ovs_idl
from ovsdbapp.backend.ovs_idl import idlutils

_ids = itertools.count()


def schema_helper(remote: str, schema: str, timeout: float) -> ovs_idl.SchemaHelper:
    """The schema `schema` as the first member of `remote` that answers sends it."""
    members = idlutils.parse_connection(remote)
    if any(not member.startswith(("unix:", "tcp:")) for member in members):
        return idlutils.get_schema_helper(remote, schema)
    problems = []
    for member in members:
        try:
            return idlutils.create_schema_helper(_get_schema(member, schema, timeout))
        except (OSError, ValueError) as exc:
            problems.append(f"{member}: {exc}")
    raise OSError(f"could not retrieve schema {schema} ({'; '.join(problems)})")


def _get_schema(member: str, schema: str, timeout: float) -> Any:
    kind, _, address = member.partition(":")
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX)
        target: Any = address
    else:
        host, _, port = address.rpartition(":")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        target = (host.strip("[]"), int(port))
    with sock:
        sock.settimeout(timeout)
        sock.connect(target)
        number = next(_ids)
        sock.sendall(json.dumps({"method": "get_schema", "params": [schema],
                                 "id": number}).encode())
        received = b""
        while True:
            data = sock.recv(65536)
            if not data:
                raise OSError("connection closed before the schema arrived")
            received += data
            for message in _messages(received):
                if message.get("id") == number:
                    if message.get("error") is not None:
                        raise ValueError(f"the server answered {message['error']}")
                    return message["result"]


def _messages(received: bytes) -> list[dict[str, Any]]:
    """The whole JSON objects at the start of `received` (more may be on their way)."""
    # a character cut in two at the end waits for its other half
    text = codecs.getincrementaldecoder("utf-8")().decode(received)
    decoder, found, at = json.JSONDecoder(), [], 0
    while True:
        at = len(text) - len(text[at:].lstrip())  # past the whitespace between messages
        try:
            message, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            return found  # not all of it yet
        if isinstance(message, dict):
            found.append(message)
