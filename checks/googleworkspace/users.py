"""Google Workspace users: 2-Step Verification enrolled and enforced, administrators with 2SV, unused accounts."""

from __future__ import annotations

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
from checks.googleworkspace._workspace import (
    ADMIN_DOCS,
    CUSTOMER_TYPE,
    ENFORCE_STEPS,
    LIST_USERS,
    NEEDS,
    NEVER,
    USER_TYPE,
    flag,
    is_active,
    label,
    parse_time,
    setting,
)

_TOKEN = 'curl -H "Authorization: Bearer $(gcloud auth print-access-token)" '
_QUERY = _TOKEN + '"https://admin.googleapis.com/admin/directory/v1/users?customer=my_customer&query={query}"'
_ENROL = (
    "1. In the Google Admin console open Directory > Users, add the column '2-step verification enrollment' "
    "and filter on 'Not enrolled'.\n"
    "2. Ask each user to turn on 2-Step Verification at https://myaccount.google.com/signinoptions/two-step-"
    "verification (a security key or Google prompt, not SMS, where possible).\n"
    "3. Then enforce it: Security > Authentication > 2-step verification, Enforcement: On, with a short "
    "new-user enrolment period."
)


@check(
    id="googleworkspace.user.two_step_verification_enrolled",
    title="Active Google Workspace users are enrolled in 2-Step Verification",
    severity=Severity.HIGH,
    resource_type=USER_TYPE,
    rationale=(
        "A password alone is phished, guessed or reused from another breach. A user who has not enrolled in "
        "2-Step Verification signs in with the password only, unless enforcement blocks them."
    ),
    remediation=Remediation(
        console=_ENROL,
        cli=_QUERY.format(query="isEnrolledIn2Sv=false%20isSuspended=false"),
        docs=ADMIN_DOCS + "175197",
    ),
    reads=(LIST_USERS + ": suspended, archived, isEnrolledIn2Sv",),
    needs=NEEDS,
)
def two_step_verification_enrolled(user: Resource, ctx: Context) -> Verdict:
    if not is_active(user):
        return not_applicable(f"user {label(user)} is suspended or archived and cannot sign in")
    if flag(user, "isEnrolledIn2Sv"):
        return passed(f"user {label(user)} is enrolled in 2-Step Verification")
    if user.attributes.get("isEnforcedIn2Sv") is True:
        return failed(
            f"user {label(user)} is not enrolled in 2-Step Verification although it is enforced for them: within "
            "a new-user enrolment period they sign in with a password only, after it they are locked out"
        )
    return failed(f"user {label(user)} is not enrolled in 2-Step Verification and can sign in with a password only")


@check(
    id="googleworkspace.user.two_step_verification_enforced",
    title="2-Step Verification is enforced for every active Google Workspace user",
    severity=Severity.HIGH,
    resource_type=USER_TYPE,
    rationale=(
        "A user who enrolled voluntarily can turn 2-Step Verification off again, and a new user need never "
        "turn it on. Only enforcement, set for the user's organizational unit or group, makes it a control."
    ),
    remediation=Remediation(
        console=ENFORCE_STEPS,
        cli=_QUERY.format(query="isEnforcedIn2Sv=false%20isSuspended=false"),
        docs=ADMIN_DOCS + "9176657",
    ),
    reads=(LIST_USERS + ": suspended, archived, isEnforcedIn2Sv",),
    needs=NEEDS,
)
def two_step_verification_enforced(user: Resource, ctx: Context) -> Verdict:
    if not is_active(user):
        return not_applicable(f"user {label(user)} is suspended or archived and cannot sign in")
    if flag(user, "isEnforcedIn2Sv"):
        return passed(f"2-Step Verification is enforced for user {label(user)}")
    if user.attributes.get("isEnrolledIn2Sv") is True:
        return failed(
            f"2-Step Verification is not enforced for user {label(user)}: they enrolled, and can turn it off again"
        )
    return failed(f"2-Step Verification is not enforced for user {label(user)}")


def _admin_kind(user: Resource) -> str:
    """'super administrator', 'delegated administrator' or '' (MissingInput when it cannot be told)."""
    if user.attributes.get("isAdmin") is True:
        return "super administrator"
    if user.attributes.get("isDelegatedAdmin") is True:
        return "delegated administrator"
    flag(user, "isAdmin")  # neither is true: both must be known to say "not an administrator"
    flag(user, "isDelegatedAdmin")
    return ""


