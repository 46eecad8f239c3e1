"""Subnet pools, subnet allocation from them, default pools, prefix operations and address
scopes, through the real app (Neutron's rules: neutron-lib subnetpool, address_scope,
default_subnetpools, subnetpool_prefix_ops; neutron's subnet allocator)."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.services.address_scopes import AddressScopeService
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery
from neutrino.services.subnetpools import SubnetPoolService


def _pool(api, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "pool")
    response = api.post("/v2.0/subnetpools", json={"subnetpool": body})
    assert response.status_code == 201, response.text
    return response.json()["subnetpool"]


def _net(api, name: str = "net") -> str:
    response = api.post("/v2.0/networks", json={"network": {"name": name}})
    return response.json()["network"]["id"]


def _subnet(api, net: str, **body: Any):
    body.setdefault("ip_version", 4)
    return api.post("/v2.0/subnets", json={"subnet": {"network_id": net, **body}})


def _fault(response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["NeutronError"]["type"] == kind, response.text


def test_pool_crud_merges_prefixes_and_fills_neutron_defaults(api):
    pool = _pool(api, prefixes=["10.0.1.0/24", "10.0.0.0/24", "10.0.0.128/25", "10.9.0.7/16"],
                 description="d", tags=["t1"])
    assert pool["prefixes"] == ["10.0.0.0/23", "10.9.0.0/16"]
    assert (pool["ip_version"], pool["min_prefixlen"], pool["max_prefixlen"],
            pool["default_prefixlen"]) == (4, 8, 32, 8)
    assert pool["default_quota"] is None and pool["address_scope_id"] is None
    assert (pool["shared"], pool["is_default"], pool["revision_number"]) == (False, False, 1)
    assert pool["tags"] == ["t1"] and pool["description"] == "d"
    v6 = _pool(api, name="six", prefixes=["2001:db8::/48"], default_prefixlen=64)
    assert (v6["ip_version"], v6["min_prefixlen"], v6["max_prefixlen"]) == (6, 64, 128)

    shown = api.get(f"/v2.0/subnetpools/{pool['id']}", params={"fields": ["prefixes"]})
    assert shown.json() == {"subnetpool": {"prefixes": ["10.0.0.0/23", "10.9.0.0/16"]}}
    listed = api.get("/v2.0/subnetpools", params={"ip_version": 6}).json()["subnetpools"]
    assert [p["id"] for p in listed] == [v6["id"]]
    by_name = api.get("/v2.0/subnetpools", params={"sort_key": "name", "sort_dir": "desc",
                                                   "limit": 1}).json()
    assert [p["name"] for p in by_name["subnetpools"]] == ["six"]
    assert by_name["subnetpools_links"][0]["rel"] == "next"

    updated = api.put(f"/v2.0/subnetpools/{pool['id']}", json={"subnetpool": {
        "name": "renamed", "min_prefixlen": 16, "default_prefixlen": 24,
        "prefixes": ["10.0.0.0/22", "10.9.0.0/16"]}}).json()["subnetpool"]
    assert (updated["name"], updated["default_prefixlen"], updated["revision_number"]) == \
        ("renamed", 24, 2)
    assert updated["prefixes"] == ["10.0.0.0/22", "10.9.0.0/16"]
    assert api.put(f"/v2.0/subnetpools/{pool['id']}/tags/t2").status_code == 201
    assert api.get(f"/v2.0/subnetpools/{pool['id']}").json()["subnetpool"]["tags"] == \
        ["t1", "t2"]
    assert api.delete(f"/v2.0/subnetpools/{pool['id']}").status_code == 204
    _fault(api.get(f"/v2.0/subnetpools/{pool['id']}"), 404, "SubnetPoolNotFound")


@pytest.mark.parametrize(("body", "status", "kind"), [
    ({"prefixes": []}, 400, "EmptySubnetPoolPrefixList"),
    ({"prefixes": ["10.0.0.0/8", "2001:db8::/32"]}, 400, "PrefixVersionMismatch"),
    ({"prefixes": ["10.0.0.0/33"]}, 400, "InvalidInput"),
    ({"prefixes": ["10.0.0.0/8"], "min_prefixlen": 24, "max_prefixlen": 16}, 400,
     "IllegalSubnetPoolPrefixBounds"),
    ({"prefixes": ["10.0.0.0/8"], "max_prefixlen": 33}, 400, "IllegalSubnetPoolPrefixBounds"),
    ({"prefixes": ["10.0.0.0/8"], "default_prefixlen": 4}, 400,
     "IllegalSubnetPoolPrefixBounds"),
    ({"prefixes": ["10.0.0.0/8"], "default_quota": -1}, 400, "BadRequest"),
    ({"prefixes": ["10.0.0.0/8"], "ip_version": 4}, 400, "BadRequest"),
    ({"prefixes": ["10.0.0.0/8"], "address_scope_id": "nope"}, 404, "AddressScopeNotFound"),
])
def test_bad_pools_are_refused_and_leave_nothing(api, body, status, kind):
    _fault(api.post("/v2.0/subnetpools", json={"subnetpool": {"name": "bad", **body}}),
           status, kind)
    assert api.get("/v2.0/subnetpools").json()["subnetpools"] == []


def test_prefixes_only_grow_by_update(api):
    pool = _pool(api, prefixes=["10.0.0.0/16", "10.2.0.0/16"])
    shrink = api.put(f"/v2.0/subnetpools/{pool['id']}",
                     json={"subnetpool": {"prefixes": ["10.0.0.0/16"]}})
    _fault(shrink, 400, "IllegalSubnetPoolPrefixUpdate")
    assert api.get(f"/v2.0/subnetpools/{pool['id']}").json()["subnetpool"]["prefixes"] == \
        ["10.0.0.0/16", "10.2.0.0/16"]


def test_subnets_are_allocated_from_the_pool_by_best_fit(api):
    pool = _pool(api, prefixes=["10.10.0.0/16"], default_prefixlen=24, min_prefixlen=20,
                 max_prefixlen=28)
    net = _net(api)
    first = _subnet(api, net, subnetpool_id=pool["id"])
    assert first.status_code == 201, first.text
    first = first.json()["subnet"]
    assert (first["cidr"], first["gateway_ip"], first["subnetpool_id"]) == \
        ("10.10.0.0/24", "10.10.0.1", pool["id"])
    assert first["allocation_pools"] == [{"start": "10.10.0.2", "end": "10.10.0.254"}]
    second = _subnet(api, _net(api), subnetpool_id=pool["id"]).json()["subnet"]
    assert second["cidr"] == "10.10.1.0/24"
    small = _subnet(api, _net(api), subnetpool_id=pool["id"], prefixlen=26).json()["subnet"]
    assert small["cidr"] == "10.10.2.0/26"  # the smallest free block that holds a /26
    specific = _subnet(api, _net(api), subnetpool_id=pool["id"], cidr="10.10.128.0/25",
                       allocation_pools=[{"start": "10.10.128.10", "end": "10.10.128.20"}])
    assert specific.status_code == 201, specific.text
    assert specific.json()["subnet"]["allocation_pools"] == \
        [{"start": "10.10.128.10", "end": "10.10.128.20"}]
    filtered = api.get("/v2.0/subnets", params={"subnetpool_id": pool["id"]}).json()
    assert len(filtered["subnets"]) == 4
    without_pool = _subnet(api, _net(api), cidr="192.168.5.0/24").json()["subnet"]
    assert without_pool["subnetpool_id"] is None
    sorted_by_pool = api.get("/v2.0/subnets", params={"sort_key": "subnetpool_id",
                                                      "fields": "subnetpool_id"}).json()
    assert [s["subnetpool_id"] for s in sorted_by_pool["subnets"]] == [None] + [pool["id"]] * 4


@pytest.mark.parametrize(("body", "status", "kind"), [
    ({"prefixlen": 19}, 400, "MinPrefixSubnetAllocationError"),
    ({"prefixlen": 29}, 400, "MaxPrefixSubnetAllocationError"),
    ({"cidr": "192.168.0.0/24"}, 400, "BadRequest"),
    ({"cidr": "10.30.0.0/24"}, 409, "SubnetAllocationError"),  # taken
    ({"cidr": "10.30.0.0/24", "prefixlen": 24}, 400, "BadRequest"),
    ({"allocation_pools": [{"start": "10.30.9.2", "end": "10.30.9.9"}]}, 400, "BadRequest"),
    ({"ip_version": 6}, 400, "BadRequest"),
    ({"use_default_subnetpool": True}, 400, "BadRequest"),  # and subnetpool_id
])
def test_bad_allocations_are_refused(api, body, status, kind):
    pool = _pool(api, prefixes=["10.30.0.0/16"], default_prefixlen=24, min_prefixlen=20,
                 max_prefixlen=28)
    assert _subnet(api, _net(api), subnetpool_id=pool["id"]).status_code == 201
    net = _net(api)
    _fault(_subnet(api, net, subnetpool_id=pool["id"], **body), status, kind)
    assert api.get("/v2.0/subnets", params={"network_id": net}).json()["subnets"] == []


def test_no_pool_and_no_cidr_is_a_bad_request(api):
    _fault(_subnet(api, _net(api)), 400, "BadRequest")
    _fault(_subnet(api, _net(api), subnetpool_id="00000000-0000-0000-0000-000000000000"), 404,
           "SubnetPoolNotFound")


def test_an_exhausted_pool_answers_409_and_a_pool_in_use_cannot_go(api):
    pool = _pool(api, prefixes=["10.20.0.0/24"], default_prefixlen=25)
    made = [_subnet(api, _net(api), subnetpool_id=pool["id"]) for _ in range(3)]
    assert [r.status_code for r in made] == [201, 201, 409]
    _fault(made[2], 409, "SubnetAllocationError")
    _fault(api.delete(f"/v2.0/subnetpools/{pool['id']}"), 400, "SubnetPoolDeleteError")
    for response in made[:2]:
        assert api.delete(f"/v2.0/subnets/{response.json()['subnet']['id']}").status_code == 204
    assert api.delete(f"/v2.0/subnetpools/{pool['id']}").status_code == 204


def test_default_quota_counts_addresses_per_project(api):
    pool = _pool(api, prefixes=["10.40.0.0/16"], default_prefixlen=24, default_quota=512)
    ok = [_subnet(api, _net(api), subnetpool_id=pool["id"]) for _ in range(2)]
    assert [r.status_code for r in ok] == [201, 201]
    _fault(_subnet(api, _net(api), subnetpool_id=pool["id"], prefixlen=32), 409,
           "SubnetPoolQuotaExceeded")
    other = api.post("/v2.0/subnets", headers={"X-Project-Id": "other"}, json={"subnet": {
        "network_id": _net(api), "ip_version": 4, "subnetpool_id": pool["id"],
        "project_id": "other"}})
    assert other.status_code == 201, other.text


def test_one_default_pool_per_ip_version_and_use_default_subnetpool(api):
    _fault(_subnet(api, _net(api), use_default_subnetpool=True), 400, "BadRequest")
    pool = _pool(api, prefixes=["10.50.0.0/16"], default_prefixlen=26, is_default=True)
    _fault(api.post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "second", "prefixes": ["10.51.0.0/16"], "is_default": True}}), 400,
        "InvalidInput")
    other = _pool(api, name="other", prefixes=["10.52.0.0/16"])
    _fault(api.put(f"/v2.0/subnetpools/{other['id']}",
                   json={"subnetpool": {"is_default": True}}), 400, "InvalidInput")
    assert _pool(api, name="v6", prefixes=["2001:db8::/48"], is_default=True)["is_default"]
    made = _subnet(api, _net(api), use_default_subnetpool=True)
    assert made.status_code == 201, made.text
    assert (made.json()["subnet"]["cidr"], made.json()["subnet"]["subnetpool_id"]) == \
        ("10.50.0.0/26", pool["id"])
    assert "use_default_subnetpool" not in made.json()["subnet"]


def test_add_and_remove_prefixes(api):
    pool = _pool(api, prefixes=["10.60.0.0/24"], default_prefixlen=25)
    url = f"/v2.0/subnetpools/{pool['id']}"
    added = api.put(f"{url}/add_prefixes", json={"prefixes": ["10.60.1.0/24", "10.70.0.0/24"]})
    assert added.status_code == 200, added.text
    assert added.json() == {"prefixes": ["10.60.0.0/23", "10.70.0.0/24"]}
    assert _subnet(api, _net(api), subnetpool_id=pool["id"],
                   cidr="10.70.0.0/25").status_code == 201
    _fault(api.put(f"{url}/remove_prefixes", json={"prefixes": ["10.70.0.0/24"]}), 400,
           "IllegalSubnetPoolPrefixUpdate")
    removed = api.put(f"{url}/remove_prefixes", json={"prefixes": ["10.60.1.0/24"]})
    assert removed.json() == {"prefixes": ["10.60.0.0/24", "10.70.0.0/24"]}
    shown = api.get(url).json()["subnetpool"]
    assert shown["prefixes"] == ["10.60.0.0/24", "10.70.0.0/24"]
    assert shown["revision_number"] == 3
    _fault(api.put(f"{url}/add_prefixes", json={"prefixes": "10.0.0.0/8"}), 400, "BadRequest")
    _fault(api.put(f"{url}/add_prefixes", json={"prefixes": ["2001:db8::/64"]}), 400,
           "PrefixVersionMismatch")
    _fault(api.put(f"{url}/add_prefixes", json={"cidrs": []}), 400, "BadRequest")


def test_address_scopes_keep_their_pools_disjoint(api):
    scope = api.post("/v2.0/address-scopes", json={"address_scope": {
        "name": "s", "ip_version": 4}})
    assert scope.status_code == 201, scope.text
    scope = scope.json()["address_scope"]
    assert set(scope) == {"id", "name", "project_id", "tenant_id", "shared", "ip_version"}
    pool = _pool(api, prefixes=["10.80.0.0/16"], default_prefixlen=24,
                 address_scope_id=scope["id"])
    assert pool["address_scope_id"] == scope["id"]
    _fault(api.post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "overlap", "prefixes": ["10.80.128.0/17"], "address_scope_id": scope["id"]}}),
        409, "AddressScopePrefixConflict")
    _fault(api.post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "v6", "prefixes": ["2001:db8::/48"], "address_scope_id": scope["id"]}}),
        400, "IllegalSubnetPoolIpVersionAssociationToAddressScope")
    apart = _pool(api, name="apart", prefixes=["10.80.0.0/24"])
    _fault(api.put(f"/v2.0/subnetpools/{apart['id']}", json={"subnetpool": {
        "address_scope_id": scope["id"]}}), 409, "AddressScopePrefixConflict")
    _fault(api.delete(f"/v2.0/address-scopes/{scope['id']}"), 409, "AddressScopeInUse")

    net = _net(api)
    assert api.get(f"/v2.0/networks/{net}").json()["network"]["ipv4_address_scope"] is None
    assert _subnet(api, net, subnetpool_id=pool["id"]).status_code == 201
    shown = api.get(f"/v2.0/networks/{net}").json()["network"]
    assert (shown["ipv4_address_scope"], shown["ipv6_address_scope"]) == (scope["id"], None)

    shared = api.put(f"/v2.0/address-scopes/{scope['id']}",
                     json={"address_scope": {"shared": True, "name": "t"}})
    assert shared.json()["address_scope"]["shared"] is True
    _fault(api.put(f"/v2.0/address-scopes/{scope['id']}",
                   json={"address_scope": {"shared": False}}), 400, "AddressScopeUpdateError")
    _fault(api.put(f"/v2.0/address-scopes/{scope['id']}",
                   json={"address_scope": {"ip_version": 6}}), 400, "BadRequest")
    listed = api.get("/v2.0/address-scopes", params={"ip_version": 4, "fields": "name"})
    assert listed.json() == {"address_scopes": [{"name": "t"}]}


def test_pools_and_scopes_count_against_quotas(api):
    assert api.get("/v2.0/quotas/p1").json()["quota"]["subnetpool"] == -1
    api.put("/v2.0/quotas/p1", json={"quota": {"subnetpool": 1}})
    headers = {"X-Project-Id": "p1"}
    body = {"subnetpool": {"name": "a", "prefixes": ["10.90.0.0/16"], "project_id": "p1"}}
    assert api.post("/v2.0/subnetpools", json=body, headers=headers).status_code == 201
    body["subnetpool"]["prefixes"] = ["10.91.0.0/16"]
    _fault(api.post("/v2.0/subnetpools", json=body, headers=headers), 409, "OverQuota")
    details = api.get("/v2.0/quotas/p1/details").json()["quota"]["subnetpool"]
    assert (details["limit"], details["used"]) == (1, 1)


def test_shared_pools_are_visible_to_every_project_and_only_admins_share(neutrino):
    pools = SubnetPoolService(neutrino.db, neutrino.settings, neutrino.wakeup)
    admin = Context("admin")
    member = Context("p2", is_admin=False, roles=("member",))
    shared = pools.create(admin, [{"name": "shared", "description": "", "prefixes":
                                   ["10.100.0.0/16"], "shared": True, "is_default": False}])[0]
    private = pools.create(admin, [{"name": "private", "description": "", "prefixes":
                                    ["10.101.0.0/16"], "shared": False,
                                    "is_default": False}])[0]
    assert [p["id"] for p in pools.list(member, ListQuery())] == [shared["id"]]
    assert pools.get(member, shared["id"])["shared"] is True
    with pytest.raises(Exception, match="could not be found"):
        pools.get(member, private["id"])
    with pytest.raises(Exception, match="disallowed by policy"):
        pools.create(member, [{"name": "x", "description": "", "prefixes": ["10.102.0.0/16"],
                               "shared": True, "is_default": False}])
    with pytest.raises(Exception, match="disallowed by policy"):
        pools.update(member, shared["id"], {"name": "mine"}, None)


def test_a_network_takes_subnets_of_one_version_from_one_pool_or_one_scope(api):
    scope = api.post("/v2.0/address-scopes", json={"address_scope": {
        "name": "s", "ip_version": 4}}).json()["address_scope"]
    first = _pool(api, name="a", prefixes=["10.110.0.0/16"], default_prefixlen=24)
    second = _pool(api, name="b", prefixes=["10.111.0.0/16"], default_prefixlen=24)
    net = _net(api)
    assert _subnet(api, net, subnetpool_id=first["id"]).status_code == 201
    _fault(_subnet(api, net, subnetpool_id=second["id"]), 400,
           "NetworkSubnetPoolAffinityError")
    _fault(_subnet(api, net, cidr="192.168.9.0/24"), 400, "NetworkSubnetPoolAffinityError")
    v6 = _subnet(api, net, ip_version=6, cidr="2001:db8:9::/64")  # another version: free
    assert v6.status_code == 201, v6.text

    plain = _net(api)
    assert _subnet(api, plain, cidr="192.168.10.0/24").status_code == 201
    _fault(_subnet(api, plain, subnetpool_id=first["id"]), 400,
           "NetworkSubnetPoolAffinityError")

    # pools of one address scope may share a network; a pool outside it may not
    scoped = [_pool(api, name=f"s{i}", prefixes=[f"10.{120 + i}.0.0/16"], default_prefixlen=24,
                    address_scope_id=scope["id"]) for i in range(2)]
    shared_net = _net(api)
    for pool in scoped:
        assert _subnet(api, shared_net, subnetpool_id=pool["id"]).status_code == 201
    _fault(_subnet(api, shared_net, subnetpool_id=second["id"]), 400,
           "NetworkAddressScopeAffinityError")
    shown = api.get(f"/v2.0/networks/{shared_net}").json()["network"]
    assert shown["ipv4_address_scope"] == scope["id"]
    # leaving the scope would split the network between two scopes
    _fault(api.put(f"/v2.0/subnetpools/{scoped[0]['id']}",
                   json={"subnetpool": {"address_scope_id": None}}), 400,
           "NetworkAddressScopeAffinityError")
    left = api.put(f"/v2.0/subnetpools/{first['id']}",
                   json={"subnetpool": {"address_scope_id": scope["id"]}})
    assert left.status_code == 200, left.text  # its network holds its subnets only
    assert api.get(f"/v2.0/networks/{net}").json()["network"]["ipv4_address_scope"] == \
        scope["id"]


def test_shared_scopes_are_visible_to_every_project_and_only_admins_share(neutrino):
    scopes = AddressScopeService(neutrino.db, neutrino.settings, neutrino.wakeup)
    admin = Context("admin")
    member = Context("p2", is_admin=False, roles=("member",))
    shared = scopes.create(admin, [{"name": "s", "ip_version": 4, "shared": True}])[0]
    hidden = scopes.create(admin, [{"name": "h", "ip_version": 4, "shared": False}])[0]
    own = scopes.create(member, [{"name": "own", "ip_version": 6, "shared": False}])[0]
    assert sorted(s["id"] for s in scopes.list(member, ListQuery())) == \
        sorted([shared["id"], own["id"]])
    with pytest.raises(Exception, match="could not be found"):
        scopes.get(member, hidden["id"])
    with pytest.raises(Exception, match="disallowed by policy"):
        scopes.create(member, [{"name": "x", "ip_version": 4, "shared": True}])
    with pytest.raises(Exception, match="disallowed by policy"):
        scopes.update(member, own["id"], {"shared": True}, None)
    # a member's pool may join a shared scope, not one it cannot see
    pools = SubnetPoolService(neutrino.db, neutrino.settings, neutrino.wakeup)
    body = {"name": "p", "description": "", "prefixes": ["10.130.0.0/16"], "shared": False,
            "is_default": False}
    joined = pools.create(member, [{**body, "address_scope_id": shared["id"]}])[0]
    assert joined["address_scope_id"] == shared["id"]
    with pytest.raises(Exception, match="associated with shared address scope"):
        pools.update(member, joined["id"], {"name": "renamed"}, None)
    with pytest.raises(Exception, match="associated with shared address scope"):
        pools.add_prefixes(member, joined["id"], ["10.132.0.0/16"])
    assert pools.update(admin, joined["id"], {"name": "renamed"}, None)["name"] == "renamed"
    with pytest.raises(Exception, match="could not be found"):
        pools.create(member, [{**body, "prefixes": ["10.131.0.0/16"],
                               "address_scope_id": hidden["id"]}])


def test_an_unknown_address_scope_on_update_is_a_404_and_changes_nothing(api):
    pool = _pool(api, prefixes=["10.81.0.0/16"], default_prefixlen=24)
    _fault(api.put(f"/v2.0/subnetpools/{pool['id']}", json={"subnetpool": {
        "address_scope_id": " "}}), 404, "AddressScopeNotFound")
    shown = api.get(f"/v2.0/subnetpools/{pool['id']}").json()["subnetpool"]
    assert shown["address_scope_id"] is None
    assert shown["revision_number"] == pool["revision_number"]
