"""Cross-node wake-ups: PostgreSQL LISTEN on the journal channel sets the local wake-up."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from neutrino.journal.record import NOTIFY_CHANNEL

LOG = logging.getLogger(__name__)


class JournalListener:
    def __init__(self, engine: Engine, on_notify: Callable[[], None]) -> None:
        url = engine.url.set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._on_notify = on_notify
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        thread = threading.Thread(target=self._loop, name="journal-listen", daemon=True)
        thread.start()
        self._thread = thread

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        import psycopg  # only PostgreSQL deployments listen: SQLite's start-up skips it

        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as exc:
                LOG.warning("journal listener lost its connection: %s", exc)
                self._stop.wait(1.0)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self._dsn, autocommit=True) as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=1.0, stop_after=1):
                    self._on_notify()
