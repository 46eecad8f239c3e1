"""The journal's own process: the journal workers, the OVN NB connection and maintenance,
beside the process that answers the API.

In one process every part of neutrino shares one interpreter lock: an API request waited
for the journal worker applying the previous request's entries and for the NB connection
parsing NB's updates, and the create latency followed the process's CPU per port.
`neutrino serve` (NEUTRINO_JOURNAL_PROCESS=separate) therefore starts a child, the journal
process, and supervises it: the API's process keeps the HTTP server and an SB connection (the
API reads chassis from SB); the child connects to NB, syncs at start, runs the workers, the
port-status reports and maintenance.

Two channels join them, both inherited by the child:
- the wake pipe: after a commit that recorded journal entries the API writes a byte, and the
  child's workers wake at once, as they do on the in-process event. The API's process keeps
  the pipe across restarts of the child, so a write never meets a closed pipe;
- the control socket: the API asks for the child's view of OVN (for /healthz) and its metrics
  (for /metrics), one numbered request a line, one numbered JSON answer a line. An answer
  that comes too late is dropped when it comes; a slow child is reported, not killed. A
  child whose parent is gone (end of file on this socket) stops; a child that dies is
  started again.
The first child is forked from the parent once the parent has imported everything and before
it starts any thread: it imports nothing again (a start-up saves most of a second of CPU)
and shares the parent's module memory until either writes to it. A child started again
later is a new interpreter (`neutrino journal-process`), since forking a process that runs
threads is unsafe. A child builds when it finds the database migrated already (a restart)
or once the parent, which migrates it, sends `go`; it answers "starting" until it is built.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from neutrino.journal.wakeup import Wakeup

if TYPE_CHECKING:
    from neutrino.bootstrap import Neutrino

LOG = logging.getLogger(__name__)
ANSWER_TIMEOUT = 5.0  # seconds: the child answers from memory
STOP_TIMEOUT = 20.0  # seconds a stopping child may take to finish its batch
RESTART_DELAY = 1.0  # seconds before a child that died is started again


class PipeWakeup(Wakeup):
    """The API side of the wake pipe: `set` after a commit wakes the child's workers."""

    def __init__(self) -> None:
        super().__init__()
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)

    def set(self) -> None:
        # a full pipe already holds a wake-up the child has not read: nothing is lost
        with contextlib.suppress(BlockingIOError):
            os.write(self.write_fd, b"!")


