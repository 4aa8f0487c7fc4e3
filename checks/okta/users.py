"""Okta users: a strong second factor, phishing-resistant MFA for administrators, unused accounts."""

from __future__ import annotations

from collections.abc import Mapping

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
from checks.okta._okta import (
    DOCS,
    ORG_TYPE,
    PHISHING_RESISTANT,
    STRONG_FACTORS,
    USER_TYPE,
    active_factors,
    can_sign_in,
    describe,
    number,
    org_of,
    parse_time,
    user_label,
)

_CURL = 'curl -s -H "Authorization: SSWS $OKTA_API_TOKEN" "https://$OKTA_ORG/api/v1/users/<user-id>/'
_READS_USERS = "GET /api/v1/users: status, profile.login"
_READS_FACTORS = "GET /api/v1/users/{id}/factors: factorType, provider, status"
_READS_ROLES = "GET /api/v1/users/{id}/roles: type, label, status"
_NEEDS = "okta.users.read (OAuth) or an API token of a Read-Only Administrator"


@check(
    id="okta.user.strong_factor_enrolled",
    title="Active Okta users have a strong second factor enrolled (not only SMS, voice, email or a question)",
    severity=Severity.HIGH,
    resource_type=USER_TYPE,
    rationale=(
        "A password alone is phished, sprayed or reused from other breaches. Codes sent by SMS or voice fall to "
        "SIM swaps and interception, email codes to the mailbox the same password often opens, and a security "
        "question is one more thing known: only a possession factor such as Okta Verify, a TOTP app, a token, "
        "a security key or FastPass stops these attacks."
    ),
    remediation=Remediation(
        console=(
            "1. Admin Console > Security > Authenticators: enable Okta Verify (push/FastPass) and FIDO2 (WebAuthn); "
            "set Phone and Email to 'recovery only' or lower.\n"
            "2. Security > Authenticators > Enrollment tab: in every authenticator enrollment policy set Okta Verify "
            "or FIDO2 (WebAuthn) to Required.\n"
            "3. Directory > People > the user > Reset Authenticators if they must re-enroll; ask them to enroll "
            "at the next sign-in (Settings > Security Methods)."
        ),
        cli=_CURL + "factors\" | jq '.[] | {factorType, provider, status}'",
        docs=DOCS + "policies/create-mfa-policy.htm",
    ),
    reads=(_READS_USERS, _READS_FACTORS),
    needs=_NEEDS,
)
def strong_factor_enrolled(user: Resource, ctx: Context) -> Verdict:
    if not can_sign_in(user):
        return not_applicable(f"user {user_label(user)} is {need(user, 'status')} and cannot sign in")
    factors = active_factors(user)
    strong = [f for f in factors if str(f.get("factorType")) in STRONG_FACTORS]
    if strong:
        return passed(f"user {user_label(user)} has a strong factor enrolled: {describe(strong)}")
    if factors:
        return failed(
            f"user {user_label(user)} has only weak factors enrolled: {describe(factors)} "
            "(SMS, voice, email and security questions are not strong factors)"
        )
    return failed(f"user {user_label(user)} can sign in and has no active factor enrolled")


def _admin_roles(user: Resource) -> list[str]:
    roles = need(user, "Roles")
    if not isinstance(roles, list):
        raise MissingInput("Roles is not a list")
    held = [r for r in roles if isinstance(r, Mapping) and str(r.get("status") or "ACTIVE") == "ACTIVE"]
    return sorted({str(r.get("label") or r.get("type") or "?") for r in held})


