"""What OVSDB cannot store is found before a transaction carries it."""

from __future__ import annotations

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, RowKey
from neutrino.ovn.storable import state_problem, value_problem

KEY = RowKey("Logical_Switch", "name", "neutron-x")


@pytest.mark.parametrize(("value", "problem"), [
    ("plain", None),
    ("ünïcødé ✓", None),
    (42, None),
    (None, None),
    ("a\x00b", "NUL"),
    ("a\ud800b", "surrogate"),
    (["ok", "a\x00"], "NUL"),
    ({"k": "v", "x": "\udfff"}, "surrogate"),
    ({"bad\x00key": "v"}, "NUL"),
    ({"nested": ["fine", {"deep": "\x00"}]}, "NUL"),
])
def test_value_problem(value, problem):
    found = value_problem(value)
    assert (found is None) if problem is None else (problem in found)


def test_state_problem_names_the_row_and_column():
    state = DesiredState("network", "x", (DesiredRow(KEY, {"name": "neutron-x",
                                                           "other_config": {"a": "\x00"}}),),
                         (KEY,))
    problem = state_problem(state)
    assert problem is not None and "other_config" in problem and "neutron-x" in problem


def test_state_problem_checks_row_keys():
    key = RowKey("Logical_Switch_Port", "name", "p\x00")
    state = DesiredState("port", "p", (DesiredRow(key, {}),), (key,))
    assert "key" in state_problem(state)


def test_a_clean_state_has_no_problem():
    state = DesiredState("network", "x", (DesiredRow(KEY, {"external_ids": {"a": "b"}}),),
                         (KEY,))
    assert state_problem(state) is None


def test_a_clean_state_is_checked_without_walking_its_values(monkeypatch):
    """A batch's states are checked with one repr each (walking every value in Python was a
    third of the journal worker's CPU in a backlog drain); only a suspect one is walked."""
    from neutrino.ovn import storable

    walked = []
    monkeypatch.setattr(storable, "text_problem",
                        lambda text: walked.append(text) or None)
    columns = {"name": "neutron-x", "external_ids": {"a": "b", "c": "ünï ✓"},
               "addresses": ["fa:16:3e:00:00:01 10.0.0.2"], "enabled": True, "tag": 7}
    state = DesiredState("network", "x", (DesiredRow(KEY, columns),), (KEY,))
    assert state_problem(state) is None
    assert walked == []


@pytest.mark.parametrize("text", ["a\\x00b", "C:\\udb80\\x00", "back\\slash"])
def test_an_escape_written_out_as_text_is_storable(text):
    """Text that merely looks like the repr of an unstorable character is walked and found
    fine."""
    state = DesiredState("network", "x", (DesiredRow(KEY, {"name": text}),), (KEY,))
    assert state_problem(state) is None
