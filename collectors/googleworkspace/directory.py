"""Google Workspace users through the Admin SDK Directory API: one snapshot per customer.

``googleworkspace.user``: each user's 2-Step Verification enrolment (``isEnrolledIn2Sv``) and
enforcement (``isEnforcedIn2Sv``), administrator flags, suspension, archiving, creation and last
sign-in time (an observation: it ticks with every sign-in and is left out of drift), and the
``identity`` every person's account carries (docs/googleworkspace-permissions.md).

``googleworkspace.customer``: the tenant as a whole, derived from the same listing: user counts, the
super administrators, and whether 2-Step Verification is enforced. The Directory API does not return
the 2SV policy itself; "enforced for the domain" is derived as: every active user has
``isEnforcedIn2Sv`` true. What that cannot see: an organizational unit or group with no active user
today, a policy whose enforcement starts at a future date (users there are not yet enforced, so it
fails until then, which is safe), and the new-user enrolment grace period. The policy itself is read
by the gcp source's ``cloud_identity_admin`` (Cloud Identity Policy API).

A user the API returned without an id or e-mail address, or with a field of the wrong type, is a
``CollectionError`` or an entry of ``Resource.errors``: never a guess.
"""

from __future__ import annotations

from typing import Any

from agent.models import CollectionError, Resource
from collectors.googleworkspace.config import WorkspaceSource
from collectors.googleworkspace.http import ApiError, WorkspaceHttp

__all__ = [
    "CUSTOMER_TYPE",
    "NEVER",
    "USER_OBSERVATIONS",
    "USER_TYPE",
    "collect_directory",
    "customer_id_of",
    "failed",
    "user_id_of",
]

USER_TYPE = "googleworkspace.user"
CUSTOMER_TYPE = "googleworkspace.customer"
USER_OBSERVATIONS = ("lastLoginTime",)
NEVER = "1970-01-01T00:00:00.000Z"  # lastLoginTime of a user who never signed in
USERS_PATH = "/admin/directory/v1/users"
SAMPLE = 25  # emails named on the customer per list; the users themselves are each a resource

_FLAGS = ("isAdmin", "isDelegatedAdmin", "suspended", "archived", "isEnrolledIn2Sv", "isEnforcedIn2Sv")
_TEXTS = ("lastLoginTime", "creationTime", "orgUnitPath", "customerId", "suspensionReason")
_FIELDS = "nextPageToken,users(id,primaryEmail," + ",".join(_FLAGS + _TEXTS) + ")"


def user_id_of(account: str, user_id: str) -> str:
    return f"googleworkspace:{account}:user:{user_id}"


def customer_id_of(account: str) -> str:
    return f"googleworkspace:{account}:customer"


def _error(code: str, message: str, rtype: str = USER_TYPE) -> CollectionError:
    return CollectionError(
        service="directory", operation="ListUsers", region="global", code=code, message=message, resource_type=rtype
    )


def failed(code: str, message: str) -> list[CollectionError]:
    """The listing could not be read at all: every type of this source starves."""
    return [_error(code, message, USER_TYPE), _error(code, message, CUSTOMER_TYPE)]


def _list_users(http: WorkspaceHttp, source: WorkspaceSource) -> list[Any]:
    params = {"projection": "basic", "maxResults": str(source.page_size), "fields": _FIELDS}
    if source.domain:
        params["domain"] = source.domain
    else:
        params["customer"] = source.customer_id
    return [u for page in http.pages(USERS_PATH, params, "users", operation="ListUsers") for u in page]


def _user(source: WorkspaceSource, raw: dict[str, Any]) -> Resource:
    attrs: dict[str, Any] = {"id": raw["id"], "primaryEmail": raw["primaryEmail"]}
    errs: dict[str, str] = {}
    for key in _FLAGS:
        value = raw.get(key)
        if isinstance(value, bool):
            attrs[key] = value
        else:
            errs[key] = "not returned by the API" if value is None else f"not a boolean: {str(value)[:40]!r}"
    for key in _TEXTS:
        value = raw.get(key)
        if isinstance(value, str):
            attrs[key] = value
        elif value is not None:
            errs[key] = f"not a string: {str(value)[:40]!r}"
        elif key in ("lastLoginTime", "creationTime"):
            errs[key] = "not returned by the API"
    active = attrs.get("suspended") is False and attrs.get("archived") is False
    mfa = attrs.get("isEnrolledIn2Sv")
    attrs["identity"] = {
        "email": str(raw["primaryEmail"]).lower(),
        "login": str(raw["primaryEmail"]),
        "active": active,
        "human": True,  # the Directory API has no service or bot accounts: those are service accounts in GCP
        "admin": attrs.get("isAdmin") is True or attrs.get("isDelegatedAdmin") is True,
        "mfa": mfa if isinstance(mfa, bool) else None,
    }
    return Resource(
        provider="googleworkspace",
        account=source.account,
        region="global",
        type=USER_TYPE,
        id=user_id_of(source.account, str(raw["id"])),
        name=str(raw["primaryEmail"]),
        attributes=attrs,
        errors=errs,
        observations=USER_OBSERVATIONS,
    )


