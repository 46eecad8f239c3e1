"""VM boot benchmark: from a port's create to the VM's first ping, and to Nova's event.

For each of N VMs, one after another, a port is created for a server on the lab chassis and a
"VM" (a namespace from `neutrino.lab.vm`) is plugged in as it at once. From the moment the
201 arrives the run records when the port's LSP appears in NB, when the API reports the port
ACTIVE, when Nova (a receiver checking tokens with a real Keystone) hears
network-vif-plugged, when the VM holds a DHCP lease, and when it first pings a peer VM
through the datapath. The API + journal alone (201 -> LSP in NB) is the baseline, measured
in the same run.

Run with the virtualenv's interpreter, as root (namespaces, veths); it prints one JSON
document on stdout:

    /tmp/venv/bin/python bench/vm_boot.py [--vms N] [--no-nova] [--out FILE]

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import LspWatcher, emit, free_port, machine, percentiles, ratio, throwaway_ovn
from serve import (
    LOG_PROBLEM,
    Server,
    client,
    create_network,
    get,
    health,
    journal_counts,
    neutrino_server,
    post,
)

from neutrino.lab import hypervisor, vm
from neutrino.ovn.local import LocalOvn

# The Nova stand-in and the real Keystone are the tests' own helpers, reused, not copied.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from keystone_tools import Keystone, start_keystone  # noqa: E402
from nova_receiver import USER, NovaReceiver, nova_env  # noqa: E402

CIDR = "10.70.0.0/16"
STEP_TIMEOUT = 60.0  # seconds for any one step of one VM (ACTIVE, NB, Nova, ping)
POLL = 0.01  # seconds between polls of the port's status
CHASSIS_TIMEOUT = 60.0
PLUGGED = "network-vif-plugged"
# Each VM's figures, in the order they happen; every one is seconds after the 201.
STEPS = ("plugged", "in_nb", "active", "nova_event", "dhcp_lease", "first_ping")


@dataclass
class TimedReceiver(NovaReceiver):
    """The tests' Nova receiver, also noting when each event first arrived (perf_counter),
    before its token is checked: what Keystone costs the receiver is not neutrino's time."""

    arrived: dict[tuple[str, str], float] = field(default_factory=dict)

    def answer(self, token: str, events: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        now = time.perf_counter()
        with self.lock:
            for event in events:
                self.arrived.setdefault((event["name"], event["tag"]), now)
        return super().answer(token, events)


@dataclass
class Boot:
    """One VM's timeline: the POST's own latency and each step's seconds after its 201."""

    port_id: str
    api_s: float
    after_201: dict[str, float] = field(default_factory=dict)


# --- Keystone and Nova ---------------------------------------------------------------------


@contextlib.contextmanager
def nova_stand_in(enabled: bool) -> Iterator[TimedReceiver | None]:
    """A real Keystone with Nova's service user and a receiver for Nova's events, stopped
    and removed afterwards; None when the run leaves Nova out."""
    if not enabled:
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="nbk", dir="/tmp"))
    keystone: Keystone | None = None
    receiver: TimedReceiver | None = None
    try:
        keystone = start_keystone(directory, free_port())
        keystone.projects["service"] = keystone.create(
            "projects", {"name": "service", "domain_id": "default"})
        keystone.user(USER, "service", "admin")
        receiver = TimedReceiver(keystone)
        yield receiver.start()
    finally:
        if receiver is not None:
            receiver.stop()
        if keystone is not None:
            keystone.process.terminate()
            keystone.process.wait(timeout=20)
        shutil.rmtree(directory, ignore_errors=True)


# --- the lab -------------------------------------------------------------------------------


