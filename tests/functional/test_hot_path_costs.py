"""Costs on the hot paths that must not grow with the cloud or take the write lock for
nothing (issue 15): measured in SQLite virtual machine steps and write transactions, which
are exact, not in time, which is noise on a shared machine."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from ovn_tools import nbctl
from ovsdbapp.backend.ovs_idl import connection as ovsdbapp_connection
from sqlalchemy import String, event, func, inspect, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.testclient import TestClient

from neutrino import bootstrap, errors
from neutrino.api.attributes import (
    FLOATING_IP,
    NETWORK,
    PORT,
    RBAC_POLICY,
    ROUTER,
    SECURITY_GROUP,
    SUBNET,
    TRUNK,
    parse_create,
)
from neutrino.bootstrap import Neutrino, build, freeze_start_up_objects
from neutrino.db.engine import statements_and_parameters_run, statements_run
from neutrino.db.models import (
    DefaultSecurityGroup,
    InactiveBinding,
    IpAllocation,
    JournalEntry,
    Network,
    Port,
    PortSecurityGroup,
    Tag,
)
from neutrino.journal import worker as journal_worker
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.local import LocalOvn
from neutrino.reconcile import facts
from neutrino.services import ports as ports_service
from neutrino.services.common import write_row
from neutrino.services.context import Context
from neutrino.services.floating_ips import FloatingIpService
from neutrino.services.listing import ListQuery
from neutrino.services.ports import get_port_row
from neutrino.services.rbac import RbacService
from neutrino.services.security_groups import SecurityGroupService
from neutrino.services.trunks.service import TrunkService
from neutrino.settings import load_settings

CTX = Context(project_id="costs", is_admin=False, roles=("member",))


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[Neutrino]:
    """Built, never started: no OVN is needed to load facts or record statuses."""
    yield from built(tmp_path)


@pytest.fixture()
def pg_app(tmp_path: Path, pg_url: str) -> Iterator[Neutrino]:
    """`app` on a fresh PostgreSQL database."""
    yield from built(tmp_path, NEUTRINO_DB_URL=pg_url)


def built(tmp_path: Path, **settings: str) -> Iterator[Neutrino]:
    neutrino = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": f"unix:{tmp_path}/nb.sock",
        "NEUTRINO_OVN_SB": f"unix:{tmp_path}/sb.sock", "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_OVN_METADATA": "true", "NEUTRINO_QUOTA_PORT": "-1", **settings}))
    try:
        yield neutrino
    finally:
        neutrino.db.engine.dispose()


def network(app: Neutrino) -> tuple[str, str]:
    net = app.networks.create(CTX, [parse_create(NETWORK, {"name": "costs"})])[0]
    (sub,) = app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.9.0.0/16"})])
    return net["id"], sub["id"]


def ports(app: Neutrino, network_id: str, count: int) -> list[str]:
    return [p["id"] for p in app.ports.create(
        CTX, [parse_create(PORT, {"network_id": network_id}) for _ in range(count)])]


def steps(app: Neutrino, fn) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    """SQLite VM steps `fn(session)` takes (a progress handler called on every step)."""
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0

    with app.db.read() as session:
        raw = session.connection().connection.driver_connection
        raw.set_progress_handler(tick, 1)
        try:
            result = fn(session)
        finally:
            raw.set_progress_handler(None, 1)
    return counted[0], result


def test_the_metadata_address_costs_the_same_on_a_crowded_subnet(app: Neutrino):
    network_id, subnet_id = network(app)
    ports(app, network_id, 5)
    with app.db.read() as session:
        address = session.scalars(select(Port).where(
            Port.device_id == f"ovnmeta-{network_id}")).one().fixed_ips[0].ip_address
    few, found = steps(app, lambda s: facts._metadata_ips(s, [subnet_id]))
    assert found == {subnet_id: address}
    ports(app, network_id, 300)
    many, found = steps(app, lambda s: facts._metadata_ips(s, [subnet_id]))
    assert found == {subnet_id: address}
    # scanning the subnet's addresses took thousands of steps more with 300 more ports
    assert many <= few + 50, (few, many)


def test_a_status_report_that_changes_nothing_takes_no_write_transaction(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    network_id, _ = network(app)
    (port_id,) = ports(app, network_id, 1)
    writes = []
    session = app.db.session

    @contextlib.contextmanager
    def counted():  # type: ignore[no-untyped-def]
        writes.append(1)
        with session() as s:
            yield s

    monkeypatch.setattr(app.db, "session", counted)
    assert app.ports.set_status(port_id, False) is False  # a new port is DOWN already
    assert app.ports.set_status("no-such-port", True) is False
    assert writes == []
    assert app.ports.set_status(port_id, True) is True
    assert writes == [1]
    with app.db.read() as s:
        assert s.scalar(select(Port.status).where(Port.id == port_id)) == "ACTIVE"
    assert app.ports.set_status(port_id, True) is False
    assert writes == [1]


def reads_of(seen: list[str], table: str) -> int:
    """SELECTs that read the table's columns (not those naming an alias of it)."""
    column = re.compile(rf"\b{table}\.")
    return sum(1 for s in seen if s.startswith("SELECT") and column.search(s))


def selects_from(seen: list[str], table: str) -> int:
    """SELECTs whose first table is `table` (one joined into another's is not counted)."""
    return sum(1 for s in seen if s.startswith("SELECT") and re.search(rf"\bFROM {table}\b", s))


def test_a_port_joins_its_projects_default_group_without_loading_it(app: Neutrino):
    network_id, _ = network(app)
    ports(app, network_id, 1)  # the project's default group exists from here on
    with statements_run(app.db.engine) as seen:
        (port,) = app.ports.create(CTX, [parse_create(PORT, {"network_id": network_id})])
    with app.db.read() as session:
        default = session.get(DefaultSecurityGroup, CTX.project_id).security_group_id
    assert port["security_groups"] == [default]
    assert reads_of(seen, "security_groups") == 0
    assert reads_of(seen, "security_group_rules") == 0
    # an admin's port for another project gets that project's default group, and a group
    # the caller names is still checked
    admin = Context(project_id="admin", is_admin=True)
    (other,) = app.ports.create(admin, [parse_create(PORT, {
        "network_id": network_id, "project_id": "elsewhere"})])
    with app.db.read() as session:
        elsewhere = session.get(DefaultSecurityGroup, "elsewhere").security_group_id
    assert other["security_groups"] == [elsewhere] != [default]
    with pytest.raises(errors.SecurityGroupNotFound):
        app.ports.create(CTX, [parse_create(PORT, {
            "network_id": network_id, "security_groups": [elsewhere]})])


def test_a_ports_facts_load_what_translation_reads_and_no_more(app: Neutrino):
    network_id, _ = network(app)
    (port_id,) = ports(app, network_id, 1)
    with statements_run(app.db.engine) as seen:
        (state,) = app.reconciler.desired([ResourceRef(ResourceType.PORT, port_id)])
    assert state is not None
    for table in ("tags", "trunks", "rbac_policies", "network_segments", "subnetpools"):
        assert reads_of(seen, table) == 0, (table, seen)


def test_a_bulk_create_loads_its_network_once_and_a_new_port_nothing_it_cannot_have(
        app: Neutrino):
    network_id, _ = network(app)
    ports(app, network_id, 1)
    with statements_run(app.db.engine) as seen:
        made = ports(app, network_id, 20)
    assert len(made) == 20
    assert reads_of(seen, "networks") == 1
    for table in ("tags", "trunks", "trunk_subports", "compute_port_bindings"):
        assert reads_of(seen, table) == 0, table
    # what the view said is what is stored
    (tagged,) = app.ports.create(CTX, [parse_create(PORT, {
        "network_id": network_id, "tags": ["b", "a"]})])
    assert tagged["tags"] == ["a", "b"]
    assert app.ports.get(CTX, tagged["id"])["tags"] == ["a", "b"]
    assert app.ports.get(CTX, made[0])["tags"] == []


