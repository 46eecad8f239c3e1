"""The per-thread CPU metric: a busy thread's seconds show under its name."""

from __future__ import annotations

import threading
import time

from prometheus_client import generate_latest

from neutrino.metrics import Metrics, thread_cpu_seconds


def _burn_until(done: threading.Event, started: threading.Event) -> None:
    until = time.thread_time() + 0.3
    while time.thread_time() < until:
        pass
    started.set()
    done.wait(10)


def test_a_busy_threads_cpu_is_reported_under_its_name() -> None:
    done, burnt = threading.Event(), threading.Event()
    thread = threading.Thread(target=_burn_until, args=(done, burnt), name="cpu-burner")
    thread.start()
    try:
        assert burnt.wait(10)
        seconds = thread_cpu_seconds()
        assert seconds["cpu-burner"] >= 0.2, seconds
        scraped = generate_latest(Metrics().registry).decode()
        line = next(line for line in scraped.splitlines()
                    if line.startswith('neutrino_thread_cpu_seconds_total{thread="cpu-burner"}'))
        assert float(line.split()[-1]) >= 0.2
    finally:
        done.set()
        thread.join()
    assert "cpu-burner" not in thread_cpu_seconds()  # an ended thread is not listed
