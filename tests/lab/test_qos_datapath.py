"""QoS on real packets: a bandwidth limit rule caps a TCP flow between two lab VMs (OVN turns
the QoS row into an OpenFlow meter that the userspace datapath enforces), in either
direction, and lifting the policy lifts the cap."""

from __future__ import annotations

import subprocess
import sys
import time

from lab_cloud import LabCloud
from waiting import wait_for

LIMIT_KBPS = 2000
SECONDS = 3.0
RECEIVE = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); total = 0; first = None
while True:
    data = c.recv(1 << 16)
    if not data:
        break
    first = first or time.monotonic(); total += len(data)
print(total, time.monotonic() - (first or time.monotonic()))
"""
SEND = """
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
end = time.monotonic() + float(sys.argv[3]); chunk = b"x" * (1 << 16)
while time.monotonic() < end:
    c.sendall(chunk)
c.close()
"""


def _kbps(sender, receiver, address: str, port: int) -> float:
    """The rate a TCP flow from `sender` to `receiver` gets, in kbit/s, seen by the receiver."""
    server = subprocess.Popen(["ip", "netns", "exec", receiver.namespace, sys.executable, "-c",
                               RECEIVE, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        sent = sender.exec(sys.executable, "-c", SEND, address, str(port), str(SECONDS),
                           timeout=60)
        assert sent.returncode == 0, sent.stderr
        out, _ = server.communicate(timeout=60)
    finally:
        server.kill()
    total, seconds = out.split()
    return int(total) * 8 / 1000 / float(seconds)


def _policy(cloud: LabCloud, direction: str) -> dict:
    made = cloud.api.post("/v2.0/qos/policies", json={"policy": {"name": f"cap-{direction}"}})
    assert made.status_code == 201, made.text
    pol = made.json()["policy"]
    response = cloud.api.post(f"/v2.0/qos/policies/{pol['id']}/bandwidth_limit_rules", json={
        "bandwidth_limit_rule": {"max_kbps": LIMIT_KBPS, "max_burst_kbps": LIMIT_KBPS // 10,
                                 "direction": direction}})
    assert response.status_code == 201, response.text
    return pol


def _set_policy(cloud: LabCloud, port: dict, policy_id: str | None) -> None:
    response = cloud.api.put(f"/v2.0/ports/{port['id']}",
                             json={"port": {"qos_policy_id": policy_id}})
    assert response.status_code == 200, response.text
    wanted = bool(policy_id)
    wait_for(lambda: any(r["external_ids"].get("neutron:port_id") == port["id"]
                         for r in cloud.app.nb.read_rows("QoS")) == wanted, 30,
             "the port's QoS rows in NB")
    time.sleep(2)  # northd and ovn-controller install (or remove) the meter


def test_a_bandwidth_limit_caps_a_tcp_flow(cloud: LabCloud, vms):
    net, _ = cloud.tenant_network("qos", "10.64.0.0/24")
    open_port = {"port_security_enabled": False, "security_groups": []}
    sender_port, sender = cloud.boot(net["id"], vms, **open_port)
    receiver_port, receiver = cloud.boot(net["id"], vms, **open_port)
    address = receiver_port["fixed_ips"][0]["ip_address"]

    free = _kbps(sender, receiver, address, 5001)
    print(f"unlimited: {free:.0f} kbit/s")
    assert free > 5 * LIMIT_KBPS  # else the cap below would prove nothing

    _set_policy(cloud, sender_port, _policy(cloud, "egress")["id"])  # from the sender
    egress = _kbps(sender, receiver, address, 5002)
    print(f"egress limit {LIMIT_KBPS}: {egress:.0f} kbit/s")
    assert 0.2 * LIMIT_KBPS < egress < 1.5 * LIMIT_KBPS  # capped, still flowing

    _set_policy(cloud, sender_port, None)
    _set_policy(cloud, receiver_port, _policy(cloud, "ingress")["id"])  # to the receiver
    ingress = _kbps(sender, receiver, address, 5003)
    print(f"ingress limit {LIMIT_KBPS}: {ingress:.0f} kbit/s")
    assert 0.2 * LIMIT_KBPS < ingress < 1.5 * LIMIT_KBPS

    _set_policy(cloud, receiver_port, None)
    lifted = _kbps(sender, receiver, address, 5004)
    print(f"lifted: {lifted:.0f} kbit/s")
    assert lifted > 5 * LIMIT_KBPS
