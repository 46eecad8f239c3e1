"""OVSDB JSON-RPC stream splitting (pure)."""

from neutrino.ovn.json_stream import JsonStream


def test_messages_back_to_back_come_out_in_order() -> None:
    stream = JsonStream()
    assert stream.feed(b'{"id": 1, "result": []} {"id": 2}\n{"method": "echo"}') == [
        {"id": 1, "result": []}, {"id": 2}, {"method": "echo"}]


def test_a_message_split_between_reads_waits_for_its_end() -> None:
    stream = JsonStream()
    assert stream.feed(b'{"id": 1, "res') == []
    assert stream.feed(b'ult": [1]} {"id"') == [{"id": 1, "result": [1]}]
    assert stream.feed(b': 2}') == [{"id": 2}]


def test_a_character_split_between_reads_is_joined() -> None:
    encoded = '{"name": "caf\u00e9"}'.encode()
    cut = encoded.index(b"\xc3") + 1  # inside the two bytes of the accented letter
    stream = JsonStream()
    assert stream.feed(encoded[:cut]) == []
    assert stream.feed(encoded[cut:]) == [{"name": "caf\u00e9"}]
