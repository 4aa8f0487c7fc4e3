"""What an identity is: one account of a person or a machine in one source, seen the same way everywhere.

Okta users, Google Workspace users and GitHub members carry the ``identity`` attribute the collectors
write (email, login, active, human, admin, mfa: see docs/people.md). The two older identity types do
not carry it and their collectors stay as they are (a new attribute would make every stored user drift
once), so small adapters here read their own attributes:

- ``azure.entra.user``: email is ``mail`` when present, else the userPrincipalName when it looks like
  an address (a guest's ``#EXT#`` name is not one); active is ``accountEnabled``; a Guest is human; admin
  is any directory role held, active or PIM-eligible; mfa is "can perform MFA" judged exactly as the
  Entra checks judge it (the registration report's isMfaCapable, else the registered methods against
  the tenant's authentication methods policy, which needs ``tenant``).
- ``aws.iam.user``: the credential report decides. Active is "can be used now": a console password or
  an active access key (a leaver's keys are access too). Human is "has a console password": a user with
  only access keys is a programmatic (machine) identity, ``human=False``. MFA is ``mfa_active``. Admin is
  AdministratorAccess attached directly (group and inline grants are the IAM checks' business). IAM has
  no email; the login is the user name, joined through the people ledger's identity map.

Nothing here raises on odd data: a fact that was not collected, or has the wrong type, is ``None`` for
mfa and is named in ``unknown`` for the other facts (which then hold their fail-safe value: active and
human True, admin False), so a check that depends on it can say ``error`` instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.models import Resource

__all__ = ["IDENTITY_TYPES", "IdentityView", "identity_of"]

_OKTA, _WORKSPACE, _GITHUB = "okta.user", "googleworkspace.user", "github.member"
_ENTRA, _IAM = "azure.entra.user", "aws.iam.user"
_CARRIERS = frozenset({_OKTA, _WORKSPACE, _GITHUB})  # types whose collector writes the identity record
IDENTITY_TYPES: frozenset[str] = _CARRIERS | {_ENTRA, _IAM}

_ADMIN_POLICY = ":iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True)
class IdentityView:
    provider: str
    account: str
    resource_type: str
    resource_id: str
    email: str | None  # lower-cased
    login: str
    active: bool
    human: bool
    admin: bool
    mfa: bool | None  # None: could not be determined
    # facts among active/human/admin/email that could not be determined (their value above is the safe guess)
    unknown: frozenset[str] = frozenset()


def identity_of(resource: Resource, *, tenant: Resource | None = None) -> IdentityView | None:
    """The identity ``resource`` is, or None when it is not one (another type, or not a Resource).

    ``tenant`` is the ``azure.entra.tenant`` of the same snapshot; only Entra users in a tenant without
    the registration report (no Entra ID P1) need it to tell whether they can perform MFA."""
    if not isinstance(resource, Resource) or resource.type not in IDENTITY_TYPES:
        return None
    attrs = resource.attributes if isinstance(resource.attributes, Mapping) else {}
    errors = resource.errors if isinstance(resource.errors, Mapping) else {}
    try:
        if resource.type in _CARRIERS:
            facts = _carried(attrs, errors)
        elif resource.type == _ENTRA:
            facts = _entra(resource, attrs, errors, tenant)
        else:
            facts = _iam(attrs, errors)
    except Exception:  # noqa: BLE001 - odd data from a store must never stop the ledger; it becomes unknown
        facts = _Facts(email=None, unknown={"active", "human", "admin", "email"})
    return IdentityView(
        provider=str(resource.provider),
        account=str(resource.account),
        resource_type=resource.type,
        resource_id=str(resource.id),
        email=facts.email,
        login=facts.login or str(resource.name or resource.id),
        active=facts.active,
        human=facts.human,
        admin=facts.admin,
        mfa=facts.mfa,
        unknown=frozenset(facts.unknown),
    )


@dataclass
class _Facts:
    email: str | None
    login: str = ""
    active: bool = True
    human: bool = True
    admin: bool = False
    mfa: bool | None = None
    unknown: set[str] = field(default_factory=set)

    def flag(self, name: str, value: Any, default: bool) -> bool:
        """``value`` when it is a boolean, else ``default`` with ``name`` recorded as unknown."""
        if isinstance(value, bool):
            return value
        self.unknown.add(name)
        return default


def _email(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    local, at, domain = text.partition("@")
    if not at or not local or not domain or "#ext#" in text or any(c.isspace() for c in text):
        return None
    return text


def _carried(attrs: Mapping[str, Any], errors: Mapping[str, Any]) -> _Facts:
    record = attrs.get("identity")
    if "identity" in errors or not isinstance(record, Mapping):
        return _Facts(email=None, unknown={"active", "human", "admin", "email"})
    facts = _Facts(email=_email(record.get("email")))
    if record.get("email") is not None and facts.email is None:
        facts.flag("email", None, False)
    login = record.get("login")
    facts.login = login if isinstance(login, str) else ""
    facts.active = facts.flag("active", record.get("active"), True)
    facts.human = facts.flag("human", record.get("human"), True)
    facts.admin = facts.flag("admin", record.get("admin"), False)
    mfa = record.get("mfa")
    facts.mfa = mfa if isinstance(mfa, bool) else None
    return facts


def _entra(resource: Resource, attrs: Mapping[str, Any], errors: Mapping[str, Any], tenant: Resource | None) -> _Facts:
    upn = attrs.get("userPrincipalName")
    facts = _Facts(email=_email(attrs.get("mail")) or _email(upn))
    facts.login = upn if isinstance(upn, str) else ""
    facts.active = facts.flag("active", attrs.get("accountEnabled"), True)
    facts.human = True  # Graph users are people; apps sign in as service principals
    readable = [attrs.get(k) for k in ("Roles", "EligibleRoles") if k not in errors and isinstance(attrs.get(k), list)]
    if any(readable):  # a role we can see is enough to be an admin
        facts.admin = True
    else:
        facts.admin = facts.flag("admin", None if len(readable) < 2 else False, False)
    facts.mfa = _entra_mfa(resource, tenant)
    return facts


def _entra_mfa(user: Resource, tenant: Resource | None) -> bool | None:
    # the same judgement as azure.entra.user_mfa_registered; deferred import: only Entra users need it
    from checks.azure._entra import capability
    from checks.base import MissingInput

    try:
        capable, _ = capability(user, tenant)
    except (MissingInput, LookupError, TypeError, ValueError, AttributeError):
        return None
    return capable


def _cred(row: Mapping[str, Any], column: str) -> bool | None:
    value = row.get(column)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in ("true", "false"):
        return text == "true"
    return None


def _iam(attrs: Mapping[str, Any], errors: Mapping[str, Any]) -> _Facts:
    name = attrs.get("UserName")
    facts = _Facts(email=None, login=name if isinstance(name, str) else "")
    row = attrs.get("Credentials")
    if "Credentials" in errors or not isinstance(row, Mapping):
        facts.unknown = {"active", "human"}
    else:
        password = _cred(row, "password_enabled")
        keys = [_cred(row, f"access_key_{n}_active") for n in (1, 2)]
        if password is None:
            facts.flag("human", None, True)
        else:
            facts.human = password
        if password or any(keys):
            facts.active = True
        elif password is None or None in keys:
            facts.flag("active", None, True)
        else:
            facts.active = False
        facts.mfa = _cred(row, "mfa_active")
    policies = attrs.get("AttachedManagedPolicies")
    if "AuthorizationDetails" in errors or not isinstance(policies, list):
        facts.flag("admin", None, False)
    else:
        facts.admin = any(
            isinstance(p, Mapping) and str(p.get("PolicyArn") or "").endswith(_ADMIN_POLICY) for p in policies
        )
    return facts
