"""Provider attributes: validating them and allocating geneve VNIs."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Segment
from neutrino.settings import Settings

NETWORK_TYPES = ("geneve", "flat", "vlan")
MAX_VLAN = 4094
MAX_VNI = 2**24 - 1
VNI_CANDIDATES = 64
_rng = random.SystemRandom()


@dataclass(frozen=True)
class SegmentRequest:
    network_type: str
    physical_network: str | None
    segmentation_id: int | None


PROVIDER_ATTRS = ("provider:network_type", "provider:physical_network",
                  "provider:segmentation_id")


def single_segment(body: dict[str, Any]) -> dict[str, Any]:
    """A create body's multi-provider `segments` as provider attributes. neutrino realises
    one segment per network (one Logical_Switch, at most one localnet port), so a list of
    one is the same network as its provider attributes, and a longer one is refused."""
    given = body.get("segments")
    if not given:
        return {k: v for k, v in body.items() if k != "segments"}
    if any(body.get(attr) is not None for attr in PROVIDER_ATTRS):
        raise errors.InvalidInput("Segments and provider values cannot both be set.")
    if len(given) > 1:
        if any(segment == given[0] for segment in given[1:]):
            raise errors.InvalidInput("Duplicate segment entry in request.")
        raise errors.InvalidInput("neutrino realises one segment per network: give one "
                                  "entry in segments")
    return {**{k: v for k, v in body.items() if k != "segments"}, **given[0]}


def segment_request(body: dict[str, Any]) -> SegmentRequest | None:
    """Validate the provider attributes of a network create; None when it gives none (a
    project network, of the first tenant network type that has one free)."""
    if all(body.get(attr) is None for attr in PROVIDER_ATTRS):
        return None
    net_type = body.get("provider:network_type") or "geneve"
    physnet = body.get("provider:physical_network") or None
    seg_id = body.get("provider:segmentation_id")
    if net_type not in NETWORK_TYPES:
        raise errors.InvalidInput(f"network_type value '{net_type}' not supported")
    if net_type == "geneve":
        if physnet:
            raise errors.InvalidInput("provider:physical_network specified for geneve network")
        _check_range(seg_id, 1, MAX_VNI, "geneve")
    elif net_type == "flat":
        if not physnet:
            raise errors.InvalidInput("physical_network required for flat provider network")
        if seg_id is not None:
            raise errors.InvalidInput("provider:segmentation_id specified for flat network")
    else:
        # Without an id (and perhaps without a physnet) one is allocated from the ranges.
        if seg_id is not None and not physnet:
            raise errors.InvalidInput(
                "segmentation_id requires physical_network for VLAN provider network")
        _check_range(seg_id, 1, MAX_VLAN, "vlan")
    return SegmentRequest(net_type, physnet, seg_id)


def _check_range(seg_id: int | None, low: int, high: int, kind: str) -> None:
    if seg_id is not None and not low <= seg_id <= high:
        raise errors.InvalidInput(
            f"segmentation_id out of range ({low} through {high}) for {kind} network"
        )


def segment_key(req: SegmentRequest) -> str:
    """Unique per physical binding: one flat network per physnet, one VLAN id per physnet."""
    if req.network_type == "geneve":
        return f"geneve:{req.segmentation_id}"
    if req.network_type == "flat":
        return f"flat:{req.physical_network}"
    return f"vlan:{req.physical_network}:{req.segmentation_id}"


def build_segment(session: Session, req: SegmentRequest | None,
                  settings: Settings) -> SegmentRequest:
    """Fill in a geneve VNI when none was asked for, and refuse a binding already taken.

    A VNI chosen here was free a moment ago; when a concurrent request commits it first, the
    unique segment key fails the insert and the transaction runs again, choosing anew. Only a
    value the client asked for is checked here, and answered with SegmentationIdInUse.
    """
    if req is None:
        return _tenant_segment(session, settings)
    if req.network_type == "geneve" and req.segmentation_id is None:
        return SegmentRequest("geneve", None, _free_vni(session, settings))
    if req.network_type == "vlan":
        _check_known_physnet(req.physical_network, settings)
        if req.segmentation_id is None:
            return SegmentRequest("vlan", *_free_vlan(session, settings, req.physical_network))
    taken = session.scalar(select(Segment.id).where(Segment.segment_key == segment_key(req)))
    if taken:
        raise errors.SegmentationIdInUse(_in_use_message(req))
    return req


def _tenant_segment(session: Session, settings: Settings) -> SegmentRequest:
    """ML2's tenant_network_types: the first type in order with a free segment."""
    for net_type in settings.tenant_network_types:
        try:
            if net_type == "vlan":
                return SegmentRequest("vlan", *_free_vlan(session, settings, None))
            return SegmentRequest("geneve", None, _free_vni(session, settings))
        except errors.NoNetworkAvailable:
            continue
    raise errors.NoNetworkAvailable()


def _in_use_message(req: SegmentRequest) -> str:
    if req.network_type == "flat":
        return (f"Unable to create the flat network. Physical network "
                f"{req.physical_network} is in use.")
    return (f"Unable to create the network. The {req.network_type} segmentation id "
            f"{req.segmentation_id} is in use" +
            (f" on physical network {req.physical_network}." if req.physical_network else "."))


def _free_vni(session: Session, settings: Settings) -> int:
    """A VNI at random among the lowest free ones (Neutron's way): requests that choose at
    the same moment rarely choose the same one."""
    low, high = settings.geneve_vni_range
    used = session.scalars(
        select(Segment.segmentation_id)
        .where(Segment.network_type == "geneve", Segment.segmentation_id.between(low, high))
        .order_by(Segment.segmentation_id)
    )
    candidates = lowest_free(low, high, used, VNI_CANDIDATES)
    if not candidates:
        raise errors.NoNetworkAvailable()
    return _rng.choice(candidates)


def _check_known_physnet(physnet: str | None, settings: Settings) -> None:
    """With VLAN ranges configured, a VLAN network's physnet must be one of theirs (ML2)."""
    if physnet and settings.vlan_ranges and physnet not in settings.vlan_ranges:
        raise errors.InvalidInput(f"physical_network '{physnet}' unknown for VLAN provider "
                                  "network")


def _free_vlan(session: Session, settings: Settings, physnet: str | None) -> tuple[str, int]:
    """A free VLAN id of the physnet's ranges (of any physnet's when none is named), at
    random among the lowest free ones. A concurrent request that commits the same one first
    makes the unique segment key fail, and this transaction runs again."""
    physnets = [physnet] if physnet else sorted(settings.vlan_ranges)
    for name in physnets:
        for low, high in settings.vlan_ranges.get(name or "", ()):
            used = session.scalars(
                select(Segment.segmentation_id)
                .where(Segment.network_type == "vlan", Segment.physical_network == name,
                       Segment.segmentation_id.between(low, high))
                .order_by(Segment.segmentation_id))
            candidates = lowest_free(low, high, used, VNI_CANDIDATES)
            if candidates:
                return name, _rng.choice(candidates)
    raise errors.NoNetworkAvailable()


def lowest_free(low: int, high: int, used: Iterable[int | None], count: int) -> list[int]:
    """Up to `count` values of [low, high] missing from `used` (ascending), lowest first."""
    free: list[int] = []
    candidate = low
    for value in itertools.chain(used, [high + 1]):
        if value is None or value < candidate:
            continue
        free.extend(range(candidate, min(value, high + 1, candidate + count - len(free))))
        if len(free) >= count or value > high:
            break
        candidate = value + 1
    return free
