"""Cloud Identity / Google Workspace: 2-Step Verification enforced for everyone (CIS GCP 1.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed
from checks.gcp._util import parse_time


def _target(policy: dict[str, Any]) -> str:
    query = policy.get("policyQuery") or {}
    group = str(query.get("group") or "")
    return f"group {group}" if group else f"org unit {query.get('orgUnit') or '?'}"


def _enforced(policy: dict[str, Any], now: datetime) -> tuple[bool, str]:
    since = ((policy.get("setting") or {}).get("value") or {}).get("enforcedFrom")
    if not since:
        return False, "not enforced"
    try:
        start = parse_time(since)
    except ValueError:
        return False, f"enforcement date {since!r} unreadable"
    if start > now:
        return False, f"enforced only from {since}"
    return True, f"enforced since {since}"


@check(
    id="gcp.cloudidentity.two_step_verification_enforced",
    title="2-Step Verification is enforced for every user",
    severity=Severity.HIGH,
    resource_type="gcp.cloudidentity.customer",
    rationale=(
        "A password alone is phished or guessed; 2-Step Verification that users may skip protects only "
        "those who opted in. Enforcement is set per organizational unit or group, and a unit's own policy "
        "replaces its parent's, so every policy must enforce it (CIS GCP 1.2)."
    ),
    remediation=Remediation(
        console=(
            "1. In the Google Admin console, open Security > Authentication > 2-Step Verification.\n"
            "2. Select the top organizational unit, allow users to turn it on and set Enforcement to On.\n"
            "3. Open each child unit and group that has its own setting and set it to Inherit or On."
        ),
        cli="",
        docs="https://support.google.com/a/answer/9176657",
    ),
    reads=(
        "GET https://cloudidentity.googleapis.com/v1/policies?filter=setting.type.matches("
        "'security.two_step_verification_enforcement') (Cloud Identity Policy API): policyQuery.orgUnit, "
        "policyQuery.group, policyQuery.sortOrder, setting.value.enforcedFrom, type",
    ),
    needs=(
        "a super administrator the agent's service account impersonates through domain-wide delegation "
        "(source option cloud_identity_admin), scope https://www.googleapis.com/auth/"
        "cloud-identity.policies.readonly; Cloud Identity Free/Premium or Google Workspace"
    ),
)
def two_step_verification_enforced(customer: Resource, ctx: Context) -> Verdict:
    policies = list(need(customer, "policies") or [])
    if not policies:
        return failed("no 2-Step Verification enforcement policy is set: by default it is not enforced")
    # per organizational unit or group, the policy with the highest sort order is the one in force
    winners: dict[str, dict[str, Any]] = {}
    for p in policies:
        target = _target(p)
        order = float((p.get("policyQuery") or {}).get("sortOrder") or 0)
        if target not in winners or order > float((winners[target].get("policyQuery") or {}).get("sortOrder") or 0):
            winners[target] = p
    gaps = []
    for target, p in sorted(winners.items()):
        ok, state = _enforced(p, ctx.now)
        if not ok:
            gaps.append(f"{target}: {state}")
    if gaps:
        return failed(f"2-Step Verification is not enforced everywhere: {'; '.join(gaps)}")
    return passed(f"2-Step Verification is enforced for {', '.join(sorted(winners))}")
