"""Fuzzing the whole HTTP API with odd requests: never a 5xx, every error a Neutron fault, and
nothing stored by a refused request. On SQLite and on PostgreSQL (which refuses NUL and
out-of-range integers that SQLite would swallow).

The generator is seeded, so a failure names a request that can be replayed; the run is
bounded by time (TIME_BUDGET per database) as well as by count.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from api_border import assert_fault, build_world, post, snapshot, started

# NEUTRINO_FUZZ_SEED / NEUTRINO_FUZZ_SECONDS explore further by hand; CI runs the defaults.
SEED = int(os.environ.get("NEUTRINO_FUZZ_SEED", "20261201"))
MIN_REQUESTS = 1000
TIME_BUDGET = float(os.environ.get("NEUTRINO_FUZZ_SECONDS", "22"))  # per database: < 1 min
MAX_REQUESTS = 1500
MAX_BODY = 32 * 1024
MAX_BULK = 8

SFC = ("sfc/port_pairs", "sfc/port_pair_groups", "sfc/flow_classifiers", "sfc/port_chains")
# a QoS policy's rules are collections under it (the world's policy), and named alone
QOS = ("qos/policies", "qos/policies/POLICY/bandwidth_limit_rules",
       "qos/policies/POLICY/dscp_marking_rules", "qos/alias_bandwidth_limit_rules",
       "qos/alias_dscp_marking_rules")
PF = "floatingips/{fip}/port_forwardings"  # under the world's forwarding floating IP
COLLECTIONS = ("networks", "subnets", "ports", "security-groups", "security-group-rules",
               "routers", "floatingips", "rbac-policies", "address-groups",
               "default-security-group-rules", "subnetpools", "address-scopes", *SFC, "trunks",
               *QOS, "l2-gateways", "l2-gateway-connections", PF)
TAGGED = ("networks", "subnets", "ports", "security-groups", "routers", "floatingips",
          "subnetpools", *SFC, "trunks", "qos/policies")

ODD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1.5, 2**31, -(2**31) - 1, 2**63, 2**64, 10**30, "", " ",
    "x" * 256, "y" * 3000, "a\x00b", "\x00", "\ud800", "\udfff", "ok\udc00", "\U0001f600",
    "\u202e", "\n\t", "a,b", "../../etc", "not-a-uuid", str(uuid.uuid4()), "10.0.0.0/24",
    "10.0.0.1", "::1", "300.1.1.1", "fa:16:3e:00:00:01", "tcp", "IPv6", "ingress", "true",
    "address_scope", "qos_policy", "*",  # RBAC object types and the every-project target
    [], [None], [{}], [{"a": 1}], [[["deep"]]], {}, {"a": 1}, {"\x00": 1}, {"k": "\ud800"},
    {"start": "10.0.0.5", "end": "10.0.0.1"}, [{"ip_address": "\x00"}],
    [{"opt_name": "mtu", "opt_value": "\ud800"}], [{"subnet_id": 7}],
)
ODD_TEXT = ("a\x00b", "\ud800", "x" * 400, "", "%", "not-a-uuid", "a,b", "\u00e9t\u00e9",
            str(uuid.uuid4()), "-1", "99999999999999999999999", "True", "\U0001f600")


def _plural(collection: str) -> str:
    """The envelope key of a collection's lists and bulk bodies (sfc/port_pairs → port_pairs)."""
    return collection.rsplit("/", 1)[-1].replace("-", "_")


def _singular(collection: str) -> str:
    if collection.startswith("qos/alias_"):
        return collection.removeprefix("qos/alias_")[:-1]
    return {"rbac-policies": "rbac_policy", "qos/policies": "policy"}.get(
        collection, _plural(collection)[:-1])


def _q(text: str) -> str:
    """Percent-encoded; a lone surrogate goes as the bytes UTF-8 would give it."""
    return quote(text, safe="", errors="surrogatepass")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        shown = (self.body or b"")[:300]
        return f"{self.method} {self.path[:300]} {shown!r} {self.headers}"


