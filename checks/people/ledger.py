"""The people ledger: leavers' access removed, every account someone's, MFA wherever a person has
access, background checks and security training done within the onboarding window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
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
    not_applicable,
    passed,
)
from checks.people._people import (
    IDENTITY_TYPE,
    PERSON_TYPE,
    day_of,
    identities,
    identity_label,
    identity_problem,
    label,
    left_by,
    listed,
    midnight,
    setting,
    source_times,
)

DOCS = "https://github.com/posture-agent/posture-agent/blob/main/docs/people.md"
_NEEDS = (
    "read access to the roster and identity map files; the identity sources (okta, googleworkspace, github, "
    "azure with Entra ID, aws with IAM) collected by this agent within max_identity_age"
)
_JOIN_READS = (
    "roster: email, end_date; identity map: provider:login or email -> person",
    "identity sources' stored identities: identity.active (okta.user, googleworkspace.user, github.member), "
    "accountEnabled (azure.entra.user), credential report password_enabled and access keys (aws.iam.user)",
)


def _active(entry: Mapping[str, Any]) -> bool | None:
    """True/False when the source said, None when it could not be told."""
    if "active" in (entry.get("unknown") or []):
        return None
    return entry.get("active") is True


@check(
    id="people.person.leaver_access_removed",
    title="People who left hold no active identity after the offboarding grace period (default 1 day)",
    severity=Severity.HIGH,
    resource_type=PERSON_TYPE,
    rationale=(
        "An account that outlives its owner's employment is access nobody is accountable for: a former "
        "employee, or whoever takes over their credentials, can still sign in. Offboarding must reach every "
        "system, not only the identity provider: GitHub, cloud IAM users and directories joined by email or by "
        "the identity map count alike."
    ),
    remediation=Remediation(
        console=(
            "1. For each identity listed, deactivate or remove the account in its system: suspend or deprovision "
            "the Okta or Google Workspace user, disable the Entra ID user, remove the GitHub member from the "
            "organisation, delete the IAM user's console password and access keys.\n"
            "2. Transfer what the person owned (repositories, documents, service credentials) to their manager.\n"
            "3. Add every system found here to the offboarding checklist so the next leaver's access is removed "
            "within the grace period."
        ),
        cli=(
            "aws iam delete-login-profile --user-name <user> && aws iam update-access-key --user-name <user> "
            "--access-key-id <key> --status Inactive; "
            "gh api -X DELETE orgs/<org>/memberships/<login>"
        ),
        docs=DOCS,
    ),
    reads=_JOIN_READS,
    needs=_NEEDS,
)
def leaver_access_removed(person: Resource, ctx: Context) -> Verdict:
    end = day_of(person, "end_date")
    if end is None:
        return not_applicable(f"{label(person)} has no end date: still employed")
    deadline = midnight(end + timedelta(days=1)) + setting(ctx, "offboarding_grace_seconds")
    when = f"{deadline:%Y-%m-%d %H:%M} UTC"
    if ctx.now <= deadline:
        return not_applicable(f"{label(person)} leaves on {end}: their accounts may stay active until {when}")
    held = identities(person)
    times = source_times(ctx)
    still: list[Mapping[str, Any]] = []
    unsure: list[str] = []
    for entry in held:
        active = _active(entry)
        seen = times.get(str(entry.get("source")))
        if active is None:
            unsure.append(f"whether {identity_label(entry)} can sign in is unknown")
        elif active and seen is not None and seen > deadline:
            still.append(entry)
        elif active:  # seen active, but before the deadline: what it is now is not known
            unsure.append(f"{identity_label(entry)} was active when last collected, before {when}")
    if still:
        return failed(
            f"{label(person)} left on {end} and still has {len(still)} active identit"
            f"{'y' if len(still) == 1 else 'ies'} after {when}: {listed(still)}",
            observed="; ".join(f"{identity_label(e)} seen at {times.get(str(e.get('source')))}" for e in still),
        )
    problem = identity_problem(person)
    if unsure or problem:
        raise MissingInput("; ".join([*unsure, *([problem] if problem else [])]))
    return passed(
        f"{label(person)} left on {end}; none of the identities joined to them ({len(held)}) can sign in"
        if held
        else f"{label(person)} left on {end}; no identity in any joined source belongs to them"
    )


@check(
    id="people.identity.belongs_to_person",
    title="Every active identity belongs to a person on the roster (or is a service account with a named owner)",
    severity=Severity.MEDIUM,
    resource_type=IDENTITY_TYPE,
    rationale=(
        "An account no person on the roster owns was never authorised through the joiner process, or outlived "
        "the person it was for under another address. Nobody reviews its access or removes it when it is no "
        "longer needed. Shared and service accounts are legitimate only with a named, accountable owner."
    ),
    remediation=Remediation(
        console=(
            "1. Find who uses the account (sign-in logs, the system's audit log, its display name).\n"
            "2. If it is a person on the roster under another address or login, add a line to the identity map "
            "(github:octocat,alice@example.com).\n"
            "3. If it is a service or shared account, name its owner in the identity map "
            "(github:release-bot,service:platform-team) and keep it in the access review.\n"
            "4. Otherwise deactivate or delete the account."
        ),
        cli="echo 'github:<login>,<person-email>' >> identity-map.csv",
        docs=DOCS,
    ),
    reads=(
        "roster: email; identity map: provider:login, email, *@domain -> person or service:<owner>",
        "identity sources' stored identities: email, login, active",
    ),
    needs=_NEEDS,
)
def belongs_to_person(identity: Resource, ctx: Context) -> Verdict:
    name = identity.name or identity.id
    source = identity.attributes.get("source")
    owner = identity.attributes.get("owner")
    if isinstance(owner, str) and owner:
        return passed(f"{name} ({source}) is a service account of {owner} per the identity map")
    if "active" in (identity.attributes.get("unknown") or []):
        raise MissingInput(f"{name} ({source}) belongs to nobody on the roster, and whether it can sign in is unknown")
    reason = identity.attributes.get("reason") or "it joins nobody on the roster"
    kind = "" if identity.attributes.get("human") is not False else " (a machine identity: name its owner)"
    return failed(f"{name} ({source}) can sign in and belongs to nobody on the roster{kind}: {reason}")


@check(
    id="people.person.mfa_everywhere",
    title="People use MFA on every active identity they hold, in every joined source",
    severity=Severity.HIGH,
    resource_type=PERSON_TYPE,
    rationale=(
        "MFA in the identity provider does not protect an account in a system that signs its users in "
        "itself: a GitHub member without 2FA, an IAM user with a console password and no MFA device, a "
        "directory user who never registered a method. One weak account is enough to reach what the person "
        "can reach."
    ),
    remediation=Remediation(
        console=(
            "1. For each identity listed, have the person enrol a second factor there: an authenticator or "
            "security key in Okta, 2-Step Verification in Google Workspace, a method in Entra ID "
            "(https://aka.ms/mysecurityinfo), 2FA on GitHub, an MFA device for the IAM user.\n"
            "2. Then enforce it in each system (Okta sign-on policy, 2SV enforcement, Conditional Access, the "
            "GitHub organisation's 2FA requirement) so it cannot be turned off again.\n"
            "3. Better: remove accounts that sign in on their own and federate them through the identity provider."
        ),
        cli="aws iam list-mfa-devices --user-name <user>",
        docs=DOCS,
    ),
    reads=(
        "roster: email, end_date",
        "identity sources' stored identities: identity.mfa (okta.user, googleworkspace.user, github.member), "
        "registration report isMfaCapable (azure.entra.user), credential report mfa_active (aws.iam.user)",
    ),
    needs=_NEEDS,
)
def mfa_everywhere(person: Resource, ctx: Context) -> Verdict:
    gone = left_by(person, ctx.now)
    if gone is not None:
        return not_applicable(
            f"{label(person)} left on {gone}: whether their accounts are gone is people.person.leaver_access_removed"
        )
    held = identities(person)
    # people sign in with human identities; a machine identity the person owns (an IAM user with keys only)
    # does not do MFA by design
    relevant = [e for e in held if _active(e) is not False and e.get("human") is not False]
    without = [e for e in relevant if _active(e) and e.get("mfa") is False]
    if without:
        return failed(
            f"{label(person)} has {len(without)} active identit{'y' if len(without) == 1 else 'ies'} without MFA: "
            f"{listed(without)}"
        )
    unknown = [e for e in relevant if e.get("mfa") is not True]
    problem = identity_problem(person)
    if unknown or problem:
        parts = [f"MFA of {listed(unknown)} could not be determined"] if unknown else []
        raise MissingInput("; ".join([*parts, *([problem] if problem else [])]))
    if not relevant:
        return not_applicable(f"{label(person)} holds no active identity in the joined sources")
    return passed(f"{label(person)} uses MFA on each of their {len(relevant)} active identities")


def _onboarding(person: Resource, ctx: Context, key: str, what: str, *, note_late: bool = True) -> Verdict:
    start = day_of(person, "start_date")
    if start is None:
        raise MissingInput(f"start_date of {label(person)} is empty")
    gone = left_by(person, ctx.now)
    if gone is not None:
        return not_applicable(f"{label(person)} left on {gone}")
    done = day_of(person, key)
    deadline = start + timedelta(days=setting(ctx, "onboarding_window_seconds").days)
    if done is not None and done <= ctx.now.date():
        late = f", after the onboarding window ended on {deadline}" if note_late and done > deadline else ""
        return passed(f"{label(person)} started on {start}; {what} on {done}{late}")
    if midnight(deadline + timedelta(days=1)) > ctx.now:
        if start > ctx.now.date():
            return not_applicable(f"{label(person)} starts on {start}")
        return not_applicable(f"{label(person)} started on {start}: the {what} is due by {deadline}")
    if done is not None:
        return failed(f"{label(person)} started on {start}; the {what} is dated {done}, a day still to come: not done")
    return failed(f"{label(person)} started on {start} and has no {what} recorded; it was due by {deadline}")


@check(
    id="people.person.background_check",
    title="People have a background check recorded within the onboarding window (default 30 days)",
    severity=Severity.MEDIUM,
    resource_type=PERSON_TYPE,
    rationale=(
        "Screening before or soon after hire is how the organisation shows it considered the trustworthiness "
        "of the people it gives access to (SOC 2 CC1.4). A roster without the date cannot show it was done."
    ),
    remediation=Remediation(
        console=(
            "1. Complete the background check through the screening provider, as local law allows.\n"
            "2. Record the completion date in the roster's background_check_date column (YYYY-MM-DD).\n"
            "3. Make the check a step of the hiring process, before access is granted."
        ),
        docs=DOCS,
    ),
    reads=("roster: start_date, end_date, background_check_date",),
    needs="read access to the roster file",
)
def background_check(person: Resource, ctx: Context) -> Verdict:
    return _onboarding(person, ctx, "background_check_date", "background check")


@check(
    id="people.person.security_training",
    title="People complete security awareness training within the onboarding window and then every year",
    severity=Severity.MEDIUM,
    resource_type=PERSON_TYPE,
    rationale=(
        "People can only follow security responsibilities they were told about (SOC 2 CC2.2). Training on "
        "hire, and again each year, is the evidence that they were; a record older than a year shows the "
        "yearly refresher was missed."
    ),
    remediation=Remediation(
        console=(
            "1. Assign the security awareness course to the person in the training platform.\n"
            "2. When they complete it, record the date in the roster's security_training_date column (YYYY-MM-DD).\n"
            "3. Schedule the yearly refresher for everyone."
        ),
        docs=DOCS,
    ),
    params={"max_age_days": 365},
    reads=("roster: start_date, end_date, security_training_date",),
    needs="read access to the roster file",
)
def security_training(person: Resource, ctx: Context) -> Verdict:
    # the roster keeps the latest training: after the window it is a yearly refresher, not a late first one
    verdict = _onboarding(person, ctx, "security_training_date", "security training", note_late=False)
    if verdict.status.value != "pass":
        return verdict
    max_age = ctx.params.get("max_age_days")
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 1:
        raise MissingInput(f"max_age_days is not a positive whole number: {max_age!r}")
    done = day_of(person, "security_training_date")
    assert done is not None  # a pass above means a date was recorded
    if (ctx.now.date() - done).days > max_age:
        return failed(f"{label(person)} last completed security training on {done}, over {max_age} days ago")
    return verdict
