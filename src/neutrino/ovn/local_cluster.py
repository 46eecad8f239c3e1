"""A local OVN whose NB and SB are RAFT clusters of several ovsdb-server members on loopback.

The clustered flavour of `neutrino.ovn.local`, with the same contract: `up` starts whatever
is not running and returns the connection strings (here every member, comma separated),
`down` stops exactly what the pidfiles name, `status` says what runs -- and each member's
role in its cluster. Layout of the directory:

    cluster.json                                 the size and every member's ports
    ovnnb_db-1.db .pid .log .ctl  ... ovnnb_db-N  NB members (client port, raft port)
    ovnsb_db-1.db .pid .log .ctl  ... ovnsb_db-N  SB members
    ovn-northd.pid .log .ctl                      connected to every member of both

Member 1 of each database creates the cluster (`ovsdb-tool create-cluster`), the others
join it (`ovsdb-tool join-cluster`); a member whose database file exists is simply started
again, so `up` after a crash or a `stop` brings the member back into its cluster.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from neutrino import daemons
from neutrino.errors import BackendUnavailable
from neutrino.ovn import local

LAYOUT_FILE = "cluster.json"
HOST = "127.0.0.1"
JOIN_TIMEOUT = 30.0  # seconds for every member to join and a leader to be elected


class ClusterMismatch(ValueError):
    """The directory holds an OVN of another shape than the one asked for."""


@dataclass(frozen=True)
class Member:
    database: str  # the database's file stem: ovnnb_db or ovnsb_db
    index: int  # 1..size
    port: int  # clients connect here
    raft_port: int  # the members talk RAFT here

    @property
    def name(self) -> str:
        return f"{self.database}-{self.index}"

    @property
    def remote(self) -> str:
        return f"tcp:{HOST}:{self.port}"

    @property
    def raft(self) -> str:
        return f"tcp:{HOST}:{self.raft_port}"


@dataclass(frozen=True)
class Layout:
    size: int
    members: tuple[Member, ...]

    def of(self, database: str) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.database == database)

    def remote(self, database: str) -> str:
        """The connection string naming every member of `database`'s cluster."""
        return ",".join(m.remote for m in self.of(database))

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members) + (local.NORTHD,)


# --- the layout file -------------------------------------------------------------------


def load_layout(root: Path) -> Layout | None:
    """The cluster living in `root`, or None when `root` holds no cluster."""
    try:
        raw = json.loads((root / LAYOUT_FILE).read_text())
    except FileNotFoundError:
        return None
    members = tuple(Member(m["database"], m["index"], m["port"], m["raft_port"])
                    for m in raw["members"])
    return Layout(raw["size"], members)


def _create_layout(root: Path, size: int) -> Layout:
    ports = _free_ports(4 * size)
    members = tuple(
        Member(db.name, index, ports.pop(), ports.pop())
        for db in local.DATABASES for index in range(1, size + 1)
    )
    layout = Layout(size, members)
    raw = {"size": size, "members": [vars(m) for m in members]}
    (root / LAYOUT_FILE).write_text(json.dumps(raw, indent=2) + "\n")
    return layout


