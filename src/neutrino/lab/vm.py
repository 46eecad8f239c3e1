"""A "VM" on the lab hypervisor: a network namespace plugged into br-int as a Neutron port.

The namespace's eth0 carries the port's MAC; the host end of its veth is an OVS port whose
`external_ids:iface-id` is the port id, which is how ovn-controller binds the logical port to
this chassis. Addresses come from OVN's native DHCP through a real `dhclient`, run with
files of its own and a script that only records what it was offered (the stock script would
rewrite the host's resolver configuration); the address and routes are then set here.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from neutrino import daemons
from neutrino.errors import BackendUnavailable
from neutrino.lab.hypervisor import Lab, checksum_offload_off, run_ip, vsctl

# dhclient asks for the classless static routes option only when told it exists.
DHCLIENT_CONF = """\
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
request subnet-mask, broadcast-address, routers, interface-mtu,
        rfc3442-classless-static-routes, domain-name-servers;
"""
# Records the variables dhclient hands its script, one file per reason.
DHCLIENT_SCRIPT = """#!/bin/sh
env > "{out}.$reason"
"""


@dataclass(frozen=True)
class Vm:
    port_id: str
    namespace: str
    host_device: str  # the veth end in br-int
    mac: str

    def exec(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run a command inside the VM's namespace (not checked)."""
        return in_namespace(self.namespace, *argv, timeout=timeout)

    def ping(self, address: str, count: int = 2) -> bool:
        return self.exec("ping", "-c", str(count), "-W", "1", "-i", "0.2",
                         address).returncode == 0

    def connect(self, address: str, port: int, timeout: float = 3) -> str | None:
        """What a TCP server at `address:port` says, or None when it cannot be reached."""
        done = self.exec("ncat", "--recv-only", "-w", str(timeout), address, str(port),
                         timeout=timeout + 10)
        return done.stdout.strip() if done.returncode == 0 else None


def in_namespace(namespace: str, *argv: str,
                 timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", namespace, *argv], capture_output=True,
                          text=True, timeout=timeout)


