"""Flow classifiers: which traffic enters a chain (networking-sfc's checks, in its words)."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import SfcChainClassifier, SfcFlowClassifier
from neutrino.journal.parents import flow_classifier_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services import quotas
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    apply_simple_updates,
    bump_revision,
    check_revision,
    new_id,
    run_and_wake,
    standard_fields,
)
from neutrino.services.context import Context
from neutrino.services.listing import ListSpec, standard_columns
from neutrino.services.sfc import errors as sfc_errors
from neutrino.services.sfc.common import get_port, get_sfc_row, store_new

CLASSIFIER = ResourceType.FLOW_CLASSIFIER
PROTOCOLS = ("tcp", "udp", "icmp")
ETHERTYPES = ("IPv4", "IPv6")
PORT_FIELDS = ("source_port_range_min", "source_port_range_max",
               "destination_port_range_min", "destination_port_range_max")
MATCH_FIELDS = ("ethertype", "protocol", *PORT_FIELDS, "source_ip_prefix",
                "destination_ip_prefix", "logical_source_port", "logical_destination_port")


def classifier_dict(fc: SfcFlowClassifier) -> dict[str, Any]:
    return {**standard_fields(fc), **{f: getattr(fc, f) for f in MATCH_FIELDS},
            "l7_parameters": dict(fc.l7_parameters or {})}


def get_classifier_row(session: Session, ctx: Context, fc_id: str) -> SfcFlowClassifier:
    return get_sfc_row(session, ctx, SfcFlowClassifier, fc_id,
                       sfc_errors.FlowClassifierNotFound)


class FlowClassifierService(ResourceService):
    model = SfcFlowClassifier
    listing = ListSpec(SfcFlowClassifier, {**standard_columns(SfcFlowClassifier),
                                           **{f: getattr(SfcFlowClassifier, f)
                                              for f in MATCH_FIELDS}})

    def to_dict(self, row: SfcFlowClassifier) -> dict[str, Any]:
        return classifier_dict(row)

    def _create_one(self, session: Session, ctx: Context,
                    body: dict[str, Any]) -> SfcFlowClassifier:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_flow_classifier", {"project_id": project})
        quotas.check(session, self.settings, project, "flow_classifier")
        values = normalized(body)
        for field in ("logical_source_port", "logical_destination_port"):
            if values[field]:
                get_port(session, ctx, values[field], sfc_errors.FlowClassifierPortNotFound)
        fc = SfcFlowClassifier(id=new_id(), name=body.get("name") or "",
                               description=body.get("description") or "", l7_parameters={},
                               **values)
        store_new(session, fc, CLASSIFIER, project, body.get("tags"))
        record_entry(session, CLASSIFIER, fc.id, Operation.CREATE, flow_classifier_parents(fc))
        return fc

    def get(self, ctx: Context, fc_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return classifier_dict(get_classifier_row(session, ctx, fc_id))

    def update(self, ctx: Context, fc_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            fc = get_classifier_row(session, ctx, fc_id)
            policy.enforce(ctx, "update_flow_classifier", {"project_id": fc.project_id})
            check_revision(fc, if_match)
            texts = {k: v or "" for k, v in body.items()}
            if apply_simple_updates(fc, texts, {"name": "name", "description": "description"}):
                bump_revision(session, fc, CLASSIFIER, flow_classifier_parents(fc))
            return classifier_dict(fc)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, fc_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            fc = get_classifier_row(session, ctx, fc_id)
            policy.enforce(ctx, "delete_flow_classifier", {"project_id": fc.project_id})
            check_revision(fc, if_match)
            if session.scalar(select(SfcChainClassifier.chain_id).where(
                    SfcChainClassifier.classifier_id == fc.id)):
                raise sfc_errors.FlowClassifierInUse(fc.id)
            parents = flow_classifier_parents(fc)
            session.delete(fc)
            record_entry(session, CLASSIFIER, fc.id, Operation.DELETE, parents)

        run_and_wake(self.db.write, self.wakeup, txn)


def normalized(body: dict[str, Any]) -> dict[str, Any]:
    """networking-sfc's normalisation and checks of a classifier's match fields."""
    if body.get("l7_parameters"):
        key = next(iter(body["l7_parameters"]))
        raise sfc_errors.FlowClassifierInvalidL7Parameter(f"Unknown key {key}.")
    values = {f: body.get(f) for f in MATCH_FIELDS}
    values["ethertype"] = _ethertype(values["ethertype"])
    values["protocol"] = _protocol(values["protocol"])
    for field in PORT_FIELDS:
        values[field] = _port_value(values[field])
    for side in ("source", "destination"):
        low, high = values[f"{side}_port_range_min"], values[f"{side}_port_range_max"]
        if low is not None and high is not None and low > high:
            raise sfc_errors.FlowClassifierInvalidPortRange(low, high)
    if any(values[f] is not None for f in PORT_FIELDS) and values["protocol"] not in (
            "tcp", "udp"):
        raise sfc_errors.FlowClassifierProtocolRequiredWithPorts()
    for field in ("source_ip_prefix", "destination_ip_prefix"):
        values[field] = _prefix(values[field], values["ethertype"])
    return values


def _ethertype(value: Any) -> str:
    if value is None:
        return "IPv4"
    match = next((e for e in ETHERTYPES if isinstance(value, str) and value.lower() ==
                  e.lower()), None)
    if match is None:
        raise sfc_errors.FlowClassifierInvalidEthertype(value)
    return match


def _protocol(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in PROTOCOLS:
        return value.lower()
    raise sfc_errors.FlowClassifierInvalidProtocol(value)


def _port_value(value: Any) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise sfc_errors.FlowClassifierInvalidPortValue(value) from None
    if isinstance(value, bool) or not 0 <= number <= 65535:
        raise sfc_errors.FlowClassifierInvalidPortValue(value)
    return number


def _prefix(value: Any, ethertype: str) -> str | None:
    if value is None:
        return None
    try:
        network = ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError):
        raise errors.InvalidInput(f"'{value}' is not a valid IP subnet") from None
    if network.version != (6 if ethertype == "IPv6" else 4):
        raise sfc_errors.FlowClassifierIpPrefixFormatConflictWithEthertype(value, ethertype)
    return str(network)


def overlap(a: SfcFlowClassifier, b: SfcFlowClassifier) -> bool:
    """Whether some packet matches both (networking-sfc refuses two such classifiers on one
    source port in different chains)."""
    if a.ethertype != b.ethertype:
        return False
    if a.protocol and b.protocol and a.protocol != b.protocol:
        return False
    for field in ("source_ip_prefix", "destination_ip_prefix"):
        x, y = getattr(a, field), getattr(b, field)
        if x and y and not ipaddress.ip_network(x).overlaps(ipaddress.ip_network(y)):
            return False
    if a.logical_destination_port and b.logical_destination_port and \
            a.logical_destination_port != b.logical_destination_port:
        return False
    return all(_ranges_overlap(a, b, side) for side in ("source", "destination"))


def _ranges_overlap(a: SfcFlowClassifier, b: SfcFlowClassifier, side: str) -> bool:
    def bounds(fc: SfcFlowClassifier) -> tuple[int, int]:
        low = getattr(fc, f"{side}_port_range_min")
        high = getattr(fc, f"{side}_port_range_max")
        return (low if low is not None else 0, high if high is not None else 65535)

    (a_low, a_high), (b_low, b_high) = bounds(a), bounds(b)
    return a_low <= b_high and b_low <= a_high