def test_status_reports_taken_together_read_once_and_write_only_changes(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    network_id, _ = network(app)
    first, second = ports(app, network_id, 2)
    written = []
    set_status = app.ports.set_status

    def noted(port_id: str, up: bool) -> bool:
        written.append((port_id, up))
        return set_status(port_id, up)

    monkeypatch.setattr(app.ports, "set_status", noted)
    with statements_run(app.db.engine) as seen:
        app.ports.set_statuses([(first, False), (second, False), ("gone", True),
                                (first, True), (first, True), (second, False),
                                (first, False)])
    # in order, and only what changes the status: first goes up, then down again
    assert written == [(first, True), (first, False)]
    assert reads_of(seen, "ports") - 2 * len(written) == 1  # each change reads once more
    with app.db.read() as s:
        assert set(s.scalars(select(Port.status).where(Port.id.in_([first, second])))) == {
            "DOWN"}


def test_down_reports_that_come_soon_after_are_read_with_the_first_an_up_report_at_once(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    """Every port created is reported down once ovn-northd has looked at it, which it is
    already: one read for the reports of several creates, not one each."""
    monkeypatch.setattr(bootstrap, "STATUS_GATHER", 30.0)
    reports = app.status_updates

    def put_later(*items: tuple[str, bool], after: float = 0.05) -> threading.Thread:
        def put() -> None:
            for item in items:
                time.sleep(after)
                reports.put(item)
        thread = threading.Thread(target=put)
        thread.start()
        return thread

    reports.put(("a", False))
    put_later(("b", False), ("c", False), ("d", True))  # an up report ends the wait
    assert app._status_reports() == [("a", False), ("b", False), ("c", False), ("d", True)]
    reports.put(("e", True))
    reports.put(("f", False))
    thread = put_later(("g", False), after=0.2)
    assert app._status_reports() == [("e", True), ("f", False)]  # no wait after an up
    thread.join()
    reports.put(("h", True))
    assert app._status_reports() == [("g", False), ("h", True)] and reports.empty()
    reports.put(("", False))  # the stop signal
    assert app._status_reports() == [("", False)]


def test_the_worker_goes_first_only_after_finding_nothing_and_settles_with_its_next_claim(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    network_id, _ = network(app)
    ports(app, network_id, 3)  # their entries (and the network's) are pending
    (worker,) = app.workers
    monkeypatch.setattr(worker.reconciler, "apply", lambda refs, states=None: [])  # no OVN
    monkeypatch.setattr(worker, "backend_ready", lambda: True)
    flags: list[bool] = []
    afters: list[float | None] = []
    session = app.db.session

    @contextlib.contextmanager
    def noted(urgent: bool = False, urgent_after: float | None = None):  # type: ignore[no-untyped-def]
        flags.append(urgent)
        afters.append(urgent_after)
        with session(urgent, urgent_after) as s:
            yield s

    monkeypatch.setattr(app.db, "session", noted)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while len(flags) < 3:
            assert time.monotonic() < deadline, flags
            time.sleep(0.01)
    finally:
        worker.stop()
    # idle at start: the claim goes ahead; busy then: the network's settlement and the
    # ports' claim (one transaction) wait their turn, and so do the ports' settlement and
    # the claim that finds nothing; two write transactions per batch were five
    assert flags[:3] == [True, False, False]
    assert set(afters) == {0.02}  # waiting in turn, but no longer than 20 ms (the default)


def test_a_database_error_reading_with_the_claim_fails_that_cycle_not_the_entries(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    """A database error while a batch's facts are read in its claim's transaction (which
    PostgreSQL then aborts, claim and settlement with it) fails that cycle; the next claims
    the entries again and reads their facts after its commit, and they are applied."""
    network_id, _ = network(app)
    (worker,) = app.workers
    applied: list[object] = []
    monkeypatch.setattr(worker.reconciler, "apply",  # no OVN here
                        lambda refs, states=None: applied.append(states) or [])
    monkeypatch.setattr(worker, "backend_ready", lambda: True)
    real = app.reconciler.desired

    def failing_with_the_claim(refs, session=None):  # type: ignore[no-untyped-def]
        if session is not None:
            raise OperationalError("SELECT", {}, Exception("the database failed"))
        return real(refs)

    ports(app, network_id, 1)  # and the project's default group
    while worker.run_once():
        pass
    applied.clear()
    monkeypatch.setattr(worker.reconciler, "desired", failing_with_the_claim)
    ports(app, network_id, 1)
    worker.start()
    try:
        wait_until(lambda: applied)
    finally:
        worker.stop()
    assert applied == [None]  # read when applied
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.state != "completed")) == 0


def test_an_applied_batch_is_settled_with_the_next_claim_when_entries_come_soon(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    """Entries one at a time (one API client): each batch is settled in the transaction
    that claims the next, not in one of its own (its commit and the write lock were half of
    a one-port batch's database CPU); the last is settled once nothing came meanwhile."""
    network_id, _ = network(app)
    (worker,) = app.workers
    applied: list[list[ResourceRef]] = []
    monkeypatch.setattr(worker.reconciler, "apply",  # no OVN here
                        lambda refs, states=None: applied.append(list(refs)) or [])
    monkeypatch.setattr(worker, "backend_ready", lambda: True)
    ports(app, network_id, 1)  # and the project's default group
    while worker.run_once():
        pass
    monkeypatch.setattr(journal_worker, "SETTLE_WITH_NEXT", 30.0)  # "soon": within 30 s
    transactions: list[None] = []
    session = app.db.session

    @contextlib.contextmanager
    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == worker.name:  # not the API's writes
            transactions.append(None)
        with session(*args, **kwargs) as s:
            yield s

    monkeypatch.setattr(app.db, "session", counted)
    monkeypatch.setattr(worker, "settings", replace(worker.settings, poll_interval=600))
    applied.clear()
    app.wakeup.wait(0)  # the commits above woke nobody yet: forgotten
    worker.start()
    try:
        wait_until(lambda: transactions)  # its first claim finds nothing
        for count in (1, 2, 3):
            ports(app, network_id, 1)  # its commit wakes the worker
            wait_until(lambda count=count: len(applied) == count)
        time.sleep(0.2)
        with app.db.read() as s:  # the last batch waits to be settled with a next claim
            assert s.scalar(select(func.count()).select_from(JournalEntry).where(
                JournalEntry.state == "processing")) == 1
        # a claim that found nothing at the start, the first batch's claim, then each
        # claim settling the batch before: four write transactions (seven before: each
        # batch settled alone)
        assert len(applied) == 3 and len(transactions) == 4, transactions
    finally:
        worker.stop()
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.state != "completed")) == 0


def test_a_small_batchs_facts_are_read_in_its_claims_transaction(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    """A one-port batch: its claim and its facts in one transaction, its settlement in
    another (a read transaction of its own was a third of its database CPU); the states
    applied are those the reconciler reads on its own. A batch whose facts cannot be read
    with the claim is read when applied, as before, and applied."""
    network_id, _ = network(app)
    (worker,) = app.workers
    applied: list[tuple[list[ResourceRef], object]] = []
    monkeypatch.setattr(worker.reconciler, "apply",  # no OVN here
                        lambda refs, states=None: applied.append((list(refs), states)) or [])
    ports(app, network_id, 1)  # and the project's default group
    while worker.run_once():
        pass
    (port,) = ports(app, network_id, 1)
    applied.clear()
    with statements_run(app.db.engine) as seen:
        assert worker.run_once() == 1
    # the claim with the facts, the settlement (the facts read when applied took a third)
    assert [q.split()[0] for q in seen].count("BEGIN") == 2, seen
    ((refs, states),) = applied
    assert refs == [ResourceRef(ResourceType.PORT, port)]
    assert states == app.reconciler.desired(refs)

    app.ports.update(CTX, port, {"name": "again"}, None)
    real = app.reconciler.desired

    def unreadable_with_the_claim(refs, session=None):  # type: ignore[no-untyped-def]
        if session is not None:
            raise RuntimeError("a fact that cannot be read")
        return real(refs)

    monkeypatch.setattr(worker.reconciler, "desired", unreadable_with_the_claim)
    applied.clear()
    assert worker.run_once() == 1
    assert applied == [([ResourceRef(ResourceType.PORT, port)], None)]  # read when applied
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.state != "completed")) == 0


