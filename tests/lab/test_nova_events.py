"""A VM booting on a server's port: Nova hears network-vif-plugged once, with a token the real
Keystone accepts (the receiver stands in for Nova)."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from keystone_tools import start_keystone
from lab_cloud import LabCloud, lab_cloud
from nova_receiver import USER, NovaReceiver, nova_env
from serve_tools import free_port
from waiting import wait_for

SERVER = str(uuid.uuid4())


@pytest.fixture(scope="module")
def nova() -> Iterator[NovaReceiver]:
    directory = Path(tempfile.mkdtemp(prefix="nkl", dir="/tmp"))
    keystone = start_keystone(directory, free_port())
    receiver = NovaReceiver(keystone, known_servers={SERVER})
    try:
        keystone.projects["service"] = keystone.create(
            "projects", {"name": "service", "domain_id": "default"})
        keystone.user(USER, "service", "admin")
        yield receiver.start()
    finally:
        receiver.stop()
        keystone.process.terminate()
        keystone.process.wait(timeout=20)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def cloud(nova: NovaReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCloud]:
    with lab_cloud(tmp_path_factory.mktemp("labdb"),
                   **nova_env(nova.keystone, nova.url)) as running:
        yield running


def test_booting_a_vm_tells_nova_once(cloud: LabCloud, vms, nova: NovaReceiver):
    net = cloud.post("networks", {"name": "nova-events"})
    cloud.post("subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.61.0.0/24"})
    port, _ = cloud.boot(net["id"], vms, device_owner="compute:nova", device_id=SERVER)
    wait_for(lambda: nova.events(), 30, "an event at Nova")
    time.sleep(1.0)  # anything else OVN's reports would cause has arrived by now
    assert nova.events() == [{"name": "network-vif-plugged", "server_uuid": SERVER,
                              "tag": port["id"], "status": "completed"}]
    assert [(r.status, r.token_valid) for r in nova.requests] == [(200, True)]