@contextlib.contextmanager
def lab_hypervisor(ovn: LocalOvn, http: httpx.Client) -> Iterator[hypervisor.Lab]:
    """The lab chassis in a short /tmp directory, registered with the server; its VMs,
    daemons, namespaces and directory are removed afterwards, even after a failure."""
    directory = Path(tempfile.mkdtemp(prefix="nbv", dir="/tmp"))
    try:
        lab = hypervisor.up(directory, ovn.sb)
        _wait_chassis(http, lab.chassis)
        yield lab
    finally:
        with contextlib.suppress(Exception):  # the lab may not have come up at all
            vm.unplug_all(hypervisor.load(directory))
        hypervisor.down(directory)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_chassis(http: httpx.Client, chassis: str) -> None:
    """Until the server lists the lab's ovn-controller as an agent: ports bound to it can
    then go ACTIVE."""
    deadline = time.monotonic() + CHASSIS_TIMEOUT
    while time.monotonic() < deadline:
        agents = get(http, "/v2.0/agents")["agents"]
        if any(agent.get("configurations", {}).get("chassis_name") == chassis
               for agent in agents):
            return
        time.sleep(0.2)
    raise RuntimeError(f"chassis {chassis} not among the agents after {CHASSIS_TIMEOUT}s")


# --- one VM --------------------------------------------------------------------------------


def create_port(http: httpx.Client, lab: hypervisor.Lab, network_id: str,
                server_id: str) -> tuple[dict[str, Any], float, float]:
    """A server's port bound to the lab chassis; (port, POST seconds, perf_counter of 201)."""
    started = time.perf_counter()
    port = post(http, "/v2.0/ports", {"port": {
        "network_id": network_id, "binding:host_id": lab.chassis,
        "device_owner": "compute:nova", "device_id": server_id}})["port"]
    answered = time.perf_counter()
    return port, answered - started, answered


