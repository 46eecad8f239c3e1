"""Port events to Nova: a real HTTP receiver answering as Nova does, which checks the token
neutrino sends against the real Keystone of these tests."""

from __future__ import annotations

import dataclasses
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from nova_receiver import USER, NovaReceiver, nova_env
from serve_tools import free_port
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.metrics import Metrics
from neutrino.nova import NovaNotifier, keystone_post
from neutrino.ovn.local import LocalOvn
from neutrino.port_events import VIF_PLUGGED, VIF_UNPLUGGED, PortEvent
from neutrino.settings import load_settings

S1, S2, UNKNOWN = (str(uuid.uuid4()) for _ in range(3))


@pytest.fixture(scope="module")
def keystone_user(world: Any) -> str:
    world.keystone.user(USER, "service", "admin")
    return USER


@pytest.fixture()
def receiver(world: Any, keystone_user: str) -> Iterator[NovaReceiver]:
    nova = NovaReceiver(world.keystone, known_servers={S1, S2}).start()
    try:
        yield nova
    finally:
        nova.stop()


@contextmanager
def notifier(world: Any, url: str, **overrides: Any) -> Iterator[tuple[NovaNotifier, Metrics]]:
    settings = load_settings({"NEUTRINO_STATE_DIR": "/tmp", **nova_env(world.keystone, url)}).nova
    assert settings is not None
    settings = dataclasses.replace(settings, backoff_initial=0.05, **overrides)
    metrics = Metrics()
    sender = NovaNotifier(settings, keystone_post(settings), metrics)
    sender.start()
    try:
        yield sender, metrics
    finally:
        sender.stop()


def count(metrics: Metrics, outcome: str, event: str) -> float:
    value = metrics.registry.get_sample_value(f"neutrino_nova_events_{outcome}_total",
                                              {"event": event})
    return value or 0.0


def test_events_arrive_in_one_batch_with_a_valid_token(world, receiver):
    events = [PortEvent(VIF_PLUGGED, S1, "p1"), PortEvent(VIF_PLUGGED, S2, "p2"),
              PortEvent(VIF_UNPLUGGED, S1, "p3")]
    with notifier(world, receiver.url) as (sender, metrics):
        for event in events:
            sender.notify(event)
        wait_for(lambda: count(metrics, "sent", VIF_PLUGGED) == 2
                 and count(metrics, "sent", VIF_UNPLUGGED) == 1, 30, "events sent")
    assert len(receiver.requests) == 1
    assert receiver.requests[0].token_valid and receiver.requests[0].status == 200
    assert receiver.events() == [e.as_body() for e in events]


def test_a_partial_answer_counts_each_event(world, receiver):
    with notifier(world, receiver.url) as (sender, metrics):
        sender.notify(PortEvent(VIF_PLUGGED, S1, "p1"))
        sender.notify(PortEvent(VIF_PLUGGED, UNKNOWN, "p2"))
        wait_for(lambda: count(metrics, "sent", VIF_PLUGGED) == 1
                 and count(metrics, "failed", VIF_PLUGGED) == 1, 30, "207 counted")
        time.sleep(0.5)
    assert [r.status for r in receiver.requests] == [207]


def test_a_server_error_is_retried(world, receiver):
    receiver.fail_next = 2
    with notifier(world, receiver.url) as (sender, metrics):
        sender.notify(PortEvent(VIF_PLUGGED, S1, "p1"))
        wait_for(lambda: count(metrics, "sent", VIF_PLUGGED) == 1, 30, "sent after retries")
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert all(r.events == receiver.requests[0].events for r in receiver.requests)
    assert count(metrics, "dropped", VIF_PLUGGED) == 0


def test_unknown_servers_are_not_retried_and_are_counted(world, receiver):
    with notifier(world, receiver.url) as (sender, metrics):
        sender.notify(PortEvent(VIF_PLUGGED, UNKNOWN, "p1"))
        sender.notify(PortEvent(VIF_UNPLUGGED, UNKNOWN, "p2"))
        wait_for(lambda: count(metrics, "failed", VIF_PLUGGED) == 1
                 and count(metrics, "failed", VIF_UNPLUGGED) == 1, 30, "404 counted")
        time.sleep(1.0)  # several backoffs: a retry would have come by now
    assert [r.status for r in receiver.requests] == [404]
    assert count(metrics, "dropped", VIF_PLUGGED) == 0


def test_an_unreachable_nova_is_given_up_after_bounded_attempts(world, keystone_user):
    url = f"http://127.0.0.1:{free_port()}/v2.1"
    with notifier(world, url, max_attempts=3) as (sender, metrics):
        sender.notify(PortEvent(VIF_PLUGGED, S1, "p1"))
        wait_for(lambda: count(metrics, "dropped", VIF_PLUGGED) == 1, 30, "dropped")
    assert count(metrics, "sent", VIF_PLUGGED) == 0


