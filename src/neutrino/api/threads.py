"""The API's calls of blocking code (the services, keystonemiddleware), in a pool of threads.

Starlette's `run_in_threadpool` is anyio's `to_thread.run_sync`: around the call it takes a
token of a capacity limiter, enters a cancel scope and passes twice through the event loop
(its checkpoints before and after), and every asyncio and anyio look-up of the running loop
on the way asks the kernel for the process id. That was some 0.2 M of the 1.8 M instructions
of a port's show on the event loop outside the service, and two of its six passes through
the loop. Here the call goes to an idle thread by a queue, and its outcome comes back to the
waiting request by the loop's `call_soon_threadsafe`, as anyio's does.

What stays as with anyio: at most `LIMIT` (anyio's default limiter, 40) calls run at once and
the others wait their turn in order; a thread is started when none is idle; the call runs in
a copy of the caller's context; what it raises is raised to the caller (StopIteration as a
RuntimeError, which a future cannot carry); a request cancelled meanwhile no longer waits,
its call is not run if it had not started, and its outcome is dropped. The threads keep
anyio's name, "AnyIO worker thread": /metrics reports the CPU of the process's threads by
name (`neutrino_thread_cpu_seconds`). Unlike anyio's, an idle thread is kept rather than
ended after 10 s, and the threads are daemons (uvicorn answers every request it started
before the process exits).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

LIMIT = 40
THREAD_NAME = "AnyIO worker thread"


class ThreadPool:
    """Threads started as calls need them, up to `limit`. Each call put in the queue is
    counted against an idle thread, a thread started for it, or the calls waiting for one
    to be done (under one lock), so a call never waits while fewer than `limit` run."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._calls: SimpleQueue[tuple[Any, ...]] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads waiting for a call
        self._waiting = 0  # calls waiting for a thread

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """`func(*args)` in a thread of the pool; the request waits without blocking the loop."""
        loop = asyncio.get_running_loop()
        outcome = loop.create_future()
        self._calls.put((contextvars.copy_context(), func, args, loop, outcome))
        with self._lock:
            if self._idle:
                self._idle -= 1
                start = False
            elif self._threads < self.limit:
                self._threads += 1
                start = True
            else:
                self._waiting += 1
                start = False
        if start:
            try:
                threading.Thread(target=self._serve, name=THREAD_NAME, daemon=True).start()
            except BaseException:  # no thread to be had: the caller hears it, as from anyio
                outcome.cancel()  # and its call, queued, is not run
                with self._lock:
                    self._threads -= 1
                    self._waiting += 1  # for the next thread free, which passes it over
                raise
        return await outcome  # type: ignore[no-any-return]

    @property
    def threads(self) -> int:
        return self._threads

    def _serve(self) -> None:
        while True:
            context, func, args, loop, outcome = self._calls.get()
            result = error = None
            if not outcome.cancelled():  # a request cancelled while its call waited: not run
                try:
                    result = context.run(func, *args)
                except BaseException as exc:  # noqa: BLE001 - the caller's to handle, as anyio's
                    error = exc
            with self._lock:  # free before the caller hears: its next call finds it idle
                if self._waiting:
                    self._waiting -= 1  # the next call in the queue is this thread's
                else:
                    self._idle += 1
            try:
                loop.call_soon_threadsafe(_settle, outcome, result, error)
            except RuntimeError:  # the caller's loop closed meanwhile (a test client's)
                if not loop.is_closed():
                    raise
            del context, func, args, loop, outcome, result, error


def _settle(outcome: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if outcome.cancelled():  # the request was cancelled while it waited
        return
    if error is None:
        outcome.set_result(result)
    elif isinstance(error, StopIteration):
        failure = RuntimeError("coroutine raised StopIteration")
        failure.__cause__ = error
        outcome.set_exception(failure)
    else:
        outcome.set_exception(error)


POOL = ThreadPool()
run_in_thread = POOL.run
