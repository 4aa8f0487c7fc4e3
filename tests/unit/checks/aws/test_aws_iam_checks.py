"""IAM user checks and account-level root / password policy checks."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from aws_check_fixtures import (
    ACCT,
    ERROR,
    FAIL,
    NA,
    PASS,
    Case,
    ago,
    assert_covered,
    case,
    check_case,
    listing_error,
    res,
)

import checks.aws.account as account
import checks.aws.iam as iam
from checks.aws import _util

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}


def cred(**over: str) -> dict[str, str]:
    row = {
        "user": "alice",
        "arn": f"arn:aws:iam::{ACCT}:user/alice",
        "user_creation_time": ago(400),
        "password_enabled": "false",
        "password_last_used": "N/A",
        "password_last_changed": "N/A",
        "mfa_active": "false",
    }
    for n in (1, 2):
        row |= {
            f"access_key_{n}_active": "false",
            f"access_key_{n}_last_rotated": "N/A",
            f"access_key_{n}_last_used_date": "N/A",
        }
    return row | over


def user(row: dict[str, str] | None = None, errors: dict[str, str] | None = None, **attrs: Any):
    base: dict[str, Any] = {"UserName": "alice", "UserPolicyList": [], "AttachedManagedPolicies": [], "GroupList": []}
    if row is not None:
        base["Credentials"] = row
    return res("aws.iam.user", f"arn:aws:iam::{ACCT}:user/alice", region="global", errors=errors, **(base | attrs))


def acct(errors: dict[str, str] | None = None, **attrs: Any):
    return res("aws.account", f"arn:aws:iam::{ACCT}:root", region="global", errors=errors, **attrs)


def policy(name: str, doc: dict[str, Any] | None, attached: int | None = 1, first: dict[str, Any] = READ, **over: Any):
    """A customer managed policy whose default version v2 holds ``doc`` (v1, not in effect, ``first``)."""
    arn = f"arn:aws:iam::{ACCT}:policy/{name}"
    attrs: dict[str, Any] = {
        "PolicyName": name,
        "Arn": arn,
        "DefaultVersionId": "v2",
        "PolicyVersionList": [
            {"VersionId": "v1", "IsDefaultVersion": False, "Document": first},
            {"VersionId": "v2", "IsDefaultVersion": True, "Document": doc},
        ],
    }
    if attached is not None:
        attrs["AttachmentCount"] = attached
    return res("aws.iam.policy", arn, region="global", **(attrs | over))


def stmt(**fields: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **fields}]}


def group(name: str, **attrs: Any):
    base = {"GroupName": name, "GroupPolicyList": [], "AttachedManagedPolicies": []}
    return res("aws.iam.group", f"arn:aws:iam::{ACCT}:group/{name}", region="global", **(base | attrs))


STRONG = {
    "MinimumPasswordLength": 16,
    "PasswordReusePrevention": 24,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
}
CONSOLE = {"password_enabled": "true", "password_last_changed": ago(10)}
KEY1 = {"access_key_1_active": "true", "access_key_1_last_rotated": ago(10), "access_key_1_last_used_date": ago(1)}

CASES = [
    # root MFA
    case(account.root_mfa_enabled, acct(AccountSummary={"AccountMFAEnabled": 1}), PASS, "has MFA", id="pass"),
    case(account.root_mfa_enabled, acct(AccountSummary={"AccountMFAEnabled": 0}), FAIL, "no MFA", id="fail"),
    case(account.root_mfa_enabled, acct(errors={"AccountSummary": "AccessDenied"}), ERROR, "AccessDenied", id="error"),
    # root keys
    case(
        account.root_access_keys_absent,
        acct(AccountSummary={"AccountAccessKeysPresent": 0}),
        PASS,
        "no access keys",
        id="pass",
    ),
    case(
        account.root_access_keys_absent,
        acct(AccountSummary={"AccountAccessKeysPresent": 1}),
        FAIL,
        "1 access key",
        id="fail",
    ),
    case(
        account.root_access_keys_absent,
        acct(
            errors={"AccountSummary": "AccessDenied"},
            RootCredentials=cred(access_key_1_active="true", access_key_2_active="false"),
        ),
        FAIL,
        "1 access key",
        id="fallback-report",
    ),
    case(
        account.root_access_keys_absent,
        acct(errors={"AccountSummary": "AccessDenied"}, RootCredentials=None),
        ERROR,
        "neither",
        id="error",
    ),
    # password policy
    case(account.password_policy_strong, acct(PasswordPolicy=STRONG), PASS, "length >= 16", id="pass"),
    case(account.password_policy_strong, acct(PasswordPolicy=None), FAIL, "no IAM password policy", id="absent"),
    case(
        account.password_policy_strong,
        acct(PasswordPolicy=STRONG | {"MinimumPasswordLength": 8, "RequireSymbols": False}),
        FAIL,
        "minimum length 8 < 14; symbols not required",
        id="weak",
    ),
    case(
        account.password_policy_strong,
        acct(PasswordPolicy=STRONG | {"MinimumPasswordLength": 16}),
        FAIL,
        "< 20",
        params={"min_length": 20},
        id="param",
    ),
    case(
        account.password_policy_strong,
        acct(errors={"PasswordPolicy": "AccessDenied"}),
        ERROR,
        "PasswordPolicy",
        id="error",
    ),
    # console MFA
    case(iam.console_user_mfa, user(cred(**CONSOLE, mfa_active="true")), PASS, "and an MFA device", id="pass"),
    case(
        iam.console_user_mfa, user(cred(**CONSOLE)), FAIL, "user alice has console access and no MFA device", id="fail"
    ),
    case(iam.console_user_mfa, user(cred()), NA, "no console password", id="no-console"),
    case(
        iam.console_user_mfa,
        user(None, errors={"Credentials": "ReportNotPresent"}),
        ERROR,
        "ReportNotPresent",
        id="error",
    ),
    case(iam.console_user_mfa, user(cred(password_enabled="maybe")), ERROR, "not true/false", id="garbage"),
    # unused credentials
    case(
        iam.user_unused_credentials_45d,
        user(cred(**CONSOLE, password_last_used=ago(3)) | KEY1),
        PASS,
        "no password or active key unused",
        id="pass",
    ),
    case(iam.user_unused_credentials_45d, user(cred(**CONSOLE)), PASS, id="fresh-never-used"),
    case(
        iam.user_unused_credentials_45d,
        user(cred(password_enabled="true", password_last_used=ago(50))),
        FAIL,
        "unused for 45+ days: password last used on 2025-04-12",
        id="old-password",
    ),
    case(
        iam.user_unused_credentials_45d,
        user(cred(access_key_1_active="true", access_key_1_last_rotated=ago(100))),
        FAIL,
        "access key 1 never used",
        id="never-used-key",
    ),
    case(
        iam.user_unused_credentials_45d,
        user(cred(password_enabled="true", password_last_used="no_information", password_last_changed=ago(60))),
        FAIL,
        "password never used",
        id="no-information",
    ),
    case(
        iam.user_unused_credentials_45d,
        user(cred(**CONSOLE, password_last_used=ago(20))),
        FAIL,
        "unused for 15+ days: password last used on 2025-05-12",
        params={"days": 15},
        id="param",
    ),
    case(
        iam.user_unused_credentials_45d,
        user(cred(password_enabled="true", password_last_used="yesterday")),
        ERROR,
        "not a date",
        id="bad-date",
    ),
    case(iam.user_unused_credentials_45d, user(None, errors={"Credentials": "AccessDenied"}), ERROR, id="error"),
    # inactive 90d
    case(
        iam.user_inactive_90d,
        user(cred(**KEY1)),
        PASS,
        "active in the last 90 days (observed: last activity 2025-05-31T12:00",
        id="pass",
    ),
    case(iam.user_inactive_90d, user(cred()), PASS, "no console password and no active access key", id="no-creds"),
    case(iam.user_inactive_90d, user(cred(user_creation_time=ago(5), **CONSOLE)), PASS, "was created", id="new-user"),
    case(
        iam.user_inactive_90d,
        user(cred(password_enabled="true", password_last_used=ago(120))),
        FAIL,
        "last active on 2025-02-01",
        id="stale",
    ),
    case(
        iam.user_inactive_90d,
        user(cred(access_key_2_active="true", access_key_2_last_rotated=ago(200))),
        FAIL,
        "no recorded activity",
        id="never",
    ),
    case(iam.user_inactive_90d, user(None, errors={"Credentials": "AccessDenied"}), ERROR, id="error"),
    # key rotation
    case(iam.access_key_rotated_90d, user(cred(**KEY1)), PASS, "rotated within 90", id="pass"),
    case(
        iam.access_key_rotated_90d,
        user(cred(**KEY1 | {"access_key_1_last_rotated": ago(91)})),
        FAIL,
        "older than 90 days: key 1 last rotated on 2025-03-02",
        id="fail",
    ),
    case(iam.access_key_rotated_90d, user(cred()), NA, "no active access key", id="na"),
    case(iam.access_key_rotated_90d, user(cred(access_key_1_active="true")), ERROR, "no rotation date", id="no-date"),
    case(iam.access_key_rotated_90d, user(None, errors={"Credentials": "AccessDenied"}), ERROR, id="error"),
    # single key
    case(iam.single_active_access_key, user(cred(**KEY1)), PASS, "1 active", id="pass"),
    case(
        iam.single_active_access_key,
        user(cred(access_key_1_active="true", access_key_2_active="true")),
        FAIL,
        "2 active access keys",
        id="fail",
    ),
    case(iam.single_active_access_key, user(None, errors={"Credentials": "AccessDenied"}), ERROR, id="error"),
    # admin policy
    case(
        iam.user_no_admin_policy,
        [user(cred(), AttachedManagedPolicies=[{"PolicyArn": f"arn:aws:iam::{ACCT}:policy/ro"}]), policy("ro", READ)],
        PASS,
        "no policy allowing",
        id="pass",
    ),
    case(
        iam.user_no_admin_policy,
        user(cred(), AttachedManagedPolicies=[{"PolicyArn": ADMIN}]),
        FAIL,
        "AdministratorAccess",
        id="aws-admin",
    ),
    case(
        iam.user_no_admin_policy,
        user(cred(), AttachedManagedPolicies=[{"PolicyArn": "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"}]),
        FAIL,
        "AdministratorAccess",
        id="govcloud-admin",
    ),
    case(
        iam.user_no_admin_policy,
        user(cred(), AttachedManagedPolicies=[{"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]),
        PASS,
        id="other-aws-managed",
    ),
    case(
        iam.user_no_admin_policy,
        user(cred(), UserPolicyList=[{"PolicyName": "god", "PolicyDocument": STAR}]),
        FAIL,
        "inline policy god",
        id="inline",
    ),
    case(
        iam.user_no_admin_policy,
        user(
            cred(),
            UserPolicyList=[
                {
                    "PolicyName": "god",
                    "PolicyDocument": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22*%22%5D%2C"
                    "%22Resource%22%3A%22*%22%7D%5D%7D",
                }
            ],
        ),
        FAIL,
        "inline policy god",
        id="inline-urlencoded",
    ),
    case(
        iam.user_no_admin_policy,
        [
            user(cred(), AttachedManagedPolicies=[{"PolicyArn": f"arn:aws:iam::{ACCT}:policy/everything"}]),
            policy("everything", STAR),
        ],
        FAIL,
        "managed policy everything",
        id="customer-managed",
    ),
    case(
        iam.user_no_admin_policy,
        [user(cred(), GroupList=["admins"]), group("admins", AttachedManagedPolicies=[{"PolicyArn": ADMIN}])],
        FAIL,
        "via group admins",
        id="group",
    ),
    case(
        iam.user_no_admin_policy,
        [user(cred(), GroupList=["ops"]), group("ops", GroupPolicyList=[{"PolicyName": "x", "PolicyDocument": STAR}])],
        FAIL,
        "via group ops",
        id="group-inline",
    ),
    case(
        iam.user_no_admin_policy,
        user(cred(), GroupList=["ghost"]),
        ERROR,
        "group ghost is not in this snapshot",
        id="missing-group",
    ),
    case(
        iam.user_no_admin_policy,
        user(cred(), AttachedManagedPolicies=[{"PolicyArn": f"arn:aws:iam::{ACCT}:policy/gone"}]),
        ERROR,
        "not in this snapshot",
        id="missing-policy",
    ),
    case(
        iam.user_no_admin_policy,
        user(cred(), errors={"AuthorizationDetails": "AccessDenied"}),
        ERROR,
        "authorization details",
        id="error",
    ),
    case(
        iam.user_no_admin_policy,
        user(cred(), UserPolicyList=[{"PolicyName": "most", "PolicyDocument": stmt(Action="*:*", NotResource="x")}]),
        FAIL,
        "inline policy most",
        id="not-resource",
    ),
    case(
        iam.user_no_admin_policy,
        user(cred(), UserPolicyList=[{"PolicyName": "power", "PolicyDocument": stmt(NotAction="iam:*", Resource="*")}]),
        PASS,
        id="not-action-power-user",
    ),
    # customer managed policies granting * on *
    case(iam.policy_no_admin_attached, policy("ro", READ, attached=3), PASS, "policy ro does not allow", id="pass"),
    case(
        iam.policy_no_admin_attached,
        policy("everything", STAR, attached=1),
        FAIL,
        "policy everything allows * on * and is attached to 1 user, group or role",
        id="fail",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("everything", STAR, attached=4),
        FAIL,
        "attached to 4 users, groups or roles",
        id="fail-many",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("spare", STAR, attached=0),
        PASS,
        "allows * on * but is attached to no user, group or role",
        id="unattached",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("boundary", STAR, attached=0, PermissionsBoundaryUsageCount=5),
        PASS,
        "attached to no user",
        id="boundary-only",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("lists", stmt(Action=["s3:GetObject", "*"], Resource=["arn:aws:s3:::b/*", "*"])),
        FAIL,
        "allows * on *",
        id="lists",
    ),
    case(iam.policy_no_admin_attached, policy("colon", stmt(Action="*:*", Resource="*")), FAIL, id="star-colon-star"),
    case(
        iam.policy_no_admin_attached,
        policy("most", stmt(Action="*", NotResource="arn:aws:s3:::payroll/*")),
        FAIL,
        "allows * on *",
        id="not-resource",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("power", stmt(NotAction=["iam:*", "organizations:*", "account:*"], Resource="*")),
        PASS,
        "does not allow",
        id="not-action-power-user",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("scoped", stmt(Action="*", Resource="arn:aws:s3:::bucket/*")),
        PASS,
        id="all-actions-one-resource",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("s3all", stmt(Action="s3:*", Resource="*")),
        PASS,
        id="one-service-everywhere",
    ),
    case(
        iam.policy_no_admin_attached,
        policy(
            "denied",
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]},
        ),
        PASS,
        id="deny-star",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("old-admin", READ, first=STAR),
        PASS,
        "does not allow",
        id="admin-only-in-old-version",
    ),
    case(iam.policy_no_admin_attached, policy("nocount", STAR, attached=None), ERROR, "AttachmentCount", id="no-count"),
    case(
        iam.policy_no_admin_attached,
        policy("nodoc", None),
        ERROR,
        "default version has no document",
        id="no-document",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("noversions", STAR, PolicyVersionList=[]),
        ERROR,
        "no default version document",
        id="no-default-version",
    ),
    case(
        iam.policy_no_admin_attached,
        [],
        ERROR,
        "could not list aws.iam.policy",
        target=f"scope:aws/{ACCT}/global/aws.iam.policy",
        errors=[listing_error("aws.iam.policy", "global")],
        id="error",
    ),
    # direct policies
    case(iam.user_no_direct_policies, user(cred(), GroupList=["devs"]), PASS, "no policies attached", id="pass"),
    case(
        iam.user_no_direct_policies,
        user(cred(), AttachedManagedPolicies=[{"PolicyName": "ReadOnlyAccess", "PolicyArn": "x"}]),
        FAIL,
        "attached ReadOnlyAccess",
        id="fail",
    ),
    case(
        iam.user_no_direct_policies,
        user(cred(), errors={"AuthorizationDetails": "Throttled"}),
        ERROR,
        "Throttled",
        id="error",
    ),
    # -- looks fine but is not ----------------------------------------------------------------------
    case(
        account.root_mfa_enabled,
        acct(AccountSummary={"AccountMFAEnabled": 0, "MFADevices": 3, "MFADevicesInUse": 3}),
        FAIL,
        "no MFA device",
        id="users-have-mfa",
        looks_fine="MFADevicesInUse is 3, but it counts the IAM users' devices; AccountMFAEnabled, the root's, is 0",
    ),
    case(
        account.root_access_keys_absent,
        acct(
            AccountSummary={"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1},
            RootCredentials=cred(user="<root_account>", mfa_active="true", password_enabled="not_supported"),
        ),
        FAIL,
        "1 access key",
        id="mfa-but-keys",
        looks_fine="the root row of the credential report says mfa_active true, yet root still has an access key",
    ),
    case(
        account.password_policy_strong,
        acct(
            PasswordPolicy={k: v for k, v in STRONG.items() if k != "PasswordReusePrevention"}
            | {"MinimumPasswordLength": 14, "ExpirePasswords": True, "MaxPasswordAge": 90}
        ),
        FAIL,
        "reuse prevention 0 < 24",
        id="no-reuse-prevention",
        looks_fine="length 14, every character class and 90-day expiry are required, but PasswordReusePrevention "
        "is absent, so the expired password can simply be set again",
    ),
    case(
        iam.console_user_mfa,
        user(cred(password_enabled="true", password_last_used="N/A", password_last_changed=ago(200))),
        FAIL,
        "console access and no MFA device",
        id="never-signed-in",
        looks_fine="the password was never used (password_last_used N/A), so the user looks dormant, but whoever "
        "learns it signs in with no second factor",
    ),
    case(
        iam.user_unused_credentials_45d,
        user(cred(access_key_1_active="true", access_key_1_last_rotated=ago(5), access_key_1_last_used_date=ago(100))),
        FAIL,
        "access key 1 last used on 2025-02-21",
        id="recently-changed-key-unused",
        looks_fine="access_key_1_last_rotated is 5 days old, so the key looks new, but it was last used 100 days ago",
    ),
    case(
        iam.user_unused_credentials_45d,
        user(cred(**KEY1, access_key_2_active="true", access_key_2_last_rotated=ago(100))),
        FAIL,
        "access key 2 never used",
        id="second-key-never-used",
        looks_fine="key 1 was used yesterday, so the user looks active, but key 2 is active and never used in 100 days",
    ),
    case(
        iam.user_inactive_90d,
        user(cred(password_enabled="true", password_last_changed=ago(5), password_last_used=ago(200))),
        FAIL,
        "last active on 2024-11-13",
        id="password-reset-not-used",
        looks_fine="the password was changed 5 days ago (an admin reset), which looks like activity, but nobody has "
        "signed in for 200 days",
    ),
    case(
        iam.access_key_rotated_90d,
        user(cred(access_key_1_active="true", access_key_1_last_rotated=ago(400), access_key_1_last_used_date=ago(0))),
        FAIL,
        "key 1 last rotated on 2024-04-27",
        id="used-today-never-rotated",
        looks_fine="the key was used today, so it looks well looked after, but it was created 400 days ago",
    ),
    case(
        iam.access_key_rotated_90d,
        user(cred(**KEY1, access_key_2_active="true", access_key_2_last_rotated=ago(200))),
        FAIL,
        "older than 90 days: key 2 last rotated on 2024-11-13",
        id="second-key-old",
        looks_fine="key 1 was rotated 10 days ago, but the user's second active key is 200 days old",
    ),
    case(
        iam.single_active_access_key,
        user(cred(**KEY1, access_key_2_active="true", access_key_2_last_rotated=ago(30))),
        FAIL,
        "2 active access keys",
        id="second-key-unused",
        looks_fine="the second key has never been used, so only one key is in use, but both are active and either "
        "one works",
    ),
    case(
        iam.user_no_admin_policy,
        user(
            cred(),
            UserPolicyList=[
                {
                    "PolicyName": "mfa-admin",
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "*",
                                "Resource": "*",
                                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                            }
                        ]
                    },
                }
            ],
        ),
        FAIL,
        "inline policy mfa-admin",
        id="mfa-condition",
        looks_fine="the statement applies only with aws:MultiFactorAuthPresent true, which looks like a guard, but "
        "with MFA the user can still do everything",
    ),
    case(
        iam.user_no_admin_policy,
        user(
            cred(),
            UserPolicyList=[
                {
                    "PolicyName": "single",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": {"Effect": "Allow", "Action": ["s3:Get*", "*"], "Resource": "*"},
                    },
                }
            ],
        ),
        FAIL,
        "inline policy single",
        id="statement-object",
        looks_fine="Statement is a single object, not a list, and the first action is s3:Get*, but the list also "
        "holds *",
    ),
    case(
        iam.policy_no_admin_attached,
        policy("ops-tools", STAR, first=READ, attached=1),
        FAIL,
        "policy ops-tools allows * on *",
        id="default-is-not-first-version",
        looks_fine="the first version in PolicyVersionList only reads S3, which is what a reader of the list "
        "sees, but DefaultVersionId is v2, the version in effect, and it allows * on *",
    ),
    case(
        iam.policy_no_admin_attached,
        policy(
            "mfa-admin",
            stmt(Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
        ),
        FAIL,
        "allows * on *",
        id="mfa-condition",
        looks_fine="the statement only applies with MFA, which looks like a guard, but every holder who signs in "
        "with MFA can do everything",
    ),
    case(
        iam.policy_no_admin_attached,
        policy(
            "admin-but",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Effect": "Deny", "Action": ["s3:DeleteBucket"], "Resource": "*"},
                ],
            },
        ),
        FAIL,
        "allows * on *",
        id="deny-carve-out",
        looks_fine="a Deny statement removes bucket deletion, so the policy is not literally everything, but it "
        "still grants iam:*, with which a holder can grant itself the rest",
    ),
    case(
        iam.user_no_direct_policies,
        user(cred(), GroupList=["devs"], UserPolicyList=[{"PolicyName": "hotfix", "PolicyDocument": READ}]),
        FAIL,
        "inline hotfix",
        id="in-group-plus-inline",
        looks_fine="the user is in group devs, so its access looks group-managed, but an inline policy sits on the "
        "user as well",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_covered() -> None:
    assert_covered(CASES, iam)
    assert_covered(CASES, account)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("N/A", None), ("no_information", None), ("not_supported", None), ("", None), (None, None)],
)
def test_parse_time_placeholders(value: Any, expected: Any) -> None:
    assert _util.parse_time(value) is expected


def test_parse_time_formats() -> None:
    a = _util.parse_time("2025-05-01T10:00:00+00:00")
    b = _util.parse_time("2025-05-01T10:00:00Z")
    assert a == b and a is not None and a.tzinfo is not None
    with pytest.raises(ValueError):
        _util.parse_time("last tuesday")