class Fuzzer:
    """Builds odd requests around a world of real resources."""

    def __init__(self, rng: random.Random, world: dict[str, Any], samples: dict[str, Any]):
        self.rng = rng
        self.world = world
        self.samples = samples  # a valid create body per collection

    def pick(self, values: Any) -> Any:
        return self.rng.choice(values)

    def call(self) -> tuple[str, Call]:
        kind = self.pick(("create", "bulk", "show", "list", "update", "delete", "interface",
                          "extraroutes", "pools", "tags", "quotas", "raw", "bindings",
                          "addresses", "prefixes", "availability", "subports"))
        call = getattr(self, f"_{kind}")()
        if "/POLICY/" in call.path:  # a rule collection: under the world's policy
            policy = self.world["qos/policies"]["id"]
            call = Call(call.method, call.path.replace("/POLICY/", f"/{policy}/"), call.body,
                        call.headers)
        return kind, call

    # -- values ---------------------------------------------------------------------------
    def odd(self) -> Any:
        value = self.pick(ODD_VALUES)
        return self._nest(value, 40) if self.rng.random() < 0.03 else value

    def _nest(self, value: Any, depth: int) -> Any:
        for _ in range(depth):
            value = [value] if self.rng.random() < 0.5 else {"k": value}
        return value

    def mutated(self, collection: str) -> dict[str, Any]:
        body = dict(self.samples[collection])
        for _ in range(self.rng.randint(1, 3)):
            roll = self.rng.random()
            if roll < 0.35 and body:
                body[self.pick(sorted(body))] = self.odd()
            elif roll < 0.7 and body:
                key = self.pick(sorted(body))
                body[key] = self._inside(body[key])
            elif roll < 0.85:
                body[self.pick(("name", "description", "tags", "binding:profile", "mtu",
                                "extra_dhcp_opts", "allowed_address_pairs", "fixed_ips",
                                "project_id", "shared", "routes", "host_routes",
                                "provider:physical_network", "provider:network_type",
                                "provider:segmentation_id", "dns_nameservers",
                                "device_profile", "numa_affinity_policy", "addresses",
                                "stateful", "remote_address_group_id", "used_in_default_sg",
                                "remote_group_id", "prefixes",
                                "subnetpool_id", "prefixlen", "use_default_subnetpool",
                                "min_prefixlen", "max_prefixlen", "default_quota",
                                "address_scope_id", "ip_version", "is_default",
                                "dns_name", "dns_domain", "dns_assignment", "external_port",
                                "internal_port_range"))] = self.odd()
            else:
                body[self.pick(ODD_TEXT)] = self.odd()
        return body

    def _inside(self, value: Any) -> Any:
        """`value` with one nested value (in a dict, or a dict in a list) made odd."""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return [self._inside(value[0]), *value[1:]]
        if isinstance(value, dict) and value:
            return {**value, self.pick(sorted(value)): self.odd()}
        return self.odd()

    def path(self, collection: str) -> str:
        """A collection's URL segment; a sub-resource's under its parent in the world."""
        return collection.replace("{fip}", self.world["pf_fip"]["id"])

    def some_id(self, collection: str) -> str:
        if self.rng.random() < 0.4:
            return self.world[collection]["id"]
        return _q(self.pick(ODD_TEXT))

    def encode(self, document: Any) -> bytes:
        return json.dumps(document).encode()  # ASCII escapes, so lone surrogates travel too

    # -- requests -------------------------------------------------------------------------
    def _create(self) -> Call:
        coll = self.pick(COLLECTIONS)
        envelope = self.pick((_singular(coll), "bogus"))
        return Call("POST", f"/v2.0/{self.path(coll)}", self.encode({envelope: self.mutated(coll)}))

    def _bulk(self) -> Call:
        coll = self.pick(COLLECTIONS)
        count = self.pick((0, 1, 2, MAX_BULK + 1))
        singular = coll.replace("-", "_")[:-1]
        # items bare or wrapped in their singular (Neutron takes both), or in an odd value
        items: list[Any] = [self.pick((self.mutated(coll), {singular: self.mutated(coll)},
                                       {singular: self.odd()}))
                            for _ in range(count)]
        if self.rng.random() < 0.2:
            items.append(self.odd())
        return Call("POST", f"/v2.0/{self.path(coll)}", self.encode({_plural(coll): items}))

    def _show(self) -> Call:
        coll = self.pick(COLLECTIONS)
        fields = f"?fields={_q(self.pick(ODD_TEXT + ('id', 'name')))}"
        return Call("GET", f"/v2.0/{self.path(coll)}/{self.some_id(coll)}"
                           f"{fields if self.rng.random() < 0.5 else ''}")

    def _list(self) -> Call:
        coll = self.pick(COLLECTIONS)
        keys = ("name", "id", "tags", "tags-any", "not-tags", "fields", "sort_key", "sort_dir",
                "limit", "marker", "page_reverse", "mtu", "revision_number", "fixed_ips",
                "admin_state_up", "shared", "network_id", "bogus", "protocol")
        query = "&".join(f"{_q(self.pick(keys))}={_q(self.pick(ODD_TEXT))}"
                         for _ in range(self.rng.randint(1, 4)))
        return Call("GET", f"/v2.0/{self.path(coll)}?{query}")

    def _update(self) -> Call:
        coll = self.pick(COLLECTIONS)
        singular = _singular(coll)
        body = {self.pick(("name", "description", "admin_state_up", "mtu", "binding:profile",
                           "port_id", "routes", "fixed_ips", "tags", "id", "target_tenant",
                           "shared", "router:external", "prefixes",
                           "default_prefixlen", "address_scope_id", "is_default", "port_pairs",
                           "port_pair_groups", "flow_classifiers", "internal_port",
                           "external_port_range", "internal_ip_address", "protocol",
                           "internal_port_id")): self.odd()}
        headers = (("If-Match", self.pick(("revision_number=999", "bogus", "\u00e9"))),) \
            if self.rng.random() < 0.2 else ()
        return Call("PUT", f"/v2.0/{self.path(coll)}/{self.some_id(coll)}",
                    self.encode({singular: body}), headers)

    def _delete(self) -> Call:
        coll = self.pick(COLLECTIONS)
        if self.rng.random() < 0.3:  # a real resource, but a stale revision: refused
            return Call("DELETE", f"/v2.0/{self.path(coll)}/{self.world[coll]['id']}",
                        headers=(("If-Match", "revision_number=999"),))
        return Call("DELETE", f"/v2.0/{self.path(coll)}/{_q(self.pick(ODD_TEXT))}")

    def _interface(self) -> Call:
        action = self.pick(("add_router_interface", "remove_router_interface"))
        body = {self.pick(("subnet_id", "port_id", "bogus")): self.pick(
            (self.odd(), [self.world["subnets"]["id"]], self.world["external_subnet"]["id"]))}
        router = self.some_id("routers")
        return Call("PUT", f"/v2.0/routers/{router}/{action}", self.encode(body))

    def _addresses(self) -> Call:
        action = self.pick(("add_addresses", "remove_addresses"))
        body = self.pick(({"addresses": self.odd()}, {"addresses": [self.odd(), "10.8.0.0/16"]},
                          {"addresses": ["10.8.0.0/16"]}, {"bogus": ["10.8.0.0/16"]},
                          self.odd()))
        group = self.some_id("address-groups")
        return Call("PUT", f"/v2.0/address-groups/{group}/{action}", self.encode(body))

    def _subports(self) -> Call:
        trunk = self.some_id("trunks")
        if self.rng.random() < 0.2:
            return Call("GET", f"/v2.0/trunks/{trunk}/get_subports", b"")
        action = self.pick(("add_subports", "remove_subports"))
        good = {"port_id": self.world["trunk_free_port"]["id"], "segmentation_type": "vlan",
                "segmentation_id": 9}
        body = self.pick(({"sub_ports": [self._inside(good)]}, {"sub_ports": self.odd()},
                          {"sub_ports": [good, good]}, {"bogus": [good]}, self.odd(),
                          {"sub_ports": [{**good, "segmentation_id": self.odd()}]},
                          {"sub_ports": [{**good, "segmentation_type": self.odd()}]}))
        return Call("PUT", f"/v2.0/trunks/{trunk}/{action}", self.encode(body))

    def _prefixes(self) -> Call:
        action = self.pick(("add_prefixes", "remove_prefixes"))
        body = self.pick(({"prefixes": [self.odd(), "10.252.0.0/24"]}, {"prefixes": self.odd()},
                          {"bogus": ["10.0.0.0/8"]}, {"prefixes": ["10.251.0.0/24"]}))
        return Call("PUT", f"/v2.0/subnetpools/{self.some_id('subnetpools')}/{action}",
                    self.encode(body))

    def _extraroutes(self) -> Call:
        action = self.pick(("add_extraroutes", "remove_extraroutes"))
        route = {"destination": "10.9.0.0/16", "nexthop": "10.0.0.9"}
        routes = self.pick(([route], [self._inside(route)], self.odd(), [self.odd()]))
        body = self.pick(({"router": {"routes": routes}}, {"router": self.odd()},
                          {"router": {self.pick(ODD_TEXT): routes}}, self.odd()))
        router = self.some_id("routers")
        return Call("PUT", f"/v2.0/routers/{router}/{action}", self.encode(body))

    def _pools(self) -> Call:
        key = self.pick(("fields", "cidr", "sort_key", "limit", "bogus"))
        return Call("GET", f"/v2.0/floatingip_pools?{_q(key)}={_q(self.pick(ODD_TEXT))}")

    def _tags(self) -> Call:
        coll = self.pick(COLLECTIONS)  # security-group-rules have no tags: 404
        base = f"/v2.0/{self.path(coll)}/{self.some_id(coll)}/tags"
        tag = _q(self.pick(ODD_TEXT))
        return self.pick((
            Call("GET", base), Call("DELETE", base if self.rng.random() < 0.2 else f"{base}/x"),
            Call("PUT", base, self.encode({"tags": [self.odd(), "ok"]})),
            Call("PUT", base, self.encode({"tags": self.odd()})),
            Call("GET", f"{base}/{tag}"), Call("PUT", f"{base}/{tag}"),
            Call("DELETE", f"{base}/{tag}")))

    def _quotas(self) -> Call:
        project = _q(self.pick(ODD_TEXT + ("p" * 300,)))
        return self.pick((
            Call("GET", f"/v2.0/quotas/{project}"),
            Call("GET", f"/v2.0/quotas/{project}/details"),
            Call("PUT", f"/v2.0/quotas/{project}",
                 self.encode({"quota": {self.pick(("network", "port", "bogus")): self.odd()}})),
            Call("PUT", f"/v2.0/quotas/{project}", self.encode({"quota": self.odd()})),
            Call("PUT", f"/v2.0/quotas/{project}", self.encode({"quota": {
                "network": self.odd(), self.pick(("force", "check_limit")): self.odd()}})),
            Call("GET", f"/v2.0/quotas/{self.pick(('project', 'tenant'))}"),
            Call("DELETE", f"/v2.0/quotas/{project}")))

    def _bindings(self) -> Call:
        """binding-extended: a port's bindings, by odd hosts and with odd bodies."""
        base = f"/v2.0/ports/{self.some_id('ports')}/bindings"
        host = _q(self.pick(ODD_TEXT + ("compute-1",)))
        body = {"host": "compute-1", "vnic_type": "normal", "profile": {}}
        body[self.pick(sorted(body) + ["vif_type", "status", "bogus"])] = self.odd()
        return self.pick((
            Call("GET", base), Call("GET", f"{base}?{_q(self.pick(ODD_TEXT))}=x"),
            Call("POST", base, self.encode({"binding": body})),
            Call("POST", base, self.encode({"binding": self.odd()})),
            Call("GET", f"{base}/{host}"), Call("DELETE", f"{base}/{host}"),
            Call("PUT", f"{base}/{host}", self.encode({"binding": {"profile": self.odd()}})),
            Call("PUT", f"{base}/{host}/activate")))

    def _availability(self) -> Call:
        base = "/v2.0/network-ip-availabilities"
        keys = ("network_id", "network_name", "ip_version", "project_id", "total_ips",
                "sort_key", "limit", "marker", "fields", "bogus")
        query = f"{_q(self.pick(keys))}={_q(self.pick(ODD_TEXT))}"
        return self.pick((Call("GET", f"{base}?{query}"),
                          Call("GET", f"{base}/{self.some_id('networks')}")))

    def _raw(self) -> Call:
        coll = self.pick(COLLECTIONS)
        body = self.pick((
            b"{not json", b"[]", b"null", b"\xff\xfe{}", b'{"network": NaN}',
            b'{"network": {"mtu": 1e400}}', b'{"network": {"name": "\\ud800"}}',
            b"[" * 5000 + b"]" * 5000, b'{"a": ' * 40 + b"1" + b"}" * 40,
            b'{"network": {"name": "' + b"z" * (MAX_BODY + 10) + b'"}}',
            b'{"network": {"mtu": ' + b"9" * 5000 + b"}}", b'"\\u0000"',
        ))
        method = self.pick(("POST", "PUT"))
        path = f"/v2.0/{self.path(coll)}"
        path = path if method == "POST" else f"{path}/{self.some_id(coll)}"
        return Call(method, path, body)


