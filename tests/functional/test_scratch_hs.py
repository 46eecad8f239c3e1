from test_port_addresses import _post, api, neutrino  # noqa

def test_variants(api):
    net = _post(api, "networks", {"name": "n"})
    sub = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.9.0.0/24"})
    s6 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6, "cidr": "fd00:1::/64", "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"})
    port = _post(api, "ports", {"network_id": net["id"]})
    print(port["fixed_ips"])
    mine = port["fixed_ips"][0]["ip_address"]
    for body in ([{"ip_address": mine}, {"subnet_id": sub["id"]}],
                 [{"subnet_id": sub["id"]}, {"ip_address": mine}],
                 [{"ip_address": mine}, {"ip_address": "10.9.0.250"}],
                 [{"ip_address": "10.9.0.250"}, {"ip_address": mine}]):
        import time; t=time.monotonic()
        a = api.put(f"/v2.0/ports/{port['id']}", json={"port": {"fixed_ips": body}})
        print(body, a.status_code, time.monotonic()-t, a.text[:300])
    assert 0
