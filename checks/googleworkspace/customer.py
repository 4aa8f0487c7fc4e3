"""The Google Workspace customer: 2-Step Verification enforced for everyone, few super administrators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.models import Resource
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed
from checks.googleworkspace._workspace import (
    ADMIN_DOCS,
    CUSTOMER_TYPE,
    ENFORCE_STEPS,
    LIST_USERS,
    NEEDS,
    USER_TYPE,
    setting,
)


def _summary(customer: Resource, key: str) -> Mapping[str, Any]:
    value = need(customer, key)
    if not isinstance(value, Mapping):
        raise MissingInput(f"{key} of the customer is not an object: {value!r}")
    return value


def _names(items: Any, count: int) -> str:
    shown = [str(i) for i in items or []]
    more = count - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


@check(
    id="googleworkspace.customer.two_step_verification_enforced",
    title="2-Step Verification is enforced for every active user of the Google Workspace customer",
    severity=Severity.HIGH,
    resource_type=CUSTOMER_TYPE,
    requires=(USER_TYPE,),
    rationale=(
        "Enforcement is set per organizational unit and group, and one unit left on 'off' exempts everyone in "
        "it. The Directory API does not return the policy, so this is derived from the users: enforced for "
        "the customer means isEnforcedIn2Sv is true for every active user (a unit with no active user is not seen)."
    ),
    remediation=Remediation(
        console=ENFORCE_STEPS,
        cli='curl -H "Authorization: Bearer $(gcloud auth print-access-token)" '
        '"https://admin.googleapis.com/admin/directory/v1/users?customer=my_customer'
        '&query=isEnforcedIn2Sv=false%20isSuspended=false"',
        docs=ADMIN_DOCS + "9176657",
    ),
    reads=(LIST_USERS + ": suspended, archived, isEnforcedIn2Sv (of every user)",),
    needs=NEEDS,
)
def two_step_verification_enforced(customer: Resource, ctx: Context) -> Verdict:
    tsv = _summary(customer, "TwoStepVerification")
    active = int(tsv.get("activeUsers") or 0)
    missing = int(tsv.get("notEnforcedCount") or 0)
    unknown = int(tsv.get("unknownCount") or 0)
    if missing:
        return failed(
            f"2-Step Verification is not enforced for {missing} of {active} active users: "
            f"{_names(tsv.get('notEnforced'), missing)}"
        )
    if unknown:
        raise MissingInput(
            f"whether 2-Step Verification is enforced is unknown for {unknown} active users: "
            f"{_names(tsv.get('unknown'), unknown)}"
        )
    if tsv.get("enforcedForAll") is not True:
        raise MissingInput(f"2-Step Verification enforcement was not derived: {tsv.get('enforcedForAll')!r}")
    return passed(f"2-Step Verification is enforced for all {active} active users")


@check(
    id="googleworkspace.customer.super_admin_count",
    title="Only a few Google Workspace users are super administrators (default at most 4)",
    severity=Severity.HIGH,
    resource_type=CUSTOMER_TYPE,
    requires=(USER_TYPE,),
    rationale=(
        "A super administrator can read every mailbox, reset every password and turn off every control; each "
        "one more is one more account whose takeover is total. Keep a few (the source's max_super_admins, "
        "Google advises a small number and a backup) and give everyone else a role with only the privileges "
        "they need."
    ),
    remediation=Remediation(
        console=(
            "1. In the Google Admin console open Account > Admin roles > Super Admin > Admins.\n"
            "2. For each super administrator who does not need every privilege, assign a prebuilt or custom role "
            "with only what they need (User Management Admin, Help Desk Admin, ...), then unassign Super Admin.\n"
            "3. Keep a break-glass super administrator with a security key, used only in an emergency."
        ),
        cli='curl -H "Authorization: Bearer $(gcloud auth print-access-token)" '
        '"https://admin.googleapis.com/admin/directory/v1/users?customer=my_customer&query=isAdmin=true"',
        docs=ADMIN_DOCS + "9011373",
    ),
    params={"max": None},
    reads=(LIST_USERS + ": isAdmin, suspended, archived (of every user)",),
    needs=NEEDS,
)
def super_admin_count(customer: Resource, ctx: Context) -> Verdict:
    limit = setting(ctx, "max", "max_super_admins")
    supers = _summary(customer, "SuperAdmins")
    active = [str(e) for e in supers.get("active") or []]
    unknown = int(supers.get("unknownCount") or 0)
    if len(active) > limit:
        return failed(f"{len(active)} active super administrators, more than {limit}: {', '.join(active)}")
    if unknown:
        raise MissingInput(
            f"whether {unknown} users are super administrators is unknown: {_names(supers.get('unknown'), unknown)}"
        )
    if not active:
        raise MissingInput("no active super administrator was found: the listing cannot be complete")
    return passed(f"{len(active)} active super administrators, at most {limit}: {', '.join(active)}")
