"""Where an OVSDB connection stands in a RAFT cluster: the member in use, leader changes,
and which members answer at all.

A connection string may list every member of a clustered database (`tcp:A,tcp:B,tcp:C`).
The IDL (python-ovs) then connects to one member at a time and, being leader-only, moves on
until it finds the leader: it reads the `_Server` database of each member it reaches and
leaves a member that is not the leader, not connected to its cluster, or holds older data
than the IDL has already seen. So a connection that reaches the monitoring state is on the
leader, and the member in use changing means leadership moved (or the leader was lost).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from neutrino.ovn.reachability import reachable


class MemberWatch:
    """The member a connection monitors, told by the IDL thread each time it runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.member: str | None = None
        self.changes = 0  # times the connection settled on another member than before

    def observe(self, member: str) -> None:
        with self._lock:
            if member == self.member:
                return
            if self.member is not None:
                self.changes += 1
            self.member = member


@dataclass(frozen=True)
class ClusterView:
    database: str
    member: str | None  # None while not connected
    members: dict[str, bool]  # every member of the connection string → reachable
    leader_changes: int

    @property
    def health(self) -> str:
        """`ok`: every member answers; `degraded`: a minority is lost, the cluster still
        commits; `no quorum`: a majority is lost, nothing can be written."""
        up = sum(self.members.values())
        if up == len(self.members):
            return "ok"
        return "degraded" if up > len(self.members) // 2 else "no quorum"

    def as_dict(self) -> dict[str, object]:
        return {"member": self.member, "health": self.health,
                "members": {m: "reachable" if ok else "unreachable"
                            for m, ok in self.members.items()},
                "leader_changes": self.leader_changes}


def members_of(remote: str) -> list[str]:
    """The members a connection string names, split as python-ovs splits it (an `ssl:` or
    `unix:` part never contains a comma of its own)."""
    members: list[str] = []
    for part in remote.split(","):
        if members and ":" not in part:
            members[-1] += "," + part
        else:
            members.append(part.strip())
    return members


def cluster_view(database: str, remote: str, member: str | None, changes: int) -> ClusterView:
    return ClusterView(database, member, {m: reachable(m) for m in members_of(remote)},
                       changes)
