"""Internal DNS with real packets: a VM asks the DNS server its DHCP offer names for
another VM's name (and address), and ovn-controller answers from the network's DNS row."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lab_cloud import LabCloud, lab_cloud
from waiting import wait_for

from neutrino.lab import vm

DNS_SERVER = "192.0.2.53"  # nothing listens there: OVN answers for the names it holds
# A stub resolver (no dig/nslookup on these machines): one question, the answers' data.
RESOLVE = r"""
import random, socket, struct, sys
server, name, qtype = sys.argv[1], sys.argv[2], int(sys.argv[3])
ident = random.randrange(65536)
question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
query = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", qtype, 1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(2)
sock.sendto(query, (server, 53))
data = sock.recv(4096)
assert struct.unpack("!H", data[:2])[0] == ident
answers = struct.unpack("!H", data[6:8])[0]

def skip(pos):
    while data[pos]:
        if data[pos] >= 0xC0:
            return pos + 2
        pos += data[pos] + 1
    return pos + 1

def read_name(pos):
    labels = []
    while data[pos]:
        if data[pos] >= 0xC0:
            pos = ((data[pos] & 0x3F) << 8) | data[pos + 1]
            continue
        labels.append(data[pos + 1:pos + 1 + data[pos]].decode())
        pos += data[pos] + 1
    return ".".join(labels)

pos = skip(12) + 4
for _ in range(answers):
    pos = skip(pos)
    rtype, _, _, length = struct.unpack("!HHIH", data[pos:pos + 10])
    pos += 10
    if rtype == 1:
        print(socket.inet_ntoa(data[pos:pos + length]))
    elif rtype == 12:
        print(read_name(pos))
    pos += length
"""


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCloud]:
    with lab_cloud(tmp_path_factory.mktemp("labdns"), NEUTRINO_DNS_DOMAIN="example.org",
                   NEUTRINO_DNS_SERVERS=DNS_SERVER) as running:
        yield running


def _boot(cloud: LabCloud, network_id: str, booted: list[vm.Vm],
          **port: object) -> tuple[dict, vm.Vm, dict[str, str]]:
    created = cloud.post("ports", {"network_id": network_id,
                                   "binding:host_id": cloud.lab.chassis, **port})
    machine = vm.plug(cloud.lab, created["id"], created["mac_address"])
    booted.append(machine)
    wait_for(lambda: cloud.api.get(f"/v2.0/ports/{created['id']}")
             .json()["port"]["status"] == "ACTIVE", 30, "port ACTIVE")
    return created, machine, vm.dhcp(cloud.lab, machine)


def _resolve(machine: vm.Vm, server: str, name: str, qtype: int = 1) -> list[str]:
    done = machine.exec("python3", "-c", RESOLVE, server, name, str(qtype))
    return done.stdout.split() if done.returncode == 0 else []


def test_a_vm_resolves_another_vm_by_name(cloud: LabCloud, vms):
    net = cloud.post("networks", {"name": "dns", "dns_domain": "net.example.com."})
    subnet = cloud.post("subnets", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": "10.70.0.0/24"})
    router = cloud.post("routers", {"name": "dns"})  # the gateway the DNS server is behind
    response = cloud.api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                             json={"subnet_id": subnet["id"]})
    assert response.status_code == 200, response.text
    web, _, _ = _boot(cloud, net["id"], vms, dns_name="web", device_id="server-web")
    _, client, offer = _boot(cloud, net["id"], vms, device_id="server-client")
    server = offer["new_domain_name_servers"].split()[0]
    assert server == DNS_SERVER  # the DNS server OVN's DHCP told the VM about
    address = web["fixed_ips"][0]["ip_address"]

    for name in ("web", "web.example.org", "web.net.example.com", "WEB.Example.Org"):
        wait_for(lambda n=name: _resolve(client, server, n) == [address], 20, name, 0.5)
    reverse = ".".join(reversed(address.split("."))) + ".in-addr.arpa"
    assert _resolve(client, server, reverse, qtype=12) == ["web.example.org"]

    # a renamed port answers by its new name only, once the journal has carried it
    renamed = cloud.api.put(f"/v2.0/ports/{web['id']}", json={"port": {"dns_name": "www"}})
    assert renamed.status_code == 200, renamed.text
    wait_for(lambda: _resolve(client, server, "www") == [address], 20, "www", 0.5)
    wait_for(lambda: not _resolve(client, server, "web"), 20, "web forgotten", 0.5)