def l3_cloud(app: Neutrino, routers: int) -> tuple[list[str], list[str]]:
    """`routers` routers, each with a gateway, an interface on its own subnet and a floating
    IP on a port there; returns the routers' and the floating IPs' ids."""
    admin = Context(project_id=CTX.project_id, is_admin=True)
    ext = app.networks.create(admin, [parse_create(NETWORK, {
        "name": "ext", "router:external": True})])[0]["id"]
    app.subnets.create(admin, [parse_create(SUBNET, {
        "network_id": ext, "ip_version": 4, "cidr": "172.16.0.0/16"})])
    fips = FloatingIpService(app.db, app.settings, app.wakeup)
    router_ids, fip_ids = [], []
    for i in range(routers):
        (router,) = app.routers.create(CTX, [parse_create(ROUTER, {
            "name": f"r{i}", "external_gateway_info": {"network_id": ext}})])
        net = app.networks.create(CTX, [parse_create(NETWORK, {"name": f"n{i}"})])[0]
        (sub,) = app.subnets.create(CTX, [parse_create(SUBNET, {
            "network_id": net["id"], "ip_version": 4, "cidr": f"10.{i}.0.0/24"})])
        app.routers.add_interface(CTX, router["id"], {"subnet_id": sub["id"]})
        (port,) = ports(app, net["id"], 1)
        (fip,) = fips.create(CTX, [parse_create(FLOATING_IP, {
            "floating_network_id": ext, "port_id": port})])
        router_ids.append(router["id"])
        fip_ids.append(fip["id"])
    return router_ids, fip_ids


def desired_statements(app: Neutrino, rtype: ResourceType, ids: list[str]) -> int:
    refs = [ResourceRef(rtype, i) for i in ids]
    with statements_run(app.db.engine) as seen:
        states = app.reconciler.desired(refs)
    assert [s.resource_id for s in states] == ids and all(s.rows for s in states)
    return len(seen)


def test_routers_and_floating_ips_of_a_batch_load_in_as_many_statements_as_one(
        app: Neutrino):
    router_ids, fip_ids = l3_cloud(app, 4)
    with app.db.read() as session:
        network_ids = list(session.scalars(select(Network.id)))
    with statements_run(app.db.engine) as seen:
        desired_statements(app, ResourceType.NETWORK, network_ids)
    for table in ("subnets", "subnetpools", "tags", "rbac_policies"):
        assert reads_of(seen, table) == 0, (table, seen)
    one = desired_statements(app, ResourceType.ROUTER, router_ids[:1])
    assert desired_statements(app, ResourceType.ROUTER, router_ids) == one
    one = desired_statements(app, ResourceType.FLOATING_IP, fip_ids[:1])
    assert desired_statements(app, ResourceType.FLOATING_IP, fip_ids) == one


def test_listing_gateways_reads_the_routers_columns_alone(app: Neutrino):
    """/healthz lists the gateways on every call (a benchmark polls it every 20 ms while
    the journal applies): one SELECT of four columns, not Router objects bringing their
    gateway ports with all of those ports' relationships (a SELECT each)."""
    router_ids, _ = l3_cloud(app, 3)
    with statements_run(app.db.engine) as seen:
        gateways = app.routers.list_gateways()
    assert sorted(g["router_id"] for g in gateways) == sorted(router_ids)
    assert all(set(g) == {"router_id", "name", "chassis", "status"} for g in gateways)
    assert [q for q in seen if q.startswith("SELECT")] == [
        q for q in seen if q.startswith("SELECT") and "FROM routers" in q], seen
    assert len([q for q in seen if q.startswith("SELECT")]) == 1, seen


def test_security_groups_and_rules_of_a_batch_load_in_as_many_statements_as_one(
        app: Neutrino):
    sgs = SecurityGroupService(app.db, app.settings, app.wakeup)
    made = [sgs.create(CTX, [parse_create(SECURITY_GROUP, {"name": f"g{i}"})])[0]
            for i in range(4)]
    rule_ids = [r["id"] for g in made for r in g["security_group_rules"]]
    assert len(rule_ids) >= 8  # two default egress rules per group
    group_ids = [g["id"] for g in made]
    one = desired_statements(app, ResourceType.SECURITY_GROUP, group_ids[:1])
    assert desired_statements(app, ResourceType.SECURITY_GROUP, group_ids) == one
    one = desired_statements(app, ResourceType.SECURITY_GROUP_RULE, rule_ids[:1])
    assert desired_statements(app, ResourceType.SECURITY_GROUP_RULE, rule_ids) == one


def test_a_bulk_creates_statements_do_not_grow_with_its_ports(app: Neutrino):
    network_id, _ = network(app)
    ports(app, network_id, 1)  # the project's default group exists from here on
    with statements_run(app.db.engine) as one:
        ports(app, network_id, 1)
    with statements_run(app.db.engine) as many:
        made = ports(app, network_id, 40)
    assert len(set(made)) == 40
    # checks read once for the request, and one multi-row INSERT a table, journal included
    assert len(many) == len(one) <= 11, (len(one), len(many))
    # the network comes with its subnets and RBAC entries in one statement
    assert selects_from(one, "networks") == 1 and selects_from(one, "subnets") == 0, one
    with app.db.read() as session:
        entries = session.scalars(select(JournalEntry).where(
            JournalEntry.resource_id.in_(made))).all()
        assert len(entries) == 40
        for entry in entries:  # each waits for its network, subnet and group
            assert len(entry.depends_on) == 3, entry.resource_id


def test_a_port_update_or_delete_loads_its_network_once_and_nothing_unread(app: Neutrino):
    """A member's update of a name and delete ask no rule about the port's network, so
    they do not read it (they read it once before); a rule that asks reads it once."""
    network_id, subnet_id = network(app)
    first, second = ports(app, network_id, 2)
    with statements_run(app.db.engine) as update:
        assert app.ports.update(CTX, first, {"name": "renamed"}, None)["name"] == "renamed"
    with statements_run(app.db.engine) as delete:
        app.ports.delete(CTX, second, None)
    for seen in (update, delete):
        for table in ("networks", "network_segments", "subnets", "trunks", "trunk_subports"):
            assert reads_of(seen, table) == 0, (table, seen)
    assert len(update) <= 5, update
    assert len(delete) <= 5, delete
    # `update_port:fixed_ips` is the network owner's: its rule and IPAM read it, once
    with statements_run(app.db.engine) as moving:
        app.ports.update(CTX, first, {"fixed_ips": [
            {"subnet_id": subnet_id, "ip_address": "10.9.0.99"}]}, None)
    assert reads_of(moving, "networks") == 1, moving
    # and a rule that fails on it fails as before
    other = Context(project_id="other", is_admin=False, roles=("member",))
    admin = Context(project_id="other", is_admin=True)
    theirs = app.ports.create(admin, [parse_create(PORT, {"network_id": network_id})])[0]
    with pytest.raises(errors.PolicyNotAuthorized, match="update_port:fixed_ips"):
        app.ports.update(other, theirs["id"], {"fixed_ips": []}, None)
    assert app.ports.update(other, theirs["id"], {"name": "mine"}, None)["name"] == "mine"


