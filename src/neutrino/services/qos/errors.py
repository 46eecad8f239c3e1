"""Neutron's QoS faults (neutron-lib names and words)."""

from __future__ import annotations

from neutrino import errors


class QosPolicyNotFound(errors.NotFound):
    def __init__(self, policy_id: str) -> None:
        super().__init__(f"QoS policy {policy_id} could not be found.")


class PolicyRemoveAuthorizationError(errors.NotAuthorized):
    def __init__(self, policy_id: str) -> None:
        super().__init__(f"Failed to remove provided policy {policy_id} because you are not "
                         "authorized.")


class QosRuleNotFound(errors.NotFound):
    def __init__(self, policy_id: str, rule_id: str) -> None:
        super().__init__(f"QoS rule {rule_id} for policy {policy_id} could not be found.")


class QosPolicyInUse(errors.InUse):
    def __init__(self, policy_id: str, object_type: str, object_id: str) -> None:
        super().__init__(f"QoS Policy {policy_id} is used by {object_type} {object_id}.")


class QoSPolicyDefaultAlreadyExists(errors.Conflict):
    def __init__(self, project_id: str) -> None:
        super().__init__(f"A default QoS policy exists for project {project_id}.")


class QoSRulesConflict(errors.Conflict):
    def __init__(self, policy_id: str, rule_type: str, direction: str | None = None) -> None:
        which = f"{rule_type} ({direction})" if direction else rule_type
        super().__init__(f"Rule {which} already exists in QoS policy {policy_id}.")


class QosRuleNotSupported(errors.BadRequest):
    def __init__(self, rule_type: str) -> None:
        super().__init__(f"Rule type {rule_type} is not supported by the OVN QoS driver.")
