"""Two processes' metrics as one /metrics: the API's and its journal process's."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from neutrino.metrics import MergedCollector, families


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in registry.collect() for s in family.samples}


def test_shared_families_are_summed_once_and_the_others_kept() -> None:
    api, journal = CollectorRegistry(), CollectorRegistry()
    for registry, events, seconds in ((api, 2, (0.003,)), (journal, 5, (0.02, 0.2))):
        sent = Counter("events_sent", "events", ["event"], registry=registry)
        sent.labels("plugged").inc(events)
        latency = Histogram("latency_seconds", "latency", registry=registry,
                            buckets=(0.01, 0.1, 1))
        for value in seconds:
            latency.observe(value)
    Gauge("only_api", "a gauge of the API's", registry=api).set(7)
    Gauge("only_journal", "a gauge of the journal's", registry=journal).set(3)
    sent_over_the_wire = json.loads(json.dumps(families(journal)))  # as the child sends it

    merged = CollectorRegistry()
    merged.register(MergedCollector(api, lambda: sent_over_the_wire))
    samples = _samples(merged)

    assert samples[("events_sent_total", (("event", "plugged"),))] == 7
    assert samples[("latency_seconds_count", ())] == 3
    assert samples[("latency_seconds_bucket", (("le", "0.01"),))] == 1
    assert samples[("latency_seconds_bucket", (("le", "1.0"),))] == 3
    assert abs(samples[("latency_seconds_sum", ())] - 0.223) < 1e-9
    assert samples[("only_api", ())] == 7 and samples[("only_journal", ())] == 3
    created = [v for (name, _), v in _samples(api).items() if name == "latency_seconds_created"]
    assert samples[("latency_seconds_created", ())] == min(
        created + [v for (name, _), v in _samples(journal).items()
                   if name == "latency_seconds_created"])
    text = generate_latest(merged).decode()
    assert text.count("# TYPE latency_seconds histogram") == 1


def test_a_journal_process_that_does_not_answer_leaves_the_api_s_own() -> None:
    api = CollectorRegistry()
    Counter("events_sent", "events", registry=api).inc(4)
    merged = CollectorRegistry()
    merged.register(MergedCollector(api, lambda: None))
    assert _samples(merged)[("events_sent_total", ())] == 4
