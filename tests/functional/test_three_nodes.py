"""Three `neutrino serve` nodes on one PostgreSQL, NB and SB as 3-member RAFT clusters.

16 client threads, spread over the nodes, run at least 1,000 mixed operations (networks,
subnets, ports created, updated and deleted, security groups and rules, routers and their
interfaces) while, one after another:
- a third node joins (its start-up sync, in log mode, runs while the others serve);
- (a) the NB leader is killed (SIGKILL), then brought back into its cluster;
- (b) the node that runs maintenance is killed with SIGKILL: its clients move to the other
  nodes, and another node must take the maintenance lease within its TTL;
- (c) an NB follower is stopped, then restarted;
- the killed node comes back with a start-up sync in repair mode, while the others serve.

Then: no API error from a live node (only requests to the killed node may fail, with a
connection error, and what they asked for exists once or not at all), every network, port
and router of the database exactly once in every NB member and nothing else, `neutrino sync
--mode log` finds nothing, no joining node's start-up sync saw a difference or repaired
anything, and the journal never applied an entry before one it depends on.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from journal_audit import assert_dependency_order
from ovn_tools import run
from serve_tools import signal_node, start_serve
from sqlalchemy import select
from waiting import wait_for

from neutrino.clock import utcnow
from neutrino.db.engine import Database, make_engine
from neutrino.db.models import JournalEntry, Leadership, Network, Port, Router
from neutrino.journal.types import State
from neutrino.maintenance.scheduler import LEASE_NAME
from neutrino.ovn import local, local_cluster
from neutrino.ovn.local import LocalOvn
from neutrino.settings import DEFAULT_QUOTAS

pytestmark = pytest.mark.functional

OPERATIONS = 1000
CLIENTS = 16
# the maintenance lease lives 15 ticks of 1 s and is renewed every tick: a survivor takes
# it at the first tick after it ran out
MAINTENANCE_TAKEOVER = 15 + 5
GAP = 60  # operations answered between one disruption and the next
UNLIMITED = {f"NEUTRINO_QUOTA_{name.upper()}": "-1" for name in DEFAULT_QUOTAS}


# --- the nodes ------------------------------------------------------------------------


@dataclass
class Node:
    name: str
    url: str
    proc: subprocess.Popen[bytes]


class Nodes:
    """The serve processes, which of them clients may use, and stopping all of them."""

    def __init__(self, ovn: LocalOvn, state: Path, db_url: str) -> None:
        self.ovn, self.state, self.db_url = ovn, state, db_url
        self.all: list[Node] = []
        self.live: dict[str, Node] = {}
        self.lock = threading.Lock()

    def start(self, name: str, startup_sync: str) -> Node:
        url, proc = start_serve(self.ovn, self.state / name, NEUTRINO_DB_URL=self.db_url,
                                NEUTRINO_STARTUP_SYNC=startup_sync, **UNLIMITED)
        node = Node(name, url, proc)
        with self.lock:
            self.all.append(node)
            self.live[name] = node
        return node

    def pick(self, preferred: int) -> Node:
        """The client's own node while it lives, else the next live one."""
        with self.lock:
            live = sorted(self.live.values(), key=lambda n: n.name)
        return live[preferred % len(live)]

    def kill(self, node: Node) -> None:
        signal_node(node.proc, signal.SIGKILL)  # requests in flight to it fail from now
        node.proc.wait(timeout=10)
        with self.lock:
            del self.live[node.name]

    def stop_all(self) -> None:
        for node in self.all:
            if node.proc.poll() is None:
                signal_node(node.proc, signal.SIGKILL)
                node.proc.wait(timeout=10)


def health(node: Node) -> dict[str, Any]:
    return httpx.get(f"{node.url}/healthz", timeout=30).json()