class InheritedPipeWakeup(Wakeup):
    """The child's side: its workers wait on the wake pipe itself (and on a pipe of their
    own for wake-ups from inside the child), so a commit wakes a worker without a thread
    in between that would first have to take the interpreter lock."""

    def __init__(self, parent_fd: int) -> None:
        super().__init__()
        self._parent: int | None = parent_fd
        self._own_read, self._own_write = os.pipe()
        for fd in (parent_fd, self._own_read, self._own_write):
            os.set_blocking(fd, False)

    def set(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(self._own_write, b"!")

    def wait(self, timeout: float) -> None:
        poller = select.poll()  # not select(): a descriptor may be numbered past 1023
        for fd in (self._own_read, self._parent):
            if fd is not None:
                poller.register(fd, select.POLLIN)
        for fd, _ in poller.poll(timeout * 1000):
            with contextlib.suppress(BlockingIOError):
                while True:
                    if not os.read(fd, 4096):  # the parent is gone: its socket stops us
                        self._parent = None
                        break


class JournalProcess:
    """The API process's handle on its journal process: starts it, starts it again when it
    dies, and asks it for its status and metrics."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.wakeup = PipeWakeup()
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._unread = b""  # what the control socket said after the last whole answer
        self._asked = 0
        self._lock = threading.Lock()  # one request on the control socket at a time
        self._go = threading.Event()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def spawn(self, fork: bool = False) -> None:
        """Start the child now; it builds on `go`. `fork`: by forking this process, which
        must run no other thread yet."""
        with self._lock:
            self._spawn_locked(fork and threading.active_count() == 1)
        self._supervisor = threading.Thread(target=self._supervise, name="journal-supervisor",
                                            daemon=True)
        self._supervisor.start()

    def go(self) -> None:
        """The database is migrated: the child may build and start."""
        self._go.set()
        with self._lock:
            self._send_go_locked()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    LOG.warning("journal process %d did not stop in time: killed", proc.pid)
                    proc.kill()
                    proc.wait()
            self._close_control_locked()
        if self._supervisor is not None:
            self._supervisor.join(timeout=RESTART_DELAY + 1)

    def status(self) -> dict[str, Any] | None:
        """The child's view of OVN and of its workers, None when it does not answer."""
        return self._ask("status")

    def metrics(self) -> list[dict[str, Any]] | None:
        return self._ask("metrics")

    def view(self) -> dict[str, Any]:
        """For /healthz: is the child running, since when restarted how often."""
        running = self._proc is not None and self._proc.poll() is None
        return {"pid": self.pid, "running": running, "restarts": self.restarts}

    # -- the child's life ---------------------------------------------------------------
    def _spawn_locked(self, fork: bool = False) -> None:
        parent_end, child_end = socket.socketpair()
        if fork:
            self._proc = _fork(self.env, self.wakeup.read_fd, child_end, parent_end)
        else:
            command = [sys.executable, "-m", "neutrino.cli", "journal-process",
                       "--wake-fd", str(self.wakeup.read_fd), "--control-fd",
                       str(child_end.fileno())]
            self._proc = subprocess.Popen(command, env=self.env,
                                          pass_fds=(self.wakeup.read_fd, child_end.fileno()))
        child_end.close()
        self._control = parent_end
        self._unread = b""
        LOG.info("journal process %d started", self._proc.pid)
        if self._go.is_set():
            self._send_go_locked()

    def _send_go_locked(self) -> None:
        if self._control is not None:
            with contextlib.suppress(OSError):
                self._control.sendall(b"go\n")

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None or proc.poll() is not None:
                if proc is not None:
                    LOG.error("journal process %d exited (%s); starting it again", proc.pid,
                              proc.returncode)
                if self._stopping.wait(RESTART_DELAY):
                    return
                with self._lock:
                    if self._stopping.is_set():
                        return
                    self._close_control_locked()
                    self._spawn_locked()
                    self.restarts += 1
            self._stopping.wait(0.2)

    def _ask(self, request: str) -> Any:
        with self._lock:
            control = self._control
            if control is None:
                return None
            self._asked += 1
            number = str(self._asked).encode()
            deadline = time.monotonic() + ANSWER_TIMEOUT
            try:
                control.sendall(number + b" " + request.encode() + b"\n")
                while True:
                    line, _, rest = self._unread.partition(b"\n")
                    if _:
                        self._unread = rest
                        answered, _, answer = line.partition(b" ")
                        if answered == number:
                            return json.loads(answer)
                        continue  # the late answer to an earlier request
                    control.settimeout(max(deadline - time.monotonic(), 0.001))
                    data = control.recv(65536)
                    if not data:
                        return None  # the child is gone; the supervisor starts another
                    self._unread += data
            except OSError as exc:  # the timeout too: the child is busy or hung
                LOG.warning("journal process did not answer %r: %s", request, exc)
                return None

    def _close_control_locked(self) -> None:
        if self._control is not None:
            with contextlib.suppress(OSError):
                self._control.close()
            self._control = None


class _Forked:
    """A forked child, with the part of `subprocess.Popen` this module uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"journal process {self.pid}", timeout)
            time.sleep(0.05)
        assert self.returncode is not None
        return self.returncode

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)


def _fork(env: Mapping[str, str], wake_fd: int, child_end: socket.socket,
          parent_end: socket.socket) -> _Forked:
    pid = os.fork()
    if pid:
        return _Forked(pid)
    code = 1
    try:  # the child: never back into the parent's code (its finally blocks, atexit)
        parent_end.close()
        os.environ.update(env)
        code = run(wake_fd, child_end.detach())
    except BaseException:
        LOG.exception("the journal process failed")
    finally:
        logging.shutdown()
        os._exit(code)


# -- the child --------------------------------------------------------------------------------
def run(wake_fd: int, control_fd: int) -> int:
    """`neutrino journal-process`: build the OVN side of neutrino and serve the control
    socket until the parent closes it or sends SIGTERM."""
    threading.current_thread().name = "journal-process"
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    control = socket.socket(fileno=control_fd)
    go, cancelled = threading.Event(), threading.Event()
    built: list[Neutrino] = []
    starter = threading.Thread(target=_build_and_start, args=(built, wake_fd, go, cancelled),
                               name="journal-start", daemon=True)
    starter.start()
    try:
        for line in control.makefile("rb"):
            number, _, request = line.strip().decode().partition(" ")
            if number == "go":
                go.set()
                continue
            answer = _answer(built[0] if built else None, request)
            control.sendall(f"{number} {json.dumps(answer)}\n".encode())
    except (KeyboardInterrupt, OSError):
        pass
    finally:
        cancelled.set()
        go.set()
        starter.join()
        if built:
            built[0].stop()
    return 0


def _build_and_start(built: list[Neutrino], wake_fd: int, go: threading.Event,
                     cancelled: threading.Event) -> None:
    from neutrino.bootstrap import build, freeze_start_up_objects
    from neutrino.db.migrate import migrated
    from neutrino.settings import load_settings

    settings = load_settings()
    if not migrated(settings.db_url):
        go.wait()  # the parent migrates it
    if cancelled.is_set():
        return
    try:
        app = build(settings, migrate=False, role="journal",
                    wakeup=InheritedPipeWakeup(wake_fd))
        app.start()
        freeze_start_up_objects()
    except Exception:
        # the parent starts another after a delay, and this says why each time
        LOG.exception("the journal process could not start")
        os._exit(1)
    built.append(app)


def _answer(app: Neutrino | None, request: str) -> Any:
    if app is None:
        return None  # still starting: the parent reports it as not answering yet
    if request == "status":
        return app.ovn_status()
    if request == "metrics":
        from neutrino.metrics import families

        return families(app.metrics.registry)
    return {"error": f"unknown request {request!r}"}
