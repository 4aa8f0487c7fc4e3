"""Authentication facts per user: the MFA registration report (Entra ID P1), its fallback (each user's
registered methods), and per-user MFA state (Graph beta, one call per enabled user)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from collectors.azure.entra_groups import err_text, is_licence_error, safe_id
from collectors.azure.http import ApiError, AzureHttp

__all__ = ["Registration", "authentication_methods", "per_user_mfa", "registration"]

_REGISTRATION_KEEP = (
    "isMfaRegistered",
    "isMfaCapable",
    "isPasswordlessCapable",
    "isSsprRegistered",
    "methodsRegistered",
    "defaultMfaMethod",
    "isAdmin",
    "lastUpdatedDateTime",
)


@dataclass
class Registration:
    rows: dict[str, dict[str, Any]] | None = None
    error: str = ""
    licence_missing: bool = False


def registration(http: AzureHttp) -> Registration:
    try:
        rows = http.list(
            "graph",
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            operation="ListUserRegistrationDetails",
        )
    except ApiError as exc:
        why = err_text(exc)
        if is_licence_error(exc):
            why += " (the registration report needs Microsoft Entra ID P1)"
        return Registration(error=why, licence_missing=is_licence_error(exc))
    return Registration(rows={str(r.get("id")): {k: r.get(k) for k in _REGISTRATION_KEEP if k in r} for r in rows})


@dataclass
class PerUser:
    """user id -> value, or user id -> why it could not be read."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _each(http: AzureHttp, user_ids: Iterable[str], path: str, operation: str, *, listing: bool) -> PerUser:
    """One GET per user. A 401/403 answer (a missing permission) or a licence error is the same for
    everyone: stop there and record it for the rest instead of sending thousands of doomed requests.
    Other errors (404, 400 for one kind of account) stay with the user they concern."""
    out = PerUser()
    denied = ""
    for uid in user_ids:
        seg = safe_id(uid)
        if denied or seg is None:
            out.errors[uid] = denied or "not a valid user id"
            continue
        try:
            if listing:
                out.values[uid] = http.list("graph", path.format(id=seg), operation=operation)
            else:
                out.values[uid] = http.get("graph", path.format(id=seg), operation=operation)
        except ApiError as exc:
            out.errors[uid] = err_text(exc)
            if exc.status in (401, 403) or is_licence_error(exc):
                denied = out.errors[uid]
    return out


def authentication_methods(http: AzureHttp, user_ids: Iterable[str]) -> PerUser:
    """Each user's registered methods, trimmed to their type (phone numbers and device names stay out)."""
    got = _each(
        http, user_ids, "/v1.0/users/{id}/authentication/methods", "ListUserAuthenticationMethods", listing=True
    )
    got.values = {
        uid: [{k: m[k] for k in ("@odata.type", "phoneType") if m.get(k)} for m in methods]
        for uid, methods in got.values.items()
    }
    return got


def per_user_mfa(http: AzureHttp, user_ids: Iterable[str]) -> PerUser:
    got = _each(http, user_ids, "/beta/users/{id}/authentication/requirements", "GetPerUserMfaState", listing=False)
    got.values = {uid: {"perUserMfaState": (v or {}).get("perUserMfaState")} for uid, v in got.values.items()}
    return got