@contextmanager
def neutrino_with_nova(world: Any, ovn: LocalOvn, state: Path, url: str) -> Iterator[Neutrino]:
    app = build(load_settings({
        "NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb,
        "NEUTRINO_OVN_SB": ovn.sb, "NEUTRINO_STARTUP_SYNC": "off",
        **nova_env(world.keystone, url)}))
    app.start()
    try:
        yield app
    finally:
        app.stop()


def ovn_reported_down(app: Neutrino, port_id: str) -> bool:
    """ovn-northd has said the new port is down (no chassis claims it): from now on only the
    test says whether it is up."""
    return any(row["name"] == port_id and row.get("up") in (False, [False])
               for row in app.nb.read_rows("Logical_Switch_Port"))


def _server_port(api: TestClient, server: str) -> dict[str, Any]:
    net = api.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]
    api.post("/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                               "cidr": "10.77.0.0/24"}})
    response = api.post("/v2.0/ports", json={"port": {
        "network_id": net["id"], "device_owner": "compute:nova", "device_id": server,
        "binding:host_id": "compute-1"}})
    assert response.status_code == 201, response.text
    return response.json()["port"]


def test_port_life_reaches_nova_once_per_change(world, receiver, local_ovn, tmp_path):
    with neutrino_with_nova(world, local_ovn, tmp_path, receiver.url) as app, \
            TestClient(app.app) as api:
        port = _server_port(api, S1)
        wait_for(lambda: ovn_reported_down(app, port["id"]), 30, "OVN's report of the port")
        for up in (True, True):  # OVN may say "up" twice: Nova hears it once
            app.status_updates.put((port["id"], up))
        wait_for(lambda: len(receiver.events()) == 1, 30, "vif-plugged")
        app.status_updates.put((port["id"], False))
        wait_for(lambda: len(receiver.events()) == 2, 30, "vif-unplugged")
        moved = api.put(f"/v2.0/ports/{port['id']}", json={"port": {"fixed_ips": [
            {"subnet_id": port["fixed_ips"][0]["subnet_id"], "ip_address": "10.77.0.99"}]}})
        assert moved.status_code == 200, moved.text
        api.put(f"/v2.0/ports/{port['id']}", json={"port": {"name": "renamed"}})
        assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
        wait_for(lambda: len(receiver.events()) == 4, 30, "network-changed, vif-deleted")
        time.sleep(0.5)
        exposed = api.get("/metrics").text
    for name in ("network-vif-plugged", "network-vif-unplugged", "network-changed",
                 "network-vif-deleted"):
        assert f'neutrino_nova_events_sent_total{{event="{name}"}} 1.0' in exposed
    assert [(e["name"], e["server_uuid"], e["tag"], e["status"]) for e in receiver.events()] == [
        ("network-vif-plugged", S1, port["id"], "completed"),
        ("network-vif-unplugged", S1, port["id"], "completed"),
        ("network-changed", S1, port["id"], "completed"),
        ("network-vif-deleted", S1, port["id"], "completed"),
    ]
    assert all(r.token_valid for r in receiver.requests)


def test_a_hanging_nova_slows_neither_the_api_nor_port_status(world, keystone_user, local_ovn,
                                                             tmp_path):
    hanging = socket.create_server(("127.0.0.1", 0))  # listens, never answers
    url = f"http://127.0.0.1:{hanging.getsockname()[1]}/v2.1"
    try:
        with neutrino_with_nova(world, local_ovn, tmp_path, url) as app, \
                TestClient(app.app) as api:
            first = _server_port(api, S1)
            api.delete(f"/v2.0/ports/{first['id']}")  # an event now waits on Nova
            net = first["network_id"]
            slowest = 0.0
            for _ in range(5):
                started = time.monotonic()
                port = api.post("/v2.0/ports", json={"port": {
                    "network_id": net, "device_owner": "compute:nova", "device_id": S2}})
                assert port.status_code == 201, port.text
                assert api.delete(f"/v2.0/ports/{port.json()['port']['id']}").status_code == 204
                slowest = max(slowest, time.monotonic() - started)
            assert slowest < 2.0, slowest  # one attempt at Nova takes 10 s here
            last = _server_port_on(api, net, S2)
            wait_for(lambda: ovn_reported_down(app, last), 30, "OVN's report of the port")
            app.status_updates.put((last, True))
            wait_for(lambda: api.get(f"/v2.0/ports/{last}").json()["port"]["status"]
                     == "ACTIVE", 2, "status recorded while Nova hangs")
            hanging.close()
    finally:
        hanging.close()


def _server_port_on(api: TestClient, network_id: str, server: str) -> str:
    response = api.post("/v2.0/ports", json={"port": {
        "network_id": network_id, "device_owner": "compute:nova", "device_id": server,
        "binding:host_id": "compute-1"}})
    assert response.status_code == 201, response.text
    return response.json()["port"]["id"]
