"""Domain errors, by category.

The API maps each category to an HTTP status and a Neutron fault body in one table
(`neutrino.api.faults`); lower layers raise these and nothing more generic.

    NeutrinoError
    ├── BadRequest                 400
    │   ├── InvalidInput
    │   └── SecurityGroupEthertypeConflictWithProtocol
    ├── NotAuthorized              403
    ├── NotFound                   404
    │   ├── ResourceNotFound (Network…, Subnet…, Port…, SecurityGroup…, SecurityGroupRule…)
    │   ├── AvailabilityZoneNotFound
    │   └── PortBindingNotFound
    ├── Conflict                   409
    │   ├── InUse (NetworkInUse, SubnetInUse, SecurityGroupInUse, …CannotRemoveDefault,
    │   │          …CannotUpdateDefault, SecurityGroupDefaultAlreadyExists)
    │   ├── SecurityGroupRuleExists, PortSecurityAndIPRequiredForSecurityGroups
    │   ├── AddressPairAndPortSecurityRequired
    │   ├── IpAddressInUse, IpAddressAlreadyAllocated
    │   ├── IpAddressGenerationFailure
    │   ├── MacAddressInUse
    │   ├── SegmentationIdInUse
    │   └── PortBindingAlreadyActive, PortBindingAlreadyExists
    ├── PreconditionFailed         412
    ├── BackendUnavailable         503 (OVN NB could not be reached)
    └── ServiceUnavailable         503
        └── MacAddressGenerationFailure, NoNetworkAvailable
"""

from __future__ import annotations


class NeutrinoError(Exception):
    """Base of every expected error; `type` is the Neutron fault type name."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def type(self) -> str:
        return type(self).__name__


class BadRequest(NeutrinoError):
    pass


class InvalidInput(BadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(f"Invalid input for operation: {message}")


class NotAuthorized(NeutrinoError):
    pass


class NotFound(NeutrinoError):
    pass


class ResourceNotFound(NotFound):
    resource = "resource"

    def __init__(self, resource_id: str) -> None:
        super().__init__(f"{self.resource.capitalize()} {resource_id} could not be found.")
        self.resource_id = resource_id


class NetworkNotFound(ResourceNotFound):
    resource = "network"


class SubnetNotFound(ResourceNotFound):
    resource = "subnet"


class PortNotFound(ResourceNotFound):
    resource = "port"


class Conflict(NeutrinoError):
    pass


class InUse(Conflict):
    pass


class NetworkInUse(InUse):
    def __init__(self, net_id: str) -> None:
        super().__init__(
            f"Unable to complete operation on network {net_id}. "
            "There are one or more ports still in use on the network."
        )


class SubnetInUse(InUse):
    def __init__(self, subnet_id: str) -> None:
        super().__init__(
            f"Unable to complete operation on subnet {subnet_id}: "
            "One or more ports have an IP allocation from this subnet."
        )


class IpAddressInUse(Conflict):
    def __init__(self, ip_address: str, net_id: str) -> None:
        super().__init__(
            f"Unable to complete operation for network {net_id}. "
            f"The IP address {ip_address} is in use."
        )


class IpAddressAlreadyAllocated(Conflict):
    """An address asked for by value that another port holds (Neutron's IPAM answer)."""

    def __init__(self, ip_address: str, subnet_id: str) -> None:
        super().__init__(f"IP address {ip_address} already allocated in subnet {subnet_id}")


class IpAddressGenerationFailure(Conflict):
    def __init__(self, net_id: str) -> None:
        super().__init__(f"No more IP addresses available on network {net_id}.")


class MacAddressInUse(Conflict):
    def __init__(self, mac: str, net_id: str) -> None:
        super().__init__(
            f"Unable to complete operation for network {net_id}. "
            f"The mac address {mac} is in use."
        )


class SegmentationIdInUse(Conflict):
    pass


class PreconditionFailed(NeutrinoError):
    pass


class RevisionNumberConstraintFailed(PreconditionFailed):
    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"Constrained to {expected}, but current revision is {current}"
        )


class BackendUnavailable(NeutrinoError):
    """OVN (or another backend) could not be reached; callers may retry later."""


class ServiceUnavailable(NeutrinoError):
    """A request could not be served now (for example the database stayed busy)."""


class NoNetworkAvailable(ServiceUnavailable):
    """Neutron's ResourceExhausted: a 503, like MacAddressGenerationFailure."""

    def __init__(self) -> None:
        super().__init__("Unable to create the network. No tenant network is available for "
                         "allocation.")


