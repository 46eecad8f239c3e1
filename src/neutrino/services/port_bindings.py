"""A port's bindings (binding-extended): the active one and those Nova prepares elsewhere.

Nova's live migration creates a binding for the destination host while the port is still
active at the source; that binding is INACTIVE until Nova activates it, when the source's
binding becomes the inactive one. The active binding lives in the port's own `binding:*`
columns; inactive ones in `InactiveBinding` rows. While a port has inactive bindings its
switch port names every host in `requested-chassis` (see ovn/translate/ports.py), so OVN
lets the VM come up on the destination before the switch-over.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino import binding, errors, policy
from neutrino.db.models import InactiveBinding, Port
from neutrino.journal.parents import port_parents
from neutrino.journal.types import ResourceType
from neutrino.services.common import bump_revision, run_and_wake
from neutrino.services.context import Context
from neutrino.services.ports import PortService, get_port_row, port_target

ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"
COMPUTE_PREFIX = "compute:"
FILTERS = ("host", "vif_type", "vnic_type", "status")


def active_dict(port: Port) -> dict[str, Any]:
    return {"host": port.binding_host_id, "vif_type": port.binding_vif_type,
            "vif_details": dict(port.binding_vif_details),
            "vnic_type": port.binding_vnic_type, "profile": dict(port.binding_profile),
            "status": ACTIVE}


def inactive_dict(row: InactiveBinding) -> dict[str, Any]:
    return {"host": row.host, "vif_type": row.vif_type, "vif_details": dict(row.vif_details),
            "vnic_type": row.vnic_type, "profile": dict(row.profile), "status": INACTIVE}


def all_bindings(port: Port) -> list[dict[str, Any]]:
    active = [active_dict(port)] if port.binding_host_id else []
    return active + [inactive_dict(row) for row in port.inactive_bindings]


def _inactive(port: Port, host: str) -> InactiveBinding | None:
    return next((row for row in port.inactive_bindings if row.host == host), None)


class PortBindingService:
    def __init__(self, ports: PortService) -> None:
        self.ports = ports

    def _port(self, session: Session, ctx: Context, port_id: str, action: str) -> Port:
        port = get_port_row(session, ctx, port_id)
        policy.enforce(ctx, action, port_target(session, ctx, port))
        return port

    # -- read -----------------------------------------------------------------------------
    def list(self, ctx: Context, port_id: str, filters: dict[str, list[str]]
             ) -> list[dict[str, Any]]:
        with self.ports.db.read() as session:
            port = self._port(session, ctx, port_id, "get_port_binding")
            return [b for b in all_bindings(port)
                    if all(b[key] in wanted for key, wanted in filters.items())]

    def get(self, ctx: Context, port_id: str, host: str) -> dict[str, Any]:
        with self.ports.db.read() as session:
            port = self._port(session, ctx, port_id, "get_port_binding")
            return _find(port, host)

    # -- write ----------------------------------------------------------------------------
    def _write(self, fn: Any) -> dict[str, Any]:
        return run_and_wake(self.ports.db.write, self.ports.wakeup, fn)

    def _changed(self, session: Session, port: Port) -> None:
        bump_revision(session, port, ResourceType.PORT, port_parents(port))

    def create(self, ctx: Context, port_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A binding for `body["host"]`: the active one for an unbound port, else inactive."""
        def txn(session: Session) -> dict[str, Any]:
            port = self._port(session, ctx, port_id, "create_port_binding")
            if not port.device_owner.startswith(COMPUTE_PREFIX):
                raise errors.BadRequest(f"Port {port.id} is not a compute port")
            host = body["host"]
            if not host:
                raise errors.InvalidInput("host must be a host name, not empty")
            if port.binding_host_id == host or _inactive(port, host) is not None:
                raise errors.PortBindingAlreadyExists(port.id, host)
            result = self.ports.binding_for(session, port, host, body["vnic_type"],
                                            body["profile"])
            if port.binding_host_id:
                port.inactive_bindings.append(_inactive_row(port.id, host, body, result))
            else:
                _set_active(port, host, body["vnic_type"], body["profile"], result)
            self._changed(session, port)
            return _find(port, host)

        return self._write(txn)

    def update(self, ctx: Context, port_id: str, host: str, body: dict[str, Any]
               ) -> dict[str, Any]:
        """A new vnic type or profile for an inactive binding, bound again."""
        def txn(session: Session) -> dict[str, Any]:
            port = self._port(session, ctx, port_id, "update_port_binding")
            row = _inactive(port, host)
            if row is None:
                raise errors.PortBindingNotFound(port.id, host)
            row.vnic_type = body.get("vnic_type", row.vnic_type)
            row.profile = dict(body.get("profile", row.profile))
            result = self.ports.binding_for(session, port, host, row.vnic_type, row.profile)
            row.vif_type, row.vif_details = result.vif_type, dict(result.vif_details)
            self._changed(session, port)
            return inactive_dict(row)

        return self._write(txn)

    def activate(self, ctx: Context, port_id: str, host: str) -> dict[str, Any]:
        """The binding for `host` becomes the active one; the active one becomes inactive."""
        def txn(session: Session) -> dict[str, Any]:
            port = self._port(session, ctx, port_id, "activate")
            if port.binding_host_id == host:
                raise errors.PortBindingAlreadyActive(port.id, host)
            row = _inactive(port, host)
            if row is None:
                raise errors.PortBindingNotFound(port.id, host)
            if port.binding_host_id:
                port.inactive_bindings.append(InactiveBinding(
                    port_id=port.id, host=port.binding_host_id,
                    vnic_type=port.binding_vnic_type, profile=dict(port.binding_profile),
                    vif_type=port.binding_vif_type,
                    vif_details=dict(port.binding_vif_details), previously_active=True))
            port.inactive_bindings.remove(row)
            _set_active(port, host, row.vnic_type, row.profile,
                        binding.Binding(row.vif_type, row.vif_details))
            self._changed(session, port)
            return active_dict(port)

        return self._write(txn)

    def delete(self, ctx: Context, port_id: str, host: str) -> None:
        """An inactive binding goes; deleting the active one leaves the port unbound."""
        def txn(session: Session) -> dict[str, Any]:
            port = self._port(session, ctx, port_id, "delete_port_binding")
            row = _inactive(port, host)
            if row is not None:
                port.inactive_bindings.remove(row)
            elif port.binding_host_id == host and host:
                _set_active(port, "", port.binding_vnic_type, port.binding_profile,
                            binding.Binding(binding.UNBOUND))
            else:
                raise errors.PortBindingNotFound(port.id, host)
            self._changed(session, port)
            return {}

        self._write(txn)


def _find(port: Port, host: str) -> dict[str, Any]:
    found = next((b for b in all_bindings(port) if b["host"] == host), None)
    if found is None:
        raise errors.PortBindingNotFound(port.id, host)
    return found


def _inactive_row(port_id: str, host: str, body: dict[str, Any],
                  result: binding.Binding) -> InactiveBinding:
    return InactiveBinding(port_id=port_id, host=host, vnic_type=body["vnic_type"],
                           profile=dict(body["profile"]), vif_type=result.vif_type,
                           vif_details=dict(result.vif_details))


def _set_active(port: Port, host: str, vnic_type: str, profile: Any,
                result: binding.Binding) -> None:
    port.binding_host_id, port.binding_vnic_type = host, vnic_type
    port.binding_profile = dict(profile)
    port.binding_vif_type, port.binding_vif_details = result.vif_type, dict(result.vif_details)
