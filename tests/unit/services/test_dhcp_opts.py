"""extra_dhcp_opts: neutron-lib's key specs, and Neutron's create/update semantics."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino import errors
from neutrino.services.dhcp_opts import options_for_create, options_for_update


def opt(name: str, value: Any, version: Any = None) -> dict[str, Any]:
    found = {"opt_name": name, "opt_value": value}
    return found if version is None else {**found, "ip_version": version}


def stored(name: str, value: str, version: int = 4) -> dict[str, Any]:
    return {"opt_name": name, "opt_value": value, "ip_version": version}


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        pytest.param(None, [], id="null-is-none"),
        pytest.param([], [], id="empty"),
        pytest.param([opt("mtu", "1400")], [stored("mtu", "1400")], id="ip-version-defaults-4"),
        pytest.param([opt("dns-server", "[2001:db8::1]", 6)],
                     [stored("dns-server", "[2001:db8::1]", 6)], id="ipv6"),
        pytest.param([opt("mtu", "1400", "6")], [stored("mtu", "1400", 6)],
                     id="ip-version-string-converted"),
        pytest.param([opt("mtu", "1400"), opt("mtu", "1300", 6)],
                     [stored("mtu", "1400"), stored("mtu", "1300", 6)],
                     id="same-name-other-version"),
        pytest.param([opt("router", ""), opt("classless-static-route", "")],
                     [stored("router", ""), stored("classless-static-route", "")],
                     id="router-and-routes-may-be-blank"),
        pytest.param([opt("mtu", None), opt("T1", "100")], [stored("T1", "100")],
                     id="null-value-not-stored"),
        pytest.param([opt("not-in-ovn", "x")], [stored("not-in-ovn", "x")],
                     id="unsupported-by-ovn-still-stored"),
        pytest.param([opt("n" * 64, "v" * 255)], [stored("n" * 64, "v" * 255)],
                     id="longest-name-and-value"),
        pytest.param([opt("dhcp_disabled", "true")], [stored("dhcp_disabled", "true")],
                     id="dhcp-disabled"),
    ],
)
def test_options_for_create(requested: Any, expected: list[dict[str, Any]]) -> None:
    assert options_for_create(requested) == expected


@pytest.mark.parametrize(
    ("requested", "message"),
    [
        pytest.param("mtu", "'mtu' is not a list", id="not-a-list"),
        pytest.param(["mtu"], "No valid key specs matched for: mtu", id="item-not-a-dict"),
        pytest.param([{"opt_name": "mtu"}], "No valid key specs matched", id="value-missing"),
        pytest.param([{"opt_value": "1"}], "No valid key specs matched", id="name-missing"),
        pytest.param([{**opt("mtu", "1"), "x": 1}], "No valid key specs matched",
                     id="unknown-key"),
        pytest.param([opt("n" * 65, "v")], "No valid key specs matched", id="name-too-long"),
        pytest.param([opt("mtu", "v" * 256)], "No valid key specs matched",
                     id="value-too-long"),
        pytest.param([opt("router", "v" * 256)], "No valid key specs matched",
                     id="blankable-value-too-long"),
        pytest.param([opt("", "1")], "No valid key specs matched", id="empty-name"),
        pytest.param([opt("  ", "1")], "No valid key specs matched", id="blank-name"),
        pytest.param([opt("mtu", "")], "No valid key specs matched", id="empty-value"),
        pytest.param([opt("mtu", " ")], "No valid key specs matched", id="blank-value"),
        pytest.param([opt("mtu", "1\n2")], "No valid key specs matched", id="multi-line-value"),
        pytest.param([opt("a\nb", "1")], "No valid key specs matched", id="multi-line-name"),
        pytest.param([opt(4, "1")], "No valid key specs matched", id="name-not-a-string"),
        pytest.param([opt("mtu", 1400)], "No valid key specs matched", id="value-not-a-string"),
        pytest.param([opt("mtu", "1", 5)], "No valid key specs matched", id="ip-version-5"),
        pytest.param([opt("mtu", "1", "four")], "'four' is not an integer",
                     id="ip-version-not-an-integer"),
        pytest.param([{**opt("mtu", "1"), "ip_version": None}], "'None' is not an integer",
                     id="ip-version-null"),
        pytest.param([opt("mtu", "1"), opt("mtu", "1")], "Duplicate items in the list",
                     id="identical-twice"),
        pytest.param([opt("mtu", "1"), opt("mtu", "2", 4)],
                     "Duplicate extra DHCP option 'mtu' for IP version 4",
                     id="same-name-and-version-differing-values"),
        pytest.param([opt("mtu", "1"), opt("mtu", None)], "Duplicate extra DHCP option",
                     id="set-and-delete-in-one-request"),
    ],
)
def test_invalid_options_are_refused(requested: Any, message: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        options_for_create(requested)
    assert message in caught.value.message
    assert caught.value.message.startswith("Invalid input for operation: ")
    with pytest.raises(errors.InvalidInput):
        options_for_update([stored("T1", "1")], requested)


STORED = [stored("mtu", "1400"), stored("T1", "100"), stored("dns-server", "[2001:db8::1]", 6)]


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        pytest.param([], STORED, id="empty-list-changes-nothing"),
        pytest.param(None, STORED, id="null-changes-nothing"),
        pytest.param([opt("mtu", "1300")],
                     [stored("mtu", "1300"), STORED[1], STORED[2]], id="value-replaced"),
        pytest.param([opt("mtu", None)], STORED[1:], id="null-value-removes"),
        pytest.param([opt("mtu", None, 6)], STORED, id="removing-other-version-is-a-no-op"),
        pytest.param([opt("unknown", None)], STORED, id="removing-absent-is-a-no-op"),
        pytest.param([opt("T2", "200")], [*STORED, stored("T2", "200")], id="new-appended"),
        pytest.param([opt("mtu", "9000", 6)], [*STORED, stored("mtu", "9000", 6)],
                     id="same-name-other-version-is-another-option"),
        pytest.param([opt("mtu", None), opt("T1", None), opt("dns-server", None, "6")], [],
                     id="remove-all"),
    ],
)
def test_options_for_update_merge(requested: Any, expected: list[dict[str, Any]]) -> None:
    assert options_for_update(STORED, requested) == expected


def test_update_gives_old_rows_their_ip_version() -> None:
    assert options_for_update([{"opt_name": "mtu", "opt_value": "1"}], []) == \
        [stored("mtu", "1")]


def test_update_never_changes_what_it_was_given() -> None:
    before = [dict(o) for o in STORED]
    options_for_update(STORED, [opt("mtu", None), opt("T2", "1")])
    assert before == STORED