def startup_sync(node: Node) -> dict[str, Any]:
    """The node's start-up sync report, once it has run (it runs after NB's first dump)."""
    found: dict[str, Any] = {}

    def done() -> bool:
        found.update(health(node).get("startup_sync") or {})
        return bool(found)

    wait_for(done, 60, f"{node.name}'s start-up sync", interval=0.2)
    return found


# --- the clients ----------------------------------------------------------------------


@dataclass
class Tally:
    done: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # API errors: none allowed
    connection_errors: Counter[str] = field(default_factory=Counter)  # by node
    # creates whose node died with them in flight: (collection, attribute, its unique value)
    uncertain: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            self.done += 1
            return self.done


class ConnectionLost(Exception):
    """The node died with the request in flight (or before it was sent)."""


class Client:
    """One API user: its own networks, subnets, ports, groups and routers, and a random mix
    of operations on them, each sent to its own node (or the next live one)."""

    def __init__(self, index: int, nodes: Nodes, tally: Tally) -> None:
        self.index, self.nodes, self.tally = index, nodes, tally
        self.random = random.Random(index)
        self.http = httpx.Client(timeout=60, headers={"X-Project-Id": f"p{index}"})
        self.serial = 0
        self.subnets: list[str] = []  # subnet ids, of networks in self.networks order
        self.networks: list[str] = []
        self.unattached: list[str] = []  # subnets on no router yet
        self.ports: list[str] = []
        self.groups: list[str] = []
        self.routers: list[str] = []

    def name(self, kind: str) -> str:
        self.serial += 1
        return f"c{self.index}-{kind}{self.serial}"

    def call(self, method: str, path: str, expected: int,
             body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        node = self.nodes.pick(self.index)
        try:
            answer = self.http.request(method, f"{node.url}/v2.0/{path}", json=body)
        except httpx.TransportError as exc:
            with self.tally.lock:
                self.tally.connection_errors[node.name] += 1
            raise ConnectionLost(f"{method} {path} to {node.name}") from exc
        finished = self.tally.count()
        with self.tally.lock:
            self.tally.statuses[f"{method} {answer.status_code}"] += 1
            if answer.status_code != expected:
                self.tally.unexpected.append(
                    f"op {finished} {method} {path} on {node.name}: {answer.status_code} "
                    f"{answer.text[:300]}")
                return None
        return answer.json() if answer.content else {}

    def create(self, collection: str, body: dict[str, Any]) -> str | None:
        """POST one resource with a unique name (a rule: description) to find it by."""
        singular = collection[:-1].replace("-", "_")
        label = "description" if singular == "security_group_rule" else "name"
        body = {label: self.name(singular[:4]), **body}
        try:
            found = self.call("POST", collection, 201, {singular: body})
        except ConnectionLost:
            with self.tally.lock:
                self.tally.uncertain.append((collection, label, body[label]))
            return None
        return found[singular]["id"] if found else None

    # the operations ------------------------------------------------------------------

    def network(self) -> None:
        net = self.create("networks", {})
        if net is None:
            return
        self.networks.append(net)
        cidr = f"10.{self.index}.{len(self.networks)}.0/24"
        subnet = self.create("subnets", {"network_id": net, "ip_version": 4, "cidr": cidr})
        if subnet is not None:
            self.subnets.append(subnet)
            self.unattached.append(subnet)

    def group(self) -> None:
        group = self.create("security-groups", {})
        if group is not None:
            self.groups.append(group)

    def rule(self) -> None:
        port = 1000 + self.serial
        self.create("security-group-rules", {
            "security_group_id": self.random.choice(self.groups), "direction": "ingress",
            "ethertype": "IPv4", "protocol": "tcp", "port_range_min": port,
            "port_range_max": port})

    def router(self) -> None:
        router = self.create("routers", {})
        if router is not None:
            self.routers.append(router)

    def interface(self) -> None:
        if not self.unattached or not self.routers:
            return self.port()
        subnet = self.unattached.pop(0)
        router = self.random.choice(self.routers)
        self.call("PUT", f"routers/{router}/add_router_interface", 200,
                  {"subnet_id": subnet})
        return None

    def port(self) -> None:
        body: dict[str, Any] = {"network_id": self.random.choice(self.networks)}
        if self.random.random() < 0.5:
            body["security_groups"] = [self.random.choice(self.groups)]
        port = self.create("ports", body)
        if port is not None:
            self.ports.append(port)

    def update_port(self) -> None:
        if not self.ports:
            return self.port()
        port = self.random.choice(self.ports)
        change: dict[str, Any] = {"name": self.name("upd")}
        if self.random.random() < 0.5:
            change["security_groups"] = [self.random.choice(self.groups)]
        self.ports.remove(port)  # lost with its node: its state is uncertain
        self.call("PUT", f"ports/{port}", 200, {"port": change})
        self.ports.append(port)
        return None

    def delete_port(self) -> None:
        if not self.ports:
            return self.port()
        port = self.ports.pop(self.random.randrange(len(self.ports)))
        self.call("DELETE", f"ports/{port}", 204)
        return None

    def setup(self) -> None:
        for _ in range(5):  # a create lost with its node is made again
            for missing, make in ((self.subnets, self.network), (self.groups, self.group),
                                  (self.routers, self.router)):
                if not missing:
                    make()
        assert self.subnets and self.groups and self.routers, self.tally.unexpected[:3]
        self.rule()
        self.interface()

    def work(self, keep_going: Callable[[], bool]) -> None:
        mix = [(self.port, 34), (self.update_port, 20), (self.delete_port, 12),
               (self.rule, 10), (self.network, 7), (self.interface, 7), (self.group, 4),
               (self.router, 2), (self.rename_router, 4)]
        actions, weights = zip(*mix, strict=True)
        try:
            with contextlib.suppress(ConnectionLost):
                self.setup()
            while keep_going():
                with contextlib.suppress(ConnectionLost):
                    self.random.choices(actions, weights)[0]()
        finally:
            self.http.close()

    def rename_router(self) -> None:
        router = self.random.choice(self.routers)
        self.call("PUT", f"routers/{router}", 200, {"router": {"name": self.name("r")}})


# --- the disruptions ------------------------------------------------------------------


@dataclass
class Story:
    """What happened, and when, for the assertions and the failure messages."""

    joined_sync: dict[str, Any] = field(default_factory=dict)
    rejoined_sync: dict[str, Any] = field(default_factory=dict)
    killed_node: str = ""
    maintenance_takeover_s: float | None = None
    events: list[str] = field(default_factory=list)
    finished: threading.Event = field(default_factory=threading.Event)
    began: float = field(default_factory=time.monotonic)
    error: BaseException | None = None


def at(tally: Tally, operations: int) -> None:
    wait_for(lambda: tally.done >= operations, 120, f"{operations} operations answered",
             interval=0.02)


def nb_members(ovn: LocalOvn) -> tuple[local_cluster.Member, ...]:
    layout = local_cluster.load_layout(ovn.directory)
    assert layout is not None
    return layout.of("ovnnb_db")


def maintenance_holder(db: Database) -> str | None:
    with db.read() as session:
        row = session.get(Leadership, LEASE_NAME)
        return row.holder if row is not None and row.expires_at > utcnow() else None


def disrupt(ovn: LocalOvn, nodes: Nodes, db: Database, tally: Tally, story: Story) -> None:
    """Each disruption at its count of operations; what takes time to observe (a start-up
    sync, the maintenance takeover) is watched on the side, so the next one comes on time."""
    watchers: list[threading.Thread] = []

    def note(what: str) -> None:
        story.events.append(f"{tally.done:5d} ops, {time.monotonic() - story.began:5.1f}s: "
                            f"{what}")

    def aside(action: Callable[[], None]) -> None:
        def run() -> None:
            try:
                action()
            except BaseException as exc:  # noqa: BLE001 - raised in the test's thread
                story.error = exc

        watchers.append(threading.Thread(target=run, daemon=True))
        watchers[-1].start()

    def join(name: str, mode: str, into: dict[str, Any]) -> threading.Thread:
        node = nodes.start(name, mode)
        note(f"node {name} joined (start-up sync: {mode})")

        def watch() -> None:
            into.update(startup_sync(node))
            note(f"node {name}'s start-up sync: {into}")

        aside(watch)
        return watchers[-1]

    def after(gap: int) -> None:
        at(tally, tally.done + gap)

    # its start-up sync runs before NB's leader dies (which would make it fail: NB gone)
    join("c", "log", story.joined_sync).join(timeout=120)

    after(GAP)
    leader = local_cluster.leader(ovn.directory, "ovnnb_db")
    assert leader is not None, "NB has no leader"
    os.kill(local.pid(ovn.directory, leader.name), signal.SIGKILL)
    note(f"NB leader {leader.name} killed")
    after(GAP)
    local.up(ovn.directory)  # back into its cluster: a quorum again without a follower
    note(f"{leader.name} back")

    after(GAP)
    victim = next(n for n in list(nodes.live.values()) if health(n)["maintenance"]["leading"])
    holder = health(victim)["maintenance"]["holder"]
    story.killed_node = victim.name
    nodes.kill(victim)
    killed = time.monotonic()
    note(f"node {victim.name} (maintenance {holder}) killed")

    def takeover() -> None:
        wait_for(lambda: maintenance_holder(db) not in (None, holder),
                 MAINTENANCE_TAKEOVER + 10, "another node takes the maintenance lease",
                 interval=0.1)
        story.maintenance_takeover_s = time.monotonic() - killed
        note(f"maintenance taken over by {maintenance_holder(db)}")

    aside(takeover)
    # it comes back at once, with a start-up sync in repair mode, while the others serve
    aside(lambda: join(f"{victim.name}2", "repair", story.rejoined_sync).join(timeout=120))

    after(GAP)
    follower = next(m for m in nb_members(ovn)
                    if local_cluster.member_status(ovn.directory, m).get("role") == "follower")
    local.stop(ovn.directory, follower.name)
    note(f"NB follower {follower.name} stopped")
    after(GAP)
    local.up(ovn.directory)
    note(f"{follower.name} restarted")
    for watcher in list(watchers):
        watcher.join(timeout=120)


# --- the checks -----------------------------------------------------------------------


def journal_drained(db: Database) -> bool:
    with db.read() as session:
        states = Counter(session.scalars(select(JournalEntry.state)))
    assert not states[State.FAILED.value], f"failed journal entries: {states}"
    return not states[State.PENDING.value] and not states[State.PROCESSING.value]


def member_names(member: local_cluster.Member, table: str) -> list[str]:
    """Names in one member's copy of NB (leader or not)."""
    out = run("ovn-nbctl", f"--db={member.remote}", "--no-leader-only", "--timeout=20",
              "--format=csv", "--no-headings", "--columns=name", "list", table)
    return sorted(line.strip().strip('"') for line in out.splitlines() if line.strip())


def expected_names(db: Database) -> dict[str, list[str]]:
    with db.read() as session:
        return {
            "Logical_Switch_Port": sorted(session.scalars(select(Port.id))),
            "Logical_Switch": sorted(f"neutron-{i}" for i in session.scalars(select(Network.id))),
            "Logical_Router": sorted(f"neutron-{i}" for i in session.scalars(select(Router.id))),
        }


def start_sync_log(ovn: LocalOvn, db_url: str, state: Path) -> subprocess.Popen[str]:
    """`neutrino sync --mode log --json`, started (it runs while the members are checked)."""
    env = dict(os.environ, NEUTRINO_STATE_DIR=str(state), NEUTRINO_DB_URL=db_url,
               NEUTRINO_OVN_NB=ovn.nb, NEUTRINO_OVN_SB=ovn.sb)
    return subprocess.Popen([sys.executable, "-m", "neutrino.cli", "sync", "--mode", "log",
                             "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def sync_report(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), out + err
    return json.loads(out)


def assert_once_or_never(nodes: Nodes, uncertain: list[tuple[str, str, str]]) -> None:
    """A create whose node died with it in flight happened completely, once, or not at all
    (completely: the NB comparison covers every resource the database holds)."""
    node = nodes.pick(0)
    with httpx.Client(base_url=node.url, timeout=30) as http:
        for collection, attribute, value in uncertain:
            answer = http.get(f"/v2.0/{collection}", params={attribute: value})
            assert answer.status_code == 200, answer.text
            assert len(answer.json()[collection.replace("-", "_")]) <= 1, (collection, value)


def test_three_nodes_under_failures(cluster_ovn: LocalOvn, pg_url: str,
                                    tmp_path: Path) -> None:
    started = time.monotonic()
    db = Database(make_engine(pg_url))
    nodes = Nodes(cluster_ovn, tmp_path, pg_url)
    tally, story = Tally(), Story()
    try:
        nodes.start("a", "off")
        nodes.start("b", "off")

        def chaos() -> None:
            try:
                disrupt(cluster_ovn, nodes, db, tally, story)
            except BaseException as exc:  # noqa: BLE001 - raised in the test's thread
                story.error = exc
            finally:
                story.finished.set()

        def keep_going() -> bool:
            return story.error is None and (tally.done < OPERATIONS or
                                            not story.finished.is_set())

        clients = [Client(i, nodes, tally) for i in range(CLIENTS)]
        threads = [threading.Thread(target=c.work, args=(keep_going,), daemon=True)
                   for c in clients]
        disruptor = threading.Thread(target=chaos, daemon=True)
        for thread in [*threads, disruptor]:
            thread.start()
        for thread in [*threads, disruptor]:
            thread.join(timeout=300)
            assert not thread.is_alive(), "a client or the disruptor hangs"
        load_took = time.monotonic() - started
        if story.error is not None:
            raise story.error

        # (the figures, for whoever reads a failure or runs with -s)
        print(f"\n{tally.done} operations in {load_took:.1f}s; {dict(tally.statuses)}; "
              f"connection errors {dict(tally.connection_errors)}; "
              f"maintenance moved in {story.maintenance_takeover_s:.1f}s",
              *story.events, sep="\n")
        assert tally.done >= OPERATIONS
        assert tally.unexpected == [], tally.unexpected[:10]
        assert set(tally.connection_errors) <= {story.killed_node}, tally.connection_errors
        assert story.maintenance_takeover_s is not None
        assert story.maintenance_takeover_s < MAINTENANCE_TAKEOVER
        for report in (story.joined_sync, story.rejoined_sync):  # no joining node races
            assert "error" not in report, report
            assert report["differences"] == {} and report["repaired"] == 0, report
            assert report["owed_by_journal"] == 0, report
        assert story.rejoined_sync["mode"] == "repair"

        drained = wait_for(lambda: journal_drained(db), 90, "the journal drained")
        print(f"journal drained {drained:.1f}s after the load")
        sync = start_sync_log(cluster_ovn, pg_url, tmp_path / "sync")
        try:
            assert_once_or_never(nodes, tally.uncertain)
            expected = expected_names(db)
            for member in nb_members(cluster_ovn):  # every member: none lost, none doubled
                for table, names in expected.items():
                    wait_for(lambda m=member, t=table, n=names: member_names(m, t) == n, 20,
                             f"{member.name} {table} as the database says")
            pairs = assert_dependency_order(db)
            report = sync_report(sync)
        finally:
            if sync.poll() is None:
                sync.kill()
                sync.wait(timeout=10)
        print(f"{pairs} dependency pairs in order; done at {time.monotonic() - started:.1f}s")
        assert report["items"] == [], report["items"][:10]
        assert pairs > OPERATIONS
    finally:
        nodes.stop_all()
