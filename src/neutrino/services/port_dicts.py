"""Ports in the API representation, built in one place from plain values.

`build_port_dicts` takes ports' columns as rows (`COLUMNS`' order, timestamps already ISO
strings, JSON columns as their text or decoded into containers of the answer's own) and
their related values as mappings from the port's id: a listing feeds it rows straight from
SQL (`port_listing`), `port_dict` a Port object. A listed port and a shown one therefore
come from the same code, attribute for attribute and in the same key order. It is one call
for a whole page, and calls one helper a port with addresses (`dns_names.assignment_of`):
what a page shares (the global domain's naming) is worked out once by the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from neutrino import dns_names
from neutrino.clock import isoformat
from neutrino.db.models import Port
from neutrino.services.trunks import subports as trunk_subports

# The Port columns the answer shows, in the order `build_port_dicts` unpacks them.
COLUMNS = ("id", "name", "description", "project_id", "revision_number", "created_at",
           "updated_at", "network_id", "mac_address", "admin_state_up", "status", "device_id",
           "device_owner", "allowed_address_pairs", "extra_dhcp_opts",
           "port_security_enabled", "binding_host_id", "binding_profile", "binding_vnic_type",
           "binding_vif_type", "binding_vif_details", "device_profile",
           "numa_affinity_policy", "dns_name", "dns_domain", "qos_policy_id")
_CREATED, _UPDATED = COLUMNS.index("created_at"), COLUMNS.index("updated_at")
# JSON columns: the answer shows copies of the Port object's (never its own state).
_COPIED = tuple((COLUMNS.index(name), copy) for name, copy in (
    ("extra_dhcp_opts", list), ("binding_profile", dict), ("binding_vif_details", dict)))
FixedIp = tuple[str, str]  # (subnet_id, ip_address)


def build_port_dicts(rows: Iterable[Sequence[Any]], fixed_ips: Mapping[str, Sequence[FixedIp]],
                     groups: Mapping[str, list[str]], tags: Mapping[str, list[str]],
                     trunk_details: Mapping[str, dict[str, Any]],
                     names: dns_names.Naming) -> list[dict[str, Any]]:
    """The answers of `rows`, in their order. A JSON column given as text ('{}', '[]' or
    other JSON) is decoded here; booleans may come as SQLite's 0 and 1. The mappings hold
    what a port has (a port with no addresses, groups, tags or trunk is not in them)."""
    answers = []
    for (port_id, name, description, project_id, revision_number, created_at, updated_at,
         network_id, mac_address, admin_state_up, status, device_id, device_owner, pairs,
         dhcp_opts, port_security, host_id, profile, vnic_type, vif_type, vif_details,
         device_profile, numa_policy, dns_name, dns_domain, qos_policy_id) in rows:
        # one loop, no helper a port: a page of 1,000 ports pays each call 1,000 times
        ips = fixed_ips.get(port_id)
        addresses = []
        if ips:
            for subnet_id, ip in ips:
                addresses.append({"subnet_id": subnet_id, "ip_address": ip})
            assignment = dns_names.assignment_of(ips, dns_name, names)
        else:
            assignment = []
        if pairs.__class__ is str:
            pairs = [] if pairs == "[]" else json.loads(pairs)
        if dhcp_opts.__class__ is str:
            dhcp_opts = [] if dhcp_opts == "[]" else json.loads(dhcp_opts)
        if profile.__class__ is str:
            profile = {} if profile == "{}" else json.loads(profile)
        if vif_details.__class__ is str:
            vif_details = {} if vif_details == "{}" else json.loads(vif_details)
        answer = {
            "dns_name": dns_name,
            "dns_domain": dns_domain,
            "dns_assignment": assignment,
            "id": port_id,
            "name": name,
            "description": description,
            "project_id": project_id,
            "tenant_id": project_id,
            "revision_number": revision_number,
            "created_at": created_at,
            "updated_at": updated_at,
            "tags": tags.get(port_id) or [],
            "network_id": network_id,
            "mac_address": mac_address,
            "admin_state_up": bool(admin_state_up),
            "status": status,
            "device_id": device_id,
            "device_owner": device_owner,
            "fixed_ips": addresses,
            "allowed_address_pairs": [
                {"ip_address": p["ip_address"],
                 "mac_address": p.get("mac_address") or mac_address}
                for p in pairs] if pairs else [],
            "extra_dhcp_opts": dhcp_opts,
            "port_security_enabled": bool(port_security),
            "security_groups": groups.get(port_id) or [],
            "binding:host_id": host_id,
            "binding:profile": profile,
            "binding:vnic_type": vnic_type,
            "binding:vif_type": vif_type,
            "binding:vif_details": vif_details,
            "device_profile": device_profile,
            "numa_affinity_policy": numa_policy,
        }
        if trunk_details:
            trunk = trunk_details.get(port_id)
            if trunk is not None:
                answer["trunk_details"] = trunk
        answer["qos_policy_id"] = qos_policy_id
        answers.append(answer)
    return answers


def port_dict(port: Port, global_domain: str = "openstacklocal.") -> dict[str, Any]:
    """A Port object's answer (create, update, show)."""
    values = [getattr(port, column) for column in COLUMNS]
    values[_CREATED], values[_UPDATED] = isoformat(port.created_at), isoformat(port.updated_at)
    for at, copy in _COPIED:
        values[at] = copy(values[at])
    port_id = port.id
    trunk = trunk_subports.trunk_details(port)
    return build_port_dicts(
        [values], {port_id: [(a.subnet_id, a.ip_address) for a in port.fixed_ips]},
        {port_id: [b.security_group_id for b in port.security_group_bindings]},
        {port_id: [t.tag for t in port.tags]}, {} if trunk is None else {port_id: trunk},
        dns_names.naming(global_domain))[0]
