"""Session fixtures shared by functional and end-to-end tests: a real local OVN, and a real
`neutrino serve` process on it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from neutrino.ovn.local import LocalOvn, down, up


@pytest.fixture(scope="session")
def local_ovn() -> Iterator[LocalOvn]:
    """One NB/SB/northd for the whole session, torn down at the end."""
    # Not tmp_path_factory: its paths can push the unix sockets past the ~107-byte limit.
    directory = Path(tempfile.mkdtemp(prefix="nov", dir="/tmp"))
    try:
        yield up(directory)
    finally:
        down(directory)
        shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class Served:
    url: str
    state_dir: Path
    ovn: LocalOvn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(local_ovn: LocalOvn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`neutrino serve` as a real process (uvicorn, SQLite, journal workers)."""
    state = tmp_path_factory.mktemp("served")
    port = free_port()
    env = dict(os.environ, NEUTRINO_STATE_DIR=str(state), NEUTRINO_BIND=f"127.0.0.1:{port}",
               NEUTRINO_OVN_NB=local_ovn.nb, NEUTRINO_OVN_SB=local_ovn.sb)
    log = open(state / "serve.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen([sys.executable, "-m", "neutrino.cli", "serve"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, state / "serve.log")
        yield Served(url, state, local_ovn)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
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
