"""The Okta org's policies: does sign-in require MFA of everyone, and are passwords strong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.models import Resource
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)
from checks.okta._okta import DOCS, ORG_TYPE, Walk, number, walk_rules

_POLICIES = 'curl -s -H "Authorization: SSWS $OKTA_API_TOKEN" "https://$OKTA_ORG/api/v1/policies?type='
_NEEDS = "okta.policies.read (OAuth) or an API token of a Read-Only Administrator"


def _signon_access(rule: Mapping[str, Any]) -> str:
    signon = (rule.get("actions") or {}).get("signon") or {}
    return str(signon.get("access") or "") if isinstance(signon, Mapping) else ""


def _signon_mfa(rule: Mapping[str, Any]) -> bool:
    signon = (rule.get("actions") or {}).get("signon") or {}
    return isinstance(signon, Mapping) and signon.get("requireFactor") is True


def _app_sign_on(rule: Mapping[str, Any]) -> Mapping[str, Any]:
    found = (rule.get("actions") or {}).get("appSignOn") or {}
    return found if isinstance(found, Mapping) else {}


def _app_access(rule: Mapping[str, Any]) -> str:
    return str(_app_sign_on(rule).get("access") or "")


def _app_mfa(rule: Mapping[str, Any]) -> bool:
    method = _app_sign_on(rule).get("verificationMethod") or {}
    return isinstance(method, Mapping) and str(method.get("factorMode") or "") == "2FA"


def _identity_engine(rules: list[Mapping[str, Any]]) -> bool:
    """Identity Engine's global session rules name their primary factor; Classic Engine's do not. There,
    a session rule without MFA leaves the decision to the authentication policies of the apps."""
    return any("primaryFactor" in ((r.get("actions") or {}).get("signon") or {}) for r in rules)


def _list(walk: Walk, what: str) -> str:
    return f"{what}: " + "; ".join(walk.holes)


@check(
    id="okta.org.sign_on_mfa_required",
    title="Okta sign-on policies require MFA for everyone: no active rule allows a session with a password alone",
    severity=Severity.HIGH,
    resource_type=ORG_TYPE,
    rationale=(
        "Enrolled factors protect nothing unless sign-in asks for them. Rules are evaluated by priority, first match "
        "wins, so one rule that allows access without MFA for a network zone, a group or with exclusions lets those "
        "sign-ins skip MFA whatever the rules below it say. In Identity Engine a global session rule may leave MFA to "
        "the authentication policies; then every one of their rules that allows access must require two factors."
    ),
    remediation=Remediation(
        console=(
            "1. Admin Console > Security > Global Session Policy: in every active policy, edit each rule that allows "
            "access (including the Default Rule) and set 'Multifactor authentication (MFA) is' Required, prompting "
            "at every sign-in; remove 'In zone' exceptions that skip MFA.\n"
            "2. Identity Engine: Security > Authentication Policies: in every policy set each allowing rule's "
            "'User must authenticate with' to 'Any 2 factor types' (or a phishing-resistant possession factor).\n"
            "3. Classic Engine: Security > Authentication > Sign On: the same for the Okta sign-on policy's rules."
        ),
        cli=_POLICIES + 'OKTA_SIGN_ON" | jq ".[].id" # then GET /api/v1/policies/<id>/rules',
        docs=DOCS + "policies/add-okta-sign-on-policy-rule.htm",
    ),
    reads=(
        "GET /api/v1/policies?type=OKTA_SIGN_ON: status, priority; /rules: status, priority, conditions, "
        "actions.signon.access, requireFactor, primaryFactor",
        "GET /api/v1/policies?type=ACCESS_POLICY: status, priority; /rules: status, priority, conditions, "
        "actions.appSignOn.access, verificationMethod.factorMode (Identity Engine)",
    ),
    needs=_NEEDS,
)
def sign_on_mfa_required(org: Resource, ctx: Context) -> Verdict:
    session = walk_rules(need(org, "SignOnPolicies"), "global session", _signon_access, _signon_mfa)
    if not session.holes and not session.covered:
        return failed("no active global session (sign-on) policy rule allows sign-in with MFA")
    if not session.holes:
        return passed(f"every reachable sign-on rule that allows access requires MFA: {'; '.join(session.covered)}")
    if not _identity_engine(session.hole_rules):
        return failed(_list(session, "sign-in without MFA is allowed by") + " (Classic Engine sign-on policy)")
    try:
        apps = walk_rules(need(org, "AccessPolicies"), "authentication", _app_access, _app_mfa)
    except MissingInput as exc:
        raise MissingInput(
            f"global session rules leave MFA to the authentication policies, which were not read: {exc}"
        ) from None
    if not apps.holes and apps.covered:
        return passed(
            "global session rules without MFA leave it to the authentication policies, and every reachable "
            "authentication policy rule that allows access requires two factors"
        )
    if not apps.holes:
        return failed(
            _list(session, "global session rules without MFA")
            + "; and no authentication policy rule requires two factors"
        )
    return failed(
        _list(session, "global session rules without MFA") + ". " + _list(apps, "Access with one factor is allowed by")
    )


# -- passwords ---------------------------------------------------------------------------------------------

_CLASSES = ("minLowerCase", "minUpperCase", "minNumber", "minSymbol")


def _password_problems(policy: Mapping[str, Any], min_length: int, max_attempts: int) -> list[str]:
    settings = (policy.get("settings") or {}).get("password")
    if not isinstance(settings, Mapping):
        raise MissingInput(f"password policy {policy.get('name')!r} has no password settings")
    complexity = settings.get("complexity") or {}
    lockout = settings.get("lockout") or {}
    if not isinstance(complexity, Mapping) or not isinstance(lockout, Mapping):
        raise MissingInput(f"password policy {policy.get('name')!r} has unreadable settings")
    problems = []
    length = number(complexity.get("minLength"), "minLength")
    if length < min_length:
        problems.append(f"minimum length {length} (below {min_length})")
    classes = sum(1 for k in _CLASSES if number(complexity.get(k), k) > 0)
    dictionary = (complexity.get("dictionary") or {}).get("common") or {}
    if not (isinstance(dictionary, Mapping) and dictionary.get("exclude") is True) and classes < 3:
        problems.append(f"no common-password check and {classes} of 4 character classes required")
    attempts = number(lockout.get("maxAttempts"), "maxAttempts")
    if attempts <= 0:
        problems.append("no lockout after failed attempts")
    elif attempts > max_attempts:
        problems.append(f"lockout only after {attempts} failed attempts (more than {max_attempts})")
    return problems


def _provider(policy: Mapping[str, Any]) -> str:
    """Who masters the passwords the policy governs: OKTA (the default), ACTIVE_DIRECTORY or LDAP."""
    conditions = policy.get("conditions") or {}
    auth = conditions.get("authProvider") if isinstance(conditions, Mapping) else None
    if auth is None:
        return "OKTA"
    return str(auth.get("provider") or "OKTA") if isinstance(auth, Mapping) else "?"


@check(
    id="okta.org.password_policy_strong",
    title="Okta password policies require 12+ characters, a common-password check or complexity, and lockout",
    severity=Severity.MEDIUM,
    resource_type=ORG_TYPE,
    rationale=(
        "Short passwords, common ones and unlimited guesses fall to spraying and cracking. Each active policy for "
        "Okta-mastered users must require at least min_length characters (12, Okta's own recommendation), reject "
        "common passwords (NIST SP 800-63B's blocklist; three character classes are accepted instead) and lock the "
        "account after at most max_lockout_attempts failures (10)."
    ),
    remediation=Remediation(
        console=(
            "1. Admin Console > Security > Authenticators > Password > Actions > Edit (Classic Engine: Security > "
            "Authentication > Password).\n"
            "2. In every active policy for Okta users: Minimum length 12 or more; Common password check on; "
            "Lock out user after 10 or fewer unsuccessful attempts.\n"
            "3. Save; the settings apply at each user's next password change."
        ),
        cli=_POLICIES + 'PASSWORD" | jq ".[] | {name, status, complexity: .settings.password.complexity, '
        'lockout: .settings.password.lockout}"',
        docs=DOCS + "authenticators/configure-password.htm",
    ),
    params={"min_length": 12, "max_lockout_attempts": 10},
    reads=(
        "GET /api/v1/policies?type=PASSWORD: status, conditions.authProvider.provider, "
        "settings.password.complexity (minLength, minLowerCase, minUpperCase, minNumber, minSymbol, "
        "dictionary.common.exclude), settings.password.lockout.maxAttempts",
    ),
    needs=_NEEDS,
)
def password_policy_strong(org: Resource, ctx: Context) -> Verdict:
    policies = need(org, "PasswordPolicies")
    if not isinstance(policies, list):
        raise MissingInput("PasswordPolicies is not a list")
    active = [p for p in policies if isinstance(p, Mapping) and str(p.get("status") or "") == "ACTIVE"]
    if not active:
        return failed("no active password policy")
    own = [p for p in active if _provider(p) == "OKTA"]
    if not own:
        return not_applicable(
            "every active password policy is for Active Directory or LDAP users: their directory sets the rules"
        )
    min_length = int(ctx.params.get("min_length", 12))
    max_attempts = int(ctx.params.get("max_lockout_attempts", 10))
    weak = []
    for policy in own:
        problems = _password_problems(policy, min_length, max_attempts)
        if problems:
            weak.append(f"{policy.get('name')!r}: {', '.join(problems)}")
    if weak:
        return failed("weak password policy " + "; ".join(weak))
    names = ", ".join(repr(p.get("name")) for p in own)
    return passed(f"every active Okta password policy ({names}) is strong")
