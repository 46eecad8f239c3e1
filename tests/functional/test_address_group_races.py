"""On PostgreSQL, a rule naming an address group and the group's deletion cannot both
succeed (rules refer to groups without a foreign key): the deletion waits for a
transaction that holds the group, then sees its rule and refuses."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from api_border import started
from sqlalchemy import select

from neutrino.db.models import AddressGroup, SecurityGroupRule


def test_deleting_waits_for_a_rule_being_created_and_then_refuses(private_ovn, tmp_path,
                                                                   pg_url):
    with started(private_ovn, tmp_path, pg_url) as (app, client):
        ag = client.post("/v2.0/address-groups", json={"address_group": {
            "addresses": ["10.77.0.0/16"]}}).json()["address_group"]
        sg = client.post("/v2.0/security-groups", json={"security_group": {
            "name": "race"}}).json()["security_group"]
        answer: dict[str, int] = {}

        def delete() -> None:
            answer["status"] = client.delete(f"/v2.0/address-groups/{ag['id']}").status_code

        # A rule create in flight: it holds the group (as the rule service does) and has
        # not committed its rule yet.
        with app.db.engine.connect() as conn, conn.begin():
            conn.execute(select(AddressGroup.id).where(AddressGroup.id == ag["id"])
                         .with_for_update())
            deleting = threading.Thread(target=delete)
            deleting.start()
            time.sleep(1.0)
            assert deleting.is_alive()  # the deletion waits for the group
            now = datetime(2026, 12, 1)
            conn.execute(SecurityGroupRule.__table__.insert().values(
                id="6f1e9a52-0000-4000-8000-00000000aa01", project_id=sg["project_id"],
                description="", revision_number=1, created_at=now, updated_at=now,
                security_group_id=sg["id"], direction="ingress", ethertype="IPv4",
                remote_address_group_id=ag["id"]))
        deleting.join(timeout=30)
        assert answer["status"] == 409
        assert client.get(f"/v2.0/address-groups/{ag['id']}").status_code == 200