class MacAddressGenerationFailure(ServiceUnavailable):
    """Neutron's fault (503) for a network with every MAC under the prefix taken."""

    def __init__(self, net_id: str) -> None:
        super().__init__(f"Unable to generate unique mac on network {net_id}.")


class AddressPairAndPortSecurityRequired(Conflict):
    def __init__(self) -> None:
        super().__init__("Port Security must be enabled in order to have allowed address pairs "
                         "on a port.")


class SecurityGroupNotFound(ResourceNotFound):
    resource = "security group"


class SecurityGroupRuleNotFound(ResourceNotFound):
    resource = "security group rule"


class SecurityGroupRuleExists(Conflict):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Security group rule already exists. Rule id is {rule_id}.")


class SecurityGroupEthertypeConflictWithProtocol(BadRequest):
    def __init__(self, ethertype: str, protocol: str | None) -> None:
        super().__init__(f"Invalid ethertype {ethertype} for protocol {protocol}.")


class SecurityGroupDefaultAlreadyExists(InUse):
    def __init__(self) -> None:
        super().__init__("Default security group already exists.")


class SecurityGroupCannotUpdateDefault(InUse):
    def __init__(self) -> None:
        super().__init__("Updating default security group not allowed.")


class SecurityGroupInUse(InUse):
    def __init__(self, sg_id: str) -> None:
        super().__init__(f"Security Group {sg_id} in use.")


class SecurityGroupCannotRemoveDefault(InUse):
    def __init__(self) -> None:
        super().__init__("Insufficient rights for removing default security group.")


class PortSecurityAndIPRequiredForSecurityGroups(Conflict):
    def __init__(self) -> None:
        super().__init__("Port security must be enabled and port must have an IP address in "
                         "order to use security groups.")


class RouterNotFound(ResourceNotFound):
    resource = "router"

    def __init__(self, router_id: str) -> None:
        NotFound.__init__(self, f"Router {router_id} could not be found")  # Neutron's words
        self.resource_id = router_id


class FloatingIPNotFound(ResourceNotFound):
    resource = "floating IP"

    def __init__(self, fip_id: str) -> None:
        NotFound.__init__(self, f"Floating IP {fip_id} could not be found")
        self.resource_id = fip_id


class AgentNotFound(ResourceNotFound):
    resource = "agent"


class AvailabilityZoneNotFound(NotFound):
    def __init__(self, zones: str) -> None:
        super().__init__(f"AvailabilityZone {zones} could not be found.")


class RouterInUse(InUse):
    def __init__(self, router_id: str) -> None:
        super().__init__(f"Router {router_id} still has ports")


class RouterInterfaceNotFound(NotFound):
    def __init__(self, router_id: str, port_id: str) -> None:
        super().__init__(f"Router {router_id} does not have an interface with id {port_id}")


class RouterInterfaceNotFoundForSubnet(NotFound):
    def __init__(self, router_id: str, subnet_id: str) -> None:
        super().__init__(f"Router {router_id} has no interface on subnet {subnet_id}")


class SubnetMismatchForPort(BadRequest):
    def __init__(self, port_id: str, subnet_id: str) -> None:
        super().__init__(f"Subnet on port {port_id} does not match the requested subnet "
                         f"{subnet_id}.")


class RouterInterfaceInUseByFloatingIP(InUse):
    def __init__(self, router_id: str, subnet_id: str) -> None:
        super().__init__(f"Router interface for subnet {subnet_id} on router {router_id} "
                         "cannot be deleted, as it is required by one or more floating IPs.")


class RouterInterfaceInUseByRoute(InUse):
    def __init__(self, router_id: str, subnet_id: str) -> None:
        super().__init__(f"Router interface for subnet {subnet_id} on router {router_id} "
                         "cannot be deleted, as it is required by one or more routes.")


class InvalidRoutes(BadRequest):
    def __init__(self, routes: object, reason: str) -> None:
        super().__init__(f"Invalid format for routes: {routes}, {reason}")


class GatewayIpInUse(InUse):
    def __init__(self, ip_address: str, port_id: str) -> None:
        super().__init__(f"Current gateway ip {ip_address} already in use by port {port_id}. "
                         "Unable to update.")


class ServicePortInUse(InUse):
    def __init__(self, port_id: str, reason: str) -> None:
        super().__init__(f"Port {port_id} cannot be deleted directly via the port API: "
                         f"{reason}.")


class FipAssociated(InUse):
    def __init__(self, port_id: str) -> None:
        super().__init__(f"Unable to complete the operation on port {port_id} because the "
                         "port still has an associated floating IP.")


class RouterExternalGatewayInUseByFloatingIp(InUse):
    def __init__(self, router_id: str, net_id: str) -> None:
        super().__init__(f"Gateway cannot be updated for router {router_id}, since a gateway "
                         f"to external network {net_id} is required by one or more floating "
                         "IPs.")