def _sample(emails: list[str]) -> list[str]:
    return sorted(emails)[:SAMPLE]


def _customer(source: WorkspaceSource, users: list[Resource] | None, why: str) -> Resource:
    attrs: dict[str, Any] = {
        "customer": source.customer_id,
        "domain": source.domain,
        "Settings": {"inactive_days": source.inactive_days, "max_super_admins": source.max_super_admins},
    }
    errs: dict[str, str] = {}
    if users is None:
        errs.update({k: why for k in ("customerIds", "Users", "SuperAdmins", "TwoStepVerification")})
    else:
        attrs["customerIds"] = sorted({str(u.attributes["customerId"]) for u in users if "customerId" in u.attributes})
        active = [u for u in users if u.attributes["identity"]["active"]]
        unknown_state = [u.name for u in users if "suspended" in u.errors or "archived" in u.errors]
        attrs["Users"] = {
            "total": len(users),
            "active": len(active),
            "suspended": sum(1 for u in users if u.attributes.get("suspended") is True),
            "archived": sum(1 for u in users if u.attributes.get("archived") is True),
            "stateUnknown": len(unknown_state),
        }
        supers = [u for u in users if u.attributes.get("isAdmin") is True]
        attrs["SuperAdmins"] = {
            "active": sorted(u.name for u in supers if u.attributes["identity"]["active"]),
            "inactive": sorted(u.name for u in supers if not u.attributes["identity"]["active"]),
            "unknown": _sample([u.name for u in users if "isAdmin" in u.errors]),
            "unknownCount": sum(1 for u in users if "isAdmin" in u.errors),
        }
        not_enforced = [u.name for u in active if u.attributes.get("isEnforcedIn2Sv") is False]
        unknown = [u.name for u in active if "isEnforcedIn2Sv" in u.errors] + unknown_state
        attrs["TwoStepVerification"] = {
            "derivedFrom": "isEnforcedIn2Sv of every active user",
            "activeUsers": len(active),
            "notEnforcedCount": len(not_enforced),
            "notEnforced": _sample(not_enforced),
            "unknownCount": len(unknown),
            "unknown": _sample(unknown),
            "enforcedForAll": None if unknown and not not_enforced else not not_enforced,
        }
    return Resource(
        provider="googleworkspace",
        account=source.account,
        region="global",
        type=CUSTOMER_TYPE,
        id=customer_id_of(source.account),
        name=source.domain or source.account,
        attributes=attrs,
        errors=errs,
    )


def collect_directory(http: WorkspaceHttp, source: WorkspaceSource) -> tuple[list[Resource], list[CollectionError]]:
    """The users and the customer; what could not be read as CollectionErrors."""
    try:
        raw_users = _list_users(http, source)
    except ApiError as exc:
        why = f"{exc.code}: {exc.message}" if exc.status == 0 else f"HTTP {exc.status} {exc.code}: {exc.message}"
        return [_customer(source, None, why)], failed(exc.code, exc.message or f"HTTP {exc.status}")
    users: list[Resource] = []
    seen: set[str] = set()
    bad = 0
    for raw in raw_users:
        ok = (
            isinstance(raw, dict)
            and isinstance(raw.get("id"), str)
            and raw["id"].strip()
            and isinstance(raw.get("primaryEmail"), str)
            and "@" in raw["primaryEmail"]
        )
        if not ok or raw["id"] in seen:
            bad += 1
            continue
        seen.add(raw["id"])
        users.append(_user(source, raw))
    if bad:
        # the users that could be read are kept, each judged on its own; the listing is incomplete, so every
        # check on the type says so and nothing is derived for the whole customer
        message = f"{bad} user entries without a unique id and primaryEmail were left out: the listing is incomplete"
        return [*users, _customer(source, None, f"InvalidResponse: {message}")], failed("InvalidResponse", message)
    return [*users, _customer(source, users, "")], []