def test_a_port_and_its_network_are_read_by_statements_built_once(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    """Showing, updating and deleting a port read the port and its network without
    `Session.get`, which builds its statement and that statement's cache key at each call
    (the statements are built once, `common.get_row`)."""
    network_id, _ = network(app)
    first, second = ports(app, network_id, 2)
    got: list[type] = []
    real_get = Session.get

    def noted_get(self, entity, *args, **kwargs):  # type: ignore[no-untyped-def]
        got.append(entity)
        return real_get(self, entity, *args, **kwargs)

    monkeypatch.setattr(Session, "get", noted_get)
    assert app.ports.get(CTX, first)["id"] == first
    assert app.ports.update(CTX, first, {"name": "renamed"}, None)["name"] == "renamed"
    app.ports.delete(CTX, second, None)
    assert not [entity for entity in got if entity in (Port, Network)], got


def test_the_facts_of_a_batch_of_ports_cost_the_statements_of_one_port(app: Neutrino):
    network_id, _ = network(app)
    made = ports(app, network_id, 60)
    refs = [ResourceRef(ResourceType.PORT, port_id) for port_id in made]
    with statements_run(app.db.engine) as one:
        app.reconciler.desired(refs[:1])
    with statements_run(app.db.engine) as batch:
        states = app.reconciler.desired(refs)
    assert [s.resource_id for s in states] == made
    # BEGIN, the ports (saying which have inactive bindings), their addresses (with
    # subnets and metadata address) and groups: 10 with a statement per related table, 13
    # as ORM objects; inactive bindings are read when a port has some (a live migration)
    assert len(batch) == len(one) <= 4, (one, batch)
    assert not any(s.startswith("SELECT compute_port_bindings.") for s in batch), batch
    with app.db.session() as session:
        session.add(InactiveBinding(port_id=made[7], host="destination"))
    with statements_run(app.db.engine) as migrating, app.db.read() as session:
        found = facts.load_ports(session, made)
    assert len(migrating) == len(batch) + 1, migrating
    assert [p for p, f in found.items() if f.migrating_to] == [made[7]]


def test_a_ports_facts_cost_the_same_on_a_crowded_subnet(app: Neutrino):
    """The metadata port's address on the port's subnet is found through the metadata
    port (`ports.device_id`'s index), never by scanning the subnet's addresses."""
    network_id, subnet_id = network(app)
    (port_id,) = ports(app, network_id, 1)
    few, found = steps(app, lambda s: facts.load_ports(s, [port_id]))
    (dhcp,) = found[port_id].dhcp_subnets
    assert dhcp.id == subnet_id and dhcp.metadata_ip is not None
    ports(app, network_id, 300)
    many, again = steps(app, lambda s: facts.load_ports(s, [port_id]))
    assert again == found
    assert many <= few + 50, (few, many)


def test_a_commit_wakes_the_worker_at_once_not_at_its_next_poll(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    network_id, _ = network(app)
    (worker,) = app.workers
    applied: dict[str, float] = {}
    monkeypatch.setattr(worker.reconciler, "apply", lambda refs, states=None: [
        applied.setdefault(ref.id, time.monotonic()) for ref in refs] and [])
    monkeypatch.setattr(worker, "backend_ready", lambda: True)
    monkeypatch.setattr(worker, "settings", replace(worker.settings, poll_interval=600))
    worker.start()
    try:
        wait_until(lambda: network_id in applied)
        time.sleep(0.2)  # idle now, waiting for a wake-up or its poll in 600 s
        (port_id,) = ports(app, network_id, 1)
        committed = time.monotonic()
        wait_until(lambda: port_id in applied)
    finally:
        worker.stop()
    assert applied[port_id] - committed < 30


def wait_until(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_reading_nb_updates_does_not_give_up_the_gil_after_every_row(
        local_ovn: LocalOvn, monkeypatch: pytest.MonkeyPatch):
    slept: list[float] = []

    class Clock:  # ovsdbapp's IDL yields with time.sleep(0) after each row it reads
        @staticmethod
        def sleep(seconds: float) -> None:
            slept.append(seconds)
            time.sleep(seconds)

    monkeypatch.setattr(ovsdbapp_connection, "time", Clock)
    seen: list[str] = []
    client = NorthboundClient(local_ovn.nb, on_port_up=lambda name, _up: seen.append(name))
    client.connect()
    try:
        switch = f"costs-{uuid.uuid4().hex[:8]}"
        nbctl(local_ovn, "ls-add", switch, "--", "lsp-add", switch, f"{switch}-p1",
              "--", "lsp-add", switch, f"{switch}-p2")
        wait_until(lambda: f"{switch}-p2" in seen)
        nbctl(local_ovn, "ls-del", switch)
    finally:
        client.close()
    assert slept == []


def test_a_new_switch_port_is_reported_once_when_northd_has_judged_it(local_ovn: LocalOvn):
    """Each report costs the journal process a status read: our own insert's echo, `up`
    still unset, was reported DOWN before ovn-northd's `up=false` was reported again."""
    reports: list[tuple[str, bool]] = []
    client = NorthboundClient(local_ovn.nb, on_port_up=lambda name, up: reports.append(
        (name, up)))
    client.connect()
    try:
        switch = f"costs-{uuid.uuid4().hex[:8]}"
        nbctl(local_ovn, "ls-add", switch, "--", "lsp-add", switch, f"{switch}-p1")
        # once the copy holds northd's `up`, its report was made (on the IDL's thread)
        wait_until(lambda: any(row["name"] == f"{switch}-p1" and row["up"] is False
                               for row in client.read_rows("Logical_Switch_Port",
                                                           ("name", "up"))))
        nbctl(local_ovn, "ls-del", switch)
    finally:
        client.close()
    assert [r for r in reports if r[0].startswith(switch)] == [(f"{switch}-p1", False)]


def test_a_database_back_after_an_outage_is_tried_every_second_not_every_8(
        local_ovn: LocalOvn):
    client = NorthboundClient(local_ovn.nb)
    client.connect()
    try:
        reconnect = client._backend_or_raise().idl._session.reconnect
        # python-ovs doubles its wait up to 8 s: the journal's backlog waited that long
        assert (reconnect.min_backoff, reconnect.max_backoff) == (1000, 1000)
    finally:
        client.close()


# --- listing ports: a page costs the same at any size (issue 15, scale) ---------------------


def test_listing_ports_runs_the_same_statements_however_many_there_are(app: Neutrino):
    """A page's ports and their addresses, groups, tags and trunks load in one query each,
    whatever the page's length or the table's size (the ORM's selectin loading read 500
    ports' relations per query, and built an object per row)."""
    network_id, _ = network(app)
    ports(app, network_id, 5)

    def listed(query: ListQuery) -> tuple[int, int]:
        with statements_run(app.db.engine) as seen:
            found = app.ports.list(CTX, query)
        return len(seen), len(found)

    few_all, few_page = listed(ListQuery()), listed(ListQuery(limit=100))
    ports(app, network_id, 600)
    many_all, many_page = listed(ListQuery()), listed(ListQuery(limit=100))
    assert (few_all[1], few_page[1], many_all[1], many_page[1]) == (6, 6, 606, 100)
    assert few_all[0] == many_all[0] == few_page[0] == many_page[0]


def neutrino_calls(fn) -> int:  # type: ignore[no-untyped-def]
    """Python functions of neutrino's own `fn()` calls (on this thread), libraries left out:
    a count of work that is exact, where time is noise."""
    counted = [0]
    package = f"{os.sep}neutrino{os.sep}"

    def profile(frame, event, _arg) -> None:  # type: ignore[no-untyped-def]
        if event == "call" and package in frame.f_code.co_filename:
            counted[0] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return counted[0]


def test_a_listed_port_costs_one_call(app: Neutrino):
    """A listing builds its ports' answers in one builder call for the page, which calls one
    helper a port (its `dns_assignment`): one of neutrino's calls a port. (A stand-in object
    per port, four JSON decodes, two timestamps parsed and formatted and eleven helpers were
    24 calls a port; then 7: the fixed IPs' comprehension, the DNS domain worked out again
    for every port, and the page's generator resumed for every port; then 2: the builder
    called for each port.)"""
    network_id, _ = network(app)
    ports(app, network_id, 5)

    def listing() -> int:
        return neutrino_calls(lambda: app.ports.list(CTX, ListQuery()))

    few = listing()
    ports(app, network_id, 600)
    many = listing()
    assert (many - few) / 600 <= 1, (few, many)


def test_a_listing_reads_a_ports_columns_from_sqlite_as_one_value(app: Neutrino):
    """The driver makes a Python value of every column of every row, about 0.1 us each: a
    page reads each port's 26 columns as one JSON array (decoded by orjson for the whole
    page in one call), and no statement of a listing returns more than three columns."""
    network_id, _ = network(app)
    ports(app, network_id, 30)
    widths: list[tuple[int, str]] = []

    def note(_conn, cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        widths.append((len(cursor.description or ()), statement))

    event.listen(app.db.engine, "after_cursor_execute", note)
    try:
        assert len(app.ports.list(CTX, ListQuery())) == 31  # and the metadata port
    finally:
        event.remove(app.db.engine, "after_cursor_execute", note)
    assert max(width for width, _ in widths) <= 3, widths
    assert any("json_array(ports.id" in statement for _, statement in widths), widths


def test_a_listing_is_written_without_json_dumps(app: Neutrino, monkeypatch):
    """The answer of a listing (1,000 ports: 957 KB, 9-11 ms in `json.dumps`, a fifth of the
    GET) is written by orjson (`api.encode`); `json.dumps` writes only what orjson would
    write otherwise. Same bytes either way (tests/unit/api/test_encode.py)."""
    network_id, _ = network(app)
    ports(app, network_id, 20)
    dumped = []  # answers written by json.dumps (with the separators of an answer)
    real_dumps = json.dumps

    def dumps(*args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("separators") == (",", ":"):
            dumped.append(args[0])
        return real_dumps(*args, **kwargs)

    monkeypatch.setattr(json, "dumps", dumps)
    with TestClient(app.app, headers={"X-Project-Id": "costs"}) as client:
        response = client.get("/v2.0/ports")
    assert response.status_code == 200 and len(response.json()["ports"]) == 21  # + metadata
    assert dumped == []


def test_a_listing_runs_no_collector_pass_once_started(app: Neutrino):
    """Once start-up's objects are frozen (`serve` does it), listing 600 ports (some 10,000
    containers alive until the answer is written) runs no pass of the garbage collector: it
    ran 20 young passes and a middle one, and a full one every few listings."""
    network_id, _ = network(app)
    ports(app, network_id, 600)
    passes: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    threshold = gc.get_threshold()
    freeze_start_up_objects()
    gc.callbacks.append(note)
    try:
        assert len(app.ports.list(CTX, ListQuery())) == 601
    finally:
        gc.callbacks.remove(note)
        gc.set_threshold(*threshold)
        gc.unfreeze()
    assert passes == []


def query_plans(app: Neutrino, fn) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The query plan of every SELECT on `ports` that `fn()` runs (SQLite's EXPLAIN QUERY
    PLAN steps; PostgreSQL's EXPLAIN lines)."""
    explain = ("EXPLAIN QUERY PLAN" if app.db.engine.dialect.name == "sqlite" else "EXPLAIN")
    with statements_and_parameters_run(app.db.engine) as captured:
        fn()
    plans = {}
    with app.db.engine.connect() as conn:
        for statement, parameters in captured:
            if statement.startswith("SELECT") and re.search(r"FROM ports\b", statement):
                plans[statement] = [row[-1] for row in conn.exec_driver_sql(
                    f"{explain} {statement}", parameters)]  # type: ignore[arg-type]
    return plans


def test_a_projects_page_of_ports_and_a_device_id_filter_read_an_index(app: Neutrino):
    """A project's page (`project_id = ? ORDER BY id LIMIT n`, after a marker or not) and a
    device_id filter read their rows off an index in page order: no sort of the project's
    ports for each page (what the project_id index alone made SQLite do)."""
    network_id, _ = network(app)
    made = sorted(ports(app, network_id, 30))
    app.db.write(lambda session: session.execute(
        update(Port).where(Port.id == made[7]).values(device_id="vm-7")))

    def pages() -> None:
        assert len(app.ports.list(CTX, ListQuery(limit=10))) == 10
        assert len(app.ports.list(CTX, ListQuery(limit=10, marker=made[10]))) == 10
        assert len(app.ports.list(CTX, ListQuery(limit=10, marker=made[20],
                                                 page_reverse=True))) == 10
        found = app.ports.list(CTX, ListQuery(limit=10, filters={"device_id": ("vm-7",)}))
        assert [p["id"] for p in found] == [made[7]]

    plans = query_plans(app, pages)
    assert len(plans) >= 4, plans
    for statement, plan in plans.items():
        if "ORDER BY" not in statement:
            continue  # the marker row, by primary key
        assert not any("TEMP B-TREE" in step for step in plan), (statement, plan)
        assert all("USING" in step and "INDEX" in step for step in plan), (statement, plan)
    device = [p for s, p in plans.items() if "ports.device_id IN" in s]
    assert device and all("ix_ports_device_id_project_id_id" in p[0] for p in device), device


def test_a_ports_load_asks_each_table_that_may_name_it_by_an_index(app: Neutrino):
    """A port's show, update and delete load it with EXISTS columns asking whether a trunk,
    subport, tag, port pair, flow classifier, floating IP or forwarding names it: each an
    index's lookup, never a scan (a flow classifier's destination had no index before
    0028: every port load read all the classifiers)."""
    with app.db.engine.connect() as conn:
        sql = str(ports_service._PORT_ROW.compile(dialect=conn.dialect))
        plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, ("p",))]
    assert "ix_sfc_flow_classifiers_logical_destination_port" in " ".join(plan), plan
    assert not [step for step in plan if step.startswith("SCAN")], plan


def test_deleting_a_port_reads_every_table_that_refers_to_it_by_an_index(app: Neutrino):
    """Deleting a port makes SQLite look up each foreign key that refers to it (to cascade,
    set NULL or refuse): each by an index, never a scan of the referring table (routers'
    gateway ports had no index: every port delete read every router)."""
    network_id, _ = network(app)
    (port_id,) = ports(app, network_id, 1)
    with app.db.engine.connect() as conn:
        plan = [row[-1] for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN DELETE FROM ports WHERE id = ?", (port_id,))]
    referring = {fk.parent.table.name for table in Port.metadata.sorted_tables
                 for fk in table.foreign_keys if fk.column.table.name == "ports"}
    assert "routers" in referring
    looked_up = {step.split()[1] for step in plan if step.startswith("SEARCH")}
    assert referring <= looked_up, plan
    assert not [step for step in plan if step.startswith("SCAN")], plan


def test_pages_of_ports_on_postgresql_read_an_index_in_page_order(pg_app: Neutrino):
    """PostgreSQL pages ids in code-point order (`id COLLATE "C"`), which the primary key,
    in the database's collation, cannot serve: every page read and sorted the whole table
    (35-55 ms at 100k ports, with statistics or without). A page (an admin's or a
    project's; first, after a marker, reversed) reads an index in page order, on a table
    of some thousands of ports never analysed."""
    app = pg_app
    network_id, _ = network(app)
    made = sorted(ports(app, network_id, 30))
    copy_ports(app, made[0], 3000)
    admin = Context(project_id="costs")

    def pages() -> None:
        for ctx in (admin, CTX):
            assert len(app.ports.list(ctx, ListQuery(limit=10))) == 10
            assert len(app.ports.list(ctx, ListQuery(limit=10, marker=made[10]))) == 10
            assert len(app.ports.list(ctx, ListQuery(limit=10, marker=made[20],
                                                     page_reverse=True))) == 10

    plans = query_plans(app, pages)
    paged = {s: p for s, p in plans.items() if "ORDER BY" in s}
    assert len(paged) == 6, plans
    for statement, plan in paged.items():
        assert not any("Sort" in line for line in plan), (statement, plan)
        assert any("Index" in line and "_c on ports" in line for line in plan), (statement, plan)


def copy_ports(app: Neutrino, template: str, count: int) -> None:
    """`count` copies of port `template` (new id, MAC and device_id), straight in SQL."""
    columns = [c.name for c in Port.__table__.c]
    replaced = {"id": "md5(n::text)::uuid::text", "mac_address": "'copy-' || n",
                "device_id": "'copy-' || n"}
    app.db.write(lambda session: session.execute(text(f"""
        INSERT INTO ports ({", ".join(columns)})
        SELECT {", ".join(replaced.get(c, f"t.{c}") for c in columns)}
        FROM generate_series(1, {count}) AS n, (SELECT * FROM ports WHERE id = :id) AS t
        """), {"id": template}))


def test_a_listed_port_is_the_shown_port(app: Neutrino):
    """The listing builds its ports from plain rows (port_listing); each attribute must be
    what showing the port gives: addresses in order, groups, tags, pairs, DHCP options,
    binding profile, a trunk and its subports."""
    network_id, subnet_id = network(app)
    admin = Context(project_id=CTX.project_id, is_admin=True)
    groups = SecurityGroupService(app.db, app.settings, app.ports.wakeup)
    group = groups.create(CTX, [parse_create(SECURITY_GROUP, {"name": "g"})])[0]
    (parent, sub, plain) = app.ports.create(admin, [
        parse_create(PORT, {
            "network_id": network_id, "name": "parent", "tags": ["z", "a"],
            "fixed_ips": [{"subnet_id": subnet_id, "ip_address": "10.9.0.50"},
                          {"subnet_id": subnet_id, "ip_address": "10.9.0.20"}],
            "security_groups": [group["id"]],
            "allowed_address_pairs": [{"ip_address": "10.9.9.0/24"}],
            "extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": "1400"}],
            "binding:profile": {"k": "v"}, "dns_name": "vm1", "device_id": "vm-1"}),
        parse_create(PORT, {"network_id": network_id, "name": "sub"}),
        parse_create(PORT, {"network_id": network_id, "name": "plain",
                            "port_security_enabled": False, "security_groups": []})])
    trunks = TrunkService(app.db, app.settings, app.ports.wakeup)
    trunks.create(CTX, [parse_create(TRUNK, {"port_id": parent["id"], "sub_ports": [
        {"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": 7}]})])
    listed = {p["id"]: p for p in app.ports.list(CTX, ListQuery())}
    for port_id in (parent["id"], sub["id"], plain["id"]):  # the same keys in the same order
        assert list(listed[port_id].items()) == list(app.ports.get(CTX, port_id).items())
    assert listed[parent["id"]]["trunk_details"]["sub_ports"][0]["port_id"] == sub["id"]
    assert [a["ip_address"] for a in listed[parent["id"]]["fixed_ips"]] == [
        "10.9.0.50", "10.9.0.20"]
    assert listed[parent["id"]]["tags"] == ["a", "z"]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Neutrino]:
    """`app` on SQLite and on PostgreSQL, with a global DNS domain of its own (a port's
    addresses then take its `dns_name`)."""
    settings = {"NEUTRINO_DNS_DOMAIN": "example.org"}
    if request.param == "postgresql":
        settings["NEUTRINO_DB_URL"] = request.getfixturevalue("pg_url")
    yield from built(tmp_path, **settings)


def test_a_listed_port_is_the_shown_port_byte_for_byte(any_app: Neutrino):
    """What a listing reads as text (SQLite: a JSON array a port, decoded by orjson;
    PostgreSQL: plain rows) comes out as what showing the port gives, written as the same
    JSON: control and non-ASCII characters, JSON columns with small and large floats and
    64-bit integers, booleans that are false (SQLite stores 0 and 1), NULL columns, DNS
    names under a global domain. (`==` alone would take 1 for True.)"""
    app = any_app
    network_id, subnet_id = network(app)
    admin = Context(project_id=CTX.project_id, is_admin=True)
    odd = 'ü\t\x01\x1f"\\ 名前 \u2028 \x7f'
    profile = {"f": 1e-07, "g": 1e-05, "h": 1e16, "big": 2**62, "low": -2**63, "s": odd,
               "nested": [[], {}, [{"x": None, "t": True, "z": 0.0}]]}
    made = app.ports.create(admin, [
        parse_create(PORT, {
            "network_id": network_id, "name": odd, "description": odd, "tags": [odd, "a"],
            "admin_state_up": False, "port_security_enabled": False, "security_groups": [],
            "binding:profile": profile, "binding:host_id": "h\u00e9", "dns_name": "vm-1",
            "device_profile": odd, "numa_affinity_policy": "required",
            "extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": "1400", "ip_version": 4}],
            "fixed_ips": [{"subnet_id": subnet_id, "ip_address": "10.9.0.7"},
                          {"subnet_id": subnet_id, "ip_address": "10.9.0.3"}]}),
        parse_create(PORT, {
            "network_id": network_id, "name": "", "fixed_ips": [],
            "allowed_address_pairs": [
                {"ip_address": "10.9.9.0/24"},
                {"ip_address": "10.9.9.9", "mac_address": "fa:16:3e:0:0:1"}]}),
        parse_create(PORT, {"network_id": network_id})])
    app.db.write(lambda session: session.execute(update(Port).where(Port.id == made[0]["id"])
                 .values(binding_vif_details={"port_filter": True, "n": 1.5, "m": 1e-300})))
    listed = {p["id"]: p for p in app.ports.list(admin, ListQuery())}
    for port in made:
        shown = app.ports.get(admin, port["id"])
        assert json.dumps(listed[port["id"]]) == json.dumps(shown)
    first = listed[made[0]["id"]]
    assert (first["admin_state_up"], first["port_security_enabled"]) == (False, False)
    assert first["name"] == first["device_profile"] == odd
    assert json.dumps(first["binding:profile"]) == json.dumps(profile)
    assert first["binding:vif_details"] == {"port_filter": True, "n": 1.5, "m": 1e-300}
    assert [a["fqdn"] for a in first["dns_assignment"]] == ["vm-1.example.org."] * 2
    assert listed[made[2]["id"]]["admin_state_up"] is True


