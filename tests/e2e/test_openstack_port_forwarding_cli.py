"""`openstack floating ip port forwarding ...` (python-openstackclient, unmodified) against a
real `neutrino serve` on an OVN of its own: create (a port and a range), list, show, set,
delete, with the floating IP's Load_Balancer following in OVN NB."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_tools import start_serve, stop_serve
from test_openstack_sfc_cli import Served, _openstack

from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.local import LocalOvn


@pytest.fixture()
def served(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Served]:
    url, proc = start_serve(private_ovn, tmp_path, NEUTRINO_STARTUP_SYNC="off")
    try:
        yield Served(url, tmp_path, private_ovn)
    finally:
        stop_serve(proc)


def _cli(served: Served, *args: str) -> dict | list | str:
    argv = [_openstack(), "--os-auth-type", "none", "--os-endpoint", served.url, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return json.loads(done.stdout) if "json" in args else done.stdout


def _vips(served: Served, fip_id: str, timeout: float = 20.0) -> dict[str, dict[str, str]]:
    """protocol → vips of the floating IP's balancers, once the journal has caught up."""
    client = NorthboundClient(served.ovn.nb)
    try:
        client.connect()
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            found = {lb["protocol"]: lb["vips"] for lb in client.read_rows("Load_Balancer")
                     if lb["external_ids"].get("neutron:fip_id") == fip_id}
            if found == last:
                return found
            last = found
            time.sleep(0.5)
        return last or {}
    finally:
        client.close()


def test_port_forwarding_commands(served):
    json_out = ("-f", "json")
    ext = _cli(served, "network", "create", "--external", "public", *json_out)
    _cli(served, "subnet", "create", "--network", ext["id"], "--subnet-range",
         "172.24.4.0/24", "pub", *json_out)
    net = _cli(served, "network", "create", "net1", *json_out)
    subnet = _cli(served, "subnet", "create", "--network", net["id"], "--subnet-range",
                  "10.0.0.0/24", "sub1", *json_out)
    router = _cli(served, "router", "create", "r1", *json_out)
    _cli(served, "router", "set", "--external-gateway", ext["id"], router["id"])
    _cli(served, "router", "add", "subnet", router["id"], subnet["id"])
    port = _cli(served, "port", "create", "--network", net["id"], "vm1", *json_out)
    inside = port["fixed_ips"][0]["ip_address"]
    fip = _cli(served, "floating", "ip", "create", ext["id"], *json_out)
    address = fip["floating_ip_address"]

    ssh = _cli(served, "floating", "ip", "port", "forwarding", "create", "--internal-ip-address",
               inside, "--port", port["id"], "--internal-protocol-port", "22",
               "--external-protocol-port", "2222", "--protocol", "tcp", "--description", "ssh",
               fip["id"], *json_out)
    assert (ssh["internal_port"], ssh["external_port"], ssh["description"]) == \
        (22, 2222, "ssh")
    web = _cli(served, "floating", "ip", "port", "forwarding", "create", "--internal-ip-address",
               inside, "--port", port["id"], "--internal-protocol-port", "8000:8001",
               "--external-protocol-port", "9000:9001", "--protocol", "udp", fip["id"],
               *json_out)
    assert web["external_port_range"] == "9000:9001"
    listed = _cli(served, "floating", "ip", "port", "forwarding", "list", fip["id"], *json_out)
    assert sorted(p["ID"] for p in listed) == sorted([ssh["id"], web["id"]])
    assert _vips(served, fip["id"]) == {
        "tcp": {f"{address}:2222": f"{inside}:22"},
        "udp": {f"{address}:9000": f"{inside}:8000", f"{address}:9001": f"{inside}:8001"}}

    _cli(served, "floating", "ip", "port", "forwarding", "set", "--external-protocol-port",
         "2200", fip["id"], ssh["id"])
    shown = _cli(served, "floating", "ip", "port", "forwarding", "show", fip["id"], ssh["id"],
                 *json_out)
    assert shown["external_port"] == 2200
    _cli(served, "floating", "ip", "port", "forwarding", "delete", fip["id"], web["id"])
    assert _vips(served, fip["id"]) == {"tcp": {f"{address}:2200": f"{inside}:22"}}
