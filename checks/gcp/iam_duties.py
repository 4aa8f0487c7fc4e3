"""IAM separation of duties and service-account impersonation granted project-wide."""

from __future__ import annotations

from collections.abc import Callable

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, not_applicable, passed
from checks.gcp._members import is_service_agent, roles_by_member
from checks.gcp._reads import ASSET_VIEWER, IAM_DOCS, SEARCH_POLICIES
from checks.gcp._util import policy_of

SA_ADMIN, SA_USER, TOKEN_CREATOR = (
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/iam.serviceAccountTokenCreator",
)
KMS_ADMIN = "roles/cloudkms.admin"
CONTAINERS = (
    "cloudresourcemanager.googleapis.com/Project",
    "cloudresourcemanager.googleapis.com/Folder",
    "cloudresourcemanager.googleapis.com/Organization",
)


def _where(policy: Resource) -> str:
    return str(policy.attributes.get("resource") or policy.id).removeprefix("//")


def _kms_crypto(role: str) -> bool:
    """Cloud KMS CryptoKey Encrypter/Decrypter, Encrypter, Decrypter (and their ViaDelegation forms)."""
    name = role.removeprefix("roles/cloudkms.")
    return role.startswith("roles/cloudkms.cryptoKey") and ("Encrypter" in name or "Decrypter" in name)


@check(
    id="gcp.iam.no_service_account_user_at_project",
    title="Nobody can use or impersonate every service account of a project, folder or organisation",
    severity=Severity.HIGH,
    resource_type="gcp.iam.policy",
    rationale=(
        "Service Account User or Token Creator granted on a project (or folder, or organisation) lets "
        "the member act as every service account in it, including ones created later, and so gain all "
        "their roles. Grant these roles on the individual service account instead (CIS GCP 1.6)."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > IAM and filter by Role: Service Account User, then Service Account "
            "Token Creator.\n"
            "2. Remove the project-level binding and grant the role on the specific service account "
            "(IAM & Admin > Service Accounts > Permissions)."
        ),
        cli="gcloud projects remove-iam-policy-binding <project-id> --member=<member> "
        "--role=roles/iam.serviceAccountUser",
        docs=IAM_DOCS + "service-account-permissions",
    ),
    reads=(SEARCH_POLICIES,),
    needs=ASSET_VIEWER,
)
def no_service_account_user_at_project(policy: Resource, ctx: Context) -> Verdict:
    need(policy, "bindings")
    kind = str(need(policy, "assetType"))
    if kind not in CONTAINERS:
        return not_applicable(f"{_where(policy)} is a {kind.rsplit('/', 1)[-1]}, not a project, folder or organisation")
    held = roles_by_member(policy_of(policy), (SA_USER, TOKEN_CREATOR))
    grants = sorted(f"{m} has {r}" for m, roles in held.items() if not is_service_agent(m) for r in roles)
    if grants:
        return failed(f"{_where(policy)}: {'; '.join(grants)}")
    return passed(f"{_where(policy)} grants Service Account User and Token Creator to nobody at this level")


def _both(policy: Resource, admin: str, pick: Callable[[str], bool]) -> list[str]:
    """Members (service agents aside) holding ``admin`` and a role ``pick`` accepts."""
    out = []
    for member, roles in sorted(roles_by_member(policy_of(policy)).items()):
        uses = sorted(r for r in roles if pick(r))
        if admin in roles and uses and not is_service_agent(member):
            out.append(f"{member} has {admin} and {', '.join(uses)}")
    return out


@check(
    id="gcp.iam.service_account_duties_separated",
    title="Nobody both administers and uses service accounts",
    severity=Severity.MEDIUM,
    resource_type="gcp.iam.policy",
    rationale=(
        "Service Account Admin creates and manages service accounts; Service Account User runs workloads "
        "as them. One person holding both can create an account, grant it access and act through it "
        "without a second pair of eyes (CIS GCP 1.8)."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > IAM and find members holding both Service Account Admin and Service "
            "Account User.\n"
            "2. Remove one of the two roles from each and give it to someone else."
        ),
        cli="gcloud projects remove-iam-policy-binding <project-id> --member=<member> "
        "--role=roles/iam.serviceAccountUser",
        docs=IAM_DOCS + "understanding-roles#service-accounts-roles",
    ),
    reads=(SEARCH_POLICIES,),
    needs=ASSET_VIEWER,
)
def service_account_duties_separated(policy: Resource, ctx: Context) -> Verdict:
    need(policy, "bindings")
    both = _both(policy, SA_ADMIN, lambda r: r == SA_USER)
    if both:
        return failed(f"{_where(policy)}: {'; '.join(both)}")
    return passed(f"{_where(policy)} gives nobody both Service Account Admin and Service Account User")


@check(
    id="gcp.iam.kms_duties_separated",
    title="Nobody both administers Cloud KMS keys and encrypts or decrypts with them",
    severity=Severity.MEDIUM,
    resource_type="gcp.iam.policy",
    rationale=(
        "Cloud KMS Admin manages keys and their IAM policies; the CryptoKey Encrypter/Decrypter roles "
        "use them. One person holding both can grant themselves use of any key and read the data it "
        "protects (CIS GCP 1.11)."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > IAM and find members holding Cloud KMS Admin together with a CryptoKey "
            "Encrypter, Decrypter or Encrypter/Decrypter role.\n"
            "2. Remove one side from each and give it to someone else."
        ),
        cli="gcloud projects remove-iam-policy-binding <project-id> --member=<member> "
        "--role=roles/cloudkms.cryptoKeyEncrypterDecrypter",
        docs="https://cloud.google.com/kms/docs/separation-of-duties",
    ),
    reads=(SEARCH_POLICIES,),
    needs=ASSET_VIEWER,
)
def kms_duties_separated(policy: Resource, ctx: Context) -> Verdict:
    need(policy, "bindings")
    both = _both(policy, KMS_ADMIN, _kms_crypto)
    if both:
        return failed(f"{_where(policy)}: {'; '.join(both)}")
    return passed(f"{_where(policy)} gives nobody both Cloud KMS Admin and a CryptoKey encrypt/decrypt role")
