"""How the journal workers learn that a commit recorded entries for them."""

from __future__ import annotations

import threading


class Wakeup:
    """Set after a commit that recorded entries; workers wait on it between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> None:
        self._event.wait(timeout)
        self._event.clear()