@check(
    id="okta.user.admin_phishing_resistant_mfa",
    title="Okta administrators have a phishing-resistant factor enrolled (FIDO2/WebAuthn, U2F or FastPass)",
    severity=Severity.CRITICAL,
    resource_type=USER_TYPE,
    rationale=(
        "Administrator sessions are what attackers phish for with real-time proxies, which relay push approvals "
        "and one-time codes as easily as passwords. Only factors bound to the site's origin resist that: "
        "FIDO2/WebAuthn (security keys, passkeys), FIDO U2F and Okta FastPass."
    ),
    remediation=Remediation(
        console=(
            "1. Admin Console > Security > Authenticators: add FIDO2 (WebAuthn) and/or Okta Verify with FastPass.\n"
            "2. Have each administrator enroll a security key, passkey or FastPass (Settings > Security Methods).\n"
            "3. Security > Authentication Policies > Okta Admin Console: add a rule requiring a phishing-resistant "
            "possession factor for every administrator; remove admin roles nobody needs (Security > Administrators)."
        ),
        cli=_CURL + 'roles" && ' + _CURL + 'factors"',
        docs=DOCS + "authenticators/phishing-resistant-auth.htm",
    ),
    reads=(_READS_USERS, _READS_ROLES, _READS_FACTORS),
    needs=_NEEDS + "; okta.roles.read for the admin roles",
)
def admin_phishing_resistant_mfa(user: Resource, ctx: Context) -> Verdict:
    roles = _admin_roles(user)
    if not roles:
        return not_applicable(f"user {user_label(user)} holds no admin role")
    if not can_sign_in(user):
        return not_applicable(f"user {user_label(user)} holds {', '.join(roles)} but is {need(user, 'status')}")
    factors = active_factors(user)
    resistant = [f for f in factors if str(f.get("factorType")) in PHISHING_RESISTANT]
    if resistant:
        return passed(f"administrator {user_label(user)} ({', '.join(roles)}) has {describe(resistant)}")
    return failed(
        f"administrator {user_label(user)} ({', '.join(roles)}) has no phishing-resistant factor; "
        f"enrolled: {describe(factors)}"
    )


def _inactive_days(ctx: Context) -> int:
    days = number(need(org_of(ctx), "InactiveDays"), "InactiveDays")
    if days <= 0:
        raise MissingInput(f"InactiveDays must be positive, got {days}")
    return days


@check(
    id="okta.user.inactive",
    title="Okta users who have not signed in for inactive_days (default 90) are not left active",
    severity=Severity.MEDIUM,
    resource_type=USER_TYPE,
    requires=(ORG_TYPE,),
    rationale=(
        "Accounts nobody uses belong to leavers, old projects and forgotten contractors; nobody notices when they "
        "are taken over. The threshold is the source's inactive_days setting (default 90 days)."
    ),
    remediation=Remediation(
        console=(
            "1. Admin Console > Reports > System Log (or the Okta Password Health report, which lists each "
            "user's last login) to confirm the account's last sign-in.\n"
            "2. Confirm with the manager that the account is no longer needed.\n"
            "3. Directory > People > the user > More Actions > Suspend (or Deactivate); automate it with an "
            "Okta Workflows 'user inactivity' flow or lifecycle from your HR system."
        ),
        cli='curl -s -X POST -H "Authorization: SSWS $OKTA_API_TOKEN" '
        '"https://$OKTA_ORG/api/v1/users/<user-id>/lifecycle/suspend"',
        docs="https://help.okta.com/en/prod/Content/Topics/Directory/eu-suspend.htm",
    ),
    reads=("GET /api/v1/users: status, lastLogin, created",),
    needs=_NEEDS,
)
def inactive(user: Resource, ctx: Context) -> Verdict:
    if not can_sign_in(user):
        return not_applicable(f"user {user_label(user)} is {need(user, 'status')} and cannot sign in")
    days = _inactive_days(ctx)
    last = parse_time(need(user, "lastLogin"))
    if last is not None:
        if (ctx.now - last).days < days:
            return passed(
                f"user {user_label(user)} signed in within the last {days} days",
                observed=f"last sign-in {last.isoformat()}",
            )
        return failed(
            f"user {user_label(user)} is {need(user, 'status')} and last signed in on {last.date()}, "
            f"{days} or more days ago"
        )
    created = parse_time(user.attributes.get("created"))
    if created is not None and (ctx.now - created).days < days:
        return passed(f"user {user_label(user)} was created on {created.date()}, less than {days} days ago")
    when = f" (created {created.date()})" if created is not None else ""
    return failed(f"user {user_label(user)} is {need(user, 'status')} and has never signed in{when}")
