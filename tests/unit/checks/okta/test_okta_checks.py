"""Okta checks over hand-built resources: pass, fail, error (not collected) and the inputs that look fine
but are not, for every check; the catalog test fails until each has all four."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import checks.okta.org as org_checks
import checks.okta.users as user_checks
from agent.evaluate import evaluate
from agent.models import Resource, Snapshot, Status
from agent.registry import checks_in
from checks.base import Check
from tests.unit.checks.casekit import assert_complete, note

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ORG = "acme.okta.com"
PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def factor(factor_type: str, status: str = "ACTIVE", provider: str = "OKTA") -> dict[str, Any]:
    return {"id": f"f-{factor_type}", "factorType": factor_type, "provider": provider, "status": status}


def role(role_type: str = "SUPER_ADMIN", label: str = "Super Administrator", status: str = "ACTIVE") -> dict[str, Any]:
    return {"id": "ra1", "type": role_type, "label": label, "status": status, "assignmentType": "USER"}


def user(
    status: str = "ACTIVE",
    *,
    factors: list[dict[str, Any]] | None = None,
    roles: list[dict[str, Any]] | None = None,
    last: str | None = "recent",
    created: str | None = None,
    errors: Mapping[str, str] | None = None,
    drop: tuple[str, ...] = (),
) -> Resource:
    attrs: dict[str, Any] = {
        "id": "00u1",
        "status": status,
        "created": created or ago(400),
        "lastLogin": ago(3) if last == "recent" else last,
        "profile": {"login": "pat@acme.example", "email": "pat@acme.example"},
        "Factors": [factor("push")] if factors is None else factors,
        "Roles": [] if roles is None else roles,
    }
    for key in (*drop, *(errors or {})):
        attrs.pop(key, None)
    return Resource(
        provider="okta",
        account=ORG,
        region="global",
        type="okta.user",
        id=f"okta:{ORG}:user:00u1",
        name="pat@acme.example",
        attributes=attrs,
        errors=dict(errors or {}),
    )


def signon_rule(
    name: str,
    priority: int,
    *,
    mfa: bool,
    access: str = "ALLOW",
    zone: str | None = None,
    oie: bool = False,
    status: str = "ACTIVE",
    **conditions: Any,
) -> dict[str, Any]:
    conds: dict[str, Any] = {
        "people": {"users": {"exclude": []}},
        "network": {"connection": "ZONE", "include": [zone]} if zone else {"connection": "ANYWHERE"},
        **conditions,
    }
    signon: dict[str, Any] = {"access": access, "requireFactor": mfa}
    if oie:
        signon["primaryFactor"] = "PASSWORD_IDP_ANY_FACTOR"
    return {
        "id": name,
        "name": name,
        "status": status,
        "priority": priority,
        "conditions": conds,
        "actions": {"signon": signon},
    }


def app_rule(name: str, priority: int, mode: str, access: str = "ALLOW") -> dict[str, Any]:
    return {
        "id": name,
        "name": name,
        "status": "ACTIVE",
        "priority": priority,
        "conditions": None,
        "actions": {"appSignOn": {"access": access, "verificationMethod": {"factorMode": mode, "type": "ASSURANCE"}}},
    }


def policy(name: str, priority: int, rules: list[dict[str, Any]] | None, status: str = "ACTIVE") -> dict[str, Any]:
    found: dict[str, Any] = {"id": name, "name": name, "status": status, "priority": priority}
    if rules is not None:
        found["rules"] = rules
    return found


def password(
    name: str = "Default Policy",
    *,
    length: int = 12,
    common: bool = True,
    attempts: int = 10,
    classes: int = 3,
    provider: str = "OKTA",
    status: str = "ACTIVE",
) -> dict[str, Any]:
    counts = {
        k: 1 if i < classes else 0 for i, k in enumerate(("minLowerCase", "minUpperCase", "minNumber", "minSymbol"))
    }
    return {
        "id": name, "name": name, "status": status, "priority": 1,
        "conditions": {"authProvider": {"provider": provider}},
        "settings": {"password": {"complexity": {"minLength": length, **counts, "dictionary": {"common": {"exclude": common}}}, "lockout": {"maxAttempts": attempts}}},
    }  # fmt: skip


MFA_FOR_ALL = [policy("Default Policy", 1, [signon_rule("Default Rule", 1, mfa=True)])]


def org(errors: Mapping[str, str] | None = None, **attrs: Any) -> Resource:
    body: dict[str, Any] = {
        "orgUrl": f"https://{ORG}",
        "InactiveDays": 90,
        "SignOnPolicies": MFA_FOR_ALL,
        "AccessPolicies": [],
        "PasswordPolicies": [password()],
        **attrs,
    }
    for key in errors or {}:
        body.pop(key, None)
    return Resource(
        provider="okta",
        account=ORG,
        region="global",
        type="okta.org",
        id=f"okta:{ORG}:org",
        name=ORG,
        attributes=body,
        errors=dict(errors or {}),
    )


@dataclass
class Case:
    check: Check
    resources: list[Resource]
    expect: Status
    reason: str
    params: Mapping[str, Any] = field(default_factory=dict)


def case(
    check: Check,
    resources: Resource | list[Resource],
    expect: Status,
    reason: str = "",
    *,
    id: str,
    looks_fine: str = "",
    **kw: Any,
) -> Any:
    note(check.id, expect, looks_fine)
    items = resources if isinstance(resources, list) else [resources]
    return pytest.param(Case(check, items, expect, reason, **kw), id=f"{check.id}:{id}")


u, o = user_checks, org_checks
NOT_READ = "HTTP 403 E0000006: You do not have permission to perform the requested action"

CASES = [
    # a strong factor
    case(u.strong_factor_enrolled, user(factors=[factor("push")]), PASS, "strong factor enrolled: push", id="push"),
    case(
        u.strong_factor_enrolled, user(factors=[factor("webauthn", provider="FIDO")]), PASS, "webauthn", id="webauthn"
    ),
    case(u.strong_factor_enrolled, user(factors=[]), FAIL, "no active factor", id="none"),
    case(
        u.strong_factor_enrolled,
        user(factors=[factor("sms"), factor("call"), factor("email")]),
        FAIL,
        "only weak factors",
        id="sms-voice-email",
        looks_fine="three factors enrolled, all of them interceptable or tied to the mailbox",
    ),
    case(
        u.strong_factor_enrolled,
        user(factors=[factor("webauthn", "PENDING_ACTIVATION"), factor("question")]),
        FAIL,
        "only weak factors enrolled: question",
        id="pending-key",
        looks_fine="a security key is listed, but PENDING_ACTIVATION: it was never activated",
    ),
    case(
        u.strong_factor_enrolled,
        user(factors=[factor("sms")], status="LOCKED_OUT"),
        FAIL,
        "only weak",
        id="locked-out",
        looks_fine="a locked-out account is one unlock away from a sign-in",
    ),
    case(u.strong_factor_enrolled, user("SUSPENDED", factors=[]), NA, "cannot sign in", id="suspended"),
    case(u.strong_factor_enrolled, user(errors={"Factors": NOT_READ}), ERROR, "E0000006", id="not-read"),
    case(u.strong_factor_enrolled, user(drop=("status",)), ERROR, "status", id="no-status"),
    # phishing-resistant MFA for administrators
    case(
        u.admin_phishing_resistant_mfa,
        user(roles=[role()], factors=[factor("signed_nonce")]),
        PASS,
        "signed_nonce",
        id="fastpass",
    ),
    case(
        u.admin_phishing_resistant_mfa,
        user(roles=[role()], factors=[factor("u2f", provider="FIDO")]),
        PASS,
        "u2f",
        id="u2f",
    ),
    case(
        u.admin_phishing_resistant_mfa,
        user(
            roles=[role("ORG_ADMIN", "Organization Administrator")],
            factors=[factor("push"), factor("token:software:totp")],
        ),
        FAIL,
        "no phishing-resistant factor",
        id="push-totp",
        looks_fine="MFA with Okta Verify push and TOTP: strong, but relayed by a real-time phishing proxy",
    ),
    case(
        u.admin_phishing_resistant_mfa,
        user(
            roles=[role("READ_ONLY_ADMIN", "Read-Only Administrator")],
            factors=[factor("webauthn", "PENDING_ACTIVATION")],
        ),
        FAIL,
        "Read-Only Administrator",
        id="pending-key-read-only-admin",
        looks_fine="only read-only, and a key is listed: but the key is not active, and read access to the admin console is what attackers want first",
    ),
    case(u.admin_phishing_resistant_mfa, user(roles=[]), NA, "no admin role", id="not-admin"),
    case(
        u.admin_phishing_resistant_mfa,
        user(roles=[role(status="INACTIVE")], factors=[]),
        NA,
        "no admin role",
        id="inactive-role",
    ),
    case(
        u.admin_phishing_resistant_mfa,
        user("DEPROVISIONED", roles=[role()], factors=[]),
        NA,
        "DEPROVISIONED",
        id="deprovisioned",
    ),
    case(
        u.admin_phishing_resistant_mfa,
        user(errors={"Roles": NOT_READ}),
        ERROR,
        "Roles could not be read",
        id="roles-not-read",
    ),
    case(
        u.admin_phishing_resistant_mfa,
        user(roles=[role()], errors={"Factors": "HTTP 500 E0000009: Internal Server Error"}),
        ERROR,
        "E0000009",
        id="factors-not-read",
    ),
    # inactive users
    case(u.inactive, [user(last=ago(10)), org()], PASS, "within the last 90 days", id="recent"),
    case(u.inactive, [user(last=ago(120)), org()], FAIL, "90 or more days ago", id="old"),
    case(
        u.inactive,
        [user(last=None, created=ago(400)), org()],
        FAIL,
        "never signed in",
        id="never",
        looks_fine="no lastLogin at all reads like 'no data', but Okta says null when nobody ever signed in",
    ),
    case(
        u.inactive,
        [user("PASSWORD_EXPIRED", last=ago(200)), org()],
        FAIL,
        "PASSWORD_EXPIRED",
        id="password-expired",
        looks_fine="an expired password is changed at the next sign-in: the account still works",
    ),
    case(u.inactive, [user(last=None, created=ago(5)), org()], PASS, "less than 90 days ago", id="new"),
    case(u.inactive, [user(last=ago(40)), org(InactiveDays=30)], FAIL, "30 or more days", id="source-threshold"),
    case(u.inactive, [user("SUSPENDED", last=ago(400)), org()], NA, "SUSPENDED", id="suspended"),
    case(u.inactive, [user(drop=("lastLogin",)), org()], ERROR, "lastLogin was not collected", id="no-last-login"),
    case(u.inactive, [user(last="yesterday"), org()], ERROR, "not a date", id="garbage-date"),
    case(u.inactive, [user(last=ago(10))], ERROR, "okta.org", id="no-org"),
    # sign-on policy requires MFA
    case(o.sign_on_mfa_required, org(), PASS, "requires MFA", id="default-rule-mfa"),
    case(
        o.sign_on_mfa_required,
        org(SignOnPolicies=[policy("Default Policy", 1, [signon_rule("Default Rule", 1, mfa=False)])]),
        FAIL,
        "'Default Rule'",
        id="default-rule-no-mfa",
    ),
    case(
        o.sign_on_mfa_required,
        org(
            SignOnPolicies=[
                policy(
                    "Default Policy",
                    1,
                    [signon_rule("Office", 1, mfa=False, zone="nzo1"), signon_rule("Default Rule", 2, mfa=True)],
                )
            ]
        ),
        FAIL,
        "'Office' of policy 'Default Policy' (only network ZONE)",
        id="zone-skips-mfa",
        looks_fine="the catch-all rule requires MFA, but a rule before it lets the office network in with a password",
    ),
    case(
        o.sign_on_mfa_required,
        org(
            SignOnPolicies=[
                policy(
                    "Default Policy",
                    1,
                    [signon_rule("Default Rule", 1, mfa=True), signon_rule("Never reached", 2, mfa=False)],
                )
            ]
        ),
        PASS,
        "requires MFA",
        id="unreachable-rule",
    ),
    case(
        o.sign_on_mfa_required,
        org(SignOnPolicies=[policy("Contractors", 1, [signon_rule("No MFA", 1, mfa=False)]), *MFA_FOR_ALL]),
        FAIL,
        "'No MFA' of policy 'Contractors'",
        id="group-policy-without-mfa",
        looks_fine="the default policy requires MFA, but a higher-priority policy for a group does not",
    ),
    case(
        o.sign_on_mfa_required,
        org(SignOnPolicies=[policy("Off", 1, [signon_rule("No MFA", 1, mfa=False)], status="INACTIVE"), *MFA_FOR_ALL]),
        PASS,
        "",
        id="inactive-policy",
    ),
    case(
        o.sign_on_mfa_required,
        org(SignOnPolicies=[policy("Default Policy", 1, [signon_rule("Deny", 1, mfa=False, access="DENY")])]),
        FAIL,
        "no active global session",
        id="deny-only",
    ),
    case(
        o.sign_on_mfa_required,
        org(
            SignOnPolicies=[policy("Default Policy", 1, [signon_rule("Default Rule", 1, mfa=False, oie=True)])],
            AccessPolicies=[policy("Okta Dashboard", 1, [app_rule("Catch-all Rule", 99, "2FA")])],
        ),
        PASS,
        "authentication policies",
        id="oie-delegates-2fa",
    ),
    case(
        o.sign_on_mfa_required,
        org(
            SignOnPolicies=[policy("Default Policy", 1, [signon_rule("Default Rule", 1, mfa=False, oie=True)])],
            AccessPolicies=[
                policy("Dashboard", 1, [app_rule("Catch-all Rule", 99, "2FA")]),
                policy("Legacy", 2, [app_rule("Password only", 1, "1FA"), app_rule("Catch-all Rule", 99, "2FA")]),
            ],
        ),
        FAIL,
        "'Password only' of policy 'Legacy'",
        id="oie-app-1fa",
        looks_fine="every catch-all rule requires two factors, but one app's first rule accepts a password",
    ),
    case(
        o.sign_on_mfa_required,
        org(
            SignOnPolicies=[policy("Default Policy", 1, [signon_rule("Default Rule", 1, mfa=False, oie=True)])],
            errors={"AccessPolicies": "HTTP 403 E0000006: denied"},
        ),
        ERROR,
        "authentication policies, which were not read",
        id="oie-access-not-read",
    ),
    case(
        o.sign_on_mfa_required,
        org(SignOnPolicies=[policy("Default Policy", 1, None)]),
        ERROR,
        "rules of global session policy",
        id="rules-missing",
    ),
    case(
        o.sign_on_mfa_required,
        org(errors={"SignOnPolicies": "HTTP 500 E0000009: Internal Server Error"}),
        ERROR,
        "E0000009",
        id="not-read",
    ),
    # password policy
    case(o.password_policy_strong, org(), PASS, "is strong", id="strong"),
    case(o.password_policy_strong, org(PasswordPolicies=[password(length=8)]), FAIL, "minimum length 8", id="short"),
    case(
        o.password_policy_strong,
        org(PasswordPolicies=[password(common=False, classes=2)]),
        FAIL,
        "no common-password check and 2 of 4",
        id="no-complexity",
    ),
    case(
        o.password_policy_strong,
        org(PasswordPolicies=[password(common=False, classes=3)]),
        PASS,
        "",
        id="three-classes",
    ),
    case(
        o.password_policy_strong,
        org(PasswordPolicies=[password(attempts=0)]),
        FAIL,
        "no lockout",
        id="no-lockout",
        looks_fine="maxAttempts 0 reads like 'lock at once' but means 'never lock'",
    ),
    case(
        o.password_policy_strong,
        org(PasswordPolicies=[password(attempts=50)]),
        FAIL,
        "after 50 failed attempts",
        id="lockout-late",
    ),
    case(
        o.password_policy_strong,
        org(PasswordPolicies=[password("Admins", length=16), password("Default Policy", length=8)]),
        FAIL,
        "'Default Policy'",
        id="one-weak-among-strong",
        looks_fine="the administrators' policy is strong, the default one that covers everyone else is not",
    ),
    case(
        o.password_policy_strong,
        org(PasswordPolicies=[password(length=16), password("AD", length=4, provider="ACTIVE_DIRECTORY")]),
        PASS,
        "",
        id="ad-policy-ignored",
    ),
    case(
        o.password_policy_strong,
        org(PasswordPolicies=[password("AD", length=4, provider="ACTIVE_DIRECTORY")]),
        NA,
        "Active Directory",
        id="ad-only",
    ),
    case(
        o.password_policy_strong,
        org(PasswordPolicies=[password(length=4, status="INACTIVE")]),
        FAIL,
        "no active password policy",
        id="none-active",
    ),
    case(
        o.password_policy_strong,
        org(PasswordPolicies=[password(length=16)]),
        FAIL,
        "minimum length 16 (below 20)",
        id="param",
        params={"min_length": 20},
    ),
    case(
        o.password_policy_strong,
        org(errors={"PasswordPolicies": "HTTP 403 E0000006: denied"}),
        ERROR,
        "E0000006",
        id="not-read",
    ),
    case(
        o.password_policy_strong,
        org(
            PasswordPolicies=[
                {
                    "id": "x",
                    "name": "x",
                    "status": "ACTIVE",
                    "settings": {"password": {"complexity": {"minLength": "twelve"}}},
                }
            ]
        ),
        ERROR,
        "not a number",
        id="garbage",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    snap = Snapshot(
        source="t",
        provider="okta",
        account=ORG,
        started_at=NOW - timedelta(minutes=1),
        finished_at=NOW,
        resources=tuple(c.resources),
    )
    [finding] = [
        f for f in evaluate(snap, [c.check], params={c.check.id: dict(c.params)}) if f.resource_id == c.resources[0].id
    ]
    assert finding.status == c.expect, f"{finding.status}: {finding.message}"
    assert c.reason.lower() in finding.message.lower(), finding.message


def test_every_okta_check_has_a_full_case_table() -> None:
    assert_complete(checks_in("checks.okta"))
