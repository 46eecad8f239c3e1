"""Who is asking: built once per request by the API and passed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    project_id: str
    is_admin: bool = True
    user_id: str | None = None
    roles: tuple[str, ...] = ("admin",)
    project_name: str | None = None  # known with Keystone (dns domain keywords)
    user_name: str | None = None
