"""Free MACs under a crowded prefix: found whenever one exists, never a taken one."""

from __future__ import annotations

import random

import pytest

from neutrino.ipam.arithmetic import free_macs

PREFIX = "fa:16:3e:00:00"  # 256 MACs
ALL = [f"fa:16:3e:00:00:{i:02x}" for i in range(256)]


@pytest.mark.parametrize("seed", range(5))
def test_the_last_free_mac_is_found(seed: int) -> None:
    taken = [mac for mac in ALL if mac != "fa:16:3e:00:00:9c"]
    assert free_macs(PREFIX, taken, 16, random.Random(seed)) == ["fa:16:3e:00:00:9c"]


def test_none_when_every_mac_is_taken() -> None:
    assert free_macs(PREFIX, ALL, 16, random.Random(0)) == []


@pytest.mark.parametrize("seed", range(5))
def test_free_ones_only_and_distinct(seed: int) -> None:
    taken = set(random.Random(seed).sample(ALL, 200))
    found = free_macs(PREFIX, taken, 16, random.Random(seed))
    assert len(found) == 16 == len(set(found))
    assert not set(found) & taken and set(found) <= set(ALL)


def test_the_all_zero_mac_is_never_given() -> None:
    found = free_macs("00:00:00:00:00", [], 300, random.Random(1))
    assert sorted(found) == [f"00:00:00:00:00:{i:02x}" for i in range(1, 256)]


def test_a_wide_prefix_costs_only_the_taken_and_wanted() -> None:
    found = free_macs("fa:16:3e", ["fa:16:3e:00:00:01"], 3, random.Random(2))
    assert len(found) == 3 and all(mac.startswith("fa:16:3e:") for mac in found)
