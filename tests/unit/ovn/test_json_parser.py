"""python-ovs's C JSON parser: loaded for neutrino's `ovs`, and reading what the Python one
reads, value for value."""

from __future__ import annotations

import importlib.machinery
import json

import ovs.json
import pytest

from neutrino.ovn import client, json_parser

# what OVSDB sends: sets, maps, uuids, named-uuids, numbers of every kind, escapes
MESSAGES = [
    json.dumps({"id": None, "method": "update2", "params": ["monid", {
        "Logical_Switch_Port": {
            "0f6e9d8a-41a3-4c1f-9b0e-2b7d0c6f1a11": {"insert": {
                "name": "c3e0f1d2-port", "addresses": ["set", ["fa:16:3e:12:34:56 10.0.0.5"]],
                "external_ids": ["map", [["neutron:device_owner", "compute:nova"],
                                         ["neutron:port_name", "é中 \"quoted\" \\ / \n\t"]]],
                "tag_request": ["set", []], "up": False, "enabled": True,
                "options": ["map", []]}},
            "5b1c7c39-0000-4000-8000-000000000001": {"modify": {
                "up": True, "ha_chassis_group": ["uuid", "9a8b7c6d-0000-4000-8000-00000000000a"]}},
            "5b1c7c39-0000-4000-8000-000000000002": {"delete": None}}}]}),
    '{"result":[{"uuid":["uuid","1d3a8f2e-5c4b-4a39-8e27-6f5d4c3b2a19"]},{"count":1},{}],'
    '"error":null,"id":7}',
    '[0, -1, 9223372036854775807, -9223372036854775808, 1.5, -2.25e-3, 1E+2, 0.0]',
    '{"surrogates": "\\ud83d\\ude00", "escaped": "\\u0041\\u00e9\\u4e2d\\b\\f\\r"}',
    '{"empty": {}, "nested": [[[]], {"a": {"b": [null, true, false]}}]}',
]
BROKEN = ['[1,', '{"a" 1}', '{"a": tru}', '"unterminated', '[1] 2', '{"a": 01}', '']


def _parse(text: str, parser: str, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        patch.setattr(ovs.json, "PARSER", parser)
        p = ovs.json.Parser(check_trailer=True)
        p.feed(text)
        return p.finish()


def test_the_c_parser_is_in_use_where_debian_ships_it() -> None:
    # dev.sh installs python3-openvswitch, built for Debian 12's Python 3.11
    assert client.JSON_PARSER == "C"
    assert json_parser.use_c_parser() == "C"
    assert type(ovs.json.Parser()).__module__ == "ovs._json"


@pytest.mark.parametrize("text", MESSAGES)
def test_both_parsers_read_the_same_values(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    in_c = _parse(text, ovs.json.PARSER_C, monkeypatch)
    in_python = _parse(text, ovs.json.PARSER_PY, monkeypatch)
    assert in_c == in_python == json.loads(text)
    assert type(in_c) is type(in_python)


def test_a_message_fed_in_pieces_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    text = MESSAGES[0]
    p = ovs.json.Parser()
    for start in range(0, len(text), 7):  # as a socket hands it over
        p.feed(text[start:start + 7])
    assert p.is_done()
    assert p.finish() == json.loads(text)


@pytest.mark.parametrize("text", BROKEN)
def test_broken_text_is_an_error_message_from_both(text: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # python-ovs's convention: finish() gives a str, never raises, for text that is not JSON
    assert isinstance(_parse(text, ovs.json.PARSER_C, monkeypatch), str)
    assert isinstance(_parse(text, ovs.json.PARSER_PY, monkeypatch), str)


def test_no_extension_for_this_interpreter_loads_nothing(tmp_path) -> None:
    assert json_parser._load_extension([str(tmp_path)]) is None
    # a file of the right name that is not a loadable extension
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    (tmp_path / f"_json{suffix}").write_bytes(b"not an ELF object")
    assert json_parser._load_extension([str(tmp_path)]) is None