def test_a_port_update_and_delete_read_the_port_in_one_query_and_no_child_twice(
        app: Neutrino):
    network_id, _ = network(app)
    first, second = ports(app, network_id, 2)
    with statements_run(app.db.engine) as updating:
        app.ports.update(CTX, first, {"name": "renamed"}, None)
    # the port with its addresses and groups joined in: no SELECT of their own
    assert selects_from(updating, "ip_allocations") == 0, updating
    assert selects_from(updating, "port_security_groups") == 0, updating
    assert len(updating) <= 8, updating
    with app.db.session() as session:  # a live migration's destination binding
        session.add(InactiveBinding(port_id=second, host="destination"))
    with statements_run(app.db.engine) as deleting:
        app.ports.delete(CTX, second, None)
    # the database's cascade removes the binding: it is not loaded to be deleted
    assert reads_of(deleting, "compute_port_bindings") == 0, deleting
    assert len(deleting) <= 12, deleting
    with app.db.read() as session:
        assert session.scalars(select(InactiveBinding).where(
            InactiveBinding.port_id == second)).all() == []


def test_a_port_is_shown_updated_and_deleted_without_looking_for_what_it_lacks(
        app: Neutrino):
    """The port's own statement says whether it has a trunk, a place as a subport, tags,
    a port pair or flow classifier naming it, floating IPs or forwardings (EXISTS, each by
    an index): a port with none of them is shown in one statement, renamed and deleted in
    four and BEGIN (3, 8 and 10 before), and what it has is read and acted on as before."""
    network_id, _ = network(app)
    plain, named, parent, child, tagged = ports(app, network_id, 5)
    with statements_run(app.db.engine) as showing:
        app.ports.get(CTX, plain)
    with statements_run(app.db.engine) as updating:
        app.ports.update(CTX, plain, {"name": "renamed"}, None)
    with statements_run(app.db.engine) as deleting:
        app.ports.delete(CTX, plain, None)
    assert len(showing) == 2, showing
    assert [s.split()[0] for s in updating] == ["BEGIN", "SELECT", "UPDATE", "INSERT",
                                                "INSERT"], updating
    assert [s.split()[0] for s in deleting] == ["BEGIN", "SELECT", "DELETE", "INSERT",
                                                "INSERT"], deleting
    for seen in (showing, updating, deleting):  # one SELECT, of the port and its children
        assert selects_from(seen, "ports") == len([s for s in seen if s.startswith("SELECT")])
    with TestClient(app.app, headers={"X-Project-Id": "costs"}) as client:
        def made(path: str, body: dict) -> dict:  # type: ignore[type-arg]
            key = path.rsplit("/", 1)[-1].replace("-", "_")[:-1]
            response = client.post(f"/v2.0/{path}", json={key: body})
            assert response.status_code == 201, response.text
            return response.json()[key]  # type: ignore[no-any-return]

        # `named` is a flow classifier's destination in a chain: renaming or deleting it
        # moves the chain's revision and journals the chain, as before
        pair = made("sfc/port_pairs", {"ingress": child, "egress": child})
        group = made("sfc/port_pair_groups", {"port_pairs": [pair["id"]]})
        classifier = made("sfc/flow_classifiers", {
            "protocol": "tcp", "logical_source_port": tagged,
            "logical_destination_port": named})
        chain = made("sfc/port_chains", {"port_pair_groups": [group["id"]],
                                         "flow_classifiers": [classifier["id"]]})

        def chain_revision() -> int:
            return client.get(f"/v2.0/sfc/port_chains/{chain['id']}").json()[
                "port_chain"]["revision_number"]  # type: ignore[no-any-return]

        before = chain_revision()
        app.ports.update(CTX, named, {"name": "renamed"}, None)
        assert chain_revision() == before + 1
        app.ports.update(CTX, child, {"name": "renamed"}, None)  # a pair's port
        assert chain_revision() == before + 2
        trunk = made("trunks", {"port_id": parent, "sub_ports": [
            {"port_id": child, "segmentation_type": "vlan", "segmentation_id": 7}]})
        assert client.put(f"/v2.0/ports/{tagged}/tags/red").status_code == 201
    # a trunk's parent shows its trunk, and neither it nor its subport may go
    assert app.ports.update(CTX, parent, {"name": "p"}, None)["trunk_details"][
        "trunk_id"] == trunk["id"]
    with pytest.raises(errors.InUse, match="parent port for trunk"):
        app.ports.delete(CTX, parent, None)
    with pytest.raises(errors.InUse, match="subport for trunk"):
        app.ports.delete(CTX, child, None)
    # a port with tags: shown with them, and deleted with them
    assert app.ports.update(CTX, tagged, {"name": "t"}, None)["tags"] == ["red"]
    with statements_run(app.db.engine) as deleting:
        app.ports.delete(CTX, tagged, None)
    assert "DELETE FROM tags" in [s.split(" WHERE")[0] for s in deleting], deleting
    with app.db.read() as session:
        assert session.scalars(select(Tag).where(Tag.resource_id == tagged)).all() == []
    app.ports.delete(CTX, named, None)
    with TestClient(app.app, headers={"X-Project-Id": "costs"}) as client:
        # the classifier's source renamed and deleted, its destination deleted
        assert chain_revision() == before + 5