def tcp_server(namespace: str, port: int) -> subprocess.Popen[bytes]:
    """A TCP server in `namespace` that tells each client the address it came from; the
    caller stops it (terminate), as nothing else will: namespaces do not own processes."""
    return subprocess.Popen(["ip", "netns", "exec", namespace, "ncat", "-l", "-k", "-p",
                             str(port), "--sh-exec", "echo $NCAT_REMOTE_ADDR"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def names(port_id: str) -> tuple[str, str]:
    """The namespace and host device of a port's VM (device names hold 15 bytes)."""
    short = port_id.replace("-", "")[:10]
    return f"nlab-{short}", f"nv{short}"


def plug(lab: Lab, port_id: str, mac: str) -> Vm:
    """A namespace wired into the chassis' integration bridge as `port_id` (the host end of
    its veth in the chassis' namespace, if it has one); nothing is configured on it yet."""
    namespace, device = names(port_id)
    vm = Vm(port_id, namespace, device, mac)
    _vms(lab).mkdir(exist_ok=True)
    _record(lab, vm).write_text(json.dumps(asdict(vm)))  # first, so unplug finds a half-made VM
    run_ip("netns", "add", namespace)
    run_ip("link", "add", device, "type", "veth", "peer", "name", "eth0", "netns", namespace)
    host = _host(lab)
    if lab.namespace:
        run_ip("link", "set", device, "netns", lab.namespace)
    for command in (["-n", namespace, "link", "set", "eth0", "address", mac],
                    ["-n", namespace, "link", "set", "lo", "up"],
                    ["-n", namespace, "link", "set", "eth0", "up"],
                    [*host, "link", "set", device, "up"]):
        run_ip(*command)
    checksum_offload_off(device, lab.namespace)
    checksum_offload_off("eth0", namespace)
    vsctl(lab, "--may-exist", "add-port", lab.integration_bridge, device, "--", "set",
          "Interface", device, f'external_ids:iface-id="{port_id}"')
    return vm


def _host(lab: Lab) -> list[str]:
    """`ip` options for the chassis' own namespace."""
    return ["-n", lab.namespace] if lab.namespace else []


def dhcp(lab: Lab, vm: Vm, timeout: float = 30) -> dict[str, str]:
    """Ask OVN's DHCP for an address and configure what it offers; returns the offer."""
    base = _vms(lab) / vm.port_id
    conf, script, out = base.with_suffix(".conf"), base.with_suffix(".sh"), base.with_suffix(
        ".offer")
    conf.write_text(DHCLIENT_CONF)
    script.write_text(DHCLIENT_SCRIPT.format(out=out))
    script.chmod(0o755)
    started = time.monotonic()
    done = vm.exec("dhclient", "-1", "-v", "-cf", str(conf), "-sf", str(script),
                   "-lf", str(base.with_suffix(".lease")), "-pf", str(_dhclient_pid(lab, vm)),
                   "eth0", timeout=timeout + 5)
    bound = Path(f"{out}.BOUND")
    if done.returncode != 0 or not bound.exists():
        raise BackendUnavailable(f"no DHCP lease for {vm.port_id} after "
                                 f"{time.monotonic() - started:.1f}s: {done.stderr[-1500:]}")
    offer = dict(line.split("=", 1) for line in bound.read_text().splitlines() if "=" in line)
    _configure(vm, offer)
    return offer


def unplug(lab: Lab, port_id: str) -> None:
    """Remove the VM (its dhclient, OVS port, namespace and veth); no error if half-made."""
    namespace, device = names(port_id)
    pidfile = _dhclient_pid_path(lab, port_id)
    try:
        pid = int(pidfile.read_text().strip())
        subprocess.run(["kill", str(pid)], capture_output=True, timeout=10, check=False)
    except (OSError, ValueError):
        pass
    subprocess.run(["ovs-vsctl", f"--db={lab.ovs_db}", "--timeout=10", "--if-exists",
                    "del-port", lab.integration_bridge, device], capture_output=True, timeout=30)
    subprocess.run(["ip", "netns", "delete", namespace], capture_output=True, timeout=30)
    # a half-made VM's device may still be here rather than in the chassis' namespace
    subprocess.run(["ip", "link", "delete", device], capture_output=True, timeout=30)
    if lab.namespace:
        subprocess.run(["ip", *_host(lab), "link", "delete", device], capture_output=True,
                       timeout=30)
    for leftover in _vms(lab).glob(f"{port_id}*"):
        leftover.unlink(missing_ok=True)


def plugged(lab: Lab) -> list[Vm]:
    found = []
    for record in sorted(_vms(lab).glob("*.json")):
        found.append(Vm(**json.loads(record.read_text())))
    return found


def unplug_all(lab: Lab) -> list[str]:
    ports = [vm.port_id for vm in plugged(lab)]
    for port_id in ports:
        unplug(lab, port_id)
    return ports


def _configure(vm: Vm, offer: dict[str, str]) -> None:
    address = ipaddress.ip_interface(f"{offer['new_ip_address']}/{offer['new_subnet_mask']}")
    run_ip("-n", vm.namespace, "addr", "add", str(address), "dev", "eth0")
    if offer.get("new_interface_mtu"):
        run_ip("-n", vm.namespace, "link", "set", "eth0", "mtu", offer["new_interface_mtu"])
    routes = classless_routes(offer.get("new_rfc3442_classless_static_routes", ""))
    if not routes and offer.get("new_routers"):
        routes = [("0.0.0.0/0", offer["new_routers"].split()[0])]
    for destination, gateway in routes:
        if gateway == "0.0.0.0":
            run_ip("-n", vm.namespace, "route", "replace", destination, "dev", "eth0")
        else:
            run_ip("-n", vm.namespace, "route", "replace", destination, "via", gateway)


def classless_routes(encoded: str) -> list[tuple[str, str]]:
    """RFC 3442's option 121 as dhclient hands it over: `width, the significant octets of the
    destination, four octets of gateway`, repeated, in one space-separated list."""
    octets = [int(o) for o in encoded.replace(",", " ").split()]
    routes = []
    while octets:
        width = octets.pop(0)
        significant = (width + 7) // 8
        destination = octets[:significant] + [0] * (4 - significant)
        gateway = octets[significant:significant + 4]
        del octets[:significant + 4]
        network = ipaddress.ip_network(f"{'.'.join(map(str, destination))}/{width}")
        routes.append((str(network), ".".join(map(str, gateway))))
    return routes


def _vms(lab: Lab) -> Path:
    return lab.directory / "vms"


def _record(lab: Lab, vm: Vm) -> Path:
    return _vms(lab) / f"{vm.port_id}.json"


def _dhclient_pid(lab: Lab, vm: Vm) -> Path:
    return _dhclient_pid_path(lab, vm.port_id)


def _dhclient_pid_path(lab: Lab, port_id: str) -> Path:
    return daemons.path(_vms(lab), port_id, "dhclient.pid")
