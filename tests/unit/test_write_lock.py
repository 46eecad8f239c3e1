"""SQLite's one-writer lock in the process: the journal worker's short claims and
settlements go before the API writers queued for it (issue 15), the others in turn."""

from __future__ import annotations

import threading
import time

from neutrino.db.engine import WriteLock


def wait_for(lock: WriteLock, waiting: tuple[int, int]) -> None:
    deadline = time.monotonic() + 10
    while lock.waiting != waiting:
        assert time.monotonic() < deadline, lock.waiting
        time.sleep(0.001)


def writer(lock: WriteLock, name: str, order: list[str], urgent: bool = False
           ) -> threading.Thread:
    def run() -> None:
        with lock.held(urgent):
            order.append(name)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_urgent_writer_goes_before_the_writers_waiting_longer():
    lock, order = WriteLock(), []
    threads = []
    with lock.held():
        for i in range(3):
            threads.append(writer(lock, f"api-{i}", order))
            wait_for(lock, (0, i + 1))
        threads.append(writer(lock, "journal", order, urgent=True))
        wait_for(lock, (1, 3))
    for thread in threads:
        thread.join(10)
    assert order == ["journal", "api-0", "api-1", "api-2"]
    assert lock.waiting == (0, 0)


def test_one_writer_at_a_time():
    lock, inside, most = WriteLock(), [0], [0]

    def run(urgent: bool) -> None:
        for _ in range(200):
            with lock.held(urgent):
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                inside[0] -= 1

    threads = [threading.Thread(target=run, args=(i % 3 == 0,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most[0] == 1
    assert lock.waiting == (0, 0)


def test_a_writer_waiting_in_turn_goes_first_once_it_waited_its_urgent_after():
    lock, order = WriteLock(), []
    threads = []

    def patient() -> None:
        with lock.held(urgent_after=0.05):
            order.append("journal")

    with lock.held():
        for i in range(2):
            threads.append(writer(lock, f"api-{i}", order))
            wait_for(lock, (0, i + 1))
        threads.append(threading.Thread(target=patient))
        threads[-1].start()
        wait_for(lock, (0, 3))  # in turn first...
        wait_for(lock, (1, 2))  # ...then, after 50 ms, ahead
    for thread in threads:
        thread.join(10)
    assert order == ["journal", "api-0", "api-1"]
    assert lock.waiting == (0, 0)


def test_a_writer_that_gets_its_turn_in_time_stays_in_turn():
    lock, order = WriteLock(), []

    def patient() -> None:
        with lock.held(urgent_after=60):
            order.append("journal")

    with lock.held():
        first = writer(lock, "api-0", order)
        wait_for(lock, (0, 1))
        later = threading.Thread(target=patient)
        later.start()
        wait_for(lock, (0, 2))
    first.join(10)
    later.join(10)
    assert order == ["api-0", "journal"]
    assert lock.waiting == (0, 0)
