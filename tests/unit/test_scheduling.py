"""Gateway scheduling rules: candidate chassis, cms options, least-loaded and chance."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from neutrino import scheduling
from neutrino.scheduling import (
    OPT_IN,
    OPT_OUT,
    Chassis,
    by_priority,
    candidates,
    chance,
    choose,
    gateway_zones,
    least_loaded,
    parse_cms_options,
    zones,
)


def test_option_names() -> None:
    assert (OPT_IN, OPT_OUT) == ("enable-chassis-as-gw", "disable-chassis-as-gw")


@pytest.mark.parametrize(
    ("chassis", "expected"),
    [
        pytest.param([], [], id="none"),
        pytest.param([Chassis("c"), Chassis("a"), Chassis("b")], ["a", "b", "c"],
                     id="default-allow-sorted"),
        pytest.param([Chassis("a"), Chassis("b", (OPT_IN,)), Chassis("c")], ["b"],
                     id="opt-in-only-when-any-opts-in"),
        pytest.param([Chassis("c", (OPT_IN,)), Chassis("a", ("foo", OPT_IN)), Chassis("b")],
                     ["a", "c"], id="several-opt-in-sorted"),
        pytest.param([Chassis("a", (OPT_OUT,)), Chassis("b")], ["b"], id="opt-out-excluded"),
        pytest.param([Chassis("a", (OPT_OUT,)), Chassis("b", (OPT_OUT,))], [],
                     id="all-opted-out"),
        pytest.param([Chassis("a", (OPT_IN, OPT_OUT)), Chassis("b")], ["b"],
                     id="opt-out-wins-over-opt-in"),
        pytest.param([Chassis("a", (OPT_IN, OPT_OUT)), Chassis("b", (OPT_IN,)), Chassis("c")],
                     ["b"], id="opt-out-never-candidate-even-when-opted-in"),
        pytest.param([Chassis("a", ("availability-zones=az1",)), Chassis("b")], ["a", "b"],
                     id="other-options-do-not-matter"),
        pytest.param([Chassis("a", ("enable-chassis-as-gw=true",)), Chassis("b")], ["a", "b"],
                     id="opt-in-must-be-exact"),
    ],
)
def test_candidates(chassis: list[Chassis], expected: list[str]) -> None:
    assert candidates(chassis) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("enable-chassis-as-gw", ("enable-chassis-as-gw",)),
        ("enable-chassis-as-gw,availability-zones=az1:az2",
         ("enable-chassis-as-gw", "availability-zones=az1:az2")),
        (" enable-chassis-as-gw , disable-chassis-as-gw ",
         ("enable-chassis-as-gw", "disable-chassis-as-gw")),
        (",,enable-chassis-as-gw,", ("enable-chassis-as-gw",)),
        (" , ", ()),
    ],
)
def test_parse_cms_options(value: str | None, expected: tuple[str, ...]) -> None:
    assert parse_cms_options(value) == expected


def test_parsed_options_feed_candidates() -> None:
    chassis = [Chassis("gw1", parse_cms_options("enable-chassis-as-gw")),
               Chassis("hv1", parse_cms_options(None)),
               Chassis("gw2", parse_cms_options("availability-zones=az1, enable-chassis-as-gw"))]
    assert candidates(chassis) == ["gw1", "gw2"]


@pytest.mark.parametrize(
    ("names", "load", "expected"),
    [
        pytest.param([], {}, None, id="no-candidates"),
        pytest.param([], {"a": 0}, None, id="no-candidates-with-load"),
        pytest.param(["b", "a"], {}, "a", id="tie-broken-by-name"),
        pytest.param(["a", "b"], {"a": 2, "b": 1}, "b", id="fewest"),
        pytest.param(["a", "b", "c"], {"a": 1, "c": 1}, "b", id="missing-load-is-zero"),
        pytest.param(["c", "b"], {"a": 0, "b": 3, "c": 3}, "b",
                     id="load-of-non-candidates-ignored"),
    ],
)
def test_least_loaded(names: list[str], load: dict[str, int], expected: str | None) -> None:
    assert least_loaded(names, load) == expected


def test_least_loaded_balances_routers() -> None:
    load: dict[str, int] = {}
    picks = []
    for _ in range(30):
        name = least_loaded(["gw3", "gw1", "gw2"], load)
        assert name is not None
        picks.append(name)
        load[name] = load.get(name, 0) + 1
    assert load == {"gw1": 10, "gw2": 10, "gw3": 10}
    assert picks[:6] == ["gw1", "gw2", "gw3", "gw1", "gw2", "gw3"]


def test_least_loaded_fills_a_new_chassis_first() -> None:
    load = {"gw1": 10, "gw2": 10}
    picks = []
    for _ in range(12):
        name = least_loaded(["gw1", "gw2", "gw3"], load)
        assert name is not None
        picks.append(name)
        load[name] = load.get(name, 0) + 1
    assert picks == ["gw3"] * 10 + ["gw1", "gw2"]


def test_chance_picks_only_candidates_and_eventually_all() -> None:
    rng = random.Random(42)
    names = ["gw1", "gw2", "gw3"]
    picks = Counter(chance(names, rng) for _ in range(300))
    assert set(picks) == set(names)
    assert sum(picks.values()) == 300


def test_chance_is_reproducible_with_a_seed() -> None:
    names = ["gw1", "gw2", "gw3"]
    first = [chance(names, random.Random(7)) for _ in range(5)]
    rng_a, rng_b = random.Random(7), random.Random(7)
    assert [chance(names, rng_a) for _ in range(20)] == [chance(names, rng_b) for _ in range(20)]
    assert len(set(first)) == 1


def test_chance_accepts_any_sequence() -> None:
    assert chance(("only",), random.Random(0)) == "only"


def test_chance_without_candidates() -> None:
    assert chance([], random.Random(0)) is None


class _NoRandom(random.Random):
    """An rng that must not be consulted."""

    def choice(self, seq):  # type: ignore[no-untyped-def, override]
        raise AssertionError("least-loaded must not draw")


@pytest.mark.parametrize(
    ("kind", "names", "load", "expected"),
    [
        pytest.param("least-loaded", ["a", "b"], {"a": 1}, "b", id="least-loaded"),
        pytest.param("least-loaded", [], {}, None, id="least-loaded-empty"),
        pytest.param("least-loaded", ["b", "a"], {}, "a", id="least-loaded-tie"),
    ],
)
def test_choose_least_loaded(kind: str, names: list[str], load: dict[str, int],
                             expected: str | None) -> None:
    assert choose(kind, names, load, _NoRandom()) == expected


def test_choose_chance_uses_the_rng() -> None:
    names = ["a", "b", "c"]
    load = {"a": 0, "b": 100, "c": 100}
    picks = {choose("chance", names, load, random.Random(seed)) for seed in range(50)}
    assert picks == {"a", "b", "c"}  # load is ignored
    expected = random.Random(3).choice(names)
    assert choose("chance", names, load, random.Random(3)) == expected


def test_choose_chance_without_candidates() -> None:
    assert choose("chance", [], {}, random.Random(0)) is None


def _gw(name: str, zones_option: str = "") -> Chassis:
    return Chassis(name, (OPT_IN, zones_option) if zones_option else (OPT_IN,))


@pytest.mark.parametrize(
    ("hints", "expected"),
    [
        pytest.param([], ["a", "b", "c", "d"], id="no-hints-all-gateways"),
        pytest.param(["az1"], ["a", "c"], id="one-zone"),
        pytest.param(["az2"], ["b", "c"], id="chassis-in-several-zones"),
        pytest.param(["az1", "az2"], ["a", "b", "c"], id="any-hinted-zone"),
        pytest.param(["az9"], [], id="no-chassis-in-zone-no-fallback"),
    ],
)
def test_candidates_in_hinted_zones(hints: list[str], expected: list[str]) -> None:
    chassis = [_gw("a", "availability-zones=az1"), _gw("b", "availability-zones=az2"),
               _gw("c", "availability-zones=az1:az2"), _gw("d"),
               Chassis("e", ("availability-zones=az1",))]  # not a gateway: never a candidate
    assert candidates(chassis, hints) == expected


def test_hinted_zones_apply_to_default_allowed_chassis() -> None:
    chassis = [Chassis("a", ("availability-zones=az1",)), Chassis("b"),
               Chassis("c", (OPT_OUT, "availability-zones=az1"))]
    assert candidates(chassis, ["az1"]) == ["a"]


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        pytest.param("availability-zones=az1", ["az1"], id="one"),
        pytest.param("availability-zones=az2: az1:az2:", ["az1", "az2"],
                     id="sorted-unique-blank-dropped"),
        pytest.param("availability-zones=", [], id="empty"),
        pytest.param("availability-zone=az1", [], id="other-option"),
    ],
)
def test_zones(option: str, expected: list[str]) -> None:
    assert zones(parse_cms_options(f"{OPT_IN},{option}")) == expected


def test_gateway_zones_are_those_of_opted_in_chassis() -> None:
    chassis = [_gw("a", "availability-zones=az1:az2"), _gw("b", "availability-zones=az3"),
               Chassis("c", ("availability-zones=az4",))]
    assert gateway_zones(chassis) == {"az1", "az2", "az3"}


@pytest.mark.parametrize(
    ("current", "first", "names", "load", "expected"),
    [
        pytest.param((), "gw2", ("gw1", "gw2", "gw3"), {"gw1": 2, "gw3": 1},
                     ["gw2", "gw3", "gw1"], id="new-choice-first-then-least-loaded"),
        pytest.param(("gw1", "gw2", "gw3"), None, ("gw2", "gw3"), {},
                     ["gw2", "gw3"], id="a-chassis-leaving-moves-the-others-up"),
        pytest.param(("gw3", "gw1"), None, ("gw1", "gw2", "gw3"), {"gw2": 0},
                     ["gw3", "gw1", "gw2"], id="a-new-candidate-joins-last"),
        pytest.param((), "c1", tuple(f"c{i}" for i in range(1, 9)), {},
                     ["c1", "c2", "c3", "c4", "c5"], id="at-most-five"),
        pytest.param(("gw1",), None, (), {}, [], id="no-candidate-empty"),
        pytest.param(("gw2", "gw1"), "gw1", ("gw1", "gw2"), {},
                     ["gw1", "gw2"], id="a-choice-goes-first"),
    ],
)
def test_by_priority(current: tuple[str, ...], first: str | None, names: tuple[str, ...],
                     load: dict[str, int], expected: list[str]) -> None:
    assert by_priority(current, first, names, load) == expected


def test_answering_keeps_candidates_whose_controller_answers() -> None:
    assert scheduling.answering(["gw1", "gw2", "gw3"], {"gw2"}) == ["gw1", "gw3"]


def test_answering_keeps_every_candidate_when_none_answers() -> None:
    """Moving a gateway from one silent chassis to another helps nothing."""
    assert scheduling.answering(["gw1", "gw2"], {"gw1", "gw2", "gw9"}) == ["gw1", "gw2"]


def test_count_move_keeps_the_load_true() -> None:
    load = {"gw1": 2, "gw2": 1}
    scheduling.count_move(load, "gw1", "gw3")
    scheduling.count_move(load, None, "gw2")  # an unscheduled gateway bound
    scheduling.count_move(load, "gw2", None)  # no candidate left
    assert load == {"gw1": 1, "gw2": 1, "gw3": 1}
