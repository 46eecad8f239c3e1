"""Sends port events to Nova (os-server-external-events) from a thread of its own.

The API and the port-status thread only queue events (`NovaNotifier.notify` never blocks);
one thread sends them in batches, as Neutron's nova notifier does. Events live in memory only:
a process that dies loses what it had not sent, as Neutron's notifier does too.

Nova's answers: 200 when every event was accepted; 207 when some were not, each event then
carrying its own `code` (404: unknown server, 422: server not on a host yet, 400); 404 when
no event named a server Nova knows. A refused event is not sent again; a 5xx or an
unreachable Nova (or Keystone) is retried with backoff a bounded number of times.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neutrino.metrics import Metrics
from neutrino.port_events import PortEvent
from neutrino.settings import NovaSettings

LOG = logging.getLogger(__name__)
EVENTS_PATH = "/os-server-external-events"


class NovaUnreachable(Exception):
    """Nova or Keystone could not be asked (connection, timeout, authentication)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the JSON answer, or None


Post = Callable[[dict[str, Any]], Answer]


def keystone_post(settings: NovaSettings) -> Post:
    """POST to Nova with a Keystone token; the session gets a new token when one expires."""
    # keystoneauth (with requests) only where Nova is configured: it costs every other
    # server's start-up a tenth of a second or more
    from keystoneauth1 import exceptions as ks_exceptions
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    auth = v3.Password(
        auth_url=settings.auth_url, username=settings.username, password=settings.password,
        project_name=settings.project_name, user_domain_name=settings.user_domain_name,
        project_domain_name=settings.project_domain_name)
    session = ks_session.Session(auth=auth, timeout=settings.timeout)
    url = settings.url + EVENTS_PATH

    def post(body: dict[str, Any]) -> Answer:
        try:
            response = session.post(url, json=body, raise_exc=False)
        except ks_exceptions.ClientException as exc:
            raise NovaUnreachable(str(exc)) from exc
        try:
            return Answer(response.status_code, response.json())
        except ValueError:
            return Answer(response.status_code, None)

    return post


class NovaNotifier:
    def __init__(self, settings: NovaSettings, post: Post, metrics: Metrics) -> None:
        self.settings = settings
        self._post = post
        self._metrics = metrics
        self._queue: queue.Queue[PortEvent] = queue.Queue(maxsize=settings.max_queued)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self, event: PortEvent | None) -> None:
        """Queue `event` (None: nothing to tell); never waits."""
        if event is None:
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            LOG.warning("nova: %d events waiting; dropping %s for server %s port %s",
                        self.settings.max_queued, event.name, event.server_uuid, event.tag)
            self._metrics.nova_dropped.labels(event.name).inc()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="nova-notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.timeout + 5)
        if not self._queue.empty():
            LOG.warning("nova: stopping with %d events unsent", self._queue.qsize())

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._next_batch()
            if batch:
                self._deliver(batch)

    def _next_batch(self) -> list[PortEvent]:
        """The first waiting event and those that follow it within the send interval."""
        try:
            batch = [self._queue.get(timeout=0.5)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.settings.send_interval
        while len(batch) < self.settings.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _deliver(self, batch: list[PortEvent]) -> None:
        delay, attempts = self.settings.backoff_initial, self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            problem = self._attempt(batch)
            if problem is None:
                return
            if attempt == attempts:
                break
            LOG.warning("nova: %s; retrying %d events in %.1fs", problem, len(batch), delay)
            if self._stopping.wait(delay):
                break
            delay *= 2
        LOG.error("nova: %s; dropping %s after %d attempts", problem, _describe(batch), attempt)
        self._count(self._metrics.nova_dropped, batch)

    def _attempt(self, batch: list[PortEvent]) -> str | None:
        """Send once; the reason to try again, or None when Nova has decided on every event."""
        try:
            answer = self._post({"events": [event.as_body() for event in batch]})
        except NovaUnreachable as exc:
            return f"unreachable ({exc})"
        if answer.status >= 500:
            return f"answered {answer.status}"
        if answer.status == 200:
            self._count(self._metrics.nova_sent, batch)
        elif answer.status == 207:
            self._per_event(batch, answer.body)
        else:  # 404: none of the servers exists; 400/401/403: sending again changes nothing
            LOG.warning("nova: answered %d to %s: %s", answer.status, _describe(batch),
                        answer.body)
            self._count(self._metrics.nova_failed, batch)
        return None

    def _per_event(self, batch: list[PortEvent], body: Any) -> None:
        answers = body.get("events", []) if isinstance(body, dict) else []
        codes = [a.get("code") if isinstance(a, dict) else None for a in answers]
        codes += [None] * (len(batch) - len(codes))
        for event, code in zip(batch, codes, strict=False):
            if code == 200:
                self._metrics.nova_sent.labels(event.name).inc()
            else:
                LOG.warning("nova: %s for server %s port %s refused with code %s", event.name,
                            event.server_uuid, event.tag, code)
                self._metrics.nova_failed.labels(event.name).inc()

    @staticmethod
    def _count(counter: Any, batch: list[PortEvent]) -> None:
        for event in batch:
            counter.labels(event.name).inc()


def _describe(batch: list[PortEvent]) -> str:
    return ", ".join(f"{e.name}({e.server_uuid}/{e.tag})" for e in batch)
