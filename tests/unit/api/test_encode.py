"""Answers written by orjson are the bytes Starlette's JSONResponse (json.dumps) writes."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import random
import struct
from typing import Any

import pytest
from starlette.responses import JSONResponse

from neutrino import errors
from neutrino.api import encode, payload
from neutrino.api.encode import JsonAnswer, json_bytes


def starlette(content: Any) -> bytes:
    return JSONResponse(content).body


class Text(str):
    pass


class Number(int):
    pass


class Colour(enum.IntEnum):
    RED = 1


@dataclasses.dataclass
class Point:
    x: int


PLAIN = [
    {"ports": [{"id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "name": "é ß ✓ 😀", "n": 3,
                "up": True, "none": None, "tags": [], "profile": {}}]},
    {"text": "\x00\x01\x1f\x7f\u2028\u2029\"\\/\t\n\r\b\f"},
    {"ints": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1]},
    {"floats": [0.0, -0.0, 1.0, 0.5, 0.0001, 12345.678, 1e15, 1e16, 1.5e300, -2.5e22]},
    {"nested": [[[{"a": [{"b": {}}]}]]], "tuple": (1, "x")},
    [], {}, "text", 7, None, True, {"enum": Colour.RED},
]
# orjson writes these otherwise (or refuses them): the answer falls back to json.dumps.
OTHERWISE = [
    {"small": 1e-07}, {"small": [1, -1e-05]}, {"small": {"x": 5.5e-05}}, 1e-10, [2.2e-308],
    {"big": 2**64}, {"big": -(2**63) - 1}, {1: "int key"}, {None: "null key"},
    {"sub": Text("subclass")}, {"sub": Number(5)},
]


@pytest.mark.parametrize("content", PLAIN + OTHERWISE, ids=repr)
def test_the_bytes_are_json_dumps_bytes(content: Any):
    assert json_bytes(content) == starlette(content)
    assert JsonAnswer(content).body == starlette(content)


@pytest.mark.parametrize("content", PLAIN, ids=repr)
def test_plain_answers_are_written_without_json_dumps(content: Any, monkeypatch):
    monkeypatch.setattr(encode, "_stdlib", pytest.fail)
    assert json_bytes(content) == starlette(content)


@pytest.mark.parametrize("content", OTHERWISE, ids=repr)
def test_what_orjson_writes_otherwise_is_written_by_json_dumps(content: Any, monkeypatch):
    written = []
    monkeypatch.setattr(encode, "_stdlib", lambda c: written.append(c) or starlette(c))
    json_bytes(content)
    assert written == [content]


def test_random_floats_in_every_position_are_written_alike():
    """Every exponent and random bit patterns, as a value, in a list and alone."""
    rnd = random.Random(15)
    floats = [m * 10.0**e for e in range(-320, 300) for m in (1.0, -1.5, 9.999999, 4.9)]
    for _ in range(20_000):
        value = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
        if value == value and abs(value) != float("inf"):
            floats.append(value)
    for value in floats:
        for content in ({"v": value}, [value, 1], [1, value], value):
            assert json_bytes(content) == starlette(content), value


@pytest.mark.parametrize("content", [
    {"date": datetime.date(2026, 12, 2)}, {"point": Point(1)}, {"set": {1}}, {"bytes": b"x"},
    {"text": "\ud800"},
], ids=repr)
def test_what_json_dumps_refuses_is_refused(content: Any):
    with pytest.raises((TypeError, ValueError)):
        starlette(content)
    with pytest.raises((TypeError, ValueError)):
        json_bytes(content)


def test_a_string_that_looks_like_a_small_float_costs_only_speed():
    content = {"name": "x,1e-7,", "other": "0.00001"}
    assert json_bytes(content) == starlette(content)
    assert json.loads(json_bytes(content)) == content


def test_nan_and_infinity_are_the_one_difference_and_reach_no_answer():
    """orjson writes them as null where json.dumps refuses them; request bodies refuse them
    (`payload.parse_json`), so no stored value holds one, and nothing computes a float."""
    assert json_bytes({"nan": float("nan"), "inf": float("-inf")}) == b'{"nan":null,"inf":null}'
    with pytest.raises(errors.BadRequest):
        payload.parse_json(b'{"port": {"binding:profile": {"x": NaN}}}')
    with pytest.raises(errors.BadRequest):
        payload.parse_json(b'{"port": {"binding:profile": {"x": 1e400}}}')
