"""The API's thread pool: calls as anyio's `to_thread.run_sync` made them (outcome, limit,
context, thread name), without anyio's path (its checkpoints took the request twice more
through the event loop)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from starlette.testclient import TestClient
from stub_app import PORT_ID, stub_app

from neutrino.api.threads import THREAD_NAME, ThreadPool

WAIT = 5.0
ASKED: contextvars.ContextVar[str] = contextvars.ContextVar("asked", default="nobody")


def test_a_call_returns_raises_and_sees_its_callers_context():
    pool = ThreadPool()

    async def calls() -> list[Any]:
        ASKED.set("the request")

        def who(suffix: str) -> tuple[str, str]:
            ASKED.set("changed in the thread")  # in a copy: the caller's stays
            return threading.current_thread().name, suffix

        seen = [await pool.run(who, "!"), ASKED.get()]
        with pytest.raises(KeyError, match="missing"):
            await pool.run({}.__getitem__, "missing")
        with pytest.raises(RuntimeError, match="StopIteration"):
            await pool.run(next, iter(()))
        return seen

    assert asyncio.run(calls()) == [(THREAD_NAME, "!"), "the request"]
    assert pool.threads == 1  # the idle thread took the next calls


def _held_until(release: threading.Event, running: list[int]) -> Callable[[int], int]:
    """A call that notes it runs, then holds its thread until `release`."""
    def held(n: int) -> int:
        running.append(n)
        release.wait(WAIT)
        return n

    return held


def test_no_more_than_the_limit_run_and_the_others_wait_their_turn():
    pool, release, running = ThreadPool(limit=2), threading.Event(), []
    held = _held_until(release, running)

    async def calls() -> list[int]:
        waiting = [asyncio.ensure_future(pool.run(held, n)) for n in range(3)]
        await _until(lambda: len(running) == 2)
        await asyncio.sleep(0.05)
        assert sorted(running) == [0, 1] and pool.threads == 2  # the third waits
        release.set()
        return await asyncio.gather(*waiting)

    assert asyncio.run(calls()) == [0, 1, 2]
    assert running[2] == 2


def test_a_call_never_waits_while_fewer_than_the_limit_run():
    pool, release, running = ThreadPool(limit=3), threading.Event(), []
    held = _held_until(release, running)

    async def calls() -> list[int]:
        assert await pool.run(int, 7) == 7  # one thread, idle again
        waiting = [asyncio.ensure_future(pool.run(held, n)) for n in range(3)]
        await _until(lambda: len(running) == 3)  # the idle one and two more, at once
        release.set()
        return await asyncio.gather(*waiting)

    assert asyncio.run(calls()) == [0, 1, 2]
    assert pool.threads == 3


def test_a_cancelled_caller_drops_the_outcome_and_the_thread_serves_on():
    pool, release = ThreadPool(limit=1), threading.Event()

    async def calls() -> int:
        waiting = asyncio.ensure_future(pool.run(release.wait, WAIT))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        return await pool.run(int, 3)

    assert asyncio.run(calls()) == 3
    assert pool.threads == 1


def test_a_request_goes_through_no_anyio_worker(monkeypatch):
    hops: list[Any] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(*args: Any, **kwargs: Any) -> Any:
        hops.append(args)
        return await run_sync(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    with TestClient(stub_app()) as client:
        assert client.get(f"/v2.0/ports/{PORT_ID}").json() == {"port": {"id": PORT_ID,
                                                                         "name": "x"}}
        assert client.put(f"/v2.0/ports/{PORT_ID}", json={"port": {"name": "y"}}).json() == {
            "port": {"id": PORT_ID, "name": "y"}}
        assert client.delete(f"/v2.0/ports/{PORT_ID}").status_code == 204
    assert hops == []  # three on the old code, one a request


async def _until(condition: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.005)


def test_a_call_whose_caller_was_cancelled_while_it_waited_is_not_run():
    pool, release, ran = ThreadPool(limit=1), threading.Event(), []

    async def calls() -> int:
        busy = asyncio.ensure_future(pool.run(release.wait, WAIT))
        queued = asyncio.ensure_future(pool.run(ran.append, "queued"))
        await asyncio.sleep(0.05)
        queued.cancel()  # while the one thread is busy
        with pytest.raises(asyncio.CancelledError):
            await queued
        release.set()
        await busy
        return await pool.run(int, 5)

    assert asyncio.run(calls()) == 5
    assert ran == []
