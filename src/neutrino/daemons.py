"""Detached OVS/OVN daemons kept in one directory: start, find and stop them by pidfile.

Every daemon `name` has `<dir>/<name>.pid`, `.log` and `.ctl`; it runs detached (it outlives
the Python process that started it) and is stopped only through its own pidfile, so a
process stops exactly the daemons it names and never another instance's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from neutrino.errors import BackendUnavailable

STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
POLL = 0.05


def path(root: Path, name: str, suffix: str) -> Path:
    return root / f"{name}.{suffix}"


def daemon_options(root: Path, name: str, unixctl: bool = True) -> list[str]:
    """Detach, with pidfile, log and (for daemons that take the option) control socket in
    `root`; the others put `<name>.<pid>.ctl` in their run directory."""
    options = ["--detach", "--no-chdir", f"--pidfile={path(root, name, 'pid')}",
               f"--log-file={path(root, name, 'log')}"]
    return options + ([f"--unixctl={path(root, name, 'ctl')}"] if unixctl else [])


def run_daemon(root: Path, name: str, argv: list[str],
               env: Mapping[str, str] | None = None) -> None:
    # With --detach the command returns once the daemon is initialised (or has failed).
    # Stale sockets and pidfiles left by a killed daemon are handled by the daemon itself.
    run(root, name, argv, env)
    if live_pid(root, name) is None:
        raise BackendUnavailable(f"{name} exited right after starting\n{log_tail(root, name)}")


def run(root: Path, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> str:
    """Run an OVS/OVN command; failures become BackendUnavailable carrying the log tail."""
    try:
        done = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30,
                              env=None if env is None else {**os.environ, **env})
    except subprocess.CalledProcessError as e:
        raise BackendUnavailable(
            f"{name}: {' '.join(argv)} failed with status {e.returncode}: "
            f"{e.stderr.strip()}\n{log_tail(root, name)}"
        ) from e
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BackendUnavailable(f"{name}: {' '.join(argv)} failed: {e}") from e
    return done.stdout


def log_tail(root: Path, name: str, lines: int = 20) -> str:
    try:
        text = path(root, name, "log").read_text(errors="replace")
    except OSError:
        return f"(no log at {path(root, name, 'log')})"
    return "\n".join(text.splitlines()[-lines:])


def live_pid(root: Path, name: str) -> int | None:
    """The pid in `name`'s pidfile, if that process is alive and really is our daemon.

    A pidfile left behind by a killed daemon may name a pid since reused by an unrelated
    process; on Linux the process's command line must mention this very pidfile.
    """
    pidfile = path(root, name, "pid")
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid <= 0 or not _alive(pid):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return None if Path("/proc/self").exists() else pid
    except OSError:
        return None
    return pid if os.fsencode(f"--pidfile={pidfile}") in cmdline.split(b"\0") else None


def _alive(pid: int) -> bool:
    """Whether `pid` runs; zombies count as dead (the detached daemons' reaper may be slow)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state letter follows the parenthesised command name, which may contain spaces.
    return stat.rpartition(")")[2].split()[0] != "Z"


def stop_daemon(root: Path, name: str) -> bool:
    """Stop `name` if it runs; always clear its pidfile. Return whether it was running."""
    pid = live_pid(root, name)
    if pid is not None:
        _terminate(pid)
    path(root, name, "pid").unlink(missing_ok=True)
    return pid is not None


def _terminate(pid: int) -> None:
    _signal(pid, signal.SIGTERM)
    if _wait_gone(pid, STOP_TIMEOUT):
        return
    _signal(pid, signal.SIGKILL)
    _wait_gone(pid, STOP_TIMEOUT)


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have exited meanwhile
        os.kill(pid, signum)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)
    return True
