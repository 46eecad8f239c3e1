"""SQLAlchemy models: the source of truth that OVN Northbound is kept in step with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

UUID_LEN = 36
NAME_LEN = 255
FQDN_LEN = 255  # neutron-lib FQDN_FIELD_SIZE


class Base(DeclarativeBase):
    pass


class StandardAttrs:
    """Columns every Neutron resource has (standard attributes)."""

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    description: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Tag(Base):
    __tablename__ = "tags"

    resource_id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    tag: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(32))



def tagged(owner: str) -> Mapped[list[Tag]]:
    """The tags of a resource: rows of the shared `tags` table keyed by its id."""
    return relationship(
        Tag,
        primaryjoin=f"foreign(Tag.resource_id) == {owner}.id",
        overlaps="tags",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by=Tag.tag,
    )


class RbacPolicy(Base):
    """Who else may use an object: `action` on object `object_type`/`object_id` granted to
    `target_project` (a project id, or `*` for every project) by `project_id`. One table for
    every object type, as the API has one collection (services/rbac_types.py lists them)."""

    __tablename__ = "rbac_policies"
    __table_args__ = (UniqueConstraint("object_type", "object_id", "action", "target_project",
                                       name="uniq_rbac_policies_grant"),)

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(UUID_LEN), index=True)
    action: Mapped[str] = mapped_column(String(NAME_LEN))
    target_project: Mapped[str] = mapped_column(String(NAME_LEN), index=True)


def rbac_entries(owner: str, object_type: str) -> Mapped[list[RbacPolicy]]:
    """The RBAC policies on a resource: rows of the shared `rbac_policies` table keyed by its
    id and type; they go when the resource goes."""
    return relationship(
        RbacPolicy,
        primaryjoin=f"and_(foreign(RbacPolicy.object_id) == {owner}.id, "
                    f"RbacPolicy.object_type == '{object_type}')",
        overlaps="rbac_entries",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by=RbacPolicy.id,
    )


class Network(StandardAttrs, Base):
    __tablename__ = "networks"

    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    router_external: Mapped[bool] = mapped_column(Boolean, default=False)
    mtu: Mapped[int] = mapped_column(Integer)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_zone_hints: Mapped[list[str]] = mapped_column(JSON, default=list)
    dns_domain: Mapped[str] = mapped_column(String(FQDN_LEN), default="")  # dns-integration
    qos_policy_id: Mapped[str | None] = mapped_column(String(UUID_LEN), nullable=True, index=True)

    segment: Mapped[Segment] = relationship(
        back_populates="network", lazy="selectin", uselist=False, cascade="all, delete-orphan"
    )
    subnets: Mapped[list[Subnet]] = relationship(
        back_populates="network", lazy="selectin", order_by="Subnet.created_at"
    )
    tags: Mapped[list[Tag]] = tagged("Network")
    rbac_entries: Mapped[list[RbacPolicy]] = rbac_entries("Network", "network")


class Segment(Base):
    """The network's one segment; `segment_key` makes provider bindings unique."""

    __tablename__ = "network_segments"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), unique=True
    )
    network_type: Mapped[str] = mapped_column(String(16))
    physical_network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    segment_key: Mapped[str] = mapped_column(String(128), unique=True)

    network: Mapped[Network] = relationship(back_populates="segment")


class Subnet(StandardAttrs, Base):
    __tablename__ = "subnets"

    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id"), index=True)
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dns_nameservers: Mapped[list[str]] = mapped_column(JSON, default=list)
    host_routes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    allocation_pools: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    dhcp_server_mac: Mapped[str] = mapped_column(String(32))
    subnetpool_id: Mapped[str | None] = mapped_column(
        ForeignKey("subnetpools.id"), nullable=True, index=True)
    # device owners this subnet gives addresses to (empty: every owner), subnet-service-types
    service_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    dns_publish_fixed_ip: Mapped[bool] = mapped_column(Boolean, default=False)

    network: Mapped[Network] = relationship(back_populates="subnets")
    subnetpool: Mapped[SubnetPool | None] = relationship(lazy="selectin")
    tags: Mapped[list[Tag]] = tagged("Subnet")