class ExternalGatewayForFloatingIPNotFound(NotFound):
    def __init__(self, subnet_id: str, external_network_id: str, port_id: str) -> None:
        super().__init__(f"External network {external_network_id} is not reachable from "
                         f"subnet {subnet_id}. Therefore, cannot associate Port {port_id} "
                         "with a Floating IP.")


class FloatingIPPortAlreadyAssociated(InUse):
    def __init__(self, floating_ip: str, fip_id: str, port_id: str, fixed_ip: str,
                 net_id: str) -> None:
        super().__init__(f"Cannot associate floating IP {floating_ip} ({fip_id}) with port "
                         f"{port_id} using fixed IP {fixed_ip}, as that fixed IP already has "
                         f"a floating IP on external network {net_id}.")


class PortInUse(InUse):
    def __init__(self, port_id: str, device_id: str) -> None:
        super().__init__(f"Unable to complete operation on port {port_id}, it is in use by "
                         f"device {device_id}.")


class BadRouterRequest(BadRequest):
    """Neutron's BadRequest(resource='router'): its fault type is plain BadRequest."""

    def __init__(self, router_id: str, reason: str) -> None:
        super().__init__(f"Bad router request: {reason}")
        self.router_id = router_id

    @property
    def type(self) -> str:
        return "BadRequest"


class PolicyNotAuthorized(NotAuthorized):
    def __init__(self, action: str) -> None:
        super().__init__(f"(rule:{action}) is disallowed by policy")
        self.action = action


class QuotaMissingTenant(BadRequest):
    def __init__(self) -> None:
        super().__init__("Tenant-id was missing from quota request.")


class OverQuota(Conflict):
    def __init__(self, resources: list[str]) -> None:
        super().__init__(f"Quota exceeded for resources: {resources}.")


class PortBindingNotFound(NotFound):
    def __init__(self, port_id: str, host: str) -> None:
        super().__init__(f"Binding for port {port_id} for host {host} could not be found.")


class PortBindingAlreadyActive(Conflict):
    def __init__(self, port_id: str, host: str) -> None:
        super().__init__(f"Binding for port {port_id} on host {host} is already active.")


class PortBindingAlreadyExists(Conflict):
    def __init__(self, port_id: str, host: str) -> None:
        super().__init__(f"Binding for port {port_id} on host {host} already exists.")


class AddressGroupNotFound(ResourceNotFound):
    resource = "address group"


class SubnetPoolNotFound(ResourceNotFound):
    resource = "subnet pool"


class AddressScopeNotFound(ResourceNotFound):
    resource = "address scope"


class AddressGroupInUse(InUse):
    def __init__(self, address_group_id: str) -> None:
        super().__init__(f"Address group {address_group_id} is in use on one or more "
                         "security group rules.")


class AddressesNotFound(NotFound):
    def __init__(self, addresses: list[str], address_group_id: str) -> None:
        super().__init__(f"Addresses {addresses} not found in the address group "
                         f"{address_group_id}.")


class AddressesAlreadyExist(BadRequest):
    def __init__(self, addresses: list[str], address_group_id: str) -> None:
        super().__init__(f"Addresses {addresses} already exist in the address group "
                         f"{address_group_id}.")


class SecurityGroupMultipleRemoteEntites(InvalidInput):  # Neutron's spelling
    def __init__(self) -> None:
        super().__init__("Only one of remote_ip_prefix or remote_group_id or "
                         "remote_address_group_id may be provided.")


# -- floating IP port forwarding (Neutron's portforwarding exceptions) ------------------------
class PortForwardingNotFound(ResourceNotFound):
    resource = "port forwarding"

    def __init__(self, pf_id: str) -> None:
        NotFound.__init__(self, f"Port Forwarding {pf_id} could not be found.")
        self.resource_id = pf_id


class PortForwardingNotSupportFilterField(BadRequest):
    def __init__(self, field: str) -> None:
        super().__init__(f"Port Forwarding filter {field} is not supported.")


class FipInUseByPortForwarding(InUse):
    def __init__(self, fip_id: str) -> None:
        super().__init__(f"Floating IP {fip_id} in use by Port Forwarding resources.")


class PortHasBindingFloatingIP(InUse):
    def __init__(self, floating_ip: str, fip_id: str, port_id: str, fixed_ip: str) -> None:
        super().__init__(f"Cannot create port forwarding to floating IP {floating_ip} "
                         f"({fip_id}) with port {port_id} using fixed IP {fixed_ip}, as that "
                         "port already has a binding floating IP.")
