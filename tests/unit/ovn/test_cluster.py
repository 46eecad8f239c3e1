"""Cluster views of OVSDB connections, and the local cluster's status parsing (no I/O)."""

from __future__ import annotations

import pytest

from neutrino.ovn.cluster import ClusterView, MemberWatch, members_of
from neutrino.ovn.local_cluster import parse_cluster_status


@pytest.mark.parametrize(("remote", "members"), [
    ("unix:/run/ovn/ovnnb_db.sock", ["unix:/run/ovn/ovnnb_db.sock"]),
    ("tcp:10.0.0.1:6641,tcp:10.0.0.2:6641, tcp:10.0.0.3:6641",
     ["tcp:10.0.0.1:6641", "tcp:10.0.0.2:6641", "tcp:10.0.0.3:6641"]),
    ("ssl:[fd00::1]:6641,ssl:[fd00::2]:6641", ["ssl:[fd00::1]:6641", "ssl:[fd00::2]:6641"]),
])
def test_members_of_splits_as_python_ovs_does(remote: str, members: list[str]) -> None:
    assert members_of(remote) == members


@pytest.mark.parametrize(("up", "health"), [
    ((True, True, True), "ok"),
    ((True, False, True), "degraded"),
    ((False, False, True), "no quorum"),
    ((False, False, False), "no quorum"),
    ((True,), "ok"),
    ((False,), "no quorum"),
])
def test_health_is_about_the_quorum(up: tuple[bool, ...], health: str) -> None:
    view = ClusterView("OVN_Northbound", None, {f"tcp:h:{i}": ok for i, ok in enumerate(up)},
                       0)
    assert view.health == health
    assert view.as_dict()["health"] == health


def test_a_member_change_counts_but_the_first_connection_does_not() -> None:
    watch = MemberWatch()
    watch.observe("tcp:a:1")
    watch.observe("tcp:a:1")
    assert (watch.member, watch.changes) == ("tcp:a:1", 0)
    watch.observe("tcp:b:1")
    watch.observe("tcp:a:1")
    assert (watch.member, watch.changes) == ("tcp:a:1", 2)


def test_cluster_status_fields() -> None:
    text = """6909
Name: OVN_Northbound
Cluster ID: 89bc (89bc47ed-0e7f-4038-9485-7c5b77aad0cf)
Server ID: 6909 (69093ce7-fedc-4ae0-bef1-fc2fcccb4c9a)
Address: tcp:127.0.0.1:16641
Status: cluster member
Role: leader
Term: 1
Leader: self
Vote: self
"""
    assert parse_cluster_status(text) == {
        "server_id": "6909 (69093ce7-fedc-4ae0-bef1-fc2fcccb4c9a)",
        "address": "tcp:127.0.0.1:16641", "status": "cluster member", "role": "leader",
        "term": "1", "leader": "self"}