@pytest.mark.parametrize("database", ["app", "pg_app"])
def test_a_port_is_made_from_its_row_into_the_sessions_objects_not_by_the_orms_load(
        database: str, request: pytest.FixtureRequest):
    """Showing, updating and deleting a port make its row (on the tables) into the session's
    objects: no ORM load of a port, an address or a group binding (its row processing cost
    a third of an update). The objects are as loaded: persistent, their collections in
    order, an address the session holds already being the session's, nothing to flush."""
    app = request.getfixturevalue(database)
    network_id, subnet_id = network(app)
    groups = SecurityGroupService(app.db, app.settings, app.wakeup)
    group = groups.create(CTX, [parse_create(SECURITY_GROUP, {"name": "g"})])[0]
    ports(app, network_id, 1)  # the project's default group exists from here on
    with app.db.read() as session:
        default = session.get(DefaultSecurityGroup, CTX.project_id).security_group_id
    port_id, other = (p["id"] for p in app.ports.create(CTX, [parse_create(PORT, {
        "network_id": network_id, "security_groups": [group["id"], default],
        "fixed_ips": [{"subnet_id": subnet_id, "ip_address": f"10.9.0.{n}"},
                      {"subnet_id": subnet_id, "ip_address": f"10.9.0.{n - 6}"}]})
        for n in (9, 19)]))
    loaded: list[object] = []

    def load(target, _context) -> None:  # type: ignore[no-untyped-def]
        loaded.append(target)

    models = (Port, IpAllocation, PortSecurityGroup)
    for model in models:
        event.listen(model, "load", load)
    try:
        shown = app.ports.get(CTX, port_id)
        updated = app.ports.update(CTX, port_id, {"name": "renamed"}, None)
        app.ports.delete(CTX, other, None)
        assert loaded == [], loaded
        with app.db.read() as session:
            held = session.get(IpAllocation, (subnet_id, "10.9.0.3"))
            with statements_run(app.db.engine) as seen:
                port = get_port_row(session, CTX, port_id)
                assert [a.ip_address for a in port.fixed_ips] == ["10.9.0.9", "10.9.0.3"]
                assert port.fixed_ips[1] is held
                assert [b.security_group_id for b in port.security_group_bindings] == [
                    group["id"], default]
                assert port.fixed_ips[0].port is port and port.trunk is None
                for obj in (port, *port.fixed_ips, *port.security_group_bindings):
                    assert inspect(obj).persistent and obj in session, obj
                assert not (session.new or session.dirty)
            assert len(seen) == 1, seen  # the port's statement only
    finally:
        for model in models:
            event.remove(model, "load", load)
    assert loaded == [held], loaded  # the address read by the test itself
    assert [a["ip_address"] for a in shown["fixed_ips"]] == ["10.9.0.9", "10.9.0.3"]
    assert updated == {**shown, "name": "renamed", "revision_number": 2,
                       "updated_at": updated["updated_at"]}
    assert app.ports.get(CTX, port_id) == updated