class Port(StandardAttrs, Base):
    __tablename__ = "ports"
    __table_args__ = (
        UniqueConstraint("network_id", "mac_address", name="uniq_ports_net_mac"),
        # a project's page in id order reads only its rows (0025). PostgreSQL pages in
        # code-point order (`id COLLATE "C"`, keyset.sort_key), which an index in the
        # database's collation cannot serve: there the indexes are on that order (0026)
        Index("ix_ports_project_id_id", "project_id", "id").ddl_if(dialect="sqlite"),
        Index("ix_ports_project_id_id_c", "project_id", text('id COLLATE "C"')
              ).ddl_if(dialect="postgresql"),
        Index("ix_ports_id_c", text('id COLLATE "C"')).ddl_if(dialect="postgresql"),
        # device_id filters, a project's caller's too (0025)
        Index("ix_ports_device_id_project_id_id", "device_id", "project_id", "id"),
    )

    # no index of their own: the unique key's and the page index's first columns serve a
    # lookup by network or by project, and every port write paid for the repeat (0028)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN))
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id"))
    mac_address: Mapped[str] = mapped_column(String(32))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    device_owner: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    binding_host_id: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    binding_profile: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    binding_vnic_type: Mapped[str] = mapped_column(String(32), default="normal")
    binding_vif_type: Mapped[str] = mapped_column(String(32), default="unbound")
    binding_vif_details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_address_pairs: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    extra_dhcp_opts: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    device_profile: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    numa_affinity_policy: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # dns-integration, dns-domain-ports; the domain its names are published under (0021)
    dns_name: Mapped[str] = mapped_column(String(FQDN_LEN), default="")
    dns_domain: Mapped[str] = mapped_column(String(FQDN_LEN), default="")
    dns_current_domain: Mapped[str] = mapped_column(String(FQDN_LEN), default="")
    qos_policy_id: Mapped[str | None] = mapped_column(String(UUID_LEN), nullable=True, index=True)

    security_group_bindings: Mapped[list[PortSecurityGroup]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="PortSecurityGroup.position",
    )
    fixed_ips: Mapped[list[IpAllocation]] = relationship(
        back_populates="port",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="IpAllocation.position",
    )
    # passive_deletes: the database's ON DELETE CASCADE removes them with the port, so a
    # port's deletion does not load them only to delete them
    inactive_bindings: Mapped[list[InactiveBinding]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="InactiveBinding.host",
        passive_deletes=True)
    tags: Mapped[list[Tag]] = tagged("Port")
    # trunks: the trunk this port is the parent of, and its place as a subport
    trunk: Mapped[Trunk | None] = relationship(
        "Trunk", primaryjoin="Port.id == foreign(Trunk.port_id)", viewonly=True,
        lazy="selectin", uselist=False)
    subport: Mapped[TrunkSubport | None] = relationship(
        "TrunkSubport", primaryjoin="Port.id == foreign(TrunkSubport.port_id)",
        viewonly=True, lazy="selectin", uselist=False)


class InactiveBinding(Base):
    """A binding of a port to another host than its active one (binding-extended): Nova
    creates it for a live migration's destination and activates it when the VM moves."""

    __tablename__ = "compute_port_bindings"

    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    vnic_type: Mapped[str] = mapped_column(String(32), default="normal")
    profile: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    vif_type: Mapped[str] = mapped_column(String(32), default="unbound")
    vif_details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # the source of a finished migration (demoted by an activation), not a destination
    previously_active: Mapped[bool] = mapped_column(Boolean, default=False)


