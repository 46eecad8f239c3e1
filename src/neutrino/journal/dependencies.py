"""Journal ordering, declared as data.

`WAITS_FOR` says which resources an entry names as its parents when it is recorded: a
subnet waits for its network; a port for its network, the subnets of its addresses (its
switch port refers to their DHCP_Options) and its security groups (it joins their
Port_Groups); a rule for its group, its remote group and its remote address group; a
router interface port for its
router; a floating IP for its router and its port. The rule that makes deletes go
in reverse is the same table read backwards, so the two can never disagree: a delete
waits for every older unfinished entry that named the deleted resource as a parent
(ports before their network). A port whose DNS names change also journals an update of its
network (the network's DNS row is translated with it, services/dns.py); that entry needs no
parent: it waits, as every entry does, for the older entries of its own network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from neutrino.journal.types import ResourceType

WAITS_FOR: Mapping[ResourceType, frozenset[ResourceType]] = {
    ResourceType.NETWORK: frozenset(),
    ResourceType.SUBNET: frozenset({ResourceType.NETWORK}),
    # a router interface port also carries the router's Logical_Router_Port; a trunk's
    # subport names its parent's switch port (parent_name)
    ResourceType.PORT: frozenset(
        {ResourceType.NETWORK, ResourceType.SUBNET, ResourceType.SECURITY_GROUP,
         ResourceType.ROUTER, ResourceType.PORT}
    ),
    ResourceType.SECURITY_GROUP: frozenset(),
    # a rule's ACL lives in its group's Port_Group and may name a remote group's address
    # set or a remote address group's Address_Sets
    ResourceType.SECURITY_GROUP_RULE: frozenset({ResourceType.SECURITY_GROUP,
                                                 ResourceType.ADDRESS_GROUP}),
    # the gateway router's external port sits on the external network
    ResourceType.ROUTER: frozenset({ResourceType.NETWORK, ResourceType.SUBNET}),
    # a floating IP's NAT row, and its port forwardings' load balancers, live in its
    # router's gateway router, for a port's address (its fixed port; forwarded-to ports)
    ResourceType.FLOATING_IP: frozenset({ResourceType.ROUTER, ResourceType.PORT}),
    ResourceType.ADDRESS_GROUP: frozenset(),
    # service function chaining: a pair on its ports, a group on its pairs, a classifier on
    # its source and destination ports; a chain's policies live in the router its traffic
    # crosses and name that router's interface ports and the service functions' addresses
    ResourceType.PORT_PAIR: frozenset({ResourceType.PORT}),
    ResourceType.PORT_PAIR_GROUP: frozenset({ResourceType.PORT_PAIR}),
    ResourceType.FLOW_CLASSIFIER: frozenset({ResourceType.PORT}),
    ResourceType.PORT_CHAIN: frozenset(
        {ResourceType.PORT_PAIR_GROUP, ResourceType.FLOW_CLASSIFIER, ResourceType.PORT,
         ResourceType.ROUTER}),
    # an L2 gateway has no rows of its own; a connection's vtep ports live in its network's
    # switch and its VTEP rows name the gateway's devices
    ResourceType.L2_GATEWAY: frozenset(),
    ResourceType.L2_GATEWAY_CONNECTION: frozenset({ResourceType.NETWORK,
                                                   ResourceType.L2_GATEWAY}),
}


class UndeclaredDependency(ValueError):
    """A service named a parent type the table does not declare: a programming error."""


def parent_ids(
    resource_type: ResourceType, parents: Mapping[ResourceType, Iterable[str]]
) -> list[str]:
    """The ids an entry waits for, checked against the table."""
    undeclared = set(parents) - WAITS_FOR[resource_type]
    if undeclared:
        names = ", ".join(sorted(undeclared))
        raise UndeclaredDependency(f"{resource_type} may not wait for {names}")
    return sorted({rid for ids in parents.values() for rid in ids})