def _samples(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    net, ext, sg = world["networks"], world["external"], world["security-groups"]
    return {
        "networks": {"name": "fz", "mtu": 1400, "tags": ["t"], "dns_domain": "fz.example."},
        "subnets": {"network_id": net["id"], "ip_version": 4, "cidr": "10.250.0.0/24",
                    "host_routes": [{"destination": "10.9.0.0/16", "nexthop": "10.250.0.9"}],
                    "allocation_pools": [{"start": "10.250.0.10", "end": "10.250.0.20"}]},
        "ports": {"network_id": net["id"], "binding:profile": {"a": "b"},
                  "fixed_ips": [{"subnet_id": world["subnets"]["id"]}],
                  "extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": "1400"}],
                  "allowed_address_pairs": [{"ip_address": "10.1.1.1"}],
                  "dns_name": "fz-vm", "dns_domain": "<project_id>.fz.example.",
                  "device_id": "fz-server"},
        "security-groups": {"name": "fz", "description": "d"},
        "security-group-rules": {"security_group_id": sg["id"], "direction": "egress",
                                 "protocol": "udp", "port_range_min": 53,
                                 "port_range_max": 53, "remote_ip_prefix": "10.0.0.0/8"},
        "routers": {"name": "fz", "external_gateway_info": {
            "network_id": ext["id"], "enable_snat": True,
            "external_fixed_ips": [{"subnet_id": world["external_subnet"]["id"]}]}},
        "floatingips": {"floating_network_id": ext["id"]},
        "rbac-policies": {"object_type": "qos_policy",
                          "object_id": world["qos/policies"]["id"],
                          "action": "access_as_shared", "target_tenant": uuid.uuid4().hex},
        "address-groups": {"name": "fz", "addresses": ["10.3.0.0/16", "fd00:3::/64"]},
        "default-security-group-rules": {"direction": "ingress", "protocol": "udp",
                                         "port_range_min": 53, "port_range_max": 53,
                                         "remote_group_id": "PARENT",
                                         "used_in_non_default_sg": True},
        "subnetpools": {"name": "fz", "prefixes": ["10.251.0.0/16"], "default_prefixlen": 26,
                        "address_scope_id": world["address-scopes"]["id"], "tags": ["t"]},
        "address-scopes": {"name": "fz", "ip_version": 4},
        "sfc/port_pairs": {"ingress": world["sf_port"]["id"], "egress": world["ports"]["id"],
                           "service_function_parameters": {"weight": 2}},
        "sfc/port_pair_groups": {"port_pairs": [], "port_pair_group_parameters": {
            "lb_fields": ["ip_src"], "ppg_n_tuple_mapping": {
                "ingress_n_tuple": {"source_ip_prefix": "10.0.0.0/8"}}}},
        "sfc/flow_classifiers": {"protocol": "tcp", "destination_port_range_min": 80,
                                 "source_ip_prefix": "10.0.0.0/8",
                                 "logical_source_port": world["ports"]["id"]},
        "sfc/port_chains": {"port_pair_groups": [world["sfc/port_pair_groups"]["id"]],
                            "chain_parameters": {"symmetric": True}, "chain_id": 7},
        "trunks": {"port_id": world["trunk_free_parent"]["id"], "name": "fz",
                   "sub_ports": [{"port_id": world["trunk_free_port"]["id"],
                                  "segmentation_type": "vlan", "segmentation_id": 8}]},
        "qos/policies": {"name": "fz", "shared": True, "is_default": False, "tags": ["t"]},
        **dict.fromkeys(("qos/policies/POLICY/bandwidth_limit_rules",
                         "qos/alias_bandwidth_limit_rules"),
                        {"max_kbps": 1000, "max_burst_kbps": 100, "direction": "ingress"}),
        **dict.fromkeys(("qos/policies/POLICY/dscp_marking_rules",
                         "qos/alias_dscp_marking_rules"), {"dscp_mark": 26}),
        "l2-gateways": {"name": "fz", "devices": [{"device_name": "ps1", "interfaces": [
            {"name": "p1", "segmentation_id": [5]}]}]},
        "l2-gateway-connections": {"l2_gateway_id": world["l2-gateways"]["id"],
                                   "network_id": world["external"]["id"]},
        PF: {"internal_port_id": world["pf_port"]["id"], "protocol": "tcp",
             "internal_port_range": "80:81", "external_port_range": "8080:8081",
             "description": "fz"},
    }