class IpAllocation(Base):
    """One address of a port; the primary key is what makes an address unique per subnet."""

    __tablename__ = "ip_allocations"

    subnet_id: Mapped[str] = mapped_column(ForeignKey("subnets.id"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[str] = mapped_column(String(UUID_LEN), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    port: Mapped[Port] = relationship(back_populates="fixed_ips")


class JournalEntry(Base):
    """One change OVN must learn; typed columns, never an opaque payload."""

    __tablename__ = "journal"
    __table_args__ = (
        # the entries in one state, in order: a claim's window of the oldest pending ones
        # (journal/claim.py), the claims to renew or reclaim, the completed ones to purge
        Index("ix_journal_state_seq", "state", "seq"),
        Index("ix_journal_resource", "resource_id", "state"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(UUID_LEN))
    operation: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    depends_on: Mapped[list[JournalDependency]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )


class JournalDependency(Base):
    """Entry `seq` may not be applied while an older entry about `resource_id` is unfinished."""

    __tablename__ = "journal_dependencies"

    seq: Mapped[int] = mapped_column(
        ForeignKey("journal.seq", ondelete="CASCADE"), primary_key=True
    )
    resource_id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True, index=True)


class SecurityGroup(StandardAttrs, Base):
    __tablename__ = "security_groups"

    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    stateful: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    rules: Mapped[list[SecurityGroupRule]] = relationship(
        back_populates="security_group",
        lazy="selectin",
        cascade="all, delete-orphan",
        foreign_keys="SecurityGroupRule.security_group_id",
        order_by="SecurityGroupRule.created_at",
    )
    tags: Mapped[list[Tag]] = tagged("SecurityGroup")
    rbac_entries: Mapped[list[RbacPolicy]] = rbac_entries("SecurityGroup", "security_group")


class DefaultSecurityGroup(Base):
    """One `default` group per project; the primary key makes concurrent first uses safe."""

    __tablename__ = "default_security_groups"

    project_id: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE"), unique=True
    )


class SecurityGroupRule(Base):
    __tablename__ = "security_group_rules"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    description: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(8))
    protocol: Mapped[str | None] = mapped_column(String(32), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # no foreign key: the address group service refuses to delete a group in use (409)
    remote_address_group_id: Mapped[str | None] = mapped_column(
        String(UUID_LEN), nullable=True, index=True
    )

    security_group: Mapped[SecurityGroup] = relationship(
        back_populates="rules", foreign_keys=[security_group_id]
    )


class DefaultSecurityGroupRule(Base):
    """A template for the rules of new groups (security-groups-default-rules): the project's
    `default` group takes those `used_in_default_sg`, other new groups those
    `used_in_non_default_sg`; `remote_group_id` "PARENT" names the new group itself."""

    __tablename__ = "sg_default_rule_templates"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    description: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(8))
    protocol: Mapped[str | None] = mapped_column(String(32), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(String(UUID_LEN), nullable=True)
    remote_address_group_id: Mapped[str | None] = mapped_column(String(UUID_LEN), nullable=True)
    used_in_default_sg: Mapped[bool] = mapped_column(Boolean, default=False)
    used_in_non_default_sg: Mapped[bool] = mapped_column(Boolean, default=False)


class AddressGroup(StandardAttrs, Base):
    """A named set of CIDRs that security group rules may name as their remote."""

    __tablename__ = "address_groups"

    addresses: Mapped[list[AddressGroupAddress]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="AddressGroupAddress.address"
    )


class AddressGroupAddress(Base):
    __tablename__ = "address_group_addresses"

    address_group_id: Mapped[str] = mapped_column(
        ForeignKey("address_groups.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(64), primary_key=True)


class PortSecurityGroup(Base):
    __tablename__ = "port_security_groups"

    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True
    )
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Leadership(Base):
    """Who runs a singleton job (maintenance) across nodes, until when."""

    __tablename__ = "leadership"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(NAME_LEN))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Router(StandardAttrs, Base):
    __tablename__ = "routers"

    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    # indexed: deleting any port looks here for routers to set NULL (a scan without it)
    gw_port_id: Mapped[str | None] = mapped_column(
        ForeignKey("ports.id", ondelete="SET NULL"), nullable=True, index=True
    )
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True)
    # The chassis the gateway router is bound to; chosen by a scheduler, persisted so that
    # translation stays a pure function of the database.
    gateway_chassis: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    # Every gateway chassis by falling priority (the first is gateway_chassis): a distributed
    # gateway port's HA_Chassis_Group, kept in both L3 modes so that either can take over.
    gateway_ha_chassis: Mapped[list[str]] = mapped_column(JSON, default=list)
    routes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    availability_zone_hints: Mapped[list[str]] = mapped_column(JSON, default=list)

    gw_port: Mapped[Port | None] = relationship(lazy="selectin", foreign_keys=[gw_port_id])
    tags: Mapped[list[Tag]] = tagged("Router")


class FloatingIp(Base):
    __tablename__ = "floating_ips"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    description: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    floating_network_id: Mapped[str] = mapped_column(ForeignKey("networks.id"), index=True)
    floating_port_id: Mapped[str] = mapped_column(ForeignKey("ports.id"), unique=True)
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    port_id: Mapped[str | None] = mapped_column(
        ForeignKey("ports.id", ondelete="SET NULL"), nullable=True, index=True
    )
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    router_id: Mapped[str | None] = mapped_column(
        ForeignKey("routers.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="DOWN")

    fixed_port: Mapped[Port | None] = relationship(lazy="selectin", foreign_keys=[port_id],
                                                   viewonly=True)
    tags: Mapped[list[Tag]] = tagged("FloatingIp")
    port_forwardings: Mapped[list[PortForwarding]] = relationship(
        lazy="selectin", viewonly=True,
        order_by="PortForwarding.created_at, PortForwarding.id")


class PortForwarding(Base):
    """A floating IP's external port range (per protocol) sent to an internal port's IPv4
    address and port range; Neutron's table and unique constraints."""

    __tablename__ = "pf_port_forwardings"
    __table_args__ = (
        UniqueConstraint("floatingip_id", "protocol", "external_port_start",
                         "external_port_end", name="uniq_pf_fip_protocol_external"),
        UniqueConstraint("protocol", "internal_port_id", "internal_ip_address",
                         "internal_port_start", "internal_port_end",
                         name="uniq_pf_protocol_internal"),
    )

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    description: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    revision_number: Mapped[int] = mapped_column(Integer, default=1)  # for If-Match only
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    floatingip_id: Mapped[str] = mapped_column(
        ForeignKey("floating_ips.id", ondelete="CASCADE"), index=True)
    internal_port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), index=True)
    internal_ip_address: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(40))
    internal_port_start: Mapped[int] = mapped_column(Integer)
    internal_port_end: Mapped[int] = mapped_column(Integer)
    external_port_start: Mapped[int] = mapped_column(Integer)
    external_port_end: Mapped[int] = mapped_column(Integer)


