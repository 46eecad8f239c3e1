"""Neutron's trunk faults (neutron/services/trunk/exceptions.py), in its words."""

from __future__ import annotations

from neutrino import errors


class TrunkNotFound(errors.NotFound):
    def __init__(self, trunk_id: str) -> None:
        super().__init__(f"Trunk {trunk_id} could not be found.")


class SubPortNotFound(errors.NotFound):
    def __init__(self, trunk_id: str, port_id: str) -> None:
        super().__init__(f"SubPort on trunk {trunk_id} with parent port {port_id} could not "
                         "be found.")


class TrunkPortInUse(errors.InUse):
    def __init__(self, port_id: str) -> None:
        super().__init__(f"Port {port_id} is in use by another trunk.")


class ParentPortInUse(errors.InUse):
    def __init__(self, port_id: str) -> None:
        super().__init__(f"Port {port_id} is currently in use and is not eligible for use "
                         "as a parent port.")


class DuplicateSubPort(errors.InUse):
    def __init__(self, segmentation_type: str, segmentation_id: int, trunk_id: str) -> None:
        super().__init__(f"segmentation_type {segmentation_type} and segmentation_id "
                         f"{segmentation_id} already in use on trunk {trunk_id}.")


class SubPortMtuGreaterThanTrunkPortMtu(errors.Conflict):
    def __init__(self, port_id: str, port_mtu: int, trunk_id: str, trunk_mtu: int) -> None:
        super().__init__(f"MTU {port_mtu} of subport {port_id} cannot be greater than MTU "
                         f"{trunk_mtu} of trunk {trunk_id}.")


class PortInUseAsTrunkParent(errors.InUse):
    def __init__(self, port_id: str, trunk_id: str) -> None:
        super().__init__(f"Port {port_id} is currently a parent port for trunk {trunk_id}.")


class PortInUseAsSubPort(errors.InUse):
    def __init__(self, port_id: str, trunk_id: str) -> None:
        super().__init__(f"Port {port_id} is currently a subport for trunk {trunk_id}.")


class TrunkInUse(errors.InUse):
    def __init__(self, trunk_id: str) -> None:
        super().__init__(f"Trunk {trunk_id} is currently in use.")


class TrunkDisabled(errors.Conflict):
    def __init__(self, trunk_id: str) -> None:
        super().__init__(f"Trunk {trunk_id} is currently disabled.")


class PortInUse(errors.InUse):
    """neutron-lib's PortInUse: the port already serves a device."""

    def __init__(self, net_id: str, port_id: str, device_id: str) -> None:
        super().__init__(f"Unable to complete operation on port {port_id} for network "
                         f"{net_id}. Port already has an attached device {device_id}.")
