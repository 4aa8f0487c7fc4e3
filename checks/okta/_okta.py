"""Okta facts the checks share: users and their factors, and the walk through sign-on policy rules.

Pure functions over the attributes the collector records (collectors/okta). A fact that was not
collected raises ``MissingInput`` so the check says ``error``. The registry skips this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.models import Resource
from checks.base import Context, MissingInput, need

__all__ = [
    "ACTIVE_STATUSES",
    "DOCS",
    "ORG_TYPE",
    "PHISHING_RESISTANT",
    "STRONG_FACTORS",
    "USER_TYPE",
    "WEAK_FACTORS",
    "Walk",
    "active_factors",
    "can_sign_in",
    "describe",
    "number",
    "org_of",
    "parse_time",
    "user_label",
    "walk_rules",
]

USER_TYPE = "okta.user"
ORG_TYPE = "okta.org"
DOCS = "https://help.okta.com/oie/en-us/content/topics/identity-engine/"

# Statuses of an account that can be used: LOCKED_OUT and PASSWORD_EXPIRED are one unlock or password
# change away from a sign-in. STAGED/PROVISIONED were never activated; SUSPENDED/DEPROVISIONED cannot sign in.
ACTIVE_STATUSES = frozenset({"ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT"})
# Okta's factorType values. Weak: a code sent over the phone network (SIM swap, interception), to a
# mailbox, or a security question (something known, like the password).
WEAK_FACTORS = frozenset({"sms", "call", "email", "question"})
# Possession factors that resist interception: Okta Verify push and TOTP, hardware or software OTP
# tokens (RSA, Symantec, YubiKey OTP, Google Authenticator), Duo (web), and everything phishing-resistant.
STRONG_FACTORS = frozenset(
    {"push", "token", "token:software:totp", "token:hardware", "token:hotp", "web", "webauthn", "u2f", "signed_nonce"}
)
# Bound to the site's origin, so a look-alike page cannot relay them: FIDO2/WebAuthn (security keys,
# passkeys, platform authenticators), legacy FIDO U2F, and Okta FastPass (signed_nonce).
PHISHING_RESISTANT = frozenset({"webauthn", "u2f", "signed_nonce"})


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from Okta's ISO 8601 text (``2025-01-31T09:00:00.000Z``); None for null."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        ts = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise MissingInput(f"not a date: {text[:40]!r}") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def number(value: Any, what: str) -> int:
    """An integer setting; absent is 0; anything else is not data a check may judge."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise MissingInput(f"{what} is not a number: {str(value)[:40]!r}")
    return int(value)


def user_label(user: Resource) -> str:
    profile = user.attributes.get("profile")
    login = profile.get("login") if isinstance(profile, Mapping) else None
    return str(login or user.name or user.id.rsplit(":", 1)[-1])


def can_sign_in(user: Resource) -> bool:
    return str(need(user, "status")) in ACTIVE_STATUSES


def active_factors(user: Resource) -> list[Mapping[str, Any]]:
    """The factors the user has enrolled and activated (PENDING_ACTIVATION ones cannot be used)."""
    factors = need(user, "Factors")
    if not isinstance(factors, list):
        raise MissingInput("Factors is not a list")
    return [f for f in factors if isinstance(f, Mapping) and str(f.get("status") or "") == "ACTIVE"]


def describe(factors: Iterable[Mapping[str, Any]]) -> str:
    names = sorted({f"{f.get('factorType')} ({f.get('provider')})" for f in factors})
    return ", ".join(names) or "none"


def org_of(ctx: Context) -> Resource:
    found = ctx.snapshot.of_type(ORG_TYPE)
    if not found:
        raise MissingInput("the org resource (okta.org) was not collected")
    return found[0]


# -- sign-on policy rules ------------------------------------------------------------------------------

# rule condition -> the value under which it narrows nothing
_NEUTRAL: dict[str, Callable[[Any], bool]] = {
    "network": lambda v: not v or str(v.get("connection") or "ANYWHERE") == "ANYWHERE",
    "authContext": lambda v: not v or str(v.get("authType") or "ANY") == "ANY",
    "riskScore": lambda v: not v or str(v.get("level") or "ANY") == "ANY",
    "risk": lambda v: not v or not v.get("behaviors"),
}


def _people(people: Any) -> list[str]:
    out: list[str] = []
    if not isinstance(people, Mapping):
        return out
    for key in ("users", "groups"):
        part = people.get(key) or {}
        if not isinstance(part, Mapping):
            continue
        if part.get("include"):
            out.append(f"only {len(part['include'])} named {key}")
        if part.get("exclude"):
            out.append(f"excludes {len(part['exclude'])} {key}")
    return out


def narrowing(rule: Mapping[str, Any]) -> list[str]:
    """Why a rule may not apply to every sign-in its policy covers (empty: it applies to all).
    A condition not understood here counts as narrowing: the walk then looks at later rules too."""
    conditions = rule.get("conditions") or {}
    if not isinstance(conditions, Mapping):
        return ["unreadable conditions"]
    out = _people(conditions.get("people"))
    for key, value in conditions.items():
        if key == "people" or value in (None, {}, []):
            continue
        neutral = _NEUTRAL.get(key)
        try:
            if neutral is not None and neutral(value):
                continue
        except AttributeError:
            pass
        if key == "network" and isinstance(value, Mapping):
            out.append(f"only network {value.get('connection')}")
        else:
            out.append(f"condition {key}")
    return out


def _priority(item: Mapping[str, Any]) -> float:
    p = item.get("priority")
    return float(p) if isinstance(p, int | float) and not isinstance(p, bool) else float("inf")


def _active(items: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(items, list):
        raise MissingInput(f"{what} is not a list")
    found = [i for i in items if isinstance(i, Mapping) and str(i.get("status") or "") == "ACTIVE"]
    return sorted(found, key=_priority)


@dataclass
class Walk:
    """What a walk through policies in evaluation order found: rules that require MFA, and rules that let
    someone in without it (``holes``, with the rule objects in ``hole_rules``)."""

    covered: list[str] = field(default_factory=list)
    holes: list[str] = field(default_factory=list)
    hole_rules: list[Mapping[str, Any]] = field(default_factory=list)


def walk_rules(
    policies: Any, what: str, access_of: Callable[[Mapping[str, Any]], str], mfa: Callable[[Mapping[str, Any]], bool]
) -> Walk:
    """Rules apply first match first, by priority, within each active policy. A reachable rule that
    allows access without MFA is a hole whatever its conditions (a zone, a group: those sign-ins skip
    MFA); a rule that applies to every sign-in of its policy ends the walk through that policy."""
    walk = Walk()
    for policy in _active(policies, what):
        if "rules" not in policy:
            raise MissingInput(f"the rules of {what} policy {policy.get('name')!r} were not collected")
        for rule in _active(policy.get("rules"), f"the rules of {policy.get('name')!r}"):
            narrow = narrowing(rule)
            label = f"rule {rule.get('name')!r} of policy {policy.get('name')!r}"
            access = access_of(rule)
            if access == "ALLOW" and mfa(rule):
                walk.covered.append(label)
            elif access == "ALLOW":
                walk.holes.append(label + (f" ({', '.join(narrow)})" if narrow else ""))
                walk.hole_rules.append(rule)
            if not narrow:
                break  # every later rule of this policy is unreachable
    return walk