class Quota(Base):
    """A project's limit for one resource, where it differs from the configured default."""

    __tablename__ = "quotas"

    project_id: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)


class QuotaLock(Base):
    """One row per project, locked by every create that counts against its quotas, so that
    concurrent creates on PostgreSQL cannot both pass the same last free unit."""

    __tablename__ = "quota_locks"

    project_id: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)


class AddressScope(Base):
    """A set of subnet pools whose prefixes never overlap (Neutron's model has no standard
    attributes: no description, tags, revision or timestamps)."""

    __tablename__ = "address_scopes"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    ip_version: Mapped[int] = mapped_column(Integer)

    rbac_entries: Mapped[list[RbacPolicy]] = rbac_entries("AddressScope", "address_scope")


class SubnetPool(StandardAttrs, Base):
    """Prefixes subnets are allocated from; `prefixes` is kept merged (fewest CIDRs)."""

    __tablename__ = "subnetpools"
    # At most one default pool per IP version, also between concurrent creates (PostgreSQL).
    # Partial on PostgreSQL too (migration 0010, and `_partial_on_postgresql` for
    # `create_all`): a `postgresql_where` here would make importing the models load
    # SQLAlchemy's PostgreSQL dialect, 60-75 ms of every SQLite server's start.
    __table_args__ = (Index("uniq_subnetpools_default", "ip_version", unique=True,
                            sqlite_where=text("is_default")),)

    ip_version: Mapped[int] = mapped_column(Integer)
    prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_prefixlen: Mapped[int] = mapped_column(Integer)
    min_prefixlen: Mapped[int] = mapped_column(Integer)
    max_prefixlen: Mapped[int] = mapped_column(Integer)
    default_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    address_scope_id: Mapped[str | None] = mapped_column(
        ForeignKey("address_scopes.id"), nullable=True, index=True)

    tags: Mapped[list[Tag]] = tagged("SubnetPool")
    rbac_entries: Mapped[list[RbacPolicy]] = rbac_entries("SubnetPool", "subnetpool")


