"""The OVSDB schema a connection starts from, read with the standard library's JSON parser
(`neutrino.ovn.schema_fetch`), against real ovsdb-servers."""

from __future__ import annotations

import json

import pytest
from ovsdbapp.backend.ovs_idl import idlutils

from neutrino import errors
from neutrino.ovn import schema_fetch
from neutrino.ovn.client import NorthboundClient, SouthboundClient
from neutrino.ovn.local import LocalOvn


@pytest.mark.parametrize(("which", "schema"), [("nb", "OVN_Northbound"),
                                               ("sb", "OVN_Southbound")])
def test_the_schema_is_the_one_python_ovs_reads(local_ovn: LocalOvn, which: str, schema: str):
    remote = getattr(local_ovn, which)
    helper = schema_fetch.schema_helper(remote, schema, timeout=5)
    assert helper.schema_json == idlutils.fetch_schema_json(remote, schema)


def test_a_member_that_does_not_answer_is_passed_over(local_ovn: LocalOvn, tmp_path):
    remote = f"unix:{tmp_path / 'gone.sock'},tcp:127.0.0.1:1,{local_ovn.nb}"
    assert schema_fetch.schema_helper(remote, "OVN_Northbound", 5).schema_json["name"] == \
        "OVN_Northbound"


def test_no_member_answering_is_said_per_member(tmp_path):
    remote = f"unix:{tmp_path / 'gone.sock'},tcp:127.0.0.1:1"
    with pytest.raises(OSError, match=r"gone\.sock.*127\.0\.0\.1:1"):
        schema_fetch.schema_helper(remote, "OVN_Northbound", 5)
    client = NorthboundClient(remote, timeout=1)
    with pytest.raises(errors.BackendUnavailable, match="could not retrieve schema"):
        client.connect()


def test_an_unknown_database_is_the_servers_answer(local_ovn: LocalOvn):
    with pytest.raises(OSError, match="unknown database"):
        schema_fetch.schema_helper(local_ovn.nb, "No_Such_Database", 5)


def test_connecting_reads_no_schema_through_python_ovs(local_ovn: LocalOvn, monkeypatch):
    """python-ovs's pure-Python JSON parser took 15-18 ms of a connection's start-up CPU."""
    def refused(*_args: object) -> None:
        raise AssertionError("the schema was read through python-ovs")

    monkeypatch.setattr(idlutils, "fetch_schema_json", refused)
    for client in (NorthboundClient(local_ovn.nb, timeout=5),
                   SouthboundClient(local_ovn.sb, timeout=5)):
        client.connect()
        try:
            assert client.connected
        finally:
            client.close()


def test_an_ssl_member_is_read_by_python_ovs(monkeypatch):
    asked = []
    monkeypatch.setattr(idlutils, "get_schema_helper",
                        lambda remote, schema: asked.append((remote, schema)) or "helper")
    assert schema_fetch.schema_helper("tcp:10.0.0.1:6641,ssl:10.0.0.2:6641",
                                      "OVN_Northbound", 5) == "helper"
    assert asked == [("tcp:10.0.0.1:6641,ssl:10.0.0.2:6641", "OVN_Northbound")]


def test_messages_are_read_whole_and_in_order():
    first = json.dumps({"id": "echo", "method": "echo", "params": []})
    second = json.dumps({"id": 7, "result": {"name": "ü"}, "error": None}, ensure_ascii=False)
    both = f"{first}\n {second}".encode()
    assert schema_fetch._messages(both) == [json.loads(first), json.loads(second)]
    assert schema_fetch._messages(both[:-3]) == [json.loads(first)]  # the rest on its way
    assert schema_fetch._messages(both[:both.index(b"\xc3") + 1]) == [json.loads(first)]
