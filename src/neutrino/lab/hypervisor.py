"""A hypervisor on this machine: OVS with the userspace datapath and ovn-controller, as one
OVN chassis, plus a "provider" namespace behind `br-ex` that plays the outside world.

No kernel module is needed: `datapath_type=netdev` runs the datapath inside ovs-vswitchd.
Everything lives under one directory (databases, sockets, pidfiles, logs), like the local
OVN of `neutrino.ovn.local`, and is stopped by pid; the provider namespace and its veth are
removed by `down`.

    DIR/conf.db  db.sock  ovsdb-server.{pid,log,ctl}
    DIR/ovs-vswitchd.{pid,log,ctl}  ovn-controller.{pid,log,ctl}
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from neutrino import daemons
from neutrino.errors import BackendUnavailable

OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
OVSDB, VSWITCHD, CONTROLLER = "ovsdb-server", "ovs-vswitchd", "ovn-controller"
COMPONENTS = (OVSDB, VSWITCHD, CONTROLLER)  # start order; stopped in reverse
INTEGRATION_BRIDGE, EXTERNAL_BRIDGE = "br-int", "br-ex"
STATE_FILE = "lab.json"


@dataclass(frozen=True)
class Lab:
    directory: Path
    chassis: str  # the OVN chassis name (OVS system-id)
    physical_network: str  # mapped to br-ex
    provider_address: str  # the outside world's address, CIDR form

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
       provider_address: str = "172.24.4.1/24") -> Lab:
    """Start OVS and ovn-controller (a gateway-capable chassis) and the provider namespace.

    Idempotent: components already running are left alone.
    """
    root = directory.expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    lab = Lab(root, chassis, physical_network, provider_address)
    env = _env(root)
    if daemons.live_pid(root, OVSDB) is None:
        conf = root / "conf.db"
        if not conf.exists():
            daemons.run(root, OVSDB, ["ovsdb-tool", "create", str(conf), str(OVS_SCHEMA)])
        daemons.run_daemon(root, OVSDB, [OVSDB, str(conf), f"--remote=punix:{root / 'db.sock'}",
                                         *daemons.daemon_options(root, OVSDB)], env)
        vsctl(lab, "--no-wait", "init")
    if daemons.live_pid(root, VSWITCHD) is None:
        daemons.run_daemon(root, VSWITCHD, [VSWITCHD, lab.ovs_db,
                                            *daemons.daemon_options(root, VSWITCHD)], env)
    _configure_chassis(lab, sb)
    if daemons.live_pid(root, CONTROLLER) is None:
        daemons.run_daemon(root, CONTROLLER, [
            CONTROLLER, lab.ovs_db, *daemons.daemon_options(root, CONTROLLER, unixctl=False)],
            env)
    _provider_namespace(lab)
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
               state["provider_address"])


def down(directory: Path) -> list[str]:
    """Stop what `up` started and remove the provider namespace; returns what was stopped."""
    root = directory.expanduser().resolve()
    controller = daemons.live_pid(root, CONTROLLER)
    if controller is not None:
        # Told to exit (not killed), ovn-controller removes its chassis from SB.
        _quiet(["ovs-appctl", "-t", str(root / f"{CONTROLLER}.{controller}.ctl"), "exit"])
    stopped = [name for name in reversed(COMPONENTS)
               if daemons.stop_daemon(root, name) or (name == CONTROLLER and controller)]
    namespace, device = provider_names(root)
    _quiet(["ip", "netns", "delete", namespace])
    _quiet(["ip", "link", "delete", device])
    (root / STATE_FILE).unlink(missing_ok=True)
    return stopped


def status(directory: Path) -> dict[str, bool]:
    root = directory.expanduser().resolve()
    running = {name: daemons.live_pid(root, name) is not None for name in COMPONENTS}
    running["provider-namespace"] = provider_names(root)[0] in _namespaces()
    return running


def vsctl(lab: Lab, *args: str) -> str:
    return daemons.run(lab.directory, OVSDB, ["ovs-vsctl", f"--db={lab.ovs_db}", "--timeout=10",
                                              *args])


def _configure_chassis(lab: Lab, sb: str) -> None:
    ids = {
        "system-id": lab.chassis,
        "ovn-remote": sb,
        "ovn-encap-type": "geneve",
        "ovn-encap-ip": "127.0.0.1",
        "ovn-bridge": INTEGRATION_BRIDGE,
        "ovn-bridge-datapath-type": "netdev",
        "ovn-bridge-mappings": f"{lab.physical_network}:{EXTERNAL_BRIDGE}",
        "ovn-cms-options": "enable-chassis-as-gw",
    }
    settings = [f'external_ids:"{key}"="{value}"' for key, value in ids.items()]
    vsctl(lab, "--no-wait", "set", "Open_vSwitch", ".", *settings)
    for bridge in (INTEGRATION_BRIDGE, EXTERNAL_BRIDGE):
        vsctl(lab, "--may-exist", "add-br", bridge, "--", "set", "Bridge", bridge,
              "datapath_type=netdev")
    vsctl(lab, "set", "Bridge", INTEGRATION_BRIDGE, "fail-mode=secure")


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