def _with_pools(client, world: dict[str, Any]) -> dict[str, Any]:
    """The world plus a subnet pool in an address scope, and a subnet made from it."""
    scope = client.post("/v2.0/address-scopes", json={"address_scope": {
        "name": "fuzz", "ip_version": 4}}).json()["address_scope"]
    pool = client.post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "fuzz", "prefixes": ["10.253.0.0/16"], "default_prefixlen": 24,
        "address_scope_id": scope["id"]}}).json()["subnetpool"]
    net = client.post("/v2.0/networks", json={"network": {"name": "fuzz-pool"}}).json()
    made = client.post("/v2.0/subnets", json={"subnet": {
        "network_id": net["network"]["id"], "ip_version": 4, "subnetpool_id": pool["id"]}})
    assert made.status_code == 201, made.text
    return {**world, "subnetpools": pool, "address-scopes": scope}


def _sfc_world(client, world: dict[str, Any]) -> None:
    """A chain of one group of one pair, classified from the world's port."""
    def post_sfc(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(f"/v2.0/{path}", json={_singular(path): body})
        assert response.status_code == 201, response.text
        return response.json()[_singular(path)]

    sf = post(client, "ports", {"network_id": world["networks"]["id"],
                                "port_security_enabled": False, "security_groups": []})
    pair = post_sfc("sfc/port_pairs", {"ingress": sf["id"], "egress": sf["id"]})
    group = post_sfc("sfc/port_pair_groups", {"port_pairs": [pair["id"]]})
    fc = post_sfc("sfc/flow_classifiers", {"protocol": "udp",
                                               "logical_source_port": world["ports"]["id"]})
    chain = post_sfc("sfc/port_chains", {"port_pair_groups": [group["id"]],
                                             "flow_classifiers": [fc["id"]]})
    world.update({"sf_port": sf, "sfc/port_pairs": pair, "sfc/port_pair_groups": group,
                  "sfc/flow_classifiers": fc, "sfc/port_chains": chain})


def _trunk_world(client, world: dict[str, Any]) -> None:
    """A trunk with one subport, and free ports a fuzzed request may make parent or subport."""
    def port() -> dict[str, Any]:
        return post(client, "ports", {"network_id": world["networks"]["id"]})

    parent, sub = port(), port()
    made = client.post("/v2.0/trunks", json={"trunk": {"port_id": parent["id"], "sub_ports": [
        {"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": 5}]}})
    assert made.status_code == 201, made.text
    world.update({"trunks": made.json()["trunk"], "trunk_free_parent": port(),
                  "trunk_free_port": port()})


def _qos_world(client, world: dict[str, Any]) -> None:
    """A policy with one rule of each kind, under which the world's port is."""
    def post_qos(path: str, singular: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(f"/v2.0/{path}", json={singular: body})
        assert response.status_code == 201, response.text
        return response.json()[singular]

    policy = post_qos("qos/policies", "policy", {"name": "fuzz"})
    base = f"qos/policies/{policy['id']}"
    bw = post_qos(f"{base}/bandwidth_limit_rules", "bandwidth_limit_rule", {"max_kbps": 500})
    dscp = post_qos(f"{base}/dscp_marking_rules", "dscp_marking_rule", {"dscp_mark": 8})
    client.put(f"/v2.0/ports/{world['ports']['id']}",
               json={"port": {"qos_policy_id": policy["id"]}})
    world.update({"qos/policies": policy, "qos/policies/POLICY/bandwidth_limit_rules": bw,
                  "qos/alias_bandwidth_limit_rules": bw,
                  "qos/policies/POLICY/dscp_marking_rules": dscp,
                  "qos/alias_dscp_marking_rules": dscp})


def _l2gw_world(client, world: dict[str, Any]) -> None:
    """A gateway on a device whose VTEP database is down, connected to the world's network."""
    gateway = post(client, "l2-gateways", {"name": "fuzz", "devices": [{
        "device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": [4]}]}]})
    made = client.post("/v2.0/l2-gateway-connections", json={"l2_gateway_connection": {
        "l2_gateway_id": gateway["id"], "network_id": world["networks"]["id"]}})
    assert made.status_code == 201, made.text
    world.update({"l2-gateways": gateway,
                  "l2-gateway-connections": made.json()["l2_gateway_connection"]})


