"""The request border without I/O: JSON depth, storable values, previews, and the settings
that bound a request."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.api import converters as c
from neutrino.api.payload import check_depth, check_url, parse_json
from neutrino.api.text import preview, shorten
from neutrino.settings import ApiSettings, SettingsError, load_settings


@pytest.mark.parametrize("raw", [
    b"[" * 32 + b"]" * 32,
    b'{"a": "' + b"[" * 100 + b'"}',  # brackets inside strings do not count
    b'["\\"' + b"[" * 40 + b'"]',  # nor after an escaped quote
    b'{"a": [' * 16 + b"1" + b"]}" * 16,
])
def test_nesting_up_to_32_levels_passes(raw):
    check_depth(raw)


@pytest.mark.parametrize("raw", [
    b"[" * 33 + b"]" * 33,
    b"[" * 1_000_000,  # no closing brackets at all
    b"[[]" * 40 + b"]" * 40,  # depth without any long run of openers
    b'{"a": ' * 33 + b"1" + b"}" * 33,
])
def test_nesting_deeper_than_32_levels_is_refused(raw):
    with pytest.raises(errors.BadRequest, match="deeper than 32"):
        check_depth(raw)


@pytest.mark.parametrize("raw", [
    b'{"a\\u0000": 1}', b'{"a": ["\\ud800"]}', b'{"a": {"b": "x\\udfffy"}}', b'"\\u0000"',
    b'{"a": NaN}', b'{"a": -Infinity}', b'{"a": 1e999}', b'{"a": 9223372036854775808}',
    b'{"a": ' + b"1" * 5000 + b"}", b"\xff\xfe{}", b"{not json",
])
def test_unstorable_or_malformed_json_is_refused(raw):
    with pytest.raises(errors.BadRequest):
        parse_json(raw)


def test_storable_json_parses():
    raw = '{"a": ["\\ud83d\\ude00", -9223372036854775808, 1.5, null, "é"]}'.encode()
    assert parse_json(raw) == {"a": ["\U0001f600", -(2**63), 1.5, None, "é"]}
    assert parse_json(b"  ") is None


@pytest.mark.parametrize(("path", "query"), [
    ("/v2.0/networks/a\x00", []), ("/v2.0/networks", [("name", "\x00")]),
    ("/v2.0/networks", [("\ud800", "x")]),
])
def test_urls_with_unstorable_text_are_refused(path, query):
    with pytest.raises(errors.BadRequest, match="NUL"):
        check_url(path, query)


def test_previews_are_short_and_encodable():
    assert preview("abc") == "abc"
    assert preview("x" * 10_000) == "x" * 64 + "..."
    assert preview("a\x00b\ud800") == "a\\u0000b\\ud800"
    assert len(preview([["y" * 10_000]] * 10_000)) < 200
    assert len(preview(10**5000)) < 200
    assert shorten("m" * 5000, 100) == "m" * 97 + "..."
    shorten("\ud800", 10).encode()


@pytest.mark.parametrize(("value", "expected"), [
    (5, 5), ("5", 5), (" -7 ", -7), (2**31 - 1, 2**31 - 1), (-(2**31), -(2**31)),
])
def test_to_int_accepts_what_an_integer_column_holds(value, expected):
    assert c.to_int(value) == expected


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, "9" * 5000, "\uff15", True, 1.5, "1e3"])
def test_to_int_refuses_the_rest_briefly(value):
    with pytest.raises(ValueError) as raised:
        c.to_int(value)
    assert len(str(raised.value)) < 150


def test_converter_messages_echo_a_preview():
    with pytest.raises(ValueError) as raised:
        c.string()("s" * 100_000)
    assert len(str(raised.value)) < 150


def test_api_limits_from_the_environment():
    assert load_settings({}).api == ApiSettings(max_body_bytes=1024 * 1024, max_bulk=1000)
    env = {"NEUTRINO_API_MAX_BODY_BYTES": "4096", "NEUTRINO_API_MAX_BULK": "5"}
    assert load_settings(env).api == ApiSettings(max_body_bytes=4096, max_bulk=5)
    for key in ("NEUTRINO_API_MAX_BODY_BYTES", "NEUTRINO_API_MAX_BULK"):
        for bad in ("0", "-1", "lots"):
            with pytest.raises(SettingsError, match=key):
                load_settings({key: bad})