def test_an_api_port_delete_removes_its_rows_in_two_statements_and_leaves_none(app: Neutrino):
    network_id, subnet_id = network(app)
    app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": network_id, "ip_version": 6, "cidr": "fd00:9::/64"})])
    groups = SecurityGroupService(app.db, app.settings, app.wakeup)
    group = groups.create(CTX, [parse_create(SECURITY_GROUP, {"name": "g"})])[0]
    doomed, kept = (app.ports.create(CTX, [parse_create(PORT, {
        "network_id": network_id, "tags": ["red", "blue"],
        "security_groups": [group["id"]]})])[0]["id"] for _ in range(2))
    with app.db.session() as session:
        session.add(InactiveBinding(port_id=doomed, host="destination"))
    with statements_run(app.db.engine) as deleting:
        app.ports.delete(CTX, doomed, None)
    deletes = [s for s in deleting if s.startswith("DELETE")]
    # its tags, then the port: the database's cascade takes addresses and bindings
    assert [re.match(r"DELETE FROM (\w+)", s)[1] for s in deletes] == ["tags", "ports"], deletes
    assert reads_of(deleting, "tags") == 0, deleting  # no view is made of a deleted port
    with app.db.read() as session:
        for table in Port.metadata.sorted_tables:
            if table.name == "journal" or table.name.startswith("journal_"):
                continue  # the delete's own entry names it
            for column in table.columns:
                if isinstance(column.type, String):
                    found = session.execute(select(column).where(column == doomed)).first()
                    assert found is None, f"{table.name}.{column.name} still names the port"
    # the other port keeps everything
    answer = app.ports.get(CTX, kept)
    assert sorted(answer["tags"]) == ["blue", "red"] and len(answer["fixed_ips"]) == 2
    assert answer["security_groups"] == [group["id"]]


@contextlib.contextmanager
def flushes_run() -> Iterator[list[object]]:
    """The flushes of the unit of work that found something to write, and the writes run
    through the session's ORM execution (its bulk UPDATE and DELETE), in every session."""
    seen: list[object] = []

    def flushed(session, _context, _objects) -> None:  # type: ignore[no-untyped-def]
        seen.append([*session.new, *session.dirty, *session.deleted])

    def executed(state) -> None:  # type: ignore[no-untyped-def]
        if state.is_insert or state.is_update or state.is_delete:
            seen.append(state.statement)

    event.listen(Session, "before_flush", flushed)
    event.listen(Session, "do_orm_execute", executed)
    try:
        yield seen
    finally:
        event.remove(Session, "before_flush", flushed)
        event.remove(Session, "do_orm_execute", executed)


def writes_in(seen: list[str]) -> list[str]:
    return [re.match(r"(UPDATE \w+|INSERT INTO \w+|DELETE FROM \w+)", s)[1]
            for s in seen if s.startswith(("UPDATE", "INSERT", "DELETE"))]


