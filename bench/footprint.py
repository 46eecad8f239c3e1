"""Footprint benchmark: how long `neutrino serve` takes to be ready, and its idle memory.

Ready means `/healthz` answers 200 with OVN NB connected, timed from the exec; measured on a
fresh database (migrations included) and again on the same database (a restart). Idle RSS is
read from /proc after the server has been idle for a few seconds (its journal worker,
maintenance and IDL threads running), summed over its processes: the API's and, by default,
its journal process (pages they share count in both, so the sum is an upper bound; the
proportional set size, `pss_idle_mb`, counts each shared page once; `per_process` gives
both for each process). `cpu_at_ready_s` is the CPU time the server's processes had spent
when it was ready, per process, from /proc: unlike the wall time it hardly moves with other
load on the machine.

Python compiles a module's source each time it imports it unless a bytecode cache exists:
with PYTHONDONTWRITEBYTECODE=1 in the environment and no `__pycache__` in `src/`, every
start compiles neutrino's ~160 modules (about 0.4 s of CPU here); an installed package (pip
compiles at install time) does not. `bytecode` says which, and `--bytecode-cache` lets the
first start write a cache (PYTHONPYCACHEPREFIX, a scratch directory) that the restarts
then read, as an installed neutrino would.
The baseline, in the same run, is a bare Starlette app
with one route served by uvicorn from the same interpreter: the floor of the web stack.

    /tmp/venv/bin/python bench/footprint.py [--out FILE] [--restarts N] [--bytecode-cache]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import emit, free_port, machine, ms, neutrino_env, ratio, throwaway_ovn
from serve import rss_kib, with_children

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
IDLE_SECONDS = 5.0
POLL = 0.01
TIMEOUT = 60.0
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def healthz(request):
    return JSONResponse({"ovn_nb": "connected"})

app = Starlette(routes=[Route("/healthz", healthz)])
"""


def _cpu_s(pid: int) -> list[float]:
    """CPU seconds (user + system) each of the server's processes has spent so far."""
    found = []
    for each in with_children(pid):
        fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        found.append(round((int(fields[11]) + int(fields[12])) / CLOCK_TICKS, 3))
    return found


def _per_process(pid: int) -> list[dict[str, float]]:
    """Each process's RSS and PSS (MB), the server's first."""
    found = []
    for each in with_children(pid):
        rollup = {line.split(":")[0]: int(line.split()[1]) for line in
                  Path(f"/proc/{each}/smaps_rollup").read_text().splitlines()[1:]}
        found.append({"rss_mb": round(rollup["Rss"] / 1024, 1),
                      "pss_mb": round(rollup["Pss"] / 1024, 1)})
    return found


def _rss_mb(pid: int) -> float:
    """The server's resident memory: its process and its journal process, summed."""
    return round(rss_kib(pid)["VmRSS"] / 1024, 1)


def _pss_mb(pid: int) -> float:
    """The same processes' proportional set size: a page they share counts once in all."""
    total = 0
    for each in with_children(pid):
        for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


@contextlib.contextmanager
def _started(cmd: list[str], env: dict[str, str], cwd: Path, base: str,
             ) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """The process and the seconds from its exec to a healthy /healthz."""
    with open(cwd / "footprint.log", "ab") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=base, timeout=2.0) as http:
            while proc.poll() is None and time.perf_counter() - started < TIMEOUT:
                with contextlib.suppress(httpx.TransportError):
                    answer = http.get("/healthz")
                    if answer.status_code == 200 and \
                            answer.json().get("ovn_nb") == "connected":
                        break
                time.sleep(POLL)
            else:
                raise RuntimeError(f"{cmd[:4]} did not become healthy (exit {proc.poll()})")
        yield proc, time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _measure(cmd: list[str], env: dict[str, str], cwd: Path, base: str) -> dict[str, Any]:
    with _started(cmd, env, cwd, base) as (proc, ready):
        cpu, at_ready = _cpu_s(proc.pid), _rss_mb(proc.pid)
        time.sleep(IDLE_SECONDS)
        return {"ready_ms": ms(ready), "cpu_at_ready_s": cpu, "rss_at_ready_mb": at_ready,
                "rss_idle_mb": _rss_mb(proc.pid), "pss_idle_mb": _pss_mb(proc.pid),
                "per_process": _per_process(proc.pid),
                "processes": len(with_children(proc.pid)),
                "load_average": round(os.getloadavg()[0], 2)}


def _bytecode(env: dict[str, str]) -> str:
    if env.get("PYTHONPYCACHEPREFIX") and not env.get("PYTHONDONTWRITEBYTECODE"):
        return "cached (PYTHONPYCACHEPREFIX, written by the first start)"
    import neutrino

    cached = any(Path(neutrino.__file__).parent.glob("__pycache__/*.pyc"))
    if cached:
        return "cached (__pycache__)"
    if env.get("PYTHONDONTWRITEBYTECODE"):
        return "compiled at each start (PYTHONDONTWRITEBYTECODE, no __pycache__)"
    return "compiled by the first start, cached (__pycache__) for the restarts"


def neutrino(restarts: int = 1, bytecode_cache: bool = False) -> dict[str, Any]:
    with throwaway_ovn("fp") as (directory, ovn):
        (directory / "state").mkdir(exist_ok=True)
        port = free_port()
        env = dict(os.environ, **neutrino_env(directory, ovn),
                   NEUTRINO_BIND=f"127.0.0.1:{port}")
        if bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(directory / "pycache")
        cmd = [sys.executable, "-m", "neutrino.cli", "serve"]
        base = f"http://127.0.0.1:{port}"
        fresh = _measure(cmd, env, directory, base)
        again = [_measure(cmd, env, directory, base) for _ in range(restarts)]
    found = {"bytecode": _bytecode(env), "fresh_database": fresh, "restart": again[0]}
    if restarts > 1:
        found["restarts"] = again
    return found


def bare() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fp-bare") as scratch:
        directory = Path(scratch)
        (directory / "bare_app.py").write_text(BARE_APP)
        port = free_port()
        cmd = [sys.executable, "-m", "uvicorn", "--app-dir", str(directory), "--port",
               str(port), "--log-level", "warning", "bare_app:app"]
        return _measure(cmd, dict(os.environ), directory, f"http://127.0.0.1:{port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--restarts", type=int, default=1,
                        help="restarts measured after the fresh start (default 1)")
    parser.add_argument("--bytecode-cache", action="store_true",
                        help="let the first start write a bytecode cache the restarts read "
                             "(as an installed package has)")
    args = parser.parse_args(argv)
    base, ours = bare(), neutrino(args.restarts, args.bytecode_cache)
    emit({"benchmark": "footprint", "machine": machine(), "baseline_bare_uvicorn": base,
          "neutrino": ours,
          "ratios": {"restart_ready_vs_bare": ratio(ours["restart"]["ready_ms"],
                                                    base["ready_ms"]),
                     "idle_rss_vs_bare": ratio(ours["restart"]["rss_idle_mb"],
                                               base["rss_idle_mb"])}}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