def wait_until(what: str, done: Any, timeout: float = STEP_TIMEOUT,
               poll: float = POLL) -> float:
    """perf_counter of the first poll at which `done()` held; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not seen after {timeout}s")
        time.sleep(poll)
    return time.perf_counter()


def first_ping(machine_: vm.Vm, address: str) -> float:
    """perf_counter when one ping from the VM to `address` first came back."""
    return wait_until(f"ping from {machine_.port_id} to {address}",
                      lambda: machine_.ping(address, count=1), poll=0)


def boot(http: httpx.Client, lab: hypervisor.Lab, network_id: str, watcher: LspWatcher,
         nova: TimedReceiver | None, target: str | None) -> tuple[Boot, vm.Vm, str]:
    """Create a port, plug a VM in as it straight away, follow it until it pings `target`
    (until it has a lease when there is no target yet); the VM and its address."""
    server_id = str(uuid.uuid4())
    if nova is not None:
        nova.known_servers.add(server_id)
    port, api_s, t_201 = create_port(http, lab, network_id, server_id)
    port_id = port["id"]
    machine_ = vm.plug(lab, port_id, port["mac_address"])
    moments = {"plugged": time.perf_counter()}
    moments["active"] = wait_until(f"port {port_id} ACTIVE", lambda: get(
        http, f"/v2.0/ports/{port_id}")["port"]["status"] == "ACTIVE")
    # As Nova starts the guest only once the port is ACTIVE (vif-plugged), the VM asks for
    # its address then: a DHCPDISCOVER sent earlier would be lost and dhclient's back-off,
    # not neutrino, would decide the figure.
    offer = vm.dhcp(lab, machine_)
    moments["dhcp_lease"] = time.perf_counter()
    if target is not None:
        moments["first_ping"] = first_ping(machine_, target)
    if watcher.wait_for([port_id]):
        raise RuntimeError(f"LSP {port_id} not in NB")
    moments["in_nb"] = watcher.first_seen[port_id]
    if nova is not None:
        key = (PLUGGED, port_id)
        wait_until(f"{PLUGGED} for {port_id}", lambda: key in nova.arrived)
        moments["nova_event"] = nova.arrived[key]
        # The receiver checks the token with Keystone after the event arrived; let it finish
        # so that its work does not share the CPUs with the next VM's measurement.
        wait_until("Nova's answer", lambda: len(nova.events()) >= len(nova.arrived))
    result = Boot(port_id, api_s, {step: moments[step] - t_201 for step in STEPS
                                   if step in moments})
    return result, machine_, offer["new_ip_address"]


# --- the run -------------------------------------------------------------------------------


def measure(server: Server, ovn: LocalOvn, nova: TimedReceiver | None,
            vms: int) -> dict[str, Any]:
    with client(server.base) as http, LspWatcher(ovn.nb) as watcher, \
            lab_hypervisor(ovn, http) as lab:
        network_id, _ = create_network(http, "vm-boot", CIDR)
        # The first VM is the peer every measured VM pings: a packet that crosses br-int's
        # pipeline both ways, ARP first, so the new port's flows must be in place.
        _, target_vm, target = boot(http, lab, network_id, watcher, nova, None)
        warm_ping = _warm_ping(target_vm, target)
        started = time.perf_counter()
        boots = [boot(http, lab, network_id, watcher, nova, target)[0] for _ in range(vms)]
        wall = time.perf_counter() - started
        journal = journal_counts(health(http))
        # Before the lab goes: unplugging the VMs sends network-vif-unplugged events.
        return figures(boots, wall, warm_ping, journal, nova)


def _warm_ping(machine_: vm.Vm, address: str) -> float:
    """Seconds a ping takes once the path is known (the VM pings its own address): the
    floor of `first_ping`, the cost of `ip netns exec ping` itself."""
    started = time.perf_counter()
    if not machine_.ping(address, count=1):
        raise RuntimeError(f"VM {machine_.port_id} cannot ping its own address {address}")
    return time.perf_counter() - started


def figures(boots: list[Boot], wall: float, warm_ping: float, journal: dict[str, int],
            nova: TimedReceiver | None) -> dict[str, Any]:
    after = {step: percentiles([b.after_201[step] for b in boots if step in b.after_201])
             for step in STEPS}
    baseline = after["in_nb"]
    return {
        "vms": len(boots),
        "wall_s": round(wall, 3),
        "api_post": percentiles([b.api_s for b in boots]),
        "after_201": after,
        "baseline_api_journal": baseline,
        "warm_ping_ms": round(warm_ping * 1000, 3),
        "ratios": {
            f"{step}_vs_in_nb_{p}": ratio(after[step].get(f"{p}_ms"), baseline.get(f"{p}_ms"))
            for step in ("active", "nova_event", "dhcp_lease", "first_ping")
            for p in ("p50", "p99")},
        "nova": nova_figures(nova, boots) if nova is not None else "left out (--no-nova)",
        "journal_states_at_end": journal,
    }


def nova_figures(nova: TimedReceiver, boots: list[Boot]) -> dict[str, Any]:
    """What the receiver got while the VMs booted; `plugged_once_each` is true when every
    port (the measured ones and the ping target) was announced exactly once."""
    events = nova.events()
    plugged = Counter(e["tag"] for e in events if e["name"] == PLUGGED)
    return {"events_received": len(events),
            "events_by_name": dict(Counter(e["name"] for e in events)),
            "plugged_once_each": len(plugged) == len(boots) + 1
            and set(plugged.values()) == {1} and all(b.port_id in plugged for b in boots),
            "requests": len(nova.requests),
            "tokens_valid": all(r.token_valid for r in nova.requests),
            "statuses": sorted({r.status for r in nova.requests})}


def run(vms: int, with_nova: bool) -> dict[str, Any]:
    with nova_stand_in(with_nova) as nova, throwaway_ovn("nvb") as (directory, ovn):
        extra = nova_env(nova.keystone, nova.url) if nova is not None else {}
        with neutrino_server(directory, ovn, **extra) as server:
            start = server.log_size()
            result = measure(server, ovn, nova, vms)
            result["serve_log_problems"] = [
                line for line in server.log_lines(start) if LOG_PROBLEM.search(line)][:20]
    result["machine"] = machine()
    return result


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--vms", type=int, default=100, help="VMs booted (default 100)")
    parser.add_argument("--no-nova", action="store_true",
                        help="no Keystone or Nova receiver: leave the Nova event out")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    if args.vms < 1:
        parser.error("--vms must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    emit(run(args.vms, not args.no_nova), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
