"""OVSDB's JSON-RPC messages read with the standard library's JSON decoder.

python-ovs reads every message with `ovs.json.Parser`, a character-by-character parser in
pure Python unless the package was built with its C extension (`ovs._json`), which the
`ovs` package from PyPI is not. Decoding an update of 200 switch ports (230 kB) took it
134 ms, the standard library's `json` 1.8 ms: reading back its own transaction's rows was
the largest part of a journal batch's time, on the IDL's thread, ahead of the next batch.

`FastSession` is python-ovs's session whose connections read messages this way; an IDL
gets it with `use_fast_json(idl)`. Everything else (sending, reconnecting, echo, errors)
stays python-ovs's.

A message ends with its closing brace, and ovsdb-server writes each message whole, so the
text received is decoded when it ends with one: a message that ends inside a read is
decoded once a later read ends so (at the latest with the message after it), never a
character at a time. A read that ends with a brace inside a message is a wasted attempt
(found truncated at its end); a failed attempt is made again only once the text has
doubled or nothing more comes for now, so a long message costs a few decodes, not one a
read. Text that cannot be JSON elsewhere is a protocol error, as python-ovs's parser says.
"""

from __future__ import annotations

import codecs
import errno
import json
import logging
import os
from typing import Any

from ovs import jsonrpc

LOG = logging.getLogger(__name__)
READ_SIZE = 65536  # bytes a read asks for (python-ovs asks 4096)
_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"
_ENDINGS = ("}", "]")


class FastConnection(jsonrpc.Connection):
    """A JSON-RPC connection decoding whole messages with the standard library."""

    # set by `adopt` on a connection python-ovs made
    _chunks: list[str]  # text received and not yet decoded
    _size: int  # its length
    _failed_at: int  # its length when an attempt last found it truncated (0: none since)
    _may_end: bool  # it ends with a closing brace or bracket
    _utf8: Any

    @classmethod
    def adopt(cls, rpc: jsonrpc.Connection) -> None:
        """Make a new connection of python-ovs's (nothing received yet) one of these."""
        rpc.__class__ = cls
        assert isinstance(rpc, FastConnection)
        rpc._chunks, rpc._size, rpc._failed_at, rpc._may_end = [], 0, 0, False
        rpc._utf8 = codecs.getincrementaldecoder("utf-8")()
        if rpc.input:
            rpc._received(rpc.input)
            rpc.input = ""

    def recv(self) -> tuple[int, jsonrpc.Message | None]:
        if self.status:
            return self.status, None
        self.input = ""  # set again only while a whole message may be waiting
        while True:
            # A failed attempt is tried again once the text has doubled (a long message
            # read in pieces is decoded a few times, not once a piece) or when no more
            # comes for now (the sender may have finished).
            if self._may_end and self._size >= 2 * self._failed_at:
                found = self._decode()
                if found is not None:
                    return found
            error, data = self.stream.recv(READ_SIZE)
            if error == errno.EAGAIN:
                if self._may_end and self._failed_at != self._size:
                    found = self._decode()
                    if found is not None:
                        return found
                return error, None
            if error:
                LOG.warning("%s: receive error: %s", self.name, os.strerror(error))
                self.error(error)
                return self.status, None
            if not data:
                self.error(jsonrpc.EOF)
                return jsonrpc.EOF, None
            try:
                text = self._utf8.decode(data)
            except UnicodeError:
                self.error(errno.EILSEQ)
                return self.status, None
            self.received_bytes += len(data)
            self._received(text)

    def _received(self, text: str) -> None:
        if text:
            self._chunks.append(text)
            self._size += len(text)
            self._may_end = text.rstrip(_WHITESPACE).endswith(_ENDINGS)

    def _decode(self) -> tuple[int, jsonrpc.Message | None] | None:
        """The first message of the text received, if it is whole; None to read on."""
        text = "".join(self._chunks)
        self._chunks = [text]
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            if _truncated(exc, text):
                self._failed_at = self._size
                return None
            LOG.warning("%s: error parsing stream: %s", self.name, exc)
            self.error(errno.EPROTO)
            return self.status, None
        rest = text[end:]
        self._chunks, self._size, self._failed_at = [rest], len(rest), 0
        self._may_end = rest.rstrip(_WHITESPACE).endswith(_ENDINGS)
        if self._may_end:  # python-ovs's wait wakes its caller at once while input waits
            self.input = rest
        msg = jsonrpc.Message.from_json(value)
        if not isinstance(msg, jsonrpc.Message):
            LOG.warning("%s: received bad JSON-RPC message: %s", self.name, msg)
            self.error(errno.EPROTO)
            return self.status, None
        return 0, msg


def _truncated(exc: json.JSONDecodeError, text: str) -> bool:
    """Whether decoding failed only because the text stops before the value ends."""
    return exc.pos >= len(text) - 1 or exc.msg.startswith("Unterminated string")


class FastSession(jsonrpc.Session):
    """python-ovs's session, each connection of which is a `FastConnection`."""

    def run(self) -> None:
        super().run()
        rpc = self.rpc
        # python-ovs makes a connection only here, and reads from it only after this returns
        if rpc is not None and not isinstance(rpc, FastConnection):
            FastConnection.adopt(rpc)


def use_fast_json(idl: Any) -> None:
    """Make an IDL (before it first runs) read its messages with the standard library."""
    session = idl._session
    if type(session) is jsonrpc.Session:
        session.__class__ = FastSession
