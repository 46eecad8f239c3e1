"""extraroute-atomic's actions have Neutron's own policy names: a project member's."""

from __future__ import annotations

import pytest

from neutrino import errors, policy
from neutrino.services.context import Context

TARGET = {"project_id": "p"}


@pytest.mark.parametrize("action", ["add_extraroutes", "remove_extraroutes"])
def test_members_of_the_routers_project_edit_its_routes(action: str) -> None:
    policy.enforce(Context("p", is_admin=False, roles=("member",)), action, TARGET)
    policy.enforce(Context("other", is_admin=True, roles=("admin",)), action, TARGET)
    for ctx in (Context("p", is_admin=False, roles=("reader",)),
                Context("other", is_admin=False, roles=("member",))):
        with pytest.raises(errors.PolicyNotAuthorized, match=action):
            policy.enforce(ctx, action, TARGET)