@pytest.mark.parametrize("database", ["app", "pg_app"])
def test_port_writes_go_by_statement_not_by_the_unit_of_work(
        database: str, request: pytest.FixtureRequest):
    app = request.getfixturevalue(database)
    network_id, _ = network(app)
    ports(app, network_id, 1)  # the project's default group exists from here on
    with flushes_run() as flushes:  # a create inserts its rows and entry on the connection
        first, second = ports(app, network_id, 2)
    assert flushes == []
    with app.db.read() as session:
        last = session.scalar(select(func.max(JournalEntry.seq)))
    with flushes_run() as flushes, statements_run(app.db.engine) as updating:
        answer = app.ports.update(CTX, first, {"name": "renamed"}, None)
    # the port's changed columns by one UPDATE, then its entry: no flush (it cost more than
    # the rest of the update)
    assert flushes == []
    assert writes_in(updating) == ["UPDATE ports", "INSERT INTO journal",
                                   "INSERT INTO journal_dependencies"], updating
    (written,) = [s for s in updating if s.startswith("UPDATE")]
    assert re.findall(r"(\w+)=", written.partition(" WHERE ")[0]) == [
        "name", "revision_number", "updated_at"], written
    assert answer["name"] == "renamed" and answer["revision_number"] == 2
    assert app.ports.get(CTX, first) == answer
    with flushes_run() as flushes, statements_run(app.db.engine) as deleting:
        app.ports.delete(CTX, second, None)
    assert flushes == []
    # a port without tags: no DELETE of its tags on SQLite, whose writers take turns (the
    # port's load said it had none); PostgreSQL deletes them, as another writer may have
    # added one since
    tags = ["DELETE FROM tags"] if database == "pg_app" else []
    assert writes_in(deleting) == [*tags, "DELETE FROM ports", "INSERT INTO journal",
                                   "INSERT INTO journal_dependencies"]
    with app.db.read() as session:
        entries = session.scalars(select(JournalEntry).where(JournalEntry.seq > last)
                                  .order_by(JournalEntry.seq)).all()
        assert [(e.resource_id, e.operation, e.state) for e in entries] == [
            (first, "update", "pending"), (second, "delete", "pending")]
        # each waits for its network, subnet and group, as the create's entry
        assert [len(e.depends_on) for e in entries] == [3, 3]
    # nothing left to write: an update that changes nothing writes nothing
    with statements_run(app.db.engine) as again:
        assert app.ports.update(CTX, first, {"name": "renamed"}, None) == answer
    assert writes_in(again) == []


def test_an_update_with_more_than_the_ports_columns_is_flushed_as_before(app: Neutrino):
    network_id, subnet_id = network(app)
    (port_id,) = ports(app, network_id, 1)
    with flushes_run() as flushes:
        answer = app.ports.update(CTX, port_id, {"name": "moved", "fixed_ips": [
            {"subnet_id": subnet_id, "ip_address": "10.9.0.77"}]}, None)
    assert flushes  # its addresses go through the unit of work, which orders them
    assert answer["fixed_ips"] == [{"subnet_id": subnet_id, "ip_address": "10.9.0.77"}]
    assert answer["name"] == "moved" and answer["revision_number"] == 2
    assert app.ports.get(CTX, port_id) == answer


def test_a_ports_tags_come_in_one_query_by_its_id(app: Neutrino):
    network_id, _ = network(app)
    (port,) = app.ports.create(CTX, [parse_create(PORT, {
        "network_id": network_id, "tags": ["red", "blue"]})])
    with statements_run(app.db.engine) as seen:
        shown = app.ports.get(CTX, port["id"])
    assert shown["tags"] == ["blue", "red"] == port["tags"]
    # the port's own statement only says whether it has tags (EXISTS); they come in one
    (tags,) = [s for s in seen if s.startswith("SELECT tags.")]
    # not the selectin loader's `IN` (its query cost 3.5 times as much CPU)
    assert "WHERE tags.resource_id = ?" in tags, tags
    with statements_run(app.db.engine) as updating:
        assert app.ports.update(CTX, port["id"], {"name": "x"}, None)["tags"] == [
            "blue", "red"]
    assert len([s for s in updating if s.startswith("SELECT tags.")]) == 1


def test_write_row_writes_alone_only_a_rows_own_columns(app: Neutrino):
    network_id, _ = network(app)
    first, second = ports(app, network_id, 2)
    with app.db.session() as session, flushes_run() as flushes, \
            statements_run(app.db.engine) as seen:
        port = session.get(Port, first)
        port.name, port.admin_state_up = "alone", False
        port.description = port.description  # set, unchanged: not written, as by a flush
        write_row(session, port)
        assert not session.dirty and flushes == []
        assert writes_in(seen) == ["UPDATE ports"]
        assert re.findall(r"(\w+)=", seen[-1].partition(" WHERE ")[0]) == [
            "admin_state_up", "name"]
        write_row(session, port)  # nothing left to write
        assert writes_in(seen) == ["UPDATE ports"]
        # with another row to write, the flush writes both, in its order
        port.name = "with a tag"
        session.add(Tag(resource_id=first, tag="t", resource_type="port"))
        write_row(session, port)
        assert len(flushes) == 1 and not session.dirty and not session.new
        # a row gone meanwhile fails as the flush fails
        gone = session.get(Port, second)
        session.execute(text("DELETE FROM ports WHERE id = :id"), {"id": second})
        gone.name = "gone"
        with pytest.raises(StaleDataError, match="expected to update 1 row"):
            write_row(session, gone)
        session.rollback()
    with app.db.read() as session:
        assert session.get(Port, first).name != "alone"  # rolled back


@contextlib.contextmanager
def compiled_run(app: Neutrino) -> Iterator[list[str]]:
    """The SQL of every statement run, as compiled before its parameters are rendered in (an
    expanding IN shows as `__[POSTCOMPILE_...]`)."""
    seen: list[str] = []

    def noted(_conn, _cursor, _statement, _parameters, context, _many) -> None:  # type: ignore[no-untyped-def]
        if context.compiled is not None:
            seen.append(context.compiled.string)

    event.listen(app.db.engine, "before_cursor_execute", noted)
    try:
        yield seen
    finally:
        event.remove(app.db.engine, "before_cursor_execute", noted)


@pytest.mark.parametrize("database", ["app", "pg_app"])
def test_a_port_create_loads_its_network_without_the_orm_and_probes_without_expanding(
        database: str, request: pytest.FixtureRequest):
    app = request.getfixturevalue(database)
    network_id, subnet_id = network(app)
    app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": network_id, "ip_version": 6, "cidr": "fd00:9::/64",
        "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"})])
    ports(app, network_id, 1)  # the project's default group exists from here on
    loaded: list[object] = []

    def load(target, _context) -> None:  # type: ignore[no-untyped-def]
        loaded.append(target)

    event.listen(Network, "load", load)
    try:
        with statements_run(app.db.engine) as seen, compiled_run(app) as compiled:
            (port,) = app.ports.create(CTX, [parse_create(PORT, {"network_id": network_id})])
    finally:
        event.remove(Network, "load", load)
    # the network with its subnets and RBAC entries in one query, as before, but its rows
    # not made into the session's objects (their processing cost as much as the query)
    assert loaded == [], loaded
    assert reads_of(seen, "networks") == 1 and selects_from(seen, "subnets") == 0, seen
    (probe_ips,) = [s for s in compiled if selects_from([s], "ip_allocations")]
    (probe_macs,) = [s for s in compiled if selects_from([s], "ports")]
    for probe in (probe_ips, probe_macs):  # a parameter a value, in a statement built once
        assert "POSTCOMPILE" not in probe, probe
    assert len(seen) <= 11, seen
    # the answer as before: an IPv4 address from the pool, then the SLAAC one
    assert [a["subnet_id"] for a in port["fixed_ips"]][0] == subnet_id
    assert port["fixed_ips"][1]["ip_address"].startswith("fd00:9::")
    assert app.ports.get(CTX, port["id"]) == port
    # a network another project shares with the caller, and one it does not: as before
    other = Context(project_id="other", is_admin=False, roles=("member",))
    shared = app.networks.create(other, [parse_create(NETWORK, {"name": "theirs"})])[0]
    app.subnets.create(other, [parse_create(SUBNET, {
        "network_id": shared["id"], "ip_version": 4, "cidr": "10.8.0.0/24"})])
    hidden = app.networks.create(other, [parse_create(NETWORK, {"name": "hidden"})])[0]
    owner = replace(other, is_admin=True)  # only an admin shares with every project
    RbacService(app.db, app.settings, app.wakeup).create(owner, [parse_create(RBAC_POLICY, {
        "object_type": "network", "object_id": shared["id"], "action": "access_as_shared",
        "target_tenant": "*"})])
    (guest,) = app.ports.create(CTX, [parse_create(PORT, {"network_id": shared["id"]})])
    assert guest["fixed_ips"][0]["ip_address"].startswith("10.8.0.")
    with pytest.raises(errors.NetworkNotFound):
        app.ports.create(CTX, [parse_create(PORT, {"network_id": hidden["id"]})])
    with pytest.raises(errors.NetworkNotFound):
        app.ports.create(CTX, [parse_create(PORT, {"network_id": "no-such-network"})])
