"""A private OVN control plane (NB and SB ovsdb-server, ovn-northd) living in one directory.

Used for development, by the functional tests and as the embedded default backend. Every
file a component needs or creates -- databases, sockets, pidfiles, logs, control sockets --
is kept inside the directory, so nothing depends on /var/run/ovn or on system services, and
several instances can run side by side.

Layout of the directory (names follow the ones ovn-ctl uses, which keeps logs familiar):

    ovnnb_db.db  ovnnb_db.sock  ovnnb_db.pid  ovnnb_db.log  ovnnb_db.ctl
    ovnsb_db.db  ovnsb_db.sock  ovnsb_db.pid  ovnsb_db.log  ovnsb_db.ctl
                                ovn-northd.pid ovn-northd.log ovn-northd.ctl

The daemons run detached (they outlive the Python process); `down` stops them again using
the pidfiles, and only the processes those pidfiles name.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from neutrino import daemons
from neutrino.errors import BackendUnavailable

NORTHD = "ovn-northd"

# Directories searched for the OVN schemas (Debian/Ubuntu packages, then a source install).
SCHEMA_DIRS = (Path("/usr/share/ovn"), Path("/usr/local/share/ovn"))

# sun_path holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107

START_TIMEOUT = 10.0  # seconds to wait for a database socket to answer


class SocketPathTooLong(ValueError):
    """The directory is too deep for the unix sockets that must be created inside it."""


@dataclass(frozen=True)
class LocalOvn:
    """Where a local OVN lives and how to reach its databases."""

    directory: Path
    nb: str
    sb: str
    # the components this call of `up` started itself (not part of where the OVN lives)
    started: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Database:
    name: str  # file stem of everything belonging to this ovsdb-server
    schema: str
    database: str  # name the server reports in list-dbs


NB = Database("ovnnb_db", "ovn-nb.ovsschema", "OVN_Northbound")
SB = Database("ovnsb_db", "ovn-sb.ovsschema", "OVN_Southbound")
DATABASES = (NB, SB)

# Start order. `down` goes in reverse, so northd is gone before the databases it is
# connected to (otherwise it would log reconnect errors during every shutdown).
COMPONENTS = (NB.name, SB.name, NORTHD)


def connection_strings(directory: Path) -> LocalOvn:
    """Describe the OVN that lives (or would live) in `directory`, without starting anything."""
    root = _resolve(directory)
    layout = local_cluster.load_layout(root)
    if layout is not None:
        return local_cluster.connection_strings(root, layout)
    return LocalOvn(
        directory=root,
        nb=f"unix:{daemons.path(root, NB.name, 'sock')}",
        sb=f"unix:{daemons.path(root, SB.name, 'sock')}",
    )


def up(directory: Path, cluster: int | None = None) -> LocalOvn:
    """Start whatever part of the local OVN in `directory` is not running yet.

    Idempotent: components whose pidfile names a live process are left alone. Returns once
    both databases answer on their sockets; `started` names what this call started, so that
    a caller can stop exactly that and not an OVN another process is using.

    `cluster` (2 or more) makes NB and SB RAFT clusters of that many members on loopback
    (`neutrino.ovn.local_cluster`); None takes whatever the directory already holds.
    """
    root = _resolve(directory)
    if (cluster is not None and cluster > 1) or local_cluster.load_layout(root) is not None:
        root.mkdir(parents=True, exist_ok=True)
        return local_cluster.up(root, cluster)
    ovn = connection_strings(directory)
    ovn.directory.mkdir(parents=True, exist_ok=True)
    started = [db.name for db in DATABASES if _start_database(ovn.directory, db)]
    for db in DATABASES:
        _wait_for_database(ovn.directory, db)
    if start_northd(ovn):
        started.append(NORTHD)
    return dataclasses.replace(ovn, started=tuple(started))


def down(directory: Path) -> list[str]:
    """Stop the components `up` started in `directory`; return the names of those stopped."""
    root = _resolve(directory)
    layout = local_cluster.load_layout(root)
    if layout is not None:
        return local_cluster.down(root, layout)
    stopped = []
    for name in reversed(COMPONENTS):
        if daemons.stop_daemon(root, name):
            stopped.append(name)
    return stopped


def status(directory: Path) -> dict[str, bool]:
    """Map each component name to whether it is running."""
    root = _resolve(directory)
    layout = local_cluster.load_layout(root)
    if layout is not None:
        return local_cluster.status(root, layout)
    return {name: daemons.live_pid(root, name) is not None for name in COMPONENTS}


def stop(directory: Path, component: str) -> bool:
    """Stop one component (`ovnnb_db`, `ovnsb_db`, `ovn-northd`); `up` starts it again."""
    return daemons.stop_daemon(_resolve(directory), component)


def pid(directory: Path, component: str) -> int | None:
    """The running component's pid (for tests that freeze it with SIGSTOP)."""
    return daemons.live_pid(_resolve(directory), component)


