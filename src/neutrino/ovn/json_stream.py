"""Splitting an OVSDB JSON-RPC byte stream into its messages.

OVSDB sends JSON objects back to back with no framing, and a read may end inside a message
or inside a multi-byte character. Used where something speaks the protocol below the IDL:
the benchmarks' raw NB client and the tests' lossy proxy.
"""

from __future__ import annotations

import json
from typing import Any


class JsonStream:
    """Splits a byte stream into the JSON-RPC messages it carries (concatenated objects)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._decoder = json.JSONDecoder()

    def feed(self, data: bytes) -> list[Any]:
        """The messages completed by `data`; a partial one waits for the next feed."""
        self._buffer += data
        try:
            text = self._buffer.decode()
        except UnicodeDecodeError:  # a character split between two reads
            return []
        messages, position = [], 0
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            if position == len(text):
                break
            try:
                message, position = self._decoder.raw_decode(text, position)
            except json.JSONDecodeError:
                break
            messages.append(message)
        self._buffer = text[position:].encode()
        return messages
