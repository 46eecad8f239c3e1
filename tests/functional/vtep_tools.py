"""A hardware VTEP switch emulated by a VTEP ovsdb-server, and ovn-controller-vtep.

The VTEP database uses the `hardware_vtep` schema of the `openvswitch-vtep` package; the
physical switch and its ports are made with `vtep-ctl`, as a top-of-rack switch's own agent
would. `ovn-controller-vtep` (package `ovn-controller-vtep`) links that database to OVN SB:
it registers the physical switch as an SB Chassis, claims `vtep` port bindings, sets the
tunnel keys of VTEP logical switches and exchanges MACs both ways.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from neutrino import daemons
from neutrino.ovn.local import LocalOvn

VTEP_SCHEMA = "/usr/share/openvswitch/vtep.ovsschema"
SERVER = "vtep_db"
CONTROLLER = "ovn-controller-vtep"


@dataclass(frozen=True)
class Vtep:
    directory: Path
    remote: str  # unix:<socket>

    def ctl(self, *args: str) -> str:
        return subprocess.run(["vtep-ctl", f"--db={self.remote}", "--timeout=10", *args],
                              check=True, capture_output=True, text=True).stdout

    def rows(self, table: str, *columns: str) -> list[str]:
        """`vtep-ctl --columns=... list TABLE`, one line per row value."""
        out = self.ctl("--bare", f"--columns={','.join(columns)}", "list", table)
        return [line for line in out.splitlines() if line.strip()]

    def stop_server(self) -> None:
        daemons.stop_daemon(self.directory, SERVER)

    def start_server(self) -> None:
        socket = self.remote.removeprefix("unix:")
        daemons.run_daemon(self.directory, SERVER, [
            "ovsdb-server", str(self.directory / "vtep.db"), f"--remote=punix:{socket}",
            *daemons.daemon_options(self.directory, SERVER)])


def start_vtep(directory: Path, switch: str, ports: tuple[str, ...],
               tunnel_ip: str) -> Vtep:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ovsdb-tool", "create", str(directory / "vtep.db"), VTEP_SCHEMA],
                   check=True, capture_output=True)
    vtep = Vtep(directory, f"unix:{directory / 'vtep.sock'}")
    vtep.start_server()
    vtep.ctl("add-ps", switch)
    vtep.ctl("set", "Physical_Switch", switch, f"tunnel_ips={tunnel_ip}")
    for port in ports:
        vtep.ctl("add-port", switch, port)
    return vtep


def start_controller(vtep: Vtep, ovn: LocalOvn) -> None:
    """ovn-controller-vtep between the VTEP database and OVN SB (its run directory must be
    writable: OVN_RUNDIR points it at the VTEP's own directory)."""
    daemons.run_daemon(vtep.directory, CONTROLLER, [
        CONTROLLER, f"--vtep-db={vtep.remote}", f"--ovnsb-db={ovn.sb}",
        *daemons.daemon_options(vtep.directory, CONTROLLER, unixctl=False)],
        env={"OVN_RUNDIR": str(vtep.directory)})


@contextlib.contextmanager
def vtep_switch(directory: Path, ovn: LocalOvn, switch: str, ports: tuple[str, ...],
                tunnel_ip: str) -> Iterator[Vtep]:
    vtep = start_vtep(directory, switch, ports, tunnel_ip)
    try:
        start_controller(vtep, ovn)
        yield vtep
    finally:
        daemons.stop_daemon(directory, CONTROLLER)
        vtep.stop_server()