def wipe_nb(directory: Path) -> None:
    """Replace the NB database with an empty one, as if the cluster had lost it.

    The NB ovsdb-server is stopped, its file recreated from the schema and the server started
    again on the same socket. ovn-northd keeps running and reconnects on its own (within its
    reconnect backoff, a few seconds at most); wait for it before relying on the SB contents.
    """
    root = _resolve(directory)
    if local_cluster.load_layout(root) is not None:
        raise local_cluster.ClusterMismatch("wiping a clustered NB is not supported")
    daemons.stop_daemon(root, NB.name)
    daemons.path(root, NB.name, "db").unlink(missing_ok=True)
    _start_database(root, NB)
    _wait_for_database(root, NB)


# --- paths -------------------------------------------------------------------------------


def _resolve(directory: Path) -> Path:
    """Absolute form of `directory`, refused when its sockets would not fit in sun_path."""
    root = Path(directory).expanduser().resolve()
    sockets = [daemons.path(root, name, "ctl") for name in COMPONENTS]
    sockets += [daemons.path(root, db.name, "sock") for db in DATABASES]
    check_socket_paths(root, sockets)
    return root


def check_socket_paths(root: Path, sockets: list[Path]) -> None:
    """Refuse a directory whose unix sockets would not fit in sun_path."""
    for socket in sockets:
        if len(os.fsencode(socket)) > MAX_SOCKET_PATH:
            raise SocketPathTooLong(
                f"OVN directory {root} is too long: unix socket path {socket} exceeds "
                f"{MAX_SOCKET_PATH} bytes; use a shorter directory"
            )


def schema_path(db: Database) -> Path:
    for directory in SCHEMA_DIRS:
        candidate = directory / db.schema
        if candidate.is_file():
            return candidate
    raise BackendUnavailable(f"OVN schema {db.schema} not found in {list(map(str, SCHEMA_DIRS))}")


# --- starting ----------------------------------------------------------------------------


def _start_database(root: Path, db: Database) -> bool:
    if daemons.live_pid(root, db.name) is not None:
        return False
    _prepare_database_file(root, db)
    daemons.run_daemon(
        root,
        db.name,
        [
            "ovsdb-server",
            *daemons.daemon_options(root, db.name),
            f"--remote=punix:{daemons.path(root, db.name, 'sock')}",
            str(daemons.path(root, db.name, "db")),
        ],
    )
    return True


def start_northd(ovn: LocalOvn) -> bool:
    if daemons.live_pid(ovn.directory, NORTHD) is not None:
        return False
    daemons.run_daemon(
        ovn.directory,
        NORTHD,
        [
            NORTHD,
            *daemons.daemon_options(ovn.directory, NORTHD),
            f"--ovnnb-db={ovn.nb}",
            f"--ovnsb-db={ovn.sb}",
        ],
    )
    return True


def _prepare_database_file(root: Path, db: Database) -> None:
    """Create the database file, or upgrade it when the installed schema is newer."""
    path = daemons.path(root, db.name, "db")
    schema = str(schema_path(db))
    if not path.exists():
        daemons.run(root, db.name, ["ovsdb-tool", "create", str(path), schema])
        return
    check = daemons.run(root, db.name, ["ovsdb-tool", "needs-conversion", str(path), schema])
    if check.strip() == "yes":
        daemons.run(root, db.name, ["ovsdb-tool", "convert", str(path), schema])


def _wait_for_database(root: Path, db: Database) -> None:
    """Return once the server lists its database; a running pid alone does not prove that."""
    target = f"unix:{daemons.path(root, db.name, 'sock')}"
    argv = ["ovsdb-client", "--timeout=2", "list-dbs", target]
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=10)
        if done.returncode == 0 and db.database in done.stdout.split():
            return
        time.sleep(daemons.POLL)
    raise BackendUnavailable(
        f"{db.name} did not answer on {target} within {START_TIMEOUT}s\n"
        f"{daemons.log_tail(root, db.name)}"
    )




# The clustered flavour uses the definitions above; imported last, as it imports this module.
from neutrino.ovn import local_cluster  # noqa: E402
