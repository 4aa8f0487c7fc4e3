"""The demo Okta org as the management API serves it: users, their factors and admin roles, policies
and their rules, in Okta's JSON shapes.

One case of each thing the Okta checks must catch, in a small readable org:

- carol has only SMS and email, erin only a security question (her security key is still pending
  activation), judy (locked out, not gone) only voice calls: no strong factor;
- bob is Organization Administrator with Okta Verify push and TOTP: MFA, but not phishing-resistant;
  gina holds Help Desk Administrator through a group and signs in with FastPass (passes);
- dave last signed in 200 days ago, ivan was created 400 days ago and never signed in, judy 100 days ago:
  inactive and still active; erin was created 10 days ago and has not signed in yet (passes);
- frank is suspended and hank staged: they cannot sign in, so nothing applies to them;
- the Default global session policy lets the office network in without MFA (Identity Engine: MFA left to
  the authentication policies), and the "Legacy intranet" authentication policy allows one factor;
- the Default password policy asks for 8 characters; the administrators' policy is strong, and the
  Active Directory one (6 characters) is the directory's business.

Times the org refreshes on its own (recent sign-ins) are ``timedelta`` ages, served relative to the
moment of each request; fixed ones (creation, an old sign-in) are anchored to ``now``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["DEMO_ORG_NAME", "EXPECTED_FAILURES", "OktaData", "demo_data", "iso"]

DEMO_ORG_NAME = "acme"
_RECENT_DAYS = 30  # a sign-in this recent recurs: it is served relative to each request


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


OktaData = dict[str, Any]

# id, login, status, created days ago, last login days ago (None: never), factors, roles
_PEOPLE: list[tuple[str, str, str, int, int | None, list[tuple[str, str, str]], list[tuple[str, str, str]]]] = [
    (
        "00u1alice",
        "alice",
        "ACTIVE",
        700,
        1,
        [("webauthn", "FIDO", "ACTIVE"), ("push", "OKTA", "ACTIVE")],
        [("SUPER_ADMIN", "Super Administrator", "USER")],
    ),
    (
        "00u2bob",
        "bob",
        "ACTIVE",
        600,
        2,
        [("push", "OKTA", "ACTIVE"), ("token:software:totp", "OKTA", "ACTIVE")],
        [("ORG_ADMIN", "Organization Administrator", "USER")],
    ),
    ("00u3carol", "carol", "ACTIVE", 500, 3, [("sms", "OKTA", "ACTIVE"), ("email", "OKTA", "ACTIVE")], []),
    ("00u4dave", "dave", "ACTIVE", 800, 200, [("push", "OKTA", "ACTIVE")], []),
    (
        "00u5erin",
        "erin",
        "ACTIVE",
        10,
        None,
        [("webauthn", "FIDO", "PENDING_ACTIVATION"), ("question", "OKTA", "ACTIVE")],
        [],
    ),
    ("00u6frank", "frank", "SUSPENDED", 900, 300, [], []),
    (
        "00u7gina",
        "gina",
        "ACTIVE",
        300,
        5,
        [("signed_nonce", "OKTA", "ACTIVE"), ("push", "OKTA", "ACTIVE")],
        [("HELP_DESK_ADMIN", "Help Desk Administrator", "GROUP")],
    ),
    ("00u8hank", "hank", "STAGED", 20, None, [], []),
    ("00u9ivan", "ivan", "ACTIVE", 400, None, [("push", "OKTA", "ACTIVE")], []),
    ("00u10judy", "judy", "LOCKED_OUT", 650, 100, [("call", "OKTA", "ACTIVE")], []),
]

#: check id -> the user ids (or "org") the demo org must fail, exactly.
EXPECTED_FAILURES: dict[str, frozenset[str]] = {
    "okta.user.strong_factor_enrolled": frozenset({"00u3carol", "00u5erin", "00u10judy"}),
    "okta.user.admin_phishing_resistant_mfa": frozenset({"00u2bob"}),
    "okta.user.inactive": frozenset({"00u4dave", "00u9ivan", "00u10judy"}),
    "okta.org.sign_on_mfa_required": frozenset({"org"}),
    "okta.org.password_policy_strong": frozenset({"org"}),
}


def _signed_in(days: int | None, now: datetime) -> timedelta | str | None:
    if days is None:
        return None
    return timedelta(days=days) if days <= _RECENT_DAYS else iso(now - timedelta(days=days))


def _user(
    uid: str, login: str, status: str, created: int, last: int | None, now: datetime, domain: str
) -> dict[str, Any]:
    first = login.capitalize()
    made = now - timedelta(days=created)
    return {
        "id": uid,
        "status": status,
        "created": iso(made),
        "activated": None if status == "STAGED" else iso(made + timedelta(hours=1)),
        "statusChanged": iso(made + timedelta(hours=1)),
        "lastLogin": _signed_in(last, now),
        "lastUpdated": iso(made + timedelta(days=1)),
        "passwordChanged": None if status == "STAGED" else iso(made + timedelta(hours=2)),
        "type": {"id": "oty1default"},
        "profile": {
            "firstName": first,
            "lastName": "Example",
            "mobilePhone": "+1 555 0100",  # never kept by the collector
            "secondEmail": None,
            "login": f"{login}@{domain}",
            "email": f"{first}@{domain.upper()}",  # Okta keeps the case given: the identity lower-cases it
        },
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": f"/api/v1/users/{uid}"}},
    }


def _factor(uid: str, n: int, factor_type: str, provider: str, status: str, now: datetime) -> dict[str, Any]:
    factor: dict[str, Any] = {
        "id": f"fac{uid[3:]}{n}",
        "factorType": factor_type,
        "provider": provider,
        "vendorName": provider,
        "status": status,
        "created": iso(now - timedelta(days=30)),
        "lastUpdated": iso(now - timedelta(days=30)),
        "profile": {},
        "_links": {},
    }
    if factor_type in ("sms", "call"):
        factor["profile"] = {"phoneNumber": "+1 555 0199"}  # never kept by the collector
    if factor_type == "signed_nonce":
        factor["profile"] = {"deviceType": "SmartPhone_IPhone", "name": "gina's iPhone", "platform": "IOS"}
    return factor


def _role(uid: str, n: int, role_type: str, label: str, assignment: str, now: datetime) -> dict[str, Any]:
    return {
        "id": f"ra{uid[3:]}{n}",
        "label": label,
        "type": role_type,
        "status": "ACTIVE",
        "created": iso(now - timedelta(days=90)),
        "lastUpdated": iso(now - timedelta(days=90)),
        "assignmentType": assignment,
        "_links": {"assignee": {"href": f"/api/v1/users/{uid}"}},
    }


def _people(include: list[str] | None = None, exclude: list[str] | None = None) -> dict[str, Any]:
    return {"people": {"groups": {"include": include or [], "exclude": exclude or []}}}


def _session_rule(
    rid: str, name: str, priority: int, *, mfa: bool, zone: str | None = None, system: bool = False
) -> dict[str, Any]:
    network = {"connection": "ZONE", "include": [zone]} if zone else {"connection": "ANYWHERE"}
    return {
        "id": rid,
        "type": "SIGN_ON",
        "name": name,
        "status": "ACTIVE",
        "priority": priority,
        "system": system,
        "conditions": {
            "people": {"users": {"exclude": []}},
            "network": network,
            "authContext": {"authType": "ANY"},
        },
        "actions": {
            "signon": {
                "access": "ALLOW",
                "requireFactor": mfa,
                "primaryFactor": "PASSWORD_IDP_ANY_FACTOR" if mfa else "PASSWORD_IDP",
                **({"factorPromptMode": "ALWAYS", "factorLifetime": 0} if mfa else {}),
                "rememberDeviceByDefault": False,
                "session": {"usePersistentCookie": False, "maxSessionIdleMinutes": 120, "maxSessionLifetimeMinutes": 0},
            }
        },
    }


def _app_rule(rid: str, name: str, priority: int, factor_mode: str, *, system: bool = False) -> dict[str, Any]:
    return {
        "id": rid,
        "type": "ACCESS_POLICY",
        "name": name,
        "status": "ACTIVE",
        "priority": priority,
        "system": system,
        "conditions": None if system else {"network": {"connection": "ANYWHERE"}},
        "actions": {
            "appSignOn": {
                "access": "ALLOW",
                "verificationMethod": {"factorMode": factor_mode, "type": "ASSURANCE", "reauthenticateIn": "PT2H"},
            }
        },
    }


def _password_policy(
    pid: str, name: str, priority: int, *, provider: str, min_length: int, common: bool, attempts: int, system: bool
) -> dict[str, Any]:
    return {
        "id": pid,
        "type": "PASSWORD",
        "name": name,
        "status": "ACTIVE",
        "priority": priority,
        "system": system,
        "conditions": {**_people(include=["00gEveryone"]), "authProvider": {"provider": provider}},
        "settings": {
            "password": {
                "complexity": {
                    "minLength": min_length,
                    "minLowerCase": 1,
                    "minUpperCase": 1,
                    "minNumber": 1,
                    "minSymbol": 0,
                    "excludeUsername": True,
                    "excludeAttributes": [],
                    "dictionary": {"common": {"exclude": common}},
                },
                "age": {"maxAgeDays": 0, "expireWarnDays": 0, "minAgeMinutes": 0, "historyCount": 4},
                "lockout": {
                    "maxAttempts": attempts,
                    "autoUnlockMinutes": 0,
                    "userLockoutNotificationChannels": [],
                    "showLockoutFailures": False,
                },
            },
            "recovery": {"factors": {"okta_email": {"status": "ACTIVE"}}},
            "delegation": {"options": {"skipUnlock": False}},
        },
        "_links": {},
    }


def _policies() -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """(policy type -> policies, policy id -> rules)."""
    sign_on = [
        {
            "id": "00pContractors",
            "type": "OKTA_SIGN_ON",
            "name": "Contractors",
            "status": "ACTIVE",
            "priority": 1,
            "system": False,
            "conditions": _people(include=["00gContractors"]),
        },
        {
            "id": "00pDefaultSession",
            "type": "OKTA_SIGN_ON",
            "name": "Default Policy",
            "status": "ACTIVE",
            "priority": 2,
            "system": True,
            "conditions": _people(include=["00gEveryone"]),
        },
    ]
    access = [
        {
            "id": "rstDashboard",
            "type": "ACCESS_POLICY",
            "name": "Okta Dashboard",
            "status": "ACTIVE",
            "priority": 1,
            "system": False,
        },
        {
            "id": "rstLegacy",
            "type": "ACCESS_POLICY",
            "name": "Legacy intranet",
            "status": "ACTIVE",
            "priority": 2,
            "system": False,
        },
    ]
    password = [
        _password_policy(
            "00pAdminsPwd",
            "Administrators",
            1,
            provider="OKTA",
            min_length=14,
            common=True,
            attempts=5,
            system=False,
        ),
        _password_policy(
            "00pAdPwd",
            "Active Directory users",
            2,
            provider="ACTIVE_DIRECTORY",
            min_length=6,
            common=False,
            attempts=0,
            system=False,
        ),
        _password_policy(
            "00pDefaultPwd", "Default Policy", 3, provider="OKTA", min_length=8, common=False, attempts=10, system=True
        ),
    ]
    rules = {
        "00pContractors": [_session_rule("0prContractorsMfa", "Contractors: MFA every time", 1, mfa=True)],
        "00pDefaultSession": [
            _session_rule("0prOffice", "Office network skips MFA", 1, mfa=False, zone="nzoOffice"),
            _session_rule("0prDefault", "Default Rule", 2, mfa=True, system=True),
        ],
        "rstDashboard": [_app_rule("rulDashboard", "Catch-all Rule", 99, "2FA", system=True)],
        "rstLegacy": [
            _app_rule("rulLegacyPassword", "Password is enough", 1, "1FA"),
            _app_rule("rulLegacyCatchAll", "Catch-all Rule", 99, "2FA", system=True),
        ],
    }
    return {"OKTA_SIGN_ON": sign_on, "ACCESS_POLICY": access, "PASSWORD": password}, rules


def demo_data(now: datetime | None = None, domain: str = "acme.example") -> OktaData:
    """users, factors (user id -> list), roles (user id -> list), policies (type -> list), rules (policy id -> list)."""
    now = now or datetime.now(UTC)
    users, factors, roles = [], {}, {}
    for uid, login, status, created, last, fs, rs in _PEOPLE:
        users.append(_user(uid, login, status, created, last, now, domain))
        factors[uid] = [_factor(uid, n, *f, now) for n, f in enumerate(fs)]
        roles[uid] = [_role(uid, n, *r, now) for n, r in enumerate(rs)]
    policies, rules = _policies()
    return {"users": users, "factors": factors, "roles": roles, "policies": policies, "rules": rules}
