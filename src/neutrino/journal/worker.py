"""Journal workers: claim a batch, apply it to OVN in one transaction, settle the entries."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from neutrino import errors
from neutrino.clock import utcnow
from neutrino.db.engine import Database
from neutrino.journal import claim
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.journal.wakeup import Wakeup
from neutrino.metrics import Metrics
from neutrino.ovn.rows import DesiredState
from neutrino.reconcile.reconciler import Reconciler
from neutrino.settings import JournalSettings

LOG = logging.getLogger(__name__)
OUTAGE_POLL = 0.2  # seconds between looks at a backend that is down
# A batch of up to this many resources has its facts read in its claim's transaction, which
# spares the read a transaction of its own (a one-port batch's: a third of its database
# CPU) and holds the write lock a fraction of a millisecond longer; a larger batch (a
# bulk's thousand ports) is read after the claim's commit, without holding the lock.
READ_WITH_CLAIM = 20
# Seconds an applied batch waits to be settled with the next claim. Settled at once, a
# batch took a write transaction of its own (its commit, the write lock) each time entries
# come one at a time, as from one API client: half of a one-port batch's database CPU.
# Entries committed meanwhile wake the worker at once, so nothing waits for this: only the
# applied batch stays "processing" a little longer (its claim is renewed as ever).
SETTLE_WITH_NEXT = 0.05


@dataclass
class BatchResult:
    applied: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    unavailable: list[int] = field(default_factory=list)


class JournalWorker:
    def __init__(
        self,
        db: Database,
        reconciler: Reconciler,
        settings: JournalSettings,
        wakeup: Wakeup,
        metrics: Metrics,
        backend_ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self.db = db
        self.reconciler = reconciler
        self.settings = settings
        self.wakeup = wakeup
        self.metrics = metrics
        self.backend_ready = backend_ready
        self.name = f"worker-{uuid.uuid4().hex[:8]}"
        # After finding nothing to do, the next claim and settlement go before the API's
        # writers queued for SQLite's lock: the first entry of a burst reaches OVN without
        # waiting for them. While entries keep coming the worker waits its turn, and what
        # arrived meanwhile makes its next batch: claiming ahead every time made it apply
        # one small batch per API write, which (each batch translating whole resources, a
        # router with all its ports) cost the API up to three times its throughput.
        self._idle = True
        # reading a batch's facts in its claim's transaction failed (a fact that cannot be
        # read or translated): the next batch is read after its claim, where a failing
        # resource is found by halving the batch and retried with a backoff
        self._read_with_claim = True
        self._scan = claim.ClaimScan()  # where its claims look past entries that wait
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        thread.start()
        self._thread = thread

    def stop(self) -> None:
        self._stop.set()
        self.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        unsettled: BatchResult | None = None  # applied, settled with the next claim
        try:
            while not self._stop.is_set():
                if not self.backend_ready():
                    self._settle_alone(unsettled)
                    unsettled = None
                    # Claiming now would only hand the entries back; NB coming back is
                    # noticed within this short wait, so the backlog starts draining at once.
                    self._stop.wait(OUTAGE_POLL)
                    continue
                try:
                    busy, result = self._cycle(unsettled)
                except Exception:  # keep the worker alive; the entries stay in the journal
                    LOG.exception("journal worker %s: batch failed unexpectedly", self.name)
                    # settling twice changes nothing: only entries still claimed are settled
                    self._settle_alone(unsettled)
                    busy, result = 0, None
                    self._read_with_claim = False
                else:
                    self._read_with_claim = True
                unsettled = result
                self._idle = not busy
                if not busy:
                    self.wakeup.wait(self.settings.poll_interval)
                elif busy < self.settings.batch_size:  # no backlog: settle with the next
                    self.wakeup.wait(SETTLE_WITH_NEXT)
        finally:
            self._settle_alone(unsettled)

    def _cycle(self, unsettled: BatchResult | None) -> tuple[int, BatchResult | None]:
        """Settle the last batch and claim the next in one write transaction (one wait for
        SQLite's lock per batch, not two), then apply it; returns how many entries were
        claimed and the result to settle next time."""
        with self._write() as session:
            if unsettled is not None:
                self._settle_in(session, unsettled)
            claimed = self._claim_in(session)
            states = self._desired_in(session, claimed)
        if not claimed:
            return 0, None
        result = self._apply(claimed, states)
        self._observe(claimed, result)
        return len(claimed), result

    def _desired_in(self, session, claimed: Sequence[tuple[int, ResourceRef, object]]  # type: ignore[no-untyped-def]
                    ) -> dict[ResourceRef, DesiredState] | None:
        """The claimed resources' desired states, read in the claim's transaction when the
        batch is small (see READ_WITH_CLAIM); None: read when applied."""
        refs = list(dict.fromkeys(ref for _seq, ref, _created in claimed))
        if not refs or len(refs) > READ_WITH_CLAIM or not self._read_with_claim:
            return None
        try:
            states = self.reconciler.desired(refs, session)
        except (errors.NeutrinoError, SQLAlchemyError):
            # the database's failure: the transaction may be aborted (PostgreSQL), so the
            # cycle fails, and the next batch is read after its claim (see _loop)
            raise
        except Exception:  # noqa: BLE001 - a resource that cannot be translated: read
            # again when applied, where the culprit is found by halving the batch and its
            # entries are retried with a backoff
            LOG.debug("journal worker %s: facts not read with the claim", self.name,
                      exc_info=True)
            return None
        return dict(zip(refs, states, strict=True))

    def _settle_alone(self, unsettled: BatchResult | None) -> None:
        if unsettled is not None:
            try:
                self._settle(unsettled)
            except Exception:  # the entries go back to pending when their lease runs out
                LOG.exception("journal worker %s: settling failed", self.name)

    def _write(self):  # type: ignore[no-untyped-def]
        """A write transaction: ahead of the API's writers when idle, else in turn but
        ahead once it waited `urgent_after_ms` (a bound on the sync latency a queue of API
        writers adds; going ahead every time split the journal in batches of one)."""
        after = self.settings.urgent_after_ms
        return self.db.session(urgent=self._idle,
                               urgent_after=after / 1000 if after >= 0 else None)

    def _claim_in(self, session) -> list[tuple[int, ResourceRef, object]]:  # type: ignore[no-untyped-def]
        entries = claim.claim_batch(
            session, self.name, self.settings.batch_size,
            timedelta(seconds=self.settings.lease_seconds),
            request_limit=self.settings.bulk_batch_size, scan=self._scan)
        return [(e.seq, ResourceRef(ResourceType(e.resource_type), e.resource_id),
                 e.created_at) for e in entries]

    # -- one batch ----------------------------------------------------------------------
    def run_once(self) -> int:
        """Claim, apply and settle one batch; returns how many entries it settled."""
        with self._write() as session:
            claimed = self._claim_in(session)
            states = self._desired_in(session, claimed)
        if not claimed:
            return 0
        result = self._apply(claimed, states)
        self._observe(claimed, result)
        self._settle(result)
        return len(claimed)

    def _apply(self, claimed: Sequence[tuple[int, ResourceRef, object]],
               states: Mapping[ResourceRef, DesiredState] | None = None) -> BatchResult:
        by_ref: dict[ResourceRef, list[int]] = {}
        for seq, ref, _ in claimed:
            by_ref.setdefault(ref, []).append(seq)
        result = BatchResult()
        self._apply_split(list(by_ref), by_ref, result, states)
        return result

    def _apply_split(
        self, refs: list[ResourceRef], seqs: dict[ResourceRef, list[int]], result: BatchResult,
        states: Mapping[ResourceRef, DesiredState] | None = None,
    ) -> None:
        """Apply `refs` together; when that fails, halve until the culprit stands alone."""
        try:
            started = time.monotonic()
            if states is None:
                self.reconciler.apply(refs)
            else:
                self.reconciler.apply(refs, [states[ref] for ref in refs])
            self.metrics.apply_seconds.observe(time.monotonic() - started)
            self.metrics.batch_size.observe(len(refs))
            result.applied.extend(s for ref in refs for s in seqs[ref])
        except errors.BackendUnavailable as exc:
            # a backend only some entries need (a VTEP database) names those; the others
            # were applied
            waiting = set(getattr(exc, "refs", ()) or refs)
            LOG.warning("backend unavailable, %d entries wait: %s", len(waiting), exc)
            self.metrics.ovsdb_unavailable.inc()
            result.unavailable.extend(s for ref in refs if ref in waiting for s in seqs[ref])
            result.applied.extend(s for ref in refs if ref not in waiting for s in seqs[ref])
        except Exception as exc:  # noqa: BLE001 - isolate the culprit, never lose the batch
            self.metrics.ovsdb_errors.inc()
            if len(refs) == 1:
                LOG.warning("journal: applying %s failed: %s", refs[0], exc)
                for s in seqs[refs[0]]:
                    result.failed[s] = f"{type(exc).__name__}: {exc}"
                return
            middle = len(refs) // 2
            self._apply_split(refs[:middle], seqs, result, states)
            self._apply_split(refs[middle:], seqs, result, states)

    def _settle(self, result: BatchResult) -> None:
        with self._write() as session:
            self._settle_in(session, result)

    def _settle_in(self, session, result: BatchResult) -> None:  # type: ignore[no-untyped-def]
        js = self.settings
        if result.applied:
            claim.complete(session, result.applied, self.name)
        if result.unavailable:
            claim.retry_later(
                session, result.unavailable, "OVN NB unavailable", spend_attempt=False,
                max_attempts=js.max_attempts, backoff_initial=js.backoff_initial,
                backoff_max=js.backoff_max, worker=self.name,
            )
        for seq, error in result.failed.items():
            claim.retry_later(
                session, [seq], error, spend_attempt=True, max_attempts=js.max_attempts,
                backoff_initial=js.backoff_initial, backoff_max=js.backoff_max,
                worker=self.name,
            )

    def _observe(self, claimed: Sequence[tuple[int, ResourceRef, object]],
                 result: BatchResult) -> None:
        now = utcnow()
        applied = set(result.applied)
        for seq, ref, created_at in claimed:
            if seq in applied:
                latency = (now - created_at).total_seconds()  # type: ignore[operator]
                self.metrics.sync_latency.observe(latency)
                LOG.debug("journal: applied %s seq=%d after %.3fs", ref, seq, latency)

