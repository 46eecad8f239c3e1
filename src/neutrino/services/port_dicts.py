"""A port in the API representation, built in one place from plain values.

`build_port_dict` takes a port's columns as one tuple (`COLUMNS`' order, timestamps already
ISO strings, JSON columns decoded into containers of the answer's own) and its related values
as plain lists: a listing feeds it rows straight from SQL (`port_listing`), `port_dict` a Port
object. A listed port and a shown one therefore come from the same code, attribute for
attribute and in the same key order. It is called once a listed port and calls one helper
(`dns_names.assignment_of`, for a port with addresses): what a page shares (the global
domain's naming) is worked out once by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neutrino import dns_names
from neutrino.clock import isoformat
from neutrino.db.models import Port
from neutrino.services.trunks import subports as trunk_subports

# The Port columns the answer shows, in the order `build_port_dict` unpacks them.
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


def build_port_dict(values: Sequence[Any], fixed_ips: Sequence[FixedIp], groups: list[str],
                    tags: list[str], trunk_details: dict[str, Any] | None,
                    names: dns_names.Naming) -> dict[str, Any]:
    (port_id, name, description, project_id, revision_number, created_at, updated_at,
     network_id, mac_address, admin_state_up, status, device_id, device_owner, pairs,
     dhcp_opts, port_security, host_id, profile, vnic_type, vif_type, vif_details,
     device_profile, numa_policy, dns_name, dns_domain, qos_policy_id) = values
    addresses = []
    for subnet_id, ip in fixed_ips:  # a loop, not a comprehension: no call a port
        addresses.append({"subnet_id": subnet_id, "ip_address": ip})
    answer = {
        "dns_name": dns_name,
        "dns_domain": dns_domain,
        "dns_assignment": dns_names.assignment_of(
            fixed_ips, dns_name, names) if fixed_ips else [],
        "id": port_id,
        "name": name,
        "description": description,
        "project_id": project_id,
        "tenant_id": project_id,
        "revision_number": revision_number,
        "created_at": created_at,
        "updated_at": updated_at,
        "tags": tags,
        "network_id": network_id,
        "mac_address": mac_address,
        "admin_state_up": admin_state_up,
        "status": status,
        "device_id": device_id,
        "device_owner": device_owner,
        "fixed_ips": addresses,
        "allowed_address_pairs": [
            {"ip_address": p["ip_address"], "mac_address": p.get("mac_address") or mac_address}
            for p in pairs] if pairs else [],
        "extra_dhcp_opts": dhcp_opts,
        "port_security_enabled": port_security,
        "security_groups": groups,
        "binding:host_id": host_id,
        "binding:profile": profile,
        "binding:vnic_type": vnic_type,
        "binding:vif_type": vif_type,
        "binding:vif_details": vif_details,
        "device_profile": device_profile,
        "numa_affinity_policy": numa_policy,
    }
    if trunk_details is not None:
        answer["trunk_details"] = trunk_details
    answer["qos_policy_id"] = qos_policy_id
    return answer


def port_dict(port: Port, global_domain: str = "openstacklocal.") -> dict[str, Any]:
    """A Port object's answer (create, update, show)."""
    values = [getattr(port, column) for column in COLUMNS]
    values[_CREATED], values[_UPDATED] = isoformat(port.created_at), isoformat(port.updated_at)
    for at, copy in _COPIED:
        values[at] = copy(values[at])
    return build_port_dict(
        values, [(a.subnet_id, a.ip_address) for a in port.fixed_ips],
        [b.security_group_id for b in port.security_group_bindings],
        [t.tag for t in port.tags], trunk_subports.trunk_details(port),
        dns_names.naming(global_domain))
