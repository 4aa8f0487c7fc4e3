"""Okta users (``okta.user``): status, profile, last sign-in, enrolled factors and admin roles.

The listing (``GET /api/v1/users``) returns every user whose status is not DEPROVISIONED; each one's
factors and admin roles take one request each, sent by a small bounded pool. A 401/403 on those (a
missing scope or admin permission) is the same for everyone: the rest are not sent, and each user
records the same error instead of thousands of doomed requests. What was not read lands in
``Resource.errors`` and the checks say ``error`` for it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agent.models import CollectionError, Resource
from collectors.okta.http import ApiError, OktaHttp

__all__ = [
    "ACTIVE_STATUSES",
    "MFA_FACTOR_TYPES",
    "USER_OBSERVATIONS",
    "USER_TYPE",
    "collect_users",
    "identity",
    "user_id_of",
]

USER_TYPE = "okta.user"
# the last sign-in moves with every use of the account: checks see it, drift and stored bodies do not
USER_OBSERVATIONS = ("lastLogin",)
# statuses of an account that exists and can be used: LOCKED_OUT and PASSWORD_EXPIRED accounts are one
# unlock or password change away from a sign-in; STAGED/PROVISIONED have never been activated,
# SUSPENDED and DEPROVISIONED cannot sign in
ACTIVE_STATUSES = frozenset({"ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT"})
# factors that count as a second factor for ``identity.mfa``: everything but the security question
# (something known, like the password) and email (a mailbox usually opened with the same password)
MFA_FACTOR_TYPES = frozenset(
    {"push", "sms", "call", "token", "token:software:totp", "token:hardware", "token:hotp", "u2f", "webauthn", "web"}
    | {"signed_nonce"}
)
_USER_KEEP = ("id", "status", "created", "activated", "statusChanged", "passwordChanged", "lastLogin")
_PROFILE_KEEP = ("login", "email", "firstName", "lastName", "userType")
_FACTOR_KEEP = ("id", "factorType", "provider", "vendorName", "status", "created")
_ROLE_KEEP = ("id", "type", "label", "status", "assignmentType")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DEPROVISIONED = "not read: the user is deprovisioned and cannot sign in"


def user_id_of(org: str, user_id: str) -> str:
    return f"okta:{org}:user:{user_id}"


def _trim(item: Any, keep: tuple[str, ...]) -> dict[str, Any]:
    return {k: item[k] for k in keep if isinstance(item, dict) and k in item}


class _PerUser:
    """One kind of per-user read: values by user id, or why not; stops on the first denial."""

    def __init__(self, http: OktaHttp, path: str, operation: str, keep: tuple[str, ...]) -> None:
        self.http, self.path, self.operation, self.keep = http, path, operation, keep
        self.values: dict[str, list[dict[str, Any]]] = {}
        self.errors: dict[str, str] = {}
        self._denied = ""
        self._lock = threading.Lock()

    def read(self, uid: str) -> None:
        with self._lock:
            denied = self._denied
        if denied:
            self._put(uid, None, f"{denied} (not sent after the same answer for another user)")
            return
        try:
            items = self.http.list(self.path.format(id=uid), operation=self.operation)
        except ApiError as exc:
            if exc.status in (401, 403):
                with self._lock:
                    self._denied = self._denied or exc.text()
            self._put(uid, None, exc.text())
            return
        self._put(uid, [_trim(i, self.keep) for i in items], "")

    def _put(self, uid: str, value: list[dict[str, Any]] | None, why: str) -> None:
        with self._lock:
            if value is None:
                self.errors[uid] = why
            else:
                self.values[uid] = value


def _active_factors(factors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in factors if str(f.get("status") or "") == "ACTIVE"]


def identity(attrs: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The people ledger's join record (see notes on the identity convention): email, login, active,
    human, admin, mfa. ``admin`` and ``mfa`` are None when the roles or factors could not be read."""
    profile = attrs.get("profile") or {}
    email = profile.get("email")
    factors = attrs.get("Factors")
    roles = attrs.get("Roles")
    return {
        "email": str(email).strip().lower() if isinstance(email, str) and email.strip() else None,
        "login": str(profile.get("login") or attrs.get("id") or ""),
        "active": str(attrs.get("status") or "") in ACTIVE_STATUSES,
        "human": True,  # Okta has no service-account flag on users
        "admin": None if "Roles" in errors or roles is None else bool(roles),
        "mfa": None
        if "Factors" in errors or factors is None
        else any(str(f.get("factorType")) in MFA_FACTOR_TYPES for f in _active_factors(factors)),
    }


def _listing_error(exc: ApiError) -> CollectionError:
    return CollectionError(
        service="okta",
        operation="ListUsers",
        region="global",
        code=exc.code,
        message=exc.text(),
        resource_type=USER_TYPE,
    )


def collect_users(
    http: OktaHttp, org: str, *, max_workers: int, advance: Callable[[], None] | None = None
) -> tuple[list[Resource], list[CollectionError]]:
    try:
        users = http.list("/api/v1/users", {"limit": "200"}, operation="ListUsers")
    except ApiError as exc:
        return [], [_listing_error(exc)]
    factors = _PerUser(http, "/api/v1/users/{id}/factors", "ListFactors", _FACTOR_KEEP)
    roles = _PerUser(http, "/api/v1/users/{id}/roles", "ListAssignedRolesForUser", _ROLE_KEEP)
    wanted = [
        str(u.get("id"))
        for u in users
        if _SAFE_ID.match(str(u.get("id") or "")) and str(u.get("status") or "") != "DEPROVISIONED"
    ]

    def both(uid: str) -> None:
        factors.read(uid)
        roles.read(uid)
        if advance is not None:
            advance()

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="okta-user") as pool:
        for future in [pool.submit(both, uid) for uid in wanted]:
            future.result()  # AuthError and Cancelled end the collection here

    resources: list[Resource] = []
    errors: list[CollectionError] = []
    for u in users:
        uid = str(u.get("id") or "")
        if not _SAFE_ID.match(uid):
            errors.append(_listing_error(ApiError(200, "InvalidResponse", f"a user without a valid id: {uid[:80]!r}")))
            continue
        attrs: dict[str, Any] = _trim(u, _USER_KEEP)
        attrs["profile"] = _trim(u.get("profile"), _PROFILE_KEEP)
        errs: dict[str, str] = {}
        for key, per in (("Factors", factors), ("Roles", roles)):
            if uid in per.values:
                attrs[key] = per.values[uid]
            else:
                errs[key] = per.errors.get(uid, _DEPROVISIONED)
        attrs["identity"] = identity(attrs, errs)
        resources.append(
            Resource(
                provider="okta",
                account=org,
                region="global",
                type=USER_TYPE,
                id=user_id_of(org, uid),
                name=str(attrs["profile"].get("login") or uid),
                attributes=attrs,
                errors=errs,
                observations=USER_OBSERVATIONS,
            )
        )
    return resources, errors
