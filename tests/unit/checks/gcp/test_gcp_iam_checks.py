"""GCP IAM checks: basic and administrator roles, public members, keys, separation of duties, 2SV."""

from __future__ import annotations

import pytest
from gcp_check_fixtures import ERROR, FAIL, NA, PASS, Case, ago, case, policy, res, run

from agent.models import Resource
from checks.gcp import cloudidentity, iam, iam_duties
from checks.gcp._members import is_service_agent

WORKFORCE_SET = "principalSet://iam.googleapis.com/locations/global/workforcePools/contractors/group/ops"
WORKFORCE_ONE = "principal://iam.googleapis.com/locations/global/workforcePools/contractors/subject/alice"
AGENTS = [
    "serviceAccount:123456789012@cloudservices.gserviceaccount.com",
    "serviceAccount:service-123456789012@compute-system.iam.gserviceaccount.com",
    "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com",
    "serviceAccount:p123456789012-ab12cd@gcp-sa-cloud-sql.iam.gserviceaccount.com",
    "serviceAccount:service-org-100200300@gcp-sa-logging.iam.gserviceaccount.com",
]


def conditional(role: str, member: str) -> Resource:
    """A binding limited by an IAM condition: it still grants the role."""
    return Resource(
        provider="gcp",
        account="shop-prod",
        region="global",
        type="gcp.iam.policy",
        id="p#iamPolicy",
        attributes={
            "assetType": "cloudresourcemanager.googleapis.com/Project",
            "bindings": [
                {
                    "role": role,
                    "members": [member],
                    "condition": {
                        "title": "until june",
                        "expression": 'request.time < timestamp("2025-07-01T00:00:00Z")',
                    },
                }
            ],
        },
    )


def key(key_type: str = "USER_MANAGED", **kw: object) -> Resource:
    return res("gcp.iam.service_account_key", "k", keyType=key_type, **kw)


def tsv(*policies: dict[str, object]) -> Resource:
    return res("gcp.cloudidentity.customer", "my_customer", account="organizations/1", policies=list(policies))


def sv(org_unit: str, order: float, enforced_from: str | None = None, group: str = "") -> dict[str, object]:
    value = {"enforcedFrom": enforced_from} if enforced_from else {}
    return {
        "policyQuery": {"orgUnit": f"orgUnits/{org_unit}", "group": group, "sortOrder": order},
        "setting": {"type": "settings/security.two_step_verification_enforcement", "value": value},
        "type": "ADMIN",
    }


