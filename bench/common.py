"""Helpers shared by the benchmarks: throwaway OVN, raw ovsdbapp access, figures, output.

Imported as `common` from the benchmark scripts in this directory (running
`python bench/<script>.py` puts bench/ first on sys.path).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.ovn_northbound import impl_idl

from neutrino.ovn import local
from neutrino.ovn.local import LocalOvn
from neutrino.settings import DEFAULT_QUOTAS

# Benchmarks create far more than Neutron's default quotas allow one project.
UNLIMITED_QUOTAS = {f"NEUTRINO_QUOTA_{name.upper()}": "-1" for name in DEFAULT_QUOTAS}


@contextlib.contextmanager
def throwaway_ovn(prefix: str = "nb") -> Iterator[tuple[Path, LocalOvn]]:
    """A private NB/SB/northd in a short /tmp directory, stopped and removed afterwards.

    The directory is short on purpose: the unix sockets inside must stay under 107 bytes.
    """
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        yield directory, local.up(directory / "ovn")
    finally:
        local.down(directory / "ovn")
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def ovsdbapp_nb(nb: str, timeout: float = 30.0) -> Iterator[impl_idl.OvnNbApiIdlImpl]:
    """Plain ovsdbapp OVN NB API on its own IDL connection, stopped afterwards.

    ovsdbapp keeps the connection on the Backend *class*, so each call gets a throwaway
    subclass: two of these (or one after another) never share a connection by accident.
    """
    idl = connection.OvsdbIdl.from_server(nb, "OVN_Northbound")
    conn = connection.Connection(idl, timeout=timeout)
    api: impl_idl.OvnNbApiIdlImpl = type("Api", (impl_idl.OvnNbApiIdlImpl,), {})(conn)
    try:
        yield api
    finally:
        api.ovsdb_connection.stop(timeout=5)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either figure is missing (or zero below)."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def machine() -> dict[str, Any]:
    """CPU count, Python version, platform and ovsdb-server version of this run."""
    version = subprocess.run(["ovsdb-server", "--version"], capture_output=True, text=True,
                             check=False).stdout.splitlines()
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "ovsdb_server": version[0] if version else None}


def emit(result: dict[str, Any], out: Path | None) -> None:
    """Print the one JSON document on stdout and, with --out, also write it to a file."""
    document = json.dumps(result, indent=2)
    if out:
        out.write_text(document + "\n")
    print(document)
