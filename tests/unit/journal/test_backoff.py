"""backoff_delay: jittered exponential backoff stays inside its bounds."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from neutrino.journal.claim import backoff_delay

SAMPLES = 2000


@pytest.fixture()
def seeded() -> Iterator[None]:
    """Deterministic samples, without leaking the seed into other tests."""
    saved = random.getstate()
    random.seed(20240611)
    try:
        yield
    finally:
        random.setstate(saved)


@pytest.mark.parametrize(
    ("attempt", "initial", "maximum", "low", "high"),
    [
        (0, 0.1, 60.0, 0.05, 0.1),
        (1, 0.1, 60.0, 0.05, 0.2),
        (3, 0.1, 60.0, 0.05, 0.8),
        (5, 0.1, 60.0, 0.05, 3.2),
        (10, 0.1, 60.0, 0.05, 60.0),
        (50, 0.1, 60.0, 0.05, 60.0),
        (-3, 0.1, 60.0, 0.05, 0.1),
        (4, 1.0, 5.0, 0.5, 5.0),
        (2, 2.0, 2.0, 1.0, 2.0),
        (200, 0.5, 30.0, 0.25, 30.0),
    ],
)
def test_backoff_delay_bounds(
    seeded: None, attempt: int, initial: float, maximum: float, low: float, high: float
) -> None:
    samples = [backoff_delay(attempt, initial, maximum) for _ in range(SAMPLES)]
    assert high == min(maximum, initial * 2 ** max(attempt, 0))
    assert all(low <= s <= high for s in samples), (min(samples), max(samples))
    assert max(samples) <= maximum
    # Jitter really spreads the delays over the interval, not just near one end.
    spread = high - low
    assert min(samples) < low + spread * 0.1
    assert max(samples) > high - spread * 0.1


def test_backoff_delay_grows_with_attempts(seeded: None) -> None:
    means = [
        sum(backoff_delay(a, 0.1, 1000.0) for _ in range(SAMPLES)) / SAMPLES for a in range(8)
    ]
    assert means == sorted(means)
    assert means[-1] > 10 * means[0]


def test_backoff_delay_never_above_max_even_when_max_below_half_initial(seeded: None) -> None:
    samples = [backoff_delay(a, 10.0, 1.0) for a in range(5) for _ in range(100)]
    assert max(samples) <= 1.0
