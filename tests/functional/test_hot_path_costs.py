"""Costs on the hot paths that must not grow with the cloud or take the write lock for
nothing (issue 15): measured in SQLite virtual machine steps and write transactions, which
are exact, not in time, which is noise on a shared machine."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, select, update

from neutrino import errors
from neutrino.api.attributes import NETWORK, PORT, SECURITY_GROUP, SUBNET, TRUNK, parse_create
from neutrino.bootstrap import Neutrino, build
from neutrino.db.engine import statements_run
from neutrino.db.models import DefaultSecurityGroup, Port
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.reconcile import facts
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery
from neutrino.services.security_groups import SecurityGroupService
from neutrino.services.trunks.service import TrunkService
from neutrino.settings import load_settings

CTX = Context(project_id="costs", is_admin=False, roles=("member",))


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[Neutrino]:
    """Built, never started: no OVN is needed to load facts or record statuses."""
    neutrino = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": f"unix:{tmp_path}/nb.sock",
        "NEUTRINO_OVN_SB": f"unix:{tmp_path}/sb.sock", "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_OVN_METADATA": "true", "NEUTRINO_QUOTA_PORT": "-1"}))
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


def test_the_worker_goes_before_the_apis_writers_only_after_finding_nothing(
        app: Neutrino, monkeypatch: pytest.MonkeyPatch):
    network_id, _ = network(app)
    ports(app, network_id, 3)  # their entries (and the network's) are pending
    (worker,) = app.workers
    monkeypatch.setattr(worker.reconciler, "apply", lambda refs: [])  # no OVN here
    monkeypatch.setattr(worker, "backend_ready", lambda: True)
    flags: list[bool] = []
    session = app.db.session

    @contextlib.contextmanager
    def noted(urgent: bool = False):  # type: ignore[no-untyped-def]
        flags.append(urgent)
        with session(urgent) as s:
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
    # idle at start: claim and settle ahead; busy then: the next claim waits its turn
    assert flags[:3] == [True, True, False]


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


def query_plans(app: Neutrino, fn) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """SQLite's query plan of every SELECT on `ports` that `fn()` runs."""
    captured: list[tuple[str, object]] = []

    def note(_conn, _cursor, statement, parameters, *_args) -> None:  # type: ignore[no-untyped-def]
        captured.append((statement, parameters))

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        fn()
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)
    plans = {}
    with app.db.engine.connect() as conn:
        for statement, parameters in captured:
            if statement.startswith("SELECT") and re.search(r"FROM ports\b", statement):
                plans[statement] = [row[-1] for row in conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters)]  # type: ignore[arg-type]
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
    for port_id in (parent["id"], sub["id"], plain["id"]):
        assert listed[port_id] == app.ports.get(CTX, port_id)
    assert listed[parent["id"]]["trunk_details"]["sub_ports"][0]["port_id"] == sub["id"]
    assert [a["ip_address"] for a in listed[parent["id"]]["fixed_ips"]] == [
        "10.9.0.50", "10.9.0.20"]
    assert listed[parent["id"]]["tags"] == ["a", "z"]
