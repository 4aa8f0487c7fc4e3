"""IAM: basic and administrator roles, public members, service-account keys."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, not_applicable, passed
from checks.gcp._members import BASIC_ROLES, is_admin_role, is_person, is_service_account, is_service_agent
from checks.gcp._reads import ASSET_VIEWER, IAM_DOCS, SEARCH_POLICIES
from checks.gcp._util import PUBLIC_MEMBERS, bindings, days_since, parse_time, policy_of

LIST_KEYS = (
    "GET /v1/{scope}/assets?contentType=RESOURCE&assetTypes=iam.googleapis.com/ServiceAccountKey "
    "(Cloud Asset): keyType, disabled, validAfterTime"
)


def _where(policy: Resource) -> str:
    return str(policy.attributes.get("resource") or policy.id).removeprefix("//")


@check(
    id="gcp.iam.no_primitive_roles_for_users",
    title="People are not granted the basic Owner or Editor roles",
    severity=Severity.HIGH,
    resource_type="gcp.iam.policy",
    rationale=(
        "Owner and Editor grant thousands of permissions across every service of a project. People "
        "should receive predefined or custom roles that match their job (least privilege). People "
        "include groups, domains, workforce identity pools (principal:// and principalSet://) and "
        "deleted users, whose bindings come back if the account is restored."
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
    reads=(SEARCH_POLICIES,),
    needs=ASSET_VIEWER,
)
def no_primitive_roles_for_users(policy: Resource, ctx: Context) -> Verdict:
    need(policy, "bindings")
    grants = sorted({f"{m} has {r}" for r, m in bindings(policy_of(policy)) if r in BASIC_ROLES and is_person(m)})
    if grants:
        return failed(f"{_where(policy)}: {'; '.join(grants)}")
    return passed(f"{_where(policy)} grants no basic Owner/Editor role to people")


@check(
    id="gcp.iam.service_account_no_primitive_roles",  # id kept: finding ids must stay stable
    title="Service accounts hold no basic or administrator roles",
    severity=Severity.HIGH,
    resource_type="gcp.iam.policy",
    rationale=(
        "A service account with Owner, Editor or an administrator role (projectIamAdmin, any *Admin "
        "or *.admin role) turns any compromise of its workload into control of the project. Google's "
        "own service agents, which receive Editor automatically, are not counted; the default Compute "
        "Engine and App Engine service accounts are (CIS GCP 1.5)."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > IAM and find the service account.\n"
            "2. Replace Owner/Editor/administrator roles with the specific roles the workload uses (IAM "
            "Recommender helps).\n"
            "3. Save."
        ),
        cli="gcloud projects remove-iam-policy-binding <project-id> --member=serviceAccount:<email> "
        "--role=roles/editor",
        docs=IAM_DOCS + "service-account-overview#service-account-permissions",
    ),
    reads=(SEARCH_POLICIES,),
    needs=ASSET_VIEWER,
)
def service_account_no_primitive_roles(policy: Resource, ctx: Context) -> Verdict:
    need(policy, "bindings")
    grants = sorted(
        {
            f"{m} has {r}"
            for r, m in bindings(policy_of(policy))
            if is_admin_role(r) and is_service_account(m) and not is_service_agent(m)
        }
    )
    if grants:
        return failed(f"{_where(policy)}: {'; '.join(grants)}")
    return passed(
        f"{_where(policy)} grants no basic or administrator role to service accounts (Google service agents aside)"
    )


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
        cli="gcloud projects remove-iam-policy-binding <project-id> --member=allAuthenticatedUsers --role=<role>",
        docs=IAM_DOCS + "overview#all-users",
    ),
    reads=(SEARCH_POLICIES,),
    needs=ASSET_VIEWER,
)
def no_public_members(policy: Resource, ctx: Context) -> Verdict:
    need(policy, "bindings")
    grants = sorted({f"{m} has {r}" for r, m in bindings(policy_of(policy)) if m in PUBLIC_MEMBERS})
    if grants:
        return failed(f"{_where(policy)} is public: {'; '.join(grants)}")
    return passed(f"{_where(policy)} grants nothing to allUsers or allAuthenticatedUsers")


def _key_name(key: Resource) -> str:
    return str(key.attributes.get("name") or key.id).rsplit("/", 1)[-1]


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
    reads=(LIST_KEYS,),
    needs=ASSET_VIEWER,
)
def service_account_key_rotated_90d(key: Resource, ctx: Context) -> Verdict:
    key_type = str(need(key, "keyType"))
    name = _key_name(key)
    if key_type != "USER_MANAGED":
        return not_applicable(f"key {name} is {key_type.lower()}: Google rotates it")
    if key.attributes.get("disabled") is True:
        return not_applicable(f"key {name} is disabled")
    created = parse_time(need(key, "validAfterTime"))
    limit = int(ctx.params.get("max_days", 90))
    if days_since(created, ctx.now) > limit:
        return failed(f"user-managed key {name} was created on {created.date()}, more than {limit} days ago")
    return passed(f"user-managed key {name} was created on {created.date()}, within {limit} days")


@check(
    id="gcp.iam.service_account_no_user_managed_keys",
    title="Service accounts have only Google-managed keys",
    severity=Severity.MEDIUM,
    resource_type="gcp.iam.service_account_key",
    rationale=(
        "A user-managed key is a private key someone downloaded: it works from anywhere until it is "
        "deleted, and it leaks through laptops, repositories and chat. Workload identity, attached "
        "service accounts and impersonation need no downloadable key (CIS GCP 1.4). A disabled key "
        "still exists and can be enabled again."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > Service Accounts and choose the account.\n"
            "2. On Keys, delete each user-managed key after moving its users to keyless access.\n"
            "3. Enforce the organization policy iam.disableServiceAccountKeyCreation."
        ),
        cli="gcloud iam service-accounts keys delete <key-id> --iam-account=<email>",
        docs=IAM_DOCS + "best-practices-for-managing-service-account-keys",
    ),
    reads=(LIST_KEYS,),
    needs=ASSET_VIEWER,
)
def service_account_no_user_managed_keys(key: Resource, ctx: Context) -> Verdict:
    key_type = str(need(key, "keyType"))
    name = _key_name(key)
    if key_type == "USER_MANAGED":
        state = " (disabled, but it can be enabled again)" if key.attributes.get("disabled") is True else ""
        return failed(f"service-account key {name} is user-managed{state}")
    return passed(f"service-account key {name} is {key_type.lower()}")
