"""Helpers for the API border tests (not a test module): an in-process neutrino on SQLite or
PostgreSQL, a world of one of each resource, and a snapshot of everything stored."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from serve_tools import throwaway_ovn
from sqlalchemy import func, select
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino, build
from neutrino.db.models import Base, JournalEntry
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

# Changed behind the API's back (port status from OVN, journal progress, leader leases), so
# not part of "what a request stored".
VOLATILE_TABLES = {"journal", "journal_dependencies", "leadership"}
VOLATILE_COLUMNS = {"status"}


@contextlib.contextmanager
def started(ovn: LocalOvn, state: Path, db_url: str | None = None,
            **env: str) -> Iterator[tuple[Neutrino, TestClient]]:
    settings = load_settings({
        "NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb, "NEUTRINO_OVN_SB": ovn.sb,
        "NEUTRINO_STARTUP_SYNC": "off", **({"NEUTRINO_DB_URL": db_url} if db_url else {}),
        **env,
    })
    app = build(settings)
    app.start()
    try:
        with TestClient(app.app, raise_server_exceptions=False) as client:
            yield app, client
    finally:
        app.stop()


def private_ovn() -> contextlib.AbstractContextManager[LocalOvn]:
    """NB, SB and northd of one's own (the `private_ovn` fixture, for wider scopes)."""
    return throwaway_ovn("nob")


def snapshot(app: Neutrino) -> dict[str, Any]:
    """Every row of every table a request may write, plus the journal entry count."""
    with app.db.read() as session:
        state: dict[str, Any] = {
            "journal entries": session.scalar(select(func.count()).select_from(JournalEntry)),
        }
        for table in Base.metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            columns = [c for c in table.columns if c.name not in VOLATILE_COLUMNS]
            found = session.execute(select(*columns)).all()
            state[table.name] = sorted(json.dumps(list(r), default=str) for r in found)
    return state


def post(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    singular = path.replace("-", "_")[:-1]
    response = client.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def build_world(client: TestClient, tag: str) -> dict[str, Any]:
    """One of each resource, wired together (`tag` keeps names and CIDRs apart per use)."""
    n = sum(map(ord, tag)) % 200 + 20
    ext = post(client, "networks", {"name": f"ext-{tag}", "router:external": True})
    ext_subnet = post(client, "subnets", {"network_id": ext["id"], "ip_version": 4,
                                          "cidr": f"172.{n % 16 + 16}.{n}.0/24"})
    net = post(client, "networks", {"name": f"net-{tag}", "tags": ["red", "blue"]})
    subnet = post(client, "subnets", {"network_id": net["id"], "ip_version": 4,
                                      "cidr": f"10.{n}.0.0/24"})
    sg = post(client, "security-groups", {"name": f"sg-{tag}"})
    rule = post(client, "security-group-rules", {"security_group_id": sg["id"],
                                                 "direction": "ingress", "protocol": "tcp",
                                                 "port_range_min": 22, "port_range_max": 22})
    port = post(client, "ports", {"network_id": net["id"], "name": f"port-{tag}",
                                  "security_groups": [sg["id"]],
                                  "binding:profile": {"k": "v"}})
    router = post(client, "routers", {"name": f"r-{tag}",
                                      "external_gateway_info": {"network_id": ext["id"]}})
    added = client.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                       json={"subnet_id": subnet["id"]})
    assert added.status_code == 200, added.text
    fip = post(client, "floatingips", {"floating_network_id": ext["id"],
                                       "port_id": port["id"]})
    return {"networks": net, "external": ext, "subnets": subnet, "external_subnet": ext_subnet,
            "ports": port, "security-groups": sg, "security-group-rules": rule,
            "routers": router, "floatingips": fip}


def assert_fault(response: Any, status: int | None = None) -> dict[str, Any]:
    """The response is a Neutron fault (of `status`, when given); returns its body."""
    if status is not None:
        assert response.status_code == status, response.text
    fault = response.json()["NeutronError"]
    assert set(fault) == {"type", "message", "detail"}, fault
    assert all(isinstance(fault[k], str) for k in fault), fault
    return fault