# -- service function chaining (networking-sfc's resources) ----------------------------------
class SfcPortPair(StandardAttrs, Base):
    """A service function's ingress and egress ports (no foreign keys to ports: a deleted
    port leaves the pair, and its chain reports the hop as unsteerable)."""

    __tablename__ = "sfc_port_pairs"
    __table_args__ = (UniqueConstraint("ingress", "egress", name="uniq_sfc_pair_ports"),)

    ingress: Mapped[str] = mapped_column(String(UUID_LEN), index=True)
    egress: Mapped[str] = mapped_column(String(UUID_LEN), index=True)
    correlation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    # a pair is in one group at most
    group_id: Mapped[str | None] = mapped_column(
        ForeignKey("sfc_port_pair_groups.id"), nullable=True, index=True)
    tags: Mapped[list[Tag]] = tagged("SfcPortPair")


class SfcPortPairGroup(StandardAttrs, Base):
    __tablename__ = "sfc_port_pair_groups"

    group_id: Mapped[int] = mapped_column(Integer, unique=True)
    lb_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    n_tuple_mapping: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    tap_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    port_pairs: Mapped[list[SfcPortPair]] = relationship(
        lazy="selectin", order_by="SfcPortPair.created_at, SfcPortPair.id")
    tags: Mapped[list[Tag]] = tagged("SfcPortPairGroup")


class SfcFlowClassifier(StandardAttrs, Base):
    __tablename__ = "sfc_flow_classifiers"

    ethertype: Mapped[str] = mapped_column(String(8), default="IPv4")
    protocol: Mapped[str | None] = mapped_column(String(8), nullable=True)
    source_port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    destination_port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    destination_port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    destination_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    logical_source_port: Mapped[str | None] = mapped_column(
        String(UUID_LEN), nullable=True, index=True)
    logical_destination_port: Mapped[str | None] = mapped_column(
        String(UUID_LEN), nullable=True, index=True)
    l7_parameters: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[Tag]] = tagged("SfcFlowClassifier")


class SfcChainGroup(Base):
    """A group's place in a chain; a group is in one chain at most."""

    __tablename__ = "sfc_chain_groups"

    chain_id: Mapped[str] = mapped_column(
        ForeignKey("sfc_port_chains.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(
        ForeignKey("sfc_port_pair_groups.id"), primary_key=True, unique=True)
    position: Mapped[int] = mapped_column(Integer)


class SfcChainClassifier(Base):
    """A classifier of a chain; a classifier is in one chain at most."""

    __tablename__ = "sfc_chain_classifiers"

    chain_id: Mapped[str] = mapped_column(
        ForeignKey("sfc_port_chains.id", ondelete="CASCADE"), primary_key=True)
    classifier_id: Mapped[str] = mapped_column(
        ForeignKey("sfc_flow_classifiers.id"), primary_key=True, unique=True)
    position: Mapped[int] = mapped_column(Integer)


class SfcPortChain(StandardAttrs, Base):
    __tablename__ = "sfc_port_chains"

    chain_id: Mapped[int] = mapped_column(Integer, unique=True)
    correlation: Mapped[str] = mapped_column(String(16), default="mpls")
    symmetric: Mapped[bool] = mapped_column(Boolean, default=False)
    groups: Mapped[list[SfcChainGroup]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by=SfcChainGroup.position)
    classifiers: Mapped[list[SfcChainClassifier]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by=SfcChainClassifier.position)
    tags: Mapped[list[Tag]] = tagged("SfcPortChain")


class Trunk(StandardAttrs, Base):
    """A parent port carrying other ports' traffic as VLANs (Neutron's trunk)."""

    __tablename__ = "trunks"

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id"), unique=True)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    sub_ports: Mapped[list[TrunkSubport]] = relationship(
        lazy="selectin", cascade="all, delete-orphan",
        order_by="TrunkSubport.segmentation_id, TrunkSubport.port_id")
    tags: Mapped[list[Tag]] = tagged("Trunk")


