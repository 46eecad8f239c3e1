"""Choosing a geneve VNI: the lowest free values of a range, as a pure function."""

from __future__ import annotations

import pytest

from neutrino.services.segments import lowest_free


@pytest.mark.parametrize(
    ("low", "high", "used", "count", "expected"),
    [
        pytest.param(1, 10, [], 4, [1, 2, 3, 4], id="empty"),
        pytest.param(1, 10, [1, 2, 3], 4, [4, 5, 6, 7], id="after-a-full-prefix"),
        pytest.param(1, 10, [2, 4, 6, 8], 20, [1, 3, 5, 7, 9, 10], id="gaps-up-to-high"),
        pytest.param(1, 3, [1, 2, 3], 5, [], id="exhausted"),
        pytest.param(5, 9, [1, 5, 7, 7, 12], 10, [6, 8, 9], id="outside-and-repeated-ignored"),
        pytest.param(1, 5, [None, 3], 2, [1, 2], id="null-ignored"),
        pytest.param(1, 3, [1, 3], 1, [2], id="single-hole"),
        pytest.param(7, 7, [], 3, [7], id="one-value-range"),
        pytest.param(1, 2**24 - 1, range(1, 100_001), 2, [100_001, 100_002], id="large"),
    ],
)
def test_lowest_free(low: int, high: int, used: list[int | None], count: int,
                     expected: list[int]) -> None:
    assert lowest_free(low, high, used, count) == expected
