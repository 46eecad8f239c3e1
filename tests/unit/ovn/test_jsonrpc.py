"""Reading OVSDB's JSON-RPC messages with the standard library's decoder (ovn.jsonrpc)."""

from __future__ import annotations

import errno
import json
from collections.abc import Iterable

import pytest
from ovs import jsonrpc

from neutrino.ovn import jsonrpc as fast

EAGAIN = (errno.EAGAIN, b"")


class FakeStream:
    """What a connection reads: (error, bytes) per `recv`, then EAGAIN for ever."""

    name = "fake"

    def __init__(self, reads: Iterable[tuple[int, bytes]]) -> None:
        self.reads = list(reads)
        self.closed = False

    def recv(self, n: int) -> tuple[int, bytes]:
        if not self.reads:
            return EAGAIN
        error, data = self.reads.pop(0)
        assert len(data) <= n
        return error, data

    def close(self) -> None:
        self.closed = True


def connection(*reads: tuple[int, bytes]) -> fast.FastConnection:
    rpc = jsonrpc.Connection(FakeStream(reads))
    fast.FastConnection.adopt(rpc)
    assert isinstance(rpc, fast.FastConnection)
    return rpc


def data(*pieces: bytes) -> list[tuple[int, bytes]]:
    return [(0, p) for p in pieces]


def message(i: int, payload: object = None) -> bytes:
    return json.dumps({"method": "update", "params": [i, payload], "id": None},
                      ensure_ascii=False).encode()


def received(rpc: fast.FastConnection) -> list[object]:
    """Every message recv gives until it says EAGAIN: their params."""
    found = []
    while True:
        error, msg = rpc.recv()
        if error:
            assert error == errno.EAGAIN
            return found
        assert msg is not None
        found.append(msg.params)


def test_a_message_in_pieces_is_given_once_whole() -> None:
    text = message(1, {"rows": {"a": {"b": [1, 2, {"c": "}"}]}}})
    pieces = [text[i:i + 7] for i in range(0, len(text), 7)]
    rpc = connection(*data(*pieces[:-1]))
    assert received(rpc) == []
    rpc.stream.reads = data(pieces[-1])
    assert received(rpc) == [[1, {"rows": {"a": {"b": [1, 2, {"c": "}"}]}}}]]


def test_two_messages_in_one_read_are_both_given_and_the_caller_woken() -> None:
    rpc = connection(*data(message(1) + b" \n" + message(2)))
    error, first = rpc.recv()
    assert (error, first.params if first else None) == (0, [1, None])
    # python-ovs's recv_wait wakes its caller at once while `input` holds something
    assert rpc.input
    assert received(rpc) == [[2, None]]
    assert not rpc.input


def test_a_message_ending_inside_a_read_is_given_with_the_next_that_ends_one() -> None:
    second = message(2)
    rpc = connection(*data(message(1) + second[:5], second[5:]))
    assert received(rpc) == [[1, None], [2, None]]


def test_a_read_ending_with_a_brace_inside_a_string_or_object_is_no_error() -> None:
    text = message(1, {"x": "a}b", "y": {"z": 1}})
    cut_in_string = text.index(b"a}") + 2
    cut_after_object = text.index(b"1}") + 2
    for cut in (cut_in_string, cut_after_object):
        rpc = connection(*data(text[:cut]))
        assert received(rpc) == []
        assert rpc.status == 0
        rpc.stream.reads = data(text[cut:])
        assert received(rpc) == [[1, {"x": "a}b", "y": {"z": 1}}]]


def test_a_character_split_between_reads_is_decoded() -> None:
    text = message(1, "é€")
    cut = text.index("€".encode()) + 1
    rpc = connection(*data(text[:cut], text[cut:]))
    assert received(rpc) == [[1, "é€"]]


def test_text_that_is_not_json_is_a_protocol_error() -> None:
    rpc = connection(*data(b'{"method": "update", "params": [1,, 2], "id": null}'))
    assert rpc.recv() == (errno.EPROTO, None)
    assert rpc.stream.closed


def test_json_that_is_not_a_message_is_a_protocol_error() -> None:
    rpc = connection(*data(b'{"neither": "request nor reply"}'))
    assert rpc.recv() == (errno.EPROTO, None)


def test_end_of_stream_and_read_errors_are_reported() -> None:
    assert connection((0, b"")).recv() == (jsonrpc.EOF, None)
    assert connection((errno.ECONNRESET, b"")).recv() == (errno.ECONNRESET, None)


def test_a_long_message_is_decoded_a_few_times_not_once_a_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read ending with a brace (an inner object's end) made an attempt: a message
    of N reads would be decoded N times, quadratic in its size."""
    rows = {f"row{i}": {"n": i} for i in range(4000)}
    text = message(1, rows)
    cuts = [i + 1 for i in range(len(text)) if text[i:i + 1] == b"}"][::40] + [len(text)]
    pieces = [text[a:b] for a, b in zip([0, *cuts], cuts, strict=False) if b > a]
    attempts = []
    real = fast.FastConnection._decode

    def counted(self: fast.FastConnection) -> object:
        attempts.append(self._size)
        return real(self)

    monkeypatch.setattr(fast.FastConnection, "_decode", counted)
    rpc = connection(*data(*pieces))
    assert received(rpc) == [[1, rows]]
    assert len(pieces) > 90
    assert len(attempts) <= 12


def test_an_idl_reads_with_the_fast_connection_once_connected() -> None:
    session = jsonrpc.Session.open("unix:/nonexistent")

    class Idl:
        _session = session

    fast.use_fast_json(Idl)
    assert isinstance(session, fast.FastSession)