def _pf_world(client, world: dict[str, Any]) -> None:
    """A second floating IP forwarding TCP/2222 to a port of its own (the world's floating
    IP maps 1:1 to the world's port, so forwards nothing)."""
    port = post(client, "ports", {"network_id": world["networks"]["id"]})
    fip = post(client, "floatingips", {"floating_network_id": world["external"]["id"]})
    made = client.post(f"/v2.0/floatingips/{fip['id']}/port_forwardings", json={
        "port_forwarding": {"internal_port_id": port["id"], "protocol": "tcp",
                            "internal_port": 22, "external_port": 2222}})
    assert made.status_code == 201, made.text
    world.update({"pf_port": port, "pf_fip": fip, PF: made.json()["port_forwarding"]})


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzzed(request, private_ovn, tmp_path):
    db_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with started(private_ovn, tmp_path, db_url, NEUTRINO_API_MAX_BODY_BYTES=str(MAX_BODY),
                 NEUTRINO_API_MAX_BULK=str(MAX_BULK),
                 # a VTEP database that is never there: connections wait in the journal
                 NEUTRINO_VTEP_DBS=f"ps1=unix:{tmp_path}/no-vtep.sock") as (app, client):
        yield app, client


def test_fuzz_every_resource_and_action(fuzzed):
    app, client = fuzzed
    world = _with_pools(client, build_world(client, "fuzz"))
    world["rbac-policies"] = client.post("/v2.0/rbac-policies", json={"rbac_policy": {
        "object_type": "security_group", "object_id": world["security-groups"]["id"],
        "action": "access_as_shared", "target_tenant": uuid.uuid4().hex}}).json()["rbac_policy"]
    world["address-groups"] = client.post("/v2.0/address-groups", json={"address_group": {
        "name": "ag-fuzz", "addresses": ["10.4.0.0/16"]}}).json()["address_group"]
    world["default-security-group-rules"] = client.get(
        "/v2.0/default-security-group-rules").json()["default_security_group_rules"][0]
    _sfc_world(client, world)
    _trunk_world(client, world)
    _qos_world(client, world)
    _l2gw_world(client, world)
    _pf_world(client, world)
    fuzzer = Fuzzer(random.Random(SEED), world, _samples(world))
    before = snapshot(app)
    statuses: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    forwardings = 0  # requests on port forwardings (a sub-resource of floating IPs)
    deadline = time.monotonic() + TIME_BUDGET
    # a floor of requests, so a loaded machine still reaches every kind of call the seed makes
    while (time.monotonic() < deadline or sum(statuses.values()) < MIN_REQUESTS) \
            and sum(statuses.values()) < MAX_REQUESTS:
        kind, call = fuzzer.call()
        response = client.request(call.method, call.path, content=call.body,
                                  headers={k: v.encode("latin-1") for k, v in call.headers})
        statuses[response.status_code] += 1
        kinds[kind] += 1
        forwardings += "/port_forwardings" in call.path
        assert response.status_code < 500, f"{call}\n-> {response.text[:500]}"
        if response.status_code < 400:
            before = snapshot(app)  # accepted: this is the new normal
            continue
        fault = assert_fault(response)
        assert len(fault["message"]) <= 1024, call
        after = snapshot(app)
        assert after == before, f"refused request changed the database: {call}"
    refused = sum(n for status, n in statuses.items() if status >= 400)
    print(f"seed {SEED}: {sum(statuses.values())} requests, statuses {dict(statuses)}")
    assert refused > 100 and statuses[413] and statuses[404], statuses
    assert forwardings >= 10, forwardings  # the sub-resource was really exercised
    assert set(kinds) == {"create", "bulk", "show", "list", "update", "delete", "interface",
                          "extraroutes", "pools", "tags", "quotas", "raw", "bindings",
                          "addresses", "prefixes", "availability", "subports"}, kinds
