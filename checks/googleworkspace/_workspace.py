"""Facts the Google Workspace checks share. Pure functions over what the collector records; a fact
that was not collected raises ``MissingInput`` so the check says ``error``.

The registry skips this module (leading underscore), so nothing here is discovered as a check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from agent.models import Resource
from checks.base import Context, MissingInput, need

__all__ = [
    "ADMIN_DOCS",
    "CUSTOMER_TYPE",
    "ENFORCE_STEPS",
    "LIST_USERS",
    "NEEDS",
    "NEVER",
    "USER_TYPE",
    "customer_of",
    "flag",
    "is_active",
    "label",
    "parse_time",
    "setting",
]

USER_TYPE = "googleworkspace.user"
CUSTOMER_TYPE = "googleworkspace.customer"
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # the lastLoginTime of a user who never signed in
ADMIN_DOCS = "https://support.google.com/a/answer/"
LIST_USERS = "GET /admin/directory/v1/users?customer=my_customer"
ENFORCE_STEPS = (
    "1. In the Google Admin console open Security > Authentication > 2-step verification.\n"
    "2. Select the top organizational unit: tick 'Allow users to turn on 2-Step Verification' and set "
    "Enforcement to On (from today), with a short new-user enrolment period.\n"
    "3. Open every child organizational unit and group that overrides it and set it to Inherit or On."
)
NEEDS = (
    "scope https://www.googleapis.com/auth/admin.directory.user.readonly through domain-wide delegation, "
    "impersonating an administrator with the Admin API privilege Users > Read"
)


def label(user: Resource) -> str:
    return str(user.attributes.get("primaryEmail") or user.name or user.id.rsplit(":", 1)[-1])


def flag(user: Resource, key: str) -> bool:
    """A boolean the collector recorded, or MissingInput."""
    value = need(user, key)
    if not isinstance(value, bool):
        raise MissingInput(f"{key} of {label(user)} is not a boolean: {value!r}")
    return value


def is_active(user: Resource) -> bool:
    """Can the account sign in now: neither suspended nor archived."""
    return not flag(user, "suspended") and not flag(user, "archived")


def parse_time(value: Any) -> datetime:
    """An aware datetime from the API's RFC 3339 text (``2024-05-01T10:00:00.000Z``); ValueError otherwise."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a time: {value!r}")
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    ts = datetime.fromisoformat(text)
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def customer_of(ctx: Context) -> Resource:
    found = [r for r in ctx.snapshot.of_type(CUSTOMER_TYPE)]
    if not found:
        raise MissingInput("the customer (googleworkspace.customer) was not collected")
    return found[0]


def setting(ctx: Context, param: str, key: str) -> int:
    """A threshold: the check's own parameter when set in the agent's config, else the source's
    setting the collector recorded on the customer (``Settings``)."""
    value = ctx.params.get(param)
    if value is None:
        settings = need(customer_of(ctx), "Settings")
        value = settings.get(key) if isinstance(settings, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MissingInput(f"the threshold {key} is not a positive whole number: {value!r}")
    return value
