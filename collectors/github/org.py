"""The organisation and its members: ``github.organization`` and ``github.member``.

A member carries the ``identity`` every account resource has (docs/architecture.md, the people
ledger joins on it): GitHub gives no e-mail address in these listings, so ``email`` is null unless
the API sent one; ``mfa`` comes from ``filter=2fa_disabled``, which only an owner may use: when it
cannot be read, ``mfa`` is null, ``TwoFactor`` names why, and a CollectionError on ``github.member``
makes the 2FA check report error rather than pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.models import CollectionError, Resource
from collectors.github.http import ApiError, GitHubHttp

__all__ = [
    "MEMBER_TYPE",
    "ORG_TYPE",
    "Members",
    "collect_members",
    "logins",
    "member_id_of",
    "org_error",
    "org_id_of",
    "org_resource",
    "read_org",
]

ORG_TYPE = "github.organization"
MEMBER_TYPE = "github.member"

# The organisation's settings worth keeping (the *_for_new_repositories ones only when GitHub still sends
# them: it is retiring them for code security configurations)
_ORG_KEEP = (
    "login",
    "id",
    "name",
    "default_repository_permission",
    "members_can_create_repositories",
    "members_can_create_public_repositories",
    "web_commit_signoff_required",
    "advanced_security_enabled_for_new_repositories",
    "dependabot_alerts_enabled_for_new_repositories",
    "dependabot_security_updates_enabled_for_new_repositories",
    "dependency_graph_enabled_for_new_repositories",
    "secret_scanning_enabled_for_new_repositories",
    "secret_scanning_push_protection_enabled_for_new_repositories",
)
_2FA_FIELD = "two_factor_requirement_enabled"
_2FA_HIDDEN = (
    "not shown to this token: only an organisation owner's token (fine-grained: Organization Administration "
    "read; classic: admin:org) or an App with Organization Administration read sees it"
)


def org_id_of(org: str) -> str:
    return f"github:{org.lower()}"


def member_id_of(org: str, login: str) -> str:
    return f"github:{org.lower()}:member:{login.lower()}"


def org_error(operation: str, exc: ApiError, rtype: str) -> CollectionError:
    return CollectionError(
        service="github",
        operation=operation,
        region="global",
        code=exc.code,
        message=exc.message or f"HTTP {exc.status}",
        resource_type=rtype,
    )


def logins(items: list[Any], what: str) -> list[dict[str, Any]]:
    """The accounts of a listing, each a dict with a string ``login``; one malformed item fails the
    whole listing (dropping it would drop an account from every check without a word)."""
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("login"), str) or not item["login"].strip():
            raise ApiError(200, "InvalidResponse", f"{what}: an item without a login")
        out.append(item)
    return out


def read_org(http: GitHubHttp, org: str) -> dict[str, Any]:
    body = http.get(f"/orgs/{org}", operation="GetOrganization")
    if not isinstance(body, dict) or not isinstance(body.get("login"), str):
        raise ApiError(200, "InvalidResponse", "GET /orgs/{org}: expected an organisation object")
    return body


def org_resource(
    org: str, body: dict[str, Any] | None, org_failure: str, outside: list[str] | None, outside_failure: str
) -> Resource:
    """``body``: GET /orgs/{org} (None when it failed, ``org_failure`` says why); ``outside``: the
    outside collaborators' logins (None when unreadable)."""
    attrs: dict[str, Any] = {"login": org}
    errors: dict[str, str] = {}
    if body is None:
        errors[_2FA_FIELD] = org_failure
    else:
        attrs.update({k: body[k] for k in _ORG_KEEP if k in body})
        value = body.get(_2FA_FIELD)
        if isinstance(value, bool):
            attrs[_2FA_FIELD] = value
        else:  # null or absent: GitHub hides it from a non-owner
            errors[_2FA_FIELD] = _2FA_HIDDEN
    if outside is None:
        errors["OutsideCollaborators"] = outside_failure
    else:
        attrs["OutsideCollaborators"] = sorted(outside, key=str.lower)
    return Resource(
        provider="github",
        account=org,
        region="global",
        type=ORG_TYPE,
        id=org_id_of(org),
        name=org,
        attributes=attrs,
        errors=errors,
    )


@dataclass
class Members:
    resources: list[Resource] = field(default_factory=list)
    errors: list[CollectionError] = field(default_factory=list)


def _listing(
    http: GitHubHttp, org: str, params: dict[str, str], operation: str, errors: list[CollectionError]
) -> tuple[list[dict[str, Any]] | None, str]:
    try:
        return logins(http.list(f"/orgs/{org}/members", params, operation=operation), operation), ""
    except ApiError as exc:
        err = org_error(operation, exc, MEMBER_TYPE)
        errors.append(err)
        return None, err.summary()


def collect_members(http: GitHubHttp, org: str) -> Members:
    out = Members()
    members, _ = _listing(http, org, {"role": "all"}, "ListMembers", out.errors)
    if members is None:
        return out  # the CollectionError on github.member reports every member check as error
    owners, owners_why = _listing(http, org, {"role": "admin"}, "ListOwners", out.errors)
    no_2fa, no_2fa_why = _listing(http, org, {"filter": "2fa_disabled"}, "ListMembersWithout2FA", out.errors)
    owner_set = {o["login"].lower() for o in owners} if owners is not None else None
    no_2fa_set = {m["login"].lower() for m in no_2fa} if no_2fa is not None else None
    for m in members:
        login: str = m["login"]
        key = login.lower()
        email = m.get("email")
        identity = {
            "email": email.strip().lower() if isinstance(email, str) and email.strip() else None,
            "login": login,
            "active": not m.get("suspended_at"),  # GitHub Enterprise Server may suspend a user
            "human": m.get("type") != "Bot",
            "admin": (key in owner_set) if owner_set is not None else None,
            "mfa": (key not in no_2fa_set) if no_2fa_set is not None else None,
        }
        errors: dict[str, str] = {}
        if owner_set is None:
            errors["Role"] = owners_why
        if no_2fa_set is None:
            errors["TwoFactor"] = no_2fa_why
        attrs: dict[str, Any] = {
            "login": login,
            "id": m.get("id"),
            "type": m.get("type"),
            "site_admin": m.get("site_admin"),
            "identity": identity,
        }
        if owner_set is not None:
            attrs["Role"] = "admin" if key in owner_set else "member"
        if no_2fa_set is not None:
            attrs["TwoFactor"] = key not in no_2fa_set
        out.resources.append(
            Resource(
                provider="github",
                account=org,
                region="global",
                type=MEMBER_TYPE,
                id=member_id_of(org, login),
                name=login,
                attributes=attrs,
                errors=errors,
            )
        )
    return out
