"""Prometheus metrics, in a registry of their own built at start-up (no import-time state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sync_latency = Histogram(
            "neutrino_sync_latency_seconds",
            "From the API commit of a change to its application in OVN NB",
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.ovsdb_txn_seconds = Histogram(
            "neutrino_ovsdb_transaction_seconds",
            "Duration of OVSDB transactions with OVN NB (reads and writes)",
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.apply_seconds = Histogram(
            "neutrino_journal_apply_seconds",
            "Applying one journal batch: loading, translating and the OVSDB transaction",
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.ovsdb_errors = Counter(
            "neutrino_ovsdb_errors",
            "Journal OVSDB transactions the server refused (constraint or reference errors)",
            registry=self.registry,
        )
        self.ovsdb_unavailable = Counter(
            "neutrino_ovsdb_unavailable",
            "Journal batches that found OVN NB unreachable",
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "neutrino_journal_batch_size",
            "Resources applied per OVSDB transaction",
            registry=self.registry,
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
        )
        self.nova_sent = Counter(
            "neutrino_nova_events_sent",
            "Port events Nova accepted (os-server-external-events)",
            ["event"], registry=self.registry,
        )
        self.nova_failed = Counter(
            "neutrino_nova_events_failed",
            "Port events Nova refused (4xx, or a failed code in a 207 answer); not retried",
            ["event"], registry=self.registry,
        )
        self.nova_dropped = Counter(
            "neutrino_nova_events_dropped",
            "Port events given up: Nova unreachable or 5xx after every attempt, or queue full",
            ["event"], registry=self.registry,
        )
