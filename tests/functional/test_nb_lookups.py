"""Planning a resource against NB costs what the resource's own rows cost, not what NB holds."""

from __future__ import annotations

from typing import Any

import pytest
from nb_state import caught_up, one, wait_journal_idle
from ovn_tools import nbctl

from neutrino.api.attributes import NETWORK, PORT, SUBNET, parse_create
from neutrino.bootstrap import Neutrino
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.ovn import client, lookups
from neutrino.ovn import naming as n
from neutrino.ovn.local import LocalOvn
from neutrino.services.context import Context

CTX = Context(project_id="lookups", is_admin=False, roles=("member",))
CHUNK = 250  # filler ports per ovn-nbctl call


def _fill(ovn: LocalOvn, switch: str, groups: list[str], subnet_id: str, first: int,
          count: int) -> None:
    """`count` ports nobody planned, as neutrino's look: in the switch, tagged with its name,
    in every port group, each with a DHCP_Options row repeating the subnet's id."""
    for start in range(first, first + count, CHUNK):
        args: list[str] = []
        for i in range(start, min(start + CHUNK, first + count)):
            name = f"filler-{i}"
            args += ["--", f"--id=@p{i}", "create", n.LSP, f"name={name}",
                     f'external_ids:"{n.NETWORK_NAME}"="{switch}"',
                     "--", "add", n.LS, switch, "ports", f"@p{i}"]
            args += [a for g in groups for a in ("--", "add", n.PG, g, "ports", f"@p{i}")]
            args += ["--", "create", n.DHCP, "cidr=10.7.0.0/24",
                     f'external_ids:"{n.DHCP_SUBNET_ID}"="{subnet_id}"',
                     f'external_ids:"{n.DHCP_PORT_ID}"="{name}"']
        nbctl(ovn, *args[1:])


def _planned_visits(app: Neutrino, ref: ResourceRef) -> tuple[int, list]:
    states = app.reconciler.desired([ref])
    before = lookups.VISITS.count
    plans = app.nb.plan(states)
    return lookups.VISITS.count - before, plans


def _applied_visits(app: Neutrino, ovn: LocalOvn, ref: ResourceRef) -> tuple[int, list]:
    """Rows visited by the apply that puts the port back after it was deleted in NB."""
    nbctl(ovn, "lsp-del", ref.id)
    caught_up(app, ovn)
    states = app.reconciler.desired([ref])
    before = lookups.VISITS.count
    plans = app.nb.apply(states)
    return lookups.VISITS.count - before, plans


def test_planning_and_applying_one_port_visit_as_many_rows_with_2000_ports_as_with_100(
        private_app: Neutrino, private_ovn: LocalOvn):
    app = private_app
    net = app.networks.create(CTX, [parse_create(NETWORK, {"name": "crowded"})])[0]
    (sub,) = app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.7.0.0/16"})])
    (port,) = app.ports.create(CTX, [parse_create(PORT, {"network_id": net["id"]})])
    wait_journal_idle(app)
    switch = one(app, n.LS, name=n.switch_name(net["id"]))["name"]
    groups = [row["name"] for row in app.nb.read_rows(n.PG)]
    assert len(groups) == 2  # the drop group and the project's default group
    ref = ResourceRef(ResourceType.PORT, port["id"])

    _fill(private_ovn, switch, groups, sub["id"], 0, 100)
    caught_up(app, private_ovn)
    _planned_visits(app, ref)  # the first plan scans each table once, to index it
    with_100, plans_100 = _planned_visits(app, ref)
    applied_100, fixes_100 = _applied_visits(app, private_ovn, ref)

    _fill(private_ovn, switch, groups, sub["id"], 100, 1900)
    caught_up(app, private_ovn)
    with_2000, plans_2000 = _planned_visits(app, ref)
    applied_2000, fixes_2000 = _applied_visits(app, private_ovn, ref)

    assert [p.ops for p in plans_100] == [p.ops for p in plans_2000] == [()]
    assert 0 < with_100 == with_2000 < 50
    # and so does the apply that writes it back (the port's own rows plus the group's probes)
    assert [p.ops for p in fixes_100] == [p.ops for p in fixes_2000] != [()]
    assert 0 < applied_100 == applied_2000 < 50
    # every lookup went through neutrino's value indexes: the IDL keeps none of python-ovs's,
    # which cost on every change of a row of their table
    indexes = {name for table in app.nb._backend_or_raise().idl.tables.values()
               for name in table.rows.indexes}
    assert indexes and all(name.startswith(lookups.INDEX_PREFIX) for name in indexes)


def _add_groups(ovn: LocalOvn, first: int, count: int) -> None:
    """`count` port groups nobody planned, each with two ACLs of its own."""
    args: list[str] = []
    for i in range(first, first + count):
        for d in ("from-lport", "to-lport"):
            args += ["--", f"--id=@a{i}{d[0]}", "create", n.ACL, f"direction={d}",
                     "priority=1001", f'match="ip4 && inport == @other{i}"', "action=allow"]
        args += ["--", "create", n.PG, f"name=other{i}", f"acls=[@a{i}f,@a{i}t]"]
    nbctl(ovn, *args[1:])


def test_planning_one_port_looks_for_the_drop_groups_acls_in_it_not_among_all_groups(
        private_app: Neutrino, private_ovn: LocalOvn, monkeypatch: pytest.MonkeyPatch):
    """Every port's state holds the drop group's ACLs: each is looked for in the group the
    port wants it in, not among every group's ACLs (four walks of all groups a port)."""
    app = private_app
    net = app.networks.create(CTX, [parse_create(NETWORK, {"name": "groups"})])[0]
    app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.8.0.0/16"})])
    (port,) = app.ports.create(CTX, [parse_create(PORT, {"network_id": net["id"]})])
    wait_journal_idle(app)
    ref = ResourceRef(ResourceType.PORT, port["id"])
    scans: list[str] = []
    scan = client._Reader._scan_parent

    def noted(reader: client._Reader, table: str, row: Any) -> Any:
        scans.append(table)
        return scan(reader, table, row)

    monkeypatch.setattr(client._Reader, "_scan_parent", noted)
    _add_groups(private_ovn, 0, 2)
    caught_up(app, private_ovn)
    _planned_visits(app, ref)
    with_few, plans_few = _planned_visits(app, ref)
    _add_groups(private_ovn, 2, 198)
    caught_up(app, private_ovn)
    with_many, plans_many = _planned_visits(app, ref)
    assert [p.ops for p in plans_few] == [p.ops for p in plans_many] == [()]
    assert scans == []
    # what grows is one look at each group, for those that may list the port
    assert with_many - with_few <= 198, (with_few, with_many)