@check(
    id="googleworkspace.user.admin_two_step_verification",
    title="Google Workspace super and delegated administrators are enrolled in 2-Step Verification",
    severity=Severity.CRITICAL,
    resource_type=USER_TYPE,
    rationale=(
        "A super administrator's password alone can take over every account, mailbox and document of the "
        "organisation, and a delegated administrator's the parts their role covers. Each must be enrolled in "
        "2-Step Verification, ideally with a security key."
    ),
    remediation=Remediation(
        console=(
            "1. In the Google Admin console open Directory > Users, filter on 'Admin role' and add the column "
            "'2-step verification enrollment'.\n"
            "2. Have each administrator who is not enrolled enrol now, with a security key or passkey; until "
            "then remove their administrator role (Directory > Users > user > Admin roles and privileges).\n"
            "3. Put administrators in an organizational unit or group where 2SV is enforced with security keys "
            "only (Security > Authentication > 2-step verification, Methods: Only security key)."
        ),
        cli=_QUERY.format(query="isAdmin=true%20isEnrolledIn2Sv=false"),
        docs=ADMIN_DOCS + "9011373",
    ),
    reads=(LIST_USERS + ": isAdmin, isDelegatedAdmin, suspended, archived, isEnrolledIn2Sv",),
    needs=NEEDS,
)
def admin_two_step_verification(user: Resource, ctx: Context) -> Verdict:
    kind = _admin_kind(user)
    if not kind:
        return not_applicable(f"user {label(user)} is not an administrator")
    if not is_active(user):
        return not_applicable(f"{kind} {label(user)} is suspended or archived and cannot sign in")
    if flag(user, "isEnrolledIn2Sv"):
        return passed(f"{kind} {label(user)} is enrolled in 2-Step Verification")
    return failed(f"{kind} {label(user)} is not enrolled in 2-Step Verification")


@check(
    id="googleworkspace.user.inactive",
    title="Active Google Workspace users have signed in within the inactivity period (default 90 days)",
    severity=Severity.MEDIUM,
    resource_type=USER_TYPE,
    requires=(CUSTOMER_TYPE,),
    rationale=(
        "An account nobody uses belongs to a leaver, an old project or a forgotten test, and nobody notices "
        "when it is taken over. Accounts without a sign-in for the period (the source's inactive_days) should "
        "be suspended."
    ),
    remediation=Remediation(
        console=(
            "1. In the Google Admin console open Directory > Users, add the column 'Last sign-in' and sort by it.\n"
            "2. Confirm with the user's manager that the account is no longer needed.\n"
            "3. Suspend it (user > Suspend user), transfer its data, then delete it after your retention period."
        ),
        cli=_TOKEN + "-X PUT -H 'Content-Type: application/json' -d '{\"suspended\": true}' "
        '"https://admin.googleapis.com/admin/directory/v1/users/<user-email>"',
        docs=ADMIN_DOCS + "33312",
    ),
    params={"days": None},
    reads=(LIST_USERS + ": suspended, archived, lastLoginTime, creationTime",),
    needs=NEEDS,
)
def inactive(user: Resource, ctx: Context) -> Verdict:
    if not is_active(user):
        return not_applicable(f"user {label(user)} is suspended or archived and cannot sign in")
    days = setting(ctx, "days", "inactive_days")
    raw = need(user, "lastLoginTime")
    try:
        last = parse_time(raw)
    except ValueError:
        raise MissingInput(f"lastLoginTime of {label(user)} is not a time: {raw!r}") from None
    if last > NEVER:
        if (ctx.now - last).days < days:
            return passed(f"user {label(user)} signed in within the last {days} days", observed=f"last sign-in {raw}")
        return failed(
            f"user {label(user)} is active and last signed in on {last.date()}, {days} or more days ago",
            observed=f"last sign-in {raw}",
        )
    raw_created = need(user, "creationTime")
    try:
        created = parse_time(raw_created)
    except ValueError:
        raise MissingInput(f"creationTime of {label(user)} is not a time: {raw_created!r}") from None
    if (ctx.now - created).days < days:
        return passed(f"user {label(user)} was created on {created.date()}, less than {days} days ago, not used yet")
    return failed(f"user {label(user)} is active and has never signed in since it was created on {created.date()}")
