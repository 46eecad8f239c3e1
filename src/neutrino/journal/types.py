"""Resource types, operations and entry states of the journal."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ResourceType(enum.StrEnum):
    NETWORK = "network"
    SUBNET = "subnet"
    PORT = "port"
    SECURITY_GROUP = "security_group"
    SECURITY_GROUP_RULE = "security_group_rule"
    ROUTER = "router"
    FLOATING_IP = "floating_ip"
    ADDRESS_GROUP = "address_group"
    PORT_PAIR = "port_pair"
    PORT_PAIR_GROUP = "port_pair_group"
    FLOW_CLASSIFIER = "flow_classifier"
    PORT_CHAIN = "port_chain"
    L2_GATEWAY = "l2_gateway"
    L2_GATEWAY_CONNECTION = "l2_gateway_connection"


class Operation(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class State(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


UNFINISHED = (State.PENDING, State.PROCESSING, State.FAILED)


@dataclass(frozen=True, order=True)
class ResourceRef:
    type: ResourceType
    id: str

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"