class TrunkSubport(Base):
    """A port in a trunk, told apart on the parent by its segmentation (a VLAN id)."""

    __tablename__ = "trunk_subports"
    __table_args__ = (UniqueConstraint("trunk_id", "segmentation_type", "segmentation_id",
                                       name="uniq_trunk_subports_segmentation"),)

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id"), primary_key=True)
    trunk_id: Mapped[str] = mapped_column(
        ForeignKey("trunks.id", ondelete="CASCADE"), index=True)
    segmentation_type: Mapped[str] = mapped_column(String(32))
    segmentation_id: Mapped[int] = mapped_column(Integer)
    trunk: Mapped[Trunk] = relationship(viewonly=True, lazy="selectin")
    port: Mapped[Port] = relationship(viewonly=True, lazy="selectin")


# -- QoS (Neutron's qos extension) ------------------------------------------------------------
class QosPolicy(StandardAttrs, Base):
    """A QoS policy; ports, networks and router gateways name it by `qos_policy_id` (no
    foreign key: deleting a policy in use is refused by the service, as Neutron does)."""

    __tablename__ = "qos_policies"

    # `shared` is an access_as_shared RBAC policy to every project (rbac-policies)
    rbac_entries: Mapped[list[RbacPolicy]] = rbac_entries("QosPolicy", "qos_policy")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    bandwidth_limit_rules: Mapped[list[QosBandwidthLimitRule]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="QosBandwidthLimitRule.id")
    dscp_marking_rules: Mapped[list[QosDscpMarkingRule]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="QosDscpMarkingRule.id")
    tags: Mapped[list[Tag]] = tagged("QosPolicy")


class QosBandwidthLimitRule(Base):
    """One per policy and direction (egress: from the port, ingress: to it)."""

    __tablename__ = "qos_bandwidth_limit_rules"
    __table_args__ = (UniqueConstraint("qos_policy_id", "direction",
                                       name="uniq_qos_bw_policy_direction"),)

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    qos_policy_id: Mapped[str] = mapped_column(
        ForeignKey("qos_policies.id", ondelete="CASCADE"), index=True)
    max_kbps: Mapped[int] = mapped_column(Integer)
    max_burst_kbps: Mapped[int] = mapped_column(Integer, default=0)
    direction: Mapped[str] = mapped_column(String(8), default="egress")


class QosDscpMarkingRule(Base):
    """One per policy (unique policy id)."""

    __tablename__ = "qos_dscp_marking_rules"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    qos_policy_id: Mapped[str] = mapped_column(
        ForeignKey("qos_policies.id", ondelete="CASCADE"), index=True, unique=True)
    dscp_mark: Mapped[int] = mapped_column(Integer)


# -- L2 gateways (networking-l2gw's resources) -----------------------------------------------
class L2gwGateway(StandardAttrs, Base):
    """A gateway: its devices (physical switches) and their interfaces, as given, each device
    with an id of its own: [{id, device_name, interfaces: [{name, segmentation_id: [..]}]}]."""

    __tablename__ = "l2gw_gateways"

    devices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class L2gwConnection(StandardAttrs, Base):
    """A network reachable through every device of a gateway (on the interfaces' VLANs, or
    on `segmentation_id` where the interfaces name none). A deleted network takes its
    connections with it."""

    __tablename__ = "l2gw_connections"
    __table_args__ = (UniqueConstraint("gateway_id", "network_id", name="uniq_l2gw_mapping"),)

    gateway_id: Mapped[str] = mapped_column(ForeignKey("l2gw_gateways.id"), index=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    segmentation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class VtepLearnedMac(Base):
    """A MAC a VTEP switch learnt on one of its logical switches (a Ucast_Macs_Local row),
    imported by maintenance so that the `vtep` switch port in OVN lists it."""

    __tablename__ = "vtep_learned_macs"

    physical_switch: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    logical_switch: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    mac: Mapped[str] = mapped_column(String(17), primary_key=True)


@event.listens_for(Base.metadata, "before_create")
def _partial_on_postgresql(_metadata: MetaData, connection: Connection, **_: Any) -> None:
    """`create_all` on PostgreSQL makes the default pools' index partial, as migration 0010
    does (the dialect is loaded by then: it is the connection's)."""
    if connection.dialect.name == "postgresql":
        index = next(i for i in SubnetPool.__table__.indexes
                     if i.name == "uniq_subnetpools_default")
        index.dialect_options["postgresql"]["where"] = text("is_default")
