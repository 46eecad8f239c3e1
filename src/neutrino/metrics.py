"""Prometheus metrics, in a registry of their own built at start-up (no import-time state)."""

from __future__ import annotations

import os
import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from neutrino.ovn.cluster import ClusterView

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
        self.registry.register(ThreadCpuCollector())


class ThreadCpuCollector:
    """CPU seconds each of the process's threads used, by thread name (threads of one name,
    such as the API's handler threads, summed), read from /proc at scrape time: all of
    neutrino shares one interpreter lock, so which thread spends the CPU is what limits the
    API's latency. Nothing is reported where /proc has no per-thread figures."""

    def collect(self) -> Iterator[Metric]:
        seconds = CounterMetricFamily(
            "neutrino_thread_cpu_seconds",
            "CPU time used by the process's threads, by thread name", labels=["thread"])
        for name, used in thread_cpu_seconds().items():
            seconds.add_metric([name], used)
        yield seconds


def thread_cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) of each live thread of this process, summed by name."""
    used: Tally[str] = Tally()
    for thread in threading.enumerate():
        try:
            used[thread.name] += cpu_seconds(f"/proc/self/task/{thread.native_id}/stat")
        except (OSError, IndexError):  # no /proc, or the thread ended meanwhile
            continue
    return dict(used)


def cpu_seconds(stat_path: str) -> float:
    """CPU seconds (user + system) in a /proc `stat` file, a process's or a thread's."""
    with open(stat_path) as stat:
        # the fields after the command name (which may hold spaces): utime is the 12th of
        # them, stime the 13th
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ClusterCollector:
    """The OVSDB connections' cluster views, read at scrape time."""

    def __init__(self, views: Callable[[], Sequence[ClusterView]]) -> None:
        self.views = views

    def collect(self) -> Iterator[Metric]:
        changes = CounterMetricFamily(
            "neutrino_ovsdb_leader_changes",
            "Times the connection moved to another member of its cluster (leader-only "
            "connections: leadership moved or the leader was lost)", labels=["database"])
        in_use = GaugeMetricFamily("neutrino_ovsdb_member_in_use",
                                   "1 for the member the connection monitors now",
                                   labels=["database", "member"])
        members = GaugeMetricFamily("neutrino_ovsdb_cluster_members",
                                    "Members of the connection string, by reachability",
                                    labels=["database", "state"])
        healthy = GaugeMetricFamily("neutrino_ovsdb_cluster_quorum",
                                    "1 while a majority of the members is reachable",
                                    labels=["database"])
        for view in self.views():
            changes.add_metric([view.database], view.leader_changes)
            if view.member is not None:
                in_use.add_metric([view.database, view.member], 1)
            up = sum(view.members.values())
            members.add_metric([view.database, "reachable"], up)
            members.add_metric([view.database, "unreachable"], len(view.members) - up)
            healthy.add_metric([view.database], int(view.health != "no quorum"))
        yield from (changes, in_use, members, healthy)


def families(registry: CollectorRegistry) -> list[dict[str, Any]]:
    """A registry's metrics now, as plain data another process can send (see `merged`)."""
    return [{"name": family.name, "documentation": family.documentation, "type": family.type,
             "unit": family.unit,
             "samples": [[s.name, s.labels, s.value] for s in family.samples]}
            for family in registry.collect()]


class MergedCollector:
    """This process's metrics and another's (`remote`: `families` there, or None when it
    does not answer) as one: a family both have is reported once, each sample summed (a
    counter, a histogram's buckets), except the time a series was created, the earlier."""

    def __init__(self, local: CollectorRegistry,
                 remote: Callable[[], list[dict[str, Any]] | None]) -> None:
        self.local = local
        self.remote = remote

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        for family in families(self.local) + (self.remote() or []):
            name = family["name"]
            if name not in merged:
                merged[name] = Metric(name, family["documentation"], family["type"],
                                      family["unit"])
                values[name] = {}
            into = values[name]
            for sample, labels, value in family["samples"]:
                key = (sample, tuple(sorted(labels.items())))
                if key not in into:
                    into[key] = value
                elif sample.endswith("_created"):
                    into[key] = min(into[key], value)
                else:
                    into[key] += value
        for name, metric in merged.items():
            for (sample, labels), value in values[name].items():
                metric.add_sample(sample, dict(labels), value)
            yield metric