def _free_ports(count: int) -> list[int]:
    """Ports nobody listens on now (held open together, so they are all different)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


# --- up / down / status ----------------------------------------------------------------


def up(root: Path, size: int | None) -> local.LocalOvn:
    """Start what is missing of the cluster in `root` (created with `size` members when new)."""
    layout = load_layout(root)
    if layout is None:
        if size is None or size < 2:
            raise ClusterMismatch("a local OVN cluster needs at least 2 members")
        if any(daemons.path(root, db.name, "db").exists() for db in local.DATABASES):
            raise ClusterMismatch(f"{root} holds a single-member OVN; use another directory")
        layout = _create_layout(root, size)
    elif size is not None and size != layout.size:
        raise ClusterMismatch(f"{root} holds a {layout.size}-member cluster, not {size}")
    _check_socket_paths(root, layout)
    started = []
    for db in local.DATABASES:
        started += [m.name for m in layout.of(db.name) if _start_member(root, db, m, layout)]
    for db in local.DATABASES:
        _wait_for_cluster(root, db, layout)
    ovn = connection_strings(root, layout)
    if local.start_northd(ovn):
        started.append(local.NORTHD)
    return local.LocalOvn(ovn.directory, ovn.nb, ovn.sb, started=tuple(started))


def connection_strings(root: Path, layout: Layout) -> local.LocalOvn:
    return local.LocalOvn(root, layout.remote(local.NB.name), layout.remote(local.SB.name))


def down(root: Path, layout: Layout) -> list[str]:
    return [name for name in reversed(layout.components) if daemons.stop_daemon(root, name)]


def status(root: Path, layout: Layout) -> dict[str, bool]:
    return {name: daemons.live_pid(root, name) is not None for name in layout.components}


def roles(root: Path) -> dict[str, dict[str, str]]:
    """Each running member's view of its cluster: role, status, leader, term (from
    `ovs-appctl cluster/status`); a member that does not answer is left out."""
    layout = load_layout(root)
    if layout is None:
        return {}
    found = {}
    for member in layout.members:
        if daemons.live_pid(root, member.name) is None:
            continue
        view = member_status(root, member)
        if view:
            found[member.name] = view
    return found


def member_status(root: Path, member: Member) -> dict[str, str]:
    database = _database(member.database).database
    argv = ["ovs-appctl", "-T", "2", "-t", str(daemons.path(root, member.name, "ctl")),
            "cluster/status", database]
    try:
        done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return parse_cluster_status(done.stdout) if done.returncode == 0 else {}


def parse_cluster_status(text: str) -> dict[str, str]:
    """The fields of `cluster/status` that say where a member stands."""
    wanted = {"Status": "status", "Role": "role", "Leader": "leader", "Term": "term",
              "Server ID": "server_id", "Address": "address"}
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in wanted:
            found[wanted[key.strip()]] = value.strip()
    return found


def leader(root: Path, database: str) -> Member | None:
    """The member of `database` ("ovnnb_db" / "ovnsb_db") that says it leads, if any."""
    layout = load_layout(root)
    for member in layout.of(database) if layout else ():
        if daemons.live_pid(root, member.name) is not None and \
                member_status(root, member).get("role") == "leader":
            return member
    return None


# --- starting --------------------------------------------------------------------------


def _database(stem: str) -> local.Database:
    return next(db for db in local.DATABASES if db.name == stem)


def _start_member(root: Path, db: local.Database, member: Member, layout: Layout) -> bool:
    if daemons.live_pid(root, member.name) is not None:
        return False
    path = daemons.path(root, member.name, "db")
    if not path.exists():
        if member.index == 1:
            argv = ["ovsdb-tool", "create-cluster", str(path), str(local.schema_path(db)),
                    member.raft]
        else:
            others = [m.raft for m in layout.of(db.name) if m.index < member.index]
            argv = ["ovsdb-tool", "join-cluster", str(path), db.database, member.raft, *others]
        daemons.run(root, member.name, argv)
    daemons.run_daemon(root, member.name, [
        "ovsdb-server", *daemons.daemon_options(root, member.name),
        f"--remote=ptcp:{member.port}:{HOST}", str(path),
    ])
    return True


def _wait_for_cluster(root: Path, db: local.Database, layout: Layout) -> None:
    """Return once every running member has joined and knows a leader."""
    deadline = time.monotonic() + JOIN_TIMEOUT
    members = [m for m in layout.of(db.name) if daemons.live_pid(root, m.name) is not None]
    while time.monotonic() < deadline:
        views = [member_status(root, m) for m in members]
        if views and all(v.get("status") == "cluster member" and
                         v.get("leader", "unknown") != "unknown" for v in views):
            return
        time.sleep(daemons.POLL * 2)
    tails = "\n".join(daemons.log_tail(root, m.name, 5) for m in members)
    raise BackendUnavailable(f"{db.name} cluster did not form within {JOIN_TIMEOUT}s\n{tails}")


def _check_socket_paths(root: Path, layout: Layout) -> None:
    local.check_socket_paths(root, [daemons.path(root, name, "ctl")
                                    for name in layout.components])
