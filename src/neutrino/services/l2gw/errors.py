"""networking-l2gw's faults, by the names it answers with.

    NotFound (404): L2GatewayNotFound, L2GatewayConnectionNotFound
    InUse (409): L2GatewayInUse, L2GatewayConnectionExists, L2GatewaySegmentationIDExists
    BadRequest (400): L2GatewayDeviceNotFound, L2GatewayInterfaceNotFound (made when a
        connection is: a device or interface no configured VTEP database holds),
        L2GatewaySegmentationRequired
"""

from __future__ import annotations

from neutrino import errors


class L2GatewayNotFound(errors.NotFound):
    def __init__(self, gateway_id: str) -> None:
        super().__init__(f"L2 Gateway {gateway_id} could not be found")


class L2GatewayConnectionNotFound(errors.NotFound):
    def __init__(self, connection_id: str) -> None:
        super().__init__(f"The connection {connection_id} was not found on the l2 gateway")


class L2GatewayInUse(errors.InUse):
    def __init__(self, gateway_id: str) -> None:
        super().__init__(f"L2 Gateway '{gateway_id}' still has active mappings with one or "
                         "more neutron networks.")


class L2GatewayConnectionExists(errors.InUse):
    def __init__(self, network_id: str, gateway_id: str) -> None:
        super().__init__(f"The specified mapping '{network_id}' exists on network gateway "
                         f"'{gateway_id}'.")


class L2GatewaySegmentationIDExists(errors.InUse):
    def __init__(self, device: str, interface: str, vlan: int) -> None:
        super().__init__(f"The segmentation id {vlan} is already bound on interface "
                         f"{interface} of device {device}.")


class L2GatewayDeviceNotFound(errors.BadRequest):
    def __init__(self, device: str) -> None:
        super().__init__(f"L2 Gateway Device {device} could not be found: no configured VTEP "
                         "database (NEUTRINO_VTEP_DBS) holds it.")


class L2GatewayInterfaceNotFound(errors.BadRequest):
    def __init__(self, device: str, interface: str) -> None:
        super().__init__(f"L2 Gateway interface not found on '{device}': {interface}")


class L2GatewaySegmentationRequired(errors.BadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(message)
