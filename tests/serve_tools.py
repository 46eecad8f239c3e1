"""Running `neutrino serve` as a real process, for tests (not a test module)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx

from neutrino.ovn.local import LocalOvn, down, up


@contextlib.contextmanager
def throwaway_ovn(prefix: str) -> Iterator[LocalOvn]:
    """NB, SB and northd in a fresh directory, stopped and removed afterwards."""
    # Not tmp_path_factory: its paths can push the unix sockets past the ~107-byte limit.
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        yield up(directory)
    finally:
        down(directory)
        shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(ovn: LocalOvn, state: Path, **env: str) -> tuple[str, subprocess.Popen[bytes]]:
    """Start `neutrino serve` as a process; returns its URL and the process (caller stops it)."""
    state.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = dict(os.environ, NEUTRINO_STATE_DIR=str(state), NEUTRINO_BIND=f"127.0.0.1:{port}",
                    NEUTRINO_OVN_NB=ovn.nb, NEUTRINO_OVN_SB=ovn.sb, **env)
    log = open(state / f"serve-{port}.log", "w")  # noqa: SIM115 - owned by the process
    # a session of its own: `signal_node` reaches its journal process too
    proc = subprocess.Popen([sys.executable, "-m", "neutrino.cli", "serve"], env=full_env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, state / f"serve-{port}.log")
    except BaseException:
        signal_node(proc, signal.SIGKILL)  # a node that never became healthy is not left
        proc.wait(timeout=10)
        raise
    return url, proc


def stop_serve(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        signal_node(proc, signal.SIGKILL)
        proc.wait(timeout=10)


def signal_node(proc: subprocess.Popen[bytes], signum: int) -> None:
    """A signal to a `start_serve` node as a whole: the API's process and its journal
    process (SIGSTOP, SIGKILL: a node that freezes or dies, not half of one)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"neutrino serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).json().get("ovn_nb") == "connected":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"neutrino serve not healthy: {log.read_text()[-3000:]}")
