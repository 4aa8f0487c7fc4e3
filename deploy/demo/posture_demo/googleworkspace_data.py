"""The demo's Google Workspace customer: users as the Admin SDK Directory API returns them.

Something to find for every Google Workspace check: users not enrolled in 2-Step Verification (one
of them a super administrator, one a delegated administrator), users for whom 2SV is not enforced,
five active super administrators (more than the default four), an account unused for 200 days and
one never used. Recent sign-ins tick like the real service's (``Ago``: served as the moment of the
request minus the offset); creation times and old sign-ins stay fixed from ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "DEMO_ADMIN",
    "DEMO_CUSTOMER",
    "DEMO_DOMAIN",
    "EXPECTED_FAILURES",
    "NEVER",
    "Ago",
    "demo_users",
    "google_time",
    "user_key",
]

DEMO_DOMAIN = "northwind.example"
DEMO_CUSTOMER = "C03nw7demo"
DEMO_ADMIN = f"admin@{DEMO_DOMAIN}"
NEVER = "1970-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class Ago:
    """A time the service refreshes on its own (a sign-in): served as the request's moment minus ``delta``."""

    delta: timedelta


def google_time(ts: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as the Directory API writes it."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def user_key(local: str) -> str:
    """A user's immutable id: Google's are 21-digit numbers."""
    return str(100000000000000000000 + sum(ord(c) * 31**i for i, c in enumerate(local)) % 10**12)


# local part, (isAdmin, isDelegatedAdmin, suspended, archived, isEnrolledIn2Sv, isEnforcedIn2Sv), org unit,
# last sign-in (a timedelta: ticks, Ago; a number of days: fixed; None: never), created (days before now)
_ROWS: tuple[tuple[str, tuple[bool, bool, bool, bool, bool, bool], str, Any, int], ...] = (
    ("admin", (True, False, False, False, True, True), "/IT", timedelta(hours=1), 900),
    ("alice", (False, False, False, False, True, True), "/Sales", timedelta(hours=3), 700),
    ("bob", (False, False, False, False, False, False), "/Contractors", timedelta(hours=5), 400),
    ("carol", (True, False, False, False, False, False), "/Executives", timedelta(hours=2), 800),
    ("dave", (False, True, False, False, True, False), "/Executives", timedelta(days=1), 650),
    ("erin", (False, False, False, False, True, True), "/Sales", 200, 500),
    ("frank", (False, False, False, False, False, True), "/Sales", None, 300),
    ("grace", (False, False, True, False, False, False), "/Alumni", 400, 1000),
    ("heidi", (False, False, False, True, False, False), "/Alumni", 380, 1100),
    ("ivan", (True, False, False, False, True, True), "/IT", timedelta(hours=6), 850),
    ("judy", (True, False, False, False, True, True), "/IT", timedelta(minutes=30), 600),
    ("mallory", (True, False, False, False, True, True), "/IT", 45, 550),
    ("oscar", (True, False, True, False, True, True), "/Alumni", 500, 1200),
    ("peggy", (False, False, False, False, False, True), "/Sales", None, 3),
    ("trent", (False, True, False, False, False, False), "/Support", timedelta(hours=8), 450),
)
_FLAGS = ("isAdmin", "isDelegatedAdmin", "suspended", "archived", "isEnrolledIn2Sv", "isEnforcedIn2Sv")

#: check id -> the local parts of the users it fails ("customer": the customer resource)
EXPECTED_FAILURES: dict[str, frozenset[str]] = {
    "googleworkspace.user.two_step_verification_enrolled": frozenset({"bob", "carol", "frank", "peggy", "trent"}),
    "googleworkspace.user.two_step_verification_enforced": frozenset({"bob", "carol", "dave", "trent"}),
    "googleworkspace.user.admin_two_step_verification": frozenset({"carol", "trent"}),
    "googleworkspace.user.inactive": frozenset({"erin", "frank"}),
    "googleworkspace.customer.two_step_verification_enforced": frozenset({"customer"}),
    "googleworkspace.customer.super_admin_count": frozenset({"customer"}),
}


def demo_users(
    now: datetime | None = None, domain: str = DEMO_DOMAIN, customer: str = DEMO_CUSTOMER
) -> list[dict[str, Any]]:
    """The users in the API's full representation (``Ago`` where a sign-in ticks)."""
    now = now or datetime.now(UTC)
    users: list[dict[str, Any]] = []
    for local, flags, unit, last, created in _ROWS:
        email = f"{local}@{domain}"
        if last is None:
            login: Any = NEVER
        elif isinstance(last, timedelta):
            login = Ago(last)
        else:
            login = google_time(now - timedelta(days=last))
        given = local.capitalize()
        user: dict[str, Any] = {
            "kind": "admin#directory#user",
            "id": user_key(local),
            "etag": f'"etag-{local}"',
            "primaryEmail": email,
            "name": {"givenName": given, "familyName": "Demo", "fullName": f"{given} Demo"},
            **dict(zip(_FLAGS, flags, strict=True)),
            "lastLoginTime": login,
            "creationTime": google_time(now - timedelta(days=created)),
            "agreedToTerms": last is not None,
            "ipWhitelisted": False,
            "emails": [{"address": email, "primary": True}],
            "nonEditableAliases": [f"{local}@{domain}.test-google-a.com"],
            "customerId": customer,
            "orgUnitPath": unit,
            "isMailboxSetup": True,
            "includeInGlobalAddressList": True,
            "changePasswordAtNextLogin": False,
            "thumbnailPhotoUrl": f"https://lh3.googleusercontent.com/a/{local}",
        }
        if flags[2]:
            user["suspensionReason"] = "ADMIN"
        users.append(user)
    return users
