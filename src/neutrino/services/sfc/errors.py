"""networking-sfc's faults, by the names and status codes networking-sfc answers with.

    NotFound (404): PortPairNotFound, PortPairGroupNotFound, PortChainNotFound,
        FlowClassifierNotFound, PortPairPortNotFound, FlowClassifierPortNotFound
    InUse (409): PortPairInUse, PortPairGroupInUse, FlowClassifierInUse, InvalidPortPairGroups
    InvalidInput (400): PortPairIngressEgressInUse, PortPairGroupNotSpecified,
        PortChainChainIdInConflict, PortChainFlowClassifierInConflict, FlowClassifier* checks,
        and what this OVN cannot realise (SfcNotRealisable)
"""

from __future__ import annotations

from neutrino import errors


class _SfcNotFound(errors.NotFound):
    what = ""

    def __init__(self, resource_id: str) -> None:
        super().__init__(f"{self.what} {resource_id} not found.")
        self.resource_id = resource_id


class PortPairNotFound(_SfcNotFound):
    what = "Port Pair"


class PortPairGroupNotFound(_SfcNotFound):
    what = "Port Pair Group"


class PortChainNotFound(_SfcNotFound):
    what = "Port Chain"


class FlowClassifierNotFound(_SfcNotFound):
    what = "Flow Classifier"


class PortPairPortNotFound(_SfcNotFound):
    what = "Port Pair port"


class FlowClassifierPortNotFound(_SfcNotFound):
    what = "Flow Classifier Neutron Port"


class _SfcInUse(errors.InUse):
    what = ""

    def __init__(self, resource_id: str) -> None:
        super().__init__(f"{self.what} {resource_id} in use.")


class PortPairInUse(_SfcInUse):
    what = "Port Pair"


class PortPairGroupInUse(_SfcInUse):
    what = "Port Pair Group"


class FlowClassifierInUse(_SfcInUse):
    what = "Flow Classifier"


class InvalidPortPairGroups(errors.InUse):
    def __init__(self, group_ids: str, chain_id: str) -> None:
        super().__init__(f"Port Pair Group(s) {group_ids} in use by Port Chain {chain_id}.")


class _SfcInvalid(errors.InvalidInput):
    pass


class PortPairIngressEgressInUse(_SfcInvalid):
    def __init__(self, ingress: str, egress: str, pair_id: str) -> None:
        super().__init__(f"Port Pair with ingress port {ingress} and egress port {egress} is "
                         f"already used by another Port Pair {pair_id}.")


class PortPairGroupNotSpecified(_SfcInvalid):
    def __init__(self) -> None:
        super().__init__("Port Pair Group is not specified in Port Chain.")


class PortChainChainIdInConflict(_SfcInvalid):
    def __init__(self, chain_id: int, other: str) -> None:
        super().__init__(f"Chain id {chain_id} conflicts with Chain id in port chain {other}.")


class PortChainUnavailableChainId(_SfcInvalid):
    def __init__(self) -> None:
        super().__init__("Port Chain: no available chain id.")


class PortChainFlowClassifierInConflict(_SfcInvalid):
    def __init__(self, fc_id: str, other_fc: str, chain_id: str) -> None:
        super().__init__(f"Flow Classifier {fc_id} conflicts with Flow Classifier {other_fc} "
                         f"in port chain {chain_id}.")


class FlowClassifierInvalidProtocol(_SfcInvalid):
    def __init__(self, protocol: object) -> None:
        super().__init__(f"Flow Classifier does not support protocol {protocol}. Supported "
                         "protocol values are ['tcp', 'udp', 'icmp'].")


class FlowClassifierInvalidEthertype(_SfcInvalid):
    def __init__(self, ethertype: object) -> None:
        super().__init__(f"Flow Classifier does not support ethertype {ethertype}. Supported "
                         "ethertype values are ['IPv4', 'IPv6'].")


class FlowClassifierInvalidPortValue(_SfcInvalid):
    def __init__(self, port: object) -> None:
        super().__init__(f"Flow Classifier has invalid port value {port}.")


class FlowClassifierInvalidPortRange(_SfcInvalid):
    def __init__(self, low: int, high: int) -> None:
        super().__init__(f"Invalid IP protocol port range. min_port_range={low} must be "
                         f"lesser or equal to max_port_range={high}.")


class FlowClassifierProtocolRequiredWithPorts(_SfcInvalid):
    def __init__(self) -> None:
        super().__init__("IP protocol must be TCP or UDP, if port range is given.")


class FlowClassifierIpPrefixFormatConflictWithEthertype(_SfcInvalid):
    def __init__(self, prefix: str, ethertype: str) -> None:
        super().__init__(f"IP prefix {prefix} format conflicts with ethertype {ethertype}.")


class FlowClassifierInvalidL7Parameter(_SfcInvalid):
    def __init__(self, detail: str) -> None:
        super().__init__(f"Invalid Flow Classifier parameters: {detail}. Supported flow "
                         "classifier parameters are {}.")


class SfcNotRealisable(errors.BadRequest):
    """Valid for networking-sfc, but nothing this OVN can realise: refused rather than
    accepted and silently ignored."""
