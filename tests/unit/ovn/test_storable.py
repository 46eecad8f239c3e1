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
