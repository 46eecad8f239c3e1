"""A hypervisor on this machine: OVS with the userspace datapath and ovn-controller, as one
OVN chassis, plus a "provider" namespace behind `br-ex` that plays the outside world.

No kernel module is needed: `datapath_type=netdev` runs the datapath inside ovs-vswitchd.
Everything lives under one directory (databases, sockets, pidfiles, logs), like the local
OVN of `neutrino.ovn.local`, and is stopped by pid; the provider namespace and its veth are
removed by `down`.

    DIR/conf.db  db.sock  ovsdb-server.{pid,log,ctl}
    DIR/ovs-vswitchd.{pid,log,ctl}  ovn-controller.{pid,log,ctl}

With `hypervisors=2` a second chassis (`lab-hv2`, no gateway) runs the same daemons under
DIR/hv2, and Geneve between the two crosses a real underlay: each chassis has a netdev
bridge (`br-phy`, `br-phy2`) joined by a veth, whose LOCAL port holds the chassis'
`ovn-encap-ip`; the userspace datapath routes and ARPs for tunnels itself, over those
bridges. The second chassis' ovs-vswitchd runs in a network namespace of its own
(`nlab-hv2`), like a separate host: its bridges' kernel devices, its underlay address and
its VMs' host-side veths live there, so neither kernel (nor the route table each
ovs-vswitchd copies from it) sees the other chassis' address as local.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from neutrino import daemons
from neutrino.errors import BackendUnavailable

OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
OVSDB, VSWITCHD, CONTROLLER = "ovsdb-server", "ovs-vswitchd", "ovn-controller"
COMPONENTS = (OVSDB, VSWITCHD, CONTROLLER)  # start order; stopped in reverse
INTEGRATION_BRIDGE, EXTERNAL_BRIDGE = "br-int", "br-ex"
STATE_FILE = "lab.json"
SECOND = "hv2"  # the second chassis' subdirectory
SECOND_NS = "nlab-hv2"  # the second chassis' "host"
UNDERLAY_BRIDGES = ("br-phy", "br-phy2")
UNDERLAY_VETHS = ("nlab-phy1", "nlab-phy2")  # one veth pair joining the two br-phy
# Benchmarking range (RFC 2544): no real network uses it. Each address is on its own
# kernel (this one's, the second chassis' namespace's), so their subnet routes do not meet.
UNDERLAY_ADDRESSES = ("198.18.250.1", "198.18.250.2")
UNDERLAY_PREFIX = 24


@dataclass(frozen=True)
class Lab:
    directory: Path
    chassis: str  # the OVN chassis name (OVS system-id)
    physical_network: str  # mapped to br-ex
    provider_address: str  # the outside world's address, CIDR form
    integration_bridge: str = INTEGRATION_BRIDGE
    encap_ip: str = "127.0.0.1"
    namespace: str | None = None  # where ovs-vswitchd's kernel devices live (None: here)

    @property
    def ovs_db(self) -> str:
        return f"unix:{self.directory / 'db.sock'}"

    @property
    def provider_namespace(self) -> str:
        """The outside world's namespace, named after this lab so that two labs (a user's and
        a test run's) never share or remove each other's."""
        return provider_names(self.directory)[0]

    @property
    def provider_device(self) -> str:
        """Its veth end on br-ex (the namespace end is "eth0")."""
        return provider_names(self.directory)[1]


def provider_names(root: Path) -> tuple[str, str]:
    tag = hashlib.sha1(str(root).encode()).hexdigest()[:6]
    return f"nlab-{tag}-ext", f"nlx{tag}"  # device names hold 15 bytes


def up(directory: Path, sb: str, chassis: str = "lab-hv1", physical_network: str = "physnet1",
       provider_address: str = "172.24.4.1/24", hypervisors: int = 1) -> Lab:
    """Start OVS and ovn-controller (a gateway-capable chassis) and the provider namespace;
    with `hypervisors=2` also the second chassis (`second(lab)`) and the underlay between.

    Idempotent: components already running are left alone.
    """
    if hypervisors not in (1, 2):
        raise ValueError("the lab runs one or two hypervisors")
    root = directory.expanduser().resolve()
    encap = UNDERLAY_ADDRESSES[0] if hypervisors == 2 else "127.0.0.1"
    lab = _start(Lab(root, chassis, physical_network, provider_address, encap_ip=encap), sb)
    _provider_namespace(lab)
    if hypervisors == 2:
        other = Lab(root / SECOND, "lab-hv2", physical_network, provider_address,
                    integration_bridge="br-int2", encap_ip=UNDERLAY_ADDRESSES[1],
                    namespace=SECOND_NS)
        if SECOND_NS not in _namespaces():
            run_ip("netns", "add", SECOND_NS)
            run_ip("-n", SECOND_NS, "link", "set", "lo", "up")
        _start(other, sb)
        _underlay(lab, other)
    return lab


def second(lab: Lab) -> Lab:
    """The second chassis of a lab started with `hypervisors=2`."""
    return load(lab.directory / SECOND)


def _start(lab: Lab, sb: str) -> Lab:
    root = lab.directory
    root.mkdir(parents=True, exist_ok=True)
    env = _env(root)
    if daemons.live_pid(root, OVSDB) is None:
        conf = root / "conf.db"
        if not conf.exists():
            daemons.run(root, OVSDB, ["ovsdb-tool", "create", str(conf), str(OVS_SCHEMA)])
        daemons.run_daemon(root, OVSDB, [OVSDB, str(conf), f"--remote=punix:{root / 'db.sock'}",
                                         *daemons.daemon_options(root, OVSDB)], env)
        vsctl(lab, "--no-wait", "init")
    if daemons.live_pid(root, VSWITCHD) is None:
        # run in the chassis' namespace, it makes its bridges' kernel devices there
        prefix = ["ip", "netns", "exec", lab.namespace] if lab.namespace else []
        daemons.run_daemon(root, VSWITCHD, [*prefix, VSWITCHD, lab.ovs_db,
                                            *daemons.daemon_options(root, VSWITCHD)], env)
    _configure_chassis(lab, sb)
    if daemons.live_pid(root, CONTROLLER) is None:
        daemons.run_daemon(root, CONTROLLER, [
            CONTROLLER, lab.ovs_db, *daemons.daemon_options(root, CONTROLLER, unixctl=False)],
            env)
    (root / STATE_FILE).write_text(json.dumps({**asdict(lab), "directory": str(root)}))
    return lab


def load(directory: Path) -> Lab:
    """The lab `up` made in `directory`."""
    root = directory.expanduser().resolve()
    try:
        state = json.loads((root / STATE_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise BackendUnavailable(f"no lab in {root} (run `neutrino lab up`): {exc}") from exc
    return Lab(Path(state["directory"]), state["chassis"], state["physical_network"],
               state["provider_address"],
               state.get("integration_bridge", INTEGRATION_BRIDGE),
               state.get("encap_ip", "127.0.0.1"), state.get("namespace"))


def down(directory: Path) -> list[str]:
    """Stop what `up` started and remove the provider namespace, and the second chassis and
    the underlay if there are; returns what was stopped (the second's as `hv2/NAME`)."""
    root = directory.expanduser().resolve()
    stopped = [f"{SECOND}/{name}" for name in _stop(root / SECOND)]
    stopped = _stop(root) + stopped
    namespace, device = provider_names(root)
    _quiet(["ip", "netns", "delete", namespace])
    _quiet(["ip", "link", "delete", device])
    # br-phy's device outlives ovs-vswitchd; the namespace takes br-phy2's and the veth's
    _quiet(["ip", "link", "delete", UNDERLAY_VETHS[0]])
    _quiet(["ip", "link", "delete", UNDERLAY_BRIDGES[0]])
    # so do br-int's and br-ex's (persistent taps of the userspace datapath)
    for bridge in (INTEGRATION_BRIDGE, EXTERNAL_BRIDGE):
        _delete_tap(bridge)
    _quiet(["ip", "netns", "delete", SECOND_NS])
    (root / STATE_FILE).unlink(missing_ok=True)
    return stopped


def _delete_tap(device: str) -> None:
    """Delete `device` only when it is a tap, as the userspace datapath makes its bridges:
    a host's own kernel-datapath bridge of that name is no lab's to remove."""
    shown = subprocess.run(["ip", "-d", "link", "show", "dev", device], capture_output=True,
                           text=True, timeout=30).stdout
    if "tun type tap" in shown:
        _quiet(["ip", "link", "delete", device])


def _stop(root: Path) -> list[str]:
    controller = daemons.live_pid(root, CONTROLLER)
    if controller is not None:
        # Told to exit (not killed), ovn-controller removes its chassis from SB.
        _quiet(["ovs-appctl", "-t", str(root / f"{CONTROLLER}.{controller}.ctl"), "exit"])
    stopped = [name for name in reversed(COMPONENTS)
               if daemons.stop_daemon(root, name) or (name == CONTROLLER and controller)]
    (root / STATE_FILE).unlink(missing_ok=True)
    return stopped


def status(directory: Path) -> dict[str, bool]:
    """What runs; the second chassis' daemons as `hv2/NAME` when it was started."""
    root = directory.expanduser().resolve()
    running = {name: daemons.live_pid(root, name) is not None for name in COMPONENTS}
    running["provider-namespace"] = provider_names(root)[0] in _namespaces()
    if (root / SECOND / STATE_FILE).exists():
        running.update({f"{SECOND}/{name}": daemons.live_pid(root / SECOND, name) is not None
                        for name in COMPONENTS})
        running[f"{SECOND}/namespace"] = SECOND_NS in _namespaces()
    return running


def vsctl(lab: Lab, *args: str) -> str:
    return daemons.run(lab.directory, OVSDB, ["ovs-vsctl", f"--db={lab.ovs_db}", "--timeout=10",
                                              *args])


def appctl(lab: Lab, *args: str) -> str:
    """Ask the chassis' ovs-vswitchd (`ovs/route/show`, `tnl/arp/show`, `dpctl/...`)."""
    return daemons.run(lab.directory, VSWITCHD, [
        "ovs-appctl", "-t", str(daemons.path(lab.directory, VSWITCHD, "ctl")), *args])


def _configure_chassis(lab: Lab, sb: str) -> None:
    gateway = lab.integration_bridge == INTEGRATION_BRIDGE  # only the first chassis is one
    ids = {
        "system-id": lab.chassis,
        "ovn-remote": sb,
        "ovn-encap-type": "geneve",
        "ovn-encap-ip": lab.encap_ip,
        "ovn-bridge": lab.integration_bridge,
        "ovn-bridge-datapath-type": "netdev",
    }
    if gateway:
        ids["ovn-bridge-mappings"] = f"{lab.physical_network}:{EXTERNAL_BRIDGE}"
        ids["ovn-cms-options"] = "enable-chassis-as-gw"
    settings = [f'external_ids:"{key}"="{value}"' for key, value in ids.items()]
    vsctl(lab, "--no-wait", "set", "Open_vSwitch", ".", *settings)
    for bridge in (lab.integration_bridge, *([EXTERNAL_BRIDGE] if gateway else [])):
        vsctl(lab, "--may-exist", "add-br", bridge, "--", "set", "Bridge", bridge,
              "datapath_type=netdev")
    vsctl(lab, "set", "Bridge", lab.integration_bridge, "fail-mode=secure")


def _underlay(first: Lab, other: Lab) -> None:
    """Each chassis' br-phy, its encap IP on the LOCAL port, a veth between the two, and a
    /32 route to the other's address in each ovs-vswitchd's route table."""
    if UNDERLAY_VETHS[0] not in _links():
        run_ip("link", "add", UNDERLAY_VETHS[0], "type", "veth", "peer", "name",
               UNDERLAY_VETHS[1], "netns", SECOND_NS)
    labs = (first, other)
    for index, lab in enumerate(labs):
        bridge, veth = UNDERLAY_BRIDGES[index], UNDERLAY_VETHS[index]
        ip = ["-n", lab.namespace] if lab.namespace else []
        vsctl(lab, "--may-exist", "add-br", bridge, "--", "set", "Bridge", bridge,
              "datapath_type=netdev")
        vsctl(lab, "--may-exist", "add-port", bridge, veth)
        _wait_link(bridge, lab.namespace)  # ovs-vswitchd makes the LOCAL port's tap soon after
        run_ip(*ip, "link", "set", veth, "up")
        checksum_offload_off(veth, lab.namespace)
        run_ip(*ip, "link", "set", bridge, "up")
        # ovs-vswitchd takes a route's source from the bridge's address in the route's subnet
        run_ip(*ip, "addr", "replace", f"{lab.encap_ip}/{UNDERLAY_PREFIX}", "dev", bridge)
        # in ovs-vswitchd's own table at once, not when it next re-reads the kernel's
        _until_done(appctl, lab, "ovs/route/add", f"{labs[1 - index].encap_ip}/32", bridge)


def _provider_namespace(lab: Lab) -> None:
    """The outside world: a namespace on br-ex holding the external network's gateway."""
    namespace, device = lab.provider_namespace, lab.provider_device
    if namespace in _namespaces():
        return
    run_ip("netns", "add", namespace)
    run_ip("link", "add", device, "type", "veth", "peer", "name", "eth0", "netns", namespace)
    for command in (["link", "set", device, "up"],
                    ["-n", namespace, "link", "set", "lo", "up"],
                    ["-n", namespace, "link", "set", "eth0", "up"],
                    ["-n", namespace, "addr", "add", lab.provider_address, "dev", "eth0"]):
        run_ip(*command)
    checksum_offload_off(device)
    checksum_offload_off("eth0", namespace)
    vsctl(lab, "--may-exist", "add-port", EXTERNAL_BRIDGE, device)


def checksum_offload_off(device: str, namespace: str | None = None) -> None:
    """TCP through a veth into the userspace datapath needs transmit checksums computed in
    software on both ends, or TCP fails silently while ping and DHCP work."""
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    _checked([*prefix, "ethtool", "-K", device, "tx", "off"])


def run_ip(*args: str) -> str:
    return _checked(["ip", *args])


def _until_done(action: Callable[..., object], *args: object, timeout: float = 10) -> None:
    """`action(*args)`, retried while it fails: ovs-vswitchd learns a device's new address
    from netlink a moment after it is set."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            action(*args)
            return
        except BackendUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _wait_link(device: str, namespace: str | None, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while device not in _links(namespace):
        if time.monotonic() > deadline:
            raise BackendUnavailable(f"ovs-vswitchd made no {device} device in {timeout}s")
        time.sleep(0.1)


def _links(namespace: str | None = None) -> set[str]:
    where = ["-n", namespace] if namespace else []
    done = subprocess.run(["ip", *where, "-o", "link", "show"], capture_output=True, text=True,
                          timeout=10)
    return {line.split(":")[1].strip().split("@")[0] for line in done.stdout.splitlines()}


def _namespaces() -> set[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}


def _checked(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise BackendUnavailable(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


def _quiet(argv: list[str]) -> None:
    subprocess.run(argv, capture_output=True, timeout=30, check=False)


def _env(root: Path) -> dict[str, str]:
    """Keep every daemon's run-time files (bridge sockets, control sockets) in `root`."""
    return {"OVS_RUNDIR": str(root), "OVS_LOGDIR": str(root), "OVS_DBDIR": str(root),
            "OVN_RUNDIR": str(root), "OVN_LOGDIR": str(root)}
