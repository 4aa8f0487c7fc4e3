"""IAM: primitive roles, public members, service-account keys."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, not_applicable, passed
from checks.gcp._util import PUBLIC_MEMBERS, bindings, days_since, parse_time, policy_of

IAM_DOCS = "https://cloud.google.com/iam/docs/"
PRIMITIVE = ("roles/owner", "roles/editor")


def _where(policy: Resource) -> str:
    return str(policy.attributes.get("resource") or policy.id).removeprefix("//")


@check(
    id="gcp.iam.no_primitive_roles_for_users",
    title="People are not granted the basic Owner or Editor roles",
    severity=Severity.HIGH,
    resource_type="gcp.iam.policy",
    rationale=(
        "Owner and Editor grant thousands of permissions across every service of a project. People "
        "should receive predefined or custom roles that match their job (least privilege)."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > IAM for the project, folder or organisation.\n"
            "2. Edit the principal and replace Owner/Editor with narrower predefined roles.\n"
            "3. Save."
        ),
        cli="gcloud projects remove-iam-policy-binding <project-id> --member=user:<email> --role=roles/owner",
        docs=IAM_DOCS + "understanding-roles#basic",
    ),
)
def no_primitive_roles_for_users(policy: Resource, ctx: Context) -> Verdict:
    need(policy, "bindings")
    grants = sorted({f"{m} has {r}" for r, m in bindings(policy_of(policy))
                     if r in PRIMITIVE and m.startswith(("user:", "group:", "domain:"))})
    if grants:
        return failed(f"{_where(policy)}: {'; '.join(grants)}")
    return passed(f"{_where(policy)} grants no basic Owner/Editor role to people")


@check(
    id="gcp.iam.service_account_no_primitive_roles",
    title="Service accounts are not granted the basic Owner or Editor roles",
    severity=Severity.HIGH,
    resource_type="gcp.iam.policy",
    rationale=(
        "A workload identity with Owner or Editor turns any compromise of that workload into control "
        "of the whole project. Grant service accounts only the roles their workload needs."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > IAM and find the service account.\n"
            "2. Replace Owner/Editor with the specific roles the workload uses (IAM Recommender helps).\n"
            "3. Save."
        ),
        cli="gcloud projects remove-iam-policy-binding <project-id> --member=serviceAccount:<email> "
            "--role=roles/editor",
        docs=IAM_DOCS + "service-account-overview#service-account-permissions",
    ),
)
def service_account_no_primitive_roles(policy: Resource, ctx: Context) -> Verdict:
    need(policy, "bindings")
    grants = sorted({f"{m} has {r}" for r, m in bindings(policy_of(policy))
                     if r in PRIMITIVE and m.startswith("serviceAccount:")})
    if grants:
        return failed(f"{_where(policy)}: {'; '.join(grants)}")
    return passed(f"{_where(policy)} grants no basic Owner/Editor role to service accounts")


@check(
    id="gcp.iam.no_public_members",
    title="IAM policies grant nothing to allUsers or allAuthenticatedUsers",
    severity=Severity.CRITICAL,
    resource_type="gcp.iam.policy",
    rationale=(
        "allUsers is anyone on the internet and allAuthenticatedUsers is anyone with a Google account. "
        "A binding to either makes the resource public."
    ),
    remediation=Remediation(
        console=(
            "1. Open the resource's Permissions (or IAM & Admin > IAM for a project).\n"
            "2. Remove allUsers and allAuthenticatedUsers from every role.\n"
            "3. Save."
        ),
        cli="gcloud projects remove-iam-policy-binding <project-id> --member=allAuthenticatedUsers "
            "--role=<role>",
        docs=IAM_DOCS + "overview#all-users",
    ),
)
def no_public_members(policy: Resource, ctx: Context) -> Verdict:
    need(policy, "bindings")
    grants = sorted({f"{m} has {r}" for r, m in bindings(policy_of(policy)) if m in PUBLIC_MEMBERS})
    if grants:
        return failed(f"{_where(policy)} is public: {'; '.join(grants)}")
    return passed(f"{_where(policy)} grants nothing to allUsers or allAuthenticatedUsers")


@check(
    id="gcp.iam.service_account_key_rotated_90d",
    title="User-managed service-account keys are younger than 90 days",
    severity=Severity.MEDIUM,
    resource_type="gcp.iam.service_account_key",
    rationale=(
        "A downloaded key is a long-lived credential that can leak from laptops and repositories. "
        "Keys older than 90 days should be replaced, or better, removed in favour of workload identity."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > Service Accounts and choose the account.\n"
            "2. On Keys, add a new key, deploy it, then delete the old key."
        ),
        cli="gcloud iam service-accounts keys delete <key-id> --iam-account=<email>",
        docs=IAM_DOCS + "keys-create-delete",
    ),
    params={"max_days": 90},
)
def service_account_key_rotated_90d(key: Resource, ctx: Context) -> Verdict:
    key_type = str(need(key, "keyType"))
    name = str(key.attributes.get("name") or key.id).rsplit("/", 1)[-1]
    if key_type != "USER_MANAGED":
        return not_applicable(f"key {name} is {key_type.lower()}: Google rotates it")
    if key.attributes.get("disabled") is True:
        return not_applicable(f"key {name} is disabled")
    age = days_since(parse_time(need(key, "validAfterTime")), ctx.now)
    limit = int(ctx.params.get("max_days", 90))
    if age > limit:
        return failed(f"user-managed key {name} is {age} days old (limit {limit})")
    return passed(f"user-managed key {name} is {age} days old")
