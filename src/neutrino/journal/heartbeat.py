"""Claims kept alive by a heartbeat, so a dead node's claims are taken over within seconds.

A claim's lease is short (`NEUTRINO_JOURNAL_LEASE_SECONDS`, 6 s by default). While a node
lives, one thread renews the leases of the entries its workers hold every quarter of that,
however long their OVSDB transaction takes; a node that dies (SIGKILL, power loss, a frozen
process) stops renewing, and its leases run out. The same thread, on every node, returns
claims whose lease ran out to pending and wakes the local workers, so another node applies a
dead node's entries within lease + one beat (7.5 s by default), without waiting for the
maintenance leader.

A claim is renewed for at most `MAX_HOLD` (5 minutes): a worker that hangs longer loses its
entries to another. A worker that is alive but whose lease ran out anyway (its node's
database connection was down longer than a lease) loses nothing: it settles only entries it
still holds (`claim.complete(..., worker)`), and applying an entry twice writes nothing the
second time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta

from neutrino.clock import utcnow
from neutrino.db.engine import Database
from neutrino.journal import claim

LOG = logging.getLogger(__name__)
BEATS_PER_LEASE = 4
# A batch takes seconds (each OVSDB transaction times out after 10 s); a claim held this long
# belongs to a worker that hangs, and is no longer renewed, so another worker takes it over.
MAX_HOLD = timedelta(minutes=5)


class ClaimHeartbeat:
    def __init__(self, db: Database, workers: Sequence[str], lease_seconds: float,
                 wake: Callable[[], None]) -> None:
        self.db = db
        self.workers = list(workers)
        self.lease = timedelta(seconds=lease_seconds)
        self.every = lease_seconds / BEATS_PER_LEASE
        self.wake = wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        thread = threading.Thread(target=self._loop, name="claim-heartbeat", daemon=True)
        thread.start()
        self._thread = thread

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a failed beat is retried at the next one
                LOG.exception("claim heartbeat failed")

    def beat(self) -> tuple[int, int]:
        """Renew our claims, then free the expired claims of others; (renewed, reclaimed)."""
        now = utcnow()
        with self.db.session() as session:
            renewed = claim.renew_claims(session, self.workers, now + self.lease,
                                         now - MAX_HOLD)
        with self.db.session() as session:
            reclaimed = claim.reclaim_expired(session)
        if reclaimed:
            LOG.warning("journal: %d entries of a worker that stopped renewing its claims "
                        "are pending again", reclaimed)
            self.wake()
        return renewed, reclaimed