CASES = [
    # people with basic roles -------------------------------------------------------------------
    case(
        iam.no_primitive_roles_for_users,
        policy(("roles/owner", ["user:a@x.com"])),
        FAIL,
        "user:a@x.com has roles/owner",
        id="owner",
    ),
    case(
        iam.no_primitive_roles_for_users,
        policy(("roles/editor", ["group:eng@x.com"])),
        FAIL,
        "roles/editor",
        id="editor-group",
    ),
    case(
        iam.no_primitive_roles_for_users,
        policy(("roles/viewer", ["user:a@x.com"]), ("roles/owner", ["serviceAccount:s@x.iam.gserviceaccount.com"])),
        PASS,
        id="pass",
    ),
    case(iam.no_primitive_roles_for_users, policy(errors={"bindings": "PERMISSION_DENIED"}), ERROR, id="error"),
    case(
        iam.no_primitive_roles_for_users,
        policy(("roles/owner", [WORKFORCE_SET])),
        FAIL,
        "principalSet://",
        id="defect-workforce-principal-set",
        looks_fine="a workforce identity pool group is neither user: nor group:, but it is people",
    ),
    case(
        iam.no_primitive_roles_for_users,
        policy(("roles/editor", [WORKFORCE_ONE])),
        FAIL,
        "principal://",
        id="defect-workforce-principal",
    ),
    case(
        iam.no_primitive_roles_for_users,
        policy(("roles/editor", ["deleted:user:bob@x.com?uid=1234567890"])),
        FAIL,
        "deleted:user:bob",
        id="defect-deleted-user",
        looks_fine="a deleted user seems harmless, but undeleting the account restores the binding",
    ),
    case(
        iam.no_primitive_roles_for_users,
        policy(("roles/owner", ["deleted:group:old@x.com?uid=42"])),
        FAIL,
        id="defect-deleted-group",
    ),
    case(
        iam.no_primitive_roles_for_users,
        conditional("roles/owner", "user:temp@x.com"),
        FAIL,
        "temp@x.com",
        id="conditional",
        looks_fine="an IAM condition limits the binding in time but still grants Owner",
    ),
    # service accounts with basic or administrator roles -----------------------------------------
    case(
        iam.service_account_no_primitive_roles,
        policy(("roles/editor", ["serviceAccount:s@p.iam.gserviceaccount.com"])),
        FAIL,
        "serviceAccount:s@p",
        id="fail",
    ),
    case(iam.service_account_no_primitive_roles, policy(("roles/editor", ["user:a@x.com"])), PASS, id="pass"),
    case(iam.service_account_no_primitive_roles, policy(errors={"bindings": "x"}), ERROR, id="error"),
    case(
        iam.service_account_no_primitive_roles,
        policy(("roles/editor", AGENTS)),
        PASS,
        "service agents",
        id="defect-service-agents-editor",
    ),
    case(
        iam.service_account_no_primitive_roles,
        policy(("roles/resourcemanager.projectIamAdmin", ["serviceAccount:deployer@p.iam.gserviceaccount.com"])),
        FAIL,
        "projectIamAdmin",
        id="defect-project-iam-admin",
        looks_fine="projectIamAdmin is not Owner or Editor, yet it lets the account grant itself Owner",
    ),
    case(
        iam.service_account_no_primitive_roles,
        policy(
            ("roles/storage.admin", ["serviceAccount:etl@p.iam.gserviceaccount.com"]),
            ("roles/compute.instanceAdmin.v1", ["serviceAccount:ci@p.iam.gserviceaccount.com"]),
        ),
        FAIL,
        "instanceAdmin.v1",
        id="defect-service-admin-roles",
    ),
    case(
        iam.service_account_no_primitive_roles,
        policy(("roles/editor", ["serviceAccount:123456789012-compute@developer.gserviceaccount.com"])),
        FAIL,
        "-compute@developer",
        id="default-compute-sa",
        looks_fine="the default Compute Engine account is created by Google but runs your code: not a service agent",
    ),
    case(
        iam.service_account_no_primitive_roles,
        policy(("roles/editor", ["serviceAccount:shop-prod@appspot.gserviceaccount.com"])),
        FAIL,
        "appspot",
        id="default-app-engine-sa",
    ),
    case(
        iam.service_account_no_primitive_roles,
        policy(("roles/owner", ["serviceAccount:service-123456789012@shop-prod.iam.gserviceaccount.com"])),
        FAIL,
        "service-123456789012@shop-prod",
        id="agent-lookalike",
        looks_fine="named like a service agent, but it lives in your own project",
    ),
    # public members ------------------------------------------------------------------------------
    case(iam.no_public_members, policy(("roles/viewer", ["allUsers"])), FAIL, "allUsers", id="all-users"),
    case(
        iam.no_public_members,
        policy(("roles/viewer", ["allAuthenticatedUsers"])),
        FAIL,
        "public",
        id="all-auth",
        looks_fine="allAuthenticatedUsers sounds like 'our users' but is anyone with a Google account",
    ),
    case(iam.no_public_members, policy(("roles/viewer", ["domain:x.com"])), PASS, id="pass"),
    case(iam.no_public_members, policy(errors={"bindings": "x"}), ERROR, id="error"),
    # key age ---------------------------------------------------------------------------------------
    case(
        iam.service_account_key_rotated_90d,
        key(validAfterTime=ago(200)),
        FAIL,
        "created on 2024-11-13, more than 90 days ago",
        id="old",
    ),
    case(iam.service_account_key_rotated_90d, key(validAfterTime=ago(10)), PASS, id="young"),
    case(iam.service_account_key_rotated_90d, key("SYSTEM_MANAGED", validAfterTime=ago(900)), NA, id="system"),
    case(iam.service_account_key_rotated_90d, key(validAfterTime=ago(60)), FAIL, params={"max_days": 30}, id="param"),
    case(iam.service_account_key_rotated_90d, key(), ERROR, "validAfterTime", id="error"),
    case(
        iam.service_account_key_rotated_90d,
        key(validAfterTime=ago(200), validBeforeTime=ago(-3450)),
        FAIL,
        id="long-validity",
        looks_fine="validBeforeTime is years away, but the key is 200 days old",
    ),
    # user-managed keys -------------------------------------------------------------------------------
    case(iam.service_account_no_user_managed_keys, key(validAfterTime=ago(5)), FAIL, "user-managed", id="fail"),
    case(iam.service_account_no_user_managed_keys, key("SYSTEM_MANAGED"), PASS, id="pass"),
    case(
        iam.service_account_no_user_managed_keys,
        res("gcp.iam.service_account_key", "k", errors={"keyType": "denied"}),
        ERROR,
        id="error",
    ),
    case(
        iam.service_account_no_user_managed_keys,
        key(disabled=True),
        FAIL,
        "enabled again",
        id="disabled",
        looks_fine="a disabled key cannot be used today, but anyone with key admin can enable it",
    ),
    # project-level Service Account User / Token Creator -------------------------------------------------
    case(
        iam_duties.no_service_account_user_at_project,
        policy(("roles/iam.serviceAccountUser", ["user:dev@x.com"])),
        FAIL,
        "serviceAccountUser",
        id="fail",
    ),
    case(
        iam_duties.no_service_account_user_at_project,
        policy(("roles/iam.serviceAccountTokenCreator", ["serviceAccount:ci@p.iam.gserviceaccount.com"])),
        FAIL,
        "TokenCreator",
        id="token-creator-sa",
        looks_fine="a service account impersonating every other one is still privilege escalation",
    ),
    case(
        iam_duties.no_service_account_user_at_project,
        policy(("roles/iam.serviceAccountUser", ["user:dev@x.com"]), asset_type="iam.googleapis.com/ServiceAccount"),
        NA,
        id="on-service-account",
    ),
    case(
        iam_duties.no_service_account_user_at_project,
        policy(
            ("roles/iam.serviceAccountTokenCreator", ["serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com"])
        ),
        PASS,
        id="agent",
    ),
    case(iam_duties.no_service_account_user_at_project, policy(errors={"bindings": "x"}), ERROR, id="error"),
    # separation of duties ---------------------------------------------------------------------------------
    case(
        iam_duties.service_account_duties_separated,
        policy(
            ("roles/iam.serviceAccountAdmin", ["user:dave@x.com"]),
            ("roles/iam.serviceAccountUser", ["user:dave@x.com"]),
        ),
        FAIL,
        "dave@x.com",
        id="fail",
    ),
    case(
        iam_duties.service_account_duties_separated,
        policy(
            ("roles/iam.serviceAccountAdmin", ["user:dave@x.com"]),
            ("roles/iam.serviceAccountUser", ["user:erin@x.com"]),
        ),
        PASS,
        id="pass",
    ),
    case(iam_duties.service_account_duties_separated, policy(errors={"bindings": "x"}), ERROR, id="error"),
    case(
        iam_duties.service_account_duties_separated,
        policy(
            ("roles/iam.serviceAccountAdmin", ["group:platform@x.com"]),
            ("roles/viewer", ["user:dave@x.com"]),
            ("roles/iam.serviceAccountUser", ["group:platform@x.com"]),
        ),
        FAIL,
        "group:platform",
        id="same-group",
        looks_fine="no single user holds both, but every member of the group does",
    ),
    case(
        iam_duties.kms_duties_separated,
        policy(
            ("roles/cloudkms.admin", ["user:carol@x.com"]),
            ("roles/cloudkms.cryptoKeyEncrypterDecrypter", ["user:carol@x.com"]),
        ),
        FAIL,
        "carol",
        id="fail",
    ),
    case(
        iam_duties.kms_duties_separated,
        policy(
            ("roles/cloudkms.admin", ["user:carol@x.com"]),
            ("roles/cloudkms.cryptoKeyDecrypterViaDelegation", ["user:carol@x.com"]),
        ),
        FAIL,
        "ViaDelegation",
        id="via-delegation",
        looks_fine="the ViaDelegation decrypter role is not the plain Encrypter/Decrypter",
    ),
    case(
        iam_duties.kms_duties_separated,
        policy(
            ("roles/cloudkms.admin", ["user:carol@x.com"]),
            ("roles/cloudkms.cryptoKeyEncrypterDecrypter", ["serviceAccount:app@p.iam.gserviceaccount.com"]),
        ),
        PASS,
        id="pass",
    ),
    case(iam_duties.kms_duties_separated, policy(errors={"bindings": "x"}), ERROR, id="error"),
    # 2-Step Verification ----------------------------------------------------------------------------------
    case(
        cloudidentity.two_step_verification_enforced,
        tsv(sv("root", 101, "2024-01-15T00:00:00Z")),
        PASS,
        "org unit orgUnits/root",
        id="pass",
    ),
    case(
        cloudidentity.two_step_verification_enforced,
        tsv({**sv("root", 100.00049), "type": "SYSTEM"}, sv("root", 101, "2024-01-15T00:00:00Z")),
        PASS,
        id="admin-overrides-system-default",
    ),
    case(cloudidentity.two_step_verification_enforced, tsv(sv("root", 101)), FAIL, "not enforced", id="off"),
    case(cloudidentity.two_step_verification_enforced, tsv(), FAIL, "default", id="no-policy"),
    case(
        cloudidentity.two_step_verification_enforced,
        tsv(sv("root", 101, "2024-01-15T00:00:00Z"), sv("contractors", 102)),
        FAIL,
        "orgUnits/contractors",
        id="sub-unit-off",
        looks_fine="the top organizational unit enforces 2SV, but a child unit replaces it",
    ),
    case(
        cloudidentity.two_step_verification_enforced,
        tsv(sv("root", 101, "2025-09-01T00:00:00Z")),
        FAIL,
        "only from",
        id="future-date",
        looks_fine="enforcement is set, but starts after the evaluation date",
    ),
    case(
        cloudidentity.two_step_verification_enforced,
        tsv(sv("root", 101, "2024-01-15T00:00:00Z"), sv("root", 101, group="groups/break-glass")),
        FAIL,
        "group groups/break-glass",
        id="group-exempt",
    ),
    case(
        cloudidentity.two_step_verification_enforced,
        res("gcp.cloudidentity.customer", "c", errors={"policies": "PERMISSION_DENIED: not a super admin"}),
        ERROR,
        "super admin",
        id="error",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    run(c)


@pytest.mark.parametrize("member", AGENTS)
def test_google_service_agents_are_recognised(member: str) -> None:
    assert is_service_agent(member)


@pytest.mark.parametrize(
    "member",
    [
        "serviceAccount:123456789012-compute@developer.gserviceaccount.com",
        "serviceAccount:shop-prod@appspot.gserviceaccount.com",
        "serviceAccount:app@shop-prod.iam.gserviceaccount.com",
        "serviceAccount:service-123@shop-prod.iam.gserviceaccount.com",
        "serviceAccount:admin@cloudservices.gserviceaccount.com",
        "user:service-123@compute-system.iam.gserviceaccount.com",
    ],
)
def test_user_managed_accounts_are_not_service_agents(member: str) -> None:
    assert not is_service_agent(member)
