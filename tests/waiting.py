"""Waiting for a condition in tests (not a test module)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float, what: str,
             interval: float = 0.05) -> float:
    """Until `condition()` is true; returns the seconds it took, fails the test after
    `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout}s")
